"""Conformance kit for plugin authors: a pytest plugin (entry point ``pytest11``).

Subclass a contract class in your own tests and provide the ``adapter``
fixture; every test of the contract then runs against your implementation::

    from longwatch.testing import StorageAdapterContract

    class TestMyStore(StorageAdapterContract):
        @pytest.fixture
        def adapter(self, tmp_path):
            return MyStore("primary", {...}, tmp_path)

The built-in adapters pass the same classes in longwatch's own test suite.
"""

from __future__ import annotations

import io
import os
import uuid

import pytest

from longwatch.core.aip.metadata import XML_CATALOG
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import StorageAdapter

# Validation in the kit never touches the network: the vendored schemas answer.
os.environ.setdefault("XML_CATALOG_FILES", str(XML_CATALOG))


class StorageAdapterContract:
    """What every storage adapter must do for packages to stay whole and findable."""

    @pytest.fixture
    def adapter(self) -> StorageAdapter:  # pragma: no cover - provided by the subclass
        raise NotImplementedError("provide an `adapter` fixture")

    def test_has_kebab_case_name(self, adapter: StorageAdapter) -> None:
        assert adapter.NAME and adapter.NAME == adapter.NAME.lower() and " " not in adapter.NAME

    def test_put_open_stat_list_delete(self, adapter: StorageAdapter) -> None:
        data = os.urandom(100_000)
        assert adapter.put("objects/a/b.bin", io.BytesIO(data)) == len(data)
        with adapter.open("objects/a/b.bin") as fh:
            assert fh.read() == data
        with adapter.open("objects/a/b.bin", 10, 20) as fh:
            assert fh.read() == data[10:20]
        assert adapter.stat("objects/a/b.bin").size == len(data)
        assert "objects/a/b.bin" in set(adapter.list("objects/"))
        adapter.delete("objects/a/b.bin")
        adapter.delete("objects/a/b.bin")  # absent is not an error
        with pytest.raises(FileNotFoundError):
            adapter.stat("objects/a/b.bin")

    @pytest.mark.parametrize("key", ["../escape", "/abs", "a/../../b", "a\\b", "a/\x00b", ""])
    def test_refuses_unsafe_keys(self, adapter: StorageAdapter, key: str) -> None:
        with pytest.raises(LongwatchError) as info:
            adapter.put(key, io.BytesIO(b"x"))
        assert info.value.code == "S003"

    def test_package_invisible_until_commit(self, adapter: StorageAdapter) -> None:
        package_id = str(uuid.uuid4())
        writer = adapter.begin_package(package_id)
        writer.write_bytes("bagit.txt", b"BagIt-Version: 1.0\n")
        writer.write_bytes("data/media/x.bin", b"payload")
        assert package_id not in set(adapter.package_ids())
        assert not adapter.has_package(package_id)
        writer.commit()
        assert package_id in set(adapter.package_ids())
        assert sorted(adapter.package_files(package_id)) == ["bagit.txt", "data/media/x.bin"]
        with adapter.open_package_file(package_id, "data/media/x.bin") as fh:
            assert fh.read() == b"payload"

    def test_abort_leaves_nothing(self, adapter: StorageAdapter) -> None:
        package_id = str(uuid.uuid4())
        with pytest.raises(RuntimeError), adapter.begin_package(package_id) as writer:
            writer.write_bytes("data/media/x.bin", b"payload")
            raise RuntimeError("killed")
        assert not adapter.has_package(package_id)
        assert package_id not in set(adapter.package_ids())

    def test_sweep_removes_abandoned_staging_only(self, adapter: StorageAdapter) -> None:
        live = adapter.begin_package(str(uuid.uuid4()))
        live.write_bytes("data/x", b"1")
        adapter.sweep()  # a live writer's staging survives a sweep
        live.write_bytes("data/y", b"2")
        live.commit()
        assert live.package_id in set(adapter.package_ids())

    def test_object_lock_holds_or_is_absent(self, adapter: StorageAdapter) -> None:
        """A store with object lock must refuse to delete a held package, and release it again;
        a store without it must say so (holds then live in the catalog alone)."""
        package_id = str(uuid.uuid4())
        with adapter.begin_package(package_id) as writer:
            writer.write_bytes("data/media/x.bin", b"evidence")
            writer.commit()
        if not adapter.has_object_lock():
            assert adapter.lock_status(package_id) == {}
            return
        assert adapter.set_legal_hold(package_id, True) is True
        assert adapter.set_legal_hold(package_id, True) is False  # already held: nothing changed
        assert adapter.lock_status(package_id)
        with pytest.raises(LongwatchError):
            adapter.delete_package(package_id)
        assert adapter.has_package(package_id)
        adapter.set_legal_hold(package_id, False)
        adapter.delete_package(package_id)
        assert not adapter.has_package(package_id)

    def test_refuses_unsafe_package_paths(self, adapter: StorageAdapter) -> None:
        writer = adapter.begin_package(str(uuid.uuid4()))
        try:
            with pytest.raises(LongwatchError):
                writer.write_bytes("../../outside", b"x")
        finally:
            writer.abort()


# -- camera connectors -----------------------------------------------------------------
class _Crash(BaseException):
    """Stands for a power cut between storing a clip and releasing its original."""


class CameraConnectorContract:
    """What every camera connector must do so that footage arrives whole, once, at the right time.

    Provide the fixtures ``connector_class``, ``connector_config`` (a source
    that holds at least two clips) and ``expected_clips`` (the SHA-256 of
    every clip's original bytes as the device holds them, one entry per clip:
    two clips with equal bytes are listed twice). Optional fixtures
    sharpen the checks: ``unreachable_config`` and ``bad_credentials_config``
    (settings that must fail with N002 and N003), ``secret_values`` (strings
    that must never be shown), ``expected_clock_offset`` and
    ``expected_gaps`` ((start, end) pairs the source must report).
    """

    @pytest.fixture
    def connector_class(self) -> type:  # pragma: no cover - provided by the subclass
        raise NotImplementedError("provide a `connector_class` fixture")

    @pytest.fixture
    def connector_config(self) -> dict:  # pragma: no cover - provided by the subclass
        raise NotImplementedError("provide a `connector_config` fixture")

    @pytest.fixture
    def expected_clips(self) -> list[str]:  # pragma: no cover - provided by the subclass
        raise NotImplementedError("provide an `expected_clips` fixture (SHA-256 of each clip)")

    @pytest.fixture
    def unreachable_config(self) -> dict | None:
        return None

    @pytest.fixture
    def bad_credentials_config(self) -> dict | None:
        return None

    @pytest.fixture
    def secret_values(self) -> list[str]:
        return []

    @pytest.fixture
    def expected_clock_offset(self):
        return None

    @pytest.fixture
    def expected_gaps(self) -> list:
        return []

    @pytest.fixture
    def connector_state(self, tmp_path_factory: pytest.TempPathFactory):
        return tmp_path_factory.mktemp("connector-state")

    @pytest.fixture
    def make_connector(self, connector_class, connector_config, connector_state):
        """A fresh instance on the same state each call: calling it again is a restart."""
        return lambda: connector_class(connector_config, connector_state)

    # -- identity and configuration --------------------------------------------------
    def test_name_is_kebab_case_and_registered(self, connector_class) -> None:
        from longwatch import registry

        assert connector_class.NAME and connector_class.NAME == connector_class.NAME.lower()
        assert " " not in connector_class.NAME
        found = registry.camera_connectors(registry.get_plugin_manager())
        assert found.get(connector_class.NAME) is connector_class, "register it with register_camera_connectors"

    def test_rejects_unknown_settings(self, connector_class, connector_config) -> None:
        with pytest.raises(LongwatchError) as info:
            connector_class.validate_config({**connector_config, "no_such_setting": 1})
        assert info.value.code == "N001"

    def test_secrets_never_shown(self, make_connector, secret_values) -> None:
        connector = make_connector()
        shown = " ".join([repr(connector), str(connector.public_config()), str(connector.config),
                          repr(connector.config), connector.device])
        for secret in secret_values:
            assert secret not in shown

    # -- what the source holds -------------------------------------------------------
    def test_discovers_cameras(self, make_connector) -> None:
        from longwatch.core.preservation.ingest import check_camera

        cameras = make_connector().discover()
        assert cameras, "discover() found no camera"
        for camera in cameras:
            assert check_camera(camera.id) == camera.id

    def test_bytes_preserved_exactly(self, make_connector, expected_clips) -> None:
        import hashlib

        connector = make_connector()
        found = []
        for clip in connector.list_clips(None):
            with connector.open_clip(clip) as fh:
                data = fh.read()
            if clip.size is not None:
                assert clip.size == len(data)
            found.append(hashlib.sha256(data).hexdigest())
        assert sorted(found) == sorted(expected_clips)

    def test_required_metadata(self, make_connector) -> None:
        import json

        connector = make_connector()
        cameras = {c.id for c in connector.discover()}
        clips = list(connector.list_clips(None))
        assert len(clips) >= 2, "the contract needs a source with at least two clips"
        assert len({c.key for c in clips}) == len(clips), "clip keys must be unique"
        for clip in clips:
            assert clip.key and clip.name and clip.camera in cameras
            json.dumps(clip.metadata)  # must be JSON-serialisable: it goes into the package

    def test_utc_ranges_and_clock_offset(self, make_connector, expected_clock_offset) -> None:
        from datetime import timedelta

        for clip in make_connector().list_clips(None):
            assert clip.start is not None, f"{clip.name}: no start time"
            assert clip.start.utcoffset() == timedelta(0), "start must be UTC"
            if clip.end is not None:
                assert clip.end.utcoffset() == timedelta(0) and clip.end >= clip.start
            if expected_clock_offset is not None:
                assert clip.clock_offset == expected_clock_offset

    def test_gaps_reported(self, make_connector, expected_gaps) -> None:
        from datetime import timedelta

        reported = make_connector().gaps()
        for gap in reported:
            assert gap.start.utcoffset() == timedelta(0) and gap.end > gap.start and gap.reason
        for start, end in expected_gaps:
            assert any(g.start <= start + timedelta(seconds=2) and g.end >= end - timedelta(seconds=2)
                       for g in reported), f"gap {start}..{end} not reported"

    def test_cursor_survives_restart(self, make_connector) -> None:
        first = make_connector()
        clips = list(first.list_clips(None))
        half = max(1, len(clips) // 2)
        cursor = None
        for clip in clips[:half]:
            first.acknowledge(clip, "00000000-0000-0000-0000-000000000000")
            cursor = clip.cursor or cursor
        again = [c.key for c in make_connector().list_clips(cursor)]
        assert sorted(again) == sorted(c.key for c in clips[half:]), "duplicates or losses after a restart"

    # -- bad input -------------------------------------------------------------------
    def test_unreachable_device_is_n002(self, connector_class, unreachable_config, connector_state) -> None:
        if unreachable_config is None:
            pytest.skip("no `unreachable_config` fixture")
        with pytest.raises(LongwatchError) as info:
            connector = connector_class(unreachable_config, connector_state / "unreachable")
            connector.discover()
        assert info.value.code == "N002"

    def test_bad_credentials_is_n003(self, connector_class, bad_credentials_config, connector_state,
                                     secret_values) -> None:
        if bad_credentials_config is None:
            pytest.skip("this source has no credentials")
        with pytest.raises(LongwatchError) as info:
            connector_class(bad_credentials_config, connector_state / "bad").discover()
        assert info.value.code == "N003"
        for secret in [*secret_values, *(str(v) for k, v in bad_credentials_config.items() if "pass" in k)]:
            assert secret not in info.value.render()

    # -- into an archive, with a crash in the middle ------------------------------------
    def test_archived_once_after_crash(self, make_connector, expected_clips, tmp_path) -> None:
        from longwatch.core.archive import Archive
        from longwatch.plugins.connectors.watch import Watch

        archive = Archive.create(tmp_path / "contract-archive", organization="conformance kit", language="en")
        try:
            def crash(clip, package_id):
                raise _Crash

            with pytest.raises(_Crash):
                Watch(archive, make_connector(), after_store=crash).run_once()
            outcomes = Watch(archive, make_connector()).run_once()
            assert not [o.error for o in outcomes if o.error], [o.error for o in outcomes if o.error]
            rows = archive.catalog.packages(limit=10_000)
            stored = sorted(c.sha256 for p in rows for c in p.clips)
            assert stored == sorted(expected_clips), "each clip exactly once, bytes unchanged"
            assert list(make_connector().list_clips(Watch(archive, make_connector()).state.cursor)) == []
        finally:
            archive.close()
