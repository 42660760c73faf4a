"""Exports that do not vouch for themselves (issue 21): anchors, added files, Payload-Oxum, exit codes.

The forgery is done for real: a copy of an honest export whose media byte,
digests, checkpoint signature, certificate and tag-manifest signature are all
remade with a NEW key by openssl. It passes every step of its own VERIFY.txt;
``verify-export`` must call it UNANCHORED without an outside anchor and
NOT VERIFIED against the archive's real fingerprint, certificate or a
checkpoint kept outside the archive.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import warnings
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import create_archive, error_codes, ingest_one, run_longwatch

from longwatch.core.aip import signing
from longwatch.core.media.probe import make_test_clip

T0 = datetime(2026, 3, 3, 14, 59, 50, tzinfo=UTC)
RECIPIENT = ["--agency", "Seoul Mapo Police Station", "--officer", "Insp. Kim", "--case-number", "2026-MP-0117",
             "--legal-basis", "Criminal Procedure Act art. 215", "--purpose", "investigation of a hit and run"]


def z(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One archive, a checkpoint saved outside it, then one export of two clips (folder and ZIP)."""
    root = tmp_path_factory.mktemp("proof")
    archive = create_archive(root / "archive", timezone="Asia/Seoul")
    ids = [ingest_one(archive, make_test_clip(root / f"cam-01-{i}.mp4", seconds=10, label=f"c{i}",
                                              start=T0 + timedelta(seconds=10 * i)), camera="cam-01")
           for i in range(2)]
    a = ["-A", archive.root]
    assert run_longwatch(*a, "custody", "checkpoint").returncode == 0
    published = root / "published-checkpoints.json"
    assert run_longwatch(*a, "custody", "checkpoints", "-o", published).returncode == 0
    out, zipped = root / "export", root / "export.zip"
    done = run_longwatch(*a, "export", *ids, "-o", out, "--zip", zipped, *RECIPIENT, "--json")
    assert done.returncode == 0, done.stderr
    cert = archive.settings.cert_path
    archive.close()
    return {"root": root, "archive": root / "archive", "out": out, "zip": zipped, "ids": ids, "cert": cert,
            "fingerprint": signing.fingerprint(signing.load_certificate(cert)), "published": published}


def copy(made: dict, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(made["out"], target)
    return target


def verify_commands(bag: Path) -> list[str]:
    text = (bag / "VERIFY.txt").read_text(encoding="utf-8")
    return [m.group(1) for m in re.finditer(r"^\d+\. (.+)$", text, re.M)]


def sh(cmd: str | list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, shell=isinstance(cmd, str), cwd=cwd, capture_output=True, text=True, timeout=120,
                          check=False)


# -- the forgery --------------------------------------------------------------------------------
def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cms_sign(data: Path, out: Path, cert: Path, key: Path) -> None:
    done = sh(["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256", "-in", str(data),
               "-signer", str(cert), "-inkey", str(key), "-out", str(out)])
    assert done.returncode == 0, done.stderr


def remake(bag: Path, workdir: Path) -> str:
    """Change the footage and remake everything that would show it, signed by a brand-new key; its fingerprint."""
    key, cert = workdir / "forger.key", workdir / "forger.pem"
    done = sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-keyout", str(key), "-out", str(cert), "-days", "30", "-subj", "/CN=Test City CCTV Centre"])
    assert done.returncode == 0, done.stderr
    description = json.loads((bag / "export.json").read_text(encoding="utf-8"))
    media = bag / description["files"][0]["path"]
    old = _sha(media)
    data = bytearray(media.read_bytes())
    data[len(data) // 2] ^= 0x01
    media.write_bytes(bytes(data))
    new = _sha(media)
    for name in ("export.json", "REPORT.html"):
        (bag / name).write_text((bag / name).read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    custody = bag / "data/custody"
    for tsr in custody.glob("*.tsr"):
        tsr.unlink()
    (custody / "consistency.json").unlink(missing_ok=True)  # it starts from a checkpoint the forger cannot sign
    _cms_sign(custody / "checkpoint.note", custody / "checkpoint.note.p7s", cert, key)
    shutil.copy(cert, custody / "signer-chain.pem")
    payload = sorted(p for p in (bag / "data").rglob("*") if p.is_file())
    (bag / "manifest-sha256.txt").write_text("".join(f"{_sha(p)}  {p.relative_to(bag).as_posix()}\n"
                                                     for p in payload))
    info = (bag / "bag-info.txt").read_text()
    oxum = f"{sum(p.stat().st_size for p in payload)}.{len(payload)}"
    (bag / "bag-info.txt").write_text(re.sub(r"Payload-Oxum: \S+", f"Payload-Oxum: {oxum}", info))
    tags = [line.split()[-1] for line in (bag / "tagmanifest-sha256.txt").read_text().splitlines()]
    (bag / "tagmanifest-sha256.txt").write_text("".join(f"{_sha(bag / t)}  {t}\n" for t in tags))
    (bag / "tagmanifest-sha256.txt.p7s.tsr").unlink(missing_ok=True)
    _cms_sign(bag / "tagmanifest-sha256.txt", bag / "tagmanifest-sha256.txt.p7s", cert, key)
    return signing.fingerprint(signing.load_certificate(cert))


def test_a_remade_export_passes_its_own_verify_txt_but_is_never_verified(made, tmp_path):
    bag = copy(made, tmp_path)
    forged = remake(bag, tmp_path)
    assert forged != made["fingerprint"]
    for cmd in verify_commands(bag):  # the forgery the issue describes: every standard-tool step succeeds
        if cmd.startswith(("sha256sum", "openssl cms")):
            done = sh(cmd, bag)
            assert done.returncode == 0, (cmd, done.stdout, done.stderr)
    # without an outside anchor: consistent, never VERIFIED
    done = run_longwatch("verify-export", bag)
    assert done.returncode == 15, (done.stdout, done.stderr)
    assert done.stdout.startswith("UNANCHORED") and forged in done.stdout
    assert not re.search(r"^VERIFIED", done.stdout, re.M)
    report = json.loads(run_longwatch("verify-export", bag, "--json").stdout)
    assert (report["status"], report["ok"], report["anchored"]) == ("unanchored", False, False)
    done = run_longwatch("verify", bag)  # `verify DIR` on an export says the same
    assert done.returncode == 15 and done.stdout.startswith("UNANCHORED"), (done.stdout, done.stderr)
    # against what the archive publishes: FAILED, with a stable code
    for args, code in ((["--fingerprint", made["fingerprint"]], "E029"), (["--cert", made["cert"]], "E014"),
                       (["--checkpoint", made["published"]], "E030")):
        done = run_longwatch("verify-export", bag, *args)
        assert done.returncode == 13, (args, done.stdout, done.stderr)
        assert code in error_codes(done.stderr) and done.stdout.startswith("NOT VERIFIED"), (args, done.stderr)
    done = run_longwatch("verify", bag, "--cert", made["cert"])
    assert done.returncode == 13 and "E014" in error_codes(done.stderr)


def test_the_honest_export_is_verified_only_against_an_outside_anchor(made):
    openssl_style = ":".join(made["fingerprint"][7:][i:i + 2] for i in range(0, 64, 2)).upper()
    for target in (made["out"], made["zip"]):
        done = run_longwatch("verify-export", target)
        assert done.returncode == 15 and done.stdout.startswith("UNANCHORED"), done.stderr
        for args in (["--cert", made["cert"]], ["--fingerprint", made["fingerprint"]],
                     ["--fingerprint", f"sha256 Fingerprint={openssl_style}"],
                     ["--checkpoint", made["published"]]):
            done = run_longwatch("verify-export", target, *args)
            assert done.returncode == 0, (args, done.stdout, done.stderr)
            assert done.stdout.startswith("VERIFIED"), done.stdout
    report = json.loads(run_longwatch("verify-export", made["out"], "--checkpoint", made["published"],
                                      "--json").stdout)
    assert (report["status"], report["ok"], report["anchor"]) == ("verified", True, "checkpoint")
    assert run_longwatch("verify", made["out"]).returncode == 15
    assert run_longwatch("verify", made["out"], "--cert", made["cert"]).returncode == 0


def test_a_checkpoint_kept_outside_exposes_a_rewritten_ledger(made, tmp_path):
    """A published checkpoint of the same size but another root: the ledger the export came from was rewritten."""
    saved = json.loads(made["published"].read_text())
    last = saved["checkpoints"][-1]
    cp_bytes = (made["out"] / "data/custody/consistency.json").read_text()
    assert json.loads(cp_bytes)["first"] == last["tree_size"]  # the export proves it extends the published one
    bag = copy(made, tmp_path)
    proof = bag / "data/custody/consistency.json"
    data = json.loads(proof.read_text())
    data["consistency_path"][0] = "00" * 32
    proof.write_text(json.dumps(data))
    done = run_longwatch("verify-export", bag, "--cert", made["cert"])
    assert done.returncode == 13 and {"E012", "E018"} <= set(error_codes(done.stderr)), done.stderr


def test_a_malformed_anchor_is_a_coded_error(made, tmp_path):
    done = run_longwatch("verify-export", made["out"], "--fingerprint", "abc")
    assert done.returncode == 13 and error_codes(done.stderr) == ["E028"], done.stderr
    (tmp_path / "not-a-checkpoint.json").write_text("{}")
    done = run_longwatch("verify-export", made["out"], "--checkpoint", tmp_path / "not-a-checkpoint.json")
    assert done.returncode == 13 and error_codes(done.stderr) == ["E030"], done.stderr


# -- files added anywhere, Payload-Oxum ------------------------------------------------------------
def _add_root_file(bag: Path) -> str:
    (bag / "README-FROM-ARCHIVE.txt").write_text("trust me")
    return "README-FROM-ARCHIVE.txt"


def _add_folder(bag: Path) -> str:
    (bag / "extra").mkdir()
    (bag / "extra" / "clip.mp4").write_bytes(b"not evidence")
    return "extra/clip.mp4"


def _add_empty_folder(bag: Path) -> str:
    (bag / "data/packages/new").mkdir()
    return "data/packages/new/"


def _add_custody_file(bag: Path) -> str:
    (bag / "data/custody/proofs/999999999999.json").write_text("{}")
    return "data/custody/proofs/999999999999.json"


@pytest.mark.parametrize("add", [_add_root_file, _add_folder, _add_empty_folder, _add_custody_file],
                         ids=lambda f: f.__name__)
def test_a_file_added_anywhere_in_the_folder_is_caught(made, tmp_path, add):
    bag = copy(made, tmp_path)
    path = add(bag)
    done = run_longwatch("verify-export", bag, "--cert", made["cert"])
    assert done.returncode == 13, done.stdout
    assert "E016" in error_codes(done.stderr) and path in done.stderr, done.stderr


def _zip_with(made: dict, tmp_path: Path, extra: dict[str, bytes]) -> Path:
    target = tmp_path / "added.zip"
    with zipfile.ZipFile(made["zip"]) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        with warnings.catch_warnings():  # a second entry of the same name is the point of one case
            warnings.simplefilter("ignore", UserWarning)
            for name, data in extra.items():
                dst.writestr(name, data)
    return target


@pytest.mark.parametrize(("name", "shown"), [
    ("beside.txt", "zip:beside.txt"),
    ("other/clip.mp4", "zip:other/clip.mp4"),
    ("export/data/packages/extra.mp4", "data/packages/extra.mp4"),
    ("export/bagit.txt", "zip:export/bagit.txt (twice)"),
], ids=["beside-the-bag", "another-folder", "inside-the-bag", "an-entry-twice"])
def test_a_file_added_inside_the_zip_is_caught(made, tmp_path, name, shown):
    with zipfile.ZipFile(made["zip"]) as zf:
        data = zf.read("export/bagit.txt") if name == "export/bagit.txt" else b"not evidence"
    target = _zip_with(made, tmp_path, {name: data})
    done = run_longwatch("verify-export", target, "--cert", made["cert"])
    assert done.returncode == 13, done.stdout
    assert "E016" in error_codes(done.stderr) and shown in done.stderr, done.stderr


def test_payload_oxum_is_checked(made, tmp_path):
    bag = copy(made, tmp_path)
    _add_custody_file(bag)
    assert "E026" in error_codes(run_longwatch("verify-export", bag, "--cert", made["cert"]).stderr)
    bag = copy(made, tmp_path / "second")
    info = bag / "bag-info.txt"
    info.write_text(re.sub(r"Payload-Oxum: (\d+)\.", r"Payload-Oxum: 1\1.", info.read_text()))
    codes = error_codes(run_longwatch("verify-export", bag, "--cert", made["cert"]).stderr)
    assert {"E026", "E012"} <= set(codes), codes


def test_tsa_cert_requires_a_time_stamp(made, tsa):
    """This export has no token: asking for one with --tsa-cert fails, for the export and its checkpoint."""
    done = run_longwatch("verify-export", made["out"], "--cert", made["cert"], "--tsa-cert", tsa.cert)
    assert done.returncode == 13
    assert error_codes(done.stderr).count("E027") == 2, done.stderr
    assert "tagmanifest-sha256.txt.p7s.tsr" in done.stderr and "checkpoint.note.p7s.tsr" in done.stderr


# -- exit codes, as docs/export.md documents them ---------------------------------------------------
def test_exit_codes_match_docs(made, tmp_path):
    docs = (Path(__file__).parents[1] / "docs/export.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| (\d+) \| ([^|]+) \|", docs, re.M))
    assert set(table) == {"0", "2", "13", "15"}, table
    seen = {
        "0": run_longwatch("verify-export", made["out"], "--cert", made["cert"]),
        "15": run_longwatch("verify-export", made["out"]),
        "2": run_longwatch("verify-export", made["out"], "--no-such-option"),
    }
    bag = copy(made, tmp_path)
    _add_root_file(bag)
    seen["13"] = run_longwatch("verify-export", bag, "--cert", made["cert"])
    for status, done in seen.items():
        assert done.returncode == int(status), (status, table[status], done.stdout, done.stderr)
    assert seen["0"].stdout.startswith("VERIFIED") and table["0"].startswith("VERIFIED")
    assert seen["15"].stdout.startswith("UNANCHORED") and table["15"].startswith("UNANCHORED")
    assert seen["13"].stdout.startswith("NOT VERIFIED") and table["13"].startswith("NOT VERIFIED")
    assert run_longwatch("verify-export", tmp_path / "copy" / "data").returncode == 13  # not an export: E009


# -- where to compare, and a TSA issued by a CA ------------------------------------------------------
def test_verify_txt_and_report_say_where_to_compare_outside_the_export(made):
    text = (made["out"] / "VERIFY.txt").read_text(encoding="utf-8")
    # no [archive] public_url here: the reader is sent to another channel
    assert "a channel other than this export" in text and "/.well-known/longwatch/anchors.json" in text
    assert "never with a value written in this export" in text and made["fingerprint"] in text
    assert "cat data/custody/checkpoint.note" in text and "consistency.json" in text
    assert "a remade export passes them too" in text and "[ko]" in text
    fingerprint_step = next(c for c in verify_commands(made["out"]) if "-fingerprint" in c)
    done = sh(fingerprint_step, made["out"])
    assert done.returncode == 0 and made["fingerprint"][7:] in done.stdout.replace(":", "").lower()
    html = (made["out"] / "REPORT.html").read_text(encoding="utf-8")
    assert "/.well-known/longwatch/anchors.json" in html and made["fingerprint"] in html


def _openssl(*args: str) -> None:
    done = sh(["openssl", *args])
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def ca_tsa(tmp_path_factory: pytest.TempPathFactory):
    """A real TSA whose certificate a (test) root CA issued: ``openssl ts -reply`` behind HTTP on loopback."""
    from tsa_server import CONFIG, serving

    d = tmp_path_factory.mktemp("ca-tsa")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"), "-days", "30",
             "-subj", "/CN=Test Time-Stamping Root CA", "-addext", "basicConstraints=critical,CA:true",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("req", "-new", *ec, "-keyout", str(d / "tsa.key"), "-out", str(d / "tsa.csr"),
             "-subj", "/CN=Test CA-issued TSA")
    (d / "ext.cnf").write_text("extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n"
                               "basicConstraints=critical,CA:false\n")
    _openssl("x509", "-req", "-in", str(d / "tsa.csr"), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key"),
             "-CAcreateserial", "-out", str(d / "tsa.pem"), "-days", "30", "-extfile", str(d / "ext.cnf"))
    (d / "chain.pem").write_bytes((d / "tsa.pem").read_bytes() + (d / "ca.pem").read_bytes())
    (d / "serial").write_text("01\n")
    (d / "tsa.cnf").write_text(CONFIG.format(dir=d))
    with serving(d, d / "tsa.pem") as running:
        yield running


def test_verify_txt_runs_literally_against_a_ca_issued_tsa(ca_tsa, tmp_path):
    archive = create_archive(tmp_path / "archive", timezone="Asia/Seoul")
    config = archive.root / "longwatch.toml"
    text = config.read_text().replace("[archive]\n", '[archive]\npublic_url = "https://cctv.example.go.kr/"\n', 1)
    config.write_text(text + f'\n[custody]\ntsa_url = "{ca_tsa.url}"\ntsa_cert = "{ca_tsa.dir / "chain.pem"}"\n')
    archive.close()
    from longwatch.core.archive import Archive

    archive = Archive.open(archive.root)
    pid = ingest_one(archive, make_test_clip(tmp_path / "cam-01.mp4", seconds=5, start=T0), camera="cam-01")
    cert = archive.settings.cert_path
    archive.close()
    out = tmp_path / "stamped"
    done = run_longwatch("-A", tmp_path / "archive", "export", pid, "-o", out, *RECIPIENT, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["timestamped"]
    text = (out / "VERIFY.txt").read_text(encoding="utf-8")
    assert "https://cctv.example.go.kr/.well-known/longwatch/anchors.json" in text
    commands = verify_commands(out)
    stamps = [c for c in commands if c.startswith("openssl ts -verify")]
    assert len(stamps) == 2 and all("-CAfile data/custody/tsa-chain.pem" in c for c in stamps)
    for cmd in commands:  # literally, as a recipient would: coreutils and openssl in the folder
        done = sh(cmd, out)
        assert done.returncode == 0, (cmd, done.stdout, done.stderr)
        if cmd.startswith("openssl ts"):
            assert "Verification: OK" in done.stdout
    assert (out / "data/custody/tsa-chain.pem").read_bytes().count(b"BEGIN CERTIFICATE") == 2  # leaf and CA
    done = run_longwatch("verify-export", out, "--cert", cert, "--tsa-cert", ca_tsa.cert)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "time-stamped" in done.stdout


# -- nothing about other recipients ------------------------------------------------------------------
def test_the_next_recipient_never_sees_another_recipient_s_export(tmp_path):
    archive = create_archive(tmp_path / "archive", timezone="Asia/Seoul")
    pid = ingest_one(archive, make_test_clip(tmp_path / "cam-01.mp4", seconds=5, start=T0), camera="cam-01")
    cert = archive.settings.cert_path
    archive.close()
    a = ["-A", tmp_path / "archive"]
    first = ["--agency", "Busan Haeundae Police Station", "--officer", "Sgt. Park Secret", "--case-number",
             "2026-HU-0999", "--legal-basis", "Criminal Procedure Act art. 215", "--purpose", "theft"]
    done = run_longwatch(*a, "export", pid, "-o", tmp_path / "first", *first, "--json")
    assert done.returncode == 0, done.stderr
    first_id = json.loads(done.stdout)["export_id"]
    done = run_longwatch(*a, "export", pid, "-o", tmp_path / "second", *RECIPIENT, "--json")
    assert done.returncode == 0, done.stderr
    second = tmp_path / "second"
    shown = [p for p in second.rglob("*") if p.is_file() and p.suffix in (".jsonl", ".json", ".html", ".txt")]
    pdf = sh(["pdftotext", "-layout", str(second / "REPORT.pdf"), "-"]).stdout
    for secret in ("Busan Haeundae", "Sgt. Park Secret", "2026-HU-0999", first_id):
        assert secret not in pdf, secret
        for path in shown:
            assert secret not in path.read_text(encoding="utf-8"), (secret, path)
    description = json.loads((second / "export.json").read_text(encoding="utf-8"))
    (withheld,) = description["custody"]["withheld"]  # the first export's transfer: its hash, not its content
    proof = json.loads((second / f"data/custody/proofs/{withheld:012d}.json").read_text())
    assert "entry" not in proof and proof["withheld"]
    assert "Seoul Mapo Police Station" in (second / "data/custody/extract.jsonl").read_text()  # its own transfer
    done = run_longwatch("verify-export", second, "--cert", cert, "--json")
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["proofs"] == len(description["custody"]["entries"])
    # the withheld entry still cannot be changed: its hash is bound to the signed root
    copy_ = tmp_path / "changed"
    shutil.copytree(second, copy_)
    path = copy_ / f"data/custody/proofs/{withheld:012d}.json"
    proof["leaf_hash"] = "00" * 32
    path.write_text(json.dumps(proof))
    assert "E019" in error_codes(run_longwatch("verify-export", copy_, "--cert", cert).stderr)


# -- the report: gaps per camera, the recipient's time zone with UTC, Korean throughout ----------------
def test_gaps_per_camera_times_in_the_recipient_s_zone_and_a_korean_report(tmp_path):
    archive = create_archive(tmp_path / "archive", timezone="Asia/Seoul")
    clips = {"cam-01": [0, 10, 20], "cam-02": [0, 20]}  # cam-02 has no recording 10-20 s; cam-01 covers it
    for camera, offsets in clips.items():
        for offset in offsets:
            ingest_one(archive, make_test_clip(tmp_path / f"{camera}-{offset}.mp4", seconds=10, label=camera,
                                               start=T0 + timedelta(seconds=offset)), camera=camera)
    archive.close()
    out = tmp_path / "two-cameras"
    done = run_longwatch("-A", tmp_path / "archive", "export", "--camera", "cam-01", "--camera", "cam-02",
                         "--from", z(0), "--to", z(30), "--timezone", "America/New_York", "-o", out, *RECIPIENT,
                         "--json")
    assert done.returncode == 0, done.stderr
    gaps = [(g["camera"], datetime.fromisoformat(g["start"]), datetime.fromisoformat(g["end"]))
            for g in json.loads(done.stdout)["gaps"]]
    assert gaps == [("cam-02", T0 + timedelta(seconds=10), T0 + timedelta(seconds=20))]
    html = (out / "REPORT.html").read_text(encoding="utf-8")
    # the gap, by camera, in New York time (UTC-5 in March) beside its UTC value
    assert re.search(r"<td>cam-02</td><td>2026-03-03T15:00:00Z - 2026-03-03T15:00:10Z</td>"
                     r"<td>2026-03-03T10:00:00-05:00 - 2026-03-03T10:00:10-05:00</td>", html), html
    assert "America/New_York" in html and "+09:00" not in html
    description = json.loads((out / "export.json").read_text(encoding="utf-8"))
    created = datetime.fromisoformat(description["created"])
    local = created.astimezone(ZoneInfo("America/New_York")).isoformat(timespec="seconds")
    assert f"{local} ({created.isoformat(timespec='seconds').replace('+00:00', 'Z')})" in html  # local (UTC)
    # Korean throughout: event types and outcomes too
    assert "생성" in html and "인계" in html and "성공" in html
    for english in ("<td>creation</td>", "<td>transfer</td>", "<td>success</td>", "<td>fixity check</td>"):
        assert english not in html, english
    pdf = sh(["pdftotext", "-layout", str(out / "REPORT.pdf"), "-"]).stdout
    assert "cam-02" in pdf and "2026-03-03T10:00:00-05:00" in pdf and "인계" in pdf
    done = run_longwatch("-A", tmp_path / "archive", "export", "--camera", "cam-01", "--from", z(0), "--to", z(5),
                         "--timezone", "Mars/Olympus", "-o", tmp_path / "bad-zone", *RECIPIENT)
    assert done.returncode == 13 and error_codes(done.stderr) == ["E003"], done.stderr
