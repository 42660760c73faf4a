"""The facet panel from the counts kept per hour (``facet_hours``): exact over every match, a few hundred rows read.

:func:`answer` returns the facets of a query, or None when the counts cannot answer it exactly and
``search.facets`` counts from the clips as before. They can when every filter is among the time
range, cameras, a zone (with the zones below it) and an event type without a minimum confidence,
the reader is not limited to some packages (``Query.packages``: an investigator's scoped search),
and the days are taken in an offset of whole hours (+05:45 cannot split an hour into days), and a time
range holds at least one whole UTC hour (a shorter one is counted from the clips, capped, as before).

A place (box or radius) is not among them: a clip keeps the position its camera had when it was
recorded (``move_camera``), so "the cameras in the box" is not "the clips in the box".

A time range is cut in three: the whole UTC hours inside it come from the table; the clips that
start in the part-hours at its edges, or before it and still run into it, are counted from the
clips with the search's own filter (bounded: under an hour each side plus the longest clip). A
range starting exactly on the hour also takes away the clips starting then that end then too
(zero length), which the search's overlap test leaves out: that assumes no clip ends before it
starts (``span_s`` >= 0, as every writer sets it).

With an event type, the camera, zone and day counts come from ``clip_hour_types``; the event-type
facet (the types that occur together with it) is counted from the packages with events of two
types or more (``mixed_packages``), their events and their clips under the search's filter: its
cost grows with those packages, not with the type's events (none in the benchmark's catalog; an
archive where every clip has, say, both "person" and "vehicle" pays one probe per such package).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session, aliased

from longwatch.core.catalog import facet_hours, fulltext
from longwatch.core.catalog.models import Clip, DetectedEvent
from longwatch.core.catalog.reference import zone_subtree

_EPOCH = date(1970, 1, 1)


class Counting(NamedTuple):
    """What ``search`` lends to count the clips as it does (passed in: ``search`` imports this module).

    ``filters(session, query)``: its WHERE terms; ``day(session, column, minutes)``: the day of a time
    column in an offset; ``day_key(value)``: that day as text.
    """

    filters: Callable[[Session, Any], list[Any]]
    day: Callable[[Session, str, int], Any]
    day_key: Callable[[Any], str | None]


def eligible(q: Any, utc_offset: timedelta) -> bool:
    """Whether the counts per hour answer ``q`` exactly (see the module's docstring)."""
    if utc_offset % timedelta(hours=1):
        return False
    return not (q.purpose or q.tags or q.bbox is not None or q.near is not None or q.min_confidence is not None
                or q.case or fulltext.words(q.text) or q.packages is not None)


def _hour_of(when: datetime, up: bool) -> int:
    """Whole UTC hours since 1970 of ``when``, rounded down or (``up``) up."""
    seconds = int((when - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() // 1)
    hours, rest = divmod(seconds, 3600)
    exact = rest == 0 and when.microsecond == 0
    return hours + (1 if up and not exact else 0)


def _at(hour: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(hours=hour)


def answer(s: Session, q: Any, utc_offset: timedelta, top: int, how: Counting) -> dict[str, Any] | None:
    """The facets of ``q`` as ``search.facets`` answers them, or None when only the clips can answer."""
    if not eligible(q, utc_offset):
        return None
    offset_h = int(utc_offset.total_seconds()) // 3600
    lo = _hour_of(q.start, up=True) if q.start is not None else None
    hi = _hour_of(q.end, up=False) if q.end is not None else None
    if lo is not None and hi is not None and lo >= hi:
        # No whole hour inside: every match would be counted from the clips (up to two hours of them, 60,000
        # at the benchmark's density), where the capped count reads at most FACET_CAP + 1 of them.
        return None
    zones = zone_subtree(s, q.zone) if q.zone else []
    groups: Counter[tuple[str, str, str]] = Counter()
    kinds: Counter[str] = Counter()
    _from_table(s, q, zones, lo, hi, offset_h, groups, kinds)
    # The edges: the clips outside the whole hours that the search's own filter keeps, each with one range of
    # the time index (given both the range's end and the hour's, SQLite read the range to the range's end).
    # Before the first whole hour: the search ending there. From the last: a start there is after the range's
    # start, so the overlap test holds (a clip ends no earlier than it starts).
    if lo is not None:
        _from_clips(s, how, and_(*how.filters(s, replace(q, end=_at(lo)))), utc_offset, groups, kinds,
                    q.event_type, +1)
    if hi is not None and q.end is not None and _at(hi) < q.end:  # an end on the hour has no edge after it
        after = and_(*how.filters(s, replace(q, start=None)), Clip.start_utc >= _at(hi))
        _from_clips(s, how, after, utc_offset, groups, kinds, q.event_type, +1)
    if q.start is not None and lo is not None and _at(lo) == q.start:
        # a clip of no length starting at the very start: in the table's first hour, not in the range
        plain = how.filters(s, replace(q, start=None, end=None))
        empty = and_(*plain, Clip.start_utc == q.start, Clip.end_utc.is_not(None), Clip.end_utc <= q.start)
        _from_clips(s, how, empty, utc_offset, groups, kinds, q.event_type, -1)
    if q.event_type:
        kinds = _together(s, how, q, sum(groups.values()))
    return _shape(groups, kinds, top)


def _from_table(s: Session, q: Any, zones: list[str], lo: int | None, hi: int | None,
                offset_h: int, groups: Counter[tuple[str, str, str]], kinds: Counter[str]) -> None:
    """The whole hours: grouped by camera, zone and day in the database, a few hundred rows back."""
    where: list[str] = []
    params: dict[str, Any] = {"oh": offset_h}
    if zones:
        where.append("zone IN :zones")
        params["zones"] = zones
    if q.cameras:
        where.append("camera IN :cameras")
        params["cameras"] = sorted(set(q.cameras))
    if lo is not None:
        where.append("hour >= :lo")
        params["lo"] = lo
    if hi is not None:
        where.append("hour < :hi")
        params["hi"] = hi
    table = facet_hours.HOURS
    if q.event_type:
        table = facet_hours.TYPES
        where.append("type = :type")
        params["type"] = q.event_type
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    expanding: list[Any] = [bindparam(k, expanding=True) for k in ("zones", "cameras") if k in params]
    places = text(f"SELECT camera, zone, (hour + :oh) / 24 AS d, sum(clips) AS n FROM {table} {clause} "  # noqa: S608
                  "GROUP BY 1, 2, 3").bindparams(*expanding)
    days: dict[int, str] = {}
    for camera, zone, day, n in s.execute(places, params):
        key = days.get(day) or days.setdefault(day, (_EPOCH + timedelta(days=int(day))).isoformat())
        groups[(camera, zone, key)] += int(n)
    if not q.event_type:
        by_type = text(f"SELECT type, sum(clips) FROM {facet_hours.TYPES} {clause} "  # noqa: S608
                       "GROUP BY type").bindparams(*expanding)
        params_t = {k: v for k, v in params.items() if k != "oh"}
        for kind, n in s.execute(by_type, params_t):
            kinds[kind] += int(n)


def _from_clips(s: Session, how: Counting, where: Any, utc_offset: timedelta, groups: Counter[tuple[str, str, str]],
                kinds: Counter[str], event_type: str, sign: int) -> None:
    """Clips counted one by one (the edges of a range): added (``sign`` 1) or taken away (-1)."""
    minutes = int(utc_offset.total_seconds() // 60)
    day = how.day(s, "clips.start_utc", minutes)
    rows = s.execute(select(Clip.camera, Clip.zone, day, func.count()).where(where)
                     .group_by(Clip.camera, Clip.zone, day))
    for camera, zone, d, n in rows:
        groups[(camera or "", zone or "", how.day_key(d) or "")] += sign * n
    if not event_type:
        n_clips = func.count(func.distinct(Clip.id))
        # from the edge's clips (the time index) to their events, never from every event to the clips: SQLite's
        # unary + keeps the clips' package_id from being probed (every event read: 170-200 ms at a million)
        outer: Any = literal_column("+clips.package_id") if s.get_bind().dialect.name == "sqlite" else Clip.package_id
        by_type = (select(DetectedEvent.type, n_clips).select_from(Clip)
                   .join(DetectedEvent, DetectedEvent.package_id == outer).where(where)
                   .group_by(DetectedEvent.type))
        for kind, n in s.execute(by_type):
            kinds[kind or ""] += sign * n


def _together(s: Session, how: Counting, q: Any, total: int) -> Counter[str]:
    """With an event type: the matching clips by every type of their packages (the type itself: all of them).

    Only a package with two types or more has a clip under another type: from those (``mixed_packages``)
    to their events of both kinds and their clips under the search's filter, never from the type's events.
    """
    mine, other = aliased(DetectedEvent), aliased(DetectedEvent)
    mixed = table(facet_hours.MIXED, column("package_id"))
    conds = how.filters(s, replace(q, event_type=""))
    n_clips = func.count(func.distinct(Clip.id))
    # the few packages drive (as IN: joined, SQLite started from the clips and read every one)
    both = (select(mixed.c.package_id).join(mine, mine.package_id == mixed.c.package_id)
            .where(mine.type == q.event_type))
    rows = s.execute(select(other.type, n_clips).select_from(Clip)
                     .join(other, and_(other.package_id == Clip.package_id, other.type != q.event_type))
                     .where(Clip.package_id.in_(both), *conds).group_by(other.type))
    kinds: Counter[str] = Counter({k or "": n for k, n in rows})
    if total:
        kinds[q.event_type] = total
    return kinds


def _shape(groups: Counter[tuple[str, str, str]], kinds: Counter[str], top: int) -> dict[str, Any]:
    """The answer in ``search.facets``' form, sorted as the capped facets sort (count, then key)."""
    cameras: Counter[str] = Counter()
    zones: Counter[str] = Counter()
    days: Counter[str] = Counter()
    for (camera, zone, day), n in groups.items():
        cameras[camera] += n
        zones[zone] += n
        days[day] += n

    def ranked(counts: Counter[str]) -> list[dict[str, Any]]:
        kept = sorted(((k, c) for k, c in counts.items() if c > 0), key=lambda kc: (-kc[1], kc[0]))
        return [{"key": k, "count": c} for k, c in kept[:top]]

    return {"total": sum(groups.values()), "total_exact": True, "camera": ranked(cameras), "zone": ranked(zones),
            "day": [{"key": k, "count": days[k]} for k in sorted(days) if days[k] > 0],
            "event_type": ranked(kinds)}
