"""A kill -9 in the middle of ingest leaves no trace but staging, and the next run cleans it."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from conftest import LONGWATCH, run_longwatch

from longwatch.core.archive import Archive

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
