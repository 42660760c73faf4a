"""Connector benchmark: concurrent 4 Mbit/s RTSP recordings by stream copy, and drop-folder ingest.

    .venv/bin/python benchmarks/connectors.py [--streams 32] [--seconds 20] [--segment-seconds 5] [--files 4]

1. One GStreamer RTSP server on 127.0.0.1 encodes one 4 Mbit/s H.264 stream
   (720p noise, so the encoder cannot undershoot) served shared to N clients;
   N RtspRecorder instances (one ffmpeg each, stream copy, 5 s segments by default)
   record it for the given time. Reported: received bitrate per stream, the
   share of wall time covered by segments, CPU seconds of the recorders per
   stream-second (from the children's rusage), and the time to archive every
   segment (ingest + full verify) as a share of the recorded time.
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

from longwatch.core import ingest as ingest_mod
from longwatch.core.archive import Archive
from longwatch.core.media import make_test_clip
from longwatch.plugins.connectors.dropfolder import DropFolderConnector
from longwatch.plugins.connectors.rtsp import RtspRecorder
from longwatch.plugins.connectors.watch import Watch


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_rtsp(work: Path, streams: int, seconds: float, segment: float) -> dict[str, float]:
    server = RtspServer(work, bitrate=4000, size=(1280, 720), pattern="snow")
    server.start()
    recorders = [RtspRecorder({"url": server.url(), "camera": f"cam-{i:03d}", "segment_seconds": segment,
                               "backoff_min": 1, "min_free_mb": 64}, work / f"state-{i}") for i in range(streams)]
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
    archive = Archive.create(work / "archive", language="en")
    a0 = time.monotonic()
    errors = 0
    for r in recorders:
        errors += sum(1 for o in Watch(archive, r).run_once() if o.error)
    archive_time = time.monotonic() - a0
    archive.close()
    # cpu counts the ffmpeg recorders only (the server is still running, so not yet a waited child)
    return {"streams": streams, "wall_s": wall, "segments": len(clips), "errors": errors,
            "mbit_per_stream": size * 8 / 1e6 / streams / seconds,
            "coverage": covered / (streams * seconds),
            "recorder_cpu_s_per_stream_s": cpu / (streams * wall),
            "archive_s_per_recorded_s": archive_time / (streams * seconds),
            "archive_s_per_segment": archive_time / max(len(clips), 1)}


def bench_dropfolder(work: Path, files: int) -> dict[str, float]:
    bank = work / "bank"
    bank.mkdir()
    paths = [make_test_clip(bank / f"cam-01_{i}.mp4", seconds=20, size="1280x720", label=f"b{i}",
                            start=datetime(2026, 3, 3, 5, i, tzinfo=UTC), source="testsrc2") for i in range(files)]
    total = sum(p.stat().st_size for p in paths)
    plain = Archive.create(work / "plain", language="en")
    t = time.monotonic()
    for p in paths:
        ingest_mod.ingest(plain, ingest_mod.IngestRequest(path=p, camera="cam-01"))
    plain_s = time.monotonic() - t
    plain.close()
    drop = work / "drop"
    shutil.copytree(bank, drop)
    archive = Archive.create(work / "watched", language="en")
    connector = DropFolderConnector({"path": str(drop), "settle_seconds": 0, "camera": "cam-01"}, work / "state")
    t = time.monotonic()
    outcomes = Watch(archive, connector).run_once()
    drop_s = time.monotonic() - t
    archive.close()
    assert all(o.package_id for o in outcomes)
    return {"files": files, "mib": total / 2**20, "plain_mib_s": total / 2**20 / plain_s,
            "drop_mib_s": total / 2**20 / drop_s, "ratio_drop_vs_plain": plain_s / drop_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--segment-seconds", type=float, default=5)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--skip-dropfolder", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lw-bench-connectors-") as tmp:
        work = Path(tmp)
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
