"""Operate and observe (issue 23) against a real `longwatch serve` (gunicorn) on loopback.

- Slow clients: two, or fifty (more than the server has threads), connections
  that send half a request and stall do not stop a third client from getting a
  page within a few seconds; the server drops a stalled one.
- Logs: a share link's download leaves no token in the access log or the app
  log (JSON lines here, `LONGWATCH_LOG_FORMAT=json`), and every line is JSON.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from serve_kit import start_serve
from test_export_shares import make_export

from longwatch import logs
from longwatch.core.evidence import shares


@pytest.fixture
def served(web_archive, tmp_path):
    """`longwatch serve` with one worker process of four threads behind one (trusted) proxy, logging JSON lines."""
    config = web_archive.root / "longwatch.toml"
    config.write_text(config.read_text() + "\n[web]\ntrusted_proxies = 1\n")
    log = tmp_path / "serve.log"
    env = {**os.environ, "LONGWATCH_LOG_FORMAT": "json", "LONGWATCH_LOG_LEVEL": "debug"}
    proc, base = start_serve(web_archive.root, log, "--workers", "1", "--threads", "4", env=env)
    port = int(base.rsplit(":", 1)[1])
    yield base, port, log
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_half_sent_requests_do_not_block_other_clients(served):
    base, port, log = served
    stalled = []
    for _ in range(2):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow")  # and nothing more
        stalled.append(s)
    try:
        time.sleep(0.5)  # both connections are in the server's hands
        started = time.monotonic()
        response = requests.get(base + "/login", timeout=15)
        took = time.monotonic() - started
        assert response.status_code == 200 and took < 5, (took, log.read_text()[-2000:])
        ready = requests.get(base + "/readyz", timeout=15)
        assert ready.status_code == 200, ready.text
    finally:
        for s in stalled:
            s.close()


def test_more_half_sent_requests_than_threads_do_not_hang_the_server(served):
    """50 stalled heads against one worker of four threads: each had a thread blocked reading it, so every
    page hung (issue 22). A page still answers at once, a signed-in POST with a body too, and the server
    closes a stalled connection itself (idle for the keepalive time) rather than holding it."""
    base, port, log = served
    stalled = []
    for n in range(50):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow" + b"w" * n)  # and nothing more
        stalled.append(s)
    try:
        time.sleep(1)  # every connection is in the server's hands
        for _ in range(3):
            started = time.monotonic()
            response = requests.get(base + "/login", timeout=30)
            took = time.monotonic() - started
            assert response.status_code == 200 and took < 3, (took, log.read_text()[-2000:])
        person = requests.Session()
        form = person.get(base + "/login", timeout=30).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        posted = person.post(base + "/login", data={"username": "nobody", "password": "x" * 5000, "csrf_token": csrf},
                             timeout=30)
        assert posted.status_code in (200, 400, 401) and 'name="password"' in posted.text  # refused, not hung
        stalled[0].settimeout(30)
        started = time.monotonic()
        assert stalled[0].recv(100) == b""  # closed by the server, no answer to half a request
        assert time.monotonic() - started < 20
    finally:
        for s in stalled:
            s.close()


def test_share_download_leaves_no_token_in_any_log(served, web_archive, tmp_path):
    base, _port, log = served
    out = make_export(web_archive, tmp_path)
    _id, token = shares.create_share(web_archive.archive, out, datetime.now(UTC) + timedelta(days=1))
    got = requests.get(f"{base}/s/{token}/download?token={token}", headers={"Referer": f"{base}/s/{token}"},
                       timeout=120)
    assert got.status_code == 200 and got.content[:2] == b"PK"
    assert requests.get(f"{base}/s/{token}x", timeout=30).status_code == 404  # a wrong token is not logged either
    proxied = requests.get(f"{base}/login", headers={"X-Forwarded-For": "198.51.100.7"}, timeout=30)
    assert proxied.status_code == 200
    time.sleep(0.5)
    text = log.read_text()
    access = (web_archive.root / "logs" / "access.jsonl").read_text()
    assert token not in text and token not in access
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    downloads = [e for e in lines if e.get("logger") == "gunicorn.access" and e.get("path", "").startswith("/s/")]
    assert downloads and downloads[0]["path"] == "/s/" + logs.REDACTED + "/download"
    assert downloads[0]["client"] == "127.0.0.1" and downloads[0]["status"] == "200"
    assert all(logs.REDACTED in e["referer"] for e in downloads[:1])
    logins = [e for e in lines if e.get("logger") == "gunicorn.access" and e.get("path") == "/login"]
    assert logins and logins[-1]["client"] == "198.51.100.7"  # the client the proxy reported, not the proxy


def test_redact_keeps_the_line_and_drops_the_secrets():
    line = ('GET /s/AbC-123_x?lang=ko&token=zzz HTTP/1.1 Authorization: Bearer lwt_abc '
            'postgresql+psycopg://longwatch:hunter2@db/longwatch')
    clean = logs.redact(line)
    for secret in ("AbC-123_x", "zzz", "lwt_abc", "hunter2"):
        assert secret not in clean
    assert clean.startswith("GET /s/[redacted]?lang=ko&token=[redacted] HTTP/1.1")
    assert "longwatch:[redacted]@db/longwatch" in clean


def test_text_logs_are_redacted_too(tmp_path, monkeypatch):
    import io
    import logging

    monkeypatch.setenv("LONGWATCH_LOG_FORMAT", "text")
    monkeypatch.setenv("LONGWATCH_LOG_LEVEL", "warning")
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    try:
        logs.configure(stream)
        logging.getLogger("longwatch.test").info("quiet %s", "/s/secret-one")
        logging.getLogger("longwatch.test").warning("download of %s failed", "/s/secret-two")
    finally:
        root.setLevel(saved[0])
        for h in list(root.handlers):
            if h not in saved[1]:
                root.removeHandler(h)
    text = stream.getvalue()
    assert "secret" not in text and "quiet" not in text and "download of /s/[redacted] failed" in text


def test_a_port_taken_after_it_was_picked_is_given_up_for_another(web_archive, tmp_path, monkeypatch):
    """The tests' own guard against the port race (tests/serve_kit.py): gunicorn meets a port that another
    server took between the pick and the bind, reports it, and the server is started on another port."""
    import serve_kit

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1], serve_kit.free_port()])
        monkeypatch.setattr(serve_kit, "free_port", lambda: next(ports))
        log = tmp_path / "serve.log"
        proc, base = serve_kit.start_serve(web_archive.root, log, "--workers", "1")
        try:
            assert base != f"http://127.0.0.1:{taken.getsockname()[1]}"
            assert f"Connection in use: ('127.0.0.1', {taken.getsockname()[1]})" in log.read_text()
            assert requests.get(base + "/healthz", timeout=10).status_code == 200
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
