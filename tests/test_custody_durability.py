"""Concurrent writers never fork the chain; a crash mid-append leaves a ledger that recovers and verifies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import insert

from longwatch.core import custody
from longwatch.core.catalog.models import CustodyEntry
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger

WRITER = """
import sys
import time
from longwatch.core.archive import Archive
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger
archive = Archive.open(sys.argv[1])
ledger = Ledger.for_archive(archive)
name, batches = sys.argv[2], int(sys.argv[3])
for i in range(batches):
    ledger.append([CustodyEvent("replication", packages=[name], detail=f"{name} {i}.{j}") for j in range(4)])
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
    assert report.checkpoints >= 5  # one at least every 37 + 15 entries (groups hold up to 16)


def test_torn_tail_is_set_aside_with_a_recovery_event(lw, archive):
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("ingestion", packages=["p"]) for _ in range(3)])
    (segment,) = ledger.segment_paths()
    with segment.open("ab") as fh:
        fh.write(b'{"seq":3,"type":"inges')  # the process died inside write()
    result = json.loads(lw("custody", "verify", "--json").output)
    assert [p["code"] for p in result["problems"]] == ["L001"]
    Ledger.for_archive(archive).append([CustodyEvent("fixity check", packages=["p"])])
    entries = [json.loads(line) for _s, _o, line, _c in ledger.lines()]
    assert [e["type"] for e in entries] == ["ingestion"] * 3 + ["recovery", "fixity check"]
    assert "torn tail of 22 bytes" in entries[3]["detail"]
    kept = archive.storage().root / entries[3]["extra"]["set_aside"]
    assert kept.read_bytes() == b'{"seq":3,"type":"inges'
    assert lw("custody", "verify").exit_code == 0


def test_index_rows_for_bytes_never_written_are_removed(lw, archive):
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("ingestion", packages=["p"])])
    with archive.catalog.engine.begin() as conn:  # the index commit happened, then the power went
        conn.execute(insert(CustodyEntry.__table__).values(
            seq=1, time_utc=__import__("datetime").datetime.now(__import__("datetime").UTC), event_type="ingestion",
            event_id="lost", outcome="success", segment="000000000000.jsonl", byte_offset=10 ** 6, length=10,
            leaf_hash="0" * 64))
    assert "L006" in lw("custody", "verify").output
    Ledger.for_archive(archive).append([CustodyEvent("fixity check", packages=["p"])])
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
    ledger.append([CustodyEvent("fixity check", packages=["after"])])
    report = custody.verify_ledger(ledger, [archive.certificate])
    assert report.ok, [p.render() for p in report.problems]
    assert report.entries >= 30 * 4 + 1


def test_checkpoint_repairs_a_torn_tail_first(lw, archive):
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("ingestion", packages=["p"])], checkpoint=False)
    (segment,) = ledger.segment_paths()
    with segment.open("ab") as fh:
        fh.write(b'{"agents":[')
    cp = json.loads(lw("custody", "checkpoint", "--json").output)
    assert cp["tree_size"] == 2
    types = [json.loads(line)["type"] for _s, _o, line, _c in ledger.lines()]
    assert types == ["ingestion", "recovery"]
    assert lw("custody", "verify").exit_code == 0


def test_threads_sharing_one_ledger_keep_one_chain(archive):
    import threading

    ledger = Ledger.for_archive(archive)
    threads = [threading.Thread(target=lambda n=n: [ledger.append([CustodyEvent("replication", detail=f"t{n}")])
                                                   for _ in range(10)]) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = custody.verify_ledger(ledger, [archive.certificate])
    assert report.ok and report.entries == 40


def test_reindex_after_a_catalog_restore(lw, archive):
    import shutil

    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("ingestion", packages=["p"])])
    catalog = archive.root / "catalog.sqlite"
    archive.catalog.dispose()
    backup = archive.root / "backup.sqlite"
    shutil.copy(catalog, backup)
    ledger.append([CustodyEvent("fixity check", packages=["p"]) for _ in range(3)])
    ledger.checkpoint()
    archive.catalog.dispose()
    for suffix in ("-wal", "-shm"):
        (archive.root / f"catalog.sqlite{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, catalog)  # the catalog goes back to a backup older than the ledger
    assert "L005" in lw("custody", "verify").output
    result = lw("custody", "reindex")
    assert result.exit_code == 0, result.output
    assert lw("custody", "verify").exit_code == 0
    assert len(json.loads(lw("custody", "show", "p", "--json").output)["entries"]) == 4


def test_reindex_refuses_a_broken_chain(lw, archive):
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("ingestion", packages=["p"]) for _ in range(3)])
    (segment,) = ledger.segment_paths()
    lines = segment.read_bytes().splitlines(keepends=True)
    segment.write_bytes(lines[0] + lines[2])
    result = lw("custody", "reindex")
    assert result.exit_code == 1 and "L002" in result.output


def test_a_waiting_writer_hands_its_group_to_the_lock_holder(archive):
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("ingestion", packages=["first"])])
    with ledger.locked():
        proc = writer(archive, "waiting", 1)
        for _ in range(600):
            if list(ledger.spool_dir.glob("*.pending")):
                break
            time.sleep(0.1)
        receipts = ledger.append([CustodyEvent("fixity check", packages=["holder"])])
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    packages = [json.loads(line)["packages"] for _s, _o, line, _c in ledger.lines()]
    assert packages == [["first"], ["waiting"], ["waiting"], ["waiting"], ["waiting"], ["holder"]]
    assert receipts[0].seq == 5
    assert list(ledger.spool_dir.iterdir()) == []
    assert custody.verify_ledger(ledger, [archive.certificate]).ok


def test_a_group_written_by_a_holder_that_died_before_answering_is_not_written_twice(archive):
    ledger = Ledger.for_archive(archive)
    token = ledger._spool(ledger._prepare([CustodyEvent("replication", packages=["spooled"]) for _ in range(3)]))
    pending = ledger.spool_dir / f"{token}.pending"
    saved = pending.read_bytes()
    ledger.append([CustodyEvent("ingestion", packages=["holder"])])  # takes the spooled group along
    assert json.loads((ledger.spool_dir / f"{token}.done").read_bytes()) == [0, 1, 2]
    # the holder died after its fsync but before answering: the group is still spooled, unanswered
    (ledger.spool_dir / f"{token}.done").unlink()
    pending.write_bytes(saved)
    ledger.append([CustodyEvent("fixity check", packages=["next"])])
    types = [json.loads(line)["packages"] for _s, _o, line, _c in ledger.lines()]
    assert types == [["spooled"]] * 3 + [["holder"], ["next"]]
    assert json.loads((ledger.spool_dir / f"{token}.done").read_bytes()) == [0, 1, 2]
