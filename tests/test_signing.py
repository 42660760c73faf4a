"""Keys and detached CMS signatures: ours verify with openssl, and openssl's with ours."""

from __future__ import annotations

import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from longwatch.core.aip import signing
from longwatch.errors import LongwatchError


def openssl_verify(tmp_path, signature: bytes, data: bytes, *certs: signing.x509.Certificate) -> int:
    """``openssl cms -verify`` with ``certs`` (a certificate and its issuers) as the trust store."""
    (tmp_path / "sig.p7s").write_bytes(signature)
    (tmp_path / "data.txt").write_bytes(data)
    (tmp_path / "ca.pem").write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.p7s",
                           "-content", "data.txt", "-CAfile", "ca.pem", "-purpose", "any", "-out", "/dev/null"],
                          cwd=tmp_path, capture_output=True, check=False).returncode


def test_generated_key_signs_what_openssl_accepts(tmp_path):
    signer = signing.generate("Test City", "longwatch test")
    data = b"0123  data/media/x.mp4\n"
    signature = signing.sign_detached(signer, data)
    assert openssl_verify(tmp_path, signature, data, signer.cert, *signer.chain) == 0
    assert openssl_verify(tmp_path, signature, data, *signer.chain) == 0  # the CA alone is a trust anchor
    assert openssl_verify(tmp_path, signature, data + b" ", signer.cert, *signer.chain) != 0
    info = signing.verify_detached(signature, data)
    assert info.fingerprint == signer.fingerprint
    assert signing.is_trusted(info, [signer.cert])
    assert not signing.is_trusted(info, [signing.generate("x", "y").cert])


def test_openssl_made_signature_verifies_here(tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "k.pem", "-out", "c.pem", "-subj", "/CN=openssl", "-days", "2"],
                   cwd=tmp_path, check=True, capture_output=True)
    (tmp_path / "data.txt").write_bytes(b"signed by openssl\n")
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-in", "data.txt", "-signer",
                    "c.pem", "-inkey", "k.pem", "-out", "sig.p7s"], cwd=tmp_path, check=True, capture_output=True)
    info = signing.verify_detached((tmp_path / "sig.p7s").read_bytes(), b"signed by openssl\n")
    assert "CN=openssl" in info.subject
    with pytest.raises(signing.SignatureError):
        signing.verify_detached((tmp_path / "sig.p7s").read_bytes(), b"signed by openssl!\n")


def test_rsa_key_imported_with_init(tmp_path, lw_bare, fresh_clip):
    """An existing RSA key and certificate (a public body's own PKI) sign packages as well."""
    import json

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_signer = signing.generate("Test", "rsa")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = (x509.CertificateBuilder().subject_name(ec_signer.cert.subject).issuer_name(ec_signer.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(ec_signer.cert.not_valid_before_utc).not_valid_after(ec_signer.cert.not_valid_after_utc)
            .sign(key, hashes.SHA256()))
    signing.save(signing.Signer(key, cert), tmp_path / "rsa.key", tmp_path / "rsa.pem")
    root = tmp_path / "rsa-archive"
    assert lw_bare("init", str(root), "--key", str(tmp_path / "rsa.key"), "--cert", str(tmp_path / "rsa.pem"),
                   "--language", "en").exit_code == 0
    out = lw_bare("-A", str(root), "ingest", str(fresh_clip), "--json")
    assert out.exit_code == 0, out.output
    package_id = json.loads(out.stdout)["packages"][0]["package_id"]
    verified = json.loads(lw_bare("-A", str(root), "verify", package_id, "--json").stdout)
    assert verified["ok"] is True and verified["packages"][0]["trusted"] is True


def test_unsupported_key_type_refused(tmp_path, lw_bare):
    key = ed25519.Ed25519PrivateKey.generate()
    (tmp_path / "ed.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    (tmp_path / "ed.pem").write_bytes(signing.generate("x", "y").cert.public_bytes(serialization.Encoding.PEM))
    result = lw_bare("init", str(tmp_path / "a"), "--key", str(tmp_path / "ed.key"), "--cert",
                     str(tmp_path / "ed.pem"))
    assert result.exit_code == 5
    assert "K001" in result.stderr
    assert not (tmp_path / "a").exists()


def test_key_saved_with_passphrase_needs_it(tmp_path):
    signer = signing.generate("x", "y")
    signing.save(signer, tmp_path / "k.pem", tmp_path / "c.pem", b"secret")
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    assert signing.load(tmp_path / "k.pem", tmp_path / "c.pem", b"secret").fingerprint == signer.fingerprint
    for wrong, code in ((None, "K004"), (b"guess", "K005")):
        with pytest.raises(LongwatchError) as info:
            signing.load(tmp_path / "k.pem", tmp_path / "c.pem", wrong)
        assert info.value.code == code


def test_missing_key_file(tmp_path):
    with pytest.raises(LongwatchError) as info:
        signing.load(tmp_path / "none.pem", tmp_path / "none.crt")
    assert info.value.code == "K001"


def test_certificate_of_another_key(tmp_path):
    one, other = signing.generate("a", "one"), signing.generate("b", "other")
    signing.save(one, tmp_path / "k.pem", tmp_path / "c.pem")
    signing.save(other, tmp_path / "k2.pem", tmp_path / "c2.pem")
    with pytest.raises(LongwatchError) as info:
        signing.load(tmp_path / "k.pem", tmp_path / "c2.pem")
    assert info.value.code == "K002"
