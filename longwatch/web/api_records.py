"""``/api/v1``: search, legal holds and dispositions (the records manager's and the searcher's work).

Search takes every filter of :mod:`longwatch.core.catalog.search` and pages by
keyset (an opaque ``after`` cursor, ``next`` in the answer), so a page is as
fast on the millionth clip as on the first and no clip is shown twice or
skipped while new footage arrives. An investigator searches only inside a
case shared with them. Holds and dispositions call :mod:`longwatch.core.records`;
the two-person rule, the hold checks and the ledger entries all live there.
Executing a disposition is a job (``core/records/tasks.py``): on PostgreSQL the
answer is the job's id, on the embedded catalog the job's result.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for

from longwatch import clock
from longwatch.core.catalog import reference, saved_searches
from longwatch.core.catalog import search as search_api
from longwatch.core.catalog.models import Disposition, DispositionItem
from longwatch.core.jobs import queue as jobs
from longwatch.core.preservation import provenance
from longwatch.core.records import dispositions, holds
from longwatch.core.records.tasks import enqueue_disposition
from longwatch.errors import LongwatchError
from longwatch.web import current_archive, numbers, queries
from longwatch.web.api import (
    DATE_TIME,
    ERRORS,
    JOB,
    NULLABLE_TIME,
    acting,
    body_of,
    caller,
    job_answer,
    json_body,
    jsonable,
    list_of,
    operation,
    param,
    text_of,
    time_arg,
    time_of,
)
from longwatch.web.security import requires

bp = Blueprint("api_records", __name__, url_prefix="/api/v1")

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
HIT = {"type": "object", "required": ["clip_id", "package_id", "camera", "start"], "properties": {
    "clip_id": {"type": "integer"}, "package_id": _STR, "camera": _STR, "zone": _STR, "start": NULLABLE_TIME,
    "end": NULLABLE_TIME, "duration": {"type": ["number", "null"]}, "title": _NULLABLE_STR,
    "location_name": _NULLABLE_STR, "latitude": {"type": ["number", "null"]},
    "longitude": {"type": ["number", "null"]}, "path": _STR, "size": {"type": ["integer", "null"]},
    "sha256": _NULLABLE_STR, "codec": _NULLABLE_STR, "status": _STR,
    "origin": {"enum": ["camera", "upload"], "description": "an upload is no camera's recording until confirmed"},
    "uploaded_by": _STR, "claimed_camera": _STR, "confirmed": {"type": "boolean"}}}
SEARCH_PAGE = {"type": "object", "required": ["items", "next"], "properties": {
    "items": {"type": "array", "items": HIT},
    "next": {"type": ["string", "null"], "description": "the cursor of the next page (pass it as after)"},
    "next_url": _NULLABLE_STR}}
HOLD = {"type": "object", "required": ["hold_id", "kind", "owner", "reason", "placed_by"], "properties": {
    "hold_id": _STR, "kind": {"enum": list(holds.HOLD_KINDS)}, "package_id": _NULLABLE_STR,
    "case_id": _NULLABLE_STR, "camera": _NULLABLE_STR, "start": NULLABLE_TIME, "end": NULLABLE_TIME,
    "search": {"type": ["object", "null"]}, "owner": _STR, "reason": _STR, "review": NULLABLE_TIME,
    "placed_by": _STR, "placed_at": NULLABLE_TIME, "released_at": NULLABLE_TIME,
    "released_by": _NULLABLE_STR, "release_reason": _NULLABLE_STR}}
DISPOSITION = {"type": "object", "required": ["disposition_id", "status", "proposer"], "properties": {
    "disposition_id": _STR, "status": _STR, "schedule_id": _STR, "proposer": _STR, "proposer_role": _STR,
    "proposed_at": NULLABLE_TIME, "approver": _NULLABLE_STR, "approver_role": _NULLABLE_STR,
    "approved_at": NULLABLE_TIME, "executed_at": NULLABLE_TIME, "certificate": _NULLABLE_STR,
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "package_id": _STR, "record_class": _STR, "status": _STR, "size": {"type": ["integer", "null"]}}}}}}
DISPOSITION_ID = param("disposition_id", "path", {"type": "string", "maxLength": 36}, True,
                        "disposition id (or a unique prefix)")
HOLD_ID = param("hold_id", "path", {"type": "string", "maxLength": 36}, True, "hold id (or a unique prefix)")


# -- search -----------------------------------------------------------------------------------
def _number(name: str, cast: type = float) -> Any:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    if cast is int and not numbers.is_whole(text):  # '１２３' or 40 digits: not a number the catalog holds
        raise LongwatchError("W012", name=name, detail="not a whole number")
    if not text.isascii():
        raise LongwatchError("W012", name=name, detail="not a number")
    try:
        value = cast(text)
    except ValueError as exc:
        raise LongwatchError("W012", name=name, detail="not a number") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise LongwatchError("W012", name=name, detail="not a finite number")
    return value



def _bbox(text: str) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        south, west, north, east = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise LongwatchError("Q008", value=text[:80]) from exc
    return south, west, north, east


def search_query() -> search_api.Query:
    """The search's :class:`~longwatch.core.catalog.search.Query` from the query string (checked by the core)."""
    args = request.args
    near = (args.get("near") or "").strip()
    limit = _number("limit", int)
    return search_api.Query(
        start=time_arg("start"), end=time_arg("end"),
        cameras=[c.strip() for c in args.getlist("camera") if c.strip()][: search_api.MAX_LIST + 1],
        zone=(args.get("zone") or "").strip(), purpose=(args.get("purpose") or "").strip(),
        bbox=_bbox((args.get("bbox") or "").strip()),
        near=reference.parse_coordinates(near) if near else None, radius_m=_number("radius"),
        event_type=(args.get("event_type") or "").strip(), min_confidence=_number("min_confidence"),
        case=(args.get("case") or "").strip(), tags=[t for t in args.getlist("tag") if t.strip()],
        text=args.get("text") or "", order=(args.get("order") or "desc").strip(),
        limit=50 if limit is None else limit, after=(args.get("after") or "").strip())


_SEARCH_PARAMS = [
    param("start", "query", DATE_TIME, text="footage ending at or after this time (ISO 8601 with zone)"),
    param("end", "query", DATE_TIME, text="footage starting before this time"),
    {**param("camera", "query", {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 20},
              text="camera ids (repeat)"), "explode": True},
    param("zone", "query", {"type": "string", "maxLength": 200}, text="zone path; its sub-zones too"),
    param("purpose", "query", {"type": "string", "maxLength": 64}),
    param("bbox", "query", {"type": "string", "maxLength": 100}, text="south,west,north,east in degrees"),
    param("near", "query", {"type": "string", "maxLength": 60}, text="latitude,longitude (with radius)"),
    param("radius", "query", {"type": "number", "exclusiveMinimum": 0, "maximum": search_api.MAX_RADIUS_M},
           text="metres around near"),
    param("event_type", "query", {"type": "string", "maxLength": 64}),
    param("min_confidence", "query", {"type": "number", "minimum": 0, "maximum": 1}),
    param("case", "query", {"type": "string", "maxLength": 64},
           text="case number (an investigator must give a case shared with them)"),
    {**param("tag", "query", {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 20},
              text="tags (repeat)"), "explode": True},
    param("text", "query", {"type": "string", "maxLength": search_api.MAX_TEXT}, text="full text"),
    param("order", "query", {"enum": ["desc", "asc"]}),
    param("limit", "query", {"type": "integer", "minimum": 1, "maximum": search_api.MAX_LIMIT}),
    param("after", "query", {"type": "string", "maxLength": 200}, text="the next cursor of the previous page"),
]


@bp.get("/search")
@requires("catalog:read")
@operation("Search clips by time, camera, zone, purpose, place, event, case, tags and text; keyset pages",
           SEARCH_PAGE, _SEARCH_PARAMS, errors=ERRORS)
def search() -> Any:
    user = caller()
    archive = current_archive()
    q = search_query()
    if user.is_scoped:  # an investigator searches inside a case shared with them, and sees only its footage
        if not q.case or not queries.may_see_case(archive, user, q.case):
            raise LongwatchError("W011", what=f"case {q.case or '(none given)'}")
    page = search_api.search(archive.catalog, q)
    items = page.items
    if user.is_scoped:
        visible = set(queries.visible_package_ids(archive, user, sorted({i["package_id"] for i in items})))
        items = [i for i in items if i["package_id"] in visible]
    following = None
    if page.next_cursor:
        args: dict[str, Any] = {k: request.args.getlist(k) for k in request.args if k != "after"}
        args["after"] = page.next_cursor
        following = url_for("api_records.search", **args)
    items = provenance.mark_uploads(archive, [dict(i) for i in items])
    return jsonify({"items": [jsonable(i) for i in items], "next": page.next_cursor, "next_url": following})


_COUNTS = {"type": "array", "items": {"type": "object", "required": ["key", "count"],
                                      "properties": {"key": {"type": "string"}, "count": {"type": "integer"}}}}
FACETS = {"type": "object", "required": ["total", "total_exact", "camera", "zone", "day", "event_type"],
          "properties": {"total": {"type": "integer", "description": f"exact up to {search_api.FACET_CAP}"},
                         "total_exact": {"type": "boolean", "description": "false: there are more hits than "
                                         "total, and the counts are those of the newest total hits"},
                         "camera": _COUNTS, "zone": _COUNTS, "day": _COUNTS, "event_type": _COUNTS}}


@bp.get("/search/facets")
@requires("catalog:read", scoped=False)
@operation(f"Counts of the search's hits by camera, zone, day and event type, of at most the newest "
           f"{search_api.FACET_CAP:,} hits", FACETS,
           [p for p in _SEARCH_PARAMS if p["name"] not in ("order", "limit", "after")], errors=ERRORS)
def search_facets() -> Any:
    """Bounded as the web page's counts are: one request reads at most FACET_CAP + 1 clips, whatever matches."""
    return jsonify(jsonable(search_api.facets(current_archive().catalog, search_query(), cap=search_api.FACET_CAP)))


# -- saved searches ----------------------------------------------------------------------------
_CRITERIA = {"type": "object", "description": "the search page's filters: " + ", ".join(saved_searches.KEYS)
             + " (camera and tag: lists of strings; the others strings)",
             "properties": {k: ({"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 500}
                                if k in ("camera", "tag")
                                else {"type": "string", "maxLength": saved_searches.MAX_VALUE})
                            for k in saved_searches.KEYS}, "additionalProperties": False}
SAVED = {"type": "object", "required": ["id", "name", "criteria"], "properties": {
    "id": _STR, "name": _STR, "owner": _STR, "criteria": _CRITERIA, "created_at": NULLABLE_TIME,
    "search_url": {"type": "string", "description": "the search page with these filters"}}}
_SAVE = {"type": "object", "required": ["name", "criteria"], "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": saved_searches.MAX_NAME}, "criteria": _CRITERIA}}
SEARCH_ID = param("search_id", "path", {"type": "string", "maxLength": 36}, True, "saved search id")


def _saved(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "search_url": url_for("search.page", **row["criteria"])}


@bp.get("/searches")
@requires("catalog:read")
@operation("The caller's saved searches, by name", {"type": "array", "items": SAVED})
def list_saved() -> Any:
    return jsonify([_saved(r) for r in saved_searches.listing(current_archive().catalog, caller().username)])


@bp.post("/searches")
@requires("catalog:read")
@operation("Save a search's filters under a name (the same name replaces it)", SAVED, errors=ERRORS, status=201,
           extra=body_of(_SAVE))
def save_search() -> Any:
    data = json_body()
    criteria = data.get("criteria")
    if not isinstance(criteria, dict) or set(criteria) - set(saved_searches.KEYS):
        raise LongwatchError("W092", detail=f"criteria must be an object of {', '.join(saved_searches.KEYS)}")
    for key, value in criteria.items():
        if key in ("camera", "tag"):
            list_of(criteria, key)
        elif not isinstance(value, str) or len(value) > saved_searches.MAX_VALUE:
            raise LongwatchError("W092", detail=f"criteria.{key} must be a string")
    row = saved_searches.save(current_archive().catalog, caller().username,
                              text_of(data, "name", True, saved_searches.MAX_NAME), criteria)
    return jsonify(_saved(row)), 201


@bp.delete("/searches/<search_id>")
@requires("catalog:read")
@operation("Delete one of the caller's saved searches", {"type": "object"}, [SEARCH_ID], errors=ERRORS)
def delete_saved(search_id: str) -> Any:
    saved_searches.delete(current_archive().catalog, caller().username, search_id)
    return jsonify({"deleted": search_id[:36]})


# -- holds -------------------------------------------------------------------------------------
def _may_see_hold(user: Any, hold: dict[str, Any]) -> bool:
    archive = current_archive()
    if hold["case_id"]:
        return queries.may_see_case(archive, user, hold["case_id"])
    if hold["package_id"]:
        return bool(queries.visible_package_ids(archive, user, [hold["package_id"]]))
    return False


@bp.get("/holds")
@requires("catalog:read")
@operation("Legal holds, oldest first (active only unless released=true)", {"type": "array", "items": HOLD},
           [param("released", "query", {"type": "boolean"}, text="include released holds")],
           errors=ERRORS)
def list_holds() -> Any:
    user = caller()
    released = (request.args.get("released") or "false").strip().lower()
    if released not in ("true", "false"):
        raise LongwatchError("W012", name="released", detail="true or false")
    rows = [holds.hold_dict(h) for h in holds.list_holds(current_archive(), include_released=released == "true")]
    if user.is_scoped:
        rows = [h for h in rows if _may_see_hold(user, h)]
    return jsonify(rows)


_PLACE = {"type": "object", "required": ["owner", "reason"], "properties": {
    "package_id": {"type": "string", "maxLength": 36}, "case": {"type": "string", "maxLength": 64},
    "camera": {"type": "string", "maxLength": 64}, "start": DATE_TIME, "end": DATE_TIME,
    "search": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 200},
               "description": f"a saved search: keys {', '.join(holds.SEARCH_KEYS)}"},
    "owner": {"type": "string", "minLength": 1, "maxLength": 200}, "reason": {"type": "string", "minLength": 1,
                                                                              "maxLength": 1000},
    "review_at": DATE_TIME},
    "description": "exactly one target: package_id, case, camera with start and end, or search"}


@bp.post("/holds")
@requires("inquiry:write")
@operation("Place a legal hold on a package, a case, a camera over a range, or a saved search", HOLD,
           errors=ERRORS, status=201, extra=body_of(_PLACE))
def place_hold() -> Any:
    user = caller()
    archive = current_archive()
    data = json_body()
    package_id, case = text_of(data, "package_id", limit=36), text_of(data, "case", limit=64)
    camera = text_of(data, "camera", limit=64)
    search = data.get("search") or None
    if search is not None and not (isinstance(search, dict) and all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 200 for k, v in search.items())):
        raise LongwatchError("W092", detail="search must be an object of strings")
    if user.is_scoped:  # only what they may see: a shared case, or a package they see; never a camera or search
        if camera or search:
            raise LongwatchError("W040", role=user.role, permission="hold on a camera or a search")
        if case and not queries.may_see_case(archive, user, case):
            raise LongwatchError("W011", what=f"case {case}")
        if package_id:
            queries.visible_package(archive, user, package_id)
    elif case:
        with archive.catalog.session() as s:
            reference.get_case(s, case)  # Q010 for a case that does not exist
    hold = holds.place_hold(archive, acting(), owner=text_of(data, "owner", True, 200),
                            reason=text_of(data, "reason", True), review_at=time_of(data, "review_at"),
                            package_id=package_id, case_id=case, camera=camera, start=time_of(data, "start"),
                            end=time_of(data, "end"), search=search)
    return jsonify(holds.hold_dict(hold)), 201


_RELEASE = {"type": "object", "required": ["reason"],
            "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 1000}}}


@bp.post("/holds/<hold_id>/release")
@requires("records:write")
@operation("Release a legal hold (a records manager; recorded in the custody ledger)", HOLD, [HOLD_ID],
           errors=ERRORS, extra=body_of(_RELEASE))
def release_hold(hold_id: str) -> Any:
    data = json_body()
    hold = holds.release_hold(current_archive(), hold_id, acting(), text_of(data, "reason", True))
    return jsonify(holds.hold_dict(hold))


# -- dispositions ------------------------------------------------------------------------------
def disposition_dict(d: Disposition, items: list[DispositionItem] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
           "disposition_id": d.id, "status": d.status, "schedule_id": d.schedule_id, "proposer": d.proposer,
           "proposer_role": d.proposer_role, "proposed_at": clock.iso_z(d.proposed_at),
           "approver": d.approver or None, "approver_role": d.approver_role or None,
           "approved_at": clock.iso_z(d.approved_at), "executed_at": clock.iso_z(d.executed_at),
           "certificate": d.certificate or None}
    if items is not None:
        out["items"] = [{"package_id": i.package_id, "record_class": i.record_class, "status": i.status,
                         "size": i.size_bytes} for i in items]
    return out


@bp.get("/dispositions")
@requires("catalog:read", scoped=False)
@operation("Dispositions, oldest proposal first", {"type": "array", "items": DISPOSITION})
def list_dispositions() -> Any:
    return jsonify([disposition_dict(d) for d in dispositions.list_dispositions(current_archive())])


@bp.get("/dispositions/<disposition_id>")
@requires("catalog:read", scoped=False)
@operation("One disposition with its packages", DISPOSITION, [DISPOSITION_ID], errors=ERRORS)
def get_disposition(disposition_id: str) -> Any:
    d, items = dispositions.get_disposition(current_archive(), disposition_id)
    return jsonify(disposition_dict(d, items))


_PROPOSE = {"type": "object", "properties": {
    "classes": {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 100,
                "description": "only these record classes (default: every class due)"}}}
_PROPOSED = {"type": "object", "required": ["disposition"], "properties": {
    "disposition": {"oneOf": [DISPOSITION, {"type": "null"}]}, "summary": {"type": "object"},
    "held": {"type": "integer"}, "review": {"type": "integer"}}}


@bp.post("/dispositions")
@requires("records:write")
@operation("Propose the disposition of everything due and unheld (201), or say nothing is due (200)",
           _PROPOSED, errors=ERRORS, status=201,
           extra={**body_of(_PROPOSE, required=False), "responses": {"200": {
               "description": "nothing is due", "content": {"application/json": {"schema": _PROPOSED}}}}})
def propose() -> Any:
    data = json_body() if request.get_data() else {}
    classes = list_of(data, "classes", 100)
    d, plan = dispositions.propose(current_archive(), acting(), classes=classes or None)
    answer = {"disposition": disposition_dict(d) if d is not None else None,
              "summary": dispositions.jsonable(plan.summary or {}), "held": len(plan.held), "review": len(plan.review)}
    return jsonify(answer), 201 if d is not None else 200


@bp.post("/dispositions/<disposition_id>/approve")
@requires("records:write")
@operation("Approve a proposed disposition: a records manager who did not propose it", DISPOSITION,
           [DISPOSITION_ID], errors=ERRORS)
def approve(disposition_id: str) -> Any:
    d = dispositions.approve(current_archive(), disposition_id, acting())
    return jsonify(disposition_dict(d))


_REJECT = {"type": "object", "required": ["reason"],
           "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 1000}}}


@bp.post("/dispositions/<disposition_id>/reject")
@requires("records:write")
@operation("Reject a proposed disposition with a reason: a records manager who did not propose it (nothing is "
           "destroyed; the packages may be proposed again)", DISPOSITION, [DISPOSITION_ID], errors=ERRORS,
           extra=body_of(_REJECT))
def reject(disposition_id: str) -> Any:
    data = json_body()
    d = dispositions.reject(current_archive(), disposition_id, acting(), text_of(data, "reason", True))
    return jsonify(disposition_dict(d))


@bp.post("/dispositions/<disposition_id>/execute")
@requires("records:write")
@operation("Execute an approved disposition as a job (202 queued; 200 when it ran in-process)", JOB,
           [DISPOSITION_ID], errors=ERRORS, status=202,
           extra={"responses": {"200": {"description": "ran in-process",
                                        "content": {"application/json": {"schema": JOB}}}}})
def execute(disposition_id: str) -> Any:
    archive = current_archive()
    actor = acting()
    d, _items = dispositions.get_disposition(archive, disposition_id)
    if d.status not in ("approved", "executing"):
        raise LongwatchError("H006", disposition_id=d.id[:8], status=d.status, expected="approved")
    answer = job_answer(enqueue_disposition(archive, d.id, actor.name, actor.role))
    return jsonify(answer), 202 if answer["queued"] else 200


_JOB_ROW = {"type": "object", "required": ["id", "task", "state"], "properties": {
    "id": {"type": "integer"}, "task": {"type": "string"}, "queue": {"type": "string"},
    "state": {"type": "string", "description": "queued, running, done, failed or cancelled"},
    "attempts": {"type": "integer"}, "args": {"type": "object"}, "error_code": {"type": ["string", "null"]},
    "error": {"type": ["string", "null"]}}}


@bp.get("/jobs/<int:job_id>")
@requires("catalog:read", scoped=False)
@operation("A queued job's progress (PostgreSQL catalogs; on the embedded catalog jobs run at once)", _JOB_ROW,
           [param("job_id", "path", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}, True)],
           errors=ERRORS)
def job_status(job_id: int) -> Any:
    row = jobs.job(current_archive(), job_id)
    if row is None:
        raise LongwatchError("W011", what=f"job {job_id}")
    return jsonify(jsonable(row.to_dict()))


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
