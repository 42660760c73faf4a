"""An investigator uploads through the page in Debian's Chromium (issue 22): their upload names no camera.

The page shows them no camera field (the server refuses one with W040), and its script must still send the
file and report the package.
"""

from __future__ import annotations

import pytest
from browser_kit import MARKS, chromium_pages, sign_in

pytestmark = MARKS


@pytest.fixture
def browser_page(web_archive):
    with chromium_pages(web_archive.root, {"LONGWATCH_UPLOAD_CHUNK": 16 * 1024}) as (server, new_page):
        yield server, new_page(locale="en-US")


def test_an_investigator_uploads_without_a_camera(browser_page, fresh_clip, web_archive) -> None:
    server, page = browser_page
    sign_in(page, server.url, "investigator")
    page.goto(server.url + "/upload")
    assert page.locator("#camera").count() == 0
    page.set_input_files("#file", str(fresh_clip))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#package-link", timeout=120_000)
    row = web_archive.archive.catalog.get(page.locator("#package-link").inner_text())
    assert row is not None and not row.camera
