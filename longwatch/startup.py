"""A command's start-up without the cyclic garbage collector (issue 23).

Why: opening an archive creates a few hundred thousand objects that live
until the command exits (modules, classes, SQLAlchemy's tables and mapped
classes, the plugin manager). While they are made, the collector runs again
and again, and each run of an older generation walks all of them, only to
find nothing to free: about 50 ms of CPU in ``longwatch ingest``'s start-up,
which runs beside the digests of the early pass and competes with them for
the second core. Afterwards, every full collection of the command walks
them again.

So the process entry point (:func:`longwatch.cli.main`) turns the collector
off, and the command context turns it back on once the archive is open and
the acting account known (:class:`longwatch.console.Context`), first moving
everything made so far into the permanent generation (``gc.freeze``) so
that no later collection walks it. Reference counting frees objects as
always; only reference cycles made during start-up wait, and start-up makes
few. The commands that work without opening an archive call :func:`resume`
themselves where their work begins (``init`` once the archive exists,
``verify`` of a directory or a bag); ``--help`` ends without it.

Only the process entry point pauses: the command line run in-process (the
tests' ``CliRunner``, a plugin calling the group) keeps the collector as its
host set it.

The pause also shortens the interpreter's thread switch interval (5 ms to
0.2 ms) until :func:`resume`. Why: ``longwatch ingest`` digests the file on
threads that release the GIL while they hash a chunk and take it back after
each one; while the main thread imports (pure Python, holding the GIL), each
of them waited up to the whole interval for it, a convoy that cost about
0.1 s of a 1 GB ingest on two free cores. After start-up the main thread
mostly waits, and the default interval comes back.
"""

from __future__ import annotations

import gc
import sys

#: The thread switch interval during start-up (seconds); the interpreter's own is restored afterwards.
STARTUP_SWITCH_INTERVAL = 0.0002

_paused = False
_switch_interval = 0.0


def pause() -> None:
    """Turn the collector off and switch threads more often until :func:`resume` (only the process entry
    point calls this)."""
    global _paused, _switch_interval
    if gc.isenabled():
        gc.disable()
        _switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(STARTUP_SWITCH_INTERVAL)
        _paused = True


def resume() -> None:
    """Start-up is over: keep what it made out of later collections, turn the collector back on and restore
    the switch interval.

    Does nothing unless :func:`pause` turned the collector off, so it may be
    called from every place a start-up can end.
    """
    global _paused
    if _paused:
        _paused = False
        sys.setswitchinterval(_switch_interval)
        gc.freeze()
        gc.enable()


def paused() -> bool:
    """Whether the collector is off for start-up (for the tests and ``--debug``)."""
    return _paused
