"""Operate and observe (issue 23), in the app: health, readiness, metrics, a reverse proxy, sessions, tokens.

Real archive, real catalog, real ledger; the app through Flask's test client
(``REMOTE_ADDR`` set per request as a proxy or a client would be). The same
app served by a real ``longwatch serve`` is in tests/test_operate_serve.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from web_fixtures import PASSWORD, csrf_of

from longwatch import clock
from longwatch.core import accounts, custody
from longwatch.core.catalog.models import WebSession
from longwatch.errors import LongwatchError
from longwatch.web import create_app
from longwatch.web import metrics as metrics_mod

PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def _app_with(web_archive, toml: str):
    path = web_archive.root / "longwatch.toml"
    path.write_text(path.read_text() + "\n" + toml + "\n")
    return create_app(web_archive.root, {"TESTING": True})


# -- health and readiness -------------------------------------------------------------------------
def test_healthz_answers_without_touching_the_archive(app, client):
    queries: list[str] = []
    engine = app.extensions["longwatch"].catalog.engine
    listener = lambda *args: queries.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get("/healthz", headers={"Authorization": "Bearer lwt_whatever"})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200 and response.get_json() == {"status": "alive"}
    assert queries == []


def test_readyz_is_ready_then_names_what_is_missing(app, client, web_archive):
    assert client.get("/readyz").get_json() == {"status": "ready"}
    identity = web_archive.root / "storage" / custody.mirror.IDENTITY_KEY
    saved = identity.read_bytes()
    identity.write_bytes(saved.replace(b'"ledger_id": "', b'"ledger_id": "0'))
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "W053"
    identity.write_bytes(saved)
    assert client.get("/readyz").status_code == 200
    storage = web_archive.root / "storage"
    storage.rename(web_archive.root / "storage-unmounted")
    try:
        response = client.get("/readyz")
        assert response.status_code == 503 and response.get_json()["error"]["code"] == "W052"
        assert response.headers["Retry-After"]
    finally:
        (web_archive.root / "storage-unmounted").rename(storage)


def test_readyz_when_the_catalog_does_not_answer(app, client, web_archive):
    archive = app.extensions["longwatch"]
    engine = archive.catalog.engine

    def refuse(*_args):
        raise ConnectionRefusedError("catalog down")

    event.listen(engine, "do_connect", refuse)
    engine.dispose()
    try:
        response = client.get("/readyz")
    finally:
        event.remove(engine, "do_connect", refuse)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "W051"


# -- metrics --------------------------------------------------------------------------------------
def test_metrics_from_the_catalog(client, web_archive):
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    samples = metrics_mod.parse(response.get_data(as_text=True))
    size = web_archive.archive.catalog.get(web_archive.package_id).size_bytes
    assert ({"status": "stored"}, 1.0) in samples["longwatch_packages"]
    assert ({"status": "stored"}, float(size)) in samples["longwatch_package_bytes"]
    assert samples["longwatch_clips"] == [({}, 1.0)]
    assert ({"location": "primary", "status": "ok"}, 1.0) in samples["longwatch_copies"]
    assert ({"location": "primary"}, float(size)) in samples["longwatch_location_bytes"]
    assert samples["longwatch_location_free_bytes"][0][1] > 0
    ledger = custody.Ledger.for_archive(web_archive.archive)
    assert samples["longwatch_ledger_entries"] == [({}, float(ledger.size()))]
    assert samples["longwatch_job_failures"] == [({}, 0.0)]
    assert "longwatch_jobs" not in samples  # SQLite: no queue
    if ledger.last_checkpoint() is not None:
        assert samples["longwatch_ledger_checkpoint_age_seconds"][0][1] >= 0


def test_metrics_count_audit_results_and_repairs(client, web_archive):
    from longwatch.core.storage import audit

    before = metrics_mod.parse(client.get("/metrics").get_data(as_text=True)).get("longwatch_storage_events_total", [])
    audit.audit(web_archive.archive)
    after = metrics_mod.parse(client.get("/metrics").get_data(as_text=True))["longwatch_storage_events_total"]
    checks = {tuple(sorted(labels.items())): value for labels, value in after}
    earlier = {tuple(sorted(labels.items())): value for labels, value in before}
    key = (("kind", "fixity check"), ("outcome", "success"))
    assert checks[key] == earlier.get(key, 0) + 1


def test_metrics_refused_off_loopback_unless_the_token_is_sent(client, monkeypatch):
    far = {"REMOTE_ADDR": "203.0.113.9"}
    refused = client.get("/metrics", environ_base=far, headers={"Accept": "application/json"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "W050"
    monkeypatch.setenv("LONGWATCH_METRICS_TOKEN", "s3cret-scrape-token")
    assert client.get("/metrics", environ_base=far, headers={"Authorization": "Bearer wrong"}).status_code == 403
    allowed = client.get("/metrics", environ_base=far, headers={"Authorization": "Bearer s3cret-scrape-token"})
    assert allowed.status_code == 200 and b"longwatch_packages" in allowed.data


# -- behind a reverse proxy -----------------------------------------------------------------------
def _login(client, username: str, password: str, **kw):
    csrf = csrf_of(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf}, **kw)


def test_throttling_is_per_client_behind_a_trusted_proxy(web_archive):
    app = _app_with(web_archive, "[web]\ntrusted_proxies = 1")
    attacker = app.test_client()
    for _ in range(accounts.MAX_FAILURES):
        r = _login(attacker, "auditor", "wrong password!", environ_base=PROXY,
                   headers={"X-Forwarded-For": "198.51.100.7"})
        assert r.status_code == 401
    locked = _login(attacker, "auditor", PASSWORD, environ_base=PROXY, headers={"X-Forwarded-For": "198.51.100.7"})
    assert locked.status_code == 429
    colleague = app.test_client()
    ok = _login(colleague, "auditor", PASSWORD, environ_base=PROXY, headers={"X-Forwarded-For": "198.51.100.8"})
    assert ok.status_code == 302
    with web_archive.archive.catalog.session() as s:
        addresses = set(s.scalars(select(WebSession.address)))
    assert "198.51.100.8" in addresses and "10.0.0.2" not in addresses


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(app):
    attacker = app.test_client()
    for i in range(accounts.MAX_FAILURES + 1):  # a new X-Forwarded-For each time does not reset the count
        r = _login(attacker, "auditor", "wrong password!", environ_base=PROXY,
                   headers={"X-Forwarded-For": f"198.51.100.{i}"})
    assert r.status_code == 429


def test_session_cookie_is_secure_over_https(web_archive):
    app = _app_with(web_archive, "[web]\ntrusted_proxies = 1")
    over_https = _login(app.test_client(), "auditor", PASSWORD, environ_base=PROXY,
                        headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"})
    cookie = over_https.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    plain = _login(app.test_client(), "auditor", PASSWORD, environ_base=PROXY)
    assert "Secure" not in plain.headers["Set-Cookie"] and "HttpOnly" in plain.headers["Set-Cookie"]


# -- sessions, passwords, tokens ------------------------------------------------------------------
def test_idle_session_ends(app, frozen_clock, web_archive):
    start = frozen_clock("2026-12-07T09:00:00Z")
    client = app.test_client()
    assert _login(client, "auditor", PASSWORD).status_code == 302
    frozen_clock(start + timedelta(minutes=25))
    assert client.get("/").status_code == 200  # activity restarts the idle time
    frozen_clock(start + timedelta(minutes=50))
    assert client.get("/").status_code == 200
    frozen_clock(start + timedelta(minutes=81))
    assert client.get("/").status_code == 302  # idle for 31 minutes: signed out
    with web_archive.archive.catalog.session() as s:
        assert s.scalars(select(WebSession)).first() is None  # closed in the catalog too


@pytest.mark.parametrize("password", ["1234567890", "QwertyUIOP", "password123", "zzzzzzzzzzzz", "abababababab"])
def test_common_passwords_are_refused(archive, password):
    with pytest.raises(LongwatchError) as refused:
        accounts.add_user(archive.catalog, "newcomer", password, "auditor")
    assert refused.value.code == "W054"
    with pytest.raises(LongwatchError) as short:
        accounts.add_user(archive.catalog, "newcomer", "short", "auditor")
    assert short.value.code == "W004"
    accounts.add_user(archive.catalog, "newcomer", "marble otter lantern", "auditor")


def test_api_tokens_expire_by_default(archive, frozen_clock, lw):
    start = frozen_clock("2026-12-07T09:00:00Z")
    accounts.add_user(archive.catalog, "robot", "marble otter lantern", "auditor")
    secret = accounts.create_token(archive.catalog, "robot", "scanner")
    frozen_clock(start + timedelta(days=accounts.TOKEN_DAYS - 1))
    assert accounts.token_account(archive.catalog, secret) is not None
    frozen_clock(start + timedelta(days=accounts.TOKEN_DAYS + 1))
    assert accounts.token_account(archive.catalog, secret) is None
    help_text = lw("token", "create", "--help").output
    assert re.search(rf"default:\s*{accounts.TOKEN_DAYS}", help_text)


def test_metrics_show_the_queue_on_postgresql(postgres_server, tmp_path, monkeypatch):
    from conftest import create_archive

    from longwatch.core.catalog.models import JobFailure
    from longwatch.core.jobs import queue as jobs

    monkeypatch.setenv("LONGWATCH_CATALOG_URL", postgres_server.create_database())
    archive = create_archive(tmp_path / "pg-archive")
    try:
        for n in range(3):
            jobs.enqueue(archive, "noop", {"n": n})
        with archive.catalog.session() as s:
            s.add(JobFailure(job_id=99, task="noop", code="J007", message="", attempt=5, failed_at=clock.now()))
        app = create_app(archive.root, {"TESTING": True})
        samples = metrics_mod.parse(app.test_client().get("/metrics").get_data(as_text=True))
        app.extensions["longwatch"].close()
    finally:
        archive.close()
    assert ({"state": "queued"}, 3.0) in samples["longwatch_jobs"]
    assert samples["longwatch_job_failures"] == [({}, 1.0)]


@pytest.mark.parametrize("line", ['trusted_proxies = "one"', "trusted_proxies = -1", "session_idle_minutes = true"])
def test_web_settings_are_checked(archive, line):
    from longwatch import config

    text = (archive.root / "longwatch.toml").read_text() + f"\n[web]\n{line}\n"
    with pytest.raises(LongwatchError) as refused:
        config.load_text(archive.root, text)
    assert refused.value.code == "A003" and "[web]" in str(refused.value.context)


# -- the session key ------------------------------------------------------------------------------
def test_a_short_session_key_is_refused_not_used(web_archive):
    """An empty or truncated key (a disk that filled, a hand edit) must not sign sessions: Flask would
    then run with no key, and a second web process would reject every cookie the first one set."""
    key = web_archive.root / "web-secret.key"
    key.write_bytes(b"")
    with pytest.raises(LongwatchError) as caught:
        create_app(web_archive.root, {"TESTING": True})
    assert caught.value.code == "K014"
    key.write_bytes(b"x" * 16)
    with pytest.raises(LongwatchError):
        create_app(web_archive.root, {"TESTING": True})


def _key_after_barrier(root: str, barrier) -> bytes:  # runs in a child process
    from longwatch.web import _secret_key

    barrier.wait()
    return _secret_key(root)


def test_web_processes_starting_together_agree_on_one_key(tmp_path):
    """Several `serve` workers start at once on a fresh archive: each must read the one complete key,
    never an empty file another is still writing (the race that made a second process refuse sessions)."""
    import multiprocessing
    from pathlib import Path

    ctx = multiprocessing.get_context("fork")
    for round_ in range(15):
        root = tmp_path / str(round_)
        root.mkdir()
        with ctx.Manager() as manager:
            barrier = manager.Barrier(6)
            with ctx.Pool(6) as pool:
                keys = pool.starmap(_key_after_barrier, [(Path(root), barrier)] * 6)
        assert len(set(keys)) == 1 and len(keys[0]) == 32
        assert sorted(p.name for p in root.iterdir()) == ["web-secret.key"]  # no temporary file left
        assert (root / "web-secret.key").stat().st_mode & 0o777 == 0o600
