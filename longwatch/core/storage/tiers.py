"""Tiers: a package nobody reads moves to a colder location, and back when it is needed.

A move copies the package, verifies the new copy, and only then removes the
old one (same id, same bytes), and not at all while the store locks it
(S013). :func:`tier_candidates` finds packages whose working copy has not been
read for N days, from the catalog alone. :func:`delete_copy` is the only
place outside the deletion path (``retention.delete_package``) that removes a
copy, and only after a verified copy exists elsewhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from longwatch import clock
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Copy, Package
from longwatch.core.storage.caps import check_room
from longwatch.core.storage.copies import check_copy, copies_of, record_copy, record_event
from longwatch.core.storage.locks import lock_new_copy
from longwatch.core.storage.replicate import copy_package
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import StorageAdapter


def move_package(archive: Archive, package_id: str, to: str, kind: str = "tier move") -> str:
    """Move the package's working copy to ``to``: copy, verify, then remove from the old location.

    The id and every byte stay the same; the old copy is removed only after
    the new one verifies, and not at all while the store locks it (S013).
    """
    row = archive.catalog.require(package_id)
    old = row.storage_location
    if old == to:
        return old
    now = clock.now()  # the new copy's time and the move's ledger entry's (reindex rebuilds one from the other)
    dst = archive.storage(to)
    src = archive.storage(old)
    if not any(c.location == to and c.status == "ok" for c in copies_of(archive, package_id)):
        check_room(archive, to, row.size_bytes)
        if not dst.has_package(package_id):
            copy_package(src, dst, package_id)
        after = check_copy(dst, package_id, row.tagmanifest_sha256)
        if not after.ok:
            raise LongwatchError("R002", package_id=package_id, location=to, detail=after.summary())
        record_copy(archive, package_id, to, row.size_bytes, at=now)
        lock_new_copy(archive, package_id, to, dst)
    delete_copy(archive, src, package_id)
    with archive.catalog.session() as s:
        pkg = s.get(Package, package_id)
        assert pkg is not None
        pkg.storage_location = to
        for c in s.scalars(select(Copy).where(Copy.package_id == package_id, Copy.location == old)):
            s.delete(c)
    record_event(archive, package_id, to, kind, "success", f"moved from {old}", old, at=now)
    return old


def delete_copy(archive: Archive, adapter: StorageAdapter, package_id: str) -> None:
    """Remove one copy from a location; S013 (nothing removed) while the store locks it."""
    adapter.delete_package(package_id)


def tier_candidates(archive: Archive, after_days: float, now: datetime | None = None) -> list[str]:
    """Packages whose working copy has not been read for ``after_days``, from the catalog."""
    cutoff = (now or clock.now()) - timedelta(days=after_days)
    with archive.catalog.session() as s:
        query = (select(Package.id).join(Copy, (Copy.package_id == Package.id)
                                         & (Copy.location == Package.storage_location))
                 .where(func.coalesce(Copy.last_access_at, Copy.created_at) < cutoff).order_by(Package.id))
        return list(s.scalars(query))
