"""Who may see what (issue 22): investigators work only in the cases shared with them; every byte of footage
served is an access record; destroyed packages are tombstones everywhere; the navigation links exactly the
pages a role may use."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ingest_one, unique_copy
from web_fixtures import ROLES, csrf_of

from longwatch.core import custody
from longwatch.core.catalog import reference
from longwatch.core.catalog.models import Case, CasePackage, DetectedEvent
from longwatch.core.evidence import export as export_mod
from longwatch.core.evidence import shares
from longwatch.core.evidence.request import Recipient, Request
from longwatch.core.records import actors, dispositions, holds
from longwatch.web import navigation, security

SECRET_NOTE = "2026-03-03T05:00:00Z\toperator\twitness Kim lives at 12 Sejong-daero"
DAY = {"start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z"}


def _notes(archive, number):
    with archive.catalog.session() as s:
        case = s.query(Case).filter(Case.number == number).first()
        return case.notes if case else None


@pytest.fixture
def cases(web_archive, small_clip, tmp_path):
    """C-OTHER (not shared with the investigator, with a note) and C-MINE (shared with them, holding the
    fixture's package); plus a second package of cam-01 on the same day in no case."""
    catalog = web_archive.archive.catalog
    reference.add_case(catalog, "C-OTHER", notes=SECRET_NOTE)
    reference.add_case(catalog, "C-MINE")
    reference.attach_packages(catalog, "C-MINE", [web_archive.package_id])
    assert reference.share_case(catalog, "C-MINE", "investigator", granted_by="records-manager")
    other = ingest_one(web_archive.archive, unique_copy(small_clip, tmp_path / "src" / "other.mp4"),
                       camera="cam-01", start=datetime(2026, 3, 3, 5, 30, tzinfo=UTC), title="Other")
    return other


# -- an investigator sees only the cases shared with them ------------------------------------------------
def test_investigator_cannot_read_another_cases_notes(login_as, web_archive, cases):
    c = login_as("investigator")
    span = {"camera": "cam-01", **DAY}
    response = c.get("/inquiry", query_string={**span, "case": "C-OTHER"})
    assert response.status_code == 404
    assert "Sejong-daero" not in response.get_data(as_text=True)
    assert c.get("/inquiry", query_string={**span, "case": "C-MINE"}).status_code == 200
    # an operator still sees every case
    page = login_as("operator").get("/inquiry", query_string={**span, "case": "C-OTHER"}).get_data(as_text=True)
    assert "Sejong-daero" in page


def test_investigator_cannot_write_notes_in_another_case(login_as, web_archive, cases):
    c = login_as("investigator")
    token = csrf_of(c, "/me")
    form = {"csrf_token": token, "at": "2026-03-03T05:00:02Z", "text": "planted note"}
    assert c.post("/inquiry/note", data={**form, "case": "C-OTHER"}).status_code == 404
    assert _notes(web_archive.archive, "C-OTHER") == SECRET_NOTE
    # nor open a case of their own choosing
    assert c.post("/inquiry/note", data={**form, "case": "C-NEW"}).status_code == 404
    assert _notes(web_archive.archive, "C-NEW") is None
    assert c.post("/inquiry/note", data={**form, "case": "C-MINE"}).status_code == 302
    assert "planted note" in _notes(web_archive.archive, "C-MINE")


def test_investigator_cannot_hold_in_another_case_nor_hold_footage_they_cannot_see(login_as, web_archive, cases):
    archive = web_archive.archive
    c = login_as("investigator")
    token = csrf_of(c, "/me")
    form = {"csrf_token": token, "camera": "cam-01", **DAY}
    assert c.post("/inquiry/hold", data={**form, "case": "C-OTHER"}).status_code == 404
    assert not holds.holds_on(archive, web_archive.package_id) and not holds.holds_on(archive, cases)
    assert c.post("/inquiry/hold", data={**form, "case": "C-MINE"}).status_code == 302
    assert holds.holds_on(archive, web_archive.package_id)
    assert not holds.holds_on(archive, cases)  # the other package of that camera and day is not theirs
    with archive.catalog.session() as s:
        attached = set(s.scalars(s.query(CasePackage.package_id).join(Case, Case.id == CasePackage.case_id)
                                 .filter(Case.number == "C-MINE").statement))
    assert attached == {web_archive.package_id}


def test_investigator_sees_the_footage_of_shared_cases_only(login_as, web_archive, cases):
    c = login_as("investigator")
    assert c.get(f"/packages/{web_archive.package_id}").status_code == 200
    assert c.get(f"/packages/{cases}").status_code == 404
    assert c.get("/api/v1/packages").json["total"] == 1
    # the inquiry's players offer only their footage
    page = c.get("/inquiry", query_string={"camera": "cam-01", **DAY, "case": "C-MINE"}).get_data(as_text=True)
    assert web_archive.package_id in page and cases not in page
    reference.unshare_case(web_archive.archive.catalog, "C-MINE", "investigator")
    assert c.get(f"/packages/{web_archive.package_id}").status_code == 404
    assert c.get("/inquiry?case=C-MINE").status_code == 404


def test_investigator_lists_and_revokes_only_their_own_share_links(login_as, web_archive, tmp_path):
    archive = web_archive.archive
    out = tmp_path / "exp"
    recipient = Recipient("Busan Police", "Sgt. Lee", "BS-77", "warrant 2026-1", "fraud case")
    export_mod.export(archive, Request(recipient, package_ids=[web_archive.package_id]), out)
    expires = datetime.now(UTC) + timedelta(days=3)
    theirs, _t1 = shares.create_share(archive, out, expires, created_by="operator")
    mine, _t2 = shares.create_share(archive, out, expires, created_by="investigator")
    c = login_as("investigator")
    page = c.get("/shares").get_data(as_text=True)
    assert f"/shares/{mine}/revoke" in page and f"/shares/{theirs}/revoke" not in page
    token = csrf_of(c, "/shares")
    assert c.post(f"/shares/{theirs}/revoke", data={"csrf_token": token}).status_code == 404
    assert c.post(f"/shares/{mine}/revoke", data={"csrf_token": token}).status_code == 302
    active = {r["id"]: r["active"] for r in shares.list_shares(archive)}
    assert active == {theirs: True, mine: False}
    # a records manager still lists every link
    page = login_as("records-manager").get("/shares").get_data(as_text=True)
    assert f"/shares/{theirs}/revoke" in page


def test_investigator_cannot_post_events(client, token_for, web_archive):
    event = {"camera": "cam-01", "time": "2026-03-03T05:00:01Z", "type": "intrusion", "confidence": 0.9,
             "source_system": "vms-x", "vendor_event_id": "INV-1"}
    response = client.post("/api/v1/events", json=event,
                           headers={"Authorization": f"Bearer {token_for('investigator')}"})
    assert response.status_code == 403 and response.json["error"]["code"] == "W040"
    with web_archive.archive.catalog.session() as s:
        assert s.query(DetectedEvent).count() == 0


# -- every byte of footage served is an access record ----------------------------------------------------
def _views(web_archive, package_id=None):
    history = custody.Ledger.for_archive(web_archive.archive).history(package_id or web_archive.package_id)
    return [e for _s, e, _l in history if e["type"] == "dissemination"]


@pytest.mark.parametrize("asked", ["bytes=1-", "bytes=00-", "bytes=500-999", "bytes=-100"])
def test_any_range_is_an_access_record(login_as, web_archive, asked):
    c = login_as("operator")
    response = c.get(f"/clips/{web_archive.clip_id}/media", headers={"Range": asked})
    assert response.status_code == 206
    [event] = _views(web_archive)
    assert event["extra"]["action"] == "view" and "operator" in event["detail"]
    # the same person's next ranges of that viewing are covered by the record
    c.get(f"/clips/{web_archive.clip_id}/media", headers={"Range": "bytes=1000-1999"})
    assert len(_views(web_archive)) == 1
    # another person's are not
    login_as("records-manager").get(f"/clips/{web_archive.clip_id}/media", headers={"Range": "bytes=7-"})
    assert len(_views(web_archive)) == 2


def test_a_viewing_ends_and_the_next_range_is_recorded(login_as, web_archive, frozen_clock):
    frozen_clock("2026-03-05T00:00:00Z")
    c = login_as("operator")
    c.get(f"/clips/{web_archive.clip_id}/media", headers={"Range": "bytes=1-"})
    frozen_clock("2026-03-05T00:11:00Z")
    c.get(f"/clips/{web_archive.clip_id}/media", headers={"Range": "bytes=2-"})
    assert len(_views(web_archive)) == 2


def test_access_copy_ranges_are_access_records(login_as, web_archive, tmp_path):
    from test_web_access_copy import ts_segment

    archive = web_archive.archive
    package_id = ingest_one(archive, ts_segment(tmp_path / "cam-01_seg000002.ts"), camera="cam-01")
    [clip] = archive.catalog.get(package_id).clips
    for asked in ("bytes=00-", "bytes=1-"):
        c = login_as("operator") if asked == "bytes=00-" else login_as("records-manager")
        response = c.get(f"/clips/{clip.id}/playable.mp4", headers={"Range": asked})
        assert response.status_code == 206
        response.close()
    assert [e["detail"].split(" by ")[1].split()[0] for e in _views(web_archive, package_id)] == [
        "operator", "records-manager"]


def test_poster_frames_are_footage(login_as, web_archive):
    assert login_as("auditor").get(f"/clips/{web_archive.clip_id}/poster.jpg").status_code == 403
    listing = login_as("auditor").get("/packages").get_data(as_text=True)
    assert "poster.jpg" not in listing
    response = login_as("operator").get(f"/clips/{web_archive.clip_id}/poster.jpg")
    assert response.status_code == 200 and response.data[:3] == b"\xff\xd8\xff"
    assert "no-store" in response.headers["Cache-Control"]
    login_as("operator").get(f"/clips/{web_archive.clip_id}/poster.jpg")  # the list shown again
    [event] = _views(web_archive)
    assert "poster frame" in event["detail"] and "operator" in event["detail"]
    lines = [json.loads(x) for x in (web_archive.root / "logs" / "access.jsonl").read_text().splitlines()]
    assert [(e["action"], e["user"]) for e in lines] == [("view", "operator")]


# -- destroyed packages -----------------------------------------------------------------------------------
@pytest.fixture
def destroyed(web_archive, small_clip, tmp_path):
    """A package destroyed by an executed, approved disposition (with its signed certificate)."""
    archive = web_archive.archive
    pid = ingest_one(archive, unique_copy(small_clip, tmp_path / "src" / "old.mp4"), camera="cam-01",
                     start=datetime(2026, 1, 1, tzinfo=UTC), title="Old")
    now = datetime(2026, 3, 2, tzinfo=UTC)
    disposition, _plan = dispositions.propose(archive, actors.Actor("alice", "records-manager"), now)
    assert disposition is not None
    dispositions.approve(archive, disposition.id, actors.Actor("bob", "records-manager"), now)
    dispositions.execute(archive, disposition.id, actors.Actor("bob", "records-manager"), now)
    row = archive.catalog.get(pid)
    assert row.status == "disposed"
    return pid, row.clips[0].id, disposition.id


def test_destroyed_package_page_is_a_tombstone(login_as, web_archive, destroyed):
    pid, clip_id, disposition_id = destroyed
    c = login_as("operator")
    html = c.get(f"/packages/{pid}").get_data(as_text=True)
    assert "<video" not in html and "Download original" not in html and "Verify now" not in html
    assert "poster.jpg" not in html and "media?download" not in html
    assert "Destroyed" in html and disposition_id in html and "bob" in html
    link = re.search(r'href="(/certificates/[^"]+)"', html)
    assert link, html
    certificate = c.get(link.group(1))
    assert certificate.status_code == 200 and disposition_id in certificate.get_data(as_text=True)
    signed = c.get(link.group(1) + "?format=json")
    assert json.loads(signed.data)["disposition_id"] == disposition_id
    for url in (f"/clips/{clip_id}/media", f"/clips/{clip_id}/media?download=1", f"/clips/{clip_id}/poster.jpg",
                f"/clips/{clip_id}/playable.mp4"):
        response = c.get(url)
        assert response.status_code == 410, url
        assert "W041" in response.get_data(as_text=True)
    token = csrf_of(c, "/me")
    assert c.post(f"/packages/{pid}/verify", data={"csrf_token": token}).status_code == 410
    assert c.get("/certificates/not-a-disposition").status_code == 404


def test_destroyed_packages_in_listings_and_the_api(login_as, web_archive, destroyed, token_for, client):
    pid, _clip_id, _disposition_id = destroyed
    c = login_as("operator")
    for page in ("/packages", "/"):
        html = c.get(page).get_data(as_text=True)
        row = next(r for r in html.split("<tr>") if pid in r)
        assert "destroyed" in row and "poster.jpg" not in row, page
        kept = next(r for r in html.split("<tr>") if web_archive.package_id in r)
        assert "poster.jpg" in kept and "stored" in kept
    auth = {"Authorization": f"Bearer {token_for('operator')}"}
    data = client.get(f"/api/v1/packages/{pid}", headers=auth).json
    assert data["status"] == "disposed" and data["destroyed"] is True
    assert all(c["media_url"] is None for c in data["clips"])
    assert client.post(f"/api/v1/packages/{pid}/verify", headers=auth).status_code == 410
    assert client.get(f"/api/v1/packages/{web_archive.package_id}", headers=auth).json["destroyed"] is False


def test_cli_list_and_search_show_status(lw, web_archive, destroyed):
    pid = destroyed[0]
    for args in (("list",), ("search", "--camera", "cam-01")):
        result = lw(*args)
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert "status" in lines[0]
        assert "destroyed" in next(line for line in lines if pid[:8] in line)
        assert "stored" in next(line for line in lines if web_archive.package_id[:8] in line)


# -- navigation -------------------------------------------------------------------------------------------
NAV = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)


def test_navigation_links_exactly_the_pages_each_role_may_use(app, login_as):
    pages = [endpoint for endpoint, _label in navigation.PAGES]
    with app.test_request_context():
        from flask import url_for

        urls = {endpoint: url_for(endpoint) for endpoint in pages}
    assert len(urls) == 19  # saved searches joined the pages (issue 22)
    for role in ROLES:
        c = login_as(role)
        allowed = {e for e in pages if security.may_use(role, app.view_functions[e])}
        for endpoint, url in urls.items():
            response = c.get(url)
            expected = 200 if endpoint in allowed else 403
            assert response.status_code == expected, (role, url, response.status_code)
            response.close()
        for page in ("/me", *(urls[e] for e in allowed)):
            html = c.get(page).get_data(as_text=True)
            nav = NAV.search(html)
            assert nav, (role, page)
            linked = set(re.findall(r'href="([^"]+)"', nav.group(1)))
            assert linked == {urls[e] for e in allowed}, (role, page)
    # every role may use at least the dashboard, and only the administrator the users and the notice
    assert all(security.may_use(r, app.view_functions["packages.dashboard"]) for r in ROLES)
    assert [r for r in ROLES if security.may_use(r, app.view_functions["notice.edit"])] == ["administrator"]


def test_every_page_a_role_may_open_is_in_the_navigation(app):
    """A GET page without path parameters that renders for people (not the API, files or forms' targets) is
    listed in the navigation, so no page is left unlinked."""
    listed = {endpoint for endpoint, _label in navigation.PAGES}
    unlinked = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.arguments or rule.rule.startswith("/api/"):
            continue
        if "." in rule.rule.rsplit("/", 1)[-1] or rule.endpoint == "static":
            continue  # files: charts, CSV, PDF, stylesheets
        view = app.view_functions[rule.endpoint]
        if getattr(view, "lw_permission", None) in (None, "self"):
            continue  # public pages and the user's own
        if rule.endpoint not in listed:
            unlinked.append(rule.rule)
    assert set(unlinked) <= SUBPAGES, unlinked


#: pages reached from another page: a request from the list of requests, a new request from it, the map's image,
#: a disposition from the list of dispositions, the search page's counts (fetched by the page, or its link)
SUBPAGES = {"/requests/view", "/requests/new", "/inquiry/basemap", "/dispositions/view", "/search/facets"}


# -- forms keep what was typed and show the error beside the field --------------------------------------
def _beside(html, field, code):
    """The error paragraph of ``field`` carries ``code``, and the field points at it."""
    match = re.search(rf'<p class="error field-error" id="{field}-error" role="alert"><code>(\w+)</code>', html)
    assert match and match.group(1) == code, html[-3000:]
    assert f'aria-describedby="{field}-error' in html
    assert "<title>Error" not in html


def test_add_user_form_keeps_what_was_typed(login_as):
    c = login_as("administrator")
    token = csrf_of(c, "/admin/users")
    response = c.post("/admin/users", data={"csrf_token": token, "username": "park.j", "password": "short",
                                            "role": "auditor"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    _beside(html, "password", "W004")
    assert 'value="park.j"' in html and '<option value="auditor" selected>' in html
    assert "short" not in html.split('id="new-password"')[1].split(">")[0]  # never the password
    response = c.post("/admin/users", data={"csrf_token": token, "username": "bad name!", "password": "x" * 12,
                                            "role": "auditor"})
    _beside(response.get_data(as_text=True), "username", "W005")


def test_new_request_form_keeps_what_was_typed(login_as):
    c = login_as("operator")
    token = csrf_of(c, "/requests/new")
    form = {"csrf_token": token, "kind": "police", "requester": "Jongno police station", "reference": "JN-2026-7",
            "claimed_start": "yesterday at noon"}
    response = c.post("/requests/new", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    _beside(html, "claimed_start", "W012")
    assert 'value="Jongno police station"' in html and 'value="yesterday at noon"' in html
    assert '<option value="police" selected>' in html
    response = c.post("/requests/new", data={**form, "claimed_start": "", "reference": ""})
    _beside(response.get_data(as_text=True), "reference", "U005")
    response = c.post("/requests/new", data={**form, "claimed_start": ""})
    assert response.status_code == 302


def test_filters_and_inquiry_show_errors_beside_the_field(login_as, web_archive):
    c = login_as("operator")
    response = c.get("/packages?start=last+tuesday")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    _beside(html, "start", "W012")
    assert 'value="last tuesday"' in html
    response = c.get("/inquiry", query_string={"camera": "cam-01", "start": "2026-03-03T06:00:00Z",
                                              "end": "2026-03-03T04:00:00Z"})
    assert response.status_code == 400
    _beside(response.get_data(as_text=True), "end", "Q001")
    token = csrf_of(c, "/me")
    form = {"csrf_token": token, "camera": "cam-01", **DAY, "case": "C-9", "at": "2026-03-03T05:00:01Z",
            "text": "   "}
    response = c.post("/inquiry/note", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    _beside(html, "text", "W012")
    assert 'value="2026-03-03T05:00:01Z"' in html
    response = c.post("/inquiry/note", data={**form, "at": "noon", "text": "a grey van"})
    html = response.get_data(as_text=True)
    _beside(html, "at", "W012")
    assert 'value="a grey van"' in html


def test_cases_share_command_and_the_snapshot_keep_the_members(lw, web_archive, tmp_path):
    archive = web_archive.archive
    assert lw("cases", "add", "C-7").exit_code == 0
    unknown = lw("cases", "share", "C-7", "nobody")
    assert unknown.exit_code != 0 and "W007" in unknown.output + unknown.stderr
    shared = lw("cases", "share", "C-7", "investigator")
    assert shared.exit_code == 0 and "investigator" in shared.output
    [case] = json.loads(lw("cases", "--json").stdout)["cases"]
    assert case["members"] == ["investigator"]
    # the snapshot that reindex restores carries the members
    from longwatch.core.catalog import Catalog

    fresh = Catalog(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    fresh.upgrade()
    reference.import_reference(fresh, reference.load_snapshot(archive), set())
    assert reference.list_cases(fresh)[0]["members"] == ["investigator"]
    fresh.dispose()
    assert lw("cases", "unshare", "C-7", "investigator").exit_code == 0
    assert json.loads(lw("cases", "--json").stdout)["cases"][0]["members"] == []
