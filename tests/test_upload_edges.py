"""Uploads lose nothing at the edges: a server killed after the last byte, expiry, a full disk."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from conftest import LONGWATCH, configure_storage
from serve_kit import start_serve
from sqlalchemy import select
from web_fixtures import LiveServer, free_port

from longwatch.core.catalog.models import Upload, UploadPart
from longwatch.core.preservation import staging, uploads
from longwatch.web import create_app
from longwatch.web.upload import sweep_expired

TUS = {"Tus-Resumable": "1.0.0"}
#: a werkzeug server in its own process, so that a kill point kills a real server
SERVER = ("import sys; from werkzeug.serving import run_simple; from longwatch.web import create_app; "
          "run_simple('127.0.0.1', int(sys.argv[2]), create_app(sys.argv[1]), threaded=True)")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _create(base: str, token: str, length: int, metadata: str = "") -> requests.Response:
    headers = {**TUS, "Authorization": f"Bearer {token}", "Upload-Length": str(length)}
    if metadata:
        headers["Upload-Metadata"] = metadata
    return requests.post(f"{base}/api/v1/uploads", headers=headers, timeout=60)


def _patch(url: str, token: str, offset: int, data: bytes) -> requests.Response:
    return requests.patch(url, data=data, timeout=120, headers={
        **TUS, "Authorization": f"Bearer {token}", "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": str(offset)})


def _stored(archive, upload_id: str) -> bytes:
    """The bytes an upload's recorded parts hold on the primary location (not on the web server)."""
    adapter, out = staging.primary(archive), b""
    with archive.catalog.session() as s:
        keys = s.scalars(select(UploadPart.key).where(UploadPart.upload_id == upload_id)
                         .order_by(UploadPart.start)).all()
    for key in keys:
        with adapter.open(key) as fh:
            out += fh.read()
    return out


def _status(url: str, token: str) -> dict:
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=60).json()


def _wait_until_up(base: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 180
    while True:
        try:
            requests.get(base + "/login", timeout=10)
            return
        except (requests.ConnectionError, requests.Timeout):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)


def _wait_for_status(url: str, token: str, wanted: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            status = _status(url, token)
            if status["status"] == wanted:
                return status
        except (requests.ConnectionError, requests.Timeout):
            pass
        assert time.monotonic() < deadline, f"still not {wanted}"
        time.sleep(0.5)


def _spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LONGWATCH_FAULT": "upload-after-last-byte"}
    with log.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env)


def test_server_killed_after_the_last_byte_completes_on_restart_and_is_never_swept(
        web_archive, token_for, fresh_clip, tmp_path):
    token = token_for("operator")
    data = fresh_clip.read_bytes()
    port, log = free_port(), tmp_path / "server.log"
    proc = _spawn([sys.executable, "-c", SERVER, str(web_archive.root), str(port)], log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc, log)
        created = _create(base, token, len(data), "filename " + _b64("last-byte.mp4"))
        assert created.status_code == 201, created.text
        url = base + created.headers["Location"]
        upload_id = url.rsplit("/", 1)[1]
        with pytest.raises(requests.ConnectionError):
            _patch(url, token, 0, data)  # the server dies after recording the last byte
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    catalog = web_archive.archive.catalog
    with catalog.session() as s:
        row = s.get(Upload, upload_id)
        assert (row.status, row.offset) == ("archiving", len(data))
        package_id = row.package_id
        row.expires_at = datetime.now(UTC) - timedelta(hours=1)  # long past its expiry
    assert package_id and catalog.get(package_id) is None
    app = create_app(web_archive.root, {"LONGWATCH_UPLOAD_RESUME": False})
    with app.app_context():
        assert sweep_expired() == []  # every byte arrived: never swept
    app.extensions["longwatch"].close()
    assert _stored(web_archive.archive, upload_id) == data

    server = LiveServer(web_archive.root)
    server.start()  # a restart completes it
    try:
        url = f"{server.url}/api/v1/uploads/{upload_id}"
        status = _wait_for_status(url, token, "archived")
        assert status["package_id"] == package_id and status["error"] is None
        again = _patch(url, token, len(data), b"")  # the client's retry changes nothing
        assert again.status_code in (204, 409)
    finally:
        server.stop()
    row = catalog.get(package_id)
    assert row is not None and row.clips[0].original_name == "last-byte.mp4"
    assert row.clips[0].size_bytes == len(data)
    assert sum(1 for p in catalog.packages() if p.clips[0].sha256 == row.clips[0].sha256) == 1
    assert not list(staging.primary(web_archive.archive).list(uploads.part_prefix(upload_id)))
    done = subprocess.run([*LONGWATCH, "-A", str(web_archive.root), "verify", package_id], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_gunicorn_worker_killed_after_the_last_byte_is_completed_by_the_next_worker(
        web_archive, token_for, fresh_clip, tmp_path):
    token = token_for("operator")
    data = fresh_clip.read_bytes()
    env = {**os.environ, "LONGWATCH_FAULT": "upload-after-last-byte"}
    proc, base = start_serve(web_archive.root, tmp_path / "serve.log", "--workers", "1", env=env)
    try:
        url = base + _create(base, token, len(data), "filename " + _b64("worker.mp4")).headers["Location"]
        with pytest.raises(requests.ConnectionError):
            _patch(url, token, 0, data)
        status = _wait_for_status(url, token, "archived")  # gunicorn's next worker finished the work
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    row = web_archive.archive.catalog.get(status["package_id"])
    assert row is not None and row.clips[0].original_name == "worker.mp4"


def test_no_room_is_507_with_a_code_at_creation_and_while_growing(live_server, token_for, web_archive):
    token = token_for("operator")
    live_server.app.config["LONGWATCH_UPLOAD_RESERVE"] = 1 << 60  # more than any disk holds
    refused = _create(live_server.url, token, 10)
    assert refused.status_code == 507
    assert refused.json()["error"]["code"] == "S021"
    live_server.app.config["LONGWATCH_UPLOAD_RESERVE"] = 0
    created = _create(live_server.url, token, 10)
    assert created.status_code == 201
    url = live_server.url + created.headers["Location"]
    assert _patch(url, token, 0, b"12345").status_code == 204
    live_server.app.config["LONGWATCH_UPLOAD_RESERVE"] = 1 << 60  # the disk filled meanwhile
    refused = _patch(url, token, 5, b"67890")
    assert refused.status_code == 507
    assert refused.json()["error"]["code"] == "S021"
    assert _status(url, token)["offset"] == 5  # the good bytes stay; the client resumes later
    live_server.app.config["LONGWATCH_UPLOAD_RESERVE"] = 0
    upload_id = url.rsplit("/", 1)[1]
    assert _stored(web_archive.archive, upload_id) == b"12345"
    # on a local primary location the chunk is a plain file under the storage folder, not the upload area
    parts = list((web_archive.root / "storage" / "uploads" / upload_id).iterdir())
    assert [p.read_bytes() for p in parts] == [b"12345"]
    assert not any((web_archive.root / "tmp" / "uploads").iterdir())


STORAGE = ('[storage]\nprimary = "primary"\n\n[storage.replication]\ndefault = ["primary"]\n\n'
           '[storage.locations.primary]\nadapter = "local"\npath = "storage"\n{cap}\n')


def test_a_full_store_keeps_the_uploaded_bytes_until_the_package_can_be_made(web_archive, token_for, fresh_clip):
    """Ingest refused for a reason that is not the file's (S001: the store is full): nothing is deleted,
    the upload stays 'archiving' with the error, and the next start completes it."""
    token = token_for("operator")
    data = fresh_clip.read_bytes()
    configure_storage(web_archive.archive, STORAGE.format(cap="cap_bytes = 1")).close()
    server = LiveServer(web_archive.root)
    server.start()
    try:
        url = f"{server.url}" + _create(server.url, token, len(data), "filename " + _b64("full.mp4")).headers[
            "Location"]
        refused = _patch(url, token, 0, data)
        assert refused.status_code == 507 and refused.json()["error"]["code"] == "S001"
        status = _status(url, token)
        assert status["status"] == "archiving" and "S001" in status["error"] and status["package_id"]
        upload_id = url.rsplit("/", 1)[1]
        assert _stored(web_archive.archive, upload_id) == data  # kept
        configure_storage(web_archive.archive, STORAGE.format(cap="")).close()  # room again
        server.restart()
        url = f"{server.url}/api/v1/uploads/{upload_id}"
        done = _wait_for_status(url, token, "archived")
        assert done["package_id"] == status["package_id"] and done["error"] is None
    finally:
        server.stop()
