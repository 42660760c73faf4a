"""Urban-planning analytics: counts of people, vehicles and other classes from catalog events.

Counts are per camera or zone, by hour of day, weekday or calendar month (months in a row make
a trend), and two periods can be compared. Buckets are taken in the archive's time zone (a
planner thinks in local hours). Every figure keeps where it came from (camera, first and last
event, and on request its packages), so a page links each bar to its footage.

A live count reads every event in range: 4.5 s at 200,000 events, minutes at 10 million. So
counts come from rollup tables (models ``AnalyticsHourly``, ``AnalyticsPeriod``, ``AnalyticsDay``),
kept in step with the events table on every ORM flush that adds or deletes an event (whatever the
path: detectors, imports, the API), in the same transaction: :func:`keep_rollups` listens to every
session of a catalog, attached when the catalog opens by the built-in plugin
``longwatch.plugins.analytics`` (hook ``prepare_catalog``). A query reads all time, whole local
years and whole months from the period table (the whole-archive page: one row per camera, bucket
and class), the whole weeks (from Monday) and days of partial months from the day table
(``AnalyticsDay``), the hours left at the edges from the hourly table, and only the minutes of
partial hours from the events themselves, all summed in one SQL statement, so the figures
equal a live count exactly (tests/test_analytics.py checks both paths against hand counts).
Rows added by bulk SQL that bypasses the ORM, a change of the archive's time zone, or events
deleted by a database cascade call for :func:`rebuild_rollups` (``longwatch analytics rebuild``);
until the rollups are built for the archive's zone, and for a confidence threshold, counts are
live (benchmarks/analytics.py weighs both).
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    String,
    case,
    cast,
    delete,
    event,
    func,
    insert,
    literal_column,
    select,
    union_all,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from longwatch import clock
from longwatch.core.catalog.models import (
    AnalyticsDay,
    AnalyticsHourly,
    AnalyticsPeriod,
    AnalyticsState,
    Camera,
    DetectedEvent,
    Package,
)
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive
    from longwatch.core.catalog import Catalog

PROFILE = Path(__file__).resolve().parents[2] / "profiles" / "analytics.toml"
GROUPINGS = ("hour", "weekday", "month")
BY = ("camera", "zone")
CLASSES = ("person", "vehicle", "other")
SAMPLE_LINKS = 20  # packages kept per figure for its links


@cache
def profile() -> dict[str, Any]:
    with PROFILE.open("rb") as fh:
        return tomllib.load(fh)


@cache
def class_of_type() -> dict[str, str]:
    return {t: cls for cls, types in profile()["classes"].items() for t in types}


def classify(event_type: str) -> str:
    return class_of_type().get(event_type.lower(), "other")


@dataclass
class Figure:
    """One number: how many events of a class in one group and one bucket, and where they came from."""

    group: str
    bucket: str
    cls: str
    count: int = 0
    packages: list[str] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "bucket": self.bucket, "class": self.cls, "count": self.count,
                "packages": self.packages,
                "first": self.first.isoformat() if self.first else None,
                "last": self.last.isoformat() if self.last else None}


def bucket_of(when: datetime, grouping: str, tz: Any) -> str:
    local = when.astimezone(tz)
    if grouping == "hour":
        return f"{local.hour:02d}"
    if grouping == "weekday":
        return str(local.isoweekday())  # 1 Monday .. 7 Sunday
    return f"{local:%Y-%m}"


def counts(archive: Archive, *, grouping: str = "hour", by: str = "camera", start: datetime | None = None,
           end: datetime | None = None, cameras: list[str] | None = None, zone: str = "",
           min_confidence: float = 0.0, links: bool = True, live: bool = False) -> list[Figure]:
    """Figures sorted by group, bucket and class; empty buckets are left out.

    ``links`` fills each figure's packages (the CSV lists them; a chart needs only its camera and
    time span). ``live`` forces a count over the events table (the benchmark's baseline).
    """
    if grouping not in GROUPINGS:
        raise LongwatchError("U009", value=grouping, allowed=", ".join(GROUPINGS))
    if by not in BY:
        raise LongwatchError("U009", value=by, allowed=", ".join(BY))
    if start and end and end < start:
        raise LongwatchError("Q001", start=start.isoformat(), end=end.isoformat())
    tz = archive.settings.tz
    with archive.catalog.session() as s:
        zones = dict(s.execute(select(Camera.id, Camera.zone)).all())
        built = s.scalar(select(AnalyticsState.timezone).where(AnalyticsState.id == STATE_ID))
    acc = _Figures(grouping, by, tz, zones, set(cameras or ()), zone)
    if built != _zone_name(tz) and not (live or min_confidence):
        with archive.catalog.session() as s:
            small = (s.scalar(select(func.count()).select_from(DetectedEvent)) or 0) <= AUTO_BUILD_EVENTS
        if small:  # a new or small archive builds its rollups at once; a big one waits for the command
            rebuild_rollups(archive)
            built = _zone_name(tz)
    if live or min_confidence or built != _zone_name(tz):
        _count_live(archive, acc, start, end, min_confidence)
    else:
        _count_rollups(archive, acc, start, end, links)
    return acc.result()


class _Figures:
    """Figures keyed by (group, bucket, class), fed by live events and by rollup rows alike."""

    def __init__(self, grouping: str, by: str, tz: Any, zones: dict[str, str], cameras: set[str],
                 zone: str) -> None:
        self.grouping, self.by, self.tz, self.zones, self.cameras, self.zone = grouping, by, tz, zones, cameras, zone
        self.figures: dict[tuple[str, str, str], Figure] = {}

    def group(self, camera: str, pkg_zone: str) -> str | None:
        """The figure's group, or None when the camera or zone filter leaves it out."""
        if self.cameras and camera not in self.cameras:
            return None
        camera_zone = self.zones.get(camera) or pkg_zone or ""
        if self.zone and not (camera_zone == self.zone or camera_zone.startswith(self.zone.rstrip("/") + "/")):
            return None
        return camera if self.by == "camera" else camera_zone

    def add(self, group: str, bucket: str, cls: str, n: int, first: datetime | None, last: datetime | None,
            package_id: str | None = None) -> None:
        key = (group, bucket, cls)
        fig = self.figures.get(key)
        if fig is None:
            fig = self.figures[key] = Figure(*key)
        fig.count += n
        self.link(fig, package_id)
        if first is not None:
            fig.first = first if fig.first is None or first < fig.first else fig.first
        if last is not None:
            fig.last = last if fig.last is None or last > fig.last else fig.last

    @staticmethod
    def link(fig: Figure, package_id: str | None) -> None:
        if package_id and package_id not in fig.packages and len(fig.packages) < SAMPLE_LINKS:
            fig.packages.append(package_id)

    def result(self) -> list[Figure]:
        return [self.figures[k] for k in sorted(self.figures) if self.figures[k].count]


def _count_live(archive: Archive, acc: _Figures, start: datetime | None, end: datetime | None,
                min_confidence: float = 0.0) -> None:
    with archive.catalog.session() as s:
        q = (select(DetectedEvent.type, DetectedEvent.start_utc, DetectedEvent.camera, DetectedEvent.package_id,
                    Package.camera, Package.zone)
             .outerjoin(Package, Package.id == DetectedEvent.package_id))
        if start:
            q = q.where(DetectedEvent.start_utc >= start)
        if end:
            q = q.where(DetectedEvent.start_utc < end)
        if min_confidence:
            q = q.where(DetectedEvent.confidence >= min_confidence)
        rows = s.execute(q).all()
    for event_type, when, ev_camera, package_id, pkg_camera, pkg_zone in rows:
        group = acc.group(ev_camera or pkg_camera or "", pkg_zone or "")
        if group is not None:
            acc.add(group, bucket_of(when, acc.grouping, acc.tz), classify(event_type), 1, when, when, package_id)


# -- rollups ----------------------------------------------------------------------------------
STATE_ID = 1
AUTO_BUILD_EVENTS = 200_000  # built on first use up to this many events (seconds); beyond, by command
_sql = literal_column


def _zone_name(tz: Any) -> str:
    return str(getattr(tz, "key", tz))


def _hour_key(local: datetime) -> str:
    return f"{local:%Y-%m-%dT%H}"


def _split(start: datetime | None, end: datetime | None, tz: Any) -> dict[str, Any]:
    """The range as live minutes at its edges, local hours of partial months, and whole local months.

    Keys: ``live`` [(start, end) in UTC], ``hours`` [(from key, to key)], ``months`` (from, to) with
    None for an open side; an empty piece is left out.
    """
    pieces: dict[str, Any] = {"live": [], "hours": [], "months": None, "range": (None, None)}
    lo = start.astimezone(tz) if start else None
    hi = end.astimezone(tz) if end else None
    h_lo = None
    if lo is not None:
        h_lo = lo.replace(minute=0, second=0, microsecond=0)
        if h_lo < lo:
            h_lo += timedelta(hours=1)
    h_hi = hi.replace(minute=0, second=0, microsecond=0) if hi is not None else None
    pieces["range"] = (_hour_key(h_lo) if h_lo else None, _hour_key(h_hi) if h_hi else None)
    if h_lo is not None and h_hi is not None and h_hi <= h_lo:  # inside one hour
        pieces["live"].append((start, end))
        return pieces
    if lo is not None and h_lo is not None and lo < h_lo:
        pieces["live"].append((start, h_lo.astimezone(UTC)))
    if hi is not None and h_hi is not None and h_hi < hi:
        pieces["live"].append((h_hi.astimezone(UTC), end))
    m_lo = m_hi = None
    if h_lo is not None:
        m_lo = f"{h_lo:%Y-%m}"
        if (h_lo.day, h_lo.hour) != (1, 0):
            nxt = (h_lo.replace(day=28) + timedelta(days=4)).replace(day=1)
            m_lo = f"{nxt:%Y-%m}"
    if h_hi is not None:
        m_hi = f"{h_hi:%Y-%m}"
    if m_lo is not None and m_hi is not None and m_hi <= m_lo:  # no whole month: hours only
        pieces["hours"].append((_hour_key(h_lo), _hour_key(h_hi)))  # type: ignore[arg-type]
        return pieces
    pieces["months"] = (m_lo, m_hi)
    if h_lo is not None and m_lo is not None and _hour_key(h_lo) < f"{m_lo}-01T00":
        pieces["hours"].append((_hour_key(h_lo), f"{m_lo}-01T00"))
    if h_hi is not None and m_hi is not None and f"{m_hi}-01T00" < _hour_key(h_hi):
        pieces["hours"].append((f"{m_hi}-01T00", _hour_key(h_hi)))
    return pieces


def _by_day(lo: str, hi: str, days: list[str], weeks: list[str]) -> list[tuple[str, str]]:
    """Split local hours [lo, hi) (``YYYY-MM-DDTHH`` keys) into whole weeks from Monday and whole days
    (appended to ``weeks`` and ``days``) and the hours left at the edges (returned)."""
    start, end = datetime.strptime(lo, "%Y-%m-%dT%H"), datetime.strptime(hi, "%Y-%m-%dT%H")
    d_lo = start if start.hour == 0 else (start + timedelta(days=1)).replace(hour=0)
    d_hi = end.replace(hour=0)
    if d_hi <= d_lo:  # no whole day
        return [(lo, hi)]
    hours = []
    if start < d_lo:
        hours.append((lo, _hour_key(d_lo)))
    if d_hi < end:
        hours.append((_hour_key(d_hi), hi))
    day = d_lo
    while day < d_hi:
        if day.isoweekday() == 1 and day + timedelta(days=7) <= d_hi:
            weeks.append(f"{day:%Y-%m-%d}")
            day += timedelta(days=7)
        else:
            days.append(f"{day:%Y-%m-%d}")
            day += timedelta(days=1)
    return hours


def _periods(m_lo: str | None, m_hi: str | None) -> list[tuple[str, str | None, str | None]]:
    """Whole local months [m_lo, m_hi) as (level, from, to) pieces: all time, whole years, months."""
    if m_lo is None and m_hi is None:
        return [("a", None, None)]
    y_lo = None if m_lo is None else (m_lo[:4] if m_lo.endswith("-01") else f"{int(m_lo[:4]) + 1:04d}")
    y_hi = None if m_hi is None else m_hi[:4]
    if y_lo is not None and y_hi is not None and y_lo >= y_hi:
        return [("m", m_lo, m_hi)]
    out: list[tuple[str, str | None, str | None]] = [("y", y_lo, y_hi)]
    if m_lo is not None and m_lo < f"{y_lo}-01":
        out.append(("m", m_lo, f"{y_lo}-01"))
    if m_hi is not None and f"{y_hi}-01" < m_hi:
        out.append(("m", f"{y_hi}-01", m_hi))
    return out


GRAINS = {"hour": "h", "weekday": "w", "month": "m"}


def _count_rollups(archive: Archive, acc: _Figures, start: datetime | None, end: datetime | None,
                   links: bool) -> None:
    pieces = _split(start, end, acc.tz)
    for lo, hi in pieces["live"]:
        _count_live(archive, acc, lo, hi)
    H, P = AnalyticsHourly, AnalyticsPeriod
    cams = sorted(acc.cameras)
    with archive.catalog.engine.connect() as s:  # Core rows: no ORM bookkeeping per row
        # numbers inline, not bound: PostgreSQL matches GROUP BY expressions by their text
        hour_bucket = {"hour": func.substr(H.hour_local, _sql("12"), _sql("2")), "weekday": H.weekday,
                       "month": func.substr(H.hour_local, _sql("1"), _sql("7"))}[acc.grouping]
        # every piece aggregates in SQL; pieces are summed in SQL too (UNION ALL), so Python reads at
        # most one row per group, bucket and class whatever the span
        parts: list[Any] = []
        days: list[str] = []
        weeks: list[str] = []
        bucket_text = cast(hour_bucket, String) if acc.grouping == "weekday" else hour_bucket
        for lo, hi in pieces["hours"]:
            for h_lo, h_hi in _by_day(lo, hi, days, weeks):
                q = (select(H.camera, H.zone, bucket_text.label("bucket"), H.cls, func.sum(H.n).label("n"),
                            func.min(H.first_utc).label("f"), func.max(H.last_utc).label("l"))
                     .where(H.hour_local >= h_lo, H.hour_local < h_hi)
                     .group_by(H.camera, H.zone, hour_bucket, H.cls))
                parts.append(q.where(H.camera.in_(cams)) if cams else q)
        D = AnalyticsDay
        for span, keys in (("d", days), ("w", weeks)):
            if keys:
                q = (select(D.camera, D.zone, D.bucket, D.cls, func.sum(D.n).label("n"),
                            func.min(D.first_utc).label("f"), func.max(D.last_utc).label("l"))
                     .where(D.grain == GRAINS[acc.grouping], D.span == span, D.first_day.in_(keys))
                     .group_by(D.camera, D.zone, D.bucket, D.cls))
                parts.append(q.where(D.camera.in_(cams)) if cams else q)
        if pieces["months"] is not None:
            for level, lo, hi in _periods(*pieces["months"]):
                q = (select(P.camera, P.zone, P.bucket, P.cls, func.sum(P.n).label("n"),
                            func.min(P.first_utc).label("f"), func.max(P.last_utc).label("l"))
                     .where(P.grain == GRAINS[acc.grouping], P.level == level)
                     .group_by(P.camera, P.zone, P.bucket, P.cls))
                if lo:
                    q = q.where(P.period >= lo)
                if hi:
                    q = q.where(P.period < hi)
                parts.append(q.where(P.camera.in_(cams)) if cams else q)
        if len(parts) == 1:
            _feed(acc, s.execute(parts[0]))
        elif parts:
            u = union_all(*parts).subquery()
            _feed(acc, s.execute(select(u.c.camera, u.c.zone, u.c.bucket, u.c.cls, func.sum(u.c.n), func.min(u.c.f),
                                        func.max(u.c.l)).group_by(u.c.camera, u.c.zone, u.c.bucket, u.c.cls)))
        if links:
            _link_packages(s, acc, pieces, hour_bucket, cams)


def _feed(acc: _Figures, rows: Iterable[Any]) -> None:
    groups: dict[tuple[str, str], str | None] = {}
    for camera, pkg_zone, bucket, cls, n, first, last in rows:
        group = groups.get((camera, pkg_zone), "")
        if group == "":
            group = groups[(camera, pkg_zone)] = acc.group(camera, pkg_zone)
        if group is not None:
            acc.add(group, str(bucket), cls, int(n), _aware(first), _aware(last))


def _aware(value: Any) -> datetime | None:
    """Aggregates (min/max) skip the column type: SQLite gives text, PostgreSQL a naive datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _link_packages(s: Connection, acc: _Figures, pieces: dict[str, Any], hour_bucket: Any, cams: list[str]) -> None:
    """Each figure's packages (up to SAMPLE_LINKS), from the hourly rollup over the whole local-hour range."""
    H = AnalyticsHourly
    lo, hi = pieces["range"]
    if lo is not None and hi is not None and hi <= lo:
        return  # inside one hour: the live count linked them
    q = (select(H.camera, H.zone, hour_bucket, H.cls, H.package_id).where(H.package_id != "")
         .group_by(H.camera, H.zone, hour_bucket, H.cls, H.package_id))
    if lo:
        q = q.where(H.hour_local >= lo)
    if hi:
        q = q.where(H.hour_local < hi)
    if cams:
        q = q.where(H.camera.in_(cams))
    for camera, pkg_zone, bucket, cls, package_id in s.execute(q):
        group = acc.group(camera, pkg_zone)
        fig = acc.figures.get((group, str(bucket), cls)) if group is not None else None
        if fig is not None:
            acc.link(fig, package_id)


# one event, as the rollups see it: (camera, package id, package zone, type, start UTC)
_Row = tuple[str, str, str, str, datetime]
_Deltas = dict[tuple[str, ...], list[Any]]


def _week_of(local: datetime) -> str:
    """The local date of the Monday that starts ``local``'s week (the key of its week row)."""
    return f"{(local - timedelta(days=local.isoweekday() - 1)):%Y-%m-%d}"


def _deltas(rows: Iterable[tuple[_Row, int]], tz: Any) -> tuple[_Deltas, _Deltas, _Deltas]:
    hourly: _Deltas = {}
    periods: _Deltas = {}
    days: _Deltas = {}
    for (camera, package_id, pkg_zone, event_type, when), sign in rows:
        local = when.astimezone(tz)
        cls = classify(event_type)
        key = (camera, _hour_key(local), cls, package_id)
        h = hourly.get(key)
        if h is None:
            hourly[key] = [pkg_zone, local.isoweekday(), sign, when, when]
        else:
            h[2] += sign
            h[3], h[4] = min(h[3], when), max(h[4], when)
        month = f"{local:%Y-%m}"
        for grain, bucket in (("h", f"{local.hour:02d}"), ("w", str(local.isoweekday())), ("m", month)):
            for level, period in (("m", month), ("y", month[:4]), ("a", "")):
                _bump(periods, (grain, level, camera, pkg_zone, bucket, cls, period), sign, when)
            for span, first_day in (("d", f"{local:%Y-%m-%d}"), ("w", _week_of(local))):
                _bump(days, (grain, span, first_day, camera, pkg_zone, bucket, cls), sign, when)
    return hourly, periods, days


def _bump(table: dict[Any, list[Any]], key: Any, sign: int, when: Any) -> None:
    """Add ``sign`` to a rollup row's count and widen its first/last event times."""
    row = table.get(key)
    if row is None:
        table[key] = [sign, when, when]
    else:
        row[0] += sign
        row[1], row[2] = min(row[1], when), max(row[2], when)


def _upsert(conn: Connection, table: Any, keys: list[str], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    from sqlalchemy.dialects import postgresql, sqlite

    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    t = table.__table__
    stmt = dialect.insert(t)
    x = stmt.excluded
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={
        "n": t.c.n + x.n,
        "first_utc": case((x.first_utc < t.c.first_utc, x.first_utc), else_=t.c.first_utc),
        "last_utc": case((x.last_utc > t.c.last_utc, x.last_utc), else_=t.c.last_utc)})
    conn.execute(stmt, rows)


PERIOD_KEYS = ["grain", "level", "camera", "zone", "bucket", "cls", "period"]


DAY_KEYS = ["grain", "span", "first_day", "camera", "zone", "bucket", "cls"]


def _apply(conn: Connection, hourly: _Deltas, periods: _Deltas, days: _Deltas) -> None:
    _upsert(conn, AnalyticsHourly, ["camera", "hour_local", "cls", "package_id"],
            [{"camera": k[0], "hour_local": k[1], "cls": k[2], "package_id": k[3], "zone": v[0], "weekday": v[1],
              "n": v[2], "first_utc": v[3], "last_utc": v[4]} for k, v in hourly.items()])
    _upsert(conn, AnalyticsPeriod, PERIOD_KEYS,
            [{**dict(zip(PERIOD_KEYS, k, strict=True)), "n": v[0], "first_utc": v[1], "last_utc": v[2]}
             for k, v in periods.items()])
    _upsert(conn, AnalyticsDay, DAY_KEYS,
            [{**dict(zip(DAY_KEYS, k, strict=True)), "n": v[0], "first_utc": v[1], "last_utc": v[2]}
             for k, v in days.items()])
    if any(v[2] < 0 for v in hourly.values()):  # a deleted event: drop what counts nothing now
        conn.execute(delete(AnalyticsHourly).where(AnalyticsHourly.n <= 0))
        conn.execute(delete(AnalyticsPeriod).where(AnalyticsPeriod.n <= 0))
        conn.execute(delete(AnalyticsDay).where(AnalyticsDay.n <= 0))


def keep_rollups(catalog: Catalog) -> None:
    """Keep the rollups of ``catalog`` in step with its events table, in every session of that catalog.

    An ``after_flush`` listener on the catalog's own session factory; the built-in analytics plugin
    (``longwatch.plugins.analytics``) calls this when a catalog opens (hook ``prepare_catalog``).
    """
    event.listen(catalog.session_factory, "after_flush", _keep_rollups)


def _keep_rollups(session: Session, _context: Any) -> None:
    """Fold the events this flush added or deleted into the rollups, in the same transaction."""
    added = [o for o in session.new if isinstance(o, DetectedEvent)]
    removed = [o for o in session.deleted if isinstance(o, DetectedEvent)]
    if not (added or removed):
        return
    conn = session.connection()
    tz_name = conn.execute(select(AnalyticsState.timezone).where(AnalyticsState.id == STATE_ID)).scalar()
    if tz_name is None:  # not built: a rebuild will count them
        return
    from zoneinfo import ZoneInfo

    pids = {e.package_id for e in added + removed if e.package_id}
    packages = {pid: (camera, zone) for pid, camera, zone in conn.execute(
        select(Package.id, Package.camera, Package.zone).where(Package.id.in_(pids)))} if pids else {}

    def row(e: DetectedEvent) -> _Row:
        pkg_camera, pkg_zone = packages.get(e.package_id or "", ("", ""))
        return (e.camera or pkg_camera or "", e.package_id or "", pkg_zone or "", e.type, e.start_utc)

    hourly, periods, days = _deltas([(row(e), 1) for e in added] + [(row(e), -1) for e in removed],
                                    ZoneInfo(tz_name))
    _apply(conn, hourly, periods, days)


def _class_sql() -> str:
    """classify() as SQL: the profile's types, lower-cased, else "other"."""
    def q(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    whens = " ".join(f"WHEN {q(t)} THEN {q(c)}" for t, c in sorted(class_of_type().items()))
    return f"CASE lower(e.type) {whens} ELSE 'other' END"


def rebuild_rollups(archive: Archive) -> int:
    """Recount the rollups from the events table in the archive's zone; returns the events counted.

    All in SQL, so ten million events take a minute or two, not hours in Python: a temporary table
    maps each UTC hour in the events' span to its local hour and weekday (made here with zoneinfo,
    so daylight saving and any zone are right), the hourly rollup is one INSERT ... SELECT over the
    events, and each period level is one INSERT ... SELECT over the level below.
    """
    tz = archive.settings.tz
    engine = archive.catalog.engine
    pg = engine.dialect.name == "postgresql"
    utc_hour = "to_char(e.start_utc, 'YYYY-MM-DD HH24')" if pg else "substr(e.start_utc, 1, 13)"
    text_of = "CAST(weekday AS VARCHAR)" if pg else "CAST(weekday AS TEXT)"
    with engine.begin() as conn:
        for table in (AnalyticsHourly, AnalyticsPeriod, AnalyticsDay, AnalyticsState):
            conn.execute(delete(table))
        lo, hi, total = conn.execute(select(func.min(DetectedEvent.start_utc), func.max(DetectedEvent.start_utc),
                                            func.count()).select_from(DetectedEvent)).one()
        total = int(total or 0)
        conn.execute(sql_text("CREATE TEMPORARY TABLE lw_tz_hours (utc_hour VARCHAR(13) PRIMARY KEY, "
                              "local_hour VARCHAR(13) NOT NULL, weekday INTEGER NOT NULL)"))
        try:
            if lo is not None:
                hour = _aware(lo).replace(minute=0, second=0, microsecond=0)  # type: ignore[union-attr]
                last = _aware(hi)
                rows = []
                while hour <= last:  # type: ignore[operator]
                    local = hour.astimezone(tz)
                    rows.append({"u": f"{hour:%Y-%m-%d %H}", "l": _hour_key(local), "w": local.isoweekday()})
                    hour += timedelta(hours=1)
                for i in range(0, len(rows), 20_000):
                    conn.execute(sql_text("INSERT INTO lw_tz_hours VALUES (:u, :l, :w)"), rows[i:i + 20_000])
            # every piece of these statements is a constant of this module or the packaged profile's quoted types
            conn.execute(sql_text(f"""
                INSERT INTO analytics_hourly (camera, hour_local, cls, package_id, zone, weekday, n, first_utc,
                                              last_utc)
                SELECT COALESCE(NULLIF(e.camera, ''), p.camera, '') AS cam, m.local_hour, {_class_sql()} AS cls,
                       COALESCE(e.package_id, '') AS pid, COALESCE(p.zone, '') AS pzone, m.weekday, COUNT(*),
                       MIN(e.start_utc), MAX(e.start_utc)
                FROM events e
                JOIN lw_tz_hours m ON m.utc_hour = {utc_hour}
                LEFT JOIN packages p ON p.id = e.package_id
                GROUP BY cam, m.local_hour, cls, pid, pzone, m.weekday"""))  # noqa: S608
        finally:
            conn.execute(sql_text("DROP TABLE lw_tz_hours"))
        columns = "grain, level, camera, zone, bucket, cls, period, n, first_utc, last_utc"
        for grain, bucket in (("h", "substr(hour_local, 12, 2)"), ("w", text_of), ("m", "substr(hour_local, 1, 7)")):
            conn.execute(sql_text(f"""
                INSERT INTO analytics_periods ({columns})
                SELECT '{grain}', 'm', camera, zone, {bucket} AS b, cls, substr(hour_local, 1, 7) AS per, SUM(n),
                       MIN(first_utc), MAX(last_utc)
                FROM analytics_hourly GROUP BY camera, zone, b, cls, per"""))  # noqa: S608
        for level, period in (("y", "substr(period, 1, 4)"), ("a", "''")):
            below = "m" if level == "y" else "y"
            conn.execute(sql_text(f"""
                INSERT INTO analytics_periods ({columns})
                SELECT grain, '{level}', camera, zone, bucket, cls, {period} AS per, SUM(n), MIN(first_utc),
                       MAX(last_utc)
                FROM analytics_periods WHERE level = '{below}' GROUP BY grain, camera, zone, bucket, cls, per"""))  # noqa: S608
        day = "substr(hour_local, 1, 10)"
        monday = (f"to_char(CAST({day} AS date) - (weekday - 1), 'YYYY-MM-DD')" if pg
                  else f"date({day}, '-' || (weekday - 1) || ' days')")
        day_columns = "grain, span, first_day, camera, zone, bucket, cls, n, first_utc, last_utc"
        for grain, bucket in (("h", "substr(hour_local, 12, 2)"), ("w", text_of), ("m", "substr(hour_local, 1, 7)")):
            for span, first_day in (("d", day), ("w", monday)):
                conn.execute(sql_text(f"""
                    INSERT INTO analytics_days ({day_columns})
                    SELECT '{grain}', '{span}', {first_day} AS fd, camera, zone, {bucket} AS b, cls, SUM(n),
                           MIN(first_utc), MAX(last_utc)
                    FROM analytics_hourly GROUP BY fd, camera, zone, b, cls"""))  # noqa: S608
        state: Any = AnalyticsState.__table__
        conn.execute(insert(state), [{"id": STATE_ID, "timezone": _zone_name(tz), "built_at": clock.now()}])
    return total


def rollup_state(archive: Archive) -> dict[str, Any]:
    """Whether counts come from the rollups (built in the archive's zone) and how big they are."""
    with archive.catalog.session() as s:
        state = s.get(AnalyticsState, STATE_ID)
        hourly = s.scalar(select(func.count()).select_from(AnalyticsHourly)) or 0
        periods = s.scalar(select(func.count()).select_from(AnalyticsPeriod)) or 0
        days = s.scalar(select(func.count()).select_from(AnalyticsDay)) or 0
    zone = _zone_name(archive.settings.tz)
    return {"built": state is not None, "timezone": state.timezone if state else None,
            "in_use": state is not None and state.timezone == zone, "archive_timezone": zone,
            "built_at": state.built_at.isoformat() if state else None, "hourly_rows": hourly,
            "period_rows": periods, "day_rows": days}


def totals(figures: list[Figure]) -> dict[str, dict[str, int]]:
    """bucket -> class -> count, over every group."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CLASSES, 0))
    for f in figures:
        out[f.bucket][f.cls] += f.count
    return dict(sorted(out.items()))


def compare(archive: Archive, before: tuple[datetime, datetime], after: tuple[datetime, datetime], *,
            by: str = "camera", cameras: list[str] | None = None, zone: str = "") -> list[dict[str, Any]]:
    """Per group and class: counts and daily rates in two periods (before and after a new crossing)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for label, (lo, hi) in (("before", before), ("after", after)):
        days = max((hi - lo).total_seconds() / 86400, 1e-9)
        for fig in counts(archive, grouping="month", by=by, start=lo, end=hi, cameras=cameras, zone=zone,
                          links=False):
            row = out.setdefault((fig.group, fig.cls), {"group": fig.group, "class": fig.cls, "before": 0,
                                                        "after": 0, "before_per_day": 0.0, "after_per_day": 0.0})
            row[label] += fig.count
            row[f"{label}_per_day"] = round(row[label] / days, 3)
    for row in out.values():
        row["change"] = (round(row["after_per_day"] / row["before_per_day"] - 1, 4)
                         if row["before_per_day"] else None)
    return [out[k] for k in sorted(out)]
