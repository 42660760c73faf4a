"""A share link's download is a custody event only when bytes go out (issue 22): found against a real server.

``HEAD /s/<token>/download`` (a link checker, a mail scanner, ``curl -I``) sends no byte of the export, yet it
counted a download and recorded a transfer to the recipient in the custody ledger and the access log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from retention_helpers import ALICE, add_package, later
from sqlalchemy import select

from longwatch.core.catalog.models import Clip
from longwatch.core.evidence import export as export_mod
from longwatch.core.evidence import shares
from longwatch.core.evidence.request import Recipient, Request
from longwatch.core.records import deletion

RECIPIENT = Recipient("Busan Police", "Sgt. Lee", "BS-77", "warrant 2026-1", "an attack test")


def test_head_of_a_share_download_is_neither_a_download_nor_an_access(client, web_archive, tmp_path) -> None:
    out = tmp_path / "exp"
    export_mod.export(web_archive.archive, Request(RECIPIENT, package_ids=[web_archive.package_id]), out)
    _, token = shares.create_share(web_archive.archive, out, datetime.now(UTC) + timedelta(days=7))
    access = web_archive.root / "logs" / "access.jsonl"
    before = access.read_text() if access.exists() else ""
    head = client.head(f"/s/{token}/download")
    assert head.status_code == 200 and head.mimetype == "application/zip" and not head.get_data()
    assert shares.list_shares(web_archive.archive)[0]["downloads"] == 0
    assert (access.read_text() if access.exists() else "") == before
    got = client.get(f"/s/{token}/download")
    assert got.status_code == 200 and got.get_data()[:2] == b"PK"
    assert shares.list_shares(web_archive.archive)[0]["downloads"] == 1


def test_a_share_link_to_destroyed_footage_downloads_nothing(client, web_archive, small_clip, tmp_path) -> None:
    archive = web_archive.archive
    doomed = add_package(archive, small_clip, tmp_path, "doomed")
    out = tmp_path / "exp"
    export_mod.export(archive, Request(RECIPIENT, package_ids=[doomed]), out)
    _, token = shares.create_share(archive, out, datetime.now(UTC) + timedelta(days=7))
    deletion.delete_package(archive, doomed, ALICE, "manual", now=later(3))
    for method in (client.get, client.head):
        gone = method(f"/s/{token}/download")
        assert gone.status_code == 410, gone.status_code
        assert gone.mimetype != "application/zip"
    assert "W041" in client.get(f"/s/{token}/download").get_data(as_text=True)
    assert shares.list_shares(archive)[0]["downloads"] == 0


def test_the_landing_page_of_a_withdrawn_export_lists_nothing(client, web_archive, small_clip, tmp_path) -> None:
    archive = web_archive.archive
    doomed = add_package(archive, small_clip, tmp_path, "doomed")
    out = tmp_path / "exp"
    export_mod.export(archive, Request(RECIPIENT, package_ids=[doomed]), out)
    _, token = shares.create_share(archive, out, datetime.now(UTC) + timedelta(days=7))
    before = client.get(f"/s/{token}").get_data(as_text=True)
    with archive.catalog.session() as session:
        digest = session.scalars(select(Clip.sha256).where(Clip.package_id == doomed)).one()
    assert digest[:16] in before
    deletion.delete_package(archive, doomed, ALICE, "manual", now=later(3))
    page = client.get(f"/s/{token}")
    assert page.status_code == 410
    text = page.get_data(as_text=True)
    assert "withdrawn" in text and "lawfully destroyed" in text
    assert digest[:16] not in text and small_clip.name not in text
    assert 'id="download"' not in text
    assert shares.list_shares(archive)[0]["downloads"] == 0
