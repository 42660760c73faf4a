"""Web fixtures: an archive with footage and one user per role, the app, and a real server on loopback.

``live_server`` runs the app in werkzeug's threaded WSGI server on a port
picked free at run time; ``restart()`` stops it and starts a fresh app (a new
process as far as the app's in-memory state goes) on the same archive.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ports import free_port
from werkzeug.serving import BaseWSGIServer, make_server

from longwatch.core import accounts
from longwatch.core.archive import Archive
from longwatch.core.preservation import ingest
from longwatch.web import create_app

PASSWORD = "correct horse battery"
accounts.set_hash_parameters(time_cost=1, memory_kib=1024)  # tests need speed, not resistance to cracking
ROLES = tuple(accounts.ROLES)


@dataclass
class WebArchive:
    archive: Archive
    package_id: str
    clip_id: int

    @property
    def root(self) -> Path:
        return self.archive.root


@pytest.fixture
def web_archive(archive: Archive, clip: Path) -> WebArchive:
    result = ingest.ingest(archive, ingest.IngestRequest(path=clip, camera="cam-01", title="Gate"))
    for role in ROLES:
        accounts.add_user(archive.catalog, role, PASSWORD, role)
    row = archive.catalog.get(result.package_id)
    assert row is not None
    return WebArchive(archive, result.package_id, row.clips[0].id)


@pytest.fixture
def app(web_archive: WebArchive) -> Any:
    application = create_app(web_archive.root, {"TESTING": True})
    yield application
    application.extensions["longwatch"].close()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: Any, path: str = "/login") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    token = csrf_of(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def login_as(app: Any):
    """A fresh test client signed in as the user named after ``role``."""

    def make(role: str) -> Any:
        c = app.test_client()
        response = login(c, role)
        assert response.status_code == 302, response.get_data(as_text=True)
        return c

    return make


class LiveServer:
    def __init__(self, root: Path, config: dict[str, Any] | None = None) -> None:
        self.root = root
        self.config = config or {}
        self.port = free_port()
        self.server: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None
        self.app: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.app = create_app(self.root, self.config)
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            assert self.thread is not None
            self.thread.join(10)
            self.app.extensions["longwatch"].close()
            self.server = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def live_server(web_archive: WebArchive) -> Iterator[LiveServer]:
    server = LiveServer(web_archive.root)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def token_for(web_archive: WebArchive):
    def make(role: str) -> str:
        return accounts.create_token(web_archive.archive.catalog, role, "test")

    return make
