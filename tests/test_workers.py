"""Workers on one PostgreSQL and one S3 server: a SIGKILLed worker, a lost connection, two web processes.

Real processes (``longwatch worker``), real servers on loopback. The issue's
numbers: three workers, 200 clips (unique copies of one tiny ffmpeg clip made once
per session, so the time goes to the queue and ingest, not to ffmpeg).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cluster_kit import open_cluster_archive, stop, store_on_s3, wait_for_jobs, worker
from conftest import LONGWATCH, create_archive, unique_copy
from sqlalchemy import text

from longwatch.core import custody
from longwatch.core.archive import Archive
from longwatch.core.jobs import queue as jobs
from longwatch.core.preservation import tasks as preservation_tasks
from longwatch.core.storage import copies as storage_copies

#: enough for the victim to be killed mid-run while it holds jobs (after a quarter is done) with work left for
#: the others: 200 took nine minutes on a slower two-core machine, the tail of the whole suite
N_CLIPS = 80
pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(postgres_server, s3_server, archive_dir, monkeypatch):
    """An archive whose catalog is PostgreSQL and whose two locations are S3 buckets (two copies each)."""
    monkeypatch.setenv("LONGWATCH_CATALOG_URL", postgres_server.create_database())
    create_archive(archive_dir).close()
    store_on_s3(archive_dir, s3_server, ("primary", "offsite"))
    a = open_cluster_archive(archive_dir)
    yield a
    a.close()


def _worker_ids(archive: Archive) -> set[int]:
    with archive.catalog.engine.connect() as c:
        return set(c.execute(text("SELECT id FROM procrastinate_workers")).scalars())


def _register(archive: Archive, proc: subprocess.Popen[bytes], log: Path, known: set[int]) -> int:
    """The procrastinate worker id of ``proc``, started after the workers in ``known``."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        new = _worker_ids(archive) - known
        if new:
            return new.pop()
        assert proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.2)
    raise AssertionError(f"worker did not start\n{log.read_text()[-3000:]}")


def test_three_workers_one_killed_every_clip_stored_once_and_audited(cluster, tmp_path, small_clip):
    shared = tmp_path / "shared"
    clips = [unique_copy(small_clip, shared / f"cam-{i % 4:02d}_{i:03d}.mp4") for i in range(N_CLIPS)]
    with cluster.catalog.session() as s:  # one transaction: the workers see all of them at once, or none
        ids = [preservation_tasks.enqueue_ingest(cluster, clip, camera=f"cam-{i % 4:02d}", session=s)
               for i, clip in enumerate(clips)]
    # the same file queued twice while the first is pending: one job (queueing lock), never two packages
    assert preservation_tasks.enqueue_ingest(cluster, clips[0], camera="cam-00") == ids[0]
    log = tmp_path / "workers.log"
    victim = worker(cluster.root, log, "--concurrency", "2")
    procs = [victim]
    try:
        victim_id = _register(cluster, victim, log, set())
        procs += [worker(cluster.root, log, "--concurrency", "2") for _ in range(2)]
        deadline = time.monotonic() + 600
        held: list[int] = []
        while time.monotonic() < deadline:  # mid-run, and mid-job: the victim holds jobs when it dies
            with cluster.catalog.engine.connect() as c:
                done = c.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'")).scalar()
                held = list(c.execute(text("SELECT id FROM procrastinate_jobs WHERE status = 'doing' "
                                           "AND worker_id = :w"), {"w": victim_id}).scalars())
            if done >= N_CLIPS // 4 and held:
                os.kill(victim.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        victim.wait()
        with cluster.catalog.engine.connect() as c:  # what it held when it died: nobody may finish it but a retry
            held = list(c.execute(text("SELECT id FROM procrastinate_jobs WHERE status = 'doing' AND worker_id = :w"),
                                  {"w": victim_id}).scalars())
        assert held, "the victim held no job when it was killed"
        counts = wait_for_jobs(cluster, N_CLIPS, log, timeout=1200)
        assert counts == {"done": N_CLIPS}, counts
        packages = cluster.catalog.all_ids()
        with cluster.catalog.session() as s:
            audit_ids = [jobs.enqueue(cluster, "audit_package", {"package_id": p}, session=s) for p in packages]
        wait_for_jobs(cluster, N_CLIPS + len(audit_ids), log, timeout=1200)
    finally:
        stop(*procs)

    assert len(ids) == len(set(ids)) == N_CLIPS
    with cluster.catalog.engine.connect() as c:
        clips_rows = c.execute(text("SELECT sha256, count(*) FROM clips GROUP BY sha256")).all()
        states = dict(c.execute(text("SELECT id, status::text FROM procrastinate_jobs")).all())
        retried = dict(c.execute(text("SELECT id, attempts FROM procrastinate_jobs WHERE id = ANY(:ids)"),
                                 {"ids": held}).all())
        checks = c.execute(text("SELECT count(*) FROM copies WHERE status = 'ok' AND last_checked_at IS NOT NULL")
                           ).scalar()
    # no job lost: every queued job (and only those) ran to success; the killed one's jobs ran again
    assert set(states) == set(ids) | set(audit_ids) and set(states.values()) == {"succeeded"}
    assert all(retried[j] >= 1 for j in held), retried
    assert "stalled; retrying it" in log.read_text()
    # nothing run twice to effect: each clip stored exactly once, one package each, copies per policy
    assert len(clips_rows) == N_CLIPS and all(n == 1 for _, n in clips_rows)
    assert {sha for sha, _ in clips_rows} == {preservation_tasks.file_sha256(clip) for clip in clips}
    assert len(packages) == N_CLIPS
    for pid in packages:
        assert {c.location for c in storage_copies.copies_of(cluster, pid) if c.status == "ok"} == {
            "primary", "offsite"}
    assert checks == 2 * N_CLIPS  # every copy audited
    # the ledger: each package's ingest events exactly once (none missing after the kill, none doubled)
    ledger = custody.Ledger.for_archive(cluster)
    event_ids = []
    for pid in packages:
        history = [entry for _, entry, _ in ledger.history(pid)]
        assert [e["type"] for e in history].count("ingestion") == 1, (pid, history)
        event_ids += [e["event_id"] for e in history if e["type"] != "fixity check"]
    assert len(event_ids) == len(set(event_ids))
    env = os.environ.copy()
    for args in (["custody", "verify"], ["verify", "--all", "--fast"]):
        result = subprocess.run([*LONGWATCH, "-A", str(cluster.root), *args], capture_output=True, text=True,
                                env=env, timeout=900)
        assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])


def test_worker_recovers_after_losing_its_database_connection(cluster, tmp_path, small_clip):
    log = tmp_path / "worker.log"
    first = preservation_tasks.enqueue_ingest(cluster, unique_copy(small_clip, tmp_path / "one.mp4"))
    proc = worker(cluster.root, log, "--concurrency", "2")
    try:
        wait_for_jobs(cluster, 1, log, timeout=120)
        database = cluster.catalog.engine.url.database
        with cluster.catalog.engine.begin() as c:
            killed = c.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database}).scalar()
        assert killed >= 1
        cluster.catalog.engine.dispose()  # our own pool lost its connections too
        second = preservation_tasks.enqueue_ingest(cluster, unique_copy(small_clip, tmp_path / "two.mp4"))
        counts = wait_for_jobs(cluster, 2, log, timeout=180)
        assert proc.poll() is None, log.read_text()[-3000:]
    finally:
        stop(proc)
    assert counts == {"done": 2} and first != second


#: procrastinate's SQL functions a worker calls: its heartbeat, and the fetch of its next job
CUT = {"heartbeat": ("procrastinate_update_heartbeat_v1", "worker_id bigint", "void"),
       "fetch": ("procrastinate_fetch_job_v2", "target_queue_names character varying[], p_worker_id bigint",
                 "procrastinate_jobs")}


def _cut_mid_query(archive: Archive, which: str, cut: bool) -> None:
    """Put (or take away) in place of one of procrastinate's functions one that kills its own connection
    mid-query: deterministic, where terminating a connection from outside only sometimes lands mid-query."""
    name, arguments, returns = CUT[which]
    with archive.catalog.engine.begin() as c:
        if cut:
            c.execute(text(f"ALTER FUNCTION {name}({arguments}) RENAME TO {name}_kept"))
            c.execute(text(f"CREATE FUNCTION {name}({arguments}) RETURNS {returns} LANGUAGE plpgsql AS $$ "
                           "BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN"
                           f"{'' if returns == 'void' else ' NULL'}; END; $$"))
        else:
            c.execute(text(f"DROP FUNCTION {name}({arguments})"))
            c.execute(text(f"ALTER FUNCTION {name}_kept({arguments}) RENAME TO {name}"))


@pytest.mark.parametrize("which", sorted(CUT))
def test_a_worker_outlives_a_connection_cut_in_the_middle_of_its_own_query(cluster, tmp_path, small_clip, which):
    """The connection is cut while the worker's own query runs (PostgreSQL restarted, a failover, a network
    blip mid-commit). A cut fetch used to end the process; a cut heartbeat left a worker running jobs with a
    dead heartbeat, whose jobs every worker would take for a dead worker's and run again. Now the worker
    carries on (J010 in its log), its heartbeat stays fresh, and it takes the next job."""
    log = tmp_path / "worker.log"
    preservation_tasks.enqueue_ingest(cluster, unique_copy(small_clip, tmp_path / "one.mp4"))
    proc = worker(cluster.root, log, "--concurrency", "2")
    try:
        wait_for_jobs(cluster, 1, log, timeout=120)
        _cut_mid_query(cluster, which, True)
        try:
            time.sleep(3 * jobs.HEARTBEAT_SECONDS + 1)  # heartbeats and fetches lost their connections mid-query
        finally:
            _cut_mid_query(cluster, which, False)
        assert proc.poll() is None, log.read_text()[-3000:]
        preservation_tasks.enqueue_ingest(cluster, unique_copy(small_clip, tmp_path / "two.mp4"))
        counts = wait_for_jobs(cluster, 2, log, timeout=120)
        time.sleep(jobs.STALLED_SECONDS)  # a dead heartbeat would be older than this now
        with cluster.catalog.engine.connect() as c:
            ages = c.execute(text("SELECT extract(epoch FROM now() - last_heartbeat) FROM procrastinate_workers"
                                  )).scalars().all()
        assert proc.poll() is None, log.read_text()[-3000:]
        assert ages and min(ages) < 2 * jobs.HEARTBEAT_SECONDS + 1, (ages, log.read_text()[-3000:])
    finally:
        stop(proc)
    assert counts == {"done": 2}
    assert "J010" in log.read_text()  # said, with its code, in the worker's log


def test_a_run_to_an_empty_queue_reports_a_lost_connection_instead_of_starting_again(cluster):
    """``wait=False`` (tests, benchmarks, a one-off drain) raises what cut it off rather than looping."""
    import threading

    import procrastinate

    raised: list[BaseException] = []

    def drain() -> None:
        try:
            jobs.run_worker(cluster, None, wait=False)
        except BaseException as exc:
            raised.append(exc)

    _cut_mid_query(cluster, "fetch", True)
    try:
        runner = threading.Thread(target=drain, daemon=True)
        runner.start()
        runner.join(60)
    finally:
        _cut_mid_query(cluster, "fetch", False)
    assert not runner.is_alive(), "the run kept starting again"
    assert raised and isinstance(raised[0], procrastinate.exceptions.ConnectorException), raised


def test_two_web_processes_share_a_session(cluster, tmp_path):
    import requests
    from serve_kit import start_serve
    from web_fixtures import PASSWORD

    from longwatch.core import accounts

    accounts.add_user(cluster.catalog, "auditor", PASSWORD, "auditor")
    started = [start_serve(cluster.root, tmp_path / f"web{i}.log", "--workers", "1") for i in range(2)]
    procs, bases = [p for p, _ in started], [b for _, b in started]
    try:
        s = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(bases[0] + "/login").text).group(1)
        r = s.post(bases[0] + "/login", data={"username": "auditor", "password": PASSWORD, "csrf_token": token},
                   allow_redirects=False)
        assert r.status_code == 302, r.text
        other = s.get(bases[1] + "/", allow_redirects=False)  # the session cookie, answered by the other process
        assert other.status_code == 200, (other.status_code, other.headers.get("Location"))
        anonymous = requests.get(bases[1] + "/", allow_redirects=False)
        assert anonymous.status_code == 302
    finally:
        stop(*procs)
