"""Search the catalog: the Python API behind ``longwatch search`` and the web UI.

One :class:`Query` holds every filter; :func:`search` returns one page sorted by
time with a keyset cursor for the next, :func:`facets` counts by camera, zone
and day. The same SQL runs on SQLite and PostgreSQL except full text (see
``fulltext``). Every input is checked first and refused with a Q code; values
only ever reach SQL as bound parameters.

Place: a plain B-tree index on (latitude, longitude) on both back ends rather
than SQLite's R*Tree or PostGIS: cameras are points, a radius of a few hundred
metres is a narrow latitude band, and one index type keeps the two back ends
alike. A radius is a box on the index, then an equirectangular distance test
in SQL (arithmetic only; error well under 0.1 % below 50 km).
"""

from __future__ import annotations

import base64
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Date,
    Select,
    and_,
    any_,
    cast,
    event,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session

from longwatch.core.catalog import Catalog, facets_fast, fulltext, walk
from longwatch.core.catalog.models import Camera, Case, CasePackage, Clip, DetectedEvent, Package, Purpose
from longwatch.core.catalog.reference import check_coordinates, normalize_tags, zone_subtree
from longwatch.errors import LongwatchError

MAX_TEXT = 200
MAX_WORDS = 16
MAX_LIMIT = 1000
MAX_RADIUS_M = 50_000
MAX_LIST = 500
METRES_PER_DEGREE = 111_320.0


@dataclass
class Query:
    """Every filter is optional; filters combine with AND."""

    start: datetime | None = None
    end: datetime | None = None
    cameras: list[str] = field(default_factory=list)
    zone: str = ""
    purpose: str = ""
    bbox: tuple[float, float, float, float] | None = None  # south, west, north, east
    near: tuple[float, float] | None = None  # latitude, longitude
    radius_m: float | None = None
    event_type: str = ""
    min_confidence: float | None = None
    case: str = ""
    tags: list[str] = field(default_factory=list)
    text: str = ""
    order: str = "desc"
    limit: int = 50
    after: str = ""
    #: only clips of these packages (None: any). A reader who may see only some packages (an investigator
    #: sees the cases shared with them) searches within them: the page and the facet counts both.
    packages: list[str] | None = None


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


# -- checking what people type --------------------------------------------------------
def validate(q: Query) -> None:
    """Refuse bad input with a coded error before any SQL runs."""
    if q.start is not None and q.end is not None and q.end <= q.start:
        raise LongwatchError("Q001", start=q.start.isoformat(), end=q.end.isoformat())
    for t in (q.start, q.end):
        if t is not None and t.tzinfo is None:
            raise LongwatchError("I003", value=t.isoformat())
    if q.bbox is not None:
        s, w, n, e = q.bbox
        check_coordinates(s, w, q.bbox)
        check_coordinates(n, e, q.bbox)
        if s > n or w > e:
            raise LongwatchError("Q008", value=",".join(str(v) for v in q.bbox))
    if q.near is not None:
        check_coordinates(q.near[0], q.near[1], q.near)
        radius = q.radius_m if q.radius_m is not None else 0
        if not (0 < radius <= MAX_RADIUS_M) or radius != radius:
            raise LongwatchError("Q007", value=radius, limit=MAX_RADIUS_M)
    elif q.radius_m is not None:
        raise LongwatchError("Q015", field="radius", value=q.radius_m, detail="give --near LAT,LON with it")
    if q.min_confidence is not None and not (0 <= q.min_confidence <= 1):
        raise LongwatchError("Q013", value=q.min_confidence)
    if len(q.text) > MAX_TEXT:
        raise LongwatchError("Q004", length=len(q.text), limit=MAX_TEXT)
    if q.text.strip() and not fulltext.words(q.text):
        raise LongwatchError("Q005", value=q.text)
    if len(fulltext.words(q.text)) > MAX_WORDS:
        raise LongwatchError("Q015", field="text", value=q.text[:40], detail=f"at most {MAX_WORDS} words")
    if not (1 <= q.limit <= MAX_LIMIT):
        raise LongwatchError("Q014", value=q.limit, limit=MAX_LIMIT)
    if q.order not in ("asc", "desc"):
        raise LongwatchError("Q015", field="order", value=q.order, detail="asc or desc")
    if len(q.cameras) > MAX_LIST or len(q.tags) > MAX_LIST:
        raise LongwatchError("Q015", field="cameras", value=len(q.cameras), detail=f"at most {MAX_LIST}")
    for value, name in ((q.event_type, "event type"), (q.purpose, "purpose")):
        if len(value) > 64:
            raise LongwatchError("Q015", field=name, value=value[:64], detail="at most 64 characters")
    normalize_tags(q.tags)
    if q.after:
        decode_cursor(q.after)


def encode_cursor(start: datetime, clip_id: int) -> str:
    raw = f"{start.astimezone(UTC).isoformat()}|{clip_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        if len(cursor) > 200:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, ident = raw.partition("|")
        start = datetime.fromisoformat(when)
        if start.tzinfo is None:
            raise ValueError("no zone")
        return start, int(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LongwatchError("Q006", value=cursor[:40]) from exc


# -- building the SQL ------------------------------------------------------------------
def _longest_clip(s: Session) -> int:
    """Seconds of the longest clip (an index lookup); bounds the overlap scan on start."""
    return int(s.scalar(select(func.max(Clip.span_s))) or 0)


#: Up to this many candidates, a selective filter (event, case, text) drives the search: the database
#: starts from those rows (a covering index for events and cases, the FTS5 rowids for text) and sorts
#: the few matches with LIMIT, instead of walking the time index hoping to meet them. Beyond it
#: matches are dense and walking the time index (or a camera's or zone's) finds a page soon.
NARROW_CAP = 5000
#: Rows of its driving term (or prefix's words) a text walk reads at most (see _walk_plan).
WALK_BUDGET = 1000


def _few(s: Session, subquery: Select[Any]) -> bool:
    """Whether the subquery has at most NARROW_CAP rows (counted in the index, at most NARROW_CAP + 1).

    The session may carry its own bound (``narrow_cap``: the capped facets read up to 10,000 matches, not 50).
    """
    cap = int(s.info.get("narrow_cap", NARROW_CAP))
    counted = select(func.count()).select_from(subquery.limit(cap + 1).subquery())
    return (s.scalar(counted) or 0) <= cap


def _narrow(s: Session, column: Any, subquery: Select[Any], page: bool = True) -> Any:
    """``column IN (subquery)``, planned by how many candidates the subquery has.

    Only for one page in time order (``page``): a count over every match (the facets) has no
    time order to walk, so there the term stays plain and the candidates drive it. Written
    ``+column`` there, SQLite counted every clip of the catalog for each facet (an event type
    with 10,000 events at a million clips: 7.7 s for the total, 48 s for the cameras).

    The candidates are only counted (in the index, at most NARROW_CAP + 1 of them), never
    fetched: the main query keeps the subquery, so one statement does the whole search. A few:
    the search is marked as driven by them (see ``_unindexed_start``). Many: on SQLite the term
    is written ``+column`` so that it cannot use an index and the time index drives instead;
    SQLite otherwise starts from, say, 170,000 text matches and sorts them all (200 ms against
    20 ms at a million clips). On PostgreSQL the term is written ``(column IN (subquery)) IS TRUE``
    (the same rows: WHERE keeps only true either way), which it cannot turn into a join: it hashes
    the candidates once and checks each clip met in time order against them, as SQLite's LIST
    SUBQUERY does. As a plain IN, PostgreSQL made it a semi join probing the events' index once per
    clip, in three processes (an event type at a million clips: 49,000 buffers, 28 ms of each
    process alone, 0.7-1.6 s p50/p95 under 50 clients; hashed: 400 buffers, 9-15 ms, one process).
    """
    if not page:
        return column.in_(subquery)
    if _few(s, subquery):
        s.info["narrowed"] = True
        if s.get_bind().dialect.name == "postgresql":
            # As an array the candidates drive the clips' (package_id, start_utc) index, one probe each. As
            # IN (subquery) PostgreSQL hashed them and read every clip: the capped facets of an event type
            # (10,000 candidates at a million clips) scanned the million in 330-450 ms alone.
            return column == any_(func.array(subquery.scalar_subquery()))
        return column.in_(subquery)
    if s.get_bind().dialect.name == "sqlite":
        return literal_column(f"+{column.table.name}.{column.name}").in_(subquery)
    return column.in_(subquery).is_(true())


def _unindexed_start(dialect: str) -> Any:
    """The start time as an expression no index can serve, so ORDER BY does not pick the planner's path.

    SQLite's unary ``+`` and PostgreSQL's ``+ interval '0'`` leave the value (and its order)
    as it is; the planner then chooses the access path from the WHERE clause alone, i.e. from the
    selective filter, and sorts the few rows it finds (a top-N sort under LIMIT).
    """
    if dialect == "sqlite":
        return literal_column("+clips.start_utc")
    return literal_column("(clips.start_utc + interval '0 seconds')")


def _filters(s: Session, q: Query, text_mode: str = "index", page: bool = False) -> list[Any]:
    """The WHERE terms; ``page``: for one page in time order (a LIMIT), not a count over all matches."""
    dialect = s.get_bind().dialect.name
    conds: list[Any] = [Clip.start_utc.is_not(None)]
    if q.end is not None:
        conds.append(Clip.start_utc < q.end)
    if q.start is not None:
        conds.append(Clip.start_utc >= q.start - timedelta(seconds=_longest_clip(s) + 1))
        conds.append(or_(Clip.end_utc > q.start, and_(Clip.end_utc.is_(None), Clip.start_utc >= q.start)))
    if q.cameras:
        conds.append(Clip.camera.in_(sorted(set(q.cameras))))
    if q.zone:
        conds.append(Clip.zone.in_(zone_subtree(s, q.zone)))
    if q.purpose:
        if s.get(Purpose, q.purpose) is None:
            raise LongwatchError("Q015", field="purpose", value=q.purpose,
                                 detail="not a known purpose; see `longwatch cameras purposes`")
        conds.append(Clip.camera.in_(select(Camera.id).where(Camera.purpose == q.purpose)))
    for tag in q.tags:
        pattern = f"%,{tag.strip().lower()},%"
        conds.append(Clip.camera.in_(select(Camera.id).where(Camera.tags.like(pattern))))
    if q.bbox is not None:
        south, west, north, east = q.bbox
        conds += [Clip.latitude.between(south, north), Clip.longitude.between(west, east)]
    if q.near is not None and q.radius_m is not None:
        lat0, lon0 = q.near
        dlat = q.radius_m / METRES_PER_DEGREE
        coslat = max(math.cos(math.radians(lat0)), 1e-6)
        dlon = min(dlat / coslat, 360.0)
        conds += [Clip.latitude.between(lat0 - dlat, lat0 + dlat),
                  Clip.longitude.between(lon0 - dlon, lon0 + dlon)]
        dy = Clip.latitude - lat0
        dx = (Clip.longitude - lon0) * coslat
        conds.append(dy * dy + dx * dx <= dlat * dlat)
    if q.event_type or q.min_confidence is not None:
        ev = select(DetectedEvent.package_id).where(DetectedEvent.package_id.is_not(None))
        if q.event_type:
            ev = ev.where(DetectedEvent.type == q.event_type)
        if q.min_confidence is not None:
            ev = ev.where(DetectedEvent.confidence >= q.min_confidence)
        conds.append(_narrow(s, Clip.package_id, ev, page) if text_mode == "index" else Clip.package_id.in_(ev))
    if q.packages is not None:
        conds.append(Clip.package_id.in_(sorted(set(q.packages))))
    if q.case:
        case_id = s.scalar(select(Case.id).where(Case.number == q.case))
        if case_id is None:
            raise LongwatchError("Q010", number=q.case)
        members = select(CasePackage.package_id).where(CasePackage.case_id == case_id)
        conds.append(_narrow(s, Clip.package_id, members, page) if text_mode == "index"
                     else Clip.package_id.in_(members))
    words = fulltext.words(q.text)
    if words:
        plan = _walk_plan(s, q) if page and text_mode == "index" else None
        if plan is not None:  # the page is read from clip_terms / clip_words in time order (_walk_select)
            s.info["walk"] = plan
        elif text_mode == "scan":  # the benchmark's baseline: no full-text index at all
            body = func.lower(func.coalesce(Package.title, "") + " " + func.coalesce(Package.description, "")
                              + " " + func.coalesce(Package.location_name, ""))
            conds.append(Clip.package_id.in_(select(Package.id).where(*[body.like(f"%{w}%") for w in words])))
        elif dialect == "sqlite":
            # FTS5 rowid = clip id: a few matches are looked up by primary key, no join to packages.
            match = fulltext.sqlite_match(q.text)
            hits: Select[Any] = select(literal_column("rowid")).select_from(text(fulltext.SQLITE_TABLE)).where(
                text(f"{fulltext.SQLITE_TABLE} MATCH :fts_query").bindparams(fts_query=match))
            conds.append(_narrow(s, Clip.id, hits, page))
        else:
            tsquery = fulltext.pg_tsquery(q.text)
            doc = text(fulltext.pg_document("packages") + " @@ to_tsquery('simple', :fts_query)").bindparams(
                fts_query=tsquery)
            hits_pg = select(Package.id).where(doc)
            if _few(s, hits_pg):
                # A few packages: their ids as an array drive the (package_id, start_utc) index. Given as
                # IN (subquery), PostgreSQL hashes the matches and scans every clip when a phrase's
                # matches are underestimated (2,000 matches at 100,000 clips: 150 ms against 3 ms).
                s.info["narrowed"] = True
                conds.append(text(fulltext.pg_clips_in_array(":fts_few")).bindparams(fts_few=tsquery))
            elif page:
                # Many packages, one page: check each clip met in time order until the page is full (a
                # subquery per row that the planner cannot turn into a join). As IN (subquery), PostgreSQL
                # fetched and rechecked every match first (a phrase at 40,000 matches: 0.7 s of CPU).
                conds.append(text(fulltext.pg_clip_matches(":fts_many")).bindparams(fts_many=tsquery))
            else:
                conds.append(Clip.package_id.in_(hits_pg))
    return conds


def _walk_plan(s: Session, q: Query) -> walk.Plan | None:
    """A text search read from ``clip_terms`` and ``clip_words`` in time order, when text (and time) are its
    only filters.

    Dense or rare: the walk reads the rows of the query's locally rarest term, each candidate
    checked by primary-key lookups, and stops at a full page or after WALK_BUDGET rows. It is
    chosen before the full-text index is asked anything, because there even counting the matches
    cost most of the time (SQLite: 5,001 of 시장's rowids; a one-letter prefix such as 역 merges
    every term it matches before the first row; PostgreSQL: 4,398 phrase matches of 남대문시장
    listed, fetched and sorted, 58 ms at 100,000 clips, where the walk reads 51 rows).

    With a camera, zone, place, event or case as well, that filter's own index in time order
    stays the better walk (one camera in 500 would be met once per 500 term rows). A walk that
    has read WALK_BUDGET rows of its term without filling the page (two common words rarely
    together, such as 시장 공원) gives way to the full-text index, which intersects their lists.
    """
    if (s.info.get("no_walk") or q.cameras or q.zone or q.purpose or q.tags or q.bbox is not None
            or q.near is not None or q.event_type or q.min_confidence is not None or q.case or q.packages is not None):
        return None
    plan = walk.plan(s, q.text)
    if plan is not None and s.info.get("walk_whole") and (len(plan.sources) > 1 or plan.exact):
        return None  # the facets walk one source to the end, uncut (see _capped_facets)
    return plan


def _walk_select(s: Session, q: Query, plan: walk.Plan, conds: list[Any]) -> Any:
    """One page of a text search read in time order from the terms beside the time (see :mod:`walk`)."""
    budget = 0 if s.info.get("walk_whole") else WALK_BUDGET
    return walk.page(s, plan, conds, order=q.order, limit=q.limit, budget=budget, window=(q.start, q.end),
                     longest_s=_longest_clip(s) if q.start is not None else 0,
                     cursor=decode_cursor(q.after) if q.after else None)


def _select(s: Session, q: Query, text_mode: str = "index") -> Select[Any]:
    conds = _filters(s, q, text_mode, page=True)
    plan = s.info.pop("walk", None)
    if plan is not None:
        return _walk_select(s, q, plan, conds)
    if q.after:
        at, ident = decode_cursor(q.after)
        if q.order == "desc":
            conds.append(or_(Clip.start_utc < at, and_(Clip.start_utc == at, Clip.id < ident)))
        else:
            conds.append(or_(Clip.start_utc > at, and_(Clip.start_utc == at, Clip.id > ident)))
    start: Any = Clip.start_utc
    if s.info.get("narrowed"):
        start = _unindexed_start(s.get_bind().dialect.name)
    order = (start.desc(), Clip.id.desc()) if q.order == "desc" else (start.asc(), Clip.id.asc())
    return select(Clip.id).where(*conds).order_by(*order).limit(q.limit + 1)


#: The columns of one hit, read as plain rows (no ORM objects: a page is 50 of them, on every search).
_ITEM_COLUMNS = (Clip.id, Clip.package_id, Clip.camera, Clip.zone, Clip.start_utc, Clip.end_utc, Clip.duration,
                 Package.title, Package.location_name, Clip.latitude, Clip.longitude, Clip.relpath,
                 Clip.size_bytes, Clip.sha256, Clip.codec, Package.status)


def item(r: Any) -> dict[str, Any]:
    """One hit; the keys are the stable JSON of ``longwatch search --json`` (docs/search.md)."""
    return {
        "clip_id": r.id, "package_id": r.package_id, "camera": r.camera or "", "zone": r.zone or "",
        "start": r.start_utc, "end": r.end_utc, "duration": r.duration, "title": r.title,
        "location_name": r.location_name, "latitude": r.latitude, "longitude": r.longitude,
        "path": r.relpath, "size": r.size_bytes, "sha256": r.sha256, "codec": r.codec, "status": r.status,
    }


def search(catalog: Catalog, q: Query, text_mode: str = "index") -> Page:
    """One page of clips, newest first (or oldest with ``order='asc'``), and the cursor of the next."""
    validate(q)
    with catalog.session() as s:
        s.info.pop("narrowed", None)
        s.info.pop("walk", None)
        s.info.pop("walk_cut", None)
        ids = list(s.scalars(_select(s, q, text_mode)))
        if s.info.pop("walk_cut", False) and len(ids) <= q.limit:
            # The walk's budget ran out before the page was full: the full-text index instead.
            s.info["no_walk"] = True
            ids = list(s.scalars(_select(s, q, text_mode)))
            s.info.pop("no_walk", None)
        more = len(ids) > q.limit
        ids = ids[: q.limit]
        page = select(*_ITEM_COLUMNS).join_from(Clip, Package, Package.id == Clip.package_id).where(Clip.id.in_(ids))
        rows = {r.id: r for r in s.execute(page)} if ids else {}
        items = [item(rows[i]) for i in ids if i in rows]
    cursor = None
    if more and items:
        last = items[-1]
        cursor = encode_cursor(last["start"], last["clip_id"])
    return Page(items=items, next_cursor=cursor)


def explain(catalog: Catalog, q: Query) -> list[str]:
    """The database's plan for the main statement of ``search(catalog, q)``, one line per step.

    SQLite's EXPLAIN QUERY PLAN or PostgreSQL's EXPLAIN of exactly the SQL and parameters the
    search sent, so a test or a benchmark can check which index drives it.
    """
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.startswith(("SELECT clips.id", "SELECT w0.id")) and "ORDER BY" in statement:
            sent.append((statement, parameters))

    event.listen(catalog.engine, "before_cursor_execute", record)
    try:
        search(catalog, q)
    finally:
        event.remove(catalog.engine, "before_cursor_execute", record)
    statement, parameters = sent[0]
    is_sqlite = catalog.engine.dialect.name == "sqlite"
    with catalog.engine.connect() as conn:
        rows = conn.exec_driver_sql(("EXPLAIN QUERY PLAN " if is_sqlite else "EXPLAIN ") + statement,
                                    parameters).all()
    return [str(r[3] if is_sqlite else r[0]) for r in rows]


#: The facets of the web page and the API count at most this many matches (the newest), as the package list
#: caps its total: counting every match of a broad search read every clip (0.8-9 s at a million clips).
FACET_CAP = 10_000
#: Up to this many event, case or text candidates drive the capped facets (NARROW_CAP is a page's): to find
#: FACET_CAP matches in time order a walk reads FACET_CAP / density clips, the candidates read themselves.
FACET_NARROW_CAP = 50_000


def facets(catalog: Catalog, q: Query, utc_offset: timedelta = timedelta(0), top: int = 50,
           cap: int | None = None, fast: bool = True) -> dict[str, Any]:
    """Counts of matching clips by camera, zone and day (days in the given fixed offset, e.g. +09:00), and by
    event type (``event_type``: matching clips whose package has an event of that type, so one clip with a
    fall and a fire counts under both).

    ``cap``: count at most that many matches, the newest, so one request never reads more than ``cap`` + 1
    clips. ``total_exact`` then says whether the counts are of every match (exact, as without a cap) or of
    the newest ``cap`` of more (``total`` is then ``cap``: "more than 10,000"). Without a cap (the command
    line) every match is counted and ``total_exact`` is true.

    ``fast``: answer from the counts kept per hour when they can answer exactly (:mod:`facets_fast`: every
    match counted, no cap needed); False counts from the clips (the tests' reference).
    """
    validate(q)
    if fast:
        with catalog.session() as s:
            quick = facets_fast.answer(s, q, utc_offset, top, facets_fast.Counting(_filters, _day, _day_key))
        if quick is not None:
            return quick
    if cap is not None:
        return _capped_facets(catalog, q, utc_offset, top, cap)
    with catalog.session() as s:
        conds = _filters(s, q)
        day = _day(s, "clips.start_utc", int(utc_offset.total_seconds() // 60))
        total = s.scalar(select(func.count()).select_from(Clip).where(*conds)) or 0
        out: dict[str, Any] = {"total": total}
        for name, column in (("camera", Clip.camera), ("zone", Clip.zone), ("day", day)):
            order = column if name == "day" else func.count().desc()
            query = select(column.label("key"), func.count().label("n")).where(*conds).group_by(column)
            query = query.order_by(order, column).limit(top) if name != "day" else query.order_by(column)
            out[name] = [{"key": k or "", "count": n} for k, n in s.execute(query)]
        # From the matching clips to their packages' events (the package_id index), each clip once per
        # type: a DISTINCT of every event in the catalog first cost 120-250 ms at 260,000 clips even
        # when the search matched a few hundred.
        n = func.count(func.distinct(Clip.id))
        by_type = (select(DetectedEvent.type, n.label("n")).select_from(Clip)
                   .join(DetectedEvent, DetectedEvent.package_id == Clip.package_id).where(*conds)
                   .group_by(DetectedEvent.type).order_by(n.desc(), DetectedEvent.type).limit(top))
        out["event_type"] = [{"key": k or "", "count": n} for k, n in s.execute(by_type)]
    out["total_exact"] = True
    return out


def _day(s: Session, start: str, minutes: int, as_date: bool = False) -> Any:
    """The day (YYYY-MM-DD) of the time column ``start`` in the fixed offset of ``minutes`` east of UTC.

    ``as_date``: on PostgreSQL a ``date`` (see :func:`_day_key`) rather than text: ``to_char`` cost about
    1 µs a row, a tenth of an event type's capped facets at a million clips; a cast to date is far less.
    """
    if s.get_bind().dialect.name == "sqlite":
        return func.date(literal_column(start), f"{minutes:+d} minutes")
    shifted: Any = literal_column(start) + literal_column(f"interval '{minutes:d} minutes'")
    return cast(shifted, Date) if as_date else func.to_char(shifted, "YYYY-MM-DD")


def _day_key(day: Any) -> str | None:
    """A day as the facets' key: YYYY-MM-DD (SQLite answers text, PostgreSQL a date)."""
    return day if day is None or isinstance(day, str) else day.isoformat()


def _capped_facets(catalog: Catalog, q: Query, utc_offset: timedelta, top: int, cap: int) -> dict[str, Any]:
    """The facets of the newest ``cap`` matches: aggregates over a LIMIT, never over every match.

    The newest ``cap`` matches are chosen as a page is (the time index, a camera's, or the candidates of an
    event, case or text filter drive it, under a LIMIT of ``cap`` + 1), once, and counted by the database in
    one statement: a GROUP BY (camera, zone, day) whose few groups are summed here, the event types of
    those clips' packages, and the oldest of them: the (cap + 1)-th when there are more, which only says so
    (``total_exact``) and is taken out of the counts. Sorted as the uncapped statements sort, so below the
    cap the answer is the same.
    """
    newest = Query(**{**vars(q), "order": "desc", "after": "", "limit": cap})
    minutes = int(utc_offset.total_seconds() // 60)
    with catalog.session() as s:
        s.info.pop("narrowed", None)
        # Candidates drive the count up to FACET_NARROW_CAP of them (an event type's 10,000 events: reading
        # them beats walking a million clips in time order to meet 10,000 of them); beyond, walk in time.
        s.info["narrow_cap"] = FACET_NARROW_CAP
        # A text of one word (or one prefix's words) is walked in time order to its cap + 1-th match, never
        # cut by WALK_BUDGET: a cut walk would count the matches of its budget as all of them. Several
        # words, where a walk may read far for few matches, are left to the full-text index.
        s.info["walk_whole"] = True
        base = _select(s, newest)
        s.info.pop("walk_whole")
        if isinstance(base, CompoundSelect):  # a prefix of several words: the merge's ids, then their clips
            merged = base.subquery("merged")
            base = select(Clip.id).join_from(Clip, merged, merged.c.id == Clip.id)
        # MATERIALIZED: the newest cap + 1 matches are found once for every part (SQLite and PostgreSQL alike).
        # Only columns an index can cover (a zone's: ix_clips_zone_cover); the day is computed after the LIMIT,
        # for cap + 1 rows, not for every candidate sorted to find them (a zone's 20,000 at a million clips).
        sub = base.with_only_columns(Clip.id, Clip.package_id, Clip.camera, Clip.zone,
                                     Clip.start_utc.label("at")).limit(cap + 1).cte("newest") \
            .prefix_with("MATERIALIZED")
        day = _day(s, "newest.at", minutes, as_date=True)
        places = (select(literal_column("'g'").label("part"), sub.c.camera, sub.c.zone, day.label("day"),
                         func.count().label("n")).group_by(sub.c.camera, sub.c.zone, day))
        # from the newest clips to their packages' events (the package_id index), not from every event of
        # the catalog to them: SQLite's unary + keeps it from indexing the CTE and scanning the events
        outer: Any = sub.c.package_id
        if s.get_bind().dialect.name == "sqlite":
            outer = literal_column("+newest.package_id")
        kinds_of: Any = (select(literal_column("'t'").label("part"), DetectedEvent.type, literal_column("NULL"),
                           literal_column("NULL"), func.count(func.distinct(sub.c.id)))
                    .join_from(sub, DetectedEvent, DetectedEvent.package_id == outer).group_by(DetectedEvent.type))
        # the oldest of them: the (cap + 1)-th when there are more, which only says so and is not counted
        oldest = select(sub.c.package_id, sub.c.camera, sub.c.zone, sub.c.at).order_by(
            sub.c.at.asc(), sub.c.id.asc()).limit(1).subquery("oldest")
        last = select(literal_column("'o'"), oldest.c.camera, oldest.c.zone,
                      _day(s, "oldest.at", minutes, as_date=True), literal_column("NULL"), oldest.c.package_id)
        rows = s.execute(places.add_columns(literal_column("NULL")).union_all(
            kinds_of.add_columns(literal_column("NULL")), last)).all()
        groups = [[r.camera or "", r.zone or "", _day_key(r.day), r.n] for r in rows if r.part == "g"]
        by_type = {r.camera or "": r.n for r in rows if r.part == "t"}
        total = sum(g[3] for g in groups)
        exact = total <= cap
        if not exact:
            o = next(r for r in rows if r.part == "o")
            for g in groups:
                if g[:3] == [o.camera or "", o.zone or "", _day_key(o.day)]:
                    g[3] -= 1
            for kind in set(s.scalars(select(DetectedEvent.type).where(DetectedEvent.package_id == o[5]))):
                by_type[kind or ""] -= 1
            total = cap
    cameras: Counter[str] = Counter()
    zones: Counter[str] = Counter()
    days: Counter[str] = Counter()
    for camera, zone, day_key, n in groups:
        cameras[camera] += n
        zones[zone] += n
        if day_key is not None:
            days[day_key] += n
    kinds: Counter[str] = Counter({k: c for k, c in by_type.items() if c > 0})

    def ranked(counts: Counter[str]) -> list[dict[str, Any]]:
        return [{"key": k, "count": c} for k, c in sorted(counts.items(), key=lambda kc: (-kc[1], kc[0]))[:top]
                if c > 0]

    return {"total": total, "total_exact": exact, "camera": ranked(cameras), "zone": ranked(zones),
            "day": [{"key": k, "count": days[k]} for k in sorted(days) if days[k] > 0], "event_type": ranked(kinds)}
