"""Long work as jobs: in-process on the embedded default, procrastinate on PostgreSQL.

The only module that imports procrastinate. A job is a task name plus JSON
arguments. On SQLite (one machine, local disk) :func:`enqueue` runs the task
right away in the calling process, as longwatch always did. On PostgreSQL it
inserts a procrastinate job through procrastinate's own SQL function on the
*caller's* catalog connection, so the job commits or rolls back with the
catalog change that asked for it (no outbox needed: the queue lives in the
catalog's database).

Every task is idempotent: ingest is keyed by the file's SHA-256 and looks in
the catalog before doing any work (and ingest itself refuses a duplicate with
I006); replication copies only what the policy still lacks; an audit re-reads
and records. A window cut or a redaction gets its package id when it is
queued, and an export its export id, so a retry finds what its killed attempt
published (completing its catalog row and custody events) or its transfer
event, instead of making a second one; an export is written under a partial
name and renamed when whole. A disposition resumes item by item.

A worker killed mid-job leaves only staging behind (packages are
published atomically) and procrastinate's heartbeat marks the job stalled;
every worker retries stalled jobs of dead workers (see :func:`run_worker`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from longwatch import clock, config
from longwatch.core.archive import Archive
from longwatch.errors import LongwatchError

log = logging.getLogger(__name__)

QUICK, HEAVY = "quick", "heavy"
QUEUES = (QUICK, HEAVY)
MAX_ATTEMPTS = 5
HEARTBEAT_SECONDS = 2.0  # procrastinate's default is 10 s; a dead worker's jobs come back sooner
STALLED_SECONDS = 10.0  # a worker silent this long is dead: its running jobs are retried elsewhere
AUDIT_CRON = config.AUDIT_CRON  # periodic audit, nightly in the worker's zone ([jobs] audit_cron)
DISPOSITION_CRON = config.DISPOSITION_CRON  # approved dispositions executed, nightly ([jobs] disposition_cron)

STATES = {"todo": "queued", "doing": "running", "succeeded": "done", "failed": "failed",
          "cancelled": "cancelled", "aborting": "running", "aborted": "cancelled"}

_DEFER = text(
    "SELECT (procrastinate_defer_jobs_v1(ARRAY[ROW(CAST(:queue AS varchar), CAST(:task AS varchar), 0, "
    "CAST(:lock AS text), CAST(:queueing_lock AS text), CAST(:args AS jsonb), CAST(NULL AS timestamptz))"
    "::procrastinate_job_to_defer_v1]))[1]"
)


# -- tasks ------------------------------------------------------------------------------------
def _ingest(archive: Archive, path: str, sha256: str, camera: str = "", zone: str = "",
            title: str = "") -> dict[str, Any]:
    from longwatch.core.preservation import ingest
    from longwatch.core.storage import replicate as storage_replicate

    existing = archive.catalog.find_clip(sha256)
    stored = False
    if existing is not None:  # stored before (an earlier attempt of this job, or another): no second package
        package_id = existing.package_id
        _complete_custody(archive, package_id)
    else:
        request = ingest.IngestRequest(path=Path(path), camera=camera, zone=zone, title=title)
        try:
            package_id, stored = ingest.ingest(archive, request).package_id, True
        except LongwatchError as exc:
            if exc.code != "I006":
                raise
            package_id = str(exc.context.get("package_id", ""))
    # The job is done only when the policy's copies exist: a replica that failed during ingest (or an
    # attempt killed between cataloguing and replicating) fails the job, and its retry completes them.
    storage_replicate.replicate(archive, package_id)
    if not storage_replicate.policy_met(archive, package_id):
        raise LongwatchError("J007", package_id=package_id)
    return {"package_id": package_id, "stored": stored}


def _complete_custody(archive: Archive, package_id: str) -> None:
    """A retry of a job whose attempt was killed after cataloguing: the ledger gets the missing events now,
    without waiting for ``ingest.recover`` to find the dead worker (it may have run on another host)."""
    from longwatch.core.preservation import ingest

    row = archive.catalog.get(package_id)
    if row is None:
        raise LongwatchError("J003", package_id=package_id)
    ingest.complete_custody(archive, package_id, archive.storage(row.storage_location))


def _replicate(archive: Archive, package_id: str) -> dict[str, Any]:
    from longwatch.core.storage import replicate as storage_replicate

    return {"package_id": package_id, "copied_to": storage_replicate.replicate(archive, package_id)}


def _audit_package(archive: Archive, package_id: str) -> dict[str, Any]:
    """Check every copy of one package; a bad copy is quarantined and repaired as in ``longwatch audit``."""
    from longwatch.core.storage import audit as storage_audit
    from longwatch.core.storage import copies as storage_copies

    row = archive.catalog.get(package_id)
    if row is None:
        raise LongwatchError("J003", package_id=package_id)
    checked = []
    for copy in storage_copies.copies_of(archive, package_id):
        adapter = archive.storage(copy.location)
        check = storage_copies.check_copy(adapter, row.id, row.tagmanifest_sha256)
        storage_copies.record_event(archive, row.id, copy.location, "fixity check",
                                    "success" if check.ok else "failure", check.summary(), bytes_read=check.bytes_read)
        if check.ok:
            storage_audit._set_copy(archive, row.id, copy.location, "ok", "ok")
        else:
            storage_audit._set_copy(archive, row.id, copy.location, "quarantined", "failed")
            source = storage_audit.repair(archive, row, adapter, check)
            storage_audit._set_copy(archive, row.id, copy.location, "ok", "repaired")
            storage_copies.record_event(archive, row.id, copy.location, "repair", "success",
                                        f"repaired {check.summary()}", source)
        checked.append({"location": copy.location, "ok": check.ok})
    return {"package_id": package_id, "copies": checked}


def _audit(archive: Archive, time_budget: float | None = None) -> dict[str, Any]:
    from longwatch.core.storage import audit as storage_audit

    result = storage_audit.audit(archive, time_budget=time_budget)
    return {"checked": len(result.checked), "lost": [e.code for e in result.lost]}


def _detect(archive: Archive, package_id: str, detector: str, parameters: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    from longwatch import registry
    from longwatch.commands.detect import detect_clip

    row = archive.catalog.get(package_id)
    if row is None:
        raise LongwatchError("J003", package_id=package_id)
    found = 0
    instance = registry.detector(archive.pm, detector, parameters or {})
    for clip in row.clips:  # resumes from its checkpoint after a crash
        found += len(detect_clip(archive, row, clip, instance).detections)
    return {"package_id": package_id, "detections": found}


def _require_copies(archive: Archive, package_id: str) -> None:
    """A derived package's job is done only when the replication policy's copies exist (as for ingest)."""
    from longwatch.core.storage import replicate as storage_replicate

    storage_replicate.replicate(archive, package_id)
    if not storage_replicate.policy_met(archive, package_id):
        raise LongwatchError("J007", package_id=package_id)


def _window(archive: Archive, package_id: str, start: str, end: str, result_id: str, reason: str = ""
            ) -> dict[str, Any]:
    """Cut ``start``..``end`` of a package into the derived package ``result_id`` (chosen at enqueueing)."""
    from longwatch.clock import parse_time
    from longwatch.core.preservation import derive, windows

    stored = derive.find_published(archive, result_id) is None  # else a killed attempt published it
    if stored:
        windows.window(archive, package_id, parse_time(start), parse_time(end), derive.Cause(reason=reason),
                       package_id_out=result_id)
    _require_copies(archive, result_id)
    return {"package_id": result_id, "source": package_id, "stored": stored}


def _event_window(archive: Archive, event_id: int) -> dict[str, Any]:
    """The window an event's rule asks for (queued with the event, in its transaction; core/events.py)."""
    from longwatch.core.events import record as events

    window = events.apply_rule(archive, event_id, stable_id=True)
    if window:
        _require_copies(archive, window)
    return {"event_id": event_id, "window": window}


def _redact(archive: Archive, package_id: str, result_id: str, faces: bool = True, persons: bool = False,
            boxes_file: str | None = None, keep: list[str] | None = None, reason: str = "") -> dict[str, Any]:
    """A redacted access copy of a package as the derived package ``result_id`` (chosen at enqueueing)."""
    from longwatch.core.preservation import derive, redact

    stored = derive.find_published(archive, result_id) is None
    if stored:
        redact.redact(archive, package_id, faces=faces, persons=persons,
                      boxes_file=Path(boxes_file) if boxes_file else None, keep=frozenset(keep or ()),
                      reason=reason, package_id_out=result_id)
    _require_copies(archive, result_id)
    return {"package_id": result_id, "source": package_id, "stored": stored}


def _export(archive: Archive, export_id: str, out_dir: str, request: dict[str, Any], zip_path: str | None = None
            ) -> dict[str, Any]:
    """An evidence export into ``out_dir``, written under a partial name and renamed when whole."""
    from longwatch.core.evidence import export

    result = export.export(archive, export.request_from_dict(request), Path(out_dir),
                           Path(zip_path) if zip_path else None, export_id=export_id)
    return {"export_id": result.export_id, "path": str(result.path), "files": result.files, "size": result.size,
            "zip": str(result.zip_path) if result.zip_path else None, "transfer_seq": result.transfer_seq}


#: Who carries out an approved disposition when a job does it; the approval named the people.
SCHEDULER = ("longwatch scheduler", "operator")
DISPOSE_LOCK = "dispose"


def _dispose(archive: Archive, disposition_id: str, actor: str = SCHEDULER[0], role: str = SCHEDULER[1]
             ) -> dict[str, Any]:
    """Execute an approved disposition (or resume an interrupted one); one already executed is reported."""
    from longwatch.core.records import retention

    disposition, _items = retention.get_disposition(archive, disposition_id)
    if disposition.status == "executed":
        return retention.result_of(archive, disposition.id)
    return retention.execute(archive, disposition.id, retention.Actor(actor, role))


def _dispose_due(archive: Archive) -> dict[str, Any]:
    """Every disposition a records manager approved (and any interrupted one), executed; nothing unapproved.

    Approval stays with people: this never proposes or approves, and
    ``retention.execute`` destroys only items still due and unheld (a hold
    placed after the approval keeps its packages).
    """
    from longwatch.core.records import retention

    done, failed = [], []
    for d in retention.list_dispositions(archive):
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


def _request_mask(archive: Archive, number: str, result_ids: dict[str, str], keep: list[str] | None = None,
                  actor: str = "") -> dict[str, Any]:
    """Mask a citizen's request's footage (core/requests.py); the copies' ids were chosen at enqueueing."""
    from longwatch.core.public import access_requests as requests

    req = requests.mask(archive, number, frozenset(keep or ()), actor, result_ids=result_ids)
    copies = requests.package_ids(req)
    for package_id in copies:
        _require_copies(archive, package_id)
    return {"number": number, "status": req.status, "packages": copies}


def _noop(archive: Archive, n: int = 0) -> dict[str, Any]:
    return {"n": n}


@dataclass(frozen=True)
class Task:
    run: Callable[..., dict[str, Any]]
    queue: str


#: Every job kind; more register the same way (``TASKS[name] = Task(fn, queue)``).
TASKS: dict[str, Task] = {
    "ingest": Task(_ingest, QUICK),
    "replicate": Task(_replicate, QUICK),
    "audit_package": Task(_audit_package, HEAVY),
    "audit": Task(_audit, HEAVY),
    "detect": Task(_detect, HEAVY),
    "window": Task(_window, HEAVY),
    "event_window": Task(_event_window, HEAVY),
    "redact": Task(_redact, HEAVY),
    "export": Task(_export, HEAVY),
    "dispose": Task(_dispose, HEAVY),
    "dispose_due": Task(_dispose_due, HEAVY),
    "request_mask": Task(_request_mask, HEAVY),
    "noop": Task(_noop, QUICK),
}


def run_task(archive: Archive, name: str, args: dict[str, Any]) -> dict[str, Any]:
    if name not in TASKS:
        raise LongwatchError("J002", task=name, known=", ".join(sorted(TASKS)))
    return TASKS[name].run(archive, **args)


#: Failures that come back the same however often the job runs: bad input, unknown rows, a lost package,
#: an export or a cut asked wrongly, a disposition not approved.
PERMANENT = ("I001", "I002", "I008", "R001", "R003", "J", "Q", "C", "A001", "A003", "E001", "E003", "E004",
             "E006", "E025", "D002", "D007", "D008", "D009", "D012", "D015", "H004", "H005", "H006", "H007")


#: ...except J007: copies still missing (an off-site store down) may be made on the next attempt.
RETRIED = ("J007",)


def permanent(exc: BaseException) -> bool:
    return isinstance(exc, LongwatchError) and exc.code.startswith(PERMANENT) and exc.code not in RETRIED


# -- enqueueing -------------------------------------------------------------------------------
def queued(archive: Archive) -> bool:
    """True when jobs go through procrastinate (a PostgreSQL catalog), False when they run in-process."""
    return archive.catalog.engine.dialect.name == "postgresql"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise LongwatchError("I002", path=path) from exc
    return digest.hexdigest()


def enqueue(archive: Archive, task: str, args: dict[str, Any], *, session: Session | None = None,
            lock: str | None = None, queueing_lock: str | None = None, queue: str | None = None
            ) -> int | dict[str, Any]:
    """Queue ``task`` (PostgreSQL: returns the job id) or run it now (SQLite: returns its result).

    With ``session`` the job is inserted in that session's transaction: it exists
    exactly when the catalog change made in the same session commits.
    """
    if task not in TASKS:
        raise LongwatchError("J002", task=task, known=", ".join(sorted(TASKS)))
    if not queued(archive):
        return run_task(archive, task, args)
    params = {"queue": queue or TASKS[task].queue, "task": task, "lock": lock, "queueing_lock": queueing_lock,
              "args": json.dumps(args, default=str)}
    if session is not None:
        return _defer(session, params)
    apply_schema(archive)
    with Session(archive.catalog.engine) as s, s.begin():
        return _defer(s, params)


def _defer(session: Session, params: dict[str, Any]) -> int:
    """Insert the job; one already waiting under the same queueing lock is returned instead of a second."""
    try:
        with session.begin_nested():
            return int(session.execute(_DEFER, params).scalar_one())
    except IntegrityError:
        if not params["queueing_lock"]:
            raise
    existing = session.execute(text(
        "SELECT id FROM procrastinate_jobs WHERE queueing_lock = :q AND status = 'todo'"),
        {"q": params["queueing_lock"]}).scalar()
    if existing is None:  # it started meanwhile: queue it once more, its ingest will find the clip
        return int(session.execute(_DEFER, {**params, "queueing_lock": None}).scalar_one())
    return int(existing)


def enqueue_ingest(archive: Archive, path: Path, camera: str = "", zone: str = "", title: str = "",
                   session: Session | None = None) -> int | dict[str, Any]:
    """An ingest job keyed by the file's SHA-256 and path: two jobs for one file never run at once."""
    path = path.resolve()
    sha256 = file_sha256(path)
    key = f"ingest:{sha256}"
    return enqueue(archive, "ingest", {"path": str(path), "sha256": sha256, "camera": camera, "zone": zone,
                                       "title": title}, session=session, lock=key, queueing_lock=f"{key}:{path}")


def enqueue_window(archive: Archive, package_id: str, start: str, end: str, reason: str = "",
                   session: Session | None = None) -> tuple[int | dict[str, Any], str]:
    """A window-cutting job; returns (job id or, in-process, its result) and the id its package will have."""
    result_id = str(uuid.uuid4())
    job = enqueue(archive, "window", {"package_id": package_id, "start": start, "end": end, "reason": reason,
                                      "result_id": result_id}, session=session, lock=f"derive:{result_id}")
    return job, result_id


def enqueue_redaction(archive: Archive, package_id: str, *, faces: bool = True, persons: bool = False,
                      boxes_file: Path | None = None, keep: list[str] | None = None, reason: str = "",
                      session: Session | None = None) -> tuple[int | dict[str, Any], str]:
    """A redaction job (never a dry run: listing tracks is quick); returns the job and the package id to be."""
    result_id = str(uuid.uuid4())
    job = enqueue(archive, "redact", {"package_id": package_id, "result_id": result_id, "faces": faces,
                                      "persons": persons, "boxes_file": str(boxes_file.resolve()) if boxes_file
                                      else None, "keep": sorted(keep or []), "reason": reason},
                  session=session, lock=f"derive:{result_id}")
    return job, result_id


def enqueue_export(archive: Archive, request: Any, out_dir: Path, zip_path: Path | None = None,
                   session: Session | None = None) -> tuple[int | dict[str, Any], str]:
    """An evidence-export job (``request`` an export.Request); returns the job and the export's id."""
    from longwatch.core.evidence import export

    export_id = str(uuid.uuid4())
    job = enqueue(archive, "export", {"export_id": export_id, "out_dir": str(out_dir.resolve()),
                                      "zip_path": str(zip_path.resolve()) if zip_path else None,
                                      "request": export.request_to_dict(request)},
                  session=session, lock=f"export:{out_dir.resolve()}")
    return job, export_id


def enqueue_disposition(archive: Archive, disposition_id: str, actor: str = SCHEDULER[0],
                        role: str = SCHEDULER[1], session: Session | None = None) -> int | dict[str, Any]:
    """Execute an approved disposition as a job; one already waiting for it is returned, not a second.

    Every disposition job (and the periodic one) holds the lock ``dispose``: two
    workers never execute dispositions at once, so no package's deletion is
    journalled twice. Dispositions are rare; they need no parallelism.
    """
    return enqueue(archive, "dispose", {"disposition_id": disposition_id, "actor": actor, "role": role},
                   session=session, lock=DISPOSE_LOCK, queueing_lock=f"dispose:{disposition_id}")


def enqueue_request_mask(archive: Archive, number: str, keep: Iterable[str] = (), actor: str = "",
                         session: Session | None = None) -> int | dict[str, Any]:
    """Masking of a request's footage as a job (face detection on every frame is long work; a web
    page must not wait for it). Refused at once when the request cannot be masked now (U002)."""
    from longwatch.core.public import access_requests as requests

    req = requests.get(archive, number)
    if "ready" not in requests.TRANSITIONS[req.status]:
        raise LongwatchError("U002", current=req.status, target="ready",
                             allowed=", ".join(requests.TRANSITIONS[req.status]))
    result_ids = {package_id: str(uuid.uuid4()) for package_id in requests.package_ids(req)}
    return enqueue(archive, "request_mask", {"number": req.number, "result_ids": result_ids,
                                             "keep": sorted(keep), "actor": actor},
                   session=session, lock=f"request:{req.number}", queueing_lock=f"request-mask:{req.number}")


# -- schema and listing ---------------------------------------------------------------------
def _conninfo(archive: Archive) -> str:
    url = archive.catalog.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _require_queue(archive: Archive) -> None:
    if not queued(archive):
        raise LongwatchError("J001")


_SCHEMA_SEEN: set[str] = set()  # catalogs known to have procrastinate's schema (asked once per process)


def apply_schema(archive: Archive) -> bool:
    """Install procrastinate's tables and functions once (True when it did); safe from many workers at once."""
    _require_queue(archive)
    key = str(archive.catalog.engine.url)
    if key in _SCHEMA_SEEN:
        return False
    import procrastinate

    with archive.catalog.engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(4242013)"))
        if connection.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None:
            _SCHEMA_SEEN.add(key)
            return False
        sql = procrastinate.schema.SchemaManager.get_schema()
        with connection.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(sql)  # no parameters: the schema's '%' signs stay as they are
    _SCHEMA_SEEN.add(key)
    return True


@dataclass
class JobRow:
    id: int
    task: str
    queue: str
    state: str
    attempts: int
    args: dict[str, Any]
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "task": self.task, "queue": self.queue, "state": self.state,
                "attempts": self.attempts, "args": self.args, "error_code": self.code or None,
                "error": self.message or None}


def list_jobs(archive: Archive, state: str | None = None, limit: int = 100) -> list[JobRow]:
    if not queued(archive):
        return []
    apply_schema(archive)
    statuses = [k for k, v in STATES.items() if v == state] if state else list(STATES)
    if state and not statuses:
        raise LongwatchError("J004", state=state, known=", ".join(sorted(set(STATES.values()))))
    query = text(
        "SELECT j.id, j.task_name, j.queue_name, j.status::text, j.attempts, j.args, f.code, f.message "
        "FROM procrastinate_jobs j LEFT JOIN job_failures f ON f.job_id = j.id "
        "WHERE j.status::text = ANY(:statuses) ORDER BY j.id DESC LIMIT :limit")
    with archive.catalog.engine.connect() as connection:
        rows = connection.execute(query, {"statuses": statuses, "limit": limit}).all()
    return [JobRow(id=r[0], task=r[1], queue=r[2], state=STATES.get(r[3], str(r[3])), attempts=r[4], args=r[5],
                   code=r[6] or "", message=r[7] or "") for r in rows]


def counts(archive: Archive) -> dict[str, int]:
    if not queued(archive):
        return {}
    apply_schema(archive)
    with archive.catalog.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")).all()
    out: dict[str, int] = {}
    for status, n in rows:
        out[STATES.get(status, status)] = out.get(STATES.get(status, status), 0) + n
    return out


def retry(archive: Archive, job_id: int) -> int:
    """Queue a failed job again (a new job with the same task and arguments); returns the new id."""
    _require_queue(archive)
    apply_schema(archive)
    with archive.catalog.engine.begin() as connection:
        row = connection.execute(text(
            "SELECT task_name, queue_name, status::text, args, lock FROM procrastinate_jobs WHERE id = :id"),
            {"id": job_id}).first()
        if row is None:
            raise LongwatchError("J003", package_id=f"job {job_id}")
        if row[2] != "failed":
            raise LongwatchError("J005", job_id=job_id, state=STATES.get(row[2], row[2]))
        new_id = int(connection.execute(_DEFER, {"queue": row[1], "task": row[0], "lock": row[4],
                                                 "queueing_lock": None,
                                                 "args": json.dumps(row[3])}).scalar_one())
    return new_id


def _record_failure(archive: Archive, job_id: int, task: str, attempt: int, exc: BaseException) -> None:
    code = exc.code if isinstance(exc, LongwatchError) else "J006"
    message = exc.render(translate=False) if isinstance(exc, LongwatchError) else f"{type(exc).__name__}: {exc}"
    try:
        with archive.catalog.engine.begin() as connection:
            connection.execute(text("DELETE FROM job_failures WHERE job_id = :id"), {"id": job_id})
            connection.execute(text(
                "INSERT INTO job_failures (job_id, task, code, message, attempt, failed_at) "
                "VALUES (:id, :task, :code, :message, :attempt, :at)"),
                {"id": job_id, "task": task, "code": code, "message": message[:2000], "attempt": attempt,
                 "at": clock.now().replace(tzinfo=None)})
    except Exception:
        log.exception("could not record the failure of job %s", job_id)


# -- workers ----------------------------------------------------------------------------------
_local = threading.local()


@contextmanager
def _thread_archive(root: Path) -> Iterator[Archive]:
    """One Archive per worker thread: sessions and adapters are not shared across threads."""
    archive = getattr(_local, "archive", None)
    if archive is None or archive.root != root:  # a thread kept from another worker run (tests) opens anew
        archive = _local.archive = Archive.open(root)
    yield archive


def make_app(archive: Archive) -> Any:
    """A procrastinate App over the catalog's PostgreSQL with every task registered."""
    _require_queue(archive)
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=_conninfo(archive)))
    root = archive.root
    class Strategy(procrastinate.RetryStrategy):
        """Back-off for what may pass (I/O, a lost connection, storage away); none for what cannot."""

        def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
            if permanent(exception):
                return None
            return super().get_retry_decision(exception=exception, job=job)

    strategy = Strategy(max_attempts=MAX_ATTEMPTS, exponential_wait=2)
    for name, spec in TASKS.items():
        def run(context: Any, _name: str = name, **args: Any) -> dict[str, Any]:
            with _thread_archive(root) as arch:
                try:
                    return run_task(arch, _name, args)
                except BaseException as exc:
                    _record_failure(arch, context.job.id, _name, context.job.attempts + 1, exc)
                    raise

        app.task(name=name, queue=spec.queue, retry=strategy, pass_context=True)(run)

    if archive.settings.audit_cron:
        @app.periodic(cron=archive.settings.audit_cron, periodic_id="audit")
        @app.task(name="periodic_audit", queue=HEAVY, pass_context=True)
        def periodic_audit(context: Any, timestamp: int) -> None:
            with _thread_archive(root) as arch:
                run_task(arch, "audit", {"time_budget": 3600.0})

    if archive.settings.disposition_cron:
        @app.periodic(cron=archive.settings.disposition_cron, periodic_id="disposition", lock=DISPOSE_LOCK)
        @app.task(name="periodic_disposition", queue=HEAVY, pass_context=True, retry=strategy)
        def periodic_disposition(context: Any, timestamp: int) -> dict[str, Any]:
            with _thread_archive(root) as arch:
                try:
                    return run_task(arch, "dispose_due", {})
                except BaseException as exc:
                    _record_failure(arch, context.job.id, "periodic_disposition", context.job.attempts + 1, exc)
                    raise

    return app


async def _rescue_stalled(app: Any, every: float) -> None:
    """Retry the running jobs of workers that stopped sending heartbeats (killed, cut off, powered down)."""
    while True:
        await asyncio.sleep(every)
        try:
            stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS)
            for job in stalled:
                log.warning("job %s (%s) stalled; retrying it", job.id, job.task_name)
                await app.job_manager.retry_job(job)
        except Exception:
            log.warning("could not look for stalled jobs", exc_info=True)


def run_worker(archive: Archive, queues: list[str] | None = None, concurrency: int = 1,
               wait: bool = True) -> None:
    """Run jobs until stopped (SIGTERM/SIGINT finish the running jobs first).

    ``wait=False`` returns once the queues are empty (tests and benchmarks).
    """
    from longwatch.core.preservation import ingest

    apply_schema(archive)
    ingest.recover(archive)  # what a worker killed mid-ingest left (a live writer's staging survives)
    app = make_app(archive)
    for name in queues or []:
        if name not in QUEUES:
            raise LongwatchError("J004", state=name, known=", ".join(QUEUES))

    async def main() -> None:
        async with app.open_async():
            rescue = asyncio.create_task(_rescue_stalled(app, STALLED_SECONDS / 2))
            try:
                await app.run_worker_async(queues=queues or None, concurrency=concurrency, wait=wait,
                                           update_heartbeat_interval=HEARTBEAT_SECONDS,
                                           stalled_worker_timeout=STALLED_SECONDS,
                                           fetch_job_polling_interval=1.0)
            finally:
                rescue.cancel()

    asyncio.run(main())
