"""Built-in web plugin: the disaster and accident inquiry workspace.

Pick cameras on a map drawn from the catalog (camera points, clustered when there are thousands, and zone
outlines as the hull of their cameras) without reaching the internet (:mod:`longwatch.web.maps`); an
operator may add a base map as files in the archive's ``basemap/`` folder (``basemap.json`` with the image
name and its south, west, north, east) or name their own tile server (``[web] tile_url``). The chosen
cameras play side by side (2 to 4) on one clock (static/inquiry.js), each player going through every clip
of its camera in the span, with detector events on a shared timeline and notes pinned to moments, kept in
the catalog's case.

An investigator works only in the cases shared with them: another case's notes are not found, a note or a
hold in it is refused as if it did not exist, they cannot open a case, and the footage they play or hold is
only the footage they may see (:mod:`longwatch.web.queries`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from longwatch import clock
from longwatch.clock import parse_time
from longwatch.core.accounts import Account
from longwatch.core.catalog import search as search_api
from longwatch.core.catalog.models import Camera, Case, CaseMember, CasePackage, DetectedEvent
from longwatch.core.public import access_requests as req_api
from longwatch.errors import LongwatchError
from longwatch.web import current_archive, maps, queries
from longwatch.web.forms import errors_for, time_field
from longwatch.web.security import current_user, requires

bp = Blueprint("inquiry", __name__)
MAX_PLAYERS = 4
#: At most this many clips per camera in one span (a day of one-minute segments is 1,440).
MAX_CLIPS = 3000


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull (monotone chain): a zone's outline from its cameras when the catalog has no polygon."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def map_model(cameras: list[Camera], chosen: list[str]) -> dict[str, Any]:
    """The workspace's map: the placed cameras (the chosen ones marked), zone outlines and the unplaced ids.

    Drawn by static/maps.js with the served Leaflet; with thousands of cameras the points are clustered
    (:data:`longwatch.web.maps.CLUSTER_FROM`), so the map stays usable for a whole city."""
    points = [p for c in cameras if (p := maps.point(c, chosen=c.id in chosen)) is not None]
    zones: dict[str, list[tuple[float, float]]] = {}
    for p in points:
        if p["zone"]:
            zones.setdefault(p["zone"], []).append((p["lat"], p["lon"]))
    outlines = [{"zone": z, "points": [list(xy) for xy in _hull(pts)]}
                for z, pts in sorted(zones.items()) if len(pts) >= 3]
    placed = {p["id"] for p in points}
    return {"points": points, "outlines": outlines, "unplaced": [c.id for c in cameras if c.id not in placed],
            "many": len(cameras) > maps.CLUSTER_FROM}


def _span(args: Any) -> tuple[datetime | None, datetime | None]:
    """The chosen span; a bad time is W012 naming its field, a reversed span Q001 (shown beside "to")."""
    start, end = args.get("start", "").strip(), args.get("end", "").strip()
    time_field("start", start)
    time_field("end", end)
    lo, hi = (parse_time(start) if start else None), (parse_time(end) if end else None)
    if lo and hi and hi < lo:
        raise LongwatchError("Q001", start=start, end=end)
    return lo, hi


def _notes(case: Case | None) -> list[dict[str, str]]:
    """Notes pinned to moments: lines "ISO-time<TAB>author<TAB>text" in the case's notes."""
    out = []
    for line in (case.notes if case else "").splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3:
            out.append({"at": parts[0], "author": parts[1], "text": parts[2]})
    return out


@bp.get("/inquiry")
@requires("footage:read")
def page() -> Any:
    return _render(request.args)


#: The inquiry's form fields (the span and case on the page's form, the moment and text of a note).
FIELDS = ("camera", "start", "end", "case", "at", "text")


def _render(args: Any, errors: dict[str, LongwatchError] | None = None, typed: dict[str, str] | None = None) -> Any:
    """The workspace for ``args`` (the query, or the form that was posted), with errors beside their fields.

    A bad span is shown beside its field on the page, never as a bare error page (HTTP 400)."""
    archive = current_archive()
    user = current_user()
    assert user is not None
    errors = dict(errors or {})
    chosen = [c for c in args.getlist("camera") if c][:MAX_PLAYERS]
    try:
        lo, hi = _span(args)
    except LongwatchError as exc:
        errors.update(errors_for(exc, FIELDS))
        lo = hi = None
    case_number = args.get("case", "").strip()
    if case_number and user.is_scoped and not queries.may_see_case(archive, user, case_number):
        raise LongwatchError("W011", what=f"case {case_number}")
    players = _players(archive, user, chosen, lo, hi)
    with archive.catalog.session() as s:
        cameras = list(s.scalars(select(Camera).order_by(Camera.id)).all())
        case = s.scalars(select(Case).where(Case.number == case_number)).first() if case_number else None
        events = []
        # a scoped user sees the events of the cameras whose footage they may play, and no others
        seen = [p["camera"] for p in players] if user.is_scoped else chosen
        if seen and lo and hi:
            events = [{"type": e.type, "camera": e.camera, "t": e.start_utc.timestamp(),
                       "confidence": e.confidence}
                      for e in s.scalars(select(DetectedEvent).where(
                          DetectedEvent.camera.in_(seen), DetectedEvent.start_utc >= lo, DetectedEvent.start_utc < hi)
                          .order_by(DetectedEvent.start_utc))]
    model = map_model(cameras, chosen)
    map_config = maps.config(archive.settings, archive.root, model["points"], outlines=model["outlines"],
                             mode="inquiry")
    body = render_template("public/inquiry.html", map=model, map_config=map_config, chosen=chosen, players=players,
                           events=events, notes=_notes(case), case_number=case_number,
                           start=args.get("start", ""), end=args.get("end", ""),
                           span=(lo.timestamp() if lo else 0, hi.timestamp() if hi else 0),
                           tz=archive.settings.tz, errors=errors, typed=typed or {})
    return (body, 400) if errors else body


def _players(archive: Any, user: Account, chosen: list[str], lo: datetime | None,
             hi: datetime | None) -> list[dict[str, Any]]:
    """Every clip of each chosen camera in the span that the user may see, oldest first: one player per camera,
    which static/inquiry.js moves from clip to clip as the one clock runs through the span."""
    players: list[dict[str, Any]] = []
    if not (chosen and lo and hi):
        return players
    for camera in chosen:
        clips: list[dict[str, Any]] = []
        after = ""
        while len(clips) < MAX_CLIPS:
            page = search_api.search(archive.catalog, search_api.Query(
                start=lo, end=hi, cameras=[camera], order="asc", limit=search_api.MAX_LIMIT, after=after))
            visible = set(queries.visible_package_ids(archive, user, [h["package_id"] for h in page.items]))
            clips += [{"clip_id": h["clip_id"], "package_id": h["package_id"], "start": h["start"].timestamp(),
                       "duration": h["duration"] or 0, "src": url_for("clips.media", clip_id=h["clip_id"])}
                      for h in page.items if h["package_id"] in visible and h["status"] not in queries.DESTROYED]
            if not page.next_cursor:
                break
            after = page.next_cursor
        if clips:
            first = clips[0]
            players.append({"camera": camera, "clip_id": first["clip_id"], "package_id": first["package_id"],
                            "start": first["start"], "duration": first["duration"], "clips": clips[:MAX_CLIPS]})
    return players


@bp.get("/inquiry/basemap")
@requires("catalog:read")
def basemap() -> Response:
    """The operator's basemap image: a drawing of the area, not footage, so every map's reader may see it."""
    base = maps.basemap(current_archive().root)
    if not base:
        raise LongwatchError("W011", what="basemap")
    folder = (current_archive().root / "basemap").resolve()
    path = (folder / str(base["image"])).resolve()
    if folder not in path.parents or not path.is_file():
        raise LongwatchError("W011", what="basemap")
    return send_file(path)


def _case(s: Any, number: str, user: Account | None) -> Case:
    """The case to write in; opened when missing, except for scoped users, who work only in shared cases."""
    if not number:
        raise LongwatchError("W012", name="case", detail="a case number is needed")
    case = s.scalars(select(Case).where(Case.number == number)).first()
    if user is None or (user.is_scoped and (case is None or s.get(CaseMember, (case.id, user.username)) is None)):
        raise LongwatchError("W011", what=f"case {number}")
    if case is None:
        case = Case(number=number, title=number, created_at=clock.now(), notes="")
        s.add(case)
        s.flush()
    return case


@bp.post("/inquiry/note")
@requires("inquiry:write")
def note() -> Any:
    f = request.form
    typed = {"at": f.get("at", ""), "text": f.get("text", "")}
    text = " ".join(typed["text"].split())
    try:
        if not typed["at"].strip():
            raise LongwatchError("W012", name="at", detail="the moment of the note is needed")
        time_field("at", typed["at"])
        if not text:
            raise LongwatchError("W012", name="text", detail="the note is empty")
        if not f.get("case", "").strip():
            raise LongwatchError("W012", name="case", detail="a case number is needed")
    except LongwatchError as exc:  # the workspace again, the note as typed, the error beside its field
        return _render(f, errors_for(exc, FIELDS), typed)
    at = parse_time(typed["at"])
    user = current_user()
    with current_archive().catalog.session() as s:
        case = _case(s, f.get("case", "").strip(), user)
        line = f"{at.isoformat().replace('+00:00', 'Z')}\t{user.username if user else ''}\t{text}"
        case.notes = (case.notes + "\n" if case.notes else "") + line
    kept: dict[str, Any] = {k: request.form.getlist(k) for k in ("camera", "start", "end", "case")}
    return redirect(url_for("inquiry.page", **kept))


@bp.post("/inquiry/hold")
@requires("inquiry:write")
def hold() -> Any:
    """Attach the span's footage to the case and hold it (seam to the retention branch)."""
    f = request.form
    try:
        start, end = _span(f)
        if start is None or end is None:
            raise LongwatchError("W012", name="start" if start is None else "end", detail="a span is needed")
        if not f.get("case", "").strip():
            raise LongwatchError("W012", name="case", detail="a case number is needed")
    except LongwatchError as exc:
        return _render(f, errors_for(exc, FIELDS))
    cameras = [c for c in f.getlist("camera") if c]
    archive = current_archive()
    user = current_user()
    assert user is not None
    found = queries.visible_package_ids(archive, user, sorted({i["package_id"] for i in search_api.search(
        archive.catalog, search_api.Query(start=start, end=end, cameras=cameras, limit=1000)).items}))
    with archive.catalog.session() as s:
        case = _case(s, f.get("case", "").strip(), user)
        known = set(s.scalars(select(CasePackage.package_id).where(CasePackage.case_id == case.id)).all())
        for pid in found:
            if pid not in known:
                s.add(CasePackage(case_id=case.id, package_id=pid))
    req_api.hold_packages(archive, f"case:{f.get('case', '').strip()}", found, user.username)
    return redirect(url_for("inquiry.page", camera=cameras, start=f.get("start"), end=f.get("end"),
                            case=f.get("case")))


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
