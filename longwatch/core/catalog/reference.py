"""Reference data: zones, purposes, the camera registry and cases.

Packages do not carry this data, yet ``reindex`` must rebuild the catalog from
storage alone; so every change is also written as one JSON document,
``catalog/reference.json``, on the primary storage location (see
:func:`save_snapshot`), and reindex reads it back.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from longwatch import clock
from longwatch.core.catalog.models import (
    Camera,
    CameraPosition,
    Case,
    CaseMember,
    CasePackage,
    CaseRange,
    Clip,
    Package,
    Purpose,
    Zone,
)
from longwatch.errors import LongwatchError
from longwatch.i18n import N_

if TYPE_CHECKING:
    from longwatch.core.catalog import Catalog  # the catalog package imports this module

SNAPSHOT_KEY = "catalog/reference.json"
SNAPSHOT_SCHEMA = "longwatch-reference/1"
ZONE_KINDS = ("district", "area", "site")
_CAMERA_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_CODE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_ZONE = 200


# -- checks ------------------------------------------------------------------------
def check_coordinates(lat: float | None, lon: float | None, raw: Any = None) -> None:
    if lat is None and lon is None:
        return
    if lat is None or lon is None or lat != lat or lon != lon or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise LongwatchError("Q002", value=raw if raw is not None else f"{lat},{lon}")


def parse_coordinates(value: str) -> tuple[float, float]:
    try:
        lat_text, lon_text = value.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError as exc:
        raise LongwatchError("Q015", field="coordinates", value=value,
                             detail="expected LAT,LON in decimal degrees") from exc
    check_coordinates(lat, lon, value)
    return lat, lon


def normalize_zone(path: str) -> str:
    """"Jung-gu / Market" -> "Jung-gu/Market": parts trimmed, empty parts refused."""
    parts = [p.strip() for p in path.split("/")]
    if not path.strip() or any(not p for p in parts) or len(path) > MAX_ZONE:
        raise LongwatchError("Q015", field="zone", value=path,
                             detail=f"use names joined by '/', e.g. Jung-gu/Market (at most {MAX_ZONE})")
    return "/".join(parts)


def normalize_tags(tags: Iterable[str]) -> str:
    clean = sorted({t.strip().lower() for t in tags if t.strip()})
    for tag in clean:
        if "," in tag or "%" in tag or "_" in tag or len(tag) > 64:
            raise LongwatchError("Q015", field="tag", value=tag, detail="no ',', '%' or '_', at most 64")
    return "," + ",".join(clean) + "," if clean else ""


def split_tags(stored: str) -> list[str]:
    return [t for t in stored.split(",") if t]


# -- zones -------------------------------------------------------------------------
def ensure_zone(s: Session, path: str, name: str = "", kind: str = "") -> Zone:
    """Create the zone and any missing ancestors (district > area > site)."""
    path = normalize_zone(path)
    parts = path.split("/")
    zone = None
    for depth in range(1, len(parts) + 1):
        sub = "/".join(parts[:depth])
        zone = s.get(Zone, sub)
        if zone is None:
            default_kind = ZONE_KINDS[depth - 1] if depth <= len(ZONE_KINDS) else "site"
            zone = Zone(path=sub, name=parts[depth - 1], parent="/".join(parts[: depth - 1]) or None,
                        kind=default_kind)
            s.add(zone)
            s.flush()
    assert zone is not None
    if name:
        zone.name = name
    if kind:
        zone.kind = kind
    return zone


def zone_subtree(s: Session, path: str) -> list[str]:
    """The zone and every zone below it; an unknown zone is an error (Q003)."""
    path = normalize_zone(path)
    if s.get(Zone, path) is None:
        raise LongwatchError("Q003", zone=path)
    found, frontier = [path], [path]
    while frontier:
        children = list(s.scalars(select(Zone.path).where(Zone.parent.in_(frontier))))
        found.extend(children)
        frontier = children
    return found


def list_zones(catalog: Catalog) -> list[dict[str, Any]]:
    """Every zone, by path: read as plain rows (the search form lists them all on every page)."""
    with catalog.session() as s:
        rows = s.execute(select(Zone.path, Zone.name, Zone.parent, Zone.kind).order_by(Zone.path))
        return [{"path": path, "name": name, "parent": parent, "kind": kind} for path, name, parent, kind in rows]


def add_zone(catalog: Catalog, path: str, name: str = "", kind: str = "") -> None:
    if kind and kind not in ZONE_KINDS:
        raise LongwatchError("Q015", field="kind", value=kind, detail="use " + ", ".join(ZONE_KINDS))
    with catalog.session() as s:
        ensure_zone(s, path, name, kind)


def remove_zone(catalog: Catalog, path: str) -> None:
    with catalog.session() as s:
        zone = s.get(Zone, normalize_zone(path))
        if zone is None:
            raise LongwatchError("Q003", zone=path)
        s.execute(delete(Zone).where(Zone.path.in_(zone_subtree(s, path))))


# -- purposes ------------------------------------------------------------------------
#: The built-in purposes' names, English msgids: shown in the reader's language while the name is unchanged.
DEFAULT_PURPOSES = {
    "traffic": N_("Traffic"), "crime-prevention": N_("Crime prevention"), "disaster": N_("Disaster watch"),
    "facility": N_("Facility management"), "parks": N_("Parks"), "fire": N_("Fire watch"),
}


def add_purpose(catalog: Catalog, code: str, name: str = "") -> None:
    if not _CODE.match(code):
        raise LongwatchError("Q015", field="purpose", value=code, detail="letters, digits, '.', '_', '-'")
    with catalog.session() as s:
        row = s.get(Purpose, code) or Purpose(code=code)
        row.name = name or row.name or code
        s.add(row)


def list_purposes(catalog: Catalog) -> list[dict[str, str]]:
    with catalog.session() as s:
        return [{"code": p.code, "name": p.name} for p in s.scalars(select(Purpose).order_by(Purpose.code))]


# -- cameras -------------------------------------------------------------------------
CAMERA_FIELDS = ("id", "name", "vendor", "model", "zone", "purpose", "latitude", "longitude", "address", "tags",
                 "timezone", "clock_offset_s")


def camera_dict(c: Camera) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "vendor": c.vendor, "model": c.model, "zone": c.zone,
            "purpose": c.purpose, "latitude": c.latitude, "longitude": c.longitude, "address": c.address,
            "tags": split_tags(c.tags), "timezone": c.timezone, "clock_offset_s": c.clock_offset_s,
            "positions": [{"valid_from": p.valid_from, "valid_to": p.valid_to, "zone": p.zone,
                           "latitude": p.latitude, "longitude": p.longitude, "address": p.address,
                           "note": p.note} for p in c.positions]}


def upsert_camera(s: Session, data: dict[str, Any]) -> Camera:
    """Add or update a camera; its current place opens a position period when it is new."""
    cam_id = str(data.get("id", "")).strip()
    if not _CAMERA_ID.match(cam_id):
        raise LongwatchError("I009", value=cam_id)
    lat, lon = data.get("latitude"), data.get("longitude")
    lat = float(lat) if lat not in (None, "") else None
    lon = float(lon) if lon not in (None, "") else None
    check_coordinates(lat, lon)
    zone = normalize_zone(data["zone"]) if data.get("zone") else ""
    if zone:
        ensure_zone(s, zone)
    purpose = str(data.get("purpose") or "")
    if purpose and s.get(Purpose, purpose) is None:
        if not _CODE.match(purpose):
            raise LongwatchError("Q015", field="purpose", value=purpose, detail="letters, digits, '.', '_', '-'")
        s.add(Purpose(code=purpose, name=DEFAULT_PURPOSES.get(purpose, purpose)))
    cam = s.get(Camera, cam_id)
    if cam is None:
        cam = Camera(id=cam_id, name="", vendor="", model="", zone="", purpose="", address="", tags="",
                     timezone="", clock_offset_s=0.0)
        s.add(cam)
    cam.name = str(data.get("name") or cam.name or "")
    cam.vendor = str(data.get("vendor") or cam.vendor or "")
    cam.model = str(data.get("model") or cam.model or "")
    cam.zone, cam.purpose = zone or cam.zone, purpose or cam.purpose
    if lat is not None:
        cam.latitude, cam.longitude = lat, lon
    cam.address = str(data.get("address") or cam.address or "")
    if data.get("tags") is not None:
        tags = data["tags"]
        cam.tags = normalize_tags(tags.replace(";", ",").split(",") if isinstance(tags, str) else tags)
    cam.timezone = str(data.get("timezone") or cam.timezone or "")
    if data.get("clock_offset_s") not in (None, ""):
        cam.clock_offset_s = float(data["clock_offset_s"])
    s.flush()
    return cam


def move_camera(catalog: Catalog, cam_id: str, at: datetime, zone: str = "", latitude: float | None = None,
                longitude: float | None = None, address: str = "", note: str = "") -> None:
    """Close the camera's current position at ``at`` and open a new one (a move or a replacement)."""
    check_coordinates(latitude, longitude)
    with catalog.session() as s:
        cam = s.get(Camera, cam_id)
        if cam is None:
            raise LongwatchError("Q009", camera=cam_id)
        if zone:
            zone = normalize_zone(zone)
            ensure_zone(s, zone)
        current = [p for p in cam.positions if p.valid_to is None]
        if not cam.positions:  # the registered place held until now
            s.add(CameraPosition(camera_id=cam.id, valid_from=None, valid_to=at, zone=cam.zone,
                                 latitude=cam.latitude, longitude=cam.longitude, address=cam.address, note=""))
        for p in current:
            if p.valid_from is not None and p.valid_from >= at:
                raise LongwatchError("Q001", start=p.valid_from.isoformat(), end=at.isoformat())
            p.valid_to = at
        cam.zone = zone or cam.zone
        if latitude is not None:
            cam.latitude, cam.longitude = latitude, longitude
        cam.address = address or cam.address
        s.add(CameraPosition(camera_id=cam.id, valid_from=at, valid_to=None, zone=cam.zone,
                             latitude=cam.latitude, longitude=cam.longitude, address=cam.address, note=note))


def camera_at(catalog: Catalog, cam_id: str, when: datetime | None) -> dict[str, Any] | None:
    """Where the camera was at ``when`` (its position period, else its registered place)."""
    with catalog.session() as s:
        cam = s.get(Camera, cam_id)
        if cam is None:
            return None
        place = {"zone": cam.zone, "latitude": cam.latitude, "longitude": cam.longitude, "address": cam.address,
                 "clock_offset_s": cam.clock_offset_s}
        for p in cam.positions:
            if when is not None and (p.valid_from is None or p.valid_from <= when) and (
                    p.valid_to is None or when < p.valid_to):
                place.update(zone=p.zone, latitude=p.latitude, longitude=p.longitude, address=p.address)
        return place


def list_cameras(catalog: Catalog) -> list[dict[str, Any]]:
    with catalog.session() as s:
        # positions in one more query, not one per camera (the cameras page lists thousands)
        return [camera_dict(c) for c in s.scalars(select(Camera).options(selectinload(Camera.positions))
                                                  .order_by(Camera.id))]


def import_cameras_csv(catalog: Catalog, path: Path) -> int:
    """Columns id,name,zone,latitude,longitude,address (a 'coordinates' column "LAT,LON" also works);
    optional vendor, model, purpose, tags (';'-separated), timezone, clock_offset_s. All or nothing."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LongwatchError("Q012", path=path, line=0, detail=str(exc)) from exc
    return import_cameras_text(catalog, text, str(path))


def import_cameras_text(catalog: Catalog, text: str, source: str) -> int:
    """The CSV of :func:`import_cameras_csv` already read (a file uploaded on the cameras page); ``source``
    names it in errors. One transaction: a bad row (Q012, with its line) imports nothing."""
    text = text.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "id" not in [f.strip().lower() for f in reader.fieldnames]:
        raise LongwatchError("Q012", path=source, line=1, detail="the header must name at least an 'id' column")
    count = 0
    with catalog.session() as s:
        for row in reader:
            line = reader.line_num
            data = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
            if data.get("coordinates"):
                try:
                    data["latitude"], data["longitude"] = data["coordinates"].split(",")
                except ValueError:
                    raise LongwatchError("Q012", path=source, line=line,
                                         detail="coordinates must be LAT,LON") from None
            try:
                for key in ("latitude", "longitude", "clock_offset_s"):
                    if data.get(key):
                        float(data[key])
                upsert_camera(s, data)
            except ValueError as exc:
                raise LongwatchError("Q012", path=source, line=line, detail=str(exc)) from exc
            except LongwatchError as exc:
                raise LongwatchError("Q012", path=source, line=line, detail=exc.render()) from exc
            count += 1
    return count


# -- cases ---------------------------------------------------------------------------
def get_case(s: Session, number: str) -> Case:
    case = s.scalars(select(Case).where(Case.number == number)).first()
    if case is None:
        raise LongwatchError("Q010", number=number)
    return case


def add_case(catalog: Catalog, number: str, title: str = "", requester: str = "", notes: str = "",
             now: datetime | None = None) -> None:
    if not number.strip() or len(number) > 64:
        raise LongwatchError("Q015", field="case number", value=number, detail="1 to 64 characters")
    with catalog.session() as s:
        if s.scalars(select(Case.id).where(Case.number == number)).first() is not None:
            raise LongwatchError("Q011", number=number)
        s.add(Case(number=number, title=title, requester=requester, notes=notes,
                   created_at=now or clock.now()))


def attach_packages(catalog: Catalog, number: str, package_ids: Iterable[str]) -> int:
    added = 0
    with catalog.session() as s:
        case = get_case(s, number)
        for pid in package_ids:
            if s.get(Package, pid) is None:
                raise LongwatchError("I008", package_id=pid)
            if s.get(CasePackage, (case.id, pid)) is None:
                s.add(CasePackage(case_id=case.id, package_id=pid))
                added += 1
    return added


def attach_range(catalog: Catalog, number: str, start: datetime, end: datetime, camera: str = "") -> int:
    """Record the requested range and attach every package with a clip overlapping it."""
    if end <= start:
        raise LongwatchError("Q001", start=start.isoformat(), end=end.isoformat())
    with catalog.session() as s:
        case = get_case(s, number)
        s.add(CaseRange(case_id=case.id, camera=camera, start_utc=start, end_utc=end))
        query = select(Clip.package_id).where(Clip.start_utc < end, Clip.end_utc > start)
        if camera:
            query = query.where(Clip.camera == camera)
        ids = sorted(set(s.scalars(query)))
    return attach_packages(catalog, number, ids)


def list_cases(catalog: Catalog, number: str | None = None) -> list[dict[str, Any]]:
    """Every case by number, or only the case ``number`` (empty when there is none)."""
    with catalog.session() as s:
        rows = []
        query = select(Case).order_by(Case.number)
        if number is not None:
            query = query.where(Case.number == number)
        for c in s.scalars(query):
            packages = sorted(s.scalars(select(CasePackage.package_id).where(CasePackage.case_id == c.id)))
            ranges = [{"camera": r.camera, "start": r.start_utc, "end": r.end_utc}
                      for r in s.scalars(select(CaseRange).where(CaseRange.case_id == c.id).order_by(CaseRange.id))]
            members = sorted(s.scalars(select(CaseMember.username).where(CaseMember.case_id == c.id)))
            rows.append({"number": c.number, "title": c.title, "requester": c.requester, "notes": c.notes,
                         "created": c.created_at, "packages": packages, "ranges": ranges, "members": members})
        return rows


def share_case(catalog: Catalog, number: str, username: str, granted_by: str = "",
               now: datetime | None = None) -> bool:
    """Share a case with a named account (an investigator then sees it and its footage); False if it already was."""
    with catalog.session() as s:
        case = get_case(s, number)
        if s.get(CaseMember, (case.id, username)) is not None:
            return False
        s.add(CaseMember(case_id=case.id, username=username, granted_by=granted_by, granted_at=now or clock.now()))
        return True


def add_case_note(catalog: Catalog, number: str, author: str, text: str, at: datetime | None = None) -> str:
    """Append a note to a case: one line "ISO-time<TAB>author<TAB>text" (the inquiry's pinned notes, the same form).

    ``at`` is the moment the note is about (the inquiry pins it to footage), else now. Returns the line.
    """
    words = " ".join(text.split())
    if not words:
        raise LongwatchError("Q015", field="note", value=text[:40], detail="the note is empty")
    when = (at or clock.now()).astimezone(UTC).isoformat().replace("+00:00", "Z")
    line = f"{when}\t{author}\t{words}"
    with catalog.session() as s:
        case = get_case(s, number)
        case.notes = (case.notes + "\n" if case.notes else "") + line
    return line


def unshare_case(catalog: Catalog, number: str, username: str) -> bool:
    """Stop sharing a case with an account; False if it was not shared with them."""
    with catalog.session() as s:
        case = get_case(s, number)
        member = s.get(CaseMember, (case.id, username))
        if member is None:
            return False
        s.delete(member)
        return True


# -- the snapshot on storage -----------------------------------------------------------
def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def export_reference(catalog: Catalog) -> dict[str, Any]:
    cameras = list_cameras(catalog)
    for cam in cameras:
        for p in cam["positions"]:
            p["valid_from"], p["valid_to"] = clock.iso_z(p["valid_from"]), clock.iso_z(p["valid_to"])
    cases = list_cases(catalog)
    for case in cases:
        case["created"] = clock.iso_z(case["created"])
        for r in case["ranges"]:
            r["start"], r["end"] = clock.iso_z(r["start"]), clock.iso_z(r["end"])
    return {"schema": SNAPSHOT_SCHEMA, "zones": list_zones(catalog), "purposes": list_purposes(catalog),
            "cameras": cameras, "cases": cases}


def import_reference(catalog: Catalog, data: dict[str, Any], known_packages: set[str]) -> None:
    """Restore a snapshot; case links to packages that are no longer on storage are dropped."""
    with catalog.session() as s:
        for z in data.get("zones", []):
            ensure_zone(s, z["path"], z.get("name", ""), z.get("kind", ""))
        for p in data.get("purposes", []):
            s.merge(Purpose(code=p["code"], name=p.get("name", "")))
        for cam in data.get("cameras", []):
            row = upsert_camera(s, {**cam, "tags": cam.get("tags", [])})
            s.execute(delete(CameraPosition).where(CameraPosition.camera_id == row.id))
            for p in cam.get("positions", []):
                s.add(CameraPosition(camera_id=row.id, valid_from=_time(p.get("valid_from")),
                                     valid_to=_time(p.get("valid_to")), zone=p.get("zone", ""),
                                     latitude=p.get("latitude"), longitude=p.get("longitude"),
                                     address=p.get("address", ""), note=p.get("note", "")))
        for c in data.get("cases", []):
            case = s.scalars(select(Case).where(Case.number == c["number"])).first()
            if case is None:
                case = Case(number=c["number"], title=c.get("title", ""), requester=c.get("requester", ""),
                            notes=c.get("notes", ""), created_at=_time(c.get("created")))
                s.add(case)
                s.flush()
            for pid in c.get("packages", []):
                if pid in known_packages and s.get(CasePackage, (case.id, pid)) is None:
                    s.add(CasePackage(case_id=case.id, package_id=pid))
            for username in c.get("members", []):
                if s.get(CaseMember, (case.id, username)) is None:
                    s.add(CaseMember(case_id=case.id, username=username, granted_by="", granted_at=None))
            for r in c.get("ranges", []):
                s.add(CaseRange(case_id=case.id, camera=r.get("camera", ""), start_utc=_time(r["start"]),
                                end_utc=_time(r["end"])))


def save_snapshot(archive: Any) -> None:
    """Write the reference data next to the packages, so ``reindex`` can restore it."""
    body = json.dumps(export_reference(archive.catalog), ensure_ascii=False, indent=1, sort_keys=True,
                      default=str).encode("utf-8")
    archive.storage().put(SNAPSHOT_KEY, io.BytesIO(body))


def load_snapshot(archive: Any) -> dict[str, Any] | None:
    storage = archive.storage()
    try:
        with storage.open(SNAPSHOT_KEY) as fh:
            data = json.loads(fh.read().decode("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LongwatchError("Q016", package_id=SNAPSHOT_KEY, detail=str(exc)) from exc
    return data if isinstance(data, dict) and data.get("schema") == SNAPSHOT_SCHEMA else None
