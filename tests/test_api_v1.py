"""The REST API /api/v1 beyond packages: token scopes, keyset search pages, investigator scoping, and a
disposition proposed and approved by two records managers through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import error_codes, ingest_one, unique_copy
from web_fixtures import PASSWORD

from longwatch.core import accounts, custody
from longwatch.core.jobs import queue as jobs
from longwatch.core.public import access_requests
from longwatch.errors import LongwatchError
from longwatch.web.api import openapi_document


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def scoped_token(web_archive, username: str, *scopes: str) -> dict[str, str]:
    return bearer(accounts.create_token(web_archive.archive.catalog, username, "test", scopes=scopes or ("all",)))


def code_of(response) -> str:
    return response.get_json()["error"]["code"]


# -- scopes -------------------------------------------------------------------------------------
def test_a_read_only_token_cannot_place_a_hold(client, web_archive):
    read_only = scoped_token(web_archive, "administrator", "read")
    hold = {"package_id": web_archive.package_id, "owner": "legal team", "reason": "police request 2026-17"}
    refused = client.post("/api/v1/holds", json=hold, headers=read_only)
    assert refused.status_code == 403 and code_of(refused) == "W090"
    assert "cases:write" in refused.get_json()["error"]["message"]
    assert client.get("/api/v1/holds", headers=read_only).get_json() == []  # reading is what it may do
    me = client.get("/api/v1/me", headers=read_only).get_json()
    assert me["scopes"] == ["read"] and "inquiry:write" not in me["permissions"]
    # the scope lends nothing the role lacks: an auditor's all-scope token cannot place a hold either
    auditor = scoped_token(web_archive, "auditor", "all")
    assert code_of(client.post("/api/v1/holds", json=hold, headers=auditor)) == "W009"
    writer = scoped_token(web_archive, "administrator", "cases:write")
    placed = client.post("/api/v1/holds", json=hold, headers=writer)
    assert placed.status_code == 201, placed.get_json()
    assert placed.get_json()["package_id"] == web_archive.package_id
    # releasing needs records:write, which cases:write does not lend
    path = f"/api/v1/holds/{placed.get_json()['hold_id']}/release"
    assert code_of(client.post(path, json={"reason": "closed"}, headers=writer)) == "W090"
    released = client.post(path, json={"reason": "closed"}, headers=scoped_token(web_archive, "records-manager"))
    assert released.status_code == 200 and released.get_json()["release_reason"] == "closed"


def test_token_create_with_scopes_on_the_command_line(lw, archive):
    lw("users", "add", "park", "--role", "operator", "--password-stdin", input=f"{PASSWORD}\n")
    token = lw("token", "create", "park", "--scope", "read", "--scope", "search").output.strip()
    account = accounts.token_account(archive.catalog, token)
    assert account.scopes == ("read", "search")
    assert account.can("catalog:read") and not account.can("inquiry:write") and not account.can("footage:read")
    everything = accounts.token_account(archive.catalog, lw("token", "create", "park").output.strip())
    assert everything.scopes == ("all",) and everything.can("inquiry:write")
    assert lw("token", "create", "park", "--scope", "everything").exit_code != 0
    with pytest.raises(LongwatchError) as refused:
        accounts.create_token(archive.catalog, "park", scopes=["everything"])
    assert refused.value.code == "W091"


def test_every_permission_has_a_narrower_scope_than_all():
    lent = set().union(*(v for k, v in accounts.SCOPES.items() if k != "all"))
    assert set(accounts.PERMISSIONS) - {"self"} <= lent, "give the new permission a scope in accounts.SCOPES"
    assert accounts.SCOPES["all"] == frozenset(accounts.PERMISSIONS)
    assert {p: accounts.scope_for(p) for p in ("catalog:read", "records:write", "inquiry:write", "self")} == {
        "catalog:read": "search", "records:write": "records:write", "inquiry:write": "cases:write", "self": ""}


def test_the_document_names_each_operation_scope(app):
    doc = openapi_document(app)
    assert doc["paths"]["/holds"]["post"]["security"] == [{"bearer": ["cases:write"]}]
    assert doc["paths"]["/holds/{hold_id}/release"]["post"]["security"] == [{"bearer": ["records:write"]}]
    assert doc["paths"]["/search"]["get"]["security"] == [{"bearer": ["search"]}]
    assert doc["paths"]["/register"]["get"]["security"] == [{"bearer": ["read"]}]
    assert set(doc["components"]["securitySchemes"]["bearer"]["x-scopes"]) == set(accounts.SCOPES)
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            assert "security" in op, (path, method)


# -- search: keyset pages -----------------------------------------------------------------------
def test_search_pages_by_keyset_without_duplicates_or_misses(catalog_backend, client, web_archive, small_clip,
                                                             tmp_path):
    archive = web_archive.archive
    assert (archive.catalog.engine.dialect.name == "sqlite") == (catalog_backend == "sqlite")
    base = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    made = {ingest_one(archive, unique_copy(small_clip, tmp_path / f"c{i}.mp4"), camera="cam-07",
                       start=base + timedelta(minutes=i // 2)) for i in range(7)}  # pairs share a start time
    auth = scoped_token(web_archive, "operator", "search")
    whole = client.get("/api/v1/search?camera=cam-07&limit=100", headers=auth).get_json()
    assert {i["package_id"] for i in whole["items"]} == made and whole["next"] is None
    for order in ("desc", "asc"):
        seen, url, pages = [], f"/api/v1/search?camera=cam-07&limit=2&order={order}", 0
        while url:
            page = client.get(url, headers=auth).get_json()
            seen += [i["clip_id"] for i in page["items"]]
            url, pages = page["next_url"], pages + 1
        assert len(seen) == len(set(seen)) == 7 and pages == 4
        assert seen == [i["clip_id"] for i in (whole["items"] if order == "desc" else whole["items"][::-1])]
    bad = client.get("/api/v1/search?after=not-a-cursor", headers=auth)
    assert bad.status_code == 400 and code_of(bad) == "Q006"
    for odd in ("１２", "2" * 40, "-1", "1e3"):
        assert code_of(client.get(f"/api/v1/search?limit={odd}", headers=auth)) in ("W012", "Q014"), odd
    assert code_of(client.get("/api/v1/search?near=37.5,127&radius=nan", headers=auth)) == "W012"


def test_search_facets_are_bounded_and_say_when_there_are_more(client, web_archive, small_clip, tmp_path,
                                                               monkeypatch):
    """/api/v1/search/facets counts at most the newest FACET_CAP hits (a filter the counts per hour cannot
    answer, here words): exact below it, "more than" above. A camera's are counted from the hours: every hit."""
    from longwatch.core.catalog import search as search_api

    archive = web_archive.archive
    base = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    for i in range(3):
        ingest_one(archive, unique_copy(small_clip, tmp_path / f"f{i}.mp4"), camera="cam-08",
                   start=base + timedelta(minutes=i), title="market gate")
    auth = scoped_token(web_archive, "operator", "search")
    exact = client.get("/api/v1/search/facets?camera=cam-08&text=market", headers=auth).get_json()
    assert exact["total"] == 3 and exact["total_exact"] is True and exact["camera"] == [{"key": "cam-08", "count": 3}]
    monkeypatch.setattr(search_api, "FACET_CAP", 2)
    more = client.get("/api/v1/search/facets?camera=cam-08&text=market", headers=auth).get_json()
    assert more["total"] == 2 and more["total_exact"] is False and more["camera"] == [{"key": "cam-08", "count": 2}]
    assert [d["key"] for d in more["day"]] == ["2026-02-01"]
    hours = client.get("/api/v1/search/facets?camera=cam-08", headers=auth).get_json()
    assert hours["total"] == 3 and hours["total_exact"] is True and hours["camera"] == [{"key": "cam-08", "count": 3}]


# -- investigators ------------------------------------------------------------------------------
@pytest.fixture
def two_cases(client, web_archive, small_clip, tmp_path):
    archive = web_archive.archive
    other = ingest_one(archive, unique_copy(small_clip, tmp_path / "other.mp4"), camera="cam-09",
                       start=datetime(2026, 2, 2, tzinfo=UTC))
    rm = scoped_token(web_archive, "records-manager")
    for number, package in (("2026-A", web_archive.package_id), ("2026-B", other)):
        assert client.post("/api/v1/cases", json={"number": number, "title": number}, headers=rm).status_code == 201
        attached = client.post(f"/api/v1/cases/{number}/packages", json={"package_ids": [package]}, headers=rm)
        assert attached.status_code == 200 and attached.get_json()["packages"] == [package]
    shared = client.post("/api/v1/cases/2026-A/members", json={"username": "investigator"}, headers=rm)
    assert shared.get_json()["members"] == ["investigator"]
    return other


def test_investigators_see_only_cases_shared_with_them(client, web_archive, two_cases):
    inv = scoped_token(web_archive, "investigator")
    assert [c["number"] for c in client.get("/api/v1/cases", headers=inv).get_json()] == ["2026-A"]
    assert client.get("/api/v1/cases/2026-B", headers=inv).status_code == 404
    assert code_of(client.post("/api/v1/cases/2026-B/notes", json={"text": "seen"}, headers=inv)) == "W011"
    noted = client.post("/api/v1/cases/2026-A/notes", json={"text": "suspect at gate"}, headers=inv)
    assert noted.status_code == 201
    assert noted.get_json()["notes"][-1]["author"] == "investigator"
    assert client.get("/api/v1/search", headers=inv).status_code == 404  # no case: nothing to search in
    assert client.get("/api/v1/search?case=2026-B", headers=inv).status_code == 404
    found = client.get("/api/v1/search?case=2026-A", headers=inv).get_json()
    assert {i["package_id"] for i in found["items"]} == {web_archive.package_id}
    hold = {"owner": "police", "reason": "case"}
    assert client.post("/api/v1/holds", json={**hold, "case": "2026-B"}, headers=inv).status_code == 404
    assert client.post("/api/v1/holds", json={**hold, "package_id": two_cases}, headers=inv).status_code == 404
    camera = {**hold, "camera": "cam-01", "start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}
    assert code_of(client.post("/api/v1/holds", json=camera, headers=inv)) == "W040"
    assert client.post("/api/v1/holds", json={**hold, "case": "2026-A"}, headers=inv).status_code == 201
    assert [h["case_id"] for h in client.get("/api/v1/holds", headers=inv).get_json()] == ["2026-A"]
    assert client.get(f"/api/v1/custody/packages/{two_cases}", headers=inv).status_code == 404
    assert client.get(f"/api/v1/custody/packages/{web_archive.package_id}", headers=inv).status_code == 200
    assert code_of(client.get("/api/v1/events", headers=inv)) == "W040"
    # the records manager sees both cases; the share is made by records managers only
    assert len(client.get("/api/v1/cases", headers=scoped_token(web_archive, "records-manager")).get_json()) == 2
    refused = client.post("/api/v1/cases/2026-B/members", json={"username": "investigator"},
                          headers=scoped_token(web_archive, "operator"))
    assert code_of(refused) == "W009"


# -- a disposition, two people ------------------------------------------------------------------
def test_a_disposition_approved_by_a_second_records_manager(client, web_archive, small_clip, tmp_path,
                                                            frozen_clock):
    archive = web_archive.archive
    old = ingest_one(archive, unique_copy(small_clip, tmp_path / "old.mp4"), camera="cam-01",
                     start=datetime(2026, 1, 1, tzinfo=UTC), title="Old")
    accounts.add_user(archive.catalog, "rm2", PASSWORD, "records-manager")
    frozen_clock("2026-03-02T00:00:00Z")
    first = scoped_token(web_archive, "records-manager", "read", "records:write")
    proposed = client.post("/api/v1/dispositions", json={}, headers=first)
    assert proposed.status_code == 201, proposed.get_json()
    disposition = proposed.get_json()["disposition"]
    assert disposition["status"] == "proposed" and disposition["proposer"] == "records-manager"
    path = f"/api/v1/dispositions/{disposition['disposition_id']}"
    assert old in [i["package_id"] for i in client.get(path, headers=first).get_json()["items"]]
    assert code_of(client.post(f"{path}/execute", headers=first)) == "H006"  # not approved yet
    assert code_of(client.post(f"{path}/approve", headers=first)) == "H004"  # not by the proposer
    assert code_of(client.post(f"{path}/approve", headers=scoped_token(web_archive, "operator"))) == "W009"
    assert code_of(client.post(f"{path}/approve", headers=scoped_token(web_archive, "rm2", "read"))) == "W090"
    second = scoped_token(web_archive, "rm2", "records:write")
    approved = client.post(f"{path}/approve", headers=second)
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "approved" and approved.get_json()["approver"] == "rm2"
    done = client.post(f"{path}/execute", headers=second)
    assert done.status_code == 200, done.get_json()  # the embedded catalog runs the job in-process
    assert done.get_json()["queued"] is False and old in done.get_json()["result"]["deleted"]
    final = client.get(path, headers=first).get_json()
    assert final["status"] == "executed" and final["certificate"]
    history = client.get(f"/api/v1/custody/packages/{old}", headers=first).get_json()
    assert any("approved by rm2" in e["entry"].get("detail", "") for e in history)
    proof = client.get(f"/api/v1/custody/entries/{history[0]['seq']}/proof", headers=first)
    checkpoints = client.get("/api/v1/custody/checkpoints", headers=first).get_json()
    assert checkpoints["size"] >= len(history)
    if proof.status_code == 200:  # covered by a signed checkpoint
        assert proof.get_json()["leaf_index"] == history[0]["seq"]
    else:
        assert proof.status_code in (400, 404)


# -- events, exports and links, requests and the register, cameras and zones -------------------------
def test_event_review_through_the_api(client, web_archive):
    operator = scoped_token(web_archive, "operator")
    event = {"camera": "cam-01", "time": "2026-03-03T05:00:01Z", "type": "intrusion", "confidence": 0.4,
             "source_system": "vms-x", "vendor_event_id": "R1"}
    assert client.post("/api/v1/events", json=event, headers=operator).status_code == 201
    [queued] = client.get("/api/v1/events?status=new", headers=operator).get_json()
    path = f"/api/v1/events/{queued['id']}/review"
    assert code_of(client.post(path, json={"decision": "maybe"}, headers=operator)) == "D017"
    assert code_of(client.post(path, json={"decision": "false_positive"},
                               headers=scoped_token(web_archive, "operator", "read"))) == "W090"
    reviewed = client.post(path, json={"decision": "false_positive", "note": "a cat"}, headers=operator)
    assert reviewed.status_code == 200
    assert reviewed.get_json()["status"] == "false_positive" and reviewed.get_json()["reviewer"] == "operator"
    assert client.get("/api/v1/events?status=new", headers=operator).get_json() == []
    assert client.post("/api/v1/events/999999/review", json={"decision": "confirmed"},
                       headers=operator).status_code == 404


def test_export_status_share_link_and_revocation(client, web_archive):
    operator = scoped_token(web_archive, "operator")
    asked = {"recipient": {"agency": "Seoul Jung Police", "officer": "Kim", "case_number": "2026-17",
                           "legal_basis": "Criminal Procedure Act art. 215", "purpose": "investigation"},
             "package_ids": [web_archive.package_id], "language": "en"}
    made = client.post("/api/v1/exports", json=asked, headers=operator)
    assert made.status_code == 200, made.get_json()  # the embedded catalog ran the job in-process
    answer = made.get_json()
    assert answer["queued"] is False and answer["result"]["files"] >= 1
    _seq, entry, _line = custody.Ledger.for_archive(web_archive.archive).entry(answer["result"]["transfer_seq"])
    assert any(a.get("name") == "operator" for a in entry["agents"]), entry  # the account that asked
    status = client.get(answer["status_url"], headers=operator).get_json()
    assert status["state"] == "done" and status["export_id"] == answer["export_id"]
    link = client.post(f"/api/v1/exports/{answer['export']}/links", json={}, headers=operator)
    assert link.status_code == 201 and "/s/" in link.get_json()["url"]
    [listed] = client.get("/api/v1/links", headers=operator).get_json()
    assert listed["id"] == link.get_json()["id"] and listed["active"] is True
    # an investigator neither sees nor revokes a link someone else made
    investigator = scoped_token(web_archive, "investigator")
    assert client.get("/api/v1/links", headers=investigator).get_json() == []
    assert client.post(f"/api/v1/links/{listed['id']}/revoke", headers=investigator).status_code == 404
    assert client.post(f"/api/v1/links/{listed['id']}/revoke", headers=operator).status_code == 200
    assert client.get("/api/v1/links", headers=operator).get_json()[0]["active"] is False
    assert client.get(f"/s/{link.get_json()['token']}").status_code in (403, 404, 410)
    assert client.get("/api/v1/exports/00000000-0000-0000-0000-000000000000", headers=operator).status_code == 404


def test_requests_register_cameras_and_zones(client, web_archive):
    req = access_requests.create(web_archive.archive, "pipa-access", requester="Hong Gildong", camera="cam-01",
                                 identity_method="resident card seen at the desk", actor="operator",
                                 claimed_start=datetime(2026, 3, 3, 5, tzinfo=UTC))
    auditor = scoped_token(web_archive, "auditor", "read")
    [listed] = client.get("/api/v1/requests", headers=auditor).get_json()
    assert listed["number"] == req.number and listed["clock"]["day"] == 1
    shown = client.get(f"/api/v1/requests/{req.number}", headers=auditor).get_json()
    assert shown["steps"] and shown["steps"][0]["step"] == "received"
    assert client.get("/api/v1/requests/no-such", headers=auditor).status_code == 404
    assert isinstance(client.get("/api/v1/register", headers=auditor).get_json(), list)
    rm = scoped_token(web_archive, "records-manager")
    zone = client.post("/api/v1/zones", json={"path": "seoul/jung/market", "name": "Market"}, headers=rm)
    assert zone.status_code == 201 and zone.get_json()["path"] == "seoul/jung/market"
    camera = client.post("/api/v1/cameras", json={"id": "cam-42", "name": "Market gate", "zone": "seoul/jung/market",
                                                  "latitude": 37.559, "longitude": 126.977}, headers=rm)
    assert camera.status_code == 201, camera.get_json()
    cameras = {c["id"]: c for c in client.get("/api/v1/cameras", headers=auditor).get_json()}
    assert cameras["cam-42"]["zone"] == "seoul/jung/market"
    assert {"seoul", "seoul/jung"} <= {z["path"] for z in client.get("/api/v1/zones", headers=auditor).get_json()}
    assert code_of(client.post("/api/v1/cameras", json={"id": "cam-43"}, headers=auditor)) == "W009"


def test_on_postgresql_a_disposition_executes_as_a_job_the_api_follows(pg_url, client, web_archive, small_clip,
                                                                       tmp_path, frozen_clock):
    archive = web_archive.archive
    assert jobs.queued(archive)
    old = ingest_one(archive, unique_copy(small_clip, tmp_path / "old.mp4"), camera="cam-01",
                     start=datetime(2026, 1, 1, tzinfo=UTC), title="Old")
    accounts.add_user(archive.catalog, "rm2", PASSWORD, "records-manager")
    frozen_clock("2026-03-02T00:00:00Z")
    first = scoped_token(web_archive, "records-manager", "read", "records:write")
    second = scoped_token(web_archive, "rm2", "read", "records:write")
    disposition = client.post("/api/v1/dispositions", json={}, headers=first).get_json()["disposition"]
    path = f"/api/v1/dispositions/{disposition['disposition_id']}"
    assert client.post(f"{path}/approve", headers=second).status_code == 200
    queued = client.post(f"{path}/execute", headers=second)
    assert queued.status_code == 202 and queued.get_json()["queued"] is True
    job_path = f"/api/v1/jobs/{queued.get_json()['job_id']}"
    waiting = client.get(job_path, headers=first).get_json()
    assert (waiting["task"], waiting["state"]) == ("dispose", "queued")
    assert archive.catalog.get(old).status == "stored"  # nothing destroyed inside the HTTP request
    jobs.run_worker(archive, [jobs.HEAVY], wait=False)
    assert client.get(job_path, headers=first).get_json()["state"] == "done"
    assert client.get(path, headers=first).get_json()["status"] == "executed"
    assert client.get("/api/v1/jobs/999999", headers=first).status_code == 404


def test_the_command_line_honours_a_token_scopes(lw, archive, small_clip, tmp_path):
    """LONGWATCH_TOKEN with fewer scopes: the command line refuses what the scopes do not lend (W090), and an
    emergency purge's approver token must lend records:write."""
    pid = ingest_one(archive, unique_copy(small_clip, tmp_path / "a.mp4"), camera="cam-01")
    accounts.add_user(archive.catalog, "kim", PASSWORD, "records-manager")
    read_only = {"LONGWATCH_TOKEN": accounts.create_token(archive.catalog, "kim", "ro", scopes=["read"])}
    assert lw("hold", "list", "--json", env=read_only).exit_code == 0
    refused = lw("hold", "place", "--package", pid, "--owner", "o", "--reason", "r", env=read_only)
    assert refused.exit_code != 0 and error_codes(refused.stderr) == ["W090"]
    writer = {"LONGWATCH_TOKEN": accounts.create_token(archive.catalog, "kim", "rw",
                                                       scopes=["cases:write", "records:write"])}
    assert lw("hold", "place", "--package", pid, "--owner", "o", "--reason", "r", env=writer).exit_code == 0
    accounts.add_user(archive.catalog, "lee", PASSWORD, "records-manager")
    approver = accounts.create_token(archive.catalog, "lee", "ro", scopes=["read"])
    purge = lw("retention", "purge", "--emergency", env={**writer, "LONGWATCH_APPROVER_TOKEN": approver})
    assert purge.exit_code != 0 and error_codes(purge.stderr) == ["W090"]
