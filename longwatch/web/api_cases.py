"""``/api/v1``: cases, evidence exports and share links (the investigator's and the request handler's work).

An investigator sees exactly the cases shared with them (``queries.may_see_case``):
another case answers 404 as if it did not exist, and they may add notes and
holds only there. Opening cases and attaching footage is request handling
(``requests:write``); sharing a case opens footage to someone, so records
managers decide (``records:write``), as on the command line. An export runs as
a job (``core/evidence/tasks.py``) into the object store (``exports/<export id>/``
on the primary location, ``core/evidence/stored.py``), whichever machine runs it;
its status is read back from the job and from the stored export's ``export.json``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import Blueprint, jsonify, request, url_for

from longwatch import clock
from longwatch.core import accounts
from longwatch.core.catalog import reference
from longwatch.core.evidence import selection, shares, stored
from longwatch.core.evidence.request import Recipient, Request
from longwatch.core.evidence.tasks import enqueue_export
from longwatch.core.jobs import queue as jobs
from longwatch.errors import LongwatchError
from longwatch.web import current_archive, queries
from longwatch.web.api import (
    DATE_TIME,
    ERRORS,
    JOB,
    NULLABLE_TIME,
    body_of,
    caller,
    job_answer,
    json_body,
    list_of,
    operation,
    param,
    text_of,
    time_of,
)
from longwatch.web.security import record_access, requires

bp = Blueprint("api_cases", __name__, url_prefix="/api/v1")

_STR = {"type": "string"}
CASE = {"type": "object", "required": ["number", "title", "packages", "members"], "properties": {
    "number": _STR, "title": _STR, "requester": _STR, "created": NULLABLE_TIME,
    "packages": {"type": "array", "items": _STR},
    "ranges": {"type": "array", "items": {"type": "object", "properties": {
        "camera": _STR, "start": NULLABLE_TIME, "end": NULLABLE_TIME}}},
    "members": {"type": "array", "items": _STR},
    "notes": {"type": "array", "items": {"type": "object", "properties": {
        "at": _STR, "author": _STR, "text": _STR}}}}}
CASE_NUMBER = param("number", "path", {"type": "string", "minLength": 1, "maxLength": 64}, True, "case number")
SHARE = {"type": "object", "required": ["id", "export_id", "active"], "properties": {
    "id": {"type": "integer"}, "export_id": _STR, "recipient": _STR, "created_by": _STR,
    "created_at": NULLABLE_TIME, "expires_at": NULLABLE_TIME, "revoked_at": NULLABLE_TIME,
    "downloads": {"type": "integer"}, "active": {"type": "boolean"}}}
EXPORT_STATUS = {"type": "object", "required": ["export", "state"], "properties": {
    "export": _STR, "state": {"enum": ["queued", "running", "done", "failed", "unknown"]},
    "export_id": {"type": ["string", "null"]}, "files": {"type": ["integer", "null"]},
    "size": {"type": ["integer", "null"]}, "error": {"type": ["string", "null"]}}}
EXPORT_REF = param("export", "path", {"type": "string", "maxLength": 36}, True, "the export's reference")


def _notes(text: str) -> list[dict[str, str]]:
    """A case's notes: lines "ISO-time<TAB>author<TAB>text" (the inquiry's pinned notes)."""
    out = []
    for line in (text or "").splitlines():
        parts = line.split("\t", 2)
        out.append({"at": parts[0], "author": parts[1], "text": parts[2]} if len(parts) == 3
                   else {"at": "", "author": "", "text": line})
    return out


def case_dict(c: dict[str, Any]) -> dict[str, Any]:
    return {"number": c["number"], "title": c["title"] or "", "requester": c["requester"] or "",
            "created": clock.iso_z(c["created"]), "packages": c["packages"],
            "ranges": [{"camera": r["camera"], "start": clock.iso_z(r["start"]), "end": clock.iso_z(r["end"])}
                       for r in c["ranges"]],
            "members": c["members"], "notes": _notes(c["notes"])}


def _visible_case(number: str) -> dict[str, Any]:
    """The case when the caller may see it (scoped roles: shared with them); W011 otherwise, without a hint."""
    user = caller()
    archive = current_archive()
    if not queries.may_see_case(archive, user, number):
        raise LongwatchError("W011", what=f"case {number}")
    found = reference.list_cases(archive.catalog, number)
    if not found:
        raise LongwatchError("W011", what=f"case {number}")
    return found[0]


# -- cases -------------------------------------------------------------------------------------
@bp.get("/cases")
@requires("catalog:read")
@operation("Cases the caller may see (an investigator: those shared with them), by number",
           {"type": "array", "items": CASE})
def list_cases() -> Any:
    user = caller()
    rows = reference.list_cases(current_archive().catalog)
    if user.is_scoped:
        rows = [c for c in rows if user.username in c["members"]]
    return jsonify([case_dict(c) for c in rows])


_NEW_CASE = {"type": "object", "required": ["number"], "properties": {
    "number": {"type": "string", "minLength": 1, "maxLength": 64}, "title": {"type": "string", "maxLength": 500},
    "requester": {"type": "string", "maxLength": 500}}}


@bp.post("/cases")
@requires("requests:write", scoped=False)
@operation("Open a case", CASE, errors=ERRORS, status=201, extra=body_of(_NEW_CASE))
def create_case() -> Any:
    data = json_body()
    number = text_of(data, "number", True, 64)
    reference.add_case(current_archive().catalog, number, title=text_of(data, "title", limit=500),
                       requester=text_of(data, "requester", limit=500))
    return jsonify(case_dict(_visible_case(number))), 201


@bp.get("/cases/<number>")
@requires("catalog:read")
@operation("One case: its packages, ranges, members and notes", CASE, [CASE_NUMBER], errors=ERRORS)
def get_case(number: str) -> Any:
    return jsonify(case_dict(_visible_case(number)))


_PACKAGES = {"type": "object", "required": ["package_ids"], "properties": {
    "package_ids": {"type": "array", "items": {"type": "string", "maxLength": 36}, "minItems": 1, "maxItems": 500}}}


@bp.post("/cases/<number>/packages")
@requires("requests:write", scoped=False)
@operation("Attach packages to a case", CASE, [CASE_NUMBER], errors=ERRORS,
           extra=body_of(_PACKAGES))
def attach_packages(number: str) -> Any:
    _visible_case(number)
    ids = list_of(json_body(), "package_ids")
    if not ids:
        raise LongwatchError("W092", detail="package_ids is required")
    reference.attach_packages(current_archive().catalog, number, ids)
    return jsonify(case_dict(_visible_case(number)))


_RANGE = {"type": "object", "required": ["start", "end"], "properties": {
    "start": DATE_TIME, "end": DATE_TIME, "camera": {"type": "string", "maxLength": 64}}}


@bp.post("/cases/<number>/ranges")
@requires("requests:write", scoped=False)
@operation("Add a time range (optionally one camera) to a case; its packages are attached", CASE,
           [CASE_NUMBER], errors=ERRORS, extra=body_of(_RANGE))
def add_range(number: str) -> Any:
    _visible_case(number)
    data = json_body()
    reference.attach_range(current_archive().catalog, number, time_of(data, "start", True),
                           time_of(data, "end", True), text_of(data, "camera", limit=64))
    return jsonify(case_dict(_visible_case(number)))


_NOTE = {"type": "object", "required": ["text"], "properties": {
    "text": {"type": "string", "minLength": 1, "maxLength": 2000},
    "at": {**DATE_TIME, "description": "the moment of footage the note is about (default now)"}}}


@bp.post("/cases/<number>/notes")
@requires("inquiry:write")
@operation("Add a note to a case (an investigator: only to a case shared with them)", CASE, [CASE_NUMBER],
           errors=ERRORS, status=201, extra=body_of(_NOTE))
def add_note(number: str) -> Any:
    _visible_case(number)
    data = json_body()
    reference.add_case_note(current_archive().catalog, number, caller().username,
                            text_of(data, "text", True, 2000), time_of(data, "at"))
    return jsonify(case_dict(_visible_case(number))), 201


_MEMBER = {"type": "object", "required": ["username"],
           "properties": {"username": {"type": "string", "minLength": 1, "maxLength": 64}}}


@bp.post("/cases/<number>/members")
@requires("records:write")
@operation("Share a case with a named account (an investigator then sees it and its footage)", CASE,
           [CASE_NUMBER], errors=ERRORS, extra=body_of(_MEMBER))
def share_case(number: str) -> Any:
    _visible_case(number)
    username = text_of(json_body(), "username", True, 64)
    if username not in {u.username for u in accounts.users(current_archive().catalog)}:
        raise LongwatchError("W011", what=f"account {username}")
    reference.share_case(current_archive().catalog, number, username, granted_by=caller().username)
    return jsonify(case_dict(_visible_case(number)))


@bp.delete("/cases/<number>/members/<username>")
@requires("records:write")
@operation("Stop sharing a case with an account", CASE,
           [CASE_NUMBER, param("username", "path", {"type": "string", "maxLength": 64}, True)],
           errors=ERRORS)
def unshare_case(number: str, username: str) -> Any:
    _visible_case(number)
    if not reference.unshare_case(current_archive().catalog, number, username):
        raise LongwatchError("W011", what=f"member {username} of case {number}")
    return jsonify(case_dict(_visible_case(number)))


# -- exports -----------------------------------------------------------------------------------
_EXPORT = {"type": "object", "required": ["recipient"], "properties": {
    "recipient": {"type": "object", "required": ["agency"], "properties": {
        "agency": {"type": "string", "minLength": 1, "maxLength": 200}, "officer": {"type": "string", "maxLength": 200},
        "case_number": {"type": "string", "maxLength": 64}, "legal_basis": {"type": "string", "maxLength": 500},
        "purpose": {"type": "string", "maxLength": 500}, "expires": DATE_TIME}},
    "package_ids": {"type": "array", "items": {"type": "string", "maxLength": 36}, "maxItems": 500},
    "cameras": {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 100},
    "start": DATE_TIME, "end": DATE_TIME, "case": {"type": "string", "maxLength": 64},
    "language": {"enum": ["ko", "en"]}, "reason": {"type": "string", "maxLength": 1000},
    "watermark": {"type": "boolean"}},
    "description": "packages, a case, or cameras over start..end"}


def _export_request(data: dict[str, Any]) -> Request:
    who = data.get("recipient")
    if not isinstance(who, dict):
        raise LongwatchError("W092", detail="recipient must be an object with agency")
    watermark = data.get("watermark", False)
    if not isinstance(watermark, bool):
        raise LongwatchError("W092", detail="watermark must be true or false")
    language = text_of(data, "language", limit=2) or "ko"
    if language not in ("ko", "en"):
        raise LongwatchError("W092", detail="language must be ko or en")
    recipient = Recipient(text_of(who, "agency", True, 200), text_of(who, "officer", limit=200),
                          text_of(who, "case_number", limit=64), text_of(who, "legal_basis", limit=500),
                          text_of(who, "purpose", limit=500), time_of(who, "expires"))
    return Request(recipient, list_of(data, "package_ids"), list_of(data, "cameras", 100), time_of(data, "start"),
                   time_of(data, "end"), False, text_of(data, "case", limit=64), language,
                   text_of(data, "reason"), watermark)


@bp.post("/exports")
@requires("footage:read")
@operation("Export packages, a case or cameras over a range for a recipient, as a job", JOB,
           errors=ERRORS, status=202,
           extra={**body_of(_EXPORT), "responses": {"200": {
               "description": "ran in-process", "content": {"application/json": {"schema": JOB}}}}})
def create_export() -> Any:
    user = caller()
    archive = current_archive()
    req = _export_request(json_body())
    if user.is_scoped:  # only footage they may see: a shared case or their packages, never a camera range
        if req.cameras:
            raise LongwatchError("W040", role=user.role, permission="export of a camera range")
        if req.case and not queries.may_see_case(archive, user, req.case):
            raise LongwatchError("W011", what=f"case {req.case}")
        for pid in req.package_ids:
            queries.visible_package(archive, user, pid)
    selection.select(archive, req)  # a request that cannot be met is refused now, not by a worker
    ref = str(uuid.uuid4())
    job, export_id = enqueue_export(archive, req, None, export_id=ref, requested_by=user.username)
    answer = job_answer(job)
    answer.update(export=ref, export_id=export_id, status_url=url_for("api_cases.export_status", export=ref))
    return jsonify(answer), 202 if answer["queued"] else 200


def _check_exporter(archive: Any, user: accounts.Account, ref: str) -> None:
    """W011 unless a scoped role (an investigator) asked for this finished export itself: its footage may lie
    outside their cases, and a share link to it would hand that footage to anyone (the rule of /exports/<id>)."""
    if not user.is_scoped:
        return
    data = stored.description(archive, stored.export_key(ref)) or {}
    if data.get("exported_by") != user.username:
        raise LongwatchError("W011", what=f"export {ref}")


@bp.get("/exports/<export>")
@requires("footage:read")
@operation("An export's progress: queued, running, done (with its size) or failed", EXPORT_STATUS, [EXPORT_REF],
           errors=ERRORS)
def export_status(export: str) -> Any:
    archive = current_archive()
    try:
        ref = str(uuid.UUID(export))
    except ValueError as exc:
        raise LongwatchError("W011", what=f"export {export}") from exc
    answer: dict[str, Any] = {"export": ref, "state": "unknown", "export_id": None, "files": None, "size": None,
                              "error": None}
    user = caller()
    done = stored.finished(archive, ref)  # in the object store: whichever machine wrote it
    if done is not None:
        _check_exporter(archive, user, ref)
        answer.update(state="done", export_id=done["export_id"], files=done["files"])
        return jsonify(answer)
    for job in jobs.list_jobs(archive, limit=500):
        if job.task == "export" and job.args.get("export_id") == ref:
            if user.is_scoped and job.args.get(jobs.REQUESTED_BY) != user.username:
                raise LongwatchError("W011", what=f"export {export}")
            answer.update(state={"queued": "queued", "running": "running", "failed": "failed"}.get(job.state,
                                                                                                  "unknown"),
                          export_id=job.args.get("export_id"), error=job.message or None)
            return jsonify(answer)
    raise LongwatchError("W011", what=f"export {export}")


_LINK = {"type": "object", "properties": {"expires": {**DATE_TIME, "description": "default: in 7 days"}}}
LINK = {"type": "object", "required": ["id", "url", "token", "expires"], "properties": {
    "id": {"type": "integer"}, "url": _STR, "token": {"type": "string", "description": "shown once"},
    "expires": DATE_TIME}}


@bp.post("/exports/<export>/links")
@requires("footage:read")
@operation("Make an expiring share link to a finished export (its token is shown once)", LINK, [EXPORT_REF],
           errors=ERRORS, status=201, extra=body_of(_LINK, required=False))
def create_link(export: str) -> Any:
    try:
        ref = str(uuid.UUID(export))
    except ValueError as exc:
        raise LongwatchError("W011", what=f"export {export}") from exc
    archive = current_archive()
    if stored.finished(archive, ref) is None:
        raise LongwatchError("W011", what=f"export {export}")
    _check_exporter(archive, caller(), ref)
    data = json_body() if request.get_data() else {}
    expires = time_of(data, "expires") or clock.now() + timedelta(days=7)
    share_id, token = shares.create_share(archive, stored.export_key(ref), expires, created_by=caller().username)
    return jsonify({"id": share_id, "url": url_for("shares.download", token=token, _external=True), "token": token,
                    "expires": clock.iso_z(expires)}), 201


# -- share links -------------------------------------------------------------------------------
def _visible_links() -> list[dict[str, Any]]:
    user = caller()
    rows = shares.list_shares(current_archive())
    return [r for r in rows if r["created_by"] == user.username] if user.is_scoped else rows


@bp.get("/links")
@requires("footage:read")
@operation("Share links, newest first (an investigator: the links they made)", {"type": "array", "items": SHARE})
def list_links() -> Any:
    return jsonify([{k: clock.iso_z(v) if k.endswith("_at") else v for k, v in r.items()} for r in _visible_links()])


@bp.post("/links/<int:share_id>/revoke")
@requires("footage:read")
@operation("Revoke a share link now", {"type": "object", "required": ["id"], "properties": {
    "id": {"type": "integer"}, "revoked": {"type": "boolean"}}},
           [param("share_id", "path", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}, True)],
           errors=ERRORS)
def revoke_link(share_id: int) -> Any:
    user = caller()
    if share_id not in {r["id"] for r in _visible_links()}:
        raise LongwatchError("W011", what=f"share link {share_id}")
    shares.revoke_share(current_archive(), share_id)
    record_access("share link revoked", "", detail=f"share link {share_id} by {user.username}")
    return jsonify({"id": share_id, "revoked": True})


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
