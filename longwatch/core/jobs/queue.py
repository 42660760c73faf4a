"""Long work as jobs: in-process on the embedded default, procrastinate on PostgreSQL.

The queue only: it knows no feature. A job is a task name plus JSON
arguments; each feature declares its tasks in its own ``tasks.py`` (ingest,
windows and redaction in :mod:`longwatch.core.preservation.tasks`,
replication and audits in :mod:`longwatch.core.storage.tasks`, ...) and
returns them from the ``register_tasks`` hook, so a worker in any process
finds them through the archive's plugin manager (docs/plugins.md). This
module holds what every task shares: :class:`Task`, :func:`run_task`,
enqueueing, the retry rules, the failure records, listing, and the worker.

The only module that imports procrastinate. On SQLite (one machine, local
disk) :func:`enqueue` runs the task right away in the calling process, as
longwatch always did. On PostgreSQL it inserts a procrastinate job through
procrastinate's own SQL function on the *caller's* catalog connection, so the
job commits or rolls back with the catalog change that asked for it (no
outbox needed: the queue lives in the catalog's database).

Every task must be idempotent: run again with the same arguments (a retry
after a kill) it finds what its earlier attempt finished instead of doing it
twice (each ``tasks.py`` says how its tasks manage).

A worker killed mid-job leaves only staging behind (packages are
published atomically) and procrastinate's heartbeat marks the job stalled;
every worker retries stalled jobs of dead workers (see :func:`run_worker`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from longwatch import clock, config
from longwatch.core import accounts
from longwatch.core.archive import Archive
from longwatch.errors import LongwatchError
from longwatch.extras import require
from longwatch.hookspecs import hookimpl

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
@dataclass(frozen=True)
class Schedule:
    """A task every worker also defers on a cron schedule (procrastinate's periodic tasks).

    ``cron`` reads the cron line from the archive's settings; an empty one
    turns the schedule off. ``task`` and ``periodic_id`` name the periodic
    task in procrastinate's tables, so they never change once deployed. With
    ``retry`` a failed tick is retried with back-off and its failure recorded
    like any job's; without, it waits for the next tick.
    """

    task: str
    periodic_id: str
    cron: Callable[[config.Settings], str]
    args: dict[str, Any] = field(default_factory=dict)
    lock: str | None = None
    retry: bool = True


@dataclass(frozen=True)
class Task:
    """A kind of job: ``run(archive, **args)`` on ``queue``, returning a JSON-able result.

    Declared by a feature's ``register_tasks`` hook. ``name`` is what
    :func:`enqueue` takes and what procrastinate stores with each job, so
    workers in other processes find the task by it: it never changes.
    """

    name: str
    run: Callable[..., dict[str, Any]]
    queue: str
    schedule: Schedule | None = None


def tasks(archive: Archive) -> dict[str, Task]:
    """Every task the archive's plugins declare (``register_tasks``), by name.

    Two plugins declaring one name is P003: a job must never run the wrong code.
    """
    found: dict[str, Task] = {}
    owners: dict[str, str] = {}
    for impl in archive.pm.hook.register_tasks.get_hookimpls():
        for task in cast("list[Task]", impl.function() or []):
            if task.name in found and found[task.name] is not task:
                raise LongwatchError("P003", detail=f"two plugins register the job task {task.name!r}: "
                                                    f"{owners[task.name]} and {impl.plugin_name}")
            found[task.name], owners[task.name] = task, impl.plugin_name
    return found


def _noop(archive: Archive, n: int = 0) -> dict[str, Any]:
    return {"n": n}


NOOP = Task("noop", _noop, QUICK)  # the queue's own overhead, measured by benchmarks/jobs.py


@hookimpl
def register_tasks() -> list[Task]:
    return [NOOP]


#: The job argument naming the account that queued it (issue 21): the worker acts for it, not for its OS user.
REQUESTED_BY = "_requested_by"


def run_task(archive: Archive, name: str, args: dict[str, Any]) -> dict[str, Any]:
    registered = tasks(archive)
    if name not in registered:
        raise LongwatchError("J002", task=name, known=", ".join(sorted(registered)))
    args = dict(args)
    requested_by = args.pop(REQUESTED_BY, None)
    if not requested_by:
        return registered[name].run(archive, **args)
    before = archive.act_as(str(requested_by))  # ledger entries, exports and reports name who asked
    try:
        return registered[name].run(archive, **args)
    finally:
        archive.act_as(before)


#: Failures that come back the same however often the job runs: bad input (a duplicate, staged bytes that are
#: not what was queued, an upload whose digest is wrong), unknown rows, a lost package, an export or a cut asked
#: wrongly, a disposition not approved.
PERMANENT = ("I001", "I002", "I006", "I008", "I053", "I054", "W017", "R001", "R003", "J", "Q", "C", "A001",
             "A003", "E001", "E003", "E004", "E006", "E025", "D002", "D007", "D008", "D009", "D012", "D015", "H004",
             "H005", "H006", "H007")


#: ...except J007: copies still missing (an off-site store down) may be made on the next attempt.
RETRIED = ("J007",)


def permanent(exc: BaseException) -> bool:
    return isinstance(exc, LongwatchError) and exc.code.startswith(PERMANENT) and exc.code not in RETRIED


# -- enqueueing -------------------------------------------------------------------------------
def queued(archive: Archive) -> bool:
    """True when jobs go through procrastinate (a PostgreSQL catalog), False when they run in-process."""
    return archive.catalog.engine.dialect.name == "postgresql"


def enqueue(archive: Archive, task: str, args: dict[str, Any], *, session: Session | None = None,
            lock: str | None = None, queueing_lock: str | None = None, queue: str | None = None
            ) -> int | dict[str, Any]:
    """Queue ``task`` (PostgreSQL: returns the job id) or run it now (SQLite: returns its result).

    With ``session`` the job is inserted in that session's transaction: it exists
    exactly when the catalog change made in the same session commits.
    """
    registered = tasks(archive)
    if task not in registered:
        raise LongwatchError("J002", task=task, known=", ".join(sorted(registered)))
    if not queued(archive):
        return run_task(archive, task, args)
    if archive.acting and REQUESTED_BY not in args:
        args = {**args, REQUESTED_BY: archive.acting}
    params = {"queue": queue or registered[task].queue, "task": task, "lock": lock, "queueing_lock": queueing_lock,
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
    require("procrastinate", "postgresql")  # T002 without the extra, not an ImportError
    import procrastinate  # PostgreSQL only

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


def job(archive: Archive, job_id: int) -> JobRow | None:
    """One job by id (the REST API follows a job it queued); None on the embedded catalog, where none wait."""
    if not queued(archive):
        return None
    apply_schema(archive)
    query = text(
        "SELECT j.id, j.task_name, j.queue_name, j.status::text, j.attempts, j.args, f.code, f.message "
        "FROM procrastinate_jobs j LEFT JOIN job_failures f ON f.job_id = j.id WHERE j.id = :id")
    with archive.catalog.engine.connect() as connection:
        r = connection.execute(query, {"id": job_id}).first()
    if r is None:
        return None
    return JobRow(id=r[0], task=r[1], queue=r[2], state=STATES.get(r[3], str(r[3])), attempts=r[4], args=r[5],
                  code=r[6] or "", message=r[7] or "")


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
        # scheduled work (no requester) is credited to the account an administrator mapped this OS user to
        service = accounts.os_user_account(archive.catalog, accounts.os_user())
        archive.act_as(service.username if service else None)
    yield archive


def make_app(archive: Archive) -> Any:
    """A procrastinate App over the catalog's PostgreSQL with every task registered."""
    _require_queue(archive)
    require("procrastinate", "postgresql")  # T002 without the extra, not an ImportError
    import procrastinate  # PostgreSQL only

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=_conninfo(archive)))
    root = archive.root
    class Strategy(procrastinate.RetryStrategy):
        """Back-off for what may pass (I/O, a lost connection, storage away); none for what cannot."""

        def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
            if permanent(exception):
                return None
            return super().get_retry_decision(exception=exception, job=job)

    strategy = Strategy(max_attempts=MAX_ATTEMPTS, exponential_wait=2)
    registered = tasks(archive)
    for name, spec in registered.items():
        def run(context: Any, _name: str = name, **args: Any) -> dict[str, Any]:
            with _thread_archive(root) as arch:
                try:
                    return run_task(arch, _name, args)
                except BaseException as exc:
                    _record_failure(arch, context.job.id, _name, context.job.attempts + 1, exc)
                    raise

        app.task(name=name, queue=spec.queue, retry=strategy, pass_context=True)(run)

    for spec in registered.values():
        schedule = spec.schedule
        cron = schedule.cron(archive.settings) if schedule else ""
        if not schedule or not cron:
            continue

        def tick(context: Any, timestamp: int, _spec: Task = spec, _schedule: Schedule = schedule
                 ) -> dict[str, Any]:
            with _thread_archive(root) as arch:
                try:
                    return run_task(arch, _spec.name, dict(_schedule.args))
                except BaseException as exc:
                    if _schedule.retry:  # else the failed tick just waits for the next one
                        _record_failure(arch, context.job.id, _schedule.task, context.job.attempts + 1, exc)
                    raise

        lock: dict[str, Any] = {"lock": schedule.lock} if schedule.lock else {}
        app.periodic(cron=cron, periodic_id=schedule.periodic_id, **lock)(
            app.task(name=schedule.task, queue=spec.queue, pass_context=True,
                     retry=strategy if schedule.retry else False)(tick))

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

    A worker outlives its database connection being cut (PostgreSQL restarted, a failover, a network blip
    landing mid-query), which used to end it in one of two ways: procrastinate's fetch raised and the
    process exited, or its heartbeat task died while jobs went on running, so after ``STALLED_SECONDS``
    every worker took this one's running jobs for a dead worker's and ran them a second time. Now the
    heartbeat is kept here (:func:`_keep_heartbeat`), going on through failures, and a worker loop that
    fails or stops on its own is started again after a back-off (J010 in the log each time), registered
    anew. A supervisor is still wanted for what kills the process.
    """
    apply_schema(archive)
    archive.pm.hook.prepare_worker(archive=archive)  # e.g. what a worker killed mid-ingest left
    app = make_app(archive)
    for name in queues or []:
        if name not in QUEUES:
            raise LongwatchError("J004", state=name, known=", ".join(QUEUES))
    from procrastinate.worker import Worker

    options: dict[str, Any] = {"queues": queues or None, "concurrency": concurrency, "wait": wait,
                               "fetch_job_polling_interval": 1.0, "install_signal_handlers": False,
                               "stalled_worker_timeout": STALLED_SECONDS,
                               # procrastinate's heartbeat task ends at its first failure; ours goes on
                               "update_heartbeat_interval": 24 * 3600.0}

    async def main() -> None:
        stopping = asyncio.Event()
        current: list[Any] = []

        def stop() -> None:
            stopping.set()
            for worker in current:
                worker.stop()

        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop)
        delay = 1.0
        while not stopping.is_set():
            worker = Worker(app=app, **options)
            current[:] = [worker]
            try:
                async with app.open_async():
                    side = [asyncio.create_task(_rescue_stalled(app, STALLED_SECONDS / 2)),
                            asyncio.create_task(_keep_heartbeat(app, worker))]
                    try:
                        await worker.run()
                    finally:
                        for task in side:
                            task.cancel()
                delay = 1.0
                if not wait or stopping.is_set():
                    return
                problem = "the worker stopped on its own"
            except Exception as exc:
                if not wait or not _connection_lost(exc):  # a run to an empty queue reports, never loops
                    raise
                problem = " ".join(f"{type(exc).__name__}: {exc.__cause__ or exc}".split())
            log.warning("[J010] %s", LongwatchError("J010", error=problem[:300], seconds=f"{delay:g}").render())
            try:
                await asyncio.wait_for(stopping.wait(), delay)
            except TimeoutError:
                delay = min(delay * 2, 30.0)

    asyncio.run(main())


def _connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` is the job queue's database going away (retried), not a bug (raised)."""
    import procrastinate
    import psycopg

    return isinstance(exc, procrastinate.exceptions.ConnectorException | psycopg.OperationalError | OSError)


async def _keep_heartbeat(app: Any, worker: Any) -> None:
    """The worker's heartbeat every ``HEARTBEAT_SECONDS``, going on through failures (J010 in the log)."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        if worker.worker_id is None:
            continue
        try:
            await app.job_manager.update_heartbeat(worker.worker_id)
        except Exception as exc:
            if not _connection_lost(exc):
                raise
            log.warning("[J010] %s", LongwatchError("J010", error=f"heartbeat: {type(exc).__name__}",
                                                   seconds=f"{HEARTBEAT_SECONDS:g}").render())
