"""Web benchmark: list page and API p95 on a large generated catalog; tus upload vs plain curl.

    .venv/bin/python benchmarks/web.py [--clips 1000000] [--upload-mib 1024] [--requests 200]

1. A catalog of ``--clips`` packages (one clip each) is generated straight
   into the catalog tables (rows only: the list page and the API read the
   catalog, never the packages). The package list page (HTML) and
   ``/api/v1/packages`` are timed over loopback against gunicorn (2 workers),
   unfiltered, by camera and by time range; p50 and p95 are printed.
2. A file of ``--upload-mib`` MiB of random bytes is sent with ``curl`` to a
   trivial receiver (a WSGI app under the same gunicorn that writes the body
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
import os
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

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from longwatch.core import accounts  # noqa: E402
from longwatch.core.archive import Archive  # noqa: E402
from longwatch.core.catalog.models import Clip, Package  # noqa: E402

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


def generate_catalog(archive: Archive, n: int, cameras: int = 500) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch = 20_000
    now = datetime.now(UTC)
    with archive.catalog.engine.begin() as connection:
        for first in range(0, n, batch):
            packages, clips = [], []
            for i in range(first, min(first + batch, n)):
                pid = str(uuid.UUID(int=i + 1))
                t0 = start + timedelta(seconds=60 * (i // cameras))
                camera = f"cam-{i % cameras:04d}"
                packages.append({
                    "id": pid, "created_at": now, "camera": camera, "zone": "", "title": f"{camera} {t0:%H:%M}",
                    "location_name": "", "latitude": None, "longitude": None, "start_utc": t0,
                    "end_utc": t0 + timedelta(seconds=60), "time_source": "container", "size_bytes": 30_000_000,
                    "file_count": 1, "status": "stored", "storage_location": "primary",
                    "tagmanifest_sha256": "0" * 64, "signer_fingerprint": "", "media_ok": True})
                digest = hashlib.sha256(pid.encode()).hexdigest()
                clips.append({
                    "package_id": pid, "relpath": "data/media/seg.mp4", "original_name": "seg.mp4",
                    "size_bytes": 30_000_000, "sha256": digest, "sha512": digest * 2, "mime_type": "video/mp4",
                    "format_name": "mov,mp4", "codec": "h264", "width": 1920, "height": 1080, "duration": 60.0,
                    "start_utc": t0, "end_utc": t0 + timedelta(seconds=60), "probe_ok": True})
            connection.execute(Package.__table__.insert(), packages)
            connection.execute(Clip.__table__.insert(), clips)
            print(f"  catalog: {min(first + batch, n):,} / {n:,}", end="\r", flush=True)
    print()


def timed(session: requests.Session, url: str, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        response = session.get(url)
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
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lw-bench-web-", dir=args.dir))
    try:
        run(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, args: argparse.Namespace) -> None:
    root = (args.keep_catalog or work) / "archive"
    if args.keep_catalog is not None and (root / "longwatch.toml").exists():
        archive = Archive.open(root)
        print(f"reusing the catalog in {root}")
    else:
        archive = Archive.create(root, organization="Benchmark", language="en", unencrypted_key=True)
        accounts.add_user(archive.catalog, "operator", PASSWORD, "operator")
        t = time.perf_counter()
        generate_catalog(archive, args.clips)
        print(f"generated {args.clips:,} packages/clips in {time.perf_counter() - t:.1f} s")
    token = accounts.create_token(archive.catalog, "operator", "bench")
    with archive.catalog.session() as s:
        args.clips = s.query(Package).count()
    archive.close()

    port = free_port()
    server = gunicorn(f"longwatch.web:create_app({str(root)!r})", port, {})
    base = f"http://127.0.0.1:{port}"
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
        print(f"\n{'request':32} {'p50 ms':>8} {'p95 ms':>8}   ({args.requests} each, {args.clips:,} packages)")
        for label, session, path in cases:
            timed(session, base + path, 3)  # warm
            p50, p95 = timed(session, base + path, args.requests)
            print(f"{label:32} {p50:8.1f} {p95:8.1f}")

        # -- upload -----------------------------------------------------------
        if args.upload_mib <= 0:
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
