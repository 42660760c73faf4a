"""A records manager's day in Debian's Chromium (issue 22): place a hold, propose a disposition, a second
records manager approves it, a job executes it, and the certificate opens.

The hold is placed on a camera over a time range picked in local time with
the browser's own date-and-time pickers; the disposition then leaves that
camera's footage out and destroys the other camera's. Screenshots go to
tests/artifacts/records-*.png.
"""

from __future__ import annotations

from datetime import timedelta

from browser_kit import ARTIFACTS, MARKS, chromium_pages, sign_in
from conftest import ingest_one, unique_copy
from web_fixtures import PASSWORD

from longwatch.core import accounts
from longwatch.core.catalog.models import Package
from longwatch.web.pickers import picker_value

pytestmark = MARKS
LATER = "2035-01-01T00:00:00Z"  # both clips are due under the default schedule (30 days)


def _status(archive, package_id: str) -> str:
    with archive.catalog.session() as s:
        package = s.get(Package, package_id)
        assert package is not None
        return package.status


def test_hold_then_disposition_proposed_approved_by_a_second_manager_and_executed(
        web_archive, small_clip, tmp_path, frozen_clock):
    archive = web_archive.archive
    held_id = web_archive.package_id
    other_id = ingest_one(archive, unique_copy(small_clip, tmp_path / "cam-02.mp4"), camera="cam-02")
    accounts.add_user(archive.catalog, "rm2", PASSWORD, "records-manager")
    with archive.catalog.session() as s:
        held = s.get(Package, held_id)
        assert held is not None and held.start_utc is not None
        start = held.start_utc - timedelta(seconds=1)
        end = (held.end_utc or held.start_utc) + timedelta(seconds=1)
    tz = archive.settings.tz
    frozen_clock(LATER)
    with chromium_pages(web_archive.root) as (server, new_page):
        first = new_page()
        sign_in(first, server.url, "records-manager", lang="en")
        first.click("nav >> text=Legal holds")
        first.select_option("#kind", "camera")
        first.fill("#camera", "cam-01")
        first.fill("#start", picker_value(start, tz))
        first.fill("#end", picker_value(end, tz))
        first.fill("#owner", "서울중앙지방검찰청")
        first.fill("#reason", "사건 2026-77 증거 보전")
        first.click("#place-hold button[type=submit]")
        first.wait_for_selector("#holds tbody tr[data-hold]")
        assert "cam-01" in first.locator("#holds tbody tr[data-hold]").inner_text()
        first.screenshot(path=str(ARTIFACTS / "records-hold.png"), full_page=True)

        first.click("nav >> text=Disposition")
        first.wait_for_selector("#propose")
        first.click("#propose button[type=submit]")
        first.wait_for_selector("#status[data-status=proposed]")
        disposition_url = first.url
        first.click("#approve")  # the proposer may not approve: the core's code beside the button
        first.wait_for_selector("#approve-error >> text=H004")
        first.screenshot(path=str(ARTIFACTS / "records-self-approval.png"), full_page=True)

        second = new_page()
        sign_in(second, server.url, "rm2", lang="en")
        second.goto(disposition_url + "&lang=ko")
        second.wait_for_selector("#status[data-status=proposed]")
        second.screenshot(path=str(ARTIFACTS / "records-proposal-ko.png"), full_page=True)
        second.click("#approve")
        second.wait_for_selector("#status[data-status=approved]")
        second.click("#execute")
        for _attempt in range(120):  # the job runs beside the request; the page reports its progress
            if second.locator("#status[data-status=executed]").count():
                break
            second.wait_for_timeout(500)
            second.reload()
        second.wait_for_selector("#status[data-status=executed]")
        second.screenshot(path=str(ARTIFACTS / "records-executed-ko.png"), full_page=True)
        second.click("#certificate")
        second.wait_for_load_state()
        assert other_id in second.content() and held_id not in second.content()
    assert _status(archive, other_id) == "disposed"
    assert _status(archive, held_id) == "stored"
