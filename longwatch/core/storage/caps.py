"""Size caps and reserves of storage locations: a write that would eat into a reserve, or pass a location's
``cap_bytes``, is refused, never made room for by deleting (only a records manager's emergency purge deletes,
through the deletion path). Usage per location is a catalog query: storage is never walked for it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Copy, Package
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import StorageAdapter

log = logging.getLogger(__name__)

DEFAULT_ALERT_AT = 0.9


def ensure_room(storage: StorageAdapter, needed: int) -> None:
    """Refuse a new write (H002) when it would eat into the location's reserve; never delete to make room."""
    reserve = int(storage.options.get("reserve_bytes", 0) or 0)
    if reserve <= 0:
        return  # no reserve configured: a plainly full disk is refused by the write itself (S001)
    free = storage.free_bytes()
    if free is not None and free - needed < reserve:
        raise LongwatchError("H002", location=storage.location, free=free, needed=needed, reserve=reserve)


@dataclass
class Usage:
    location: str
    adapter: str
    packages: int
    used: int
    cap: int | None
    alert_at: float
    cold: bool

    @property
    def fraction(self) -> float | None:
        return self.used / self.cap if self.cap else None

    @property
    def state(self) -> str:
        fraction = self.fraction
        if fraction is None:
            return "ok"
        if fraction >= 1:
            return "full"
        return "alert" if fraction >= self.alert_at else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "adapter": self.adapter, "packages": self.packages,
                "used_bytes": self.used, "cap_bytes": self.cap, "alert_at": self.alert_at,
                "cold": self.cold, "state": self.state}


DISPOSED = ("disposing", "disposed")


def not_disposed() -> Any:
    """Copies of a package that is lawfully disposed of (or being disposed of) are gone on purpose: they
    are neither audited (no R001) nor counted as storage use. Deletion forgets them; this also covers
    rows that catalogs from before that kept."""
    return Copy.package_id.not_in(select(Package.id).where(Package.status.in_(DISPOSED)))


def usage(archive: Archive, location: str | None = None) -> list[Usage]:
    """Bytes and packages per location (or of one), from the catalog alone (storage is not walked)."""
    # count(*), not count(id): both columns read are in ix_copies_location_size, so the index alone answers
    query = select(Copy.location, func.count(), func.coalesce(func.sum(Copy.size_bytes), 0))
    gone = (select(Copy.location, func.count(), func.coalesce(func.sum(Copy.size_bytes), 0))
            .join(Package, Package.id == Copy.package_id).where(Package.status.in_(DISPOSED)))
    if location is not None:
        query = query.where(Copy.location == location)
        gone = gone.where(Copy.location == location)
    with archive.catalog.session() as s:
        rows = dict((loc, (n, used)) for loc, n, used in s.execute(query.group_by(Copy.location)))
        # rows of disposed packages that a catalog from before deletion forgot them: taken off, not counted
        for loc, n, used in s.execute(gone.group_by(Copy.location)):
            have_n, have_used = rows.get(loc, (0, 0))
            rows[loc] = (have_n - n, have_used - used)
    found = []
    for name, spec in sorted(archive.settings.locations.items()):
        if location is not None and name != location:
            continue
        n, used = rows.get(name, (0, 0))
        cap = spec.options.get("cap_bytes")
        found.append(Usage(location=name, adapter=spec.adapter, packages=int(n), used=int(used),
                           cap=int(cap) if cap else None,
                           alert_at=float(spec.options.get("alert_at", DEFAULT_ALERT_AT)),
                           cold=bool(spec.options.get("cold", False))))
    return found


def check_room(archive: Archive, location: str, size: int) -> str | None:
    """S001 when ``size`` more bytes would pass the location's cap; an alert text past its threshold.

    Most locations have no cap: they are not summed at all, so that an ingest
    does not pay a scan of every copy in the catalog.
    """
    spec = archive.settings.locations.get(location)
    if spec is None or not spec.options.get("cap_bytes"):
        return None
    for u in usage(archive, location):
        if not u.cap:
            continue
        if u.used + size > u.cap:
            raise LongwatchError("S001", location=location,
                                 detail=f"{u.used} of {u.cap} bytes used, {size} more needed")
        if (u.used + size) / u.cap >= u.alert_at:
            alert = LongwatchError("S015", location=location, percent=round(100 * (u.used + size) / u.cap),
                                   used=u.used + size, cap=u.cap)
            log.warning("%s", alert)
            return alert.render()
    return None
