"""Evidence export benchmark: export vs ``cp -r``, verify-export vs ``sha256sum -c``.

Run: ``.venv/bin/python benchmarks/export.py [--size-mib 512] [--files 8] [--runs 3]``

1. ``longwatch export`` of N MiB of stored clips (by package id, so the
   selection is not what is measured) as a ratio of ``cp -r`` of the same
   stored media files in the same run. The export also writes the metadata,
   custody extract and proofs, a fresh checkpoint, REPORT.html/.pdf and the
   signature, which cost a fixed time; that part is reported separately so
   the ratio at other sizes can be read off.
2. ``longwatch verify-export`` of that export as a ratio of
   ``sha256sum -c manifest-sha256.txt`` in the export folder.

Page cache warm (each command runs once before it is timed); medians of
``--runs``, the commands taking turns in each round. Wall time on a shared
machine follows its load; CPU time (user + system, all threads) is printed
beside it as the steadier figure of the work each command does.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from longwatch.core.archive import Archive  # noqa: E402
from longwatch.core.evidence import export as export_mod  # noqa: E402
from longwatch.core.evidence.request import Recipient, Request  # noqa: E402
from longwatch.core.evidence.verify_export import verify_export  # noqa: E402
from longwatch.core.preservation.ingest import IngestRequest, ingest  # noqa: E402

RECIPIENT = Recipient("Benchmark Police", "Officer", "B-1", "benchmark", "benchmark")


def random_file(path: Path, mib: int) -> Path:
    with open(path, "wb") as fh:
        for _ in range(mib):
            fh.write(os.urandom(1 << 20))
    return path


def cpu_seconds() -> float:
    """User + system time of this process (all its threads) and of its finished children (cp, sha256sum)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn) -> tuple[float, float]:
    cpu, start = cpu_seconds(), time.perf_counter()
    fn()
    return time.perf_counter() - start, cpu_seconds() - cpu


def interleaved(runs: int, commands: dict[str, Callable[[], object]], reset=None) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each command, the commands taking turns in every round.

    Taking turns spreads the load of a shared machine evenly over the
    commands compared, and CPU time (user + system, all threads) is far less
    sensitive to that load than wall time.
    """
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, fn in commands.items():
            if reset is not None:
                reset()
            wall, cpu = timed(fn)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {name: (statistics.median(walls[name]), statistics.median(cpus[name])) for name in commands}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lw-bench-export-", dir=HERE.parent) as tmp_name:
        tmp = Path(tmp_name)
        archive = Archive.create(tmp / "archive", organization="bench", language="en", unencrypted_key=True)
        archive.close()
        archive = Archive.open(tmp / "archive")
        per_file = max(1, args.size_mib // args.files)
        ids = []
        for i in range(args.files):
            src = random_file(tmp / f"clip-{i}.bin", per_file)
            ids.append(ingest(archive, IngestRequest(path=src, camera="bench")).package_id)
            src.unlink()
        storage = archive.storage()
        media = [storage.local_path(pid) / clip.relpath for pid in ids for clip in archive.catalog.get(pid).clips]
        total = sum(p.stat().st_size for p in media)
        sources = tmp / "sources"
        sources.mkdir()
        for i, path in enumerate(media):  # cp -r copies one folder of the same files
            os.link(path, sources / f"{i}-{path.name}")
        target = tmp / "out"

        def reset() -> None:
            shutil.rmtree(target, ignore_errors=True)

        def cp() -> None:
            subprocess.run(["cp", "-r", str(sources), str(target)], check=True)

        def do_export() -> None:
            export_mod.export(archive, Request(RECIPIENT, package_ids=ids), target)

        # the fixed part: an export of one tiny package
        tiny = random_file(tmp / "tiny.bin", 1)
        tiny_id = ingest(archive, IngestRequest(path=tiny, camera="bench")).package_id

        def do_tiny() -> None:
            export_mod.export(archive, Request(RECIPIENT, package_ids=[tiny_id]), target)

        for warm in (cp, do_export, do_tiny):  # page cache and imports warm
            reset()
            warm()
        copying = interleaved(args.runs, {"cp": cp, "export": do_export, "fixed": do_tiny}, reset)
        reset()
        do_export()
        checking = interleaved(args.runs, {
            "sha256sum": lambda: subprocess.run(["sha256sum", "-c", "--quiet", "manifest-sha256.txt"], cwd=target,
                                                check=True),
            "verify": lambda: verify_export(target)})
        ok = verify_export(target).ok
        archive.close()
    mib = total / (1 << 20)
    (cp_s, cp_c), (export_s, export_c), (fixed_s, fixed_c) = copying["cp"], copying["export"], copying["fixed"]
    (sha, sha_c), (verify_s, verify_c) = checking["sha256sum"], checking["verify"]
    print(f"payload: {args.files} files, {mib:.0f} MiB; runs: {args.runs} (medians, commands taking turns); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("                      wall                                  CPU (user+system)")
    print(f"cp -r:                {cp_s:7.2f} s  ({mib / cp_s:6.0f} MiB/s)           {cp_c:6.2f} s")
    print(f"export:               {export_s:7.2f} s  ratio {export_s / cp_s:5.2f}x cp -r       {export_c:6.2f} s")
    print(f"  fixed part (1 MiB): {fixed_s:7.2f} s  -> per-byte ratio {(export_s - fixed_s) / cp_s:5.2f}x"
          f"   {fixed_c:6.2f} s  -> per byte {(export_c - fixed_c) / (mib / 1024):5.2f} s/GiB"
          f" (cp -r {cp_c / (mib / 1024):4.2f})")
    print(f"sha256sum -c:         {sha:7.2f} s                            {sha_c:6.2f} s")
    print(f"verify-export:        {verify_s:7.2f} s  ratio {verify_s / sha:5.2f}x sha256sum -c  {verify_c:6.2f} s"
          f"  (ok={ok})")


if __name__ == "__main__":
    main()
