"""Built-in web plugin: the camera registry (zone, place, status and gaps per camera), add, move, CSV import.

The page reads and writes through :mod:`longwatch.core.catalog.reference`,
the same functions as ``longwatch cameras add|move|import``, and saves the
reference snapshot afterwards (``reindex`` restores the registry from it).
A CSV import is all or nothing: a bad row is shown beside the file field
with its line, and no camera of the file is added. The registered cameras
with a place are drawn on a map (:mod:`longwatch.web.maps`) above the table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, request, url_for

from longwatch import clock
from longwatch.core.catalog import reference
from longwatch.core.preservation import gaps
from longwatch.errors import LongwatchError
from longwatch.i18n import N_
from longwatch.web import current_archive, maps
from longwatch.web.forms import FORM, errors_for
from longwatch.web.security import current_user, requires

bp = Blueprint("cameras", __name__)

#: A camera whose newest footage ended longer ago than this is shown as silent.
SILENT_AFTER = timedelta(hours=1)
STATUS_LABELS = {"recording": N_("recording"), "silent": N_("silent"), "no footage": N_("no footage yet")}
ADD_FIELDS = ("camera_id", "name", "zone", "location", "address", "purpose", "tags")
MOVE_FIELDS = ("move_camera", "at", "move_zone", "move_location", "move_address", "note")
#: Q015 names what is wrong by what it is; the form's field for it
Q015_FIELDS = {"coordinates": "location", "zone": "zone", "tag": "tags", "purpose": "purpose"}
MAX_CSV = 4 << 20


def _status(last: datetime | None, now: datetime) -> str:
    if last is None:
        return "no footage"
    return "recording" if now - last <= SILENT_AFTER else "silent"


def _errors(exc: LongwatchError, fields: tuple[str, ...], prefix: str = "") -> dict[str, LongwatchError]:
    if exc.code == "Q015":
        field = prefix + Q015_FIELDS.get(str(exc.context.get("field", "")), "")
        if field in fields:
            return {field: exc}
    if exc.code in ("I003", "Q001"):
        return {"at": exc} if "at" in fields else {FORM: exc}
    found = errors_for(exc, [f.removeprefix(prefix) for f in fields])
    return {(prefix + k if k != FORM else k): v for k, v in found.items()}


def _page(status: int = 200, errors: dict[str, LongwatchError] | None = None,
          values: dict[str, str] | None = None, imported: int | None = None) -> tuple[str, int]:
    archive = current_archive()
    user = current_user()
    assert user is not None
    now = clock.now()
    footage = gaps.per_camera(archive.catalog)
    rows = []
    registered = reference.list_cameras(archive.catalog)
    known = {cam["id"] for cam in registered}
    # cameras whose footage or gaps the archive holds but the registry lacks: listed, to be added
    unregistered: list[dict[str, Any]] = [
        {"id": name, "name": "", "zone": "", "address": "", "latitude": None, "longitude": None, "positions": [],
         "registered": False} for name in sorted(set(footage) - known) if name]
    for cam in [*({**c, "registered": True} for c in registered), *unregistered]:
        seen = footage.get(cam["id"])
        last = seen.last_footage if seen else None
        rows.append({**cam, "status": _status(last, now), "last_footage": last,
                     "gaps": seen.gaps if seen else 0, "last_gap": seen.last_gap_start if seen else None})
    return render_template("cameras.html", cameras=rows, zones=reference.list_zones(archive.catalog),
                           statuses=STATUS_LABELS, can_write=user.can("cameras:write"), errors=errors or {},
                           values=values or {}, imported=imported, tz=archive.settings.tz,
                           map_config=maps.config(archive.settings, archive.root, [
                               p for c in registered if (p := maps.point(c)) is not None], mode="cameras")), status


@bp.get("/cameras")
@requires("catalog:read", scoped=False)
def listing() -> tuple[str, int]:
    imported = request.args.get("imported", "")
    return _page(imported=int(imported) if imported.isascii() and imported.isdigit() and len(imported) < 9 else None)


def _coordinates(text: str) -> tuple[float | None, float | None]:
    return reference.parse_coordinates(text) if text.strip() else (None, None)


@bp.post("/cameras")
@requires("cameras:write", scoped=False)
def add() -> Any:
    """Add a camera, or update the one with this id (its place stays; a move is recorded below)."""
    archive = current_archive()
    values = {f: request.form.get(f, "").strip() for f in ADD_FIELDS}
    try:
        lat, lon = _coordinates(values["location"])
        with archive.catalog.session() as s:
            reference.upsert_camera(s, {"id": values["camera_id"], "name": values["name"], "zone": values["zone"],
                                        "latitude": lat, "longitude": lon, "address": values["address"],
                                        "purpose": values["purpose"],
                                        "tags": values["tags"] if values["tags"] else None})
    except LongwatchError as exc:
        return _page(400, _errors(exc, ADD_FIELDS), values)
    reference.save_snapshot(archive)
    return redirect(url_for("cameras.listing") + f"#camera-{values['camera_id']}")


def local_time(text: str, tz: ZoneInfo) -> datetime:
    """A time from the form: ISO 8601 with an offset, or the picker's local time (no zone), read in the
    archive's time zone."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return clock.parse_time(value)  # I003, as typed
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=tz).astimezone(UTC)
    return clock.parse_time(value)


@bp.post("/cameras/move")
@requires("cameras:write", scoped=False)
def move() -> Any:
    """Record that a camera moved (or was replaced) at a time: footage after it gets the new place."""
    archive = current_archive()
    values = {f: request.form.get(f, "").strip() for f in MOVE_FIELDS}
    try:
        if not values["move_camera"]:
            raise LongwatchError("Q009", camera="")
        at = local_time(values["at"], archive.settings.tz)
        lat, lon = _coordinates(values["move_location"])
        reference.move_camera(archive.catalog, values["move_camera"], at, zone=values["move_zone"], latitude=lat,
                              longitude=lon, address=values["move_address"], note=values["note"])
    except LongwatchError as exc:
        found = _errors(exc, MOVE_FIELDS, "move_")
        if exc.code == "Q009":
            found = {"move_camera": exc}
        return _page(400, found, values)
    reference.save_snapshot(archive)
    return redirect(url_for("cameras.listing") + f"#camera-{values['move_camera']}")


@bp.post("/cameras/import")
@requires("cameras:write", scoped=False)
def import_csv() -> Any:
    """A CSV of cameras (the columns of ``longwatch cameras import``), all or nothing."""
    archive = current_archive()
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise LongwatchError("W085")
        data = upload.stream.read(MAX_CSV + 1)
        if len(data) > MAX_CSV:
            raise LongwatchError("Q012", path=upload.filename, line=0, detail=f"larger than {MAX_CSV} bytes")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LongwatchError("Q012", path=upload.filename, line=0, detail=f"not UTF-8 text ({exc})") from exc
        count = reference.import_cameras_text(archive.catalog, text, upload.filename)
    except LongwatchError as exc:
        return _page(400, {"file": exc})
    reference.save_snapshot(archive)
    return redirect(url_for("cameras.listing", imported=count))


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
