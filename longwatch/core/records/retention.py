"""Retention schedules, legal holds and provable disposition (docs/retention.md).

The one rule everything here serves: **a hold beats every deletion path**.
Every deletion of a package, whatever asks for it (a scheduled disposition, a
manual delete, the storage-full purge, an administrator, a schedule change),
passes through :func:`delete_package`, which checks the holds in the same
catalog transaction that records the intent to delete; nothing else in
longwatch removes a package's files from a storage location.

Deletion is journalled so that a crash is never silent: the intent is written
first (package status ``disposing``), then every stored copy is removed, then
the package becomes a tombstone (status ``disposed``, digests kept) and a
"deletion" event goes into the custody ledger. A run that was killed is
resumed by running it again.

Schedules are data (TOML under ``longwatch/profiles/retention-*.toml``,
validated against ``retention-schedule.schema.json``); the archive's active
schedule is ``retention/schedule.toml`` in the archive, else the built-in
Korean public-body default. Every function takes ``now=``, else reads
:func:`longwatch.clock.now`, so schedules can be tested across years.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import html
import json
import logging
import os
import re
import shutil
import tomllib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select, text, update
from sqlalchemy.orm import Session

from longwatch import clock
from longwatch.core.catalog.models import (
    Clip,
    Disposition,
    DispositionItem,
    LegalHold,
    Package,
    RetentionAssignment,
)
from longwatch.core.faults import fault
from longwatch.core.storage import copies as storage_copies
from longwatch.core.storage import locks as storage_locks
from longwatch.core.storage import replicate as storage_replicate
from longwatch.core.storage.caps import ensure_room
from longwatch.core.storage.copies import record_event
from longwatch.core.storage.locks import lockable_locations
from longwatch.core.storage.tiers import delete_copy
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
SCHEMA_PATH = PROFILES / "retention-schedule.schema.json"
DEFAULT_SCHEDULE = PROFILES / "retention-kr-public.toml"
ACTIVE_NAME = "retention/schedule.toml"
CERTIFICATES = "retention/certificates"
CERTIFICATE_TYPE = "longwatch-destruction-certificate"

# -- who acts -------------------------------------------------------------------------
#: The roles this module knows. Real accounts come with the web UI; until then
#: the acting user is named on the command line or in the environment, and this
#: is the one place to wire accounts in later.
ROLES = ("operator", "records-manager", "admin")
RECORDS_MANAGER = "records-manager"


@dataclass(frozen=True)
class Actor:
    """The person on whose behalf a retention action runs."""

    name: str
    role: str


def actor_from(name: str | None = None, role: str | None = None, default_name: str = "") -> Actor:
    """``--as USER --role ROLE``, else LONGWATCH_USER / LONGWATCH_ROLE, else the OS user as an operator."""
    who = (name or os.environ.get("LONGWATCH_USER") or default_name or "").strip()
    what = (role or os.environ.get("LONGWATCH_ROLE") or "operator").strip()
    if not who:
        raise LongwatchError("H010")
    if what not in ROLES:
        raise LongwatchError("H011", role=what, roles=", ".join(ROLES))
    return Actor(who, what)


# -- time --------------------------------------------------------------------------------
_PERIOD = re.compile(r"^P(?=\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")


def add_period(start: datetime, period: str) -> datetime | None:
    """``start`` plus an ISO 8601 period of years, months and days (calendar arithmetic); None = permanent."""
    if period == "permanent":
        return None
    match = _PERIOD.match(period)
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


#: the purpose recorded on a package kept as a planning sample (what :func:`classify` looks for)
log = logging.getLogger(__name__)

SAMPLE_PURPOSE = "planning"
#: Planning-sample cuts get uuid5 ids in this namespace from (source, start, end): a retry finds its cut.
SAMPLE_NAMESPACE = uuid.UUID("6c6f6e67-7761-7463-6800-73616d706c65")


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
        match = _PERIOD.match(self.period)
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
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LongwatchError("H001", path=path, detail=str(exc)) from exc
    return parse_schedule(data, str(path), hashlib.sha256(raw).hexdigest())


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


# -- assignment -----------------------------------------------------------------------------
def _facts(package: Package, assignment: RetentionAssignment | None) -> Facts:
    a = assignment
    return Facts(camera=package.camera or "", zone=package.zone or "",
                 purpose=a.purpose if a else "", event_type=a.event_type if a else "",
                 case_id=a.case_id if a else "", capture_at=package.start_utc or package.created_at,
                 event_at=a.event_time if a else None, case_closed_at=a.case_closed_at if a else None)


def record_class_of(archive: Archive, package_id: str) -> str:
    """The package's record class: its assignment, else what the active schedule would assign now.

    A package is assigned a class by ``longwatch retention assign``, which may run
    after a connector has stored it; its storage policy must already be the class's
    (a drop folder releases its source once that policy is met).
    """
    with archive.catalog.session() as s:
        package = s.get(Package, package_id)
        if package is None:
            raise LongwatchError("I008", package_id=package_id)
        assignment = s.get(RetentionAssignment, package_id)
        if assignment is not None and assignment.record_class:
            return assignment.record_class
        record_class, _rule, _due = classify(active_schedule(archive), _facts(package, assignment))
        return record_class.id


def _ledger_append(archive: Archive, events: list[Any]) -> None:
    from longwatch.core import custody

    for start in range(0, len(events), 1000):
        custody.Ledger.for_archive(archive).append(events[start:start + 1000])


def _agents(actor: Actor, role: str = "implementer", approver: Actor | None = None) -> list[dict[str, str]]:
    from longwatch.core import custody

    agents = [custody.software_agent(), custody.person_agent(actor.name, role)]
    if approver is not None:
        agents.append(custody.person_agent(approver.name, "authorizer"))
    return agents


def assign(archive: Archive, actor: Actor, now: datetime | None = None, package_ids: Sequence[str] | None = None,
           schedule: Schedule | None = None, **facts: Any) -> list[dict[str, Any]]:
    """(Re)compute the class and due date of packages; record each change as a "policy assignment" event.

    Without ``package_ids``: every stored package that has no assignment yet.
    ``facts`` (case_id, event_type, purpose, event_time, case_closed_at) update
    what the rules see before recomputing.
    """
    from longwatch.core import custody

    now = clock.current(now)
    schedule = schedule or active_schedule(archive)
    changes: list[dict[str, Any]] = []
    with archive.catalog.session() as s:
        if package_ids is None:
            query = (select(Package, RetentionAssignment)
                     .outerjoin(RetentionAssignment, RetentionAssignment.package_id == Package.id)
                     .where(Package.status == "stored", RetentionAssignment.package_id.is_(None)))
        else:
            query = (select(Package, RetentionAssignment)
                     .outerjoin(RetentionAssignment, RetentionAssignment.package_id == Package.id)
                     .where(Package.id.in_(list(package_ids))))
        rows = [(row[0], row[1]) for row in s.execute(query)]
        if package_ids is not None and len(rows) != len(set(package_ids)):
            found = {p.id for p, _ in rows}
            raise LongwatchError("I008", package_id=next(i for i in package_ids if i not in found))
        for package, assignment in rows:
            if assignment is None:
                assignment = RetentionAssignment(package_id=package.id, schedule_id="", record_class="",
                                                 rule="", action="", case_id="", event_type="", purpose="",
                                                 assigned_at=now)
                s.add(assignment)
            for key, value in facts.items():
                setattr(assignment, key, value)
            record_class, rule, due = classify(schedule, _facts(package, assignment))
            before = (assignment.schedule_id, assignment.record_class, assignment.due_at)
            trigger_at = trigger_time(record_class, _facts(package, assignment))
            if before == (schedule.id, record_class.id, due) and not facts:
                continue
            assignment.schedule_id, assignment.record_class, assignment.rule = schedule.id, record_class.id, rule
            assignment.action, assignment.trigger_at, assignment.due_at = record_class.action, trigger_at, due
            assignment.assigned_at = now
            changes.append({"package_id": package.id, "schedule": schedule.id, "class": record_class.id,
                            "rule": rule, "due": _iso(due), "previous_class": before[1] or None,
                            "previous_due": _iso(before[2]), "facts": {k: _iso(v) if isinstance(v, datetime) else v
                                                                       for k, v in facts.items()}})
    events = [custody.Event(type="policy assignment", packages=[c["package_id"]], agents=_agents(actor),
                            detail=f"retention class {c['class']} of schedule {c['schedule']} ({c['rule']})",
                            extra={"retention": c}, time=now) for c in changes]
    _ledger_append(archive, events)
    from longwatch.core.records import locks as records_locks  # records.locks imports this module

    # a fixed retention becomes a retain-until date on stores configured for it (after the ledger event);
    # a package that joined a case gets the store's legal hold of a case hold that covers it
    if "case_id" in facts:
        records_locks.sync_retention(archive, [c["package_id"] for c in changes], now, holds_too=True)
    else:
        records_locks.sync_retention(archive, [c["package_id"] for c in changes if c["due"]], now)
    return changes


def close_case(archive: Archive, case_id: str, closed_at: datetime, actor: Actor,
               now: datetime | None = None) -> list[dict[str, Any]]:
    """A case was closed: its packages' case-closed clocks start at ``closed_at``."""
    with archive.catalog.session() as s:
        ids = list(s.scalars(select(RetentionAssignment.package_id).where(RetentionAssignment.case_id == case_id)))
    if not ids:
        return []
    return assign(archive, actor, now, ids, case_closed_at=closed_at)


def set_schedule(archive: Archive, path: Path, actor: Actor, now: datetime | None = None) -> list[dict[str, Any]]:
    """Make ``path`` the active schedule and recompute every stored package (a recorded change)."""
    from longwatch.core import custody

    schedule = load_schedule(path)
    now = clock.current(now)
    target = archive.root / ACTIVE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    shutil.copyfile(path, tmp)
    os.replace(tmp, target)
    _ledger_append(archive, [custody.Event(
        type="policy assignment", agents=_agents(actor), time=now,
        detail=f"retention schedule {schedule.id} made active",
        extra={"retention_schedule": {"id": schedule.id, "sha256": schedule.digest, "source": Path(path).name}})])
    with archive.catalog.session() as s:
        ids = list(s.scalars(select(Package.id).where(Package.status == "stored")))
    return assign(archive, actor, now, ids, schedule=schedule) if ids else []


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


# -- holds ----------------------------------------------------------------------------------
HOLD_KINDS = ("package", "case", "camera", "search")
SEARCH_KEYS = ("camera", "zone", "text", "from", "to")


def place_hold(archive: Archive, actor: Actor, *, owner: str, reason: str, review_at: datetime | None = None,
               package_id: str = "", case_id: str = "", camera: str = "", start: datetime | None = None,
               end: datetime | None = None, search: dict[str, str] | None = None,
               now: datetime | None = None) -> LegalHold:
    """A hold on exactly one target; recorded in the catalog and as a ledger event before it returns."""
    from longwatch.core import custody

    now = clock.current(now)
    targets = [bool(package_id), bool(case_id), bool(camera), bool(search)]
    if sum(targets) != 1 or (camera and (start is None or end is None)) or (not camera and (start or end)):
        raise LongwatchError("H009")
    if start is not None and end is not None and end < start:
        raise LongwatchError("H009")
    if search:
        unknown = set(search) - set(SEARCH_KEYS)
        if unknown:
            raise LongwatchError("H012", detail=f"unknown keys {sorted(unknown)}; use {', '.join(SEARCH_KEYS)}")
        for key in ("from", "to"):
            if key in search:
                clock.parse_time(search[key])
    if not owner.strip() or not reason.strip():
        raise LongwatchError("H013")
    kind = HOLD_KINDS[targets.index(True)]
    hold = LegalHold(id=str(uuid.uuid4()), kind=kind, package_id=package_id, case_id=case_id, camera=camera,
                     start_utc=start, end_utc=end, search=json.dumps(search or {}, sort_keys=True, ensure_ascii=False),
                     owner=owner, reason=reason, review_at=review_at, placed_by=actor.name, placed_at=now,
                     released_by="", release_reason="")
    with archive.catalog.session() as s:
        if package_id and s.get(Package, package_id) is None:
            raise LongwatchError("I008", package_id=package_id)
        s.add(hold)
    _ledger_append(archive, [custody.Event(
        type="policy assignment", packages=[package_id] if package_id else [], agents=_agents(actor, "authorizer"),
        detail=f"legal hold placed ({kind}): {reason}", time=now, extra={"legal_hold": hold_dict(hold),
                                                                         "action": "hold placed"})])
    from longwatch.core.records import locks as records_locks  # records.locks imports this module

    # the catalog's hold first (it protects at once), then the stores' legal holds where they have object lock
    records_locks.sync_hold(archive, hold)
    return hold


def release_hold(archive: Archive, hold_id: str, actor: Actor, reason: str,
                 now: datetime | None = None) -> LegalHold:
    from longwatch.core import custody

    now = clock.current(now)
    with archive.catalog.session() as s:
        hold = _find_hold(s, hold_id)
        if hold.released_at is not None:
            raise LongwatchError("H014", hold_id=hold.id)
        hold.released_at, hold.released_by, hold.release_reason = now, actor.name, reason
    _ledger_append(archive, [custody.Event(
        type="policy assignment", packages=[hold.package_id] if hold.package_id else [],
        agents=_agents(actor, "authorizer"), detail=f"legal hold released: {reason}", time=now,
        extra={"legal_hold": hold_dict(hold), "action": "hold released"})])
    from longwatch.core.records import locks as records_locks  # records.locks imports this module

    # the stores' legal holds are lifted only from packages no other active hold covers
    records_locks.sync_hold(archive, hold)
    return hold


def _find_hold(s: Session, hold_id: str) -> LegalHold:
    matches = list(s.scalars(select(LegalHold).where(LegalHold.id.like(hold_id.replace("%", "") + "%")).limit(2)))
    if len(matches) != 1:
        raise LongwatchError("H008", hold_id=hold_id)
    return matches[0]


def list_holds(archive: Archive, include_released: bool = False) -> list[LegalHold]:
    with archive.catalog.session() as s:
        query = select(LegalHold).order_by(LegalHold.placed_at)
        if not include_released:
            query = query.where(LegalHold.released_at.is_(None))
        return list(s.scalars(query))


def hold_dict(hold: LegalHold) -> dict[str, Any]:
    return {"hold_id": hold.id, "kind": hold.kind, "package_id": hold.package_id or None,
            "case_id": hold.case_id or None, "camera": hold.camera or None, "start": _iso(hold.start_utc),
            "end": _iso(hold.end_utc), "search": json.loads(hold.search or "{}") or None, "owner": hold.owner,
            "reason": hold.reason, "review": _iso(hold.review_at), "placed_by": hold.placed_by,
            "placed_at": _iso(hold.placed_at), "released_at": _iso(hold.released_at),
            "released_by": hold.released_by or None, "release_reason": hold.release_reason or None}


def _overlaps(a_start: datetime | None, a_end: datetime | None, b_start: datetime | None,
              b_end: datetime | None) -> bool:
    if a_start is None:
        return False
    a_end = a_end or a_start
    return (b_end is None or a_start <= b_end) and (b_start is None or a_end >= b_start)


def hold_covers(hold: LegalHold, package: Package, case_id: str) -> bool:
    """Second precision: a camera hold from 14:00:05 to 14:00:09 covers a clip that overlaps those seconds."""
    if hold.kind == "package":
        return hold.package_id == package.id
    if hold.kind == "case":
        return bool(case_id) and hold.case_id == case_id
    start = package.start_utc or package.created_at
    if hold.kind == "camera":
        return hold.camera == package.camera and _overlaps(start, package.end_utc, hold.start_utc, hold.end_utc)
    criteria = _criteria(hold.search)
    if "camera" in criteria and criteria["camera"] != package.camera:
        return False
    zone = criteria.get("zone")
    if zone and not (package.zone == zone or (package.zone or "").startswith(zone.rstrip("/") + "/")):
        return False
    text = criteria.get("text", "").casefold()
    if text and text not in f"{package.title} {package.location_name} {package.camera}".casefold():
        return False
    if "from" in criteria or "to" in criteria:
        return _overlaps(start, package.end_utc, criteria.get("from"), criteria.get("to"))
    return True


@functools.lru_cache(maxsize=256)
def _criteria(search: str) -> dict[str, Any]:
    """A saved search's criteria with its times parsed, once per hold rather than once per package."""
    criteria: dict[str, Any] = json.loads(search or "{}")
    for key in ("from", "to"):
        if key in criteria:
            criteria[key] = clock.parse_time(criteria[key])
    return criteria


class HoldIndex:
    """The active holds, loaded once, for checking many packages quickly (planning, preview).

    Package and case holds are dictionary look-ups; camera holds are indexed
    by camera; only saved-search holds are evaluated row by row.
    """

    def __init__(self, holds: Iterable[LegalHold]) -> None:
        self.holds = list(holds)
        self.by_package = {h.package_id: h for h in self.holds if h.kind == "package"}
        self.by_case = {h.case_id: h for h in self.holds if h.kind == "case"}
        self.by_camera: dict[str, list[LegalHold]] = {}
        for h in self.holds:
            if h.kind == "camera":
                self.by_camera.setdefault(h.camera, []).append(h)
        self.searches = [h for h in self.holds if h.kind == "search"]

    @classmethod
    def load(cls, s: Session) -> HoldIndex:
        return cls(s.scalars(select(LegalHold).where(LegalHold.released_at.is_(None))))

    def covering(self, package: Package, case_id: str) -> list[LegalHold]:
        found = []
        if package.id in self.by_package:
            found.append(self.by_package[package.id])
        if case_id and case_id in self.by_case:
            found.append(self.by_case[case_id])
        for h in self.by_camera.get(package.camera, ()):
            if hold_covers(h, package, case_id):
                found.append(h)
        found += [h for h in self.searches if hold_covers(h, package, case_id)]
        return found


def covered_packages(archive: Archive, hold: LegalHold, locations: Sequence[str] | None = None) -> list[str]:
    """Stored packages that ``hold`` covers (released or not), optionally only those with a copy on
    ``locations``: one query, the same condition the disposition planner applies."""
    from longwatch.core.catalog.models import Copy

    clause = held_clause([hold])
    if clause is None:
        return []
    query = (select(Package.id).outerjoin(RetentionAssignment, RetentionAssignment.package_id == Package.id)
             .where(clause, Package.status == "stored").order_by(Package.id))
    if locations is not None:
        on = select(Copy.package_id).where(Copy.package_id == Package.id, Copy.location.in_(list(locations)))
        query = query.where(on.exists() | Package.storage_location.in_(list(locations)))
    with archive.catalog.session() as s:
        return list(s.scalars(query))


def lock_until(archive: Archive, package_id: str, now: datetime | None = None) -> tuple[datetime, str] | None:
    """(retain-until date, class) for a store's object lock: the due date of a fixed retention still ahead.

    None for a permanent class, a clock that has not started (case not
    closed) or a date already passed.
    """
    now = clock.current(now)
    with archive.catalog.session() as s:
        assignment = s.get(RetentionAssignment, package_id)
        if assignment is None or assignment.due_at is None or assignment.due_at <= now:
            return None
        return assignment.due_at, assignment.record_class


def holds_on(archive: Archive, package_id: str) -> list[LegalHold]:
    with archive.catalog.session() as s:
        package = s.get(Package, package_id)
        if package is None:
            raise LongwatchError("I008", package_id=package_id)
        assignment = s.get(RetentionAssignment, package_id)
        return HoldIndex.load(s).covering(package, assignment.case_id if assignment else "")


# -- the one deletion path ----------------------------------------------------------------------
DELETION_REASONS = ("disposition", "manual", "storage-full purge", "administrator", "schedule change")


@dataclass
class Deletion:
    package_id: str
    digest: str
    size: int
    locations: list[str]
    already: bool = False


def delete_package(archive: Archive, package_id: str, actor: Actor, reason: str, *,
                   now: datetime | None = None, disposition_id: str = "", approver: Actor | None = None,
                   extra: dict[str, Any] | None = None) -> Deletion:
    """Remove every stored copy of a package, unless a legal hold covers it (H003).

    First, before anything is recorded or deleted: H003 while a hold covers it,
    and S017 while a store's object lock still locks any copy (every location
    is asked first, so a refusal leaves every copy in place).
    Then three steps, so that no crash leaves a package half-deleted without a record:
    1. in ONE catalog transaction: take the write lock (the status update),
       check every active hold, and record the intent (status ``disposing``);
       a hold placed concurrently is either seen here or placed after the
       intent was committed;
    2. remove the package from every storage location, and staging;
    3. mark the tombstone (status ``disposed``; digests and clips kept) and
       append a "deletion" event to the custody ledger.
    Running it again after a crash between 1 and 3 completes the deletion.
    """
    from longwatch.core import custody

    if reason not in DELETION_REASONS:
        raise ValueError(f"unknown deletion reason {reason!r}")
    now = clock.current(now)
    _refuse_if_locked(archive, package_id)
    with archive.catalog.session() as s:
        s.execute(update(Package).where(Package.id == package_id, Package.status.in_(("stored", "disposing")))
                  .values(status="disposing"))
        package = s.get(Package, package_id)
        if package is None:
            raise LongwatchError("I008", package_id=package_id)
        if package.status == "disposed":
            return Deletion(package_id, package.tagmanifest_sha256, package.size_bytes, [], already=True)
        assignment = s.get(RetentionAssignment, package_id)
        held = HoldIndex.load(s).covering(package, assignment.case_id if assignment else "")
        if held:
            raise LongwatchError("H003", package_id=package_id, hold_id=held[0].id[:8], reason=held[0].reason)
        if disposition_id:
            s.execute(update(DispositionItem).where(DispositionItem.disposition_id == disposition_id,
                                                    DispositionItem.package_id == package_id)
                      .values(status="deleting"))
        digest, size = package.tagmanifest_sha256, package.size_bytes
    locations = _remove_copies(archive, package_id)
    fault("after-delete")
    with archive.catalog.session() as s:
        s.execute(update(Package).where(Package.id == package_id).values(status="disposed"))
        if disposition_id:
            s.execute(update(DispositionItem).where(DispositionItem.disposition_id == disposition_id,
                                                    DispositionItem.package_id == package_id)
                      .values(status="deleted", done_at=now))
    _ledger_append(archive, [custody.Event(
        type="deletion", packages=[package_id], agents=_agents(actor, approver=approver), time=now,
        detail=f"every stored copy removed ({reason}); tombstone kept in the catalog",
        extra={"reason": reason, "disposition": disposition_id or None, "tagmanifest_sha256": digest,
               "locations": locations, "actor_role": actor.role, **(extra or {})})])
    return Deletion(package_id, digest, size, locations)


def _refuse_if_locked(archive: Archive, package_id: str) -> None:
    """Before anything is deleted anywhere: H003 while a catalog hold covers the package, then S017 while
    any store still locks any version of any copy (checked on every location first, then deleted).

    A store that cannot say whether it locks raises (S019, S002): refused,
    never guessed. Nothing is recorded, so a caller may ask it before doing
    anything else to a package it means to dispose of.
    """
    row = archive.catalog.get(package_id)
    if row is None or row.status == "disposed":
        return  # delete_package says I008, or that it is already done
    held = holds_on(archive, package_id)
    if held:
        raise LongwatchError("H003", package_id=package_id, hold_id=held[0].id[:8], reason=held[0].reason)
    locked = storage_locks.store_locks(archive, package_id)
    if locked:
        location, key, lock = locked[0]
        raise LongwatchError("S017", package_id=package_id, location=location, key=key, lock=lock)


def _remove_copies(archive: Archive, package_id: str) -> list[str]:
    """The only code that disposes of a package's files; reachable only through :func:`delete_package`.

    Each location removes its copy its own way (an object store refuses while
    its object lock holds, before removing anything). Stores that can lock go
    first: a lock placed after :func:`_refuse_if_locked` looked (or a store
    that denies the delete) then stops the disposal before any copy elsewhere
    is gone. Such a refusal puts the package back to ``stored`` (never left
    ``disposing``, where audits, replication and lock syncs skip it) and is
    S017 when nothing was removed, S020 when a copy on another lock-capable
    store already was (the audit copies it back).
    """
    removed: list[str] = []
    try:
        lockable = set(lockable_locations(archive))
        names = list(archive.settings.locations)
        for name in [n for n in names if n in lockable] + [n for n in names if n not in lockable]:
            storage = archive.storage(name)
            if storage.has_package(package_id):
                try:
                    delete_copy(archive, storage, package_id)
                except LongwatchError as exc:
                    if exc.code != "S013":
                        raise
                    key, lock = exc.context.get("key", ""), exc.context.get("lock", "")
                    refused = (LongwatchError("S020", package_id=package_id, location=name, key=key, lock=lock,
                                              removed=", ".join(removed)) if removed else
                               LongwatchError("S017", package_id=package_id, location=name, key=key, lock=lock))
                    record_event(archive, package_id, name, "object lock", "failure",
                                 refused.render(translate=False))
                    raise refused from exc
                removed.append(name)
            storage.sweep()  # staging that a killed writer left behind
    except LongwatchError as exc:
        if exc.code in ("S017", "S020") or not removed:
            # refused by a store, or stopped before anything went: the package is whole (or repairable)
            with archive.catalog.session() as s:
                s.execute(update(Package).where(Package.id == package_id, Package.status == "disposing")
                          .values(status="stored"))
        raise
    return removed


# -- planning and disposition --------------------------------------------------------------------
@dataclass
class Candidate:
    package_id: str
    record_class: str
    size: int
    start: datetime | None
    due: datetime | None
    digest: str


@dataclass
class Plan:
    now: datetime
    schedule: Schedule
    due: list[Candidate] = field(default_factory=list)
    held: list[tuple[Candidate, str]] = field(default_factory=list)
    review: list[Candidate] = field(default_factory=list)
    summary: dict[str, dict[str, Any]] | None = None  # set when the due rows were never fetched (propose)

    def by_class(self) -> dict[str, dict[str, Any]]:
        return self.summary if self.summary is not None else summarize(self.due)


def summarize(candidates: Iterable[Candidate]) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for c in candidates:
        g = groups.setdefault(c.record_class, {"count": 0, "size": 0, "oldest": None, "newest": None})
        g["count"] += 1
        g["size"] += c.size
        if c.start is not None:
            g["oldest"] = c.start if g["oldest"] is None or c.start < g["oldest"] else g["oldest"]
            g["newest"] = c.start if g["newest"] is None or c.start > g["newest"] else g["newest"]
    return dict(sorted(groups.items()))


def _large_read_cache(s: Session) -> None:
    """SQLite's default 2 MB page cache makes the due-date index walk re-read pages from the OS at
    millions of rows; planning asks its connection for 256 MB (a per-connection setting)."""
    if s.get_bind().dialect.name == "sqlite":
        s.execute(text("PRAGMA cache_size=-262144"))


def plan(archive: Archive, now: datetime | None = None, classes: Sequence[str] | None = None) -> Plan:
    """What is due now under the active schedule: one indexed query with the holds applied in SQL."""
    now = clock.current(now)
    schedule = active_schedule(archive)
    result = Plan(now=now, schedule=schedule)
    with archive.catalog.session() as s:
        _large_read_cache(s)
        holds = HoldIndex.load(s)
        held = held_clause(holds.holds)
        query = (select(Package.id, RetentionAssignment.record_class, Package.size_bytes, Package.start_utc,
                        RetentionAssignment.due_at, Package.tagmanifest_sha256, RetentionAssignment.action,
                        held.label("held") if held is not None else literal(False).label("held"))
                 .join(RetentionAssignment, RetentionAssignment.package_id == Package.id)
                 .where(RetentionAssignment.due_at <= now, Package.status == "stored")
                 .order_by(RetentionAssignment.due_at, Package.id))
        if classes:
            query = query.where(RetentionAssignment.record_class.in_(list(classes)))
        due, review, set_aside = result.due.append, result.review.append, result.held.append
        for row in s.connection().execute(query):  # Core rows: no ORM bookkeeping per row
            c = Candidate(row[0], row[1], row[2], row[3], row[4], row[5])
            if row[7]:
                set_aside((c, ""))
            elif row[6] == "destroy":
                due(c)
            else:
                review(c)
    _name_holds(archive, holds, result)
    return result


def _name_holds(archive: Archive, holds: HoldIndex, result: Plan) -> None:
    """Which hold keeps each package set aside (one query for all of them)."""
    if not result.held:
        return
    wanted = {c.package_id for c, _h in result.held}
    with archive.catalog.session() as s:
        rows = s.execute(select(Package, RetentionAssignment.case_id)
                         .join(RetentionAssignment, RetentionAssignment.package_id == Package.id)
                         .where(Package.id.in_(wanted))).all()
        names = {}
        for package, case_id in rows:
            found = holds.covering(package, case_id or "")
            names[package.id] = found[0].id if found else ""
    result.held = [(c, names.get(c.package_id, "")) for c, _h in result.held]


def held_clause(holds: Sequence[LegalHold]) -> Any:
    """The active holds as one SQL condition on packages joined with their assignments (None: no holds).

    Kept equivalent to :func:`hold_covers`, which checks one package (tests compare both).
    """
    conditions: list[Any] = []
    ids = [h.package_id for h in holds if h.kind == "package"]
    if ids:
        conditions.append(Package.id.in_(ids))
    cases = [h.case_id for h in holds if h.kind == "case"]
    if cases:
        conditions.append(and_(RetentionAssignment.case_id != "", RetentionAssignment.case_id.in_(cases)))
    start = func.coalesce(Package.start_utc, Package.created_at)
    end = func.coalesce(Package.end_utc, Package.start_utc, Package.created_at)
    for h in holds:
        if h.kind == "camera":
            conditions.append(and_(Package.camera == h.camera, start <= h.end_utc, end >= h.start_utc))
        elif h.kind == "search":
            criteria = _criteria(h.search)
            parts: list[Any] = []
            if "camera" in criteria:
                parts.append(Package.camera == criteria["camera"])
            if criteria.get("zone"):
                zone = criteria["zone"]
                prefix = zone.rstrip("/").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
                parts.append(or_(Package.zone == zone, Package.zone.like(prefix, escape="\\")))
            if criteria.get("text"):
                needle = criteria["text"].casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                haystack = func.lower(Package.title + " " + Package.location_name + " " + Package.camera)
                parts.append(haystack.like(f"%{needle}%", escape="\\"))
            if "from" in criteria or "to" in criteria:
                parts.append(Package.start_utc.is_not(None) | Package.created_at.is_not(None))
                if criteria.get("to") is not None:
                    parts.append(start <= criteria["to"])
                if criteria.get("from") is not None:
                    parts.append(end >= criteria["from"])
            conditions.append(and_(*parts) if parts else literal(True))
    return or_(*conditions) if conditions else None


def preview(archive: Archive, schedule: Schedule, now: datetime | None = None) -> dict[str, Any]:
    """What ``schedule`` would destroy now if it were made active: counts, sizes, oldest, newest by class."""
    now = clock.current(now)
    destroyed, held, review = [], [], []
    with archive.catalog.session() as s:
        holds = HoldIndex.load(s)
        rows = s.execute(select(Package, RetentionAssignment)
                         .outerjoin(RetentionAssignment, RetentionAssignment.package_id == Package.id)
                         .where(Package.status == "stored"))
        for package, assignment in rows:
            record_class, _rule, due = classify(schedule, _facts(package, assignment))
            if due is None or due > now:
                continue
            c = Candidate(package.id, record_class.id, package.size_bytes, package.start_utc, due,
                          package.tagmanifest_sha256)
            if holds.covering(package, assignment.case_id if assignment else ""):
                held.append(c)
            elif record_class.action == "destroy":
                destroyed.append(c)
            else:
                review.append(c)
    return {"schedule": schedule.id, "now": _iso(now), "destroy": _jsonable(summarize(destroyed)),
            "held": _jsonable(summarize(held)), "review": _jsonable(summarize(review)),
            "total": {"count": len(destroyed), "size": sum(c.size for c in destroyed)}}


def _jsonable(groups: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {**v, "oldest": _iso(v["oldest"]), "newest": _iso(v["newest"])} for k, v in groups.items()}


def propose(archive: Archive, actor: Actor, now: datetime | None = None,
            classes: Sequence[str] | None = None) -> tuple[Disposition | None, Plan]:
    """A disposition proposal of everything due (unheld, action destroy); None when nothing is due.

    Set-based: the proposal's items are written by one INSERT ... SELECT with
    the holds applied in SQL, so a million due clips are never loaded into
    Python; only what is held or due for review (few) is listed.
    """
    now = clock.current(now)
    assign(archive, actor, now)  # packages ingested since the last run get their class first
    schedule = active_schedule(archive)
    result = Plan(now=now, schedule=schedule)
    disposition_id = str(uuid.uuid4())
    columns = (Package.id, RetentionAssignment.record_class, Package.size_bytes, Package.start_utc,
               RetentionAssignment.due_at, Package.tagmanifest_sha256)
    with archive.catalog.session() as s:
        _large_read_cache(s)
        holds = HoldIndex.load(s)
        held = held_clause(holds.holds)
        is_held = func.coalesce(held, literal(False)) if held is not None else literal(False)
        where = [RetentionAssignment.due_at <= now, Package.status == "stored"]
        if classes:
            where.append(RetentionAssignment.record_class.in_(list(classes)))
        joined = select(*columns).join(RetentionAssignment, RetentionAssignment.package_id == Package.id)
        # a package already in a proposal that is not finished is not proposed twice
        in_open_disposition = (
            select(DispositionItem.package_id).join(Disposition, Disposition.id == DispositionItem.disposition_id)
            .where(DispositionItem.package_id == Package.id, DispositionItem.status.in_(("pending", "deleting")),
                   Disposition.status.in_(("proposed", "approved", "executing"))).exists())
        s.add(Disposition(id=disposition_id, status="proposed", schedule_id=schedule.id, proposer=actor.name,
                          proposer_role=actor.role, proposed_at=now, approver="", approver_role="", certificate=""))
        s.flush()
        chosen = (select(literal(disposition_id), Package.id, RetentionAssignment.record_class, literal("pending"),
                         Package.tagmanifest_sha256, Package.size_bytes)
                  .join(RetentionAssignment, RetentionAssignment.package_id == Package.id)
                  .where(*where, RetentionAssignment.action == "destroy", is_held == literal(False),
                         ~in_open_disposition)
                  .order_by(Package.id))  # the items' indexes then grow at their end, not at random
        s.execute(insert(DispositionItem).from_select(
            ["disposition_id", "package_id", "record_class", "status", "digest", "size_bytes"], chosen))
        groups = s.execute(
            select(DispositionItem.record_class, func.count(), func.sum(DispositionItem.size_bytes),
                   func.min(Package.start_utc), func.max(Package.start_utc))
            .join(Package, Package.id == DispositionItem.package_id)
            .where(DispositionItem.disposition_id == disposition_id)
            .group_by(DispositionItem.record_class).order_by(DispositionItem.record_class)).all()
        result.summary = {g[0]: {"count": g[1], "size": g[2] or 0, "oldest": g[3], "newest": g[4]} for g in groups}
        # one more pass for what is set aside (held, or due for review or transfer): usually few rows
        aside = joined.add_columns(is_held.label("held")).where(
            *where, or_(is_held == literal(True), RetentionAssignment.action != "destroy"))
        for row in s.connection().execute(aside):
            if row[-1]:
                result.held.append((Candidate(*row[:-1]), ""))
            else:
                result.review.append(Candidate(*row[:-1]))
        if not groups:
            s.execute(delete(Disposition).where(Disposition.id == disposition_id))
    _name_holds(archive, holds, result)
    if not groups:
        return None, result
    _ledger_disposition(archive, disposition_id, "disposition proposed", _agents(actor), now,
                        f"disposition {disposition_id} proposed by {actor.name} ({actor.role}) "
                        f"under retention schedule {schedule.id}")
    with archive.catalog.session() as s:
        return s.get(Disposition, disposition_id), result


def _ledger_disposition(archive: Archive, disposition_id: str, action: str, agents: list[dict[str, str]],
                        now: datetime, detail: str) -> None:
    """The proposal or approval in every named package's custody timeline: one event per 1,000 packages,
    read in streams, so a year-end proposal of a million clips never sits in memory at once."""
    from longwatch.core import custody

    query = (select(DispositionItem.package_id).where(DispositionItem.disposition_id == disposition_id)
             .order_by(DispositionItem.package_id))
    batch: list[Any] = []
    with archive.catalog.session() as s:
        for part in s.scalars(query.execution_options(yield_per=1000)).partitions(1000):
            batch.append(custody.Event(type="policy assignment", packages=list(part), agents=agents, time=now,
                                       detail=detail, extra={"action": action, "disposition": disposition_id}))
            if len(batch) == 50:
                _ledger_append(archive, batch)
                batch = []
    if batch:
        _ledger_append(archive, batch)


def get_disposition(archive: Archive, disposition_id: str) -> tuple[Disposition, list[DispositionItem]]:
    with archive.catalog.session() as s:
        escaped = disposition_id.replace("%", "")
        matches = list(s.scalars(select(Disposition).where(Disposition.id.like(escaped + "%")).limit(2)))
        if len(matches) != 1:
            raise LongwatchError("H007", disposition_id=disposition_id)
        items = list(s.scalars(select(DispositionItem).where(DispositionItem.disposition_id == matches[0].id)
                               .order_by(DispositionItem.record_class, DispositionItem.package_id)))
        return matches[0], items


def list_dispositions(archive: Archive) -> list[Disposition]:
    with archive.catalog.session() as s:
        return list(s.scalars(select(Disposition).order_by(Disposition.proposed_at)))


def approve(archive: Archive, disposition_id: str, actor: Actor, now: datetime | None = None,
            then: Callable[[Session], Any] | None = None) -> Disposition:
    """The second person: a records manager who is not the proposer.

    ``then`` runs in the approval's own transaction (``dispose approve
    --execute`` queues the execution there, core/jobs.py): the job exists
    exactly when the approval does.
    """
    now = clock.current(now)
    disposition, _items = get_disposition(archive, disposition_id)
    if disposition.status != "proposed":
        raise LongwatchError("H006", disposition_id=disposition.id[:8], status=disposition.status,
                             expected="proposed")
    if actor.role != RECORDS_MANAGER:
        raise LongwatchError("H005", user=actor.name, role=actor.role)
    if actor.name.casefold() == disposition.proposer.casefold():
        raise LongwatchError("H004", user=actor.name, disposition_id=disposition.id[:8])
    with archive.catalog.session() as s:
        s.execute(update(Disposition).where(Disposition.id == disposition.id, Disposition.status == "proposed")
                  .values(status="approved", approver=actor.name, approver_role=actor.role, approved_at=now))
        if then is not None:
            then(s)
    _ledger_disposition(archive, disposition.id, "disposition approved", _agents(actor, "authorizer"), now,
                        f"disposition {disposition.id} (proposed by {disposition.proposer}) approved by "
                        f"{actor.name} ({actor.role})")
    return get_disposition(archive, disposition.id)[0]


def execute(archive: Archive, disposition_id: str, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """Carry out an approved disposition (or resume one that was interrupted) and sign its certificate.

    One executor at a time across every machine (the nightly job and a
    records manager at the command line may both start it): the second waits,
    then finds the disposition executed (H006).
    """
    with archive.catalog.exclusive("disposition"):
        return _execute(archive, disposition_id, actor, now)


def _execute(archive: Archive, disposition_id: str, actor: Actor, now: datetime | None) -> dict[str, Any]:
    now = clock.current(now)
    disposition, items = get_disposition(archive, disposition_id)
    if disposition.status not in ("approved", "executing"):
        raise LongwatchError("H006", disposition_id=disposition.id[:8], status=disposition.status,
                             expected="approved")
    with archive.catalog.session() as s:
        s.execute(update(Disposition).where(Disposition.id == disposition.id).values(status="executing"))
    approver = Actor(disposition.approver, disposition.approver_role)
    schedule = active_schedule(archive)
    for item in items:
        if item.status not in ("pending", "deleting"):
            continue
        with archive.catalog.session() as s:
            assignment = s.get(RetentionAssignment, item.package_id)
            due = assignment.due_at if assignment else None
            action = assignment.action if assignment else ""
        # a schedule change or a new fact since approval: only what is still due is destroyed
        if item.status == "pending" and (due is None or due > now or action != "destroy"):
            _set_item(archive, disposition.id, item.package_id, "not-due")
            continue
        sample = schedule.planning_sample
        if item.status == "pending" and sample is not None and sample.enabled and \
                item.record_class != sample.record_class:
            # the sampled minutes are kept before anything goes; a hold or a store's lock keeps all of it, uncut
            try:
                _refuse_if_locked(archive, item.package_id)
            except LongwatchError as exc:
                if exc.code not in KEPT_BY:
                    raise
                _set_item(archive, disposition.id, item.package_id, KEPT_BY[exc.code])
                continue
            try:
                kept = keep_planning_sample(archive, item.package_id, sample, actor, now, disposition.id)
            except LongwatchError as exc:
                # this package's minutes could not be kept (a damaged clip, a store down): it stays, the rest goes
                log.warning("disposition %s: %s", disposition.id[:8], exc.render(translate=False))
                _set_item(archive, disposition.id, item.package_id, SAMPLE_FAILED)
                continue
            if kept == "kept":
                _set_item(archive, disposition.id, item.package_id, KEPT_AS_SAMPLE)
                continue
            if kept == "cut":
                fault("after-planning-sample")
        record_class = schedule.classes.get(item.record_class)
        try:
            delete_package(archive, item.package_id, actor, "disposition", now=now, disposition_id=disposition.id,
                           approver=approver, extra={"record_class": item.record_class,
                                                     "schedule": disposition.schedule_id,
                                                     "legal_basis": record_class.legal_basis if record_class else ""})
        except LongwatchError as exc:
            if exc.code not in KEPT_BY:
                raise
            # a catalog hold, or a store that still locks a copy (a retain-until date not yet reached)
            _set_item(archive, disposition.id, item.package_id, KEPT_BY[exc.code])
    fault("before-certificate")
    disposition, items = get_disposition(archive, disposition.id)
    certificate = write_certificate(archive, disposition, items, actor, now)
    with archive.catalog.session() as s:
        s.execute(update(Disposition).where(Disposition.id == disposition.id)
                  .values(status="executed", executed_at=now, certificate=str(certificate)))
    return result_of(archive, disposition.id)


def result_of(archive: Archive, disposition_id: str) -> dict[str, Any]:
    """What an executed disposition did, by item status (the command's and the job's answer)."""
    disposition, items = get_disposition(archive, disposition_id)

    def having(status: str) -> list[str]:
        return [i.package_id for i in items if i.status == status]

    return {"disposition_id": disposition.id, "certificate": disposition.certificate,
            "deleted": having("deleted"), "held": having("held"), "store_locked": having("store-locked"),
            "not_due": having("not-due"), "sample_failed": having(SAMPLE_FAILED),
            "planning_samples": list(dict.fromkeys(r["package_id"] for r in planning_samples_of(archive,
                                                                                                disposition.id)))}


# -- the planning sample ----------------------------------------------------------------------------
KEPT_AS_SAMPLE = "kept-as-sample"  # a disposition item that lay wholly inside the sampled minutes
SAMPLE_FAILED = "sample-failed"  # its sampled minutes could not be kept yet, so it was not destroyed
#: Refusals that keep one package and let a disposition go on: a catalog hold, a store's object lock
#: (S020: it refused after a copy elsewhere went; the package is stored again and the audit restores the copy).
KEPT_BY = {"H003": "held", "S017": "store-locked", "S020": "store-locked"}


def keep_planning_sample(archive: Archive, package_id: str, sample: PlanningSample, actor: Actor,
                         now: datetime | None = None, disposition_id: str = "") -> str:
    """Keep the sampled minutes of a package about to be disposed of; idempotent.

    Returns ``"kept"`` when the package lies wholly inside the sampled minutes
    (it is re-classed into the sample's class, not cut, and must not be
    destroyed), ``"cut"`` when its sampled minutes are now in derived packages
    (made here, or found from an earlier, interrupted run), and ``""`` when
    there is nothing to keep (another camera, no recorded times, no overlap).
    A range already kept for the same camera (by this package's earlier run,
    or from footage it was itself derived from) is not cut again.
    """
    from longwatch.core import custody
    from longwatch.core.catalog.models import PlanningSampleKept
    from longwatch.core.preservation import derive, windows

    now = clock.current(now)
    with archive.catalog.session() as s:
        package = s.get(Package, package_id)
        if package is None:
            raise LongwatchError("I008", package_id=package_id)
        camera, title = package.camera or "", package.title or package.id
        spans = [(c.start_utc, c.start_utc + timedelta(seconds=c.duration)) for c in package.clips
                 if c.start_utc is not None and c.duration]
    if not sample.applies_to(camera) or not spans:
        return ""
    wanted = windows.merge_ranges([r for lo, hi in spans for r in sample.ranges(lo, hi)])
    if not wanted:
        return ""
    whole = all(sample.ranges(lo, hi) == [(lo, hi)] for lo, hi in spans)
    kind = "kept" if whole else "cut"
    made: list[tuple[str, datetime, datetime]] = []
    if whole:
        with archive.catalog.session() as s:
            done = s.execute(select(PlanningSampleKept.package_id)
                             .where(PlanningSampleKept.package_id == package_id).limit(1)).first() is not None
        if not done:
            made += [(package_id, lo, hi) for lo, hi in wanted]
    for lo, hi in [] if whole else wanted:
        with archive.catalog.session() as s:
            if _sample_covers(s, camera, lo, hi):
                continue
        # the cut's id follows from what it is, so a run killed after publishing is found, not cut again
        cut_id = str(uuid.uuid5(SAMPLE_NAMESPACE, f"{package_id}/{_iso(lo)}/{_iso(hi)}"))
        if derive.find_published(archive, cut_id) is None:
            cause = derive.Cause(reason=f"planning sample of the retention schedule: minutes "
                                        f"{sample.offset_minutes} to {sample.offset_minutes + sample.minutes_per_hour}"
                                        f" of every hour kept ({sample.record_class}, {sample.period})"
                                        + (f" before disposition {disposition_id}" if disposition_id else ""))
            windows.window(archive, package_id, lo, hi, cause, action="planning-sample", package_id_out=cut_id)
        made.append((cut_id, lo, hi))
        _record_sample(archive, cut_id, package_id, camera, lo, hi, kind, disposition_id, now)
    # the class follows the purpose (see classify); also for a cut a killed run left unassigned
    with archive.catalog.session() as s:
        kept_ids = list(s.scalars(select(PlanningSampleKept.package_id)
                                  .where(PlanningSampleKept.source_package_id == package_id)))
        kept_ids = list(dict.fromkeys([*kept_ids, *(new_id for new_id, _lo, _hi in made)]))
        ready = set(s.scalars(select(RetentionAssignment.package_id).where(
            RetentionAssignment.package_id.in_(kept_ids), RetentionAssignment.purpose == SAMPLE_PURPOSE)))
    unassigned = [i for i in kept_ids if i not in ready]
    if unassigned:
        assign(archive, actor, now, unassigned, purpose=SAMPLE_PURPOSE)
    for kept_id in kept_ids:  # now in the sample's class, so with that class's copies
        _secure_sample(archive, kept_id, package_id)
    for kept_id, lo, hi in made if whole else []:
        _record_sample(archive, kept_id, package_id, camera, lo, hi, kind, disposition_id, now)
    if made:
        _ledger_append(archive, [custody.Event(
            type="creation" if kind == "cut" else "policy assignment",
            packages=list(dict.fromkeys([package_id, new_id])), agents=_agents(actor), time=now,
            detail=(f"planning sample {_iso(lo)} to {_iso(hi)} of package {package_id} ({title}) "
                    + (f"cut by stream copy into package {new_id}" if kind == "cut" else "kept whole, re-classed")
                    + f" ({sample.record_class}, {sample.period})"),
            extra={"planning_sample": {"source": package_id, "package": new_id, "kind": kind, "start": _iso(lo),
                                       "end": _iso(hi), "record_class": sample.record_class,
                                       "disposition": disposition_id or None}})
            for new_id, lo, hi in made])
    return kind


def _secure_sample(archive: Archive, sample_id: str, source_id: str) -> None:
    """Before its source may go: the sample has the copies of its class, and every copy verifies (H017).

    The cut was replicated when it was published, before it had the sample's
    class; a class that asks for more copies (off-site, say) gets them here.
    """
    if sample_id == source_id:
        return  # kept whole: nothing is destroyed, `longwatch replicate` brings it to its class's copies
    row = archive.catalog.require(sample_id)
    try:
        storage_replicate.replicate(archive, sample_id)
    except LongwatchError as exc:
        raise LongwatchError("H017", package_id=sample_id, source=source_id,
                             detail=exc.render(translate=False)) from exc
    for copy in storage_copies.copies_of(archive, sample_id):
        check = storage_copies.check_copy(archive.storage(copy.location), sample_id, row.tagmanifest_sha256)
        if not check.ok:
            raise LongwatchError("H017", package_id=sample_id, source=source_id,
                                 detail=f"the copy at {copy.location}: {check.summary()}")
    if not storage_replicate.policy_met(archive, sample_id):
        raise LongwatchError("H017", package_id=sample_id, source=source_id, detail="copies missing")


def _sample_covers(s: Session, camera: str, lo: datetime, hi: datetime) -> bool:
    """Is ``lo``..``hi`` of ``camera`` already inside a kept, still stored sample?"""
    from longwatch.core.catalog.models import PlanningSampleKept

    return s.execute(
        select(PlanningSampleKept.package_id)
        .join(Package, Package.id == PlanningSampleKept.package_id)
        .where(PlanningSampleKept.camera == camera, PlanningSampleKept.start_utc <= lo,
               PlanningSampleKept.end_utc >= hi, Package.status == "stored").limit(1)).first() is not None


def _record_sample(archive: Archive, package_id: str, source_id: str, camera: str, lo: datetime, hi: datetime,
                   kind: str, disposition_id: str, now: datetime) -> None:
    from longwatch.core.catalog.models import PlanningSampleKept

    with archive.catalog.session() as s:
        s.add(PlanningSampleKept(package_id=package_id, source_package_id=source_id, camera=camera, start_utc=lo,
                                 end_utc=hi, kind=kind, disposition_id=disposition_id, made_at=now))


def planning_samples_of(archive: Archive, disposition_id: str) -> list[dict[str, Any]]:
    """What a disposition kept as planning samples (for its certificate and its result)."""
    from longwatch.core.catalog.models import PlanningSampleKept

    with archive.catalog.session() as s:
        rows = s.execute(
            select(PlanningSampleKept, RetentionAssignment.record_class, RetentionAssignment.due_at)
            .outerjoin(RetentionAssignment, RetentionAssignment.package_id == PlanningSampleKept.package_id)
            .where(PlanningSampleKept.disposition_id == disposition_id)
            .order_by(PlanningSampleKept.camera, PlanningSampleKept.start_utc)).all()
    return [{"package_id": r.package_id, "source_package_id": r.source_package_id, "kind": r.kind,
             "camera": r.camera, "start": _iso(r.start_utc), "end": _iso(r.end_utc), "record_class": cls or "",
             "keep_until": _iso(due)} for r, cls, due in rows]


def _set_item(archive: Archive, disposition_id: str, package_id: str, status: str) -> None:
    with archive.catalog.session() as s:
        s.execute(update(DispositionItem).where(DispositionItem.disposition_id == disposition_id,
                                                DispositionItem.package_id == package_id).values(status=status))


# -- destruction certificates ---------------------------------------------------------------------
def write_certificate(archive: Archive, disposition: Disposition, items: Sequence[DispositionItem], actor: Actor,
                      now: datetime) -> Path:
    """JSON (the record), its detached CMS signature by the archive key (as packages are signed), and HTML."""
    from longwatch.core import custody
    from longwatch.core.aip import signing

    schedule = active_schedule(archive)
    deleted = [i for i in items if i.status == "deleted"]
    with archive.catalog.session() as s:
        clips: dict[str, list[Clip]] = {}
        for clip in s.scalars(select(Clip).where(Clip.package_id.in_([i.package_id for i in deleted]))):
            clips.setdefault(clip.package_id, []).append(clip)
        packages = {p.id: p for p in s.scalars(select(Package).where(Package.id.in_([i.package_id for i in deleted])))}

    def describe(item: DispositionItem) -> dict[str, Any]:
        rc = schedule.classes.get(item.record_class)
        p = packages.get(item.package_id)
        return {"package_id": item.package_id, "record_class": item.record_class,
                "class_name": rc.name if rc else "", "period": rc.period if rc else "",
                "legal_basis": rc.legal_basis if rc else "", "tagmanifest_sha256": item.digest,
                "size": item.size_bytes, "camera": p.camera if p else "",
                "recorded_from": _iso(p.start_utc) if p else None, "recorded_to": _iso(p.end_utc) if p else None,
                "destroyed_at": _iso(item.done_at),
                "files": [{"path": c.relpath, "sha256": c.sha256, "sha512": c.sha512, "size": c.size_bytes}
                          for c in clips.get(item.package_id, [])]}

    body = {
        "type": CERTIFICATE_TYPE, "version": 1, "disposition_id": disposition.id,
        "archive": archive.settings.name, "organization": archive.settings.organization,
        "schedule": {"id": disposition.schedule_id, "title": schedule.title, "owner": schedule.owner},
        "proposer": {"name": disposition.proposer, "role": disposition.proposer_role,
                     "time": _iso(disposition.proposed_at)},
        "approver": {"name": disposition.approver, "role": disposition.approver_role,
                     "time": _iso(disposition.approved_at)},
        "executor": {"name": actor.name, "role": actor.role}, "executed_at": _iso(now),
        "packages": [describe(i) for i in deleted],
        "withheld": [{"package_id": i.package_id, "record_class": i.record_class, "status": i.status}
                     for i in items if i.status != "deleted"],
        "planning_samples": planning_samples_of(archive, disposition.id),
        "totals": {"packages": len(deleted), "bytes": sum(i.size_bytes for i in deleted)},
        "signer": archive.signer.fingerprint,
    }
    data = json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    folder = archive.root / CERTIFICATES
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{disposition.id}.json"
    signature = signing.sign_detached(archive.signer, data)
    for target, content in ((path, data), (path.with_name(path.name + ".p7s"), signature),
                            (folder / f"{disposition.id}.html", render_certificate_html(body).encode("utf-8"))):
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(content)
        os.replace(tmp, target)
    _ledger_append(archive, [custody.Event(
        type="digital signature generation", packages=[i.package_id for i in deleted][:1000],
        agents=_agents(actor), time=now, detail=f"destruction certificate of disposition {disposition.id}",
        extra={"certificate_sha256": hashlib.sha256(data).hexdigest(), "disposition": disposition.id,
               "packages": len(deleted)})])
    return path


def render_certificate_html(body: dict[str, Any]) -> str:
    """A readable, printable page in English and Korean; the JSON and its signature are the record."""
    e = html.escape
    rows = "".join(
        f"<tr><td><code>{e(p['package_id'])}</code></td><td>{e(p['class_name'] or p['record_class'])}</td>"
        f"<td>{e(p['legal_basis'])}</td><td>{e(str(p['recorded_from'] or ''))}</td><td>{p['size']}</td>"
        f"<td><code>{e(p['tagmanifest_sha256'])}</code></td></tr>" for p in body["packages"])

    def person(p: dict[str, Any]) -> str:
        return f"{e(p['name'])} ({e(p['role'])}) {e(str(p['time']))}"

    withheld = "".join(f"<li><code>{e(w['package_id'])}</code>: {e(w['status'])}</li>" for w in body["withheld"])
    samples = "".join(
        f"<tr><td><code>{e(k['package_id'])}</code></td><td><code>{e(k['source_package_id'])}</code></td>"
        f"<td>{e(k['kind'])}</td><td>{e(k['camera'])}</td><td>{e(str(k['start']))}</td><td>{e(str(k['end']))}</td>"
        f"<td>{e(k['record_class'])}</td><td>{e(str(k['keep_until'] or ''))}</td></tr>"
        for k in body.get("planning_samples", []))
    sample_table = (
        "<h2>Kept as planning samples / 정책 기획용 표본으로 보존</h2><table><tr><th>package</th><th>source</th>"
        "<th>kind</th><th>camera</th><th>from</th><th>to</th><th>class / 분류</th><th>kept until / 보존 기한</th>"
        f"</tr>{samples}</table>") if samples else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Destruction certificate {e(body['disposition_id'])}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:4px}}</style>
</head><body>
<h1>Destruction certificate / 기록물 폐기 확인서</h1>
<p>Archive / 기록관: {e(body['archive'])} {e(body.get('organization') or '')}</p>
<p>Disposition / 폐기 건: <code>{e(body['disposition_id'])}</code></p>
<p>Schedule / 보존기간 책정표: {e(body['schedule']['id'])} — {e(body['schedule']['title'])}</p>
<p>Proposed by / 제안: {person(body['proposer'])}</p>
<p>Approved by / 승인: {person(body['approver'])}</p>
<p>Executed / 집행: {e(body['executor']['name'])} {e(str(body['executed_at']))}</p>
<p>Packages destroyed / 폐기 패키지: {body['totals']['packages']} ({body['totals']['bytes']} bytes)</p>
<table><tr><th>package</th><th>class / 분류</th><th>legal basis / 근거</th><th>recorded / 촬영</th>
<th>bytes</th><th>tag manifest SHA-256</th></tr>{rows}</table>
{sample_table}
{f'<h2>Withheld / 제외</h2><ul>{withheld}</ul>' if withheld else ''}
<p>Signed by / 서명: <code>{e(body['signer'])}</code>. The JSON file and its detached CMS signature (.p7s) are
the record; check them with <code>longwatch verify CERTIFICATE.json</code>.</p>
</body></html>
"""


def tombstone(archive: Archive, package_id: str) -> dict[str, Any] | None:
    """What remains of a disposed package: when, under which disposition, approved by whom, and the
    certificate that proves it (for `longwatch show`)."""
    with archive.catalog.session() as s:
        found = s.execute(
            select(DispositionItem, Disposition)
            .join(Disposition, Disposition.id == DispositionItem.disposition_id)
            .where(DispositionItem.package_id == package_id, DispositionItem.status == "deleted")
            .order_by(DispositionItem.done_at.desc())).first()
    if found is None:
        return None
    item, disposition = found
    return {"disposition": disposition.id, "record_class": item.record_class, "destroyed_at": item.done_at,
            "proposer": disposition.proposer, "approver": disposition.approver,
            "approved_at": disposition.approved_at, "certificate": disposition.certificate,
            "tagmanifest_sha256": item.digest}


def is_certificate(path: Path) -> bool:
    if path.suffix != ".json" or not path.is_file():
        return False
    try:
        return json.loads(path.read_bytes()).get("type") == CERTIFICATE_TYPE
    except (ValueError, OSError, AttributeError):
        return False


def verify_certificate(path: Path, trusted: Sequence[Any] | None = None) -> dict[str, Any]:
    """Signature and trust of a destruction certificate; problems are coded (H015, H016)."""
    from longwatch.core.aip import signing

    problems: list[LongwatchError] = []
    try:
        data = path.read_bytes()
        body = json.loads(data)
        if body.get("type") != CERTIFICATE_TYPE:
            raise ValueError(f"type is not {CERTIFICATE_TYPE}")
    except (OSError, ValueError, AttributeError) as exc:
        raise LongwatchError("H015", path=path, detail=str(exc)) from exc
    signer = ""
    signature_path = path.with_name(path.name + ".p7s")
    try:
        info = signing.verify_detached(signature_path.read_bytes(), data)
        signer = info.fingerprint
        if trusted is not None and not signing.is_trusted(info, list(trusted)):
            problems.append(LongwatchError("H016", path=path, detail=f"signed by {info.fingerprint}, not trusted"))
    except FileNotFoundError:
        problems.append(LongwatchError("H016", path=path, detail=f"{signature_path.name} is missing"))
    except signing.SignatureError as exc:
        problems.append(LongwatchError("H016", path=path, detail=str(exc)))
    return {"certificate": str(path), "ok": not problems, "disposition_id": body.get("disposition_id"),
            "packages": len(body.get("packages", [])), "signer": signer,
            "problems": [p.to_dict() for p in problems]}


# -- storage full ---------------------------------------------------------------------------------------
def emergency_purge(archive: Archive, actor: Actor, now: datetime | None = None,
                    location: str | None = None) -> list[str]:
    """Opt-in clean-up: expired, unheld packages of classes marked ``emergency_purge`` (continuous footage).

    Oldest first, until the location has its reserve again; every deletion
    goes through :func:`delete_package`, so a hold still wins.
    """
    now = clock.current(now)
    storage = archive.storage(location)
    schedule = active_schedule(archive)
    eligible = [c.id for c in schedule.classes.values() if c.emergency_purge and c.action == "destroy"]
    assign(archive, actor, now)
    result = plan(archive, now, eligible) if eligible else Plan(now=now, schedule=schedule)
    removed = []
    for candidate in sorted(result.due, key=lambda c: (c.start or c.due or now, c.package_id)):
        try:
            ensure_room(storage, 0)
            break
        except LongwatchError:
            pass
        try:
            delete_package(archive, candidate.package_id, actor, "storage-full purge", now=now,
                           extra={"record_class": candidate.record_class, "schedule": schedule.id})
        except LongwatchError as exc:
            if exc.code not in KEPT_BY:
                raise
            continue
        removed.append(candidate.package_id)
    return removed
