"""Issue 23: what `longwatch ingest` no longer pays before it reads a byte, beyond the early pass.

- The plugin manager registers the connectors and each feature's jobs by the hooks they answer
  (``registry.LAZY_PLUGINS``) and imports a module when one of its hooks first runs: the table must say what
  the modules themselves declare, and the hooks must answer exactly what the modules answer.
- The command's process starts without the cyclic garbage collector and turns it back on, with what the
  start-up made frozen, once the archive is open and the account known (``longwatch/startup.py``), on the
  refusal path too.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import subprocess
import sys

import pytest

from longwatch import registry, startup
from longwatch.core.jobs import queue


def _declared(module: str) -> dict[str, dict[str, bool]]:
    """The hooks a plugin module implements, with the options that differ from pluggy's defaults."""
    found = {}
    plugin = importlib.import_module(module)
    for name in dir(plugin):
        options = getattr(getattr(plugin, name), "longwatch_impl", None)
        if options is not None:
            found[name] = {key: value for key, value in options.items() if value}
    return found


@pytest.mark.parametrize("module", sorted(registry.LAZY_PLUGINS))
def test_each_lazy_plugin_is_listed_with_the_hooks_its_module_declares(module):
    assert module in registry.DEFAULT_PLUGINS
    assert registry.LAZY_PLUGINS[module] == _declared(module)


def test_the_plugin_manager_imports_no_lazy_plugin_until_its_hook_runs():
    code = """
import json, sys
from longwatch import registry
pm = registry.get_plugin_manager()
before = sorted(m for m in registry.LAZY_PLUGINS if m in sys.modules)
connectors = sorted(registry.camera_connectors(pm))
after = sorted(m for m in registry.LAZY_PLUGINS if m in sys.modules)
print(json.dumps([before, connectors, after]))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    before, connectors, after = json.loads(result.stdout)
    assert before == []
    assert {"drop-folder", "rtsp", "vendor-export"} <= set(connectors)
    assert after == sorted(m for m in registry.LAZY_PLUGINS if "connectors" in m)  # only the hook that ran


def test_the_lazy_hooks_answer_what_the_modules_answer(archive):
    pm = registry.get_plugin_manager()
    by_hooks = sorted(queue.tasks(archive))  # through the archive's own plugin manager
    direct = sorted(task.name for module, hooks in registry.LAZY_PLUGINS.items() if "register_tasks" in hooks
                    for task in importlib.import_module(module).register_tasks())
    assert by_hooks == direct and "ingest" in by_hooks and "audit" in by_hooks
    rows = {row["name"]: row for row in registry.plugin_list(pm)}
    for module, hooks in registry.LAZY_PLUGINS.items():
        assert rows[module]["hooks"] == ",".join(sorted(hooks))
    # the options stay: storage's prepare_worker runs first (tryfirst)
    impls = [impl.plugin_name for impl in pm.hook.prepare_worker.get_hookimpls()]
    assert impls[-1] == "longwatch.core.storage.tasks"  # pluggy calls the last one first


DEFAULT_SWITCH = sys.getswitchinterval()

#: Runs the `longwatch` program's entry point in a fresh interpreter and reports, after it, the collector's state
#: and which modules it loaded among those an ingest on an SQLite archive has no use for.
ENTRY = """
import gc, json, sys
from longwatch import cli, registry, startup
sys.argv = ["longwatch", *sys.argv[1:]]
status = 0
try:
    cli.main()
except SystemExit as exc:
    status = exc.code
unused = [*registry.LAZY_PLUGINS, "sqlalchemy.dialects.postgresql", "rich", "rich.console"]
print(json.dumps({"status": status, "enabled": gc.isenabled(), "paused": startup.paused(),
                  "frozen": gc.get_freeze_count(), "switch": sys.getswitchinterval(),
                  "loaded": sorted(m for m in unused if m in sys.modules)}), file=sys.stderr)
"""


def _entry(*args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True, text=True, timeout=120,
                            check=False, env={**os.environ, "LONGWATCH_LANG": "en", **(env or {})})
    state: dict[str, object] = json.loads(result.stderr.strip().splitlines()[-1])
    state["stdout"] = result.stdout
    return state


def test_ingest_starts_without_the_collector_and_turns_it_back_on(archive, fresh_clip):
    state = _entry("-A", str(archive.root), "ingest", "--json", str(fresh_clip))
    assert state["status"] == 0
    assert json.loads(str(state["stdout"]))["packages"][0]["size"] == fresh_clip.stat().st_size
    assert state["enabled"] and not state["paused"]
    assert int(str(state["frozen"])) > 50_000  # the start-up's objects, out of every later collection
    assert state["switch"] == DEFAULT_SWITCH  # the short switch interval was for the start-up only


def test_a_refused_account_turns_the_collector_back_on(archive, fresh_clip):
    state = _entry("-A", str(archive.root), "ingest", str(fresh_clip), env={"LONGWATCH_TOKEN": "lw_not-a-token"})
    assert state["status"] not in (0, None)
    assert state["enabled"] and not state["paused"]


def test_help_leaves_the_collector_as_the_short_command_needs():
    state = _entry("--help")
    assert state["status"] == 0 and "ingest" in str(state["stdout"])
    assert state["paused"] and not state["enabled"]  # no archive opened: the process ends without it


def test_pause_and_resume_in_process():
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    startup.resume()  # nothing paused: nothing changes
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    startup.pause()
    try:
        assert not gc.isenabled() and startup.paused()
        assert sys.getswitchinterval() == pytest.approx(startup.STARTUP_SWITCH_INTERVAL)
    finally:
        startup.resume()
    try:
        assert gc.isenabled() and not startup.paused()
        assert sys.getswitchinterval() == DEFAULT_SWITCH
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()  # this test process keeps collecting what earlier tests left


@pytest.mark.parametrize("quiet", [True, False])
def test_an_ingest_loads_no_connector_job_postgresql_dialect_or_rich(archive, fresh_clip, quiet):
    state = _entry(*(["-q"] if quiet else []), "-A", str(archive.root), "ingest", str(fresh_clip))
    assert state["status"] == 0
    assert state["loaded"] == []  # stderr is a pipe here: progress is plain lines, without rich


@pytest.mark.parametrize("bagit", [False, True])
def test_verify_of_a_directory_turns_the_collector_back_on(archive, fresh_clip, bagit):
    done = _entry("-A", str(archive.root), "ingest", "--json", str(fresh_clip))
    package_id = json.loads(str(done["stdout"]))["packages"][0]["package_id"]
    folder = next((archive.root / "storage" / "packages").glob(f"*/*/{package_id}"))
    state = _entry("verify", *(["--bagit"] if bagit else []), str(folder))
    assert state["status"] == 0
    assert state["enabled"] and not state["paused"]  # thousands of files may follow: not without the collector
