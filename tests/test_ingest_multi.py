"""Multi-file ingest: a camera-hour of real ffmpeg segments in ONE package, each file its own clip."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import codes_of, verify_json

from longwatch.core.aip import package as package_mod
from longwatch.core.catalog import search as search_api
from longwatch.core.preservation.ingest import IngestRequest, ingest_files
from longwatch.core.preservation.reindex import reindex
from longwatch.errors import LongwatchError

T0 = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three 1-second MPEG-TS segments cut by ffmpeg's segment muxer, as the RTSP recorder writes them."""
    folder = tmp_path_factory.mktemp("segments")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=size=160x120:rate=25:duration=3", "-c:v", "libx264", "-preset", "ultrafast",
                    "-g", "25", "-f", "segment", "-segment_time", "1", "-segment_format", "mpegts",
                    "-reset_timestamps", "1", str(folder / "seg%03d.ts")], check=True)
    found = sorted(folder.glob("seg*.ts"))
    assert len(found) == 3
    return found


def requests_for(paths: list[Path], camera: str = "cam-01") -> list[IngestRequest]:
    return [IngestRequest(path=p, camera=camera, start=T0 + timedelta(seconds=i),
                          end=T0 + timedelta(seconds=i + 1), allow_duplicate=True) for i, p in enumerate(paths)]


def test_segments_share_one_package_and_keep_their_own_minutes(archive, segments, runner):
    results = ingest_files(archive, requests_for(segments),
                           gaps=[{"camera": "cam-01", "start": "2026-03-03T05:00:03Z",
                                  "end": "2026-03-03T05:00:09Z", "reason": "stream ended"}])
    assert len({r.package_id for r in results}) == 1
    package_id = results[0].package_id
    row = archive.catalog.get(package_id)
    assert row is not None and row.file_count == 3 and len(row.clips) == 3
    assert (row.start_utc, row.end_utc) == (T0, T0 + timedelta(seconds=3))
    ranges = sorted((c.start_utc, c.end_utc) for c in row.clips)
    assert ranges == [(T0 + timedelta(seconds=i), T0 + timedelta(seconds=i + 1)) for i in range(3)]

    # time search finds the one segment that covers the minute asked for, not the whole package
    page = search_api.search(archive.catalog, search_api.Query(
        start=T0 + timedelta(seconds=1.2), end=T0 + timedelta(seconds=1.5)))
    assert [it["path"] for it in page.items] == ["data/media/seg001.ts"]

    # every file: its own digests in both manifests, PREMIS object and validation event, technical metadata
    bag = archive.storage().local_path(package_id)
    manifest = package_mod.parse_manifest((bag / "manifest-sha256.txt").read_bytes())
    assert sorted(p for p in manifest if p.startswith("data/media/")) == [f"data/media/{p.name}" for p in segments]
    premis = (bag / "metadata" / "premis.xml").read_text()
    assert all(premis.count(f"data/media/{p.name}") >= 2 for p in segments)  # object + its events
    assert premis.count(">validation<") == 3
    technical = json.loads((bag / "metadata" / "technical.json").read_text())
    assert sorted(technical["files"]) == [f"data/media/{p.name}" for p in segments]
    assert technical["files"]["data/media/seg002.ts"]["start_utc"] == "2026-03-03T05:00:02Z"
    assert technical["gaps"][0]["reason"] == "stream ended"

    # verify checks every file: one flipped bit in the second segment is found and named
    status, report, _ = verify_json(runner, bag)
    assert status == 0, report
    target = bag / "data" / "media" / "seg001.ts"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.chmod(0o644)
    target.write_bytes(bytes(data))
    status, report, _ = verify_json(runner, bag)
    assert status == 1
    problems = [p for pkg in report["packages"] for p in pkg["problems"]]
    assert any("seg001.ts" in json.dumps(p) for p in problems) and codes_of(report)
    assert not any("seg000.ts" in json.dumps(p) or "seg002.ts" in json.dumps(p) for p in problems)


def test_reindex_gives_each_segment_its_range_back(archive, segments):
    [package_id] = {r.package_id for r in ingest_files(archive, requests_for(segments))}
    before = sorted((c.relpath, c.start_utc, c.end_utc, c.sha256) for c in archive.catalog.get(package_id).clips)
    report = reindex(archive)
    assert report.packages == 1 and report.clips == 3
    after = sorted((c.relpath, c.start_utc, c.end_utc, c.sha256) for c in archive.catalog.get(package_id).clips)
    assert after == before


def test_one_file_is_the_same_path(archive, segments):
    [result] = ingest_files(archive, requests_for(segments[:1]))
    row = archive.catalog.get(result.package_id)
    assert row.file_count == 1 and row.title.endswith("seg000.ts")
    technical = json.loads((archive.storage().local_path(result.package_id) / "metadata" /
                            "technical.json").read_text())
    assert "start_utc" not in technical["files"]["data/media/seg000.ts"] and "gaps" not in technical


@pytest.mark.parametrize("bad, code", [("empty", "I001"), ("missing", "I002"), ("other-camera", "I050")])
def test_a_bad_member_refuses_the_package_and_stores_nothing(archive, segments, tmp_path, bad, code):
    requests = requests_for(segments)
    if bad == "empty":
        (tmp_path / "empty.ts").write_bytes(b"")
        requests[1].path = tmp_path / "empty.ts"
    elif bad == "missing":
        requests[1].path = tmp_path / "gone.ts"
    else:
        requests[2].camera = "cam-02"
    before = [p.read_bytes() for p in segments]
    with pytest.raises(LongwatchError) as info:
        ingest_files(archive, requests)
    assert info.value.code == code
    assert archive.catalog.packages() == [] and list(archive.storage().package_ids()) == []
    assert [p.read_bytes() for p in segments] == before  # the originals are untouched


def test_truncated_segment_is_kept_bit_for_bit(archive, segments, tmp_path):
    cut = tmp_path / "seg-cut.ts"
    cut.write_bytes(segments[1].read_bytes()[:1000])  # stops mid-packet, as a segment does when power fails
    results = ingest_files(archive, requests_for([segments[0], cut]))
    bag = archive.storage().local_path(results[0].package_id)
    assert (bag / "data" / "media" / "seg-cut.ts").read_bytes() == cut.read_bytes()
    assert results[1].size == 1000


def test_gaps_are_recorded_once_and_survive_reindex(archive, lw):
    from longwatch.core.preservation import gaps

    start, end = T0 + timedelta(minutes=20), T0 + timedelta(minutes=25)
    assert gaps.record(archive, "cam-01", start, end, "stream ended", source="rtsp-cam-01")
    assert not gaps.record(archive, "cam-01", start, end, "stream ended")  # the same gap again: nothing new
    assert not gaps.record(archive, "cam-01", end, start, "backwards")  # an empty range is no gap
    report = reindex(archive)  # the catalog is emptied and rebuilt: the ledger gives the gap back
    assert report.gaps == 1
    [row] = gaps.overlapping(archive.catalog, T0, T0 + timedelta(hours=1), ["cam-01"])
    assert (row.start, row.end, row.reason, row.source) == (start, end, "stream ended", "rtsp-cam-01")
    assert gaps.overlapping(archive.catalog, T0, T0 + timedelta(minutes=20)) == []
    assert gaps.overlapping(archive.catalog, cameras=["cam-02"]) == []
    listed = json.loads(lw("gaps", "--from", "2026-03-03T14:10:00+09:00", "--json").stdout)
    assert listed == {"gaps": [{"camera": "cam-01", "start": "2026-03-03T05:20:00Z", "end": "2026-03-03T05:25:00Z",
                                "seconds": 300.0, "reason": "stream ended", "source": "rtsp-cam-01"}]}
    text = lw("search", "--from", "2026-03-03T05:21:00Z", "--to", "2026-03-03T05:22:00Z").output
    assert "no footage from camera cam-01" in text
