"""Requests for footage: statuses, the 10-day clock, lawful refusals, every step in the custody ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from longwatch.core.custody import Ledger
from longwatch.core.public import access_requests as req_api
from longwatch.core.storage.objects import objects
from longwatch.errors import LongwatchError

SEEN = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)


def _new(archive, **kw):
    kw.setdefault("requester", "김민수")
    kw.setdefault("identity_method", "주민등록증 대조 (창구)")
    kw.setdefault("claimed_start", SEEN)
    return req_api.create(archive, kw.pop("kind", "pipa-access"), **kw)


def test_clock_warns_from_day_7_and_is_overdue_after_day_10(archive):
    tz = archive.settings.tz
    received = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 10:00 in Seoul
    req = _new(archive, received_at=received)
    states = {day: req_api.clock(req, tz, now=received + timedelta(days=day - 1)).state for day in range(1, 13)}
    assert [states[d] for d in range(1, 7)] == ["ok"] * 6
    assert [states[d] for d in (7, 8, 9, 10)] == ["warning"] * 4
    assert states[11] == states[12] == "overdue"
    assert req_api.clock(req, tz, now=received).day == 1
    assert req_api.clock(req, tz, now=received).remaining == 9


def test_refusal_offers_only_lawful_reasons(archive):
    codes = [r.code for r in req_api.refusal_reasons()]
    assert codes and not set(codes) & req_api.UNLAWFUL_REASONS
    text = " ".join(f"{r.ko} {r.en}" for r in req_api.refusal_reasons()).lower()
    assert "police" not in text and "경찰" not in text
    assert "other people appear" not in text and "다른 사람이 촬영" not in text
    req = _new(archive)
    for bad in ("police-not-present", "others-appear", "anything"):
        with pytest.raises(LongwatchError) as err:
            req_api.refuse(archive, req.number, bad)
        assert err.value.code == "U004"
    done = req_api.refuse(archive, req.number, "not-identifiable", "no camera at that corner")
    assert done.status == "refused" and done.refusal_reason == "not-identifiable" and done.closed_at
    with pytest.raises(LongwatchError) as err:  # closed: no further step
        req_api.refuse(archive, req.number, "law-forbids")
    assert err.value.code == "U002"


def test_bad_inputs_have_codes(archive):
    with pytest.raises(LongwatchError) as err:
        _new(archive, kind="gossip")
    assert err.value.code == "U003"
    with pytest.raises(LongwatchError) as err:  # never an ID number
        _new(archive, identity_method="주민등록번호 900101-1234567")
    assert err.value.code == "U007"
    with pytest.raises(LongwatchError) as err:
        _new(archive, identity_method="")
    assert err.value.code == "U005"
    with pytest.raises(LongwatchError) as err:
        _new(archive, kind="police", reference="")
    assert err.value.code == "U005"
    with pytest.raises(LongwatchError) as err:
        req_api.get(archive, "REQ-none")
    assert err.value.code == "U001"
    court = _new(archive, kind="court", reference="2026가단1", claimed_start=None)
    with pytest.raises(LongwatchError) as err:  # no claimed time: no search of the whole archive
        req_api.search(archive, court.number)
    assert err.value.code == "U005"
    req = _new(archive)
    with pytest.raises(LongwatchError) as err:
        req_api.deliver(archive, req.number)
    assert err.value.code == "U002"
    req_api.search(archive, req.number)
    with pytest.raises(LongwatchError) as err:
        req_api.postpone(archive, req.number, "  ")
    assert err.value.code == "U006"


def test_workflow_records_each_step_in_the_ledger(archive, lw, clip):
    """Received, searched (the clip of the claimed time), held, postponed, masked, delivered."""
    out = lw("ingest", str(clip), "--camera", "cam-01", "--start", "2026-03-03T05:00:00Z", "--json")
    package_id = json.loads(out.output)["packages"][0]["package_id"]
    req = _new(archive, camera="cam-01", claimed_end=SEEN + timedelta(minutes=5), contact="010-0000-0000")
    req = req_api.search(archive, req.number, actor="clerk")
    assert req.status == "searching" and req_api.package_ids(req) == [package_id]
    req = req_api.postpone(archive, req.number, "얼굴이 많아 마스킹에 시간이 걸림", actor="clerk")
    assert req.status == "masking" and req.status_reason
    req = req_api.mask(archive, req.number, actor="clerk")
    assert req.status == "ready"
    masked = req_api.package_ids(req)
    assert masked and package_id not in masked
    req, export = req_api.deliver(archive, req.number, actor="clerk")
    assert req.status == "delivered" and "김민수" in export["watermark"] and export["wired"]
    assert req_api.clock(req, archive.settings.tz).state == "done"
    steps = [s.step for s in req.steps]
    assert steps == ["received", "searched", "hold", "postponed", "masked", "delivered"]
    ledger = Ledger.for_archive(archive)
    for s in req.steps:
        _seq, entry, _line = ledger.entry(s.ledger_event)
        assert entry["extra"]["request"] == req.number and entry["extra"]["step"] == s.step
    _seq, hold, _line = ledger.entry(req.steps[2].ledger_event)
    assert hold["type"] == "policy assignment" and hold["packages"] == [package_id]
    _seq, delivered, _line = ledger.entry(req.steps[-1].ledger_event)
    assert delivered["type"] == "dissemination" and delivered["packages"] == masked
    assert delivered["extra"]["export_id"] == export["export_id"]


def test_delivery_is_a_verifiable_masked_export_with_a_link(lw, archive, app, footage):
    """Real footage with a real face: searched, held, masked, delivered as an evidence export that
    `longwatch verify-export` accepts, whose copies show no face, recorded in the ledger and the
    request's timeline, downloadable once through its expiring link."""
    from longwatch import registry
    from longwatch.core.evidence.verify_export import verify_export

    out = lw("ingest", str(footage["face"]), "--camera", "cam-05", "--start", "2026-03-03T06:00:00Z", "--json")
    original = json.loads(out.output)["packages"][0]["package_id"]
    req = _new(archive, camera="cam-05", claimed_start=datetime(2026, 3, 3, 6, 0, tzinfo=UTC))
    req_api.search(archive, req.number, actor="clerk")
    with pytest.raises(LongwatchError) as err:  # not masked yet: nothing leaves
        req_api.deliver(archive, req.number)
    assert err.value.code == "U002"
    masked = req_api.package_ids(req_api.mask(archive, req.number, actor="clerk"))
    assert masked and original not in masked
    result = lw("requests", "deliver", req.number, "--expires-days", "3", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    export = data["export"]
    assert data["status"] == "delivered" and export["packages"] == masked
    # in the object store, not the archive folder: on the local default, a folder under the storage location
    assert export["path"] == export["key"] == f"exports/{export['export_id']}"
    bag = archive.storage().root / export["key"]
    assert bag.is_dir() and not (archive.root / "exports").exists()

    verified = lw("verify-export", str(bag), "--cert", str(archive.settings.cert_path), "--json")
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.output)
    assert report["ok"] and report["export_id"] == export["export_id"] and report["files"] == 1

    description = json.loads((bag / "export.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in description["packages"]] == masked  # the masked copies, never the original
    assert original not in (bag / "manifest-sha256.txt").read_text()
    assert description["recipient"]["agency"] == "김민수" and description["recipient"]["expires"]
    detector = registry.detector(archive.pm, "face", {"threshold": 0.3})
    media = [bag / f["path"] for f in description["files"]]
    access = [bag / f["path"] for f in description["access_copies"]]
    assert media and access and "김민수" in description["access_copies"][0]["watermark"]
    for path in media + access:
        assert list(detector.detect(path)) == []  # nobody's face is in what is delivered

    ledger = Ledger.for_archive(archive)
    _seq, transfer, _line = ledger.entry(export["transfer_seq"])
    assert transfer["type"] == "transfer" and transfer["extra"]["export_id"] == export["export_id"]
    assert transfer["packages"] == masked
    shown = json.loads(lw("requests", "show", req.number, "--json").output)
    assert [s["step"] for s in shown["steps"]] == ["received", "searched", "hold", "masked", "delivered"]
    _seq, step, _line = ledger.entry(shown["steps"][-1]["ledger_event"])
    assert step["extra"]["export_id"] == export["export_id"] and step["extra"]["share"] == export["share"]
    assert export["export_id"] in shown["steps"][-1]["detail"]

    # the link: no sign-in, a ZIP of the very export, a download recorded in the ledger
    landing = app.test_client().get(export["link"])  # what is inside first, then the download
    assert landing.status_code == 200 and export["link"] + "/download" in landing.get_data(as_text=True)
    response = app.test_client().get(export["link"] + "/download")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    zipped = Path(archive.root) / "download.zip"
    zipped.write_bytes(response.get_data())
    assert verify_export(zipped).ok
    assert app.test_client().get("/s/not-a-token").status_code == 404


def test_delivery_refuses_what_is_not_a_masked_copy(archive, lw, clip):
    out = lw("ingest", str(clip), "--camera", "cam-01", "--start", "2026-03-03T05:00:00Z", "--json")
    package_id = json.loads(out.output)["packages"][0]["package_id"]
    req = _new(archive, camera="cam-01")
    req = req_api.search(archive, req.number)
    req = req_api.mask(archive, req.number)
    from longwatch.core.catalog.models import PublicRequest

    with archive.catalog.session() as s:  # the masked copy swapped for the original behind the workflow's back
        s.get(PublicRequest, req.id).packages = package_id
    with pytest.raises(LongwatchError) as err:
        req_api.deliver(archive, req.number)
    assert err.value.code == "U012" and package_id in str(err.value)
    assert not objects(archive).list("exports")
    with pytest.raises(LongwatchError) as err:
        req_api.deliver(archive, req.number, expires_days=0)
    assert err.value.code == "U012"
    assert req_api.get(archive, req.number).status == "ready"


def test_cli_add_list_show_refuse(lw, archive):
    out = lw("requests", "add", "--kind", "insurer", "--requester", "한빛화재", "--reference", "CLM-77",
             "--from", "2026-03-03T14:00:00+09:00", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["kind"] == "insurer" and data["clock"]["day"] == 1 and data["status"] == "received"
    listed = json.loads(lw("requests", "list", "--json").output)["requests"]
    assert [r["number"] for r in listed] == [data["number"]]
    bad = lw("requests", "refuse", data["number"], "--reason", "others-appear")
    assert bad.exit_code != 0
    assert lw("requests", "refuse", data["number"], "--reason", "law-forbids").exit_code == 0
    shown = json.loads(lw("requests", "show", data["number"], "--json").output)
    assert shown["status"] == "refused" and [s["step"] for s in shown["steps"]] == ["received", "refused"]
    missing = lw("requests", "show", "REQ-0")
    assert missing.exit_code == 4 and "U001" in missing.output
