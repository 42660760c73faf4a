"""Analytics: the hourly-count query and its page, over rollup tables vs live over the events table.

    python benchmarks/analytics.py --events 10000000                    # the issue's size, both back ends
    python benchmarks/analytics.py --events 200000 --backends sqlite    # a quick look

For each back end (SQLite in WAL, and a throwaway PostgreSQL 15 from Debian's packages on
127.0.0.1 with durable settings, unless --pg-url names an empty database): a real archive
(``Archive.create``) gets 200 cameras in 10 zones and N generated events over a year (people,
vehicles, others) loaded in bulk (executemany on SQLite, COPY on PostgreSQL), then

- ``longwatch analytics rebuild`` (timed once: what an archive loaded by bulk SQL runs once);
- the hourly-count query over the whole archive, ``analytics.counts(grouping="hour")``, from the
  rollups (p50/p95 over --runs);
- the page that shows it, ``GET /analytics?grouping=hour`` through Flask's test client, signed in
  (p50/p95 over --runs);
- a six-week span that starts and ends mid-hour (edge minutes live, edge hours from the hourly
  rollup, whole days and weeks from the daily one, whole months from the monthly one);
- the cost the rollups add to recording one event (an ORM flush with and without them);
- the same hourly query live over the events table (the baseline; --live-runs, one by default,
  since it reads every event) and the ratio live / rollup at p95.

The rollup answers are checked equal to the live ones in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, insert  # noqa: E402

from longwatch.core import accounts  # noqa: E402
from longwatch.core.archive import Archive  # noqa: E402
from longwatch.core.catalog.models import AnalyticsState, Camera, DetectedEvent  # noqa: E402
from longwatch.core.public import analytics as an  # noqa: E402
from longwatch.core.public import analytics_rollups as rollups  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from util import loadavg, machine  # noqa: E402  (benchmarks/util.py)

TYPES = ["person", "person", "person", "car", "bus", "truck", "bicycle", "fire", "fall"]
YEAR = datetime(2025, 1, 1, tzinfo=UTC)
CAMERAS = 200
PASSWORD = "bench-password-1"
COLUMNS = ("camera", "type", "start_utc", "confidence", "source", "detector", "boxes", "zone", "status", "reviewer",
           "review_note")


def _rows(n: int, seed: int = 14) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    base = YEAR.replace(tzinfo=None)
    cams = [f"cam-{i:03d}" for i in range(CAMERAS)]
    for _ in range(n):
        when = base + timedelta(seconds=rng.randrange(365 * 86400))
        yield (rng.choice(cams), rng.choice(TYPES), when, 1.0, "bench", "", "", "", "new", "", "")


def load_events(archive: Archive, n: int) -> float:
    """Bulk load, bypassing the ORM (so the rollups are built once afterwards, as after any bulk SQL)."""
    t0 = time.perf_counter()
    engine = archive.catalog.engine
    with engine.begin() as conn:
        conn.execute(insert(Camera), [{"id": f"cam-{i:03d}", "zone": f"Jung-gu/Area-{i % 10}"}
                                      for i in range(CAMERAS)])
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cur.copy(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in _rows(n):
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
            batch: list[tuple[Any, ...]] = []
            for row in _rows(n):
                batch.append((*row[:2], row[2].isoformat(sep=" ", timespec="microseconds"), *row[3:]))
                if len(batch) == 100_000:
                    cur.executemany(sql, batch)
                    batch = []
            if batch:
                cur.executemany(sql, batch)
        raw.commit()
        if engine.dialect.name == "postgresql":
            cur.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - t0


CPU: dict[int, list[float]] = {}  # id(wall list) -> this process's CPU seconds of the same runs


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    """Wall seconds per run; the process's CPU seconds go to CPU (on a shared machine, wall time
    includes waiting for a core; CPU time of an in-process SQLite query is what a quiet machine takes)."""
    out, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    CPU[id(out)] = cpu
    return out


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]


def line(label: str, xs: list[float]) -> str:
    cpu = CPU.get(id(xs), [])
    cpu_text = f"  cpu p50 {statistics.median(cpu) * 1000:8.1f} p95 {p95(cpu) * 1000:8.1f}" if cpu else ""
    return (f"  {label:<40} p50 {statistics.median(xs) * 1000:9.1f} ms  p95 {p95(xs) * 1000:9.1f} ms"
            f"{cpu_text}  (n={len(xs)})")


def signed_in_client(archive: Archive) -> Any:
    from longwatch.web import create_app

    accounts.add_user(archive.catalog, "bench", PASSWORD, "auditor")
    app = create_app(archive.root, {"TESTING": True})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 302, response.status_code
    return app, client


def _figures(figs: list[an.Figure]) -> dict[tuple[str, str, str], int]:
    return {(f.group, f.bucket, f.cls): f.count for f in figs}


def record_cost(archive: Archive, runs: int) -> tuple[list[float], list[float]]:
    """One event per ORM session (the way detectors and imports record), with and without rollups."""
    rng = random.Random(7)

    def one() -> None:
        with archive.catalog.session() as s:
            s.add(DetectedEvent(camera=f"cam-{rng.randrange(CAMERAS):03d}", type=rng.choice(TYPES), source="bench",
                                start_utc=YEAR + timedelta(seconds=rng.randrange(365 * 86400))))

    with_rollups = timed(one, runs)
    with archive.catalog.engine.begin() as conn:
        state = conn.execute(AnalyticsState.__table__.select()).all()
        conn.execute(delete(AnalyticsState))
    without = timed(one, runs)
    with archive.catalog.engine.begin() as conn:
        conn.execute(insert(AnalyticsState), [dict(r._mapping) for r in state])
    return with_rollups, without


def run_backend(name: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    print(f"\n== {name}: {args.events:,} events, {CAMERAS} cameras, one year; load average {loadavg():.1f}",
          flush=True)
    archive = Archive.create(workdir / f"archive-{name}", name="bench", timezone="Asia/Seoul", unencrypted_key=True)
    results: dict[str, Any] = {"backend": name}
    try:
        results["load_s"] = load_events(archive, args.events)
        print(f"  bulk load                                    {results['load_s']:9.1f} s", flush=True)
        t0 = time.perf_counter()
        counted = rollups.rebuild_rollups(archive)
        results["rebuild_s"] = time.perf_counter() - t0
        state = rollups.rollup_state(archive)
        assert counted == args.events, (counted, args.events)
        print(f"  analytics rebuild                            {results['rebuild_s']:9.1f} s  "
              f"({state['hourly_rows']:,} hourly rows, {state['period_rows']:,} period rows, "
              f"{state['day_rows']:,} day and week rows)", flush=True)

        rolled = an.counts(archive, grouping="hour", links=False)
        assert sum(f.count for f in rolled) == args.events
        hour_t = timed(lambda: an.counts(archive, grouping="hour", links=False), args.runs)
        print(line("hourly counts, rollups", hour_t), flush=True)
        app, client = signed_in_client(archive)
        try:
            html = client.get("/analytics?grouping=hour").get_data(as_text=True)
            assert 'data-bucket="08" data-class="person"' in html
            page_t = timed(lambda: client.get("/analytics?grouping=hour"), args.runs)
            print(line("GET /analytics?grouping=hour, rollups", page_t), flush=True)
        finally:
            app.extensions["longwatch"].close()
        lo, hi = datetime(2025, 3, 10, 5, 17, tzinfo=UTC), datetime(2025, 4, 21, 18, 43, tzinfo=UTC)
        span_t = timed(lambda: an.counts(archive, grouping="hour", start=lo, end=hi, links=False), args.runs)
        print(line("six weeks mid-hour to mid-hour, rollups", span_t), flush=True)

        live_t = timed(lambda: an.counts(archive, grouping="hour", links=False, live=True), args.live_runs)
        print(line("hourly counts, live over events", live_t), flush=True)
        live = an.counts(archive, grouping="hour", links=False, live=True) if args.check else None
        if live is not None:
            assert _figures(an.counts(archive, grouping="hour", links=False)) == _figures(live)
        span_live = an.counts(archive, grouping="hour", start=lo, end=hi, links=False, live=True)
        assert _figures(span_live) == _figures(an.counts(archive, grouping="hour", start=lo, end=hi, links=False))
        print(f"  ratio live / rollups (p95): {p95(live_t) / p95(hour_t):,.0f}x wall, "
              f"{p95(CPU[id(live_t)]) / p95(CPU[id(hour_t)]):,.0f}x cpu; page p95 {p95(page_t) * 1000:.0f} ms wall, "
              f"{p95(CPU[id(page_t)]) * 1000:.0f} ms cpu, against the 300 ms target; load average {loadavg():.1f}",
              flush=True)
        # last: the events recorded without rollups are not in them (they measure the flush only)
        rec_with, rec_without = record_cost(archive, args.record_runs)
        print(line("record one event, rollups kept", rec_with), flush=True)
        print(line("record one event, no rollups", rec_without), flush=True)
        results.update(hour=hour_t, page=page_t, span=span_t, live=live_t, rec_with=rec_with,
                       rec_without=rec_without)
    finally:
        archive.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--live-runs", type=int, default=1)
    parser.add_argument("--record-runs", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="", help="an existing, empty PostgreSQL database (postgresql+psycopg://)")
    parser.add_argument("--check", action="store_true", help="also compare the whole-archive figures with a "
                                                             "second live count (the six-week span always is)")
    args = parser.parse_args()
    print(f"machine: {machine()}; load average {loadavg():.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="lw-bench-analytics-") as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                os.environ.pop("LONGWATCH_CATALOG_URL", None)
                run_backend("SQLite", args, Path(tmp))
            elif backend == "postgresql":
                from search import throwaway_postgres  # benchmarks/search.py

                if args.pg_url:
                    os.environ["LONGWATCH_CATALOG_URL"] = args.pg_url
                    run_backend("PostgreSQL", args, Path(tmp))
                else:
                    with throwaway_postgres() as url:
                        os.environ["LONGWATCH_CATALOG_URL"] = url
                        run_backend("PostgreSQL", args, Path(tmp))
                os.environ.pop("LONGWATCH_CATALOG_URL", None)
    print(f"load average at the end {loadavg():.1f}", flush=True)


if __name__ == "__main__":
    main()
