"""Public-sector pages in Korean in Debian's Chromium: a request from received to delivered inside
the 10-day clock (its masked copy checked by the face detector), lawful refusal reasons only, the
register against the ledger, the notice without sign-in, and two cameras playing in sync.

Screenshots go to tests/artifacts/public-*.png.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from browser_kit import ARTIFACTS, MARKS, chromium_pages, sign_in

from longwatch import registry
from longwatch.core.catalog.models import Camera
from longwatch.core.media.probe import make_test_clip
from longwatch.core.preservation import ingest
from longwatch.core.public import access_requests as req_api
from longwatch.core.public import operation_register as register_api

pytestmark = MARKS
FACE_START = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
SYNC_START = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)


@pytest.fixture
def korean(web_archive):
    with chromium_pages(web_archive.root) as (server, new_page):
        yield server, lambda: new_page(timeout=60_000)


def _submit(page, form_id):
    page.click(f"#{form_id} button[type=submit]")
    page.wait_for_load_state("load")


def test_request_received_to_delivered_masked_and_lawful_refusal(korean, web_archive, footage):
    server, new_page = korean
    archive = web_archive.archive
    ingest.ingest(archive, ingest.IngestRequest(path=footage["face"], camera="cam-05", start=FACE_START))
    page = new_page()
    sign_in(page, server.url, "operator", lang="ko")
    assert "처리 중인 청구" in page.content()  # the dashboard panel
    page.goto(server.url + "/requests/new")
    page.select_option("#kind", "pipa-access")
    page.fill("#requester", "김민수")
    page.fill("#identity_method", "주민등록증 대조 (민원실)")
    page.fill("#claimed_start", "2026-03-03T15:00:00+09:00")
    page.fill("#claimed_end", "2026-03-03T15:05:00+09:00")
    page.fill("#camera", "cam-05")
    page.click("main button[type=submit]")
    page.wait_for_selector("#status[data-status=received]")
    assert "10일 중 1일째" in page.content()
    page.screenshot(path=str(ARTIFACTS / "public-request-received.png"), full_page=True)
    _submit(page, "form-search")
    page.wait_for_selector("#status[data-status=searching]")
    _submit(page, "form-mask")
    page.wait_for_selector("#status[data-status=ready]")
    _submit(page, "form-deliver")
    page.wait_for_selector("#status[data-status=delivered]")
    assert page.locator(".clock[data-state=done]").count() == 1  # answered inside the clock
    steps = page.locator("ol.timeline li").evaluate_all("els => els.map(e => e.dataset.step)")
    assert steps == ["received", "searched", "hold", "masked", "delivered"]
    link = page.locator("#share-link").get_attribute("href")  # the export's link, shown this once
    assert "/s/" in link and "제공한 내보내기 자료" in page.content()
    page.screenshot(path=str(ARTIFACTS / "public-request-delivered.png"), full_page=True)
    landing = page.request.get(link)  # the link lands on what is inside, then the download
    assert landing.ok and "/download" in landing.text()
    download = page.request.get(link + "/download")
    assert download.ok and download.headers["content-type"] == "application/zip"

    number = page.url.split("number=")[1]
    req = req_api.get(archive, number)
    masked = req_api.package_ids(req)
    assert masked
    detector = registry.detector(archive.pm, "face", {"threshold": 0.3})
    for package_id in masked:
        for media in (archive.storage().local_path(package_id) / "data" / "media").iterdir():
            assert list(detector.detect(media)) == []  # nobody's face is left in the delivered copy

    # a refusal offers only the lawful reasons
    page.goto(server.url + "/requests/new")
    page.fill("#requester", "이영희")
    page.fill("#identity_method", "운전면허증 대조")
    page.fill("#claimed_start", "2026-03-05T15:00:00+09:00")
    page.click("main button[type=submit]")
    page.wait_for_selector("#refusal")
    offered = page.locator("#refusal option").evaluate_all("els => els.map(e => e.value)")
    assert offered == [r.code for r in req_api.refusal_reasons()]
    text = page.locator("#refusal").inner_text()
    assert "경찰" not in text and "다른 사람이 촬영" not in text
    page.screenshot(path=str(ARTIFACTS / "public-refusal.png"), full_page=True)
    page.select_option("#refusal", "not-identifiable")
    _submit(page, "form-refuse")
    page.wait_for_selector("#status[data-status=refused]")


def test_register_lists_the_ledger_and_notice_needs_no_login(korean, web_archive):
    server, new_page = korean
    archive = web_archive.archive
    req = req_api.create(archive, "police", requester="중부경찰서", reference="2026-형-9",
                         claimed_start=datetime(2026, 3, 3, 5, 0, tzinfo=UTC))
    req_api.search(archive, req.number)
    req_api.mask(archive, req.number)
    req_api.deliver(archive, req.number)
    admin = new_page()
    sign_in(admin, server.url, "administrator", lang="ko")
    admin.goto(server.url + "/register")
    rows = admin.locator("table.register tbody tr")
    expected = register_api.build(archive)
    assert rows.count() == len(expected) >= 2
    seqs = admin.locator("table.register tbody tr td:last-child").all_inner_texts()
    assert seqs == [str(r.ledger_seq) if r.ledger_seq is not None else "" for r in expected]
    assert admin.locator("tr[data-category=beyond-purpose]").count() == 1
    admin.screenshot(path=str(ARTIFACTS / "public-register.png"), full_page=True)
    admin.goto(server.url + "/notice/edit")
    admin.fill("#title", "시청 영상정보처리기기 운영·관리 방침")
    admin.click("#publish")
    admin.wait_for_load_state("load")

    anonymous = new_page()
    response = anonymous.goto(server.url + "/notice")
    assert response.status == 200 and anonymous.url == server.url + "/notice"  # no redirect to sign-in
    anonymous.wait_for_selector("text=시청 영상정보처리기기 운영·관리 방침")
    assert "열람 등 청구 방법" in anonymous.content()
    anonymous.screenshot(path=str(ARTIFACTS / "public-notice.png"), full_page=True)


def test_two_cameras_play_in_sync(korean, web_archive, tmp_path):
    server, new_page = korean
    archive = web_archive.archive
    with archive.catalog.session() as s:
        s.add_all([Camera(id="cam-a", name="시장 입구", zone="중구/시장", latitude=37.5665, longitude=126.9780),
                   Camera(id="cam-b", name="시장 출구", zone="중구/시장", latitude=37.5670, longitude=126.9790),
                   Camera(id="cam-c", name="역 앞", zone="중구/시장", latitude=37.5660, longitude=126.9795)])
    for camera in ("cam-a", "cam-b"):
        path = make_test_clip(tmp_path / f"{camera}.mp4", seconds=6, label=camera, start=SYNC_START)
        ingest.ingest(archive, ingest.IngestRequest(path=path, camera=camera, start=SYNC_START))
    page = new_page()
    sign_in(page, server.url, "operator", lang="ko")  # an investigator sees only shared cases
    page.goto(server.url + "/inquiry?camera=cam-a&camera=cam-b&start=2026-03-04T10:00:00%2B09:00"
              "&end=2026-03-04T10:00:06%2B09:00&case=FIRE-2026-3")
    page.wait_for_function("() => [...document.querySelectorAll('video.sync')].every(v => v.readyState >= 1)")
    page.wait_for_selector("#inquiry-map-canvas path.cam", state="attached")  # the served Leaflet draws the map
    assert page.locator("path.cam").count() == 3 and page.locator("path.zone").count() == 1
    spread = []
    t0 = SYNC_START.timestamp()
    for offset in (1.0, 4.5, 2.2, 5.0, 0.5):
        page.evaluate(f"() => window.longwatchSync.seek({t0 + offset})")
        page.wait_for_function("() => [...document.querySelectorAll('video.sync')].every(v => !v.seeking)")
        times = page.evaluate("() => [...document.querySelectorAll('video.sync')].map(v => v.currentTime)")
        spread.append(max(times) - min(times))
        assert abs(times[0] - offset) < 0.2
    page.click("#play")
    page.wait_for_function("() => window.longwatchSync.clock() > %f" % (t0 + 1.0))
    page.fill("#seek", str(t0 + 3.0))
    page.dispatch_event("#seek", "input")
    page.wait_for_function("() => window.longwatchSync.clock() > %f" % (t0 + 3.2))
    times = page.evaluate("() => [...document.querySelectorAll('video.sync')].map(v => v.currentTime)")
    spread.append(max(times) - min(times))
    page.click("#play")
    assert max(spread) < 0.2, spread
    page.screenshot(path=str(ARTIFACTS / "public-inquiry.png"), full_page=True)
