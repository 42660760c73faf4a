"""The CCTV operation register lists what the custody ledger and the requests say, as a page, CSV and PDF."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from pdfa_check import fonts_embedded

from longwatch.core.custody import CustodyEvent, Ledger, person_agent
from longwatch.core.public import access_requests as req_api
from longwatch.core.public import operation_register as register_api


def _ledger_events(archive, package_id):
    Ledger.for_archive(archive).append([
        CustodyEvent(type="dissemination", packages=[package_id], detail="copy for the fire inquiry",
                     agents=[person_agent("clerk")], extra={"recipient": "소방서", "legal_basis": "재난안전법 제41조"}),
        CustodyEvent(type="deletion", packages=[package_id], detail="30-day retention ended",
                     agents=[person_agent("system")]),
        CustodyEvent(type="fixity check", packages=[package_id], detail="not for the register"),
    ])


def test_register_lists_what_the_ledger_says(archive, lw, clip, tmp_path):
    out = lw("ingest", str(clip), "--camera", "cam-01", "--start", "2026-03-03T05:00:00Z", "--json")
    package_id = json.loads(out.output)["packages"][0]["package_id"]
    _ledger_events(archive, package_id)
    police = req_api.create(archive, "police", requester="중부경찰서", reference="2026-형-118",
                            claimed_start=datetime(2026, 3, 3, 5, 0, tzinfo=UTC))
    police = req_api.search(archive, police.number)
    req_api.mask(archive, police.number)
    req_api.deliver(archive, police.number)
    from longwatch.core.evidence import export as export_mod
    from longwatch.core.evidence.request import Recipient, Request

    fire = Recipient("소방재난본부", "김소방", legal_basis="재난안전법 제41조", purpose="화재 원인 조사")
    export_mod.export(archive, Request(fire, [package_id]), archive.root / "exports" / "fire")
    citizen = req_api.create(archive, "pipa-access", requester="박지은", identity_method="운전면허증 대조",
                             claimed_start=datetime(2026, 3, 4, 5, 0, tzinfo=UTC))
    rows = register_api.build(archive)
    by_cat: dict[str, list[register_api.Row]] = {}
    for row in rows:
        by_cat.setdefault(row.category, []).append(row)
    # what the ledger holds, entry by entry
    ledger = Ledger.for_archive(archive)
    for row in rows:
        if row.ledger_seq is not None:
            _seq, entry, _line = ledger.entry(row.ledger_seq)
            assert entry["type"] == row.event_type and entry["packages"] == row.packages
    # the hand-typed entry and the evidence export; the police delivery is one row (beyond purpose), not two
    assert [r.recipient for r in by_cat["provision"]] == ["소방서", "소방재난본부 김소방"]
    assert by_cat["provision"][1].event_type == "transfer" and by_cat["provision"][1].legal_basis == "재난안전법 제41조"
    assert [r.event_type for r in by_cat["destruction"]] == ["deletion"]
    assert [r.request for r in by_cat["beyond-purpose"]] == [police.number]  # police provision: art. 18(2)
    assert sorted(r.request for r in by_cat["access-request"]) == sorted([police.number, citizen.number])
    assert not any(r.event_type == "fixity check" for r in rows)
    # filters
    assert [r.category for r in register_api.build(archive, categories=["destruction"])] == ["destruction"]
    assert [r.recipient for r in register_api.build(archive, text="소방서")] == ["소방서"]
    later = datetime.now(UTC) + timedelta(days=1)
    assert register_api.build(archive, start=later) == []
    # CSV: one line per row, Korean intact
    text = register_api.to_csv(rows, archive.settings.tz)
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(parsed) == len(rows) + 1 and "소방서" in text
    # PDF with the embedded CJK font
    pdf = register_api.to_pdf(rows, archive.settings.tz, "영상정보처리기기 운영 관리대장", "시청")
    (tmp_path / "register.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and fonts_embedded(tmp_path / "register.pdf")
    # CLI
    data = json.loads(lw("register", "--category", "provision", "--json").output)
    assert [r["recipient"] for r in data["rows"]] == ["소방서", "소방재난본부 김소방"]
