"""``longwatch search``, ``cameras``, ``zones``, ``cases`` and ``reindex``: a built-in command plugin."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from longwatch import clock, hookimpl
from longwatch.clock import parse_time
from longwatch.console import (
    Context,
    emit_json,
    human_size,
    local_time,
    package_status,
    pass_obj,
    progress_for,
    resolve_package,
    stdout,
)
from longwatch.core import accounts, custody
from longwatch.core.catalog import reference
from longwatch.core.catalog import search as search_api
from longwatch.core.catalog.models import Case, CasePackage
from longwatch.core.preservation import gaps as gaps_mod
from longwatch.core.preservation import reindex as reindex_mod
from longwatch.errors import LongwatchError
from longwatch.i18n import _, ngettext


def _bbox(value: str) -> tuple[float, float, float, float]:
    try:
        south, west, north, east = (float(v) for v in value.split(","))
    except ValueError as exc:
        raise LongwatchError("Q008", value=value) from exc
    return south, west, north, east


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


@click.command()
@click.option("--from", "start", default="", metavar="ISO8601", help="Clips that end after this time.")
@click.option("--to", "end", default="", metavar="ISO8601", help="Clips that start before this time.")
@click.option("--camera", "cameras", multiple=True, help="Camera id (repeat for several).")
@click.option("--zone", default="", help="Zone path; its sub-zones are included (e.g. Jung-gu/Market).")
@click.option("--purpose", default="", help="Camera purpose code (traffic, crime-prevention, ...).")
@click.option("--tag", "tags", multiple=True, help="Camera tag (repeat: all must match).")
@click.option("--bbox", default="", metavar="S,W,N,E", help="Bounding box in decimal degrees.")
@click.option("--near", default="", metavar="LAT,LON", help="Centre of a radius search.")
@click.option("--radius", type=float, default=None, metavar="METRES", help="Radius around --near.")
@click.option("--event", "event_type", default="", help="Event type (e.g. fall, intrusion, fire).")
@click.option("--min-confidence", type=float, default=None, help="Minimum event confidence, 0 to 1.")
@click.option("--case", default="", help="Case number.")
@click.option("-q", "--text", default="", help="Words in titles, notes, places and Dublin Core fields.")
@click.option("--order", type=click.Choice(["desc", "asc"]), default="desc", show_default=True)
@click.option("--limit", default=50, show_default=True, help="Page size.")
@click.option("--after", default="", help="The cursor printed after the previous page.")
@click.option("--facets", "with_facets", is_flag=True, help="Also count matches by camera, zone and day.")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def search(obj: Context, start: str, end: str, cameras: tuple[str, ...], zone: str, purpose: str,
           tags: tuple[str, ...], bbox: str, near: str, radius: float | None, event_type: str,
           min_confidence: float | None, case: str, text: str, order: str, limit: int, after: str,
           with_facets: bool, as_json: bool) -> None:
    """Find clips by time, camera, zone, purpose, place, event, case, tag and text."""
    archive = obj.archive()
    q = search_api.Query(
        start=parse_time(start) if start else None, end=parse_time(end) if end else None,
        cameras=list(cameras), zone=zone, purpose=purpose, tags=list(tags),
        bbox=_bbox(bbox) if bbox else None, near=reference.parse_coordinates(near) if near else None,
        radius_m=radius, event_type=event_type, min_confidence=min_confidence, case=case, text=text,
        order=order, limit=limit, after=after)
    page = search_api.search(archive.catalog, q)
    found = None
    if with_facets:
        offset = clock.now().astimezone(archive.settings.tz).utcoffset()
        assert offset is not None
        found = search_api.facets(archive.catalog, q, utc_offset=offset)
    # a range with no footage is an answer too: say so, with the recorder's reason (issue 7)
    gaps = gaps_mod.overlapping(archive.catalog, q.start, q.end, list(cameras)) if q.start or q.end else []
    if as_json:
        data: dict[str, Any] = {"items": _jsonable(page.items), "next": page.next_cursor,
                                "gaps": [g.to_dict() for g in gaps]}
        if found is not None:
            data["facets"] = found
        emit_json(data)
        return
    table = Table(_("package"), _("camera"), _("zone"), _("start"), _("duration"), _("size"), _("title"),
                  _("status"), box=None)
    for it in page.items:
        table.add_row(it["package_id"][:8], it["camera"] or "-", it["zone"] or "-", local_time(it["start"], archive),
                      f"{it['duration']:.0f}s" if it["duration"] is not None else "-", human_size(it["size"]),
                      it["title"], package_status(it["status"]))
    stdout.print(table)
    for gap in gaps:
        click.echo(_("no footage from camera {camera} from {start} to {end} ({reason})").format(
            camera=gap.camera, start=local_time(gap.start, archive), end=local_time(gap.end, archive),
            reason=gap.reason or "-"))
    if found is not None:
        click.echo(ngettext("{count} clip matches", "{count} clips match", found["total"]).format(count=found["total"]))
        for name in ("camera", "zone", "day"):
            click.echo(f"{name}: " + ", ".join(f"{f['key'] or '-'} {f['count']}" for f in found[name]))
    if page.next_cursor and not obj.quiet:
        click.echo(_("More: --after {cursor}").format(cursor=page.next_cursor), err=True)


# -- cameras -----------------------------------------------------------------------------
@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def cameras(ctx: click.Context, as_json: bool) -> None:
    """The camera registry: list (default), add, import a CSV, record a move."""
    if ctx.invoked_subcommand is not None:
        return
    obj = ctx.find_object(Context)
    assert obj is not None
    archive = obj.archive()
    rows = reference.list_cameras(archive.catalog)
    if as_json:
        emit_json({"cameras": _jsonable(rows)})
        return
    table = Table(_("id"), _("name"), _("zone"), _("purpose"), _("position"), _("address"), _("tags"), box=None)
    for c in rows:
        pos = f"{c['latitude']}, {c['longitude']}" if c["latitude"] is not None else "-"
        table.add_row(c["id"], c["name"], c["zone"] or "-", c["purpose"] or "-", pos, c["address"],
                      ",".join(c["tags"]))
    stdout.print(table)


@cameras.command(name="add")
@click.argument("camera_id")
@click.option("--name", default="")
@click.option("--zone", default="")
@click.option("--location", default="", metavar="LAT,LON")
@click.option("--address", default="")
@click.option("--vendor", default="")
@click.option("--model", default="")
@click.option("--purpose", default="")
@click.option("--tags", default=None, help="Comma-separated tags.")
@click.option("--timezone", default="")
@click.option("--clock-offset", type=float, default=None, help="Known clock error in seconds.")
@pass_obj
def cameras_add(obj: Context, camera_id: str, name: str, zone: str, location: str, address: str, vendor: str,
                model: str, purpose: str, tags: str | None, timezone: str, clock_offset: float | None) -> None:
    """Add or update a camera."""
    archive = obj.archive()
    lat, lon = reference.parse_coordinates(location) if location else (None, None)
    with archive.catalog.session() as s:
        reference.upsert_camera(s, {"id": camera_id, "name": name, "zone": zone, "latitude": lat, "longitude": lon,
                                    "address": address, "vendor": vendor, "model": model, "purpose": purpose,
                                    "tags": tags, "timezone": timezone, "clock_offset_s": clock_offset})
    reference.save_snapshot(archive)
    if not obj.quiet:
        click.echo(_("Camera {camera} saved.").format(camera=camera_id))


@cameras.command(name="import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@pass_obj
def cameras_import(obj: Context, path: Path) -> None:
    """Import cameras from CSV: id,name,zone,latitude,longitude,address (or coordinates "LAT,LON")."""
    archive = obj.archive()
    count = reference.import_cameras_csv(archive.catalog, path)
    reference.save_snapshot(archive)
    if not obj.quiet:
        click.echo(ngettext("{count} camera imported.", "{count} cameras imported.", count).format(count=count))


@cameras.command(name="move")
@click.argument("camera_id")
@click.option("--at", "at", required=True, metavar="ISO8601", help="When the camera moved or was replaced.")
@click.option("--zone", default="")
@click.option("--location", default="", metavar="LAT,LON")
@click.option("--address", default="")
@click.option("--note", default="")
@pass_obj
def cameras_move(obj: Context, camera_id: str, at: str, zone: str, location: str, address: str, note: str) -> None:
    """Record that a camera moved (or was replaced) at a time: clips after it get the new place."""
    archive = obj.archive()
    lat, lon = reference.parse_coordinates(location) if location else (None, None)
    reference.move_camera(archive.catalog, camera_id, parse_time(at), zone=zone, latitude=lat, longitude=lon,
                          address=address, note=note)
    reference.save_snapshot(archive)
    if not obj.quiet:
        click.echo(_("Camera {camera} saved.").format(camera=camera_id))


# -- zones -------------------------------------------------------------------------------
@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def zones(ctx: click.Context, as_json: bool) -> None:
    """The zone hierarchy (district > area > site): list (default), add, remove."""
    if ctx.invoked_subcommand is not None:
        return
    obj = ctx.find_object(Context)
    assert obj is not None
    rows = reference.list_zones(obj.archive().catalog)
    if as_json:
        emit_json({"zones": rows})
        return
    for z in rows:
        depth, leaf = z["path"].count("/"), z["path"].split("/")[-1]
        label = f"{z['kind']}, {z['name']}" if z["name"] and z["name"] != leaf else z["kind"]
        click.echo(f"{'  ' * depth}{leaf}  ({label})")


@zones.command(name="add")
@click.argument("path")
@click.option("--name", default="", help="Display name.")
@click.option("--kind", default="", help="district, area or site (default: by depth).")
@pass_obj
def zones_add(obj: Context, path: str, name: str, kind: str) -> None:
    """Add a zone such as Jung-gu/Market/Gate-1 (missing parents are added too)."""
    archive = obj.archive()
    reference.add_zone(archive.catalog, path, name, kind)
    reference.save_snapshot(archive)


@zones.command(name="remove")
@click.argument("path")
@pass_obj
def zones_remove(obj: Context, path: str) -> None:
    """Remove a zone and its sub-zones from the hierarchy (footage keeps its zone text)."""
    archive = obj.archive()
    reference.remove_zone(archive.catalog, path)
    reference.save_snapshot(archive)


# -- cases -------------------------------------------------------------------------------
@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def cases(ctx: click.Context, as_json: bool) -> None:
    """Cases (police, complaints, disclosure requests): list (default), add, attach, add-range."""
    if ctx.invoked_subcommand is not None:
        return
    obj = ctx.find_object(Context)
    assert obj is not None
    rows = reference.list_cases(obj.archive().catalog)
    if as_json:
        emit_json({"cases": _jsonable(rows)})
        return
    table = Table(_("case"), _("title"), _("requester"), _("packages"), _("shared with"), box=None)
    for c in rows:
        table.add_row(c["number"], c["title"], c["requester"], str(len(c["packages"])), ", ".join(c["members"]) or "-")
    stdout.print(table)


@cases.command(name="share")
@click.argument("number")
@click.argument("username")
@pass_obj
def cases_share(obj: Context, number: str, username: str) -> None:
    """Share a case with an account: an investigator sees only the cases shared with them, and their footage."""
    archive = obj.archive()
    granted_by = obj.account("records:write").username  # it opens footage to someone: records managers decide
    if username not in {u.username for u in accounts.users(archive.catalog)}:
        raise LongwatchError("W007", username=username)
    reference.share_case(archive.catalog, number, username, granted_by=granted_by)
    reference.save_snapshot(archive)
    if not obj.quiet:
        click.echo(_("Case {number} is shared with {username}.").format(number=number, username=username))


@cases.command(name="unshare")
@click.argument("number")
@click.argument("username")
@pass_obj
def cases_unshare(obj: Context, number: str, username: str) -> None:
    """Stop sharing a case with an account."""
    archive = obj.archive()
    obj.account("records:write")
    reference.unshare_case(archive.catalog, number, username)
    reference.save_snapshot(archive)
    if not obj.quiet:
        click.echo(_("Case {number} is no longer shared with {username}.").format(number=number, username=username))


@cases.command(name="add")
@click.argument("number")
@click.option("--title", default="")
@click.option("--requester", default="")
@click.option("--notes", default="")
@pass_obj
def cases_add(obj: Context, number: str, title: str, requester: str, notes: str) -> None:
    """Open a case."""
    archive = obj.archive()
    obj.account("requests:write")  # an authenticated account that may handle requests and cases
    reference.add_case(archive.catalog, number, title, requester, notes)
    reference.save_snapshot(archive)


@cases.command(name="attach")
@click.argument("number")
@click.argument("package_ids", nargs=-1, required=True)
@pass_obj
def cases_attach(obj: Context, number: str, package_ids: tuple[str, ...]) -> None:
    """Attach packages to a case."""
    archive = obj.archive()
    obj.account("requests:write")  # an authenticated account that may handle requests and cases
    before = _case_packages(archive, number)
    added = reference.attach_packages(archive.catalog, number, [resolve_package(archive, p) for p in package_ids])
    reference.save_snapshot(archive)
    _record_attached(archive, number, before)
    if not obj.quiet:
        click.echo(ngettext("{count} package attached to case {number}.", "{count} packages attached to case {number}.",
                            added).format(count=added, number=number))


@cases.command(name="add-range")
@click.argument("number")
@click.option("--from", "start", required=True, metavar="ISO8601")
@click.option("--to", "end", required=True, metavar="ISO8601")
@click.option("--camera", default="")
@pass_obj
def cases_add_range(obj: Context, number: str, start: str, end: str, camera: str) -> None:
    """Record a requested time range and attach every package that overlaps it."""
    archive = obj.archive()
    obj.account("requests:write")  # an authenticated account that may handle requests and cases
    before = _case_packages(archive, number)
    added = reference.attach_range(archive.catalog, number, parse_time(start), parse_time(end), camera)
    reference.save_snapshot(archive)
    _record_attached(archive, number, before)
    if not obj.quiet:
        click.echo(ngettext("{count} package attached to case {number}.", "{count} packages attached to case {number}.",
                            added).format(count=added, number=number))


def _case_packages(archive: Any, number: str) -> set[str]:
    from sqlalchemy import select


    with archive.catalog.session() as s:
        return set(s.scalars(select(CasePackage.package_id).join(Case, Case.id == CasePackage.case_id)
                             .where(Case.number == number)))


def _record_attached(archive: Any, number: str, before: set[str]) -> None:
    """A package newly attached to a case is a metadata change: one custody event per 1,000 packages."""
    new = sorted(_case_packages(archive, number) - before)
    agents = [custody.software_agent(), *([custody.person_agent(archive.operator)] if archive.operator else [])]
    events = [custody.CustodyEvent("metadata modification", packages=new[i:i + 1000], agents=agents,
                                   detail=f"attached to case {number}", extra={"case": number})
              for i in range(0, len(new), 1000)]
    if events:
        custody.Ledger.for_archive(archive).append(events)


# -- reindex -----------------------------------------------------------------------------
@click.command()
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def reindex(obj: Context, as_json: bool) -> None:
    """Rebuild the catalog from storage and the custody ledger (packages, reference data, copies, holds)."""

    archive = obj.archive()
    with progress_for(obj, _("reindexing"), 0) as advance:
        report = reindex_mod.reindex(archive, progress=advance)
    if as_json:
        emit_json({"packages": report.packages, "clips": report.clips, "gaps": report.gaps, "copies": report.copies,
                   "reference_restored": report.reference_restored, "problems": report.problems})
    elif not obj.quiet:
        click.echo(_("{packages} packages and {clips} clips catalogued.").format(
            packages=report.packages, clips=report.clips))
    for problem in report.problems:
        click.echo(f"ERROR [{problem['code']}] {problem['message']}", err=True)
    if report.problems:
        raise SystemExit(1)


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (search, cameras, zones, cases, reindex):
        cli.add_command(command)
