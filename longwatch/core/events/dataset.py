"""Training-data exports: archived events as labelled, masked frames (and clips) in a signed BagIt bag.

Researchers and urban planners want curated event footage with labels, not
evidence. So a dataset differs from an evidence export (core/evidence/export.py) on
purpose: the payload is DERIVED (frames extracted with ffmpeg, faces blacked
out by the redaction code, core/redact.py, by default), never the originals,
and every label says where it came from: the event, its source system or
detector (name, version, SHA-256 of the weights, parameters), the reviewer's
decision and the package whose footage was used.

Layout (paths relative to the bag)::

    bagit.txt  bag-info.txt  manifest-sha256.txt  manifest-sha512.txt
    tagmanifest-sha256.txt  tagmanifest-sha512.txt
    signature/tagmanifest-sha256.txt.p7s     detached CMS over the tag manifest
    metadata/dataset.json                    machine-readable provenance of every file and label
    data/DATASHEET.md  data/DATASHEET.ko.md  the datasheet, in English and Korean
    data/annotations/instances.json          COCO boxes
    data/annotations/labels.csv              one row per frame or clip: its event's label
    data/frames/<camera>/event-<id>-<n>.png
    data/clips/<camera>/event-<id>.mp4       with ``clips=True``

The bag follows ``profiles/longwatch-dataset-v1.json``, so ``longwatch
verify DIR``, bagit-python and ``openssl cms -verify`` accept it. Every
export is a "dissemination" event in the custody ledger naming the events'
packages.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import struct
import subprocess
import uuid
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from longwatch import __version__, clock, registry
from longwatch.core.aip import package, signing
from longwatch.core.aip.fixity import digest_stream, open_for_reading
from longwatch.core.archive import Archive
from longwatch.core.catalog import Clip, Package
from longwatch.core.catalog.models import DetectedEvent
from longwatch.core.custody import CustodyEvent, Ledger, person_agent, software_agent
from longwatch.core.media import ffmpeg
from longwatch.core.media import probe as media
from longwatch.core.media.frames import VideoInfo, video_info
from longwatch.core.preservation import derive, redact
from longwatch.errors import LongwatchError
from longwatch.i18n import N_, translations

FORMAT = "longwatch-dataset/1"
PROFILE_ID = package.DATASET_PROFILE_ID
DESCRIPTION_PATH = "metadata/dataset.json"
COCO_PATH = "data/annotations/instances.json"
LABELS_PATH = "data/annotations/labels.csv"
LABEL_COLUMNS = ("file", "kind", "event_id", "type", "camera", "time_utc", "event_start_utc", "event_end_utc",
                 "confidence", "status", "reviewer", "source", "detector", "detector_version", "model_sha256",
                 "package_id", "boxes", "masked_boxes")
CLIP_PAD = timedelta(seconds=1)  # a point event still gets a clip this long on each side


@dataclass
class Request:
    """Which events, and how to turn them into training data."""

    start: datetime
    end: datetime
    licence: str
    legal_basis: str
    types: list[str] = field(default_factory=list)
    cameras: list[str] = field(default_factory=list)
    min_confidence: float = 0.0
    confirmed_only: bool = False
    include_false_positives: bool = False
    frames_per_event: int = 3
    clips: bool = False
    mask_faces: bool = True
    mask_persons: bool = False
    purpose: str = ""


@dataclass
class Result:
    path: Path
    dataset_id: str
    events: int
    frames: int
    clips: int
    annotations: int
    masked_boxes: int
    skipped: list[dict[str, Any]]
    ledger_seq: int
    counts: dict[str, int]


# -- selection -----------------------------------------------------------------------------------
def select_events(archive: Archive, request: Request) -> list[DetectedEvent]:
    """The usual search filters: time, camera, event type, minimum confidence and review status."""
    if request.end <= request.start:
        raise LongwatchError("D042", detail=f"--to ({derive.utc_text(request.end)}) is not after --from "
                                            f"({derive.utc_text(request.start)})")
    if not 0.0 <= request.min_confidence <= 1.0:
        raise LongwatchError("D042", detail=f"--min-confidence {request.min_confidence} is not from 0 to 1")
    if request.confirmed_only and request.include_false_positives:
        raise LongwatchError("D042", detail="--confirmed-only and --include-false-positives exclude each other")
    if request.frames_per_event < 0 or (request.frames_per_event == 0 and not request.clips):
        raise LongwatchError("D042", detail="ask for at least one frame per event (--frames) or for --clips")
    stmt = select(DetectedEvent).where(DetectedEvent.start_utc >= request.start, DetectedEvent.start_utc < request.end,
                                       DetectedEvent.confidence >= request.min_confidence)
    if request.types:
        stmt = stmt.where(DetectedEvent.type.in_(request.types))
    if request.cameras:
        stmt = stmt.where(DetectedEvent.camera.in_(request.cameras))
    if request.confirmed_only:
        stmt = stmt.where(DetectedEvent.status == "confirmed")
    elif not request.include_false_positives:
        stmt = stmt.where(DetectedEvent.status != "false_positive")
    with archive.catalog.session() as s:
        rows = list(s.scalars(stmt.order_by(DetectedEvent.start_utc, DetectedEvent.id)))
    if not rows:
        detail = (f"{derive.utc_text(request.start)} to {derive.utc_text(request.end)}, types "
                  f"{', '.join(request.types) or 'any'}, cameras {', '.join(request.cameras) or 'any'}, "
                  f"confidence >= {request.min_confidence:g}"
                  + (", confirmed only" if request.confirmed_only else ""))
        raise LongwatchError("D040", detail=detail)
    return rows


def _footage(archive: Archive, event: DetectedEvent) -> tuple[Package, Clip, datetime] | None:
    """The package and clip that show the event: its preserved window first (it outlives the source)."""
    for pid in (event.window_package_id, event.package_id):
        row = archive.catalog.get(pid) if pid else None
        if row is None or row.status != "stored":
            continue
        for clip in sorted(row.clips, key=lambda c: c.start_utc or event.start_utc):
            if not (clip.start_utc and clip.duration and clip.width):
                continue
            clip_start, clip_end = derive.clip_range(clip)
            if clip_start <= event.start_utc < clip_end:
                return row, clip, clip_start
    return None


def _frame_times(event: DetectedEvent, count: int) -> list[tuple[float, list[list[float]]]]:
    """(seconds after the event's start, boxes at that moment): frames with boxes first, else evenly spread."""
    if count <= 0:
        return []
    boxes = json.loads(event.boxes) if event.boxes else []
    frames = [(float(f.get("offset", 0.0)), [list(map(float, b)) for b in f["boxes"]]) for f in boxes
              if f.get("boxes")]
    if frames:
        if len(frames) <= count:
            return frames
        step = (len(frames) - 1) / max(1, count - 1)
        return [frames[round(i * step)] for i in range(count)] if count > 1 else [frames[0]]
    span = ((event.end_utc or event.start_utc) - event.start_utc).total_seconds()
    if count <= 1 or span <= 0:
        return [(0.0, [])] if count else []
    return [(span * i / (count - 1), []) for i in range(count)]


# -- media ---------------------------------------------------------------------------------------
def grab_frame(path: Path, offset: float, info: VideoInfo | None = None) -> np.ndarray:
    """One full-resolution RGB frame at ``offset`` seconds (accurate seek: decodes from the keyframe before)."""
    info = info or video_info(path)
    done = subprocess.run(ffmpeg.frame_at(path, offset), capture_output=True, timeout=600, check=False)
    size = info.width * info.height * 3
    if done.returncode != 0 or len(done.stdout) < size:
        detail = done.stderr.decode("utf-8", "replace").strip()[-300:] or "no frame at that time"
        raise LongwatchError("D010", action=f"extracting a frame at {offset:.3f} s", detail=detail)
    return np.frombuffer(done.stdout[:size], dtype=np.uint8).reshape(info.height, info.width, 3).copy()


def png_bytes(image: np.ndarray) -> bytes:
    """An RGB uint8 image as PNG (lossless, so the masking is exactly what was computed).

    Written here with zlib (PNG is a few chunks around a deflate stream)
    rather than by another ffmpeg process per frame.
    """
    h, w = image.shape[:2]
    rows = np.hstack([np.zeros((h, 1), dtype=np.uint8), np.ascontiguousarray(image).reshape(h, w * 3)])

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB, deflate, no filter, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + chunk(b"IEND", b""))


def _digests(path: Path) -> tuple[int, dict[str, str]]:
    with open_for_reading(path) as fh:
        d = digest_stream(fh)
    return d.size, d.hexdigests


# -- export --------------------------------------------------------------------------------------
def export(archive: Archive, request: Request, out_dir: Path, progress: Callable[[int], None] | None = None,
           now: datetime | None = None) -> Result:
    """Write the dataset bag to ``out_dir`` (a new folder), atomically: it appears complete or not at all."""
    if not (request.licence.strip() and request.legal_basis.strip()):
        raise LongwatchError("D043")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise LongwatchError("D041", path=out_dir)
    events = select_events(archive, request)
    media.require("ffmpeg")
    now = now or clock.now()
    dataset_id = str(uuid.uuid4())
    maskers = [registry.detector(archive.pm, name) for name, wanted in
               (("face", request.mask_faces), ("person", request.mask_persons)) if wanted]
    partial = out_dir.with_name(f".{out_dir.name}.partial-{dataset_id[:8]}")
    partial.mkdir(parents=True)
    try:
        with derive.scratch_dir(archive, "dataset-") as scratch:
            built = _build(archive, request, events, partial, Path(scratch), maskers, progress)
        result = _finish(archive, request, built, partial, dataset_id, maskers, now)
        os.replace(partial, out_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    result.path = out_dir
    return result


@dataclass
class _Built:
    files: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)  # relpath -> size, digests
    images: list[dict[str, Any]] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    detectors: dict[str, dict[str, Any]] = field(default_factory=dict)  # name version -> identity
    sources: dict[str, str] = field(default_factory=dict)  # source system -> "imported"/"detector"
    packages: set[str] = field(default_factory=set)
    categories: list[dict[str, Any]] = field(default_factory=list)
    masked: int = 0
    frames: int = 0
    clips: int = 0


def _camera_dir(camera: str) -> str:
    return package.safe_name(camera or "unknown", "unknown")


def _build(archive: Archive, request: Request, events: list[DetectedEvent], bag: Path, scratch: Path,
           maskers: list[Any], progress: Callable[[int], None] | None) -> _Built:
    built = _Built()
    categories = sorted({e.type for e in events})
    category_id = {name: i for i, name in enumerate(categories, start=1)}
    for event in events:
        found = _footage(archive, event)
        if found is None:
            built.skipped.append({"event_id": event.id, "reason": N_("no stored footage covers the event")})
            continue
        row, clip, clip_start = found
        source = derive.local_media(archive, row, clip, scratch)
        info = video_info(source)
        identity = json.loads(event.detector) if event.detector else None
        if identity:
            built.detectors[f"{identity['name']} {identity['version']}"] = identity
        built.sources[event.source or "-"] = "detector" if identity else "imported"
        built.packages.add(row.id)
        base = {"event_id": event.id, "type": event.type, "camera": event.camera,
                "event_start_utc": derive.utc_text(event.start_utc),
                "event_end_utc": derive.utc_text(event.end_utc) or derive.utc_text(event.start_utc),
                "confidence": round(event.confidence, 4), "status": event.status, "reviewer": event.reviewer,
                "source": event.source, "detector": identity["name"] if identity else "",
                "detector_version": str(identity["version"]) if identity else "",
                "model_sha256": " ".join(m["sha256"] for m in identity.get("models", [])) if identity else "",
                "package_id": row.id}
        event_files = []
        offset0 = (event.start_utc - clip_start).total_seconds()
        for n, (after, boxes) in enumerate(_frame_times(event, request.frames_per_event), start=1):
            at = min(offset0 + after, max(0.0, (clip.duration or 0.0) - 0.05))
            image = grab_frame(source, at, info)
            masked = redact.mask_image(image, maskers) if maskers else []
            rel = f"data/frames/{_camera_dir(event.camera)}/event-{event.id}-{n}.png"
            (bag / rel).parent.mkdir(parents=True, exist_ok=True)
            (bag / rel).write_bytes(png_bytes(image))
            built.files[rel] = _digests(bag / rel)
            if progress is not None:
                progress(built.files[rel][0])
            image_id = len(built.images) + 1
            when = clip_start + timedelta(seconds=at)
            h, w = image.shape[:2]
            built.images.append({"id": image_id, "file_name": rel.removeprefix("data/"), "width": w, "height": h,
                                 "license": 1, "date_captured": derive.utc_text(when),
                                 "longwatch_event_id": event.id, "camera": event.camera,
                                 "masked_boxes": len(masked)})
            for b in boxes:
                x, y, bw, bh = b
                built.annotations.append({
                    "id": len(built.annotations) + 1, "image_id": image_id, "category_id": category_id[event.type],
                    "bbox": [x, y, bw, bh], "area": bw * bh, "iscrowd": 0, "score": round(event.confidence, 4),
                    "longwatch_event_id": event.id})
            built.labels.append({**base, "file": rel.removeprefix("data/"), "kind": "frame",
                                 "time_utc": derive.utc_text(when), "boxes": len(boxes),
                                 "masked_boxes": len(masked)})
            built.masked += len(masked)
            built.frames += 1
            event_files.append(rel)
        if request.clips:
            rel, masked_count = _clip(request, event, source, clip, offset0, bag, scratch, maskers)
            built.files[rel] = _digests(bag / rel)
            built.labels.append({**base, "file": rel.removeprefix("data/"), "kind": "clip",
                                 "time_utc": base["event_start_utc"], "boxes": 0, "masked_boxes": masked_count})
            built.masked += masked_count
            built.clips += 1
            event_files.append(rel)
        built.events.append({**base, "identity": identity, "window_package_id": event.window_package_id,
                             "source_package_id": event.package_id, "clip": clip.relpath, "files": event_files})
    built.categories = [{"id": category_id[c], "name": c, "supercategory": "event"} for c in categories]
    return built


def _clip(request: Request, event: DetectedEvent, source: Path, clip: Clip, offset0: float, bag: Path, scratch: Path,
          maskers: list[Any]) -> tuple[str, int]:
    """The event's span (and a second each side), video only, by stream copy; re-encoded with masks when on.

    No sound: speech is personal information too, and nothing visual needs it.
    """
    start = max(0.0, offset0 - CLIP_PAD.total_seconds())
    span = ((event.end_utc or event.start_utc) - event.start_utc).total_seconds()
    duration = min((clip.duration or 0.0) - start, span + 2 * CLIP_PAD.total_seconds())
    rel = f"data/clips/{_camera_dir(event.camera)}/event-{event.id}.mp4"
    (bag / rel).parent.mkdir(parents=True, exist_ok=True)
    cut = bag / rel if not maskers else scratch / f"event-{event.id}-cut.mp4"
    cmd = ffmpeg.stream_copy_cut(source, cut, start, duration, video_only=True)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise LongwatchError("D010", action=f"cutting the clip of event {event.id}", detail=done.stderr[-300:])
    if not maskers:
        return rel, 0
    return rel, redact.redact_file(cut, bag / rel, maskers)


# -- description, datasheet, bag -----------------------------------------------------------------
def _finish(archive: Archive, request: Request, built: _Built, bag: Path, dataset_id: str, maskers: list[Any],
            now: datetime) -> Result:
    if not built.events:
        raise LongwatchError("D044", count=len(built.skipped), detail=built.skipped[0]["reason"])
    counts = dict(sorted(Counter(e["type"] for e in built.events).items()))
    masking = {"faces": request.mask_faces, "persons": request.mask_persons, "style": "black",
               "margin": 0.25, "masked_boxes": built.masked,
               "detectors": [m.identity() for m in maskers], "licence_plates": False}
    coco = {
        "info": {"description": f"longwatch dataset {dataset_id}", "version": "1.0", "year": now.year,
                 "contributor": archive.settings.organization or archive.settings.name,
                 "date_created": derive.utc_text(now), "url": ""},
        "licenses": [{"id": 1, "name": request.licence, "url": ""}],
        "images": built.images, "annotations": built.annotations,
        "categories": built.categories,
    }
    _put(bag, COCO_PATH, json.dumps(coco, indent=1, ensure_ascii=False).encode(), built)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=LABEL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(built.labels)
    _put(bag, LABELS_PATH, out.getvalue().encode("utf-8"), built)
    starts = [e["event_start_utc"] for e in built.events]
    ends = [e["event_end_utc"] for e in built.events]
    cameras = sorted({e["camera"] for e in built.events})
    reviewers = sorted({e["reviewer"] for e in built.events if e["reviewer"]})
    statuses = dict(sorted(Counter(e["status"] for e in built.events).items()))
    ledger = Ledger.for_archive(archive)
    pids = sorted(built.packages)
    receipt = ledger.append([CustodyEvent(
        type="dissemination", packages=pids,
        detail=(f"dataset export {dataset_id}: {len(built.events)} events, {built.frames} frames, {built.clips} "
                f"clips; faces masked: {request.mask_faces}; licence: {request.licence}; legal basis: "
                f"{request.legal_basis}" + (f"; purpose: {request.purpose}" if request.purpose else ""))[:4000],
        agents=[software_agent(), person_agent(archive.operator)],
        extra={"dataset_id": dataset_id, "events": [e["event_id"] for e in built.events],
               "files": sorted(built.files), "masking": {k: v for k, v in masking.items() if k != "detectors"}})])[0]
    description = {
        "format": FORMAT, "dataset_id": dataset_id, "created": derive.utc_text(now),
        "archive": archive.settings.name, "organization": archive.settings.organization,
        "exported_by": archive.operator, "licence": request.licence, "legal_basis": request.legal_basis,
        "purpose": request.purpose,
        "selection": {"start": derive.utc_text(request.start), "end": derive.utc_text(request.end),
                      "types": request.types, "cameras": request.cameras, "min_confidence": request.min_confidence,
                      "confirmed_only": request.confirmed_only,
                      "include_false_positives": request.include_false_positives,
                      "frames_per_event": request.frames_per_event, "clips": request.clips},
        "span": {"start": min(starts), "end": max(ends)}, "cameras": cameras, "counts": counts,
        "frames": built.frames, "clips": built.clips, "annotations": len(built.annotations),
        "statuses": statuses, "reviewers": reviewers, "detectors": list(built.detectors.values()),
        "sources": built.sources, "masking": masking,
        "tools": {"longwatch": __version__, "ffmpeg": media.tool_version("ffmpeg")},
        "custody": {"ledger_seq": receipt.seq, "event_type": "dissemination", "packages": pids},
        "events": built.events, "skipped": built.skipped,
        "files": {rel: {"size": size, "sha256": d["sha256"]} for rel, (size, d) in sorted(built.files.items())},
    }
    for lang, rel in (("en", "data/DATASHEET.md"), ("ko", "data/DATASHEET.ko.md")):
        _put(bag, rel, datasheet(description, lang).encode("utf-8"), built)
    payload = [package.PayloadEntry(rel, size, d) for rel, (size, d) in sorted(built.files.items())]
    info = [("BagIt-Profile-Identifier", PROFILE_ID),
            ("Source-Organization", archive.settings.organization or archive.settings.name),
            ("Bagging-Date", package.bagging_date(now)), ("External-Identifier", dataset_id),
            ("External-Description", f"longwatch training-data export: {len(built.events)} events, "
                                     f"licence {request.licence}"),
            ("Bag-Software-Agent", f"longwatch {__version__}"), ("Longwatch-Package-Type", "DATASET"),
            ("Longwatch-Start", min(starts)), ("Longwatch-End", max(ends))]
    contents = package.BagContents(payload, info, {DESCRIPTION_PATH: json.dumps(
        description, indent=1, ensure_ascii=False, default=str).encode("utf-8")})
    tag_files = contents.tag_file_bytes()
    tag_files.update(contents.tag_manifests(tag_files))
    tag_files[package.SIGNATURE_PATH] = signing.sign_detached(archive.signer, tag_files[package.SIGNED_FILE])
    for rel, data in tag_files.items():
        (bag / rel).parent.mkdir(parents=True, exist_ok=True)
        (bag / rel).write_bytes(data)
    return Result(bag, dataset_id, len(built.events), built.frames, built.clips, len(built.annotations),
                  built.masked, built.skipped, receipt.seq, counts)


def _put(bag: Path, rel: str, data: bytes, built: _Built) -> None:
    (bag / rel).parent.mkdir(parents=True, exist_ok=True)
    (bag / rel).write_bytes(data)
    built.files[rel] = _digests(bag / rel)


# -- the datasheet ("Datasheets for Datasets", Gebru et al.) ----------------------------------------
DATASHEET = (
    ("h1", N_("Datasheet: longwatch dataset {dataset_id}")),
    ("h2", N_("Motivation")),
    ("p", N_("Made by {organization} with longwatch {version} on {created}, exported by {exported_by}. "
             "Purpose: {purpose}.")),
    ("h2", N_("Composition")),
    ("p", N_("{events} events from {cameras_count} cameras ({cameras}), {frames} frames (PNG) and {clips} clips, "
             "{annotations} boxes in COCO format (annotations/instances.json); one label per frame or clip in "
             "annotations/labels.csv.")),
    ("p", N_("Time span (UTC): {start} to {end}.")),
    ("p", N_("Events per class: {counts}.")),
    ("p", N_("Review status of the events: {statuses}. Reviewers: {reviewers}.")),
    ("h2", N_("Collection process")),
    ("p", N_("Selection: events from {sel_start} to {sel_end}, types {sel_types}, cameras {sel_cameras}, "
             "confidence at least {sel_confidence}, {sel_status}.")),
    ("p", N_("Which system produced the labels: {sources}.")),
    ("p", N_("Detectors and model versions (SHA-256 of the weights): {detectors}.")),
    ("p", N_("Every file's event, source package, detector and reviewer are in metadata/dataset.json.")),
    ("h2", N_("Preprocessing and masking")),
    ("p", N_("Frames were extracted from the archived footage with ffmpeg {ffmpeg}; originals are not included.")),
    ("p", N_("Clips are cut by stream copy (re-encoded only to apply the masks) and carry no sound: speech is "
             "personal information too.")),
    ("p", N_("Masking: {masking}. {masked} boxes were filled black (black, not blur: a blur can be undone).")),
    ("masked", N_("Boxes of a masked class (faces, when faces are masked) cover black pixels: they say where "
                  "the object was, they cannot teach a model what it looks like.")),
    ("p", N_("Licence plates are NOT masked: longwatch has no licence-plate detector yet. Check the frames "
             "before publishing them.")),
    ("h2", N_("Uses, licence and law")),
    ("p", N_("Licence: {licence}.")),
    ("p", N_("Legal basis: {legal_basis}.")),
    ("p", N_("PIPA (Korea's Personal Information Protection Act): CCTV footage is personal information. Use this "
             "dataset only for the stated purpose, do not try to identify anyone in it, do not link it with "
             "other data to do so, and destroy it when the purpose is met. Automatic masking can miss faces.")),
    ("h2", N_("Distribution and maintenance")),
    ("p", N_("A signed BagIt bag: check it with `longwatch verify DIR`, any BagIt validator, or `openssl cms "
             "-verify` on signature/tagmanifest-sha256.txt.p7s. This export is entry {seq} of the archive's "
             "custody ledger.")),
)


def datasheet(d: dict[str, Any], lang: str) -> str:
    """The datasheet in ``lang`` (each sentence goes through the message catalog)."""
    t = translations(lang).gettext
    none, every = t(N_("none")), t(N_("any"))
    kinds = {"detector": t(N_("detector")), "imported": t(N_("imported"))}
    sel = d["selection"]
    status = (t(N_("confirmed events only")) if sel["confirmed_only"] else
              t(N_("false positives included")) if sel["include_false_positives"] else
              t(N_("events marked false positive left out")))
    detectors = "; ".join(derive.identity_text(i) for i in d["detectors"]) or none
    masking = d["masking"]
    masked_what = [t(N_("faces")) if masking["faces"] else "", t(N_("persons")) if masking["persons"] else ""]
    masking_text = ", ".join(w for w in masked_what if w) or t(N_("none: masking was turned off"))
    if masking["detectors"]:
        masking_text += " (" + "; ".join(derive.identity_text(i) for i in masking["detectors"]) + ")"
    values = {
        "dataset_id": d["dataset_id"], "organization": d["organization"] or d["archive"], "version": __version__,
        "created": d["created"], "exported_by": d["exported_by"], "purpose": d["purpose"] or none,
        "events": len(d["events"]), "cameras_count": len(d["cameras"]), "cameras": ", ".join(d["cameras"]),
        "frames": d["frames"], "clips": d["clips"], "annotations": d["annotations"],
        "start": d["span"]["start"], "end": d["span"]["end"],
        "counts": ", ".join(f"{k} {v}" for k, v in d["counts"].items()),
        "statuses": ", ".join(f"{k} {v}" for k, v in d["statuses"].items()),
        "reviewers": ", ".join(d["reviewers"]) or none,
        "sel_start": sel["start"], "sel_end": sel["end"], "sel_types": ", ".join(sel["types"]) or every,
        "sel_cameras": ", ".join(sel["cameras"]) or every, "sel_confidence": f"{sel['min_confidence']:g}",
        "sel_status": status,
        "sources": ", ".join(f"{k} ({kinds[v]})" for k, v in sorted(d["sources"].items())),
        "detectors": detectors, "ffmpeg": d["tools"]["ffmpeg"], "masking": masking_text,
        "masked": masking["masked_boxes"], "licence": d["licence"], "legal_basis": d["legal_basis"],
        "seq": d["custody"]["ledger_seq"],
    }
    masked_on = masking["faces"] or masking["persons"]
    blocks = [{"h1": "# ", "h2": "## "}.get(kind, "") + t(text).format(**values) for kind, text in DATASHEET
              if kind != "masked" or masked_on]
    return "\n\n".join(blocks) + "\n"
