"""Object lock on stores: a store that can refuse deletion (WORM, S3 object lock) is made to enforce the
catalog's legal holds and fixed retention too.

The catalog's holds and retention are the truth; a store with object lock is
made to enforce them too, so that not even a mistake in longwatch, or a person
with the store's credentials, can delete held evidence. Each lock placed or
lifted is a storage event and a custody-ledger event. Here is the mechanism:
which locations lock, the one loop that syncs packages' locks
(:func:`sync_packages`), a new copy getting the locks its package has, and
what a store still locks before disposal.

Which holds cover a package and until when it is retained is records
knowledge. Storage never imports the records feature for it: it asks the
``package_protection`` hook (see docs/plugins.md), which the built-in
``longwatch.core.records.locks`` answers with a :class:`Protection`; that
module also syncs after a hold or a retention assignment changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from longwatch import clock
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Copy
from longwatch.core.storage.copies import copies_of, record_event
from longwatch.errors import LongwatchError
from longwatch.i18n import N_, gettext
from longwatch.storage_adapters.base import StorageAdapter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Protection:
    """What the records feature says protects one package, as a store's object lock needs it.

    ``hold_ids``: the ids of the active legal holds that cover the package
    (none: the store's legal hold is lifted). ``retain_until``: the due date
    of a fixed retention still ahead and the retention class that fixes it,
    or None (a permanent class, a clock not started, a date already passed).
    """

    hold_ids: tuple[str, ...] = ()
    retain_until: tuple[datetime, str] | None = None


def protection_of(archive: Archive, package_id: str, now: datetime | None = None) -> Protection:
    """The package's :class:`Protection`, from whichever plugin answers ``package_protection`` first.

    No answer is P003, never "no holds": that would lift the stores' legal
    holds of held evidence.
    """
    answer = archive.pm.hook.package_protection(archive=archive, package_id=package_id, now=now)
    if not isinstance(answer, Protection):
        raise LongwatchError("P003", detail=f"package_protection answered {answer!r}, not a Protection"
                             if answer is not None else "no plugin answers package_protection "
                             "(the built-in longwatch.core.records.locks is not registered)")
    return answer


def retention_lock_wanted(options: dict[str, Any], record_class: str) -> bool:
    """``object_lock_retention = true`` (every fixed retention) or a list of retention class ids."""
    wanted = options.get("object_lock_retention", False)
    if isinstance(wanted, list):
        return record_class in {str(x) for x in wanted}
    return bool(wanted)


def retention_lock_locations(archive: Archive) -> list[str]:
    """Locations configured to carry retain-until dates (from longwatch.toml: no store is asked)."""
    return [name for name, spec in sorted(archive.settings.locations.items())
            if spec.options.get("object_lock_retention")]


class Adapters(dict[str, StorageAdapter]):
    """One adapter per location for a run over many packages (each remembers what it asked its store)."""

    def __init__(self, archive: Archive) -> None:
        super().__init__()
        self.archive = archive

    def __missing__(self, location: str) -> StorageAdapter:
        adapter = self[location] = self.archive.storage(location)
        return adapter


def lockable_locations(archive: Archive, adapters: Adapters | None = None,
                       failed: list[LongwatchError] | None = None, among: Iterable[str] | None = None) -> list[str]:
    """Locations whose store has object lock (each store is asked once per bucket and process).

    With ``failed``, a store that cannot be asked is left out and its error
    collected, so the others are still done; without it, the error is raised.
    """
    adapters = adapters if adapters is not None else Adapters(archive)
    found = []
    for name in sorted(archive.settings.locations if among is None else set(among)):
        try:
            if adapters[name].has_object_lock():
                found.append(name)
        except LongwatchError as exc:
            if failed is None:
                raise
            log.warning("%s", exc)
            failed.append(exc)
    return found


def sync_locks(archive: Archive, package_id: str, locations: Iterable[str] | None = None,
               adapters: Adapters | None = None, now: datetime | None = None) -> list[tuple[str, str]]:
    """Make the store's locks of one package's copies say what the catalog says.

    A legal hold on every object while any active hold covers the package, and
    none once none does; a retain-until date (the due date of a fixed
    retention) where the location is configured for it, extended but never
    shortened. Copies on stores without object lock are left alone: their
    holds live in the catalog. Returns (location, what changed).
    """
    adapters = adapters if adapters is not None else Adapters(archive)
    candidates = set(archive.settings.locations if locations is None else locations)
    lockable = {loc for loc in candidates if loc in archive.settings.locations and adapters[loc].has_object_lock()}
    if not lockable:
        return []  # the usual case: no store to ask, no catalog query either
    row = archive.catalog.get(package_id)
    if row is None or row.status != "stored":
        return []
    where = {c.location for c in copies_of(archive, package_id)} | {row.storage_location}
    targets = sorted(where & lockable)
    if not targets:
        return []
    protection = protection_of(archive, package_id, now)
    holds, fixed = protection.hold_ids, protection.retain_until
    changed = []
    for location in targets:
        adapter = adapters[location]
        if not adapter.has_package(package_id):
            continue  # a copy the catalog still lists but the store lost: the audit deals with it
        if adapter.set_legal_hold(package_id, bool(holds)):
            kind = "legal hold placed" if holds else "legal hold lifted"
            detail = (f"store legal hold on every object, for hold {', '.join(h[:8] for h in holds)}" if holds
                      else "store legal hold lifted: no active hold covers the package")
            record_event(archive, package_id, location, kind, "success", detail)
            changed.append((location, kind))
        # a due date the store's (real) clock has passed is no date a store takes, whatever the archive's clock says
        if fixed is not None and fixed[0] > clock.wall_clock() and retention_lock_wanted(adapter.options, fixed[1]):
            until, record_class = fixed
            mode = str(adapter.options.get("object_lock_mode", "GOVERNANCE")).upper()
            if adapter.set_retention(package_id, until, mode):
                record_event(archive, package_id, location, "retention lock", "success",
                             f"{mode} retain-until {until.isoformat().replace('+00:00', 'Z')} "
                             f"(retention class {record_class})")
                changed.append((location, "retention lock"))
    return changed


def sync_packages(archive: Archive, pick: Callable[[list[str]], Iterable[str]], *,
                  among: Iterable[str] | None = None, now: datetime | None = None,
                  strict: bool = True) -> list[tuple[str, str, str]]:
    """The one loop behind every lock sync: which stores lock (each asked once), then each package ``pick``
    chooses among them, a failure recorded and collected so that one store or package stops nothing else.

    ``strict`` raises the first failure after everything else was done (a
    store that could not say whether it locks included); otherwise they are
    only warned and recorded, and ``sync-locks`` retries.
    """
    adapters = Adapters(archive)
    failed: list[LongwatchError] = []
    lockable = lockable_locations(archive, adapters, failed, among=among)
    done: list[tuple[str, str, str]] = []
    for package_id in pick(lockable) if lockable else []:
        done += _sync_or_record(archive, package_id, lockable, adapters, failed, now)
    if failed and strict:
        raise failed[0]
    return done


def _sync_or_record(archive: Archive, package_id: str, locations: list[str], adapters: Adapters,
                    failed: list[LongwatchError], now: datetime | None = None) -> list[tuple[str, str, str]]:
    """sync_locks, with a failure recorded (storage event, ledger) and collected instead of raised."""
    try:
        return [(package_id, loc, what) for loc, what in sync_locks(archive, package_id, locations, adapters, now)]
    except LongwatchError as exc:
        record_event(archive, package_id, "", "object lock", "failure", exc.render(translate=False))
        log.warning("%s", exc)
        failed.append(exc)
        return []


def sync_all_locks(archive: Archive, package_ids: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
    """``longwatch sync-locks``: every package with a copy on a store with object lock (or the ones given)."""

    def pick(lockable: list[str]) -> Iterable[str]:
        if package_ids is not None:
            return package_ids
        with archive.catalog.session() as s:
            return list(s.scalars(select(Copy.package_id).where(Copy.location.in_(lockable))
                                  .distinct().order_by(Copy.package_id)))

    return sync_packages(archive, pick)


def store_locks(archive: Archive, package_id: str) -> list[tuple[str, str, str]]:
    """(location, key, lock) for every object of the package that a store still locks, every version.

    Every location is asked: one that cannot lock answers {} itself, and one
    that cannot say whether it locks raises (S019, S002), so disposal is
    refused rather than let through on a guess.
    """
    found = []
    adapters = Adapters(archive)
    for name in sorted(archive.settings.locations):
        adapter = adapters[name]
        if adapter.has_package(package_id):
            found += [(name, key, lock) for key, lock in adapter.lock_status(package_id, every_version=True).items()]
    return found


def lock_new_copy(archive: Archive, package_id: str, location: str,
                  adapter: StorageAdapter | None = None) -> str | None:
    """A new copy (ingest, replication, repair, tier move) gets the store's locks the package already has.

    A failure is a warning, not an error: the copy exists and the catalog's
    holds still protect it; the next audit of the copy (or ``longwatch
    locks sync``) applies the lock again.
    """
    adapters = Adapters(archive)
    if adapter is not None:
        adapters[location] = adapter  # the caller's: no second client for the same store
    try:
        sync_locks(archive, package_id, [location], adapters)
    except LongwatchError as exc:
        record_event(archive, package_id, location, "object lock", "failure", exc.render(translate=False))
        log.warning("%s", exc)
        return gettext(N_("the store's lock of the new copy is pending: {error}")).format(error=exc.render())
    return None
