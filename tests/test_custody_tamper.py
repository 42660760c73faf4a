"""Every way of rewriting the custody record that the issue lists is detected, each with its code."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import delete, text

from longwatch.core import custody
from longwatch.core.aip import signing
from longwatch.core.catalog.models import CustodyEntry, CustodyEntryPackage
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger

N = 30


@pytest.fixture
def ledger(archive) -> Ledger:
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write("\n[custody]\ncheckpoint_every = 10\n")
    ledger = Ledger.for_archive(archive)
    for i in range(N // 5):
        ledger.append([CustodyEvent("fixity check", packages=[f"pkg-{i}"], detail=f"audit {i}.{j}") for j in range(5)])
    assert [cp.size for cp in ledger.checkpoints()] == [10, 20, 30]
    return ledger


def segment(ledger: Ledger) -> Path:
    (path,) = ledger.segment_paths()
    return path


def lines(ledger: Ledger) -> list[bytes]:
    return segment(ledger).read_bytes().splitlines(keepends=True)


def write(ledger: Ledger, new: list[bytes]) -> None:
    segment(ledger).write_bytes(b"".join(new))


def rewrite_from(archive, cut: int, new_entries: int) -> None:
    """What the operator holding the real key can do: cut the ledger at ``cut`` and write ``new_entries`` others
    after it, consistently (index, chain, tree), with checkpoints re-signed by the archive's own key."""
    real = Ledger.for_archive(archive)
    with archive.catalog.engine.begin() as conn:
        offset = conn.execute(text("select byte_offset from custody_entries where seq = :s"), {"s": cut}).scalar()
        conn.execute(delete(CustodyEntryPackage.__table__).where(CustodyEntryPackage.__table__.c.seq >= cut))
        conn.execute(delete(CustodyEntry.__table__).where(CustodyEntry.__table__.c.seq >= cut))
    with segment(real).open("r+b") as fh:
        fh.truncate(offset)
    for path in real.checkpoints_dir.iterdir():
        if int(path.name.split(".")[0]) > cut:
            path.unlink()
    (real.dir / "frontier.json").unlink()
    forger = Ledger(real.dir, archive.catalog.engine, real.origin, real.settings, signer=archive.signer)
    forger.append([CustodyEvent("fixity check", packages=["x"], detail="nothing to see")
                   for _ in range(new_entries)], checkpoint=False)
    forger.checkpoint()


def codes(lw, *args: str) -> list[str]:
    result = lw("custody", "verify", "--json", *args)
    report = json.loads(result.output)
    assert result.exit_code == (0 if report["ok"] else 1)
    return [p["code"] for p in report["problems"]]


def test_untouched_ledger_verifies(lw, ledger):
    assert codes(lw) == []


def test_edit_a_field(lw, ledger):
    old = lines(ledger)
    entry = json.loads(old[5])
    entry["outcome"] = "failure"
    old[5] = custody.entries.canonical(entry) + b"\n"
    write(ledger, old)
    found = codes(lw)
    assert "L004" in found and "L003" in found and "L009" in found


def test_delete_an_entry(lw, ledger):
    old = lines(ledger)
    del old[5]
    write(ledger, old)
    found = codes(lw)
    assert {"L002", "L003", "L006", "L009"} <= set(found)


def test_reorder_two(lw, ledger):
    old = lines(ledger)
    old[5], old[6] = old[6], old[5]
    write(ledger, old)
    found = codes(lw)
    assert {"L002", "L003", "L009"} <= set(found)


def test_truncate_the_tail(lw, ledger):
    write(ledger, lines(ledger)[:-3])
    found = codes(lw)
    assert "L006" in found and "L010" in found


def test_append_a_forged_entry(lw, ledger, archive):
    old = lines(ledger)
    last = json.loads(old[-1])
    forged = dict(last, seq=N, prev=custody.leaf_hash(old[-1][:-1]).hex(), event_id="forged",
                  type="deletion", detail="deleted as scheduled")
    old.append(custody.entries.canonical(forged) + b"\n")
    write(ledger, old)
    assert codes(lw) == ["L005"]
    # and nobody appends on top of it until someone looks
    from longwatch.errors import LongwatchError

    with pytest.raises(LongwatchError) as exc:
        Ledger.for_archive(archive).append([CustodyEvent("ingestion")])
    assert exc.value.code == "L005"


def test_rewrite_from_a_point_with_another_key(lw, ledger, archive, tmp_path):
    saved = tmp_path / "elsewhere" / "checkpoints.json"
    saved.parent.mkdir()
    assert lw("custody", "checkpoints", "-o", str(saved)).exit_code == 0
    original_cert = tmp_path / "elsewhere" / "cert.pem"
    shutil.copy(archive.settings.cert_path, original_cert)

    # the attacker: cut the log at entry 15, rewrite the rest consistently, re-sign with a key of their own
    with archive.catalog.engine.begin() as conn:
        offset = conn.execute(text("select byte_offset from custody_entries where seq = 15")).scalar()
        conn.execute(delete(CustodyEntryPackage.__table__).where(CustodyEntryPackage.__table__.c.seq >= 15))
        conn.execute(delete(CustodyEntry.__table__).where(CustodyEntry.__table__.c.seq >= 15))
    with segment(ledger).open("r+b") as fh:
        fh.truncate(offset)
    for path in ledger.checkpoints_dir.iterdir():
        path.unlink()
    (ledger.dir / "frontier.json").unlink()
    mallory = signing.generate("Mallory", "longwatch archive")
    signing.save(mallory, archive.settings.key_path, archive.settings.cert_path)
    forger = Ledger(ledger.dir, archive.catalog.engine, ledger.origin, ledger.settings, signer=mallory)
    forger.checkpoint()
    forger.append([CustodyEvent("fixity check", packages=["pkg-3"], detail="nothing to see") for _ in range(15)],
                  checkpoint=False)
    forger.checkpoint()
    archive.__dict__.pop("certificate", None)
    assert codes(lw) == ["L008", "L008"]  # the key history still names the archive's real key (issue 21)...
    (archive.root / "keys" / "history.json").unlink()  # ...so the attacker removes that too

    assert codes(lw) == []  # consistent with itself and with the replaced certificate...
    found = codes(lw, "--checkpoints", str(saved))  # ...but not with the checkpoints kept elsewhere
    assert "L021" in found
    found = codes(lw, "--cert", str(original_cert))
    assert "L008" in found


def test_replace_a_checkpoint_signature(lw, ledger, archive):
    cps = ledger.checkpoints_dir
    shutil.copy(cps / "000000000010.note.p7s", cps / "000000000020.note.p7s")
    assert "L007" in codes(lw)
    other = signing.generate("Other", "other")
    (cps / "000000000020.note.p7s").write_bytes(
        signing.sign_detached(other, (cps / "000000000020.note").read_bytes()))
    assert codes(lw) == ["L008"]


def test_timestamps_from_a_real_tsa(lw, archive, tsa, tmp_path):
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write(f'\n[custody]\ncheckpoint_every = 5\ntsa_url = "{tsa.url}"\n')
    ledger = Ledger.for_archive(archive)
    for _ in range(2):
        ledger.append([CustodyEvent("replication", packages=["p"]) for _ in range(5)])
    cps = ledger.checkpoints_dir
    tokens = sorted(cps.glob("*.tsr"))
    assert [t.name for t in tokens] == ["000000000005.note.p7s.tsr", "000000000010.note.p7s.tsr"]
    subprocess.run(["openssl", "ts", "-verify", "-data", str(cps / "000000000010.note.p7s"), "-in", str(tokens[1]),
                    "-CAfile", str(tsa.cert)], check=True, capture_output=True)
    report = json.loads(lw("custody", "verify", "--json").output)
    assert report["ok"] and report["timestamps"] == 2
    proof = tmp_path / "p.json"
    assert lw("custody", "prove", "7", "-o", str(proof)).exit_code == 0
    assert json.loads(proof.read_text())["checkpoint"]["timestamp"]
    checked = lw("custody", "check-proof", str(proof), "--cert", str(archive.settings.cert_path),
                 "--tsa-cert", str(tsa.cert))
    assert checked.exit_code == 0, checked.output
    # a token for other data
    shutil.copy(tokens[0], tokens[1])
    assert codes(lw) == ["L012"]
    # a damaged token
    tokens[1].write_bytes(tokens[0].read_bytes()[:-20])
    assert codes(lw) == ["L011"]
    # on demand, with a TSA that does not answer: signed anyway, L019 said
    ledger.append([CustodyEvent("replication")], checkpoint=False)
    config = (archive.root / "longwatch.toml").read_text().replace(tsa.url, "http://127.0.0.1:9/none")
    (archive.root / "longwatch.toml").write_text(config)
    result = lw("custody", "checkpoint")
    assert result.exit_code == 1 and "L019" in result.output
    assert (cps / "000000000011.note.p7s").exists()


def test_stripped_and_backdated_time_stamps_fail_with_a_trusted_tsa(lw, archive, tsa, frozen_clock):
    """Issue 21: with a trusted TSA configured, a checkpoint whose token was removed is L027, and one whose
    note claims an earlier time than its token attests is L028."""
    shutil.copy(tsa.cert, archive.root / "tsa.pem")
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write(f'\n[custody]\ncheckpoint_every = 5\ntsa_url = "{tsa.url}"\ntsa_cert = "tsa.pem"\n')
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("replication", packages=["p"]) for _ in range(5)])
    assert codes(lw) == []
    (ledger.checkpoints_dir / "000000000005.note.p7s.tsr").unlink()
    assert codes(lw) == ["L027"]  # stripped
    frozen_clock("2025-01-01T00:00:00Z")  # a checkpoint that says it was made long before its token
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("replication", packages=["p"]) for _ in range(5)])
    found = codes(lw)
    assert "L028" in found and "L027" in found
