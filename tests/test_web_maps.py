"""The maps (issue 22): a map library served by the archive, tiles only from the operator, place filters that
filter, and the inquiry playing every clip of a camera in the span.

Flask's test client on a real archive (real ffmpeg footage, the real catalog); what the browser then draws
is checked in tests/browser/test_map_journey.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import START
from web_fixtures import PASSWORD, login

from longwatch import config
from longwatch.core.catalog import reference
from longwatch.core.media.probe import make_test_clip
from longwatch.core.preservation import ingest
from longwatch.errors import LongwatchError
from longwatch.web import create_app

STATIC = Path(__file__).resolve().parents[1] / "longwatch" / "web" / "static"
VENDOR = STATIC / "vendor"


def _place(web_archive, camera: str = "cam-01", lat: float = 37.5665, lon: float = 126.9780) -> None:
    with web_archive.archive.catalog.session() as s:
        reference.upsert_camera(s, {"id": camera, "name": f"{camera} gate", "zone": "jung-gu/market",
                                    "latitude": lat, "longitude": lon})


class _Refs(HTMLParser):
    """Every address a page makes the browser fetch or follow (src, href, action, srcset, url(...))."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data") and value:
                self.refs.append(value)
            if name == "style" and value:
                self.refs += re.findall(r"url\(([^)]*)\)", value)


def _outside(text: str) -> list[str]:
    parser = _Refs()
    parser.feed(text)
    return [r for r in parser.refs if re.match(r"\s*(https?:)?//", r)]


def test_the_vendored_map_library_is_the_one_its_sources_note_names() -> None:
    note = (VENDOR / "SOURCES.md").read_text(encoding="utf-8")
    digests = re.findall(r"^([0-9a-f]{64})  (\S+)$", note, re.M)
    assert len(digests) == 5
    for digest, name in digests:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    for version in ("leaflet | 1.9.4", "leaflet.markercluster | 1.5.3"):
        assert version in note
    assert "sha512-" in note
    assert "BSD" in (VENDOR / "leaflet" / "LICENSE").read_text()
    assert "MIT" in note and "Permission is hereby granted" in (
        VENDOR / "leaflet.markercluster" / "MIT-LICENCE.txt").read_text()
    # the stylesheets' images are served from the archive too
    for css in VENDOR.rglob("*.css"):
        for ref in re.findall(r"url\(([^)]*)\)", css.read_text()):
            ref = ref.strip("'\"")
            assert not ref.startswith(("http:", "https:", "//")), (css, ref)
            if not ref.startswith(("data:", "#")):
                assert (css.parent / ref).is_file(), (css, ref)


def test_no_page_with_a_map_references_an_outside_host(web_archive, login_as) -> None:
    _place(web_archive)
    c = login_as("administrator")
    for path in ("/search", "/search?near=37.5665,126.978&radius=300", "/cameras",
                 "/inquiry?camera=cam-01&start=2026-03-03T04:59:00Z&end=2026-03-03T05:01:00Z", "/"):
        response = c.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert _outside(text) == [], path
        assert "/static/vendor/leaflet/leaflet.js" in text or path == "/", path
        csp = response.headers["Content-Security-Policy"]
        assert "img-src 'self' data:;" in csp and "script-src 'self';" in csp
        blocks = re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', text, re.S)
        for block in blocks:
            data = json.loads(block)
            assert data["tiles"] == "" and data["basemap"] is None  # no tiles unless the operator names them


def test_an_operator_tile_server_is_the_one_outside_host_allowed(web_archive) -> None:
    toml = web_archive.root / "longwatch.toml"
    toml.write_text(toml.read_text() + '\n[web]\ntile_url = "https://tiles.city.example/osm/{z}/{x}/{y}.png"\n')
    app = create_app(web_archive.root, {"TESTING": True})
    try:
        c = app.test_client()
        assert login(c, "operator").status_code == 302
        response = c.get("/cameras")
        data = json.loads(re.search(r'<script type="application/json" id="cameras-map">(.*?)</script>',
                                    response.get_data(as_text=True), re.S).group(1))
        assert data["tiles"] == "https://tiles.city.example/osm/{z}/{x}/{y}.png"
        csp = response.headers["Content-Security-Policy"]
        assert "img-src 'self' https://tiles.city.example data:;" in csp
        assert "connect-src 'self';" in csp and "script-src 'self';" in csp  # images only
    finally:
        app.extensions["longwatch"].close()
    for bad in ("ftp://x/{z}/{x}/{y}", "https://tiles.example/{z}/{x}.png", "//cdn.example/{z}/{x}/{y}",
                'https://x/{z}/{x}/{y}" onerror="'):
        toml.write_text(re.sub(r'tile_url = .*', f"tile_url = {json.dumps(bad)}", toml.read_text()))
        with pytest.raises(LongwatchError) as caught:
            config.load(web_archive.root)
        assert caught.value.code == "A003"


def _placed_clip(web_archive, tmp_path) -> str:
    """A clip recorded after its camera was placed: a clip keeps the place its camera had when it recorded."""
    _place(web_archive)
    at = START + timedelta(seconds=10)
    path = make_test_clip(tmp_path / "placed.mp4", seconds=2, label="placed", start=at)
    return ingest.ingest(web_archive.archive, ingest.IngestRequest(path=path, camera="cam-01", start=at)).package_id


def test_the_search_map_fills_place_filters_that_filter(web_archive, login_as, tmp_path) -> None:
    pid = _placed_clip(web_archive, tmp_path)
    c = login_as("investigator")
    found = login_as("operator")
    assert pid in found.get("/search?near=37.5666,126.9781&radius=100").get_data(as_text=True)
    assert pid not in found.get("/search?near=37.60,126.99&radius=100").get_data(as_text=True)
    assert pid in found.get("/search?bbox=37.56,126.97,37.57,126.98").get_data(as_text=True)
    assert pid not in found.get("/search?bbox=37.50,126.90,37.55,126.95").get_data(as_text=True)
    # ?near= on the package list is the search page's, never ignored
    moved = found.get("/packages?near=37.60,126.99&radius=100")
    assert moved.status_code == 302 and "/search?" in moved.headers["Location"]
    # the map shows the hits where they were recorded: in the page when the counts are in it (no script) ...
    text = found.get("/search?bbox=37.56,126.97,37.57,126.98&facets=1").get_data(as_text=True)
    data = json.loads(re.search(r'id="search-map">(.*?)</script>', text, re.S).group(1))
    assert data["mode"] == "search" and [(p["id"], p["hits"]) for p in data["points"]] == [("cam-01", 1)]
    assert 'id="map-box"' in text
    # ... and with the counts fetched after the page, which static/search.js hands to the map
    panel = found.get("/search/facets?bbox=37.56,126.97,37.57,126.98").get_data(as_text=True)
    assert json.loads(re.search(r'id="facet-hits">(.*?)</script>', panel, re.S).group(1)) == {"cam-01": 1}
    # an investigator's map holds only the cameras of footage they may see: none here
    data = json.loads(re.search(r'id="search-map">(.*?)</script>', c.get("/search").get_data(as_text=True),
                                re.S).group(1))
    assert data["points"] == []


def test_the_inquiry_plays_every_clip_of_each_camera_across_the_span(web_archive, login_as, tmp_path) -> None:
    _place(web_archive)
    archive = web_archive.archive
    later = START + timedelta(seconds=2)
    path = make_test_clip(tmp_path / "cam-01-b.mp4", seconds=2, label="cam-01 b", start=later)
    second = ingest.ingest(archive, ingest.IngestRequest(path=path, camera="cam-01", start=later))
    c = login_as("operator")
    text = c.get("/inquiry?camera=cam-01&start=2026-03-03T04:59:00Z&end=2026-03-03T05:01:00Z").get_data(
        as_text=True)
    videos = re.findall(r'<video class="sync"[^>]*data-clips="([^"]*)"', text)
    assert len(videos) == 1  # one player per camera
    clips = json.loads(videos[0].replace("&#34;", '"').replace("&quot;", '"'))
    assert [clip["package_id"] for clip in clips] == [web_archive.package_id, second.package_id]
    assert clips[1]["start"] - clips[0]["start"] == pytest.approx(2.0)
    assert all(clip["src"].startswith("/clips/") for clip in clips)


def test_the_inquiry_map_clusters_five_thousand_cameras(web_archive, login_as) -> None:
    with web_archive.archive.catalog.session() as s:
        for i in range(5000):
            reference.upsert_camera(s, {"id": f"c{i:04d}", "latitude": 37.4 + (i % 70) * 0.005,
                                        "longitude": 126.8 + (i // 70) * 0.005, "zone": f"z{i % 20}"})
    c = login_as("operator")
    response = c.get("/inquiry")
    assert response.status_code == 200
    data = json.loads(re.search(r'id="inquiry-map">(.*?)</script>', response.get_data(as_text=True),
                                re.S).group(1))
    assert len(data["points"]) == 5000 and data["cluster"] is True
    assert len(data["outlines"]) == 20
    # the form lists the chosen cameras only (the map picks more), not 5,000 boxes
    assert 'type="checkbox" name="camera"' not in response.get_data(as_text=True)
    chosen = c.get("/inquiry?camera=c0001&camera=c0002").get_data(as_text=True)
    assert chosen.count('type="checkbox" name="camera"') == 2 and 'id="camera-id"' in chosen
    assert PASSWORD  # the fixture's accounts signed in


# -- saved searches ---------------------------------------------------------------------------------
def _save(c, name: str, **filters) -> object:
    from web_fixtures import csrf_of

    token = csrf_of(c, "/search")
    return c.post("/search/saved", data={"csrf_token": token, "name": name, **filters})


def test_saved_searches_are_saved_listed_run_and_deleted_per_account(web_archive, login_as, tmp_path) -> None:
    from web_fixtures import csrf_of

    pid = _placed_clip(web_archive, tmp_path)
    operator = login_as("operator")
    saved = _save(operator, "market gate", bbox="37.56,126.97,37.57,126.98", start="2026-03-03T13:59:00")
    assert saved.status_code == 302 and "saved=market" in saved.headers["Location"]
    listed = operator.get("/search/saved").get_data(as_text=True)
    run = re.search(r'<a class="run" href="([^"]+)">market gate</a>', listed).group(1).replace("&amp;", "&")
    found = operator.get(run).get_data(as_text=True)
    assert pid in found and web_archive.package_id not in found  # the box filters: the unplaced clip is out
    assert 'value="37.56,126.97,37.57,126.98"' in found
    # saving again under the same name replaces it
    assert _save(operator, "market gate", zone="jung-gu").status_code == 302
    assert operator.get("/search/saved").get_data(as_text=True).count('class="run"') == 1
    # a name is needed: the search page again with the error beside the name, the filters kept
    refused = _save(operator, "  ", near="37.5665,126.978", radius="200")
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "W093" in text and 'id="save-name"' in text and 'value="37.5665,126.978"' in text
    # another account sees none of them and cannot delete them
    other = login_as("auditor")
    assert "market gate" not in other.get("/search/saved").get_data(as_text=True)
    search_id = re.search(r'/search/saved/([0-9a-f-]{36})/delete', listed).group(1)
    gone = other.post(f"/search/saved/{search_id}/delete", data={"csrf_token": csrf_of(other, "/search/saved")})
    assert gone.status_code == 404
    deleted = operator.post(f"/search/saved/{search_id}/delete",
                            data={"csrf_token": csrf_of(operator, "/search/saved")})
    assert deleted.status_code == 302
    assert "market gate" not in operator.get("/search/saved").get_data(as_text=True).split("<table", 1)[-1]


def test_a_records_manager_holds_what_a_saved_search_finds(web_archive, login_as, tmp_path) -> None:
    from web_fixtures import csrf_of

    from longwatch.core.records import holds

    pid = _placed_clip(web_archive, tmp_path)
    rm = login_as("records-manager")
    assert _save(rm, "gate at two", camera="cam-01", start="2026-03-03T14:00:05",
                 end="2026-03-03T14:00:20").status_code == 302
    assert _save(rm, "by place", bbox="37.56,126.97,37.57,126.98").status_code == 302
    listed = rm.get("/search/saved").get_data(as_text=True)
    rows = re.findall(r'<tr data-saved="([^"]+)">.*?/search/saved/([0-9a-f-]{36})/hold', listed, re.S)
    ids = {name: sid for name, sid in rows}
    token = csrf_of(rm, "/search/saved")
    missing = rm.post(f"/search/saved/{ids['gate at two']}/hold", data={"csrf_token": token, "owner": "legal"})
    assert missing.status_code == 400 and "H013" in missing.get_data(as_text=True)
    placed = rm.post(f"/search/saved/{ids['gate at two']}/hold",
                     data={"csrf_token": token, "owner": "legal", "reason": "police request 7"})
    assert placed.status_code == 302
    on = holds.holds_on(web_archive.archive, pid)
    assert on and on[0].kind == "search"
    assert holds.hold_dict(on[0])["search"] == {"camera": "cam-01", "from": "2026-03-03T05:00:05Z",
                                                "to": "2026-03-03T05:00:20Z"}
    assert not holds.holds_on(web_archive.archive, web_archive.package_id)  # 05:00:00 to 05:00:02: not found
    refused = rm.post(f"/search/saved/{ids['by place']}/hold",
                      data={"csrf_token": token, "owner": "legal", "reason": "r"})
    assert refused.status_code == 400 and "W096" in refused.get_data(as_text=True)
    # operators may save but not hold
    operator = login_as("operator")
    assert "Hold what it finds" not in operator.get("/search/saved").get_data(as_text=True)


def test_saved_searches_in_the_api(client, web_archive) -> None:
    from longwatch.core import accounts

    def bearer(user: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + accounts.create_token(web_archive.archive.catalog, user, "t")}

    mine, theirs = bearer("operator"), bearer("auditor")
    made = client.post("/api/v1/searches", headers=mine, json={
        "name": "gate", "criteria": {"camera": ["cam-01"], "bbox": "37.56,126.97,37.57,126.98"}})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["criteria"] == {"bbox": "37.56,126.97,37.57,126.98", "camera": ["cam-01"]}
    assert body["search_url"].startswith("/search?")
    assert [s["name"] for s in client.get("/api/v1/searches", headers=mine).get_json()] == ["gate"]
    assert client.get("/api/v1/searches", headers=theirs).get_json() == []
    for bad in ({"name": "x", "criteria": {"where": "?"}}, {"name": "", "criteria": {}},
                {"name": "x", "criteria": {"camera": "cam-01"}}, {"name": "x", "criteria": []}):
        refused = client.post("/api/v1/searches", headers=mine, json=bad)
        assert refused.status_code == 400 and refused.get_json()["error"]["code"] in ("W092", "W093"), bad
    assert client.delete(f"/api/v1/searches/{body['id']}", headers=theirs).status_code == 404
    assert client.delete(f"/api/v1/searches/{body['id']}", headers=mine).status_code == 200
    assert client.get("/api/v1/searches", headers=mine).get_json() == []


def test_saved_searches_keep_the_same_on_both_catalogs(catalog_backend: str, tmp_path: Path) -> None:
    """The saved searches' table and rules on SQLite and on PostgreSQL (migration 0035 on both)."""
    from longwatch.core.catalog import Catalog, saved_searches

    url = f"sqlite:///{tmp_path / 'c.sqlite'}" if catalog_backend == "sqlite" else catalog_backend
    catalog = Catalog(url)
    catalog.upgrade()
    try:
        made = saved_searches.save(catalog, "kim", "  market   gate ", {"camera": ["cam-01", " "], "q": "시장",
                                                                         "where": "ignored", "bbox": ""})
        assert made["name"] == "market gate" and made["criteria"] == {"camera": ["cam-01"], "q": "시장"}
        again = saved_searches.save(catalog, "kim", "market gate", {"zone": "jung-gu"})
        assert again["id"] == made["id"] and again["criteria"] == {"zone": "jung-gu"}
        saved_searches.save(catalog, "lee", "market gate", {"zone": "x"})  # another account, the same name
        assert [s["name"] for s in saved_searches.listing(catalog, "kim")] == ["market gate"]
        with pytest.raises(LongwatchError) as caught:
            saved_searches.get(catalog, "lee", made["id"])
        assert caught.value.code == "W095"
        with pytest.raises(LongwatchError) as caught:
            saved_searches.save(catalog, "kim", "x" * 101, {})
        assert caught.value.code == "W093"
        saved_searches.delete(catalog, "kim", made["id"])
        assert saved_searches.listing(catalog, "kim") == []
    finally:
        catalog.dispose()
