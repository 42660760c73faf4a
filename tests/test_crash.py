"""A kill -9 in the middle of ingest leaves no trace but staging, and the next run cleans it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import LONGWATCH, run_longwatch
from sqlalchemy import select

from longwatch.core.aip import metadata, package
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import CustodyEntry, CustodyEntryPackage, PendingPublication
from longwatch.core.preservation import publish as publish_mod

SIZE = 300 << 20


def write_random(path, size: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        for i in range(size >> 20):
            fh.write(block[:-8] + i.to_bytes(8, "big"))  # distinct megabytes, cheap to make


@pytest.mark.slow
def test_kill_during_ingest_leaves_only_staging(archive, tmp_path, fresh_clip):
    big = tmp_path / "camera-07_big.mp4"
    write_random(big, SIZE)
    staging = archive.storage().root / ".staging"
    proc = subprocess.Popen([*LONGWATCH, "-A", str(archive.root), "-q", "ingest", str(big)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    copied = 0
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            media = list(staging.glob("*/data/media/*")) if staging.is_dir() else []
            if media and media[0].stat().st_size > 0:
                copied = media[0].stat().st_size
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert 0 < copied < SIZE, "the ingest was not caught in the middle of its copy"

    reopened = Archive.open(archive.root)
    leftovers = list(staging.iterdir())
    assert leftovers, "the killed ingest's staging should still be there"
    assert list(reopened.storage().package_ids()) == []
    assert reopened.catalog.all_ids() == []
    reopened.close()

    done = run_longwatch("-A", archive.root, "ingest", fresh_clip)
    assert done.returncode == 0, done.stderr
    assert list(staging.iterdir()) == []  # swept
    reopened = Archive.open(archive.root)
    assert len(list(reopened.storage().package_ids())) == 1
    assert len(reopened.catalog.all_ids()) == 1
    reopened.close()
    verified = run_longwatch("-A", archive.root, "verify", "--all")
    assert verified.returncode == 0, verified.stderr


# -- killed after the atomic publish: the next run completes the package ----------------------
KILL_AT = {
    # where the process dies: after the rename, before the catalog row / before the ledger entries
    "catalog": "longwatch.core.catalog.Catalog.add_package",
    "ledger": "longwatch.core.custody.record_package_events",
}
_KILLED_INGEST = """
import os, signal, sys
from pathlib import Path
import longwatch.core.catalog, longwatch.core.custody
from longwatch.core.preservation import ingest as ingest_mod
from longwatch.core.archive import Archive

where = sys.argv[3]
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
if where == "catalog":
    longwatch.core.catalog.Catalog.add_package = die
else:
    longwatch.core.custody.record_package_events = die
archive = Archive.open(sys.argv[1])
ingest_mod.ingest(archive, ingest_mod.IngestRequest(path=Path(sys.argv[2]), camera="cam-01"))
"""


def _custody_event_ids(archive: Archive, package_id: str) -> list[str]:
    with archive.catalog.session() as s:
        return list(s.scalars(select(CustodyEntry.event_id).join(
            CustodyEntryPackage, CustodyEntryPackage.seq == CustodyEntry.seq)
            .where(CustodyEntryPackage.package_id == package_id)))


@pytest.mark.parametrize("where", sorted(KILL_AT))
def test_kill_after_publish_is_completed_by_the_next_run(archive, fresh_clip, small_clip, tmp_path, where):
    proc = subprocess.run([sys.executable, "-c", _KILLED_INGEST, str(archive.root), str(fresh_clip), where],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    reopened = Archive.open(archive.root)
    (package_id,) = list(reopened.storage().package_ids())  # published, half recorded
    with reopened.catalog.session() as s:
        assert [p.package_id for p in s.query(PendingPublication)] == [package_id]
    assert (reopened.catalog.get(package_id) is None) == (where == "catalog")
    assert _custody_event_ids(reopened, package_id) == []
    reopened.close()

    other = tmp_path / "other.mp4"
    shutil.copyfile(small_clip, other)
    with open(other, "ab") as fh:
        fh.write(b"another clip")  # a different digest, so the next ingest is not a duplicate
    done = run_longwatch("-A", archive.root, "ingest", other)
    assert done.returncode == 0, done.stderr

    reopened = Archive.open(archive.root)
    row = reopened.catalog.get(package_id)
    assert row is not None and row.camera == "cam-01" and len(row.clips) == 1
    with reopened.storage().open_package_file(package_id, package.PREMIS_PATH) as fh:
        _, events = metadata.premis_records(metadata.parse_untrusted(fh.read()))
    assert sorted(_custody_event_ids(reopened, package_id)) == sorted(e.identifier for e in events)
    with reopened.catalog.session() as s:
        assert s.query(PendingPublication).count() == 0
    assert len(reopened.catalog.all_ids()) == 2
    reopened.close()
    for check in (("verify", "--all"), ("custody", "verify")):
        result = run_longwatch("-A", archive.root, *check)
        assert result.returncode == 0, (check, result.stdout, result.stderr)


def test_recover_leaves_live_publications_and_drops_unpublished_ones(archive):
    now = datetime.now(UTC)
    location = archive.storage().location
    with archive.catalog.session() as s:
        s.add(PendingPublication(package_id="live", location=location, owner=publish_mod._owner(), started_at=now))
        s.add(PendingPublication(package_id="never-published", location=location, owner="elsewhere:1",
                                 started_at=now - publish_mod.STALE_AFTER - timedelta(minutes=1)))
        s.add(PendingPublication(package_id="other-host", location=location, owner="elsewhere:1", started_at=now))
    assert publish_mod.recover(archive, now=now) == []
    with archive.catalog.session() as s:
        assert sorted(p.package_id for p in s.query(PendingPublication)) == ["live", "other-host"]
