"""Legal holds: placing and releasing them, and where they are enforced.

The one rule the records package serves: **a hold beats every deletion
path**. A hold covers one package, every package of a case, a camera over a
time span (second precision), or the packages a saved search finds. A camera
hold also covers an upload that *claims* that camera and is not yet confirmed
as anyone's recording (:func:`hold_camera`): the catalog files it under no
camera, but it may be the very footage the hold is meant to keep, so the hold
fails closed and keeps it until a records manager says whose it is. This
module is the one place that decides which packages a hold covers, in Python
for one package (:func:`hold_covers`, :class:`HoldIndex`, :func:`holds_on`)
and in SQL for many (:func:`held_clause`, kept equivalent; tests compare
both). Every deletion path consults it:

- :func:`longwatch.core.records.deletion.delete_package`, the one deletion
  path, refuses with H003 while a hold covers the package: first through
  :func:`~longwatch.core.records.deletion.refuse_if_locked` (:func:`holds_on`),
  then again with :class:`HoldIndex` in the same catalog transaction that
  records the intent to delete, so a hold placed concurrently is either seen
  or placed after the intent. Whatever asks for the deletion goes through it:
  a scheduled disposition (:func:`longwatch.core.records.dispositions.execute`),
  a manual or administrator delete (``longwatch dispose delete``), the
  storage-full purge (:func:`longwatch.core.records.purge.emergency_purge`)
  and a schedule change (which makes packages due for a disposition);
- the disposition planner (:func:`~longwatch.core.records.dispositions.plan`,
  :func:`~longwatch.core.records.dispositions.propose`,
  :func:`~longwatch.core.records.dispositions.preview`) sets held packages
  aside with :func:`held_clause` and :class:`HoldIndex`, so they are never
  proposed, and :func:`~longwatch.core.records.dispositions.execute` checks
  again before a planning sample is cut;
- stores with object lock mirror the catalog's holds as their own legal
  holds (:func:`sync_hold` after a hold is placed or released,
  through :func:`covered_packages` and :func:`holds_on`), and take a fixed
  retention's :func:`lock_until` date.

Placing and releasing a hold (:func:`place_hold`, :func:`release_hold`) is
recorded in the catalog and as a custody-ledger event before it returns. The
ledger is the record that outlives the catalog: ``longwatch reindex`` rebuilds
every hold from those events (:func:`replay`, through the ``replay_ledger``
hook that :mod:`longwatch.core.records.rebuild` answers).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from longwatch import clock
from longwatch.core import custody
from longwatch.core.catalog.models import Copy, LegalHold, Package, RetentionAssignment
from longwatch.core.records.actors import Actor, agents, ledger_append
from longwatch.core.storage.locks import sync_packages
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

HOLD_KINDS = ("package", "case", "camera", "search")
SEARCH_KEYS = ("camera", "zone", "text", "from", "to")


def place_hold(archive: Archive, actor: Actor, *, owner: str, reason: str, review_at: datetime | None = None,
               package_id: str = "", case_id: str = "", camera: str = "", start: datetime | None = None,
               end: datetime | None = None, search: dict[str, str] | None = None,
               now: datetime | None = None) -> LegalHold:
    """A hold on exactly one target; recorded in the catalog and as a ledger event before it returns."""
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
    ledger_append(archive, [custody.CustodyEvent(
        type="policy assignment", packages=[package_id] if package_id else [], agents=agents(actor, "authorizer"),
        detail=f"legal hold placed ({kind}): {reason}", time=now, extra={"legal_hold": hold_dict(hold),
                                                                         "action": "hold placed"})])
    # the catalog's hold first (it protects at once), then the stores' legal holds where they have object lock
    sync_hold(archive, hold)
    return hold


def release_hold(archive: Archive, hold_id: str, actor: Actor, reason: str,
                 now: datetime | None = None) -> LegalHold:
    now = clock.current(now)
    with archive.catalog.session() as s:
        hold = _find_hold(s, hold_id)
        if hold.released_at is not None:
            raise LongwatchError("H014", hold_id=hold.id)
        hold.released_at, hold.released_by, hold.release_reason = now, actor.name, reason
    ledger_append(archive, [custody.CustodyEvent(
        type="policy assignment", packages=[hold.package_id] if hold.package_id else [],
        agents=agents(actor, "authorizer"), detail=f"legal hold released: {reason}", time=now,
        extra={"legal_hold": hold_dict(hold), "action": "hold released"})])
    # the stores' legal holds are lifted only from packages no other active hold covers
    sync_hold(archive, hold)
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
            "case_id": hold.case_id or None, "camera": hold.camera or None, "start": clock.iso_z(hold.start_utc),
            "end": clock.iso_z(hold.end_utc), "search": json.loads(hold.search or "{}") or None, "owner": hold.owner,
            "reason": hold.reason, "review": clock.iso_z(hold.review_at), "placed_by": hold.placed_by,
            "placed_at": clock.iso_z(hold.placed_at), "released_at": clock.iso_z(hold.released_at),
            "released_by": hold.released_by or None, "release_reason": hold.release_reason or None}


def replay(archive: Archive, entries: Iterable[dict[str, Any]]) -> int:
    """Rebuild the legal holds from custody-ledger entries, in their order (``longwatch reindex``).

    Each "hold placed" or "hold released" entry carries the whole hold as
    :func:`hold_dict` gave it then (``extra.legal_hold``); the hold becomes
    what its last entry says, so a hold released in the ledger is released
    and one whose release never reached the ledger stays active. People and
    times an older entry lacks come from the entry itself (its time, its
    authorizer, its detail). Idempotent: a hold the catalog has is updated,
    one it lacks is added, one the ledger does not name is left alone.
    Returns how many holds the entries named.
    """
    state: dict[str, dict[str, Any]] = {}
    for entry in entries:
        extra = entry.get("extra") if isinstance(entry, dict) else None
        data = extra.get("legal_hold") if isinstance(extra, dict) else None
        action = extra.get("action") if isinstance(extra, dict) else None
        if not isinstance(data, dict) or action not in ("hold placed", "hold released") \
                or not data.get("hold_id") or data.get("kind") not in HOLD_KINDS:
            continue
        hold_id = str(data["hold_id"])
        state[hold_id] = _replayed(data, action == "hold released", entry, state.get(hold_id))
    with archive.catalog.session() as s:
        for hold_id, fields in state.items():
            row = s.get(LegalHold, hold_id)
            if row is None:
                s.add(LegalHold(id=hold_id, **fields))
            else:
                for key, value in fields.items():
                    setattr(row, key, value)
    return len(state)


def _replayed(data: dict[str, Any], released: bool, entry: dict[str, Any],
              before: dict[str, Any] | None) -> dict[str, Any]:
    """The columns of a hold after one ledger entry (see :func:`replay`)."""

    def when(key: str) -> datetime | None:
        value = data.get(key)
        return clock.parse_utc(value) if isinstance(value, str) and value else None

    at = clock.parse_utc(entry["time"]) if isinstance(entry.get("time"), str) else None
    person = next((a.get("name", "") for a in entry.get("agents") or ()
                   if isinstance(a, dict) and a.get("type") == "person" and a.get("role") == "authorizer"), "")
    before = before or {}
    fields: dict[str, Any] = {
        "kind": str(data["kind"]), "package_id": str(data.get("package_id") or ""),
        "case_id": str(data.get("case_id") or ""), "camera": str(data.get("camera") or ""),
        "start_utc": when("start"), "end_utc": when("end"),
        "search": json.dumps(data.get("search") or {}, sort_keys=True, ensure_ascii=False),
        "owner": str(data.get("owner") or ""), "reason": str(data.get("reason") or ""), "review_at": when("review"),
        "placed_by": str(data.get("placed_by") or before.get("placed_by") or ("" if released else person)),
        "placed_at": when("placed_at") or before.get("placed_at") or at,
        "released_at": None, "released_by": "", "release_reason": ""}
    if released:
        detail = str(entry.get("detail") or "")
        prefix = "legal hold released: "
        fields.update(released_at=when("released_at") or at, released_by=str(data.get("released_by") or person),
                      release_reason=str(data.get("release_reason") or
                                         (detail[len(prefix):] if detail.startswith(prefix) else "")))
    return fields


def _overlaps(a_start: datetime | None, a_end: datetime | None, b_start: datetime | None,
              b_end: datetime | None) -> bool:
    if a_start is None:
        return False
    a_end = a_end or a_start
    return (b_end is None or a_start <= b_end) and (b_start is None or a_end >= b_start)


def hold_camera(package: Package) -> str:
    """The camera a camera hold takes a package for: its own, or, for an upload not yet confirmed as a
    camera's recording, the camera the uploader claims (see the module's docstring)."""
    if package.origin == "upload" and package.confirmed_at is None:
        return package.claimed_camera or ""
    return package.camera or ""


def _hold_camera_sql() -> Any:
    """:func:`hold_camera` in SQL."""
    return case((and_(Package.origin == "upload", Package.confirmed_at.is_(None)), Package.claimed_camera),
                else_=Package.camera)


def hold_covers(hold: LegalHold, package: Package, case_id: str) -> bool:
    """Second precision: a camera hold from 14:00:05 to 14:00:09 covers a clip that overlaps those seconds."""
    if hold.kind == "package":
        return hold.package_id == package.id
    if hold.kind == "case":
        return bool(case_id) and hold.case_id == case_id
    start = package.start_utc or package.created_at
    if hold.kind == "camera":
        return hold.camera == hold_camera(package) and _overlaps(start, package.end_utc, hold.start_utc, hold.end_utc)
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
        for h in self.by_camera.get(hold_camera(package), ()):
            if hold_covers(h, package, case_id):
                found.append(h)
        found += [h for h in self.searches if hold_covers(h, package, case_id)]
        return found


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
            conditions.append(and_(_hold_camera_sql() == h.camera, start <= h.end_utc, end >= h.start_utc))
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


def covered_packages(archive: Archive, hold: LegalHold, locations: Sequence[str] | None = None) -> list[str]:
    """Stored packages that ``hold`` covers (released or not), optionally only those with a copy on
    ``locations``: one query, the same condition the disposition planner applies."""
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
    """The active holds that cover one package (I008 when there is no such package)."""
    with archive.catalog.session() as s:
        package = s.get(Package, package_id)
        if package is None:
            raise LongwatchError("I008", package_id=package_id)
        assignment = s.get(RetentionAssignment, package_id)
        return HoldIndex.load(s).covering(package, assignment.case_id if assignment else "")


def sync_hold(archive: Archive, hold: LegalHold) -> list[tuple[str, str, str]]:
    """After a hold was placed or released: every package it covers on a store with object lock
    (none: the hold lives in the catalog alone, as before)."""
    return sync_packages(archive, lambda lockable: covered_packages(archive, hold, lockable))
