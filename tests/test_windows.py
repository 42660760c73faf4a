"""Event windows: derived packages that cover the requested range, verify, and say why they exist."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from longwatch.core.aip import metadata, package
from longwatch.core.media.probe import make_test_clip
from longwatch.core.preservation import windows

START = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)


def ffprobe_duration(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(json.loads(out)["format"]["duration"])


def stored(archive, pid):
    return archive.storage().local_path(pid)


def premis(archive, pid):
    return metadata.parse_untrusted((stored(archive, pid) / package.PREMIS_PATH).read_bytes())


@pytest.fixture
def ten_seconds(lw, tmp_path):
    clip = make_test_clip(tmp_path / "cam-07.mp4", seconds=10, label="cam-07", start=START)
    out = lw("ingest", str(clip), "--camera", "cam-07", "--json")
    return json.loads(out.output)["packages"][0]["package_id"]


def test_cut_window_covers_requested_range_and_verifies(lw, archive, ten_seconds):
    result = lw("window", ten_seconds, "--from", "2026-03-03T05:00:03.5Z", "--to", "2026-03-03T14:00:06+09:00",
                "--reason", "citizen complaint 2026-117", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["cut"] == ["data/media/cam-07.mp4"] and data["copied"] == []
    actual_start = datetime.fromisoformat(data["actual_start"])
    assert actual_start <= START + timedelta(seconds=3.5)  # a stream-copy cut starts on a keyframe
    media = next((stored(archive, data["package_id"]) / "data" / "media").iterdir())
    covered_until = actual_start + timedelta(seconds=ffprobe_duration(media))
    assert covered_until >= START + timedelta(seconds=5.95)
    assert ffprobe_duration(media) < 4  # a cut, not the whole clip
    assert lw("verify", data["package_id"]).exit_code == 0

    tree = premis(archive, data["package_id"])
    rels = metadata.premis_relationships(tree)
    assert {"object": data["package_id"], "type": "derivation", "subtype": "has source",
            "related": ten_seconds} in rels
    assert any(r["related"] == f"{ten_seconds}/data/media/cam-07.mp4" for r in rels)
    events = metadata.premis_events(tree)
    assert any(e["type"] == "policy assignment" and "citizen complaint 2026-117" in e["detail"] for e in events)
    creation = next(e for e in events if e["type"] == "creation")
    assert "requested 2026-03-03T05:00:03.500000Z" in creation["detail"] and "-c copy" in creation["detail"]
    info = (stored(archive, data["package_id"]) / "bag-info.txt").read_text()
    assert f"Longwatch-Derived-From: {ten_seconds}" in info
    assert "Longwatch-Requested-Start: 2026-03-03T05:00:03.500000Z" in info
    # the title people read: UTC to the second, no microseconds (issue 24)
    title = archive.catalog.get(data["package_id"]).title
    assert title.startswith("Window 2026-03-03T05:00:03Z to 2026-03-03T05:00:06Z of "), title


def test_window_over_the_whole_clip_copies_it_bit_for_bit(lw, archive, ten_seconds):
    data = json.loads(lw("window", ten_seconds, "--from", "2026-03-03T04:59:00Z", "--to", "2026-03-03T05:01:00Z",
                         "--json").output)
    assert data["copied"] == ["data/media/cam-07.mp4"] and data["cut"] == []
    src = (stored(archive, ten_seconds) / "manifest-sha256.txt").read_text().split()[0]
    dst = (stored(archive, data["package_id"]) / "manifest-sha256.txt").read_text().split()[0]
    assert src == dst


def test_detector_window_records_detector_identity(lw, archive, footage):
    from longwatch import registry

    pid = json.loads(lw("ingest", str(footage["face"]), "--camera", "cam-08", "--start", "2026-03-03T06:00:00Z",
                        "--json").output)["packages"][0]["package_id"]
    result = lw("detect", pid, "--detector", "face", "--window", "1:1", "--json")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output)["results"][0]
    assert len(entry["detections"]) == 1 and len(entry["windows"]) == 1
    window_id = entry["windows"][0]["package_id"]
    assert lw("verify", window_id).exit_code == 0
    tree = premis(archive, window_id)
    sha = registry.detector(archive.pm, "face").identity()["models"][0]["sha256"]
    agent = next(a for a in metadata.premis_agents(tree) if a["id"] == "detector:face")
    assert agent["version"] == "1.0" and "centerface.onnx" in agent["note"] and sha in agent["note"]
    cause = next(e for e in metadata.premis_events(tree) if e["type"] == "policy assignment")
    assert "face" in cause["detail"] and "confidence" in cause["detail"] and sha in cause["detail"]
    assert any(r["related"] == pid for r in metadata.premis_relationships(tree))


def test_bad_ranges_are_coded_errors(lw, ten_seconds):
    outside = lw("window", ten_seconds, "--from", "2026-03-04T05:00:00Z", "--to", "2026-03-04T05:01:00Z")
    assert outside.exit_code == 9 and "D002" in outside.output
    reversed_ = lw("window", ten_seconds, "--from", "2026-03-03T05:00:06Z", "--to", "2026-03-03T05:00:03Z")
    assert reversed_.exit_code == 9 and "D007" in reversed_.output


def test_overlapping_windows_merge():
    t = START
    s = timedelta(seconds=1)
    merged = windows.merge_ranges([(t + 10 * s, t + 20 * s), (t, t + 5 * s), (t + 4 * s, t + 8 * s),
                                   (t + 19 * s, t + 25 * s)])
    assert merged == [(t, t + 8 * s), (t + 10 * s, t + 25 * s)]


def test_the_cut_reports_the_keyframe_ffprobe_finds(footage, tmp_path):
    """One ffmpeg process cuts and says where the cut starts: the same keyframe as ffprobe's packet list,
    and the same bytes as a cut without the listing."""
    source = footage["moving"]  # 10 fps, a keyframe every 10 frames
    for offset in (0.0, 0.35, 1.7, 2.95):
        out, bare = tmp_path / f"cut-{offset}.mp4", tmp_path / f"bare-{offset}.mp4"
        _cmd, keyframe = windows.cut_from_keyframe(source, out, offset, 1.0)
        assert keyframe == pytest.approx(windows.keyframe_before(source, offset), abs=1e-3)
        assert keyframe <= offset
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{offset:.3f}", "-i", str(source), "-t",
                        "1.000", "-map", "0", "-c", "copy", "-avoid_negative_ts", "make_zero", str(bare)], check=True)
        assert out.read_bytes() == bare.read_bytes()


def test_a_file_without_video_is_cut_without_the_listing(tmp_path):
    audio = tmp_path / "audio.m4a"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
                    "-c:a", "aac", str(audio)], check=True)
    _cmd, keyframe = windows.cut_from_keyframe(audio, tmp_path / "cut.m4a", 1.0, 1.0, has_video=False)
    assert keyframe is None and ffprobe_duration(tmp_path / "cut.m4a") > 0.5
