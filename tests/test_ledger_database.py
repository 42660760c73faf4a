"""The ledger sequenced by the catalog's database, mirrored to storage (issue 20, design points 3 and 4).

Appends are database transactions (no flock, no folder); every checkpoint
closes a segment that is mirrored, with the checkpoint, to every location.
The ledger survives the loss of the database through that mirror, and an
append fails closed when the mirror is another ledger's (L024), is ahead of
the database (L034) or has been unreachable past the grace (L032).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import configure_storage
from sqlalchemy import func, select, update

from longwatch.core import custody
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import CustodyEntry, CustodyLedgerIdentity, CustodyMirror
from longwatch.core.custody import ledger as ledger_module
from longwatch.core.custody import mirror
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger
from longwatch.core.preservation import reindex
from longwatch.errors import LongwatchError

ROOT = Path(__file__).resolve().parent.parent


def events(n: int, package: str = "p") -> list[CustodyEvent]:
    return [CustodyEvent("fixity check", packages=[package], detail=f"{package} {i}") for i in range(n)]


def seqs(ledger: Ledger) -> list[int]:
    return [json.loads(line)["seq"] for _seq, line in ledger.lines()]


def verified(archive: Archive) -> custody.LedgerReport:
    report = custody.verify_ledger(Ledger.for_archive(archive), [archive.certificate])
    assert report.ok, [p.render() for p in report.problems]
    return report


def database(archive: Archive) -> str:
    return archive.settings.catalog_url[len("sqlite:///"):]


def mirror_dir(archive: Archive) -> Path:
    return archive.storage().root / mirror.PREFIX  # type: ignore[attr-defined]


@pytest.fixture
def signed(archive: Archive) -> Ledger:
    """Seven entries in three groups, a signed checkpoint of all seven, mirrored."""
    ledger = Ledger.for_archive(archive)
    for n in (3, 2, 2):
        ledger.append(events(n))
    assert ledger.checkpoint().size == 7
    return ledger


def next_process(archive: Archive) -> Archive:
    """What the next process sees (or this one after ``CHECK_EVERY``): the mirror checked afresh before an append;
    a process otherwise checks once per database every five minutes, not on every new Ledger."""
    ledger_module._CHECKED.pop(archive.catalog.engine, None)
    return archive


def code_of(call) -> str:
    with pytest.raises(LongwatchError) as caught:
        call()
    return caught.value.code


def test_entries_live_in_the_database_and_the_mirror_holds_closed_segments(archive, signed):
    with archive.catalog.engine.connect() as conn:
        lines = conn.execute(select(CustodyEntry.line).order_by(CustodyEntry.seq)).scalars().all()
    assert len(lines) == 7 and all(json.loads(line)["seq"] == i for i, line in enumerate(lines))
    folder = mirror_dir(archive)
    segment = folder / "segments" / "000000000000-000000000007.jsonl"
    assert segment.read_bytes() == b"".join(line + b"\n" for line in lines)
    assert (folder / "checkpoints" / "000000000007.note").exists()
    assert (folder / "checkpoints" / "000000000007.note.p7s").exists()
    identity = json.loads((folder / "identity.json").read_text())
    assert identity["ledger_id"] == signed.catalog_identity().ledger_id
    assert not (archive.storage().root / "ledger").exists()  # no folder, no lock file
    assert verified(archive).mirrored == {archive.settings.primary_location: 7}


def test_four_writer_processes_keep_one_chain(archive):
    script = ("import sys\nfrom longwatch.core.archive import Archive\nfrom longwatch.core.custody.entries import "
              "CustodyEvent\nfrom longwatch.core.custody.ledger import Ledger\n"
              "ledger = Ledger.for_archive(Archive.open(sys.argv[1]))\n"
              "for i in range(25):\n    ledger.append([CustodyEvent('fixity check', packages=[sys.argv[2]], "
              "detail=str(i)) for _ in range(3)])\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(archive.root), f"w{n}"], env=env)
             for n in range(4)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]
    ledger = Ledger.for_archive(archive)
    assert seqs(ledger) == list(range(300))
    ledger.checkpoint()
    assert verified(archive).entries == 300


def test_a_writer_killed_at_any_moment_loses_no_acknowledged_entry(archive):
    """kill -9 while appending: every group it reported as written is there, the chain is whole."""
    script = ("import sys\nfrom longwatch.core.archive import Archive\nfrom longwatch.core.custody.entries import "
              "CustodyEvent\nfrom longwatch.core.custody.ledger import Ledger\n"
              "ledger = Ledger.for_archive(Archive.open(sys.argv[1]))\n"
              "ledger.append([CustodyEvent('fixity check', packages=['k']) for _ in range(7)])\n"
              "print('ready', flush=True)\n"
              "while True:\n    r = ledger.append([CustodyEvent('fixity check', packages=['k']) for _ in range(7)])\n"
              "    print(r[-1].event_id, flush=True)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for delay in (0.05, 0.3, 0.7):
        proc = subprocess.Popen([sys.executable, "-c", script, str(archive.root)], env=env, stdout=subprocess.PIPE,
                                text=True)
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        acknowledged = proc.communicate()[0].split()
        proc.wait()
        ledger = Ledger.for_archive(archive)
        for event_id in acknowledged:
            ledger.entry(event_id)  # L017 if an acknowledged entry were lost
        assert seqs(ledger) == list(range(ledger.size()))
        assert ledger.size() % 7 == 0  # whole groups only
    Ledger.for_archive(archive).checkpoint()
    verified(archive)


def test_losing_the_database_restores_the_ledger_from_the_mirror(archive, signed):
    signed.append(events(2, "after the checkpoint"))
    signed.checkpoint()
    before = list(Ledger.for_archive(archive).lines())
    archive.close()
    for suffix in ("", "-wal", "-shm"):
        Path(database(archive) + suffix).unlink(missing_ok=True)
    again = Archive.open(archive.root)
    report = reindex.reindex(again)
    assert report.ledger_restored == 9
    ledger = Ledger.for_archive(again)
    assert list(ledger.lines())[:9] == before  # byte for byte, then the restore's own recovery entry
    assert json.loads(ledger.entry(9)[2])["type"] == "recovery"
    ledger.append(events(1, "the chain goes on"))
    ledger.checkpoint()
    assert verified(again).entries == ledger.size()


def test_a_new_catalog_refuses_appends_while_the_mirror_holds_the_ledger(archive, signed):
    with archive.catalog.engine.begin() as conn:  # a catalog restored from a backup older than the ledger
        conn.execute(CustodyEntry.__table__.delete().where(CustodyEntry.seq >= 5))
    assert code_of(lambda: Ledger.for_archive(next_process(archive)).append(events(1))) == "L034"
    assert Ledger.for_archive(archive).size() == 5  # nothing appended
    assert Ledger.for_archive(archive).restore() == 7
    Ledger.for_archive(archive).append(events(1))
    assert seqs(Ledger.for_archive(archive)) == list(range(9))


def test_restore_refuses_an_edited_mirror(archive, signed):
    segment = mirror_dir(archive) / "segments" / "000000000000-000000000007.jsonl"
    segment.write_bytes(segment.read_bytes().replace(b'"p 1"', b'"p 9"'))
    assert code_of(lambda: Ledger.for_archive(archive).restore()) in ("L003", "L009")
    report = custody.verify_ledger(Ledger.for_archive(archive), [archive.certificate])
    assert "L033" in {p.code for p in report.problems}


def test_an_edited_database_entry_is_found_against_its_hash_and_the_mirror(archive, signed):
    with archive.catalog.engine.begin() as conn:
        line = conn.execute(select(CustodyEntry.line).where(CustodyEntry.seq == 2)).scalar()
        conn.execute(update(CustodyEntry).where(CustodyEntry.seq == 2).values(line=line.replace(b'"p 2"', b'"p 8"')))
    codes = {p.code for p in custody.verify_ledger(Ledger.for_archive(archive), [archive.certificate]).problems}
    assert {"L003", "L004", "L033"} <= codes


def test_a_mirror_of_another_ledger_refuses(archive, signed):
    path = mirror_dir(archive) / "identity.json"
    path.write_text(path.read_text().replace('"ledger_id": "', '"ledger_id": "0'))
    before = Ledger.for_archive(archive).size()
    assert code_of(lambda: Ledger.for_archive(next_process(archive)).append(events(1))) == "L024"
    assert code_of(lambda: archive.pm.hook.prepare_worker(archive=archive)) == "L024"
    assert Ledger.for_archive(archive).size() == before


@pytest.mark.parametrize("how", ["moved away", "empty mount point"])
def test_a_storage_folder_that_is_gone_refuses_and_writes_nothing_there(archive, signed, how, tmp_path):
    root = archive.storage().root
    shutil.move(root, tmp_path / "elsewhere")
    if how == "empty mount point":
        root.mkdir()
    # a worker names an empty mount point first (W055, core/storage/mounted.py), before the ledger's L024
    expected = "W055" if how == "empty mount point" else "L024"
    assert code_of(lambda: archive.pm.hook.prepare_worker(archive=archive)) == expected
    assert code_of(lambda: Ledger.for_archive(next_process(archive)).append(events(1))) == "L024"
    assert not root.exists() or not any(root.iterdir())
    shutil.rmtree(root, ignore_errors=True)
    shutil.move(tmp_path / "elsewhere", root)  # the mount comes back
    archive.pm.hook.prepare_worker(archive=archive)
    Ledger.for_archive(archive).append(events(1))
    assert seqs(Ledger.for_archive(archive)) == list(range(8))


def test_an_unreachable_mirror_stops_appends_only_after_the_grace(archive, signed, frozen_clock):
    ledger = Ledger.for_archive(archive)
    location = archive.settings.primary_location
    failed = frozen_clock("2026-03-01T00:00:00Z")
    with archive.catalog.engine.begin() as conn:  # what a failed mirror write records
        conn.execute(update(CustodyMirror).where(CustodyMirror.location == location)
                     .values(failing_since=failed, error="[S002] unreachable"))
    ledger.append(events(1))  # within the grace
    frozen_clock(failed + timedelta(minutes=61))
    assert code_of(lambda: ledger.append(events(1))) == "L032"
    states = mirror.sync(ledger)  # reachable again: the failure is cleared
    assert not [s for s in states if s.error]
    ledger.append(events(1))
    assert ledger.size() == 9


def test_a_failing_mirror_is_recorded_and_the_append_still_succeeds(archive, signed):
    folder = mirror_dir(archive)
    folder.joinpath("segments").chmod(0o500)
    try:
        ledger = Ledger.for_archive(archive)
        ledger.append(events(3))
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        ledger.checkpoint()
        (state,) = [s for s in mirror.states(ledger) if s.location == archive.settings.primary_location]
        assert state.failing_since is not None and state.size == 7
    finally:
        folder.joinpath("segments").chmod(0o700)


def test_a_mirrored_object_that_differs_is_never_overwritten(archive, signed):
    note = mirror_dir(archive) / "checkpoints" / "000000000007.note"
    note.write_bytes(note.read_bytes().replace(b"tree-size: 7", b"tree-size: 8"))
    states = mirror.sync(Ledger.for_archive(archive), again=True)
    assert "L033" in states[0].error
    assert b"tree-size: 8" in note.read_bytes()


def test_switching_the_primary_to_s3_and_back_continues_the_chain(archive, s3_server):
    s3 = s3_server.options()
    body = ('[storage]\nprimary = "{primary}"\n\n[storage.replication]\ndefault = ["{primary}"]\n\n'
            '[storage.locations.disk]\nadapter = "local"\npath = "storage"\ndurable = false\n\n'
            '[storage.locations.cloud]\nadapter = "s3"\n' + "\n".join(f"{k} = {json.dumps(v)}" for k, v in s3.items())
            + "\n")
    a = configure_storage(archive, body.format(primary="disk"))
    Ledger.for_archive(a).append(events(3, "disk"))
    Ledger.for_archive(a).checkpoint()
    a = configure_storage(a, body.format(primary="cloud"))
    ledger = Ledger.for_archive(a)
    ledger.append(events(2, "cloud"))
    ledger.checkpoint()
    cloud = mirror.MirrorSource(a.storage("cloud"))
    assert cloud.size() == 5  # the new primary's mirror caught up from entry 0
    a = configure_storage(a, body.format(primary="disk"))
    Ledger.for_archive(a).append(events(1, "disk again"))
    assert seqs(Ledger.for_archive(a)) == list(range(6))
    assert verified(a).entries == 6
    a.close()


def test_a_ledger_kept_in_a_folder_before_0027_is_imported_once(archive, signed):
    """Build the pre-0027 layout from the mirror, empty the bytes in the database: the next read imports them."""
    old = archive.storage().root / "ledger"
    (old / "segments").mkdir(parents=True)
    shutil.copy(mirror_dir(archive) / "segments" / "000000000000-000000000007.jsonl",
                old / "segments" / "000000000000.jsonl")
    shutil.copytree(mirror_dir(archive) / "checkpoints", old / "checkpoints")
    shutil.copy(mirror_dir(archive) / "identity.json", old / "identity.json")
    with archive.catalog.engine.begin() as conn:
        conn.execute(update(CustodyEntry).values(line=None))
        conn.execute(update(CustodyLedgerIdentity).values(directory="storage/ledger"))
    ledger = Ledger.for_archive(archive)
    assert seqs(ledger) == list(range(7))
    with archive.catalog.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(CustodyEntry.line.is_(None))).scalar() == 0
        assert conn.execute(select(CustodyLedgerIdentity.directory)).scalar() == ""
    verified(archive)


def test_object_lock_holds_every_mirrored_object(archive, s3_server):
    s3 = s3_server.options(object_lock=True)
    a = configure_storage(archive, '[storage]\nprimary = "cloud"\n\n[storage.replication]\ndefault = ["cloud"]\n\n'
                          '[storage.locations.cloud]\nadapter = "s3"\n'
                          + "\n".join(f"{k} = {json.dumps(v)}" for k, v in s3.items()) + "\n")
    ledger = Ledger.for_archive(a)
    ledger.append(events(2))
    ledger.checkpoint()
    adapter = a.storage("cloud")
    keys = sorted(adapter.list(mirror.PREFIX))
    assert any("/segments/" in k for k in keys)
    for key in keys:
        status = adapter.client.get_object_legal_hold(Bucket=adapter.bucket, Key=adapter.key(key))
        assert status["LegalHold"]["Status"] == "ON", key
    a.close()


def test_sqlite_appends_take_the_write_lock_before_reading_the_head(archive, signed):
    """Another connection holding the database's write lock makes an append wait, never fork the chain."""
    db = sqlite3.connect(database(archive), timeout=30, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    script = ("import sys\nfrom longwatch.core.archive import Archive\nfrom longwatch.core.custody.entries import "
              "CustodyEvent\nfrom longwatch.core.custody.ledger import Ledger\n"
              "Ledger.for_archive(Archive.open(sys.argv[1])).append([CustodyEvent('fixity check', packages=['x'])])\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(archive.root)],
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    time.sleep(1.5)
    assert proc.poll() is None  # waiting for the lock
    db.execute("ROLLBACK")
    db.close()
    assert proc.wait(timeout=60) == 0
    assert seqs(Ledger.for_archive(archive)) == list(range(8))
