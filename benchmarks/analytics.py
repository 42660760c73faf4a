"""Analytics: the hourly-count query live over the events table vs a precomputed rollup table.

    python benchmarks/analytics.py --events 200000        # SQLite, a few minutes at most

Generates events (people, vehicles, other) for 200 cameras over a year in a fresh SQLite
catalog, then times ``analytics.counts(grouping="hour")`` (the live query the page runs) and the
same figures read from a rollup table (camera, local hour, class, count) built in the same run,
and prints p50/p95 and the ratio. The issue's full figure (10,000,000 events, PostgreSQL too,
and the page around the query) is not measured here yet.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from longwatch.core import analytics as an
from longwatch.core.catalog import Catalog
from longwatch.core.catalog.models import Camera, Event

TYPES = ["person", "person", "person", "car", "bus", "truck", "bicycle", "fire", "fall"]


@dataclass
class _Settings:
    tz: Any


@dataclass
class _Archive:
    """What analytics.counts reads from an archive: its catalog and zone."""

    catalog: Catalog
    settings: _Settings


def _timed(fn: Any, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog(f"sqlite:///{Path(tmp) / 'catalog.sqlite'}")
        catalog.upgrade()
        archive = _Archive(catalog, _Settings(ZoneInfo("Asia/Seoul")))
        start = datetime(2025, 1, 1, tzinfo=UTC)
        with catalog.engine.begin() as conn:
            conn.execute(insert(Camera), [{"id": f"cam-{i:03d}", "zone": f"Jung-gu/Area-{i % 10}"}
                                          for i in range(200)])
            batch = []
            for n in range(args.events):
                batch.append({"camera": f"cam-{rng.randrange(200):03d}", "type": rng.choice(TYPES),
                              "start_utc": start + timedelta(seconds=rng.randrange(365 * 86400)),
                              "confidence": 1.0, "source": "bench"})
                if len(batch) == 50_000 or n == args.events - 1:
                    conn.execute(insert(Event), batch)
                    batch = []
        t0 = time.perf_counter()
        live = an.counts(archive, grouping="hour")
        rows = [{"camera": f.group, "hour": f.bucket, "cls": f.cls, "n": f.count} for f in live]
        with catalog.engine.begin() as conn:
            conn.execute(text("CREATE TABLE rollup_hourly (camera TEXT, hour TEXT, cls TEXT, n INTEGER)"))
            conn.execute(text("INSERT INTO rollup_hourly VALUES (:camera, :hour, :cls, :n)"), rows)
            conn.execute(text("CREATE INDEX ix_rollup ON rollup_hourly (hour, cls)"))
        build = time.perf_counter() - t0

        def from_rollup() -> list[Any]:
            with catalog.engine.connect() as conn:
                return conn.execute(text("SELECT camera, hour, cls, n FROM rollup_hourly "
                                         "ORDER BY camera, hour, cls")).all()

        assert sum(r.n for r in from_rollup()) == sum(f.count for f in live) == args.events
        live_t = _timed(lambda: an.counts(archive, grouping="hour"), args.runs)
        roll_t = _timed(from_rollup, args.runs)
        catalog.dispose()

    def p95(xs: list[float]) -> float:
        return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]

    print(f"events: {args.events:,} (SQLite), runs: {args.runs}; rollup built in {build:.2f} s")
    print(f"live hourly counts   p50 {statistics.median(live_t) * 1000:8.1f} ms  p95 {p95(live_t) * 1000:8.1f} ms")
    print(f"rollup table         p50 {statistics.median(roll_t) * 1000:8.1f} ms  p95 {p95(roll_t) * 1000:8.1f} ms")
    print(f"ratio live / rollup (p95): {p95(live_t) / p95(roll_t):.0f}x")


if __name__ == "__main__":
    main()
