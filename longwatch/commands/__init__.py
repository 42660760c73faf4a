"""Built-in command plugins.

Each module here adds its commands through the ``register_commands`` hook,
exactly as a third-party plugin would; ``cli.py`` keeps only the core verbs.
This package is the one built-in plugin in ``registry.DEFAULT_PLUGINS`` that
answers the hook for all of them, so building the plugin manager (which every
command does) imports none of them.

``longwatch`` itself imports a module only when one of its commands runs:
:data:`BUILTIN` tells it which module that is, and gives ``longwatch --help``
each command's short help without importing anything (a module costs up to
0.5 s of imports; ``tests/test_cli_lazy.py`` keeps this table in step with
the commands' docstrings).
"""

from __future__ import annotations

import importlib
from typing import Any

from longwatch.hookspecs import hookimpl

#: command -> (module in this package that registers it, the first paragraph of its help)
BUILTIN: dict[str, tuple[str, str]] = {
    "analytics": ("analytics", "Urban-planning counts: the state of their rollup tables, and a rebuild."),
    "audit": ("storage", "Check the fixity of every copy, oldest-checked first; repair failing copies from good ones."),
    "cameras": ("search", "The camera registry: list (default), add, import a CSV, record a move."),
    "cases": ("search", "Cases (police, complaints, disclosure requests): list (default), add, attach, add-range."),
    "connectors": ("connectors", "List the installed camera connectors and their settings."),
    "custody": ("custody", "The chain-of-custody ledger: every event on every package, hash-chained, signed and "
                           "provable."),
    "dataset": ("dataset", "Training data from archived events, for researchers and urban planners."),
    "detect": ("detect", "Run a detector over stored packages; resumes where an interrupted run stopped."),
    "detectors": ("detect", "List installed detectors: version, model file, size, SHA-256 of the weights, parameters."),
    "dispose": ("retention", "Disposition: propose, approve (a second person, records manager), execute, certificate."),
    "events": ("events", "List events (from detectors and imported from AI CCTV), with their review status and "
                         "window."),
    "export": ("export", "Export packages, or cameras over a time range, as a signed evidence bag verifiable with "
                         "standard tools."),
    "gaps": ("connectors", "List the times cameras should have recorded and did not (stream drops, empty segments)."),
    "hold": ("retention", "Legal holds: nothing they cover is deleted by any path until they are released."),
    "keys": ("keys", "The archive's signing keys: every key it has signed with, rotation, import, a key in an HSM."),
    "jobs": ("jobs", "Queued, running, failed and done jobs, newest first, with the error code of each failure."),
    "login": ("users", "Sign in to this archive as USERNAME; later commands of this OS user act for that account."),
    "logout": ("users", "Sign out of this archive: the stored token is revoked and its file removed."),
    "locations": ("storage", "Storage locations with their packages, bytes used, cap and state (from the catalog)."),
    "record": ("connectors", "Record the RTSP stream URL by stream copy into archived segments."),
    "redact": ("detect", "Make a redacted access copy as a new package linked to the original (which is never "
                         "altered)."),
    "register": ("access_requests", "The CCTV operation register, built from the custody ledger and the requests."),
    "reindex": ("search", "Rebuild the catalog from storage and the custody ledger (packages, reference data, "
                          "copies, holds)."),
    "replicate": ("storage", "Copy packages to the locations their policy asks for (all packages without an id)."),
    "requests": ("access_requests", "Requests for footage: PIPA access, disclosure, insurers, courts, police (10-day"
                                    " clock)."),
    "retention": ("retention", "Retention schedules: show the notice, preview a change, run the schedule."),
    "revoke-share": ("export", "Revoke a share link at once."),
    "search": ("search", "Find clips by time, camera, zone, purpose, place, event, case, tag and text."),
    "share-export": ("export", "Make an expiring, revocable download link for an export (served by `longwatch serve`"
                               " at /s/TOKEN)."),
    "sync-locks": ("storage", "Make the stores' object locks match the catalog's holds and retention (after a store "
                              "was unreachable)."),
    "tier": ("storage", "Move packages between hot and cold locations, keeping their id and fixity."),
    "token": ("users", "API tokens for machines (Authorization: Bearer ...)."),
    "users": ("users", "Local accounts of the web UI and their roles."),
    "verify-export": ("export", "Check an evidence export (folder or ZIP) in one go; needs no archive."),
    "watch": ("connectors", "Archive what CONNECTOR offers until stopped (SIGTERM or Ctrl-C stop cleanly)."),
    "whoami": ("users", "The account this OS user's commands act for, and how it was found (keys: username, role, "
                        "os_user, by)."),
    "window": ("detect", "Preserve a time range of a package as a new derived package (copy or stream-copy cut, "
                         "never re-encoded)."),
    "witness": ("witness", "Co-sign the custody checkpoints of an archive you watch (C2SP cosignature/v1); no "
                           "archive needed."),
    "worker": ("jobs", "Run queued jobs (ingest, replication, audits, detection) until stopped."),
    "zones": ("search", "The zone hierarchy (district > area > site): list (default), add, remove."),
}


def module_of(name: str) -> str | None:
    """The full name of the module that registers built-in command ``name``, or None."""
    entry = BUILTIN.get(name)
    return f"{__name__}.{entry[0]}" if entry else None


def load(name: str, cli: Any) -> None:
    """Import the module of built-in command ``name`` and let it register its commands on ``cli``."""
    module = module_of(name)
    if module is not None:
        importlib.import_module(module).register_commands(cli=cli)


@hookimpl
def register_commands(cli: Any) -> None:
    """Every built-in command at once (the plugin manager's callers; ``longwatch`` itself loads one module)."""
    for module in sorted({entry[0] for entry in BUILTIN.values()}):
        importlib.import_module(f"{__name__}.{module}").register_commands(cli=cli)
