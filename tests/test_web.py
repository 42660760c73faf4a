"""The web UI and API through Flask's test client: permissions, ranges, CSRF, throttling, headers, language."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from web_fixtures import PASSWORD, ROLES, csrf_of, login

from longwatch.core import accounts
from longwatch.core.catalog.models import Upload
from longwatch.web import SECURITY_HEADERS, create_app, security

NO_UPLOAD = "0" * 32


def _endpoints(app):
    """(endpoint, method, rule) for every route the app has, derived from its URL map."""
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods or ()) - {"HEAD"}
        if rule.provide_automatic_options:
            methods.discard("OPTIONS")
        for method in sorted(methods):
            yield rule.endpoint, method, rule


def _url(app, rule, web_archive):
    values = {"package_id": web_archive.package_id, "clip_id": web_archive.clip_id, "upload_id": NO_UPLOAD,
              "username": "operator", "filename": "longwatch.css", "token": "no-such-share", "share_id": 999999,
              "disposition_id": "00000000-0000-0000-0000-000000000000", "number": "NO-CASE",
              "export_id": "00000000-0000-0000-0000-000000000000",
              "hold_id": "00000000-0000-0000-0000-000000000000", "ref": "999999", "event_id": 999999,
              "export": "00000000-0000-0000-0000-000000000000", "job_id": 999999,
              "search_id": "00000000-0000-0000-0000-000000000000"}
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})


def test_every_endpoint_names_its_permission(app):
    missing = []
    for endpoint, _method, _rule in _endpoints(app):
        if endpoint == "static" or endpoint.endswith(".static"):
            continue  # stylesheets and scripts: public by design
        view = app.view_functions[endpoint]
        if not hasattr(view, "lw_permission"):
            missing.append(endpoint)
    assert not missing, f"endpoints without @requires or @public: {missing}"


def test_role_endpoint_matrix(app, web_archive, login_as):
    """Every role against every endpoint (and anonymous): allowed means not 401/403, denied means 403."""
    checked = 0
    for role in (*ROLES, None):
        client = login_as(role) if role else app.test_client()
        token = csrf_of(client, "/me" if role else "/login")
        # signing out ends the session, so it goes last
        for endpoint, method, rule in sorted(_endpoints(app), key=lambda e: (e[0] == "auth.logout", e[0], e[1])):
            view = app.view_functions[endpoint]
            permission = getattr(view, "lw_permission", None)
            headers = {"Tus-Resumable": "1.0.0"}
            if method in ("POST", "PATCH", "PUT", "DELETE"):
                headers["X-CSRF-Token"] = token
            response = client.open(_url(app, rule, web_archive), method=method, headers=headers)
            status = response.status_code
            whole = response.get_data()
            body = whole[:300]
            response.close()
            where = f"{role} {method} {rule.rule} -> {status}"
            if permission is None:
                assert status != 403, where
            elif role is None:
                assert status in (401, 302), where
                if status == 302:
                    assert "/login" in response.headers["Location"], where
            elif security.may_use(role, view):
                # W070: a scoped role may write in the cases shared with it only (here: no case of theirs)
                outside_cases = status == 403 and b"W070" in whole and role in accounts.SCOPED_ROLES
                assert status not in (401, 403) or outside_cases, where + " " + body.decode(errors="replace")
            else:
                assert status == 403, where
            checked += 1
    assert checked > 6 * 15


def test_security_headers_on_every_response(client, web_archive):
    for path in ("/login", "/static/longwatch.css", "/nowhere", "/api/v1/openapi.json", "/api/v1/packages"):
        response = client.get(path)
        response.close()
        for key, value in SECURITY_HEADERS.items():
            assert response.headers.get(key) == value, (path, key)
    assert "default-src 'self'" in SECURITY_HEADERS["Content-Security-Policy"]


def test_no_external_assets(login_as, web_archive):
    c = login_as("administrator")
    for path in ("/", "/packages", f"/packages/{web_archive.package_id}", "/upload", "/admin/users"):
        html = c.get(path).get_data(as_text=True)
        assert "http://" not in html and "https://" not in html, path


def test_login_wrong_password_and_throttle_shared_across_processes(web_archive, app):
    """Failures count per user and address in the catalog: a second app (another process) sees them."""
    other = create_app(web_archive.root, {"TESTING": True})
    try:
        for attempt in range(accounts.MAX_FAILURES):
            c = (app if attempt % 2 else other).test_client()
            response = login(c, "operator", "wrong password!")
            assert response.status_code == 401
            assert "W001" in response.get_data(as_text=True)
        response = login(other.test_client(), "operator", PASSWORD)  # even the right password waits now
        assert response.status_code == 429
        assert "W002" in response.get_data(as_text=True)
        # another user from the same address is not locked out
        assert login(app.test_client(), "auditor").status_code == 302
    finally:
        other.extensions["longwatch"].close()


def test_throttle_window_expires(web_archive):
    catalog = web_archive.archive.catalog
    past = datetime.now(UTC) - timedelta(hours=1)
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(Exception):
            accounts.authenticate(catalog, "operator", "nope", "10.0.0.1", now=past)
    assert accounts.authenticate(catalog, "operator", PASSWORD, "10.0.0.1").username == "operator"


def test_csrf_required_on_forms(login_as, web_archive):
    c = login_as("administrator")
    response = c.post(f"/packages/{web_archive.package_id}/verify")
    assert response.status_code == 403
    assert "W010" in response.get_data(as_text=True)
    response = c.post(f"/packages/{web_archive.package_id}/verify", data={"csrf_token": "forged"})
    assert response.status_code == 403
    response = c.post(f"/packages/{web_archive.package_id}/verify", data={"csrf_token": csrf_of(c, "/me")})
    assert response.status_code == 200
    assert "Verified" in response.get_data(as_text=True)
    # the login form too
    assert app_client_post_login_without_token(c) == 403


def app_client_post_login_without_token(c):
    return c.post("/login", data={"username": "operator", "password": PASSWORD}).status_code


def test_login_rejects_open_redirect(client):
    token = csrf_of(client)
    response = client.post("/login?next=https://evil.example/", data={
        "username": "operator", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_logout_ends_the_session(login_as):
    c = login_as("operator")
    assert c.get("/packages").status_code == 200
    assert c.post("/logout", data={"csrf_token": csrf_of(c, "/me")}).status_code == 302
    assert c.get("/packages").status_code == 302


def test_range_requests(login_as, web_archive):
    c = login_as("operator")
    url = f"/clips/{web_archive.clip_id}/media"
    whole = c.get(url)
    assert whole.status_code == 200
    assert whole.headers["Accept-Ranges"] == "bytes"
    data = whole.data
    size = len(data)
    part = c.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{size}"
    assert part.data == data[100:200]
    tail = c.get(url, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.data == data[-50:]
    open_end = c.get(url, headers={"Range": f"bytes={size - 10}-"})
    assert open_end.data == data[-10:]
    beyond = c.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{size}"
    assert c.get(url, headers={"Range": "bytes=abc"}).status_code == 416
    assert c.get(url, headers={"Range": "bytes=0-1,5-6"}).status_code == 200  # several ranges: the whole file
    import hashlib

    assert hashlib.sha256(data).hexdigest() == web_archive.archive.catalog.get(web_archive.package_id).clips[0].sha256


def test_every_footage_view_is_recorded(login_as, web_archive):
    c = login_as("investigator")  # sees nothing yet
    assert c.get(f"/clips/{web_archive.clip_id}/media").status_code == 404
    c = login_as("records-manager")
    c.get(f"/clips/{web_archive.clip_id}/media")
    c.get(f"/clips/{web_archive.clip_id}/media?download=1")
    lines = (web_archive.root / "logs" / "access.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["action"] for e in entries] == ["view", "download"]
    assert entries[0]["user"] == "records-manager"
    assert entries[0]["package_id"] == web_archive.package_id
    # and in the custody ledger, as the package's dissemination events, before the bytes went out
    from longwatch.core.custody import Ledger

    history = [e for _s, e, _l in Ledger.for_archive(web_archive.archive).history(web_archive.package_id)
               if e["type"] == "dissemination"]
    assert [e["extra"]["action"] for e in history] == ["view", "download"]
    assert {"id": "person:records-manager", "name": "records-manager", "type": "person",
            "role": "implementer"} in history[0]["agents"]
    assert history[1]["extra"]["user_role"] == "records-manager"


def test_poster_is_a_cached_jpeg(login_as, web_archive):
    c = login_as("operator")
    response = c.get(f"/clips/{web_archive.clip_id}/poster.jpg")
    assert response.status_code == 200
    assert response.data[:3] == b"\xff\xd8\xff"
    # kept on the primary location (a file under its folder here), never in a folder of the archive
    assert list((web_archive.root / "storage" / "cache" / "posters" / web_archive.package_id).glob("*.jpg"))
    assert not (web_archive.root / "cache").exists()


def test_auditor_sees_metadata_but_no_player(login_as, web_archive):
    html = login_as("auditor").get(f"/packages/{web_archive.package_id}").get_data(as_text=True)
    assert "<video" not in html and "ingestion" in html
    html = login_as("operator").get(f"/packages/{web_archive.package_id}").get_data(as_text=True)
    assert "<video" in html and "Verify now" in html
    # every copy with its last check; "-" for the store's lock where a local disk cannot lock
    copies = html[html.index('id="copies"'):]
    assert "<td>primary</td><td>ok</td>" in copies.split("</table>")[0]


def test_investigator_sees_only_own_uploads(login_as, web_archive):
    c = login_as("investigator")
    assert web_archive.package_id not in c.get("/packages").get_data(as_text=True)
    assert c.get(f"/packages/{web_archive.package_id}").status_code == 404
    catalog = web_archive.archive.catalog
    investigator = next(u for u in accounts.users(catalog) if u.username == "investigator")
    now = datetime.now(UTC)
    with catalog.session() as s:
        s.add(Upload(id="1" * 32, user_id=investigator.id, length=1, offset=1, filename="x", metadata_json="{}",
                     expected_sha256="", status="archived", package_id=web_archive.package_id, error="",
                     created_at=now, expires_at=now))
    assert c.get(f"/packages/{web_archive.package_id}").status_code == 200
    assert c.get("/api/v1/packages").json["total"] == 1


def test_package_list_filters(login_as, web_archive):
    c = login_as("operator")
    assert web_archive.package_id in c.get("/packages?camera=cam-01").get_data(as_text=True)
    assert web_archive.package_id not in c.get("/packages?camera=cam-99").get_data(as_text=True)
    inside = c.get("/packages?start=2026-03-03T04:00:00Z&end=2026-03-03T06:00:00Z").get_data(as_text=True)
    assert web_archive.package_id in inside
    outside = c.get("/packages?start=2026-03-04T00:00:00%2B09:00").get_data(as_text=True)
    assert web_archive.package_id not in outside
    bad = c.get("/packages?start=yesterday")
    assert bad.status_code == 400 and "W012" in bad.get_data(as_text=True)


def test_korean_pages(client, login_as):
    html = client.get("/login", headers={"Accept-Language": "ko-KR,ko;q=0.9"}).get_data(as_text=True)
    assert 'lang="ko"' in html and "로그인" in html
    html = client.get("/login?lang=en", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert 'lang="en"' in html and "Sign in" in html
    c = login_as("operator")
    c.post("/me", data={"language": "ko", "csrf_token": csrf_of(c, "/me")})
    html = c.get("/packages", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="ko"' in html and "패키지" in html


def test_api_token_pagination_and_errors(client, web_archive, token_for):
    assert client.get("/api/v1/packages").status_code == 401
    assert client.get("/api/v1/packages").json["error"]["code"] == "W008"
    bad = client.get("/api/v1/packages", headers={"Authorization": "Bearer lwt_nonsense"})
    assert bad.status_code == 401
    auth = {"Authorization": f"Bearer {token_for('auditor')}"}
    page = client.get("/api/v1/packages?limit=1", headers=auth).json
    assert page["total"] == 1 and page["limit"] == 1 and page["next"] is None
    assert page["packages"][0]["package_id"] == web_archive.package_id
    error = client.get("/api/v1/packages?limit=0", headers=auth)
    assert error.status_code == 400 and error.json["error"]["code"] == "W012"
    assert error.json["error"]["context"]["name"] == "limit"
    missing = client.get("/api/v1/packages/nope", headers=auth)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "W011"
    denied = client.post(f"/api/v1/packages/{web_archive.package_id}/verify", headers=auth)
    assert denied.status_code == 403 and denied.json["error"]["code"] == "W009"
    ok = client.post(f"/api/v1/packages/{web_archive.package_id}/verify",
                     headers={"Authorization": f"Bearer {token_for('operator')}"})
    assert ok.status_code == 200 and ok.json["ok"] is True
    assert client.get("/api/v1/me", headers=auth).json["role"] == "auditor"


def test_openapi_document_lists_every_api_route(client, app):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1"):])  # <int:x> is {x}
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                assert (path, method.lower()) in documented, (path, method)


def test_admin_manages_users(login_as, web_archive):
    c = login_as("administrator")
    token = csrf_of(c, "/admin/users")
    response = c.post("/admin/users", data={"username": "kim", "password": "long enough pw", "role": "operator",
                                            "csrf_token": token})
    assert response.status_code == 302
    response = c.post("/admin/users", data={"username": "lee", "password": "short", "role": "operator",
                                            "csrf_token": token})
    assert response.status_code == 400 and "W004" in response.get_data(as_text=True)
    c.post("/admin/users/kim", data={"role": "auditor", "csrf_token": token})
    assert {u.username: u.role for u in accounts.users(web_archive.archive.catalog)}["kim"] == "auditor"
    assert c.post("/admin/users/nobody", data={"role": "auditor", "csrf_token": token}).status_code == 404


def test_disabled_user_loses_session(login_as, web_archive):
    c = login_as("operator")
    accounts.set_active(web_archive.archive.catalog, "operator", False)
    assert c.get("/packages").status_code == 302


def test_users_cli(lw, archive):
    result = lw("users", "add", "park", "--role", "auditor", "--password-stdin", input="a good password\n")
    assert result.exit_code == 0, result.output
    result = lw("users", "add", "park", "--role", "auditor", "--password-stdin", input="a good password\n")
    assert result.exit_code == 11 and "W006" in result.output
    result = lw("users", "add", "choi", "--role", "auditor", "--password-stdin", input="short\n")
    assert "W004" in result.output
    assert lw("users", "role", "park", "operator").exit_code == 0
    assert lw("users", "passwd", "park", "--password-stdin", input="another good one\n").exit_code == 0
    rows = json.loads(lw("users", "list", "--json").output)["users"]
    assert rows[0]["username"] == "park" and rows[0]["role"] == "operator"
    token = lw("token", "create", "park", "--name", "nvr").output.strip()
    assert token.startswith("lwt_")
    assert accounts.token_account(archive.catalog, token).username == "park"
    assert "W007" in lw("token", "create", "nobody").output
