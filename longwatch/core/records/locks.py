"""Records answers to storage: what protects a package, and which class it is in.

Storage (:mod:`longwatch.core.storage.locks`) makes a store with object lock
enforce the catalog's legal holds and fixed retention, and replicates each
class by its own policy, but it sits below the records feature and never
imports it. It asks two hooks instead, answered by this built-in plugin:

- ``package_record_class(archive, package_id)``: the package's retention
  class (:func:`longwatch.core.records.assignment.record_class_of`), for a
  per-class replication policy;
- ``package_protection(archive, package_id, now)``: the ids of the active
  holds that cover the package and its retain-until date
  (:mod:`longwatch.core.records.holds`), as a
  :class:`~longwatch.core.storage.locks.Protection`.

The syncs that follow a decision live beside it: :func:`~longwatch.core.records.holds.sync_hold`
and :func:`~longwatch.core.records.assignment.sync_retention`. A vendor's
records system can answer the hooks instead (a plugin registered later is
asked first; docs/plugins.md). Registered by import path in
``registry.DEFAULT_PLUGINS``.
"""

from __future__ import annotations

from datetime import datetime

from longwatch.core.archive import Archive
from longwatch.core.records import assignment, holds
from longwatch.core.storage.locks import Protection
from longwatch.hookspecs import hookimpl


@hookimpl
def package_record_class(archive: Archive, package_id: str) -> str:
    """Its assignment's class, else the class the active schedule gives it now (I008 for no such package)."""
    return assignment.record_class_of(archive, package_id)


@hookimpl
def package_protection(archive: Archive, package_id: str, now: datetime | None) -> Protection:
    """The catalog's active holds on the package and the due date of its fixed retention, if still ahead."""
    return Protection(hold_ids=tuple(h.id for h in holds.holds_on(archive, package_id)),
                      retain_until=holds.lock_until(archive, package_id, now))
