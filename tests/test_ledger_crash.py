"""A kill -9 at each step of a custody append (issue 20): no acknowledged entry is lost, nothing is rewritten.

The steps are the ledger's kill points (``longwatch.core.faults``): inside
the transaction before its commit, after the commit before the group reaches
the mirror, and after a checkpoint is signed before it is mirrored. The
writer is a real process killed by SIGKILL at that point; the next process
finds the ledger whole, mirrors what the dead one could not, and records that
it did.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from longwatch import clock
from longwatch.core import custody
from longwatch.core.archive import Archive
from longwatch.core.custody import mirror
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger

ROOT = Path(__file__).resolve().parent.parent
WRITER = ("import sys\nfrom longwatch.core.archive import Archive\nfrom longwatch.core.custody.entries import "
          "CustodyEvent\nfrom longwatch.core.custody.ledger import Ledger\n"
          "ledger = Ledger.for_archive(Archive.open(sys.argv[1]))\n"
          "ledger.append([CustodyEvent('fixity check', packages=['k'], detail='the killed group') for _ in range(3)])\n"
          "print('returned', flush=True)\n")


def _problems(archive: Archive) -> list[str]:
    report = custody.verify_ledger(Ledger.for_archive(archive), [archive.certificate])
    return [p.code for p in report.problems]


def _mirror_size(archive: Archive) -> int:
    return mirror.MirrorSource(archive.storage()).size()


@pytest.fixture
def ledger_archive(archive: Archive) -> Archive:
    """Four entries under a mirrored checkpoint; a checkpoint falls due every three entries."""
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write("\n[custody]\ncheckpoint_every = 3\n")
    archive.close()
    reopened = Archive.open(archive.root)
    ledger = Ledger.for_archive(reopened)
    ledger.append([CustodyEvent("fixity check", packages=["k"], detail=str(i)) for i in range(4)])
    assert [cp.size for cp in ledger.checkpoints()] == [4]
    assert _mirror_size(reopened) == 4
    return reopened


def _kill_at(archive: Archive, point: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LONGWATCH_FAULT": point}
    proc = subprocess.run([sys.executable, "-c", WRITER, str(archive.root)], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return proc.stdout


@pytest.mark.parametrize(("point", "kept"), [
    ("ledger-before-commit", 0),       # never acknowledged: the group is not there, the chain goes on
    ("ledger-after-commit", 3),        # committed: kept, though the writer died before mirroring it
    ("checkpoint-before-mirror", 3),   # committed and checkpointed, the checkpoint not yet mirrored
])
def test_a_kill_at_each_step_of_an_append_loses_nothing_acknowledged(ledger_archive, frozen_clock, point, kept):
    before = list(Ledger.for_archive(ledger_archive).lines())
    checkpoints = [(cp.size, cp.note, cp.signature) for cp in Ledger.for_archive(ledger_archive).checkpoints()]
    assert _kill_at(ledger_archive, point) == ""  # the writer never saw its append return

    reopened = Archive.open(ledger_archive.root)
    ledger = Ledger.for_archive(reopened)
    assert list(ledger.lines())[:len(before)] == before  # nothing acknowledged lost or rewritten
    assert ledger.size() == len(before) + kept
    assert [(cp.size, cp.note, cp.signature) for cp in ledger.checkpoints()][:len(checkpoints)] == checkpoints
    if point == "ledger-after-commit":
        assert _mirror_size(reopened) == len(before)
        assert "L005" in _problems(reopened)  # in the database, not on the mirror: visible until repaired

    frozen_clock(clock.now() + mirror.SETTLE + timedelta(seconds=1))  # the dead writer is not coming back
    ledger.check()
    recoveries = [e for e in ledger.entries() if e["type"] == "recovery"]
    if point == "ledger-after-commit":
        assert len(recoveries) == 1 and f"entries {len(before)}..{len(before) + 2}" in recoveries[0]["detail"]
    else:
        assert recoveries == []  # nothing to repair: no recovery claimed
    ledger.append([CustodyEvent("fixity check", packages=["k"], detail="after the crash")])
    ledger.checkpoint()
    assert _problems(reopened) == []
    assert _mirror_size(reopened) == ledger.size()
    assert [json.loads(line)["seq"] for _seq, line in ledger.lines()] == list(range(ledger.size()))
    reopened.close()


def test_a_group_still_on_its_way_to_the_mirror_is_left_to_its_writer(ledger_archive):
    """Within the settling time the gap may be an append in flight on another machine: no repair, no record."""
    _kill_at(ledger_archive, "ledger-after-commit")
    reopened = Archive.open(ledger_archive.root)
    ledger = Ledger.for_archive(reopened)
    ledger.check()
    assert [e for e in ledger.entries() if e["type"] == "recovery"] == []
    assert _mirror_size(reopened) == 4
    reopened.close()
