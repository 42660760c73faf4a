"""``longwatch events``: list, import, review and report events: a built-in command plugin."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from longwatch.clock import parse_time
from longwatch.console import Context, emit_json, local_time, pass_obj, stdout
from longwatch.core.events import record as core
from longwatch.core.events import rules
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.i18n import N_, _

LABELS = {"detector": N_("detector"), "camera": N_("camera"), "type": N_("type"), "month": N_("month"),
          "events": N_("events"), "reviewed": N_("reviewed"), "confirmed": N_("confirmed"),
          "false_positive": N_("false positive"), "unsure": N_("unsure"), "confirmed_rate": N_("confirmed rate"),
          "false_positive_rate": N_("false-positive rate")}


@click.group(name="events", invoke_without_command=True)
@click.option("--camera", default=None)
@click.option("--type", "type_", default=None, help="Event type, e.g. intrusion, fall, fire.")
@click.option("--from", "start", default=None, metavar="ISO8601")
@click.option("--to", "end", default=None, metavar="ISO8601")
@click.option("--status", type=click.Choice(core.STATUSES), default=None)
@click.option("--limit", type=int, default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def events_cmd(ctx: click.Context, camera: str | None, type_: str | None, start: str | None, end: str | None,
               status: str | None, limit: int, as_json: bool) -> None:
    """List events (from detectors and imported from AI CCTV), with their review status and window."""
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj
    archive = obj.archive()
    rows = core.query(archive, camera=camera, type=type_, start=parse_time(start) if start else None,
                      end=parse_time(end) if end else None, status=status, limit=limit)
    if as_json:
        emit_json({"events": [core.event_dict(e) for e in rows]})
        return
    table = Table(_("id"), _("time"), _("camera"), _("type"), _("confidence"), _("source"), _("status"),
                  _("window"), box=None)
    for e in rows:
        table.add_row(str(e.id), local_time(e.start_utc, archive), e.camera, e.type, f"{e.confidence:.2f}",
                      core._detector_name(e), e.status.replace("_", " "), (e.window_package_id or "-")[:8])
    stdout.print(table)


@events_cmd.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--no-windows", is_flag=True, help="Record the events only; preserve no windows.")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def import_cmd(obj: Context, file: Path, no_windows: bool, as_json: bool) -> None:
    """Import events from a control centre's AI CCTV or VMS (JSON Lines or CSV); idempotent."""
    obj.account("upload:write")  # the account that asks is the one recorded
    archive = obj.archive()
    result = core.import_rows(archive, core.read_rows(file), apply_rules=not no_windows)
    data = {"imported": len(result.imported), "skipped": len(result.skipped), "event_ids": result.imported,
            "windows": result.windows,
            "errors": [{"line": line, **err.to_dict()} for line, err in result.errors]}
    if as_json:
        emit_json(data)
    else:
        for _line, err in result.errors:
            click.echo(f"[{err.code}] {err.render()}", err=True)
        if not obj.quiet:
            click.echo(_("{imported} events imported, {skipped} already there, {errors} bad rows, "
                         "{windows} windows kept").format(imported=data["imported"], skipped=data["skipped"],
                                                          errors=len(result.errors), windows=len(result.windows)))
    if result.errors:
        raise SystemExit(result.errors[0][1].exit_status)


@events_cmd.command(name="review")
@click.argument("event_id", type=int)
@click.option("--confirmed", "decision", flag_value="confirmed")
@click.option("--false-positive", "decision", flag_value="false_positive")
@click.option("--unsure", "decision", flag_value="unsure")
@click.option("--note", default="", help="Why (recorded in the custody ledger).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def review_cmd(obj: Context, event_id: int, decision: str | None, note: str, as_json: bool) -> None:
    """Mark an event confirmed, false positive or unsure; the decision is a ledger event naming the reviewer
    (the signed-in account)."""
    if not decision:
        raise LongwatchError("D017")
    archive = obj.archive()
    who = obj.account("inquiry:write").username
    event = core.review(archive, event_id, decision, who, note)
    if as_json:
        emit_json(core.event_dict(event))
    elif not obj.quiet:
        click.echo(_("event {id}: {decision} by {reviewer}").format(
            id=event.id, decision=decision.replace("_", " "), reviewer=who))


@events_cmd.command(name="report")
@click.option("--by", default="detector,camera,type,month", show_default=True,
              help="Group by any of detector, camera, type, month (comma-separated).")
@click.option("--from", "start", default=None, metavar="ISO8601")
@click.option("--to", "end", default=None, metavar="ISO8601")
@click.option("--csv", "as_csv", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def report_cmd(obj: Context, by: str, start: str | None, end: str | None, as_csv: bool, as_json: bool) -> None:
    """Events by detector, camera, type and month, with confirmed and false-positive rates of reviewed events."""
    keys = [k.strip() for k in by.split(",") if k.strip()]
    bad = [k for k in keys if k not in core.REPORT_KEYS]
    if bad:
        raise click.BadParameter(_("choose from {choices}").format(choices=", ".join(core.REPORT_KEYS)),
                                 param_hint="--by")
    archive = obj.archive()
    rows = core.report(core.query(archive, start=parse_time(start) if start else None,
                                  end=parse_time(end) if end else None), keys)
    columns = [*keys, "events", "reviewed", "confirmed", "false_positive", "unsure", "confirmed_rate",
               "false_positive_rate"]
    if as_json:
        emit_json({"by": keys, "rows": rows})
    elif as_csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
        click.echo(buf.getvalue(), nl=False)
    else:
        table = Table(*[_(LABELS[c]) for c in columns], box=None)
        for r in rows:
            table.add_row(*[_rate(r[c]) if c.endswith("_rate") else str(r[c]) for c in columns])
        stdout.print(table)


def _rate(value: Any) -> str:
    return "-" if value is None else f"{value:.1%}"


@events_cmd.command(name="rules")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def rules_cmd(obj: Context, as_json: bool) -> None:
    """Show the window rules in force (event types, seconds kept, minimum confidence, retention)."""
    rule_set = rules.load(obj.archive().root)
    if as_json:
        emit_json({"path": str(rule_set.path.name), "types": [r.to_dict() for r in rule_set.types()]})
        return
    table = Table(_("type"), _("label"), _("before"), _("after"), _("min confidence"), _("retention"),
                  _("false positive retention"), box=None)
    for r in rule_set.types():
        table.add_row(r.type, f"{r.label_en} / {r.label_ko}", f"{r.before:g}s", f"{r.after:g}s",
                      f"{r.min_confidence:.2f}", r.retention, r.false_positive_retention)
    stdout.print(table)


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_command(events_cmd)
