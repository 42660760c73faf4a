"""The one deletion path: every deletion of a package's files goes through :func:`delete_package`.

Whatever asks for it (a scheduled disposition, a manual delete, the
storage-full purge, an administrator, a schedule change), a package is
deleted only here: :func:`delete_package` checks the holds
(:mod:`longwatch.core.records.holds`) in the same catalog transaction that
records the intent to delete, and refuses while a store's object lock still
locks a copy (:func:`refuse_if_locked`). Nothing else in longwatch removes a
package's files from a storage location (a test holds every module to that).

Deletion is journalled so that a crash is never silent: the intent is written
first (package status ``disposing``), then every stored copy is removed
(:func:`_remove_copies`), then the package becomes a tombstone (status
``disposed``, digests kept) and a "deletion" event goes into the custody
ledger. A run that was killed is resumed by running it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, update

from longwatch import clock
from longwatch.core import custody
from longwatch.core.catalog.models import Copy, DispositionItem, Package, RetentionAssignment
from longwatch.core.faults import fault
from longwatch.core.records.actors import Actor, agents, ledger_append
from longwatch.core.records.holds import HoldIndex, holds_on
from longwatch.core.storage import copies as storage_copies
from longwatch.core.storage import locks as storage_locks
from longwatch.core.storage import tiers as storage_tiers
from longwatch.core.storage import viewing_cache
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

DELETION_REASONS = ("disposition", "manual", "storage-full purge", "administrator", "schedule change")
#: Refusals that keep one package and let a disposition go on: a catalog hold, a store's object lock
#: (S020: it refused after a copy elsewhere went; the package is stored again and the audit restores the copy).
KEPT_BY = {"H003": "held", "S017": "store-locked", "S020": "store-locked"}


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
    3. mark the tombstone (status ``disposed``; digests and clips kept), forget
       its copies (they are gone: audits and ``locations`` must not count them),
       purge its viewing caches (posters, access copies), and append a
       "deletion" event to the custody ledger.
    Running it again after a crash between 1 and 3 completes the deletion.
    """
    if reason not in DELETION_REASONS:
        raise ValueError(f"unknown deletion reason {reason!r}")
    now = clock.current(now)
    refuse_if_locked(archive, package_id)
    with archive.catalog.session() as s:
        s.execute(update(Package).where(Package.id == package_id, Package.status.in_(("stored", "disposing")))
                  .values(status="disposing"))
        package = s.get(Package, package_id)
        if package is None:
            raise LongwatchError("I008", package_id=package_id)
        if package.status == "disposed":
            s.execute(delete(Copy).where(Copy.package_id == package_id))  # a run killed before this step
            viewing_cache.purge(archive, package_id)
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
        s.execute(delete(Copy).where(Copy.package_id == package_id))
        if disposition_id:
            s.execute(update(DispositionItem).where(DispositionItem.disposition_id == disposition_id,
                                                    DispositionItem.package_id == package_id)
                      .values(status="deleted", done_at=now))
    caches = viewing_cache.purge(archive, package_id)
    ledger_append(archive, [custody.CustodyEvent(
        type="deletion", packages=[package_id], agents=agents(actor, approver=approver), time=now,
        detail=f"every stored copy removed ({reason}); tombstone kept in the catalog",
        extra={"reason": reason, "disposition": disposition_id or None, "tagmanifest_sha256": digest,
               "locations": locations, "actor_role": actor.role, "viewing_caches_removed": caches.files,
               **({"viewing_caches_left": caches.left} if caches.left else {}),
               **(extra or {})})])
    return Deletion(package_id, digest, size, locations)


def refuse_if_locked(archive: Archive, package_id: str) -> None:
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
    first: a lock placed after :func:`refuse_if_locked` looked (or a store
    that denies the delete) then stops the disposal before any copy elsewhere
    is gone. Such a refusal puts the package back to ``stored`` (never left
    ``disposing``, where audits, replication and lock syncs skip it) and is
    S017 when nothing was removed, S020 when a copy on another lock-capable
    store already was (the audit copies it back).
    """
    removed: list[str] = []
    try:
        lockable = set(storage_locks.lockable_locations(archive))
        names = list(archive.settings.locations)
        for name in [n for n in names if n in lockable] + [n for n in names if n not in lockable]:
            storage = archive.storage(name)
            if storage.has_package(package_id):
                try:
                    storage_tiers.delete_copy(archive, storage, package_id)
                except LongwatchError as exc:
                    if exc.code != "S013":
                        raise
                    key, lock = exc.context.get("key", ""), exc.context.get("lock", "")
                    refused = (LongwatchError("S020", package_id=package_id, location=name, key=key, lock=lock,
                                              removed=", ".join(removed)) if removed else
                               LongwatchError("S017", package_id=package_id, location=name, key=key, lock=lock))
                    storage_copies.record_event(archive, package_id, name, "object lock", "failure",
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

