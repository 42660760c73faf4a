"""``POST /api/v1/events``: a control centre's AI CCTV or VMS pushes events as they happen.

The same rows as ``longwatch events import`` (one object, a list, or
``{"events": [...]}``), the same idempotence on (source system, vendor event
id) and the same D014 errors per row, numbered from 1; good rows land even
when others are bad. Needs a bearer token whose role may upload footage and
sees every camera: an event preserves a window of its camera's footage for a
year, so an investigator (who sees only the cases shared with them) may not
post one (W040).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from longwatch.core.events import record as events
from longwatch.errors import LongwatchError
from longwatch.web import current_archive
from longwatch.web.api import ERROR, operation, parsed_json
from longwatch.web.security import requires

bp = Blueprint("events_api", __name__, url_prefix="/api/v1")

_EVENT = {"type": "object", "required": ["camera", "type", "confidence", "source_system", "vendor_event_id"],
          "properties": {
              "camera": {"type": "string", "maxLength": 64}, "type": {"type": "string", "maxLength": 64},
              "time": {"type": "string", "format": "date-time"}, "start": {"type": "string", "format": "date-time"},
              "end": {"type": "string", "format": "date-time"},
              "confidence": {"type": "number", "minimum": 0, "maximum": 1},
              "source_system": {"type": "string", "maxLength": 100},
              "vendor_event_id": {"type": "string", "maxLength": 200},
              "boxes": {"type": "array", "items": {"type": "array", "items": {"type": "number", "minimum": 0},
                                                   "minItems": 4, "maxItems": 4}},
              "zone": {"type": "string", "maxLength": 200}}}
_RESULT = {"type": "object", "required": ["imported", "skipped", "event_ids", "windows", "errors"],
           "properties": {"imported": {"type": "integer"}, "skipped": {"type": "integer"},
                          "event_ids": {"type": "array", "items": {"type": "integer"}},
                          "windows": {"type": "array", "items": {"type": "string"}},
                          "errors": {"type": "array", "items": {"type": "object"}}}}
_JSON_RESULT = {"content": {"application/json": {"schema": _RESULT}}}
_DOC = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
        _EVENT, {"type": "array", "items": _EVENT, "maxItems": 50},
        {"type": "object", "required": ["events"],
         "properties": {"events": {"type": "array", "items": _EVENT, "maxItems": 50}}}]}}}},
    "responses": {
        "201": {"description": "at least one event recorded", **_JSON_RESULT},
        "200": {"description": "every event was recorded before", **_JSON_RESULT},
        **{str(c): {"description": "error", "content": {"application/json": {"schema": ERROR}}}
           for c in (400, 401, 403)}},
}


@bp.post("/events")
@requires("upload:write", scoped=False)
@operation("Record events from a control centre's AI CCTV or VMS (idempotent on source and vendor id)",
           extra=_DOC)
def post_events() -> Any:
    body = parsed_json()
    if isinstance(body, dict) and isinstance(body.get("events"), list):
        items = body["events"]
    elif isinstance(body, dict):
        items = [body]
    elif isinstance(body, list):
        items = body
    else:
        raise LongwatchError("D014", line=1, detail="the body must be a JSON object or a list of objects")
    rows = [(n, item if isinstance(item, dict) else ValueError("an event must be a JSON object"))
            for n, item in enumerate(items, 1)]
    result = events.import_rows(current_archive(), rows)
    data = {"imported": len(result.imported), "skipped": len(result.skipped), "event_ids": result.imported,
            "windows": result.windows,
            "errors": [{"line": line, **err.to_dict()} for line, err in result.errors]}
    if result.errors and not result.imported and not result.skipped:
        return jsonify({"error": result.errors[0][1].to_dict(), **data}), 400
    return jsonify(data), 201 if result.imported else 200


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
