"""Built-in web plugin: share links that let a recipient download an evidence export.

A link is ``/s/<token>``: no account needed, so it expires, can be revoked,
and every download is a custody-ledger event ("dissemination") naming the
export's packages and the address it went to. The export is streamed as a
ZIP (:func:`longwatch.core.evidence.export.stream_zip`); nothing is assembled in memory.
Links are made with ``longwatch share-export`` and listed and revoked here.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, stream_with_context, url_for
from sqlalchemy import select

from longwatch import clock
from longwatch.core import custody
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import ExportShare
from longwatch.core.evidence import export as export_mod
from longwatch.errors import LongwatchError
from longwatch.web import current_archive
from longwatch.web.security import client_address, current_user, public, record_access, requires

bp = Blueprint("shares", __name__)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_share(archive: Archive, export_path: Path, expires: datetime, created_by: str = "") -> tuple[int, str]:
    """A new link to the export at ``export_path``; returns (id, token). The token is shown once."""
    export_path = export_path.resolve()
    try:
        description = json.loads((export_path / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LongwatchError("E009", path=export_path) from exc
    if expires <= clock.now():
        raise LongwatchError("E003", detail="the link's expiry is in the past")
    token = secrets.token_urlsafe(32)
    recipient = description.get("recipient", {})
    row = ExportShare(token_sha256=token_hash(token), export_id=str(description.get("export_id", "")),
                      path=str(export_path), recipient=f"{recipient.get('agency', '')} {recipient.get('officer', '')}"
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


def _live_share(archive: Archive, token: str) -> ExportShare:
    with archive.catalog.session() as session:
        row = session.scalars(select(ExportShare).where(ExportShare.token_sha256 == token_hash(token))).first()
        if row is None:
            raise LongwatchError("E021", share="?")
        if row.revoked_at is not None or row.expires_at <= clock.now():
            raise LongwatchError("E022", share=row.id)
        row.downloads += 1
        session.flush()
        session.expunge(row)
        return row


@bp.get("/s/<token>")
@public
def download(token: str) -> Any:
    archive = current_archive()
    try:
        row = _live_share(archive, token)
    except LongwatchError as exc:
        status = 404 if exc.code == "E021" else 410
        return current_app.make_response((render_template("error.html", error=exc, status=status), status))
    bag = Path(row.path)
    try:
        description = json.loads((bag / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        abort(410)
    packages = [p["id"] for p in description.get("packages", [])]
    custody.Ledger.for_archive(archive).append([custody.Event(
        type="dissemination", packages=packages,
        detail=f"evidence export {row.export_id} downloaded through share link {row.id} "
               f"(recipient {row.recipient}) from {client_address()}",
        agents=[custody.software_agent()], extra={"export_id": row.export_id, "share": row.id,
                                                  "address": client_address()})])
    for pid in packages:
        record_access("export download", pid, detail=f"export {row.export_id}, share link {row.id}")
    name = f"export-{row.export_id}"
    response = Response(stream_with_context(export_mod.stream_zip(bag, prefix=name)), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.zip"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/shares")
@requires("footage:read")
def shares_page() -> str:
    archive = current_archive()
    return render_template("shares.html", shares=list_shares(archive), tz=archive.settings.tz)


@bp.post("/shares/<int:share_id>/revoke")
@requires("footage:read")
def revoke(share_id: int) -> Any:
    user = current_user()
    revoke_share(current_archive(), share_id)
    record_access("share link revoked", "", detail=f"share link {share_id} by {user.username if user else ''}")
    return redirect(url_for("shares.shares_page"))


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
