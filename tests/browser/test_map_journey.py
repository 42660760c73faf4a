"""The maps walked in Debian's Chromium (issue 22): an investigator draws a box and clicks a radius on the search
map, finds the clip and saves the search; the inquiry's map with 5,000 cameras shows clusters; the inquiry
plays a camera's second clip when the clock reaches it. Nothing is fetched from another host: every request
the pages make is counted.

Never a downloaded browser (``executable_path``); screenshots go to tests/artifacts/map-*.png.
"""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from browser_kit import ARGS, ARTIFACTS, CHROMIUM, MARKS, sign_in
from conftest import START
from web_fixtures import LiveServer

from longwatch.core.catalog import reference
from longwatch.core.catalog.models import Camera
from longwatch.core.media.probe import make_test_clip
from longwatch.core.preservation import ingest

pytestmark = MARKS
LAT, LON = 37.5665, 126.9780


@pytest.fixture
def browser_on(web_archive):
    from playwright.sync_api import sync_playwright

    server = LiveServer(web_archive.root)
    server.start()
    ARTIFACTS.mkdir(exist_ok=True)
    hosts: set[str] = set()
    problems: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)

            def signed_in(role: str, locale: str = "en-US"):
                ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, locale=locale)
                page = ctx.new_page()
                page.set_default_timeout(60_000)
                page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(str(e)))
                sign_in(page, server.url, role, lang=locale[:2])
                return page

            yield server, signed_in
            browser.close()
    finally:
        server.stop()
    assert hosts <= {urlsplit(server.url).netloc}, hosts  # nothing from another host
    assert not [m for m in problems if "Content Security Policy" in m or "Uncaught" in m], problems


def test_an_investigator_finds_the_clip_on_the_map_and_saves_the_search(browser_on, web_archive, tmp_path) -> None:
    _server, signed_in = browser_on
    archive = web_archive.archive
    with archive.catalog.session() as s:
        reference.upsert_camera(s, {"id": "cam-01", "name": "Market gate", "zone": "jung-gu/market",
                                    "latitude": LAT, "longitude": LON})
        reference.upsert_camera(s, {"id": "cam-09", "name": "Station", "latitude": LAT + 0.004,
                                    "longitude": LON + 0.006})
    at = START + timedelta(seconds=10)
    path = make_test_clip(tmp_path / "market.mp4", seconds=2, label="market", start=at)
    pid = ingest.ingest(archive, ingest.IngestRequest(path=path, camera="cam-01", start=at,
                                                      title="Market gate")).package_id
    far = make_test_clip(tmp_path / "station.mp4", seconds=2, label="station", start=at)
    far_pid = ingest.ingest(archive, ingest.IngestRequest(path=far, camera="cam-09", start=at,
                                                          title="Station")).package_id
    reference.add_case(archive.catalog, "2026-MAP-1", "Market theft")
    reference.attach_packages(archive.catalog, "2026-MAP-1", [pid, far_pid])
    reference.share_case(archive.catalog, "2026-MAP-1", "investigator")

    page = signed_in("investigator")
    page.click("nav >> text=Search")
    page.wait_for_selector("#search-map-canvas path.cam")
    assert page.locator("#search-map-canvas path.cam").count() == 2  # the cameras of the shared case
    # draw a box around the market gate only
    gate = page.locator("#search-map-canvas path.cam[data-camera='cam-01']").bounding_box()
    x, y = gate["x"] + gate["width"] / 2, gate["y"] + gate["height"] / 2
    page.click("#map-box")
    assert page.get_attribute("#map-box", "aria-pressed") == "true"
    page.mouse.move(x - 40, y - 40)
    page.mouse.down()
    page.mouse.move(x, y, steps=4)
    page.mouse.move(x + 40, y + 40, steps=4)
    page.mouse.up()
    south, west, north, east = (float(v) for v in page.input_value("#bbox").split(","))
    assert south < LAT < north and west < LON < east
    assert page.input_value("#near") == "" and page.get_attribute("#map-box", "aria-pressed") == "false"
    page.wait_for_selector("path.search-box")
    page.screenshot(path=str(ARTIFACTS / "map-search-box.png"), full_page=True)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector(f"tr[data-package='{pid}']")
    assert page.locator(f"tr[data-package='{far_pid}']").count() == 0  # the station is outside the box
    page.wait_for_selector("#search-map-canvas path.cam.hit")
    assert page.locator("#search-map-canvas path.cam.hit").count() == 1
    page.screenshot(path=str(ARTIFACTS / "map-search-results.png"), full_page=True)

    # a click on the map: the centre of a radius; a small radius there finds the gate and not the station
    page.wait_for_selector("#search-map-canvas path.cam[data-camera='cam-01']")
    gate = page.locator("#search-map-canvas path.cam[data-camera='cam-01']").bounding_box()
    page.mouse.click(gate["x"] + gate["width"] / 2 + 12, gate["y"] + gate["height"] / 2)
    lat, lon = (float(v) for v in page.input_value("#near").split(","))
    assert abs(lat - LAT) < 0.002 and abs(lon - LON) < 0.002
    assert page.input_value("#bbox") == "" and page.input_value("#radius") == "500"
    page.fill("#radius", "150")
    page.wait_for_selector("path.search-radius", state="attached")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector(f"tr[data-package='{pid}']")
    assert page.locator(f"tr[data-package='{far_pid}']").count() == 0

    # save it, find it among the saved searches, run it again
    page.fill("#save-name", "market radius")
    page.click("#save-search button[type=submit]")
    page.wait_for_selector("#saved-as")
    page.click("nav >> text=Saved searches")
    page.wait_for_selector("tr[data-saved='market radius']")
    page.screenshot(path=str(ARTIFACTS / "map-saved-searches.png"), full_page=True)
    page.click("tr[data-saved='market radius'] a.run")
    page.wait_for_selector(f"tr[data-package='{pid}']")
    assert page.input_value("#radius") == "150"
    page.wait_for_selector("path.search-radius", state="attached")


def test_the_inquiry_map_clusters_five_thousand_cameras(browser_on, web_archive) -> None:
    server, signed_in = browser_on
    with web_archive.archive.catalog.session() as s:
        s.add_all([Camera(id=f"c{i:04d}", name=f"camera {i}", zone=f"z{i % 20}",
                          latitude=37.40 + (i % 70) * 0.004, longitude=126.80 + (i // 70) * 0.004)
                   for i in range(5000)])
    page = signed_in("operator")
    began = time.monotonic()
    page.goto(server.url + "/inquiry")
    page.wait_for_selector("#inquiry-map-canvas .marker-cluster")
    page.wait_for_function("() => window.longwatchMaps && window.longwatchMaps[0].markers.length === 5000")
    loaded = time.monotonic() - began
    timing = page.evaluate("() => performance.getEntriesByType('navigation')[0].toJSON()")
    clusters = page.locator("#inquiry-map-canvas .marker-cluster").count()
    singles = page.locator("#inquiry-map-canvas path.cam").count()
    print(f"inquiry with 5,000 cameras: clusters shown {clusters}, single markers {singles}, "
          f"map ready {loaded:.2f} s, DOM content loaded {timing['domContentLoadedEventEnd']:.0f} ms")
    assert clusters >= 2 and singles < 500  # clusters, never 5,000 markers
    assert loaded < 60  # generous: the figure is what the test reports
    # zooming in on a camera splits the clusters; a camera picked on the map gets its box in the form
    page.evaluate("() => window.longwatchMaps[0].map.setView([37.40 + 35 * 0.004, 126.80 + 35 * 0.004], 17,"
                  " {animate: false})")
    camera = f"c{35 * 70 + 35:04d}"
    page.wait_for_selector(f"#inquiry-map-canvas path.cam[data-camera='{camera}']", state="attached")
    page.click(f"#inquiry-map-canvas path.cam[data-camera='{camera}']", force=True)
    assert page.locator(f"#inquiry-cameras input[type=checkbox][value='{camera}']").is_checked()
    page.screenshot(path=str(ARTIFACTS / "map-inquiry-5000.png"), full_page=True)


def test_the_inquiry_plays_the_next_clip_of_a_camera(browser_on, web_archive, tmp_path) -> None:
    server, signed_in = browser_on
    archive = web_archive.archive
    with archive.catalog.session() as s:
        reference.upsert_camera(s, {"id": "cam-01", "name": "Market gate", "latitude": LAT, "longitude": LON})
    second_start = START + timedelta(seconds=2)
    path = make_test_clip(tmp_path / "next.mp4", seconds=3, label="next", start=second_start)
    second = ingest.ingest(archive, ingest.IngestRequest(path=path, camera="cam-01", start=second_start))
    second_clip = archive.catalog.get(second.package_id).clips[0].id
    page = signed_in("operator")
    page.goto(server.url + "/inquiry?camera=cam-01&start=2026-03-03T05:00:00Z&end=2026-03-03T05:00:05Z")
    page.wait_for_function("() => [...document.querySelectorAll('video.sync')].every(v => v.readyState >= 1)")
    assert page.locator("video.sync").count() == 1 and "2 clips" in page.inner_text("figcaption")
    t0 = START.timestamp()
    assert page.evaluate("() => window.longwatchSync.clips()") == [str(web_archive.clip_id)]
    page.evaluate(f"() => window.longwatchSync.seek({t0 + 3.5})")  # into the second clip
    page.wait_for_function(f"() => window.longwatchSync.clips()[0] === '{second_clip}'")
    page.wait_for_function("() => { const v = document.querySelector('video.sync');"
                           " return v.readyState >= 1 && !v.seeking && Math.abs(v.currentTime - 1.5) < 0.2; }")
    # playing from the first clip runs on into the second
    page.evaluate(f"() => window.longwatchSync.seek({t0 + 1.0})")
    page.wait_for_function(f"() => window.longwatchSync.clips()[0] === '{web_archive.clip_id}'")
    page.click("#play")
    page.wait_for_function(f"() => window.longwatchSync.clock() > {t0 + 2.6}", timeout=30_000)
    page.wait_for_function(f"() => window.longwatchSync.clips()[0] === '{second_clip}'")
    page.wait_for_function("() => !document.querySelector('video.sync').paused")
    page.screenshot(path=str(ARTIFACTS / "map-inquiry-next-clip.png"), full_page=True)
