"""Vendor container formats through the vendor-export connector: Dahua .dav, fragmented MP4.

The .dav fixtures are synthetic, built by tests/dhav_fixture.py from real
H.264 frames; the first test is what makes them honest: ffmpeg's own ``dhav``
demuxer reads every frame back, with the times the headers carry.
"""

from __future__ import annotations

import hashlib
import json
import random
import struct
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dhav_fixture import h264_access_units, write_dav

from longwatch.core.aip import package as package_mod
from longwatch.plugins.connectors import dhav
from longwatch.plugins.connectors.vendor import VendorExportConnector
from longwatch.plugins.connectors.watch import Watch
from longwatch.web.package_view import access_copy_view, needs_access_copy

LOCAL_START = datetime(2026, 3, 3, 14, 2, 0)  # the recorder's wall clock (Asia/Seoul)
DAHUA_NAME = "NVR-7_ch3_main_20260303140200_20260303140202.dav"


@pytest.fixture(scope="module")
def units() -> list[bytes]:
    return h264_access_units(2.0, rate=25)


@pytest.fixture(scope="module")
def dav(tmp_path_factory: pytest.TempPathFactory, units: list[bytes]) -> Path:
    return write_dav(tmp_path_factory.mktemp("dav") / "fixture.dav", LOCAL_START, rate=25, channel=3, units=units)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ffprobe(path: Path, *args: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)], capture_output=True,
                         check=True, timeout=60).stdout
    return json.loads(out)


def picture_digests(source: Path | str, *before: str) -> list[str]:
    """MD5 of every decoded picture: equal lists mean the same pictures, whatever the container."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", *before, "-i", str(source), "-map", "0:v",
                          "-f", "framemd5", "-"], capture_output=True, check=True, timeout=60).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.decode().splitlines() if line and line[0] != "#"]


def test_ffmpeg_reads_the_synthetic_dav(tmp_path, dav, units):
    info = ffprobe(dav, "-count_packets", "-show_format", "-show_streams", "-show_entries", "packet=pts")
    assert info["format"]["format_name"] == "dhav"
    [stream] = info["streams"]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 160, 120)
    assert int(stream["nb_read_packets"]) == len(units) == 50
    pts = [int(p["pts"]) for p in info["packets"]]
    # ffmpeg times packets from the header's date (as if UTC) plus the millisecond counter
    assert pts[0] == int(LOCAL_START.replace(tzinfo=UTC).timestamp() * 1000)
    assert pts[-1] - pts[0] + 40 == 2000
    # the records carry the encoder's frames unchanged: the same pictures as the raw H.264 stream
    raw = tmp_path / "raw.h264"
    raw.write_bytes(b"".join(units))
    assert picture_digests(dav) == picture_digests(raw, "-f", "h264")
    # and the header reader agrees with ffmpeg
    read = dhav.read(dav)
    assert read is not None
    assert (read.channel, read.video_frames, read.key_frames, read.frame_rate, read.codec) == (3, 50, 2, 25, "h264")
    assert (read.start, read.end, read.truncated) == (LOCAL_START, datetime(2026, 3, 3, 14, 2, 2), False)


def test_dav_is_archived_untouched_with_times_from_its_frames(tmp_path, archive, dav):
    folder = tmp_path / "export"
    folder.mkdir()
    src = folder / DAHUA_NAME
    src.write_bytes(dav.read_bytes())
    connector = VendorExportConnector({"path": str(folder), "timezone": "Asia/Seoul", "clock_offset_seconds": 30},
                                      tmp_path / "state")
    [clip] = connector.list_clips(None)
    assert clip.camera == "NVR-7-ch03"
    # 14:02:00 in Seoul is 05:02:00 UTC; the recorder's clock runs 30 s fast
    assert (clip.start, clip.end) == (datetime(2026, 3, 3, 5, 1, 30, tzinfo=UTC),
                                      datetime(2026, 3, 3, 5, 1, 32, tzinfo=UTC))
    embedded = clip.metadata["embedded"]
    assert (embedded["format"], embedded["channel"], embedded["video_frames"]) == ("dhav", 3, 50)
    assert embedded["name_start"].startswith("2026-03-03T14:02:00")

    [outcome] = Watch(archive, connector).run_once()
    assert outcome.error is None and outcome.warning is None, outcome.error
    pkg = archive.catalog.get(outcome.package_id)
    [row] = pkg.clips
    stored = archive.storage().local_path(pkg.id) / row.relpath
    assert sha(stored) == sha(src) == row.sha256  # bit for bit
    assert row.probe_ok and pkg.media_ok
    assert (row.start_utc, row.end_utc) == (clip.start, clip.end)
    assert sha(src) == sha(dav)  # the export folder is never touched

    # a browser cannot play .dav: the access copy is the same pictures in an MP4 box, no re-encoding
    assert needs_access_copy(row)
    copy = access_copy_view(archive, pkg, row).path  # a file under the local primary's folder
    info = ffprobe(copy, "-count_packets", "-show_format", "-show_streams")
    assert "mp4" in info["format"]["format_name"]
    assert int(info["streams"][0]["nb_read_packets"]) == 50
    assert picture_digests(copy) == picture_digests(stored)


def test_dav_with_any_name_takes_camera_from_its_channel(tmp_path, units):
    folder = tmp_path / "usb"
    folder.mkdir()
    write_dav(folder / "export 1.dav", LOCAL_START, rate=25, channel=5, units=units[:25])
    connector = VendorExportConnector({"path": str(folder), "timezone": "UTC"}, tmp_path / "state")
    [clip] = connector.list_clips(None)
    assert clip.camera == "nvr-ch05"
    assert (clip.start, clip.end) == (datetime(2026, 3, 3, 14, 2, tzinfo=UTC),
                                      datetime(2026, 3, 3, 14, 2, 1, tzinfo=UTC))
    configured = VendorExportConnector({"path": str(folder), "camera": "gate-01"}, tmp_path / "state2")
    assert [c.camera for c in configured.list_clips(None)] == ["gate-01"]


def test_truncated_dav_is_kept_whole_and_marked_partial(tmp_path, archive, dav):
    folder = tmp_path / "export"
    folder.mkdir()
    data = dav.read_bytes()
    src = folder / DAHUA_NAME
    src.write_bytes(data[: len(data) * 2 // 3])  # an interrupted copy
    connector = VendorExportConnector({"path": str(folder), "timezone": "Asia/Seoul"}, tmp_path / "state")
    [clip] = connector.list_clips(None)
    assert clip.partial and clip.metadata["embedded"]["truncated"]
    whole = clip.metadata["embedded"]["video_frames"]
    assert 0 < whole < 50
    assert clip.end == datetime(2026, 3, 3, 5, 2, tzinfo=UTC) + timedelta(milliseconds=whole * 40)

    [outcome] = Watch(archive, connector).run_once()
    assert outcome.error is None
    assert outcome.warning is not None and outcome.warning.code == "N016"
    [row] = archive.catalog.get(outcome.package_id).clips
    assert row.sha256 == sha(src)  # every byte received, the cut frame too
    assert row.probe_ok  # ffmpeg reads the whole frames


def test_junk_between_dav_records_is_skipped_and_marked(tmp_path, dav):
    folder = tmp_path / "export"
    folder.mkdir()
    data = dav.read_bytes()
    cut = data.index(b"DHAV", len(data) // 2)
    (folder / DAHUA_NAME).write_bytes(data[:cut] + b"\x00junk" * 100 + data[cut:])
    connector = VendorExportConnector({"path": str(folder), "timezone": "Asia/Seoul"}, tmp_path / "state")
    [clip] = connector.list_clips(None)
    embedded = clip.metadata["embedded"]
    assert (embedded["video_frames"], embedded["skipped_bytes"], embedded["truncated"]) == (50, 500, False)
    assert clip.partial and clip.end == datetime(2026, 3, 3, 5, 2, 2, tzinfo=UTC)


def test_damaged_dav_is_preserved_with_a_failed_validation(tmp_path, archive):
    folder = tmp_path / "export"
    folder.mkdir()
    src = folder / DAHUA_NAME
    src.write_bytes(b"DHAV" + bytes(range(256)) * 8)  # a header and then nothing a demuxer can read
    connector = VendorExportConnector({"path": str(folder), "timezone": "Asia/Seoul"}, tmp_path / "state")
    [clip] = connector.list_clips(None)
    assert "embedded" not in clip.metadata  # no frame could be read: the name's times are used
    assert clip.start == datetime(2026, 3, 3, 5, 2, tzinfo=UTC)
    [outcome] = Watch(archive, connector).run_once()
    assert outcome.error is None, outcome.error
    pkg = archive.catalog.get(outcome.package_id)
    [row] = pkg.clips
    assert row.sha256 == sha(src) and not row.probe_ok and not pkg.media_ok
    assert not needs_access_copy(row)
    premis = (archive.storage().local_path(pkg.id) / package_mod.PREMIS_PATH).read_text()
    assert "validation" in premis and "fail" in premis


class CountingFile:
    """An unbuffered file that counts the reads it serves: work measured without a clock."""

    def __init__(self, path: Path) -> None:
        self.fh = open(path, "rb", buffering=0)  # closed by the test
        self.reads = self.bytes = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self.fh.read(size) or b""
        self.reads += 1
        self.bytes += len(data)
        return data

    def seek(self, offset: int, whence: int = 0, /) -> int:
        return self.fh.seek(offset, whence)


def hostile_dav(path: Path, dav: Path, size: int = 3 << 20) -> Path:
    """A few real frames, then megabytes of tiny bogus records (lengths under 32) in random junk."""
    rng = random.Random(17)
    real = dav.read_bytes()
    real = real[: real.index(b"DHAV", 8000)]  # whole records only
    junk = bytearray(real)
    while len(junk) < size:
        junk += b"DHAV" + bytes([0xFC, 0, 3, 0]) + struct.pack("<II", rng.randrange(1 << 20), rng.randrange(32))
        junk += rng.randbytes(rng.randrange(24))
    path.write_bytes(bytes(junk))
    return path


def test_hostile_dav_is_read_in_linear_work(tmp_path, dav, monkeypatch):
    """Each byte of junk is read about once, however many bogus records it holds (once quadratic)."""
    src = hostile_dav(tmp_path / "hostile.dav", dav)
    size = src.stat().st_size
    monkeypatch.setattr(dhav, "MAX_RESYNCS", 10**9)  # no early stop: the scan itself must be linear
    counting = CountingFile(src)
    try:
        info = dhav.read_from(counting, size)
    finally:
        counting.fh.close()
    assert info is not None and info.video_frames >= 1 and not info.abandoned
    assert info.resyncs > 50_000  # every bogus record was resynchronised past ...
    assert counting.bytes <= size + 64 * 1024  # ... reading the file about once ...
    assert counting.reads <= 2 * size // dhav.RESYNC_CHUNK + 20 + info.video_frames  # ... in few reads


def test_hostile_dav_stops_at_the_resync_limit_and_is_partial(tmp_path, archive, dav):
    folder = tmp_path / "export"
    folder.mkdir()
    src = hostile_dav(folder / DAHUA_NAME, dav)
    counting = CountingFile(src)
    try:
        info = dhav.read_from(counting, src.stat().st_size)
    finally:
        counting.fh.close()
    assert info is not None and info.abandoned and info.resyncs == dhav.MAX_RESYNCS
    assert counting.bytes <= dhav.RESYNC_CHUNK + 64 * 1024 < src.stat().st_size  # it stopped reading early
    connector = VendorExportConnector({"path": str(folder), "timezone": "Asia/Seoul"}, tmp_path / "state")
    [clip] = connector.list_clips(None)
    assert clip.partial and clip.metadata["embedded"]["abandoned"]
    assert "reading stopped" in clip.metadata["partial_reason"]
    assert clip.start == datetime(2026, 3, 3, 5, 2, tzinfo=UTC)  # from the real frames before the junk
    [outcome] = Watch(archive, connector).run_once()
    assert outcome.error is None and outcome.warning is not None and outcome.warning.code == "N016"
    [row] = archive.catalog.get(outcome.package_id).clips
    assert row.sha256 == sha(src)  # kept whole


def test_reset_recorder_clock_keeps_the_name_times_with_a_warning(tmp_path, archive, units):
    folder = tmp_path / "export"
    folder.mkdir()
    write_dav(folder / DAHUA_NAME, datetime(2000, 1, 1, 0, 0, 0), rate=25, channel=3, units=units)
    connector = VendorExportConnector({"path": str(folder), "timezone": "Asia/Seoul"}, tmp_path / "state")
    [clip] = connector.list_clips(None)
    # the name's times (14:02:00 to 14:02:02 in Seoul), not 2000-01-01 that would make it due for disposal
    assert (clip.start, clip.end) == (datetime(2026, 3, 3, 5, 2, tzinfo=UTC), datetime(2026, 3, 3, 5, 2, 2, tzinfo=UTC))
    embedded = clip.metadata["embedded"]
    assert embedded["first_frame_local"].startswith("2000-01-01T00:00:00")  # the headers' times are kept
    assert embedded["clock"] == "name" and clip.metadata["warning"]["code"] == "N017"
    [outcome] = Watch(archive, connector).run_once()
    assert outcome.error is None and outcome.warning is not None and outcome.warning.code == "N017"
    assert "2000-01-01 00:00:00" in outcome.warning.render() and "name's times were used" in outcome.warning.render()
    [row] = archive.catalog.get(outcome.package_id).clips
    assert row.start_utc == clip.start
    # an operator who trusts the headers can widen the tolerance
    trusting = VendorExportConnector({"path": str(folder), "timezone": "UTC", "dhav_clock_tolerance_seconds": 1e12},
                                     tmp_path / "state2")
    [clip] = trusting.list_clips(None)
    assert clip.start == datetime(2000, 1, 1, tzinfo=UTC) and "warning" not in clip.metadata


def test_dav_frames_out_of_order_span_earliest_to_latest(tmp_path, units):
    later = write_dav(tmp_path / "a.dav", LOCAL_START + timedelta(seconds=1), rate=25, units=units[:25])
    earlier = write_dav(tmp_path / "b.dav", LOCAL_START, rate=25, units=units[25:40])
    both = tmp_path / "both.dav"
    both.write_bytes(later.read_bytes() + earlier.read_bytes())
    info = dhav.read(both)
    assert info is not None and info.video_frames == 40
    assert (info.start, info.end) == (LOCAL_START, LOCAL_START + timedelta(seconds=2))
    assert info.end > info.start


def top_level_boxes(path: Path) -> list[str]:
    data = path.read_bytes()
    boxes, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, at)
        boxes.append(kind.decode("latin-1"))
        at += size if size >= 8 else len(data)
    return boxes


def test_fragmented_mp4_is_stored_untouched_and_played_as_it_is(tmp_path, archive):
    """The container ONVIF export files build on (ISO BMFF in movie fragments): an MP4, nothing more claimed."""
    folder = tmp_path / "export"
    folder.mkdir()
    src = folder / "export-0001.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
                    "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25",
                    "-metadata", "creation_time=2026-03-03T05:03:00Z",
                    "-movflags", "+frag_keyframe+empty_moov+default_base_moof", str(src)], check=True, timeout=60)
    boxes = top_level_boxes(src)
    assert boxes[:2] == ["ftyp", "moov"] and "moof" in boxes and boxes[-1] == "mfra"
    connector = VendorExportConnector({"path": str(folder), "camera": "gate-01"}, tmp_path / "state")
    [clip] = connector.list_clips(None)
    assert "embedded" not in clip.metadata  # no ONVIF boxes are read (docs/connectors.md says why)
    [outcome] = Watch(archive, connector).run_once()
    assert outcome.error is None, outcome.error
    pkg = archive.catalog.get(outcome.package_id)
    [row] = pkg.clips
    assert row.sha256 == sha(src) and row.probe_ok
    assert row.mime_type == "video/mp4" and not needs_access_copy(row)  # the browser plays the original
    assert row.start_utc == datetime(2026, 3, 3, 5, 3, tzinfo=UTC)
