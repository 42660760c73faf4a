"""Evidence exports: VERIFY.txt's commands really succeed, and every kind of tampering is caught."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import create_archive, error_codes, ingest_one, run_longwatch
from pdfa_check import fonts_embedded

from longwatch.core.evidence import export as export_mod
from longwatch.core.evidence.selection import find_gaps
from longwatch.core.media.probe import make_test_clip

# 23:59:50 on 3 March in Seoul is 14:59:50Z: the recordings cross local midnight.
T0 = datetime(2026, 3, 3, 14, 59, 50, tzinfo=UTC)
RECIPIENT = ["--agency", "Seoul Mapo Police Station", "--officer", "Insp. Kim", "--case-number", "2026-MP-0117",
             "--legal-basis", "Criminal Procedure Act art. 215", "--purpose", "investigation of a hit and run"]

EXPIRES = "2036-03-03T00:00:00Z"


def z(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """cam-01: 0-10 s, 10-20 s, (gap) 30-40 s after T0."""
    folder = tmp_path_factory.mktemp("export-clips")
    return {f"c{i}": make_test_clip(folder / f"cam-01-{i}.mp4", seconds=10, label=f"c{i}",
                                    start=T0 + timedelta(seconds=offset))
            for i, offset in ((1, 0), (2, 10), (3, 30))}


def fill(archive, footage) -> list[str]:
    return [ingest_one(archive, path, camera="cam-01") for path in footage.values()]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, footage) -> dict:
    """One archive and one export over the three clips, made once; tests tamper with copies."""
    from click.testing import CliRunner

    from longwatch.cli import cli

    root = tmp_path_factory.mktemp("export-archive")
    archive = create_archive(root / "archive", timezone="Asia/Seoul")
    ids = fill(archive, footage)
    out = root / "export"
    result = CliRunner().invoke(cli, ["-A", str(archive.root), "export", "--camera", "cam-01", "--from", z(5),
                                      "--to", z(35), "-o", str(out), "--zip", str(root / "export.zip"),
                                      *RECIPIENT, "--expires", EXPIRES, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    storage = archive.storage()
    sources = {pid: storage.local_path(pid) for pid in ids}
    archive.close()
    return {"root": root, "out": out, "zip": root / "export.zip", "data": data, "ids": ids, "sources": sources,
            "cert": archive.settings.cert_path}


def verify_commands(bag: Path) -> list[str]:
    text = (bag / "VERIFY.txt").read_text(encoding="utf-8")
    return [m.group(1) for m in re.finditer(r"^\d+\. (.+)$", text, re.M)]


def run(cmd: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def copy(made, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(made["out"], target)
    return target


def test_verify_txt_commands_succeed_with_standard_tools(made):
    commands = verify_commands(made["out"])
    assert any(c.startswith("sha256sum -c manifest") for c in commands)
    assert any(c.startswith("openssl cms -verify") for c in commands)
    for cmd in commands:
        done = run(cmd, made["out"])
        assert done.returncode == 0, (cmd, done.stdout, done.stderr)
        if "cms -verify" in cmd:
            assert "Verification successful" in done.stderr
    text = (made["out"] / "VERIFY.txt").read_text(encoding="utf-8")
    assert "[ko]" in text and "[en]" in text


def test_range_over_several_clips_and_a_gap_across_midnight(made):
    data = made["data"]
    assert data["files"] == 3
    gaps = [(datetime.fromisoformat(g["start"]), datetime.fromisoformat(g["end"])) for g in data["gaps"]]
    assert gaps == [(T0 + timedelta(seconds=20), T0 + timedelta(seconds=30))]
    desc = json.loads((made["out"] / "export.json").read_text())
    assert {f["camera"] for f in desc["files"]} == {"cam-01"}
    # originals bit for bit: the digests equal the source packages' manifests
    for f in desc["files"]:
        pid = f["package"]
        manifest = (made["sources"][pid] / "manifest-sha256.txt").read_text()
        assert f["sha256"] in manifest
        assert (made["out"] / f["path"]).stat().st_size == f["size"]
    html = (made["out"] / "REPORT.html").read_text(encoding="utf-8")
    for f in desc["files"]:
        assert f["sha256"] in html
    assert "2026-03-03T23:59:50+09:00" in html and "2026-03-04T00:00:00+09:00" in html  # local, across midnight
    assert "2026-03-03T15:00:10Z" in html  # the gap, in UTC
    assert "Seoul Mapo Police Station" in html and "2026-MP-0117" in html
    assert "증거" in html  # Korean by default
    pdf = (made["out"] / "REPORT.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and fonts_embedded(made["out"] / "REPORT.pdf")  # the CJK font is embedded
    extract = (made["out"] / "data/custody/extract.jsonl").read_text().splitlines()
    transfer = [json.loads(line) for line in extract if json.loads(line)["type"] == "transfer"]
    assert transfer and transfer[0]["extra"]["export_id"] == data["export_id"]
    assert transfer[0]["extra"]["recipient"]["case_number"] == "2026-MP-0117"


def test_report_pdf_shows_every_file_the_recipient_and_the_custody_timeline(made):
    """REPORT.pdf is for people: its text (as pdftotext reads it) carries what REPORT.html carries."""
    done = subprocess.run(["pdftotext", "-layout", str(made["out"] / "REPORT.pdf"), "-"], capture_output=True,
                          text=True, timeout=60, check=True)
    text = " ".join(done.stdout.split())
    desc = json.loads((made["out"] / "export.json").read_text())
    for f in desc["files"]:
        assert f["path"] in text and f["sha256"] in text
    for value in ("Seoul Mapo Police Station", "Insp. Kim", "2026-MP-0117", "Criminal Procedure Act art. 215",
                  "investigation of a hit and run", desc["exported_by"]):
        assert value in text, value
    assert "2026-03-03T23:59:50+09:00" in text and "2026-03-04T00:00:00+09:00" in text  # local, across midnight
    assert "2026-03-03T14:59:50Z" in text and "2026-03-03T15:00:10Z" in text  # UTC, and the gap
    assert f"evidence export {desc['export_id']}" in text and "인계" in text  # the timeline, in Korean
    expires = datetime.fromisoformat(EXPIRES)
    assert datetime.fromisoformat(desc["recipient"]["expires"]) == expires
    assert "2036-03-03T00:00:00" in text and "expires 2036-03-03T00:00:00" in text  # also in the transfer event


def test_the_export_is_a_valid_bag_with_each_package_s_metadata(made):
    """Any BagIt validator accepts the export (here bagit-python), and each package brings its PREMIS and DC."""
    import bagit

    bagit.Bag(str(made["out"])).validate()
    manifest = (made["out"] / "manifest-sha256.txt").read_text()
    for pid in made["ids"]:
        for meta in ("premis.xml", "dc.xml"):
            rel = f"data/packages/{pid}/metadata/{meta}"
            assert (made["out"] / rel).read_bytes() == (made["sources"][pid] / "metadata" / meta).read_bytes()
            assert rel in manifest


def test_verify_export_accepts_folder_and_zip(made):
    for target in (made["out"], made["zip"]):
        done = run_longwatch("verify-export", target, "--cert", made["cert"])
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("VERIFIED")
    done = run_longwatch("verify-export", made["out"], "--cert", made["cert"], "--json")
    report = json.loads(done.stdout)
    assert report["ok"] and report["proofs"] >= 4 and report["files"] == 3


def _flip_media(bag: Path) -> None:
    media = sorted((bag / "data/packages").glob("*/media/*"))[0]
    data = bytearray(media.read_bytes())
    data[len(data) // 2] ^= 0x01
    media.write_bytes(bytes(data))


def _edit_report(bag: Path) -> None:
    path = bag / "REPORT.html"
    sha = json.loads((bag / "export.json").read_text())["files"][0]["sha256"]
    text = path.read_text(encoding="utf-8").replace("2026-MP-0117", "2026-MP-0118").replace(sha, "0" * 64)
    path.write_text(text, encoding="utf-8")


def _edit_extract(bag: Path) -> None:
    path = bag / "data/custody/extract.jsonl"
    path.write_bytes(path.read_bytes().replace(b'"outcome":"success"', b'"outcome":"failure"', 1))


def _edit_signature(bag: Path) -> None:
    path = bag / "tagmanifest-sha256.txt.p7s"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0x01
    path.write_bytes(bytes(data))


def _edit_proof(bag: Path) -> None:
    path = sorted((bag / "data/custody/proofs").glob("*.json"))[-1]
    proof = json.loads(path.read_text())
    proof["inclusion_path"][0] = "00" * 32
    path.write_text(json.dumps(proof))


@pytest.mark.parametrize(("tamper", "tool", "codes"), [
    (_flip_media, "sha256sum -c manifest", {"E012"}),
    (_edit_report, "sha256sum -c tagmanifest", {"E012", "E017"}),
    (_edit_extract, "sha256sum -c manifest", {"E012", "E019"}),
    (_edit_signature, "openssl cms -verify -binary -inform DER -in tagmanifest", {"E013"}),
    (_edit_proof, "sha256sum -c manifest", {"E012", "E019"}),
], ids=["media-byte", "report", "custody-extract", "signature", "proof"])
def test_tampering_is_caught(made, tmp_path, tamper, tool, codes):
    bag = copy(made, tmp_path)
    tamper(bag)
    cmd = next(c for c in verify_commands(bag) if c.startswith(tool))
    assert run(cmd, bag).returncode != 0, cmd
    done = run_longwatch("verify-export", bag)
    assert done.returncode == 13, done.stdout
    assert codes <= set(error_codes(done.stderr)), done.stderr
    assert "NOT VERIFIED" in done.stdout


def test_a_file_added_afterwards_is_caught(made, tmp_path):
    bag = copy(made, tmp_path)
    (bag / "data/packages/extra.mp4").write_bytes(b"not evidence")
    assert "E016" in error_codes(run_longwatch("verify-export", bag).stderr)


def test_a_range_inside_one_clip_with_an_exact_cut(lw, archive, footage, tmp_path):
    ids = fill(archive, footage)
    out = tmp_path / "inside"
    result = lw("export", "--camera", "cam-01", "--from", z(2), "--to", z(6), "--cut", "-o", str(out), *RECIPIENT,
                "--report-language", "en", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["gaps"] == []
    desc = json.loads((out / "export.json").read_text())
    packages = [p["id"] for p in desc["packages"]]
    assert packages[0] == ids[0] or ids[0] in packages
    cuts = [p for p in desc["packages"] if p["derived_cut"]]
    assert len(cuts) == 1 and cuts[0]["id"] not in ids  # the cut is its own derived package
    premis = next(out.glob(f"data/packages/{cuts[0]['id']}/metadata/premis.xml")).read_text()
    assert "ffmpeg" in premis and "-c copy" in premis  # tool and parameters recorded
    assert ids[0] in premis  # its source package
    assert re.search(r"creatingApplicationVersion>[^<]+<", premis)  # the tool's version
    html = (out / "REPORT.html").read_text(encoding="utf-8")
    assert "Evidence export report" in html and "No gaps in the requested range." in html
    assert run_longwatch("verify-export", out, "--cert", archive.settings.cert_path).returncode == 0


def test_export_by_package_id_with_a_time_stamp(lw, archive, footage, tsa, tmp_path):
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write(f'\n[custody]\ntsa_url = "{tsa.url}"\ntsa_cert = "{tsa.cert}"\n')
    pid = ingest_one(archive, footage["c1"], camera="cam-01")
    out = tmp_path / "stamped"
    result = lw("export", pid[:8], "-o", str(out), *RECIPIENT, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["timestamped"]
    commands = verify_commands(out)
    assert any(c.startswith("openssl ts -verify -data tagmanifest") for c in commands)
    for cmd in commands:
        done = run(cmd, out)
        assert done.returncode == 0, (cmd, done.stdout, done.stderr)
        if cmd.startswith("openssl ts"):
            assert "Verification: OK" in done.stdout
    done = run_longwatch("verify-export", out, "--tsa-cert", tsa.cert, "--cert", archive.settings.cert_path)
    assert done.returncode == 0, done.stderr
    token = out / "tagmanifest-sha256.txt.p7s.tsr"
    token.write_bytes(token.read_bytes()[:-3] + b"xyz")
    stamp = next(c for c in commands if c.startswith("openssl ts -verify -data tagmanifest"))
    assert run(stamp, out).returncode != 0  # the standard tool catches it too
    assert "E015" in error_codes(run_longwatch("verify-export", out).stderr)


def test_watermarked_access_copies_never_touch_the_originals(lw, archive, footage, tmp_path):
    pid = ingest_one(archive, footage["c2"], camera="cam-01")
    out = tmp_path / "wm"
    result = lw("export", pid, "-o", str(out), *RECIPIENT, "--watermark", "--json")
    assert result.exit_code == 0, result.output
    desc = json.loads((out / "export.json").read_text())
    (original,) = desc["files"]
    (access,) = desc["access_copies"]
    assert access["path"].startswith("data/access/") and "ACCESS-COPY" in access["path"]
    assert access["evidence"] is False and "Seoul Mapo Police Station" in access["watermark"]
    assert access["sha256"] != original["sha256"]
    source = (archive.storage().local_path(pid) / "manifest-sha256.txt").read_text()
    assert original["sha256"] in source  # the original is still bit for bit
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
                            str(out / access["path"])], capture_output=True, text=True, check=True)
    assert "h264" in probe.stdout
    html = (out / "REPORT.html").read_text(encoding="utf-8")
    assert "열람용 사본" in html and access["sha256"] in html
    assert run_longwatch("verify-export", out, "--cert", archive.settings.cert_path).returncode == 0


def test_bad_requests_get_coded_errors(lw, archive, footage, tmp_path):
    ids_c1 = fill(archive, {"c1": footage["c1"]})
    assert run_longwatch("-A", archive.root, "cases", "add", "C-1", "--title", "empty case").returncode == 0

    def codes(*args: str) -> list[str]:
        done = run_longwatch("-A", archive.root, "export", *args)
        assert done.returncode == 13, done.stderr
        return error_codes(done.stderr)

    assert codes("nope", "-o", str(tmp_path / "a"), *RECIPIENT) == ["E001"]
    assert codes("--camera", "cam-01", "-o", str(tmp_path / "b"), *RECIPIENT) == ["E003"]
    assert codes("--camera", "cam-01", "--from", z(5), "--to", z(1), "-o", str(tmp_path / "c"), *RECIPIENT) == [
        "E003"]
    assert codes("--camera", "cam-99", "--from", z(0), "--to", z(5), "-o", str(tmp_path / "d"), *RECIPIENT) == [
        "E004"]
    assert codes("--case", "C-1", "-o", str(tmp_path / "e"), *RECIPIENT) == ["E002"]  # a case with nothing in it
    assert codes(ids_c1[0], "-o", str(tmp_path / "g"), *RECIPIENT, "--expires", "2020-01-01T00:00:00Z") == [
        "E003"]  # an expiry in the past
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    assert codes("--camera", "cam-01", "--from", z(0), "--to", z(5), "-o", str(full), *RECIPIENT) == ["E006"]
    assert not (tmp_path / "a").exists()  # no half-written export is left behind
    done = run_longwatch("verify-export", tmp_path)
    assert error_codes(done.stderr) == ["E009"]


def test_find_gaps_edges():
    s = T0
    gaps = find_gaps([(s, s + timedelta(seconds=10)), (s + timedelta(seconds=10.5), s +
                      timedelta(seconds=20))], s - timedelta(seconds=5), s + timedelta(seconds=25))
    assert gaps == [(s - timedelta(seconds=5), s), (s + timedelta(seconds=20), s + timedelta(seconds=25))]
    assert find_gaps([], s, s + timedelta(seconds=3)) == [(s, s + timedelta(seconds=3))]


def test_a_case_exports_its_attached_packages(archive, footage, tmp_path):
    ids = fill(archive, {"c1": footage["c1"], "c2": footage["c2"]})
    assert run_longwatch("-A", archive.root, "cases", "add", "2026-0412", "--title", "market fire").returncode == 0
    assert run_longwatch("-A", archive.root, "cases", "attach", "2026-0412", ids[1]).returncode == 0
    out = tmp_path / "case-export"
    done = run_longwatch("-A", archive.root, "export", "--case", "2026-0412", "-o", str(out), *RECIPIENT)
    assert done.returncode == 0, done.stderr
    exported = json.loads((out / "export.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in exported["packages"]] == [ids[1]]
    assert run_longwatch("verify-export", out, "--cert", archive.settings.cert_path).returncode == 0



def _flip_stored_media(folder: Path) -> str:
    media = next(p for p in (folder / "data" / "media").iterdir() if p.is_file())
    data = bytearray(media.read_bytes())
    data[len(data) // 2] ^= 0x01
    media.write_bytes(bytes(data))
    return "E005"


def _edit_stored_premis(folder: Path) -> str:
    premis = folder / "metadata" / "premis.xml"
    premis.write_bytes(premis.read_bytes() + b"\n")
    return "E005"


def _edit_stored_manifest(folder: Path) -> str:
    manifest = folder / "manifest-sha256.txt"
    manifest.write_bytes(manifest.read_bytes().replace(b"  data/", b" data/", 1))
    return "E024"


def _edit_stored_signature(folder: Path) -> str:
    signature = folder / "signature" / "tagmanifest-sha256.txt.p7s"
    data = bytearray(signature.read_bytes())
    data[-10] ^= 0x01
    signature.write_bytes(bytes(data))
    return "E024"


@pytest.mark.parametrize("damage", [_flip_stored_media, _edit_stored_premis, _edit_stored_manifest,
                                    _edit_stored_signature], ids=lambda f: f.__name__)
def test_a_source_that_fails_fixity_is_never_exported(archive, footage, tmp_path, damage):
    """Corrupt evidence is refused, not copied: no export folder is left and no transfer is recorded."""
    from longwatch.core import custody

    ids = fill(archive, {"c1": footage["c1"], "c2": footage["c2"]})
    code = damage(archive.storage().local_path(ids[1]))
    out = tmp_path / "refused"
    done = run_longwatch("-A", archive.root, "export", *ids, "-o", str(out), *RECIPIENT)
    assert done.returncode == 13, done.stderr
    assert error_codes(done.stderr) == [code]
    assert ids[1] in done.stderr
    assert not out.exists()
    ledger = custody.Ledger.for_archive(archive)
    assert all(entry["type"] != "transfer" for pid in ids for _seq, entry, _line in ledger.history(pid))


@pytest.mark.parametrize("size", [0, 1, export_mod.COPY_BUFFER - 1, export_mod.COPY_BUFFER,
                                  3 * export_mod.COPY_BUFFER + 7])
def test_copy_and_digest_hashes_exactly_the_bytes_written(tmp_path, size):
    import hashlib
    import io
    import os

    data = os.urandom(size)
    seen: list[int] = []

    class ReadOnly:  # a stream without readinto, as some storage adapters return
        def __init__(self) -> None:
            self.pos = 0

        def read(self, n: int = -1) -> bytes:
            chunk = data[self.pos:self.pos + (n if n >= 0 else size)]
            self.pos += len(chunk)
            return chunk

    for source in (io.BytesIO(data), ReadOnly()):
        target = tmp_path / "copy.bin"
        sha, written = export_mod.copy_and_digest(source, target, seen.append)
        assert (sha, written) == (hashlib.sha256(data).hexdigest(), size)
        assert target.read_bytes() == data
    assert sum(seen) == 2 * size


@pytest.mark.parametrize("export_id", ["../../etc", "x" * 8, ""])
def test_an_export_id_that_is_not_a_uuid_names_no_partial_folder(tmp_path, export_id):
    from longwatch.errors import LongwatchError

    with pytest.raises(LongwatchError) as info:
        export_mod.partial_dir(tmp_path / "out", export_id)
    assert info.value.code == "E003"


def test_a_retry_whose_selection_changed_is_refused_not_recorded_twice(archive):
    from longwatch.core import custody
    from longwatch.errors import LongwatchError

    ledger = custody.Ledger.for_archive(archive)
    export_id = "0b0c9f3e-1d2a-4c55-9a43-0d6c1f0e7a11"
    [seq] = [e.seq for e in ledger.append([custody.CustodyEvent(type="transfer", packages=["pkg-a"], detail="export",
                                                                extra={"export_id": export_id})])]
    assert export_mod._earlier_transfer(ledger, ["pkg-a"], export_id) == seq  # the killed attempt's record
    with pytest.raises(LongwatchError) as info:
        export_mod._earlier_transfer(ledger, ["pkg-a", "pkg-b"], export_id)
    assert info.value.code == "E025"
    assert export_mod._earlier_transfer(ledger, ["pkg-a"], "another-export") is None
