"""Shared helpers for the benchmarks: timing child processes, sizes, generated footage, the machine.

Every figure is a median of several runs measured in the same run as its
baseline, with candidate and baseline runs interleaved, so that load from
other work on a shared machine hits both alike.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VENV_BIN = Path(sys.executable).parent


@dataclass
class Run:
    """One timed run: wall seconds, CPU seconds of the children, and their peak RSS in bytes."""

    wall: float
    cpu: float = 0.0
    rss: int = 0


@dataclass
class Series:
    name: str
    runs: list[Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def spread(self) -> tuple[float, float]:
        walls = [r.wall for r in self.runs]
        return min(walls), max(walls)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def peak_rss(self) -> int:
        return max(r.rss for r in self.runs)

    def to_dict(self) -> dict[str, Any]:
        low, high = self.spread
        return {"median_s": round(self.median, 3), "min_s": round(low, 3), "max_s": round(high, 3),
                "cpu_median_s": round(self.cpu, 3), "peak_rss_bytes": self.peak_rss,
                "runs_s": [round(r.wall, 3) for r in self.runs]}


def run_timed(cmd: Sequence[str | os.PathLike[str]], cwd: Path | None = None) -> Run:
    """Run a command to completion; its wall time, CPU time and peak RSS (from wait4's rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): {err.decode()[-500:]}")
    return Run(wall=wall, cpu=usage.ru_utime + usage.ru_stime, rss=usage.ru_maxrss * 1024)


def run_shell_timed(script: str, cwd: Path | None = None) -> Run:
    return run_timed(["bash", "-c", script], cwd=cwd)


def time_call(fn: Callable[[], Any]) -> tuple[Run, Any]:
    """Time a call in this process (wall and this process's CPU, all threads)."""
    t0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    return Run(wall=time.perf_counter() - t0, cpu=time.process_time() - c0), value


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not match:
        raise ValueError(f"not a size: {text!r} (e.g. 200M, 2G)")
    number, unit = float(match.group(1)), match.group(2)
    return int(number * 1000 ** " kmgt".index(unit or " "))


def human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def warm(path: Path) -> None:
    """Read a file (or every file under a directory) so it sits in the page cache."""
    paths = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    for p in paths:
        with open(p, "rb", buffering=0) as fh:
            buf = bytearray(8 << 20)
            while fh.readinto(buf):
                pass


def make_video(path: Path, size: int) -> Path:
    """An H.264 file of about ``size`` bytes, fast: a 2 s noisy lossless seed, stream-copied in a loop.

    Noise at qp 0 makes a high-bitrate stream (about 40 MB/s of footage), so
    the file is real video that ffprobe and exiftool read as such; the loop is
    a stream copy, so 2 GB take seconds, not minutes.
    """
    if path.exists() and abs(path.stat().st_size - size) < 64 << 20:
        return path
    seed = path.with_suffix(".seed.ts")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc2=size=1280x720:rate=25", "-t", "2", "-vf", "noise=alls=40:allf=t",
                    "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", "-g", "25",
                    "-f", "mpegts", str(seed)], check=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-stream_loop", "-1", "-i", str(seed),
                    "-c", "copy", "-fs", str(size), "-movflags", "+faststart", str(path)], check=True)
    seed.unlink()
    return path


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=False).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version(), "openssl": openssl,
            "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")}


def filesystem(path: Path) -> str:
    out = subprocess.run(["findmnt", "-no", "FSTYPE", "--target", str(path)], capture_output=True, text=True,
                         check=False).stdout.strip()
    return out or "unknown"


def loadavg() -> float:
    return os.getloadavg()[0]


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None and not (VENV_BIN / t).exists()]
    if missing:
        raise SystemExit(f"missing tools: {', '.join(missing)} (run `make bench`, which installs them)")
