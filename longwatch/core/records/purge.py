"""The storage-full purge: an opt-in clean-up when a location runs out of room.

``longwatch retention purge --emergency`` removes, oldest first, expired and
unheld packages of the record classes a schedule marks ``emergency_purge``
(continuous footage), until the location has its reserve again. It is a
deletion path like any other: every package goes through
:func:`longwatch.core.records.deletion.delete_package`, so a hold (or a
store's object lock) still wins. It lives apart from :mod:`deletion` because
it uses the disposition planner (:func:`~longwatch.core.records.dispositions.plan`),
which itself deletes through :mod:`deletion`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from longwatch import clock
from longwatch.core.records import deletion
from longwatch.core.records.actors import RECORDS_MANAGER, Actor
from longwatch.core.records.assignment import assign
from longwatch.core.records.dispositions import Plan, plan
from longwatch.core.records.schedules import active_schedule
from longwatch.core.storage.caps import ensure_room
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive


def emergency_purge(archive: Archive, actor: Actor, approver: Actor, now: datetime | None = None,
                    location: str | None = None) -> list[str]:
    """Opt-in clean-up: expired, unheld packages of classes marked ``emergency_purge`` (continuous footage).

    It destroys footage, so two people decide, as for a disposition: ``approver``
    is a records manager other than the account that runs it (else H021).
    Oldest first, until the location has its reserve again; every deletion
    goes through :func:`deletion.delete_package`, so a hold still wins, and
    names both accounts in the ledger.
    """
    if approver.role != RECORDS_MANAGER:
        raise LongwatchError("H021", detail=f"{approver.name} is {approver.role}, not a records manager")
    if approver.name.casefold() == actor.name.casefold():
        raise LongwatchError("H021", detail=f"{approver.name} cannot approve what they run")
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
            deletion.delete_package(archive, candidate.package_id, actor, "storage-full purge", now=now,
                                    approver=approver,
                                    extra={"record_class": candidate.record_class, "schedule": schedule.id})
        except LongwatchError as exc:
            if exc.code not in deletion.KEPT_BY:
                raise
            continue
        removed.append(candidate.package_id)
    return removed
