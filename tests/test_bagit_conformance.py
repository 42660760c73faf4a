"""``longwatch verify --bagit``: BagIt alone, for any bag of versions 0.93 to 1.0 (issue 23).

The verdicts must agree with the Library of Congress bagit-conformance-suite
(tests/data/bagit-conformance, see its SOURCES.md) on every bag: ``valid``
passes, ``invalid`` and ``linux-only`` fail, ``warning`` never passes
silently, and ``windows-only`` fails too (paths outside the bag are refused
on every system). Each failing bag must fail for the reason its folder
names, checked by code, so a checker that refused everything would not pass.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import bagit
import pytest
from click.testing import CliRunner
from conftest import error_codes, run_longwatch

from longwatch.cli import cli
from longwatch.core.aip import package

SUITE = Path(__file__).parent / "data" / "bagit-conformance"
CATEGORIES = ("valid", "invalid", "warning", "linux-only", "windows-only")
BAGS = sorted(p for p in SUITE.glob("v*/*/*") if p.is_dir())

# Why each bag that must fail fails: the codes its findings must include.
REASONS = {
    "v0.97/invalid/baginfo-missing-encoding": {"V025"},
    "v0.97/invalid/bom-in-bagit.txt": {"V025"},
    "v0.97/invalid/corrupt-data-file": {"V004"},
    "v0.97/invalid/corrupt-tag-file": {"V006"},
    "v0.97/invalid/extra-file-in-bag": {"V003"},
    "v0.97/invalid/invalid-version-number": {"V025"},
    "v0.97/invalid/missing-baginfo": {"V005"},
    "v0.97/invalid/missing-bagit.txt": {"V001"},
    "v0.97/invalid/out-of-scope-file-paths-using-dot-notation": {"V028"},
    "v0.97/invalid/out-of-scope-file-paths-using-dot-notation-for-fetch": {"V028"},
    "v0.97/invalid/same-filename-listed-twice-with-different-hashes": {"V029"},
    "v1.0/invalid/bagit-with-invalid-whitespace": {"V025"},
    "v1.0/invalid/notAllManifestsListAllFiles": {"V003"},
    # its bagit.txt also says "1.0 " with a trailing space, which RFC 8493 2.1.1 does not allow
    "v1.0/invalid/same-filename-listed-twice-with-different-hashes": {"V025"},
    "v1.0/invalid/same-filename-listed-twice-with-the-same-hash": {"V029"},
    **{f"v0.97/{system}-only/out-of-scope-file-paths-using-{kind}": {"V028"}
       for system in ("linux", "windows")
       for kind in ("absolute-path", "absolute-path-for-fetch", "shortcut", "shortcut-for-fetch")},
    "v0.97/linux-only/out-of-scope-file-paths-using-shortcut-username": {"V028"},
    "v0.97/linux-only/out-of-scope-file-paths-using-shortcut-username-for-fetch": {"V028"},
    "v0.97/windows-only/out-of-scope-file-paths-using-unc": {"V028"},
    "v0.97/windows-only/out-of-scope-file-paths-using-unc-for-fetch": {"V028"},
}
# What each warning bag must at least warn about (it may also fail; see SOURCES.md for the two that do).
WARNS = {
    "v0.97/warning/duplicate-file-with-different-case": {"V034"},
    "v0.97/warning/made-with-md5sum-tools": {"V033"},
    "v0.97/warning/relative-path": {"V033"},
    "v0.97/warning/same-filename-listed-twice-with-different-normalization": {"V034"},
    "v0.97/warning/same-filename-listed-twice-with-the-same-hash": {"V029"},
    "v0.97/warning/special-system-files": {"V035"},
}


def verify_bagit(target: Path | str, *extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["verify", "--bagit", str(target), "--json", *extra], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def codes(report: dict, kind: str = "problems") -> set[str]:
    return {p["code"] for p in report["packages"][0][kind]}


def test_the_suite_is_all_here():
    """Every category of every version is read; a bag that git lost would show here."""
    assert len(BAGS) == 60
    assert {b.parent.name for b in BAGS} == set(CATEGORIES)
    assert {b.parent.parent.name for b in BAGS} == {"v0.93", "v0.94", "v0.95", "v0.96", "v0.97", "v1.0"}
    crlf = SUITE / "v0.93" / "valid" / "basic-bag" / "bagit.txt"
    assert crlf.read_bytes().endswith(b"\r\n")  # .gitattributes kept the bag's own line endings
    assert (SUITE / "v0.97/warning/same-filename-listed-twice-with-different-normalization/data/N\u00fa\u00f1ez"
            ).is_file()


@pytest.mark.parametrize("bag", BAGS, ids=lambda p: p.relative_to(SUITE).as_posix())
def test_conformance_suite_verdict(bag: Path):
    name = bag.relative_to(SUITE).as_posix()
    category = bag.parent.name
    status, report = verify_bagit(bag)
    found, warned = codes(report), codes(report, "warnings")
    if category == "valid":
        assert (status, found) == (0, set()), report
        assert report["ok"] is True
    elif category == "warning":
        assert WARNS[name] <= warned, report  # never silently valid
        assert status == (0 if report["ok"] else 1)
    else:
        assert status == 1 and report["ok"] is False, report
        assert REASONS[name] <= found, report


def test_every_failing_bag_has_a_stated_reason():
    must_fail = {b.relative_to(SUITE).as_posix() for b in BAGS if b.parent.name not in ("valid", "warning")}
    assert must_fail == set(REASONS)
    assert {b.relative_to(SUITE).as_posix() for b in BAGS if b.parent.name == "warning"} == set(WARNS)


def test_a_valid_foreign_bag_is_valid_with_bagit_but_not_as_an_aip():
    """The issue's failure: plain verify judges an AIP, so a foreign bag fails for lacking our profile."""
    bag = SUITE / "v1.0" / "valid" / "basicBag"
    status, report = verify_bagit(bag)
    assert status == 0 and report["packages"][0]["bagit_version"] == "1.0"
    assert report["packages"][0]["files_checked"] == 1
    plain = CliRunner().invoke(cli, ["verify", str(bag), "--json"], catch_exceptions=False)
    assert plain.exit_code == 1 and "V007" in plain.stdout
    assert any("--bagit" in note for note in json.loads(plain.stdout)["packages"][0]["notes"])


def test_bagit_python_bags_of_every_algorithm(tmp_path: Path):
    """A bag made by the Library of Congress's own bagit-python, with md5, sha1, sha256 and sha512 manifests."""
    src = tmp_path / "bag"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "clip 1.mp4").write_bytes(os.urandom(70_000))
    (src / "남대문.txt").write_text("시장 입구\n", encoding="utf-8")
    bagit.make_bag(str(src), {"Source-Organization": "Seoul"}, checksums=["md5", "sha1", "sha256", "sha512"])
    status, report = verify_bagit(src)
    assert status == 0, report
    assert report["packages"][0]["files_checked"] == 2
    (src / "data" / "sub" / "clip 1.mp4").write_bytes(os.urandom(70_000))
    status, report = verify_bagit(src)
    assert status == 1
    assert [p["context"]["algorithm"] for p in report["packages"][0]["problems"] if p["code"] == "V004"] == [
        "md5", "sha1", "sha256", "sha512"]


def _bag_1_0(root: Path, files: dict[str, bytes], manifest: str) -> Path:
    """A hand-written BagIt 1.0 bag (sha256), the manifest text given as is."""
    import hashlib

    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "bagit.txt").write_bytes(b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    (root / "manifest-sha256.txt").write_text(manifest.format(**{
        f"h{i}": hashlib.sha256(d).hexdigest() for i, d in enumerate(files.values())}), encoding="utf-8")
    return root


def test_percent_encoded_names_are_read_in_1_0(tmp_path: Path):
    """RFC 8493 2.1.3: %25, %0A and %0D in a 1.0 manifest stand for '%', LF and CR."""
    bag = _bag_1_0(tmp_path / "b", {"data/50%.txt": b"a", "data/two\nlines": b"b"},
                   "{h0}  data/50%25.txt\n{h1}  data/two%0Alines\n")
    status, report = verify_bagit(bag)
    assert status == 0, report


def test_a_symbolic_link_is_reported_and_never_followed(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"outside the bag")
    bag = _bag_1_0(tmp_path / "b", {"data/a.txt": b"a"}, "{h0}  data/a.txt\n")
    (bag / "data" / "link.txt").symlink_to(secret)
    status, report = verify_bagit(bag)
    assert status == 1 and codes(report) == {"V018"}
    assert report["packages"][0]["bytes_checked"] == 1


def test_a_version_outside_the_range_and_a_foreign_profile(tmp_path: Path):
    bag = _bag_1_0(tmp_path / "b", {"data/a.txt": b"a"}, "{h0}  data/a.txt\n")
    (bag / "bag-info.txt").write_text("BagIt-Profile-Identifier: https://example.org/other-profile.json\n")
    status, report = verify_bagit(bag)
    assert status == 0 and codes(report, "warnings") == {"V037"}
    (bag / "bagit.txt").write_bytes(b"BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n")
    status, report = verify_bagit(bag)
    assert status == 1 and codes(report) == {"V026"}


def test_missing_fetched_file_makes_the_bag_incomplete(tmp_path: Path):
    bag = _bag_1_0(tmp_path / "b", {"data/a.txt": b"a", "data/b.txt": b"b"},
                   "{h0}  data/a.txt\n{h1}  data/b.txt\n")
    (bag / "fetch.txt").write_text("https://example.org/b.txt 1 data/b.txt\n")
    (bag / "data" / "b.txt").unlink()
    status, report = verify_bagit(bag)
    assert status == 1 and codes(report) == {"V031"}


def test_our_own_signed_aip_passes_and_its_signature_is_checked(bag: Path, stored_package):
    status, report = verify_bagit(bag, "--cert", str(stored_package.cert))
    assert status == 0, report
    assert report["packages"][0]["trusted"] is True and report["packages"][0]["signer"]
    signature = bag / package.SIGNATURE_PATH
    signature.write_bytes(signature.read_bytes()[:-1] + bytes([signature.read_bytes()[-1] ^ 1]))
    status, report = verify_bagit(bag)
    assert status == 1 and "V008" in codes(report)


def test_usage_errors(tmp_path: Path):
    for args in (["verify", "--bagit", "--all"], ["verify", "--bagit", str(tmp_path / "nowhere")],
                 ["verify", "--bagit"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code != 0 and "C002" in result.output + (result.stderr or ""), args


def test_the_real_command_in_korean(tmp_path: Path):
    bag = tmp_path / "corrupt"
    shutil.copytree(SUITE / "v0.97" / "invalid" / "corrupt-data-file", bag)
    done = run_longwatch("verify", "--bagit", bag, env={"LONGWATCH_LANG": "ko"})
    assert done.returncode == 1
    assert error_codes(done.stderr) == ["V004"]
    assert "실패" in done.stdout and "문제 1건" in done.stdout, done.stdout
    assert "불일치" in done.stderr, done.stderr


def test_ingest_a_foreign_bag_archives_its_payload_only(lw, clip: Path, tmp_path: Path):
    """``longwatch ingest BAG``: the payload, once the bag verifies; never bagit.txt or a manifest."""
    src = tmp_path / "received"
    src.mkdir()
    shutil.copy(clip, src / clip.name)
    made = bagit.make_bag(str(src), {"Source-Organization": "Jung-gu Office"}, checksums=["sha256", "sha512"])
    expected = made.entries[f"data/{clip.name}"]["sha256"]
    result = lw("ingest", str(src), "--camera", "cam-01", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(Path(p["path"]).name, p["sha256"]) for p in report["packages"]] == [(clip.name, expected)]
    assert report["failures"] == []


def test_ingest_refuses_a_bag_that_does_not_verify(lw, archive, clip: Path, tmp_path: Path):
    src = tmp_path / "received"
    src.mkdir()
    shutil.copy(clip, src / clip.name)
    bagit.make_bag(str(src), checksums=["sha256"])
    with open(src / "data" / clip.name, "r+b") as fh:  # one flipped byte after bagging
        first = fh.read(1)
        fh.seek(0)
        fh.write(bytes([first[0] ^ 1]))
    result = lw("ingest", str(src), "--camera", "cam-01")
    assert result.exit_code != 0
    assert error_codes(result.stderr) == ["V039"] and "V004" not in result.stderr
    assert "data/" + clip.name in result.stderr
    assert archive.catalog.all_ids() == []


def test_a_fifo_in_the_bag_is_reported_never_read(tmp_path: Path):
    """A FIFO named like a payload or tag file would make a naive checker wait for ever."""
    bag = _bag_1_0(tmp_path / "b", {"data/a.txt": b"a"}, "{h0}  data/a.txt\n")
    os.mkfifo(bag / "data" / "pipe")
    os.mkfifo(bag / "tagmanifest-sha256.txt")
    status, report = verify_bagit(bag)
    assert status == 1
    assert sorted(p["context"]["path"] for p in report["packages"][0]["problems"] if p["code"] == "V001") == [
        "data/pipe", "tagmanifest-sha256.txt"]


def _sha(data: bytes, algorithm: str = "sha256") -> str:
    import hashlib

    return hashlib.new(algorithm, data).hexdigest()


BREAKS = {
    # code: how to break a valid 1.0 bag holding data/a.txt (b"abc") and a sha256 manifest
    "V012": lambda b: (b / "bag-info.txt").write_text("Payload-Oxum: 4.1\n"),
    "V013": lambda b: (b / "manifest-sha256.txt").write_text(f"{_sha(b'abc')[:-1]}  data/a.txt\n"),
    "V027": lambda b: (b / "bag-info.txt").write_bytes(b"Contact-Name: \xff\xfe\n"),
    "V030": lambda b: (b / "manifest-sha256.txt").unlink(),
    "V032": lambda b: (b / "fetch.txt").write_text("https://example.org/a.txt data/a.txt\n"),
    "V036": lambda b: (b / "bag-info.txt").write_text("no colon on this line\n"),
    "V038": lambda b: (b / "manifest-sha512.txt").write_text(""),
    "V006": lambda b: (b / "tagmanifest-sha256.txt").write_text(f"{_sha(b'x')}  bagit.txt\n"),
    "V028": lambda b: (b / "tagmanifest-sha256.txt").write_text(f"{_sha(b'abc')}  data/a.txt\n"),
}


@pytest.mark.parametrize("code", sorted(BREAKS))
def test_each_finding_has_its_code(tmp_path: Path, code: str):
    bag = _bag_1_0(tmp_path / "b", {"data/a.txt": b"abc"}, "{h0}  data/a.txt\n")
    assert verify_bagit(bag)[0] == 0  # valid before the break
    BREAKS[code](bag)
    status, report = verify_bagit(bag)
    assert status == 1 and code in codes(report), report


def test_tag_files_in_iso_8859_1_and_utf_16(tmp_path: Path):
    """A tag file is read in the encoding bagit.txt declares (RFC 8493 2.1.1), bagit.txt itself in UTF-8."""
    for encoding in ("ISO-8859-1", "UTF-16"):
        bag = _bag_1_0(tmp_path / encoding, {"data/é.txt": b"e"}, "")
        (bag / "bagit.txt").write_bytes(f"BagIt-Version: 1.0\nTag-File-Character-Encoding: {encoding}\n".encode())
        (bag / "manifest-sha256.txt").write_bytes(f"{_sha(b'e')}  data/é.txt\r\n".encode(encoding))
        (bag / "bag-info.txt").write_bytes("Source-Organization: Seoul Café\n".encode(encoding))
        status, report = verify_bagit(bag)
        assert status == 0, (encoding, report)
