"""Redaction: a new linked package with faces masked; the original is never touched."""

from __future__ import annotations

import json

import pytest

from longwatch import registry
from longwatch.core.aip import metadata, package


@pytest.fixture
def face_package(lw, footage):
    out = lw("ingest", str(footage["face"]), "--camera", "cam-05", "--start", "2026-03-03T06:00:00Z", "--json")
    return json.loads(out.output)["packages"][0]["package_id"]


def files_of(archive, pid):
    root = archive.storage().local_path(pid)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_redacted_copy_hides_the_face_and_leaves_the_original_alone(lw, archive, face_package):
    before = files_of(archive, face_package)
    result = lw("redact", face_package, "--faces", "--reason", "disclosure request 2026-31", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [t["track"] for t in data["tracks"]] == ["face:1"] and data["masked_boxes"] >= data["frames"]
    redacted = data["package_id"]
    assert redacted != face_package

    assert files_of(archive, face_package) == before  # byte for byte, tag files and signature included
    assert lw("verify", face_package).exit_code == 0
    assert lw("verify", redacted).exit_code == 0

    media = next((archive.storage().local_path(redacted) / "data" / "media").iterdir())
    detector = registry.detector(archive.pm, "face", {"threshold": 0.3})
    assert list(detector.detect(media)) == []  # run the detector again on the output

    tree = metadata.parse_untrusted((archive.storage().local_path(redacted) / package.PREMIS_PATH).read_bytes())
    assert {"object": redacted, "type": "derivation", "subtype": "has source",
            "related": face_package} in metadata.premis_relationships(tree)
    events = metadata.premis_events(tree)
    assert any(e["type"] == "redaction" for e in events)
    assert any("disclosure request 2026-31" in e["detail"] for e in events)
    assert any(a["id"] == "detector:face" and "centerface.onnx" in a["note"] for a in metadata.premis_agents(tree))


def test_kept_track_stays_visible(lw, archive, face_package):
    tracks = json.loads(lw("redact", face_package, "--faces", "--tracks", "--json").output)
    assert tracks["package_id"] is None and tracks["tracks"][0]["track"] == "face:1"
    data = json.loads(lw("redact", face_package, "--faces", "--keep", "face:1", "--json").output)
    media = next((archive.storage().local_path(data["package_id"]) / "data" / "media").iterdir())
    assert len(list(registry.detector(archive.pm, "face").detect(media))) == 1


def test_manual_boxes_and_bad_input(lw, archive, face_package, tmp_path):
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps([{"start": 0, "end": 10, "box": [200, 60, 240, 200]}]))
    data = json.loads(lw("redact", face_package, "--boxes", str(boxes), "--json").output)
    media = next((archive.storage().local_path(data["package_id"]) / "data" / "media").iterdir())
    assert list(registry.detector(archive.pm, "face").detect(media)) == []

    nothing = lw("redact", face_package)
    assert nothing.exit_code == 9 and "D012" in nothing.output
    boxes.write_text('[{"start": 0, "end": 1, "box": [1, 2]}]')
    bad = lw("redact", face_package, "--boxes", str(boxes))
    assert bad.exit_code == 9 and "D008" in bad.output
