"""Urban-planning analytics: counts of people, vehicles and other classes from catalog events.

Counts are per camera or zone, by hour of day, weekday or calendar month (months in a row make
a trend), and two periods can be compared. Buckets are taken in the archive's time zone (a
planner thinks in local hours). Every figure keeps the packages it was counted from, so a page
links each bar to its footage. These are live queries over the events table; a rollup table is
the alternative the benchmark named in issue 14 would weigh.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from longwatch.core.catalog.models import Camera, Event, Package
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

PROFILE = Path(__file__).resolve().parent.parent / "profiles" / "analytics.toml"
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


@dataclass(frozen=True)
class PlanningSample:
    """The planning-sample retention rule, as data (profiles/analytics.toml)."""

    minutes_per_hour: int
    keep_years: int
    offset_minutes: int = 0

    def keeps(self, start: datetime, end: datetime) -> bool:
        """Does a clip from ``start`` to ``end`` overlap the sampled minutes of any hour it spans?"""
        hour = start.replace(minute=0, second=0, microsecond=0)
        while hour < end:
            lo = hour + timedelta(minutes=self.offset_minutes)
            hi = lo + timedelta(minutes=self.minutes_per_hour)
            if start < hi and end > lo:
                return True
            hour += timedelta(hours=1)
        return False

    def keep_until(self, start: datetime) -> datetime:
        return start.replace(year=start.year + self.keep_years) if not (start.month == 2 and start.day == 29) \
            else start.replace(year=start.year + self.keep_years, day=28)


def planning_sample() -> PlanningSample:
    rule = profile()["planning_sample"]
    return PlanningSample(int(rule["minutes_per_hour"]), int(rule["keep_years"]), int(rule.get("offset_minutes", 0)))


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
           min_confidence: float = 0.0) -> list[Figure]:
    """Figures sorted by group, bucket and class; empty buckets are left out."""
    if grouping not in GROUPINGS:
        raise LongwatchError("U009", value=grouping, allowed=", ".join(GROUPINGS))
    if by not in BY:
        raise LongwatchError("U009", value=by, allowed=", ".join(BY))
    if start and end and end < start:
        raise LongwatchError("Q001", start=start.isoformat(), end=end.isoformat())
    tz = archive.settings.tz
    with archive.catalog.session() as s:
        zones = dict(s.execute(select(Camera.id, Camera.zone)).all())
        q = (select(Event.type, Event.start_utc, Event.camera, Event.package_id, Package.camera, Package.zone)
             .outerjoin(Package, Package.id == Event.package_id))
        if start:
            q = q.where(Event.start_utc >= start)
        if end:
            q = q.where(Event.start_utc < end)
        if min_confidence:
            q = q.where(Event.confidence >= min_confidence)
        rows = s.execute(q).all()
    figures: dict[tuple[str, str, str], Figure] = {}
    wanted = set(cameras or ())
    for event_type, when, ev_camera, package_id, pkg_camera, pkg_zone in rows:
        camera = ev_camera or pkg_camera or ""
        if wanted and camera not in wanted:
            continue
        camera_zone = zones.get(camera) or pkg_zone or ""
        if zone and not (camera_zone == zone or camera_zone.startswith(zone.rstrip("/") + "/")):
            continue
        group = camera if by == "camera" else camera_zone
        key = (group, bucket_of(when, grouping, tz), classify(event_type))
        fig = figures.get(key)
        if fig is None:
            fig = figures[key] = Figure(*key)
        fig.count += 1
        if package_id and package_id not in fig.packages and len(fig.packages) < SAMPLE_LINKS:
            fig.packages.append(package_id)
        fig.first = when if fig.first is None or when < fig.first else fig.first
        fig.last = when if fig.last is None or when > fig.last else fig.last
    return [figures[k] for k in sorted(figures)]


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
        for fig in counts(archive, grouping="month", by=by, start=lo, end=hi, cameras=cameras, zone=zone):
            row = out.setdefault((fig.group, fig.cls), {"group": fig.group, "class": fig.cls, "before": 0,
                                                        "after": 0, "before_per_day": 0.0, "after_per_day": 0.0})
            row[label] += fig.count
            row[f"{label}_per_day"] = round(row[label] / days, 3)
    for row in out.values():
        row["change"] = (round(row["after_per_day"] / row["before_per_day"] - 1, 4)
                         if row["before_per_day"] else None)
    return [out[k] for k in sorted(out)]
