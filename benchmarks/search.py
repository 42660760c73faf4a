"""Search at scale: bulk load, size per clip and search latency on SQLite and PostgreSQL.

    python benchmarks/search.py --clips 1000000          # the issue's full size
    python benchmarks/search.py --clips 100000 --backends sqlite

Generates a catalog without media: ~500 cameras in a district > area > site
tree around Seoul, a year of 1-60 minute clips, about 5 % with an event,
cases with attached packages, titles with Korean and English words. Loads it
through the catalog's own schema (migrations 0001+0002, full-text triggers
on), then times six searches through the Python API (one page of 50), first
with the indexes, then without (SQLite: secondary indexes dropped and full
text by LIKE; PostgreSQL: index and bitmap scans switched off, full text
without the GIN index), and prints the ratio. PostgreSQL is a throwaway
server from Debian's packages on 127.0.0.1 (durable settings, fsync on)
unless --pg-url is given.

Building a million-clip SQLite catalog takes several minutes; with
``--cache DIR`` the loaded file (and its load figures) is kept in DIR and
copied from there on the next run with the same size and seed, then brought
to the newest migration, so a change to the search code can be measured again
in a few minutes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, text

from longwatch.core.catalog import Catalog, terms
from longwatch.core.catalog.models import Camera, Case, CasePackage, Clip, DetectedEvent, Package, Purpose, Zone
from longwatch.core.catalog.search import Query, explain, search

YEAR = datetime(2025, 1, 1, tzinfo=UTC)
DISTRICTS = ["Jung-gu", "Jongno-gu", "Mapo-gu", "Yongsan-gu", "Seodaemun-gu", "Gangnam-gu", "Songpa-gu",
             "Nowon-gu", "Eunpyeong-gu", "Gwanak-gu"]
AREAS = ["Market", "Station", "Park", "School", "Crossing"]
PURPOSES = ["traffic", "crime-prevention", "disaster", "facility", "parks"]
EVENT_TYPES = ["fall", "intrusion", "fire", "loitering", "crash"]
WORDS = ["시장", "입구", "정문", "교차로", "주차장", "공원", "gate", "north", "south", "east", "west", "lane"]
RARE = ["교통사고", "화재", "낙상", "침입", "민원", "flood", "collision", "theft"]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def generate(n_clips: int, n_cameras: int, seed: int):
    """Rows for every table; deterministic for a seed."""
    rng = random.Random(seed)
    zones: dict[str, tuple[str | None, str]] = {}
    cameras = []
    for i in range(n_cameras):
        d, a = DISTRICTS[i % len(DISTRICTS)], AREAS[(i // len(DISTRICTS)) % len(AREAS)]
        site = f"Site-{i // (len(DISTRICTS) * len(AREAS)) + 1}"
        for path, parent, kind in ((d, None, "district"), (f"{d}/{a}", d, "area"),
                                   (f"{d}/{a}/{site}", f"{d}/{a}", "site")):
            zones[path] = (parent, kind)
        cameras.append({"id": f"cam-{i:04d}", "name": f"{d} {a} {site}", "vendor": "acme", "model": "X1",
                        "zone": f"{d}/{a}/{site}", "purpose": PURPOSES[i % len(PURPOSES)],
                        "latitude": 37.45 + rng.random() * 0.25, "longitude": 126.80 + rng.random() * 0.38,
                        "address": f"{d} {rng.randint(1, 300)}", "tags": ",outdoor," if i % 3 else ",indoor,",
                        "timezone": "Asia/Seoul", "clock_offset_s": 0.0})
    per_camera = math.ceil(n_clips / n_cameras)
    slot = 365 * 86400 / per_camera
    packages, clips, events = [], [], []
    clip_id = 0
    for cam in cameras:
        for k in range(per_camera):
            if clip_id >= n_clips:
                break
            clip_id += 1
            start = YEAR + timedelta(seconds=k * slot + rng.random() * max(slot - 3600, 0))
            start = start.replace(microsecond=0)
            minutes = rng.randint(1, 60)
            end = start + timedelta(minutes=minutes)
            pid = str(uuid.UUID(int=rng.getrandbits(128)))
            words = rng.sample(WORDS, 2) + ([rng.choice(RARE)] if rng.random() < 0.02 else [])
            title = f"{cam['id']} {start:%Y-%m-%d %H:%M} {' '.join(words)}"
            packages.append({"id": pid, "created_at": end, "camera": cam["id"], "zone": cam["zone"], "title": title,
                             "location_name": cam["address"], "latitude": cam["latitude"],
                             "longitude": cam["longitude"], "start_utc": start, "end_utc": end,
                             "time_source": "container", "size_bytes": minutes * 30_000_000, "file_count": 1,
                             "status": "stored", "storage_location": "primary", "tagmanifest_sha256": "0" * 64,
                             "signer_fingerprint": "sha256:bench", "media_ok": True, "description": "",
                             "notes": ""})
            packages[-1]["search_terms"] = terms.document(title, "", "", cam["address"], cam["id"], cam["zone"])
            clips.append({"id": clip_id, "package_id": pid, "relpath": "data/media/clip.mp4",
                          "original_name": "clip.mp4", "size_bytes": minutes * 30_000_000,
                          "sha256": f"{rng.getrandbits(256):064x}", "sha512": "", "mime_type": "video/mp4",
                          "format_name": "mov,mp4", "codec": "h264", "width": 1920, "height": 1080,
                          "duration": minutes * 60.0, "start_utc": start, "end_utc": end, "probe_ok": True,
                          "camera": cam["id"], "zone": cam["zone"], "latitude": cam["latitude"],
                          "longitude": cam["longitude"], "span_s": minutes * 60})
            if rng.random() < 0.05:
                events.append({"package_id": pid, "camera": cam["id"], "type": rng.choice(EVENT_TYPES),
                               "start_utc": start + timedelta(seconds=30), "end_utc": None,
                               "confidence": round(0.3 + rng.random() * 0.7, 3), "source": "vendor-ai"})
    cases, links = [], []
    for c in range(200):
        cases.append({"id": c + 1, "number": f"2025-{c:04d}", "title": f"case {c}", "requester": "police",
                      "notes": "", "created_at": YEAR})
        for p in rng.sample(packages, min(rng.randint(20, 100), len(packages))):
            links.append({"case_id": c + 1, "package_id": p["id"]})
    links = list({(x["case_id"], x["package_id"]): x for x in links}.values())
    zone_rows = [{"path": p, "name": p.split("/")[-1], "parent": parent, "kind": kind}
                 for p, (parent, kind) in sorted(zones.items(), key=lambda z: z[0].count("/"))]
    return {"zones": zone_rows, "cameras": cameras, "packages": packages, "clips": clips, "events": events,
            "cases": cases, "links": links}


def load(catalog: Catalog, data: dict, chunk: int = 5000) -> float:
    """Bulk insert through SQLAlchemy Core (full-text triggers and indexes on); returns seconds."""
    t0 = time.perf_counter()
    with catalog.engine.begin() as conn:
        conn.execute(insert(Purpose), [{"code": p, "name": p} for p in PURPOSES])
        conn.execute(insert(Zone), data["zones"])
        conn.execute(insert(Camera), data["cameras"])
    for table, rows in ((Package, data["packages"]), (Clip, data["clips"]), (DetectedEvent, data["events"]),
                        (Case, data["cases"]), (CasePackage, data["links"])):
        for i in range(0, len(rows), chunk):
            with catalog.engine.begin() as conn:
                conn.execute(insert(table), rows[i:i + chunk])
    with catalog.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - t0


def vacuum_postgres(catalog: Catalog) -> None:
    """What autovacuum does soon after a bulk load: the visibility map that index-only scans need."""
    with catalog.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def queries(data: dict, rng: random.Random) -> dict[str, Callable[[], Query]]:
    """Six kinds of search, each anchored on a random real clip so that most pages are not empty."""
    clips = data["clips"]

    def anchor() -> dict:
        return clips[rng.randrange(len(clips))]

    def window(c: dict, hours: float) -> tuple[datetime, datetime]:
        start = c["start_utc"] - timedelta(minutes=rng.randrange(60))
        return start, start + timedelta(hours=hours)

    def time_camera() -> Query:
        c = anchor()
        s, e = window(c, 2)
        return Query(cameras=[c["camera"]], start=s, end=e)

    def zone_day() -> Query:
        c = anchor()
        d = c["start_utc"].replace(hour=0, minute=0, second=0)
        return Query(zone=c["zone"].rsplit("/", 1)[0], start=d, end=d + timedelta(days=1))

    def radius_time() -> Query:
        c = anchor()
        s, e = window(c, 1.5)
        return Query(near=(c["latitude"], c["longitude"]), radius_m=300, start=s, end=e)

    def event_conf() -> Query:
        return Query(event_type=rng.choice(EVENT_TYPES), min_confidence=0.8)

    def case() -> Query:
        return Query(case=rng.choice(data["cases"])["number"])

    def full_text() -> Query:
        return Query(text=rng.choice(RARE))

    return {"time+camera": time_camera, "zone subtree+day": zone_day, "radius+time": radius_time,
            "event type+confidence": event_conf, "case": case, "full text": full_text}


def measure(catalog: Catalog, makers: dict[str, Callable[[], Query]], samples: int,
            text_mode: str = "index") -> dict[str, tuple[float, float, float]]:
    out = {}
    for name, make in makers.items():
        times, cpu, hits = [], [], []
        search(catalog, make(), text_mode=text_mode)  # warm the cache and the plan
        for _ in range(samples):
            q = make()
            t0, c0 = time.perf_counter(), time.process_time()
            page = search(catalog, q, text_mode=text_mode)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            hits.append(len(page.items))
        out[name] = (statistics.median(times), _p95(times), statistics.mean(hits), _p95(cpu))
    return out


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)]


def print_plans(catalog: Catalog, makers: dict[str, Callable[[], Query]]) -> None:
    """The database's plan of one search of each kind (SQLite: EXPLAIN QUERY PLAN)."""
    for name, make in makers.items():
        print(f"plan, {name}: " + " / ".join(explain(catalog, make())), flush=True)


def drop_sqlite_indexes(catalog: Catalog) -> None:
    with catalog.engine.begin() as conn:
        names = [r[0] for r in conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"))]
        for name in names:
            conn.execute(text(f'DROP INDEX "{name}"'))


def pg_without_indexes(url: str) -> Catalog:
    catalog = Catalog(url)

    def off(dbapi_connection, _record) -> None:
        cur = dbapi_connection.cursor()
        for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
            cur.execute(f"SET {setting} = off")
        cur.close()
        dbapi_connection.commit()

    event.listen(catalog.engine, "connect", off)
    return catalog


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_postgres(keep: Path | None = None) -> Iterator[str]:
    """A PostgreSQL server for one run; with ``keep``, its files live there and stay for the next run."""
    workdir = keep or Path(tempfile.mkdtemp(prefix="longwatch-bench-pg-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.chmod(workdir, 0o755)
    root = os.geteuid() == 0
    wrap = (lambda a: ["runuser", "-u", "postgres", "--", *a]) if root else (lambda a: a)
    if root:
        shutil.chown(workdir, "postgres", "postgres")
    data, port = workdir / "data", _free_port()
    if not (data / "PG_VERSION").exists():
        subprocess.run(wrap([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "lw", "--encoding=UTF8",
                             "--locale=C.UTF-8"]), check=True, capture_output=True)
    subprocess.run(wrap([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(workdir / "log"), "-w", "-o",
                         f"-k {workdir} -p {port} -c listen_addresses=127.0.0.1 -c shared_buffers=256MB",
                         "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://lw@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(wrap([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


def run_backend(name: str, url: str, data: dict, args: argparse.Namespace, workdir: Path) -> dict:
    n = len(data["clips"])
    rows = sum(len(data[k]) for k in ("packages", "clips", "events", "links"))
    cached = Path(args.cache) / f"search-{n}-{args.cameras}-{args.seed}.sqlite" if args.cache else None
    if name == "sqlite" and cached is not None and cached.exists():
        shutil.copyfile(cached, workdir / "bench.sqlite")
        seconds = json.loads(cached.with_suffix(".json").read_text())["load_s"]
        print(f"reusing the catalog loaded earlier ({cached.name}; load figures from that run)", flush=True)
        catalog = Catalog(url)
        catalog.upgrade()  # migrations added since (new indexes) are applied to the copy
        with catalog.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        catalog = Catalog(url)
        catalog.upgrade()
        seconds = load(catalog, data)
    if name == "sqlite":
        with catalog.engine.begin() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        size = (workdir / "bench.sqlite").stat().st_size
        if cached is not None and not cached.exists():
            cached.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(workdir / "bench.sqlite", cached)
            cached.with_suffix(".json").write_text(json.dumps({"load_s": seconds}))
    else:
        vacuum_postgres(catalog)  # after the timed load, as autovacuum would
        with catalog.engine.connect() as conn:
            size = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)
    if args.explain:
        print_plans(catalog, queries(data, random.Random(args.seed)))
    makers = queries(data, random.Random(args.seed + 1))
    indexed = measure(catalog, makers, args.samples)
    catalog.dispose()
    if name == "sqlite":
        bare = Catalog(url)
        drop_sqlite_indexes(bare)
    else:
        bare = pg_without_indexes(url)
    unindexed = measure(bare, queries(data, random.Random(args.seed + 1)), args.unindexed_samples, text_mode="scan")
    bare.dispose()
    return {"load_s": seconds, "rows": rows, "rows_per_s": rows / seconds, "clips_per_s": n / seconds,
            "bytes_per_clip": size / n, "indexed": indexed, "unindexed": unindexed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=1_000_000)
    parser.add_argument("--cameras", type=int, default=500)
    parser.add_argument("--samples", type=int, default=40, help="searches per kind, with indexes")
    parser.add_argument("--unindexed-samples", type=int, default=5, help="searches per kind, without indexes")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="", help="an existing, empty PostgreSQL database (postgresql+psycopg://)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--explain", action="store_true", help="print each search kind's query plan first")
    parser.add_argument("--cache", default="", help="keep the loaded SQLite catalog here and reuse it next time")
    args = parser.parse_args()
    t0 = time.perf_counter()
    data = generate(args.clips, args.cameras, args.seed)
    print(f"generated {len(data['clips'])} clips, {len(data['events'])} events, {len(data['cameras'])} cameras, "
          f"{len(data['links'])} case links in {time.perf_counter() - t0:.1f} s", flush=True)
    results = {}
    workdir = Path(tempfile.mkdtemp(prefix="longwatch-bench-"))
    try:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                results[backend] = run_backend(backend, f"sqlite:///{workdir / 'bench.sqlite'}", data, args, workdir)
            elif args.pg_url:
                results[backend] = run_backend(backend, args.pg_url, data, args, workdir)
            else:
                with throwaway_postgres() as url:
                    results[backend] = run_backend(backend, url, data, args, workdir)
            r = results[backend]
            print(f"\n## {backend}: {args.clips} clips")
            print(f"bulk load: {r['rows']} rows in {r['load_s']:.1f} s = {r['rows_per_s']:.0f} rows/s "
                  f"({r['clips_per_s']:.0f} clips/s with their packages, events and case links)")
            print(f"database size: {r['bytes_per_clip']:.0f} bytes per clip")
            # CPU: this process only, so on SQLite (in-process) the whole search, on PostgreSQL the client's share.
            print("| search | p50 ms | p95 ms | p95 CPU ms | hits/page | p50 no index ms | ratio (p50) | p95 < 50 ms |")
            print("|---|---:|---:|---:|---:|---:|---:|:---:|")
            for name, (p50, p95, hits, cpu95) in r["indexed"].items():
                b50 = r["unindexed"][name][0]
                print(f"| {name} | {p50:.1f} | {p95:.1f} | {cpu95:.1f} | {hits:.0f} | {b50:.0f} | {b50 / p50:.0f}x | "
                      f"{'yes' if p95 < 50 else 'NO'} |", flush=True)
            print(f"load average after the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
