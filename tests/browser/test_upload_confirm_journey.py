"""An operator's upload naming a camera, then a records manager confirming it, in Debian's Chromium (issue 22).

The operator's file is an upload by that account, shown as such, until a records manager presses the
package page's button; the page then shows who confirmed it as which camera's recording.
"""

from __future__ import annotations

import pytest
from browser_kit import MARKS, chromium_pages, sign_in

pytestmark = MARKS


@pytest.fixture
def pages(web_archive):
    with chromium_pages(web_archive.root) as (server, new_page):
        yield server, new_page(locale="en-US"), new_page(locale="en-US")


def test_an_operators_upload_waits_for_a_records_manager(pages, fresh_clip, web_archive) -> None:
    server, operator, manager = pages
    sign_in(operator, server.url, "operator")
    operator.goto(server.url + "/upload")
    operator.set_input_files("#file", str(fresh_clip))
    operator.fill("#camera", "cam-01")
    operator.click("#upload-form button[type=submit]")
    operator.wait_for_selector("#package-link", timeout=120_000)
    package_id = operator.locator("#package-link").inner_text()
    operator.goto(f"{server.url}/packages/{package_id}")
    assert "upload by operator, unconfirmed" in operator.locator("#provenance").inner_text()
    assert operator.locator("#confirm-upload").count() == 0  # an operator may not confirm

    sign_in(manager, server.url, "records-manager")
    manager.goto(f"{server.url}/packages/{package_id}")
    assert manager.locator("#confirm-camera").input_value() == "cam-01"
    manager.click("#confirm-upload button[type=submit]")
    manager.wait_for_selector("#provenance:has-text('by records-manager')")
    assert "confirmed as cam-01" in manager.locator("#provenance").inner_text()
    assert manager.locator("#confirm-upload").count() == 0
    row = web_archive.archive.catalog.get(package_id)
    assert row is not None and row.camera == "cam-01" and row.confirmed_by == "records-manager"
