"""The plugin seam: built-ins listed, entry-point discovery, loud failures, every hook exercised."""

from __future__ import annotations

import importlib.metadata
import inspect
import json
import re
from pathlib import Path

import plugin_samples
import pytest
from conftest import error_codes, ingest_one

from longwatch import __version__, hookimpl, hookspecs, registry
from longwatch.core.aip import metadata, package
from longwatch.core.archive import Archive
from longwatch.errors import LongwatchError

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
               if hasattr(fn, "longwatch_spec"))


class FakeDistribution(importlib.metadata.Distribution):
    """A distribution that exists only in memory, with entry points of group ``longwatch``."""

    def __init__(self, name: str, version: str, entry_points: dict[str, str]) -> None:
        self._name, self._version, self._eps = name, version, entry_points

    def read_text(self, filename: str) -> str | None:
        if filename == "METADATA":
            return f"Metadata-Version: 2.1\nName: {self._name}\nVersion: {self._version}\n"
        if filename == "entry_points.txt":
            return "[longwatch]\n" + "".join(f"{k} = {v}\n" for k, v in self._eps.items())
        return None

    def locate_file(self, path):  # pragma: no cover - never asked for files
        return Path(path)


@pytest.fixture
def fake_distributions(monkeypatch):
    """Install fake distributions the way pluggy finds them: through importlib.metadata.distributions."""

    def install(*dists: FakeDistribution) -> None:
        real = list(importlib.metadata.distributions())
        monkeypatch.setattr(importlib.metadata, "distributions", lambda **kw: [*real, *dists])

    return install


@pytest.fixture
def recorder():
    plugin_samples.recorder.calls.clear()
    return plugin_samples.recorder


def test_plugins_json_lists_builtins_with_versions(lw_bare):
    result = lw_bare("plugins", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    rows = {row["name"]: row for row in data["plugins"]}
    for name in registry.DEFAULT_PLUGINS:
        assert rows[name]["version"] == __version__
        assert rows[name]["distribution"] == "longwatch (built-in)"
    assert "register_storage_adapters" in rows["longwatch.storage_adapters.local"]["hooks"]
    assert "local" in data["storage_adapters"]
    human = lw_bare("plugins")
    assert "longwatch.plugins.web" in human.stdout


def test_entry_point_plugin_is_discovered(fake_distributions, lw_bare, recorder):
    fake_distributions(FakeDistribution("longwatch-sample", "1.2.3", {"sample": "plugin_samples:recorder"}))
    pm = registry.get_plugin_manager()
    assert pm.get_plugin("sample") is recorder
    result = lw_bare("plugins", "--json")
    rows = {row["name"]: row for row in json.loads(result.stdout)["plugins"]}
    assert rows["sample"]["distribution"] == "longwatch-sample"
    assert rows["sample"]["version"] == "1.2.3"
    assert "prepare_metadata" in rows["sample"]["hooks"]


def test_entry_points_can_be_skipped():
    assert registry.get_plugin_manager(load_entrypoints=False).get_plugin("sample") is None


def test_misspelled_hookimpl_fails_loudly_at_startup(fake_distributions, lw_bare):
    fake_distributions(FakeDistribution("longwatch-typo", "0.1", {"typo": "plugin_samples:misspelled"}))
    with pytest.raises(LongwatchError) as info:
        registry.get_plugin_manager()
    assert info.value.code == "P003"
    assert "register_storage_adapter" in str(info.value)
    result = lw_bare("plugins")
    assert result.exit_code == 7
    assert error_codes(result.stderr) == ["P003"]


def test_two_adapters_with_one_name(fake_distributions, archive_dir):
    fake_distributions(FakeDistribution("longwatch-dup", "0.1", {"dup": "plugin_samples:duplicate_name"}))
    pm = registry.get_plugin_manager()
    with pytest.raises(LongwatchError) as info:
        registry.storage_adapters(pm)
    assert info.value.code == "P001"
    assert "'local'" in str(info.value) and "dup" in str(info.value)


def test_unknown_adapter_in_config(archive):
    config = archive.root / "longwatch.toml"
    config.write_text(config.read_text().replace('adapter = "local"', 'adapter = "tape-robot"'))
    with pytest.raises(LongwatchError) as info:
        Archive.open(archive.root).storage()
    assert info.value.code == "P002"


# -- every hook, exercised ------------------------------------------------------------
def test_register_storage_adapters_builtin():
    adapters = registry.storage_adapters(registry.get_plugin_manager(load_entrypoints=False))
    assert adapters["local"].NAME == "local"


def test_prepare_metadata_and_package_stored(archive_dir, fresh_clip, recorder):
    pm = registry.get_plugin_manager(load_entrypoints=False)
    pm.register(recorder, name="recorder")
    from conftest import create_archive

    a = create_archive(archive_dir)
    a = Archive(a.settings, pm)
    package_id = ingest_one(a, fresh_clip)
    path = a.storage().local_path(package_id)
    dc = metadata.dc_fields(metadata.parse_untrusted((path / package.DC_PATH).read_bytes()))
    assert dc["description"] == ["Added by the recorder plugin"]
    technical = json.loads((path / package.TECHNICAL_PATH).read_text())
    assert technical["recorder"] == {"seen": True}
    assert [n for n in recorder.names() if n != "register_storage_adapters"] == ["prepare_metadata",
                                                                                "package_stored"]
    stored = next(c for name, c in recorder.calls if name == "package_stored")
    assert stored["package_id"] == package_id and stored["location"] == "primary"
    assert stored["media_ok"] is True and len(stored["sha256"]) == 64
    a.close()


def test_fixity_checked_and_register_commands(fake_distributions, runner, archive, fresh_clip, recorder):
    from longwatch.cli import LongwatchGroup, cli

    fake_distributions(FakeDistribution("longwatch-sample", "1.2.3", {"sample": "plugin_samples:recorder"}))
    package_id = ingest_one(archive, fresh_clip)
    result = runner.invoke(cli, ["-A", str(archive.root), "verify", package_id])
    assert result.exit_code == 0, result.output
    checked = [c for name, c in recorder.calls if name == "fixity_checked"]
    assert checked == [{"package_id": package_id, "ok": True, "problems": []}]

    group = type(cli)(name="longwatch-test")  # a fresh group: the real one loads plugins only once
    assert isinstance(group, LongwatchGroup)
    registry.get_plugin_manager().hook.register_commands(cli=group)
    assert "hello-sample" in group.commands
    assert runner.invoke(group, ["hello-sample"]).output == "hello from a plugin\n"


def test_register_blueprints(fake_distributions, archive, recorder):
    from longwatch.web import create_app

    fake_distributions(FakeDistribution("longwatch-sample", "1.2.3", {"sample": "plugin_samples:recorder"}))
    app = create_app(archive.root)
    client = app.test_client()
    assert client.get("/sample").data == b"from a plugin blueprint"
    assert client.get("/api/v1/packages").status_code == 401  # mounted, and closed without a token
    assert "register_blueprints" in recorder.names()
    app.extensions["longwatch"].close()


def test_register_tasks(archive):
    from longwatch.core.jobs import queue as jobs

    pm = registry.get_plugin_manager(load_entrypoints=False)
    pm.register(plugin_samples.task_sample, name="task-sample")
    a = Archive(archive.settings, pm)
    assert jobs.tasks(a)["sample_echo"] is plugin_samples.task_sample.ECHO
    assert jobs.tasks(a)["ingest"].queue == jobs.QUICK  # the built-ins are declared through the same hook
    assert jobs.enqueue(a, "sample_echo", {"text": "hi"}) == {"echo": "hi", "archive": str(a.root)}  # SQLite: now
    pm.register(plugin_samples.duplicate_task, name="duplicate-task")
    with pytest.raises(LongwatchError) as info:
        jobs.run_task(a, "sample_echo", {})
    assert info.value.code == "P003"
    assert "'ingest'" in str(info.value) and "duplicate-task" in str(info.value)


def test_package_record_class_built_in_a_plugin_first_and_no_answer(archive, fresh_clip, tmp_path):
    """Storage asks a package's retention class through package_record_class (a per-class replication policy):
    the built-in answers through the archive's own plugin manager, a plugin registered later is asked first,
    and no answer at all is P003, never the default policy."""
    from conftest import configure_storage, local_locations

    from longwatch.core.records import assignment
    from longwatch.core.storage import policy as storage_policy

    a = configure_storage(archive, local_locations(tmp_path / "offsite", '["primary"]',
                                                   classes='incident = ["primary", "offsite"]'))
    package_id = ingest_one(a, fresh_clip)
    assert a.pm.hook.package_record_class(archive=a, package_id=package_id) == assignment.record_class_of(
        a, package_id) != "incident"
    assert storage_policy.policy_of(a, package_id).copies == 1  # the class has no policy of its own: default

    class VendorRecords:
        @hookimpl
        def package_record_class(self, package_id):
            return "incident"

    a.pm.register(VendorRecords(), name="vendor-records")
    assert storage_policy.policy_of(a, package_id).copies == 2
    a.pm.unregister(name="vendor-records")
    a.pm.unregister(name="longwatch.core.records.locks")
    with pytest.raises(LongwatchError) as info:
        storage_policy.policy_of(a, package_id)
    assert info.value.code == "P003" and "package_record_class" in info.value.render()
    a.close()


# -- meta-tests ---------------------------------------------------------------------------
def test_hookspecs_have_docstrings():
    for name in HOOKS:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook):
    docs = (ROOT / "docs/plugins.md").read_text(encoding="utf-8")
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    heading = re.compile(rf"^#+ {re.escape(hook)}\({re.escape(params)}\)\s*$", re.MULTILINE)
    assert heading.search(docs), f"docs/plugins.md needs a heading '## {hook}({params})'"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test(hook):
    tests = [p for p in (ROOT / "tests").glob("test_*.py") if p.name != Path(__file__).name]
    this = Path(__file__).read_text(encoding="utf-8").split("# -- meta-tests")[0]
    texts = [p.read_text(encoding="utf-8") for p in tests] + [this]
    assert any(hook in text for text in texts), f"no test exercises {hook}"


def test_command_start_loads_no_numpy_flask_or_boto3():
    """Every command builds the plugin manager: its plugins keep heavy libraries for the hook that needs them."""
    import subprocess
    import sys

    code = ("import sys\nfrom longwatch import registry\nfrom longwatch.cli import cli\n"
            "registry.get_plugin_manager().hook.register_commands(cli=cli)\n"
            "print(sorted(m for m in ('numpy', 'flask', 'boto3', 'cv2', 'onnxruntime', 'jsonschema', 'babel')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
