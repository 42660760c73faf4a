"""Built-in command plugin: ``longwatch analytics`` (the planning counts' rollup tables).

Counts come from rollup tables kept in step with the events table (core/public/analytics_rollups.py). After a
bulk load that bypassed longwatch, a change of the archive's time zone, or on an archive with
many events from before the rollups existed, ``analytics rebuild`` recounts them.
"""

from __future__ import annotations

import time
from typing import Any

import click

from longwatch.console import Context, emit_json, pass_obj
from longwatch.core.public import analytics_rollups as rollups
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _


@click.group()
def analytics() -> None:
    """Urban-planning counts: the state of their rollup tables, and a rebuild."""


@analytics.command("status")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Whether counts are read from the rollups (keys: built, in_use, timezone, hourly_rows, ...)."""
    archive = obj.archive()
    archive.open_catalog()  # upgraded when behind (Catalog.ensure_current)
    state = rollups.rollup_state(archive)
    if as_json:
        emit_json(state)
    elif state["in_use"]:
        click.echo(_("Rollups in use ({zone}): {hourly} hourly rows, {periods} period rows").format(
            zone=state["timezone"], hourly=state["hourly_rows"], periods=state["period_rows"]))
    else:
        click.echo(_("Rollups not built for {zone}: counts are live; run `longwatch analytics rebuild`").format(
            zone=state["archive_timezone"]))


@analytics.command("rebuild")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def rebuild(obj: Context, as_json: bool) -> None:
    """Recount the rollups from the events table in the archive's time zone."""
    archive = obj.archive()
    archive.open_catalog()  # upgraded when behind (Catalog.ensure_current)
    t0 = time.perf_counter()
    events = rollups.rebuild_rollups(archive)
    data: dict[str, Any] = {**rollups.rollup_state(archive), "events": events,
                            "seconds": round(time.perf_counter() - t0, 2)}
    if as_json:
        emit_json(data)
    elif not obj.quiet:
        click.echo(_("Counted {events} events into {hourly} hourly and {periods} period rows").format(
            events=events, hourly=data["hourly_rows"], periods=data["period_rows"]))


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_command(analytics)
