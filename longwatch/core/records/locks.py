"""Records decisions applied to the stores' object lock: the built-in plugin that tells storage what
protects a package, and the syncs that follow a hold or a retention assignment.

Storage (:mod:`longwatch.core.storage.locks`) makes a store with object lock
enforce the catalog's legal holds and fixed retention, but it sits below the
records feature and never imports it. It asks two hooks instead, answered
here from :mod:`longwatch.core.records.retention`:

- ``package_record_class(archive, package_id)``: the package's retention
  class, for a per-class replication policy;
- ``package_protection(archive, package_id, now)``: the ids of the active
  holds that cover the package and its retain-until date, as a
  :class:`~longwatch.core.storage.locks.Protection`.

A vendor's records system can answer them instead (a plugin registered
later is asked first; docs/plugins.md). This module is registered by import
path in ``registry.DEFAULT_PLUGINS`` and so imported by every command: keep
its imports light.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from longwatch.core.archive import Archive
from longwatch.core.catalog.models import LegalHold
from longwatch.core.records import retention
from longwatch.core.storage.locks import Protection, retention_lock_locations, sync_packages
from longwatch.hookspecs import hookimpl


@hookimpl
def package_record_class(archive: Archive, package_id: str) -> str:
    """Its assignment's class, else the class the active schedule gives it now (I008 for no such package)."""
    return retention.record_class_of(archive, package_id)


@hookimpl
def package_protection(archive: Archive, package_id: str, now: datetime | None) -> Protection:
    """The catalog's active holds on the package and the due date of its fixed retention, if still ahead."""
    holds = retention.holds_on(archive, package_id)
    return Protection(hold_ids=tuple(h.id for h in holds), retain_until=retention.lock_until(archive, package_id, now))


def sync_hold(archive: Archive, hold: LegalHold) -> list[tuple[str, str, str]]:
    """After a hold was placed or released: every package it covers on a store with object lock
    (none: the hold lives in the catalog alone, as before)."""
    return sync_packages(archive, lambda lockable: retention.covered_packages(archive, hold, lockable))


def sync_retention(archive: Archive, package_ids: Iterable[str], now: datetime | None = None,
                   holds_too: bool = False) -> int:
    """After retention classes were (re)assigned: retain-until dates where locations ask for them, and
    with ``holds_too`` (a package joined a case, which a case hold may cover) legal holds everywhere.

    Failures are warned and recorded, not raised: the assignment stands, and
    ``sync-locks`` retries."""
    configured = set(archive.settings.locations) if holds_too else set(retention_lock_locations(archive))
    if not configured:
        return 0
    return len(sync_packages(archive, lambda _lockable: package_ids, among=configured, now=now, strict=False))
