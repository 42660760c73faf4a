"""The command line loads what a command runs, not everything (issue 23, fixed cost per command).

Counted in modules, not seconds (no timed unit tests): a fresh process runs
the command and reports which heavy libraries and longwatch modules it
imported. The figures are in docs/performance.md ("Start-up").
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
from conftest import ingest_one

from longwatch import commands
from longwatch.cli import cli

#: libraries that cost tens to hundreds of milliseconds each to import
HEAVY = ("sqlalchemy", "alembic", "flask", "werkzeug", "jinja2", "cryptography", "lxml", "asn1crypto", "numpy",
         "cv2", "onnxruntime", "boto3", "botocore", "procrastinate", "psycopg", "babel", "jsonschema", "fpdf",
         "argon2", "ffmpeg", "exiftool", "PIL", "rich")

PROBE = """
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["longwatch", *json.loads(sys.argv[1])]
from longwatch.cli import main
try:
    main()
except SystemExit as exc:
    status = exc.code
else:
    status = 0
print(json.dumps({"status": status, "heavy": sorted(m for m in heavy if m in sys.modules),
                  "longwatch": sorted(m for m in sys.modules if m.startswith("longwatch."))}), file=sys.stderr)
"""


def probe(*args: str, cwd: Path) -> tuple[str, dict]:
    """Run ``longwatch ARGS`` in a fresh interpreter: its output, exit status and what it imported."""
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)], cwd=cwd,
                            capture_output=True, text=True, timeout=120)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return result.stdout, report


def registered() -> dict[str, tuple[str, click.Command]]:
    """command -> (module, command) as each built-in command module registers them."""
    found: dict[str, tuple[str, click.Command]] = {}
    for module in sorted({entry[0] for entry in commands.BUILTIN.values()} | _command_modules()):
        group = click.Group("probe")
        importlib.import_module(f"longwatch.commands.{module}").register_commands(cli=group)
        for name, command in group.commands.items():
            assert name not in found, f"{name} registered by {found[name][0]} and {module}"
            found[name] = (module, command)
    return found


def _command_modules() -> set[str]:
    folder = Path(commands.__file__).parent
    return {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}


def test_table_of_builtin_commands_matches_the_modules():
    """commands.BUILTIN names every built-in command, its module and its help: --help shows it without importing."""
    actual = registered()
    assert set(actual) == set(commands.BUILTIN), "update longwatch/commands/__init__.py BUILTIN"
    for name, (module, command) in actual.items():
        table_module, table_help = commands.BUILTIN[name]
        assert table_module == module, name
        stand_in = click.Command(name, help=table_help)
        first_paragraph = " ".join((command.help or "").split("\n\n")[0].split())
        for limit in (30, 45, 70, 200):
            assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), (
                f"BUILTIN[{name!r}] should hold {first_paragraph!r}")


def test_help_lists_every_command_and_imports_none_of_them(tmp_path):
    out, report = probe("--help", cwd=tmp_path)
    assert report["status"] == 0
    listed = {line.split()[0] for line in out.split("Commands:", 1)[1].splitlines() if line.startswith("  ")}
    assert set(commands.BUILTIN) | set(cli.commands) <= listed
    assert report["heavy"] == []
    assert not [m for m in report["longwatch"] if m.startswith(("longwatch.commands.", "longwatch.core"))]
    for name, (_module, help_text) in commands.BUILTIN.items():
        assert any(line.split()[0] == name and line.split(None, 1)[1][:20] == help_text[:20]
                   for line in out.splitlines() if line.startswith(f"  {name} ")), name


def test_a_command_imports_its_own_module_only(tmp_path):
    out, report = probe("export", "--help", cwd=tmp_path)
    assert report["status"] == 0 and "--agency" in out
    loaded = {m.split(".")[2] for m in report["longwatch"] if m.startswith("longwatch.commands.")}
    assert "export" in loaded and len(loaded) <= 2, loaded  # export's own module (and what it imports: jobs)


def test_verify_fast_of_a_package_directory_opens_no_catalog(tmp_path, archive, fresh_clip):
    """A bare package directory needs no catalog, ledger or records module (and so no SQLAlchemy)."""
    package_id = ingest_one(archive, fresh_clip)
    directory = archive.storage().local_path(package_id)
    assert directory is not None
    out, report = probe("verify", "--fast", str(directory), cwd=tmp_path)
    assert report["status"] == 0 and "OK" in out
    assert {"sqlalchemy", "alembic", "numpy", "flask"}.isdisjoint(report["heavy"])
    assert not [m for m in report["longwatch"] if m.startswith(("longwatch.core.catalog", "longwatch.core.custody",
                                                                "longwatch.core.records", "longwatch.commands."))]
    # with an archive, the same check is held to the archive's certificate (the archive loads then)
    out, report = probe("-A", str(archive.root), "verify", "--fast", str(directory), cwd=tmp_path)
    assert report["status"] == 0 and "OK" in out and "sqlalchemy" in report["heavy"]
