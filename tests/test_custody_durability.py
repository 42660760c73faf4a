"""Concurrent writers never fork the chain; a crash mid-append leaves a ledger that recovers and verifies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from sqlalchemy import insert

from longwatch.core import custody
from longwatch.core.catalog.models import CustodyEntry
from longwatch.core.custody.ledger import Event, Ledger

WRITER = """
import sys
from longwatch.core.archive import Archive
from longwatch.core.custody.ledger import Event, Ledger
archive = Archive.open(sys.argv[1])
ledger = Ledger.for_archive(archive)
name, batches = sys.argv[2], int(sys.argv[3])
for i in range(batches):
    ledger.append([Event("replication", packages=[name], detail=f"{name} {i}.{j}") for j in range(4)])
    if batches > 1000:
        print(i, flush=True)
"""


def writer(archive, name: str, batches: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(archive.root), name, str(batches)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_four_concurrent_writers_keep_one_chain(archive):
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write("\n[custody]\ncheckpoint_every = 37\n")
    procs = [writer(archive, f"w{i}", 20) for i in range(4)]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    ledger = Ledger.for_archive(archive)
    report = custody.verify_ledger(ledger, [archive.certificate])
    assert report.ok, [p.render() for p in report.problems]
    assert report.entries == 4 * 20 * 4
    seqs = [json.loads(line)["seq"] for _seg, _off, line, _ in ledger.lines()]
    assert seqs == list(range(320))
    # each writer's own entries stay in its order
    for i in range(4):
        mine = [json.loads(line)["detail"] for _s, _o, line, _c in ledger.lines()
                if json.loads(line)["packages"] == [f"w{i}"]]
        assert mine == [f"w{i} {b}.{j}" for b in range(20) for j in range(4)]
    assert report.checkpoints >= 8


def test_torn_tail_is_set_aside_with_a_recovery_event(lw, archive):
    ledger = Ledger.for_archive(archive)
    ledger.append([Event("ingestion", packages=["p"]) for _ in range(3)])
    (segment,) = ledger.segment_paths()
    with segment.open("ab") as fh:
        fh.write(b'{"seq":3,"type":"inges')  # the process died inside write()
    result = json.loads(lw("custody", "verify", "--json").output)
    assert [p["code"] for p in result["problems"]] == ["L001"]
    Ledger.for_archive(archive).append([Event("fixity check", packages=["p"])])
    entries = [json.loads(line) for _s, _o, line, _c in ledger.lines()]
    assert [e["type"] for e in entries] == ["ingestion"] * 3 + ["recovery", "fixity check"]
    assert "torn tail of 22 bytes" in entries[3]["detail"]
    kept = archive.storage().root / entries[3]["extra"]["set_aside"]
    assert kept.read_bytes() == b'{"seq":3,"type":"inges'
    assert lw("custody", "verify").exit_code == 0


def test_index_rows_for_bytes_never_written_are_removed(lw, archive):
    ledger = Ledger.for_archive(archive)
    ledger.append([Event("ingestion", packages=["p"])])
    with archive.catalog.engine.begin() as conn:  # the index commit happened, then the power went
        conn.execute(insert(CustodyEntry.__table__).values(
            seq=1, time_utc=__import__("datetime").datetime.now(__import__("datetime").UTC), event_type="ingestion",
            event_id="lost", outcome="success", segment="000000000000.jsonl", byte_offset=10 ** 6, length=10,
            leaf_hash="0" * 64))
    assert "L006" in lw("custody", "verify").output
    Ledger.for_archive(archive).append([Event("fixity check", packages=["p"])])
    types = [json.loads(line)["type"] for _s, _o, line, _c in ledger.lines()]
    assert types == ["ingestion", "recovery", "fixity check"]
    assert lw("custody", "verify").exit_code == 0


def test_killed_writer_leaves_a_ledger_that_recovers(archive):
    proc = writer(archive, "victim", 100000)
    assert proc.stdout is not None
    for _ in range(30):  # let it append a while, then kill it without warning
        proc.stdout.readline()
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    ledger = Ledger.for_archive(archive)
    ledger.append([Event("fixity check", packages=["after"])])
    report = custody.verify_ledger(ledger, [archive.certificate])
    assert report.ok, [p.render() for p in report.problems]
    assert report.entries >= 30 * 4 + 1


def test_checkpoint_repairs_a_torn_tail_first(lw, archive):
    ledger = Ledger.for_archive(archive)
    ledger.append([Event("ingestion", packages=["p"])], checkpoint=False)
    (segment,) = ledger.segment_paths()
    with segment.open("ab") as fh:
        fh.write(b'{"agents":[')
    cp = json.loads(lw("custody", "checkpoint", "--json").output)
    assert cp["tree_size"] == 2
    types = [json.loads(line)["type"] for _s, _o, line, _c in ledger.lines()]
    assert types == ["ingestion", "recovery"]
    assert lw("custody", "verify").exit_code == 0
