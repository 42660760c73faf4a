"""Uploads and queued ingests across machines that share only PostgreSQL and the S3 store (issue 20, item 7).

Three working directories made from one provisioned configuration (the same
longwatch.toml and keys/, nothing else copied): web servers A and B, and a
worker on C. A tus upload whose chunks go alternately to A and B is made into
a package by the worker on C; a file queued with ``longwatch jobs ingest`` on
A is ingested on C after it is gone from A; a worker killed just after
publishing is retried, and the package exists once. Real processes for the
workers, real PostgreSQL and a real S3-protocol server on loopback.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from cluster_kit import open_cluster_archive, provision, stop, store_on_s3, wait_for_jobs, worker
from conftest import LONGWATCH, create_archive, unique_copy
from sqlalchemy import select, text
from web_fixtures import PASSWORD

from longwatch.core import accounts
from longwatch.core.catalog.models import Upload, UploadPart
from longwatch.core.jobs import queue as jobs
from longwatch.core.preservation import staging, uploads
from longwatch.storage_adapters.s3 import S3StorageAdapter
from longwatch.web import create_app

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = 4096


@pytest.fixture
def machines(postgres_server, s3_server, tmp_path, monkeypatch):
    """Working directories A, B, C of one archive whose catalog is PostgreSQL and whose store is S3."""
    monkeypatch.setenv("LONGWATCH_CATALOG_URL", postgres_server.create_database())
    create_archive(tmp_path / "a").close()
    store_on_s3(tmp_path / "a", s3_server)
    a = open_cluster_archive(tmp_path / "a")
    b = provision(a.root, tmp_path / "b")
    c = provision(a.root, tmp_path / "c")
    yield a, b, c
    a.close()


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


#: what a machine is provisioned with, or makes for itself as configuration (a web server's session secret)
CONFIGURATION = ("longwatch.toml", "web-secret.key")


def _local_leftovers(root: Path) -> list[str]:
    """Files a machine kept besides its configuration and keys (scratch folders may stay, empty)."""
    out = []
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel not in CONFIGURATION and not rel.startswith("keys/"):
            out.append(rel)
    return out


def test_upload_through_two_web_servers_is_archived_by_a_worker_on_a_third_machine(machines, tmp_path,
                                                                                  fresh_clip):
    a, b_root, c_root = machines
    user = accounts.add_user(a.catalog, "uploader", PASSWORD, "operator")
    token = accounts.create_token(a.catalog, "uploader", "test")
    auth = {"Authorization": f"Bearer {token}"}
    data = fresh_clip.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    apps = [create_app(a.root, {"TESTING": True, "LONGWATCH_UPLOAD_RESUME": False}),
            create_app(b_root, {"TESTING": True, "LONGWATCH_UPLOAD_RESUME": False})]
    log = tmp_path / "worker.log"
    proc = None
    try:
        web = [app.test_client() for app in apps]
        created = web[0].post("/api/v1/uploads", headers={
            **TUS, **auth, "Upload-Length": str(len(data)),
            "Upload-Metadata": f"filename {_b64('gate 2.mp4')},sha256 {_b64(digest)},camera {_b64('cam-02')}"})
        assert created.status_code == 201, created.get_data(as_text=True)
        url = created.headers["Location"]
        upload_id = url.rsplit("/", 1)[1]
        offset, turn = 0, 0
        while offset < len(data):
            server = web[turn % 2]
            head = server.head(url, headers={**TUS, **auth})  # the offset comes from the catalog, either server
            assert head.status_code == 200 and int(head.headers["Upload-Offset"]) == offset
            piece = data[offset:offset + CHUNK]
            checksum = base64.b64encode(hashlib.sha256(piece).digest()).decode()
            response = server.patch(url, data=piece, headers={
                **TUS, **auth, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset),
                "Upload-Checksum": f"sha256 {checksum}"})
            assert response.status_code == 204, response.get_data(as_text=True)
            offset = int(response.headers["Upload-Offset"])
            turn += 1
        assert turn >= 4  # each server took chunks
        # a stale PATCH at an old offset, as a retry through the other server would send, changes nothing
        stale = web[turn % 2].patch(url, data=data[:CHUNK], headers={
            **TUS, **auth, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"})
        assert stale.status_code == 409
        status = web[1].get(url, headers=auth).get_json()
        assert status["status"] == "archiving" and status["package_id"]  # queued, not made in a web process
        with a.catalog.session() as s:
            parts = s.execute(select(UploadPart.start, UploadPart.end).where(UploadPart.upload_id == upload_id)
                              .order_by(UploadPart.start)).all()
        assert parts[0][0] == 0 and parts[-1][1] == len(data) and len(parts) == turn
        assert all(p[1] == q[0] for p, q in itertools.pairwise(parts))

        proc = worker(c_root, log)
        wait_for_jobs(a, 1, log)
        status = web[0].get(url, headers=auth).get_json()
        assert status["status"] == "archived", status
    finally:
        if proc is not None:
            stop(proc)
        for app in apps:
            app.extensions["longwatch"].close()
    row = a.catalog.get(status["package_id"])
    assert row is not None and row.camera == "" and row.claimed_camera == "cam-02"  # an upload, until confirmed
    assert row.clips[0].sha256 == digest and row.clips[0].original_name == "gate 2.mp4"
    assert sum(1 for p in a.catalog.packages() if p.clips[0].sha256 == digest) == 1
    # recorded as this account's upload; its parts are gone from the store, nothing stayed on any machine
    with a.catalog.session() as s:
        upload = s.get(Upload, upload_id)
        assert upload.user_id == user.id
        assert not s.scalars(select(UploadPart).where(UploadPart.upload_id == upload_id)).all()
    assert not list(staging.primary(a).list(uploads.part_prefix(upload_id)))
    for root in (b_root, c_root):
        assert _local_leftovers(root) == [], root
    with a.catalog.engine.connect() as conn:
        args = conn.execute(text("SELECT args FROM procrastinate_jobs WHERE task_name = 'ingest_upload'")).scalar()
    assert args["upload_id"] == upload_id and args[jobs.REQUESTED_BY] == "uploader"
    done = subprocess.run([*LONGWATCH, "-A", str(b_root), "verify", status["package_id"]], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_file_queued_on_one_machine_is_ingested_on_another_after_a_worker_is_killed(machines, tmp_path,
                                                                                     small_clip):
    a, _b_root, c_root = machines
    submitted = unique_copy(small_clip, tmp_path / "outbox" / "north gate.mp4")
    (tmp_path / "outbox" / "north gate.mp4.json").write_text(json.dumps({"title": "North gate, night"}))
    digest = hashlib.sha256(submitted.read_bytes()).hexdigest()
    queued = subprocess.run([*LONGWATCH, "-A", str(a.root), "jobs", "ingest", "--camera", "cam-05", str(submitted)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert queued.returncode == 0, queued.stdout + queued.stderr
    adapter = staging.primary(a)
    assert adapter.stat(staging.staged_key(digest)).size == submitted.stat().st_size
    shutil.rmtree(tmp_path / "outbox")  # the worker never reads the submitting machine's files
    log = tmp_path / "worker.log"
    victim = worker(c_root, log, fault="after-publish")  # killed once the package is stored, before the catalog
    try:
        assert victim.wait(240) == -signal.SIGKILL, log.read_text()[-3000:]
    finally:
        stop(victim)
    assert a.catalog.find_clip(digest) is None
    adapter.stat(staging.staged_key(digest))  # still there for the retry
    proc = worker(c_root, log)
    try:
        counts = wait_for_jobs(a, 1, log, timeout=300)  # the stalled job comes back and completes
    finally:
        stop(proc)
    assert counts == {"done": 1}, counts
    clip = a.catalog.find_clip(digest)
    assert clip is not None and clip.original_name == "north gate.mp4"
    row = a.catalog.get(clip.package_id)
    assert row.camera == "cam-05" and row.title == "North gate, night"
    assert sum(1 for p in a.catalog.packages() if p.clips[0].sha256 == digest) == 1
    with pytest.raises(FileNotFoundError):
        adapter.stat(staging.staged_key(digest))  # removed once the package was published
    with a.catalog.engine.connect() as conn:
        attempts = conn.execute(text("SELECT attempts FROM procrastinate_jobs")).scalar()
    assert attempts >= 1
    assert _local_leftovers(c_root) == []
    done = subprocess.run([*LONGWATCH, "-A", str(c_root), "verify", clip.package_id], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_staging_refuses_links_and_fifos_on_the_submitting_machine(machines, tmp_path, small_clip):
    a, _b, _c = machines
    link = tmp_path / "link.mp4"
    link.symlink_to(small_clip)
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    for path, code in ((link, "I051"), (fifo, "I052")):
        result = subprocess.run([*LONGWATCH, "-A", str(a.root), "jobs", "ingest", str(path)],
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode != 0 and code in result.stdout + result.stderr, (code, result)
    assert not list(staging.primary(a).list(staging.PREFIX))
    assert jobs.counts(a) == {}


def test_a_transient_object_goes_with_every_version_without_listing_versions(s3_server, tmp_path):
    """Staged files and chunks are deleted by version id from HEAD: a listing of versions costs the bucket."""
    adapter = S3StorageAdapter("primary", s3_server.options(object_lock=True), tmp_path)  # versioned bucket
    key = staging.staged_key("0" * 64)
    for _ in range(2):  # two submitters staged the same bytes
        adapter.put(key, io.BytesIO(b"same bytes"))
    client = s3_server.client()
    assert len(client.list_object_versions(Bucket=adapter.bucket)["Versions"]) == 2
    adapter.delete_transient(key)
    adapter.delete_transient(key)  # absent: no error
    listed = client.list_object_versions(Bucket=adapter.bucket)
    assert not listed.get("Versions") and not listed.get("DeleteMarkers")
