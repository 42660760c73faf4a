"""deploy/: the systemd units and the compose file run commands the CLI has, as docs/deployment.md shows them."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import click
import pytest
import yaml

from longwatch.cli import cli

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
DOCS = (DEPLOY.parent / "docs" / "deployment.md").read_text(encoding="utf-8")


def _check_command(argv: list[str]) -> click.Command:
    """Parse ``argv`` (after the program name) as the CLI would, without running it: unknown commands,
    unknown options and bad values raise click's usage errors."""
    ctx = cli.make_context("longwatch", list(argv))
    name, command, rest = cli.resolve_command(ctx, [*getattr(ctx, "_protected_args", []), *ctx.args])
    assert command is not None, argv
    command.make_context(name or "", rest, parent=ctx)
    return command


def _units() -> list[Path]:
    return sorted((DEPLOY / "systemd").glob("*.service"))


def test_there_are_units_and_a_compose_file():
    assert {p.name for p in _units()} == {"longwatch-web.service", "longwatch-worker@.service"}
    assert (DEPLOY / "compose.yaml").exists()


@pytest.mark.parametrize("unit", _units(), ids=lambda p: p.name)
def test_units_run_commands_the_cli_has(unit: Path):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text(encoding="utf-8"))
    service = parser["Service"]
    exec_start = service["ExecStart"]
    argv = shlex.split(exec_start.replace("%i", "quick"))
    assert argv[0].endswith("/longwatch")
    _check_command(argv[1:])
    assert service["EnvironmentFile"] == "/etc/longwatch/env"
    assert service["User"] == "longwatch" and service["Restart"] == "always"
    assert exec_start in DOCS, f"docs/deployment.md does not show {unit.name}'s ExecStart"


def test_compose_services_run_commands_the_cli_has():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    longwatch = {name: s for name, s in compose["services"].items() if s["image"].startswith("longwatch")}
    assert set(longwatch) == {"web", "worker-quick", "worker-heavy"}
    for name, service in longwatch.items():
        argv = shlex.split(service["command"])
        assert argv[0] == "longwatch", name
        _check_command(argv[1:])
        assert service["command"] in DOCS, f"docs/deployment.md does not show the {name} command"
    assert "/readyz" in str(longwatch["web"]["healthcheck"]["test"])


def test_a_wrong_option_is_caught():
    with pytest.raises(click.UsageError):
        _check_command(["-A", "/srv/longwatch", "serve", "--wokers", "4"])
    with pytest.raises(click.UsageError):
        _check_command(["-A", "/srv/longwatch", "wroker"])
