"""The public's job: masking a citizen's access request's footage, every face but the requester's.

Declared through the ``register_tasks`` hook (the queue itself knows no
feature, :mod:`longwatch.core.jobs.queue`). Face detection on every frame is
long work a web page must not wait for. The masked copies' ids are chosen
when the job is queued (:func:`enqueue_request_mask`), so a rerun after a
kill finds the copies its attempt made and records the "masked" step once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from longwatch.core.archive import Archive
from longwatch.core.jobs.queue import HEAVY, Task, enqueue
from longwatch.core.public import access_requests as requests
from longwatch.core.storage.tasks import require_copies
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl


def _request_mask(archive: Archive, number: str, result_ids: dict[str, str], keep: list[str] | None = None,
                  actor: str = "") -> dict[str, Any]:
    """Mask a citizen's request's footage (core/public/access_requests.py); the copies' ids were chosen at
    enqueueing."""
    req = requests.mask(archive, number, frozenset(keep or ()), actor, result_ids=result_ids)
    copies = requests.package_ids(req)
    for package_id in copies:
        require_copies(archive, package_id)
    return {"number": number, "status": req.status, "packages": copies}


TASKS = (Task("request_mask", _request_mask, HEAVY),)


@hookimpl
def register_tasks() -> list[Task]:
    return list(TASKS)


def enqueue_request_mask(archive: Archive, number: str, keep: Iterable[str] = (), actor: str = "",
                         session: Session | None = None) -> int | dict[str, Any]:
    """Masking of a request's footage as a job (face detection on every frame is long work; a web
    page must not wait for it). Refused at once when the request cannot be masked now (U002)."""
    req = requests.get(archive, number)
    if "ready" not in requests.TRANSITIONS[req.status]:
        raise LongwatchError("U002", current=req.status, target="ready",
                             allowed=", ".join(requests.TRANSITIONS[req.status]))
    result_ids = {package_id: str(uuid.uuid4()) for package_id in requests.package_ids(req)}
    return enqueue(archive, "request_mask", {"number": req.number, "result_ids": result_ids,
                                             "keep": sorted(keep), "actor": actor},
                   session=session, lock=f"request:{req.number}", queueing_lock=f"request-mask:{req.number}")
