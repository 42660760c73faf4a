"""`reindex` of a large archive against reading the same objects with no parsing (issue 20).

    .venv/bin/python benchmarks/reindex.py [--packages 20000] [--entries 1000000] [--dir DIR] [--profile]
                                           [--archive DIR]
    .venv/bin/python benchmarks/reindex.py --s3-reads 500 [--readers 1,10]

The issue asks for 1,000,000 packages and 10,000,000 ledger entries; two
shared cores cannot make that in minutes, so this builds a smaller archive the
same way and extrapolates (the reasoning is printed and is in
docs/performance.md):

1. one real package: a one-second clip through ``longwatch ingest`` (SQLite
   catalog, local storage, the ledger with its mirror);
2. ``--packages`` clones of it on disk under new package ids: every file is a
   hard link to the real package's (reindex reads the metadata files and only
   stats the media, so what it parses is exactly a real package's; the page
   cache holds one copy, which is why both sides below are warm-cache figures);
3. the ledger entries a real ingest wrote for the template, re-appended for
   every clone with its id, then fixity-check entries naming the clones up to
   ``--entries`` (appended through ``Ledger.for_archive`` in groups of 10,000,
   checkpoints every 1,000 as configured by default, mirror on);
4. ``reindex`` (the core function ``longwatch reindex`` runs) timed in this
   process, with the time of its phases (reading packages, the ledger scans,
   the catalog writes) taken by wrapping the module functions it calls;
5. the baseline, in the same run: every object reindex reads, read through the
   same storage adapter (each package's files opened and read, its payload
   stat'ed) and every ledger row read from the database, with no parsing.

The ratio is reindex time over baseline time. The 1-minute load average is
printed before each measured step. Memory: the process's resident peak
(``VmHWM``, reset just before reindex where Linux allows, else ``ru_maxrss``)
against its resident size before reindex; with ``--archive DIR`` the archive
is built once there and kept, and a later run (of this or another version of
longwatch, for a before/after comparison) reuses it and measures only
reindex, so the building's memory is not in the peak.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import text

from longwatch.core.archive import Archive
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger
from longwatch.core.media.probe import make_test_clip
from longwatch.core.preservation import reindex as reindex_module
from longwatch.storage_adapters.base import package_prefix

LONGWATCH = str(Path(sys.executable).parent / "longwatch")
GROUP = 10_000
#: the files reindex.read_package reads from every package (besides the payload it only stats)
READ = ("bag-info.txt", "manifest-sha256.txt", "manifest-sha512.txt", "tagmanifest-sha256.txt",
        "metadata/dc.xml", "metadata/premis.xml", "metadata/technical.json")


def rss_kib(field: str) -> int | None:
    """A field of /proc/self/status in KiB (VmRSS, VmHWM); None where there is no /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Make VmHWM start again from the current resident size (Linux 4.0 and later)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def make_template(archive_root: Path, work: Path) -> str:
    """One package through the real command; returns its id."""
    clip = make_test_clip(work / "cam-01_template.mp4", seconds=1, size="160x120", rate=10)
    out = subprocess.run([LONGWATCH, "-A", str(archive_root), "ingest", "--camera", "cam-01", "--json", str(clip)],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    items = result if isinstance(result, list) else result.get("packages", result.get("results", [result]))
    found = [i.get("package_id") or i.get("id") for i in items if isinstance(i, dict)]
    found = [f for f in found if f]
    if not found:
        raise SystemExit(f"no package id in the ingest output: {out.stdout[:500]}")
    return str(found[0])


def clone_packages(root: Path, template: str, count: int) -> list[str]:
    """``count`` packages under new ids, each file a hard link to the template's."""
    source = root / package_prefix(template)
    files = [p.relative_to(source) for p in source.rglob("*") if p.is_file()]
    ids = []
    for _ in range(count):
        new = str(uuid.uuid4())
        target = root / package_prefix(new)
        for rel in files:
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            os.link(source / rel, target / rel)
        ids.append(new)
    return ids


def as_event(entry: dict[str, Any], template: str, package_id: str) -> CustodyEvent:
    """The template's ledger entry, about ``package_id`` instead (its tag-manifest digest kept)."""
    extra = dict(entry.get("extra") or {})
    if "tagmanifests" in extra:
        extra["tagmanifests"] = {package_id: next(iter(extra["tagmanifests"].values()))}
    swap = json.dumps(extra).replace(template, package_id)
    return CustodyEvent(entry["type"], packages=[package_id if p == template else p for p in entry["packages"]],
                        outcome=entry["outcome"], detail=entry["detail"].replace(template, package_id),
                        note=entry["note"], agents=entry["agents"],
                        objects=[o.replace(template, package_id) for o in entry["objects"]], extra=json.loads(swap))


def fill_ledger(archive: Archive, template: str, ids: list[str], total: int) -> tuple[int, float]:
    """The template's entries for every clone, then fixity checks up to ``total``; (entries, seconds)."""
    ledger = Ledger.for_archive(archive)
    history = [entry for _seq, entry, _line in ledger.history(template)]
    start_size = ledger.size()  # before the generator runs: the appends below change it

    def events() -> Iterator[CustodyEvent]:
        for pid in ids:
            for entry in history:
                yield as_event(entry, template, pid)
        n = start_size + len(ids) * len(history)
        i = 0
        while n < total:
            pid = ids[i % len(ids)]
            yield CustodyEvent("fixity check", packages=[pid], detail="scheduled audit: 2 of 2 copies intact",
                               extra={"tagmanifests": {pid: "0" * 64}})
            i, n = i + 1, n + 1

    start = time.perf_counter()
    written = 0
    group: list[CustodyEvent] = []
    for event in events():
        group.append(event)
        if len(group) == GROUP:
            ledger.append(group)
            written, group = written + len(group), []
    if group:
        ledger.append(group)
        written += len(group)
    return written, time.perf_counter() - start


def baseline(archive: Archive) -> tuple[float, int, int]:
    """Every object reindex reads, read with no parsing: (seconds, bytes, objects).

    With no parsing there is no manifest to name the payload, so each package's
    files are listed (a directory walk reindex does not do), then the seven
    files reindex reads are read and the payload stat'ed as reindex does.
    """
    start = time.perf_counter()
    storage = archive.storage()
    size = objects = 0
    for package_id in sorted(storage.package_ids()):
        files = list(storage.package_files(package_id))
        prefix = package_prefix(package_id)
        for relpath in files:
            if relpath.startswith("data/media/"):
                storage.stat(f"{prefix}/{relpath}")
            elif relpath in READ:
                with storage.open_package_file(package_id, relpath) as fh:
                    size += len(fh.read())
            objects += 1
    with archive.catalog.engine.connect() as conn:
        for (line,) in conn.execute(text("SELECT line FROM custody_entries ORDER BY seq")).yield_per(5000):
            size += len(line)
            objects += 1
    return time.perf_counter() - start, size, objects


@contextlib.contextmanager
def phases(timings: dict[str, float]) -> Iterator[None]:
    """Time the functions reindex calls by name (wrapping the module attributes for the run)."""
    from longwatch.core.catalog import fulltext
    from longwatch.core.custody import ledger as ledger_module

    def timed(name: str, fn: Callable[..., Any], generator: bool = False) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - start

        def gen_wrapper(*a: Any, **k: Any) -> Iterator[Any]:
            it = fn(*a, **k)
            while True:
                start = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
                    return
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
                yield item

        return gen_wrapper if generator else wrapper

    # read_record since the rows are staged on disk; read_package before (a run of an older longwatch)
    reader = "read_record" if hasattr(reindex_module, "read_record") else "read_package"
    saved = [(reindex_module, reader), (reindex_module, "replay_ledger"), (reindex_module, "_restore_ledger"),
             (fulltext, "rebuild_fulltext"), (ledger_module.Ledger, "entries")]
    originals = [getattr(obj, name) for obj, name in saved]
    setattr(reindex_module, reader, timed("reading and parsing packages", getattr(reindex_module, reader)))
    reindex_module.replay_ledger = timed("replaying the ledger (gaps, copies, decisions, holds)",
                                         reindex_module.replay_ledger)
    reindex_module._restore_ledger = timed("checking the ledger against its mirror", reindex_module._restore_ledger)
    fulltext.rebuild_fulltext = timed("rebuilding full text", fulltext.rebuild_fulltext)
    ledger_module.Ledger.entries = timed("scanning ledger entries (inside the phases above)",  # type: ignore[method-assign]
                                         ledger_module.Ledger.entries, generator=True)
    try:
        yield
    finally:
        for (obj, name), original in zip(saved, originals, strict=True):
            setattr(obj, name, original)


def build(root: Path, work: Path, packages: int, entries: int) -> Archive:
    """Steps 1 to 3: the real package, its clones, the ledger; the archive open."""
    Archive.create(root, organization="Bench", language="en", unencrypted_key=True).close()
    template = make_template(root, work)
    archive = Archive.open(root)
    storage_root = Path(archive.storage().root)
    print(f"template package {template}; cloning {packages - 1} ({load()})", flush=True)
    start = time.perf_counter()
    ids = [template, *clone_packages(storage_root, template, packages - 1)]
    print(f"  cloned in {time.perf_counter() - start:.0f} s", flush=True)
    print(f"appending ledger entries up to {entries:,} ({load()})", flush=True)
    written, seconds = fill_ledger(archive, template, ids[1:], entries)
    size = Ledger.for_archive(archive).size()
    print(f"  {written:,} entries in {seconds:.0f} s ({written / seconds:,.0f}/s); ledger size {size:,}", flush=True)
    return archive


def s3_reads(count: int, readers: list[int], work: Path) -> None:
    """Reindex's reading pass on an S3 store (moto's server on loopback) with 1 and more reader threads.

    ``count`` copies of one real package are written through the S3 adapter, then
    read back in order as reindex reads them, once per thread count (alternating
    twice, so that load drift falls on both). Loopback has no network latency:
    each request waits only for moto's Python, so this is the least a pool gains.
    """
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    from longwatch.storage_adapters.s3 import S3StorageAdapter

    root = work / "archive"
    Archive.create(root, organization="Bench", language="en", unencrypted_key=True).close()
    template = make_template(root, work)
    source = Path(Archive.open(root).storage().root) / package_prefix(template)
    files = {str(p.relative_to(source)): p.read_bytes() for p in source.rglob("*") if p.is_file()}
    for key, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
                       "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}.items():
        os.environ[key] = value
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="bench")
        store = S3StorageAdapter("primary", {"bucket": "bench", "endpoint_url": endpoint}, root)
        start = time.perf_counter()
        for _ in range(count):
            writer = store.begin_package(str(uuid.uuid4()))
            for relpath, data in files.items():
                writer.write_bytes(relpath, data)
            writer.commit()
        print(f"{count} packages written to S3 in {time.perf_counter() - start:.0f} s ({load()})", flush=True)
        ids = sorted(store.package_ids())
        for round_ in range(2):
            for n in readers:
                before = os.getloadavg()[0]
                start = time.perf_counter()
                done = sum(1 for r in reindex_module._read_in_order(store, ids, n) if isinstance(r, dict))
                seconds = time.perf_counter() - start
                print(f"round {round_ + 1}: {n} reader(s): {done} packages in {seconds:.1f} s, "
                      f"{seconds / done * 1e3:.1f} ms a package (load average {before:.1f})", flush=True)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packages", type=int, default=20_000, help="packages in the archive (default 20000)")
    parser.add_argument("--entries", type=int, default=1_000_000, help="ledger entries (default 1000000)")
    parser.add_argument("--dir", type=Path, default=None, help="where to build the archive (default: a temp dir)")
    parser.add_argument("--profile", action="store_true", help="also run reindex once more under cProfile")
    parser.add_argument("--archive", type=Path, default=None,
                        help="build the archive here and keep it; if it exists, reuse it (then only reindex is run)")
    parser.add_argument("--s3-reads", type=int, default=0, metavar="N",
                        help="instead: time reindex's reading pass over N packages on S3 (moto on loopback)")
    parser.add_argument("--readers", default="1,10", help="reader threads to compare with --s3-reads")
    args = parser.parse_args()
    os.environ.pop("LONGWATCH_CATALOG_URL", None)  # SQLite: the catalog file beside the archive
    if args.s3_reads:
        with tempfile.TemporaryDirectory(dir=args.dir, prefix="longwatch-bench-reindex-") as tmp:
            s3_reads(args.s3_reads, [int(n) for n in args.readers.split(",")], Path(tmp))
        return
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="longwatch-bench-reindex-") as tmp:
        work = Path(tmp)
        root = args.archive or work / "archive"
        if args.archive is not None and (root / "longwatch.toml").exists():
            archive = Archive.open(root)
            count = sum(1 for _ in archive.storage().package_ids())
            print(f"reusing the archive at {root}: {count} packages ({load()})", flush=True)
        else:
            archive = build(root, work, args.packages, args.entries)
            count = args.packages
        size = Ledger.for_archive(archive).size()
        results: dict[str, Any] = {"packages": count, "ledger_entries": size}
        baseline(archive)  # once untimed: both sides then read from a warm page cache
        results["load_before_baseline"] = os.getloadavg()[0]
        results["baseline_s"], results["baseline_bytes"], results["baseline_objects"] = baseline(archive)
        timings: dict[str, float] = {}
        results["load_before_reindex"] = os.getloadavg()[0]
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        resident_before, peak_reset = rss_kib("VmRSS"), reset_peak()
        start = time.perf_counter()
        with phases(timings):
            report = reindex_module.reindex(archive)
        results["reindex_s"] = time.perf_counter() - start
        results["load_after"] = os.getloadavg()[0]
        # the process's peak before and after (ru_maxrss: since the process started, building included)
        results["peak_rss_mib_before_reindex"] = rss_before / 1024
        results["peak_rss_mib_after_reindex"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # reindex's own peak: VmHWM reset just before it, against the resident size then
        peak = rss_kib("VmHWM")
        if peak_reset and peak is not None and resident_before is not None:
            results["rss_mib_before_reindex"] = resident_before / 1024
            results["peak_rss_mib_during_reindex"] = peak / 1024
            results["reindex_peak_growth_kib_per_package"] = (peak - resident_before) / count
        if report.packages != count:
            raise SystemExit(f"reindex found {report.packages} packages of {count}: {report.problems[:3]}")
        results["reindex_report"] = {"packages": report.packages, "clips": report.clips, "copies": report.copies,
                                     "problems": len(report.problems)}
        results["phases_s"] = {k: round(v, 2) for k, v in timings.items()}
        results["baseline_again_s"] = baseline(archive)[0]  # the other side of reindex, for load drift
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.runcall(reindex_module.reindex, archive)
            pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(25)
        archive.close()

    base = (results["baseline_s"] + results["baseline_again_s"]) / 2
    ratio = results["reindex_s"] / base
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()}, indent=2))
    print(f"reindex {results['reindex_s']:.1f} s; reading the same objects with no parsing {base:.1f} s "
          f"(two runs, before and after: {results['baseline_s']:.1f} / {results['baseline_again_s']:.1f}); "
          f"ratio {ratio:.1f} (load average {results['load_before_reindex']:.1f} -> {results['load_after']:.1f})")
    scan = timings.get("scanning ledger entries (inside the phases above)", 0.0)
    per_entry = scan / size
    per_package = (results["reindex_s"] - scan) / count
    estimate = per_package * 1_000_000 + per_entry * 10_000_000
    base_estimate = base / results["baseline_objects"] * (1_000_000 * (results["baseline_objects"] - size) / count
                                                          + 10_000_000)
    print(f"extrapolated to 1,000,000 packages and 10,000,000 entries, linearly (the ledger scans charged per "
          f"entry, everything else per package): {per_package * 1e3:.2f} ms per package x 1,000,000 + "
          f"{per_entry * 1e6:.1f} us per entry x 10,000,000 = {estimate / 60:.0f} min; the baseline scaled the "
          f"same way (per object) {base_estimate / 60:.0f} min; at this load")


if __name__ == "__main__":
    main()
