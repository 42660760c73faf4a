"""tus 1.0 uploads against a real server on loopback: the tuspy client, resumption, checksums, bad input."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError
from tusclient.uploader import Uploader

from longwatch.core.catalog.models import Upload
from longwatch.core.preservation import staging, uploads

TUS = {"Tus-Resumable": "1.0.0"}


class Sha256Uploader(Uploader):
    """tuspy checks chunks with SHA-1 by default; this server speaks sha256."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


def _client(live_server, token: str) -> tus_client.TusClient:
    return tus_client.TusClient(f"{live_server.url}/api/v1/uploads", headers={"Authorization": f"Bearer {token}"})


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _parts(archive, upload_id: str) -> list[str]:
    """The objects an upload left on the primary location (its chunks live there, not on the web server)."""
    return list(staging.primary(archive).list(uploads.part_prefix(upload_id)))


def test_tuspy_upload_in_chunks_is_archived(live_server, token_for, fresh_clip, web_archive):
    digest = hashlib.sha256(fresh_clip.read_bytes()).hexdigest()
    with fresh_clip.open("rb") as fh:
        uploader = Sha256Uploader(file_stream=fh, client=_client(live_server, token_for("operator")),
                                  chunk_size=16 * 1024, upload_checksum=True,
                                  metadata={"filename": "gate camera.mp4", "sha256": digest, "camera": "cam-07"})
        uploader.upload()
    status = requests.get(uploader.url, headers={"Authorization": f"Bearer {token_for('operator')}"}).json()
    assert status["status"] == "archived", status
    row = web_archive.archive.catalog.get(status["package_id"])
    assert row.camera == "" and row.claimed_camera == "cam-07" and row.origin == "upload"  # until confirmed
    assert row.clips[0].sha256 == digest
    assert row.clips[0].original_name == "gate camera.mp4"
    assert not _parts(web_archive.archive, status["upload_id"])


def test_resume_after_server_restart(live_server, token_for, fresh_clip, web_archive):
    token = token_for("investigator")
    with fresh_clip.open("rb") as fh:
        uploader = Sha256Uploader(file_stream=fh, client=_client(live_server, token), chunk_size=8 * 1024,
                                  upload_checksum=True, metadata={"filename": "x.mp4"})
        uploader.set_url(uploader.create_url())
        uploader.upload_chunk()
        uploader.upload_chunk()
    assert uploader.offset == 16 * 1024
    live_server.restart()  # a new app, no hash state in memory; the catalog row has the offset
    head = requests.head(uploader.url, headers={**TUS, "Authorization": f"Bearer {token}"})
    assert head.headers["Upload-Offset"] == str(16 * 1024)
    with fresh_clip.open("rb") as fh:
        resumed = Sha256Uploader(file_stream=fh, client=_client(live_server, token), url=uploader.url,
                                 chunk_size=64 * 1024, upload_checksum=True)
        assert resumed.offset == 16 * 1024
        resumed.upload()
    status = requests.get(uploader.url, headers={"Authorization": f"Bearer {token}"}).json()
    assert status["status"] == "archived"
    # the investigator now sees the package (own upload), and nothing else
    listing = requests.get(f"{live_server.url}/api/v1/packages", headers={"Authorization": f"Bearer {token}"}).json()
    assert [p["package_id"] for p in listing["packages"]] == [status["package_id"]]


def _create(live_server, token: str, length: int, metadata: str = "") -> str:
    headers = {**TUS, "Authorization": f"Bearer {token}", "Upload-Length": str(length)}
    if metadata:
        headers["Upload-Metadata"] = metadata
    response = requests.post(f"{live_server.url}/api/v1/uploads", headers=headers)
    assert response.status_code == 201, response.text
    return live_server.url + response.headers["Location"]


def _patch(url: str, token: str, offset: int, data: bytes, checksum: str | None = None) -> requests.Response:
    headers = {**TUS, "Authorization": f"Bearer {token}", "Content-Type": "application/offset+octet-stream",
               "Upload-Offset": str(offset)}
    if checksum:
        headers["Upload-Checksum"] = checksum
    return requests.patch(url, data=data, headers=headers)


def test_bad_chunk_checksum_is_discarded(live_server, token_for, fresh_clip):
    token = token_for("operator")
    data = fresh_clip.read_bytes()
    url = _create(live_server, token, len(data))
    wrong = "sha256 " + base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    response = _patch(url, token, 0, data[:1000], wrong)
    assert response.status_code == 460 and response.json()["error"]["code"] == "W015"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert requests.head(url, headers={**TUS, "Authorization": f"Bearer {token}"}).headers["Upload-Offset"] == "0"
    sha1 = "sha1 " + base64.b64encode(hashlib.sha1(data[:10]).digest()).decode()
    assert _patch(url, token, 0, data[:10], sha1).json()["error"]["code"] == "W019"
    good = "sha256 " + base64.b64encode(hashlib.sha256(data[:1000]).digest()).decode()
    assert _patch(url, token, 0, data[:1000], good).headers["Upload-Offset"] == "1000"
    conflict = _patch(url, token, 0, data[:1000])
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "W014"


def test_interrupted_chunk_keeps_the_good_bytes(live_server, token_for, fresh_clip):
    """A connection dropped mid-chunk: the bytes that arrived count, and the upload goes on from there."""
    token = token_for("operator")
    data = fresh_clip.read_bytes()
    url = _create(live_server, token, len(data))
    path = url.split("://", 1)[1].split("/", 1)[1]
    with socket.create_connection(("127.0.0.1", live_server.port)) as sock:
        head = (f"PATCH /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/offset+octet-stream\r\n"
                f"Upload-Offset: 0\r\nContent-Length: {len(data)}\r\n\r\n").encode()
        sock.sendall(head + data[:5000])
        sock.shutdown(socket.SHUT_WR)
        sock.recv(4096)
    offset = int(requests.head(url, headers={**TUS, "Authorization": f"Bearer {token}"}).headers["Upload-Offset"])
    assert offset == 5000
    response = _patch(url, token, offset, data[offset:])
    assert response.status_code == 204, response.text


def test_whole_file_digest_mismatch_archives_nothing(live_server, token_for, fresh_clip, web_archive):
    token = token_for("operator")
    data = fresh_clip.read_bytes()
    url = _create(live_server, token, len(data), "sha256 " + _b64("0" * 64) + ",filename " + _b64("a.mp4"))
    response = _patch(url, token, 0, data)
    assert response.status_code == 422 and response.json()["error"]["code"] == "W017"
    assert len(web_archive.archive.catalog.all_ids()) == 1  # only the fixture's package
    status = requests.get(url, headers={"Authorization": f"Bearer {token}"}).json()
    assert status["status"] == "failed" and "W017" in status["error"]


def test_termination_and_ownership(live_server, token_for):
    token = token_for("operator")
    url = _create(live_server, token, 10)
    other = requests.head(url, headers={**TUS, "Authorization": f"Bearer {token_for('records-manager')}"})
    assert other.status_code == 404  # someone else's upload is invisible
    response = requests.delete(url, headers={**TUS, "Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    assert requests.head(url, headers={**TUS, "Authorization": f"Bearer {token}"}).status_code == 404
    assert requests.post(f"{live_server.url}/api/v1/uploads", headers={
        **TUS, "Authorization": f"Bearer {token_for('auditor')}", "Upload-Length": "5"}).status_code == 403


def test_abandoned_uploads_expire(live_server, token_for, web_archive):
    token = token_for("operator")
    url = _create(live_server, token, 10)
    upload_id = url.rsplit("/", 1)[1]
    assert _patch(url, token, 0, b"12345").status_code == 204
    with web_archive.archive.catalog.session() as s:
        s.get(Upload, upload_id).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert requests.head(url, headers={**TUS, "Authorization": f"Bearer {token}"}).status_code == 404
    assert len(_parts(web_archive.archive, upload_id)) == 1
    _create(live_server, token, 10)  # creating sweeps expired uploads
    assert not _parts(web_archive.archive, upload_id)


@pytest.mark.parametrize(("headers", "code", "status"), [
    ({"Upload-Length": "10", "Tus-Resumable": "0.2.2"}, "W013", 412),
    ({"Upload-Length": "-1"}, "W016", 413),
    ({"Upload-Length": "abc"}, "W016", 413),
    ({}, "W016", 413),
    ({"Upload-Length": "10", "Upload-Metadata": "filename ***"}, "W022", 400),
    ({"Upload-Length": "10", "Upload-Metadata": "sha256 " + _b64("xyz")}, "W022", 400),
    ({"Upload-Length": "10", "Upload-Metadata": "camera " + _b64("../etc")}, "W022", 400),
    ({"Upload-Length": "10", "Upload-Metadata": "start " + _b64("yesterday")}, "W022", 400),
])
def test_bad_creation_requests(live_server, token_for, headers, code, status):
    sent = {**TUS, "Authorization": f"Bearer {token_for('operator')}", **headers}
    response = requests.post(f"{live_server.url}/api/v1/uploads", headers=sent)
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_options_and_oversized_patch(live_server, token_for):
    response = requests.options(f"{live_server.url}/api/v1/uploads")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {"creation", "checksum", "termination"}
    assert response.headers["Tus-Checksum-Algorithm"] == "sha256"
    token = token_for("operator")
    url = _create(live_server, token, 4)
    response = _patch(url, token, 0, b"123456")
    assert response.status_code == 413 and response.json()["error"]["code"] == "W016"
    assert requests.head(url, headers={**TUS, "Authorization": f"Bearer {token}"}).headers["Upload-Offset"] == "0"


def test_tuspy_reports_refusals(live_server, token_for, tmp_path: Path):
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with empty.open("rb") as fh:
        uploader = Sha256Uploader(file_stream=fh, client=_client(live_server, token_for("operator")))
        with pytest.raises(TusCommunicationError):
            uploader.upload()
    assert http.client.responses[413]


def test_archiving_resumes_after_a_crash_between_last_byte_and_ingest(live_server, token_for, fresh_clip,
                                                                       web_archive):
    """All bytes arrived and were recorded, then the server died before archiving: the next PATCH does."""
    token = token_for("operator")
    data = fresh_clip.read_bytes()
    url = _create(live_server, token, len(data), "filename " + _b64("late.mp4"))
    upload_id = url.rsplit("/", 1)[1]
    assert _patch(url, token, 0, data[:-1]).status_code == 204
    added = uploads.add_part(web_archive.archive, upload_id, len(data) - 1, io.BytesIO(data[-1:]), 1)
    assert added.complete and uploads.load(web_archive.archive, upload_id).status == "archiving"
    live_server.restart()
    response = _patch(url, token, len(data), b"")
    assert response.status_code == 204, response.text
    status = requests.get(url, headers={"Authorization": f"Bearer {token}"}).json()
    assert status["status"] == "archived"


def test_uploading_an_archived_file_again_is_refused(live_server, token_for, clip, web_archive):
    token = token_for("operator")
    data = clip.read_bytes()
    url = _create(live_server, token, len(data), "filename " + _b64("again.mp4"))
    response = _patch(url, token, 0, data)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "I006"
    assert response.json()["error"]["context"]["package_id"] == web_archive.package_id
    assert len(web_archive.archive.catalog.all_ids()) == 1
