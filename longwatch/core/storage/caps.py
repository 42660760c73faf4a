"""Size caps and reserves of storage locations: a write that would eat into a reserve is refused, never
made room for by deleting (only a records manager's emergency purge deletes, through the deletion path)."""

from __future__ import annotations

from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import StorageAdapter


def ensure_room(storage: StorageAdapter, needed: int) -> None:
    """Refuse a new write (H002) when it would eat into the location's reserve; never delete to make room."""
    reserve = int(storage.options.get("reserve_bytes", 0) or 0)
    if reserve <= 0:
        return  # no reserve configured: a plainly full disk is refused by the write itself (S001)
    free = storage.free_bytes()
    if free is not None and free - needed < reserve:
        raise LongwatchError("H002", location=storage.location, free=free, needed=needed, reserve=reserve)
