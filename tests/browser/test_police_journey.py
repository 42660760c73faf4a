"""A police request walked in Debian's Chromium (issue 22): search, open a package, add it to a case from the
results, hold the case's footage, export it for the officer, make a link, and download it as the officer
without an account.

Never a downloaded browser (``executable_path``); screenshots go to tests/artifacts/ as in test_browser.py.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from browser_kit import ARGS, ARTIFACTS, CHROMIUM, MARKS, sign_in
from web_fixtures import LiveServer

from longwatch.core.catalog import reference
from longwatch.core.evidence.verify_export import verify_export
from longwatch.core.records import holds

pytestmark = MARKS


def test_police_request_from_search_to_the_officers_download(web_archive, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    reference.add_case(web_archive.archive.catalog, "2026-POL-7", "Gate theft")
    server = LiveServer(web_archive.root)
    server.start()
    ARTIFACTS.mkdir(exist_ok=True)
    pid = web_archive.package_id
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            staff = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
            page = staff.new_page()
            page.set_default_timeout(60_000)
            sign_in(page, server.url, "records-manager", lang="en")
            # search: camera and a time range picked on the archive's clock (14:00 in Seoul)
            page.click("nav >> text=Search")
            page.select_option("#camera", ["cam-01"])
            page.fill("#start", "2026-03-03T13:59:00")
            page.fill("#end", "2026-03-03T14:01:00")
            page.click("form[role=search] button[type=submit]")
            page.wait_for_selector(f"tr[data-package='{pid}']")
            # the counts come after the results (static/search.js fills the panel from /search/facets)
            page.wait_for_selector("section[data-facet=camera] .count")
            assert page.locator("section[data-facet=camera] .count").first.inner_text() == "1"
            page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
            page.screenshot(path=str(ARTIFACTS / "police-search.png"), full_page=True)
            # open the package
            page.click(f"tr[data-package='{pid}'] >> text=Gate")
            page.wait_for_selector("video")
            # back to the results: tick it and add it to the case, then hold the case's footage
            page.go_back()
            page.check(f"tr[data-package='{pid}'] input[name=chosen]")
            page.select_option("#attach-case", "2026-POL-7")
            page.click("#attach button[type=submit]")
            page.wait_for_selector("h1 >> text=2026-POL-7")
            page.wait_for_selector(f"tr[data-package='{pid}']")
            page.fill("#reason", "police request 2026-POL-7")
            page.click("text=Hold the case's footage")
            page.wait_for_selector(f"tr[data-package='{pid}'] >> text=held")
            assert holds.holds_on(web_archive.archive, pid)
            page.screenshot(path=str(ARTIFACTS / "police-case.png"), full_page=True)
            # export the case for the officer; the page follows the job until it is done
            page.click("text=Export this case")
            page.fill("#agency", "Busan Police")
            page.fill("#officer", "Kim")
            page.fill("#case_number", "2026-77")
            page.fill("#legal_basis", "Criminal Procedure Act art. 215")
            page.fill("#purpose", "investigation")
            page.check("#watermark")
            assert page.locator("#case").input_value() == "2026-POL-7"
            page.click("text=Start the export")
            page.wait_for_selector("[data-state=done]", timeout=240_000)
            page.click("text=Make a share link")
            link = page.locator("#made-link").input_value()
            assert "/s/" in link
            page.screenshot(path=str(ARTIFACTS / "police-export.png"), full_page=True)
            staff.close()
            # the officer, with no account: the landing page first, then the download
            officer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR",
                                          accept_downloads=True)
            landing = officer.new_page()
            landing.set_default_timeout(60_000)
            landing.goto(link)
            landing.wait_for_selector("#download")
            assert "Busan Police" in landing.content() and "sha256sum" in landing.content().lower()
            landing.screenshot(path=str(ARTIFACTS / "police-link-landing.png"), full_page=True)
            with landing.expect_download() as info:
                landing.click("#download")
            saved = tmp_path / "export.zip"
            info.value.save_as(saved)
            officer.close()
            browser.close()
    finally:
        server.stop()
    with zipfile.ZipFile(saved) as zf:
        assert any(n.endswith("/VERIFY.txt") for n in zf.namelist())
    assert verify_export(saved).ok
