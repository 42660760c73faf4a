"""``longwatch dataset export``: archived events as training data (docs/dataset.md).

A built-in command plugin, registered through ``register_commands`` like any
third-party plugin.
"""

from __future__ import annotations

from pathlib import Path

import click

from longwatch.clock import parse_time
from longwatch.console import Context, emit_json, human_size, pass_obj, progress_for
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _


@click.group(name="dataset")
def dataset_cmd() -> None:
    """Training data from archived events, for researchers and urban planners."""


@dataset_cmd.command(name="export")
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path),
              help="New folder for the dataset bag.")
@click.option("--from", "start", required=True, metavar="ISO8601", help="Events from this time (Z or offset).")
@click.option("--to", "end", required=True, metavar="ISO8601", help="Events before this time.")
@click.option("--type", "types", multiple=True, help="Event type (repeatable); default: every type.")
@click.option("--camera", "cameras", multiple=True, help="Camera (repeatable); default: every camera.")
@click.option("--min-confidence", type=float, default=0.0, show_default=True)
@click.option("--confirmed-only", is_flag=True, help="Only events a reviewer confirmed.")
@click.option("--include-false-positives", is_flag=True,
              help="Also events a reviewer marked false positive (left out by default).")
@click.option("--frames", "frames_per_event", type=int, default=3, show_default=True,
              help="Frames per event (those with boxes first, else spread over the event).")
@click.option("--clips", is_flag=True, help="Also the event's span as a video clip.")
@click.option("--no-mask", is_flag=True, help="Do not mask faces (the datasheet says so).")
@click.option("--mask-persons", is_flag=True, help="Also mask whole persons.")
@click.option("--licence", "--license", "licence", required=True, help="Licence of the dataset, e.g. KOGL Type 1.")
@click.option("--legal-basis", required=True, help="The legal basis for giving the footage out.")
@click.option("--purpose", default="", help="What the dataset is for.")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def export_cmd(obj: Context, output: Path, start: str, end: str, types: tuple[str, ...], cameras: tuple[str, ...],
               min_confidence: float, confirmed_only: bool, include_false_positives: bool, frames_per_event: int,
               clips: bool, no_mask: bool, mask_persons: bool, licence: str, legal_basis: str, purpose: str,
               as_json: bool) -> None:
    """Export events as masked frames (and clips), COCO and CSV labels and a datasheet, in a signed BagIt bag."""
    obj.account("footage:read")  # the account that asks is the one recorded
    from longwatch.core.events import dataset as core  # NumPy and the frame decoder: only for this command

    archive = obj.archive()
    request = core.Request(parse_time(start), parse_time(end), licence, legal_basis, list(types), list(cameras),
                           min_confidence, confirmed_only, include_false_positives, frames_per_event, clips,
                           not no_mask, mask_persons, purpose)
    with progress_for(obj, _("exporting the dataset"), 0) as advance:
        result = core.export(archive, request, output, progress=advance)
    data = {"path": str(result.path), "dataset_id": result.dataset_id, "events": result.events,
            "frames": result.frames, "clips": result.clips, "annotations": result.annotations,
            "masked_boxes": result.masked_boxes, "counts": result.counts, "skipped": result.skipped,
            "ledger_seq": result.ledger_seq}
    if as_json:
        emit_json(data)
        return
    if obj.quiet:
        return
    size = sum(p.stat().st_size for p in result.path.rglob("*") if p.is_file())
    click.echo(_("Dataset {dataset_id}: {events} events, {frames} frames, {clips} clips, {boxes} boxes masked, "
                 "{size} in {path}").format(dataset_id=result.dataset_id, events=result.events,
                                            frames=result.frames, clips=result.clips, boxes=result.masked_boxes,
                                            size=human_size(size), path=result.path))
    for item in result.skipped:
        click.echo(_("event {event_id} left out: {reason}").format(event_id=item["event_id"], reason=_(item["reason"])),
                   err=True)
    click.echo(_("Check it with `longwatch verify {path}`; read DATASHEET.md first.").format(path=result.path))


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(dataset_cmd)
