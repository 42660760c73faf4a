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

from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import StorageAdapter


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

    def test_refuses_unsafe_package_paths(self, adapter: StorageAdapter) -> None:
        writer = adapter.begin_package(str(uuid.uuid4()))
        try:
            with pytest.raises(LongwatchError):
                writer.write_bytes("../../outside", b"x")
        finally:
            writer.abort()
