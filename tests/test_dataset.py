"""Training-data export: masked frames and clips, COCO and CSV labels, a datasheet, a signed bag."""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import UTC, datetime, timedelta

import bagit
import numpy as np
import pytest
from conftest import sign_in

from longwatch import registry
from longwatch.core.aip import package
from longwatch.core.custody import Ledger
from longwatch.core.events import dataset
from longwatch.core.media.frames import Frame

START = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
EXPORT = ("--from", "2026-03-03T05:59:00Z", "--to", "2026-03-03T06:01:00Z", "--licence", "KOGL Type 1",
          "--legal-basis", "PIPA art. 28-2 (research)", "--purpose", "pedestrian-flow study")


def at(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def events_archive(lw, archive, footage, tmp_path):
    """The astronaut footage with a face detection (real detector), an imported person event with a box,
    a low-confidence event and a reviewed false positive."""
    out = lw("ingest", str(footage["face"]), "--camera", "cam-05", "--start", at(0), "--json")
    pid = json.loads(out.output)["packages"][0]["package_id"]
    assert lw("detect", pid, "--detector", "face").exit_code == 0
    rows = [
        {"camera": "cam-05", "time": at(0.4), "type": "person", "confidence": 0.8, "source_system": "vms-a",
         "vendor_event_id": "P1", "boxes": [[120, 40, 400, 400]]},
        {"camera": "cam-05", "time": at(1.0), "type": "person", "confidence": 0.2, "source_system": "vms-a",
         "vendor_event_id": "P2"},
        {"camera": "cam-05", "time": at(1.2), "type": "person", "confidence": 0.9, "source_system": "vms-a",
         "vendor_event_id": "P3"},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert lw("events", "import", str(path), "--no-windows").exit_code == 0
    by_vendor = {e["vendor_event_id"]: e["id"] for e in json.loads(lw("events", "--json").output)["events"]}
    kim, lee = sign_in(archive, "kim", "operator"), sign_in(archive, "lee", "operator")
    assert lw("events", "review", str(by_vendor["P3"]), "--false-positive", env=kim).exit_code == 0
    assert lw("events", "review", str(by_vendor["P1"]), "--confirmed", env=lee).exit_code == 0
    return pid, by_vendor


def read_png(path) -> np.ndarray:
    return dataset.grab_frame(path, 0.0)


def test_export_is_a_masked_labelled_signed_bag(lw, archive, footage, events_archive, tmp_path):
    pid, by_vendor = events_archive
    out = tmp_path / "ds"
    result = lw("dataset", "export", "-o", str(out), "--min-confidence", "0.5", "--clips", *EXPORT, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"] == {"face": 1, "person": 1}  # low confidence and false positive left out
    assert data["clips"] == 2 and data["masked_boxes"] > 0

    # COCO: every annotation points at an image and a category; every image file is in the bag
    coco = json.loads((out / "data/annotations/instances.json").read_text())
    assert set(coco) == {"info", "licenses", "images", "annotations", "categories"}
    assert coco["licenses"][0]["name"] == "KOGL Type 1"
    images = {i["id"]: i for i in coco["images"]}
    categories = {c["id"]: c["name"] for c in coco["categories"]}
    assert sorted(categories.values()) == ["face", "person"]
    assert coco["annotations"] and len(images) == data["frames"]
    for a in coco["annotations"]:
        assert a["image_id"] in images and a["category_id"] in categories
        assert len(a["bbox"]) == 4 and a["area"] == a["bbox"][2] * a["bbox"][3] and a["iscrowd"] == 0
    for image in images.values():
        assert (out / "data" / image["file_name"]).is_file()
        assert (image["width"], image["height"]) == (640, 480)

    # CSV labels name the detector and its model hash, or the source system, and the review
    with open(out / "data/annotations/labels.csv", encoding="utf-8") as fh:
        labels = list(csv.DictReader(fh))
    assert tuple(labels[0]) == dataset.LABEL_COLUMNS
    face = [r for r in labels if r["type"] == "face"]
    person = [r for r in labels if r["type"] == "person"]
    model = registry.detector(archive.pm, "face").identity()["models"][0]["sha256"]
    assert face and all(r["detector"] == "face" and r["model_sha256"] == model for r in face)
    assert person and all(r["source"] == "vms-a" and r["status"] == "confirmed" and r["reviewer"] == "lee"
                          for r in person)
    assert {r["kind"] for r in labels} == {"frame", "clip"}

    # faces masked: the face box of the original frame is black in the export, and the detector finds none
    detector = registry.detector(archive.pm, "face")
    source = archive.storage().local_path(pid) / "data" / "media" / "face.mp4"
    checked = 0
    for image in images.values():
        offset = (datetime.fromisoformat(image["date_captured"]) - START).total_seconds()
        original = dataset.grab_frame(source, offset)
        exported = read_png(out / "data" / image["file_name"])
        boxes = detector.analyse(Frame(0, 0.0, original, 1.0))
        assert boxes, "the original frame shows the face"
        for b in boxes:
            before = original[b.y:b.y + b.h, b.x:b.x + b.w]
            after = exported[b.y:b.y + b.h, b.x:b.x + b.w]
            assert before.mean() > 30 and after.max() == 0
            checked += 1
        assert detector.analyse(Frame(0, 0.0, exported, 1.0)) == []
        outside = (slice(0, 30), slice(0, 100))  # the grey background is left as it was
        assert np.abs(original[outside].astype(int) - exported[outside].astype(int)).max() <= 2
    assert checked >= 2
    for clip in (out / "data" / "clips").rglob("*.mp4"):
        assert list(detector.detect(clip)) == []
        streams = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                                  str(clip)], capture_output=True, text=True, check=True).stdout.split()
        assert streams == ["video"]

    # datasheet in both languages, with provenance
    en = (out / "data/DATASHEET.md").read_text(encoding="utf-8")
    ko = (out / "data/DATASHEET.ko.md").read_text(encoding="utf-8")
    for text in (en, ko):
        assert model in text and "KOGL Type 1" in text and "PIPA" in text and "cam-05" in text
    assert "Licence plates are NOT masked" in en and "번호판" in ko and "cover black pixels" in en
    description = json.loads((out / dataset.DESCRIPTION_PATH).read_text())
    assert description["masking"]["faces"] is True and description["masking"]["licence_plates"] is False
    assert {e["event_id"] for e in description["events"]} == {by_vendor["P1"], 1}

    # one custody ledger entry per export
    entries = [json.loads(line) for _seq, line in Ledger.for_archive(archive).lines()]
    mine = [e for e in entries if e["type"] == "dissemination"]
    assert len(mine) == 1 and mine[0]["extra"]["dataset_id"] == data["dataset_id"] and pid in mine[0]["packages"]
    assert description["custody"]["ledger_seq"] == data["ledger_seq"] == mine[0]["seq"]

    # the bag validates with bagit-python, longwatch verify and openssl; a changed byte fails
    bagit.Bag(str(out)).validate()
    assert lw("verify", str(out)).exit_code == 0
    done = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
                           str(out / package.SIGNATURE_PATH), "-content", str(out / package.SIGNED_FILE),
                           "-CAfile", str(archive.settings.cert_path), "-purpose", "any", "-out", "/dev/null"],
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    frame = next((out / "data" / "frames").rglob("*.png"))
    raw = bytearray(frame.read_bytes())
    raw[-20] ^= 0x01
    frame.write_bytes(bytes(raw))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(out)).validate()
    bad = lw("verify", str(out))
    assert bad.exit_code == 1 and "V004" in bad.output


def test_confirmed_only_and_unmasked(lw, events_archive, tmp_path):
    assert events_archive
    out = tmp_path / "confirmed"
    data = json.loads(lw("dataset", "export", "-o", str(out), "--confirmed-only", "--no-mask", "--frames", "1",
                         "--clips", *EXPORT, "--json").output)
    assert data["counts"] == {"person": 1} and data["masked_boxes"] == 0 and data["frames"] == 1
    assert data["clips"] == 1 and next((out / "data" / "clips").rglob("*.mp4")).stat().st_size > 0
    sheet = (out / "data/DATASHEET.md").read_text(encoding="utf-8")
    assert "masking was turned off" in sheet and "confirmed events only" in sheet
    assert "cover black pixels" not in sheet


def test_bad_input(lw, events_archive, tmp_path):
    out = tmp_path / "x"
    reversed_ = lw("dataset", "export", "-o", str(out), "--from", at(10), "--to", at(0), "--licence", "x",
                   "--legal-basis", "y")
    assert reversed_.exit_code == 9 and "D042" in reversed_.output
    nothing = lw("dataset", "export", "-o", str(out), "--type", "fire", *EXPORT)
    assert nothing.exit_code == 9 and "D040" in nothing.output
    no_licence = lw("dataset", "export", "-o", str(out), "--from", at(-60), "--to", at(60), "--licence", " ",
                    "--legal-basis", "y")
    assert no_licence.exit_code == 9 and "D043" in no_licence.output
    zero = lw("dataset", "export", "-o", str(out), "--frames", "0", *EXPORT)
    assert zero.exit_code == 9 and "D042" in zero.output
    both = lw("dataset", "export", "-o", str(out), "--confirmed-only", "--include-false-positives", *EXPORT)
    assert both.exit_code == 9 and "D042" in both.output
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    exists = lw("dataset", "export", "-o", str(out), *EXPORT)
    assert exists.exit_code == 9 and "D041" in exists.output
    assert not any(p.name.startswith(".x.partial") for p in tmp_path.iterdir())


def test_png_frames_are_lossless(tmp_path):
    image = np.random.default_rng(7).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    path = tmp_path / "frame.png"
    path.write_bytes(dataset.png_bytes(image))
    assert (read_png(path) == image).all()  # decoded by ffmpeg, not by our own code
