"""Records management's jobs: approved dispositions executed by a worker, on demand and nightly.

Declared through the ``register_tasks`` hook (the queue itself knows no
feature, :mod:`longwatch.core.jobs.queue`). A disposition resumes item by
item, and one already executed is reported, not run again. Every
disposition job, the periodic one included (``[jobs] disposition_cron``),
holds the lock :data:`DISPOSE_LOCK`, so two workers never execute
dispositions at once. Approval stays with people: a job never proposes or
approves.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from longwatch.core.archive import Archive
from longwatch.core.jobs.queue import HEAVY, Schedule, Task, enqueue
from longwatch.core.records import actors, dispositions
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl

log = logging.getLogger(__name__)

#: Who carries out an approved disposition when a job does it; the approval named the people.
SCHEDULER = ("longwatch scheduler", "operator")
DISPOSE_LOCK = "dispose"


def _dispose(archive: Archive, disposition_id: str, actor: str = SCHEDULER[0], role: str = SCHEDULER[1]
             ) -> dict[str, Any]:
    """Execute an approved disposition (or resume an interrupted one); one already executed is reported."""
    disposition, _items = dispositions.get_disposition(archive, disposition_id)
    if disposition.status == "executed":
        return dispositions.result_of(archive, disposition.id)
    return dispositions.execute(archive, disposition.id, actors.Actor(actor, role))


def _dispose_due(archive: Archive) -> dict[str, Any]:
    """Every disposition a records manager approved (and any interrupted one), executed; nothing unapproved.

    Approval stays with people: this never proposes or approves, and
    ``dispositions.execute`` destroys only items still due and unheld (a hold
    placed after the approval keeps its packages).
    """
    done, failed = [], []
    for d in dispositions.list_dispositions(archive):
        if d.status not in ("approved", "executing"):
            continue
        try:
            done.append(_dispose(archive, d.id))
        except LongwatchError as exc:  # one that cannot finish tonight does not stop the others
            log.warning("disposition %s: %s", d.id[:8], exc.render(translate=False))
            failed.append((d.id, exc))
    if failed and not done:
        raise failed[0][1]  # nothing finished: the job fails with the code, and is retried
    return {"dispositions": [d["disposition_id"] for d in done],
            "failed": [{"disposition_id": i, "code": e.code, "error": e.render(translate=False)} for i, e in failed],
            "deleted": sum(len(d["deleted"]) for d in done), "held": sum(len(d["held"]) for d in done)}


#: Approved dispositions executed at each ``[jobs] disposition_cron`` tick, never beside a ``dispose`` job.
PERIODIC_DISPOSITION = Schedule("periodic_disposition", "disposition", lambda settings: settings.disposition_cron,
                                lock=DISPOSE_LOCK)

TASKS = (
    Task("dispose", _dispose, HEAVY),
    Task("dispose_due", _dispose_due, HEAVY, PERIODIC_DISPOSITION),
)


@hookimpl
def register_tasks() -> list[Task]:
    return list(TASKS)


def enqueue_disposition(archive: Archive, disposition_id: str, actor: str = SCHEDULER[0],
                        role: str = SCHEDULER[1], session: Session | None = None) -> int | dict[str, Any]:
    """Execute an approved disposition as a job; one already waiting for it is returned, not a second.

    Every disposition job (and the periodic one) holds the lock ``dispose``: two
    workers never execute dispositions at once, so no package's deletion is
    journalled twice. Dispositions are rare; they need no parallelism.
    """
    return enqueue(archive, "dispose", {"disposition_id": disposition_id, "actor": actor, "role": role},
                   session=session, lock=DISPOSE_LOCK, queueing_lock=f"dispose:{disposition_id}")
