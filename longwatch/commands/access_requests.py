"""Built-in command plugin: ``longwatch requests`` (citizens' and agencies' requests) and
``longwatch register`` (the CCTV operation register as a table, CSV or PDF)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from longwatch.clock import parse_time
from longwatch.commands.jobs import queue_option, report_queued
from longwatch.console import Context, emit_json, local_time, pass_obj, stdout
from longwatch.core.catalog.models import PublicRequest
from longwatch.core.jobs import queue as jobs
from longwatch.core.public import access_requests as req_api
from longwatch.core.public import operation_register as register_api
from longwatch.core.public import tasks as public_tasks
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _, ngettext


def _archive(obj: Context) -> Any:
    archive = obj.archive()
    archive.open_catalog()  # upgraded when behind (Catalog.ensure_current)
    return archive


def _time(value: str) -> datetime | None:
    return parse_time(value) if value else None


def request_json(req: PublicRequest, archive: Any) -> dict[str, Any]:
    """The stable keys of ``requests list/show --json``."""
    return {
        "number": req.number, "kind": req.kind, "status": req.status, "requester": req.requester,
        "identity_method": req.identity_method, "contact": req.contact, "legal_basis": req.legal_basis,
        "reference": req.reference, "claimed_start": req.claimed_start_utc, "claimed_end": req.claimed_end_utc,
        "claimed_place": req.claimed_place, "camera": req.camera, "received": req.received_at,
        "status_reason": req.status_reason, "refusal_reason": req.refusal_reason, "closed": req.closed_at,
        "packages": req_api.package_ids(req), "clock": req_api.clock(req, archive.settings.tz).to_dict(),
    }


@click.group()
def requests() -> None:
    """Requests for footage: PIPA access, disclosure, insurers, courts, police (10-day clock)."""


@requests.command("add")
@click.option("--kind", type=click.Choice(list(req_api.KINDS)), default="pipa-access", show_default=True)
@click.option("--requester", required=True)
@click.option("--identity-method", default="", help="How the identity was checked (never the ID number).")
@click.option("--contact", default="")
@click.option("--from", "start", default="", metavar="ISO8601", help="When the requester says they appeared.")
@click.option("--to", "end", default="", metavar="ISO8601")
@click.option("--place", default="")
@click.option("--camera", default="")
@click.option("--legal-basis", default="")
@click.option("--reference", default="", help="Case, claim or warrant number.")
@click.option("--received", default="", metavar="ISO8601", help="Received date (default: now).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def add(obj: Context, kind: str, requester: str, identity_method: str, contact: str, start: str, end: str,
        place: str, camera: str, legal_basis: str, reference: str, received: str, as_json: bool) -> None:
    """Record a request as received; its 10-day clock starts."""
    obj.account("requests:write")  # the account that asks is the one recorded
    archive = _archive(obj)
    req = req_api.create(archive, kind, requester=requester, identity_method=identity_method, contact=contact,
                         claimed_start=_time(start), claimed_end=_time(end), claimed_place=place, camera=camera,
                         legal_basis=legal_basis, reference=reference, received_at=_time(received),
                         actor=archive.operator)
    if as_json:
        emit_json(request_json(req, archive))
    elif not obj.quiet:
        click.echo(_("Received request {number}.").format(number=req.number))


@requests.command("list")
@click.option("--status", type=click.Choice(["", *req_api.STATUSES]), default="")
@click.option("--kind", type=click.Choice(["", *req_api.KINDS]), default="")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def list_requests(obj: Context, status: str, kind: str, as_json: bool) -> None:
    """List requests with their clocks (keys as `requests show --json`)."""
    archive = _archive(obj)
    rows = req_api.listing(archive, status, kind)
    if as_json:
        emit_json({"requests": [request_json(r, archive) for r in rows]})
        return
    from rich.table import Table

    table = Table(_("number"), _("type"), _("status"), _("requester"), _("received"), _("day"), box=None)
    for r in rows:
        c = req_api.clock(r, archive.settings.tz)
        table.add_row(r.number, _(req_api.KINDS[r.kind][0]), _(req_api.STATUSES[r.status]), r.requester,
                      local_time(r.received_at, archive), f"{c.day}/{req_api.DEADLINE_DAYS} {_(c.state)}")
    stdout.print(table)


@requests.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def show(obj: Context, number: str, as_json: bool) -> None:
    """One request and its steps (each a custody event)."""
    archive = _archive(obj)
    req = req_api.get(archive, number)
    data = request_json(req, archive)
    data["steps"] = [{"time": s.time_utc, "step": s.step, "detail": s.detail, "actor": s.actor,
                      "ledger_event": s.ledger_event} for s in req.steps]
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        if key != "steps":
            click.echo(f"{key}: {value}")
    for s in req.steps:
        click.echo(f"  {local_time(s.time_utc, archive)}  {s.step}  {s.detail}")


@requests.command("search")
@click.argument("number")
@pass_obj
def search(obj: Context, number: str) -> None:
    """Find the footage of the claimed time and place, and hold it at once."""
    obj.account("requests:write")  # the account that asks is the one recorded
    archive = _archive(obj)
    req = req_api.search(archive, number, actor=archive.operator)
    click.echo(ngettext("{count} package found and held for {number}.", "{count} packages found and held for {number}.",
                        len(req_api.package_ids(req))).format(
        count=len(req_api.package_ids(req)), number=number))


@requests.command("postpone")
@click.argument("number")
@click.option("--reason", required=True)
@pass_obj
def postpone(obj: Context, number: str, reason: str) -> None:
    """Masking takes longer: postpone, with the reason."""
    obj.account("requests:write")  # the account that asks is the one recorded
    archive = _archive(obj)
    req_api.postpone(archive, number, reason, actor=archive.operator)


@requests.command("mask")
@click.argument("number")
@click.option("--keep", multiple=True, help="The requester's face track (from `redact --tracks`).")
@click.option("--json", "as_json", is_flag=True)
@queue_option
@pass_obj
def mask(obj: Context, number: str, keep: tuple[str, ...], as_json: bool, as_job: bool) -> None:
    """Make copies where every person but the requester is masked."""
    obj.account("requests:write")  # the account that asks is the one recorded
    archive = _archive(obj)
    if as_job and jobs.queued(archive):
        job = public_tasks.enqueue_request_mask(archive, number, keep, actor=archive.operator)
        assert isinstance(job, int)
        report_queued(obj, as_json, job, "request_mask", number, number=number)
        return
    req = req_api.mask(archive, number, frozenset(keep), actor=archive.operator)
    if as_json:
        emit_json({"number": req.number, "status": req.status, "packages": req_api.package_ids(req)})
    else:
        click.echo(" ".join(req_api.package_ids(req)))


@requests.command("deliver")
@click.argument("number")
@click.option("--recipient", default="", help="Who receives it (default: the requester).")
@click.option("--expires-days", default=7, show_default=True, help="How long the download link works.")
@click.option("--base-url", default="", help="The web UI's address, to print a whole link.")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def deliver(obj: Context, number: str, recipient: str, expires_days: int, base_url: str, as_json: bool) -> None:
    """Deliver the masked copies as a signed export with a watermark and an expiring link."""
    obj.account("requests:write")  # the account that asks is the one recorded
    archive = _archive(obj)
    req, export = req_api.deliver(archive, number, recipient, expires_days, actor=archive.operator)
    url = f"{base_url.rstrip('/')}{export['link']}"
    if as_json:
        emit_json({**request_json(req, archive), "export": {**export, "link": url}})
    elif not obj.quiet:
        click.echo(_("Delivered {number} as export {export_id} in {path}").format(
            number=number, export_id=export["export_id"], path=export["path"]))
        click.echo(_("Share link {id}, valid for {days} days (shown once): {url}").format(
            id=export["share"], days=expires_days, url=url))


@requests.command("refuse")
@click.argument("number")
@click.option("--reason", type=click.Choice([r.code for r in req_api.refusal_reasons()]), required=True)
@click.option("--note", default="")
@pass_obj
def refuse(obj: Context, number: str, reason: str, note: str) -> None:
    """Refuse with a lawful reason (the list is data: profiles/refusal-reasons.toml)."""
    obj.account("requests:write")  # the account that asks is the one recorded
    archive = _archive(obj)
    req_api.refuse(archive, number, reason, note, actor=archive.operator)


@click.command("register")
@click.option("--from", "start", default="", metavar="ISO8601")
@click.option("--to", "end", default="", metavar="ISO8601")
@click.option("--category", "categories", multiple=True, type=click.Choice(list(register_api.CATEGORIES)))
@click.option("-q", "--text", default="")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def register(obj: Context, start: str, end: str, categories: tuple[str, ...], text: str, csv_path: Path | None,
             pdf_path: Path | None, as_json: bool) -> None:
    """The CCTV operation register, built from the custody ledger and the requests."""
    archive = _archive(obj)
    rows = register_api.build(archive, start=_time(start), end=_time(end), categories=categories, text=text)
    tz = archive.settings.tz
    if csv_path:
        csv_path.write_text(register_api.to_csv(rows, tz), encoding="utf-8")
    if pdf_path:
        pdf_path.write_bytes(register_api.to_pdf(rows, tz, _("CCTV operation register"),
                                                 archive.settings.organization))
    if as_json:
        emit_json({"rows": [r.to_dict() for r in rows]})
    elif not (csv_path or pdf_path):
        from rich.table import Table

        table = Table(_("time"), _("category"), _("request"), _("recipient"), _("detail"), box=None)
        for r in rows:
            table.add_row(local_time(r.time, archive), _(register_api.CATEGORIES[r.category]), r.request,
                          r.recipient, r.detail)
        stdout.print(table)


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_command(requests)
    cli.add_command(register)
