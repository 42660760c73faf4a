"""Keys, certificates and detached CMS signatures that ``openssl cms -verify`` accepts.

The archive signs each package's ``tagmanifest-sha256.txt`` (which pins every
other file) with an EC P-256 key. Signing uses ``cryptography``'s PKCS#7
builder; since ``cryptography`` cannot verify CMS, verification parses the
structure with ``asn1crypto`` and checks the signature with ``cryptography``:
the message digest attribute must match the content, and the signature must
cover the DER of the signed attributes. Both libraries are used only here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from longwatch import clock
from longwatch.errors import LongwatchError

CERT_YEARS = 20


@dataclass(frozen=True)
class Signer:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert)


@dataclass(frozen=True)
class SignatureInfo:
    """What a valid signature says about who signed and when."""

    subject: str
    fingerprint: str
    signing_time: dt.datetime | None
    cert: x509.Certificate


def fingerprint(cert: x509.Certificate) -> str:
    return "SHA256:" + cert.fingerprint(hashes.SHA256()).hex()


def generate(organization: str, common_name: str) -> Signer:
    """A new EC P-256 key with a self-signed certificate valid for CERT_YEARS."""
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "longwatch")]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]))
    name = x509.Name(attrs)
    now = clock.now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * CERT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Signer(key=key, cert=cert)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def save(signer: Signer, key_path: Path, cert_path: Path, passphrase: bytes | None = None) -> None:
    """Write the key (mode 0600, encrypted when a passphrase is given) and the certificate."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    _write_private(
        key_path,
        signer.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption),
    )
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.write_bytes(signer.cert.public_bytes(serialization.Encoding.PEM))


def load_certificate(path: Path) -> x509.Certificate:
    try:
        data = path.read_bytes()
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except (OSError, ValueError) as exc:
        raise LongwatchError("K003", path=path, detail=str(exc)) from exc


def load(key_path: Path, cert_path: Path, passphrase: bytes | None = None) -> Signer:
    """Load a key pair; a wrong passphrase or a certificate of another key is a K error."""
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=passphrase)
    except (OSError, ValueError, TypeError) as exc:
        raise LongwatchError("K001", path=key_path, detail=str(exc)) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise LongwatchError("K001", path=key_path, detail="only EC and RSA keys can sign CMS here")
    cert = load_certificate(cert_path)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != public:
        raise LongwatchError("K002", path=cert_path)
    return Signer(key=key, cert=cert)


def sign_detached(signer: Signer, data: bytes) -> bytes:
    """DER CMS SignedData over ``data`` (detached, binary), with the signer's certificate."""
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(signer.cert, signer.key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )


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


def is_trusted(info: SignatureInfo, trusted: list[x509.Certificate]) -> bool:
    """A self-signed archive certificate is its own trust anchor: trusted means the same certificate."""
    return any(fingerprint(cert) == info.fingerprint for cert in trusted)


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
