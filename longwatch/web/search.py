"""Built-in web plugin: the search page (``/search``), the investigator's way into the footage.

Every filter of ``longwatch search`` on one form: a time range picked on the
archive's wall clock, cameras, a zone with its sub-zones, a place (a radius
around a point or a box), an event type with a minimum confidence, a case and
full text. The engine is :mod:`longwatch.core.catalog.search` (one page of
clips by keyset cursor, facet counts); this module only reads the form, maps
the engine's Q errors back to the field they are about and renders. A scoped
reader (an investigator) searches within the packages they may see, so the
facet counts never tell them about footage outside their cases.

``/packages`` keeps its simple list; given a filter only search understands
(``?near=``, ``?zone=``, ...) it sends the reader here rather than ignoring it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, current_app, render_template, request
from markupsafe import Markup, escape

from longwatch import clock
from longwatch.core.catalog import reference
from longwatch.core.catalog import search as search_api
from longwatch.core.preservation import gaps as gaps_mod
from longwatch.core.preservation import provenance
from longwatch.errors import LongwatchError
from longwatch.web import current_archive, maps, queries
from longwatch.web.forms import FORM, local_time, picker_value
from longwatch.web.security import current_user, requires

bp = Blueprint("search", __name__)

#: The form's fields, in the order they are read (an error names one of them, else the form).
FIELDS = ("start", "end", "camera", "zone", "near", "radius", "bbox", "event", "min_confidence", "case", "q",
          "after")
#: Query arguments that only this page understands: ``/packages`` sends a request with any of them here.
SEARCH_ONLY = ("near", "radius", "bbox", "zone", "event", "min_confidence", "case", "q")
#: The field each engine error is about, where its context does not name one.
FIELD_OF_CODE = {"Q001": "end", "I003": "start", "Q002": "near", "Q003": "zone", "Q004": "q", "Q005": "q",
                 "Q006": "after", "Q007": "radius", "Q008": "bbox", "Q010": "case", "Q013": "min_confidence",
                 "Q014": FORM}
#: Q015 names its field in words (the command line's option): the form's field of each.
FIELD_OF_WORD = {"radius": "near", "text": "q", "coordinates": "near", "event type": "event", "cameras": "camera",
                 "order": FORM, "purpose": FORM}


@dataclass
class Form:
    """What was typed, kept as typed (the page shows it back), and the engine's query made of it."""

    typed: dict[str, Any] = field(default_factory=dict)
    query: search_api.Query = field(default_factory=search_api.Query)


def _number(name: str, text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise LongwatchError("W012", name=name, detail="not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise LongwatchError("W012", name=name, detail="not a number")
    return value


def _box(text: str) -> tuple[float, float, float, float] | None:
    text = text.strip()
    if not text:
        return None
    parts = text.split(",")
    if len(parts) != 4:
        raise LongwatchError("Q008", value=text[:80])
    try:
        south, west, north, east = (float(p) for p in parts)
    except ValueError:
        raise LongwatchError("Q008", value=text[:80]) from None
    return south, west, north, east


def typed_of(args: Any) -> dict[str, Any]:
    """The form's values as typed (trimmed, bounded), to read and to show back."""
    typed: dict[str, Any] = {name: (args.get(name) or "").strip()[:400] for name in FIELDS if name != "camera"}
    typed["camera"] = [c.strip()[:64] for c in args.getlist("camera") if c.strip()][:search_api.MAX_LIST]
    return typed


def read_form(typed: dict[str, Any], page_size: int) -> Form:
    """The query of the typed form; a bad value is a coded error naming its field."""
    zone = current_archive().settings.tz
    q = search_api.Query(limit=page_size, cameras=typed["camera"], zone=typed["zone"], event_type=typed["event"],
                         case=typed["case"], text=typed["q"], after=typed["after"])
    q.start = local_time("start", typed["start"], zone)
    q.end = local_time("end", typed["end"], zone)
    if typed["near"]:
        q.near = reference.parse_coordinates(typed["near"])
        radius = _number("radius", typed["radius"])
        q.radius_m = radius if radius is not None else 500.0  # a point with no radius: the street around it
    elif typed["radius"]:
        raise LongwatchError("W012", name="near", detail="a radius needs a centre point (LAT,LON)")
    q.bbox = _box(typed["bbox"])
    q.min_confidence = _number("min_confidence", typed["min_confidence"])
    return Form(typed, q)


def field_of(error: LongwatchError) -> str:
    """The form field an error is about, so the page shows it there."""
    named = str(error.context.get("name", ""))
    if named in FIELDS:
        return named
    if error.code == "Q015":
        return FIELD_OF_WORD.get(str(error.context.get("field", "")), FORM)
    return FIELD_OF_CODE.get(error.code, FORM)


def wants_search(args: Any) -> bool:
    """Whether ``args`` hold a filter only the search page understands."""
    return any((args.get(name) or "").strip() for name in SEARCH_ONLY)


@bp.get("/search")
@requires("catalog:read")
def page() -> Any:
    return render(request.args)


@bp.get("/search/facets")
@requires("catalog:read")
def facet_panel() -> Any:
    """The facet panel alone (HTML), for static/search.js to fill the page with after its results."""
    archive = current_archive()
    user = current_user()
    assert user is not None
    try:
        form = read_form(typed_of(request.args), current_app.config["LONGWATCH_PAGE_SIZE"])
        q = _scoped(archive, user, form.query)
        found = counted(archive, q)
    except LongwatchError as exc:  # the page beside it shows the error at its field
        return render_template("_search_facets.html", error=exc), 400
    return render_template("_search_facets.html", facets=found, typed=form.typed, facet_args=_facet_args,
                           hits={f["key"]: f["count"] for f in found["camera"]})


def _scoped(archive: Any, user: Any, q: search_api.Query) -> search_api.Query:
    """The query within what ``user`` may see (an investigator: the packages of the cases shared with them)."""
    if q.case and user.is_scoped and not queries.may_see_case(archive, user, q.case):
        raise LongwatchError("Q010", number=q.case)  # another's case is no case for them
    q.packages = queries.visible_scope(archive, user)
    return q


def counted(archive: Any, q: search_api.Query) -> dict[str, Any]:
    """The facet counts of ``q``, bounded: at most the newest FACET_CAP matches are read (exact below it)."""
    offset = clock.now().astimezone(archive.settings.tz).utcoffset()
    assert offset is not None
    return search_api.facets(archive.catalog, search_api.Query(**{**vars(q), "after": ""}), utc_offset=offset,
                             cap=search_api.FACET_CAP)


def render(args: Any, refused: dict[str, LongwatchError] | None = None) -> Any:
    """The search page for ``args`` (the query, or a form posted to save it), with ``refused``: the errors of
    that form, beside their fields (HTTP 400).

    The results come first: the facet counts are left to /search/facets, fetched by the page's script,
    unless asked for with ``facets=1`` (the page's link without JavaScript). Even bounded they read up to
    10,000 matches, where a page of results reads 50.
    """
    archive = current_archive()
    user = current_user()
    assert user is not None
    errors: dict[str, LongwatchError] = {}
    items: list[dict[str, Any]] = []
    found: dict[str, Any] = {"total": 0, "total_exact": True, "camera": [], "zone": [], "event_type": []}
    inline = (args.get("facets") or "") == "1"
    gaps: list[Any] = []
    cursor = None
    form = Form(typed_of(args))
    try:
        form = read_form(form.typed, current_app.config["LONGWATCH_PAGE_SIZE"])
        q = _scoped(archive, user, form.query)
        result = search_api.search(archive.catalog, q)
        items, cursor = provenance.mark_uploads(archive, [dict(i) for i in result.items]), result.next_cursor
        if inline:
            found = counted(archive, q)
        if (q.start or q.end) and not user.is_scoped:
            gaps = gaps_mod.overlapping(archive.catalog, q.start, q.end, q.cameras, limit=50)
    except LongwatchError as exc:  # the form again, as typed, the error beside its field
        errors = {field_of(exc): exc}
    zone = archive.settings.tz
    visible = queries.cameras(archive, user)
    hits = {f["key"]: f["count"] for f in found.get("camera", [])}
    body = render_template(
        "search.html", typed=form.typed, items=items, facets=found, deferred=not inline, hits=hits, gaps=gaps,
        cursor=cursor, errors=errors,
        camera_options=camera_options(visible, form.typed["camera"]),
        zone_options=zone_options(reference.list_zones(archive.catalog), form.typed["zone"]),
        cases=queries.visible_cases(archive, user), tz=zone, destroyed=queries.DESTROYED,
        start_value=_picker(form.typed.get("start", ""), zone), end_value=_picker(form.typed.get("end", ""), zone),
        facet_args=_facet_args, save_errors={k: v for k, v in (refused or {}).items() if k not in errors},
        save_name=(args.get("name") or "")[:100] if refused else "",
        saved_as=(args.get("saved") or "")[:100],
        map_config=maps.config(archive.settings, archive.root, map_points(archive, user, visible, hits),
                               mode="search"))
    return (body, 400) if errors or refused else body


def camera_options(cameras: list[str], chosen: list[str]) -> Markup:
    """The camera field's options, joined here: 500 cameras through a Jinja loop were a third of the
    page's CPU under 50 clients (with the zones' options)."""
    picked = set(chosen)
    return Markup("".join(  # noqa: S704 - every value escaped here
        f"<option selected>{escape(c)}</option>" if c in picked else f"<option>{escape(c)}</option>" for c in cameras))


INDENT = "\u00a0\u00a0"  # two no-break spaces a level: the zone tree in a plain <select>


def zone_options(zones: list[dict[str, Any]], chosen: str) -> Markup:
    """The zone field's options (indented by depth), joined here for the same reason as the cameras'."""
    out = []
    for z in zones:
        path = z["path"]
        selected = " selected" if path == chosen else ""
        indent = INDENT * path.count("/")
        out.append(f'<option value="{escape(path)}"{selected}>{indent}{escape(z["name"] or path)}</option>')
    return Markup("".join(out))  # noqa: S704 - every value escaped above


def map_points(archive: Any, user: Any, visible: list[str], hits: dict[str, int]) -> list[dict[str, Any]]:
    """The cameras on the search map (a scoped reader's: those of the footage they may see), with the hits of
    the current search per camera, so the results are seen where they were recorded."""
    seen = set(visible) if user.is_scoped else None
    return [{**p, "hits": hits.get(p["id"], 0)} for p in maps.placed_cameras(archive)
            if seen is None or p["id"] in seen]


def _picker(text: str, zone: Any) -> str:
    """The picker's value: a time that parses is shown on the archive's wall clock, else as it was typed."""
    try:
        return picker_value(local_time("x", text, zone), zone)
    except LongwatchError:
        return text


def _facet_args(typed: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    """The query arguments of the current search narrowed to one facet value (no cursor: page one)."""
    args: dict[str, Any] = {k: v for k, v in typed.items() if v and k not in ("after", "camera")}
    args["camera"] = [value] if name == "camera" else list(typed.get("camera") or [])
    if name == "zone":
        args["zone"] = value
    if name == "event":
        args["event"] = value
    return args


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
