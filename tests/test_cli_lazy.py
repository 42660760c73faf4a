"""Issue 23: a command imports what it uses, so that `--help` and `verify --fast DIR` start in a blink.

`longwatch --help` lists the built-in commands from `commands/index.py` (a table generated from the command
modules) without importing one; running a command imports its own module only; checking a package directory
outside any archive loads neither the catalog nor the ledger. What stays deferred is checked in modules
imported, which is steady on a shared machine, where seconds are not.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ingest_one, run_longwatch

from longwatch.cli import LongwatchGroup, cli
from longwatch.commands import MODULES
from longwatch.commands.index import COMMANDS

ROOT = Path(__file__).resolve().parent.parent

#: libraries no command may pay for before it needs them
HEAVY = ("sqlalchemy", "alembic", "cryptography", "lxml", "rich", "numpy", "PIL", "flask", "jsonschema", "babel",
         "procrastinate", "psycopg", "boto3", "cv2", "onnxruntime", "asn1crypto")


def modules_after(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, set[str]]:
    """Run ``longwatch ARGS`` in a fresh interpreter; its exit status and every module it imported."""
    code = ("import json, sys\nfrom longwatch.cli import cli\n"
            "try:\n    cli(sys.argv[1:], prog_name='longwatch')\nexcept SystemExit as exc:\n    status = exc.code\n"
            "print(json.dumps([status, sorted(sys.modules)]), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "LONGWATCH_LANG": "en", **(env or {})}, timeout=120, check=False)
    status, modules = json.loads(result.stderr.strip().splitlines()[-1])
    return status, set(modules)


def loaded(modules: set[str], *prefixes: str) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def command_modules(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.startswith("longwatch.commands.") and m != "longwatch.commands.index")


def test_the_index_matches_the_command_modules():
    """`scripts/gen_command_index.py` rewrites it; a command added, renamed or re-documented without it fails."""
    generator = runpy.run_path(str(ROOT / "scripts/gen_command_index.py"), run_name="index_check")
    assert generator["build"]() == COMMANDS, "run scripts/gen_command_index.py (make i18n does)"
    assert (ROOT / "longwatch/commands/index.py").read_text(encoding="utf-8") == generator["render"](COMMANDS)
    assert {module for module, _help in COMMANDS.values()} == set(MODULES)
    assert not set(COMMANDS) & {name for name, c in cli.commands.items() if c.callback
                                and c.callback.__module__ == "longwatch.cli"}


def test_help_imports_no_command_module_and_no_heavy_library(tmp_path):
    status, modules = modules_after("--help", cwd=tmp_path)
    assert status == 0
    assert command_modules(modules) == []
    assert loaded(modules, *HEAVY) == []
    assert loaded(modules, "longwatch.core", "longwatch.web", "longwatch.plugins.web") == []


def test_korean_help_imports_nothing_more(tmp_path):
    status, modules = modules_after("--lang", "ko", "--help", cwd=tmp_path)
    assert status == 0
    assert command_modules(modules) == [] and loaded(modules, "longwatch.core", *HEAVY) == []  # Babel too


def test_a_command_imports_its_own_module_only(tmp_path):
    status, modules = modules_after("keys", "--help", cwd=tmp_path)
    assert status == 0
    assert command_modules(modules) == ["longwatch.commands.keys"]


def test_verify_fast_of_a_package_directory_loads_no_catalog_or_ledger(archive, fresh_clip, tmp_path):
    package_id = ingest_one(archive, fresh_clip)
    package_dir = archive.storage().local_path(package_id)
    elsewhere = tmp_path / "elsewhere"  # no longwatch.toml above: there is no archive to open
    elsewhere.mkdir()
    status, modules = modules_after("-q", "verify", "--fast", str(package_dir), cwd=elsewhere,
                                    env={"LONGWATCH_ARCHIVE": ""})
    assert status == 0
    assert loaded(modules, "sqlalchemy", "alembic", "longwatch.core.catalog", "longwatch.core.custody",
                  "longwatch.core.records", "longwatch.core.archive", "rich", "numpy", "flask") == []
    assert command_modules(modules) == []


def _fresh_group() -> LongwatchGroup:
    """The `longwatch` group with only its own verbs, as a new process has it."""
    own = {name: c for name, c in cli.commands.items() if name not in COMMANDS}
    return LongwatchGroup(name="longwatch", params=cli.params, callback=cli.callback, commands=own,
                          context_settings=cli.context_settings, help=cli.help)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_help_from_the_index_reads_as_from_the_commands(runner, lang):
    """The list from the index is the list click makes from the imported commands, in either language."""
    group = _fresh_group()
    lazy = runner.invoke(group, ["--lang", lang, "--help"])
    assert lazy.exit_code == 0, lazy.output
    assert set(group.commands) <= set(cli.commands)  # nothing was imported to list them
    assert not set(group.commands) & set(COMMANDS)
    for name in COMMANDS:
        assert group.get_command(None, name) is not None
    full = runner.invoke(group, ["--lang", lang, "--help"])
    assert lazy.output == full.output
    assert ("Legal holds" if lang == "en" else "법적 보존 조치") in full.output


def test_an_unknown_command_is_still_refused(runner):
    result = runner.invoke(cli, ["no-such-command"])
    assert result.exit_code == 2 and "No such command" in result.output


def _logging_shims(folder: Path, log: Path, ffprobe_delay: float = 0) -> dict[str, str]:
    """``ffprobe`` and ``exiftool`` first on PATH: each logs its arguments, then runs the real tool.

    With ``ffprobe_delay``, ffprobe answers that many seconds late and logs ``ffprobe done`` when it has.
    """
    folder.mkdir()
    for tool in ("ffprobe", "exiftool"):
        real = shutil.which(tool)
        assert real is not None
        shim = folder / tool
        if tool == "ffprobe" and ffprobe_delay:
            run = f'sleep {ffprobe_delay}\n"{real}" "$@"\nstatus=$?\necho "ffprobe done" >> "{log}"\nexit $status\n'
        else:
            run = f'exec "{real}" "$@"\n'
        shim.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\n{run}')
        shim.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def test_ingest_starts_no_process_only_to_ask_a_tool_its_version(archive, fresh_clip, tmp_path):
    """The versions PREMIS records come from the probes themselves (ffprobe's program_version, the running
    exiftool's -ver): two process start-ups fewer per ingest command, and the same versions recorded."""
    log = tmp_path / "tools.log"
    env = _logging_shims(tmp_path / "shims", log)
    done = run_longwatch("-A", archive.root, "ingest", fresh_clip, "--json", env=env)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert [c for c in calls if c.startswith("ffprobe ")] and [c for c in calls if c.startswith("exiftool ")]
    assert not [c for c in calls if c.endswith((" -version", " -ver"))], calls
    package_id = json.loads(done.stdout)["packages"][0]["package_id"]
    technical = json.loads((archive.storage().local_path(package_id) / "metadata/technical.json").read_text())
    asked = {tool: subprocess.run([tool, flag], capture_output=True, text=True, check=True).stdout
             for tool, flag in (("ffprobe", "-version"), ("exiftool", "-ver"))}
    assert technical["tools"]["ffprobe"] == asked["ffprobe"].split()[2]
    assert technical["tools"]["exiftool"] == asked["exiftool"].strip()
    assert "program_version" not in json.dumps(technical)  # the probe's own record of the file is unchanged


def test_exiftool_starts_while_ffprobe_reads(archive, fresh_clip, tmp_path):
    """A clip's two probes run side by side: Perl's start-up no longer waits for ffprobe to finish."""
    log = tmp_path / "tools.log"
    env = _logging_shims(tmp_path / "shims", log, ffprobe_delay=1.5)
    done = run_longwatch("-A", archive.root, "ingest", fresh_clip, "--json", env=env)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    started = next(i for i, c in enumerate(calls) if c.startswith("exiftool "))
    assert started < calls.index("ffprobe done"), calls
    assert json.loads(done.stdout)["packages"][0]["media_ok"] is True
