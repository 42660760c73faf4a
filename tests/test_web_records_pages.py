"""The records manager's pages (issue 22): legal holds, disposition and the retention schedule, in the browser.

Real components throughout: the Flask test client over a real archive with
ingested footage, the real custody ledger, and for the job, a real
PostgreSQL queue and worker (tests/pg.py). Each page is checked for what
each role may do (403 and no link otherwise), for forms that keep what was
typed with the error beside the field, and for the effects the core
promises: a hold placed here refuses a deletion, a disposition proposed by
one account is approved by a second and executed by a job, never inside the
request.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import pytest
from conftest import ingest_one, unique_copy
from sqlalchemy import delete
from web_fixtures import PASSWORD, csrf_of

from longwatch.core import accounts, custody
from longwatch.core.catalog.models import Package, RetentionScheduleVersion
from longwatch.core.jobs import queue as jobs
from longwatch.core.records import actors, assignment, dispositions, rebuild, schedules
from longwatch.core.records import holds as holds_api
from longwatch.errors import LongwatchError
from longwatch.web import disposition as disposition_page

NAV = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)
LATER = "2035-01-01T00:00:00Z"  # every clip of the fixtures is due under the default schedule (30 days)


def _beside(html: str, field: str, code: str) -> None:
    """The error paragraph of ``field`` carries ``code``, and the field points at it (never a bare error page)."""
    match = re.search(rf'<p class="error field-error" id="{re.escape(field)}-error" role="alert"><code>(\w+)</code>',
                      html)
    assert match and match.group(1) == code, html[-3000:]
    assert f'aria-describedby="{field}-error' in html
    assert "<title>Error" not in html


def second_page(client, path: str) -> str:
    return client.get(path).get_data(as_text=True)


def _nav(client) -> set[str]:
    nav = NAV.search(client.get("/me").get_data(as_text=True))
    assert nav
    return set(re.findall(r'href="([^"]+)"', nav.group(1)))


def _status(archive, package_id: str) -> str:
    with archive.catalog.session() as s:
        package = s.get(Package, package_id)
        assert package is not None
        return package.status


@pytest.fixture
def second_manager(web_archive) -> str:
    accounts.add_user(web_archive.archive.catalog, "rm2", PASSWORD, "records-manager")
    return "rm2"


# -- who sees what ----------------------------------------------------------------------------------------
def test_each_role_sees_and_uses_exactly_the_records_pages_it_may(login_as):
    pages = {"/holds", "/dispositions", "/schedules"}
    for role in accounts.ROLES:
        c = login_as(role)
        linked = _nav(c) & pages
        for path in pages:
            response = c.get(path)
            assert response.status_code == (200 if path in linked else 403), (role, path, response.status_code)
        if role == "investigator":  # sees only the cases shared with it: not every hold or disposition
            assert linked == {"/schedules"}
        else:
            assert linked == pages, role
        html = c.get("/holds").get_data(as_text=True) if "/holds" in linked else ""
        may_write = role in ("administrator", "records-manager")
        assert ('id="place-hold"' in html) == may_write, role
        if not may_write:
            token = csrf_of(c, "/me")
            for path in ("/holds", "/holds/release", "/dispositions/propose", "/dispositions/approve",
                         "/dispositions/reject", "/dispositions/execute"):
                response = c.post(path, data={"csrf_token": token, "kind": "package", "owner": "x", "reason": "y"})
                assert response.status_code == 403, (role, path)


def test_schedule_page_shows_classes_rules_and_versions_in_korean_and_english(login_as, web_archive):
    c = login_as("auditor")
    assert "No package has a retention class yet." in c.get("/schedules?lang=en").get_data(as_text=True)
    assignment.assign(web_archive.archive, actors.Actor("records-manager", "records-manager"))
    html = c.get("/schedules?lang=en").get_data(as_text=True)
    assert "kr-public-default" in html and 'data-class="continuous"' in html and "30 days" in html
    assert "the built-in default" in html and 'data-schedule="kr-public-default"' in html
    html = c.get("/schedules?lang=ko").get_data(as_text=True)
    assert "보존기간" in html or "보존 기간" in html
    assert "30일" in html
    response = c.post("/schedules", data={"csrf_token": csrf_of(c, "/schedules")})
    assert response.status_code == 405  # read-only


def test_schedule_versions_made_active_are_listed_and_rebuilt_from_the_ledger(login_as, web_archive, tmp_path):
    archive = web_archive.archive
    c = login_as("operator")
    assert "the built-in default has governed" in c.get("/schedules?lang=en").get_data(as_text=True)
    text = schedules.DEFAULT_SCHEDULE.read_text(encoding="utf-8")
    path = tmp_path / "schedule-2027.toml"
    path.write_text(text.replace('id = "kr-public-default"', 'id = "jung-gu-2027"', 1), encoding="utf-8")
    assignment.set_schedule(archive, path, actors.Actor("records-manager", "records-manager"))
    html = c.get("/schedules?lang=en").get_data(as_text=True)
    [row] = re.findall(r'<tr data-sha256="(\w+)">(.*?)</tr>', html, re.S)
    assert "jung-gu-2027" in row[1] and "schedule-2027.toml" in row[1] and "records-manager" in row[1]
    assert "<strong>active</strong>" in row[1] and "the built-in default" not in html
    with archive.catalog.session() as s:  # a catalog that lost the history gets it back from the ledger
        s.execute(delete(RetentionScheduleVersion))
    rebuild.replay_ledger(archive, custody.Ledger.for_archive(archive))
    rebuild.replay_ledger(archive, custody.Ledger.for_archive(archive))  # idempotent
    [version] = assignment.schedule_versions(archive)
    assert (version.schedule_id, version.sha256, version.activated_by) == ("jung-gu-2027", row[0], "records-manager")


# -- holds ------------------------------------------------------------------------------------------------
def test_place_hold_form_keeps_what_was_typed_and_shows_errors_beside_fields(login_as):
    c = login_as("records-manager")
    token = csrf_of(c, "/holds")
    form = {"csrf_token": token, "kind": "camera", "camera": "", "start": "2026-03-03T14:00:05",
            "end": "2026-03-03T14:00:09", "owner": "Seoul Central District Prosecutors' Office",
            "reason": "case 2026-77"}
    response = c.post("/holds", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    _beside(html, "camera", "W061")
    assert 'value="Seoul Central District Prosecutors&#39; Office"' in html and 'value="2026-03-03T14:00:05"' in html
    assert '<option value="camera" selected>' in html
    html = c.post("/holds", data={**form, "camera": "cam-01", "start": "yesterday"}).get_data(as_text=True)
    _beside(html, "start", "W060")
    html = c.post("/holds", data={**form, "camera": "cam-01", "end": "2026-03-03T14:00:01"}).get_data(as_text=True)
    _beside(html, "end", "W064")
    html = c.post("/holds", data={**form, "camera": "cam-01", "owner": " "}).get_data(as_text=True)
    _beside(html, "owner", "H013")
    html = c.post("/holds", data={**form, "kind": "package", "package": "ffffffff"}).get_data(as_text=True)
    _beside(html, "package", "I008")
    html = c.post("/holds", data={**form, "kind": "search"}).get_data(as_text=True)
    _beside(html, "search_text", "W061")


def test_camera_hold_is_picked_in_local_time_and_kept_in_utc_to_the_second(login_as, web_archive):
    c = login_as("records-manager")
    token = csrf_of(c, "/holds")
    response = c.post("/holds", data={"csrf_token": token, "kind": "camera", "camera": "cam-01",
                                      "start": "2026-03-03T14:00:05", "end": "2026-03-03T14:00:09",
                                      "owner": "prosecutor", "reason": "case 2026-77",
                                      "review": "2026-06-01T09:00:00"})
    assert response.status_code == 302
    [hold] = holds_api.list_holds(web_archive.archive)
    assert (hold.kind, hold.camera, hold.placed_by) == ("camera", "cam-01", "records-manager")
    assert hold.start_utc == datetime(2026, 3, 3, 5, 0, 5, tzinfo=UTC)  # Asia/Seoul is UTC+9
    assert hold.end_utc == datetime(2026, 3, 3, 5, 0, 9, tzinfo=UTC)
    assert hold.review_at == datetime(2026, 6, 1, 0, 0, 0, tzinfo=UTC)
    html = c.get("/holds?lang=en").get_data(as_text=True)
    assert f'data-hold="{hold.id}"' in html and "2:00:05" in html and "2:00:09" in html  # shown in local time


def test_a_hold_placed_on_the_page_refuses_deletion_until_released_with_a_reason(login_as, web_archive,
                                                                                 frozen_clock, second_manager):
    archive, pid = web_archive.archive, web_archive.package_id
    c = login_as("records-manager")
    token = csrf_of(c, "/holds")
    response = c.post("/holds", data={"csrf_token": token, "kind": "package", "package": pid[:8],
                                      "owner": "Seoul Central District Court", "reason": "lawsuit 2026-9"})
    assert response.status_code == 302
    [hold] = holds_api.list_holds(archive)
    with pytest.raises(LongwatchError) as exc:  # every deletion path asks the core's holds
        dispositions.propose_deletion(archive, pid, actors.Actor("rm2", "records-manager"), "no longer needed")
    assert exc.value.code == "H003"
    frozen_clock(LATER)  # due now, but held: the disposition page sets it aside, and proposing leaves it out
    assignment.assign(archive, actors.Actor("records-manager", "records-manager"))
    c = login_as("records-manager")
    html = c.get("/dispositions?lang=en").get_data(as_text=True)
    assert "1 due package is under legal hold and was left out" in html
    response = c.post("/dispositions/propose", data={"csrf_token": csrf_of(c, "/dispositions")})
    assert response.status_code == 302 and "nothing=1" in response.headers["Location"]
    assert _status(archive, pid) == "stored"
    token = csrf_of(c, "/holds")
    field = f"release-{hold.id}"
    response = c.post("/holds/release", data={"csrf_token": token, "hold_id": hold.id, "reason": " "})
    assert response.status_code == 400
    _beside(response.get_data(as_text=True), field, "W063")
    response = c.post("/holds/release", data={"csrf_token": token, "hold_id": hold.id, "reason": "judgment final"})
    assert response.status_code == 302
    response = c.post("/holds/release", data={"csrf_token": token, "hold_id": hold.id, "reason": "again"})
    assert response.status_code == 400 and "H014" in response.get_data(as_text=True)
    details = [e["detail"] for _seq, e, _line in custody.Ledger.for_archive(archive).history(pid)]
    assert any(d.startswith("legal hold placed (package): lawsuit 2026-9") for d in details)
    assert any(d == "legal hold released: judgment final" for d in details)
    html = c.get("/holds?all=1").get_data(as_text=True)
    assert "judgment final" in html


def test_a_saved_search_hold_keeps_its_local_times_in_utc_and_covers_what_it_finds(login_as, web_archive):
    archive, pid = web_archive.archive, web_archive.package_id
    c = login_as("administrator")
    response = c.post("/holds", data={"csrf_token": csrf_of(c, "/holds"), "kind": "search", "search_camera": "cam-01",
                                      "search_from": "2000-01-01T09:00:00", "search_to": "2099-12-31T09:00:00",
                                      "owner": "감사원", "reason": "감사 2026-3"})
    assert response.status_code == 302
    [hold] = holds_api.list_holds(archive)
    assert json.loads(hold.search) == {"camera": "cam-01", "from": "2000-01-01T00:00:00Z",
                                       "to": "2099-12-31T00:00:00Z"}
    assert [h.id for h in holds_api.holds_on(archive, pid)] == [hold.id]
    with pytest.raises(LongwatchError) as exc:
        dispositions.propose_deletion(archive, pid, actors.Actor("records-manager", "records-manager"), "why")
    assert exc.value.code == "H003"
    html = c.get("/holds?lang=ko").get_data(as_text=True)
    assert "저장된 검색" in html and "감사 2026-3" in html


def test_an_overdue_review_is_highlighted(login_as, web_archive, frozen_clock):
    frozen_clock("2026-05-01T00:00:00Z")
    c = login_as("records-manager")
    token = csrf_of(c, "/holds")
    for review in ("2026-04-01T09:00:00", "2026-09-01T09:00:00"):
        assert c.post("/holds", data={"csrf_token": token, "kind": "case", "case": f"case-{review[5:7]}",
                                      "owner": "police", "reason": "inquiry", "review": review}).status_code == 302
    html = c.get("/holds?lang=en").get_data(as_text=True)
    rows = re.findall(r'<tr data-hold="[^"]+"( class="overdue")?>(.*?)</tr>', html, re.S)
    flagged = {("case-04" in body, bool(cls)) for cls, body in rows}
    assert flagged == {(True, True), (False, False)}
    assert html.count("review overdue") == 1
    html = c.get("/?lang=en").get_data(as_text=True)  # the dashboard's panel
    assert "2 active legal holds" in html and "1 past its review date" in html
    assert "No disposition is waiting." in html
    assert "holds-panel" not in login_as("investigator").get("/").get_data(as_text=True)


# -- disposition ------------------------------------------------------------------------------------------
def test_the_page_counts_in_sql_what_the_planner_finds(web_archive, small_clip, tmp_path, frozen_clock, login_as):
    archive = web_archive.archive
    rm = actors.Actor("records-manager", "records-manager")
    others = [ingest_one(archive, unique_copy(small_clip, tmp_path / f"c{i}.mp4"), camera="cam-02") for i in range(3)]
    frozen_clock(LATER)
    assignment.assign(archive, rm)
    holds_api.place_hold(archive, rm, owner="court", reason="lawsuit", package_id=others[0])
    assignment.assign(archive, rm, None, [others[1]], case_id="2026-5", case_closed_at=datetime(2026, 1, 1,
                                                                                               tzinfo=UTC))
    plan, due = dispositions.plan(archive), dispositions.due_summary(archive)
    assert due.destroy == plan.by_class() and due.held == len(plan.held) == 1
    assert due.review == len(plan.review)
    html = login_as("auditor").get("/dispositions?lang=en").get_data(as_text=True)
    assert '<tr data-class="continuous"><td>' in html and "1 due package is under legal hold" in html


def _propose(c) -> str:
    response = c.post("/dispositions/propose", data={"csrf_token": csrf_of(c, "/dispositions")})
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"id=([0-9a-f-]{36})", response.headers["Location"])
    assert match
    return match.group(1)


def test_disposition_proposed_by_one_account_is_approved_by_a_second_and_executed_as_a_job(
        login_as, web_archive, frozen_clock, second_manager):
    archive, pid = web_archive.archive, web_archive.package_id
    frozen_clock(LATER)
    first = login_as("records-manager")
    html = first.get("/dispositions?lang=en").get_data(as_text=True)
    assert "1 package has no retention class yet" in html
    assignment.assign(archive, actors.Actor("records-manager", "records-manager"))
    html = first.get("/dispositions?lang=en").get_data(as_text=True)
    assert 'data-class="continuous"' in html and 'id="unassigned"' not in html  # the preview by class
    disposition_id = _propose(first)
    view = f"/dispositions/view?id={disposition_id}"
    assert f'href="/dispositions/view?id={disposition_id}"' in second_page(login_as("auditor"), "/")
    token = csrf_of(first, view)
    response = first.post("/dispositions/approve", data={"csrf_token": token, "id": disposition_id})
    assert response.status_code == 400  # the proposer cannot approve: the core's code beside the form
    _beside(response.get_data(as_text=True), "approve", "H004")
    admin = login_as("administrator")
    response = admin.post("/dispositions/approve", data={"csrf_token": csrf_of(admin, view), "id": disposition_id})
    assert response.status_code == 400
    _beside(response.get_data(as_text=True), "approve", "H005")
    response = first.post("/dispositions/execute", data={"csrf_token": token, "id": disposition_id})
    assert response.status_code == 409  # not approved yet: refused on the page, not later by a worker
    assert re.search(r'id="execute-error" role="alert"><code>H006</code>', response.get_data(as_text=True))
    second = login_as(second_manager)
    response = second.post("/dispositions/approve", data={"csrf_token": csrf_of(second, view), "id": disposition_id})
    assert response.status_code == 302
    disposition, _items = dispositions.get_disposition(archive, disposition_id)
    assert (disposition.status, disposition.proposer, disposition.approver) == ("approved", "records-manager", "rm2")
    assert _status(archive, pid) == "stored"
    response = second.post("/dispositions/execute", data={"csrf_token": csrf_of(second, view), "id": disposition_id})
    assert response.status_code == 302
    thread = disposition_page.running_thread(archive.root, disposition_id)
    assert thread is not None  # SQLite: the job runs beside the request, not in it
    thread.join(120)
    html = second.get(view + "&lang=en").get_data(as_text=True)
    assert 'data-status="executed"' in html and 'data-item-status="deleted"' in html
    assert f'href="/certificates/{disposition_id}"' in html
    assert _status(archive, pid) == "disposed"
    certificate = second.get(f"/certificates/{disposition_id}")
    assert certificate.status_code == 200 and pid in certificate.get_data(as_text=True)
    html = second.get("/dispositions?lang=en").get_data(as_text=True)
    assert "1 of 1 decided" in html


def test_a_second_records_manager_rejects_with_a_reason_and_the_packages_can_be_proposed_again(
        login_as, web_archive, frozen_clock, second_manager):
    archive = web_archive.archive
    frozen_clock(LATER)
    first = login_as("records-manager")
    disposition_id = _propose(first)
    view = f"/dispositions/view?id={disposition_id}"
    response = first.post("/dispositions/reject", data={"csrf_token": csrf_of(first, view), "id": disposition_id,
                                                        "reason": "mine"})
    assert response.status_code == 400
    _beside(response.get_data(as_text=True), "reason", "W062")
    second = login_as(second_manager)
    token = csrf_of(second, view)
    response = second.post("/dispositions/reject", data={"csrf_token": token, "id": disposition_id, "reason": ""})
    assert response.status_code == 400
    _beside(response.get_data(as_text=True), "reason", "W063")
    response = second.post("/dispositions/reject", data={"csrf_token": token, "id": disposition_id,
                                                         "reason": "the court asked to keep March"})
    assert response.status_code == 302
    disposition, items = dispositions.get_disposition(archive, disposition_id)
    assert disposition.status == "rejected" and {i.status for i in items} == {"rejected"}
    assert _status(archive, web_archive.package_id) == "stored"
    details = [e["detail"] for _s, e, _l in custody.Ledger.for_archive(archive).history(web_archive.package_id)]
    assert any("rejected by rm2 (records-manager): the court asked to keep March" in d for d in details)
    assert _propose(first) != disposition_id  # free to be proposed again


def test_on_postgresql_execution_is_a_queued_job_run_by_a_worker(pg_url, login_as, web_archive, frozen_clock,
                                                                  second_manager):
    archive, pid = web_archive.archive, web_archive.package_id
    jobs.apply_schema(archive)
    frozen_clock(LATER)
    first, second = login_as("records-manager"), login_as(second_manager)
    rm = actors.Actor("records-manager", "records-manager")
    assignment.assign(archive, rm)
    holds_api.place_hold(archive, rm, owner="police", reason="other camera", camera="cam-99",
                         start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 1, 2, tzinfo=UTC))
    html = first.get("/dispositions?lang=en").get_data(as_text=True)  # counted in PostgreSQL's SQL too
    assert '<tr data-class="continuous"><td>' in html and 'id="held"' not in html
    disposition_id = _propose(first)
    view = f"/dispositions/view?id={disposition_id}"
    assert second.post("/dispositions/approve", data={"csrf_token": csrf_of(second, view),
                                                      "id": disposition_id}).status_code == 302
    assert second.post("/dispositions/execute", data={"csrf_token": csrf_of(second, view),
                                                      "id": disposition_id}).status_code == 302
    assert _status(archive, pid) == "stored"  # the request only queued it
    html = second.get(view + "&lang=en").get_data(as_text=True)
    assert 'data-state="queued"' in html and 'data-status="approved"' in html
    started = time.monotonic()
    jobs.run_worker(archive, [jobs.HEAVY], wait=False)
    assert time.monotonic() - started < 120
    html = second.get(view + "&lang=en").get_data(as_text=True)
    assert 'data-state="done"' in html and 'data-status="executed"' in html
    assert f'href="/certificates/{disposition_id}"' in html
    assert _status(archive, pid) == "disposed"
    [row] = [r for r in jobs.list_jobs(archive) if r.task == "dispose"]
    assert row.args["actor"] == "rm2"
