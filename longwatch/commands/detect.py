"""``longwatch detectors``, ``detect``, ``window`` and ``redact``: a built-in command plugin.

Detection is resumable: progress is checkpointed in a small JSON state file
per clip and detector identity (``state/detect/`` in the archive), written
atomically at points where no detection is open, so a crashed or
interrupted run continues where it stopped without losing or doubling a
detection. Every result passes through :func:`on_detection`, the one place
where the catalog and the custody ledger will record detections as events.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from longwatch import registry
from longwatch.clock import parse_time
from longwatch.commands.jobs import queue_option, report_queued
from longwatch.console import Context, emit_json, human_size, local_time, pass_obj, resolve_package, stdout
from longwatch.core.archive import Archive
from longwatch.core.catalog import Clip, Package
from longwatch.core.jobs import queue as jobs
from longwatch.core.preservation import derive, windows
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _
from longwatch.plugins.detectors.base import Detection, Detector

STATE_DIR = Path("state") / "detect"
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
    they exist, detections live in the state file and in derived packages.
    """
    # events branch: each detection becomes a catalog event and a ledger entry with the detector's
    # identity; windows stay with `detect --window` here (the rules apply to imported events).
    if clip.start_utc is None:
        return
    from longwatch.core.events import record as events

    boxes = [{"offset": round(f.time - detection.start, 3), "boxes": [b.to_list() for b in f.boxes]}
             for f in detection.frames if f.boxes]
    events.record(archive, camera=package.camera, type=detection.type,
                  start=clip.start_utc + timedelta(seconds=detection.start),
                  end=clip.start_utc + timedelta(seconds=detection.end), confidence=detection.confidence,
                  source=f"detector:{identity['name']}", package_id=package.id, detector=identity, boxes=boxes,
                  apply_rules=False)


def state_path(archive: Archive, clip: Clip, detector: Detector) -> Path:
    return archive.root / STATE_DIR / f"{clip.package_id}.{clip.id}.{detector.NAME}.{detector.fingerprint()}.json"


def _read_state(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(state, dict) or "detections" not in state:
            raise ValueError("not a detection state")
        return state
    except (OSError, ValueError) as exc:
        raise LongwatchError("D011", path=path, detail=str(exc)) from exc


def _write_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
    os.replace(tmp, path)  # a crash leaves the old state or the new one, never half of one


def detect_clip(archive: Archive, package: Package, clip: Clip, detector: Detector,
                again: bool = False, on_progress: Callable[[float], None] | None = None) -> ClipDetections:
    """Run ``detector`` over one stored clip, resuming from its state file when one exists."""
    path = state_path(archive, clip, detector)
    state = None if again else _read_state(path)
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
                _write_state(path, state)
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
            _write_state(path, state)
        state["complete"] = True
        _write_state(path, state)
    found = [Detection.from_dict(d) for d in state["detections"]]
    return ClipDetections(package, clip, identity, found, start, False)


def _parameters(values: tuple[str, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(_("expected KEY=VALUE, got {value!r}").format(value=item), param_hint="--param")
        params[key.strip()] = value.strip()
    return params


def _masks(path: Path | None, camera: str) -> list[Any] | None:
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


def _span(clip: Clip, seconds: float) -> datetime | None:
    return clip.start_utc + timedelta(seconds=seconds) if clip.start_utc else None


@click.command(name="detectors")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def detectors_cmd(obj: Context, as_json: bool) -> None:
    """List installed detectors: version, model file, size, SHA-256 of the weights, parameters."""
    pm = registry.get_plugin_manager()
    rows = []
    for _name, cls in sorted(registry.detectors(pm).items()):
        rows.append(cls().identity())
    if as_json:
        emit_json({"detectors": rows})
        return
    table = Table(_("name"), _("version"), _("model"), _("size"), _("SHA-256"), _("parameters"), box=None)
    for row in rows:
        models = row["models"] or [{"name": "-", "size": None, "sha256": "-"}]
        for i, model in enumerate(models):
            table.add_row(row["name"] if i == 0 else "", row["version"] if i == 0 else "", model["name"],
                          human_size(model["size"]) if model["size"] is not None else "-", model["sha256"],
                          json.dumps(row["parameters"], sort_keys=True) if i == 0 else "")
    stdout.print(table)


@click.command()
@click.argument("package_ids", nargs=-1, required=True)
@click.option("--detector", "detector_name", required=True, help="Detector NAME (see `longwatch detectors`).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Detector parameter (repeatable).")
@click.option("--mask", "mask_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="JSON {camera: [[x, y, w, h], ...]}: areas to ignore, fractions of the frame (motion).")
@click.option("--window", "window_spec", default="", metavar="BEFORE:AFTER",
              help="Preserve BEFORE seconds before and AFTER after the detections as derived packages.")
@click.option("--again", is_flag=True, help="Ignore earlier results and run from the start.")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def detect(obj: Context, package_ids: tuple[str, ...], detector_name: str, params: tuple[str, ...],
           mask_file: Path | None, window_spec: str, again: bool, as_json: bool) -> None:
    """Run a detector over stored packages; resumes where an interrupted run stopped."""
    archive = obj.archive()
    parameters = _parameters(params)
    before = after = None
    if window_spec:
        try:
            before, after = (float(v) for v in window_spec.split(":"))
        except ValueError as exc:
            raise click.BadParameter(_("expected BEFORE:AFTER in seconds, e.g. 60:120"),
                                     param_hint="--window") from exc
    registry.detector(archive.pm, detector_name, parameters)  # unknown names and bad parameters fail first
    results = []
    for pid in package_ids:
        row = archive.catalog.get(resolve_package(archive, pid))
        assert row is not None
        clips = [c for c in row.clips if c.duration]
        if not clips:
            raise LongwatchError("D009", package_id=row.id)
        for clip in clips:
            clip_params = dict(parameters)
            ignore = _masks(mask_file, row.camera)
            if ignore is not None and detector_name == "motion":
                clip_params.setdefault("ignore", json.dumps(ignore))
            detector = registry.detector(archive.pm, detector_name, clip_params)
            last = [0.0]

            def progress(t: float, clip: Clip = clip, last: list[float] = last) -> None:
                if not obj.quiet and not as_json and t - last[0] >= 60:
                    last[0] = t
                    click.echo(_("{clip}: {done:.0f} of {total:.0f} s").format(
                        clip=clip.relpath, done=t, total=clip.duration or 0), err=True)

            result = detect_clip(archive, row, clip, detector, again=again, on_progress=progress)
            entry = _result_dict(result)
            if before is not None and after is not None and result.detections and clip.start_utc:
                entry["windows"] = _windows(archive, result, before, after or 0.0)
            results.append(entry)
            if not as_json and not obj.quiet:
                _print_result(result, archive, entry.get("windows", []))
    if as_json:
        emit_json({"results": results})


def _result_dict(result: ClipDetections) -> dict[str, Any]:
    return {
        "package_id": result.package.id, "clip": result.clip.relpath, "detector": result.identity,
        "resumed_from": result.resumed_from, "cached": result.cached,
        "detections": [{**d.to_dict(), "start_utc": _span(result.clip, d.start),
                        "end_utc": _span(result.clip, d.end)} for d in result.detections],
    }


def _windows(archive: Archive, result: ClipDetections, before: float, after: float) -> list[dict[str, Any]]:
    spans = [(_span(result.clip, d.start - before), _span(result.clip, d.end + after), d)
             for d in result.detections]
    merged = windows.merge_ranges([(s, e) for s, e, _ in spans if s and e])
    made = []
    for start, end in merged:
        inside = [d for s, e, d in spans if s and e and s >= start and e <= end]
        cause = derive.Cause(
            reason=f"{len(inside)} detection(s), kept {before:g} s before and {after:g} s after",
            detectors=[result.identity],
            detections=[{"type": d.type, "start": derive.utc_text(_span(result.clip, d.start)),
                         "end": derive.utc_text(_span(result.clip, d.end)), "confidence": d.confidence}
                        for d in inside])
        clip_start, clip_end = derive.clip_range(result.clip)
        w = windows.window(archive, result.package.id, max(start, clip_start), min(end, clip_end), cause)
        made.append({"package_id": w.package.id, "requested_start": w.requested[0], "requested_end": w.requested[1],
                     "actual_start": w.actual[0], "actual_end": w.actual[1]})
    return made


def _print_result(result: ClipDetections, archive: Archive, made: list[dict[str, Any]]) -> None:
    note = _(" (earlier result)") if result.cached else (
        _(" (resumed at {t:.1f} s)").format(t=result.resumed_from) if result.resumed_from else "")
    click.echo(_("{package} {clip}: {count} detections by {name} {version}{note}").format(
        package=result.package.id[:8], clip=result.clip.relpath, count=len(result.detections),
        name=result.identity["name"], version=result.identity["version"], note=note))
    table = Table(_("from"), _("to"), _("type"), _("confidence"), _("frames"), _("first box"), box=None)
    for d in result.detections:
        first = d.frames[0].boxes[0].to_list() if d.frames and d.frames[0].boxes else []
        table.add_row(f"{local_time(_span(result.clip, d.start), archive)} (+{d.start:.1f}s)",
                      f"{local_time(_span(result.clip, d.end), archive)} (+{d.end:.1f}s)", d.type,
                      f"{d.confidence:.2f}", str(len(d.frames)), json.dumps(first))
    stdout.print(table)
    for w in made:
        click.echo(_("Window {package_id} kept").format(package_id=w["package_id"]))


@click.command(name="window")
@click.argument("package_id")
@click.option("--from", "start", required=True, metavar="ISO8601")
@click.option("--to", "end", required=True, metavar="ISO8601")
@click.option("--reason", default="", help="Why this range is kept (recorded in the package).")
@click.option("--json", "as_json", is_flag=True)
@queue_option
@pass_obj
def window_cmd(obj: Context, package_id: str, start: str, end: str, reason: str, as_json: bool,
               as_job: bool) -> None:
    """Preserve a time range of a package as a new derived package (copy or stream-copy cut, never re-encoded)."""
    archive = obj.archive()
    pid = resolve_package(archive, package_id)
    if as_job and jobs.queued(archive):
        start_utc, end_utc = derive.utc_text(parse_time(start)), derive.utc_text(parse_time(end))
        job, result_id = jobs.enqueue_window(archive, pid, start_utc, end_utc, reason)
        assert isinstance(job, int)
        report_queued(obj, as_json, job, "window", result_id, package_id=result_id, source=pid)
        return
    result = windows.window(archive, pid, parse_time(start), parse_time(end), derive.Cause(reason=reason))
    data = {"package_id": result.package.id, "source": pid, "requested_start": result.requested[0],
            "requested_end": result.requested[1], "actual_start": result.actual[0], "actual_end": result.actual[1],
            "copied": result.copied, "cut": result.cut}
    if as_json:
        emit_json(data)
    elif not obj.quiet:
        click.echo(_("{package_id}: window of {source}, requested {rs} to {re}, actual {as_} to {ae}").format(
            package_id=result.package.id, source=pid[:8], rs=local_time(result.requested[0], archive),
            re=local_time(result.requested[1], archive), as_=local_time(result.actual[0], archive),
            ae=local_time(result.actual[1], archive)))


@click.command(name="redact")
@click.argument("package_id")
@click.option("--faces", is_flag=True, help="Black out faces (CenterFace).")
@click.option("--persons", is_flag=True, help="Black out whole persons (HOG people detector).")
@click.option("--boxes", "boxes_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help='JSON [{"start": s, "end": s, "box": [x, y, w, h]}]: extra areas, seconds from the clip start.')
@click.option("--keep", multiple=True, metavar="TRACK", help="Leave this track unmasked, e.g. face:2 (repeatable).")
@click.option("--tracks", "dry_run", is_flag=True, help="Only list the tracks found; store nothing.")
@click.option("--reason", default="", help="Why the copy is made (recorded in the package).")
@click.option("--json", "as_json", is_flag=True)
@queue_option
@pass_obj
def redact_cmd(obj: Context, package_id: str, faces: bool, persons: bool, boxes_file: Path | None,
               keep: tuple[str, ...], dry_run: bool, reason: str, as_json: bool, as_job: bool) -> None:
    """Make a redacted access copy as a new package linked to the original (which is never altered)."""
    from longwatch.core.preservation import redact

    archive = obj.archive()
    pid = resolve_package(archive, package_id)
    if as_job and not dry_run and jobs.queued(archive):
        if not (faces or persons or boxes_file):
            raise LongwatchError("D012")
        job, result_id = jobs.enqueue_redaction(archive, pid, faces=faces, persons=persons, boxes_file=boxes_file,
                                                keep=list(keep), reason=reason)
        assert isinstance(job, int)
        report_queued(obj, as_json, job, "redact", result_id, package_id=result_id, source=pid)
        return
    result = redact.redact(archive, pid, faces=faces, persons=persons, boxes_file=boxes_file,
                           keep=frozenset(keep), reason=reason, dry_run=dry_run)
    data = {"package_id": result.package.id if result.package else None, "source": pid,
            "frames": result.frames, "masked_boxes": result.masked_boxes,
            "tracks": [t.to_dict() for t in result.tracks]}
    if as_json:
        emit_json(data)
        return
    if obj.quiet:
        return
    table = Table(_("track"), _("first"), _("last"), _("frames"), _("score"), _("box"), box=None)
    for t in result.tracks:
        table.add_row(t.track, f"{t.first:.1f}s", f"{t.last:.1f}s", str(t.frames), f"{t.score:.2f}",
                      json.dumps(t.box))
    stdout.print(table)
    if result.package:
        click.echo(_("{package_id}: redacted copy of {source}, {count} boxes masked in {frames} frames").format(
            package_id=result.package.id, source=pid[:8], count=result.masked_boxes, frames=result.frames))


@hookimpl
def register_commands(cli: Any) -> None:
    for command in (detectors_cmd, detect, window_cmd, redact_cmd):
        cli.add_command(command)
