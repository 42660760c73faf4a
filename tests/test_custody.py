"""The custody ledger end to end: ingest and verify write to it; show, verify, prove, check-proof, PREMIS."""

from __future__ import annotations

import json
import subprocess

import pytest
from lxml import etree

from longwatch.core import custody
from longwatch.core.aip import metadata
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger
from longwatch.errors import LongwatchError


def ingest(lw, clip) -> str:
    result = lw("ingest", str(clip), "--camera", "cam-01", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["packages"][0]["package_id"]


def test_ingest_and_verify_write_their_events(lw, fresh_clip, archive):
    package_id = ingest(lw, fresh_clip)
    assert lw("verify", package_id).exit_code == 0
    shown = json.loads(lw("custody", "show", package_id[:8], "--json").output)
    assert shown["package_id"] == package_id
    types = [e["type"] for e in shown["entries"]]
    assert types == ["message digest calculation", "validation", "metadata extraction", "ingestion",
                     "information package creation", "digital signature generation", "fixity check"]
    assert [e["seq"] for e in shown["entries"]] == list(range(7))
    fixity = shown["entries"][-1]
    assert fixity["outcome"] == "success" and fixity["packages"] == [package_id]
    # the same event ids, types and agents as the package's own premis.xml
    premis = json.loads(lw("show", package_id, "--json").output)["events"]
    assert [e["type"] for e in premis] == types[:-1]
    agents = {a["id"] for e in shown["entries"] for a in e["agents"]}
    assert {"longwatch", "ffprobe", "exiftool"} <= agents
    text = lw("custody", "show", package_id)
    assert text.exit_code == 0 and "fixity check" in text.output


def test_failed_fixity_is_recorded_with_its_outcome(lw, fresh_clip, archive):
    package_id = ingest(lw, fresh_clip)
    media = next((archive.storage().local_path(package_id) / "data" / "media").iterdir())
    with media.open("r+b") as fh:
        fh.seek(100)
        byte = fh.read(1)
        fh.seek(100)
        fh.write(bytes([byte[0] ^ 1]))
    assert lw("verify", package_id).exit_code == 1
    entries = json.loads(lw("custody", "show", package_id, "--json").output)["entries"]
    assert entries[-1]["type"] == "fixity check" and entries[-1]["outcome"] == "failure"
    assert "V004" in entries[-1]["note"]


def test_verify_prove_and_check_proof_offline(lw, fresh_clip, archive, tmp_path):
    package_id = ingest(lw, fresh_clip)
    cp = json.loads(lw("custody", "checkpoint", "--json").output)
    assert cp["tree_size"] == 6
    ok = lw("custody", "verify", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["checkpoints"] == 1
    proof = tmp_path / "proof.json"
    assert lw("custody", "prove", "3", "-o", str(proof)).exit_code == 0
    data = json.loads(proof.read_text())
    assert data["tree_size"] == 6 and json.loads(data["entry"])["type"] == "ingestion"
    # offline: no archive, just the file and the certificate
    from click.testing import CliRunner

    from longwatch.cli import cli

    checked = CliRunner().invoke(cli, ["custody", "check-proof", str(proof), "--cert", str(archive.settings.cert_path)])
    assert checked.exit_code == 0, checked.output
    # a proof whose entry was edited fails with L013
    entry = json.loads(data["entry"])
    entry["outcome"] = "failure"
    data["entry"] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    proof.write_text(json.dumps(data))
    bad = CliRunner().invoke(cli, ["custody", "check-proof", str(proof), "--cert", str(archive.settings.cert_path)])
    assert bad.exit_code == 1 and "L013" in bad.output
    # by event id, against an explicit checkpoint
    event_id = json.loads(lw("custody", "show", package_id, "--json").output)["entries"][0]["event_id"]
    assert lw("custody", "prove", event_id, "--against", "6").exit_code == 0


def test_checkpoint_signature_and_consistency_with_openssl(lw, archive, tmp_path):
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("replication", packages=["p1"]) for _ in range(5)], checkpoint=False)
    first = ledger.checkpoint()
    ledger.append([CustodyEvent("transfer", packages=["p2"], extra={"recipient": "Police"}) for _ in range(8)],
                  checkpoint=False)
    second = ledger.checkpoint()
    note = archive.storage().root / "custody-ledger" / "checkpoints" / f"{second.name}.note"  # as mirrored
    subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", f"{note}.p7s", "-content",
                    str(note), "-CAfile", str(archive.settings.cert_path), "-purpose", "any", "-out", "/dev/null"],
                   check=True, capture_output=True)
    out = tmp_path / "consistency.json"
    assert lw("custody", "consistency", str(first.size), str(second.size), "-o", str(out)).exit_code == 0
    from click.testing import CliRunner

    from longwatch.cli import cli

    result = CliRunner().invoke(cli, ["custody", "check-proof", str(out), "--cert", str(archive.settings.cert_path)])
    assert result.exit_code == 0, result.output
    listing = json.loads(lw("custody", "checkpoints", "--json").output)["checkpoints"]
    assert [c["tree_size"] for c in listing] == [5, 13]


def test_export_premis_is_valid(lw, fresh_clip, archive, tmp_path):
    package_id = ingest(lw, fresh_clip)
    Ledger.for_archive(archive).append([CustodyEvent("exporting", packages=[package_id], detail="to the police",
                                                     extra={"recipient": "Seoul police"})])
    out = tmp_path / "events.xml"
    assert lw("custody", "export-premis", package_id, "-o", str(out)).exit_code == 0
    tree = metadata.parse_untrusted(out.read_bytes())
    assert metadata.schema_errors(tree, "premis") == []
    types = [e.text for e in tree.getroot().iter(f"{{{metadata.PREMIS_NS}}}eventType")]
    assert types[-1] == "exporting" and "ingestion" in types
    assert isinstance(tree.getroot(), etree._Element)


def test_automatic_checkpoints_every_n_entries(archive):
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write("\n[custody]\ncheckpoint_every = 10\n")
    ledger = Ledger.for_archive(archive)
    for _ in range(6):
        ledger.append([CustodyEvent("fixity check", packages=["p"]) for _ in range(4)])
    sizes = [cp.size for cp in ledger.checkpoints()]
    assert sizes == [12, 24]
    assert custody.verify_ledger(ledger, [archive.certificate]).ok


def test_bad_inputs_have_codes(lw, archive, tmp_path):
    ledger = Ledger.for_archive(archive)
    with pytest.raises(LongwatchError) as exc:
        ledger.append([CustodyEvent("teleportation")])
    assert exc.value.code == "L015"
    with pytest.raises(LongwatchError) as exc:
        ledger.append([CustodyEvent("ingestion", outcome="maybe")])
    assert exc.value.code == "L016"
    empty = lw("custody", "checkpoint")
    assert empty.exit_code == 1 and "L022" in empty.output
    ledger.append([CustodyEvent("ingestion", packages=["p"])])
    missing = lw("custody", "prove", "99")
    assert missing.exit_code == 1 and "L017" in missing.output
    junk = tmp_path / "junk.json"
    junk.write_text("{\"format\": \"nope\"}")
    result = lw("custody", "check-proof", str(junk), "--cert", str(archive.settings.cert_path))
    assert result.exit_code == 1 and "L020" in result.output
    assert lw("custody", "prove", "0", "--against", "7").exit_code == 1


def test_entries_are_canonical_json_with_the_rfc_leaf_hash(archive):
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("transfer", packages=["p", "q"], detail="건네줌 to 경찰", extra={"recipient": "Seoul"}),
                   CustodyEvent("deletion", packages=["q"], outcome="warning")])
    rows = list(ledger.lines())
    assert len(rows) == 2
    prev = "0" * 64
    for _seq, line in rows:
        entry = json.loads(line)
        assert custody.entries.canonical(entry) == line
        assert entry["prev"] == prev
        prev = custody.leaf_hash(line).hex()
    import hashlib

    assert custody.leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()


def test_entries_built_field_by_field_equal_the_canonical_form(archive):
    """The append path encodes entries without building the dict; every byte must still be canonical()."""
    from datetime import datetime, timedelta, timezone

    ledger = Ledger.for_archive(archive)
    awkward = 'quote " backslash \\ newline \n tab \t nul \x00 \u2028 é 한글 \U0001f600'
    ledger.append([
        CustodyEvent("transfer", packages=["b", "a", "b"], detail=awkward, note=awkward, objects=["z", "y"],
                     extra={"z": [1, 2.5, None, True], "a": {"y": "x", "b": awkward}}, event_id="custom-id"),
        CustodyEvent("fixity check", outcome="failure",
                     time=datetime(2026, 3, 3, 14, 5, 6, 7, timezone(timedelta(hours=9)))),
        CustodyEvent("replication",
                     agents=[{"role": "implementer", "name": awkward, "id": "person:x", "type": "person"}]),
    ])
    rows = [line for _seq, line in ledger.lines()]
    assert len(rows) == 3
    for line in rows:
        assert custody.entries.canonical(json.loads(line)) == line
    first, second, _third = (json.loads(line) for line in rows)
    assert first["packages"] == ["b", "a", "b"] and first["event_id"] == "custom-id"
    assert second["time"] == "2026-03-03T05:05:06.000007Z"
    assert [seq for seq, _e, _l in ledger.history("b")] == [0]  # indexed once, though named twice
    assert custody.verify_ledger(ledger, [archive.certificate]).ok


def test_generated_event_ids_are_time_ordered_uuid7():
    import uuid

    from longwatch.core.custody.entries import new_event_id

    ids = [new_event_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    for text in ids[:50]:
        value = uuid.UUID(text)
        assert str(value) == text and value.version == 7 and value.variant == uuid.RFC_4122
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)  # the millisecond prefix never goes back


def test_checkpoint_after_t_minutes(archive):
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write("\n[custody]\ncheckpoint_minutes = 0.000001\n")
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("replication")])
    ledger.append([CustodyEvent("replication")])
    assert [cp.size for cp in ledger.checkpoints()] == [1, 2]


def test_bad_custody_settings_are_a003(archive):
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write("\n[custody]\ncheckpoint_every = 0\n")
    with pytest.raises(LongwatchError) as exc:
        Ledger.for_archive(archive)
    assert exc.value.code == "A003"


def test_the_documented_stdlib_check_of_a_proof_works(lw, archive, tmp_path):
    """docs/custody.md shows how to check a proof without longwatch; that snippet must be right."""
    import re
    import sys
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "custody.md").read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("replication", packages=["p"], detail=f"copy {i}") for i in range(11)])
    for seq in (0, 5, 10):
        assert lw("custody", "prove", str(seq), "-o", str(tmp_path / "proof.json")).exit_code == 0
        out = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True)
        assert out.stdout.strip() == "True", out.stderr
    data = json.loads((tmp_path / "proof.json").read_text())
    data["inclusion_path"][0] = "00" * 32
    (tmp_path / "proof.json").write_text(json.dumps(data))
    out = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout.strip() == "False"
