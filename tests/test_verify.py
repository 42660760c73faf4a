"""Structural checks of `verify`: not a bag, malformed manifests, links, the profile, bad signatures."""

from __future__ import annotations

import os

import pytest
from conftest import codes_of, error_codes, verify_json

from longwatch.core.aip import package
from longwatch.core.aip.verify import DirectorySource, verify_package


def test_empty_directory_is_not_a_bag(runner, tmp_path):
    status, report, _ = verify_json(runner, tmp_path)
    assert status == 1
    assert codes_of(report) == {"V001"}


def test_bagit_txt_declaring_another_version(runner, bag):
    (bag / "bagit.txt").write_text("BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n")
    status, report, _ = verify_json(runner, bag)
    assert status == 1 and "V001" in codes_of(report)


def test_manifest_naming_a_path_outside_the_bag(runner, bag, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    manifest = bag / "manifest-sha256.txt"
    manifest.write_text(manifest.read_text() + f"{'0' * 64}  ../../outside.txt\n")
    status, report, _ = verify_json(runner, bag)
    assert status == 1
    problems = [p for p in report["packages"][0]["problems"] if p["code"] == "V013"]
    assert problems and problems[0]["context"]["line"] == "2"


def test_malformed_manifest_line(runner, bag):
    (bag / "manifest-sha512.txt").write_text("this is not a manifest line\n")
    status, report, _ = verify_json(runner, bag)
    assert status == 1 and "V013" in codes_of(report)


def test_symlinked_payload_is_not_followed(runner, bag, tmp_path):
    """A link could make the bag 'contain' bytes kept elsewhere; it is reported, never followed."""
    media = next((bag / "data/media").iterdir())
    real = tmp_path / "kept-elsewhere.mp4"
    media.rename(real)
    os.symlink(real, media)
    status, report, _ = verify_json(runner, bag)
    assert status == 1
    assert {"V018", "V002"} <= codes_of(report)


def test_symlinked_directory_is_not_followed(bag, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.bin").write_bytes(b"x")
    os.symlink(elsewhere, bag / "data/linked")
    report = verify_package(DirectorySource(bag))
    assert [p.code for p in report.problems] == ["V018"]


def test_extra_file_beside_the_signature_is_uncovered(runner, bag):
    (bag / "signature/readme.txt").write_text("trust me\n")
    status, report, _ = verify_json(runner, bag)
    assert status == 1 and codes_of(report) == {"V016"}


def test_manifest_algorithm_not_allowed_by_profile(runner, bag):
    import hashlib

    media = next((bag / "data/media").iterdir())
    rel = media.relative_to(bag).as_posix()
    (bag / "manifest-md5.txt").write_text(f"{hashlib.md5(media.read_bytes()).hexdigest()}  {rel}\n")
    status, report, _ = verify_json(runner, bag)
    assert status == 1
    assert "V014" in codes_of(report)


def test_garbage_signature(runner, bag):
    (bag / package.SIGNATURE_PATH).write_bytes(b"\x30\x03\x02\x01\x00 not DER")
    status, report, _ = verify_json(runner, bag)
    assert status == 1 and "V008" in codes_of(report)


def test_missing_tag_file_listed_in_tag_manifest(runner, bag):
    (bag / package.TECHNICAL_PATH).unlink()
    status, report, _ = verify_json(runner, bag)
    assert status == 1
    assert {"V005", "V014"} <= codes_of(report)


def test_payload_oxum_mismatch_is_reported(runner, bag):
    info = bag / "bag-info.txt"
    info.write_text(info.read_text().replace("Payload-Oxum: ", "Payload-Oxum: 1"))
    status, report, _ = verify_json(runner, bag)
    assert status == 1 and {"V012", "V006"} <= codes_of(report)


def test_premis_not_well_formed(runner, bag):
    (bag / package.PREMIS_PATH).write_bytes(b"<premis><unclosed></premis>")
    status, report, _ = verify_json(runner, bag)
    assert status == 1
    assert {"V010", "V006"} <= codes_of(report)


def test_premis_fixity_disagreeing_with_manifest(bag):
    premis = bag / package.PREMIS_PATH
    data = premis.read_bytes()
    media = next((bag / "data/media").iterdir())
    import hashlib

    digest = hashlib.sha256(media.read_bytes()).hexdigest().encode()
    premis.write_bytes(data.replace(digest, b"0" * 64))
    report = verify_package(DirectorySource(bag))
    assert {"V015", "V006"} <= {p.code for p in report.problems}


def test_fast_mode_checks_presence_not_digests(runner, bag):
    media = next((bag / "data/media").iterdir())
    data = bytearray(media.read_bytes())
    data[0] ^= 1
    media.write_bytes(bytes(data))
    status, report, _ = verify_json(runner, bag, "--fast")
    assert status == 0 and report["packages"][0]["fast"] is True
    status, _, _ = verify_json(runner, bag)
    assert status == 1


def test_cert_option_with_a_file_that_is_not_a_certificate(runner, bag, tmp_path):
    from longwatch.cli import cli

    bogus = tmp_path / "cert.pem"
    bogus.write_text("not a certificate")
    result = runner.invoke(cli, ["verify", str(bag), "--cert", str(bogus)])
    assert result.exit_code == 5
    assert error_codes(result.stderr) == ["K003"]


@pytest.mark.parametrize("target", ["not-a-package-id"])
def test_unknown_package_id(lw, target):
    result = lw("verify", target)
    assert result.exit_code == 4
    assert error_codes(result.stderr) == ["I008"]


def test_payload_manifest_listing_a_tag_file(runner, bag):
    """Listing metadata/premis.xml as 'payload' must not pass as a check of the payload."""
    import hashlib

    premis = (bag / package.PREMIS_PATH).read_bytes()
    manifest = bag / "manifest-sha256.txt"
    manifest.write_text(manifest.read_text() + f"{hashlib.sha256(premis).hexdigest()}  {package.PREMIS_PATH}\n")
    status, report, _ = verify_json(runner, bag)
    assert status == 1
    assert "V013" in codes_of(report)
