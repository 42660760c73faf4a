"""The RTSP recorder against a real GStreamer RTSP server on 127.0.0.1: kit, outages, stalls, credentials."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rtsp import RtspServer

from longwatch.clock import parse_time
from longwatch.errors import LongwatchError
from longwatch.plugins.connectors.rtsp import RtspRecorder
from longwatch.plugins.connectors.watch import Watch
from longwatch.testing import CameraConnectorContract

FAST = {"segment_seconds": 1, "backoff_min": 0.3, "backoff_max": 1, "stall_seconds": 2, "pack_seconds": 0}
PACKED = {**FAST, "pack_seconds": 3600}  # a camera-hour per package


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def sessions_with_packets(recorder: RtspRecorder) -> int:
    return sum(1 for _, info in recorder._sessions() if info.get("t0") is not None)


def record_through_an_outage(recorder: RtspRecorder, server: RtspServer, before: Callable[[], object]) -> None:
    """Record until a first segment exists, run ``before``, drop the camera off the network for 2 s,
    and record again until a second session has packets; the recorder is closed afterwards."""
    recorder.open()
    try:
        wait_for(lambda: len(list(recorder.list_clips(None))) >= 1)
        before()
        server.stop()
        time.sleep(2)
        server.start()
        wait_for(lambda: sessions_with_packets(recorder) >= 2)
        time.sleep(1.2)
    finally:
        recorder.close()


@pytest.fixture(scope="module")
def recorded_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, RtspServer]]:
    """About four seconds of a camera with an outage in the middle, recorded once for the kit;
    the server stays up for the module so that the kit's discovery talks to it."""
    work = tmp_path_factory.mktemp("rtsp-recorded")
    server = RtspServer(work)
    server.start()
    state = work / "state"
    recorder = RtspRecorder({"url": server.url(), "camera": "cam-01", **FAST}, state)
    try:
        recorder.open()
        wait_for(lambda: len(list(recorder.list_clips(None))) >= 2)
        server.stop()
        time.sleep(1.5)
        server.start()
        wait_for(lambda: sessions_with_packets(recorder) >= 2)
        time.sleep(1.5)
    except BaseException:
        recorder.close()
        server.stop()
        raise
    recorder.close()
    try:
        yield state, server
    finally:
        server.stop()


@pytest.fixture
def recorded(recorded_live):
    return recorded_live[0]


class TestRtspContract(CameraConnectorContract):
    @pytest.fixture
    def connector_class(self):
        return RtspRecorder

    @pytest.fixture
    def connector_config(self, recorded_live):
        port = recorded_live[1].port
        return {"url": f"rtsp://viewer:s3cret-pw@127.0.0.1:{port}/cam1", "camera": "cam-01", **PACKED}

    @pytest.fixture
    def secret_values(self):
        return ["s3cret-pw"]

    @pytest.fixture
    def bad_credentials_config(self, rtsp_auth_server):
        return {"url": rtsp_auth_server.url(), "camera": "cam-01", "username": "viewer", "password": "wrong-pw",
                **FAST}

    @pytest.fixture
    def connector_state(self, recorded, tmp_path):
        state = tmp_path / "state"
        shutil.copytree(recorded, state)
        return state

    @pytest.fixture
    def expected_clips(self, recorded):
        return [hashlib.sha256(p.read_bytes()).hexdigest() for p in recorded.glob("segments/*/seg*.ts")]

    @pytest.fixture
    def expected_clock_offset(self):
        return timedelta(0)  # boundaries come from the archive's clock, not the camera's

    @pytest.fixture
    def expected_gaps(self, recorded):
        sessions = [json.loads(p.read_text()) for p in sorted(recorded.glob("segments/*/session.json"))]
        live = [s for s in sessions if s["t0"] is not None]
        from datetime import UTC, datetime

        first_end = max(float(row.split(",")[2]) for row in
                        (sorted(recorded.glob("segments/*/segments.csv"))[0]).read_text().split())
        start = datetime.fromtimestamp(live[0]["t0"] + first_end, UTC)
        return [(start, datetime.fromtimestamp(live[1]["t0"], UTC))]

    @pytest.fixture
    def unreachable_config(self, refused_port):
        return {"url": f"rtsp://127.0.0.1:{refused_port}/cam1", "camera": "cam-01", **FAST}


def test_discover_and_bad_credentials(rtsp_auth_server, tmp_path):
    good = RtspRecorder({"url": f"rtsp://viewer:s3cret-pw@127.0.0.1:{rtsp_auth_server.port}/cam1",
                         "camera": "cam-01", **FAST}, tmp_path / "good")
    assert "s3cret-pw" not in repr(good) and "s3cret-pw" not in good.device
    assert [c.id for c in good.discover()] == ["cam-01"]
    bad = RtspRecorder({"url": rtsp_auth_server.url(), "camera": "cam-01", "username": "viewer",
                        "password": "wrong-pw", **FAST}, tmp_path / "bad")
    with pytest.raises(LongwatchError) as info:
        bad.discover()
    assert info.value.code == "N003" and "wrong-pw" not in info.value.render()


def test_outage_reconnects_records_gap_and_archives_every_segment(rtsp_server, archive, tmp_path):
    recorder = RtspRecorder({"url": rtsp_server.url(), "camera": "cam-01", **FAST}, tmp_path / "state")
    watch = Watch(archive, recorder)
    record_through_an_outage(recorder, rtsp_server, watch.run_once)  # archive while recording
    outcomes = watch.run_once()
    assert not [o.error for o in outcomes if o.error]
    [gap] = recorder.gaps()
    assert gap.end - gap.start >= timedelta(seconds=1.5)
    assert [json.loads(line) for line in (tmp_path / "state" / "gaps.jsonl").read_text().splitlines()] == \
        [gap.to_dict()]
    rows = archive.catalog.packages(limit=1000)
    assert len(rows) >= 3 and all(p.camera == "cam-01" and p.clips[0].codec == "h264" for p in rows)
    storage = archive.storage()
    ranges = []
    for p in rows:  # the exact segment boundaries travel in the connector sidecar
        [side] = [f for f in storage.package_files(p.id) if f.startswith("data/sidecar/")]
        with storage.open_package_file(p.id, side) as fh:
            data = json.loads(fh.read())
        ranges.append((parse_time(data["start"]), parse_time(data["end"])))
        assert p.start_utc.replace(tzinfo=UTC) == ranges[-1][0]
    ranges.sort()
    holes = [b[0] - a[1] for a, b in itertools.pairwise(ranges) if b[0] - a[1] > timedelta(milliseconds=1)]
    assert len(holes) == 1 and holes[0] == gap.end - gap.start  # contiguous except across the outage
    assert list((tmp_path / "state" / "segments").glob("*/seg*.ts")) == []  # staging freed after verify


def test_stalled_stream_times_out_and_reconnects(rtsp_server, tmp_path):
    recorder = RtspRecorder({"url": rtsp_server.url(), "camera": "cam-01", **FAST}, tmp_path / "state")
    recorder.open()
    try:
        wait_for(lambda: sessions_with_packets(recorder) >= 1 and len(list(recorder.list_clips(None))) >= 1)
        rtsp_server.pause()  # connection open, no data: ffmpeg must give up after stall_seconds
        wait_for(lambda: any(info.get("ended") for _, info in recorder._sessions()), timeout=30)
        rtsp_server.resume()
        wait_for(lambda: sessions_with_packets(recorder) >= 2, timeout=30)
    finally:
        recorder.close()
    assert len(recorder.gaps()) == 1


def test_killed_ffmpeg_leaves_a_partial_segment_that_is_kept(rtsp_server, archive, tmp_path):
    recorder = RtspRecorder({"url": rtsp_server.url(), "camera": "cam-01", "segment_seconds": 30,
                             "backoff_min": 30, "backoff_max": 30}, tmp_path / "state")
    recorder.open()
    try:
        wait_for(lambda: any(p.stat().st_size > 20_000 for p in (tmp_path / "state").glob("segments/*/seg*.ts")))
        assert recorder._proc is not None
        recorder._proc.kill()  # SIGKILL: no segment list entry, no clean end
        wait_for(lambda: any(info.get("ended") for _, info in recorder._sessions()))
    finally:
        recorder.close()
    [clip] = list(recorder.list_clips(None))
    assert clip.partial and clip.start is not None
    [outcome] = Watch(archive, recorder).run_once()
    assert outcome.error is None
    storage = archive.storage()
    sidecar = f"data/sidecar/{clip.name}.json"
    with storage.open_package_file(outcome.package_id, sidecar) as fh:
        assert json.loads(fh.read())["connector"]["partial"] is True


def test_record_command_archives_segments(rtsp_server, lw, archive):
    result = lw("record", rtsp_server.url(), "--camera", "cam-07", "--segment-seconds", "1", "--duration", "3.5",
                "--pack-seconds", "0")
    assert result.exit_code == 0, result.output
    rows = archive.catalog.packages()
    assert len(rows) >= 2 and {p.camera for p in rows} == {"cam-07"}


def hours(clips) -> set[datetime]:
    return {c.start_utc.replace(minute=0, second=0, microsecond=0) for c in clips}


def test_record_packs_the_open_hour_on_shutdown(rtsp_server, lw, archive):
    """The camera-hour is still open when recording stops: what was recorded is packed, not left behind."""
    result = lw("record", rtsp_server.url(), "--camera", "cam-07", "--segment-seconds", "1", "--duration", "3.5")
    assert result.exit_code == 0, result.output
    rows = archive.catalog.packages()
    clips = [c for p in rows for c in p.clips]
    assert len(clips) >= 2 and len(rows) == len(hours(clips))  # one package per camera-hour
    assert all(p.file_count >= len(p.clips) for p in rows)
    assert lw("verify", "--all").exit_code == 0


def test_outage_inside_a_packed_hour_is_a_gap_in_catalog_ledger_and_package(rtsp_server, archive, lw, tmp_path):
    from longwatch.core import custody
    from longwatch.core.preservation import gaps

    recorder = RtspRecorder({"url": rtsp_server.url(), "camera": "cam-01", **PACKED}, tmp_path / "state")
    watch = Watch(archive, recorder)
    def the_hour_is_open() -> None:
        assert watch.run_once(flush=False) == [] and archive.catalog.packages() == []

    record_through_an_outage(recorder, rtsp_server, the_hour_is_open)
    outcomes = watch.run_once()  # the recorder is closed: pack what it has
    assert outcomes and not [o.error for o in outcomes if o.error]
    [gap] = recorder.gaps()
    # the catalog knows the gap, so searches and reports can say "no footage from X to Y"
    [row] = gaps.overlapping(archive.catalog, gap.start - timedelta(minutes=1), gap.end + timedelta(minutes=1))
    assert (row.camera, row.start, row.end) == ("cam-01", gap.start, gap.end) and row.reason
    listed = json.loads(lw("gaps", "--camera", "cam-01", "--json").stdout)["gaps"]
    assert [(g["start"], g["end"]) for g in listed] == [(gap.to_dict()["start"], gap.to_dict()["end"])]
    found = json.loads(lw("search", "--from", gap.to_dict()["start"], "--to", gap.to_dict()["end"],
                          "--json").stdout)
    assert found["items"] == [] or all(it["end"] <= gap.to_dict()["start"] or it["start"] >= gap.to_dict()["end"]
                                       for it in found["items"])
    assert [g["reason"] for g in found["gaps"]] == [row.reason]
    # ... and so does the custody ledger, signed with everything else
    ledger = custody.Ledger.for_archive(archive)
    entries = [json.loads(line) for _seq, line in ledger.lines()]  # (seq, bytes)
    [entry] = [e for e in entries if e["type"] == "capture"]
    assert entry["outcome"] == "failure" and entry["extra"]["gap"]["start"] == gap.to_dict()["start"]
    # one package per camera-hour, each segment its own clip, contiguous except across the outage
    rows = archive.catalog.packages(limit=1000)
    clips = sorted((c for p in rows for c in p.clips), key=lambda c: c.start_utc)
    assert len(clips) == len(outcomes) >= 3 and len(rows) == len(hours(clips))
    holes = [(a.end_utc, b.start_utc) for a, b in itertools.pairwise(clips)
             if b.start_utc - a.end_utc > timedelta(milliseconds=1)]
    assert holes == [(gap.start, gap.end)]
    storage = archive.storage()
    [holder] = [p for p in rows if p.start_utc <= gap.start <= p.end_utc]
    with storage.open_package_file(holder.id, "metadata/technical.json") as fh:
        assert gap.to_dict() in [{k: g[k] for k in ("camera", "start", "end", "reason")}
                                      for g in json.loads(fh.read())["gaps"]]
    assert lw("verify", "--all").exit_code == 0
    assert list((tmp_path / "state" / "segments").glob("*/seg*.ts")) == []  # staging freed after verify


def test_empty_and_truncated_segments_in_a_packed_hour(rtsp_server, archive, tmp_path):
    """A zero-byte segment becomes a coded gap and stays where it is; a truncated one is kept as received."""
    from longwatch.core.preservation import gaps

    recorder = RtspRecorder({"url": rtsp_server.url(), "camera": "cam-01", **PACKED}, tmp_path / "state")
    recorder.open()
    try:
        wait_for(lambda: len(list(recorder.list_clips(None))) >= 3)
    finally:
        recorder.close()
    clips = list(recorder.list_clips(None))
    empty, cut = recorder._path(clips[1]), recorder._path(clips[2])
    empty.write_bytes(b"")
    cut.write_bytes(cut.read_bytes()[:1000])  # stops mid-packet (1000 is not a multiple of 188)
    cut_bytes = cut.read_bytes()
    outcomes = {o.key: o for o in Watch(archive, recorder).run_once()}
    assert outcomes[clips[1].key].error.code == "N012"
    assert outcomes[clips[2].key].error is None and outcomes[clips[2].key].warning.code == "N013"
    assert empty.exists() and empty.stat().st_size == 0  # nothing is deleted
    [row] = gaps.overlapping(archive.catalog)
    assert (row.start, row.end, row.reason) == (clips[1].start, clips[1].end, "empty segment")
    package_id = outcomes[clips[2].key].package_id
    stored = archive.catalog.get(package_id)
    [kept] = [c for c in stored.clips if c.original_name == clips[2].name]
    assert kept.sha256 == hashlib.sha256(cut_bytes).hexdigest() and kept.size_bytes == 1000
    assert clips[1].name not in {c.original_name for c in stored.clips}
    again = Watch(archive, recorder).run_once()  # reported once; nothing stored twice
    assert not [o.error for o in again if o.error] and len(archive.catalog.packages()) == len(
        {o.package_id for o in outcomes.values() if o.package_id})


def test_unreachable_record_reports_n002(tmp_path, refused_port):
    recorder = RtspRecorder({"url": f"rtsp://127.0.0.1:{refused_port}/x", "camera": "cam-01", **FAST},
                            tmp_path / "state")
    recorder.open()
    try:
        wait_for(lambda: recorder.last_error is not None)
    finally:
        recorder.close()
    assert recorder.last_error.code == "N002"
    assert list(recorder.list_clips(None)) == []


def test_disk_full_stops_recording_with_n008(rtsp_server, tmp_path):
    """Below min_free_mb no session starts: N008, nothing already staged is touched."""
    staged = tmp_path / "state" / "segments" / "20260303T050000000000Z"
    staged.mkdir(parents=True)
    (staged / "seg000000.ts").write_bytes(b"earlier footage")
    recorder = RtspRecorder({"url": rtsp_server.url(), "camera": "cam-01", "min_free_mb": 1e12, **FAST},
                            tmp_path / "state")
    recorder.open()
    try:
        wait_for(lambda: recorder.last_error is not None)
    finally:
        recorder.close()
    assert recorder.last_error.code == "N008"
    assert (staged / "seg000000.ts").read_bytes() == b"earlier footage"
    assert sorted(p.name for p in (tmp_path / "state" / "segments").iterdir()) == [staged.name]


def test_password_never_written_anywhere(rtsp_auth_server, archive, tmp_path):
    state = tmp_path / "state"
    recorder = RtspRecorder({"url": rtsp_auth_server.url(), "camera": "cam-01", "username": "viewer",
                             "password": "s3cret-pw", **FAST}, state)
    watch = Watch(archive, recorder)
    recorder.open()
    try:
        wait_for(lambda: len(list(recorder.list_clips(None))) >= 1)
    finally:
        recorder.close()
    outcomes = watch.run_once()
    assert outcomes and all(o.package_id for o in outcomes)
    written = [p for p in [*state.rglob("*"), *archive.root.rglob("*")] if p.is_file()]
    assert not [p for p in written if b"s3cret-pw" in p.read_bytes()]


class PowerCut(BaseException):
    """Stands for the machine losing power between publishing a package and saving the watch state."""


def test_crash_after_publish_then_the_hour_grows_loses_nothing(rtsp_server, archive, tmp_path):
    state = tmp_path / "state"

    def record_some(count: int) -> None:
        recorder = RtspRecorder({"url": rtsp_server.url(), "camera": "cam-01", **PACKED}, state)
        before = len(list(recorder.list_clips(None)))
        recorder.open()
        try:
            wait_for(lambda: len(list(recorder.list_clips(None))) >= before + count)
        finally:
            recorder.close()

    record_some(2)
    first = {c.key for c in RtspRecorder({"url": rtsp_server.url(), "camera": "cam-01", **PACKED},
                                         state).list_clips(None)}
    crashing = Watch(archive, RtspRecorder({"url": rtsp_server.url(), "camera": "cam-01", **PACKED}, state))

    def cut(package_id):
        raise PowerCut

    crashing._verify = cut  # published, not yet recorded in the watch state
    with pytest.raises(PowerCut):
        crashing.run_once()
    [published] = archive.catalog.packages()
    record_some(1)  # recording goes on in the same camera-hour (or the next)
    recorder = RtspRecorder({"url": rtsp_server.url(), "camera": "cam-01", **PACKED}, state)
    clips = list(recorder.list_clips(None))
    digests = sorted(hashlib.sha256(recorder._path(c).read_bytes()).hexdigest() for c in clips)
    watch = Watch(archive, recorder)
    outcomes = watch.run_once()
    assert not [o.error for o in outcomes if o.error]
    assert {watch.state.done[k] for k in first} == {published.id}  # taken over, not stored twice
    assert set(watch.state.done) == {c.key for c in clips}  # every segment stored, none dropped
    stored = sorted(c.sha256 for p in archive.catalog.packages(limit=100) for c in p.clips)
    assert stored == digests
    assert len(archive.catalog.packages()) == 2
