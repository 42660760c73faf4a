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

Page cache warm (each command runs once before it is timed); medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from longwatch.core import export as export_mod  # noqa: E402
from longwatch.core.archive import Archive  # noqa: E402
from longwatch.core.ingest import IngestRequest, ingest  # noqa: E402

RECIPIENT = export_mod.Recipient("Benchmark Police", "Officer", "B-1", "benchmark", "benchmark")


def random_file(path: Path, mib: int) -> Path:
    with open(path, "wb") as fh:
        for _ in range(mib):
            fh.write(os.urandom(1 << 20))
    return path


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_of(runs: int, fn, reset=None) -> float:
    times = []
    for _ in range(runs):
        if reset is not None:
            reset()
        times.append(timed(fn))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lw-bench-export-", dir=HERE.parent) as tmp_name:
        tmp = Path(tmp_name)
        archive = Archive.create(tmp / "archive", organization="bench", language="en")
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
            export_mod.export(archive, export_mod.Request(RECIPIENT, package_ids=ids), target)

        reset()
        cp()
        cp_s = median_of(args.runs, cp, reset)
        reset()
        do_export()
        export_s = median_of(args.runs, do_export, reset)
        # the fixed part: an export of one tiny package
        tiny = random_file(tmp / "tiny.bin", 1)
        tiny_id = ingest(archive, IngestRequest(path=tiny, camera="bench")).package_id

        def do_tiny() -> None:
            export_mod.export(archive, export_mod.Request(RECIPIENT, package_ids=[tiny_id]), target)

        fixed_s = median_of(args.runs, do_tiny, reset)
        reset()
        do_export()
        sha = median_of(args.runs, lambda: subprocess.run(["sha256sum", "-c", "--quiet", "manifest-sha256.txt"],
                                                          cwd=target, check=True))
        verify_s = median_of(args.runs, lambda: export_mod.verify_export(target))
        ok = export_mod.verify_export(target).ok
        archive.close()
    mib = total / (1 << 20)
    print(f"payload: {args.files} files, {mib:.0f} MiB; runs: {args.runs} (medians)")
    print(f"cp -r:                {cp_s:7.2f} s  ({mib / cp_s:6.0f} MiB/s)")
    print(f"export:               {export_s:7.2f} s  ratio {export_s / cp_s:5.2f}x cp -r")
    print(f"  fixed part (1 MiB): {fixed_s:7.2f} s  -> per-byte ratio {(export_s - fixed_s) / cp_s:5.2f}x cp -r")
    print(f"sha256sum -c:         {sha:7.2f} s")
    print(f"verify-export:        {verify_s:7.2f} s  ratio {verify_s / sha:5.2f}x sha256sum -c  (ok={ok})")


if __name__ == "__main__":
    main()
