"""The UI in Debian's Chromium driven by Playwright: sign in, list, play and seek, upload with an interruption.

Never a downloaded browser: ``executable_path`` points at Debian's package
(``chromium``, in the Makefile's DEBS). Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import pytest
from browser_kit import ARTIFACTS, MARKS, chromium_pages, sign_in
from web_fixtures import PASSWORD

pytestmark = MARKS


@pytest.fixture
def browser_page(web_archive):
    with chromium_pages(web_archive.root, {"LONGWATCH_UPLOAD_CHUNK": 16 * 1024}) as (server, new_page):
        yield server, new_page(locale="en-US", height=860)


def _images_loaded(page):
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")


def test_sign_in_list_play_and_seek(browser_page, web_archive):
    server, page = browser_page
    sign_in(page, server.url, "operator")
    _images_loaded(page)  # poster frames: made by ffmpeg on first request
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    page.click("nav >> text=Packages")
    page.wait_for_selector(f"a[href='/packages/{web_archive.package_id}']")
    assert page.locator("table tbody tr").count() == 1
    _images_loaded(page)
    page.screenshot(path=str(ARTIFACTS / "packages.png"), full_page=True)
    page.click("text=Gate")
    page.wait_for_selector("video")
    ranges = []
    page.on("response", lambda r: ranges.append(r.status) if "/media" in r.url else None)
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video').currentTime > 0.3")
    page.evaluate("() => { const v = document.querySelector('video'); v.pause(); v.currentTime = 1.5; }")
    page.wait_for_function("() => { const v = document.querySelector('video'); return !v.seeking && "
                           "Math.abs(v.currentTime - 1.5) < 0.2; }")
    assert 206 in ranges
    page.screenshot(path=str(ARTIFACTS / "clip.png"), full_page=True)
    page.click("text=Verify now")
    page.wait_for_selector("text=Verified")


def test_korean_dashboard(browser_page):
    server, page = browser_page
    page.goto(server.url + "/login?lang=ko")
    assert page.locator("h1").inner_text() == "로그인"
    page.fill("#username", "records-manager")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=최근 패키지")
    _images_loaded(page)
    page.screenshot(path=str(ARTIFACTS / "dashboard-ko.png"), full_page=True)


def test_upload_with_interruption_resumes(browser_page, fresh_clip, web_archive):
    server, page = browser_page
    sign_in(page, server.url, "operator")
    seen = {"patch": 0, "aborted": 0, "head_after_abort": 0}

    def route(route):
        request = route.request
        if request.method == "PATCH":
            seen["patch"] += 1
            if seen["patch"] == 2:  # the second chunk never arrives: the connection drops
                seen["aborted"] += 1
                route.abort("connectionreset")
                return
        if request.method == "HEAD" and seen["aborted"]:
            seen["head_after_abort"] += 1
        route.continue_()

    page.route("**/api/v1/uploads/*", route)
    page.goto(server.url + "/upload")
    page.set_input_files("#file", str(fresh_clip))
    page.fill("#camera", "cam-09")
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#package-link", timeout=120_000)
    package_id = page.locator("#package-link").inner_text()
    assert seen["aborted"] == 1 and seen["head_after_abort"] >= 1 and seen["patch"] >= 3
    page.screenshot(path=str(ARTIFACTS / "upload.png"), full_page=True)
    row = web_archive.archive.catalog.get(package_id)
    assert row.camera == "" and row.claimed_camera == "cam-09"  # an upload by the operator until confirmed
    import hashlib

    assert row.clips[0].sha256 == hashlib.sha256(fresh_clip.read_bytes()).hexdigest()


def test_upload_page_reports_a_failed_archive_truthfully(browser_page, clip, web_archive):
    """The last PATCH reaches the server (which refuses a duplicate) but its answer is lost: the page
    must say the upload failed, with the code, never "archived as package null"."""
    server, page = browser_page
    sign_in(page, server.url, "operator")
    lost = {"answers": 0}

    def route(route):
        request = route.request
        if request.method == "PATCH" and request.headers.get("upload-offset") != "0" and not lost["answers"]:
            body = request.post_data_buffer or b""
            offset = int(request.headers["upload-offset"])
            if offset + len(body) == clip.stat().st_size:
                route.fetch()  # the server receives the last chunk and answers ...
                lost["answers"] += 1
                route.abort("connectionreset")  # ... but the answer never reaches the browser
                return
        route.continue_()

    page.route("**/api/v1/uploads/*", route)
    page.goto(server.url + "/upload")
    page.set_input_files("#file", str(clip))  # already archived: ingest refuses it (I006)
    page.click("#upload-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('upload-status').textContent.includes('I006')",
                           timeout=120_000)
    text = page.locator("#upload-status").inner_text()
    assert lost["answers"] == 1
    assert "null" not in text and "Archived" not in text and "failed" in text
    assert page.locator("#package-link").count() == 0
    assert len(web_archive.archive.catalog.all_ids()) == 1
