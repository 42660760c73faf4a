"""Export orders: an evidence export asked for from the web, run as a job, and its progress.

An order is the request (recipient, what to export), who asked and when, and
the job that writes it. It is kept as a small JSON object beside the exports
in the object store (``exports/orders/<export id>.json`` on the primary
location, so the web server reads what any machine wrote), not in the
catalog: the export itself is the record (its bag in the store,
``export.json`` and the custody ledger's transfer event), and the order only
lets the page follow it.

The export never runs in the request that asked for it. On PostgreSQL the job
goes to the queue (:func:`longwatch.core.evidence.tasks.enqueue_export`) and a
worker runs it; on the embedded default (SQLite, one machine) there is no
worker, so it runs in a thread of the serving process, with an archive of its
own, acting for the account that asked. Its state is read from what exists:
the finished export in the store (:func:`longwatch.core.evidence.stored.finished`),
the partial bag being written on this machine, the queue's job, a failure
recorded by the thread or the queue.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from longwatch import clock
from longwatch.core.archive import Archive
from longwatch.core.evidence import selection, stored
from longwatch.core.evidence import tasks as evidence_tasks
from longwatch.core.evidence.request import Request, request_from_dict, request_to_dict
from longwatch.core.jobs import queue as jobs
from longwatch.core.storage.objects import objects
from longwatch.errors import LongwatchError

log = logging.getLogger(__name__)
#: Threads running exports on the embedded default, by export id (tests wait on them; nothing else does).
RUNNING: dict[str, threading.Thread] = {}


@dataclass
class Order:
    export_id: str
    created_by: str
    created_at: str
    request: Request
    job: int | None
    state: str  # queued, running, done, failed
    written: int  # bytes written so far (the partial bag), or the export's size when done
    files: int
    error_code: str
    error: str
    path: str  # the export's key in the object store (exports/<export id>)

    def to_dict(self) -> dict[str, Any]:
        return {"export_id": self.export_id, "created_by": self.created_by, "created_at": self.created_at,
                "request": request_to_dict(self.request), "job": self.job, "state": self.state,
                "written": self.written, "files": self.files, "error_code": self.error_code or None,
                "error": self.error or None}


ORDERS = f"{stored.EXPORTS}/orders"


def _order_key(export_id: str) -> str:
    return f"{ORDERS}/{export_id}.json"


def _write(archive: Archive, export_id: str, data: dict[str, Any]) -> None:
    """Replace the order object whole (a reader never sees half of it)."""
    objects(archive).put_bytes(_order_key(export_id),
                               json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def submit(archive: Archive, request: Request, requested_by: str) -> str:
    """Check the request (refused at once when it cannot be met), record the order and start its job."""
    selection.select(archive, request)  # E001, E002, E004 ... now, in the form, not later in a worker
    if not request.recipient.agency.strip():
        raise LongwatchError("E003", detail="the recipient agency is required")
    if not (request.recipient.legal_basis.strip() and request.recipient.purpose.strip()):
        raise LongwatchError("E003", detail="the legal basis and the purpose are required")
    if request.recipient.expires is not None and request.recipient.expires <= clock.now():
        raise LongwatchError("E003", detail="the expiry is in the past")
    export_id = str(uuid.uuid4())
    order: dict[str, Any] = {"export_id": export_id, "created_by": requested_by,
                             "created_at": clock.iso_z(clock.now()), "request": request_to_dict(request), "job": None}
    _write(archive, export_id, order)
    if jobs.queued(archive):
        before = archive.act_as(requested_by)  # the job carries who asked; the worker acts for them
        try:
            job, _ = evidence_tasks.enqueue_export(archive, request, None, export_id=export_id)
        finally:
            archive.act_as(before)
        order["job"] = job if isinstance(job, int) else None
        _write(archive, export_id, order)
        return export_id
    root = archive.root

    def run() -> None:
        own = Archive.open(root)  # sessions and adapters are not shared across threads
        own.act_as(requested_by)
        try:
            evidence_tasks.enqueue_export(own, request, None, export_id=export_id)
        except Exception as exc:  # recorded for the page; the partial bag is removed, nothing was handed over
            log.exception("export %s failed", export_id)
            failed = dict(order)
            failed["error_code"] = exc.code if isinstance(exc, LongwatchError) else "J006"
            failed["error"] = (exc.render(translate=False) if isinstance(exc, LongwatchError)
                               else f"{type(exc).__name__}: {exc}")[:2000]
            _write(own, export_id, failed)
        finally:
            own.close()
            RUNNING.pop(export_id, None)

    thread = threading.Thread(target=run, name=f"longwatch-export-{export_id[:8]}", daemon=True)
    RUNNING[export_id] = thread
    thread.start()
    return export_id


def _job_failure(archive: Archive, job: int) -> tuple[str, str, str] | None:
    """(state, code, message) of a queued job, None when the queue does not know it (any more)."""
    for row in jobs.list_jobs(archive, limit=1000):
        if row.id == job:
            return row.state, row.code, row.message
    return None


def get(archive: Archive, export_id: str) -> Order:
    """One order with its state now; E003 for an id that is no UUID, W011 (through the caller) when unknown."""
    try:
        export_id = str(uuid.UUID(export_id))
    except ValueError as exc:
        raise LongwatchError("E003", detail=f"export id {export_id[:40]!r} is not a UUID") from exc
    try:
        data = json.loads(objects(archive).read_bytes(_order_key(export_id)))
    except (FileNotFoundError, ValueError) as exc:
        raise LongwatchError("W011", what=f"export {export_id}") from exc
    state, written, files = "queued", 0, 0
    code, message = str(data.get("error_code", "")), str(data.get("error", ""))
    done = stored.finished(archive, export_id)
    if done is not None:
        state, written, files = "done", done["size"], done["files"]
    elif code:
        state = "failed"
    else:
        here = stored.progress(export_id)  # written on this machine: the bytes so far
        if here is not None:
            state = "running"
            written, files = here
        job = data.get("job")
        if isinstance(job, int) and jobs.queued(archive):
            found = _job_failure(archive, job)
            if found is not None and found[0] == "failed":
                state, code, message = "failed", found[1], found[2]
            elif found is not None and found[0] == "running":
                state = "running"
    return Order(export_id=export_id, created_by=str(data.get("created_by", "")),
                 created_at=str(data.get("created_at", "")), request=request_from_dict(data["request"]),
                 job=data.get("job"), state=state, written=written, files=files, error_code=code, error=message,
                 path=stored.export_key(export_id))


def list_orders(archive: Archive, created_by: str | None = None) -> list[Order]:
    """Every order, newest first; ``created_by``: only that account's."""
    found = []
    for key in objects(archive).list(ORDERS):
        name = key.rsplit("/", 1)[-1]
        if not name.endswith(".json"):
            continue
        try:
            order = get(archive, name[: -len(".json")])
        except LongwatchError:
            continue
        if created_by is None or order.created_by == created_by:
            found.append(order)
    return sorted(found, key=lambda o: o.created_at, reverse=True)
