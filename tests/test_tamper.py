"""Tampering is caught by ``longwatch verify`` with the right code, every problem listed.

Each fixture is named after the error it triggers (as ocfl-py names its bad
fixtures) and tampers with a private copy of a freshly ingested package.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import bagit
import pytest
from conftest import StoredPackage, codes_of, error_codes, verify_json

from longwatch.core.aip import package, signing
from longwatch.core.aip.fixity import digest_bytes


def media_of(bag: Path) -> Path:
    (media,) = (bag / "data/media").iterdir()
    return media


def rewrite_manifests(bag: Path, prefix: str, paths: list[str]) -> None:
    """Recompute every digest of ``paths`` in the ``prefix`` manifests, as a careful forger would."""
    for algorithm in ("sha256", "sha512"):
        manifest = bag / f"{prefix}{algorithm}.txt"
        entries = package.parse_manifest(manifest.read_bytes())
        for path in paths:
            entries[path] = hashlib.new(algorithm, (bag / path).read_bytes()).hexdigest()
        manifest.write_bytes(package.manifest_text(entries))


# -- fixtures named after the error they trigger --------------------------------------
@pytest.fixture
def V004_flipped_media_bit(bag: Path) -> Path:
    media = media_of(bag)
    data = bytearray(media.read_bytes())
    data[len(data) // 2] ^= 0x01
    media.write_bytes(bytes(data))
    return bag


@pytest.fixture
def V006_edited_premis(bag: Path) -> Path:
    premis = bag / package.PREMIS_PATH
    premis.write_bytes(premis.read_bytes().replace(b"success", b"failure", 1))
    return bag


@pytest.fixture
def V008_resealed_after_edit(bag: Path) -> Path:
    """The title changed, and both tag manifests recomputed: only the signature can tell."""
    dc = bag / package.DC_PATH
    dc.write_bytes(dc.read_bytes().replace(b"Market entrance", b"Another place"))
    rewrite_manifests(bag, "tagmanifest-", [package.DC_PATH])
    return bag


@pytest.fixture
def V008_media_swapped_and_resealed(bag: Path) -> Path:
    """Media replaced, payload manifests, Payload-Oxum and tag manifests all recomputed."""
    media = media_of(bag)
    media.write_bytes(media.read_bytes()[:-1] + b"\x00")
    rel = media.relative_to(bag).as_posix()
    rewrite_manifests(bag, "manifest-", [rel])
    rewrite_manifests(bag, "tagmanifest-", ["manifest-sha256.txt", "manifest-sha512.txt"])
    return bag


@pytest.fixture
def V002_missing_payload(bag: Path) -> Path:
    media_of(bag).unlink()
    return bag


@pytest.fixture
def V003_extra_payload(bag: Path) -> Path:
    (bag / "data/media/extra.mp4").write_bytes(b"not from the camera")
    return bag


@pytest.fixture
def V016_extra_tag_file(bag: Path) -> Path:
    (bag / "metadata/notes.txt").write_text("added later, not covered by the signature\n")
    return bag


@pytest.fixture
def V009_signed_by_another_key(bag: Path) -> Path:
    other = signing.generate("Someone else", "not the archive")
    signed = (bag / package.SIGNED_FILE).read_bytes()
    (bag / package.SIGNATURE_PATH).write_bytes(signing.sign_detached(other, signed))
    return bag


# -- the tests -------------------------------------------------------------------------
def check(runner, bag: Path, stored_package: StoredPackage) -> tuple[set[str], object]:
    status, report, result = verify_json(runner, bag, "--cert", str(stored_package.cert))
    assert status == 1
    assert report["ok"] is False
    return codes_of(report), result


def test_pristine_copy_verifies(runner, bag, stored_package):
    status, report, _ = verify_json(runner, bag, "--cert", str(stored_package.cert))
    assert status == 0, report
    assert report["packages"][0]["trusted"] is True


def test_flipped_bit_in_media(runner, V004_flipped_media_bit, stored_package):
    codes, _ = check(runner, V004_flipped_media_bit, stored_package)
    assert codes == {"V004"}


def test_flipped_bit_reported_for_both_algorithms(runner, V004_flipped_media_bit, stored_package):
    _, report, _ = verify_json(runner, V004_flipped_media_bit, "--cert", str(stored_package.cert))
    algorithms = {p["context"]["algorithm"] for p in report["packages"][0]["problems"]}
    assert algorithms == {"sha256", "sha512"}


def test_edited_premis(runner, V006_edited_premis, stored_package):
    codes, _ = check(runner, V006_edited_premis, stored_package)
    assert codes == {"V006"}


def test_resealed_manifests_fail_on_signature(runner, V008_resealed_after_edit, stored_package):
    codes, _ = check(runner, V008_resealed_after_edit, stored_package)
    assert codes == {"V008"}
    bagit.Bag(str(V008_resealed_after_edit)).validate()  # plain BagIt cannot see it; the signature can
    openssl = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", package.SIGNATURE_PATH,
         "-content", package.SIGNED_FILE, "-CAfile", str(stored_package.cert), "-purpose", "any",
         "-out", "/dev/null"], cwd=V008_resealed_after_edit, capture_output=True, check=False)
    assert openssl.returncode != 0


def test_swapped_media_resealed_fails_on_signature(runner, V008_media_swapped_and_resealed, stored_package):
    codes, _ = check(runner, V008_media_swapped_and_resealed, stored_package)
    assert "V008" in codes
    assert "V015" in codes  # PREMIS still records the original digest


def test_missing_payload_file(runner, V002_missing_payload, stored_package):
    codes, _ = check(runner, V002_missing_payload, stored_package)
    assert "V002" in codes


def test_extra_payload_file(runner, V003_extra_payload, stored_package):
    codes, _ = check(runner, V003_extra_payload, stored_package)
    assert "V003" in codes
    assert "V004" not in codes


def test_extra_tag_file(runner, V016_extra_tag_file, stored_package):
    codes, _ = check(runner, V016_extra_tag_file, stored_package)
    assert codes == {"V016"}


def test_signature_from_another_key(runner, V009_signed_by_another_key, stored_package):
    codes, _ = check(runner, V009_signed_by_another_key, stored_package)
    assert codes == {"V009"}


def test_signature_from_another_key_is_valid_but_untrusted_without_cert(runner, V009_signed_by_another_key,
                                                                        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, report, _ = verify_json(runner, V009_signed_by_another_key)
    assert status == 0
    assert "O=Someone else" in report["packages"][0]["signer"]
    assert report["packages"][0]["trusted"] is None


def test_missing_signature(runner, bag, stored_package):
    (bag / package.SIGNATURE_PATH).unlink()
    codes, _ = check(runner, bag, stored_package)
    assert "V007" in codes


def test_bare_package_directory_without_archive(runner, bag, tmp_path, monkeypatch):
    """A court's expert has the package only: it verifies, with a note that trust was not checked."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LONGWATCH_ARCHIVE", raising=False)
    status, report, result = verify_json(runner, bag)
    assert status == 0, result.output
    pkg = report["packages"][0]
    assert pkg["ok"] is True and pkg["trusted"] is None
    assert pkg["signer_fingerprint"].startswith("SHA256:")
    assert any("trusted certificate" in note for note in pkg["notes"])
    human = runner.invoke(__import__("longwatch.cli", fromlist=["cli"]).cli, ["verify", str(bag)])
    assert human.exit_code == 0
    assert "NOTE" in human.stderr and "--cert" in human.stderr


def test_every_problem_is_listed(runner, bag, stored_package):
    media = media_of(bag)
    data = bytearray(media.read_bytes())
    data[100] ^= 0x80
    media.write_bytes(bytes(data))
    (bag / "data/media/extra.bin").write_bytes(b"x")
    (bag / "metadata/notes.txt").write_text("x")
    premis = bag / package.PREMIS_PATH
    premis.write_bytes(premis.read_bytes() + b"\n")
    codes, _ = check(runner, bag, stored_package)
    assert {"V004", "V003", "V016", "V006"} <= codes
    from longwatch.cli import cli

    result = runner.invoke(cli, ["verify", str(bag), "--cert", str(stored_package.cert)])
    assert result.exit_code == 1
    assert "FAILED" in result.stdout
    printed = error_codes(result.stderr)
    assert {"V004", "V003", "V016", "V006"} <= set(printed)
    assert len(printed) >= 5


def test_verify_by_id_in_archive_after_tampering(runner, archive, fresh_clip):
    """Tampering with a stored package is found through the archive as well (by id, and --all)."""
    from conftest import ingest_one

    from longwatch.cli import cli

    package_id = ingest_one(archive, fresh_clip)
    media = archive.storage().local_path(package_id) / "data/media/fresh.mp4"
    media.write_bytes(media.read_bytes() + b"!")
    for args in ([package_id], ["--all"]):
        result = runner.invoke(cli, ["-A", str(archive.root), "verify", *args])
        assert result.exit_code == 1
        assert "V004" in error_codes(result.stderr)


def test_package_in_catalog_but_missing_from_storage(runner, archive, fresh_clip):
    import shutil

    from conftest import ingest_one

    from longwatch.cli import cli

    package_id = ingest_one(archive, fresh_clip)
    shutil.rmtree(archive.storage().local_path(package_id))
    result = runner.invoke(cli, ["-A", str(archive.root), "verify", "--all"])
    assert result.exit_code == 1
    assert error_codes(result.stderr) == ["V017"]


def test_signature_over_tag_manifest_matches_signed_bytes(bag):
    info = signing.verify_detached((bag / package.SIGNATURE_PATH).read_bytes(),
                                   (bag / package.SIGNED_FILE).read_bytes())
    assert info.fingerprint.startswith("SHA256:")
    with pytest.raises(signing.SignatureError):
        signing.verify_detached((bag / package.SIGNATURE_PATH).read_bytes(),
                                (bag / package.SIGNED_FILE).read_bytes() + b"\n")
    assert digest_bytes(b"")  # keep the import honest


@pytest.fixture
def V008_archive_cert_with_forged_key(bag: Path, stored_package: StoredPackage) -> Path:
    """A forger encloses the archive's own certificate but signs with a key of their own."""
    forger = signing.generate("Forger", "forger")
    archive_cert = signing.load_certificate(stored_package.cert)
    signed = (bag / package.SIGNED_FILE).read_bytes()
    (bag / package.SIGNATURE_PATH).write_bytes(signing.sign_detached(signing.Signer(forger.key, archive_cert),
                                                                     signed))
    return bag


def test_archive_certificate_with_a_forged_key(runner, V008_archive_cert_with_forged_key, stored_package):
    codes, _ = check(runner, V008_archive_cert_with_forged_key, stored_package)
    assert codes == {"V008"}
    openssl = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", package.SIGNATURE_PATH,
         "-content", package.SIGNED_FILE, "-CAfile", str(stored_package.cert), "-purpose", "any",
         "-out", "/dev/null"], cwd=V008_archive_cert_with_forged_key, capture_output=True, check=False)
    assert openssl.returncode != 0
