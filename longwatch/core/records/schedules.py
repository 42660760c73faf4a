"""Retention schedules: record classes, the rules that assign packages to them, and the dates they give.

A schedule is data (TOML under ``longwatch/profiles/retention-*.toml``,
validated against ``retention-schedule.schema.json``); the archive's active
schedule is ``retention/schedule.toml`` in the archive, else the built-in
Korean public-body default. This module reads and validates schedules
(:func:`parse_schedule`, :func:`load_schedule`, :func:`active_schedule`) and
answers, from a package's :class:`Facts`, which :class:`RecordClass` keeps it
longest and until when (:func:`classify`, :func:`trigger_time`,
:func:`add_period`). It records nothing: assigning packages is
:mod:`longwatch.core.records.assignment`. The schedule's planning-sample
rule is :class:`PlanningSample`; keeping the sample is
:mod:`longwatch.core.records.sampling`.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
SCHEMA_PATH = PROFILES / "retention-schedule.schema.json"
DEFAULT_SCHEDULE = PROFILES / "retention-kr-public.toml"
ACTIVE_NAME = "retention/schedule.toml"
#: the purpose recorded on a package kept as a planning sample (what :func:`classify` looks for)
SAMPLE_PURPOSE = "planning"

# -- time --------------------------------------------------------------------------------
#: An ISO 8601 period of whole years, months and days (``P1Y6M``); its groups are the three amounts.
PERIOD = re.compile(r"^P(?=\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")


def add_period(start: datetime, period: str) -> datetime | None:
    """``start`` plus an ISO 8601 period of years, months and days (calendar arithmetic); None = permanent."""
    if period == "permanent":
        return None
    match = PERIOD.match(period)
    if not match:
        raise ValueError(f"not a period: {period!r}")
    years, months, days = (int(g or 0) for g in match.groups())
    month_index = start.month - 1 + months + 12 * years
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])  # 29 February + 1 year = 28 February
    try:
        return start.replace(year=year, month=month, day=day) + timedelta(days=days)
    except OverflowError:
        return None


# -- schedules ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordClass:
    id: str
    name: str
    trigger: str
    period: str
    action: str
    legal_basis: str
    owner: str
    name_ko: str = ""
    legal_basis_ko: str = ""
    owner_ko: str = ""
    emergency_purge: bool = False

    def due(self, trigger_at: datetime | None) -> datetime | None:
        return add_period(trigger_at, self.period) if trigger_at is not None else None


@dataclass(frozen=True)
class Rule:
    record_class: str
    name: str = ""
    camera: tuple[str, ...] = ()
    zone: tuple[str, ...] = ()
    purpose: tuple[str, ...] = ()
    event_type: tuple[str, ...] = ()
    case: bool | None = None

    def matches(self, facts: Facts) -> bool:
        if self.camera and facts.camera not in self.camera:
            return False
        if self.zone and not any(facts.zone == z or facts.zone.startswith(z.rstrip("/") + "/") for z in self.zone):
            return False
        if self.purpose and facts.purpose not in self.purpose:
            return False
        if self.event_type and facts.event_type not in self.event_type:
            return False
        return self.case is None or self.case == bool(facts.case_id)



@dataclass(frozen=True)
class PlanningSample:
    """The planning-sample rule of a schedule: which minutes of every hour outlive their footage.

    When a camera's footage is disposed of under its normal schedule, minutes
    ``offset_minutes`` to ``offset_minutes + minutes_per_hour`` of each hour it
    covers are first kept (cut by stream copy into a derived package, or the
    package itself when it lies wholly inside them) in ``record_class``, whose
    period says how long (``keep_years``). Long-term planning studies then have
    footage to look back at, not only counts.
    """

    enabled: bool = False
    minutes_per_hour: int = 10
    offset_minutes: int = 0
    record_class: str = "planning"
    cameras: tuple[str, ...] = ()  # empty: every camera
    period: str = "P5Y"  # of record_class

    @property
    def keep_years(self) -> int | None:
        """Whole years the sample is kept (None when the class's period is not whole years)."""
        match = PERIOD.match(self.period)
        if match is None or match.group(2) or match.group(3):
            return None
        return int(match.group(1) or 0)

    def applies_to(self, camera: str) -> bool:
        return self.enabled and bool(camera) and (not self.cameras or camera in self.cameras)

    def ranges(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The sampled minutes of every hour that ``start``..``end`` touches, clipped to it (UTC hours:
        the zones in use here have whole-hour offsets, so a UTC hour is a local hour)."""
        found = []
        hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        while hour < end:
            lo = hour + timedelta(minutes=self.offset_minutes)
            hi = lo + timedelta(minutes=self.minutes_per_hour)
            if start < hi and end > lo:
                found.append((max(start, lo), min(end, hi)))
            hour += timedelta(hours=1)
        return found


@dataclass(frozen=True)
class Schedule:
    id: str
    title: str
    owner: str
    default_class: str
    classes: dict[str, RecordClass]
    rules: tuple[Rule, ...]
    title_ko: str = ""
    owner_ko: str = ""
    source: str = ""
    digest: str = ""
    planning_sample: PlanningSample | None = None


@dataclass
class Facts:
    """What assignment rules look at for one package."""

    camera: str = ""
    zone: str = ""
    purpose: str = ""
    event_type: str = ""
    case_id: str = ""
    capture_at: datetime | None = None
    event_at: datetime | None = None
    case_closed_at: datetime | None = None


def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def parse_schedule(data: dict[str, Any], source: str = "", digest: str = "") -> Schedule:
    """Validate against the JSON Schema, then the cross-references the schema cannot express."""
    import jsonschema  # only when a schedule is validated: it costs every other command 0.1 s

    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        details = []
        for error in errors[:5]:
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            details.append(f"{where}: {error.message}")
        raise LongwatchError("H001", path=source, detail="; ".join(details))
    classes: dict[str, RecordClass] = {}
    for c in data["classes"]:
        if c["id"] in classes:
            raise LongwatchError("H001", path=source, detail=f"classes: the id {c['id']!r} is used twice")
        classes[c["id"]] = RecordClass(**c)
    rules = []
    for i, r in enumerate(data.get("rules", [])):
        if r["class"] not in classes:
            raise LongwatchError("H001", path=source, detail=f"rules/{i}/class: no record class {r['class']!r}")
        rules.append(Rule(record_class=r["class"], name=r.get("name", f"rule {i + 1}"),
                          camera=tuple(r.get("camera", ())), zone=tuple(r.get("zone", ())),
                          purpose=tuple(r.get("purpose", ())), event_type=tuple(r.get("event_type", ())),
                          case=r.get("case")))
    if data["default_class"] not in classes:
        raise LongwatchError("H001", path=source, detail=f"default_class: no record class {data['default_class']!r}")
    return Schedule(id=data["id"], title=data["title"], owner=data["owner"], default_class=data["default_class"],
                    classes=classes, rules=tuple(rules), title_ko=data.get("title_ko", ""),
                    owner_ko=data.get("owner_ko", ""), source=source, digest=digest,
                    planning_sample=_planning_sample(data.get("planning_sample"), classes, source))


def _planning_sample(table: dict[str, Any] | None, classes: dict[str, RecordClass],
                     source: str) -> PlanningSample | None:
    """The ``[planning_sample]`` table, with the checks the JSON Schema cannot express."""
    if table is None:
        return None
    sample = PlanningSample(enabled=bool(table.get("enabled", False)),
                            minutes_per_hour=int(table.get("minutes_per_hour", 10)),
                            offset_minutes=int(table.get("offset_minutes", 0)),
                            record_class=table.get("class", "planning"), cameras=tuple(table.get("cameras", ())))
    if sample.record_class not in classes:
        raise LongwatchError("H001", path=source, detail=f"planning_sample/class: no record class "
                                                         f"{sample.record_class!r}")
    if sample.offset_minutes + sample.minutes_per_hour > 60:
        raise LongwatchError("H001", path=source, detail="planning_sample: offset_minutes + minutes_per_hour "
                                                         "must stay within the hour (at most 60)")
    return PlanningSample(**{**sample.__dict__, "period": classes[sample.record_class].period})


def load_schedule(path: Path) -> Schedule:
    """A schedule file (TOML); every mistake is H001 naming the file and the field."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LongwatchError("H001", path=path, detail=exc.strerror or str(exc)) from exc
    return schedule_from_bytes(raw, str(path))


def schedule_from_bytes(raw: bytes, source: str) -> Schedule:
    """A schedule from the bytes of its file (what :func:`load_schedule` read, or a ledger entry kept)."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LongwatchError("H001", path=source, detail=str(exc)) from exc
    return parse_schedule(data, source, hashlib.sha256(raw).hexdigest())


def active_schedule(archive: Archive) -> Schedule:
    path = archive.root / ACTIVE_NAME
    return load_schedule(path if path.is_file() else DEFAULT_SCHEDULE)


def classify(schedule: Schedule, facts: Facts) -> tuple[RecordClass, str, datetime | None]:
    """The class whose retention lasts longest among the default and every matching rule."""
    candidates = [(schedule.classes[schedule.default_class], "default")]
    candidates += [(schedule.classes[r.record_class], r.name) for r in schedule.rules if r.matches(facts)]
    sample = schedule.planning_sample
    if sample is not None and facts.purpose == SAMPLE_PURPOSE:  # kept as a sample: stays kept if the rule is off
        candidates.append((schedule.classes[sample.record_class], "planning sample"))
    best: tuple[tuple[int, datetime], RecordClass, str, datetime | None] | None = None
    for record_class, rule in candidates:
        trigger_at = trigger_time(record_class, facts)
        due = record_class.due(trigger_at)
        # permanent beats "not triggered yet" beats any date; later dates beat earlier ones
        if record_class.period == "permanent":
            key = (2, datetime.max.replace(tzinfo=UTC))
        elif due is None:
            key = (1, datetime.max.replace(tzinfo=UTC))
        else:
            key = (0, due)
        if best is None or key > best[0]:
            best = (key, record_class, rule, due)
    assert best is not None
    return best[1], best[2], best[3]


def trigger_time(record_class: RecordClass, facts: Facts) -> datetime | None:
    if record_class.trigger == "capture":
        return facts.capture_at
    if record_class.trigger == "event":
        return facts.event_at or facts.capture_at
    return facts.case_closed_at  # case-closed: not running until the case is closed

