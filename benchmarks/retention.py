"""Retention benchmark: planning a disposition over N catalogued clips.

    .venv/bin/python benchmarks/retention.py [--clips 1000000] [--holds 50]

Generates an archive whose catalog holds N packages of one clip each (no
media: rows only, as a long-running control centre's catalog would), spread
over two years of capture times, with retention assignments of every class of
the default schedule and a few legal holds of each kind. It then times
``dispositions.propose`` (assign what is new, find what is due, set held
packages aside, group by class, and write the proposal: one INSERT ... SELECT)
and ``dispositions.plan`` (the same due list loaded into Python, as the
emergency purge uses it) against the baseline of ONE full scan of the clip table in the same
run (``SELECT count(*), sum(size_bytes), max(sha256) FROM clips``), and
prints both and their ratio. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Clip, LegalHold, Package, RetentionAssignment
from longwatch.core.records import actors, dispositions, schedules

NOW = datetime(2027, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
CLASSES = [("continuous", "P30D", 0.70), ("event", "P1Y", 0.20), ("incident", "P10Y", 0.04),
           ("disaster", "permanent", 0.01), ("planning", "P5Y", 0.05)]


def generate(archive: Archive, n: int, holds: int, seed: int = 6) -> None:
    rng = random.Random(seed)
    weights = [w for _c, _p, w in CLASSES]
    batch = 20000
    engine = archive.catalog.engine
    start0 = NOW - SPAN
    with engine.begin() as conn:
        for first in range(0, n, batch):
            packages, clips, assignments = [], [], []
            for i in range(first, min(n, first + batch)):
                pid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                start = start0 + timedelta(seconds=rng.randrange(int(SPAN.total_seconds())))
                end = start + timedelta(minutes=10)
                size = rng.randrange(50 << 20, 400 << 20)
                camera = f"cam-{i % 400:03d}"
                cls, period, _w = rng.choices(CLASSES, weights)[0]
                due = schedules.add_period(start, period) if cls != "incident" else None
                packages.append({"id": pid, "created_at": start, "camera": camera, "zone": f"zone-{i % 40}",
                                 "title": "", "location_name": "", "start_utc": start, "end_utc": end,
                                 "time_source": "sidecar", "size_bytes": size, "file_count": 1, "status": "stored",
                                 "storage_location": "primary", "tagmanifest_sha256": f"{rng.getrandbits(256):064x}",
                                 "signer_fingerprint": "", "media_ok": True})
                clips.append({"package_id": pid, "relpath": "data/media/clip.mp4", "original_name": "clip.mp4",
                              "size_bytes": size, "sha256": f"{rng.getrandbits(256):064x}",
                              "sha512": f"{rng.getrandbits(512):0128x}", "mime_type": "video/mp4",
                              "format_name": "mp4", "codec": "h264", "start_utc": start, "end_utc": end,
                              "probe_ok": True})
                assignments.append({"package_id": pid, "schedule_id": "kr-public-default", "record_class": cls,
                                    "rule": "bench",
                                    "action": "destroy" if cls in ("continuous", "event") else "review",
                                    "trigger_at": start, "due_at": due, "case_id": f"case-{i % 5000}"
                                    if cls == "incident" else "", "event_type": "", "purpose": "",
                                    "assigned_at": start})
            conn.execute(Package.__table__.insert(), packages)
            conn.execute(Clip.__table__.insert(), clips)
            conn.execute(RetentionAssignment.__table__.insert(), assignments)
        ids = [r[0] for r in conn.execute(text("SELECT id FROM packages ORDER BY random() LIMIT :n"), {"n": holds})]
        rows = [{"id": str(uuid.uuid4()), "kind": "package", "package_id": pid, "case_id": "", "camera": "",
                 "search": "{}", "owner": "bench", "reason": "bench", "placed_by": "bench", "placed_at": NOW,
                 "released_by": "", "release_reason": ""} for pid in ids]
        rows.append({**rows[0], "id": str(uuid.uuid4()), "kind": "camera", "package_id": "", "camera": "cam-007",
                     "start_utc": NOW - timedelta(days=200), "end_utc": NOW - timedelta(days=100)})
        rows.append({**rows[0], "id": str(uuid.uuid4()), "kind": "case", "package_id": "", "case_id": "case-42"})
        rows.append({**rows[0], "id": str(uuid.uuid4()), "kind": "search", "package_id": "",
                     "search": json.dumps({"zone": "zone-3", "from": "2026-06-01T00:00:00Z"})})
        for row in rows:
            row.setdefault("start_utc", None)
            row.setdefault("end_utc", None)
        conn.execute(LegalHold.__table__.insert(), rows)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))


def timed(func, repeat: int, reset=None) -> tuple[float, object]:
    func()  # warm the page cache and the statement cache
    times, result = [], None
    for _ in range(repeat):
        if reset is not None:
            reset()  # outside the clock
        t = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=1_000_000)
    parser.add_argument("--holds", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive.create(Path(tmp) / "archive", organization="bench", language="en", unencrypted_key=True)
        t = time.perf_counter()
        generate(archive, args.clips, args.holds)
        print(f"generated {args.clips:,} catalogued clips in {time.perf_counter() - t:.1f} s")

        def scan() -> object:
            with archive.catalog.engine.connect() as conn:
                return conn.execute(text("SELECT count(*), sum(size_bytes), max(sha256) FROM clips")).one()

        actor = actors.Actor("bench", "records-manager")

        def proposing() -> dispositions.Plan:
            return dispositions.propose(archive, actor, NOW)[1]

        def listing() -> dispositions.Plan:
            return dispositions.plan(archive, NOW)

        def forget_proposals() -> None:
            with archive.catalog.engine.begin() as conn:
                conn.execute(text("DELETE FROM disposition_items"))
                conn.execute(text("DELETE FROM dispositions"))

        scan_s, _ = timed(scan, args.repeat)
        propose_s, result = timed(proposing, args.repeat, forget_proposals)
        list_s, listed = timed(listing, args.repeat)
        assert isinstance(result, dispositions.Plan) and isinstance(listed, dispositions.Plan)
        groups = result.by_class()
        due = sum(g["count"] for g in groups.values())
        assert due == len(listed.due)
        print(f"full scan of the clip table:              {scan_s:.3f} s")
        print(f"disposition proposal (set-based, written): {propose_s:.3f} s "
              f"({due:,} due, {len(result.held):,} held, {len(result.review):,} for review)")
        print(f"due list loaded into Python (plan()):     {list_s:.3f} s")
        print(f"ratio proposal / scan: {propose_s / scan_s:.1f}; ratio plan() / scan: {list_s / scan_s:.1f}")
        for name, g in groups.items():
            print(f"  {name}: {g['count']:,} packages, {g['size'] / 2**40:.1f} TiB")
        archive.close()


if __name__ == "__main__":
    main()
