"""Keys that rotate (issue 21): encrypted at rest, end-entity certificates from the archive's CA, a key
history trusted per period, and exports that refuse a package no trusted key signed."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import TEST_PASSPHRASE, error_codes, ingest_one, run_longwatch, unique_copy
from cryptography import x509

from longwatch import clock
from longwatch.core import custody
from longwatch.core.aip import keys, package, signing
from longwatch.core.archive import Archive
from longwatch.errors import LongwatchError

RECIPIENT = ["--agency", "Seoul Mapo Police Station", "--officer", "Insp. Kim", "--case-number", "2026-MP-0117",
             "--legal-basis", "Criminal Procedure Act art. 215", "--purpose", "investigation"]


def openssl_cms_verify(folder: Path, signature: str, content: str, ca_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-content",
                           content, "-CAfile", str(ca_file), "-purpose", "any", "-out", "/dev/null"],
                          cwd=folder, capture_output=True, text=True, check=False)


def package_dir(archive: Archive, package_id: str) -> Path:
    path = archive.storage().local_path(package_id)
    assert path is not None
    return path


def test_new_archive_key_is_encrypted_and_certified_by_its_own_ca(archive):
    key_pem = archive.settings.key_path.read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in key_pem
    assert b"ENCRYPTED PRIVATE KEY" in (archive.root / keys.CA_KEY).read_bytes()
    cert = archive.certificate
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    ca = signing.load_certificate(archive.root / keys.CA_CERT)
    assert signing.is_ca(ca) and signing.issued_by(cert, ca)
    # what an outside expert runs: the leaf verifies against the CA alone
    done = subprocess.run(["openssl", "verify", "-CAfile", str(archive.root / keys.CA_CERT),
                           "-purpose", "any", str(archive.settings.cert_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    [entry] = archive.keyring.entries()
    assert entry.active and entry.fingerprint == signing.fingerprint(cert) and entry.origin == "generated"


def test_init_never_writes_an_unencrypted_key_unless_asked(tmp_path, lw_bare, monkeypatch, fresh_clip):
    """Unattended and with no passphrase given, init still encrypts: with a generated passphrase kept apart."""
    monkeypatch.delenv("LONGWATCH_KEY_PASSPHRASE")
    made = lw_bare("init", str(tmp_path / "a"), "--language", "en")
    assert made.exit_code == 0, made.output
    assert b"ENCRYPTED" in (tmp_path / "a" / "keys" / "signing-key.pem").read_bytes()
    secret = tmp_path / "a" / "keys" / "passphrase"
    assert secret.stat().st_mode & 0o077 == 0 and "keys/passphrase" in made.stderr
    assert 'passphrase_file = "keys/passphrase"' in (tmp_path / "a" / "longwatch.toml").read_text()
    assert lw_bare("-A", str(tmp_path / "a"), "ingest", str(fresh_clip)).exit_code == 0
    secret.rename(tmp_path / "elsewhere")  # moved off the disk: the key no longer opens
    refused = lw_bare("-A", str(tmp_path / "a"), "ingest", str(fresh_clip), "--allow-duplicate")
    assert refused.exit_code != 0 and error_codes(refused.stderr) == ["K004"]
    made = lw_bare("init", str(tmp_path / "b"), "--unencrypted-key", "--language", "en")
    assert made.exit_code == 0, made.output
    assert b"ENCRYPTED" not in (tmp_path / "b" / "keys" / "signing-key.pem").read_bytes()
    assert "encrypted = false" in (tmp_path / "b" / "longwatch.toml").read_text()
    assert lw_bare("-A", str(tmp_path / "b"), "ingest", str(fresh_clip)).exit_code == 0


def test_an_unencrypted_key_put_in_place_is_refused(archive, fresh_clip, lw):
    """The configuration says the key is encrypted: a plain key file dropped in is not used."""
    plain = signing.load(archive.settings.key_path, archive.settings.cert_path, TEST_PASSPHRASE.encode())
    signing.save(plain, archive.settings.key_path, archive.settings.cert_path)
    result = lw("ingest", str(fresh_clip))
    assert result.exit_code == 5
    assert error_codes(result.stderr) == ["K007"]


def test_passphrase_from_a_file(archive, fresh_clip, lw, tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text(TEST_PASSPHRASE + "\n")
    config = archive.root / "longwatch.toml"
    config.write_text(config.read_text().replace('[signing]\n', f'[signing]\npassphrase_file = "{secret}"\n'))
    monkeypatch.delenv("LONGWATCH_KEY_PASSPHRASE")
    assert lw("ingest", str(fresh_clip)).exit_code == 0
    secret.write_text("not it\n")
    wrong = lw("ingest", str(unique_copy(fresh_clip, tmp_path / "other.mp4")))
    assert error_codes(wrong.stderr) == ["K005"]


def test_sign_rotate_twice_and_everything_old_and_new_still_verifies(archive, lw, small_clip, tmp_path,
                                                                      frozen_clock):
    """Sign, rotate twice, verify every old and new package, checkpoint and export."""
    start = clock.now() - timedelta(days=3)  # in the past: openssl checks certificates at the real time
    pids, exports, fingerprints = [], [], []
    stolen = tmp_path / "stolen-key.pem"
    for step in range(3):
        frozen_clock(start + timedelta(days=step))
        if step:
            if step == 1:  # the old key file as it was: a thief could have copied it
                shutil.copy(archive.settings.key_path, stolen)
                shutil.copy(archive.settings.cert_path, tmp_path / "stolen-cert.pem")
            rotated = lw("keys", "rotate", "--json")
            assert rotated.exit_code == 0, rotated.output
            data = json.loads(rotated.output)
            assert data["retired"]["fingerprint"] == fingerprints[-1]
        fingerprints.append(json.loads(lw("keys", "list", "--json").output)["keys"][-1]["fingerprint"])
        pids.append(ingest_one(archive, unique_copy(small_clip, tmp_path / f"clip{step}.mp4"), camera="cam-01"))
        assert lw("custody", "checkpoint").exit_code == 0
        out = tmp_path / f"export{step}"
        made = lw("export", *pids, "-o", str(out), *RECIPIENT)
        assert made.exit_code == 0, made.output
        exports.append(out)
    assert len(set(fingerprints)) == 3
    assert not stolen.samefile(archive.settings.key_path)

    history = json.loads(lw("keys", "list", "--json").output)["keys"]
    assert [e["fingerprint"] for e in history] == fingerprints
    assert [bool(e["until"]) for e in history] == [True, True, False]
    assert history[0]["until"] == history[1]["since"]
    listed = lw("keys", "list")
    assert listed.exit_code == 0 and fingerprints[0][:20] in listed.output

    # every package, old and new, against the archive's trust store (every key, each for its period)
    verified = lw("verify", "--all", "--json")
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.output)
    signers = {p["package_id"]: p["signer_fingerprint"] for p in report["packages"]}
    assert [signers[p] for p in pids] == fingerprints
    assert all(p["trusted"] for p in report["packages"])
    # ...and with openssl, against the archive's CA alone
    for pid in pids:
        done = openssl_cms_verify(package_dir(archive, pid), package.SIGNATURE_PATH, package.SIGNED_FILE,
                                  archive.root / keys.CA_CERT)
        assert done.returncode == 0, done.stderr
    # the published bundle of every key, given as --cert
    assert lw("verify", pids[0], "--cert", str(archive.root / keys.TRUSTED)).exit_code == 0
    # the newest key's file holds its CA too, and the CA vouches for every key it issued...
    with_chain = json.loads(lw("verify", pids[0], "--cert", str(archive.root / history[2]["cert"]), "--json").output)
    assert with_chain["ok"] is True
    # ...but the newest certificate alone does not vouch for what older keys signed
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(signing.pem(signing.load_certificate(archive.root / history[2]["cert"])))
    assert json.loads(lw("verify", pids[0], "--cert", str(leaf), "--json").output)["packages"][0]["trusted"] is False

    # every checkpoint, including those the retired keys signed
    ledger = lw("custody", "verify", "--json")
    assert ledger.exit_code == 0, ledger.output
    assert json.loads(ledger.output)["checkpoints"] >= 3
    ledger_text = b"".join(line for _seq, line in custody.Ledger.for_archive(archive).lines()).decode()
    assert ledger_text.count("signing key rotated") == 2

    # every export, old and new, with the published trust store, and its VERIFY.txt step with openssl
    for out in exports:
        done = run_longwatch("verify-export", out, "--cert", archive.root / keys.TRUSTED)
        assert done.returncode == 0, done.stderr
        step = openssl_cms_verify(out, "tagmanifest-sha256.txt.p7s", "tagmanifest-sha256.txt",
                                  out / "data/custody/signer-chain.pem")
        assert step.returncode == 0, step.stderr

    # the retired first key, stolen, signs "as the archive" after it was retired: not trusted
    thief = signing.load(stolen, tmp_path / "stolen-cert.pem", TEST_PASSPHRASE.encode())
    bag = tmp_path / "forged"
    shutil.copytree(package_dir(archive, pids[0]), bag)
    (bag / package.SIGNATURE_PATH).write_bytes(signing.sign_detached(thief, (bag / package.SIGNED_FILE).read_bytes()))
    forged = json.loads(lw("verify", str(bag), "--json").output)
    assert forged["ok"] is False
    assert [p["code"] for p in forged["packages"][0]["problems"]] == ["V009"]
    info = signing.verify_detached((bag / package.SIGNATURE_PATH).read_bytes(),
                                   (bag / package.SIGNED_FILE).read_bytes())
    assert "after this key was retired" in signing.trust_reason(info, archive.keyring.anchors())


def test_replacing_the_key_by_hand_leaves_older_packages_valid(archive, lw, fresh_clip, small_clip, tmp_path):
    old = ingest_one(archive, fresh_clip)
    other = signing.generate("Test City CCTV Centre", "longwatch archive by hand")
    signing.save(other, archive.settings.key_path, archive.settings.cert_path, TEST_PASSPHRASE.encode())
    report = json.loads(lw("verify", old, "--json").output)
    assert report["ok"] is True  # the history still trusts the key that signed it
    # a key that no rotation recorded is not the archive's: it signs nothing
    refused = lw("ingest", str(unique_copy(small_clip, tmp_path / "n.mp4")))
    assert refused.exit_code == 5
    assert error_codes(refused.stderr) == ["K013"]


def test_a_rotation_stopped_after_the_history_is_completed(archive, lw, fresh_clip, monkeypatch):
    """Crash between writing the history and swapping the key files: the next signature completes it."""
    keyring = archive.keyring
    monkeypatch.setattr(keys.Keyring, "_finish_rotation", lambda self, entry: None)  # the crash
    _, new = keyring.rotate(TEST_PASSPHRASE.encode())
    monkeypatch.undo()
    assert (archive.root / "keys" / "signing-key.pem.new").exists()
    pid = ingest_one(Archive.open(archive.root), fresh_clip)
    report = json.loads(lw("verify", pid, "--json").output)
    assert report["ok"] is True and report["packages"][0]["signer_fingerprint"] == new.fingerprint
    assert not (archive.root / "keys" / "signing-key.pem.new").exists()


def test_rotation_without_the_ca_key_says_how(archive, lw, tmp_path):
    shutil.move(archive.root / keys.CA_KEY, tmp_path / "offline-ca-key.pem")
    result = lw("keys", "rotate")
    assert result.exit_code == 5
    assert error_codes(result.stderr) == ["K010"]
    assert lw("keys", "rotate", "--ca-key", str(tmp_path / "offline-ca-key.pem")).exit_code == 0
    assert len(archive.keyring.entries()) == 2


def test_import_a_key_from_the_citys_ca(archive, lw, fresh_clip, tmp_path):
    city_ca = signing.generate_ca("Seoul Metropolitan Government", "Seoul City CA")
    key = signing.ec.generate_private_key(signing.ec.SECP256R1())
    cert = signing.issue(city_ca, key.public_key(), "Mapo-gu", "Mapo CCTV archive")
    signing.save(signing.Signer(key, cert, (city_ca.cert,)), tmp_path / "city.key", tmp_path / "city.pem")
    before = ingest_one(archive, fresh_clip)
    imported = lw("keys", "import", "--key", str(tmp_path / "city.key"), "--cert", str(tmp_path / "city.pem"))
    assert imported.exit_code == 0, imported.output
    assert b"ENCRYPTED" in archive.settings.key_path.read_bytes()  # stored encrypted whatever it came as
    after = ingest_one(Archive.open(archive.root), unique_copy(fresh_clip, tmp_path / "after.mp4"))
    report = json.loads(lw("verify", "--all", "--json").output)
    assert report["ok"] is True
    assert {p["package_id"]: p["signer"] for p in report["packages"]}[after].endswith("CN=Mapo CCTV archive")
    assert before in {p["package_id"] for p in report["packages"]}
    # a CA certificate cannot be the archive's signing certificate
    signing.save(city_ca, tmp_path / "ca.key", tmp_path / "ca.pem")
    refused = lw("keys", "import", "--key", str(tmp_path / "ca.key"), "--cert", str(tmp_path / "ca.pem"))
    assert error_codes(refused.stderr) == ["K009"]


def test_export_refuses_a_package_signed_by_a_foreign_key_and_never_re_signs_it(archive, lw, fresh_clip, tmp_path):
    pid = ingest_one(archive, fresh_clip)
    stored = package_dir(archive, pid)
    foreign = signing.generate("Someone Else", "not this archive")
    signature = signing.sign_detached(foreign, (stored / package.SIGNED_FILE).read_bytes())
    (stored / package.SIGNATURE_PATH).chmod(0o644)
    (stored / package.SIGNATURE_PATH).write_bytes(signature)
    # the signature itself is valid: only its signer is wrong
    signing.verify_detached(signature, (stored / package.SIGNED_FILE).read_bytes())
    out = tmp_path / "export"
    result = lw("export", pid, "-o", str(out), *RECIPIENT)
    assert result.exit_code == 13
    assert error_codes(result.stderr) == ["E036"]
    assert foreign.fingerprint in result.stderr
    assert not out.exists() or not (out / "tagmanifest-sha256.txt.p7s").exists()
    assert (stored / package.SIGNATURE_PATH).read_bytes() == signature  # untouched, not re-signed


def test_trust_reason_without_an_archive():
    one = signing.generate("A", "one")
    info = signing.verify_detached(signing.sign_detached(one, b"x"), b"x")
    assert signing.is_trusted(info, [one.cert])
    assert signing.is_trusted(info, list(one.chain))  # issued by a trusted CA
    assert not signing.is_trusted(info, [signing.generate("B", "two").cert])
    past = info.signing_time - timedelta(seconds=1)
    assert not signing.is_trusted(info, [signing.Anchor(one.cert, until=past)])
    with pytest.raises(LongwatchError) as raised:
        signing.require_trusted(info, [signing.Anchor(one.cert, until=past)], "pkg")
    assert raised.value.code == "E036"


def test_an_archive_older_than_the_key_history_rotates(archive, lw, fresh_clip, small_clip, tmp_path):
    """Before issue 21 the key's certificate was self-signed and there was no history or CA: rotation works."""
    legacy = signing.generate_ca("Test City CCTV Centre", "longwatch archive (0.2)")
    signing.save(legacy, archive.settings.key_path, archive.settings.cert_path, TEST_PASSPHRASE.encode())
    for name in (keys.HISTORY, keys.CA_KEY, keys.CA_CERT, keys.TRUSTED):
        (archive.root / name).unlink()
    shutil.rmtree(archive.root / keys.CERTS)
    old = ingest_one(Archive.open(archive.root), fresh_clip)
    assert [e.fingerprint for e in archive.keyring.entries()] == [legacy.fingerprint]
    rotated = lw("keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert (archive.root / keys.CA_KEY).exists()
    new = ingest_one(Archive.open(archive.root), unique_copy(small_clip, tmp_path / "new.mp4"))
    report = json.loads(lw("verify", "--all", "--json").output)
    assert report["ok"] is True, report
    signers = {p["package_id"]: p["signer_fingerprint"] for p in report["packages"]}
    assert signers[old] == legacy.fingerprint and signers[new] != legacy.fingerprint
