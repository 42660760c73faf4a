"""Jobs and workers on PostgreSQL + S3: ingest throughput with 1, 2 and 3 workers, and queue overhead.

Run: ``.venv/bin/python benchmarks/jobs.py [--workers 1,2,3] [--ingest 60] [--noop 500] [--storage s3]``.
A throwaway PostgreSQL (fsync on) holds the catalog, the ledger and the queue;
the primary storage location is a bucket on a real S3-protocol server on
loopback (moto's standalone server, as tests/s3.py starts it, here in this
process); ``--storage local`` puts it on local disk instead. The clips are
unique copies of one small ffmpeg clip in a directory the workers read. Times
come from procrastinate's own events (first start to last success), so worker
start-up is not counted. Where the time goes is measured as CPU seconds per
job of each party: the workers and their children (ffprobe, exiftool), the S3
server (this process's own CPU while it only waits for the jobs) and
PostgreSQL (the postmaster and its backends, from /proc). With two cores, CPU
per job bounds the rate: 2 / (sum of the parties' CPU per job) jobs/s. The
queue-overhead baseline, measured in the same run, is a plain ``INSERT`` of the
rows then a ``SELECT ... FOR UPDATE SKIP LOCKED`` + ``UPDATE`` + ``COMMIT`` loop
from one client.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from search import throwaway_postgres  # benchmarks/search.py
from sqlalchemy import text

from longwatch.core.archive import Archive
from longwatch.core.jobs import queue as jobs
from longwatch.core.media.probe import make_test_clip
from longwatch.core.preservation import tasks as preservation_tasks

LONGWATCH = [str(Path(sys.executable).parent / "longwatch")]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
TICKS = os.sysconf("SC_CLK_TCK")


def postgres_cpu(port: int) -> float:
    """CPU seconds the PostgreSQL server has used so far: the postmaster with its reaped children, and the
    live backends (their parent is the postmaster)."""
    stats = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        stats[int(pid)] = (int(fields[1]), [int(f) for f in fields[11:15]], cmd)
    postmaster = next((pid for pid, (_pp, _t, cmd) in stats.items()
                       if b"postgres" in cmd and f"-p {port}".encode() in cmd.replace(b"\0", b" ")), None)
    if postmaster is None:
        return 0.0
    total = sum(stats[postmaster][1])
    total += sum(t[0] + t[1] for pp, t, _cmd in stats.values() if pp == postmaster)
    return total / TICKS


def process_cpu(pids: list[int]) -> float:
    """CPU seconds of these live processes and their reaped children (a worker's ffprobe and exiftool)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15])
    return total / TICKS


def self_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


@contextlib.contextmanager
def s3_primary(root: Path) -> Iterator[str]:
    """moto's S3 server on loopback (tests/s3.py's), and the archive's primary location on a bucket of it."""
    from moto.server import ThreadedMotoServer
    from s3 import _ENV, S3Server, free_port  # tests/s3.py

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.update(_ENV)  # the workers inherit the dummy credentials
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        s3 = S3Server(endpoint_url=f"http://127.0.0.1:{port}")
        spec = {"adapter": "s3", **s3.options()}
        path = root / "longwatch.toml"
        head, _, rest = path.read_text().partition("[storage]")
        _, _, tail = rest.partition("[signing]")
        body = "[storage]\nprimary = \"primary\"\n\n[storage.locations.primary]\n" + "".join(
            f"{k} = {json.dumps(v)}\n" for k, v in spec.items())
        path.write_text(head + body + "\n[signing]" + tail + '\n[jobs]\naudit_cron = ""\ndisposition_cron = ""\n')
        yield s3.endpoint_url
    finally:
        server.stop()


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


def ingest_round(archive: Archive, clip: Path, work: Path, n: int, workers: int, tag: str, pg_port: int
                 ) -> dict[str, float]:
    """Jobs per second from the first start to the last success, and CPU seconds per job.

    The workers are up and idle before the jobs arrive, all in one transaction, so
    neither start-up nor a staggered start counts. CPU time is the workers' and their
    children's (ffprobe, exiftool), read from /proc between the jobs' arrival and the
    end of the last (start-up and shutdown left out), with PostgreSQL's and the S3
    server's over the same interval: it depends less on what else the machine runs
    than the wall-clock rate does.
    """
    before = last_id(archive)
    copies = []
    for i in range(n):
        copy = work / f"{tag}-{i:04d}.mp4"
        copy.write_bytes(clip.read_bytes() + uuid.uuid4().bytes)
        copies.append(copy)
    procs = start_workers(archive, workers)
    load = os.getloadavg()[0]
    pids = [p.pid for p in procs]
    pg_before, own_before, cpu = postgres_cpu(pg_port), self_cpu(), process_cpu(pids)
    try:
        with archive.catalog.session() as s:
            for i, copy in enumerate(copies):
                preservation_tasks.enqueue_ingest(archive, copy, camera=f"cam-{i % 8:02d}", session=s)
        while True:
            counts = jobs.counts(archive)
            if not counts.get("queued") and not counts.get("running"):
                break
            time.sleep(0.5)
        pg_used, own_used = postgres_cpu(pg_port) - pg_before, self_cpu() - own_before
        used = process_cpu(pids) - cpu
    finally:
        stop_workers(procs)
    assert not counts.get("failed"), counts
    return {"rate": n / span(archive, "ingest", before), "worker_cpu": used / n,
            "busy": busy(archive, "ingest", before),
            "postgres_cpu": pg_used / n, "s3_cpu": own_used / n, "load": load, "load_after": os.getloadavg()[0]}


def profile_jobs(archive: Archive, clip: Path, work: Path, n: int) -> None:
    """``n`` ingest jobs' task run in this process under cProfile (wall time, so waits on ffprobe, exiftool,
    PostgreSQL and the S3 server show): where a job's time goes, apart from the queue (the no-op figures)."""
    import cProfile
    import pstats

    copies = []
    for i in range(n):
        copy = work / f"profile-{i:04d}.mp4"
        copy.write_bytes(clip.read_bytes() + uuid.uuid4().bytes)
        copies.append(copy)
    prof = cProfile.Profile()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    for i, copy in enumerate(copies):
        sha = preservation_tasks.file_sha256(copy)
        prof.runcall(preservation_tasks._ingest, archive, str(copy), sha, camera=f"cam-{i % 8:02d}")
    print(f"\nprofile: {n} ingest tasks in this process, {(time.perf_counter() - started) / n:.3f} s each "
          f"(load average {load:.1f} -> {os.getloadavg()[0]:.1f})")
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(r"longwatch|subprocess|boto|psycopg|hashlib", 40)
    stats.sort_stats("tottime").print_stats(15)


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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ingest", type=int, default=60, help="ingest jobs per round (the issue: 1000)")
    parser.add_argument("--noop", type=int, default=500, help="no-op jobs")
    parser.add_argument("--workers", default="1,2,3", help="worker counts to compare (default 1,2,3)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each worker count (the median is reported)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also run N ingest tasks in this process under cProfile")
    parser.add_argument("--storage", choices=("s3", "local"), default="s3",
                        help="the primary location: a bucket on a loopback S3 server (default) or local disk")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    with throwaway_postgres() as url, tempfile.TemporaryDirectory(prefix="longwatch-bench-jobs-") as tmp, \
            contextlib.ExitStack() as stack:
        work = Path(tmp)
        pg_port = int(url.rsplit(":", 1)[1].split("/")[0])
        os.environ["LONGWATCH_CATALOG_URL"] = url
        Archive.create(work / "archive", organization="Bench", language="en", unencrypted_key=True).close()
        if args.storage == "s3":
            stack.enter_context(s3_primary(work / "archive"))
        archive = Archive.open(work / "archive")
        jobs.apply_schema(archive)
        clip = make_test_clip(work / "clip.mp4", seconds=1, size="160x120", rate=10)
        (work / "shared").mkdir()
        rounds: dict[int, list[dict[str, float]]] = {w: [] for w in counts}
        for r in range(args.repeat):  # the worker counts alternate, so a change in load hits each alike
            for w in counts:
                got = ingest_round(archive, clip, work / "shared", args.ingest, w, f"r{r}-w{w}", pg_port)
                rounds[w].append(got)
                print(f"run {r + 1}, {w} worker(s), {args.ingest} ingest jobs: {got['rate']:.2f} jobs/s, "
                      f"{got['busy']:.2f} jobs running on average; CPU s/job: workers {got['worker_cpu']:.3f}, "
                      f"PostgreSQL {got['postgres_cpu']:.3f}, S3 server {got['s3_cpu']:.3f} "
                      f"(load average {got['load']:.1f} -> {got['load_after']:.1f})", flush=True)
        print(f"\nmedians of {args.repeat} rounds, primary location on {args.storage}, catalog on PostgreSQL:")
        print(f"{'workers':>8}{'jobs/s':>9}{'vs 1':>7}{'running':>9}{'worker':>9}{'postgres':>10}{'s3':>8}"
              f"{'bound':>8}  load")
        one = statistics.median(g["rate"] for g in rounds[counts[0]])
        for w in counts:
            med = {k: statistics.median(g[k] for g in rounds[w]) for k in rounds[w][0]}
            bound = (os.cpu_count() or 1) / (med["worker_cpu"] + med["postgres_cpu"] + med["s3_cpu"])
            loads = ", ".join(f"{g['load']:.1f}" for g in rounds[w])
            print(f"{w:>8}{med['rate']:>9.2f}{med['rate'] / one:>6.2f}x{med['busy']:>9.2f}{med['worker_cpu']:>9.3f}"
                  f"{med['postgres_cpu']:>10.3f}{med['s3_cpu']:>8.3f}{bound:>8.2f}  {loads}")
        print("(vs 1: the rate against the first worker count's; running: jobs running at once on average; "
              "worker/postgres/s3: CPU seconds per job; bound: jobs/s the machine's cores allow at that CPU per job, "
              "were nothing else running; load: 1-minute load average before each round)")
        if args.profile:
            profile_jobs(archive, clip, work / "shared", args.profile)
        noop_enqueue, noop = noop_round(archive, args.noop)
        insert, loop = baseline_round(url, args.noop)
        print(f"queue overhead, {args.noop} no-op jobs: enqueue {noop_enqueue:.0f} jobs/s vs INSERT {insert:.0f} "
              f"rows/s; run by one worker {noop:.0f} jobs/s vs SELECT ... FOR UPDATE SKIP LOCKED + UPDATE loop "
              f"{loop:.0f} rows/s, ratio {noop / loop:.2f} (load average {os.getloadavg()[0]:.1f})")
        archive.close()


if __name__ == "__main__":
    main()
