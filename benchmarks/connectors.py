"""Connector benchmark: concurrent 4 Mbit/s RTSP recordings by stream copy, and drop-folder ingest.

    .venv/bin/python benchmarks/connectors.py [--streams 32] [--seconds 20] [--segment-seconds 5] [--files 4]
    .venv/bin/python benchmarks/connectors.py --packing-only 30

1. One GStreamer RTSP server on 127.0.0.1 encodes one 4 Mbit/s H.264 stream
   (720p noise, so the encoder cannot undershoot) served shared to N clients;
   N RtspRecorder instances (one ffmpeg each, stream copy, 5 s segments by default)
   record it for the given time. Reported: received bitrate per stream, the
   share of wall time covered by segments, CPU seconds of the recorders per
   stream-second (from the children's rusage), and the time to archive every
   segment (ingest + full verify) as a share of the recorded time: once with a
   package per segment (the baseline, ``pack_seconds`` 0) and once packed by
   camera-hour (the default), on copies of the same recorded segments.
2. The same files archived by plain ingest and by the drop-folder watch
   (which also verifies each package in full before releasing the original):
   throughput ratio drop-folder / plain.

The server's own encoding load shares the machine; figures are for one run.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from rtsp import RtspServer

from longwatch.core.archive import Archive
from longwatch.core.media.probe import make_test_clip
from longwatch.core.preservation import ingest as ingest_mod
from longwatch.plugins.connectors.dropfolder import DropFolderConnector
from longwatch.plugins.connectors.rtsp import RtspRecorder
from longwatch.plugins.connectors.watch import Watch


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_rtsp(work: Path, streams: int, seconds: float, segment: float) -> dict[str, float]:
    server = RtspServer(work, bitrate=4000, size=(1280, 720), pattern="snow")
    server.start()
    configs = [{"url": server.url(), "camera": f"cam-{i:03d}", "segment_seconds": segment, "backoff_min": 1,
                "min_free_mb": 64} for i in range(streams)]
    recorders = [RtspRecorder(config, work / f"state-{i}") for i, config in enumerate(configs)]
    try:
        time.sleep(2)  # the encoder settles
        cpu0, t0 = children_cpu(), time.monotonic()
        for r in recorders:
            r.open()
        time.sleep(seconds)
        for r in recorders:
            r.close()
        wall = time.monotonic() - t0
        cpu = children_cpu() - cpu0
    finally:
        server.stop()
    clips = [c for r in recorders for c in r.list_clips(None)]
    covered = sum(((c.end or c.start) - c.start).total_seconds() for c in clips if c.start)
    size = sum(c.size or 0 for c in clips)
    timings = {}
    errors = 0
    for i in range(streams):  # the same segments for both runs (archiving deletes what it stored)
        shutil.copytree(work / f"state-{i}", work / f"packed-{i}")
    for mode, pack, prefix in (("per_segment", 0, "state"), ("packed", 3600, "packed")):
        archive = Archive.create(work / f"archive-{mode}", language="en", unencrypted_key=True)
        a0 = time.monotonic()
        for i, config in enumerate(configs):
            recorder = RtspRecorder({**config, "pack_seconds": pack}, work / f"{prefix}-{i}")
            errors += sum(1 for o in Watch(archive, recorder).run_once() if o.error)
        timings[mode] = time.monotonic() - a0
        timings[f"{mode}_packages"] = len(archive.catalog.packages(limit=100_000))
        archive.close()
    archive_time = timings["per_segment"]
    # cpu counts the ffmpeg recorders only (the server is still running, so not yet a waited child)
    return {"streams": streams, "wall_s": wall, "segments": len(clips), "errors": errors,
            "mbit_per_stream": size * 8 / 1e6 / streams / seconds,
            "coverage": covered / (streams * seconds),
            "recorder_cpu_s_per_stream_s": cpu / (streams * wall),
            "archive_s_per_recorded_s": archive_time / (streams * seconds),
            "archive_s_per_segment": archive_time / max(len(clips), 1),
            "packages_per_segment_mode": timings["per_segment_packages"],
            "packages_packed_mode": timings["packed_packages"],
            "packed_archive_s_per_segment": timings["packed"] / max(len(clips), 1),
            "packed_archive_s_per_recorded_s": timings["packed"] / (streams * seconds),
            "speedup_packed_vs_per_segment": archive_time / timings["packed"]}


def bench_dropfolder(work: Path, files: int) -> dict[str, float]:
    bank = work / "bank"
    bank.mkdir()
    paths = [make_test_clip(bank / f"cam-01_{i}.mp4", seconds=20, size="1280x720", label=f"b{i}",
                            start=datetime(2026, 3, 3, 5, i, tzinfo=UTC), source="testsrc2") for i in range(files)]
    total = sum(p.stat().st_size for p in paths)
    plain = Archive.create(work / "plain", language="en", unencrypted_key=True)
    t = time.monotonic()
    for p in paths:
        ingest_mod.ingest(plain, ingest_mod.IngestRequest(path=p, camera="cam-01"))
    plain_s = time.monotonic() - t
    plain.close()
    drop = work / "drop"
    shutil.copytree(bank, drop)
    archive = Archive.create(work / "watched", language="en", unencrypted_key=True)
    connector = DropFolderConnector({"path": str(drop), "settle_seconds": 0, "camera": "cam-01"}, work / "state")
    t = time.monotonic()
    outcomes = Watch(archive, connector).run_once()
    drop_s = time.monotonic() - t
    archive.close()
    assert all(o.package_id for o in outcomes)
    return {"files": files, "mib": total / 2**20, "plain_mib_s": total / 2**20 / plain_s,
            "drop_mib_s": total / 2**20 / drop_s, "ratio_drop_vs_plain": plain_s / drop_s}


def bench_packing(work: Path, count: int) -> dict[str, float]:
    """Archiving (ingest + full verify) of the same MPEG-TS segments: a package each vs one camera-hour package."""
    import subprocess
    from datetime import timedelta

    from longwatch.core.aip import verify as verify_mod

    folder = work / "segments"
    folder.mkdir()
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"testsrc2=size=1280x720:rate=25:duration={count}", "-c:v", "libx264", "-preset", "ultrafast",
                    "-g", "25", "-f", "segment", "-segment_time", "1", "-segment_format", "mpegts",
                    str(folder / "seg%04d.ts")], check=True)
    segments = sorted(folder.glob("seg*.ts"))
    t0 = datetime(2026, 3, 3, 5, tzinfo=UTC)

    def requests(paths: list[Path], offset: int = 0) -> list[ingest_mod.IngestRequest]:
        return [ingest_mod.IngestRequest(path=p, camera="cam-01", start=t0 + timedelta(seconds=offset + i),
                                         end=t0 + timedelta(seconds=offset + i + 1), allow_duplicate=True)
                for i, p in enumerate(paths)]

    timings = {}
    for mode in ("per_segment", "packed"):
        archive = Archive.create(work / mode, language="en", unencrypted_key=True)
        t = time.monotonic()
        if mode == "packed":
            ids = [ingest_mod.ingest_files(archive, requests(segments))[0].package_id]
        else:
            ids = [ingest_mod.ingest_files(archive, requests([p], i))[0].package_id for i, p in enumerate(segments)]
        for package_id in ids:
            report = verify_mod.verify_package(verify_mod.source_for(archive.storage(), package_id),
                                               trusted=[archive.certificate])
            assert report.ok
        timings[mode] = time.monotonic() - t
        archive.close()
    return {"segments": len(segments), "per_segment_s_per_segment": timings["per_segment"] / len(segments),
            "packed_s_per_segment": timings["packed"] / len(segments),
            "speedup_packed_vs_per_segment": timings["per_segment"] / timings["packed"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--segment-seconds", type=float, default=5)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--skip-dropfolder", action="store_true")
    parser.add_argument("--packing-only", type=int, default=0, metavar="N",
                        help="Only compare archiving N one-second 720p segments one package each vs packed.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lw-bench-connectors-") as tmp:
        work = Path(tmp)
        if args.packing_only:
            packed = bench_packing(work, args.packing_only)
            print("packing", {k: round(v, 3) if isinstance(v, float) else v for k, v in packed.items()})
            return
        (work / "rtsp").mkdir()
        rtsp = bench_rtsp(work / "rtsp", args.streams, args.seconds, args.segment_seconds)
        print("rtsp", {k: round(v, 3) if isinstance(v, float) else v for k, v in rtsp.items()})
        shutil.rmtree(work / "rtsp")
        if args.skip_dropfolder:
            return
        (work / "drop-bench").mkdir()
        dropped = bench_dropfolder(work / "drop-bench", args.files)
        print("drop-folder", {k: round(v, 3) if isinstance(v, float) else v for k, v in dropped.items()})


if __name__ == "__main__":
    main()
