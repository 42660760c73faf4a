"""Share links: expiring, revocable links through which a recipient downloads an evidence export.

A link is ``/s/<token>``: no account needed, so it expires, can be revoked,
and every download is a custody-ledger event ("dissemination") naming the
export's packages and the address it went to. Only the token's SHA-256 is
stored (table ``export_shares``); the token itself is shown once, when the
link is made (``longwatch share-export``, or a citizen's request delivered by
:func:`longwatch.core.public.access_requests.make_export`).

A link records the export's key in the object store (``exports/<export
id>``, :mod:`longwatch.core.evidence.stored`), so the web server that serves
it needs no folder in common with the machine that wrote it; links made by
earlier releases hold an absolute local path and are still read (for one
release). Revoking or expiring a link never deletes the export.

This module holds what a link is, without Flask: making, revoking and listing
links, finding the live link of a token, and recording a download. The web
page that serves ``/s/<token>`` and lists links is ``longwatch/web/shares.py``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from longwatch import clock
from longwatch.core import custody
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import ExportShare, Package
from longwatch.core.evidence import stored, zipstream
from longwatch.core.storage.objects import is_key, objects
from longwatch.errors import LongwatchError


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_share(archive: Archive, export: Path | str, expires: datetime, created_by: str = "") -> tuple[int, str]:
    """A new link to an export; returns (id, token). The token is shown once.

    ``export`` is a stored export's key (``exports/<export id>``), or a local
    export folder (``longwatch share-export DIR``), which is first copied to
    the store under its id, so the link never depends on this machine's disk.
    """
    if expires <= clock.now():
        raise LongwatchError("E003", detail="the link's expiry is in the past")
    if isinstance(export, Path):
        folder = export.resolve()
        try:
            description = json.loads((folder / "export.json").read_text(encoding="utf-8"))
            key = stored.export_key(str(description.get("export_id", "")))
        except (OSError, ValueError, LongwatchError) as exc:
            raise LongwatchError("E009", path=folder) from exc
        if stored.description(archive, key) is None:
            stored.store(archive, folder, str(description["export_id"]))
    else:
        key = export
        found = stored.description(archive, key)
        if found is None:
            raise LongwatchError("E039", export_id=key.rsplit("/", 1)[-1])
        description = found
    token = secrets.token_urlsafe(32)
    recipient = description.get("recipient", {})
    row = ExportShare(token_sha256=token_hash(token), export_id=str(description.get("export_id", "")),
                      path=key, recipient=f"{recipient.get('agency', '')} {recipient.get('officer', '')}"
                      .strip(), created_by=created_by or archive.operator, created_at=clock.now(),
                      expires_at=expires, downloads=0)
    with archive.catalog.session() as session:
        session.add(row)
        session.flush()
        share_id = row.id
    return share_id, token


def revoke_share(archive: Archive, share_id: int) -> None:
    with archive.catalog.session() as session:
        row = session.get(ExportShare, share_id)
        if row is None:
            raise LongwatchError("E021", share=share_id)
        if row.revoked_at is None:
            row.revoked_at = clock.now()


def list_shares(archive: Archive) -> list[dict[str, Any]]:
    with archive.catalog.session() as session:
        rows = session.scalars(select(ExportShare).order_by(ExportShare.id.desc())).all()
        return [{"id": r.id, "export_id": r.export_id, "recipient": r.recipient, "created_by": r.created_by,
                 "created_at": r.created_at, "expires_at": r.expires_at, "revoked_at": r.revoked_at,
                 "downloads": r.downloads, "active": r.revoked_at is None and r.expires_at > clock.now()}
                for r in rows]


def find_share(archive: Archive, token: str) -> ExportShare:
    """The live link of ``token`` without counting a download (its landing page); E021 none, E022 revoked or
    expired."""
    with archive.catalog.session() as session:
        row = session.scalars(select(ExportShare).where(ExportShare.token_sha256 == token_hash(token))).first()
        if row is None:
            raise LongwatchError("E021", share="?")
        if row.revoked_at is not None or row.expires_at <= clock.now():
            raise LongwatchError("E022", share=row.id)
        session.expunge(row)
        return row


def export_description(archive: Archive, row: ExportShare) -> dict[str, Any] | None:
    """The ``export.json`` of the export a link points to (what is inside it); None when gone or unreadable."""
    if is_key(row.path):
        return stored.description(archive, row.path)
    try:  # a link made by an earlier release: a local folder
        data: dict[str, Any] = json.loads((Path(row.path) / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def verify_text(archive: Archive, row: ExportShare) -> str:
    """The export's ``VERIFY.txt`` (how a recipient checks it); empty when absent."""
    if is_key(row.path):
        return stored.read_text(archive, row.path, "VERIFY.txt")
    try:
        return (Path(row.path) / "VERIFY.txt").read_text(encoding="utf-8")
    except OSError:
        return ""


def stream_zip(archive: Archive, row: ExportShare, name: str) -> Iterator[bytes]:
    """The linked export as a ZIP, streamed from the store (or an earlier release's local folder)."""
    if is_key(row.path):
        return zipstream.stream_zip_objects(objects(archive), row.path, prefix=name)
    return zipstream.stream_zip(Path(row.path), prefix=name)


def live_share(archive: Archive, token: str) -> ExportShare:
    """The link of ``token``; E021 when there is none, E022 when revoked or expired. Counts nothing: a
    download counts only when its bytes go out (:func:`count_download`), never a HEAD or a refusal."""
    with archive.catalog.session() as session:
        row = session.scalars(select(ExportShare).where(ExportShare.token_sha256 == token_hash(token))).first()
        if row is None:
            raise LongwatchError("E021", share="?")
        if row.revoked_at is not None or row.expires_at <= clock.now():
            raise LongwatchError("E022", share=row.id)
        session.expunge(row)
        return row


def count_download(archive: Archive, share_id: int) -> None:
    with archive.catalog.session() as session:
        session.execute(update(ExportShare).where(ExportShare.id == share_id)
                        .values(downloads=ExportShare.downloads + 1))


def destroyed_package(archive: Archive, packages: list[str]) -> tuple[str, str] | None:
    """The first package of ``packages`` destroyed (or being destroyed) since, with its status; None when
    every one is still kept. The landing page withdraws the whole export on it, as the download does."""
    with archive.catalog.session() as session:
        gone = session.execute(select(Package.id, Package.status).where(
            Package.id.in_(packages), Package.status.in_(("disposing", "disposed")))).first()
    return None if gone is None else (gone[0], gone[1])


def refuse_destroyed(archive: Archive, packages: list[str]) -> None:
    """W041 when a package of the export was destroyed since: the link must not hand out footage that the
    archive's own disposal (with its certificate) says no longer exists anywhere it serves."""
    gone = destroyed_package(archive, packages)
    if gone is not None:
        raise LongwatchError("W041", package_id=gone[0], status=gone[1])


def shared_packages(archive: Archive, row: ExportShare) -> list[str] | None:
    """The package ids of the export a link points to; None when the export is gone or unreadable."""
    description = export_description(archive, row)
    if description is None:
        return None
    return [p["id"] for p in description.get("packages", [])]


def record_download(archive: Archive, row: ExportShare, packages: list[str], address: str) -> None:
    """The custody-ledger "dissemination" event of one download through a link, from ``address``."""
    custody.Ledger.for_archive(archive).append([custody.CustodyEvent(
        type="dissemination", packages=packages,
        detail=f"evidence export {row.export_id} downloaded through share link {row.id} "
               f"(recipient {row.recipient}) from {address}",
        agents=[custody.software_agent()], extra={"export_id": row.export_id, "share": row.id,
                                                  "address": address})])
