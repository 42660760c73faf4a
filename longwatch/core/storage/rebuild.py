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

from sqlalchemy import delete, func, select

from longwatch import clock
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Copy, Package
from longwatch.errors import LongwatchError

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


def restore_copies(archive: Archive, recorded: LedgerCopies) -> list[LongwatchError]:
    """Replace the catalog's copies with what the ledger says of the stored packages' copies; R006 for each
    copy that its store lacks (kept, so the audit repairs it). Idempotent."""
    with archive.catalog.session() as s:
        packages = {p.id: p for p in s.scalars(select(Package).where(Package.status == "stored"))}
        s.expunge_all()
    copies: dict[tuple[str, str], dict[str, Any]] = {}
    working: dict[str, str] = {}

    def make(package_id: str, location: str, at: datetime) -> dict[str, Any]:
        row = copies.get((package_id, location))
        if row is None:
            row = copies[(package_id, location)] = {
                "package_id": package_id, "location": location, "created_at": at, "last_access_at": at,
                "size_bytes": packages[package_id].size_bytes, "status": "ok", "last_checked_at": at,
                "last_outcome": "ok"}
        return row

    for package in sorted(packages.values(), key=lambda p: (p.created_at, p.id)):
        first = recorded.published.get(package.id, package.storage_location)
        make(package.id, first, package.created_at)
        working[package.id] = first
    for act in recorded.acts:
        if act.package_id not in packages:
            continue  # disposed of (its tombstone is not rebuilt yet), or unreadable (reindex reported it)
        key = (act.package_id, act.location)
        if act.kind == "replication" or act.kind in MOVES:
            # a move onto a location that already has a good copy keeps that copy as it was (tiers.move_package)
            if act.ok and not (act.kind in MOVES and copies.get(key, {}).get("status") == "ok"):
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
            if packages[package_id].storage_location != location:
                s.get(Package, package_id).storage_location = location  # type: ignore[union-attr]
        for row in sorted(copies.values(), key=lambda r: (r["created_at"], r["package_id"], r["location"])):
            s.add(Copy(**row))
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
