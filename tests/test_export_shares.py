"""Share links for evidence exports: streamed ZIP downloads, each a custody event; expiry and revocation."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from longwatch.core import custody
from longwatch.core.catalog.models import ExportShare
from longwatch.core.evidence import export as export_mod
from longwatch.core.evidence import shares
from longwatch.core.evidence.request import Recipient, Request
from longwatch.core.evidence.verify_export import verify_export

RECIPIENT = Recipient("Busan Police", "Sgt. Lee", "BS-77", "warrant 2026-1", "insurance fraud case")


def make_export(web_archive, tmp_path):
    out = tmp_path / "exp"
    export_mod.export(web_archive.archive, Request(RECIPIENT, package_ids=[web_archive.package_id]), out)
    return out


def test_download_streams_a_verifiable_zip_and_is_a_custody_event(app, client, web_archive, tmp_path, login_as):
    out = make_export(web_archive, tmp_path)
    share_id, token = shares.create_share(web_archive.archive, out, datetime.now(UTC) + timedelta(days=7))
    landing = client.get(f"/s/{token}")  # what is inside, before any download (not counted as one)
    assert landing.status_code == 200 and f"/s/{token}/download" in landing.get_data(as_text=True)
    assert shares.list_shares(web_archive.archive)[0]["downloads"] == 0
    response = client.get(f"/s/{token}/download")
    assert response.status_code == 200
    assert response.is_streamed and response.mimetype == "application/zip"
    body = response.get_data()
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert any(n.endswith("/VERIFY.txt") for n in zf.namelist())
    (tmp_path / "got.zip").write_bytes(body)
    assert verify_export(tmp_path / "got.zip").ok
    ledger = custody.Ledger.for_archive(web_archive.archive)
    events = [e for _s, e, _l in ledger.history(web_archive.package_id) if e["type"] == "dissemination"]
    assert events and f"share link {share_id}" in events[-1]["detail"]
    listed = shares.list_shares(web_archive.archive)
    assert listed[0]["downloads"] == 1 and listed[0]["active"]
    page = login_as("records-manager").get("/shares")
    assert page.status_code == 200 and "Busan Police" in page.get_data(as_text=True)


def test_revoked_expired_and_unknown_links_are_refused(app, client, web_archive, tmp_path, login_as):
    out = make_export(web_archive, tmp_path)
    archive = web_archive.archive
    share_id, token = shares.create_share(archive, out, datetime.now(UTC) + timedelta(days=1))
    manager = login_as("records-manager")
    from web_fixtures import csrf_of

    csrf = csrf_of(manager, "/shares")
    assert manager.post(f"/shares/{share_id}/revoke", data={"csrf_token": csrf}).status_code == 302
    refused = client.get(f"/s/{token}")
    assert refused.status_code == 410 and "E022" in refused.get_data(as_text=True)
    assert client.get(f"/s/{token}/download").status_code == 410
    other_id, other = shares.create_share(archive, out, datetime.now(UTC) + timedelta(days=1))
    with archive.catalog.session() as session:
        session.execute(update(ExportShare).where(ExportShare.id == other_id)
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert client.get(f"/s/{other}").status_code == 410
    assert client.get(f"/s/{other}/download").status_code == 410
    assert client.get("/s/not-a-token").status_code == 404
    assert client.get("/s/not-a-token/download").status_code == 404
    assert not shares.list_shares(archive)[0]["active"]


def test_share_export_command(lw, archive, clip, tmp_path):
    from conftest import ingest_one

    pid = ingest_one(archive, clip, camera="cam-02")
    out = tmp_path / "exp"
    export_mod.export(archive, Request(RECIPIENT, package_ids=[pid]), out)
    made = json.loads(lw("share-export", str(out), "--expires", "2999-01-01T00:00:00Z", "--base-url",
                         "https://archive.example", "--json").output)
    assert made["url"].startswith("https://archive.example/s/")
    assert lw("revoke-share", str(made["id"])).exit_code == 0
    assert lw("share-export", str(out), "--expires", "2000-01-01T00:00:00Z").exit_code == 13


def test_a_link_records_the_stored_key_and_an_earlier_releases_local_path_is_still_served(client, web_archive,
                                                                                         tmp_path):
    """A link made from a local folder copies the export to the store and records its key; a link of an earlier
    release naming a local folder still downloads, for one release; revoking deletes nothing."""
    from longwatch.core.storage.objects import objects

    archive = web_archive.archive
    out = make_export(web_archive, tmp_path)
    export_id = json.loads((out / "export.json").read_text())["export_id"]
    share_id, token = shares.create_share(archive, out, datetime.now(UTC) + timedelta(days=1))
    with archive.catalog.session() as session:
        assert session.get(ExportShare, share_id).path == f"exports/{export_id}"
    stored = objects(archive).list(f"exports/{export_id}")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        k[len(f"exports/{export_id}/"):] for k in stored]
    assert out.is_dir()  # the user's folder is left as it was
    with archive.catalog.session() as session:  # as 0.8 recorded it
        session.execute(update(ExportShare).where(ExportShare.id == share_id).values(path=str(out)))
    objects(archive).delete_prefix(f"exports/{export_id}")
    old = client.get(f"/s/{token}/download")
    assert old.status_code == 200
    (tmp_path / "old.zip").write_bytes(old.get_data())
    assert verify_export(tmp_path / "old.zip").ok
    shares.revoke_share(archive, share_id)
    assert out.is_dir() and (out / "export.json").is_file()
