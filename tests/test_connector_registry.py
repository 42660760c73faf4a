"""The register_camera_connectors hook, its documentation, and the commands' bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest

from longwatch import CameraConnector, hookimpl, registry
from longwatch.errors import LongwatchError
from longwatch.plugins.connectors.base import Option, Secret

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def clip_bank(tmp_path_factory):
    from datetime import UTC, datetime

    from longwatch.core.media.probe import make_test_clip

    folder = tmp_path_factory.mktemp("bank")
    start = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    return [make_test_clip(folder / f"i{i}.mp4", seconds=1, label=f"idx{i}", start=start) for i in range(3)]


class Acme(CameraConnector):
    NAME = "drop-folder"  # collides with the built-in


class AcmePlugin:
    @hookimpl
    def register_camera_connectors(self):
        return [Acme]


def test_two_plugins_with_one_name_is_n005():
    pm = registry.get_plugin_manager(load_entrypoints=False)
    assert set(registry.camera_connectors(pm)) >= {"drop-folder", "rtsp", "vendor-export"}
    pm.register(AcmePlugin(), name="acme")
    with pytest.raises(LongwatchError) as info:
        registry.camera_connectors(pm)
    assert info.value.code == "N005"


def test_secret_never_rendered():
    class WithSecret(CameraConnector):
        NAME = "with-secret"
        OPTIONS: ClassVar[dict[str, Option]] = {
            "token": Option(str, required=True, secret=True), "port": Option(int, default=1)}

    c = WithSecret({"token": "tok-123", "port": "8"}, Path("."))
    assert c.config["token"].reveal() == "tok-123" and c.config["port"] == 8
    assert "tok-123" not in repr(c) and "tok-123" not in repr(Secret("tok-123"))
    with pytest.raises(LongwatchError) as info:
        WithSecret({"token": "tok-123", "port": "eighty"}, Path("."))
    assert info.value.code == "N001" and "eighty" not in str(info.value)


def test_watch_unknown_connector_is_n004(lw, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('path = "x"\n', encoding="utf-8")
    result = lw("watch", "no-such", "--config", str(config))
    assert result.exit_code == 10 and "ERROR [N004]" in result.output


def test_watch_bad_config_file_is_n006(lw, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("path = [unclosed\n", encoding="utf-8")
    result = lw("watch", "drop-folder", "--config", str(config))
    assert result.exit_code == 10 and "ERROR [N006]" in result.output


def test_watch_once_unreachable_folder_is_n002(lw, tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"path": str(tmp_path / "unmounted-share")}), encoding="utf-8")
    result = lw("watch", "drop-folder", "--config", str(config), "--once")
    assert result.exit_code == 10 and "ERROR [N002]" in result.output


def test_corrupt_watch_state_is_n011(archive, tmp_path):
    from longwatch.plugins.connectors.dropfolder import DropFolderConnector
    from longwatch.plugins.connectors.watch import Watch

    state = tmp_path / "state"
    state.mkdir()
    (state / "state.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "drop").mkdir()
    with pytest.raises(LongwatchError) as info:
        Watch(archive, DropFolderConnector({"path": str(tmp_path / "drop")}, state))
    assert info.value.code == "N011"


def test_cursor_never_passes_a_failed_clip(archive, tmp_path, clip_bank):
    """A cursor-based source: clip 2 fails (clock far off), clips 1 and 3 are stored; after the
    operator fixes the clock, clip 2 is offered again and stored; clip 3 is not stored twice."""
    from datetime import UTC, datetime

    from longwatch import Camera, ClipInfo
    from longwatch.plugins.connectors.watch import Watch

    class Indexed(CameraConnector):
        NAME = "indexed"
        OPTIONS: ClassVar[dict[str, Option]] = {"broken_year": Option(int, default=2099)}

        def discover(self):
            return [Camera(id="cam-01")]

        def list_clips(self, cursor):
            for n, path in enumerate(clip_bank, start=1):
                if cursor and n <= int(cursor):
                    continue
                year = self.config["broken_year"] if n == 2 else 2026
                yield ClipInfo(key=f"n{n}", camera="cam-01", name=path.name, start=datetime(year, 3, 3, tzinfo=UTC),
                               cursor=str(n), size=path.stat().st_size)

        def open_clip(self, clip):
            return open(clip_bank[int(clip.key[1:]) - 1], "rb")

    state = tmp_path / "state"
    first = Watch(archive, Indexed({}, state)).run_once()
    assert [(o.key, o.error.code if o.error else o.package_id != "") for o in first] == \
        [("n1", True), ("n2", "N009"), ("n3", True)]
    assert Watch(archive, Indexed({}, state)).state.cursor == "1"
    second = Watch(archive, Indexed({"broken_year": 2026}, state)).run_once()
    assert [(o.key, o.error, o.already) for o in second] == [("n2", None, False), ("n3", None, True)]
    assert len(archive.catalog.packages()) == 3
