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
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Turn the collector off until :func:`resume` (only the process entry point calls this)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Start-up is over: keep what it made out of later collections and turn the collector back on.

    Does nothing unless :func:`pause` turned the collector off, so it may be
    called from every place a start-up can end.
    """
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def paused() -> bool:
    """Whether the collector is off for start-up (for the tests and ``--debug``)."""
    return _paused
