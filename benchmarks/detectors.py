"""Detector throughput, window cuts and memory, each against a baseline measured in the same run.

    python benchmarks/detectors.py [--seconds 20] [--hours 1.0] [--parts throughput,window,memory]

1. Detector throughput on 1080p H.264 at the sampling rate used (2 frames a
   second): wall time of each detector over the clip, as a ratio of decoding
   the same clip alone (``ffmpeg -f null``, its default threads, as in the
   detectors' own decoding pipe), and sampled frames analysed per second.
   ONNX Runtime runs on one thread; OpenCV with its defaults.
2. Cutting a 3-minute window out of a 1-hour clip (``longwatch.core.preservation.windows``:
   stream-copy cut that reports its keyframe, probe, digests, metadata,
   signature, publish) as a ratio of the bare ``ffmpeg -c copy`` cut. The hour is made
   cheaply: 60 s of low-bitrate 640x360 H.264 concatenated by stream copy.
3. Peak memory (RSS of this process plus its ffmpeg child) of motion
   detection over a short and a 4x longer clip: it should not grow.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FFMPEG = ["ffmpeg", "-nostdin", "-v", "error", "-y"]


def run(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t


def make_1080p(path: Path, seconds: int) -> Path:
    run([*FFMPEG, "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=25:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p", str(path)])
    return path


def make_hour(path: Path, hours: float, scratch: Path) -> Path:
    minute = scratch / "minute.mp4"
    run([*FFMPEG, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=60",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-b:v", "300k", "-pix_fmt", "yuv420p", str(minute)])
    listing = scratch / "list.txt"
    listing.write_text("".join(f"file '{minute}'\n" for _ in range(int(hours * 60))))
    run([*FFMPEG, "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(path)])
    return path


def throughput(clip: Path, seconds: int, names: list[str]) -> list[str]:
    from longwatch import registry

    pm = registry.get_plugin_manager(load_entrypoints=False)
    decode = min(run([*FFMPEG, "-i", str(clip), "-f", "null", "-"]) for _ in range(2))
    lines = [f"decode alone (ffmpeg -f null), {seconds} s of 1080p H.264: {decode:.2f} s"]
    for name in names:
        detector = registry.detector(pm, name)
        detector.identity()
        t = time.perf_counter()
        found = list(detector.detect(clip))
        wall = time.perf_counter() - t
        frames = seconds * detector.parameters["fps"]
        lines.append(f"{name}: {wall:.2f} s at {detector.parameters['fps']:g} fps sampled, width "
                     f"{detector.parameters['width']} -> {frames / wall:.1f} sampled frames/s, "
                     f"{seconds / wall:.1f}x real time, {wall / decode:.2f}x decoding alone "
                     f"({len(found)} detections)")
    return lines


def window_cut(hours: float, scratch: Path, repeats: int) -> list[str]:
    from longwatch.core.archive import Archive
    from longwatch.core.preservation import derive, ingest, windows

    hour = make_hour(scratch / "hour.mp4", hours, scratch)
    archive = Archive.create(scratch / "archive", organization="bench", language="en", unencrypted_key=True)
    start = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    pid = ingest.ingest(archive, ingest.IngestRequest(path=hour, camera="bench", start=start)).package_id
    source = archive.storage().local_path(pid) / "data" / "media" / "hour.mp4"
    offset = hours * 3600 / 2 + 0.5
    bare, ours, step = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()  # the cut step alone: the stream-copy cut that also reports its keyframe
        windows.cut_from_keyframe(source, scratch / "step.mp4", offset, 180)
        step.append(time.perf_counter() - t)
        bare.append(run([*FFMPEG, "-ss", f"{offset}", "-i", str(source), "-t", "180", "-map", "0", "-c", "copy",
                         "-avoid_negative_ts", "make_zero", str(scratch / "bare.mp4")]))
        t = time.perf_counter()
        windows.window(archive, pid, start + timedelta(seconds=offset), start + timedelta(seconds=offset + 180),
                       derive.Cause(reason="benchmark"))
        ours.append(time.perf_counter() - t)
    b, o, c = statistics.median(bare), statistics.median(ours), statistics.median(step)
    size = hour.stat().st_size / 2**20
    return [f"3-minute window out of a {hours:g} h clip ({size:.0f} MiB), median of {repeats}: "
            f"bare ffmpeg -c copy {b:.3f} s; cut step (cut reporting its keyframe) {c:.3f} s -> {c / b:.2f}x; "
            f"whole window package (cut, probe, digests, PREMIS, signature, publish, catalog) {o:.3f} s "
            f"-> {o / b:.2f}x"]


def memory(scratch: Path) -> list[str]:
    lines = []
    for seconds in (30, 120):
        clip = scratch / f"mem{seconds}.mp4"
        run([*FFMPEG, "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={seconds}",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)])
        code = ("import resource, sys; from pathlib import Path; from longwatch import registry; "
                "d = registry.detector(registry.get_plugin_manager(load_entrypoints=False), 'motion'); "
                f"n = len(list(d.detect(Path({str(clip)!r})))); "
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
                "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
        own, child = (int(v) for v in out.stdout.split())
        lines.append(f"motion over {seconds} s of 720p: peak RSS {own / 1024:.0f} MiB (python), "
                     f"{child / 1024:.0f} MiB (ffmpeg)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="length of the 1080p clip")
    parser.add_argument("--hours", type=float, default=1.0, help="length of the long clip for the window cut")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--detectors", default="motion,person,face")
    parser.add_argument("--parts", default="throughput,window,memory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as tmp:
        scratch = Path(tmp)
        parts = args.parts.split(",")
        if "throughput" in parts:
            clip = make_1080p(scratch / "1080p.mp4", args.seconds)
            for line in throughput(clip, args.seconds, args.detectors.split(",")):
                print(line, flush=True)
        if "window" in parts:
            for line in window_cut(args.hours, scratch, args.repeats):
                print(line, flush=True)
        if "memory" in parts:
            for line in memory(scratch):
                print(line, flush=True)


if __name__ == "__main__":
    main()
