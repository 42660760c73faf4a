"""Built-in web plugin: the REST API ``/api/v1`` and its OpenAPI 3 document.

The document is generated from the code: every API view carries its
operation (``@operation``), and :func:`openapi_document` walks the app's URL
map, so a route and its description cannot drift apart. Machines send
``Authorization: Bearer <token>`` (``longwatch token create --scope ...``);
each operation declares the token scope it needs, derived from the permission
its view requires, so the document and the check cannot disagree either.
Errors are JSON objects carrying the error code.

This module is the shared base of the API: the schema pieces, the
``@operation`` decorator, reading a JSON body and the acting account. The
feature modules (``api_records``, ``api_cases``, ``api_custody``) add their
routes to the same ``/api/v1`` and call the core, never SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, jsonify, request, url_for

from longwatch import __version__, clock
from longwatch.clock import parse_time
from longwatch.core import accounts
from longwatch.core.accounts import PERMISSIONS
from longwatch.core.preservation import provenance
from longwatch.core.records.actors import Actor, actor_of
from longwatch.errors import LongwatchError
from longwatch.web import current_archive, queries
from longwatch.web.package_view import refuse_destroyed, run_verify
from longwatch.web.security import current_user, public, requires

bp = Blueprint("api", __name__, url_prefix="/api/v1")
F = TypeVar("F", bound=Callable[..., Any])

ERROR = {"$ref": "#/components/schemas/Error"}
DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
CLIP = {
    "type": "object",
    "required": ["clip_id", "path", "size", "sha256", "mime_type"],
    "properties": {
        "clip_id": {"type": "integer"}, "path": {"type": "string"}, "original_name": {"type": "string"},
        "size": {"type": "integer"}, "sha256": {"type": "string"}, "sha512": {"type": "string"},
        "mime_type": {"type": "string"}, "codec": {"type": "string"},
        "width": {"type": ["integer", "null"]}, "height": {"type": ["integer", "null"]},
        "duration": {"type": ["number", "null"]}, "start": NULLABLE_TIME, "end": NULLABLE_TIME,
        "media_url": {"type": ["string", "null"], "description": "null once the package is destroyed"},
    },
}
PACKAGE = {
    "type": "object",
    "required": ["package_id", "camera", "title", "size", "status", "clips"],
    "properties": {
        "package_id": {"type": "string"}, "camera": {"type": "string"}, "zone": {"type": "string"},
        "title": {"type": "string"}, "start": NULLABLE_TIME, "end": NULLABLE_TIME,
        "size": {"type": "integer"}, "files": {"type": "integer"}, "status": {"type": "string"},
        "location": {"type": "string"}, "media_ok": {"type": "boolean"}, "created": DATE_TIME,
        "destroyed": {"type": "boolean", "description": "disposed of: a tombstone, no footage"},
        "origin": {"type": "string", "enum": ["camera", "upload"]},
        "uploaded_by": {"type": "string", "description": "the account whose upload this is (origin upload)"},
        "claimed_camera": {"type": "string", "description": "the camera an upload names; camera stays empty "
                                                             "until a records manager confirms it"},
        "confirmed": {"type": "boolean", "description": "an upload confirmed as camera's recording"},
        "confirmed_by": {"type": "string"}, "confirmed_at": NULLABLE_TIME,
        "provenance": {"type": "string", "description": "origin as people read it, in the caller's language"},
        "clips": {"type": "array", "items": {"$ref": "#/components/schemas/Clip"}},
    },
}
JOB = {"type": "object", "required": ["queued"], "properties": {
    "queued": {"type": "boolean", "description": "true: a worker runs it (job_id); false: it ran already (result)"},
    "job_id": {"type": ["integer", "null"]}, "result": {"type": ["object", "null"]}}}
SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "pattern": "^[A-Z][0-9]{3}$"}, "message": {"type": "string"},
            "context": {"type": "object", "additionalProperties": {"type": "string"}}}}},
    },
    "Clip": CLIP,
    "Package": PACKAGE,
    "PackagePage": {
        "type": "object", "required": ["packages", "total", "total_exact", "limit", "offset"],
        "properties": {"packages": {"type": "array", "items": {"$ref": "#/components/schemas/Package"}},
                       "total": {"type": "integer", "description": f"exact up to {queries.COUNT_CAP}"},
                       "total_exact": {"type": "boolean", "description": "false: there are more than total"},
                       "limit": {"type": "integer"}, "offset": {"type": "integer"},
                       "next": {"type": ["string", "null"]}},
    },
    "Me": {"type": "object", "required": ["username", "role", "permissions"],
           "properties": {"username": {"type": "string"}, "role": {"type": "string"},
                          "permissions": {"type": "array", "items": {"type": "string"}},
                          "scopes": {"type": ["array", "null"], "items": {"type": "string"},
                                     "description": "the token's scopes; null for a browser session"}}},
    "Verification": {"type": "object", "required": ["package_id", "ok", "problems"],
                     "properties": {"package_id": {"type": "string"}, "ok": {"type": "boolean"},
                                    "files_checked": {"type": "integer"}, "bytes_checked": {"type": "integer"},
                                    "problems": {"type": "array", "items": {"type": "object"}}}},
}


#: The errors an operation of the feature modules may answer: bad input, not signed in, not allowed (role,
#: scope or a scoped role), not found (or not visible to the caller), and a conflict with the record's state.
ERRORS = (400, 401, 403, 404, 409)


def _error_responses(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "error", "content": {"application/json": {"schema": ERROR}}} for c in codes}


def operation(summary: str, response: dict[str, Any] | None = None, parameters: list[dict[str, Any]] | None = None,
              errors: tuple[int, ...] = (401, 403), auth: bool = True, status: int = 200,
              extra: dict[str, Any] | None = None) -> Callable[[F], F]:
    """Describe an API view for the OpenAPI document (kept on the function itself)."""

    def wrap(view: F) -> F:
        responses: dict[str, Any] = {str(status): {"description": "success"}}
        if response is not None:
            responses[str(status)]["content"] = {"application/json": {"schema": response}}
        responses.update(_error_responses(*errors))
        more = dict(extra or {})
        responses.update(more.pop("responses", {}))  # other successes (200 beside 201) are added, not swapped
        op: dict[str, Any] = {"summary": summary, "operationId": view.__name__, "responses": responses}
        if parameters:
            op["parameters"] = parameters
        if not auth:
            op["security"] = []
        op.update(more)
        view.lw_openapi = op  # type: ignore[attr-defined]
        return view

    return wrap


def body_of(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    """The ``requestBody`` of an operation taking one JSON object (pass it as ``extra``)."""
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


def parsed_json() -> Any:
    """The request's JSON, or None when it is not JSON: broken, or nested so deep that the parser runs out
    of stack (``[[[[...]]]]`` a hundred thousand deep), which would otherwise be a 500."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def json_body() -> dict[str, Any]:
    """The request's JSON object; W092 for anything else (a list, a number, broken JSON)."""
    data = parsed_json()
    if not isinstance(data, dict):
        raise LongwatchError("W092", detail="send one JSON object (Content-Type: application/json)")
    return data


def text_of(data: dict[str, Any], name: str, required: bool = False, limit: int = 1000) -> str:
    """A string field of a JSON body, stripped; W092 when missing (if required), not a string or too long."""
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise LongwatchError("W092", detail=f"{name} must be a string of at most {limit} characters")
    if required and not value.strip():
        raise LongwatchError("W092", detail=f"{name} is required")
    return value.strip()


def time_of(data: dict[str, Any], name: str, required: bool = False) -> Any:
    """A date-time field of a JSON body (ISO 8601 with a zone) or None."""
    text = text_of(data, name, required, 64)
    if not text:
        return None
    try:
        return parse_time(text)
    except LongwatchError as exc:
        raise LongwatchError("W092", detail=f"{name}: {exc.render()}") from exc


def time_arg(name: str) -> Any:
    """A date-time query argument (ISO 8601 with a zone) or None; W012 when it is not one."""
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return parse_time(text)
    except LongwatchError as exc:
        raise LongwatchError("W012", name=name, detail=exc.render()) from exc


def list_of(data: dict[str, Any], name: str, limit: int = 500) -> list[str]:
    """A list of strings from a JSON body."""
    value = data.get(name) or []
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(v, str) and len(v) <= 200
                                                                    for v in value):
        raise LongwatchError("W092", detail=f"{name} must be a list of at most {limit} strings")
    return [v.strip() for v in value if v.strip()]


def caller() -> accounts.Account:
    """The signed-in account (every API view but the document requires one)."""
    user = current_user()
    if user is None:
        raise LongwatchError("W008")
    return user


def acting() -> Actor:
    """The caller as the actor of a records action (named in the custody ledger)."""
    return actor_of(caller())


def job_answer(job: int | dict[str, Any]) -> dict[str, Any]:
    """A job's answer: queued on PostgreSQL (its id), already run on the embedded catalog (its result)."""
    if isinstance(job, int):
        return {"queued": True, "job_id": job, "result": None}
    return {"queued": False, "job_id": None, "result": jsonable(job)}


def jsonable(value: Any) -> Any:
    """The core's dicts as JSON: times as UTC ISO 8601 with ``Z`` (as ``--json`` shows them), dates as ISO."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return clock.iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def param(name: str, where: str, schema: dict[str, Any], required: bool = False, text: str = "") -> dict[str, Any]:
    """One OpenAPI parameter (``where``: path or query)."""
    return {"name": name, "in": where, "required": required, "schema": schema, "description": text}


_param = param  # the name web/upload.py imports


def clip_dict(c: Any, destroyed: bool = False) -> dict[str, Any]:
    return {"clip_id": c.id, "path": c.relpath, "original_name": c.original_name, "size": c.size_bytes,
            "sha256": c.sha256, "sha512": c.sha512, "mime_type": c.mime_type, "codec": c.codec,
            "width": c.width, "height": c.height, "duration": c.duration,
            "start": clock.iso_z(c.start_utc), "end": clock.iso_z(c.end_utc),
            "media_url": None if destroyed else url_for("clips.media", clip_id=c.id)}


def package_dict(p: Any) -> dict[str, Any]:
    return {"package_id": p.id, "camera": p.camera, "zone": p.zone, "title": p.title,
            "start": clock.iso_z(p.start_utc), "end": clock.iso_z(p.end_utc), "size": p.size_bytes,
            "files": p.file_count,
            "status": p.status, "location": p.storage_location, "media_ok": p.media_ok,
            "created": clock.iso_z(p.created_at), "destroyed": queries.is_destroyed(p),
            "origin": p.origin, "uploaded_by": p.uploaded_by, "claimed_camera": p.claimed_camera,
            "confirmed": p.origin == "upload" and p.confirmed_at is not None, "confirmed_by": p.confirmed_by,
            "confirmed_at": clock.iso_z(p.confirmed_at), "provenance": provenance.describe(p),
            "clips": [clip_dict(c, queries.is_destroyed(p)) for c in p.clips]}


PACKAGE_ID = param("package_id", "path", {"type": "string", "maxLength": 36}, True, "package id (UUID)")


@bp.get("/packages")
@requires("catalog:read")
@operation("Packages the caller may see, newest recording first, one page at a time",
           {"$ref": "#/components/schemas/PackagePage"}, [
               param("camera", "query", {"type": "string", "maxLength": 64}, text="camera id"),
               param("start", "query", {"type": "string", "format": "date-time"},
                      text="recordings ending at or after this time (ISO 8601 with zone)"),
               param("end", "query", {"type": "string", "format": "date-time"},
                      text="recordings starting at or before this time (ISO 8601 with zone)"),
               param("limit", "query", {"type": "integer", "minimum": 1, "maximum": queries.MAX_LIMIT}),
               param("offset", "query", {"type": "integer", "minimum": 0}),
           ], errors=(400, 401, 403))
def packages() -> Any:
    user = current_user()
    assert user is not None
    f = queries.PackageFilter.from_args(request.args, current_app.config["LONGWATCH_PAGE_SIZE"])
    rows, total, exact = queries.list_packages(current_archive(), user, f)
    following = None
    if f.offset + len(rows) < total or (not exact and len(rows) == f.limit):
        params: dict[str, Any] = {**f.as_args(), "limit": f.limit, "offset": f.offset + f.limit}
        following = url_for("api.packages", **params)
    return jsonify({"packages": [package_dict(p) for p in rows], "total": total, "total_exact": exact,
                    "limit": f.limit,
                    "offset": f.offset, "next": following})


@bp.get("/packages/<package_id>")
@requires("catalog:read")
@operation("One package with its clips", {"$ref": "#/components/schemas/Package"}, [PACKAGE_ID],
           errors=(401, 403, 404))
def package(package_id: str) -> Any:
    user = current_user()
    assert user is not None
    return jsonify(package_dict(queries.visible_package(current_archive(), user, package_id)))


@bp.post("/packages/<package_id>/verify")
@requires("package:verify")
@operation("Verify the stored package now (digests, signature, schemas)",
           {"$ref": "#/components/schemas/Verification"}, [PACKAGE_ID], errors=(401, 403, 404, 410))
def verify(package_id: str) -> Any:
    user = current_user()
    assert user is not None
    pkg = queries.visible_package(current_archive(), user, package_id)
    refuse_destroyed(pkg)
    return jsonify(run_verify(current_archive(), pkg.id).to_dict())


_CONFIRM = {"type": "object", "properties": {"camera": {"type": "string", "maxLength": 64,
                                                       "description": "default: the camera the upload claims"}}}


@bp.post("/packages/<package_id>/confirm-upload")
@requires(provenance.CONFIRM_PERMISSION)
@operation("Confirm an upload as a camera's recording (a records manager or administrator; in the custody ledger)",
           {"$ref": "#/components/schemas/Package"}, [PACKAGE_ID], errors=(400, 401, 403, 404, 409, 410),
           extra=body_of(_CONFIRM, required=False))
def confirm_upload(package_id: str) -> Any:
    user = caller()
    archive = current_archive()
    queries.visible_package(archive, user, package_id)
    data = json_body() if request.content_length else {}
    row = provenance.confirm(archive, package_id, user.username, user.role, text_of(data, "camera", limit=64))
    return jsonify(package_dict(row))


@bp.get("/me")
@requires("self")
@operation("Who the token or session belongs to, and what it may do", {"$ref": "#/components/schemas/Me"})
def me() -> Any:
    user = current_user()
    assert user is not None
    return jsonify({"username": user.username, "role": user.role,
                    "permissions": sorted(p for p in PERMISSIONS if user.can(p)),
                    "scopes": list(user.scopes) if user.scopes is not None else None})


@bp.get("/openapi.json")
@public
@operation("This document", {"type": "object"}, errors=(), auth=False)
def openapi() -> Any:
    return jsonify(openapi_document(current_app))


def openapi_document(app: Flask) -> dict[str, Any]:
    """OpenAPI 3.1 for every ``/api/v1`` route whose view carries an operation."""
    import re

    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        op = getattr(view, "lw_openapi", None)
        if op is None:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        permission = getattr(view, "lw_permission", None)
        if permission is not None and "security" not in op:
            scope = accounts.scope_for(permission)
            op = dict(op, security=[{"bearer": [scope] if scope else []}], **{"x-permission": permission})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}) or sorted(rule.methods or ()):
            paths.setdefault(path, {})[method.lower()] = dict(op, operationId=f"{op['operationId']}_{method.lower()}")
    return {
        "openapi": "3.1.0",
        "info": {"title": "longwatch", "version": __version__,
                 "description": "REST API of a longwatch CCTV archive. Errors carry stable codes."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearer": {
                           "type": "http", "scheme": "bearer",
                           "description": "An API token (`longwatch token create USER --scope SCOPE`). Each "
                                          "operation lists the scope it needs; a token does at most what its "
                                          "scopes and its owner's role allow (403 W090 or W009). Scopes: "
                                          + "; ".join(f"{name}: {', '.join(sorted(lent))}"
                                                      for name, lent in accounts.SCOPES.items()),
                           "x-scopes": {name: sorted(lent) for name, lent in accounts.SCOPES.items()}}}},
        "paths": paths,
    }


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
