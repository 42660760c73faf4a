"""What the catalog knows of each copy of a package, and whether one copy is intact.

Every copy is a row (``copies``) with the time and outcome of its last check;
every replication, check, quarantine, repair, move and loss is a
``storage_events`` row (and, where it touched the package's copies, a custody
ledger event). Listing copies is a catalog query: storage is never walked for
it. Checking one copy is fixity only: the tag manifest must hash to the value
the catalog pinned at ingest (the signed file), every file it lists must
match, every payload file must match ``manifest-sha256.txt``, and the
signature must still verify. Replication, audits and tier moves
(:mod:`~longwatch.core.storage.replicate`, :mod:`~longwatch.core.storage.audit`,
:mod:`~longwatch.core.storage.tiers`) all build on these.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from longwatch import clock
from longwatch.core import custody
from longwatch.core.aip import package, signing
from longwatch.core.aip.fixity import digest_stream
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Copy, Package, StorageEvent
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import StorageAdapter

#: storage event kind -> the custody ledger's PREMIS event type (a repair and a move make a new copy)
LEDGER_TYPES = {"replication": "replication", "repair": "replication", "fixity check": "fixity check",
                "tier move": "replication", "tier restore": "replication",
                # the store's object lock follows the catalog's holds and retention (see locks.sync_locks)
                "legal hold placed": "policy assignment", "legal hold lifted": "policy assignment",
                "retention lock": "policy assignment", "object lock": "policy assignment"}


def record_event(archive: Archive, package_id: str, location: str, kind: str, outcome: str,
                 detail: str = "", source_location: str = "", bytes_read: int = 0, at: datetime | None = None,
                 copy_status: str = "") -> None:
    """A row for the storage reports and, for what touched the package's copies, a custody-ledger event.

    ``at`` is the time the catalog gave the copy for the same act (:func:`record_copy`,
    ``audit.set_copy``), so that ``longwatch reindex`` rebuilds the copy to the microsecond
    (:mod:`~longwatch.core.storage.rebuild`); ``copy_status`` is the copy's status after it, when the
    kind and outcome alone do not say (a failed repair leaves it quarantined or lost).
    """
    now = clock.current(at)
    with archive.catalog.session() as s:
        s.add(StorageEvent(at=now, package_id=package_id, location=location, kind=kind, outcome=outcome,
                           detail=detail, source_location=source_location, bytes_read=bytes_read))
    ledger_type = LEDGER_TYPES.get(kind)
    if ledger_type and package_id:
        where = f"{location} (from {source_location})" if source_location else location
        custody.Ledger.for_archive(archive).append([custody.CustodyEvent(
            type=ledger_type, packages=[package_id], outcome="success" if outcome == "success" else "failure",
            time=now, detail=f"{kind} of the copy at {where or 'its location'}: {detail}"[:4000],
            agents=[custody.software_agent()],
            extra={"storage_event": kind, "location": location, "source_location": source_location,
                   **({"copy_status": copy_status} if copy_status else {})})])


def record_copy(archive: Archive, package_id: str, location: str, size: int, checked: bool = True,
                at: datetime | None = None) -> None:
    """A verified copy at ``location`` (made or found again), checked at ``at`` (default: now)."""
    now = clock.current(at)
    with archive.catalog.session() as s:
        row = s.scalars(select(Copy).where(Copy.package_id == package_id, Copy.location == location)).first()
        if row is None:
            row = Copy(package_id=package_id, location=location, created_at=now, size_bytes=size,
                       last_access_at=now)
            s.add(row)
        row.status = "ok"
        row.size_bytes = size
        if checked:
            row.last_checked_at, row.last_outcome = now, "ok"


def copies_of(archive: Archive, package_id: str) -> list[Copy]:
    with archive.catalog.session() as s:
        return list(s.scalars(select(Copy).where(Copy.package_id == package_id).order_by(Copy.location)))


def working_locations(archive: Archive) -> dict[str, str]:
    """package id -> the location it is read from, for packages not on the primary (moved to a tier)."""
    primary = archive.settings.primary_location
    with archive.catalog.session() as s:
        rows = s.execute(select(Package.id, Package.storage_location).where(Package.storage_location != primary))
        return {pid: loc for pid, loc in rows}


def record_access(archive: Archive, package_id: str) -> None:
    """Called when footage is read (playback, export): tiering moves what nobody reads."""
    with archive.catalog.session() as s:
        for row in s.scalars(select(Copy).where(Copy.package_id == package_id)):
            row.last_access_at = clock.now()


# -- checking one copy -------------------------------------------------------------
@dataclass
class CopyCheck:
    package_id: str
    location: str
    missing: bool = False
    bad: dict[str, str] = field(default_factory=dict)  # relpath -> what is wrong
    bytes_read: int = 0

    @property
    def ok(self) -> bool:
        return not self.missing and not self.bad

    def summary(self) -> str:
        if self.missing:
            return "the package is missing"
        return "; ".join(f"{path}: {why}" for path, why in sorted(self.bad.items()))


def _sha256(adapter: StorageAdapter, package_id: str, relpath: str,
            progress: Callable[[int], None] | None) -> tuple[str, int]:
    with adapter.open_package_file(package_id, relpath) as fh:
        d = digest_stream(fh, algorithms=("sha256",), progress=progress)
    return d["sha256"], d.size


def check_copy(adapter: StorageAdapter, package_id: str, tagmanifest_sha256: str,
               progress: Callable[[int], None] | None = None) -> CopyCheck:
    """Fixity of one copy against what the catalog pinned at ingest; every bad file is named."""
    result = CopyCheck(package_id=package_id, location=adapter.location)
    if not adapter.has_package(package_id):
        result.missing = True
        return result
    present = set(adapter.package_files(package_id))

    def read(relpath: str) -> bytes | None:
        if relpath not in present:
            result.bad[relpath] = "missing"
            return None
        try:
            with adapter.open_package_file(package_id, relpath) as fh:
                data = fh.read()
        except OSError as exc:
            result.bad[relpath] = f"unreadable: {exc}"
            return None
        result.bytes_read += len(data)
        return bytes(data)

    tagmanifest = read(package.SIGNED_FILE)
    tag_entries: dict[str, str] = {}
    if tagmanifest is not None:
        if tagmanifest_sha256 and hashlib.sha256(tagmanifest).hexdigest() != tagmanifest_sha256:
            result.bad[package.SIGNED_FILE] = "sha256 differs from the value recorded at ingest"
        else:
            try:
                tag_entries = package.parse_manifest(tagmanifest)
            except (package.ManifestError, UnicodeDecodeError) as exc:
                result.bad[package.SIGNED_FILE] = f"unreadable manifest: {exc}"
    manifest: dict[str, str] = {}
    for relpath, expected in sorted(tag_entries.items()):
        data = read(relpath)
        if data is None:
            continue
        if hashlib.sha256(data).hexdigest() != expected:
            result.bad[relpath] = "sha256 mismatch"
        elif relpath == "manifest-sha256.txt":
            manifest = package.parse_manifest(data)
    signature = read(package.SIGNATURE_PATH)
    if signature is not None and tagmanifest is not None and package.SIGNED_FILE not in result.bad:
        try:
            signing.verify_detached(signature, tagmanifest)
        except signing.SignatureError as exc:
            result.bad[package.SIGNATURE_PATH] = f"signature does not verify: {exc}"
    for relpath, expected in sorted(manifest.items()):
        if relpath not in present:
            result.bad[relpath] = "missing"
            continue
        try:
            found, size = _sha256(adapter, package_id, relpath, progress)
        except OSError as exc:
            result.bad[relpath] = f"unreadable: {exc}"
            continue
        result.bytes_read += size
        if found != expected:
            result.bad[relpath] = f"sha256 mismatch (found {found[:16]}...)"
    return result


def good_source(archive: Archive, row: Package, exclude: Iterable[str] = ()) -> tuple[StorageAdapter, CopyCheck]:
    """A copy that verifies now (the catalog's word is not enough to repair from)."""
    excluded = set(exclude)
    tried = []
    candidates = [c.location for c in copies_of(archive, row.id) if c.location not in excluded]
    if row.storage_location not in candidates and row.storage_location not in excluded:
        candidates.insert(0, row.storage_location)
    for location in candidates:
        adapter = archive.storage(location)
        check = check_copy(adapter, row.id, row.tagmanifest_sha256)
        if check.ok:
            return adapter, check
        tried.append(f"{location}: {check.summary()}")
    raise LongwatchError("R001", package_id=row.id, detail="; ".join(tried) or "no copy is recorded")


# -- for `longwatch show` and the package page ------------------------------------------
def copies_report(archive: Archive, package_id: str) -> list[dict[str, Any]]:
    """Every copy with its last check and the store's own lock (None where the store cannot lock; "? (CODE)"
    when it cannot say), for ``longwatch show`` and the package page."""
    def lock_of(location: str) -> str | None:
        try:
            return copy_lock(archive.storage(location), package_id)
        except LongwatchError as exc:
            return f"? ({exc.code})"

    return [{"location": c.location, "status": c.status, "last_checked": c.last_checked_at,
             "last_outcome": c.last_outcome, "store_lock": lock_of(c.location)}
            for c in copies_of(archive, package_id)]


def copy_lock(adapter: StorageAdapter, package_id: str) -> str | None:
    """How the store locks one copy, in a few words (for ``longwatch show``); None when it cannot lock."""
    if not adapter.has_object_lock():
        return None
    locks = sorted(set(adapter.lock_status(package_id).values()))
    return "; ".join(locks) if locks else "none"
