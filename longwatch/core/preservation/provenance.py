"""Where footage came from: a camera, or a person's upload that is only *claimed* to be a camera's (issue 22).

Why: "Uploads are recorded as uploads by that account, never as a camera's
recording unless a role that may do so confirms it." A file anyone uploads
through the web or ``/api/v1/uploads`` may name a camera; filed as that
camera's recording it would go out in the camera's range exports to court.
So the package itself says what it is (the package is the truth):
bag-info.txt carries ``Longwatch-Origin: upload``, ``Longwatch-Uploaded-By``
and ``Longwatch-Claimed-Camera`` instead of ``Longwatch-Camera``, and the
PREMIS ingestion event names the account as its agent. The catalog keeps
``camera`` empty for it, so camera searches and range exports never take it,
until a records manager or an administrator (:data:`CONFIRM_PERMISSION`)
confirms it as a camera's recording: a decision, journaled to the custody
ledger with the package row (:mod:`longwatch.core.catalog.journal`) and
replayed by ``reindex``. The package bytes are never rewritten. No role files
an upload as a camera's recording directly (:data:`DIRECT_ROLES` is empty):
every web role is a person at a desk, not a recorder.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from longwatch import clock
from longwatch.core import permissions
from longwatch.core.archive import Archive
from longwatch.core.catalog import reference
from longwatch.core.catalog.models import Clip, Package
from longwatch.errors import LongwatchError
from longwatch.i18n import gettext

ORIGIN = "Longwatch-Origin"
UPLOADED_BY = "Longwatch-Uploaded-By"
CLAIMED_CAMERA = "Longwatch-Claimed-Camera"

#: Roles whose uploads are filed as the named camera's recording at once. None: an upload of any web role is
#: an upload until confirmed, so that nobody's file is a camera's footage on their word alone.
DIRECT_ROLES: frozenset[str] = frozenset()

#: Who may confirm an upload as a camera's recording: the roles that decide about records (records managers,
#: administrators), not the operators who upload.
CONFIRM_PERMISSION = "records:write"


def bag_info(uploaded_by: str, claimed_camera: str) -> list[tuple[str, str]]:
    """The bag-info.txt fields of an upload's package."""
    return [(ORIGIN, "upload"), (UPLOADED_BY, uploaded_by), (CLAIMED_CAMERA, claimed_camera)]


def columns(info: Mapping[str, str]) -> dict[str, str]:
    """The catalog's provenance columns from a package's bag-info fields (a package without them is a camera's)."""
    if info.get(ORIGIN, "camera") != "upload":
        return {"origin": "camera", "uploaded_by": "", "claimed_camera": ""}
    return {"origin": "upload", "uploaded_by": info.get(UPLOADED_BY, ""),
            "claimed_camera": info.get(CLAIMED_CAMERA, "")}


def confirm(archive: Archive, package_id: str, username: str, role: str, camera: str = "",
            now: datetime | None = None) -> Package:
    """Confirm an upload as ``camera``'s recording (default: the camera it claims) over the range it claims.

    W009 when the role may not; W011 when there is no such package; W042 when it is no upload awaiting
    confirmation (a camera's own, or confirmed already); W041 when destroyed. The package row's new camera
    and the confirmation reach the ledger through the catalog journal in the same transaction.
    """
    if not permissions.has_permission(role, CONFIRM_PERMISSION):
        raise LongwatchError("W009", role=role, permission="confirm an upload as a camera's recording")
    with archive.catalog.session() as session:
        row = session.get(Package, package_id)
        if row is None:
            raise LongwatchError("W011", what=f"package {package_id}")
        if row.status in ("disposing", "disposed"):
            raise LongwatchError("W041", package_id=row.id, status=row.status)
        if row.origin != "upload" or row.confirmed_at is not None:
            raise LongwatchError("W042", package_id=row.id, state=describe(row, translate=False))
        camera = camera or row.claimed_camera
        if not camera:
            raise LongwatchError("W042", package_id=row.id, state="it names no camera; name one")
        if camera != row.claimed_camera and reference.camera_at(archive.catalog, camera, None) is None:
            raise LongwatchError("W011", what=f"camera {camera[:64]}")  # another camera: a registered one
        row.camera = camera
        row.confirmed_by = username
        row.confirmed_at = now or clock.now()
        for clip in session.query(Clip).filter(Clip.package_id == package_id):
            clip.camera = camera
        session.flush()
        session.expunge(row)
    found = archive.catalog.get(package_id)
    assert found is not None
    return found


def mark_uploads(archive: Archive, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Search hits (dicts with ``package_id``) with their origin: ``upload`` hits also say whose and whether
    confirmed, so a list never shows an upload as a camera's recording. One query per page of hits."""
    ids = sorted({str(i["package_id"]) for i in items})
    with archive.catalog.session() as session:
        found = {r.id: r for r in session.execute(
            select(Package.id, Package.uploaded_by, Package.claimed_camera, Package.confirmed_at)
            .where(Package.id.in_(ids), Package.origin == "upload"))} if ids else {}
    for item in items:
        row = found.get(str(item["package_id"]))
        item["origin"] = "upload" if row is not None else "camera"
        if row is not None:
            item.update(uploaded_by=row.uploaded_by, claimed_camera=row.claimed_camera,
                        confirmed=row.confirmed_at is not None)
    return items


def export_fields(row: Package) -> dict[str, str]:
    """What an export's description says of a package's origin: nothing more for a camera's recording; an
    upload names its account and, once confirmed, who confirmed it and when (the report shows both)."""
    if row.origin != "upload":
        return {"origin": "camera"}
    return {"origin": "upload", "uploaded_by": row.uploaded_by, "claimed_camera": row.claimed_camera,
            "confirmed_by": row.confirmed_by,
            "confirmed_at": row.confirmed_at.isoformat().replace("+00:00", "Z") if row.confirmed_at else ""}


def describe(row: Package, translate: bool = True) -> str:
    """How a package's origin reads to people: an upload says whose, and whether confirmed."""
    def _(text: str) -> str:
        return gettext(text) if translate else text

    if row.origin != "upload":
        return _("camera recording")
    if row.confirmed_at is None:
        return _("upload by {account}, unconfirmed").format(account=row.uploaded_by or "?")
    return _("upload by {account}, confirmed as {camera}'s recording by {confirmer}").format(
        account=row.uploaded_by or "?", camera=row.camera, confirmer=row.confirmed_by or "?")
