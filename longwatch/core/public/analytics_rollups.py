"""The analytics rollups: tables of event counts kept in step with the events table, and rebuilt.

A live count reads every event in range: 4.5 s at 200,000 events, minutes at 10 million. So
counts come from rollup tables (models ``AnalyticsHourly``, ``AnalyticsPeriod``, ``AnalyticsDay``),
kept in step with the events table on every ORM flush that adds or deletes an event (whatever the
path: detectors, imports, the API), in the same transaction: :func:`keep_rollups` listens to every
session of a catalog, attached when the catalog opens by the built-in plugin
``longwatch.plugins.analytics`` (hook ``prepare_catalog``). Rows added by bulk SQL that bypasses
the ORM, a change of the archive's time zone, or events deleted by a database cascade call for
:func:`rebuild_rollups` (``longwatch analytics rebuild``). :func:`rollup_state` says whether the
rollups are built and in use.

This module writes the rollups; :mod:`longwatch.core.public.analytics` reads them (and counts live
where they cannot answer). Both classify event types the same way, so the classification (the
packaged profile) is here, below the queries.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, case, delete, event, func, insert, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from longwatch import clock
from longwatch.core.catalog.models import (
    AnalyticsDay,
    AnalyticsHourly,
    AnalyticsPeriod,
    AnalyticsState,
    DetectedEvent,
    Package,
)

if TYPE_CHECKING:
    from longwatch.core.archive import Archive
    from longwatch.core.catalog import Catalog

PROFILE = Path(__file__).resolve().parents[2] / "profiles" / "analytics.toml"
STATE_ID = 1  # the one row of AnalyticsState


@cache
def profile() -> dict[str, Any]:
    """The packaged analytics profile: which event types count as which class."""
    with PROFILE.open("rb") as fh:
        return tomllib.load(fh)


@cache
def class_of_type() -> dict[str, str]:
    return {t: cls for cls, types in profile()["classes"].items() for t in types}


def classify(event_type: str) -> str:
    """The class an event type is counted in (person, vehicle or other)."""
    return class_of_type().get(event_type.lower(), "other")


def zone_name(tz: Any) -> str:
    """The zone's name, as the rollup state records the zone the rollups were built in."""
    return str(getattr(tz, "key", tz))


def hour_key(local: datetime) -> str:
    """A local hour as the hourly rollup keys it (``YYYY-MM-DDTHH``)."""
    return f"{local:%Y-%m-%dT%H}"


def aware(value: Any) -> datetime | None:
    """Aggregates (min/max) skip the column type: SQLite gives text, PostgreSQL a naive datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


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
        key = (camera, hour_key(local), cls, package_id)
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
    # Imported here for start-up time: the PostgreSQL dialect module alone costs ~40 ms, and every
    # catalog that opens imports this module (through the analytics plugin) whether it writes events or not.
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
                hour = aware(lo).replace(minute=0, second=0, microsecond=0)  # type: ignore[union-attr]
                last = aware(hi)
                rows = []
                while hour <= last:  # type: ignore[operator]
                    local = hour.astimezone(tz)
                    rows.append({"u": f"{hour:%Y-%m-%d %H}", "l": hour_key(local), "w": local.isoweekday()})
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
        conn.execute(insert(state), [{"id": STATE_ID, "timezone": zone_name(tz), "built_at": clock.now()}])
    return total


def rollup_state(archive: Archive) -> dict[str, Any]:
    """Whether counts come from the rollups (built in the archive's zone) and how big they are."""
    with archive.catalog.session() as s:
        state = s.get(AnalyticsState, STATE_ID)
        hourly = s.scalar(select(func.count()).select_from(AnalyticsHourly)) or 0
        periods = s.scalar(select(func.count()).select_from(AnalyticsPeriod)) or 0
        days = s.scalar(select(func.count()).select_from(AnalyticsDay)) or 0
    zone = zone_name(archive.settings.tz)
    return {"built": state is not None, "timezone": state.timezone if state else None,
            "in_use": state is not None and state.timezone == zone, "archive_timezone": zone,
            "built_at": state.built_at.isoformat() if state else None, "hourly_rows": hourly,
            "period_rows": periods, "day_rows": days}
