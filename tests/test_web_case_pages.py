"""The investigator's pages (issue 22): search, cases, exports and share links, through the Flask test client.

Real ingested packages on a real archive: each search filter must narrow the
results (``?near=`` included), facet counts must be right, an investigator sees
and writes only the cases shared with them, and an export runs as a job whose
link opens a landing page before the download.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import unique_copy
from sqlalchemy import update
from web_fixtures import csrf_of

from longwatch.core import custody
from longwatch.core.catalog import reference
from longwatch.core.catalog.models import DetectedEvent, Package
from longwatch.core.evidence import orders, shares
from longwatch.core.evidence.verify_export import verify_export
from longwatch.core.preservation import ingest
from longwatch.core.records import holds

T0 = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # 14:00 in Seoul


@pytest.fixture
def footage(web_archive, small_clip: Path, tmp_path: Path) -> dict[str, str]:
    """Three cameras: cam-01 (the fixture's, no place), cam-02 in the market, cam-03 in Mapo, an hour apart."""
    archive = web_archive.archive
    made = {"cam-01": web_archive.package_id}
    for n, (camera, zone, lat, lon, title) in enumerate((
            ("cam-02", "Jung-gu/Market/Gate-2", 37.5668, 126.9790, "Market east"),
            ("cam-03", "Mapo-gu/Hapjeong", 37.5499, 126.9137, "Hapjeong crossing"))):
        clip = unique_copy(small_clip, tmp_path / f"{camera}.mp4")
        result = ingest.ingest(archive, ingest.IngestRequest(
            path=clip, camera=camera, zone=zone, latitude=lat, longitude=lon, title=title,
            start=T0 + timedelta(hours=n + 1)))
        made[camera] = result.package_id
    with archive.catalog.session() as s:
        s.add(DetectedEvent(package_id=made["cam-03"], camera="cam-03", type="fall", start_utc=T0, confidence=0.9,
                            source="ai-x"))
        s.add(DetectedEvent(package_id=made["cam-02"], camera="cam-02", type="fire", start_utc=T0, confidence=0.4,
                            source="ai-x"))
    reference.add_case(archive.catalog, "C-1", "Shared case")
    reference.attach_packages(archive.catalog, "C-1", [made["cam-01"]])
    reference.share_case(archive.catalog, "C-1", "investigator", granted_by="records-manager")
    reference.add_case(archive.catalog, "C-2", "Other case")
    reference.attach_packages(archive.catalog, "C-2", [made["cam-03"]])
    reference.add_case_note(archive.catalog, "C-2", "records-manager", "secret lead on the suspect")
    return made


ROW = re.compile(r'<tr data-package="([^"]+)"')


def found(response) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    return set(ROW.findall(response.get_data(as_text=True)))


def facet(response, name: str) -> dict[str, int]:
    html = response.get_data(as_text=True)
    section = re.search(rf'data-facet="{name}">(.*?)</section>', html, re.S)
    assert section, name
    pairs = re.findall(r'>([^<>]+)</(?:a|span)> <span class="count">(\d+)</span>', section.group(1))
    return {k: int(n) for k, n in pairs}


def test_each_search_filter_narrows_the_results(footage, login_as) -> None:
    c = login_as("records-manager")
    everything = set(footage.values())
    assert found(c.get("/search")) == everything
    assert found(c.get("/search?camera=cam-02")) == {footage["cam-02"]}
    assert found(c.get("/search?camera=cam-02&camera=cam-03")) == {footage["cam-02"], footage["cam-03"]}
    assert found(c.get("/search?zone=Jung-gu")) == {footage["cam-02"]}  # a sub-zone's footage is in its zone
    assert found(c.get("/search?zone=Mapo-gu/Hapjeong")) == {footage["cam-03"]}
    assert found(c.get("/search?near=37.5665,126.9780&radius=300")) == {footage["cam-02"]}
    assert found(c.get("/search?near=37.5665,126.9780&radius=10000")) == {footage["cam-02"], footage["cam-03"]}
    assert found(c.get("/search?bbox=37.54,126.90,37.555,126.92")) == {footage["cam-03"]}
    assert found(c.get("/search?event=fall")) == {footage["cam-03"]}
    assert found(c.get("/search?min_confidence=0.5")) == {footage["cam-03"]}
    assert found(c.get("/search?event=fire&min_confidence=0.5")) == set()
    assert found(c.get("/search?case=C-2")) == {footage["cam-03"]}
    assert found(c.get("/search?q=Hapjeong")) == {footage["cam-03"]}
    # the pickers are on the archive's clock (Asia/Seoul): 15:00-15:30 local is cam-02's hour only
    assert found(c.get("/search?start=2026-03-03T15:00:00&end=2026-03-03T15:30:00")) == {footage["cam-02"]}
    assert found(c.get("/search?start=2026-03-03T06:00:00Z&end=2026-03-03T06:30:00Z")) == {footage["cam-02"]}
    # /packages ignored ?near= before: now it is the search's, and narrows
    moved = c.get("/packages?near=37.5665,126.9780&radius=300")
    assert moved.status_code == 302 and "/search?" in moved.headers["Location"]
    assert found(c.get(moved.headers["Location"])) == {footage["cam-02"]}


def test_facet_counts_and_keyset_pages(footage, app, login_as) -> None:
    c = login_as("records-manager")
    for page in (c.get("/search?facets=1"), c.get("/search/facets")):  # in the page (no script), or after it
        assert facet(page, "camera") == {"cam-01": 1, "cam-02": 1, "cam-03": 1}
        assert facet(page, "event_type") == {"fall": 1, "fire": 1}
        assert facet(page, "zone") == {"-": 1, "Jung-gu/Market/Gate-2": 1, "Mapo-gu/Hapjeong": 1}
        assert "3 clips match" in page.get_data(as_text=True)
    for narrowed in (c.get("/search?zone=Jung-gu&facets=1"), c.get("/search/facets?zone=Jung-gu")):
        assert facet(narrowed, "camera") == {"cam-02": 1} and facet(narrowed, "event_type") == {"fire": 1}
    app.config["LONGWATCH_PAGE_SIZE"] = 2
    first = c.get("/search")
    html = first.get_data(as_text=True)
    assert len(found(first)) == 2 and 'rel="next"' in html
    after = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    rest = found(c.get(after))
    assert rest and not rest & found(first) and found(first) | rest == set(footage.values())


def test_the_page_answers_with_its_results_and_leaves_the_counts_for_later(footage, login_as,
                                                                          monkeypatch) -> None:
    """The results first: the page itself counts nothing (the counts read up to 10,000 matches, a page 50);
    its panel names /search/facets with the same filters, and a link asks for the counts without a script.
    Over the cap (a filter the counts per hour cannot answer) the panel says "more than" and what its counts
    are of; from the counts per hour it counts every match."""
    from longwatch.core.catalog import search as search_api

    c = login_as("records-manager")
    counted: list[object] = []
    real = search_api.facets
    monkeypatch.setattr(search_api, "facets", lambda *a, **k: counted.append(k) or real(*a, **k))
    page = c.get("/search?zone=Jung-gu")
    html = page.get_data(as_text=True)
    assert found(page) == {footage["cam-02"]} and counted == []
    assert 'data-src="/search/facets?zone=Jung-gu"' in html and 'href="/search?facets=1&amp;zone=Jung-gu"' in html
    assert 'data-facet="camera"' not in html
    assert facet(c.get("/search/facets?zone=Jung-gu"), "camera") == {"cam-02": 1}
    assert counted and all(k["cap"] == search_api.FACET_CAP for k in counted)  # type: ignore[index]
    monkeypatch.setattr(search_api, "FACET_CAP", 1)
    box = "/search/facets?bbox=-90,-180,90,180"  # a place (two clips): counted from the clips, the newest FACET_CAP
    over = c.get(box).get_data(as_text=True)
    assert "More than 1 clips match; the counts below are of the newest 1." in over
    assert sum(facet(c.get(box), "camera").values()) == 1
    every = c.get("/search/facets").get_data(as_text=True)  # no filter: from the counts per hour, every match
    assert "3 clips match" in every and "More than" not in every
    assert sum(facet(c.get("/search/facets"), "camera").values()) == 3


def test_bad_search_input_is_shown_beside_its_field_as_typed(footage, login_as) -> None:
    c = login_as("records-manager")
    bad = c.get("/search?near=37.5665,126.9780&radius=abc&q=market")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="radius-error"' in html and "W012" in html
    assert 'value="abc"' in html and 'value="market"' in html
    assert 'aria-invalid="true" aria-describedby="radius-error"' in html
    far = c.get("/search?near=37.5,126.9&radius=99999999")
    assert far.status_code == 400 and 'id="radius-error"' in far.get_data(as_text=True)
    assert 'id="zone-error"' in c.get("/search?zone=Nowhere").get_data(as_text=True)
    assert 'id="end-error"' in c.get("/search?start=2026-03-03T15:00&end=2026-03-03T14:00").get_data(as_text=True)


def test_an_investigator_sees_and_searches_only_shared_cases(footage, login_as) -> None:
    inv = login_as("investigator")
    listing = inv.get("/cases").get_data(as_text=True)
    assert "C-1" in listing and "C-2" not in listing
    assert inv.get("/cases/C-2").status_code == 404
    case = inv.get("/cases/C-1").get_data(as_text=True)
    assert "secret lead" not in case
    # search is within what they may see: results and facet counts alike
    page = inv.get("/search")
    assert found(page) == {footage["cam-01"]} and facet(inv.get("/search?facets=1"), "camera") == {"cam-01": 1}
    assert facet(inv.get("/search/facets"), "camera") == {"cam-01": 1}
    assert inv.get("/search/facets?case=C-2").status_code == 400  # another's case: no counts of it either
    assert inv.get("/search?case=C-2").status_code == 400
    manager = login_as("records-manager")
    assert "C-2" in manager.get("/cases").get_data(as_text=True)
    assert "secret lead" in manager.get("/cases/C-2").get_data(as_text=True)


def test_an_investigator_cannot_write_in_other_cases(footage, web_archive, login_as) -> None:
    inv = login_as("investigator")
    csrf = csrf_of(inv, "/cases/C-1")
    refused = inv.post("/cases/C-2/notes", data={"csrf_token": csrf, "note": "mine now"})
    assert refused.status_code == 403 and "W070" in refused.get_data(as_text=True)
    held = inv.post("/cases/C-2/hold", data={"csrf_token": csrf, "reason": "keep"})
    assert held.status_code == 403
    assert inv.post("/cases/NO-SUCH/notes", data={"csrf_token": csrf, "note": "x"}).status_code == 403
    # they cannot pull a package they may not see into their case either
    pulled = inv.post("/cases/C-1/packages", data={"csrf_token": csrf, "package": footage["cam-03"]})
    assert pulled.status_code == 400 and 'id="package-error"' in pulled.get_data(as_text=True)
    assert inv.post("/cases", data={"csrf_token": csrf, "number": "C-9"}).status_code == 403
    assert not holds.holds_on(web_archive.archive, footage["cam-03"])
    # from the search page's results, too: only into a case of theirs, only what they may see
    chose = inv.post("/cases/attach", data={"csrf_token": csrf, "number": "C-2", "chosen": footage["cam-01"]})
    assert chose.status_code == 403
    chose = inv.post("/cases/attach", data={"csrf_token": csrf, "number": "C-1", "chosen": footage["cam-03"]})
    assert chose.status_code == 400
    unchosen = inv.post("/cases/attach", data={"csrf_token": csrf, "chosen": footage["cam-01"]})
    assert unchosen.status_code == 400 and "W012" in unchosen.get_data(as_text=True)
    # in their own case they may
    assert inv.post("/cases/C-1/notes", data={"csrf_token": csrf, "note": "seen at the gate"}).status_code == 302
    assert inv.post("/cases/C-1/hold", data={"csrf_token": csrf, "reason": "police request"}).status_code == 302
    page = inv.get("/cases/C-1").get_data(as_text=True)
    assert "seen at the gate" in page and "held" in page
    assert holds.holds_on(web_archive.archive, footage["cam-01"])


def test_a_records_manager_opens_fills_and_shares_a_case(footage, web_archive, login_as) -> None:
    manager = login_as("records-manager")
    csrf = csrf_of(manager, "/cases")
    twice = manager.post("/cases", data={"csrf_token": csrf, "number": "C-1", "title": "again"})
    html = twice.get_data(as_text=True)
    assert twice.status_code == 400 and 'id="number-error"' in html and 'value="again"' in html
    assert manager.post("/cases", data={"csrf_token": csrf, "number": "C-3", "title": "Night"}).status_code == 302
    added = manager.post("/cases/C-3/packages", data={"csrf_token": csrf, "package": footage["cam-02"][:12]})
    assert added.status_code == 302
    results = manager.get("/search?camera=cam-01").get_data(as_text=True)  # results can be ticked into a case
    assert f'name="chosen" value="{footage["cam-01"]}"' in results and 'id="attach-case"' in results
    chosen = manager.post("/cases/attach", data={"csrf_token": csrf, "number": "C-2", "chosen": footage["cam-01"]})
    assert chosen.status_code == 302 and chosen.headers["Location"].endswith("/cases/C-2")
    ranged = manager.post("/cases/C-3/ranges", data={"csrf_token": csrf, "camera": "cam-03",
                                                     "start": "2026-03-03T16:00:00", "end": "2026-03-03T16:30:00"})
    assert ranged.status_code == 302
    page = manager.get("/cases/C-3").get_data(as_text=True)
    assert set(ROW.findall(page)) == {footage["cam-02"], footage["cam-03"]}
    ledger = custody.Ledger.for_archive(web_archive.archive)
    assert any("attached to case C-3" in e.get("detail", "") for _s, e, _l in ledger.history(footage["cam-02"]))
    assert manager.post("/cases/C-3/members", data={"csrf_token": csrf, "username": "investigator"}).status_code == 302
    assert "C-3" in login_as("investigator").get("/cases").get_data(as_text=True)
    assert manager.post("/cases/C-3/members", data={"csrf_token": csrf, "username": "investigator",
                                                    "action": "unshare"}).status_code == 302
    assert "C-3" not in login_as("investigator").get("/cases").get_data(as_text=True)
    operator = login_as("operator")
    assert operator.post("/cases/C-3/members", data={"csrf_token": csrf_of(operator, "/cases"),
                                                     "username": "investigator"}).status_code == 403


def test_destroyed_packages_show_as_tombstones(footage, web_archive, login_as) -> None:
    with web_archive.archive.catalog.session() as s:
        s.execute(update(Package).where(Package.id == footage["cam-03"]).values(status="disposed"))
    c = login_as("records-manager")
    for url in ("/search?camera=cam-03", "/cases/C-2"):
        html = c.get(url).get_data(as_text=True)
        row = html[html.index(f'data-package="{footage["cam-03"]}"'):]
        row = row[:row.index("</tr>")]
        assert "destroyed, tombstone kept" in row and "poster.jpg" not in row, url
    refused = c.post("/cases/C-1/packages", data={"csrf_token": csrf_of(c, "/cases"), "package": footage["cam-03"]})
    assert refused.status_code == 400 and "W072" in refused.get_data(as_text=True)


def _wait(export_id: str) -> None:
    thread = orders.RUNNING.get(export_id)
    if thread is not None:
        thread.join(300)


def test_an_export_runs_as_a_job_and_its_link_lands_before_the_download(footage, web_archive, app, login_as,
                                                                         tmp_path) -> None:
    manager = login_as("records-manager")
    csrf = csrf_of(manager, "/exports")
    form = {"csrf_token": csrf, "agency": "Busan Police", "officer": "Kim", "case_number": "2026-77",
            "legal_basis": "Criminal Procedure Act art. 215", "purpose": "investigation",
            "expires": "2026-12-31T18:00:00", "case": "C-1", "watermark": "1"}
    missing = manager.post("/exports", data={**form, "legal_basis": ""})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 400 and 'id="legal_basis-error"' in html and 'value="Busan Police"' in html
    asked = manager.post("/exports", data=form)
    assert asked.status_code == 303
    export_id = asked.headers["Location"].rsplit("/", 1)[1]
    _wait(export_id)
    page = manager.get(f"/exports/{export_id}").get_data(as_text=True)
    assert 'data-state="done"' in page and footage["cam-01"][:8] in page
    made = manager.post(f"/exports/{export_id}/links", data={"csrf_token": csrf, "days": "3"})
    link = re.search(r'id="made-link" value="([^"]+)"', made.get_data(as_text=True)).group(1)
    token = link.rsplit("/s/", 1)[1]
    recipient = app.test_client()
    landing = recipient.get(f"/s/{token}")
    text = landing.get_data(as_text=True)
    assert landing.status_code == 200 and "Busan Police" in text and "sha256sum" in text.lower()
    table = text[text.index('<table class="contents">'):text.index("</table>")]
    assert "/media/cam-01_" in table and "data/access/" in table and "access copy, not evidence" in table, table
    assert shares.list_shares(web_archive.archive)[0]["downloads"] == 0  # looking is not downloading
    got = recipient.get(f"/s/{token}/download")
    assert got.status_code == 200 and got.mimetype == "application/zip"
    body = got.get_data()
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert any(n.endswith("/VERIFY.txt") for n in zf.namelist())
    (tmp_path / "got.zip").write_bytes(body)
    assert verify_export(tmp_path / "got.zip").ok
    assert shares.list_shares(web_archive.archive)[0]["downloads"] == 1
    # an investigator sees neither this export nor its links
    inv = login_as("investigator")
    assert inv.get(f"/exports/{export_id}").status_code == 404
    assert export_id[:8] not in inv.get("/exports").get_data(as_text=True)


def test_an_investigator_exports_only_what_they_may_see(footage, login_as) -> None:
    inv = login_as("investigator")
    csrf = csrf_of(inv, "/exports")
    form = {"csrf_token": csrf, "agency": "Police", "legal_basis": "basis", "purpose": "p"}
    other = inv.post("/exports", data={**form, "case": "C-2"})
    assert other.status_code == 400 and "W070" in other.get_data(as_text=True)
    unseen = inv.post("/exports", data={**form, "packages": footage["cam-03"]})
    assert unseen.status_code == 400 and 'id="packages-error"' in unseen.get_data(as_text=True)
    ranged = inv.post("/exports", data={**form, "camera": "cam-03", "start": "2026-03-03T16:00:00",
                                        "end": "2026-03-03T17:00:00"})
    assert ranged.status_code == 400 and "W040" in ranged.get_data(as_text=True)
    mine = inv.post("/exports", data={**form, "case": "C-1"})
    assert mine.status_code == 303
    _wait(mine.headers["Location"].rsplit("/", 1)[1])


def test_the_pages_are_in_the_navigation_of_the_roles_that_may_use_them(footage, login_as) -> None:
    for role, expected, absent in (("investigator", ("/search", "/cases", "/exports"), ()),
                                   ("auditor", ("/search", "/cases"), ("/exports",))):
        html = login_as(role).get("/").get_data(as_text=True)
        nav = html[html.index('<nav aria-label='):html.index("</nav>")]
        for url in expected:
            assert f'href="{url}"' in nav, (role, url)
        for url in absent:
            assert f'href="{url}"' not in nav, (role, url)


def test_on_postgresql_the_export_is_a_queued_job_that_a_worker_runs(pg_url, footage, web_archive, login_as) -> None:
    from longwatch.core.jobs import queue as jobs

    manager = login_as("records-manager")
    csrf = csrf_of(manager, "/exports")
    asked = manager.post("/exports", data={"csrf_token": csrf, "agency": "Seoul Police", "legal_basis": "basis",
                                           "purpose": "investigation", "packages": footage["cam-02"]})
    assert asked.status_code == 303
    export_id = asked.headers["Location"].rsplit("/", 1)[1]
    waiting = manager.get(f"/exports/{export_id}").get_data(as_text=True)
    assert 'data-state="queued"' in waiting and 'http-equiv="refresh"' in waiting  # the request did not run it
    assert [j.task for j in jobs.list_jobs(web_archive.archive, "queued")] == ["export"]
    jobs.run_worker(web_archive.archive, [jobs.HEAVY], concurrency=1, wait=False)
    done = manager.get(f"/exports/{export_id}").get_data(as_text=True)
    assert 'data-state="done"' in done and footage["cam-02"][:8] in done
    ledger = custody.Ledger.for_archive(web_archive.archive)
    transfers = [e for _s, e, _l in ledger.history(footage["cam-02"]) if e["type"] == "transfer"]
    assert transfers and "records-manager" in str(transfers[-1]["agents"])  # the worker acted for who asked


def test_the_forms_options_are_escaped_and_keep_the_choice() -> None:
    """The camera and zone options are joined in Python (the page's largest cost as a Jinja loop): escaped."""
    from longwatch.web.search import camera_options, zone_options

    assert str(camera_options(["a<b", "c"], ["a<b"])) == "<option selected>a&lt;b</option><option>c</option>"
    zones = [{"path": "Jung-gu", "name": ""}, {"path": "Jung-gu/\"x\"", "name": "<gate>"}]
    assert str(zone_options(zones, "Jung-gu")) == (
        '<option value="Jung-gu" selected>Jung-gu</option>'
        '<option value="Jung-gu/&#34;x&#34;">\u00a0\u00a0&lt;gate&gt;</option>')
