"""Faults of issue 22's pages, each found by trying the page as a person would: the dashboard's open requests,
rejecting a disposition through the API, the public notice's text and purposes, and the register's reading of
an internal viewing.

Flask's test client on a real archive (real footage, catalog and custody ledger).
"""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import START, ingest_one, unique_copy
from web_fixtures import PASSWORD

from longwatch.core import accounts
from longwatch.core.catalog import reference
from longwatch.core.public import access_requests as req_api
from longwatch.core.public import notice as notice_api
from longwatch.core.public import operation_register as register_api


def _bearer(web_archive, username: str, *scopes: str) -> dict[str, str]:
    token = accounts.create_token(web_archive.archive.catalog, username, "test", scopes=scopes or ("all",))
    return {"Authorization": f"Bearer {token}"}


def test_the_dashboard_lists_open_requests_with_their_clock(web_archive, login_as) -> None:
    req = req_api.create(web_archive.archive, "pipa-access", requester="김민수", identity_method="운전면허증 대조",
                         claimed_start=START)
    text = login_as("operator").get("/").get_data(as_text=True)
    panel = text.split("Open requests", 1)[1].split("</section>", 1)[0]
    assert req.number in panel and "No open requests." not in panel
    # the other panels keep their data
    assert 'id="holds-panel"' in text and 'id="review-panel"' in text


def test_a_second_records_manager_rejects_a_disposition_through_the_api(client, web_archive, small_clip,
                                                                         tmp_path, frozen_clock) -> None:
    archive = web_archive.archive
    old = ingest_one(archive, unique_copy(small_clip, tmp_path / "old.mp4"), camera="cam-01",
                     start=datetime(2026, 1, 1, tzinfo=UTC), title="Old")
    accounts.add_user(archive.catalog, "rm2", PASSWORD, "records-manager")
    frozen_clock("2026-03-02T00:00:00Z")
    first = _bearer(web_archive, "records-manager")
    proposed = client.post("/api/v1/dispositions", json={}, headers=first).get_json()["disposition"]
    path = f"/api/v1/dispositions/{proposed['disposition_id']}"
    second = _bearer(web_archive, "rm2", "records:write")
    refused = client.post(f"{path}/reject", json={"reason": "under audit"}, headers=first)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "W062"  # not the proposer
    no_reason = client.post(f"{path}/reject", json={"reason": " "}, headers=second)
    assert no_reason.get_json()["error"]["code"] in ("W063", "W092")
    assert client.post(f"{path}/reject", json={"reason": "x"},
                       headers=_bearer(web_archive, "operator")).get_json()["error"]["code"] == "W009"
    rejected = client.post(f"{path}/reject", json={"reason": "under audit"}, headers=second)
    assert rejected.status_code == 200, rejected.get_json()
    assert rejected.get_json()["status"] == "rejected" and rejected.get_json()["approver"] == "rm2"
    assert client.get(path, headers=first).get_json()["items"][0]["status"] == "rejected"
    assert archive.catalog.get(old) is not None  # nothing destroyed
    assert client.post(f"{path}/execute", headers=second).get_json()["error"]["code"] == "H006"
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "post" in spec["paths"]["/dispositions/{disposition_id}/reject"]


def test_the_public_notice_is_formatted_text_with_purposes_in_the_readers_language(client, web_archive) -> None:
    archive = web_archive.archive
    with archive.catalog.session() as s:
        reference.upsert_camera(s, {"id": "cam-01", "zone": "jung-gu", "purpose": "traffic"})
        reference.upsert_camera(s, {"id": "cam-02", "zone": "jung-gu", "purpose": "crime-prevention"})
    row = notice_api.draft(archive, "운영 방침", "# 목적\n\n**교통** 관리를 위해 설치합니다.\n\n- 하나\n- 둘\n\n"
                                                "<script>alert(1)</script>", "administrator")
    notice_api.publish(archive, row.version)
    korean = client.get("/notice?lang=ko").get_data(as_text=True)
    assert "<strong>교통</strong>" in korean and "<li>하나</li>" in korean
    assert "**" not in korean and "<h2>목적</h2>" in korean
    assert "<script>alert(1)</script>" not in korean and "&lt;script&gt;" in korean  # text, never markup
    row_ko = korean.split("jung-gu</td>", 1)[1].split("</tr>", 1)[0]
    assert "교통" in row_ko and "범죄 예방" in row_ko and "traffic" not in row_ko
    english = client.get("/notice?lang=en").get_data(as_text=True)
    row_en = english.split("jung-gu</td>", 1)[1].split("</tr>", 1)[0]
    assert "Traffic" in row_en and "Crime prevention" in row_en


def test_the_register_files_an_internal_viewing_as_use(web_archive, login_as) -> None:
    archive = web_archive.archive
    c = login_as("operator")
    assert c.get(f"/clips/{web_archive.clip_id}/media").status_code == 200
    rows = [r for r in register_api.build(archive) if r.event_type == "dissemination"]
    assert len(rows) == 1 and rows[0].category == "use", rows
    assert rows[0].actor == "operator"
    page = login_as("administrator").get("/register?category=use").get_data(as_text=True)
    assert 'data-category="use"' in page and 'data-category="provision"' not in page
