"""Frame decoding: an ffmpeg pipe, N frames a second, one frame in memory.

Shared by every detector (through :meth:`Detector.detect
<longwatch.plugins.detectors.base.Detector.detect>`), by redaction (every
frame, full size) and by dataset exports, so it lives in the core with the
other media code rather than among the detector plugins. ffmpeg does the
sampling (``fps`` filter) and the scaling, so an hour of 1080p costs the
decoder's time and one small RGB frame of memory, whatever the clip's
length. Detectors see RGB ``uint8`` arrays (height, width, 3) and the
factor back to the original pixels. The command lines are
:func:`longwatch.core.media.ffmpeg.stream_info` and
:func:`~longwatch.core.media.ffmpeg.rgb_frames`.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from longwatch.core.media import ffmpeg
from longwatch.core.media.probe import require
from longwatch.errors import LongwatchError


@dataclass
class VideoInfo:
    """The first video stream's picture size, duration (seconds) and frame rate."""

    width: int
    height: int
    duration: float
    fps: float


@dataclass
class Frame:
    """One decoded frame: what a detector's ``analyse`` is given (part of the Detector API)."""

    index: int
    time: float  # seconds from the start of the clip
    image: np.ndarray  # RGB uint8, (height, width, 3)
    scale: float  # original pixels per analysed pixel


def video_info(path: Path) -> VideoInfo:
    """Size, duration and frame rate of the first video stream; D004 when there is none."""
    require("ffprobe")
    cmd = ffmpeg.stream_info(path)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    try:
        data = json.loads(result.stdout or "{}")
        stream = data["streams"][0]
        width, height = int(stream["width"]), int(stream["height"])
        duration = float(stream.get("duration") or data.get("format", {}).get("duration") or 0)
        fps = float(Fraction(stream.get("r_frame_rate", "25/1")))
    except (KeyError, IndexError, ValueError, ZeroDivisionError, json.JSONDecodeError) as exc:
        detail = (result.stderr.strip().splitlines() or ["no video stream"])[-1]
        raise LongwatchError("D004", path=path.name, detail=detail) from exc
    return VideoInfo(width, height, duration, fps)


def analysis_size(info: VideoInfo, width: int | None) -> tuple[int, int]:
    """Even dimensions no wider than ``width`` with the clip's aspect ratio."""
    if width is None or width >= info.width:
        return info.width - info.width % 2, info.height - info.height % 2
    height = round(info.height * width / info.width)
    return width - width % 2, max(2, height - height % 2)


def frames(
    path: Path,
    fps: float | None = 2.0,
    width: int | None = 640,
    start: float = 0.0,
    end: float | None = None,
) -> Iterator[Frame]:
    """Frames of ``path`` sampled at ``fps`` (None: every frame) and scaled to ``width`` (None: as is)."""
    require("ffmpeg")
    info = video_info(path)
    w, h = analysis_size(info, width)
    cmd = ffmpeg.rgb_frames(path, w, h, fps=fps, start=start, end=end)
    rate = fps or info.fps
    size = w * h * 3
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        index = 0
        try:
            while True:
                buf = proc.stdout.read(size)
                if len(buf) < size:
                    break
                image = np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)
                yield Frame(index, start + index / rate, image, info.width / w)
                index += 1
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            code = proc.wait()
        if code != 0 and index == 0:
            errors.seek(0)
            lines = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise LongwatchError("D004", path=path.name, detail=lines[-1] if lines else f"ffmpeg exit {code}")
