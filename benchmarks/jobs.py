"""Jobs and workers on PostgreSQL: ingest throughput with 1 and 2 workers, and queue overhead.

Run: ``.venv/bin/python benchmarks/jobs.py [--ingest 60] [--noop 500]``. A throwaway
PostgreSQL (fsync on) and a fresh archive on local disk; the clips are unique
copies of one small ffmpeg clip on shared storage (a directory). Times come from
procrastinate's own events (first start to last success), so worker start-up is
not counted. The queue-overhead baseline, measured in the same run, is a plain
``INSERT`` of the rows then a ``SELECT ... FOR UPDATE SKIP LOCKED`` + ``UPDATE`` +
``COMMIT`` loop from one client.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from search import throwaway_postgres  # benchmarks/search.py
from sqlalchemy import text

from longwatch.core.archive import Archive
from longwatch.core.jobs import queue as jobs
from longwatch.core.media.probe import make_test_clip
from longwatch.core.preservation import tasks as preservation_tasks

LONGWATCH = [str(Path(sys.executable).parent / "longwatch")]


def span(archive: Archive, task: str, after_id: int) -> float:
    with archive.catalog.engine.connect() as c:
        return float(c.execute(text(
            "SELECT extract(epoch FROM max(e.at) - min(e.at)) FROM procrastinate_events e "
            "JOIN procrastinate_jobs j ON j.id = e.job_id "
            "WHERE j.task_name = :task AND j.id > :after AND e.type IN ('started', 'succeeded')"),
            {"task": task, "after": after_id}).scalar())


def busy(archive: Archive, task: str, after_id: int) -> float:
    """Average number of jobs running at once: the sum of job durations over the span.

    Near the number of workers when nothing serialises them; a shared lock or a
    claim that waits would show as less.
    """
    with archive.catalog.engine.connect() as c:
        total = c.execute(text(
            "SELECT sum(extract(epoch FROM d.at - s.at)) FROM procrastinate_jobs j "
            "JOIN procrastinate_events s ON s.job_id = j.id AND s.type = 'started' "
            "JOIN procrastinate_events d ON d.job_id = j.id AND d.type = 'succeeded' "
            "WHERE j.task_name = :task AND j.id > :after"), {"task": task, "after": after_id}).scalar()
    return float(total) / span(archive, task, after_id)


def last_id(archive: Archive) -> int:
    with archive.catalog.engine.connect() as c:
        return int(c.execute(text("SELECT coalesce(max(id), 0) FROM procrastinate_jobs")).scalar())


def run_workers(root: Path, n: int) -> None:
    procs = [subprocess.Popen([*LONGWATCH, "-A", str(root), "-q", "worker", "--until-empty"]) for _ in range(n)]
    for p in procs:
        p.wait()


def start_workers(archive: Archive, n: int) -> list[subprocess.Popen[bytes]]:
    """``n`` workers, returned once each has registered with procrastinate (imports done, listening)."""
    procs = [subprocess.Popen([*LONGWATCH, "-A", str(archive.root), "-q", "worker"]) for _ in range(n)]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with archive.catalog.engine.connect() as c:
            if c.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar() >= n:
                return procs
        time.sleep(0.2)
    raise RuntimeError("workers did not start")


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait()


def ingest_round(archive: Archive, clip: Path, work: Path, n: int, workers: int, tag: str
                 ) -> tuple[float, float, float]:
    """Jobs per second from the first start to the last success, and CPU seconds per job.

    The workers are up and idle before the jobs arrive, all in one transaction, so
    neither start-up nor a staggered start counts. CPU time is the workers' and their
    children's (ffprobe, exiftool), from ``getrusage``: it does not depend on what else
    the machine runs, unlike the wall-clock rate.
    """
    before = last_id(archive)
    copies = []
    for i in range(n):
        copy = work / f"{tag}-{i:04d}.mp4"
        copy.write_bytes(clip.read_bytes() + uuid.uuid4().bytes)
        copies.append(copy)
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    procs = start_workers(archive, workers)
    try:
        with archive.catalog.session() as s:
            for i, copy in enumerate(copies):
                preservation_tasks.enqueue_ingest(archive, copy, camera=f"cam-{i % 8:02d}", session=s)
        while True:
            counts = jobs.counts(archive)
            if not counts.get("queued") and not counts.get("running"):
                break
            time.sleep(0.5)
    finally:
        stop_workers(procs)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert not counts.get("failed"), counts
    used = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    return n / span(archive, "ingest", before), used / n, busy(archive, "ingest", before)


def noop_round(archive: Archive, n: int) -> tuple[float, float]:
    """Jobs per second: enqueued (one transaction each), then run by one worker."""
    before = last_id(archive)
    started = time.perf_counter()
    for i in range(n):
        jobs.enqueue(archive, "noop", {"n": i})
    enqueued = n / (time.perf_counter() - started)
    run_workers(archive.root, 1)
    return enqueued, n / span(archive, "noop", before)


def baseline_round(url: str, n: int) -> tuple[float, float]:
    """Rows per second: the INSERTs (one commit each), then the SKIP LOCKED take-and-finish loop alone."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_q (id bigserial PRIMARY KEY, args jsonb, done bool "
                     "NOT NULL DEFAULT false)")
        started = time.perf_counter()
        for i in range(n):
            conn.execute("INSERT INTO bench_q (args) VALUES (%s)", (f'{{"n": {i}}}',))
        inserted = time.perf_counter()
        while True:
            with conn.transaction():
                row = conn.execute("SELECT id FROM bench_q WHERE NOT done ORDER BY id LIMIT 1 "
                                   "FOR UPDATE SKIP LOCKED").fetchone()
                if row is None:
                    break
                conn.execute("UPDATE bench_q SET done = true WHERE id = %s", row)
        return n / (inserted - started), n / (time.perf_counter() - inserted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ingest", type=int, default=60, help="ingest jobs per round (the issue: 1000)")
    parser.add_argument("--noop", type=int, default=500, help="no-op jobs")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of 1 and 2 workers (the median is reported)")
    args = parser.parse_args()
    with throwaway_postgres() as url, tempfile.TemporaryDirectory(prefix="longwatch-bench-jobs-") as tmp:
        work = Path(tmp)
        os.environ["LONGWATCH_CATALOG_URL"] = url
        Archive.create(work / "archive", organization="Bench", language="en", unencrypted_key=True).close()
        archive = Archive.open(work / "archive")
        jobs.apply_schema(archive)
        clip = make_test_clip(work / "clip.mp4", seconds=1, size="160x120", rate=10)
        (work / "shared").mkdir()
        ratios = []
        for r in range(args.repeat):  # 1 and 2 workers alternate, so a change in load hits both alike
            load = os.getloadavg()[0]
            one, cpu_one, _ = ingest_round(archive, clip, work / "shared", args.ingest, 1, f"r{r}-w1")
            two, cpu_two, overlap = ingest_round(archive, clip, work / "shared", args.ingest, 2, f"r{r}-w2")
            ratios.append(two / one)
            print(f"run {r + 1}: ingest, {args.ingest} jobs: 1 worker {one:.2f} jobs/s ({cpu_one:.3f} CPU s/job), "
                  f"2 workers {two:.2f} jobs/s ({cpu_two:.3f} CPU s/job, {overlap:.2f} jobs running on average), "
                  f"scaling {two / one:.2f}x "
                  f"(load average {load:.1f} -> {os.getloadavg()[0]:.1f})", flush=True)
        print(f"scaling, median of {args.repeat}: {statistics.median(ratios):.2f}x (target >= 1.6x)")
        noop_enqueue, noop = noop_round(archive, args.noop)
        enqueue_rate = noop_enqueue
        insert, loop = baseline_round(url, args.noop)
        print(f"queue overhead, {args.noop} no-op jobs: enqueue {enqueue_rate:.0f} jobs/s vs INSERT {insert:.0f} "
              f"rows/s; run by one worker {noop:.0f} jobs/s vs SELECT ... FOR UPDATE SKIP LOCKED + UPDATE loop "
              f"{loop:.0f} rows/s, ratio {noop / loop:.2f}")
        archive.close()


if __name__ == "__main__":
    main()
