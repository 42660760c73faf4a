"""Detectors on honest footage: motion in a moving scene and not a still one, a real face found."""

from __future__ import annotations

import json

import pytest

from longwatch import Detector, hookimpl, registry
from longwatch.core.events import detect as detect_engine
from longwatch.errors import LongwatchError
from longwatch.plugins.detectors.motion import MotionDetector


@pytest.fixture(scope="module")
def pm():
    return registry.get_plugin_manager(load_entrypoints=False)


def spans(detector, clip):
    return [d.to_dict() for d in detector.detect(clip)]


def test_motion_found_in_moving_scene_not_in_still(pm, footage):
    moving = spans(registry.detector(pm, "motion"), footage["moving"])
    assert len(moving) == 1 and moving[0]["confidence"] > 0.1
    box = moving[0]["frames"][0]["boxes"][0]
    assert 80 <= box["y"] <= 120 and box["w"] <= 60  # the 40x40 square at y=100, not the whole frame
    assert spans(registry.detector(pm, "motion"), footage["still"]) == []


def test_motion_ignore_mask_hides_the_moving_area(pm, footage):
    masked = registry.detector(pm, "motion", {"ignore": "[[0, 0.3, 1, 0.4]]"})
    assert spans(masked, footage["moving"]) == []


def test_face_found_in_composited_photograph_and_not_elsewhere(pm, footage):
    found = spans(registry.detector(pm, "face"), footage["face"])
    assert len(found) == 1 and found[0]["confidence"] > 0.8
    x, y, w, h = (found[0]["frames"][0]["boxes"][0][k] for k in ("x", "y", "w", "h"))
    # the astronaut's face lies inside the 400x400 photograph placed at (120, 40)
    assert 120 < x and x + w < 520 and 40 < y and y + h < 440
    assert spans(registry.detector(pm, "face"), footage["moving"]) == []


def test_person_detector_on_composited_photograph(pm, footage):
    found = spans(registry.detector(pm, "person"), footage["face"])
    assert len(found) == 1
    assert spans(registry.detector(pm, "person"), footage["still"]) == []


def test_identity_is_computed_from_the_real_weights(pm):
    import hashlib

    from longwatch.plugins.detectors import face

    identity = registry.detector(pm, "face").identity()
    model = identity["models"][0]
    data = face.model_path().read_bytes()
    assert model["name"] == "centerface.onnx"
    assert model["size"] == len(data) and model["sha256"] == hashlib.sha256(data).hexdigest()
    assert identity["parameters"]["threshold"] == 0.5


def test_detectors_command_lists_identities(runner):
    from longwatch.cli import cli

    result = runner.invoke(cli, ["detectors", "--json"], catch_exceptions=False)
    rows = {r["name"]: r for r in json.loads(result.output)["detectors"]}
    assert set(rows) >= {"motion", "person", "face"}
    assert len(rows["face"]["models"][0]["sha256"]) == 64
    assert rows["person"]["models"][0]["size"] > 0


def test_unknown_detector_and_bad_parameters(pm, lw, archive, clip):
    with pytest.raises(LongwatchError) as exc:
        registry.detector(pm, "crystal-ball")
    assert exc.value.code == "D001"
    for params in ({"threshold": "high"}, {"no_such": "1"}, {"fps": "0"}):
        with pytest.raises(LongwatchError) as exc:
            registry.detector(pm, "face", params)
        assert exc.value.code == "D003"
    pid = json.loads(lw("ingest", str(clip), "--json").output)["packages"][0]["package_id"]
    result = lw("detect", pid, "--detector", "crystal-ball")
    assert result.exit_code == 9 and "D001" in result.output


def test_corrupt_clip_is_a_coded_error(pm, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    with pytest.raises(LongwatchError) as exc:
        spans(registry.detector(pm, "motion"), bad)
    assert exc.value.code == "D004"


class Crash(Exception):
    pass


class FlakyMotion(MotionDetector):
    """Motion that dies once, mid-clip, the way a killed worker would."""

    NAME = "flaky-motion"
    crash_at: int | None = 17
    analysed = 0

    def analyse(self, frame):
        FlakyMotion.analysed += 1
        if FlakyMotion.crash_at is not None and FlakyMotion.analysed == FlakyMotion.crash_at:
            FlakyMotion.crash_at = None
            raise Crash
        return super().analyse(frame)


class FlakyPlugin:
    @hookimpl
    def register_detectors(self):
        return [FlakyMotion]


def test_register_detectors_hook_and_crash_resume(archive, tmp_path, monkeypatch):
    """A third-party detector registers through the hook; a crash mid-run resumes where it stopped."""
    from detect_footage import moving_shapes

    from longwatch.core.preservation import ingest

    moving = moving_shapes(tmp_path / "long.mp4", seconds=10)  # the square leaves the frame after ~5 s

    monkeypatch.setattr(detect_engine, "CHECKPOINT_SECONDS", 0.0)
    archive.pm.register(FlakyPlugin(), name="flaky")
    assert issubclass(registry.detectors(archive.pm)["flaky-motion"], Detector)
    pid = ingest.ingest(archive, ingest.IngestRequest(path=moving, camera="cam-09")).package_id
    row = archive.catalog.get(pid)
    clip = row.clips[0]
    detector = registry.detector(archive.pm, "flaky-motion")
    with pytest.raises(Crash):
        detect_engine.detect_clip(archive, row, clip, detector)
    state = detect_engine.read_state(archive, detect_engine.state_key(clip, detector))  # in the catalog
    assert state is not None and not (archive.root / "state").exists()
    assert state["complete"] is False and state["done_until"] > 0
    FlakyMotion.analysed = 0
    resumed = detect_engine.detect_clip(archive, row, clip, registry.detector(archive.pm, "flaky-motion"))
    assert resumed.resumed_from > 0
    assert resumed.resumed_from > 6
    assert FlakyMotion.analysed < 10  # 10 s at 2 fps is 20 frames: the resumed run did not start over
    clean = [d.to_dict() for d in registry.detector(archive.pm, "motion").detect(moving)]
    assert len(clean) == 1
    assert [(d.start, d.end) for d in resumed.detections] == [(d["start"], d["end"]) for d in clean]
    again = detect_engine.detect_clip(archive, row, clip, registry.detector(archive.pm, "flaky-motion"))
    assert again.cached and len(again.detections) == len(clean)


def test_a_checkpoint_file_of_an_older_release_is_imported_once(archive, tmp_path):
    """Before checkpoints moved into the catalog they were files under state/detect/ of the archive."""
    from detect_footage import moving_shapes

    from longwatch.core.preservation import ingest

    pid = ingest.ingest(archive, ingest.IngestRequest(path=moving_shapes(tmp_path / "m.mp4", seconds=2),
                                                      camera="cam-09")).package_id
    row = archive.catalog.get(pid)
    clip = row.clips[0]
    detector = registry.detector(archive.pm, "motion")
    key = detect_engine.state_key(clip, detector)
    legacy = archive.root / detect_engine.LEGACY_STATE_DIR / f"{key}.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text("{not json", encoding="utf-8")
    with pytest.raises(LongwatchError) as info:
        detect_engine.detect_clip(archive, row, clip, detector)
    assert info.value.code == "D011"
    done = {"package_id": pid, "clip": clip.relpath, "identity": detector.identity(), "done_until": 2.0,
            "complete": True, "detections": []}
    legacy.write_text(json.dumps(done), encoding="utf-8")
    found = detect_engine.detect_clip(archive, row, clip, detector)
    assert found.cached and found.detections == [] and not legacy.exists()
    assert detect_engine.read_state(archive, key) == done  # the catalog has it now


def test_undecodable_package_is_a_coded_error(lw, tmp_path):
    broken = tmp_path / "cam-04_broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    out = json.loads(lw("ingest", str(broken), "--json").stdout)  # preserved as received, media_ok false
    pid = out["packages"][0]["package_id"]
    assert out["packages"][0]["media_ok"] is False
    result = lw("detect", pid, "--detector", "motion")
    assert result.exit_code == 9 and "D009" in result.output
    window = lw("window", pid, "--from", "2026-03-03T05:00:00Z", "--to", "2026-03-03T05:01:00Z")
    assert window.exit_code == 9 and "D009" in window.output
