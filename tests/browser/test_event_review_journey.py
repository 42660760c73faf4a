"""An operator's journey in Debian's Chromium: an AI event awaits review, the operator finds it from the
navigation, sees the detector and model that decided and the window it preserved, marks it a false positive
with a note, and the per-detector report and the archive both say so. In Korean, as the control centre works.

Screenshots go to tests/artifacts/ as the other browser tests' do.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from browser_kit import ARTIFACTS, MARKS, chromium_pages, sign_in

from longwatch.core.custody import Ledger
from longwatch.core.events import record as events

START = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # the web archive's clip
DETECTOR = {"name": "loitering-net", "version": "3.0", "event_types": ["loitering"], "library": "onnxruntime",
            "models": [{"name": "loitering.onnx", "size": 4096, "sha256": "cd" * 32, "source": "vendor"}],
            "parameters": {"threshold": 0.7}}

pytestmark = MARKS


@pytest.fixture
def browser_page(web_archive):
    with chromium_pages(web_archive.root) as (server, new_page):
        yield server, new_page(locale="ko-KR", height=860)


def test_operator_reviews_an_ai_event(browser_page, web_archive):
    archive = web_archive.archive
    recorded = events.record(archive, camera="cam-01", type="loitering", start=START + timedelta(seconds=1),
                             end=None, confidence=0.88, source="detector", vendor_event_id="L-1",
                             package_id=web_archive.package_id, detector=DETECTOR)
    assert recorded.window  # the default rule kept a window of footage around it
    event_id = recorded.event.id
    server, page = browser_page
    sign_in(page, server.url, "operator", lang="ko")
    page.click("nav >> text=이벤트 검토")
    row = page.locator(f"#event-{event_id}")
    row.wait_for()
    assert "검토를 기다리는 이벤트 1건" in page.locator("#waiting").inner_text()
    text = row.inner_text()
    assert "loitering-net 3.0" in text and "cd" * 6 in text  # the detector and its model
    assert page.locator(f"#event-{event_id} a.window").get_attribute("href") == f"/packages/{recorded.window}"
    page.screenshot(path=str(ARTIFACTS / "event-review-queue.png"), full_page=True)

    page.fill(f"#note-{event_id}", "바람에 흔들린 나뭇가지")
    row.locator("button[value=false_positive]").click()
    page.locator(f"#reviewed-{event_id}").wait_for()
    assert page.locator("text=검토를 기다리는 이벤트가 없습니다.").is_visible()
    done = page.locator(f"#reviewed-{event_id}").inner_text()
    assert "오탐" in done and "operator" in done and "바람에 흔들린 나뭇가지" in done
    report = page.locator("table.detector-report tbody tr", has_text="loitering-net 3.0").inner_text()
    assert "100.0%" in report
    page.screenshot(path=str(ARTIFACTS / "event-review-done.png"), full_page=True)

    # the archive holds the decision: the catalog row, and the ledger's validation naming the operator
    [event] = events.query(archive)
    assert (event.status, event.reviewer, event.review_note) == ("false_positive", "operator", "바람에 흔들린 나뭇가지")
    entries = [json.loads(line) for _seq, line in Ledger.for_archive(archive).lines()]
    [decision] = [e for e in entries if e["type"] == "validation" and e["extra"].get("event_id") == event_id]
    assert decision["extra"]["decision"] == "false_positive"
    assert {"operator"} <= {a.get("name") for a in decision["agents"]}
