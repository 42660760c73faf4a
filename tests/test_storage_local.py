"""The local filesystem adapter passes the conformance kit every adapter must pass."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid

import pytest

from longwatch.storage_adapters.local import STAGING, LocalStorageAdapter
from longwatch.testing import StorageAdapterContract


class TestLocalAdapter(StorageAdapterContract):
    @pytest.fixture
    def adapter(self, tmp_path):
        return LocalStorageAdapter("primary", {"path": "storage", "durable": False}, tmp_path)


@pytest.fixture
def durable(tmp_path):
    return LocalStorageAdapter("primary", {"path": str(tmp_path / "abs-storage")}, tmp_path / "elsewhere")


def test_absolute_path_option_and_durable_default(durable, tmp_path):
    assert durable.root == tmp_path / "abs-storage" and durable.durable is True
    writer = durable.begin_package(str(uuid.uuid4()))
    writer.write_bytes("data/media/x.bin", b"payload")
    writer.commit()
    assert durable.has_package(writer.package_id)
    assert durable.free_bytes() > 0


def test_sweep_removes_staging_of_a_dead_writer(tmp_path):
    """A writer in another process that died (its lock released with it) leaves staging; sweep removes it."""
    adapter = LocalStorageAdapter("primary", {"path": "storage", "durable": False}, tmp_path)
    code = (
        "import sys, os, uuid\n"
        "from pathlib import Path\n"
        "from longwatch.storage_adapters.local import LocalStorageAdapter\n"
        "a = LocalStorageAdapter('primary', {'path': 'storage', 'durable': False}, Path(sys.argv[1]))\n"
        "w = a.begin_package(str(uuid.uuid4()))\n"
        "w.write_bytes('data/media/x.bin', b'half')\n"
        "os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=False)
    staging = adapter.root / STAGING
    assert len(list(staging.iterdir())) == 1
    removed = adapter.sweep()
    assert len(removed) == 1
    assert list(staging.iterdir()) == []
    assert list(adapter.package_ids()) == []


def test_commit_refuses_to_overwrite_a_package(tmp_path):
    from longwatch.errors import LongwatchError

    adapter = LocalStorageAdapter("primary", {"path": "storage", "durable": False}, tmp_path)
    package_id = str(uuid.uuid4())
    for attempt in range(2):
        writer = adapter.begin_package(package_id)
        writer.write_bytes("data/x", str(attempt).encode())
        if attempt == 0:
            writer.commit()
        else:
            with pytest.raises(LongwatchError) as info:
                writer.commit()
            assert info.value.code == "S002"
            writer.abort()
    with adapter.open_package_file(package_id, "data/x") as fh:
        assert fh.read() == b"0"


def test_put_is_atomic_replace(tmp_path):
    adapter = LocalStorageAdapter("primary", {"path": "storage", "durable": False}, tmp_path)
    adapter.put("ledger/a.bin", io.BytesIO(b"one"))
    adapter.put("ledger/a.bin", io.BytesIO(b"two"))
    with adapter.open("ledger/a.bin") as fh:
        assert fh.read() == b"two"
    assert [n for n in os.listdir(adapter.root / "ledger")] == ["a.bin"]
