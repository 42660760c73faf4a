"""Storage commands: ``locations``, ``replicate``, ``audit``, ``tier`` and ``sync-locks`` (a built-in plugin).

Each one reads the catalog for what to do (copies, usage, last checks) and
touches storage only for the copies it actually checks or moves.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.table import Table

from longwatch import console
from longwatch.core.storage import audit as storage_audit
from longwatch.core.storage import caps as storage_caps
from longwatch.core.storage import copies as storage_copies
from longwatch.core.storage import locks as storage_locks
from longwatch.core.storage import policy as storage_policy
from longwatch.core.storage import replicate as storage_replicate
from longwatch.core.storage import tiers as storage_tiers
from longwatch.core.storage import viewing_cache
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _


def _parse_rate(value: str | None) -> float | None:
    """'50M', '1G', '200k' or plain bytes per second."""
    if not value:
        return None
    text = value.strip().upper().removesuffix("/S").removesuffix("B")
    scale = 1
    for suffix, factor in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)):
        if text.endswith(suffix):
            text, scale = text[:-1], factor
    try:
        rate = float(text) * scale
    except ValueError as exc:
        raise click.BadParameter(_("use bytes per second, e.g. 50M")) from exc
    if rate <= 0:
        raise click.BadParameter(_("use bytes per second, e.g. 50M"))
    return rate


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def locations(obj: Any, as_json: bool) -> None:
    """Storage locations with their packages, bytes used, cap and state (from the catalog)."""
    archive = obj.archive()
    rows = storage_caps.usage(archive)
    caches = viewing_cache.usage(archive)
    if as_json:
        console.emit_json({"primary": archive.settings.primary_location, "locations": [u.to_dict() for u in rows],
                           "viewing_caches": caches.to_dict()})
        return
    table = Table(_("location"), _("adapter"), _("packages"), _("used"), _("cap"), _("state"), box=None)
    for u in rows:
        cap = console.human_size(u.cap) if u.cap else "-"
        pct = f" ({100 * u.fraction:.0f}%)" if u.fraction is not None else ""
        name = u.location + (" *" if u.location == archive.settings.primary_location else "")
        table.add_row(name, u.adapter + (" (cold)" if u.cold else ""), str(u.packages),
                      console.human_size(u.used) + pct, cap, u.state)
    console.stdout.print(table)
    click.echo(_("Viewing caches (poster frames, access copies): {files} files, {size}").format(
        files=caches.files, size=console.human_size(caches.bytes)))
    for u in rows:
        if u.state in ("alert", "full"):
            click.echo(_("WARNING {message}").format(message=LongwatchError(
                "S015", location=u.location, percent=round(100 * (u.fraction or 0)), used=u.used,
                cap=u.cap).render()), err=True)


@click.command()
@click.argument("package_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def replicate(obj: Any, package_id: str | None, as_json: bool) -> None:
    """Copy packages to the locations their policy asks for (all packages without an id)."""
    obj.account("package:verify")  # the account that asks is the one recorded
    archive = obj.archive()
    if package_id:
        pid = console.resolve_package(archive, package_id)
        done = [(pid, storage_replicate.replicate(archive, pid))]
        errors: list[LongwatchError] = []
    else:
        done, errors = storage_replicate.replicate_all(archive)
    if as_json:
        console.emit_json({"replicated": [{"package_id": p, "locations": locs} for p, locs in done if locs],
                       "errors": [e.to_dict() for e in errors]})
    else:
        for pid, locs in done:
            if locs and not obj.quiet:
                click.echo(_("{package_id} copied to {locations}").format(package_id=pid, locations=", ".join(locs)))
        for exc in errors:
            click.echo(f"ERROR [{exc.code}] {exc.render()}", err=True)
    if errors:
        sys.exit(errors[0].exit_status)


@click.command()
@click.option("--bandwidth", metavar="RATE", help="Read at most RATE bytes per second (e.g. 50M).")
@click.option("--time-budget", type=float, metavar="SECONDS", help="Stop starting new checks after SECONDS.")
@click.option("--location", "locations_", multiple=True, help="Only copies on this location (repeatable).")
@click.option("--plan", "plan_only", is_flag=True, help="Show what would be checked, in order, and stop.")
@click.option("--limit", default=100, show_default=True, help="Copies shown by --plan.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def audit(obj: Any, bandwidth: str | None, time_budget: float | None, locations_: tuple[str, ...],
          plan_only: bool, limit: int, as_json: bool) -> None:
    """Check the fixity of every copy, oldest-checked first; repair failing copies from good ones.

    Exit status 1 when a copy could not be repaired (R001 names the package).
    """
    obj.account("package:verify")  # the account that asks is the one recorded
    archive = obj.archive()
    rate = _parse_rate(bandwidth)
    for name in locations_:
        storage_policy.location_options(archive, name)
    count, total = storage_audit.plan_totals(archive, locations_ or None)
    if plan_only:
        plan = storage_audit.audit_plan(archive, locations_ or None, limit=limit)
        rows = [{"package_id": p.package_id, "location": p.location, "size": p.size,
                 "last_checked": p.last_checked_at} for p in plan]
        if as_json:
            console.emit_json({"copies": rows, "total_copies": count, "bytes": total})
            return
        table = Table(_("package"), _("location"), _("size"), _("last checked"), box=None)
        for p in plan:
            table.add_row(p.package_id[:8], p.location, console.human_size(p.size),
                          console.local_time(p.last_checked_at, archive) if p.last_checked_at else _("never"))
        console.stdout.print(table)
        return
    if not obj.quiet and not as_json:
        click.echo(_("Audit plan: {copies} copies, {size}, oldest-checked first{budget}").format(
            copies=count, size=console.human_size(total),
            budget=(_(", at most {rate}/s").format(rate=console.human_size(int(rate))) if rate else "")), err=True)

    def on_copy(planned: storage_audit.PlannedCopy, check: storage_copies.CopyCheck) -> None:
        if as_json or obj.quiet:
            return
        state = _("OK") if check.ok else _("FAILED")
        click.echo(f"{state} {planned.location}:{planned.package_id}" + ("" if check.ok else f" {check.summary()}"))

    shown = obj if not as_json else console.Context(archive_dir=None, quiet=True, debug=False)
    with console.progress_for(shown, _("audit"), total) as advance:
        result = storage_audit.audit(archive, bandwidth=rate, time_budget=time_budget,
                                      locations=locations_ or None, on_copy=on_copy, progress=advance)
    bad = sum(1 for c in result.checked if not c.ok)
    if as_json:
        console.emit_json({
            "ok": not result.lost and not result.errors,
            "checked": len(result.checked), "failed": bad, "skipped": result.skipped,
            "bytes_read": result.bytes_read, "seconds": round(result.seconds, 3),
            "failures": [{"package_id": c.package_id, "location": c.location, "missing": c.missing,
                          "files": c.bad} for c in result.checked if not c.ok],
            "repaired": [{"package_id": p, "location": loc, "source": src} for p, loc, src in result.repaired],
            "lost": [e.to_dict() for e in result.lost],
            "errors": [e.to_dict() for e in result.errors],
        })
    elif not obj.quiet:
        click.echo(_("{checked} copies checked ({size}), {bad} failed, {repaired} repaired, {skipped} left for "
                     "the next run").format(checked=len(result.checked), size=console.human_size(result.bytes_read),
                                            bad=bad, repaired=len(result.repaired), skipped=result.skipped))
    for exc in [*result.lost, *result.errors]:
        click.echo(f"ERROR [{exc.code}] {exc.render()}", err=True)
    if result.lost or result.errors:
        sys.exit(1)


@click.group()
def tier() -> None:
    """Move packages between hot and cold locations, keeping their id and fixity."""


@tier.command(name="move")
@click.option("--after-days", type=float, required=True, help="Packages not read for this many days.")
@click.option("--to", "to", required=True, help="The colder location.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def tier_move(obj: Any, after_days: float, to: str, as_json: bool) -> None:
    """Move packages not accessed for N days to a colder location."""
    obj.account("package:verify")  # the account that asks is the one recorded
    archive = obj.archive()
    storage_policy.location_options(archive, to)
    moved, errors = [], []
    for pid in storage_tiers.tier_candidates(archive, after_days):
        try:
            old = storage_tiers.move_package(archive, pid, to)
        except LongwatchError as exc:
            errors.append(exc)
            click.echo(f"ERROR [{exc.code}] {exc.render()}", err=True)
            continue
        if old != to:
            moved.append({"package_id": pid, "from": old, "to": to})
            if not as_json and not obj.quiet:
                click.echo(_("{package_id} moved from {old} to {new}").format(package_id=pid, old=old, new=to))
    if as_json:
        console.emit_json({"moved": moved, "errors": [e.to_dict() for e in errors]})
    if errors:
        sys.exit(errors[0].exit_status)


@tier.command(name="restore")
@click.argument("package_id")
@click.option("--to", "to", default=None, help="Where to bring it back (default: the primary location).")
@click.pass_obj
def tier_restore(obj: Any, package_id: str, to: str | None) -> None:
    """Bring a package back from a cold location on demand."""
    obj.account("package:verify")  # the account that asks is the one recorded
    archive = obj.archive()
    pid = console.resolve_package(archive, package_id)
    target = to or archive.settings.primary_location
    old = storage_tiers.move_package(archive, pid, target, kind="tier restore")
    storage_copies.record_access(archive, pid)
    if not obj.quiet:
        click.echo(_("{package_id} moved from {old} to {new}").format(package_id=pid, old=old, new=target))


@click.command(name="sync-locks")
@click.argument("package_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def sync_locks(obj: Any, package_id: str | None, as_json: bool) -> None:
    """Make the stores' object locks match the catalog's holds and retention (after a store was unreachable)."""
    obj.account("package:verify")  # the account that asks is the one recorded
    archive = obj.archive()
    ids = [console.resolve_package(archive, package_id)] if package_id else None
    changed = storage_locks.sync_all_locks(archive, ids)
    if as_json:
        console.emit_json({"changed": [{"package_id": p, "location": loc, "change": what} for p, loc, what in changed]})
        return
    for pid, loc, what in changed:
        if not obj.quiet:
            click.echo(f"{pid}  {loc}  {what}")


@hookimpl
def register_commands(cli: Any) -> None:
    for command in (locations, replicate, audit, tier, sync_locks):
        cli.add_command(command)
