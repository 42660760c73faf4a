"""Events: imported idempotently, recorded with who said it, kept as windows by rule, reviewed, reported."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from conftest import sign_in

from longwatch.core.aip import metadata, package
from longwatch.core.custody import Ledger
from longwatch.core.events import record as events
from longwatch.core.media.probe import make_test_clip

START = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
RULES = """
[defaults]
before = 1
after = 1
min_confidence = 0.5
retention = "event-window-1y"
false_positive_retention = "event-window-fp-90d"

[types.fall]
label_en = "Fall"
label_ko = "쓰러짐"
before = 2
after = 2
"""


def at(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def row(vendor_id: str, seconds: float, type_: str = "fall", confidence: float = 0.9, **extra) -> dict:
    return {"camera": "cam-07", "time": at(seconds), "type": type_, "confidence": confidence,
            "source_system": "vms-a", "vendor_event_id": vendor_id, **extra}


def write_jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def ffprobe_duration(path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(json.loads(out)["format"]["duration"])


def ledger_entries(archive) -> list[dict]:
    return [json.loads(line) for _seq, line in Ledger.for_archive(archive).lines()]


@pytest.fixture
def cam07(lw, archive, tmp_path):
    (archive.root / "window-rules.toml").write_text(RULES, encoding="utf-8")
    clip = make_test_clip(tmp_path / "cam-07.mp4", seconds=10, label="cam-07", start=START)
    out = lw("ingest", str(clip), "--camera", "cam-07", "--json")
    return json.loads(out.output)["packages"][0]["package_id"]


def test_import_is_idempotent_and_recorded_with_source(lw, archive, cam07, tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [row("A1", 5, confidence=0.3), row("A2", 5.5, "loitering", 0.4)])
    first = json.loads(lw("events", "import", path, "--json").output)
    assert first["imported"] == 2 and first["skipped"] == 0 and first["windows"] == []  # below the rules
    again = json.loads(lw("events", "import", path, "--json").output)
    assert again["imported"] == 0 and again["skipped"] == 2
    listed = json.loads(lw("events", "--camera", "cam-07", "--json").output)["events"]
    assert [e["vendor_event_id"] for e in listed] == ["A1", "A2"]
    assert all(e["package_id"] == cam07 and e["status"] == "new" for e in listed)
    recorded = [e for e in ledger_entries(archive) if "longwatch_event" in e["extra"]]
    assert len(recorded) == 2  # the second import wrote nothing
    assert recorded[0]["packages"] == [cam07] and recorded[0]["type"] == "metadata extraction"
    assert {"id": "source:vms-a", "name": "vms-a", "type": "software", "role": "executing program"} \
        in recorded[0]["agents"]
    assert json.loads(lw("events", "--type", "loitering", "--json").output)["events"][0]["vendor_event_id"] == "A2"


def test_bad_rows_get_coded_errors_with_line_numbers_and_good_rows_land(lw, archive, cam07, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(
        "camera,time,type,confidence,source_system,vendor_event_id,boxes\n"
        f"cam-07,{at(1)},intrusion,0.2,vms-b,B1,\n"                      # good (below the rule)
        f"cam-07,2026-03-03 05:00:02,intrusion,0.2,vms-b,B2,\n"          # no zone
        f"cam-07,{at(3)},intrusion,1.7,vms-b,B3,\n"                      # confidence
        f",{at(3)},intrusion,0.2,vms-b,B4,\n"                            # camera missing
        f"cam-07,{at(4)},intrusion,0.2,vms-b,B5,\"[[1, 2, 3]]\"\n"         # a box of three numbers
        f"cam-07,{at(4)},intrusion,0.2,vms-b,B6,\"[[10, 20, 30, 40]]\"\n",  # good, with a box
        encoding="utf-8")
    result = lw("events", "import", str(path), "--json")
    assert result.exit_code == 9
    data = json.loads(result.output)
    assert data["imported"] == 2
    assert [(e["line"], e["code"]) for e in data["errors"]] == [(3, "D014"), (4, "D014"), (5, "D014"), (6, "D014")]
    assert "I003" in data["errors"][0]["message"] or "ISO 8601" in data["errors"][0]["message"]
    assert "confidence" in data["errors"][1]["message"] and "camera is missing" in data["errors"][2]["message"]
    boxes = json.loads(lw("events", "--json").output)["events"][1]["boxes"]
    assert boxes == [{"offset": 0.0, "boxes": [[10, 20, 30, 40]]}]
    jl = write_jsonl(tmp_path / "bad.jsonl", [row("C1", 1)])
    with open(jl, "a", encoding="utf-8") as fh:
        fh.write("{not json\n[1, 2]\n")
    data = json.loads(lw("events", "import", jl, "--no-windows", "--json").output)
    assert data["imported"] == 1 and [e["line"] for e in data["errors"]] == [2, 3]
    other = tmp_path / "e.txt"
    other.write_text("x", encoding="utf-8")
    assert "D016" in lw("events", "import", str(other)).output


def test_rule_makes_window_covering_range_then_merges_and_supersedes(lw, archive, cam07, tmp_path):
    data = json.loads(lw("events", "import", write_jsonl(tmp_path / "1.jsonl", [row("F1", 5)]), "--json").output)
    [first] = data["windows"]
    media = next((archive.storage().local_path(first) / "data" / "media").iterdir())
    [w] = events.window_rows(archive)
    assert (w.start_utc, w.end_utc) == (START + timedelta(seconds=3), START + timedelta(seconds=7))
    actual = archive.catalog.get(first).clips[0].start_utc
    assert actual <= START + timedelta(seconds=3)  # a stream-copy cut starts on a keyframe
    assert actual + timedelta(seconds=ffprobe_duration(media)) >= START + timedelta(seconds=6.95)
    tree = metadata.parse_untrusted((archive.storage().local_path(first) / package.PREMIS_PATH).read_bytes())
    assert any("fall" in e["detail"] and "confidence 0.90" in e["detail"] for e in metadata.premis_events(tree))

    # an event inside the window joins it; one that overlaps and extends it makes a new version
    data = json.loads(lw("events", "import", write_jsonl(tmp_path / "2.jsonl", [row("F2", 5), row("F3", 6.5)]),
                         "--json").output)
    rows = {r.package_id: r for r in events.window_rows(archive)}
    assert len(rows) == 2 and rows[first].superseded_by is not None
    second = rows[first].superseded_by
    assert rows[second].supersedes == first
    assert (rows[second].start_utc, rows[second].end_utc) == (START + timedelta(seconds=3),
                                                              START + timedelta(seconds=8.5))
    assert {e["window_package_id"] for e in json.loads(lw("events", "--json").output)["events"]} == {second}
    assert archive.storage().local_path(first).is_dir()  # the old version stays, unchanged
    assert lw("verify", first).exit_code == 0 and lw("verify", second).exit_code == 0
    tree = metadata.parse_untrusted((archive.storage().local_path(second) / package.PREMIS_PATH).read_bytes())
    assert any(f"supersedes window package(s) {first}" in e["detail"] for e in metadata.premis_events(tree))

    # review: a false positive names the reviewer in the ledger and moves the window to the shorter class
    for eid in (1, 2):
        assert lw("events", "review", str(eid), "--false-positive", "--note", "a shadow",
                  env=sign_in(archive, "kim", "operator")).exit_code == 0
    assert events.window_rows(archive)[-1].retention_class == "event-window-1y"  # one event is still open
    assert lw("events", "review", "3", "--false-positive", env=sign_in(archive, "lee", "operator")).exit_code == 0
    assert {r.package_id: r for r in events.window_rows(archive)}[second].retention_class == "event-window-fp-90d"
    entries = ledger_entries(archive)
    reviews = [e for e in entries if e["type"] == "validation" and "reviewed" in e["detail"]]
    assert len(reviews) == 3 and reviews[0]["note"] == "a shadow"
    assert reviews[0]["agents"][0] == {"id": "person:kim", "name": "kim", "type": "person", "role": "validator"}
    assert any(e["type"] == "policy assignment" and "event-window-fp-90d" in e["detail"] and
               e["packages"] == [second] for e in entries)
    assert archive.storage().local_path(second).is_dir()  # never deleted by a review
    assert lw("events", "review", "3").exit_code != 0
    assert "D015" in lw("events", "review", "99", "--confirmed").output


def test_report_rates_equal_hand_counts(lw, archive, cam07, tmp_path):
    rows = [row(f"R{i}", 1 + i * 0.5, t, 0.2) for i, t in enumerate(
        ["fall", "fall", "fall", "fall", "fire", "fire", "fire"])]
    lw("events", "import", write_jsonl(tmp_path / "r.jsonl", rows), "--json")
    decisions = {1: "--confirmed", 2: "--false-positive", 3: "--false-positive", 5: "--confirmed",
                 6: "--unsure"}
    for eid, flag in decisions.items():
        lw("events", "review", str(eid), flag, env=sign_in(archive, "park", "operator"))
    data = json.loads(lw("events", "report", "--by", "type", "--json").output)["rows"]
    fall = next(r for r in data if r["type"] == "fall")
    fire = next(r for r in data if r["type"] == "fire")
    assert (fall["events"], fall["reviewed"], fall["confirmed"], fall["false_positive"]) == (4, 3, 1, 2)
    assert fall["confirmed_rate"] == round(1 / 3, 4) and fall["false_positive_rate"] == round(2 / 3, 4)
    assert (fire["events"], fire["reviewed"], fire["confirmed_rate"], fire["false_positive_rate"]) == (3, 2, 0.5, 0.0)
    out = lw("events", "report", "--by", "detector,camera,type,month", "--csv").output
    table = list(csv.DictReader(io.StringIO(out)))
    assert {(r["detector"], r["camera"], r["month"]) for r in table} == {("vms-a", "cam-07", "2026-03")}
    assert lw("events", "report", "--by", "colour").exit_code == 2
    assert "33.3%" in lw("events", "report", "--by", "type").output


def test_detections_become_events_with_detector_identity(lw, archive, tmp_path):
    from detect_footage import moving_shapes

    clip = moving_shapes(tmp_path / "moving.mp4")
    pid = json.loads(lw("ingest", str(clip), "--camera", "cam-09", "--start", at(0), "--json").output)[
        "packages"][0]["package_id"]
    assert lw("detect", pid, "--detector", "motion").exit_code == 0
    listed = json.loads(lw("events", "--camera", "cam-09", "--json").output)["events"]
    assert listed and all(e["detector"]["name"] == "motion" and e["package_id"] == pid for e in listed)
    recorded = [e for e in ledger_entries(archive) if "longwatch_event" in e["extra"]]
    agent = recorded[0]["agents"][1]
    identity = listed[0]["detector"]
    assert agent["name"] == "motion" and agent["version"] == str(identity["version"])
    assert recorded[0]["extra"]["longwatch_event"]["detector"]["parameters"] == identity["parameters"]
    assert "parameters" in recorded[0]["detail"]
    # running again (cached) records nothing twice
    lw("detect", pid, "--detector", "motion")
    assert len(json.loads(lw("events", "--camera", "cam-09", "--json").output)["events"]) == len(listed)
