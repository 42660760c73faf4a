"""The detection engine: a detector run over stored clips, resumable, each detection recorded as an event.

Used by ``longwatch detect`` (:mod:`longwatch.commands.detect`, the click
code only) and by the ``detect`` job (:mod:`longwatch.core.events.tasks`).
Detection is resumable: progress is checkpointed as a small JSON state per
clip and detector identity, in the catalog's ``detector_state`` table (one
row, replaced in one transaction at points where no detection is open), so a
crashed or interrupted run continues where it stopped, on any worker that
shares the database, without losing or doubling a detection. Archives before
this release kept it in ``state/detect/`` of the archive folder: such a file
is imported the first time its run resumes. Every result passes through :func:`on_detection`, the one place
where the catalog and the custody ledger record detections as events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from longwatch import clock
from longwatch.core.archive import Archive
from longwatch.core.catalog import Clip, Package
from longwatch.core.catalog.models import DetectorState
from longwatch.core.events import record as events
from longwatch.core.preservation import derive, windows
from longwatch.errors import LongwatchError
from longwatch.plugins.detectors.base import Detection, Detector

#: where archives before this release kept the checkpoints (imported once, then removed)
LEGACY_STATE_DIR = Path("state") / "detect"
CHECKPOINT_SECONDS = 5.0


@dataclass
class ClipDetections:
    package: Package
    clip: Clip
    identity: dict[str, Any]
    detections: list[Detection]
    resumed_from: float  # seconds into the clip where this run started (0: from the start)
    cached: bool  # the whole result came from a finished earlier run


def on_detection(archive: Archive, package: Package, clip: Clip, identity: dict[str, Any],
                 detection: Detection) -> None:
    """Called once for every detection, as soon as it is final.

    The seam for the catalog's events table and the custody ledger (an event
    carrying the detector's name, version, model hash and parameters). Until
    they exist, detections live in the run's state and in derived packages.
    """
    # events branch: each detection becomes a catalog event and a ledger entry with the detector's
    # identity; windows stay with `detect --window` here (the rules apply to imported events).
    if clip.start_utc is None:
        return
    boxes = [{"offset": round(f.time - detection.start, 3), "boxes": [b.to_list() for b in f.boxes]}
             for f in detection.frames if f.boxes]
    events.record(archive, camera=package.camera, type=detection.type,
                  start=clip.start_utc + timedelta(seconds=detection.start),
                  end=clip.start_utc + timedelta(seconds=detection.end), confidence=detection.confidence,
                  source=f"detector:{identity['name']}", package_id=package.id, detector=identity, boxes=boxes,
                  apply_rules=False)


def state_key(clip: Clip, detector: Detector) -> str:
    return f"{clip.package_id}.{clip.id}.{detector.NAME}.{detector.fingerprint()}"


def read_state(archive: Archive, key: str) -> dict[str, Any] | None:
    """The run's checkpoint from the catalog; the first time, from the file an older release wrote (D011 when
    that is unreadable)."""
    with archive.catalog.session() as s:
        row = s.get(DetectorState, key)
        body = row.body if row is not None else None
    if body is not None:
        return _parsed(body, f"detector_state {key}")
    legacy = archive.root / LEGACY_STATE_DIR / f"{key}.json"
    if not legacy.exists():
        return None
    try:
        text = legacy.read_text(encoding="utf-8")
    except OSError as exc:
        raise LongwatchError("D011", path=legacy, detail=str(exc)) from exc
    state = _parsed(text, legacy)
    write_state(archive, key, state)
    legacy.unlink(missing_ok=True)
    return state


def _parsed(text: str, where: Any) -> dict[str, Any]:
    try:
        state = json.loads(text)
        if not isinstance(state, dict) or "detections" not in state:
            raise ValueError("not a detection state")
        return state
    except ValueError as exc:
        raise LongwatchError("D011", path=where, detail=str(exc)) from exc


def write_state(archive: Archive, key: str, state: dict[str, Any]) -> None:
    """Replace the checkpoint in one transaction: a crash leaves the old state or the new one, never half."""
    body = json.dumps(state, indent=1)
    with archive.catalog.session() as s:
        row = s.get(DetectorState, key)
        if row is None:
            s.add(DetectorState(key=key, body=body, updated_at=clock.now()))
        else:
            row.body, row.updated_at = body, clock.now()


def detect_clip(archive: Archive, package: Package, clip: Clip, detector: Detector,
                again: bool = False, on_progress: Callable[[float], None] | None = None) -> ClipDetections:
    """Run ``detector`` over one stored clip, resuming from its checkpoint when one exists."""
    key = state_key(clip, detector)
    state = None if again else read_state(archive, key)
    identity = detector.identity()
    if state is not None and state.get("complete"):
        found = [Detection.from_dict(d) for d in state["detections"]]
        return ClipDetections(package, clip, identity, found, 0.0, True)
    if state is None:
        state = {"package_id": package.id, "clip": clip.relpath, "identity": identity, "done_until": None,
                 "complete": False, "detections": []}
    with derive.scratch_dir(archive, "detect-") as scratch:
        source = derive.local_media(archive, package, clip, Path(scratch))
        done = state["done_until"]
        # the next sampled frame after the checkpoint, on the same grid as the interrupted run
        start = 0.0 if done is None else done + 1 / detector.parameters["fps"]
        seen = {(d["type"], d["start"]) for d in state["detections"]}
        last_write = time.monotonic()

        def checkpoint(t: float, force: bool = False) -> None:
            nonlocal last_write
            state["done_until"] = t
            if force or time.monotonic() - last_write >= CHECKPOINT_SECONDS:
                write_state(archive, key, state)
                last_write = time.monotonic()
            if on_progress is not None:
                on_progress(t)

        for detection in detector.detect(source, start=start, on_frame=checkpoint):
            record = detection.to_dict()
            if (record["type"], record["start"]) in seen:
                continue  # found again after a crash between recording and checkpointing
            state["detections"].append(record)
            seen.add((record["type"], record["start"]))
            on_detection(archive, package, clip, identity, detection)
            write_state(archive, key, state)
        state["complete"] = True
        write_state(archive, key, state)
    found = [Detection.from_dict(d) for d in state["detections"]]
    return ClipDetections(package, clip, identity, found, start, False)


def read_masks(path: Path | None, camera: str) -> list[Any] | None:
    """The ignore rectangles of ``camera`` from a masks file ``{"camera": [[x, y, w, h], ...]}``."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rects = data.get(camera, []) if isinstance(data, dict) else None
        if not isinstance(rects, list) or any(
                not isinstance(r, list) or len(r) != 4 or not all(isinstance(v, int | float) for v in r)
                for r in rects):
            raise ValueError("expected {camera: [[x, y, w, h], ...]} with fractions of the frame")
        return rects
    except (OSError, ValueError) as exc:
        raise LongwatchError("D008", path=path, detail=str(exc)) from exc


def utc_at(clip: Clip, seconds: float) -> datetime | None:
    """The moment ``seconds`` into ``clip`` (None when the clip's start time is unknown)."""
    return clip.start_utc + timedelta(seconds=seconds) if clip.start_utc else None


def keep_windows(archive: Archive, result: ClipDetections, before: float, after: float) -> list[dict[str, Any]]:
    """Preserve ``before`` seconds before and ``after`` after the detections as derived packages (merged)."""
    spans = [(utc_at(result.clip, d.start - before), utc_at(result.clip, d.end + after), d)
             for d in result.detections]
    merged = windows.merge_ranges([(s, e) for s, e, _ in spans if s and e])
    made = []
    for start, end in merged:
        inside = [d for s, e, d in spans if s and e and s >= start and e <= end]
        cause = derive.Cause(
            reason=f"{len(inside)} detection(s), kept {before:g} s before and {after:g} s after",
            detectors=[result.identity],
            detections=[{"type": d.type, "start": derive.utc_text(utc_at(result.clip, d.start)),
                         "end": derive.utc_text(utc_at(result.clip, d.end)), "confidence": d.confidence}
                        for d in inside])
        clip_start, clip_end = derive.clip_range(result.clip)
        w = windows.window(archive, result.package.id, max(start, clip_start), min(end, clip_end), cause)
        made.append({"package_id": w.package.id, "requested_start": w.requested[0], "requested_end": w.requested[1],
                     "actual_start": w.actual[0], "actual_end": w.actual[1]})
    return made
