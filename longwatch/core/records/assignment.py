"""Assigning packages to record classes: the class and due date each package has, recorded as it changes.

A package gets its class and due date from the active schedule
(:mod:`longwatch.core.records.schedules`) and the facts known about it
(case, event type, purpose, event time, case closure). :func:`assign`
(re)computes them and records each change as a "policy assignment" ledger
event; :func:`close_case` starts a case's case-closed clocks; and
:func:`set_schedule` makes a schedule file active and recomputes every stored
package. :func:`record_class_of` is the class storage asks for (a class may
ask for more copies). Every function takes ``now=``, else reads
:func:`longwatch.clock.now`, so schedules can be tested across years.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from longwatch import clock
from longwatch.core import custody
from longwatch.core.catalog.models import Package, RetentionAssignment, RetentionScheduleVersion
from longwatch.core.records.actors import Actor, agents, ledger_append
from longwatch.core.records.schedules import (
    ACTIVE_NAME,
    DEFAULT_SCHEDULE,
    Facts,
    Schedule,
    active_schedule,
    classify,
    load_schedule,
    schedule_from_bytes,
    trigger_time,
)
from longwatch.core.storage.locks import retention_lock_locations, sync_packages
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

log = logging.getLogger(__name__)
#: the facts an assignment keeps (columns of RetentionAssignment); the times among them
FACTS = ("case_id", "event_type", "purpose", "event_time", "case_closed_at")
TIME_FACTS = ("event_time", "case_closed_at")


def facts_of(package: Package, assignment: RetentionAssignment | None) -> Facts:
    """What the schedule's rules see of ``package``: its own fields and those of its assignment, if any."""
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
        record_class, _rule, _due = classify(active_schedule(archive), facts_of(package, assignment))
        return record_class.id


def assign(archive: Archive, actor: Actor, now: datetime | None = None, package_ids: Sequence[str] | None = None,
           schedule: Schedule | None = None, **facts: Any) -> list[dict[str, Any]]:
    """(Re)compute the class and due date of packages; record each change as a "policy assignment" event.

    Without ``package_ids``: every stored package that has no assignment yet.
    ``facts`` (case_id, event_type, purpose, event_time, case_closed_at) update
    what the rules see before recomputing.
    """
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
            record_class, rule, due = classify(schedule, facts_of(package, assignment))
            before = (assignment.schedule_id, assignment.record_class, assignment.due_at)
            trigger_at = trigger_time(record_class, facts_of(package, assignment))
            if before == (schedule.id, record_class.id, due) and not facts:
                continue
            assignment.schedule_id, assignment.record_class, assignment.rule = schedule.id, record_class.id, rule
            assignment.action, assignment.trigger_at, assignment.due_at = record_class.action, trigger_at, due
            assignment.assigned_at = now
            changes.append({"package_id": package.id, "schedule": schedule.id, "class": record_class.id,
                            "rule": rule, "due": clock.iso_z(due), "action": record_class.action,
                            "trigger": clock.iso_z(trigger_at), "previous_class": before[1] or None,
                            "previous_due": clock.iso_z(before[2]),
                            "facts": {k: clock.iso_z(v) if isinstance(v, datetime) else v for k, v in facts.items()}})
    events = [custody.CustodyEvent(type="policy assignment", packages=[c["package_id"]], agents=agents(actor),
                                   detail=f"retention class {c['class']} of schedule {c['schedule']} ({c['rule']})",
                                   extra={"retention": c}, time=now) for c in changes]
    ledger_append(archive, events)
    # a fixed retention becomes a retain-until date on stores configured for it (after the ledger event);
    # a package that joined a case gets the store's legal hold of a case hold that covers it
    if "case_id" in facts:
        sync_retention(archive, [c["package_id"] for c in changes], now, holds_too=True)
    else:
        sync_retention(archive, [c["package_id"] for c in changes if c["due"]], now)
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
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise LongwatchError("H001", path=path, detail=exc.strerror or str(exc)) from exc
    schedule = schedule_from_bytes(raw, str(path))
    text = raw.decode("utf-8")  # what the ledger keeps, so that reindex can restore this version
    now = clock.current(now)
    _write_active(archive, raw)
    ledger_append(archive, [custody.CustodyEvent(
        type="policy assignment", agents=agents(actor), time=now,
        detail=f"retention schedule {schedule.id} made active",
        extra={"retention_schedule": {"id": schedule.id, "sha256": schedule.digest, "source": Path(path).name,
                                      "text": text}})])
    _record_version(archive, schedule.id, schedule.digest, Path(path).name, now, actor.name)
    with archive.catalog.session() as s:
        ids = list(s.scalars(select(Package.id).where(Package.status == "stored")))
    return assign(archive, actor, now, ids, schedule=schedule) if ids else []


def _record_version(archive: Archive, schedule_id: str, sha256: str, source: str, at: datetime, by: str) -> bool:
    """One schedule version made active, in the catalog's history (once: replaying it again adds nothing)."""
    at = at.replace(microsecond=0)  # as the ledger's entry may give it back
    with archive.catalog.session() as s:
        seen = s.scalar(select(RetentionScheduleVersion.id).where(RetentionScheduleVersion.sha256 == sha256,
                                                                  RetentionScheduleVersion.activated_at == at))
        if seen is not None:
            return False
        s.add(RetentionScheduleVersion(schedule_id=schedule_id, sha256=sha256, source=source[:300], activated_at=at,
                                       activated_by=by[:200]))
    return True


def schedule_versions(archive: Archive) -> list[RetentionScheduleVersion]:
    """Every schedule made active (``retention set``), newest first; empty while the built-in one governs."""
    with archive.catalog.session() as s:
        return list(s.scalars(select(RetentionScheduleVersion).order_by(RetentionScheduleVersion.activated_at.desc(),
                                                                        RetentionScheduleVersion.id.desc())))


def schedules_in_use(archive: Archive) -> list[dict[str, Any]]:
    """Every schedule version that governs packages now: its id, how many packages and classes, and when it
    was first and last used to assign one (one grouped query). A version is named by its id; the ledger keeps
    the text of each version made active (``retention set``)."""
    query = (select(RetentionAssignment.schedule_id, RetentionAssignment.record_class, func.count(),
                    func.min(RetentionAssignment.assigned_at), func.max(RetentionAssignment.assigned_at))
             .group_by(RetentionAssignment.schedule_id, RetentionAssignment.record_class)
             .order_by(RetentionAssignment.schedule_id, RetentionAssignment.record_class))
    out: dict[str, dict[str, Any]] = {}
    with archive.catalog.session() as s:
        for schedule_id, record_class, count, first, last in s.execute(query):
            row = out.setdefault(schedule_id, {"schedule_id": schedule_id, "packages": 0, "classes": {},
                                               "first": first, "last": last})
            row["packages"] += count
            row["classes"][record_class] = count
            row["first"] = min(row["first"], first) if first and row["first"] else (row["first"] or first)
            row["last"] = max(row["last"], last) if last and row["last"] else (row["last"] or last)
    return list(out.values())


def unassigned(archive: Archive) -> int:
    """How many stored packages have no retention class yet (the next :func:`assign`, which every
    proposal runs first, gives them one); a preview of what is due cannot count them before."""
    query = (select(func.count()).select_from(Package)
             .outerjoin(RetentionAssignment, RetentionAssignment.package_id == Package.id)
             .where(Package.status == "stored", RetentionAssignment.package_id.is_(None)))
    with archive.catalog.session() as s:
        return int(s.scalar(query) or 0)


def sync_retention(archive: Archive, package_ids: Iterable[str], now: datetime | None = None,
                   holds_too: bool = False) -> int:
    """After retention classes were (re)assigned: retain-until dates where locations ask for them, and
    with ``holds_too`` (a package joined a case, which a case hold may cover) legal holds everywhere.

    Failures are warned and recorded, not raised: the assignment stands, and
    ``sync-locks`` retries."""
    configured = set(archive.settings.locations) if holds_too else set(retention_lock_locations(archive))
    if not configured:
        return 0
    return len(sync_packages(archive, lambda _lockable: package_ids, among=configured, now=now, strict=False))


def _write_active(archive: Archive, raw: bytes) -> None:
    """The archive's active schedule file, replaced in one step."""
    target = archive.root / ACTIVE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(raw)
    os.replace(tmp, target)


# -- longwatch reindex ------------------------------------------------------------------
def replay(archive: Archive, entries: Iterable[dict[str, Any]]) -> int:
    """Rebuild the retention assignments (and the active schedule file, if lost) from ledger entries.

    Every change :func:`assign` made is a "policy assignment" entry whose
    ``extra.retention`` carries the package, schedule, class, rule, due date,
    action, trigger date and the facts that changed; the entry's time is the
    assignment time. Facts accumulate in ledger order (an entry names only
    those that changed), everything else is what the last entry says.
    Entries written before ``action`` and ``trigger`` were recorded get them
    from the schedule the entry names (the active one, one a ``retention set``
    entry kept, or the built-in one); when none has that id the action stays
    empty, which no disposition destroys. The last ``retention set`` entry
    (``extra.retention_schedule``) says which schedule is active: its file is
    written back when it is missing and the entry kept its text; a file that
    differs from it is left alone and warned about. Idempotent; returns how
    many packages the entries named.
    """
    state: dict[str, dict[str, Any]] = {}
    versions: dict[str, Schedule] = {}
    last_version: dict[str, Any] | None = None
    for entry in entries:
        extra = entry.get("extra") if isinstance(entry, dict) else None
        if not isinstance(extra, dict):
            continue
        version = extra.get("retention_schedule")
        if isinstance(version, dict) and version.get("id"):
            last_version = version
            if isinstance(entry.get("time"), str) and version.get("sha256"):
                person = next((str(a.get("name", "")) for a in entry.get("agents") or ()
                               if isinstance(a, dict) and a.get("type") == "person"), "")
                _record_version(archive, str(version["id"]), str(version["sha256"]), str(version.get("source") or ""),
                                clock.parse_utc(entry["time"]), person)
            if isinstance(version.get("text"), str):
                try:
                    kept = schedule_from_bytes(version["text"].encode("utf-8"), str(version.get("source") or ""))
                except LongwatchError:
                    pass
                else:
                    versions[kept.id] = kept
            continue
        change = extra.get("retention")
        if not isinstance(change, dict) or not change.get("package_id") or not change.get("class") \
                or not isinstance(entry.get("time"), str):
            continue
        fields = state.setdefault(str(change["package_id"]), {})
        facts = change.get("facts")
        for key, value in (facts.items() if isinstance(facts, dict) else ()):
            if key in TIME_FACTS:
                fields[key] = clock.parse_utc(value) if isinstance(value, str) and value else None
            elif key in FACTS:
                fields[key] = str(value or "")
        fields.update(schedule_id=str(change.get("schedule") or ""), record_class=str(change["class"]),
                      rule=str(change.get("rule") or ""), due_at=_when(change.get("due")),
                      assigned_at=clock.parse_utc(entry["time"]), action=change.get("action"),
                      trigger_at=_when(change.get("trigger")), derive="trigger" not in change)
    if last_version is not None:
        _restore_schedule(archive, last_version)
    if not state:
        return 0
    for schedule in (load_schedule(DEFAULT_SCHEDULE), active_schedule(archive)):
        versions.setdefault(schedule.id, schedule)
    with archive.catalog.session() as s:
        for package_id, fields in state.items():
            derive = fields.pop("derive")
            row = s.get(RetentionAssignment, package_id)
            if row is None:
                row = RetentionAssignment(package_id=package_id, case_id="", event_type="", purpose="")
                s.add(row)
            for key, value in fields.items():
                setattr(row, key, value)
            if derive or row.action is None:
                _derive(s, row, versions.get(row.schedule_id), derive)
    return len(state)


def _when(value: Any) -> datetime | None:
    return clock.parse_utc(value) if isinstance(value, str) and value else None


def _derive(s: Any, row: RetentionAssignment, schedule: Schedule | None, trigger_too: bool) -> None:
    """What an entry older than ``action`` and ``trigger`` lacks, from the schedule it names (if known)."""
    record_class = schedule.classes.get(row.record_class) if schedule is not None else None
    if row.action is None:
        row.action = record_class.action if record_class is not None else ""
    if trigger_too:
        package = s.get(Package, row.package_id)
        row.trigger_at = (trigger_time(record_class, facts_of(package, row))
                          if record_class is not None and package is not None else None)


def _restore_schedule(archive: Archive, version: dict[str, Any]) -> None:
    """The active schedule file as the last ``retention set`` entry recorded it (see :func:`replay`)."""
    target = archive.root / ACTIVE_NAME
    try:
        found = hashlib.sha256(target.read_bytes()).hexdigest()
    except FileNotFoundError:
        found = None
    if found == version.get("sha256"):
        return
    text = version.get("text")
    if found is None and isinstance(text, str) and hashlib.sha256(text.encode("utf-8")).hexdigest() == \
            version.get("sha256"):
        _write_active(archive, text.encode("utf-8"))
        log.warning("restored %s (schedule %s) from the custody ledger", ACTIVE_NAME, version.get("id"))
    else:
        log.warning("%s is %s, but the custody ledger last made schedule %s (sha256 %s) active", ACTIVE_NAME,
                    "missing" if found is None else f"sha256 {found}", version.get("id"), version.get("sha256"))
