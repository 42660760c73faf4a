"""Keys, certificates and detached CMS signatures that ``openssl cms -verify`` accepts.

The archive signs each package's ``tagmanifest-sha256.txt`` (which pins every
other file) with an EC P-256 key whose end-entity certificate (CA:FALSE,
digitalSignature) the archive's own CA, or a city's CA, issued. The CMS
structure is built here with ``asn1crypto`` and only the signature value comes
from the key, so a key that never leaves a hardware token (PKCS#11, see
``hsm.py``) signs exactly as a key file does, and the signing time is
longwatch's one clock. Since ``cryptography`` cannot verify CMS, verification
parses the structure with ``asn1crypto`` and checks the signature with
``cryptography``: the message digest attribute must match the content, and the
signature must cover the DER of the signed attributes. Both libraries are used
only here (and ``asn1crypto`` in ``timestamp.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from asn1crypto import algos as asn1_algos
from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from longwatch import clock
from longwatch.errors import LongwatchError

CERT_YEARS = 20  # an end-entity certificate; rotation usually replaces it much sooner
CA_YEARS = 30


class TokenKey(Protocol):
    """A private key held elsewhere (a PKCS#11 token): it signs, it is never read."""

    def public_key(self) -> ec.EllipticCurvePublicKey: ...
    def sign_sha256(self, data: bytes) -> bytes:
        """A DER ECDSA signature (SHA-256) over ``data``."""
        ...


PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Signer:
    key: PrivateKey | TokenKey
    cert: x509.Certificate
    #: the issuing CA's certificate(s), kept beside the certificate so that ``openssl -CAfile`` finds the chain
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert)


@dataclass(frozen=True)
class Anchor:
    """A trusted certificate and, for one of the archive's own keys, when the archive signed with it.

    ``until`` is the moment the key was rotated out: a signature that says it
    was made later is not the archive's, whoever holds the old key now.
    """

    cert: x509.Certificate
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class SignatureInfo:
    """What a valid signature says about who signed and when."""

    subject: str
    fingerprint: str
    signing_time: dt.datetime | None
    cert: x509.Certificate


def fingerprint(cert: x509.Certificate) -> str:
    return "SHA256:" + cert.fingerprint(hashes.SHA256()).hex()


def _name(organization: str, common_name: str) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "longwatch")]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]))
    return x509.Name(attrs)


def _usage(signing_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not signing_certs, content_commitment=not signing_certs, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=signing_certs, crl_sign=signing_certs,
        encipher_only=False, decipher_only=False,
    )


def generate_ca(organization: str, common_name: str) -> Signer:
    """The archive's own CA: it only issues the archive's signing certificates, and signs nothing else."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(organization, common_name)
    now = clock.now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(signing_certs=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Signer(key=key, cert=cert)


def issue(ca: Signer, public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey, organization: str,
          common_name: str, years: int = CERT_YEARS) -> x509.Certificate:
    """An end-entity certificate (CA:FALSE, digitalSignature) for ``public_key``, issued by ``ca``."""
    if not isinstance(ca.key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise LongwatchError("K001", path=ca.cert.subject.rfc4514_string(), detail="a CA key must be a key file")
    now = clock.now()
    return (
        x509.CertificateBuilder()
        .subject_name(_name(organization, common_name)).issuer_name(ca.cert.subject).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=365 * years), ca.cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signing_certs=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.cert.public_key()),  # type: ignore[arg-type]
                       critical=False)
        .sign(ca.key, hashes.SHA256())
    )


def generate(organization: str, common_name: str, ca: Signer | None = None) -> Signer:
    """A new EC P-256 signing key with an end-entity certificate from ``ca`` (a throwaway CA if none)."""
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = ca or generate_ca(organization, f"{common_name} CA")
    return Signer(key=key, cert=issue(issuer, key.public_key(), organization, common_name), chain=(issuer.cert,))


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def key_is_encrypted(path: Path) -> bool:
    """Whether a PEM key file needs a passphrase (PKCS#8 encrypted or legacy Proc-Type)."""
    try:
        head = path.read_bytes()[:4096]
    except OSError:
        return False
    return b"ENCRYPTED PRIVATE KEY" in head or b"Proc-Type: 4,ENCRYPTED" in head


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def save(signer: Signer, key_path: Path, cert_path: Path, passphrase: bytes | None = None) -> None:
    """Write the key (mode 0600, encrypted when a passphrase is given) and the certificate."""
    if not isinstance(signer.key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise LongwatchError("K001", path=key_path, detail="a key in a token cannot be written to a file")
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    _write_private(
        key_path,
        signer.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption),
    )
    save_certificate(cert_path, signer.cert, *signer.chain)


def save_certificate(path: Path, *certs: x509.Certificate) -> None:
    """A PEM file of the certificate and then its issuers (what ``openssl -CAfile`` reads as a chain)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(b"".join(pem(c) for c in certs))
    os.replace(tmp, path)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a file (a PEM bundle, or one DER certificate): a trust store may hold several."""
    try:
        data = path.read_bytes()
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except (OSError, ValueError) as exc:
        raise LongwatchError("K003", path=path, detail=str(exc)) from exc


def load_certificate(path: Path) -> x509.Certificate:
    try:
        data = path.read_bytes()
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except (OSError, ValueError) as exc:
        raise LongwatchError("K003", path=path, detail=str(exc)) from exc


def load_key(key_path: Path, passphrase: bytes | None = None) -> PrivateKey:
    """A private key file; K004 without the passphrase it needs, K005 with a wrong one."""
    try:
        data = key_path.read_bytes()
    except OSError as exc:
        raise LongwatchError("K001", path=key_path, detail=str(exc)) from exc
    encrypted = key_is_encrypted(key_path)
    if encrypted and not passphrase:
        raise LongwatchError("K004", path=key_path)
    try:
        key = serialization.load_pem_private_key(data, password=passphrase if encrypted else None)
    except (ValueError, TypeError) as exc:
        if encrypted:
            raise LongwatchError("K005", path=key_path) from exc
        raise LongwatchError("K001", path=key_path, detail=str(exc)) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise LongwatchError("K001", path=key_path, detail="only EC and RSA keys can sign CMS here")
    return key


def load(key_path: Path, cert_path: Path, passphrase: bytes | None = None) -> Signer:
    """Load a key pair; a missing or wrong passphrase or a certificate of another key is a K error."""
    key = load_key(key_path, passphrase)
    cert, *chain = load_certificates(cert_path)
    return pair(key, cert, cert_path, tuple(chain))


def pair(key: PrivateKey | TokenKey, cert: x509.Certificate, cert_path: Path | str,
         chain: tuple[x509.Certificate, ...] = ()) -> Signer:
    """A signer, once the certificate is shown to be the key's (K002 if not)."""
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != public:
        raise LongwatchError("K002", path=cert_path)
    return Signer(key=key, cert=cert, chain=chain)


def _signature_value(key: PrivateKey | TokenKey, data: bytes) -> tuple[bytes, str]:
    """The signature over ``data`` with SHA-256, and its CMS algorithm name."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256())), "sha256_ecdsa"
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256()), "sha256_rsa"
    return key.sign_sha256(data), "sha256_ecdsa"


def sign_detached(signer: Signer, data: bytes) -> bytes:
    """DER CMS SignedData over ``data`` (detached, binary), with the signer's certificate.

    The signed attributes are content type, signing time (longwatch's clock)
    and message digest, as ``openssl cms -sign`` writes them.
    """
    cert = asn1_x509.Certificate.load(signer.cert.public_bytes(serialization.Encoding.DER))
    attrs = asn1_cms.CMSAttributes([
        asn1_cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        asn1_cms.CMSAttribute({"type": "signing_time",
                               "values": [asn1_cms.Time(name="utc_time", value=clock.now().astimezone(dt.UTC)
                                                        .replace(microsecond=0))]}),
        asn1_cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(data).digest()]}),
    ])
    value, algorithm = _signature_value(signer.key, attrs.dump())
    signer_info = asn1_cms.SignerInfo({
        "version": "v1",
        "sid": asn1_cms.SignerIdentifier({"issuer_and_serial_number": asn1_cms.IssuerAndSerialNumber(
            {"issuer": cert.issuer, "serial_number": cert.serial_number})}),
        "digest_algorithm": asn1_algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": attrs,
        "signature_algorithm": asn1_algos.SignedDigestAlgorithm({"algorithm": algorithm}),
        "signature": value,
    })
    signed = asn1_cms.SignedData({
        "version": "v1",
        "digest_algorithms": [asn1_algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "data"},
        "certificates": [cert],
        "signer_infos": [signer_info],
    })
    return bytes(asn1_cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}


class SignatureError(Exception):
    """Why a signature does not verify; verify.py turns it into a coded problem."""


def enclosed_signer_certificate(signed: asn1_cms.SignedData, signer: asn1_cms.SignerInfo) -> bytes | None:
    """DER of the certificate in a SignedData that the SignerInfo names (CMS signatures and RFC 3161 tokens)."""
    sid = signer["sid"]
    for choice in signed["certificates"] or []:
        candidate = choice.chosen
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            tbs = candidate["tbs_certificate"]
            if tbs["serial_number"].native == wanted["serial_number"].native and tbs["issuer"] == wanted["issuer"]:
                return bytes(candidate.dump())
        elif candidate.key_identifier == sid.chosen.native:
            return bytes(candidate.dump())
    return None


def verify_detached(signature: bytes, data: bytes) -> SignatureInfo:
    """Check a detached CMS signature over ``data``; raise SignatureError saying why not.

    Trust is a separate question (see :func:`is_trusted`): this proves that the
    holder of the enclosed certificate's key signed exactly these bytes.
    """
    try:
        info = asn1_cms.ContentInfo.load(signature)
        if info["content_type"].native != "signed_data":
            raise SignatureError("not a CMS SignedData structure")
        signed = info["content"]
        signers = signed["signer_infos"]
        if len(signers) != 1:
            raise SignatureError(f"expected one signer, found {len(signers)}")
        signer = signers[0]
        cert_der = enclosed_signer_certificate(signed, signer)
        if cert_der is None:
            raise SignatureError("the signer's certificate is not enclosed")
        cert = x509.load_der_x509_certificate(cert_der)
        algorithm = signer["digest_algorithm"]["algorithm"].native
        if algorithm not in _HASHES:
            raise SignatureError(f"unsupported digest algorithm {algorithm}")
        attrs = signer["signed_attrs"]
        if not attrs:
            raise SignatureError("no signed attributes")
        digest = None
        signing_time = None
        for attr in attrs:
            kind = attr["type"].native
            if kind == "message_digest":
                digest = attr["values"][0].native
            elif kind == "signing_time":
                signing_time = attr["values"][0].native
            elif kind == "content_type" and attr["values"][0].native != "data":
                raise SignatureError("signed content type is not data")
        if digest is None:
            raise SignatureError("no message digest attribute")
        if hashlib.new(algorithm, data).digest() != digest:
            raise SignatureError("the signed file was changed after signing (message digest differs)")
        signed_bytes = b"\x31" + attrs.dump()[1:]  # signed over the SET OF, not the [0] tag
        sig_value = signer["signature"].native
        public = cert.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(sig_value, signed_bytes, ec.ECDSA(_HASHES[algorithm]()))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(sig_value, signed_bytes, padding.PKCS1v15(), _HASHES[algorithm]())
        else:
            raise SignatureError("unsupported key type")
    except InvalidSignature as exc:
        raise SignatureError("the signature value does not match the signed attributes") from exc
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise SignatureError(f"malformed signature: {exc}") from exc
    subject = cert.subject.rfc4514_string()
    return SignatureInfo(subject=subject, fingerprint=fingerprint(cert), signing_time=signing_time, cert=cert)


def issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """Whether the CA certificate ``ca`` signed ``cert`` (a CA that may sign certificates, and its signature holds)."""
    if not is_ca(ca) or cert.issuer != ca.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def trust_reason(info: SignatureInfo, trusted: Sequence[x509.Certificate | Anchor],
                 at: dt.datetime | None = None) -> str:
    """Why a valid signature is not from a trusted key ("" when it is).

    Trusted means: the signer's certificate is one of ``trusted`` (any key
    the archive ever used, with the period it signed in), or a trusted CA
    issued it; and the signature's time (``at``, e.g. a time-stamp's, else
    its signing time) is within the certificate's validity and not after the
    key was rotated out. A key that was valid when it signed stays valid after
    rotation.
    """
    when = at or info.signing_time
    anchors = [a if isinstance(a, Anchor) else Anchor(a) for a in trusted]
    for anchor in anchors:
        if fingerprint(anchor.cert) == info.fingerprint:
            if when is not None and anchor.until is not None and when > anchor.until:
                return f"signed at {when.isoformat()}, after this key was retired at {anchor.until.isoformat()}"
            break
    else:
        if not any(issued_by(info.cert, a.cert) for a in anchors):
            return "the signer's certificate is not one of the trusted certificates nor issued by a trusted CA"
    if when is not None and when > info.cert.not_valid_after_utc:
        return f"signed at {when.isoformat()}, after the certificate expired"
    return ""


def is_trusted(info: SignatureInfo, trusted: Sequence[x509.Certificate | Anchor],
               at: dt.datetime | None = None) -> bool:
    """See :func:`trust_reason`."""
    return not trust_reason(info, trusted, at)


def require_trusted(info: SignatureInfo, trusted: Sequence[x509.Certificate | Anchor], package_id: str) -> None:
    """E036 unless a trusted key made this package's signature: what export asks before it hands a package over."""
    reason = trust_reason(info, trusted)
    if reason:
        raise LongwatchError("E036", package_id=package_id, fingerprint=info.fingerprint, detail=reason)


# -- used by core/timestamp.py (issue 4): RFC 3161 tokens are CMS too -----------
def check_signature_value(cert_der: bytes, signature: bytes, signed_bytes: bytes, algorithm: str) -> x509.Certificate:
    """Check one CMS signer's signature value over its signed attributes; raise SignatureError if wrong.

    Lets the time-stamp module verify a TSA's token without importing
    ``cryptography`` itself (one wrapper module per library).
    """
    if algorithm not in _HASHES:
        raise SignatureError(f"unsupported digest algorithm {algorithm}")
    try:
        cert = x509.load_der_x509_certificate(cert_der)
        public = cert.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, signed_bytes, ec.ECDSA(_HASHES[algorithm]()))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, signed_bytes, padding.PKCS1v15(), _HASHES[algorithm]())
        else:
            raise SignatureError("unsupported key type")
    except InvalidSignature as exc:
        raise SignatureError("the signature value does not match the signed attributes") from exc
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"malformed certificate or signature: {exc}") from exc
    return cert
