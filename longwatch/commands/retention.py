"""``longwatch retention|hold|dispose ...``: schedules, legal holds and disposition (docs/retention.md).

A built-in command plugin. Every command that changes something acts for the
signed-in account (``longwatch login``, or the OS user's mapping) and needs
the permission its role grants on the web too; the core
(longwatch/core/records/) enforces holds and approvals, not this file.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from longwatch import clock
from longwatch.commands.jobs import queue_option, report_queued
from longwatch.console import Context, emit_json, human_size, local_time, pass_obj, stdout
from longwatch.core import accounts, custody
from longwatch.core.aip import signing
from longwatch.core.archive import Archive
from longwatch.core.jobs import queue as jobs
from longwatch.core.public import notice
from longwatch.core.records import actors, assignment, certificates, dispositions, holds, schedules
from longwatch.core.records import tasks as records_tasks
from longwatch.core.records.purge import emergency_purge
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _, ngettext

#: a period's parts with their plurals ("1 month", "6 months"): the duration, never the calendar month
PERIOD_WORDS: dict[str, Callable[[int], str]] = {
    "Y": lambda n: ngettext("{n} year", "{n} years", n).format(n=n),
    "M": lambda n: ngettext("{n} month", "{n} months", n).format(n=n),
    "D": lambda n: ngettext("{n} day", "{n} days", n).format(n=n),
}


def acting(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Passes ``actor``: the signed-in account, refused (W009) unless its role holds ``permission``."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(obj: Context, *args: Any, **kwargs: Any) -> Any:
            return func(obj, *args, actor=actors.actor_of(obj.account(permission)), **kwargs)

        return wrapper

    return decorate


def _time(value: str | None) -> Any:
    return clock.parse_time(value) if value else None


def _period_text(period: str) -> str:
    if period == "permanent":
        return _("permanent")
    match = schedules.PERIOD.match(period)
    parts = []
    for unit, amount in zip("YMD", match.groups() if match else (), strict=False):
        if amount:
            parts.append(PERIOD_WORDS[unit](int(amount)))
    return " ".join(parts) or period


TRIGGERS = {"capture": ("from capture", "촬영일부터"), "event": ("from the event", "이벤트 발생일부터"),
            "case-closed": ("from the case's closure", "사건 종결일부터")}
ACTIONS = {"destroy": ("destroy", "파기"), "review": ("review", "재검토"), "transfer": ("transfer", "이관")}
KO_PERIOD = {"Y": "년", "M": "개월", "D": "일"}


def _period_ko(period: str) -> str:
    if period == "permanent":
        return "영구"
    match = schedules.PERIOD.match(period)
    return " ".join(f"{int(a)}{KO_PERIOD[u]}" for u, a in zip("YMD", match.groups() if match else (), strict=False)
                    if a) or period


def _schedule_json(schedule: schedules.Schedule) -> dict[str, Any]:
    return {"id": schedule.id, "title": schedule.title, "title_ko": schedule.title_ko, "owner": schedule.owner,
            "owner_ko": schedule.owner_ko, "default_class": schedule.default_class, "sha256": schedule.digest,
            "classes": [{"id": c.id, "name": c.name, "name_ko": c.name_ko, "trigger": c.trigger, "period": c.period,
                         "action": c.action, "legal_basis": c.legal_basis, "legal_basis_ko": c.legal_basis_ko,
                         "owner": c.owner, "owner_ko": c.owner_ko, "emergency_purge": c.emergency_purge}
                        for c in schedule.classes.values()],
            "rules": [{"name": r.name, "class": r.record_class, "camera": list(r.camera), "zone": list(r.zone),
                       "purpose": list(r.purpose), "event_type": list(r.event_type), "case": r.case}
                      for r in schedule.rules],
            "planning_sample": ({"enabled": p.enabled, "minutes_per_hour": p.minutes_per_hour,
                                 "offset_minutes": p.offset_minutes, "class": p.record_class,
                                 "cameras": list(p.cameras), "period": p.period}
                                if (p := schedule.planning_sample) is not None else None)}


# -- retention -------------------------------------------------------------------------------
@click.group(name="retention")
def retention_group() -> None:
    """Retention schedules: show the notice, preview a change, run the schedule."""


@retention_group.command()
@click.option("--schedule", "schedule_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A schedule file (default: the archive's active schedule).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def show(obj: Context, schedule_path: Path | None, as_json: bool) -> None:
    """The schedule as a table, in Korean and English, fit to publish as the public notice."""
    if schedule_path is not None:
        schedule = schedules.load_schedule(schedule_path)
    else:
        try:
            schedule = schedules.active_schedule(obj.archive())
        except LongwatchError as exc:
            if exc.code != "A001":
                raise
            schedule = schedules.load_schedule(schedules.DEFAULT_SCHEDULE)
    if as_json:
        emit_json(_schedule_json(schedule))
        return
    title = f"{schedule.title_ko}\n{schedule.title}" if schedule.title_ko else schedule.title
    table = Table("", "기록 분류\nRecord class", "보존기간\nPeriod", "기산일\nCounted", "보존기간 경과 후\nAt the end",
                  "담당\nOwner", title=title, show_lines=True)
    notes = []
    for number, c in enumerate(schedule.classes.values(), 1):
        trigger_en, trigger_ko = TRIGGERS[c.trigger]
        action_en, action_ko = ACTIONS[c.action]
        table.add_row(str(number), f"{c.name_ko}\n{c.name}" if c.name_ko else c.name,
                      f"{_period_ko(c.period)}\n{_period_text(c.period)}", f"{trigger_ko}\n{trigger_en}",
                      f"{action_ko}\n{action_en}", f"{c.owner_ko}\n{c.owner}" if c.owner_ko else c.owner)
        notes.append(f"{number}. {c.legal_basis_ko}\n   {c.legal_basis}" if c.legal_basis_ko
                     else f"{number}. {c.legal_basis}")
    # A notice is printed whole: wide enough that no cell is cut, whatever the terminal.
    console = Console(highlight=False, soft_wrap=False, width=max(stdout.width, 110))
    console.print(table)
    click.echo("근거 / Legal basis")
    for note in notes:
        click.echo(note)

    sample_ko, sample_en = (notice.planning_sample_text(None, lang, schedule) for lang in ("ko", "en"))
    if sample_en:
        click.echo(f"{sample_ko}\n{sample_en}")
    owner = f"{schedule.owner_ko} / {schedule.owner}" if schedule.owner_ko else schedule.owner
    click.echo(f"책임자 / Responsible: {owner}    ({schedule.id})")


def _print_groups(archive: Archive, groups: dict[str, dict[str, Any]], title: str) -> None:
    table = Table(_("class"), _("packages"), _("size"), _("oldest"), _("newest"), box=None, title=title)
    for name, g in groups.items():
        oldest = clock.parse_time(g["oldest"]) if isinstance(g["oldest"], str) else g["oldest"]
        newest = clock.parse_time(g["newest"]) if isinstance(g["newest"], str) else g["newest"]
        table.add_row(name, str(g["count"]), human_size(g["size"]), local_time(oldest, archive),
                      local_time(newest, archive))
    stdout.print(table)


@retention_group.command()
@click.argument("schedule_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def preview(obj: Context, schedule_path: Path, as_json: bool) -> None:
    """What making SCHEDULE_PATH active would destroy now: counts, sizes, oldest, newest, by class."""
    archive = obj.archive()
    result = dispositions.preview(archive, schedules.load_schedule(schedule_path))
    if as_json:
        emit_json(result)
        return
    _print_groups(archive, result["destroy"], _("Would be destroyed"))
    if result["held"]:
        _print_groups(archive, result["held"], _("Due but under legal hold (kept)"))
    if result["review"]:
        _print_groups(archive, result["review"], _("Due for review or transfer (kept)"))
    click.echo(ngettext("{count} package ({size}) would be destroyed", "{count} packages ({size}) would be destroyed",
                        result["total"]["count"]).format(
        count=result["total"]["count"], size=human_size(result["total"]["size"])))


@retention_group.command(name="set")
@click.argument("schedule_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@pass_obj
@acting("records:write")
def set_(obj: Context, schedule_path: Path, as_json: bool, actor: actors.Actor) -> None:
    """Make SCHEDULE_PATH the active schedule and reassign every package (recorded in the ledger)."""
    changes = assignment.set_schedule(obj.archive(), schedule_path, actor)
    if as_json:
        emit_json({"changes": changes})
    elif not obj.quiet:
        click.echo(ngettext("Schedule {path} is active; {count} assignment changed",
                            "Schedule {path} is active; {count} assignments changed", len(changes)).format(
            path=schedule_path, count=len(changes)))


@retention_group.command()
@click.argument("package_ids", nargs=-1, required=True)
@click.option("--case", "case_id", help="Case the footage belongs to.")
@click.option("--event-type", help="Event type (motion, alarm, disaster, ...).")
@click.option("--purpose", help="Purpose of the recording (e.g. planning).")
@click.option("--event-time", metavar="ISO8601", help="When the event happened.")
@click.option("--case-closed", metavar="ISO8601", help="When the case was closed.")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
@acting("records:write")
def assign(obj: Context, package_ids: tuple[str, ...], case_id: str | None, event_type: str | None,
           purpose: str | None, event_time: str | None, case_closed: str | None, as_json: bool,
           actor: actors.Actor) -> None:
    """Record facts about packages (case, event, purpose) and recompute their class; the longest wins."""
    archive = obj.archive()
    ids = [_resolve(archive, p) for p in package_ids]
    facts: dict[str, Any] = {}
    for key, value in (("case_id", case_id), ("event_type", event_type), ("purpose", purpose)):
        if value is not None:
            facts[key] = value
    if event_time:
        facts["event_time"] = clock.parse_time(event_time)
    if case_closed:
        facts["case_closed_at"] = clock.parse_time(case_closed)
    changes = assignment.assign(archive, actor, None, ids, **facts)
    if as_json:
        emit_json({"changes": changes})
        return
    for c in changes:
        click.echo(_("{package_id}  class {record_class}  due {due}").format(
            package_id=c["package_id"], record_class=c["class"], due=c["due"] or _("never")))


@retention_group.command(name="close-case")
@click.argument("case_id")
@click.option("--at", "closed_at", metavar="ISO8601", required=True, help="When the case was closed.")
@pass_obj
@acting("records:write")
def close_case(obj: Context, case_id: str, closed_at: str, actor: actors.Actor) -> None:
    """Start the case-closed clock of every package of CASE_ID."""
    changes = assignment.close_case(obj.archive(), case_id, clock.parse_time(closed_at), actor)
    if not obj.quiet:
        click.echo(ngettext("{count} package of case {case} reassigned", "{count} packages of case {case} reassigned",
                            len(changes)).format(count=len(changes), case=case_id))


@retention_group.command()
@click.option("--class", "classes", multiple=True, help="Only this record class (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
@acting("records:write")
def run(obj: Context, classes: tuple[str, ...], as_json: bool, actor: actors.Actor) -> None:
    """Assign new packages, find what is due, group it by class and propose it for disposition."""
    _propose(obj, classes, as_json, actor)


def _propose(obj: Context, classes: tuple[str, ...], as_json: bool, actor: actors.Actor) -> None:
    archive = obj.archive()
    disposition, result = dispositions.propose(archive, actor, classes=list(classes) or None)
    data = {"disposition_id": disposition.id if disposition else None, "now": clock.iso_z(result.now),
            "due": dispositions.jsonable(result.by_class()),
            "held": [{"package_id": c.package_id, "hold_id": h} for c, h in result.held],
            "review": [{"package_id": c.package_id, "record_class": c.record_class} for c in result.review]}
    if as_json:
        emit_json(data)
        return
    if disposition is None:
        click.echo(_("Nothing is due for destruction."))
    else:
        _print_groups(archive, result.by_class(), _("Proposed for destruction"))
        click.echo(_("Disposition {id} proposed by {user}; a records manager must approve it: "
                     "longwatch dispose approve {id}").format(id=disposition.id, user=actor.name))
    if result.held:
        click.echo(ngettext("{count} due package is under legal hold and was left out",
                            "{count} due packages are under legal hold and were left out", len(result.held)).format(
            count=len(result.held)))
    if result.review:
        click.echo(ngettext("{count} due package needs review or transfer, not destruction",
                            "{count} due packages need review or transfer, not destruction",
                            len(result.review)).format(count=len(result.review)))


@retention_group.command()
@click.option("--emergency", is_flag=True, help="Required: confirms the emergency purge.")
@click.option("--location", help="Storage location (default: the primary one).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
@acting("records:write")
def purge(obj: Context, emergency: bool, location: str | None, as_json: bool, actor: actors.Actor) -> None:
    """Storage full: remove expired, unheld continuous footage, oldest first, until the reserve is free.

    A second records manager approves it with their token in LONGWATCH_APPROVER_TOKEN.
    """
    if not emergency:
        raise click.UsageError(_("the purge runs only with --emergency"))
    archive = obj.archive()
    token = os.environ.get("LONGWATCH_APPROVER_TOKEN", "")
    second = accounts.token_account(archive.catalog, token) if token else None
    if second is None:
        raise LongwatchError("H021", detail="the token opens no account" if token else "it is unset")
    if not second.scope_allows("records:write"):  # the approver's token must be one that may approve
        raise LongwatchError("W090", scopes=" ".join(second.scopes or ()), permission="records:write",
                             scope="records:write")
    removed = emergency_purge(archive, actor, actors.Actor(second.username, second.role), location=location)
    if as_json:
        emit_json({"removed": removed})
    elif not obj.quiet:
        click.echo(ngettext("{count} expired continuous package removed", "{count} expired continuous packages removed",
                            len(removed)).format(count=len(removed)))


# -- holds --------------------------------------------------------------------------------------
@click.group(name="hold")
def hold_group() -> None:
    """Legal holds: nothing they cover is deleted by any path until they are released."""


@hold_group.command()
@click.option("--package", "package_id", help="One package.")
@click.option("--case", "case_id", help="Every package of a case.")
@click.option("--camera", help="A camera over --from .. --to (second precision).")
@click.option("--from", "start", metavar="ISO8601")
@click.option("--to", "end", metavar="ISO8601")
@click.option("--search", multiple=True, metavar="KEY=VALUE",
              help="A saved search: camera, zone, text, from, to (repeatable; all must match).")
@click.option("--owner", required=True, help="Who owns the hold (e.g. the prosecutor's office).")
@click.option("--reason", required=True)
@click.option("--review", metavar="ISO8601", help="When the hold is to be reviewed.")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
@acting("inquiry:write")
def place(obj: Context, package_id: str | None, case_id: str | None, camera: str | None, start: str | None,
          end: str | None, search: tuple[str, ...], owner: str, reason: str, review: str | None, as_json: bool,
          actor: actors.Actor) -> None:
    """Place a legal hold (recorded in the custody ledger)."""
    archive = obj.archive()
    criteria = {}
    for item in search:
        key, sep, value = item.partition("=")
        if not sep:
            raise LongwatchError("H012", detail=f"{item!r} is not KEY=VALUE")
        criteria[key.strip()] = value.strip()
    hold = holds.place_hold(
        archive, actor, owner=owner, reason=reason, review_at=_time(review),
        package_id=_resolve(archive, package_id) if package_id else "", case_id=case_id or "",
        camera=camera or "", start=_time(start), end=_time(end), search=criteria or None)
    if as_json:
        emit_json(holds.hold_dict(hold))
    elif not obj.quiet:
        click.echo(_("Hold {id} placed").format(id=hold.id))


@hold_group.command()
@click.argument("hold_id")
@click.option("--reason", required=True)
@pass_obj
@acting("records:write")
def release(obj: Context, hold_id: str, reason: str, actor: actors.Actor) -> None:
    """Release a legal hold (recorded in the custody ledger)."""
    hold = holds.release_hold(obj.archive(), hold_id, actor, reason)
    if not obj.quiet:
        click.echo(_("Hold {id} released").format(id=hold.id))


@hold_group.command(name="list")
@click.option("--all", "include_released", is_flag=True, help="Released holds too.")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def list_(obj: Context, include_released: bool, as_json: bool) -> None:
    """Active legal holds (with --all, released ones too)."""
    archive = obj.archive()
    found = holds.list_holds(archive, include_released)
    if as_json:
        emit_json({"holds": [holds.hold_dict(h) for h in found]})
        return
    table = Table(_("hold"), _("covers"), _("owner"), _("reason"), _("review"), _("placed"), _("released"),
                  box=None)
    for h in found:
        if h.kind == "camera":
            covers = f"camera {h.camera} {local_time(h.start_utc, archive)} — {local_time(h.end_utc, archive)}"
        elif h.kind == "search":
            covers = f"search {h.search}"
        else:
            covers = f"{h.kind} {h.package_id or h.case_id}"
        table.add_row(h.id[:8], covers, h.owner, h.reason, local_time(h.review_at, archive),
                      f"{local_time(h.placed_at, archive)} {h.placed_by}",
                      local_time(h.released_at, archive) if h.released_at else "")
    stdout.print(table)


# -- dispose ----------------------------------------------------------------------------------------
@click.group(name="dispose")
def dispose_group() -> None:
    """Disposition: propose, approve (a second person, records manager), execute, certificate."""


@dispose_group.command()
@click.option("--class", "classes", multiple=True, help="Only this record class (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
@acting("records:write")
def propose(obj: Context, classes: tuple[str, ...], as_json: bool, actor: actors.Actor) -> None:
    """Propose everything due (unheld) for destruction, grouped by class."""
    _propose(obj, classes, as_json, actor)


@dispose_group.command()
@click.argument("disposition_id")
@click.option("--execute", "and_execute", is_flag=True,
              help="Then execute it: on a PostgreSQL catalog a job queued in the approval's own transaction "
                   "(see `dispose execute --queue`), on SQLite right away.")
@pass_obj
@acting("self")
def approve(obj: Context, disposition_id: str, and_execute: bool, actor: actors.Actor) -> None:
    """Approve a proposal: a records manager other than the proposer."""
    archive = obj.archive()
    full_id = dispositions.get_disposition(archive, disposition_id)[0].id
    queued: list[int] = []

    def queue_execution(session: Any) -> None:
        job = records_tasks.enqueue_disposition(archive, full_id, actor.name, actor.role, session=session)
        assert isinstance(job, int)
        queued.append(job)

    as_job = and_execute and jobs.queued(archive)
    disposition = dispositions.approve(archive, full_id, actor, then=queue_execution if as_job else None)
    if not obj.quiet:
        click.echo(_("Disposition {id} approved by {user}").format(id=disposition.id, user=actor.name))
    if queued:
        report_queued(obj, False, queued[0], "dispose", disposition.id, disposition_id=disposition.id)
    elif and_execute:
        _show_execution(obj, dispositions.execute(archive, disposition.id, actor), False)


@dispose_group.command()
@click.argument("disposition_id")
@click.option("--json", "as_json", is_flag=True)
@queue_option
@pass_obj
@acting("records:write")
def execute(obj: Context, disposition_id: str, as_json: bool, as_job: bool, actor: actors.Actor) -> None:
    """Destroy every stored copy of an approved disposition (resumes an interrupted one); sign a certificate."""
    archive = obj.archive()
    if as_job and jobs.queued(archive):
        disposition, _items = dispositions.get_disposition(archive, disposition_id)
        if disposition.status not in ("approved", "executing"):  # refused now, not later by a worker
            raise LongwatchError("H006", disposition_id=disposition.id[:8], status=disposition.status,
                                 expected="approved")
        job = records_tasks.enqueue_disposition(archive, disposition.id, actor.name, actor.role)
        assert isinstance(job, int)
        report_queued(obj, as_json, job, "dispose", disposition.id, disposition_id=disposition.id)
        return
    _show_execution(obj, dispositions.execute(archive, disposition_id, actor), as_json)


def _show_execution(obj: Context, result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    click.echo(ngettext("{count} package destroyed; certificate {path}",
                        "{count} packages destroyed; certificate {path}", len(result["deleted"])).format(
        count=len(result["deleted"]), path=result["certificate"]))
    if result["held"]:
        click.echo(ngettext("{count} package kept: a legal hold covers it",
                            "{count} packages kept: a legal hold covers them", len(result["held"])).format(
            count=len(result["held"])))
    if result["not_due"]:
        click.echo(ngettext("{count} package kept: no longer due", "{count} packages kept: no longer due",
                            len(result["not_due"])).format(count=len(result["not_due"])))
    if result["store_locked"]:
        click.echo(ngettext("{count} package kept: a store still locks a copy (S017)",
                            "{count} packages kept: a store still locks a copy (S017)",
                            len(result["store_locked"])).format(count=len(result["store_locked"])))
    if result["planning_samples"]:
        click.echo(ngettext("{count} package kept as a planning sample (the sampled minutes of every hour)",
                            "{count} packages kept as planning samples (the sampled minutes of every hour)",
                            len(result["planning_samples"])).format(count=len(result["planning_samples"])))
    if result["sample_failed"]:
        click.echo(ngettext("{count} package kept: its planning sample could not be kept yet (see the log)",
                            "{count} packages kept: their planning sample could not be kept yet (see the log)",
                            len(result["sample_failed"])).format(count=len(result["sample_failed"])))


@dispose_group.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def list_dispositions(obj: Context, as_json: bool) -> None:
    """Every disposition with its status."""
    archive = obj.archive()
    rows = dispositions.list_dispositions(archive)
    data = [{"disposition_id": d.id, "status": d.status, "schedule": d.schedule_id, "proposer": d.proposer,
             "approver": d.approver or None, "proposed_at": clock.iso_z(d.proposed_at),
             "approved_at": clock.iso_z(d.approved_at), "executed_at": clock.iso_z(d.executed_at),
             "certificate": d.certificate or None} for d in rows]
    if as_json:
        emit_json({"dispositions": data})
        return
    table = Table(_("disposition"), _("status"), _("proposer"), _("approver"), _("proposed"), box=None)
    for d in rows:
        table.add_row(d.id[:8], d.status, d.proposer, d.approver or "-", local_time(d.proposed_at, archive))
    stdout.print(table)


@dispose_group.command()
@click.argument("package_id")
@click.option("--reason", "why", required=True, help="Why this package is deleted outside the schedule.")
@pass_obj
@acting("records:write")
def delete(obj: Context, package_id: str, why: str, actor: actors.Actor) -> None:
    """Delete one package outside the schedule: a second records manager must approve it first.

    The first call proposes the deletion (a one-package disposition) and stops
    with H018; once another records manager has approved it (``dispose
    approve``), ``dispose execute`` or this command again deletes the package
    and signs a destruction certificate. A legal hold refuses it at once.
    """
    archive = obj.archive()
    pid = _resolve(archive, package_id)
    pending = dispositions.open_disposition_of(archive, pid)
    if pending is None:
        disposition = dispositions.propose_deletion(archive, pid, actor, why)
        raise LongwatchError("H018", package_id=pid, disposition_id=disposition.id[:8])
    _pending, items = dispositions.get_disposition(archive, pending.id)
    if any(i.record_class != dispositions.MANUAL for i in items):  # the schedule's: `dispose execute` runs it
        raise LongwatchError("H019", package_id=pid, disposition_id=pending.id[:8], status=pending.status)
    if pending.status == "proposed":
        raise LongwatchError("H018", package_id=pid, disposition_id=pending.id[:8])
    result = dispositions.execute(archive, pending.id, actor)
    if pid not in result["deleted"]:
        _show_execution(obj, result, False)
        return
    if not obj.quiet:
        click.echo(_("Package {id} deleted; its tombstone stays in the catalog").format(id=pid))
        click.echo(_("Destruction certificate: {path}").format(path=result["certificate"]))


@dispose_group.command()
@click.argument("target")
@click.option("--verify", "check", is_flag=True, help="Verify the signature instead of printing the path.")
@click.option("--cert", "cert_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Trusted signer certificate (default: the archive's).")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Copy the certificate's files from the store into this folder.")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def certificate(obj: Context, target: str, check: bool, cert_path: Path | None, out_dir: Path | None,
                as_json: bool) -> None:
    """The destruction certificate of a disposition (id or certificate file); --verify checks it, -o copies it."""
    path = Path(target)
    if path.is_file():
        if check:
            verify_certificate(obj, path, (cert_path,) if cert_path else (), as_json)
            return
        _print_certificate(str(path), as_json)
        return
    archive = obj.archive()
    disposition, _items = dispositions.get_disposition(archive, target)
    if not disposition.certificate:
        raise LongwatchError("H006", disposition_id=disposition.id[:8], status=disposition.status,
                             expected="executed")
    if out_dir is not None:
        path = certificates.fetch_certificate(archive, disposition.id, out_dir)
    elif check:  # a working copy for the check, gone afterwards: the store keeps the record
        with tempfile.TemporaryDirectory(prefix="longwatch-certificate-") as scratch:
            fetched = certificates.fetch_certificate(archive, disposition.id, Path(scratch))
            verify_certificate(obj, fetched, (cert_path,) if cert_path else (), as_json)
        return
    else:
        _print_certificate(disposition.certificate, as_json)
        return
    if check:
        verify_certificate(obj, path, (cert_path,) if cert_path else (), as_json)
        return
    _print_certificate(str(path), as_json)


def _print_certificate(where: str, as_json: bool) -> None:
    """A local path, or the certificate's key in the store (``longwatch dispose certificate ID -o DIR``)."""
    if as_json:
        base = where[: -len(".json")] if where.endswith(".json") else where
        emit_json({"certificate": where, "signature": f"{where}.p7s", "html": f"{base}.html"})
    else:
        click.echo(where)


def verify_stored_certificate(obj: Context, key: str, cert_paths: Sequence[Path], as_json: bool) -> None:
    """``longwatch verify certificates/<id>.json``: the key ``show`` prints, checked from a working copy of the
    store's files (gone afterwards)."""
    name = key[len(certificates.CERTIFICATES) + 1:]
    if not name.endswith(".json") or "/" in name:
        raise LongwatchError("H015", path=key, detail="not a destruction certificate's key")
    with tempfile.TemporaryDirectory(prefix="longwatch-certificate-") as scratch:
        fetched = certificates.fetch_certificate(obj.archive(), name[: -len(".json")], Path(scratch))
        verify_certificate(obj, fetched, cert_paths, as_json)


def verify_certificate(obj: Context, path: Path, cert_paths: Sequence[Path], as_json: bool) -> None:
    """Shared by ``dispose certificate --verify`` and ``longwatch verify CERT.json``."""
    trusted: list[Any] | None = None
    if cert_paths:
        trusted = [c for p in cert_paths for c in signing.load_certificates(p)]
    else:
        try:
            trusted = list(obj.archive().trusted)
        except LongwatchError:
            trusted = None  # a certificate carried away from its archive: the signature alone is checked
    tsa_cert = None
    with contextlib.suppress(LongwatchError):
        settings = custody.load_settings(obj.archive().root)
        tsa_cert = signing.load_certificate(settings.tsa_cert) if settings.tsa_cert else None
    report = certificates.verify_certificate(path, trusted, tsa_cert)
    if as_json:
        emit_json(report)
    else:
        for problem in report["problems"]:
            click.echo(f"ERROR [{problem['code']}] {problem['message']}", err=True)
        if report["ok"] and not obj.quiet:
            click.echo(ngettext("OK destruction certificate {id}: {count} package; signed by {signer}",
                              "OK destruction certificate {id}: {count} packages; signed by {signer}",
                              report["packages"]).format(
                id=report["disposition_id"], count=report["packages"], signer=report["signer"]))
            if trusted is None:
                click.echo(_("NOTE no trusted certificate was given (--cert): only the signature was checked"),
                           err=True)
    if not report["ok"]:
        sys.exit(1)


def _resolve(archive: Archive, prefix: str) -> str:
    matches = archive.catalog.resolve(prefix)
    if len(matches) != 1:
        raise LongwatchError("I008", package_id=prefix)
    return matches[0]


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(retention_group)
    cli.add_command(hold_group)
    cli.add_command(dispose_group)
