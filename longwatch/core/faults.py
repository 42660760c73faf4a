"""Named kill points for the crash tests: the process dies right there, as a power cut would.

Each point sits where a crash would leave the most to recover (a package
published but not catalogued, a copy deleted but not recorded, a planning
sample cut but its source not yet destroyed); the tests run a real command
with ``LONGWATCH_FAULT=<point>`` and check that the next run completes the work
exactly once. Unset, a point costs one dictionary lookup. Points:
``after-publish``, ``after-delete``, ``after-planning-sample``,
``before-certificate``, ``export-before-rename``, ``upload-after-last-byte``
(a tus upload's last byte recorded, its package not yet made), and the
custody ledger's ``ledger-before-commit``, ``ledger-after-commit`` (committed,
not yet on the mirror) and ``checkpoint-before-mirror``.
"""

from __future__ import annotations

import os
import signal


def fault(point: str) -> None:
    """SIGKILL this process when ``LONGWATCH_FAULT`` names ``point``."""
    if os.environ.get("LONGWATCH_FAULT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
