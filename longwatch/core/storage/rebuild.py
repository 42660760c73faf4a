"""The copies of every package, rebuilt from the custody ledger by ``longwatch reindex``.

The catalog's ``copies`` table is a projection of the ledger: a package's first
copy is where it was published (its ingestion, so the package's own time), and
every later change to its copies is a ledger entry that :func:`record_event
<longwatch.core.storage.copies.record_event>` wrote with ``extra.storage_event``
naming the act and ``extra.location`` the copy:

- a replication (success) makes or renews a verified copy;
- a fixity check leaves the copy ok, or quarantined when it failed;
- a repair leaves it ok ("repaired"), or, failed, quarantined or lost
  (``extra.copy_status``; older entries say it through the R001 in their detail);
- a tier move or restore makes the copy at ``location`` and removes the one at
  ``source_location``, which stops being the package's working location.

Reindex (:mod:`longwatch.core.preservation.reindex`, which may import storage)
calls :func:`read_ledger` before it catalogues the packages, so that it can also
read the packages a tier move took off the primary location
(:attr:`LedgerCopies.working`), then :func:`restore_copies` once they are in.
The rebuilt copies are then checked against the stores, one listing per
location: a copy the ledger names but its store lacks stays in the catalog
(``longwatch audit`` finds it missing and repairs it from a good copy) and is
reported as R006, never silently dropped. Not in the ledger, so not rebuilt:
when a copy was last read (``last_access_at``, which tier moves look at) starts
again at the copy's last recorded act.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from longwatch import clock
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Copy, Package
from longwatch.errors import LongwatchError

#: copy rows per INSERT when reindex writes them back
COPY_BATCH = 1000

#: the storage events that change a copy (the others, object locks and failed replications, change none)
COPY_EVENTS = ("replication", "fixity check", "repair", "tier move", "tier restore")
MOVES = ("tier move", "tier restore")


@dataclass(frozen=True)
class CopyAct:
    """One ledger entry about one copy, in ledger order."""

    package_id: str
    location: str
    kind: str
    ok: bool
    at: datetime
    source_location: str = ""
    copy_status: str = ""


@dataclass
class LedgerCopies:
    acts: list[CopyAct] = field(default_factory=list)
    #: package id -> where its working copy is, for packages a tier move took off where they were published
    working: dict[str, str] = field(default_factory=dict)
    #: package id -> where it was published, for the same packages (the source of their first move)
    published: dict[str, str] = field(default_factory=dict)


def read_ledger(entries: Iterable[dict[str, Any]]) -> LedgerCopies:
    """The acts on copies among ledger ``entries`` (in ledger order), and where tier moves left packages."""
    found = LedgerCopies()
    for entry in entries:
        extra = entry.get("extra") if isinstance(entry, dict) else None
        if not isinstance(extra, dict) or extra.get("storage_event") not in COPY_EVENTS:
            continue
        packages = entry.get("packages")
        location = extra.get("location")
        if not isinstance(packages, list) or len(packages) != 1 or not isinstance(location, str) or not location \
                or not isinstance(entry.get("time"), str):
            continue
        kind, ok = str(extra["storage_event"]), entry.get("outcome") == "success"
        status = str(extra.get("copy_status") or "")
        if kind == "repair" and not ok and not status:  # an entry older than copy_status: R001's words say lost
            status = "lost" if "no good copy is left" in str(entry.get("detail") or "") else "quarantined"
        act = CopyAct(str(packages[0]), location, kind, ok, clock.parse_utc(entry["time"]),
                      str(extra.get("source_location") or ""), status)
        found.acts.append(act)
        if kind in MOVES and ok:
            if act.package_id not in found.published and act.source_location:
                found.published[act.package_id] = act.source_location
            found.working[act.package_id] = location
    return found


@dataclass(slots=True)
class _CopyRow:
    """A copy row while the ledger is replayed: slots, not a dict, as there is one per copy in the archive."""

    package_id: str
    location: str
    created_at: datetime
    last_access_at: datetime
    size_bytes: int
    status: str = "ok"
    last_checked_at: datetime | None = None
    last_outcome: str = "ok"

    def __post_init__(self) -> None:
        if self.last_checked_at is None:
            self.last_checked_at = self.created_at

    def update(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def restore_copies(archive: Archive, recorded: LedgerCopies) -> list[LongwatchError]:
    """Replace the catalog's copies with what the ledger says of the stored packages' copies; R006 for each
    copy that its store lacks (kept, so the audit repairs it). Idempotent."""
    # (created_at, size_bytes, storage_location) by id: plain tuples, not ORM rows, as reindex keeps its memory
    # bounded by a batch and not by the archive's size (about 5 KB a package as rows, a few hundred bytes here)
    with archive.catalog.session() as s:
        packages = {pid: (created, size, where) for pid, created, size, where in s.execute(
            select(Package.id, Package.created_at, Package.size_bytes, Package.storage_location)
            .where(Package.status == "stored"))}
    copies: dict[tuple[str, str], _CopyRow] = {}
    working: dict[str, str] = {}

    def make(package_id: str, location: str, at: datetime) -> _CopyRow:
        row = copies.get((package_id, location))
        if row is None:
            row = copies[(package_id, location)] = _CopyRow(package_id, location, at, at, packages[package_id][1])
        return row

    for package_id, (created, _size, where) in sorted(packages.items(), key=lambda p: (p[1][0], p[0])):
        first = recorded.published.get(package_id, where)
        make(package_id, first, created)
        working[package_id] = first
    for act in recorded.acts:
        if act.package_id not in packages:
            continue  # disposed of (its tombstone is not rebuilt yet), or unreadable (reindex reported it)
        key = (act.package_id, act.location)
        if act.kind == "replication" or act.kind in MOVES:
            # a move onto a location that already has a good copy keeps that copy as it was (tiers.move_package)
            if act.ok and not (act.kind in MOVES and getattr(copies.get(key), "status", "") == "ok"):
                make(act.package_id, act.location, act.at).update(status="ok", last_checked_at=act.at,
                                                                   last_outcome="ok")
            if act.ok and act.kind in MOVES:
                if act.source_location != act.location:
                    copies.pop((act.package_id, act.source_location), None)
                working[act.package_id] = act.location
            continue
        found = copies.get(key)
        if found is None:
            continue  # a check or repair of a copy the catalog no longer had: audit.set_copy ignores it too
        if act.kind == "fixity check":
            found.update(status="ok" if act.ok else "quarantined", last_outcome="ok" if act.ok else "failed",
                         last_checked_at=act.at)
        elif act.kind == "repair":
            found.update(status="ok" if act.ok else act.copy_status or "quarantined",
                         last_outcome="repaired" if act.ok else "failed", last_checked_at=act.at)
    with archive.catalog.session() as s:
        s.execute(delete(Copy))
        for package_id, location in working.items():
            if packages[package_id][2] != location:
                s.get(Package, package_id).storage_location = location  # type: ignore[union-attr]
        rows = sorted(copies.values(), key=lambda r: (r.created_at, r.package_id, r.location))
        for start in range(0, len(rows), COPY_BATCH):  # plain inserts in the same order: the same ids as rows
            s.execute(insert(Copy), [r.columns() for r in rows[start:start + COPY_BATCH]])
    return missing_copies(archive, copies)


def missing_copies(archive: Archive, copies: Iterable[tuple[str, str]]) -> list[LongwatchError]:
    """R006 for every (package, location) whose store does not hold the package: one listing per location."""
    by_location: dict[str, list[str]] = {}
    for package_id, location in copies:
        by_location.setdefault(location, []).append(package_id)
    problems = []
    for location, package_ids in sorted(by_location.items()):
        try:
            held = set(archive.storage(location).package_ids())
        except LongwatchError as exc:
            problems.append(exc)
            continue
        problems += [LongwatchError("R006", package_id=pid, location=location)
                     for pid in sorted(package_ids) if pid not in held]
    return problems


def count(archive: Archive) -> int:
    """How many copies the catalog records (what ``longwatch reindex`` reports)."""
    with archive.catalog.session() as s:
        return int(s.scalar(select(func.count(Copy.id))) or 0)
