"""``longwatch connectors``, ``longwatch watch`` and ``longwatch record``: footage in from cameras.

``watch`` is long-running: it archives what the connector offers, prints a
line per clip, and on SIGTERM or Ctrl-C stops taking new work, lets the
connector finish (the recorder closes its open segment), archives that, saves
its state and exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from longwatch import registry
from longwatch.clock import parse_time
from longwatch.console import Context, emit_json, local_time, pass_obj, stdout
from longwatch.core.preservation import gaps as gaps_mod
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _, ngettext
from longwatch.plugins.connectors.watch import Outcome, Watch, state_dir_for


def load_config(path: Path) -> dict[str, Any]:
    """A TOML or JSON file of the connector's settings (keep it private: it may hold a password)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LongwatchError("N006", path=path, detail=str(exc)) from exc
    if not isinstance(data, dict):
        raise LongwatchError("N006", path=path, detail="expected a table of settings")
    return data


def connector_class(pm: Any, name: str) -> type[Any]:
    found = registry.camera_connectors(pm)
    if name not in found:
        raise LongwatchError("N004", name=name, available=", ".join(sorted(found)) or "none")
    return found[name]


@contextmanager
def stop_on_signals(watch: Any) -> Iterator[None]:
    """SIGTERM and SIGINT ask the watch to stop cleanly instead of killing it mid-clip."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    def handler(signum: int, frame: Any) -> None:
        watch.stop.set()

    for s in previous:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def run_watch(obj: Context, name: str, config: dict[str, Any], interval: float, once: bool,
              duration: float | None = None) -> None:
    archive = obj.archive()
    cls = connector_class(archive.pm, name)
    watch_name = str(config.get("name") or cls.NAME)
    connector = cls(config, state_dir_for(archive, watch_name))
    counts = {"stored": 0, "failed": 0}

    def report(outcome: Outcome) -> None:
        if outcome.error is not None:
            counts["failed"] += 1
            click.echo(f"ERROR [{outcome.error.code}] {outcome.error.render()}", err=True)
        elif not outcome.already:
            counts["stored"] += 1
            if outcome.warning is not None:
                click.echo(f"WARNING [{outcome.warning.code}] {outcome.warning.render()}", err=True)
            if not obj.quiet:
                click.echo(_("stored {name} as package {package_id}").format(
                    name=outcome.name, package_id=outcome.package_id), err=True)

    watch = Watch(archive, connector, on_outcome=report)
    if not obj.quiet:
        click.echo(_("watching {connector} ({watch}); stop with Ctrl-C or SIGTERM").format(
            connector=cls.NAME, watch=watch_name), err=True)
    if once:
        connector.discover()
        watch.run_once()
    else:
        with stop_on_signals(watch):
            if duration is not None:
                import threading

                timer = threading.Timer(duration, watch.stop.set)
                timer.daemon = True
                timer.start()
            watch.run(interval=interval)
    gaps = len(watch.state.gaps)
    if not obj.quiet:
        click.echo(ngettext("{stored} clip stored, {failed} failed, {gaps} gaps recorded",
                            "{stored} clips stored, {failed} failed, {gaps} gaps recorded", counts["stored"]).format(
            stored=counts["stored"], failed=counts["failed"], gaps=gaps), err=True)
    if counts["failed"]:
        raise SystemExit(9)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the connectors as JSON.")
@pass_obj
def connectors(obj: Context, as_json: bool) -> None:
    """List the installed camera connectors and their settings."""
    pm = registry.get_plugin_manager()
    found = registry.camera_connectors(pm)
    rows = [{"name": name, "class": f"{cls.__module__}.{cls.__qualname__}", "description": cls.DESCRIPTION,
             "options": {key: {"type": opt.type.__name__, "required": opt.required, "secret": opt.secret,
                               "default": None if opt.secret else opt.default, "help": opt.help}
                         for key, opt in cls.OPTIONS.items()}}
            for name, cls in sorted(found.items())]
    if as_json:
        emit_json({"connectors": rows})
        return
    table = Table(_("connector"), _("description"), _("settings"), box=None)
    for row in rows:
        options = ", ".join(k + ("*" if v["required"] else "") for k, v in row["options"].items())
        table.add_row(row["name"], row["description"], options)
    stdout.print(table)


@click.command()
@click.argument("connector")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="TOML or JSON file with the connector's settings.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between looks at the source.")
@click.option("--once", is_flag=True, help="One pass, then exit (for cron or a test).")
@pass_obj
def watch(obj: Context, connector: str, config_path: Path, interval: float, once: bool) -> None:
    """Archive what CONNECTOR offers until stopped (SIGTERM or Ctrl-C stop cleanly)."""
    run_watch(obj, connector, load_config(config_path), interval, once)


@click.command()
@click.argument("url")
@click.option("--camera", required=True, help="Camera id.")
@click.option("--segment-seconds", default=60.0, show_default=True)
@click.option("--pack-seconds", default=3600.0, show_default=True,
              help="Segments of this window (a camera-hour) share one package; 0 for one package each.")
@click.option("--username", default="")
@click.option("--password-env", default="", metavar="VAR",
              help="Environment variable holding the password (never pass it on the command line).")
@click.option("--zone", default="")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@pass_obj
def record(obj: Context, url: str, camera: str, segment_seconds: float, pack_seconds: float, username: str,
           password_env: str, zone: str, duration: float | None) -> None:
    """Record the RTSP stream URL by stream copy into archived segments."""
    config = {"url": url, "camera": camera, "segment_seconds": segment_seconds, "pack_seconds": pack_seconds,
              "username": username,
              "password": os.environ.get(password_env, "") if password_env else "", "zone": zone,
              "name": f"record-{camera}"}
    run_watch(obj, "rtsp", config, interval=min(5.0, segment_seconds), once=False, duration=duration)


@click.command()
@click.option("--from", "start", default="", metavar="ISO8601", help="Gaps that end after this time.")
@click.option("--to", "end", default="", metavar="ISO8601", help="Gaps that start before this time.")
@click.option("--camera", "cameras", multiple=True, help="Camera id (repeat for several).")
@click.option("--json", "as_json", is_flag=True, help="Print the gaps as JSON.")
@pass_obj
def gaps(obj: Context, start: str, end: str, cameras: tuple[str, ...], as_json: bool) -> None:
    """List the times cameras should have recorded and did not (stream drops, empty segments)."""
    archive = obj.archive()
    rows = gaps_mod.overlapping(archive.catalog, parse_time(start) if start else None,
                                parse_time(end) if end else None, list(cameras))
    if as_json:
        emit_json({"gaps": [g.to_dict() for g in rows]})
        return
    table = Table(_("camera"), _("no footage from"), _("to"), _("seconds"), _("reason"), box=None)
    for gap in rows:
        table.add_row(gap.camera, local_time(gap.start, archive), local_time(gap.end, archive),
                      f"{(gap.end - gap.start).total_seconds():.1f}", gap.reason or "-")
    stdout.print(table)


@hookimpl
def register_commands(cli: Any) -> None:
    for command in (connectors, watch, record, gaps):
        cli.add_command(command)
