"""``/api/v1``: custody proofs and checkpoints, events and their review, requests, the register, cameras, zones.

The custody views read the ledger through its public methods only
(``entry``, ``history``, ``checkpoints``, ``size``) and the package API
(``custody.prove_inclusion``): an auditor's script gets the same entry bytes,
RFC 9162 inclusion path and signed checkpoint as ``longwatch custody prove``,
and checks them offline. A package's history is shown only to someone who may
see the package. Events span cameras and keep a year of footage, so the
scoped roles neither list nor review them (W040).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, jsonify, request

from longwatch import clock
from longwatch.core import custody
from longwatch.core.catalog import reference
from longwatch.core.events import record as events
from longwatch.core.public import access_requests as req_api
from longwatch.core.public import operation_register
from longwatch.errors import LongwatchError
from longwatch.web import current_archive, numbers, queries
from longwatch.web.api import (
    DATE_TIME,
    ERRORS,
    NULLABLE_TIME,
    PACKAGE_ID,
    body_of,
    caller,
    json_body,
    jsonable,
    operation,
    param,
    text_of,
    time_arg,
)
from longwatch.web.security import requires

bp = Blueprint("api_custody", __name__, url_prefix="/api/v1")
_EVENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
ENTRY = {"type": "object", "required": ["seq", "entry", "line"], "properties": {
    "seq": {"type": "integer"}, "entry": {"type": "object"},
    "line": {"type": "string", "description": "the entry's exact bytes (UTF-8), as hashed into the tree"}}}
CHECKPOINT = {"type": "object", "required": ["tree_size", "root_hash", "time"], "properties": {
    "tree_size": {"type": "integer"}, "root_hash": _STR, "time": _STR, "origin": _STR, "note": _STR,
    "signature": {"type": "string", "description": "base64 CMS (DER) over the note"},
    "timestamp": {"type": ["string", "null"], "description": "base64 RFC 3161 token, if any"}}}
EVENT = {"type": "object", "required": ["id", "camera", "type", "status"], "properties": {
    "id": {"type": "integer"}, "package_id": _NULLABLE_STR, "camera": _STR, "type": _STR,
    "start_utc": _NULLABLE_STR, "end_utc": _NULLABLE_STR, "confidence": {"type": ["number", "null"]},
    "source": _NULLABLE_STR, "vendor_event_id": _NULLABLE_STR, "detector": {"type": ["object", "null"]},
    "boxes": {"type": "array"}, "zone": _NULLABLE_STR, "status": _STR, "reviewer": _NULLABLE_STR,
    "review_note": _NULLABLE_STR, "reviewed_at": _NULLABLE_STR, "window_package_id": _NULLABLE_STR}}
REQUEST = {"type": "object", "required": ["number", "kind", "status"], "properties": {
    "number": _STR, "kind": _STR, "status": _STR, "requester": _STR, "legal_basis": _STR, "reference": _STR,
    "claimed_start": NULLABLE_TIME, "claimed_end": NULLABLE_TIME, "claimed_place": _STR, "camera": _STR,
    "received": NULLABLE_TIME, "status_reason": _STR, "refusal_reason": _STR, "closed": NULLABLE_TIME,
    "packages": {"type": "array", "items": _STR}, "clock": {"type": "object"},
    "steps": {"type": "array", "items": {"type": "object"}}}}
CAMERA = {"type": "object", "required": ["id"], "properties": {
    "id": _STR, "name": _NULLABLE_STR, "vendor": _NULLABLE_STR, "model": _NULLABLE_STR, "zone": _NULLABLE_STR,
    "purpose": _NULLABLE_STR, "latitude": {"type": ["number", "null"]}, "longitude": {"type": ["number", "null"]},
    "address": _NULLABLE_STR, "tags": {"type": "array", "items": _STR}, "timezone": _NULLABLE_STR,
    "clock_offset_s": {"type": ["number", "null"]}, "positions": {"type": "array"}}}
ZONE = {"type": "object", "required": ["path"], "properties": {"path": _STR, "name": _NULLABLE_STR,
                                                               "kind": _NULLABLE_STR}}


def _ledger() -> custody.Ledger:
    return custody.Ledger.for_archive(current_archive())


def _entry_ref(ref: str) -> str | int:
    """A sequence number (ASCII digits the catalog can hold) or an event id; W012 for anything else."""
    if numbers.is_whole(ref):
        return int(ref)
    if ref.isdigit() or not _EVENT_ID.fullmatch(ref):  # '١٢٣', '²' or 40 digits: neither a number nor an id
        raise LongwatchError("W012", name="ref", detail="a sequence number or an event id")
    return ref


def _entry_dict(seq: int, entry: dict[str, Any], line: bytes) -> dict[str, Any]:
    return {"seq": seq, "entry": entry, "line": line.decode("utf-8")}


# -- custody -----------------------------------------------------------------------------------
_REF = param("ref", "path", {"type": "string", "minLength": 1, "maxLength": 64}, True,
              "the entry's sequence number or event id")


@bp.get("/custody/entries/<ref>")
@requires("catalog:read", scoped=False)
@operation("One custody-ledger entry, by sequence number or event id", ENTRY, [_REF], errors=ERRORS)
def custody_entry(ref: str) -> Any:
    return jsonify(_entry_dict(*_ledger().entry(_entry_ref(ref))))


@bp.get("/custody/entries/<ref>/proof")
@requires("catalog:read", scoped=False)
@operation("An RFC 9162 inclusion proof of an entry against the first signed checkpoint that covers it",
           {"type": "object", "required": ["leaf_index", "tree_size", "inclusion_path", "checkpoint"]}, [_REF],
           errors=ERRORS)
def custody_proof(ref: str) -> Any:
    return jsonify(custody.prove_inclusion(_ledger(), _entry_ref(ref)))


@bp.get("/custody/packages/<package_id>")
@requires("catalog:read")
@operation("A package's custody history, oldest first", {"type": "array", "items": ENTRY}, [PACKAGE_ID],
           errors=ERRORS)
def custody_history(package_id: str) -> Any:
    pkg = queries.visible_package(current_archive(), caller(), package_id)
    return jsonify([_entry_dict(*row) for row in _ledger().history(pkg.id)])


@bp.get("/custody/checkpoints")
@requires("catalog:read", scoped=False)
@operation("The ledger's size and its signed checkpoints, oldest first", {
    "type": "object", "required": ["size", "checkpoints"], "properties": {
        "size": {"type": "integer"}, "checkpoints": {"type": "array", "items": CHECKPOINT}}})
def custody_checkpoints() -> Any:
    ledger = _ledger()
    return jsonify({"size": ledger.size(), "checkpoints": [c.to_dict() for c in ledger.checkpoints()]})


# -- events and their review --------------------------------------------------------------------
_EVENT_PARAMS = [
    param("camera", "query", {"type": "string", "maxLength": 64}),
    param("type", "query", {"type": "string", "maxLength": 64}),
    param("status", "query", {"type": "string", "maxLength": 32}, text="e.g. new, confirmed, false_positive"),
    param("start", "query", DATE_TIME), param("end", "query", DATE_TIME),
    param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}),
]



@bp.get("/events")
@requires("catalog:read", scoped=False)
@operation("Detected and imported events, oldest first (the review queue: status=new)",
           {"type": "array", "items": EVENT}, _EVENT_PARAMS, errors=ERRORS)
def list_events() -> Any:
    text = (request.args.get("limit") or "100").strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 1000:
        raise LongwatchError("W012", name="limit", detail="a whole number from 1 to 1000")
    rows = events.query(current_archive(), camera=(request.args.get("camera") or "").strip() or None,
                        type=(request.args.get("type") or "").strip() or None, start=time_arg("start"),
                        end=time_arg("end"), status=(request.args.get("status") or "").strip() or None,
                        limit=int(text))
    return jsonify([events.event_dict(e) for e in rows])


_REVIEW = {"type": "object", "required": ["decision"], "properties": {
    "decision": {"enum": sorted(events.DECISIONS)}, "note": {"type": "string", "maxLength": 2000}}}


@bp.post("/events/<int:event_id>/review")
@requires("inquiry:write", scoped=False)
@operation("Review an event: confirm it or mark it a false positive (recorded in the custody ledger)", EVENT,
           [param("event_id", "path", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}, True)],
           errors=ERRORS, extra=body_of(_REVIEW))
def review_event(event_id: int) -> Any:
    data = json_body()
    decision = text_of(data, "decision", True, 32)
    row = events.review(current_archive(), event_id, decision, caller().username, text_of(data, "note", limit=2000))
    return jsonify(events.event_dict(row))


# -- requests and the register ------------------------------------------------------------------
def request_dict(req: Any, steps: bool = False) -> dict[str, Any]:
    archive = current_archive()
    out = {"number": req.number, "kind": req.kind, "status": req.status, "requester": req.requester,
           "legal_basis": req.legal_basis, "reference": req.reference,
           "claimed_start": clock.iso_z(req.claimed_start_utc), "claimed_end": clock.iso_z(req.claimed_end_utc),
           "claimed_place": req.claimed_place, "camera": req.camera, "received": clock.iso_z(req.received_at),
           "status_reason": req.status_reason, "refusal_reason": req.refusal_reason,
           "closed": clock.iso_z(req.closed_at), "packages": req_api.package_ids(req),
           "clock": req_api.clock(req, archive.settings.tz).to_dict()}
    if steps:
        out["steps"] = [{"time": clock.iso_z(s.time_utc), "step": s.step, "detail": s.detail, "actor": s.actor,
                         "ledger_event": s.ledger_event or None} for s in req.steps]
    return out


@bp.get("/requests")
@requires("requests:read")
@operation("Requests for footage (PIPA access, disclosure, police...) with their 10-day clocks, newest first",
           {"type": "array", "items": REQUEST},
           [param("status", "query", {"type": "string", "maxLength": 16}),
            param("kind", "query", {"type": "string", "maxLength": 32})], errors=ERRORS)
def list_requests() -> Any:
    rows = req_api.listing(current_archive(), (request.args.get("status") or "").strip(),
                           (request.args.get("kind") or "").strip())
    return jsonify([request_dict(r) for r in rows])


@bp.get("/requests/<number>")
@requires("requests:read")
@operation("One request with its steps", REQUEST,
           [param("number", "path", {"type": "string", "minLength": 1, "maxLength": 64}, True)],
           errors=ERRORS)
def get_request(number: str) -> Any:
    return jsonify(request_dict(req_api.get(current_archive(), number), steps=True))


@bp.get("/register")
@requires("register:read")
@operation("The CCTV operation register: recordings, viewings, provisions and destructions, oldest first",
           {"type": "array", "items": {"type": "object"}},
           [param("start", "query", DATE_TIME), param("end", "query", DATE_TIME),
            {**param("category", "query", {"type": "array", "items": {"type": "string", "maxLength": 32},
                                            "maxItems": 10}), "explode": True},
            param("text", "query", {"type": "string", "maxLength": 200})], errors=ERRORS)
def register() -> Any:
    rows = operation_register.build(current_archive(), start=time_arg("start"), end=time_arg("end"),
                                    categories=[c for c in request.args.getlist("category") if c.strip()],
                                    text=(request.args.get("text") or "")[:200])
    return jsonify([r.to_dict() for r in rows])


# -- cameras and zones --------------------------------------------------------------------------
@bp.get("/cameras")
@requires("catalog:read", scoped=False)
@operation("Cameras with their places over time", {"type": "array", "items": CAMERA})
def list_cameras() -> Any:
    return jsonify(jsonable(reference.list_cameras(current_archive().catalog)))


_NEW_CAMERA = {"type": "object", "required": ["id"], "properties": {
    "id": {"type": "string", "minLength": 1, "maxLength": 64}, "name": {"type": "string", "maxLength": 200},
    "zone": {"type": "string", "maxLength": 200}, "latitude": {"type": "number", "minimum": -90, "maximum": 90},
    "longitude": {"type": "number", "minimum": -180, "maximum": 180}, "address": {"type": "string", "maxLength": 500},
    "vendor": {"type": "string", "maxLength": 100}, "model": {"type": "string", "maxLength": 100},
    "purpose": {"type": "string", "maxLength": 64},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 50},
    "timezone": {"type": "string", "maxLength": 64}}}


def _number_of(data: dict[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise LongwatchError("W092", detail=f"{name} must be a number")
    return float(value)


@bp.post("/cameras")
@requires("cameras:write")
@operation("Add a camera, or update the one with this id", CAMERA, errors=ERRORS, status=201,
           extra=body_of(_NEW_CAMERA))
def add_camera() -> Any:
    data = json_body()
    tags = data.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise LongwatchError("W092", detail="tags must be a list of strings")
    camera = {"id": text_of(data, "id", True, 64), "name": text_of(data, "name", limit=200),
              "zone": text_of(data, "zone", limit=200), "latitude": _number_of(data, "latitude"),
              "longitude": _number_of(data, "longitude"), "address": text_of(data, "address", limit=500),
              "vendor": text_of(data, "vendor", limit=100), "model": text_of(data, "model", limit=100),
              "purpose": text_of(data, "purpose", limit=64), "tags": tags,
              "timezone": text_of(data, "timezone", limit=64)}
    if (camera["latitude"] is None) != (camera["longitude"] is None):
        raise LongwatchError("W092", detail="give latitude and longitude together")
    archive = current_archive()
    with archive.catalog.session() as s:
        saved = reference.camera_dict(reference.upsert_camera(s, camera))
    reference.save_snapshot(archive)
    return jsonify(jsonable(saved)), 201


@bp.get("/zones")
@requires("catalog:read", scoped=False)
@operation("Zones (paths such as seoul/jung/market), parents first", {"type": "array", "items": ZONE})
def list_zones() -> Any:
    return jsonify(jsonable(reference.list_zones(current_archive().catalog)))


_NEW_ZONE = {"type": "object", "required": ["path"], "properties": {
    "path": {"type": "string", "minLength": 1, "maxLength": 200}, "name": {"type": "string", "maxLength": 200},
    "kind": {"type": "string", "maxLength": 64}}}


@bp.post("/zones")
@requires("cameras:write")
@operation("Add a zone (its parents are added too)", ZONE, errors=ERRORS, status=201,
           extra=body_of(_NEW_ZONE))
def add_zone() -> Any:
    data = json_body()
    archive = current_archive()
    path = reference.normalize_zone(text_of(data, "path", True, 200))
    reference.add_zone(archive.catalog, path, text_of(data, "name", limit=200), text_of(data, "kind", limit=64))
    reference.save_snapshot(archive)
    found = [z for z in reference.list_zones(archive.catalog) if z.get("path") == path]
    return jsonify(jsonable(found[0] if found else {"path": path})), 201


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
