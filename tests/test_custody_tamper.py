"""Every way of rewriting the custody record that the issue lists is detected, each with its code."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update

from longwatch.core import custody
from longwatch.core.aip import signing
from longwatch.core.catalog.models import CustodyCheckpoint, CustodyEntry, CustodyEntryPackage, CustodyMirror
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger

N = 30
ENTRIES = CustodyEntry.__table__


@pytest.fixture
def ledger(archive) -> Ledger:
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write("\n[custody]\ncheckpoint_every = 10\n")
    ledger = Ledger.for_archive(archive)
    for i in range(N // 5):
        ledger.append([CustodyEvent("fixity check", packages=[f"pkg-{i}"], detail=f"audit {i}.{j}") for j in range(5)])
    assert [cp.size for cp in ledger.checkpoints()] == [10, 20, 30]
    return ledger


def lines(archive) -> list[bytes]:
    with archive.catalog.engine.connect() as conn:
        return [bytes(line) for line in conn.execute(select(ENTRIES.c.line).order_by(ENTRIES.c.seq)).scalars()]


def set_row(archive, seq: int, line: bytes, leaf: str | None = None) -> None:
    """What an insider with write access to the database does to one entry (``leaf``: the recorded hash too)."""
    values: dict = {"line": line}
    if leaf is not None:
        values["leaf_hash"] = leaf
    with archive.catalog.engine.begin() as conn:
        conn.execute(update(ENTRIES).where(ENTRIES.c.seq == seq).values(**values))


def set_token(archive, size: int, tsr: bytes | None) -> None:
    table = CustodyCheckpoint.__table__
    with archive.catalog.engine.begin() as conn:
        conn.execute(update(table).where(table.c.size == size).values(tsr=tsr))


def mirror_dir(archive) -> Path:
    return archive.storage().root / custody.mirror.PREFIX


def wipe_mirror(archive) -> None:
    """The insider also holds the storage's disk (no object lock there): the mirror goes, and its record."""
    shutil.rmtree(mirror_dir(archive))
    with archive.catalog.engine.begin() as conn:
        conn.execute(delete(CustodyMirror.__table__))


def cut(archive, at: int) -> None:
    with archive.catalog.engine.begin() as conn:
        conn.execute(delete(CustodyEntryPackage.__table__).where(CustodyEntryPackage.__table__.c.seq >= at))
        conn.execute(delete(ENTRIES).where(ENTRIES.c.seq >= at))
        conn.execute(delete(CustodyCheckpoint.__table__).where(CustodyCheckpoint.__table__.c.size > at))


def rewrite_from(archive, at: int, new_entries: int, signer=None) -> None:
    """What the operator holding the real key (or ``signer``) can do: cut the ledger at ``at`` and write
    ``new_entries`` others after it, consistently (chain, tree, mirror), with checkpoints re-signed."""
    real = Ledger.for_archive(archive)
    cut(archive, at)
    wipe_mirror(archive)
    forger = Ledger(archive.catalog.engine, real.origin, real.settings, signer=signer or archive.signer,
                    archive=archive)
    if signer is not None:
        with archive.catalog.engine.begin() as conn:
            conn.execute(delete(CustodyCheckpoint.__table__))
        forger.checkpoint()
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


def test_edit_a_field(lw, ledger, archive):
    entry = json.loads(lines(archive)[5])
    entry["outcome"] = "failure"
    set_row(archive, 5, custody.entries.canonical(entry))
    found = codes(lw)
    assert {"L004", "L003", "L009", "L033"} <= set(found)


def test_edit_a_field_and_its_recorded_hash(lw, ledger, archive):
    entry = json.loads(lines(archive)[5])
    entry["outcome"] = "failure"
    forged = custody.entries.canonical(entry)
    set_row(archive, 5, forged, custody.leaf_hash(forged).hex())
    found = codes(lw)
    assert {"L003", "L009", "L033"} <= set(found) and "L004" not in found


def test_delete_an_entry(lw, ledger, archive):
    with archive.catalog.engine.begin() as conn:
        conn.execute(delete(CustodyEntryPackage.__table__).where(CustodyEntryPackage.__table__.c.seq == 5))
        conn.execute(delete(ENTRIES).where(ENTRIES.c.seq == 5))
    found = codes(lw)
    assert {"L003", "L006", "L009", "L033"} <= set(found)


def test_reorder_two(lw, ledger, archive):
    with archive.catalog.engine.connect() as conn:
        rows = {r.seq: r for r in conn.execute(select(ENTRIES).where(ENTRIES.c.seq.in_([5, 6])))}
    set_row(archive, 5, rows[6].line, rows[6].leaf_hash)
    set_row(archive, 6, rows[5].line, rows[5].leaf_hash)
    found = codes(lw)
    assert {"L002", "L003", "L009", "L033"} <= set(found)


def test_truncate_the_tail(lw, ledger, archive):
    with archive.catalog.engine.begin() as conn:  # the rows go, the signed checkpoints stay
        conn.execute(delete(CustodyEntryPackage.__table__).where(CustodyEntryPackage.__table__.c.seq >= N - 3))
        conn.execute(delete(ENTRIES).where(ENTRIES.c.seq >= N - 3))
    found = codes(lw)
    assert {"L010", "L034"} <= set(found)


def test_append_a_forged_entry(lw, ledger, archive):
    old = lines(archive)
    last = json.loads(old[-1])
    forged = custody.entries.canonical(dict(last, seq=N, prev=custody.leaf_hash(old[-1]).hex(), event_id="forged",
                                            type="deletion", detail="deleted as scheduled"))
    with archive.catalog.engine.begin() as conn:
        conn.execute(insert(ENTRIES).values(seq=N, time_utc=datetime.now(UTC), event_type="deletion",
                                            event_id="forged", outcome="success", segment="", byte_offset=0,
                                            length=len(forged), leaf_hash=custody.leaf_hash(forged).hex(),
                                            line=forged))
    assert codes(lw) == ["L005"]  # in the database, never written by the append path (which mirrors each group)


def test_rewrite_from_a_point_with_another_key(lw, ledger, archive, tmp_path):
    saved = tmp_path / "elsewhere" / "checkpoints.json"
    saved.parent.mkdir()
    assert lw("custody", "checkpoints", "-o", str(saved)).exit_code == 0
    original_cert = tmp_path / "elsewhere" / "cert.pem"
    shutil.copy(archive.settings.cert_path, original_cert)

    # the attacker: cut the log at entry 15, rewrite the rest consistently, re-sign with a key of their own
    mallory = signing.generate("Mallory", "longwatch archive")
    signing.save(mallory, archive.settings.key_path, archive.settings.cert_path)
    rewrite_from(archive, 15, 15, signer=mallory)
    archive.__dict__.pop("certificate", None)
    assert codes(lw) == ["L008", "L008"]  # the key history still names the archive's real key (issue 21)...
    (archive.root / "keys" / "history.json").unlink()  # ...so the attacker removes that too

    assert codes(lw) == []  # consistent with itself, its new mirror and the replaced certificate...
    found = codes(lw, "--checkpoints", str(saved))  # ...but not with the checkpoints kept elsewhere
    assert "L021" in found
    found = codes(lw, "--cert", str(original_cert))
    assert "L008" in found


def test_a_rewrite_that_leaves_the_mirror_is_found_by_the_mirror(lw, ledger, archive):
    real = Ledger.for_archive(archive)
    cut(archive, 15)
    Ledger(archive.catalog.engine, real.origin, real.settings, signer=archive.signer).append(
        [CustodyEvent("fixity check", packages=["x"], detail="nothing to see") for _ in range(15)],
        checkpoint=False)
    found = codes(lw)
    assert "L033" in found or "L010" in found


def test_replace_a_checkpoint_signature(lw, ledger, archive):
    table = CustodyCheckpoint.__table__
    with archive.catalog.engine.begin() as conn:
        first = conn.execute(select(table.c.signature).where(table.c.size == 10)).scalar()
        note = conn.execute(select(table.c.note).where(table.c.size == 20)).scalar()
        conn.execute(update(table).where(table.c.size == 20).values(signature=first))
    assert {"L007", "L033"} <= set(codes(lw))
    other = signing.generate("Other", "other")
    with archive.catalog.engine.begin() as conn:
        conn.execute(update(table).where(table.c.size == 20).values(signature=signing.sign_detached(other, note)))
    assert set(codes(lw)) == {"L008", "L033"}


def test_timestamps_from_a_real_tsa(lw, archive, tsa, tmp_path):
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write(f'\n[custody]\ncheckpoint_every = 5\ntsa_url = "{tsa.url}"\n')
    ledger = Ledger.for_archive(archive)
    for _ in range(2):
        ledger.append([CustodyEvent("replication", packages=["p"]) for _ in range(5)])
    cps = mirror_dir(archive) / "checkpoints"  # the mirror: what an outsider is given to check with openssl
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
    set_token(archive, 10, tokens[0].read_bytes())
    assert codes(lw) == ["L012"]
    # a damaged token
    set_token(archive, 10, tokens[0].read_bytes()[:-20])
    assert codes(lw) == ["L011"]
    # on demand, with a TSA that does not answer: signed anyway, L019 said
    ledger.append([CustodyEvent("replication")], checkpoint=False)
    config = (archive.root / "longwatch.toml").read_text().replace(tsa.url, "http://127.0.0.1:9/none")
    (archive.root / "longwatch.toml").write_text(config)
    result = lw("custody", "checkpoint")
    assert result.exit_code == 1 and "L019" in result.output
    assert (cps / "000000000011.note.p7s").exists() and not (cps / "000000000011.note.p7s.tsr").exists()


def test_stripped_and_backdated_time_stamps_fail_with_a_trusted_tsa(lw, archive, tsa, frozen_clock):
    """Issue 21: with a trusted TSA configured, a checkpoint whose token was removed is L027, and one whose
    note claims an earlier time than its token attests is L028."""
    shutil.copy(tsa.cert, archive.root / "tsa.pem")
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write(f'\n[custody]\ncheckpoint_every = 5\ntsa_url = "{tsa.url}"\ntsa_cert = "tsa.pem"\n')
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("replication", packages=["p"]) for _ in range(5)])
    assert codes(lw) == []
    set_token(archive, 5, None)
    assert codes(lw) == ["L027"]  # stripped
    frozen_clock("2025-01-01T00:00:00Z")  # a checkpoint that says it was made long before its token
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("replication", packages=["p"]) for _ in range(5)])
    found = codes(lw)
    assert "L028" in found and "L027" in found
