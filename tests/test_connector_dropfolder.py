"""The drop-folder and vendor-export connectors: the conformance kit, restarts, sidecars, bad input."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import configure_storage, local_locations, run_longwatch

from longwatch.core.archive import Archive
from longwatch.core.media.probe import make_test_clip
from longwatch.errors import LongwatchError
from longwatch.plugins.connectors.dropfolder import DropFolderConnector
from longwatch.plugins.connectors.vendor import VendorExportConnector
from longwatch.plugins.connectors.watch import Watch
from longwatch.testing import CameraConnectorContract

T0 = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def clip_bank(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three short clips with bytes of their own, made once."""
    folder = tmp_path_factory.mktemp("bank")
    return [make_test_clip(folder / f"c{i}.mp4", seconds=1, label=f"bank{i}", start=T0 + timedelta(minutes=i))
            for i in range(3)]


class TestDropFolderContract(CameraConnectorContract):
    @pytest.fixture
    def connector_class(self):
        return DropFolderConnector

    @pytest.fixture
    def source(self, tmp_path, clip_bank):
        folder = tmp_path / "drop"
        folder.mkdir()
        for i, clip in enumerate(clip_bank):
            shutil.copy(clip, folder / f"cam-0{i % 2 + 1}_2026030{3}T05{i:02d}00+0900.mp4")
        return folder

    @pytest.fixture
    def connector_config(self, source):
        return {"path": str(source), "settle_seconds": 0, "pattern": r"^(?P<camera>[^_]+)_(?P<start>[^.]+)\.",
                "time_format": "%Y%m%dT%H%M%S%z", "clock_offset_seconds": 30}

    @pytest.fixture
    def expected_clips(self, clip_bank):
        return [sha(c) for c in clip_bank]

    @pytest.fixture
    def expected_clock_offset(self):
        return timedelta(seconds=30)

    @pytest.fixture
    def unreachable_config(self, tmp_path):
        return {"path": str(tmp_path / "no-such-share")}


class TestVendorExportContract(CameraConnectorContract):
    @pytest.fixture
    def connector_class(self):
        return VendorExportConnector

    @pytest.fixture
    def source(self, tmp_path, clip_bank):
        folder = tmp_path / "export"
        folder.mkdir()
        shutil.copy(clip_bank[0], folder / "192.168.1.64_01_20260303140000123.mp4")
        shutil.copy(clip_bank[1], folder / "ch02_20260303140100_20260303140101.mp4")
        shutil.copy(clip_bank[2], folder / "NVR-7_ch3_main_20260303140200_20260303140201.dav")
        return folder

    @pytest.fixture
    def connector_config(self, source):
        return {"path": str(source), "timezone": "Asia/Seoul"}

    @pytest.fixture
    def expected_clips(self, clip_bank):
        return [sha(c) for c in clip_bank]

    @pytest.fixture
    def unreachable_config(self, tmp_path):
        return {"path": str(tmp_path / "unmounted")}


def test_vendor_names_give_camera_and_utc(tmp_path, clip_bank):
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(clip_bank[0], folder / "192.168.1.64_01_20260303140000123.mp4")
    shutil.copy(clip_bank[1], folder / "NVR-7_ch3_main_20260303140200_20260303140201.dav")
    before = {p.name: sha(p) for p in folder.iterdir()}
    connector = VendorExportConnector({"path": str(folder), "timezone": "Asia/Seoul"}, tmp_path / "state")
    clips = {c.camera: c for c in connector.list_clips(None)}
    assert clips["192-168-1-64-ch01"].start == datetime(2026, 3, 3, 5, 0, 0, 123000, tzinfo=UTC)
    dahua = clips["NVR-7-ch03"]
    assert (dahua.start, dahua.end) == (datetime(2026, 3, 3, 5, 2, tzinfo=UTC), datetime(2026, 3, 3, 5, 2, 1,
                                                                                           tzinfo=UTC))
    assert dahua.metadata["vendor"] == "dahua"
    archive = Archive.create(tmp_path / "a", language="en")
    try:
        outcomes = Watch(archive, connector).run_once()
        assert all(o.package_id and not o.error for o in outcomes)
    finally:
        archive.close()
    assert {p.name: sha(p) for p in folder.iterdir()} == before  # the export folder is never touched


def test_json_and_csv_sidecars_and_move_after_verify(tmp_path, archive, clip_bank):
    drop = tmp_path / "drop"
    drop.mkdir()
    a, b = drop / "a.mp4", drop / "b.mp4"
    shutil.copy(clip_bank[0], a)
    shutil.copy(clip_bank[1], b)
    (drop / "a.mp4.json").write_text(json.dumps({"camera": "cam-a", "start": "2026-03-03T14:00:00+09:00",
                                                 "zone": "Jung-gu/Market"}), encoding="utf-8")
    (drop / "b.csv").write_text("camera,start,title\ncam-b,2026-03-03T05:01:00Z,Gate\n", encoding="utf-8")
    connector = DropFolderConnector({"path": str(drop), "settle_seconds": 0}, tmp_path / "state")
    outcomes = Watch(archive, connector).run_once()
    assert [o.error for o in outcomes] == [None, None]
    rows = {p.camera: p for p in archive.catalog.packages()}
    assert rows["cam-a"].start_utc.replace(tzinfo=UTC) == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    assert rows["cam-a"].zone == "Jung-gu/Market"
    assert rows["cam-b"].title == "Gate"
    assert not a.exists() and not b.exists()
    done = drop / ".longwatch-archived"
    assert sha(done / "a.mp4") == sha(clip_bank[0]) and (done / "a.mp4.json").exists() and (done / "b.csv").exists()
    storage = archive.storage()
    files = set(storage.package_files(rows["cam-a"].id))
    assert "data/media/a.mp4" in files and "data/sidecar/a.mp4.json" in files
    with storage.open_package_file(rows["cam-a"].id, "data/sidecar/a.mp4.json") as fh:
        side = json.loads(fh.read())
    original = side["connector"]["original_sidecars"]["a.mp4.json"]
    assert json.loads(original["text"])["camera"] == "cam-a"


def test_incomplete_file_waits(tmp_path, clip_bank):
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(clip_bank[0], drop / "growing.mp4")
    connector = DropFolderConnector({"path": str(drop), "settle_seconds": 3600}, tmp_path / "state")
    assert list(connector.list_clips(None)) == []  # changed just now: still being written
    (drop / "growing.mp4.done").touch()
    assert [c.name for c in connector.list_clips(None)] == ["growing.mp4"]  # the writer's marker says complete


def test_restart_in_the_middle_no_double_no_loss(tmp_path, archive, clip_bank):
    drop = tmp_path / "drop"
    drop.mkdir()
    for i, clip in enumerate(clip_bank):
        shutil.copy(clip, drop / f"cam-01_{i}.mp4")
    config = {"path": str(drop), "settle_seconds": 0, "camera": "cam-01"}
    state = tmp_path / "state"
    calls = []

    def crash(clip, package_id):
        calls.append(package_id)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed after storing the 2nd clip, before releasing it

    with pytest.raises(KeyboardInterrupt):
        Watch(archive, DropFolderConnector(config, state), after_store=crash).run_once()
    assert (drop / "cam-01_1.mp4").exists()  # not yet released: nothing lost
    outcomes = Watch(archive, DropFolderConnector(config, state)).run_once()
    assert [o.already for o in outcomes] == [True, False]
    rows = archive.catalog.packages()
    assert sorted(c.sha256 for p in rows for c in p.clips) == sorted(sha(c) for c in clip_bank)
    assert sorted(p.name for p in drop.iterdir() if p.is_file()) == []


def test_hostile_names_archived_with_original_name(tmp_path, archive, clip_bank):
    drop = tmp_path / "drop"
    drop.mkdir()
    names = ["new\nline.mp4", "-rf --no-preserve-root.mp4", "a:b*?<>|.mp4", "카메라 1 (정문).mp4", "x" * 200 + ".mp4",
             "a%0Ab.mp4"]
    for name, clip in zip(names, [*clip_bank, *clip_bank], strict=True):
        (drop / name).write_bytes(clip.read_bytes() + name.encode())  # unique bytes per file
    (drop / "link.mp4").symlink_to(clip_bank[0])  # a link out of the folder is never followed
    (drop / ".partial.mp4").write_bytes(b"copy in progress")  # hidden: a copy tool's temporary file
    connector = DropFolderConnector({"path": str(drop), "settle_seconds": 0, "camera": "cam-01"}, tmp_path / "s")
    outcomes = Watch(archive, connector).run_once()
    assert sorted(o.name for o in outcomes) == sorted(names)
    assert all(o.package_id and o.error is None for o in outcomes)
    assert (drop / "link.mp4").is_symlink() and (drop / ".partial.mp4").exists()
    stored = {c.original_name for p in archive.catalog.packages() for c in p.clips}
    assert "new%0Aline.mp4" in stored and "카메라 1 (정문).mp4" in stored


def test_camera_clock_far_off_is_n009_and_file_stays(tmp_path, archive, clip_bank):
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(clip_bank[0], drop / "cam-01_20991231T000000Z.mp4")
    connector = DropFolderConnector({"path": str(drop), "settle_seconds": 0, "pattern": r"^(?P<camera>[^_]+)_"
                                     r"(?P<start>\d{8}T\d{6}Z)", "time_format": "%Y%m%dT%H%M%S%z"},
                                    tmp_path / "state")
    [outcome] = Watch(archive, connector).run_once()
    assert outcome.error is not None and outcome.error.code == "N009"
    assert (drop / "cam-01_20991231T000000Z.mp4").exists()
    assert archive.catalog.packages() == []


@pytest.mark.parametrize(("config", "detail"), [
    ({}, "'path' is required"),
    ({"path": "/x", "after": "delete"}, "'after'"),
    ({"path": "/x", "settle_seconds": "soon"}, "'settle_seconds'"),
    ({"path": "/x", "pattern": "("}, "'pattern'"),
    ({"path": "/x", "timezone": "Mars/Olympus"}, "'timezone'"),
])
def test_bad_configuration_is_n001(tmp_path, config, detail):
    with pytest.raises(LongwatchError) as info:
        DropFolderConnector(config, tmp_path)
    assert info.value.code == "N001" and detail in str(info.value)


def test_bad_sidecar_is_reported_and_file_stays(tmp_path, archive, clip_bank):
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(clip_bank[0], drop / "a.mp4")
    shutil.copy(clip_bank[1], drop / "b.mp4")
    (drop / "a.csv").write_text("camera,start\ncam-a,x\ncam-b,y\n", encoding="utf-8")
    connector = DropFolderConnector({"path": str(drop), "settle_seconds": 0, "camera": "cam-01"},
                                    tmp_path / "state")
    outcomes = {o.name: o for o in Watch(archive, connector).run_once()}
    assert outcomes["a.mp4"].error.code == "I005"
    assert outcomes["b.mp4"].package_id and outcomes["b.mp4"].error is None  # the others go on
    assert (drop / "a.mp4").exists() and (drop / "a.csv").exists()


def test_watch_command_stops_cleanly_on_sigterm(tmp_path, archive, clip_bank):
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(clip_bank[0], drop / "a.mp4")
    config = tmp_path / "drop.toml"
    config.write_text(f'path = "{drop}"\nsettle_seconds = 0\ncamera = "cam-01"\n', encoding="utf-8")
    exe = str(Path(sys.executable).parent / "longwatch")
    proc = subprocess.Popen([exe, "-A", str(archive.root), "watch", "drop-folder",
                             "--config", str(config), "--interval", "0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while (drop / "a.mp4").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        proc.terminate()
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "1 clip stored," in err
    assert len(archive.catalog.packages()) == 1


def test_original_kept_until_the_replication_policy_is_met(tmp_path, archive, clip_bank):
    """A second copy that cannot be made keeps the drop-folder original; the next pass completes and releases."""
    offsite = tmp_path / "offsite"
    offsite.write_text("not a directory: this location cannot take a copy yet")
    archive = configure_storage(archive, local_locations(offsite, '["primary", "offsite"]'))
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(clip_bank[0], drop / "a.mp4")
    connector = DropFolderConnector({"path": str(drop), "settle_seconds": 0}, tmp_path / "state")

    [outcome] = Watch(archive, connector).run_once()
    assert outcome.error is not None and outcome.error.code == "N015"
    assert (drop / "a.mp4").exists()  # one copy only: the original stays
    [row] = archive.catalog.packages()

    offsite.unlink()  # the location comes back
    [outcome] = Watch(archive, connector).run_once()
    assert outcome.error is None, outcome.error
    assert not (drop / "a.mp4").exists()
    assert [p.id for p in archive.catalog.packages()] == [row.id]  # the same package, not a second one
    assert archive.storage("offsite").has_package(row.id)
    archive.close()


def test_original_kept_until_its_retention_class_policy_is_met(tmp_path, archive, clip_bank):
    """The copies asked for are those of the package's retention class, not the default policy."""
    offsite = tmp_path / "offsite"
    offsite.write_text("not a directory: this location cannot take a copy yet")
    # one copy by default; the default schedule puts footage in class "continuous", which asks for two
    archive = configure_storage(archive, local_locations(offsite, '["primary"]', 'continuous = ["primary", "offsite"]'))
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(clip_bank[0], drop / "a.mp4")
    connector = DropFolderConnector({"path": str(drop), "settle_seconds": 0, "camera": "cam-1"}, tmp_path / "state")

    [outcome] = Watch(archive, connector).run_once()
    assert outcome.error is not None and outcome.error.code == "N015"
    assert outcome.error.context["wanted"] == 2
    assert (drop / "a.mp4").exists()

    offsite.unlink()
    [outcome] = Watch(archive, connector).run_once()
    assert outcome.error is None, outcome.error
    assert not (drop / "a.mp4").exists()
    assert archive.storage("offsite").has_package(outcome.package_id)
    archive.close()


def test_watch_once_from_cron_archives_settled_files_without_markers(tmp_path, archive, clip_bank):
    """Each cron run is one look: a file nobody wrote to for settle_seconds is archived; a fresh one waits."""
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(clip_bank[0], drop / "settled.mp4")
    shutil.copy(clip_bank[1], drop / "fresh.mp4")
    old = time.time() - 120
    os.utime(drop / "settled.mp4", (old, old))
    config = tmp_path / "drop.toml"
    config.write_text(f'path = "{drop}"\nsettle_seconds = 60\ncamera = "cam-01"\n', encoding="utf-8")
    done = run_longwatch("-A", archive.root, "watch", "drop-folder", "--config", config, "--once")
    assert done.returncode == 0, done.stderr
    stored = [c.original_name for p in archive.catalog.packages() for c in p.clips]
    assert stored == ["settled.mp4"]
    assert not (drop / "settled.mp4").exists() and (drop / "fresh.mp4").exists()  # moved once stored; left
    os.utime(drop / "fresh.mp4", (old, old))  # the next cron run, after the copy has settled
    done = run_longwatch("-A", archive.root, "watch", "drop-folder", "--config", config, "--once")
    assert done.returncode == 0, done.stderr
    assert sorted(c.original_name for p in archive.catalog.packages() for c in p.clips) == ["fresh.mp4",
                                                                                            "settled.mp4"]


def test_a_file_that_changed_since_the_last_look_waits(tmp_path, clip_bank):
    drop = tmp_path / "drop"
    drop.mkdir()
    path = drop / "x.mp4"
    shutil.copy(clip_bank[0], path)
    old = time.time() - 120
    os.utime(path, (old, old))
    connector = DropFolderConnector({"path": str(drop), "settle_seconds": 60}, tmp_path / "state")
    assert [c.name for c in connector.list_clips(None)] == ["x.mp4"]
    with path.open("ab") as fh:
        fh.write(b"more")
    os.utime(path, (old, old))  # a writer that keeps an old mtime: the size still tells
    assert list(connector.list_clips(None)) == []
