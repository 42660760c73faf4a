"""Storage benchmark: ingest to S3, audit rate, and catalog-only listing of many packages.

Run: ``.venv/bin/python benchmarks/storage.py [--size-mib 256] [--audit-mib 256] [--packages 200000]``
(``--only memory [--memory-mib 256,2048]``: peak memory of S3 ingest at two sizes, run only when asked)

1. Ingest of one file to an S3 location (moto's server on 127.0.0.1, in its
   own process) as a ratio of a plain boto3 ``upload_file`` of the same file
   in the same run; peak memory of the ingesting process for two file sizes
   (flat means the second is no larger than the first).
2. Audit rate (``longwatch audit``'s fixity check) over packages on a local
   location, as a ratio of ``sha256sum`` (and ``openssl dgst -sha256``) over
   the same payload files.
3. Listing and status of many packages (usage per location, the audit plan,
   the newest page): answered by the catalog, storage is never walked.

Every ratio is against a baseline measured in the same run on the same data.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from longwatch.core.archive import Archive  # noqa: E402
from longwatch.core.preservation.ingest import IngestRequest, ingest  # noqa: E402
from longwatch.core.storage import audit as storage_audit  # noqa: E402
from longwatch.core.storage import caps as storage_caps  # noqa: E402
from longwatch.core.storage import copies as storage_copies  # noqa: E402

ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_DEFAULT_REGION": "us-east-1",
       "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
       "AWS_EC2_METADATA_DISABLED": "true"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto_server did not start")


def random_file(path: Path, mib: int) -> Path:
    with open(path, "wb") as fh:
        for _ in range(mib):
            fh.write(os.urandom(1 << 20))
    return path


def make_archive(root: Path, storage_body: str) -> Archive:
    archive = Archive.create(root, organization="bench", language="en", unencrypted_key=True)
    archive.close()
    cfg = root / "longwatch.toml"
    text = cfg.read_text()
    head, _, rest = text.partition("[storage]")
    _, _, tail = rest.partition("[signing]")
    cfg.write_text(head + storage_body + "\n[signing]" + tail)
    return Archive.open(root)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process so far (the S3 server's share of the work)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(kind: str, src: str, url: str, bucket: str, root: str) -> None:
    """One measured operation in a fresh process: its own peak memory and CPU, not the parent's."""
    import json

    import boto3

    before = resource.getrusage(resource.RUSAGE_SELF)
    if kind == "ingest":
        archive = make_archive(Path(root), f'[storage]\nprimary = "primary"\n[storage.locations.primary]\n'
                                           f'adapter = "s3"\nbucket = "{bucket}"\nendpoint_url = "{url}"\n')
        archive.signer  # noqa: B018 - load the key before the clock starts, as for a long-running ingest
        t = time.perf_counter()
        ingest(archive, IngestRequest(path=Path(src)))
        elapsed = time.perf_counter() - t
    elif kind == "stream":
        from longwatch.core.aip.fixity import digest_stream, open_for_reading
        from longwatch.storage_adapters.s3 import S3StorageAdapter

        adapter = S3StorageAdapter("primary", {"bucket": bucket, "endpoint_url": url}, Path(root))
        t = time.perf_counter()
        with adapter.begin_package(str(uuid.uuid4())) as writer:
            with open_for_reading(src) as fh, writer.open("data/media/big.bin") as out:
                digest_stream(fh, sinks=[out])
            writer.commit()
        elapsed = time.perf_counter() - t
    else:
        client = boto3.client("s3", endpoint_url=url)
        t = time.perf_counter()
        client.upload_file(src, bucket, "big.bin")
        elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({"seconds": elapsed, "cpu": cpu, "rss_mib": after.ru_maxrss / 1024}))


def bench_ingest(work: Path, size_mib: int, rounds: int) -> None:
    import json

    import boto3

    proc, url = start_moto()
    try:
        client = boto3.client("s3", endpoint_url=url)
        small = random_file(work / "small.bin", max(8, size_mib // 2))
        big = random_file(work / "big.bin", size_mib)

        def run(kind: str, src: Path) -> dict[str, float]:
            bucket = f"lw-bench-{uuid.uuid4().hex[:12]}"
            client.create_bucket(Bucket=bucket)
            root = work / f"a-{uuid.uuid4().hex[:8]}"
            server_cpu = _cpu_of(proc.pid)
            out = subprocess.run([sys.executable, __file__, "--child", kind, str(src), url, bucket, str(root)],
                                 check=True, capture_output=True, text=True).stdout
            result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
            result["server_cpu"] = _cpu_of(proc.pid) - server_cpu
            for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):  # moto keeps them in memory
                client.delete_object(Bucket=bucket, Key=item["Key"])
            shutil.rmtree(root, ignore_errors=True)
            return result

        ours, theirs, smalls, streams = [], [], [], []
        for _ in range(rounds):  # interleaved, so load from other processes hits both sides alike
            smalls.append(run("ingest", small))
            ours.append(run("ingest", big))
            streams.append(run("stream", big))
            theirs.append(run("upload_file", big))

        def med(rows: list[dict[str, float]], key: str) -> float:
            return statistics.median(r[key] for r in rows)

        a, b = med(ours, "seconds"), med(theirs, "seconds")
        mib = big.stat().st_size / (1 << 20)
        print(f"ingest to S3 (moto server on 127.0.0.1, own process), {mib:.0f} MiB file, median of {rounds}:")
        print(f"  longwatch ingest (SHA-256 + SHA-512 + multipart upload in one pass, probe, sign): {a:.2f} s "
              f"({mib / a:.0f} MiB/s); CPU: ours {med(ours, 'cpu'):.1f} s, server {med(ours, 'server_cpu'):.1f} s")
        print(f"  boto3 upload_file (no digests):                                                 {b:.2f} s "
              f"({mib / b:.0f} MiB/s); CPU: ours {med(theirs, 'cpu'):.1f} s, server "
              f"{med(theirs, 'server_cpu'):.1f} s")
        c = med(streams, "seconds")
        print(f"  storage path alone (both digests + multipart upload + commit marker):           {c:.2f} s "
              f"({mib / c:.0f} MiB/s); CPU: ours {med(streams, 'cpu'):.1f} s, server "
              f"{med(streams, 'server_cpu'):.1f} s")
        print(f"  ratio (upload_file time / ingest time): {b / a:.2f}; storage path alone: {b / c:.2f}"
              "  (target >= 0.8)")
        print(f"  peak RSS of the ingesting process: {med(smalls, 'rss_mib'):.0f} MiB for "
              f"{small.stat().st_size >> 20} MiB, {med(ours, 'rss_mib'):.0f} MiB for {mib:.0f} MiB "
              f"(upload_file: {med(theirs, 'rss_mib'):.0f} MiB)")
    finally:
        proc.terminate()
        proc.wait()


def _rss_of(pid: int) -> float:
    """Peak resident memory (VmHWM) of another process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_memory(work: Path, sizes: list[int]) -> None:
    """Peak memory of one S3 ingest at sizes an order of magnitude apart: flat means the same peak.

    moto keeps every object in memory (and a multipart object twice while it
    is completed), so the sizes stay at a few GiB, not the issue's 10 GB;
    each size gets a fresh server so the server's own peak is per size too.
    """
    import json

    import boto3

    print(f"peak memory of an S3 ingest, one run per size ({load()} at start):")
    for mib in sizes:
        src = random_file(work / f"mem-{mib}.bin", mib)
        proc, url = start_moto()
        try:
            bucket = f"lw-bench-{uuid.uuid4().hex[:12]}"
            boto3.client("s3", endpoint_url=url).create_bucket(Bucket=bucket)
            root = work / f"m-{uuid.uuid4().hex[:8]}"
            out = subprocess.run([sys.executable, __file__, "--child", "ingest", str(src), url, bucket, str(root)],
                                 check=True, capture_output=True, text=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            server = _rss_of(proc.pid)
        finally:
            proc.terminate()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)
        src.unlink()
        print(f"  {mib:>6} MiB file: ingesting process peak RSS {result['rss_mib']:.0f} MiB; "
              f"{result['seconds']:.1f} s ({mib / result['seconds']:.0f} MiB/s), CPU {result['cpu']:.1f} s; "
              f"moto server peak RSS {server:.0f} MiB (it holds the objects); {load()}")


def bench_audit(work: Path, total_mib: int, rounds: int) -> None:
    root = work / "audit"
    archive = make_archive(root, '[storage]\nprimary = "primary"\n[storage.locations.primary]\nadapter = "local"\n'
                                 'path = "storage"\n')
    per = 16
    files = []
    for i in range(max(1, total_mib // per)):
        src = random_file(work / f"clip-{i}.bin", per)
        ingest(archive, IngestRequest(path=src))
        src.unlink()
    adapter = archive.storage()
    for pid in archive.catalog.all_ids():
        local = adapter.local_path(pid)
        assert local is not None
        files += [str(p) for p in (local / "data").rglob("*") if p.is_file()]
    total = sum(os.path.getsize(f) for f in files) / (1 << 20)
    subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)  # page cache warm for everyone

    def timed(fn) -> float:  # type: ignore[no-untyped-def]
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    ours = timed(lambda: storage_audit.audit(archive))
    sha256sum = timed(lambda: subprocess.run(["sha256sum", *files], stdout=subprocess.DEVNULL, check=True))
    openssl = timed(lambda: subprocess.run(["openssl", "dgst", "-sha256", *files], stdout=subprocess.DEVNULL,
                                           check=True))
    n = len(archive.catalog.all_ids())
    print(f"audit of {n} packages on a local location ({total:.0f} MiB of payload, page cache warm), "
          f"median of {rounds}:")
    print(f"  longwatch audit (every tag file, payload SHA-256, signature): {ours:.2f} s ({total / ours:.0f} MiB/s)")
    print(f"  sha256sum over the payload files:                             {sha256sum:.2f} s "
          f"({total / sha256sum:.0f} MiB/s)")
    print(f"  openssl dgst -sha256 over the payload files:                  {openssl:.2f} s "
          f"({total / openssl:.0f} MiB/s)")
    print(f"  ratio vs sha256sum: {sha256sum / ours:.2f} (target >= 0.8); vs openssl: {openssl / ours:.2f}")
    archive.close()


def bench_catalog(work: Path, count: int) -> None:
    from sqlalchemy import insert

    from longwatch.core.catalog.models import Copy, Package

    root = work / "many"
    body = ('[storage]\nprimary = "primary"\n[storage.locations.primary]\nadapter = "local"\npath = "storage"\n'
            '[storage.locations.offsite]\nadapter = "local"\npath = "nowhere"\ncap_bytes = 1000000000000000\n')
    archive = make_archive(root, body)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    t = time.perf_counter()
    batch = 20000
    with archive.catalog.engine.begin() as conn:
        for start in range(0, count, batch):
            ids = [str(uuid.UUID(int=i + 1)) for i in range(start, min(count, start + batch))]
            conn.execute(insert(Package), [
                {"id": pid, "created_at": base, "camera": f"cam-{i % 500:03d}", "zone": "", "title": "",
                 "location_name": "", "start_utc": base + timedelta(seconds=60 * (start + i)), "time_source": "",
                 "size_bytes": 500 << 20, "file_count": 60, "status": "stored", "storage_location": "primary",
                 "tagmanifest_sha256": "", "signer_fingerprint": "", "media_ok": True}
                for i, pid in enumerate(ids)])
            conn.execute(insert(Copy), [
                {"package_id": pid, "location": loc, "status": "ok", "size_bytes": 500 << 20, "created_at": base,
                 "last_checked_at": base + timedelta(seconds=start + i), "last_outcome": "ok"}
                for i, pid in enumerate(ids) for loc in ("primary", "offsite")])
    fill = time.perf_counter() - t
    shutil.rmtree(root / "storage", ignore_errors=True)  # proof: nothing below needs storage

    def timed(fn) -> float:  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    usage = timed(lambda: storage_caps.usage(archive))
    page = timed(lambda: archive.catalog.packages(limit=50))
    plan = timed(lambda: storage_audit.audit_plan(archive, limit=storage_audit.PLAN_BATCH))
    totals = timed(lambda: storage_audit.plan_totals(archive))
    copies = timed(lambda: storage_copies.copies_of(archive, str(uuid.UUID(int=count // 2))))
    print(f"catalog of {count} packages, {2 * count} copies (SQLite; filled in {fill:.1f} s; "
          f"the storage directory removed first; {load()}):")
    print(f"  usage and state of every location (`longwatch locations`): {usage * 1000:.0f} ms")
    print(f"  newest 50 packages (`longwatch list`):                     {page * 1000:.0f} ms")
    print(f"  copies of one package (`longwatch show`):                  {copies * 1000:.1f} ms")
    print(f"  audit plan: totals {totals * 1000:.0f} ms; next {storage_audit.PLAN_BATCH} oldest-checked copies "
          f"{plan * 1000:.0f} ms")
    archive.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=192, help="file ingested to S3")
    parser.add_argument("--audit-mib", type=int, default=256, help="payload audited")
    parser.add_argument("--packages", type=int, default=200_000, help="catalog rows for the listing test")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory-mib", default="256,2048",
                        help="file sizes for the peak-memory run (--only memory), comma-separated")
    parser.add_argument("--only", choices=["ingest", "audit", "catalog", "memory"])
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(ENV)
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="lw-bench-storage-") as tmp:
        work = Path(tmp)
        if args.only in (None, "ingest"):
            bench_ingest(work, args.size_mib, args.rounds)
        if args.only in (None, "audit"):
            bench_audit(work, args.audit_mib, args.rounds)
        if args.only in (None, "catalog"):
            bench_catalog(work, args.packages)
        if args.only == "memory":  # minutes and GiB of memory: only when asked
            bench_memory(work, [int(x) for x in args.memory_mib.split(",")])


if __name__ == "__main__":
    main()
