"""The operator's and auditor's pages (issue 22): event review, cameras and zones, accounts and API tokens.

Flask's test client against a real archive (real ffmpeg footage, the real
catalog and custody ledger): each test drives the page as a person would and
checks what the archive then holds, not only what the page says.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

from web_fixtures import PASSWORD, csrf_of, login

from longwatch.core import accounts
from longwatch.core.catalog import reference
from longwatch.core.custody import Ledger
from longwatch.core.events import record as events
from longwatch.core.preservation import gaps

START = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # the web archive's clip (conftest.START)
DETECTOR = {"name": "fall-detector", "version": "2.1", "event_types": ["fall"], "library": "onnxruntime 1.17",
            "models": [{"name": "fall.onnx", "size": 1234, "sha256": "ab" * 32, "source": "vendor"}],
            "parameters": {"threshold": 0.6}}


def _event(web_archive, vendor_id: str, detector: dict | None = DETECTOR, seconds: float = 1.0,
           apply_rules: bool = False) -> int:
    recorded = events.record(web_archive.archive, camera="cam-01", type="fall",
                             start=START + timedelta(seconds=seconds), end=None, confidence=0.91,
                             source="vms-a" if detector is None else "detector",
                             vendor_event_id=vendor_id, package_id=web_archive.package_id, detector=detector,
                             apply_rules=apply_rules)
    return recorded.event.id


def _ledger(archive) -> list[dict]:
    return [json.loads(line) for _seq, line in Ledger.for_archive(archive).lines()]


def _report_row(html: str, detector: str) -> list[str]:
    table = html.split('class="detector-report"')[1].split("</table>")[0]
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        if cells and cells[0] == detector:
            return cells
    raise AssertionError(table)


def _beside(html: str, field: str, code: str, has_input: bool = True) -> None:
    match = re.search(rf'<p class="error field-error" id="{re.escape(field)}-error" role="alert"><code>(\w+)</code>',
                      html)
    assert match and match.group(1) == code, html[-3000:]
    assert not has_input or f'aria-describedby="{field}-error"' in html
    assert "<title>Error" not in html


# -- event review ---------------------------------------------------------------------------------------
def test_review_confirm_and_false_positive_change_the_report(login_as, web_archive):
    first = _event(web_archive, "E1", apply_rules=True)  # passes the default rule: a window is kept
    second = _event(web_archive, "E2", seconds=1.5)
    vendor = _event(web_archive, "V1", detector=None)
    c = login_as("operator")
    dashboard = c.get("/").get_data(as_text=True)
    assert "3 events await review" in dashboard.split('id="review-panel"')[1].split("</p>")[0]
    html = c.get("/events/review").get_data(as_text=True)
    assert "3 events await review" in html
    for event_id in (first, second, vendor):
        assert f'id="event-{event_id}"' in html
    queued = html.split(f'id="event-{first}"')[1].split("</tr>")[0]
    assert "fall-detector 2.1" in queued and "ab" * 6 in queued  # the detector and its model that decided
    window = events.query(web_archive.archive, status="new")[0].window_package_id
    assert window and f"/packages/{window}" in queued and f"/packages/{web_archive.package_id}" in queued
    assert "vms-a" in html.split(f'id="event-{vendor}"')[1].split("</tr>")[0]  # a vendor's event: its source
    assert _report_row(html, "fall-detector 2.1")[1:7] == ["2", "0", "0", "0", "0", "-"]

    token = csrf_of(c, "/events/review")
    response = c.post("/events/review", data={"csrf_token": token, "event_id": first, "decision": "confirmed",
                                              "note": "a person fell at the gate"})
    assert response.status_code == 302
    response = c.post("/events/review", data={"csrf_token": token, "event_id": second,
                                              "decision": "false_positive"})
    assert response.status_code == 302
    html = c.get("/events/review").get_data(as_text=True)
    assert "1 event awaits review" in html and f'id="event-{first}"' not in html
    assert _report_row(html, "fall-detector 2.1")[1:7] == ["2", "2", "1", "1", "0", "50.0%"]
    # the page's grouped count is the command line's report (longwatch events report --by detector)
    assert events.detector_report(web_archive.archive) == events.report(events.query(web_archive.archive),
                                                                        ["detector"])
    done = html.split(f'id="reviewed-{first}"')[1].split("</tr>")[0]
    assert "confirmed" in done and "operator" in done and "a person fell at the gate" in done
    # the decisions are recorded in the catalog and in the custody ledger, naming the reviewer
    reviewed = {e.id: e for e in events.query(web_archive.archive)}
    assert reviewed[first].status == "confirmed" and reviewed[first].reviewer == "operator"
    assert reviewed[second].status == "false_positive"
    validations = [e for e in _ledger(web_archive.archive) if e["type"] == "validation" and "decision" in e["extra"]]
    assert [(v["extra"]["event_id"], v["extra"]["decision"]) for v in validations] == [
        (first, "confirmed"), (second, "false_positive")]
    assert all(any(a.get("name") == "operator" for a in v["agents"]) for v in validations)


def test_review_without_a_decision_shows_the_error_beside_the_event(login_as, web_archive):
    event_id = _event(web_archive, "E9")
    c = login_as("records-manager")
    token = csrf_of(c, "/events/review")
    response = c.post("/events/review", data={"csrf_token": token, "event_id": event_id, "decision": "maybe",
                                              "note": "typed note"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    _beside(html, f"event-{event_id}", "W086")
    assert 'value="typed note"' in html
    assert events.query(web_archive.archive)[0].status == "new"


def test_roles_without_permission_get_403_and_no_link(login_as, web_archive):
    event_id = _event(web_archive, "E3")
    # an investigator sees only the cases shared with it: neither page, nor their links
    c = login_as("investigator")
    for path in ("/events/review", "/cameras"):
        assert c.get(path).status_code == 403
    dashboard = c.get("/").get_data(as_text=True)
    nav = dashboard.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert "/events/review" not in nav and "/cameras" not in nav and 'id="review-panel"' not in dashboard
    # an auditor reads the queue and the report but may not decide, nor change cameras
    c = login_as("auditor")
    html = c.get("/events/review").get_data(as_text=True)
    assert "/events/review" in html.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert f'id="event-{event_id}"' in html and 'name="decision"' not in html
    token = csrf_of(c, "/events/review")
    assert c.post("/events/review", data={"csrf_token": token, "event_id": event_id,
                                          "decision": "confirmed"}).status_code == 403
    assert events.query(web_archive.archive)[0].status == "new"
    assert 'action="/cameras/import"' not in c.get("/cameras").get_data(as_text=True)
    assert c.post("/cameras", data={"csrf_token": token, "camera_id": "cam-99"}).status_code == 403
    assert not any(cam["id"] == "cam-99" for cam in reference.list_cameras(web_archive.archive.catalog))
    # an operator reviews, but the camera registry is the records manager's
    c = login_as("operator")
    token = csrf_of(c, "/cameras")
    assert c.post("/cameras/import", data={"csrf_token": token}).status_code == 403
    # a token holder of a role without users:read gets 403 from the users page too
    assert login_as("operator").get("/admin/users").status_code == 403


# -- cameras and zones ----------------------------------------------------------------------------------
GOOD_CSV = "id,name,zone,latitude,longitude,address\ncam-10,Market gate,Jung-gu/Market,37.5636,126.9770,Gate 1\n"
BAD_CSV = GOOD_CSV + "cam-11,Bridge,Jung-gu/River,123.4,126.9,Bridge\n"


def test_camera_csv_import_with_a_bad_row_imports_nothing_and_shows_the_error(login_as, web_archive):
    c = login_as("records-manager")
    token = csrf_of(c, "/cameras")
    response = c.post("/cameras/import", data={"csrf_token": token, "file": (io.BytesIO(BAD_CSV.encode()),
                                                                             "cameras.csv")},
                      content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    _beside(html, "file", "Q012")
    assert "cameras.csv line 3" in html and "<title>Error" not in html
    assert reference.list_cameras(web_archive.archive.catalog) == []  # the good row of the file neither
    response = c.post("/cameras/import", data={"csrf_token": token}, content_type="multipart/form-data")
    _beside(response.get_data(as_text=True), "file", "W085")

    response = c.post("/cameras/import", data={"csrf_token": token, "file": (io.BytesIO(GOOD_CSV.encode()),
                                                                             "cameras.csv")},
                      content_type="multipart/form-data", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "1 camera imported." in html
    row = html.split('id="camera-cam-10"')[1].split("</tr>")[0]
    assert "Jung-gu/Market" in row and "37.563600, 126.977000" in row and "Gate 1" in row
    # the reference snapshot (what reindex restores the registry from) has it too
    assert [c["id"] for c in reference.load_snapshot(web_archive.archive)["cameras"]] == ["cam-10"]


def test_cameras_show_status_and_gaps_and_can_be_added_and_moved(login_as, web_archive, frozen_clock):
    now = frozen_clock(START + timedelta(minutes=30))
    archive = web_archive.archive
    gaps.record(archive, "cam-01", START - timedelta(hours=2), START - timedelta(hours=1), "network down")
    c = login_as("administrator")
    row = c.get("/cameras").get_data(as_text=True).split('id="camera-cam-01"')[1].split("</tr>")[0]
    assert "not in the registry" in row and "1 gap" in row  # footage and a gap, yet no registry entry
    token = csrf_of(c, "/cameras")
    form = {"csrf_token": token, "camera_id": "cam-01", "name": "Gate", "zone": "Jung-gu/Market/Gate-1",
            "location": "91,126.9", "address": "Gate 1"}
    response = c.post("/cameras", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    _beside(html, "location", "Q002")
    assert 'value="Jung-gu/Market/Gate-1"' in html and 'value="91,126.9"' in html  # as typed
    response = c.post("/cameras", data={**form, "location": "37.5636,126.9770"})
    assert response.status_code == 302
    html = c.get("/cameras").get_data(as_text=True)
    row = html.split('id="camera-cam-01"')[1].split("</tr>")[0]
    assert "Jung-gu/Market/Gate-1" in row and "37.563600, 126.977000" in row
    assert "recording" in row and "1 gap" in row and "not in the registry" not in row
    frozen_clock(now + timedelta(days=1))
    c = login_as("administrator")  # the session ended while idle
    token = csrf_of(c, "/cameras")
    row = c.get("/cameras").get_data(as_text=True).split('id="camera-cam-01"')[1].split("</tr>")[0]
    assert "silent" in row

    moved = {"csrf_token": token, "move_camera": "cam-01", "at": "not a time", "move_zone": "Jung-gu/River",
             "move_location": "37.57,126.98"}
    response = c.post("/cameras/move", data=moved)
    assert response.status_code == 400
    _beside(response.get_data(as_text=True), "at", "I003")
    response = c.post("/cameras/move", data={**moved, "at": "2026-03-04T09:00"})  # the picker's local time
    assert response.status_code == 302
    tz = archive.settings.tz
    when = datetime(2026, 3, 4, 9, 0, tzinfo=tz).astimezone(UTC)
    assert reference.camera_at(archive.catalog, "cam-01", when + timedelta(seconds=1))["zone"] == "Jung-gu/River"
    assert reference.camera_at(archive.catalog, "cam-01", when - timedelta(seconds=1))["zone"] == \
        "Jung-gu/Market/Gate-1"


# -- accounts ------------------------------------------------------------------------------------------
def test_the_last_administrator_cannot_be_demoted_or_disabled(login_as, web_archive):
    catalog = web_archive.archive.catalog
    bootstrap = [u.username for u in accounts.users(catalog) if u.role == "administrator"
                 and u.username != "administrator"]
    c = login_as("administrator")
    token = csrf_of(c, "/admin/users")
    for name in bootstrap:  # the archive's first account, made by init: disabled, leaving one administrator
        assert c.post(f"/admin/users/{name}", data={"csrf_token": token, "active": "0"}).status_code == 302
    me = next(u for u in accounts.users(catalog) if u.username == "administrator")
    response = c.post("/admin/users/administrator", data={"csrf_token": token, "role": "operator"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    _beside(html, f"row-{me.id}", "W080")
    response = c.post("/admin/users/administrator", data={"csrf_token": token, "active": "0"})
    assert response.status_code == 409
    assert [(u.role, u.active) for u in accounts.users(catalog) if u.username == "administrator"] == [
        ("administrator", True)]
    # the core refuses, whoever asks (the command line too)
    for change in (lambda: accounts.set_role(catalog, "administrator", "auditor"),
                   lambda: accounts.set_active(catalog, "administrator", False)):
        try:
            change()
        except accounts.LongwatchError as exc:
            assert exc.code == "W080"
        else:
            raise AssertionError("the last administrator was demoted")
    # with a second administrator, the first may step down
    assert c.post("/admin/users/operator", data={"csrf_token": token, "role": "administrator"}).status_code == 302
    assert c.post("/admin/users/administrator", data={"csrf_token": token, "role": "auditor"}).status_code == 302


def test_role_changes_have_an_audit_trail(login_as, web_archive):
    c = login_as("administrator")
    token = csrf_of(c, "/admin/users")
    assert c.post("/admin/users/operator", data={"csrf_token": token, "role": "records-manager"}).status_code == 302
    assert c.post("/admin/users/auditor", data={"csrf_token": token, "active": "0"}).status_code == 302
    trail = accounts.changes(web_archive.archive.catalog)
    assert [(t.actor, t.username, t.change, t.old, t.new) for t in trail[:2]] == [
        ("administrator", "auditor", "active", "yes", "no"),
        ("administrator", "operator", "role", "operator", "records-manager")]
    html = c.get("/admin/users").get_data(as_text=True)
    table = html.split('class="account-changes"')[1]
    assert "role changed" in table and "records manager" in table and "enabled or disabled" in table
    # the trail reaches the custody ledger through the catalog journal, naming the administrator
    journaled = [e["extra"]["catalog"]["row"] for e in _ledger(web_archive.archive)
                 if (e.get("extra") or {}).get("catalog", {}).get("table") == "account_changes"]
    assert {"actor": "administrator", "username": "operator", "change": "role", "old": "operator",
            "new": "records-manager"}.items() <= journaled[-2].items()


def test_password_change_needs_the_current_password(app, login_as, web_archive):
    c = login_as("operator")
    token = csrf_of(c, "/me")
    new = "a much longer secret"
    response = c.post("/me/password", data={"csrf_token": token, "current_password": "wrong one!",
                                            "new_password": new, "confirm_password": new})
    assert response.status_code == 400
    _beside(response.get_data(as_text=True), "current_password", "W081")
    response = c.post("/me/password", data={"csrf_token": token, "current_password": PASSWORD,
                                            "new_password": new, "confirm_password": new + "x"})
    _beside(response.get_data(as_text=True), "confirm_password", "W082")
    response = c.post("/me/password", data={"csrf_token": token, "current_password": PASSWORD,
                                            "new_password": "short", "confirm_password": "short"})
    _beside(response.get_data(as_text=True), "new_password", "W004")
    response = c.post("/me/password", data={"csrf_token": token, "current_password": PASSWORD,
                                            "new_password": new, "confirm_password": new})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert c.get("/me").status_code == 302  # signed out everywhere
    assert login(app.test_client(), "operator").status_code == 401
    assert login(app.test_client(), "operator", new).status_code == 302
    assert accounts.changes(web_archive.archive.catalog, "operator")[0].change == "password"


def test_api_token_created_used_then_revoked_is_refused(app, login_as, web_archive):
    c = login_as("operator")
    token = csrf_of(c, "/me")
    response = c.post("/me/tokens", data={"csrf_token": token, "token_name": "nightly export", "days": "0"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    _beside(html, "days", "W083")
    assert 'value="nightly export"' in html
    response = c.post("/me/tokens", data={"csrf_token": token, "token_name": "nightly export", "days": "30"})
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    secret = re.search(r'<code id="new-token">(lwt_[^<]+)</code>', html).group(1)
    assert secret not in c.get("/me").get_data(as_text=True)  # shown once
    listed = accounts.tokens(web_archive.archive.catalog, "operator")
    assert [t.name for t in listed] == ["nightly export"]
    assert listed[0].expires_at - listed[0].created_at == timedelta(days=30)
    api = app.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json["username"] == "operator"
    # another person's token cannot be revoked from here
    other = accounts.create_token(web_archive.archive.catalog, "auditor", "theirs")
    theirs = accounts.tokens(web_archive.archive.catalog, "auditor")[0].id
    response = c.post("/me/tokens/revoke", data={"csrf_token": token, "token_id": theirs})
    assert response.status_code == 404
    _beside(response.get_data(as_text=True), "tokens", "W084", has_input=False)
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    response = c.post("/me/tokens/revoke", data={"csrf_token": token, "token_id": listed[0].id})
    assert response.status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert [t.change for t in accounts.changes(web_archive.archive.catalog, "operator")[:2]] == [
        "token revoked", "token created"]
