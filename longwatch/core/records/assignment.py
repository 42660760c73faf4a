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

import os
import shutil
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from longwatch import clock
from longwatch.core import custody
from longwatch.core.catalog.models import Package, RetentionAssignment
from longwatch.core.records.actors import Actor, agents, ledger_append
from longwatch.core.records.schedules import (
    ACTIVE_NAME,
    Facts,
    Schedule,
    active_schedule,
    classify,
    load_schedule,
    trigger_time,
)
from longwatch.core.storage.locks import retention_lock_locations, sync_packages
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive


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
                            "rule": rule, "due": clock.iso_z(due), "previous_class": before[1] or None,
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
    schedule = load_schedule(path)
    now = clock.current(now)
    target = archive.root / ACTIVE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    shutil.copyfile(path, tmp)
    os.replace(tmp, target)
    ledger_append(archive, [custody.CustodyEvent(
        type="policy assignment", agents=agents(actor), time=now,
        detail=f"retention schedule {schedule.id} made active",
        extra={"retention_schedule": {"id": schedule.id, "sha256": schedule.digest, "source": Path(path).name}})])
    with archive.catalog.session() as s:
        ids = list(s.scalars(select(Package.id).where(Package.status == "stored")))
    return assign(archive, actor, now, ids, schedule=schedule) if ids else []


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
