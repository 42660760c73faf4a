"""Built-in web plugin: the pages of share links (``/s/<token>`` landing and download, ``/shares`` list and revoke).

A recipient opens ``/s/<token>`` without an account and first sees what the
link holds (the packages, files and sizes, how to verify it, until when it
works); opening that page is no download and is not counted. Once a package in
the export was destroyed, the page says only that the export is withdrawn, with
the destruction certificate's link: the names and digests of destroyed footage
are not the recipient's to read any more. The download
itself is ``/s/<token>/download``: the export is streamed as a ZIP from the
object store (:func:`longwatch.core.evidence.shares.stream_zip`), so this
server needs no folder in common with the worker that wrote it; nothing is
assembled in memory, and every download is also written to the access log. What a link is
(making, revoking, listing, the live-link lookup and the custody event of a
download) lives in :mod:`longwatch.core.evidence.shares`; links are made with
``longwatch share-export`` or on an export's page (``longwatch/web/exports.py``)
and listed and revoked here. An investigator lists and revokes only the links
they made; other links are not found for them.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from longwatch.core.evidence import shares
from longwatch.core.records import certificates
from longwatch.errors import LongwatchError
from longwatch.web import current_archive
from longwatch.web.security import client_address, current_user, public, record_access, requires

bp = Blueprint("shares", __name__)


def _refused(exc: LongwatchError) -> Any:
    status = 404 if exc.code == "E021" else 410
    response = current_app.make_response((render_template("error.html", error=exc, status=status), status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/s/<token>")
@public
def landing(token: str) -> Any:
    """What the link holds, before anything is downloaded: contents, sizes, how to verify, expiry."""
    archive = current_archive()
    try:
        row = shares.find_share(archive, token)
    except LongwatchError as exc:
        return _refused(exc)
    description = shares.export_description(archive, row)
    if description is None:
        abort(410)
    packages = shares.shared_packages(archive, row) or []
    gone = shares.destroyed_package(archive, packages)
    if gone is not None:  # nothing of its contents: their names and digests describe destroyed footage
        response = current_app.make_response((render_template(
            "share_withdrawn.html", row=row, export=description, tombstone=certificates.tombstone(archive, gone[0]),
            tz=archive.settings.tz), 410))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    files = description.get("files", []) + description.get("access_copies", [])
    verify = shares.verify_text(archive, row)
    response = current_app.make_response(render_template(
        "share_landing.html", row=row, export=description, files=files,
        total=sum(int(f.get("size", 0)) for f in files), verify=verify, token=token, tz=archive.settings.tz))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response


@bp.get("/s/<token>/download")
@public
def download(token: str) -> Any:
    archive = current_archive()
    try:
        row = shares.live_share(archive, token)
    except LongwatchError as exc:
        return _refused(exc)
    packages = shares.shared_packages(archive, row)
    if packages is None:
        abort(410)
    try:
        shares.refuse_destroyed(archive, packages)
    except LongwatchError as exc:
        return _refused(exc)
    name = f"export-{row.export_id}"
    if request.method == "HEAD":  # no byte goes out: no download, no transfer in the ledger
        response = Response(mimetype="application/zip")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.zip"'
        response.headers["Cache-Control"] = "no-store"
        return response
    shares.count_download(archive, row.id)
    shares.record_download(archive, row, packages, client_address())
    for pid in packages:
        record_access("export download", pid, detail=f"export {row.export_id}, share link {row.id}")
    response = Response(stream_with_context(shares.stream_zip(archive, row, name)),
                        mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.zip"'
    response.headers["Cache-Control"] = "no-store"
    return response


def visible_shares(archive: Any) -> list[dict[str, Any]]:
    """The links the signed-in user may see: all of them, or for a scoped role only those they made."""
    user = current_user()
    assert user is not None
    rows = shares.list_shares(archive)
    return [r for r in rows if r["created_by"] == user.username] if user.is_scoped else rows


@bp.get("/shares")
@requires("footage:read")
def shares_page() -> str:
    archive = current_archive()
    return render_template("shares.html", shares=visible_shares(archive), tz=archive.settings.tz)


@bp.post("/shares/<int:share_id>/revoke")
@requires("footage:read")
def revoke(share_id: int) -> Any:
    user = current_user()
    assert user is not None
    archive = current_archive()
    if user.is_scoped and share_id not in {r["id"] for r in visible_shares(archive)}:
        raise LongwatchError("W011", what=f"share link {share_id}")
    shares.revoke_share(archive, share_id)
    record_access("share link revoked", "", detail=f"share link {share_id} by {user.username}")
    return redirect(url_for("shares.shares_page"))


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
