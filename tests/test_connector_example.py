"""The example third-party connector: installed as its own distribution, found through its entry point."""

from __future__ import annotations

import fcntl
import importlib
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from longwatch import registry

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "longwatch-example-connector"


@pytest.fixture(scope="session")
def example_installed() -> str:
    """pip-installs the example (no network, no build isolation) once; xdist workers take turns."""
    with open(Path(sys.prefix) / ".longwatch-example-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            importlib.metadata.distribution("longwatch-example-connector")
        except importlib.metadata.PackageNotFoundError:
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                            str(EXAMPLE)], check=True, capture_output=True)
            importlib.invalidate_caches()
    return "longwatch-example-connector"


def test_discovered_through_its_entry_point(example_installed):
    pm = registry.get_plugin_manager()
    found = registry.camera_connectors(pm)
    assert found["example-nvr"].__module__ == "longwatch_example_connector"
    rows = {row["name"]: row for row in registry.plugin_list(pm)}
    assert rows["example_nvr"]["distribution"] == example_installed
    assert "register_camera_connectors" in rows["example_nvr"]["hooks"]
    without = registry.camera_connectors(registry.get_plugin_manager(load_entrypoints=False))
    assert "example-nvr" not in without and {"drop-folder", "rtsp", "vendor-export"} <= set(without)


def test_listed_by_the_connectors_command(example_installed, runner):
    import json

    from longwatch.cli import cli

    result = runner.invoke(cli, ["connectors", "--json"], catch_exceptions=False)
    names = {c["name"]: c for c in json.loads(result.output)["connectors"]}
    assert {"drop-folder", "rtsp", "vendor-export", "example-nvr"} <= set(names)
    assert names["example-nvr"]["options"]["password"] == {
        "type": "str", "required": True, "secret": True, "default": None, "help": ""}


def test_example_passes_the_conformance_kit(example_installed, tmp_path):
    """The vendor's own test suite, run as the vendor runs it (the kit is a pytest11 plugin)."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                             "--basetemp", str(tmp_path / "t"), str(EXAMPLE / "tests")],
                            capture_output=True, text=True, cwd=EXAMPLE, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
