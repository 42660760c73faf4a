"""Urban-planning analytics: counts of people, vehicles and other classes from catalog events.

Counts are per camera or zone, by hour of day, weekday or calendar month (months in a row make
a trend), and two periods can be compared. Buckets are taken in the archive's time zone (a
planner thinks in local hours). Every figure keeps where it came from (camera, first and last
event, and on request its packages), so a page links each bar to its footage.

Counts come from the rollup tables that :mod:`longwatch.core.public.analytics_rollups` keeps in
step with the events table: a query reads all time, whole local years and whole months from the
period table (the whole-archive page: one row per camera, bucket and class), the whole weeks (from
Monday) and days of partial months from the day table (``AnalyticsDay``), the hours left at the
edges from the hourly table, and only the minutes of partial hours from the events themselves, all
summed in one SQL statement, so the figures equal a live count exactly (tests/test_analytics.py
checks both paths against hand counts). Until the rollups are built for the archive's zone, and
for a confidence threshold, counts are live (benchmarks/analytics.py weighs both).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, String, cast, func, literal_column, select, union_all

from longwatch.core.catalog.models import (
    AnalyticsDay,
    AnalyticsHourly,
    AnalyticsPeriod,
    AnalyticsState,
    Camera,
    DetectedEvent,
    Package,
)
from longwatch.core.public.analytics_rollups import STATE_ID, aware, classify, hour_key, rebuild_rollups, zone_name
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

GROUPINGS = ("hour", "weekday", "month")
BY = ("camera", "zone")
CLASSES = ("person", "vehicle", "other")
SAMPLE_LINKS = 20  # packages kept per figure for its links


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
    if built != zone_name(tz) and not (live or min_confidence):
        with archive.catalog.session() as s:
            small = (s.scalar(select(func.count()).select_from(DetectedEvent)) or 0) <= AUTO_BUILD_EVENTS
        if small:  # a new or small archive builds its rollups at once; a big one waits for the command
            rebuild_rollups(archive)
            built = zone_name(tz)
    if live or min_confidence or built != zone_name(tz):
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


# -- counting from the rollups -------------------------------------------------------------
AUTO_BUILD_EVENTS = 200_000  # built on first use up to this many events (seconds); beyond, by command
_sql = literal_column


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
    pieces["range"] = (hour_key(h_lo) if h_lo else None, hour_key(h_hi) if h_hi else None)
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
        pieces["hours"].append((hour_key(h_lo), hour_key(h_hi)))  # type: ignore[arg-type]
        return pieces
    pieces["months"] = (m_lo, m_hi)
    if h_lo is not None and m_lo is not None and hour_key(h_lo) < f"{m_lo}-01T00":
        pieces["hours"].append((hour_key(h_lo), f"{m_lo}-01T00"))
    if h_hi is not None and m_hi is not None and f"{m_hi}-01T00" < hour_key(h_hi):
        pieces["hours"].append((f"{m_hi}-01T00", hour_key(h_hi)))
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
        hours.append((lo, hour_key(d_lo)))
    if d_hi < end:
        hours.append((hour_key(d_hi), hi))
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
            acc.add(group, str(bucket), cls, int(n), aware(first), aware(last))


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
