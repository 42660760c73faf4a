"""A watch's state in the catalog: one process per watch, compare-and-set saves, the old file imported once."""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import unique_copy
from sqlalchemy import update

from longwatch import Camera, ClipInfo
from longwatch.core.catalog.models import ConnectorState
from longwatch.errors import LongwatchError
from longwatch.plugins.connectors.base import CameraConnector, Option
from longwatch.plugins.connectors.watch import Watch, state_dir_for


class Numbered(CameraConnector):
    """A source that lists by cursor (clip N after cursor N-1), as NVR exports and vendor APIs do."""

    NAME = "numbered"
    OPTIONS: ClassVar[dict[str, Option]] = {"folder": Option(str, required=True)}

    def discover(self):
        return [Camera(id="cam-01")]

    def list_clips(self, cursor):
        for path in sorted(Path(self.config["folder"]).glob("*.mp4")):
            n = int(path.stem)
            if cursor and n <= int(cursor):
                continue
            yield ClipInfo(key=f"n{n}", camera="cam-01", name=path.name, cursor=str(n), size=path.stat().st_size,
                           start=datetime(2026, 3, 3, 9, n, tzinfo=UTC))

    def open_clip(self, clip):
        return open(Path(self.config["folder"]) / clip.name, "rb")


def _watch(archive, source: Path) -> Watch:
    return Watch(archive, Numbered({"folder": str(source)}, state_dir_for(archive, "numbered")))


def test_a_live_process_holds_the_watch_until_it_is_gone(archive, small_clip, tmp_path):
    """SQLite (one machine): the owner host:pid is compared and set; a dead owner's watch is taken over."""
    source = tmp_path / "source"
    unique_copy(small_clip, source / "1.mp4")
    watch = _watch(archive, source)
    other = subprocess.Popen(["sleep", "60"])
    try:
        with archive.catalog.session() as s:
            s.execute(update(ConnectorState).where(ConnectorState.name == "numbered")
                      .values(owner=f"{socket.gethostname()}:{other.pid}"))
        with pytest.raises(LongwatchError) as info:
            watch.run_once()
        assert info.value.code == "N018" and str(other.pid) in info.value.render()
        assert archive.catalog.packages() == []
    finally:
        other.kill()
        other.wait()
    [outcome] = watch.run_once()  # its owner is gone: taken over
    assert outcome.error is None and len(archive.catalog.packages()) == 1
    with archive.catalog.session() as s:
        assert s.get(ConnectorState, "numbered").owner == ""  # released after the pass


def test_a_save_over_another_watchers_save_stops_the_watch(archive, small_clip, tmp_path):
    source = tmp_path / "source"
    unique_copy(small_clip, source / "1.mp4")
    late = _watch(archive, source)  # loaded before the other one stored anything
    [first] = _watch(archive, source).run_once()
    assert first.error is None
    late.state.done["n9"] = first.package_id  # what a watcher with a stale state would write
    with pytest.raises(LongwatchError) as info:
        late.state.save()
    assert info.value.code == "N019"
    assert set(_watch(archive, source).state.done) == {"n1"}  # the other watcher's record stands


def test_the_state_file_of_an_older_release_is_imported_once(archive, small_clip, tmp_path):
    source = tmp_path / "source"
    for n in (1, 2):
        unique_copy(small_clip, source / f"{n}.mp4")
    folder = state_dir_for(archive, "numbered")
    folder.mkdir(parents=True)
    legacy = {"schema": "longwatch-watch-state/1", "cursor": "1", "gaps": [], "pending": [], "rejected": {},
              "done": {"n1": "00000000-0000-0000-0000-000000000001"}}
    (folder / "state.json").write_text(json.dumps(legacy), encoding="utf-8")
    outcomes = _watch(archive, source).run_once()
    assert [o.key for o in outcomes] == ["n2"]  # n1 was taken before the upgrade
    assert not (folder / "state.json").exists() and (folder / "state.json.imported").exists()
    state = _watch(archive, source).state
    assert state.cursor == "2" and state.done["n1"] == legacy["done"]["n1"]
