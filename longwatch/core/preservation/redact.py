"""Redacted access copies: faces (and persons, and given boxes) blacked out, as a new derived package.

The original is only read: its package, digests and signature stay as they
are. Every frame is decoded, the chosen detectors (found through the plugin
registry, like any vendor's) look at it, boxes are tracked across frames so
one person keeps one track number, and every box not kept is filled black
(black rather than blur: a blur can sometimes be undone). Boxes are held a
few frames after a detector loses them, so a missed frame does not unmask a
face. The result is re-encoded with H.264: a redacted copy is a new access
copy by nature, recorded as a PREMIS "redaction" event with the detectors'
identities and every parameter.

A data-subject access request masks everyone but the requester: list the
tracks first (``dry_run``), then ``keep`` the requester's track.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from longwatch import registry
from longwatch.core.archive import Archive
from longwatch.core.catalog import Package
from longwatch.core.media import ffmpeg
from longwatch.core.media import probe as media
from longwatch.core.media.frames import Frame, frames, video_info
from longwatch.core.preservation import derive
from longwatch.errors import LongwatchError
from longwatch.plugins.detectors.base import Box, Tracker


@dataclass
class ManualBox:
    start: float  # seconds from the clip's start
    end: float
    box: tuple[int, int, int, int]


@dataclass
class TrackInfo:
    track: str  # "face:1"
    first: float
    last: float
    frames: int
    score: float
    box: list[int]

    def to_dict(self) -> dict[str, Any]:
        return {"track": self.track, "first": round(self.first, 3), "last": round(self.last, 3),
                "frames": self.frames, "score": round(self.score, 4), "box": self.box}


@dataclass
class RedactResult:
    package: Package | None
    tracks: list[TrackInfo] = field(default_factory=list)
    masked_boxes: int = 0
    frames: int = 0


def read_boxes(path: Path) -> list[ManualBox]:
    """``[{"start": 1.0, "end": 2.5, "box": [x, y, w, h]}, ...]``: seconds from the clip start, pixels."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise ValueError("expected a JSON list")
        boxes = []
        for n, item in enumerate(data, start=1):
            x, y, w, h = (int(v) for v in item["box"])
            start, end = float(item["start"]), float(item["end"])
            if w <= 0 or h <= 0 or end < start or min(x, y, start) < 0:
                raise ValueError(f"item {n}: box sizes must be positive and end not before start")
            boxes.append(ManualBox(start, end, (x, y, w, h)))
        return boxes
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise LongwatchError("D008", path=path, detail=str(exc)) from exc


def _blackout(image: np.ndarray, box: tuple[int, int, int, int], margin: float) -> None:
    x, y, w, h = box
    mx, my = int(w * margin), int(h * margin)
    height, width = image.shape[:2]
    image[max(0, y - my):min(height, y + h + my), max(0, x - mx):min(width, x + w + mx)] = 0


def redact(
    archive: Archive,
    package_id: str,
    *,
    faces: bool = True,
    persons: bool = False,
    boxes_file: Path | None = None,
    keep: frozenset[str] = frozenset(),
    margin: float = 0.25,
    hold: int = 5,
    reason: str = "",
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    package_id_out: str | None = None,
) -> RedactResult:
    """Make a redacted access copy of a package's video as a new package (or, dry run, list tracks)."""
    if not (faces or persons or boxes_file):
        raise LongwatchError("D012")
    manual = read_boxes(boxes_file) if boxes_file else []
    row = archive.catalog.require(package_id)
    clips = [c for c in row.clips if c.width and c.duration]
    if not clips:
        raise LongwatchError("D009", package_id=package_id)
    detectors = [registry.detector(archive.pm, name) for name, wanted in (("face", faces), ("person", persons))
                 if wanted]
    media.require("ffmpeg")
    result = RedactResult(package=None)
    files: list[derive.DerivedFile] = []
    tracks: dict[str, TrackInfo] = {}
    with derive.scratch_dir(archive, "redact-") as scratch_name:
        scratch = Path(scratch_name)
        for clip in clips:
            source = derive.local_media(archive, row, clip, scratch)
            out = scratch / f"{Path(clip.relpath).stem}_redacted.mp4"
            masked = _redact_clip(source, None if dry_run else out, detectors, manual, keep, margin, hold,
                                  tracks, result)
            result.masked_boxes += masked
            if not dry_run:
                start, _ = derive.clip_range(clip) if clip.start_utc else (None, None)
                duration = media.probe(out).duration or clip.duration or 0.0
                files.append(derive.DerivedFile(out.name, [f"{row.id}/{clip.relpath}"], local=out, start=start,
                                                end=start + timedelta(seconds=duration) if start else None))
        result.tracks = sorted(tracks.values(), key=lambda t: (t.first, t.track))
        if dry_run:
            return result
        parameters: dict[str, Any] = {
            "faces": faces, "persons": persons, "keep": sorted(keep), "margin": margin, "hold_frames": hold,
            "style": "black", "encoder": " ".join(ffmpeg.REDACTION_ENCODER), "masked_boxes": result.masked_boxes,
            "tracks": [t.to_dict() for t in result.tracks],
        }
        if boxes_file:
            parameters["boxes_file"] = {"name": boxes_file.name, "count": len(manual),
                                        "sha256": hashlib.sha256(boxes_file.read_bytes()).hexdigest()}
        cause = derive.Cause(reason=reason or "redacted access copy",
                             detectors=[d.identity() for d in detectors])
        result.package = derive.derive(
            archive, [row], files, action="redaction", event_type="redaction", tool=derive.ffmpeg_agent(),
            parameters=parameters, cause=cause, title=f"Redacted copy of {row.title or row.id}", progress=progress,
            package_id=package_id_out)
    return result


def _redact_clip(
    source: Path,
    out: Path | None,
    detectors: list[Any],
    manual: list[ManualBox],
    keep: frozenset[str],
    margin: float,
    hold: int,
    tracks: dict[str, TrackInfo],
    result: RedactResult,
) -> int:
    info = video_info(source)
    trackers = {d.NAME: Tracker(min_iou=0.1, max_missed=hold) for d in detectors}
    encoder = None
    errors = tempfile.TemporaryFile()
    masked = 0
    try:
        for frame in frames(source, fps=None, width=None):
            if encoder is None and out is not None:
                h, w = frame.image.shape[:2]
                cmd = ffmpeg.masked_encode(source, out, w, h, info.fps)
                encoder = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=errors)
            image = frame.image.copy()
            for detector in detectors:
                found = trackers[detector.NAME].update(detector.analyse(frame))
                live = [b for b, _ in trackers[detector.NAME].live.values()]
                for box in found:
                    name = f"{detector.NAME}:{box.track}"
                    info_ = tracks.get(name)
                    if info_ is None:
                        tracks[name] = TrackInfo(name, frame.time, frame.time, 1, box.score, box.to_list())
                    else:
                        info_.last, info_.frames = frame.time, info_.frames + 1
                        info_.score = max(info_.score, box.score)
                for box in live:  # found now, or held for a few frames after it was lost
                    if f"{detector.NAME}:{box.track}" not in keep:
                        _blackout(image, _clamp(box), margin)
                        masked += 1
            for m in manual:
                if m.start <= frame.time <= m.end:
                    _blackout(image, m.box, 0.0)
                    masked += 1
            result.frames += 1
            if encoder is not None:
                assert encoder.stdin is not None
                encoder.stdin.write(image.tobytes())
    except BrokenPipeError:
        pass
    finally:
        code = 0
        if encoder is not None:
            assert encoder.stdin is not None
            try:
                encoder.stdin.close()
            except BrokenPipeError:
                pass
            code = encoder.wait()
        errors.seek(0)
        detail = errors.read().decode("utf-8", "replace").strip()[-300:]
        errors.close()
    if code != 0:
        raise LongwatchError("D010", action="encoding the redacted copy", detail=detail)
    return masked


def mask_image(image: np.ndarray, detectors: list[Any], margin: float = 0.25) -> list[dict[str, Any]]:
    """Black out, in place, every box the detectors find in one still image; returns what was masked.

    The same fill and margin as a redacted copy, for a single frame (a
    training-data export): there is no next frame to track into, so nothing
    is held.
    """
    frame = Frame(0, 0.0, image, 1.0)
    masked = []
    for detector in detectors:
        for box in detector.analyse(frame):
            _blackout(image, _clamp(box), margin)
            masked.append({"detector": detector.NAME, "box": box.to_list(), "score": round(box.score, 4)})
    return masked


def redact_file(source: Path, out: Path, detectors: list[Any], margin: float = 0.25, hold: int = 5) -> int:
    """A redacted re-encode of one local video file (no package around it); returns the boxes masked."""
    media.require("ffmpeg")
    return _redact_clip(source, out, detectors, [], frozenset(), margin, hold, {}, RedactResult(package=None))


def _clamp(box: Box) -> tuple[int, int, int, int]:
    return max(0, box.x), max(0, box.y), box.w, box.h
