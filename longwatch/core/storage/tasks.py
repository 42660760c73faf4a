"""The storage policy's jobs: replication, audits, and the copies every stored package must reach.

Declared through the ``register_tasks`` hook (the queue itself knows no
feature, :mod:`longwatch.core.jobs.queue`). Each is idempotent: replication
copies only what the policy still lacks; an audit re-reads and records. The
periodic audit is the budgeted one of ``longwatch audit``, nightly
(``[jobs] audit_cron``). :func:`require_copies` is how every job that stores
a package (ingest, a window, a redaction, a masked request) finishes.
"""

from __future__ import annotations

from typing import Any

from longwatch import clock
from longwatch.core.archive import Archive
from longwatch.core.jobs.queue import HEAVY, QUICK, Schedule, Task
from longwatch.core.storage import audit, copies, mounted, replicate
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl


def _replicate(archive: Archive, package_id: str) -> dict[str, Any]:
    return {"package_id": package_id, "copied_to": replicate.replicate(archive, package_id)}


def _audit_package(archive: Archive, package_id: str) -> dict[str, Any]:
    """Check every copy of one package; a bad copy is quarantined and repaired as in ``longwatch audit``."""
    row = archive.catalog.get(package_id)
    if row is None:
        raise LongwatchError("J003", package_id=package_id)
    checked = []
    for copy in copies.copies_of(archive, package_id):
        adapter = archive.storage(copy.location)
        check = copies.check_copy(adapter, row.id, row.tagmanifest_sha256)
        checked_at = clock.now()  # the copy's time and its ledger entry's (reindex rebuilds one from the other)
        copies.record_event(archive, row.id, copy.location, "fixity check", "success" if check.ok else "failure",
                            check.summary(), bytes_read=check.bytes_read, at=checked_at)
        if check.ok:
            audit.set_copy(archive, row.id, copy.location, "ok", "ok", at=checked_at)
        else:
            audit.set_copy(archive, row.id, copy.location, "quarantined", "failed", at=checked_at)
            source = audit.repair(archive, row, adapter, check)
            done = clock.now()
            audit.set_copy(archive, row.id, copy.location, "ok", "repaired", at=done)
            copies.record_event(archive, row.id, copy.location, "repair", "success", f"repaired {check.summary()}",
                                source, at=done)
        checked.append({"location": copy.location, "ok": check.ok})
    return {"package_id": package_id, "copies": checked}


def _audit(archive: Archive, time_budget: float | None = None) -> dict[str, Any]:
    result = audit.audit(archive, time_budget=time_budget)
    return {"checked": len(result.checked), "lost": [e.code for e in result.lost],
            "errors": [e.to_dict() for e in result.errors]}


def require_copies(archive: Archive, package_id: str) -> None:
    """A derived package's job is done only when the replication policy's copies exist (as for ingest)."""
    replicate.replicate(archive, package_id)
    if not replicate.policy_met(archive, package_id):
        raise LongwatchError("J007", package_id=package_id)


#: The budgeted audit (one hour) every worker defers at each ``[jobs] audit_cron`` tick; a failed one
#: waits for the next night.
PERIODIC_AUDIT = Schedule("periodic_audit", "audit", lambda settings: settings.audit_cron,
                          {"time_budget": 3600.0}, retry=False)

TASKS = (
    Task("replicate", _replicate, QUICK),
    Task("audit_package", _audit_package, HEAVY),
    Task("audit", _audit, HEAVY, PERIODIC_AUDIT),
)


@hookimpl
def register_tasks() -> list[Task]:
    return list(TASKS)


@hookimpl(tryfirst=True)
def prepare_worker(archive: Archive) -> None:
    """Before any other preparation (recovery, the ledger's checks): no worker on an emptied location (W055).

    A worker that started on the empty mount point of a failed mount would fail every job on "missing" and
    write new packages where nobody looks; it refuses to start instead, and the service manager retries.
    """
    mounted.check_not_emptied(archive)
