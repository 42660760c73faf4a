"""Audits that repair: copies are checked oldest-checked first, and a failing copy is repaired.

Copies are checked streaming, within a bandwidth budget (bytes/s) and a time
budget, in batches fetched from the catalog (memory stays flat with millions
of copies). A failing copy is quarantined (its bad bytes kept under
``quarantine/``) and repaired from a copy that verifies now; when none is
left the audit ends with R001 naming the package: never a silent loss. The
check of one copy is :func:`longwatch.core.storage.copies.check_copy`.

An audit finishes: a store that fails on one copy (unreachable, denied) is
recorded for that copy (R007, a storage event, the copy's last outcome
``error``) and the audit goes on to the next, so one bad store or object
never hides the state of every other copy. Object-lock state costs a
request per object and version, so it is read (and set again) only for
copies whose package has a legal hold or a retention date to keep.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from longwatch import clock
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Copy, Package
from longwatch.core.storage.caps import not_disposed
from longwatch.core.storage.copies import CopyCheck, check_copy, good_source, record_event
from longwatch.core.storage.locks import lock_new_copy, protection_of
from longwatch.core.storage.replicate import copy_package
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import StorageAdapter, package_prefix

QUARANTINE = "quarantine"
#: Copies fetched from the catalog at a time by an audit: memory stays flat with millions of copies.
PLAN_BATCH = 500


class Throttle:
    """Sleeps the reader so that reads stay under ``rate`` bytes per second (None: no limit)."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.start = time.monotonic()
        self.done = 0

    def __call__(self, n: int) -> None:
        self.done += n
        if self.rate:
            ahead = self.done / self.rate - (time.monotonic() - self.start)
            if ahead > 0:
                time.sleep(ahead)


@dataclass
class PlannedCopy:
    package_id: str
    location: str
    size: int
    last_checked_at: datetime | None


@dataclass
class AuditResult:
    checked: list[CopyCheck] = field(default_factory=list)
    repaired: list[tuple[str, str, str]] = field(default_factory=list)  # package, location, source
    lost: list[LongwatchError] = field(default_factory=list)
    #: copies a store failed on (R007): recorded, not checked; the audit went on
    errors: list[LongwatchError] = field(default_factory=list)
    skipped: int = 0
    bytes_read: int = 0
    seconds: float = 0.0


def audit_plan(archive: Archive, locations: Iterable[str] | None = None, limit: int | None = None,
               checked_before: datetime | None = None) -> list[PlannedCopy]:
    """Recorded copies, oldest-checked (never-checked first), from the catalog alone.

    Copies checked at the same instant (one ingest of many files) come in package and location order,
    not in the order their rows were made, so a catalog rebuilt by ``longwatch reindex`` plans the same.
    """
    query = select(Copy.package_id, Copy.location, Copy.size_bytes, Copy.last_checked_at).where(
        not_disposed()).order_by(
        Copy.last_checked_at.is_not(None), Copy.last_checked_at, Copy.package_id, Copy.location)
    wanted = set(locations or ())
    if wanted:
        query = query.where(Copy.location.in_(wanted))
    if checked_before is not None:
        query = query.where(Copy.last_checked_at.is_(None) | (Copy.last_checked_at < checked_before))
    if limit is not None:
        query = query.limit(limit)
    with archive.catalog.session() as s:
        return [PlannedCopy(*r) for r in s.execute(query)]


def plan_totals(archive: Archive, locations: Iterable[str] | None = None) -> tuple[int, int]:
    """How many copies an audit covers and their bytes: one aggregate query, whatever the archive's size."""
    query = select(func.count(Copy.id), func.coalesce(func.sum(Copy.size_bytes), 0)).where(not_disposed())
    wanted = set(locations or ())
    if wanted:
        query = query.where(Copy.location.in_(wanted))
    with archive.catalog.session() as s:
        count, size = s.execute(query).one()
    return int(count), int(size)


def quarantine(adapter: StorageAdapter, package_id: str, relpath: str, stamp: str) -> str | None:
    """Keep the bad bytes (evidence of what went wrong) under ``quarantine/`` before repairing."""
    key = f"{QUARANTINE}/{package_id}/{stamp}/{relpath}"
    try:
        with adapter.open_package_file(package_id, relpath) as fh:
            adapter.put(key, fh)
    except FileNotFoundError:
        return None
    return key


def repair(archive: Archive, row: Package, adapter: StorageAdapter, check: CopyCheck) -> str:
    """Repair one failing copy from a copy that verifies now; returns the source location."""
    src, _ = good_source(archive, row, exclude=[adapter.location])
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    if check.missing:
        copy_package(src, adapter, row.id)
    else:
        for relpath in sorted(check.bad):
            quarantine(adapter, row.id, relpath, stamp)
            with src.open_package_file(row.id, relpath) as fh:
                adapter.put(f"{package_prefix(row.id)}/{relpath}", fh)
    after = check_copy(adapter, row.id, row.tagmanifest_sha256)
    if not after.ok:
        raise LongwatchError("R004", package_id=row.id, location=adapter.location, detail=after.summary())
    if _protected(archive, row.id):
        lock_new_copy(archive, row.id, adapter.location, adapter)  # the repaired objects are new versions, unlocked
    return src.location


def _protected(archive: Archive, package_id: str) -> bool:
    """Whether the store's locks of this package's copies matter: a hold, or a retention date to keep.

    Asked of the catalog only; an unprotected copy costs no object-lock request.
    Lifting a store's hold after a release is the release's and ``sync-locks``' work.
    """
    protection = protection_of(archive, package_id)
    return bool(protection.hold_ids or protection.retain_until)


def _unchecked(archive: Archive, package_id: str, location: str, error: LongwatchError) -> None:
    """A copy the store failed on: its status stays, its last outcome says ``error``, and this run moves on."""
    at = clock.now()
    with archive.catalog.session() as s:
        row = s.scalars(select(Copy).where(Copy.package_id == package_id, Copy.location == location)).first()
        if row is not None:
            row.last_outcome, row.last_checked_at = "error", at
    record_event(archive, package_id, location, "store error", "failure", error.render(translate=False), at=at)


def set_copy(archive: Archive, package_id: str, location: str, status: str, outcome: str,
             at: datetime | None = None) -> None:
    """The catalog's state of one copy after a check or a repair (an audit's and a job's), at ``at``: the
    time of the ledger entry that records it, so that ``longwatch reindex`` rebuilds the same copy."""
    with archive.catalog.session() as s:
        row = s.scalars(select(Copy).where(Copy.package_id == package_id, Copy.location == location)).first()
        if row is not None:
            row.status, row.last_outcome, row.last_checked_at = status, outcome, clock.current(at)


def audit(
    archive: Archive,
    bandwidth: float | None = None,
    time_budget: float | None = None,
    locations: Iterable[str] | None = None,
    on_copy: Callable[[PlannedCopy, CopyCheck], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> AuditResult:
    """Check copies oldest-checked first within the budgets; quarantine and repair what fails."""
    total, _size = plan_totals(archive, locations)
    throttle = Throttle(bandwidth)
    started = time.monotonic()
    since = clock.now()
    result = AuditResult()

    def advance(n: int) -> None:
        throttle(n)
        if progress is not None:
            progress(n)

    def batches() -> Iterable[PlannedCopy]:
        # Copies checked in this run get a newer time and drop out, so each batch is the next oldest.
        previous: list[tuple[str, str]] = []
        while True:
            batch = audit_plan(archive, locations, limit=PLAN_BATCH, checked_before=since)
            keys = [(p.package_id, p.location) for p in batch]
            if not batch or keys == previous:  # nothing left, or rows that cannot be updated
                return
            previous = keys
            yield from batch

    for planned in batches():
        if time_budget is not None and time.monotonic() - started >= time_budget:
            result.skipped = max(0, total - len(result.checked))
            break
        row = archive.catalog.get(planned.package_id)
        if row is None or row.status in ("disposing", "disposed"):  # disposed meanwhile: its copies went lawfully
            continue
        try:
            check = _audit_copy(archive, row, planned, result, advance)
        except (LongwatchError, OSError) as exc:
            if isinstance(exc, LongwatchError) and exc.code[0] != "S":
                raise  # the catalog, the ledger or a plugin: not this copy's store, so not this copy's error
            error = LongwatchError("R007", package_id=row.id, location=planned.location,
                                   detail=exc.render(translate=False) if isinstance(exc, LongwatchError) else str(exc))
            _unchecked(archive, row.id, planned.location, error)
            result.errors.append(error)
            continue
        if on_copy is not None:
            on_copy(planned, check)
    result.seconds = time.monotonic() - started
    return result


def _audit_copy(archive: Archive, row: Package, planned: PlannedCopy, result: AuditResult,
                advance: Callable[[int], None]) -> CopyCheck:
    """Check one copy, record it, and quarantine and repair it when it fails."""
    adapter = archive.storage(planned.location)
    check = check_copy(adapter, row.id, row.tagmanifest_sha256, progress=advance)
    result.checked.append(check)
    result.bytes_read += check.bytes_read
    checked_at = clock.now()
    record_event(archive, row.id, planned.location, "fixity check", "success" if check.ok else "failure",
                 check.summary(), bytes_read=check.bytes_read, at=checked_at)
    archive.pm.hook.fixity_checked(
        package_id=row.id, path=f"{planned.location}:{row.id}", ok=check.ok,
        problems=[{"code": "V004", "path": p, "detail": why} for p, why in sorted(check.bad.items())])
    if check.ok:
        set_copy(archive, row.id, planned.location, "ok", "ok", at=checked_at)
        if _protected(archive, row.id):
            lock_new_copy(archive, row.id, planned.location, adapter)  # a lock that failed to apply earlier, again
    else:
        set_copy(archive, row.id, planned.location, "quarantined", "failed", at=checked_at)
        record_event(archive, row.id, planned.location, "quarantine", "success", check.summary())
        try:
            source = repair(archive, row, adapter, check)
        except LongwatchError as exc:
            status, done = "lost" if exc.code == "R001" else "quarantined", clock.now()
            set_copy(archive, row.id, planned.location, status, "failed", at=done)
            record_event(archive, row.id, planned.location, "repair", "failure", exc.render(translate=False),
                         at=done, copy_status=status)
            result.lost.append(exc)
        else:
            done = clock.now()
            set_copy(archive, row.id, planned.location, "ok", "repaired", at=done)
            record_event(archive, row.id, planned.location, "repair", "success",
                         f"repaired {check.summary()}", source, at=done)
            result.repaired.append((row.id, planned.location, source))
    return check
