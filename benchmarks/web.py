"""Web benchmark: list page, search page and API search under load, slow clients; tus upload vs plain curl.

    .venv/bin/python benchmarks/web.py [--clips 1000000] [--keep-catalog DIR] [--parts list,alone,search,slow,upload]
        [--clients 50] [--seconds 15] [--think-ms 1000] [--stalled 2,50] [--upload-mib 1024] [--requests 200]
        [--postgres]   # the catalog on a throwaway PostgreSQL server (use its own --keep-catalog DIR)

The server is ``longwatch serve`` as deploy/ runs it (gunicorn, 4 gthread workers of 8 threads).

1. A catalog of ``--clips`` packages (one clip each; 500 cameras in a zone tree around Seoul with
   places, titles of Korean and English words with their full-text rows, an event on 5 %) is
   generated straight into the catalog tables (rows only: the pages and the API read the catalog,
   never the packages). The package list page (HTML) and ``/api/v1/packages`` are timed over
   loopback with one client, unfiltered, by camera and by time range; p50 and p95 are printed.
2. ``alone``: each filter mix's search page, facet panel and API search with one client (``--requests`` of
   each, cycling over the mix's values): p50 and p95 with no queue.
   ``search``: the search page (``/search``) and ``/api/v1/search`` with ``--clients`` signed-in
   clients (``wrk`` with a Lua script carrying the session cookie or the API token), one filter
   mix at a time (newest, a camera, a zone, a 1 h window, a place radius, an event type, full text
   in Korean and English, camera and window), then all mixes at once: requests/s and p50/p95/p99.
   Each client pauses ``--think-ms`` between requests (0: back to back).
3. ``slow``: a page timed alone, then while N connections hold half-sent requests (``--stalled``),
   and the same against gunicorn's sync workers for comparison; the ratio to the page alone is printed.
4. ``upload``: a file of ``--upload-mib`` MiB of random bytes is sent with ``curl`` to a
   trivial receiver (a WSGI app under gunicorn that writes the body
   to disk in 1 MiB pieces) and then, with the same curl, as one tus PATCH
   to longwatch (which also hashes, fsyncs and checks the chunk). The ratio
   is baseline time / tus time (1.0 = as fast as the trivial receiver).
   The last byte goes in a second PATCH so the ingest that follows
   (copy + SHA-256 + SHA-512 + package + sign) is timed on its own.
   Peak RSS (VmHWM) of every gunicorn worker is read from /proc.

Nothing here runs in the test suite; figures belong in docs/performance.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import search as scale  # noqa: E402
from longwatch.core import accounts  # noqa: E402
from longwatch.core.archive import Archive  # noqa: E402
from longwatch.core.catalog import terms  # noqa: E402
from longwatch.core.catalog.models import Camera, Clip, DetectedEvent, Package, Purpose, Zone  # noqa: E402

PASSWORD = "benchmark password"


def receiver_app(environ, start_response):  # type: ignore[no-untyped-def]
    """The baseline: take the body, write it to disk in 1 MiB pieces, answer 204."""
    stream = environ["wsgi.input"]
    target = Path(os.environ["RECEIVER_DIR"]) / uuid.uuid4().hex
    with target.open("wb") as fh:
        while True:
            data = stream.read(1 << 20)
            if not data:
                break
            fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    start_response("204 No Content", [])
    return [b""]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gunicorn(target: str, port: int, env: dict[str, str], workers: int = 2) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--timeout", "600", "--chdir", str(Path(__file__).resolve().parent), target]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def worker_peak_rss_mib(master: int) -> float:
    peak = 0
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        status = Path(f"/proc/{pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            peak = max(peak, int(match.group(1)))
    return peak / 1024


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


#: Bumped when the generated catalog changes shape; a kept catalog of another version is built again.
CATALOG_VERSION = "2"
DISTRICTS = ["Jung-gu", "Jongno-gu", "Mapo-gu", "Yongsan-gu", "Seodaemun-gu", "Gangnam-gu", "Songpa-gu",
             "Nowon-gu", "Eunpyeong-gu", "Gwanak-gu"]
AREAS = ["Market", "Station", "Park", "School", "Crossing"]
PURPOSES = ["traffic", "crime-prevention", "disaster", "facility", "parks"]
EVENT_TYPES = ["fall", "intrusion", "fire", "loitering", "crash"]
WORDS = ["남대문시장", "입구", "정문", "교차로", "주차장", "공원", "gate", "north", "south", "east", "west", "lane"]
RARE = ["교통사고", "화재", "낙상", "침입", "민원", "flood", "collision", "theft"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def camera_rows(cameras: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The registry: cameras in a district > area > site tree around Seoul (as benchmarks/search.py)."""
    zones: dict[str, tuple[str | None, str]] = {}
    rows = []
    for i in range(cameras):
        d, a = DISTRICTS[i % len(DISTRICTS)], AREAS[(i // len(DISTRICTS)) % len(AREAS)]
        site = f"Site-{i // (len(DISTRICTS) * len(AREAS)) + 1}"
        for path, parent, kind in ((d, None, "district"), (f"{d}/{a}", d, "area"),
                                   (f"{d}/{a}/{site}", f"{d}/{a}", "site")):
            zones[path] = (parent, kind)
        rows.append({"id": f"cam-{i:04d}", "name": f"{d} {a} {site}", "vendor": "acme", "model": "X1",
                     "zone": f"{d}/{a}/{site}", "purpose": PURPOSES[i % len(PURPOSES)],
                     "latitude": round(37.45 + rng.random() * 0.25, 6),
                     "longitude": round(126.80 + rng.random() * 0.38, 6),
                     "address": f"{d} {rng.randint(1, 300)}", "tags": ",outdoor," if i % 3 else ",indoor,",
                     "timezone": "Asia/Seoul", "clock_offset_s": 0.0})
    zone_rows = [{"path": p, "name": p.split("/")[-1], "parent": parent, "kind": kind}
                 for p, (parent, kind) in sorted(zones.items(), key=lambda z: z[0].count("/"))]
    return rows, zone_rows


def generate_catalog(archive: Archive, n: int, cameras: int = 500, seed: int = 42) -> list[dict[str, Any]]:
    """``n`` one-clip packages from ``cameras`` cameras recording one-minute clips side by side from START.

    Rows go straight into the tables in batches (never all in memory): packages with titles of
    Korean and English words (2 % with a rarer word) and their full-text terms (the FTS5 rows
    follow through the catalog's triggers), clips with the copied camera, zone and place, the
    registry (zones, purposes, cameras) and an event on 5 % of packages. Returns the cameras.
    """
    rng = random.Random(seed)
    registry, zones = camera_rows(cameras, rng)
    batch = 20_000
    now = datetime.now(UTC)
    with archive.catalog.engine.begin() as connection:
        connection.execute(Purpose.__table__.insert(), [{"code": p, "name": p} for p in PURPOSES])
        connection.execute(Zone.__table__.insert(), zones)
        connection.execute(Camera.__table__.insert(), registry)
    for first in range(0, n, batch):
        packages, clips, events = [], [], []
        for i in range(first, min(first + batch, n)):
            pid = str(uuid.UUID(int=i + 1))
            t0 = START + timedelta(seconds=60 * (i // cameras))
            cam = registry[i % cameras]
            words = rng.sample(WORDS, 2) + ([rng.choice(RARE)] if rng.random() < 0.02 else [])
            title = f"{cam['id']} {t0:%H:%M} {' '.join(words)}"
            packages.append({
                "id": pid, "created_at": now, "camera": cam["id"], "zone": cam["zone"], "title": title,
                "location_name": cam["address"], "latitude": cam["latitude"], "longitude": cam["longitude"],
                "start_utc": t0, "end_utc": t0 + timedelta(seconds=60), "time_source": "container",
                "size_bytes": 30_000_000, "file_count": 1, "status": "stored", "storage_location": "primary",
                "tagmanifest_sha256": "0" * 64, "signer_fingerprint": "", "media_ok": True, "description": "",
                "notes": "", "search_terms": terms.document(title, "", "", cam["address"], cam["id"], cam["zone"])})
            digest = hashlib.sha256(pid.encode()).hexdigest()
            clips.append({
                "id": i + 1, "package_id": pid, "relpath": "data/media/seg.mp4", "original_name": "seg.mp4",
                "size_bytes": 30_000_000, "sha256": digest, "sha512": digest * 2, "mime_type": "video/mp4",
                "format_name": "mov,mp4", "codec": "h264", "width": 1920, "height": 1080, "duration": 60.0,
                "start_utc": t0, "end_utc": t0 + timedelta(seconds=60), "probe_ok": True, "camera": cam["id"],
                "zone": cam["zone"], "latitude": cam["latitude"], "longitude": cam["longitude"], "span_s": 60})
            if rng.random() < 0.05:
                events.append({"package_id": pid, "camera": cam["id"], "type": rng.choice(EVENT_TYPES),
                               "start_utc": t0 + timedelta(seconds=30), "end_utc": None,
                               "confidence": round(0.3 + rng.random() * 0.7, 3), "source": "vendor-ai"})
        with archive.catalog.engine.begin() as connection:
            connection.execute(Package.__table__.insert(), packages)
            connection.execute(Clip.__table__.insert(), clips)
            if events:
                connection.execute(DetectedEvent.__table__.insert(), events)
        print(f"  catalog: {min(first + batch, n):,} / {n:,}", end="\r", flush=True)
    with archive.catalog.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    print()
    return registry


def serve(root: Path, port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    """``longwatch serve`` as deploy/ runs it: gunicorn with threaded (gthread) workers, access log on."""
    cmd = [sys.executable, "-m", "longwatch", "-A", str(root), "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--threads", str(threads)]
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            requests.get(f"http://127.0.0.1:{port}/login", timeout=5).raise_for_status()
            return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("longwatch serve did not start")


def search_cases(registry: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, str]], list[dict[str, str]]]]:
    """Typical filter mixes: (label, the page's query arguments, the API's), each varied over 20 values.

    Varied so that 50 clients do not all ask the one query whose pages the database has cached.
    The generated footage spans START to START + 2,000 minutes (500 cameras side by side).
    """
    rng = random.Random(7)
    picked = rng.sample(registry, 20)
    cams = [c["id"] for c in picked]
    areas = sorted({c["zone"].rsplit("/", 1)[0] for c in picked})
    hours = [START + timedelta(hours=rng.randrange(32)) for _ in range(20)]
    points = [f"{c['latitude']},{c['longitude']}" for c in picked]
    rare = ["교통사고", "화재", "낙상", "침입", "민원"]

    def iso(t: datetime) -> str:
        return t.isoformat().replace("+00:00", "Z")

    def both(label: str, page: list[dict[str, str]], api_names: dict[str, str]) -> tuple[str, Any, Any]:
        api = [{api_names.get(k, k): v for k, v in a.items()} | {"limit": "50"} for a in page]
        return label, page, api

    renamed = {"q": "text", "event": "event_type"}
    return [
        both("newest, no filter", [{}], {}),
        both("one camera", [{"camera": c} for c in cams], {}),
        both("a zone (area and its sites)", [{"zone": a} for a in areas], {}),
        both("1 h window", [{"start": iso(h), "end": iso(h + timedelta(hours=1))} for h in hours], {}),
        both("place, 500 m radius", [{"near": p, "radius": "500"} for p in points], {}),
        both("event type", [{"event": t} for t in EVENT_TYPES], renamed),
        both("text, Korean 시장 (in 남대문시장)", [{"q": "시장"}], renamed),
        both("text, rare Korean word", [{"q": w} for w in rare], renamed),
        both("text, English word", [{"q": w} for w in ("gate", "north", "lane")], renamed),
        both("camera + 1 h window", [{"camera": c, "start": iso(h), "end": iso(h + timedelta(hours=1))}
                                     for c, h in zip(cams, hours, strict=True)], {}),
    ]


WRK_SCRIPT = """
local paths = {%(paths)s}
local headers = {[%(name)s] = %(value)s}
local think = %(think)d
local n = 0
init = function(args) n = math.random(#paths) end
request = function()
  n = n %% #paths + 1
  return wrk.format("GET", paths[n], headers)
end
%(delay)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%.1f %%.1f %%.1f %%.1f\\n", summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


def wrk(work: Path, base: str, paths: list[str], header: tuple[str, str], clients: int, seconds: int,
        think_ms: int) -> dict[str, float]:
    """One wrk run: ``clients`` connections cycling through ``paths``; latency percentiles in ms and requests/s.

    wrk (C, one event loop) rather than a Python thread pool: on two shared cores a pool of 50
    ``requests`` sessions would take the CPU (and the GIL) from the server it measures. Each
    connection pauses ``think_ms`` (0.5x-1.5x, wrk's ``delay``) between requests, as a person reading
    a page does; 0 sends back to back (the server's throughput, latency is then mostly queueing).
    """
    delay = (f"delay = function() return math.random({think_ms // 2}, {think_ms * 3 // 2}) end"
             if think_ms else "")
    script = work / "search.lua"
    script.write_text(WRK_SCRIPT % {
        "paths": ", ".join(json.dumps(p) for p in paths), "name": json.dumps(header[0]),
        "value": json.dumps(header[1]), "think": think_ms, "delay": delay})
    load = os.getloadavg()[0]
    out = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script), base],
                         capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    n, duration_us, status_errors, socket_errors, p50, p95, p99, worst = (float(v) for v in line.split()[1:])
    return {"requests": n, "rps": n / (duration_us / 1e6), "errors": status_errors + socket_errors,
            "p50": p50 / 1000, "p95": p95 / 1000, "p99": p99 / 1000, "max": worst / 1000, "load": load}


def server_cpu_seconds(master: int) -> float:
    """CPU time so far of the server's worker processes (user + system)."""
    total = 0
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def database_busy() -> int:
    """Statements the catalog's PostgreSQL server is running for others (0 on SQLite: it runs in the workers).

    A worker waiting for PostgreSQL uses no CPU of its own, so the workers' CPU alone says nothing
    about a backlog of slow statements there.
    """
    url = os.environ.get("LONGWATCH_CATALOG_URL", "")
    if not url.startswith("postgresql"):
        return 0
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                                        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")) or 0)
    finally:
        engine.dispose()


def settle(master: int, limit: float = 180) -> float:
    """Wait until the server has drained the requests wrk left queued (its workers idle for a second, and
    no statement running in a PostgreSQL catalog).

    Otherwise a slow case's backlog would be measured as the next case's latency. With the catalog on
    PostgreSQL the workers wait for the database without using CPU: watching their CPU alone let the
    facet panels' backlog (a zone's or an event type's, several seconds each) run into the API line after
    it, which then measured 2.7 s at p50 for a search that takes 5-40 ms alone. Returns seconds waited.
    """
    t = time.perf_counter()
    while time.perf_counter() - t < limit:
        before = server_cpu_seconds(master)
        time.sleep(1)
        if server_cpu_seconds(master) - before < 0.1 and database_busy() == 0:
            break
    return time.perf_counter() - t


def search_under_load(work: Path, base: str, server: int, registry: list[dict[str, Any]], cookie: str, token: str,
                      args: argparse.Namespace) -> None:
    """The search page and the API search under ``--clients`` signed-in clients, one filter mix at a time."""
    people = ("Cookie", cookie)
    machine = ("Authorization", f"Bearer {token}")
    print(f"\nsearch under load: {args.clients} clients (wrk, think time {args.think_ms} ms), "
          f"{args.seconds} s per line, {args.clips:,} packages")
    print("| request | filter | requests/s | p50 ms | p95 ms | p99 ms | max ms | errors | load | drain s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    every_page: list[str] = []
    every_api: list[str] = []
    every_panel: list[str] = []
    for label, page_args, api_args in search_cases(registry):
        if args.mixes and not any(m in label for m in args.mixes.split(",")):
            continue
        pages = ["/search" + ("?" + urlencode(a) if a else "") for a in page_args]
        apis = ["/api/v1/search?" + urlencode(a) for a in api_args]
        # the page's facet panel, which its script fetches after the results (bounded: the newest 10,000)
        panels = ["/search/facets" + ("?" + urlencode(a) if a else "") for a in page_args]
        every_page += pages
        every_api += apis
        every_panel += panels
        for kind, paths, header in (("page", pages, people), ("facet panel", panels, people), ("API", apis, machine)):
            for path in paths[:3]:  # warm, and fail loudly on a wrong query
                response = requests.get(base + path, headers=dict([header]), timeout=600)
                response.raise_for_status()
            r = wrk(work, base, paths, header, args.clients, args.seconds, args.think_ms)
            drained = settle(server)
            print(f"| {kind} | {label} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | "
                  f"{r['max']:.0f} | {r['errors']:.0f} | {r['load']:.1f} | {drained:.0f} |", flush=True)
    # Every mix at once, with think time; and the API back to back (its throughput).
    for kind, paths, header, think in (("page", every_page, people, args.think_ms),
                                       ("facet panel", every_panel, people, args.think_ms),
                                       ("API", every_api, machine, args.think_ms), ("API", every_api, machine, 0)):
        r = wrk(work, base, paths, header, args.clients, args.seconds * 2, think)
        drained = settle(server)
        print(f"| {kind} | all mixes, think {think} ms | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | "
              f"{r['p99']:.0f} | {r['max']:.0f} | {r['errors']:.0f} | {r['load']:.1f} | {drained:.0f} |", flush=True)


def alone(base: str, people: requests.Session, machine: requests.Session, registry: list[dict[str, Any]],
          args: argparse.Namespace) -> None:
    """Each mix's page, facet panel and API with one client (``--requests`` of each, cycling over its values):
    what a request costs with no queue, to tell a slow statement from a queue under load."""
    print(f"\none client: {args.requests} requests of each, cycling over each mix's values, {args.clips:,} packages")
    print("| request | filter | p50 ms | p95 ms | load |")
    print("|---|---|---:|---:|---:|")
    for label, page_args, api_args in search_cases(registry):
        if args.mixes and not any(m in label for m in args.mixes.split(",")):
            continue
        for kind, session, prefix, values in (("page", people, "/search", page_args),
                                              ("facet panel", people, "/search/facets", page_args),
                                              ("API", machine, "/api/v1/search", api_args)):
            paths = [prefix + ("?" + urlencode(a) if a else "") for a in values]
            load = os.getloadavg()[0]
            times = []
            for i in range(args.requests):
                t = time.perf_counter()
                session.get(base + paths[i % len(paths)], timeout=600).raise_for_status()
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            print(f"| {kind} | {label} | {statistics.median(times):.0f} | {times[int(0.95 * (len(times) - 1))]:.0f} "
                  f"| {load:.1f} |", flush=True)


def slow_clients(base: str, port: int, people: requests.Session, args: argparse.Namespace,
                 path: str = "/search?camera=cam-0042", n: int = 20, timeout: float = 120) -> None:
    """A normal page timed alone, then while N connections hold half-sent requests (headers never ended).

    A request that gets no answer within ``timeout`` seconds is reported as hung.
    """
    url = base + path
    timed(people, url, 3)
    quiet = timed(people, url, n, timeout=timeout)
    print(f"\nslow clients: {path} alone p50 {quiet[0]:.1f} ms, p95 {quiet[1]:.1f} ms "
          f"(load average {os.getloadavg()[0]:.1f})")
    for count in (int(c) for c in args.stalled.split(",")):
        stalled = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /search?camera=cam-0001 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow")
            stalled.append(sock)
        try:
            time.sleep(0.5)  # the server has accepted them and read the first half
            t = time.perf_counter()
            try:
                p50, p95 = timed(people, url, n, timeout=timeout)
            except requests.Timeout:
                print(f"  with {count:4d} half-sent requests held: HUNG (no answer in {timeout:.0f} s)", flush=True)
                continue
            spent = time.perf_counter() - t
            print(f"  with {count:4d} half-sent requests held: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
                  f"ratio (p50) {p50 / quiet[0]:.2f}, {n} requests in {spent:.1f} s "
                  f"(load average {os.getloadavg()[0]:.1f})", flush=True)
            time.sleep(max(0.0, 8 - spent))  # past gunicorn's 5 s wait for a request's data
            later = timed(people, url, n, timeout=timeout)
            print(f"  {'':4}  and after 8 s more:               p50 {later[0]:.1f} ms, p95 {later[1]:.1f} ms, "
                  f"ratio (p50) {later[0] / quiet[0]:.2f}", flush=True)
        except requests.Timeout:
            print(f"  {'':4}  and after 8 s more: HUNG (no answer in {timeout:.0f} s)", flush=True)
        finally:
            for sock in stalled:
                sock.close()


def timed(session: requests.Session, url: str, n: int, timeout: float | None = None) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        response = session.get(url, timeout=timeout)
        response.raise_for_status()
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times) * 1000, times[int(0.95 * (len(times) - 1))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=1_000_000)
    parser.add_argument("--upload-mib", type=int, default=1024, help="0 skips the upload part")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: a temporary one)")
    parser.add_argument("--keep-catalog", type=Path, default=None,
                        help="build the archive and its generated catalog here once, and reuse it next time")
    parser.add_argument("--parts", default="list,search,slow,upload",
                        help="which parts to run, comma-separated: list, alone, search, slow, upload")
    parser.add_argument("--clients", type=int, default=50, help="concurrent signed-in clients (search part)")
    parser.add_argument("--seconds", type=int, default=15, help="length of each wrk run (search part)")
    parser.add_argument("--think-ms", type=int, default=1000,
                        help="mean pause of each client between requests (0.5x-1.5x); 0: back to back")
    parser.add_argument("--mixes", default="", help="only the filter mixes whose label contains one of these")
    parser.add_argument("--stalled", default="2,50", help="half-sent requests held open (slow part), comma-separated")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (as deploy/ runs it)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (as deploy/ runs it)")
    parser.add_argument("--postgres", action="store_true",
                        help="the catalog on a throwaway PostgreSQL server (kept in --keep-catalog's pg/ with it)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lw-bench-web-", dir=args.dir))
    try:
        if args.postgres:
            # The archive's catalog URL comes from the environment (config.ENV_CATALOG_URL), which the
            # server and its workers inherit; the server's port is new on each run.
            with scale.throwaway_postgres(args.keep_catalog / "pg" if args.keep_catalog else None) as url:
                os.environ["LONGWATCH_CATALOG_URL"] = url
                run(work, args)
        else:
            run(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def open_catalog(work: Path, args: argparse.Namespace) -> tuple[Path, list[dict[str, Any]]]:
    """The archive with its generated catalog: built here, or reused from ``--keep-catalog`` if of this version."""
    root = (args.keep_catalog or work) / "archive"
    marker = root / f"generated-v{CATALOG_VERSION}"
    if args.keep_catalog is not None and marker.exists():
        print(f"reusing the catalog in {root}")
        return root, camera_rows(500, random.Random(42))[0]
    if root.exists():
        shutil.rmtree(root)  # a kept catalog of an older shape
    archive = Archive.create(root, organization="Benchmark", language="en", unencrypted_key=True)
    accounts.add_user(archive.catalog, "operator", PASSWORD, "operator")
    t = time.perf_counter()
    registry = generate_catalog(archive, args.clips)
    if archive.catalog.engine.dialect.name == "postgresql":
        scale.vacuum_postgres(archive.catalog)
    print(f"generated {args.clips:,} packages/clips in {time.perf_counter() - t:.1f} s "
          f"(load average {os.getloadavg()[0]:.1f})")
    archive.close()
    marker.write_text(f"{args.clips}\n")
    return root, registry


def run(work: Path, args: argparse.Namespace) -> None:
    root, registry = open_catalog(work, args)
    archive = Archive.open(root)
    token = accounts.create_token(archive.catalog, "operator", "bench")
    with archive.catalog.session() as s:
        args.clips = s.query(Package).count()
    archive.close()

    port = free_port()
    server = serve(root, port, args.workers, args.threads)
    base = f"http://127.0.0.1:{port}"
    parts = set(args.parts.split(","))
    try:
        people = requests.Session()
        page = people.get(base + "/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        people.post(base + "/login", data={"username": "operator", "password": PASSWORD, "csrf_token": csrf})
        machine = requests.Session()
        machine.headers["Authorization"] = f"Bearer {token}"
        cases = [
            ("list page, newest 50", people, "/packages"),
            ("list page, one camera", people, "/packages?camera=cam-0042"),
            ("list page, 1 h window", people, "/packages?start=2026-01-01T12:00:00Z&end=2026-01-01T13:00:00Z"),
            ("list page, page 100", people, "/packages?offset=5000"),
            ("API, newest 50", machine, "/api/v1/packages?limit=50"),
            ("API, one camera", machine, "/api/v1/packages?camera=cam-0042&limit=50"),
            ("API, 1 h window", machine, "/api/v1/packages?start=2026-01-01T12:00:00Z&end=2026-01-01T13:00:00Z"),
        ]
        if "list" in parts:
            print(f"\n{'request':32} {'p50 ms':>8} {'p95 ms':>8}   ({args.requests} each, {args.clips:,} packages, "
                  f"load average {os.getloadavg()[0]:.1f})")
            for label, session, path in cases:
                timed(session, base + path, 3)  # warm
                p50, p95 = timed(session, base + path, args.requests)
                print(f"{label:32} {p50:8.1f} {p95:8.1f}")
        if "alone" in parts:
            alone(base, people, machine, registry, args)
        if "search" in parts:
            cookie = "; ".join(f"{c.name}={c.value}" for c in people.cookies)
            search_under_load(work, base, server.pid, registry, cookie, token, args)
        if "slow" in parts:
            slow_clients(base, port, people, args)
            # The same probe against gunicorn's sync workers (2, as before `serve` used threads): one
            # half-sent request holds a whole worker until gunicorn's timeout.
            sync_port = free_port()
            sync = gunicorn(f"longwatch.web:create_app({str(root)!r})", sync_port, {}, workers=2)
            try:
                print("sync workers (gunicorn's default worker class, 2 workers), for comparison:")
                slow_clients(f"http://127.0.0.1:{sync_port}", sync_port, people, args, n=5, timeout=20)
            finally:
                stop(sync)

        # -- upload -----------------------------------------------------------
        if args.upload_mib <= 0 or "upload" not in parts:
            return
        size = args.upload_mib << 20
        source = work / "upload.bin"
        with source.open("wb") as fh:
            for _ in range(args.upload_mib):
                fh.write(os.urandom(1 << 20))
        subprocess.run(["cat", str(source)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
        received = work / "received"
        received.mkdir()
        rport = free_port()
        receiver = gunicorn("web:receiver_app", rport, {"RECEIVER_DIR": str(received)})
        try:
            requests.post(f"http://127.0.0.1:{rport}/", data=b"warm").raise_for_status()
            t = time.perf_counter()
            subprocess.run(["curl", "-sS", "-f", "-o", "/dev/null", "-X", "POST", "-H", "Expect:", "-H",
                            "Content-Type: application/octet-stream", "-T", str(source),
                            f"http://127.0.0.1:{rport}/"], check=True)
            baseline = time.perf_counter() - t
            receiver_rss = worker_peak_rss_mib(receiver.pid)
        finally:
            stop(receiver)
        shutil.rmtree(received)

        created = machine.post(base + "/api/v1/uploads", headers={
            "Tus-Resumable": "1.0.0", "Upload-Length": str(size), "Upload-Metadata": "filename dXBsb2FkLmJpbg=="})
        created.raise_for_status()
        url = base + created.headers["Location"]
        head = work / "head.bin"  # all but the last byte, sent in one PATCH (curl -T streams it)
        with source.open("rb") as src, head.open("wb") as dst:
            shutil.copyfileobj(src, dst)
            dst.truncate(size - 1)
        subprocess.run(["cat", str(head)], stdout=subprocess.DEVNULL, check=True)
        t = time.perf_counter()
        subprocess.run(["curl", "-sS", "-f", "-o", "/dev/null", "-X", "PATCH", "-H", "Expect:",
                        "-H", "Tus-Resumable: 1.0.0",
                        "-H", f"Authorization: Bearer {token}", "-H", "Content-Type: application/offset+octet-stream",
                        "-H", "Upload-Offset: 0", "-T", str(head), url], check=True)
        tus = time.perf_counter() - t
        t = time.perf_counter()
        with source.open("rb") as fh:
            fh.seek(size - 1)
            last = fh.read(1)
        response = machine.patch(url, data=last, headers={
            "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(size - 1)})
        response.raise_for_status()
        ingest = time.perf_counter() - t
        head.unlink(missing_ok=True)
        status = machine.get(url).json()
        assert status["status"] == "archived", status
        server_rss = worker_peak_rss_mib(server.pid)
        mib = size / (1 << 20)
        print(f"\nupload of {mib:,.0f} MiB over loopback (curl, page cache warm)")
        print(f"  trivial receiver   {baseline:7.2f} s  {mib / baseline:7.0f} MiB/s  "
              f"peak worker RSS {receiver_rss:.0f} MiB")
        print(f"  longwatch tus      {tus:7.2f} s  {mib / tus:7.0f} MiB/s  ratio {baseline / tus:.2f}")
        print(f"  then ingest        {ingest:7.2f} s  (copy + SHA-256 + SHA-512 + bag + sign + catalog)")
        print(f"  peak longwatch worker RSS (whole run) {server_rss:.0f} MiB")
    finally:
        stop(server)


if __name__ == "__main__":
    main()
