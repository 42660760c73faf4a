"""The job API: in-process on SQLite, procrastinate on PostgreSQL; atomic enqueueing, failures and retry."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import unique_copy
from sqlalchemy import text

from longwatch.core.jobs import queue as jobs
from longwatch.core.preservation import tasks as preservation_tasks
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl


def test_sqlite_runs_jobs_in_process_and_ingest_is_keyed_by_sha256(archive, tmp_path, small_clip, lw):
    clip = unique_copy(small_clip, tmp_path / "a.mp4")
    first = preservation_tasks.enqueue_ingest(archive, clip, camera="cam-01")
    assert isinstance(first, dict) and first["stored"]
    again = preservation_tasks.enqueue_ingest(archive, clip, camera="cam-01")  # the same file: found, not stored twice
    assert again == {"package_id": first["package_id"], "stored": False}
    assert len(archive.catalog.all_ids()) == 1
    assert not (archive.root / "storage" / "staged").exists()  # one machine: read where it is, nothing staged
    result = lw("jobs", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"queued": False, "counts": {}, "jobs": []}
    assert lw("worker").exit_code == 14  # J001: no queue on SQLite
    assert "J001" in lw("jobs", "retry", "1").output


def test_unknown_task_is_refused(archive):
    with pytest.raises(LongwatchError) as exc:
        jobs.enqueue(archive, "no-such-task", {})
    assert exc.value.code == "J002"


@pytest.fixture
def pg_archive(pg_url, archive):
    """The usual test archive, its catalog on a fresh PostgreSQL database (so jobs are queued)."""
    return archive


def test_enqueue_is_atomic_with_the_catalog_change(pg_archive):
    jobs.apply_schema(pg_archive)
    assert not jobs.apply_schema(pg_archive)  # once only
    with pytest.raises(RuntimeError), pg_archive.catalog.session() as s:
        jobs.enqueue(pg_archive, "noop", {"n": 1}, session=s)
        raise RuntimeError("the catalog change fails")
    assert jobs.list_jobs(pg_archive) == []
    with pg_archive.catalog.session() as s:
        job_id = jobs.enqueue(pg_archive, "noop", {"n": 2}, session=s)
    [row] = jobs.list_jobs(pg_archive)
    assert (row.id, row.task, row.queue, row.state) == (job_id, "noop", "quick", "queued")


def test_failed_job_shows_its_code_and_can_be_retried(pg_archive, tmp_path, small_clip, lw):
    missing = jobs.enqueue(pg_archive, "replicate", {"package_id": "00000000-0000-0000-0000-000000000000"})
    clip = unique_copy(small_clip, tmp_path / "b.mp4")
    ok = preservation_tasks.enqueue_ingest(pg_archive, clip)
    assert preservation_tasks.enqueue_ingest(pg_archive, clip) == ok  # already waiting: the same job, not a second
    assert jobs.enqueue(pg_archive, "audit_package", {"package_id": "nope"}, queue=jobs.HEAVY)
    jobs.run_worker(pg_archive, ["quick"], concurrency=1, wait=False)  # a missing package: no retry
    states = {r.id: r for r in jobs.list_jobs(pg_archive)}
    assert states[ok].state == "done"
    assert (states[missing].state, states[missing].code) == ("failed", "I008")
    assert [r.state for r in jobs.list_jobs(pg_archive, "queued")] == ["queued"]  # the heavy one waits
    out = json.loads(lw("jobs", "--state", "failed", "--json").output)
    assert [j["id"] for j in out["jobs"]] == [missing] and out["jobs"][0]["error_code"]
    result = lw("jobs", "retry", str(missing))
    assert result.exit_code == 0, result.output
    assert lw("jobs", "retry", str(ok)).exit_code == 14  # J005: only failed jobs
    assert lw("jobs", "--state", "bogus").exit_code == 2
    with pg_archive.catalog.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE task_name='replicate'")).scalar() == 2


def test_worker_app_has_every_task_on_its_queue_and_a_nightly_audit(pg_archive):
    app = jobs.make_app(pg_archive)
    tasks = jobs.tasks(pg_archive)
    assert {name: app.tasks[name].queue for name in tasks} == {n: t.queue for n, t in tasks.items()}
    assert tasks["ingest"].queue == jobs.QUICK and tasks["audit_package"].queue == jobs.HEAVY
    periodic = {p.task.name: p for p in app.periodic_registry.periodic_tasks.values()}
    assert (periodic["periodic_audit"].cron, periodic["periodic_audit"].task.queue) == (jobs.AUDIT_CRON, jobs.HEAVY)
    assert set(periodic) == {"periodic_audit", "periodic_disposition"}  # the disposition: tests/test_jobs_kinds.py


def test_a_worker_starts_with_prepare_worker_which_recovers_what_a_killed_ingest_left(pg_archive, monkeypatch):
    from longwatch.core.preservation import publish

    seen = []
    monkeypatch.setattr(publish, "recover", lambda archive: seen.append(("built-in", archive)))

    class Watcher:
        @hookimpl
        def prepare_worker(self, archive):
            seen.append(("plugin", archive))

    pg_archive.pm.register(Watcher(), name="watcher")
    jobs.run_worker(pg_archive, wait=False)
    assert sorted(name for name, archive in seen if archive is pg_archive) == ["built-in", "plugin"]


def test_every_task_keeps_its_name_queue_and_schedule_in_a_fresh_process(archive):
    """Workers in other processes find each feature's tasks by name, through the built-in plugins."""
    code = ("import json, sys\nfrom longwatch.core.archive import Archive\nfrom longwatch.core.jobs import queue\n"
            "tasks = queue.tasks(Archive.open(sys.argv[1]))\n"
            "print(json.dumps({n: [t.queue, t.schedule and t.schedule.task] for n, t in tasks.items()}))")
    out = subprocess.run([sys.executable, "-c", code, str(archive.root)], capture_output=True, text=True,
                         check=True).stdout
    quick, heavy = [jobs.QUICK, None], [jobs.HEAVY, None]
    assert json.loads(out) == {
        "ingest": quick, "ingest_upload": quick, "replicate": quick, "noop": quick, "audit_package": heavy,
        "audit": [jobs.HEAVY, "periodic_audit"], "detect": heavy, "window": heavy, "event_window": heavy,
        "redact": heavy, "export": heavy, "dispose": heavy, "dispose_due": [jobs.HEAVY, "periodic_disposition"],
        "request_mask": heavy}
    assert {n: t.queue for n, t in jobs.tasks(archive).items()} == {n: q for n, (q, _) in json.loads(out).items()}


def test_a_retry_records_the_custody_events_a_killed_attempt_left_out(archive, tmp_path, small_clip, monkeypatch):
    """Killed between cataloguing and the ledger append: the retry appends the events from premis.xml."""
    from longwatch.core import custody

    clip = unique_copy(small_clip, tmp_path / "killed.mp4")
    seen = {}

    def killed(arch, package_id, events, agents, payload=None):
        seen.update(events=list(events), agents={a.identifier: a for a in agents})
        raise RuntimeError("SIGKILL here")

    monkeypatch.setattr(custody, "record_package_events", killed)
    with pytest.raises(RuntimeError):
        preservation_tasks.enqueue_ingest(archive, clip)
    monkeypatch.undo()
    [pid] = archive.catalog.all_ids()
    ledger = custody.Ledger.for_archive(archive)
    assert ledger.history(pid) == []
    assert preservation_tasks.enqueue_ingest(archive, clip) == {"package_id": pid, "stored": False}
    entries = [entry for _, entry, _ in ledger.history(pid)]
    assert [(e["event_id"], e["type"], e["outcome"], e["detail"]) for e in entries] == [
        (e.identifier, e.type, e.outcome, e.detail) for e in seen["events"]]
    assert [[(a["id"], a["role"], a.get("name")) for a in e["agents"]] for e in entries] == [
        [(a, r, seen["agents"][a].name if a in seen["agents"] else None) for a, r in e.agents]
        for e in seen["events"]]
    preservation_tasks.enqueue_ingest(archive, clip)  # a third run adds nothing
    assert len(ledger.history(pid)) == len(entries)
    assert custody.verify_ledger(ledger, [archive.certificate]).ok
