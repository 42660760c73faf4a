"""Ingest archives regular files only: links only when asked, FIFOs, sockets and devices never."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from conftest import error_codes, run_longwatch, unique_copy

from longwatch.core.preservation import ingest as ingest_mod
from longwatch.errors import LongwatchError
from longwatch.plugins.connectors.dropfolder import DropFolderConnector
from longwatch.plugins.connectors.watch import Watch


def nothing_stored(archive) -> None:
    assert list(archive.storage().package_ids()) == []
    assert archive.catalog.all_ids() == []


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "passwd"
    path.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    return path


def test_symlink_refused_by_default(lw, archive, tmp_path, secret):
    link = tmp_path / "x.mp4"
    link.symlink_to(secret)
    result = lw("ingest", str(link))
    assert result.exit_code == 4
    assert error_codes(result.stderr) == ["I051"]
    assert "--follow-symlinks" in result.stderr
    nothing_stored(archive)


def test_symlink_followed_when_asked(lw, archive, tmp_path, small_clip):
    real = unique_copy(small_clip, tmp_path / "real" / "clip.mp4")
    link = tmp_path / "link.mp4"
    link.symlink_to(real)
    result = lw("ingest", "--follow-symlinks", "--json", str(link))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)["packages"][0]
    stored = archive.storage().local_path(out["package_id"]) / "data/media/link.mp4"
    assert stored.read_bytes() == real.read_bytes() and not stored.is_symlink()


def test_fifo_refused_without_hanging(archive, tmp_path):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    done = run_longwatch("-A", archive.root, "ingest", fifo, timeout=60)  # a hang fails by timeout
    assert done.returncode == 4, done.stderr
    assert error_codes(done.stderr) == ["I052"]
    assert "FIFO" in done.stderr
    done = run_longwatch("-A", archive.root, "ingest", "--follow-symlinks", fifo, timeout=60)
    assert error_codes(done.stderr) == ["I052"]
    nothing_stored(archive)


def test_socket_and_devices_refused(lw, archive, tmp_path):
    sock_path = tmp_path / "s.mp4"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        result = lw("ingest", str(sock_path))
        assert error_codes(result.stderr) == ["I052"] and "socket" in result.stderr
    result = lw("ingest", "/dev/null")
    assert error_codes(result.stderr) == ["I052"] and "character device" in result.stderr
    zero = tmp_path / "zero.mp4"
    zero.symlink_to("/dev/zero")  # followed, it would stream without end
    result = lw("ingest", "--follow-symlinks", str(zero))
    assert error_codes(result.stderr) == ["I052"]
    nothing_stored(archive)


def test_directory_reports_each_special_file(lw, archive, tmp_path, small_clip, secret):
    folder = tmp_path / "in"
    unique_copy(small_clip, folder / "good.mp4")
    (folder / "link.mp4").symlink_to(secret)
    os.mkfifo(folder / "pipe.mp4")
    result = lw("ingest", "--json", str(folder))
    assert result.exit_code == 4
    out = json.loads(result.stdout)
    assert len(out["packages"]) == 1
    assert sorted(f["code"] for f in out["failures"]) == ["I051", "I052"]


def test_name_swapped_after_the_check_is_not_read(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"footage")
    checked = ingest_mod.check_source(path)
    path.unlink()
    os.mkfifo(path)  # opened without O_NONBLOCK this would hang
    with pytest.raises(LongwatchError) as info:
        ingest_mod.open_source(path, checked)
    assert info.value.code == "I007"
    path.unlink()
    path.symlink_to(tmp_path)
    with pytest.raises(LongwatchError) as info:
        ingest_mod.open_source(path, checked)
    assert info.value.code == "I051"


def test_drop_folder_skips_fifo_and_link_and_archives_the_rest(tmp_path, archive, small_clip, secret):
    drop = tmp_path / "drop"
    unique_copy(small_clip, drop / "good.mp4")
    os.mkfifo(drop / "pipe.mp4")
    (drop / "link.mp4").symlink_to(secret)
    connector = DropFolderConnector({"path": str(drop), "settle_seconds": 0, "camera": "cam-01"}, tmp_path / "s")
    outcomes = Watch(archive, connector).run_once()
    assert [o.name for o in outcomes] == ["good.mp4"] and outcomes[0].package_id
    assert (drop / "pipe.mp4").exists() and (drop / "link.mp4").is_symlink()  # left as they were


def test_drop_folder_file_swapped_for_a_fifo_is_refused(tmp_path, archive, small_clip):
    drop = tmp_path / "drop"
    unique_copy(small_clip, drop / "good.mp4")
    connector = DropFolderConnector({"path": str(drop), "settle_seconds": 0, "camera": "cam-01"}, tmp_path / "s")
    clip = next(iter(connector.list_clips(None)))
    (drop / "good.mp4").unlink()
    os.mkfifo(drop / "good.mp4")
    with pytest.raises(LongwatchError) as info:
        connector.open_clip(clip)
    assert info.value.code == "I052"

