"""Two working directories with nothing in common but PostgreSQL and the S3 store (issue 20, item 7).

Each directory is made from the same provisioned configuration and keys
(``longwatch.toml`` and ``keys/`` copied), as a web server and a worker on two
machines would be. What one makes in the store the other serves: an export a
worker process in A wrote is downloaded through its share link from a web app
opened on B; a disposition executed in A has its certificate served and
verified on B. Neither folder grows an ``exports`` or certificates folder.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from cluster_kit import open_cluster_archive, provision, store_on_s3
from conftest import create_archive, run_longwatch
from retention_helpers import ALICE, BOB, add_package, later
from web_fixtures import PASSWORD, login

from longwatch import clock
from longwatch.core import accounts, custody
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import ExportShare
from longwatch.core.evidence import orders, shares, stored
from longwatch.core.evidence.request import Recipient, Request
from longwatch.core.evidence.verify_export import verify_export
from longwatch.core.records import dispositions
from longwatch.core.storage.objects import objects
from longwatch.web import create_app

pytestmark = pytest.mark.slow


@pytest.fixture
def two_dirs(postgres_server, s3_server, tmp_path, monkeypatch):
    """Archive A (PostgreSQL catalog, one S3 location) and folder B holding only A's config and keys."""
    monkeypatch.setenv("LONGWATCH_CATALOG_URL", postgres_server.create_database())
    a_root = tmp_path / "a"
    create_archive(a_root).close()
    store_on_s3(a_root, s3_server)
    b_root = provision(a_root, tmp_path / "b")  # provisioned on each machine: configuration and keys, no more
    a = open_cluster_archive(a_root)
    for role in ("operator", "records-manager"):
        accounts.add_user(a.catalog, role, PASSWORD, role)
    b = Archive.open(b_root)
    yield a, b
    b.close()
    a.close()


def _nothing_local(*roots: Path) -> None:
    for root in roots:
        assert not (root / "exports").exists() and not (root / "retention").exists()


def test_an_export_run_by_a_worker_in_a_is_downloaded_through_its_link_from_b(two_dirs, small_clip, tmp_path):
    a, b = two_dirs
    pid = add_package(a, small_clip, tmp_path, "gate")
    request = Request(Recipient("Seoul Police", "Kim", "2026-77", "Criminal Procedure Act 215", "investigation"),
                      package_ids=[pid])
    export_id = orders.submit(a, request, "records-manager")
    assert orders.get(b, export_id).state == "queued"  # B reads the order A wrote: it is in the store
    # a real worker process, working in A's folder
    proc = run_longwatch("-A", a.root, "-q", "worker", "--until-empty", timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    order = orders.get(b, export_id)
    assert order.state == "done", proc.stderr[-3000:]
    assert order.path == f"exports/{export_id}" and order.files == 1
    assert not stored.scratch_dir(export_id).exists()  # the worker's working copy is gone
    keys = objects(b).list(order.path)
    assert f"{order.path}/export.json" in keys and any("/data/" in k for k in keys)

    # the link is made on B and served by B's web app; the bytes are the stored ones
    share_id, token = shares.create_share(b, order.path, clock.now() + timedelta(days=2), created_by="operator")
    with b.catalog.session() as s:
        assert s.get(ExportShare, share_id).path == order.path  # a key, never a local path
    app = create_app(b.root, {"TESTING": True})
    try:
        client = app.test_client()
        landing = client.get(f"/s/{token}")
        assert landing.status_code == 200 and pid[:8] in landing.get_data(as_text=True)
        got = client.get(f"/s/{token}/download")
        assert got.status_code == 200 and got.mimetype == "application/zip"
        data = got.get_data()
    finally:
        app.extensions["longwatch"].close()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = {n.split("/", 1)[1]: zf.read(n) for n in zf.namelist()}
    store = objects(a)
    assert names == {k[len(order.path) + 1:]: store.read_bytes(k) for k in keys}
    (tmp_path / "got.zip").write_bytes(data)
    assert verify_export(tmp_path / "got.zip", [a.certificate]).ok
    # the download is counted and recorded in the ledger, whichever machine served it
    with a.catalog.session() as s:
        assert s.get(ExportShare, share_id).downloads == 1
    events = [e for _s, e, _l in custody.Ledger.for_archive(a).history(pid) if e["type"] == "dissemination"]
    assert any(e["extra"].get("share") == share_id for e in events)
    # revoking the link deletes nothing
    shares.revoke_share(b, share_id)
    assert objects(a).list(order.path) == keys
    _nothing_local(a.root, b.root)


def test_a_certificate_signed_in_a_is_served_and_verified_from_b(two_dirs, small_clip, tmp_path):
    a, b = two_dirs
    pid = add_package(a, small_clip, tmp_path, "old")
    disposition, _plan = dispositions.propose(a, ALICE, later(60))
    assert disposition is not None
    dispositions.approve(a, disposition.id, BOB, later(60))
    result = dispositions.execute(a, disposition.id, BOB, later(61))
    did = disposition.id
    assert result["deleted"] == [pid] and result["certificate"] == f"certificates/{did}.json"
    record = objects(a).read_bytes(result["certificate"])
    app = create_app(b.root, {"TESTING": True})
    try:
        client = app.test_client()
        assert login(client, "records-manager").status_code == 302
        served = client.get(f"/certificates/{did}?format=json")
        assert served.status_code == 200 and served.get_data() == record
        assert client.get(f"/certificates/{did}?format=p7s").get_data() == objects(a).read_bytes(
            f"certificates/{did}.json.p7s")
        assert pid in client.get(f"/certificates/{did}").get_data(as_text=True)
    finally:
        app.extensions["longwatch"].close()
    # B's command line copies it out of the store and verifies it against the keys it was provisioned with
    out = tmp_path / "cert"
    proc = run_longwatch("-A", b.root, "dispose", "certificate", did, "-o", out, "--verify", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True and (out / f"{did}.json").read_bytes() == record
    proc = run_longwatch("-A", b.root, "verify", out / f"{did}.json")
    assert proc.returncode == 0 and "OK destruction certificate" in proc.stdout, proc.stderr
    _nothing_local(a.root, b.root)


def test_a_request_delivered_in_a_is_downloaded_through_its_link_from_b(two_dirs, footage, tmp_path):
    from datetime import UTC, datetime

    from conftest import ingest_one

    from longwatch.core.public import access_requests as req_api

    a, b = two_dirs
    ingest_one(a, footage["face"], camera="cam-05", start=datetime(2026, 3, 3, 6, 0, tzinfo=UTC))
    req = req_api.create(a, "pipa-access", requester="김민수", identity_method="주민등록증 대조 (창구)",
                         claimed_start=datetime(2026, 3, 3, 6, 0, tzinfo=UTC), camera="cam-05")
    req_api.search(a, req.number, actor="clerk")
    req_api.mask(a, req.number, actor="clerk")
    _req, export = req_api.deliver(a, req.number, expires_days=3)
    assert export["key"] == f"exports/{export['export_id']}"
    keys = objects(b).list(export["key"])  # B sees what A delivered
    assert f"{export['key']}/export.json" in keys
    app = create_app(b.root, {"TESTING": True})
    try:
        got = app.test_client().get(export["link"] + "/download")
        assert got.status_code == 200 and got.mimetype == "application/zip"
        data = got.get_data()
    finally:
        app.extensions["longwatch"].close()
    (tmp_path / "delivered.zip").write_bytes(data)
    assert verify_export(tmp_path / "delivered.zip", [a.certificate]).ok
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert {n.split("/", 1)[1] for n in zf.namelist()} == {k[len(export["key"]) + 1:] for k in keys}
    events = [e for _s, e, _l in custody.Ledger.for_archive(a).history(export["packages"][0])
              if e["type"] == "dissemination" and e["extra"].get("share") == export["share"]]
    assert len(events) == 2  # the delivery step, then the download through the link served by B
    _nothing_local(a.root, b.root)
