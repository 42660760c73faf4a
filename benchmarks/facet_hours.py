"""The facet panel from the counts kept per hour against counting the newest 10,000 clips, one process, same run.

    python benchmarks/facet_hours.py --catalog sqlite:///DIR/archive/catalog.sqlite --rounds 20 --refill
    python benchmarks/facet_hours.py --postgres DIR/pg --refill    # the server benchmarks/web.py keeps there

Points at a catalog built by ``benchmarks/web.py --keep-catalog DIR`` (a million one-minute clips of
500 cameras from 2026-01-01, an event on 5 % of packages) or any other; brings it to the newest
revision first (timed); ``--refill`` goes back to revision 0039 first, so the time is that of
revision 0040 filling the counts of every clip. For each filter mix of the web benchmark
that the counts can answer (no filter, a camera, a zone, a 1 h window, an event type, a camera and
a window) it times the panel as the web asks it (``cap=FACET_CAP``) counted from the clips
(``fast=False``: the code before revision 0040) and from the counts, checks both agree where the
capped one is exact, and prints p50/p95 of each and their ratio. Days are taken in +09:00.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import search as scale
from longwatch.core.catalog import Catalog, alembic_config
from longwatch.core.catalog.models import Zone
from longwatch.core.catalog.search import FACET_CAP, Query, facets

START = datetime(2026, 1, 1, tzinfo=UTC)
EVENT_TYPES = ["fall", "intrusion", "fire", "loitering", "crash"]
SEOUL = timedelta(hours=9)


def mixes(catalog: Catalog, rng: random.Random) -> list[tuple[str, list[Query]]]:
    with catalog.session() as s:
        areas = list(s.scalars(select(Zone.path).where(Zone.kind == "area").order_by(Zone.path)))
    cams = [f"cam-{rng.randrange(500):04d}" for _ in range(10)]
    hours = [START + timedelta(hours=rng.randrange(32)) for _ in range(10)]
    return [
        ("newest, no filter", [Query()]),
        ("one camera", [Query(cameras=[c]) for c in cams]),
        ("a zone (area and its sites)", [Query(zone=a) for a in rng.sample(areas, min(10, len(areas)))]),
        ("1 h window", [Query(start=h, end=h + timedelta(hours=1)) for h in hours]),
        ("1 h window off the hour", [Query(start=h + timedelta(minutes=17), end=h + timedelta(minutes=77))
                                     for h in hours]),
        ("event type", [Query(event_type=t) for t in EVENT_TYPES]),
        ("camera + 1 h window", [Query(cameras=[c], start=h, end=h + timedelta(hours=1))
                                 for c, h in zip(cams, hours, strict=True)]),
    ]


def timed(catalog: Catalog, queries: list[Query], rounds: int, fast: bool) -> list[float]:
    out = []
    for i in range(rounds):
        q = queries[i % len(queries)]
        t0 = time.perf_counter()
        facets(catalog, q, SEOUL, cap=FACET_CAP, fast=fast)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", help="the catalog's database URL")
    parser.add_argument("--postgres", type=Path, help="the directory of a kept throwaway PostgreSQL server")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--refill", action="store_true", help="time revision 0040 from 0039")
    args = parser.parse_args()
    with scale.throwaway_postgres(args.postgres) if args.postgres else nullcontext(args.catalog) as url:
        run(Catalog(url), args.rounds, args.refill)


def run(catalog: Catalog, rounds: int, refill: bool) -> None:
    if refill:
        with catalog.engine.begin() as connection:
            cfg = alembic_config(catalog.engine)
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "0039")
    t0 = time.perf_counter()
    catalog.upgrade()
    print(f"upgrade to the newest revision: {time.perf_counter() - t0:.1f} s (load {os.getloadavg()[0]:.1f})")
    print("| filter | from the clips p50 / p95 ms | from the hours p50 / p95 ms | ratio (p50) | same answer |")
    print("|---|---:|---:|---:|---|")
    for label, queries in mixes(catalog, random.Random(42)):
        same = True
        for q in queries[:3]:
            slow, quick = facets(catalog, q, SEOUL, cap=FACET_CAP, fast=False), facets(catalog, q, SEOUL)
            if slow["total_exact"]:
                same = same and slow == quick
            else:
                same = same and quick["total"] > FACET_CAP
        before, after = timed(catalog, queries, rounds, False), timed(catalog, queries, rounds, True)
        b50, a50 = statistics.median(before), statistics.median(after)
        print(f"| {label} | {b50:.0f} / {p95(before):.0f} | {a50:.1f} / {p95(after):.1f} | {b50 / a50:.1f}x "
              f"| {'yes' if same else 'NO'} |")
    print(f"load average {os.getloadavg()[0]:.1f}")
    catalog.dispose()


if __name__ == "__main__":
    main()
