"""A clip the browser cannot play as stored (the recorder's MPEG-TS) plays through a stream-copy MP4."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from longwatch.core.preservation import ingest


def ts_segment(path: Path) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=size=160x120:rate=25:duration=2", "-f", "lavfi", "-i", "sine=duration=2",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "pcm_alaw", "-f", "mpegts",
                    str(path)], check=True)
    return path


def streams(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name:format=format_name",
                          "-of", "json", str(path)], capture_output=True, check=True, text=True).stdout
    return json.loads(out)


def test_mpeg_ts_plays_through_a_stream_copy_access_copy(login_as, web_archive, tmp_path):
    archive = web_archive.archive
    src = ts_segment(tmp_path / "cam-01_seg000001.ts")
    original = hashlib.sha256(src.read_bytes()).hexdigest()
    result = ingest.ingest(archive, ingest.IngestRequest(path=src, camera="cam-01"))
    [clip] = archive.catalog.get(result.package_id).clips
    c = login_as("operator")
    html = c.get(f"/packages/{result.package_id}").get_data(as_text=True)
    assert f"/clips/{clip.id}/playable.mp4" in html
    response = c.get(f"/clips/{clip.id}/playable.mp4")
    assert response.status_code == 200 and response.mimetype == "video/mp4"
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(response.data)
    response.close()  # the server closes the file after sending; the test client leaves it to us
    info = streams(copy)
    assert "mp4" in info["format"]["format_name"]
    assert {s["codec_name"] for s in info["streams"]} >= {"h264"}  # the same H.264, not re-encoded
    # a second request (a seek) is a range answered from the cache
    ranged = c.get(f"/clips/{clip.id}/playable.mp4", headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.data == copy.read_bytes()[100:200]
    ranged.close()
    # the original is untouched and still what a download gives
    stored = archive.storage().local_path(result.package_id) / clip.relpath
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == original
    assert hashlib.sha256(c.get(f"/clips/{clip.id}/media?download=1").data).hexdigest() == original
    # viewing is logged once per playback
    entries = [json.loads(line) for line in (archive.root / "logs" / "access.jsonl").read_text().splitlines()]
    assert [e["action"] for e in entries if e["package_id"] == result.package_id] == ["view", "download"]


def test_mp4_is_played_as_stored(login_as, web_archive):
    c = login_as("operator")
    html = c.get(f"/packages/{web_archive.package_id}").get_data(as_text=True)
    assert f"/clips/{web_archive.clip_id}/media" in html and "playable.mp4" not in html
