"""The archive's own objects on the primary location (core/storage/objects.py): plain files on the local default,
kept out of the packages' and the ledger's prefixes, and written once where they are evidence."""

from __future__ import annotations

import pytest

from longwatch.core.storage.objects import is_key, objects
from longwatch.errors import LongwatchError


def test_objects_are_files_under_the_storage_folder_and_keep_out_of_packages(archive, tmp_path):
    store = objects(archive)
    store.put_bytes("exports/x/export.json", b"{}")
    assert (archive.storage().root / "exports/x/export.json").read_bytes() == b"{}"
    assert store.list("exports/x") == ["exports/x/export.json"] and store.stat("exports/x/nope") is None
    for key in ("packages/ab/cd/x", "custody-ledger/segments/0", "../outside", "/abs"):
        with pytest.raises(LongwatchError) as err:
            store.put_bytes(key, b"x")
        assert err.value.code in ("E037", "S003")
    assert store.put_once("certificates/d.json", b"signed") is True
    assert store.put_once("certificates/d.json", b"signed") is False  # a retry with the same bytes
    with pytest.raises(LongwatchError) as err:
        store.put_once("certificates/d.json", b"other")
    assert err.value.code == "E038" and store.read_bytes("certificates/d.json") == b"signed"
    assert store.download("certificates/d.json", tmp_path / "d.json").read_bytes() == b"signed"
    assert store.delete_prefix("exports/x") == 1 and store.list("exports/x") == []
    assert is_key("exports/x") and not is_key(str(tmp_path))
