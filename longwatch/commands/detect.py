"""``longwatch detectors``, ``detect``, ``window`` and ``redact``: a built-in command plugin.

The click code only: the resumable detection engine (checkpoints, state
files, each detection recorded as an event) is :mod:`longwatch.core.events.detect`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from longwatch import registry
from longwatch.clock import parse_time
from longwatch.commands.jobs import queue_option, report_queued
from longwatch.console import Context, emit_json, human_size, local_time, pass_obj, resolve_package, stdout
from longwatch.core.archive import Archive
from longwatch.core.catalog import Clip
from longwatch.core.events.detect import ClipDetections, detect_clip, keep_windows, read_masks, utc_at
from longwatch.core.jobs import queue as jobs
from longwatch.core.preservation import derive, windows
from longwatch.core.preservation import tasks as preservation_tasks
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _


def _parameters(values: tuple[str, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(_("expected KEY=VALUE, got {value!r}").format(value=item), param_hint="--param")
        params[key.strip()] = value.strip()
    return params


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
            ignore = read_masks(mask_file, row.camera)
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
                entry["windows"] = keep_windows(archive, result, before, after or 0.0)
            results.append(entry)
            if not as_json and not obj.quiet:
                _print_result(result, archive, entry.get("windows", []))
    if as_json:
        emit_json({"results": results})


def _result_dict(result: ClipDetections) -> dict[str, Any]:
    return {
        "package_id": result.package.id, "clip": result.clip.relpath, "detector": result.identity,
        "resumed_from": result.resumed_from, "cached": result.cached,
        "detections": [{**d.to_dict(), "start_utc": utc_at(result.clip, d.start),
                        "end_utc": utc_at(result.clip, d.end)} for d in result.detections],
    }


def _print_result(result: ClipDetections, archive: Archive, made: list[dict[str, Any]]) -> None:
    note = _(" (earlier result)") if result.cached else (
        _(" (resumed at {t:.1f} s)").format(t=result.resumed_from) if result.resumed_from else "")
    click.echo(_("{package} {clip}: {count} detections by {name} {version}{note}").format(
        package=result.package.id[:8], clip=result.clip.relpath, count=len(result.detections),
        name=result.identity["name"], version=result.identity["version"], note=note))
    table = Table(_("from"), _("to"), _("type"), _("confidence"), _("frames"), _("first box"), box=None)
    for d in result.detections:
        first = d.frames[0].boxes[0].to_list() if d.frames and d.frames[0].boxes else []
        table.add_row(f"{local_time(utc_at(result.clip, d.start), archive)} (+{d.start:.1f}s)",
                      f"{local_time(utc_at(result.clip, d.end), archive)} (+{d.end:.1f}s)", d.type,
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
        job, result_id = preservation_tasks.enqueue_window(archive, pid, start_utc, end_utc, reason)
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
    from longwatch.core.preservation import redact  # NumPy and the frame decoder: not on every command's start

    archive = obj.archive()
    pid = resolve_package(archive, package_id)
    if as_job and not dry_run and jobs.queued(archive):
        if not (faces or persons or boxes_file):
            raise LongwatchError("D012")
        job, result_id = preservation_tasks.enqueue_redaction(archive, pid, faces=faces, persons=persons,
                                                              boxes_file=boxes_file, keep=list(keep), reason=reason)
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
