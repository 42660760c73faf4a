"""Storage that lasts: named locations, replicas, audits that repair, tiers and size caps.

Preservation practice (LOCKSS, OCFL) keeps several independent copies, checks
each on a cycle and repairs a bad one from a copy that verifies. Here:

- **Policy.** ``[storage.replication]`` in longwatch.toml says how many copies
  a package needs and on which locations (a default, and per retention class).
  Ingest publishes to the primary, then replication copies the package bit
  for bit to the other locations and reads each copy back before counting it.
- **Catalog.** Every copy is a row (``copies``) with the time and outcome of
  its last check; every replication, check, quarantine, repair, move and loss
  is a ``storage_events`` row. Listing copies and usage per location is a
  catalog query: storage is never walked for it.
- **Audit.** Copies are checked oldest-checked first, streaming, within a
  bandwidth budget (bytes/s) and a time budget. The check is fixity only:
  the tag manifest must hash to the value the catalog pinned at ingest (the
  signed file), every file it lists must match, every payload file must match
  ``manifest-sha256.txt``, and the signature must still verify. A failing
  copy is quarantined (its bad bytes kept under ``quarantine/``) and
  repaired from a copy that verifies now; when none is left the audit ends
  with R001 naming the package: never a silent loss.
- **Tiers and caps.** A package not accessed for N days moves to a colder
  location (copied, verified, then removed from the hot one: same id, same
  bytes). A location's ``cap_bytes`` is checked against the catalog before
  every write; a full location refuses with S001 and nothing is deleted to
  make room.
"""

from __future__ import annotations

import hashlib
import logging
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from longwatch import clock, config
from longwatch.core.aip import package, signing
from longwatch.core.aip.fixity import digest_stream
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Copy, Package, StorageEvent
from longwatch.errors import LongwatchError
from longwatch.i18n import N_, gettext
from longwatch.storage_adapters.base import StorageAdapter, package_prefix

log = logging.getLogger(__name__)

DEFAULT_ALERT_AT = 0.9
QUARANTINE = "quarantine"
#: Copies fetched from the catalog at a time by an audit: memory stays flat with millions of copies.
PLAN_BATCH = 500


# -- policy ----------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    """How many copies, and on which locations (first the ones a copy should go to)."""

    copies: int
    locations: tuple[str, ...]


def _storage_section(archive: Archive) -> dict[str, Any]:
    path = archive.root / config.CONFIG_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LongwatchError("A003", path=path, detail=str(exc)) from exc
    storage = data.get("storage", {})
    return storage if isinstance(storage, dict) else {}


def _parse_policy(name: str, spec: Any, archive: Archive) -> Policy:
    if isinstance(spec, list):
        spec = {"locations": spec}
    if not isinstance(spec, dict):
        raise LongwatchError("R005", policy=name, detail="expected a list of locations or a table")
    locations = tuple(str(x) for x in spec.get("locations", [archive.settings.primary_location]))
    copies = int(spec.get("copies", len(locations)))
    for location in locations:
        if location not in archive.settings.locations:
            raise LongwatchError("R003", location=location)
    if copies < 1 or copies > len(locations):
        raise LongwatchError("R005", policy=name, detail=f"copies={copies} but {len(locations)} locations")
    return Policy(copies=copies, locations=locations)


def policy_for(archive: Archive, retention_class: str | None = None) -> Policy:
    """The policy of a retention class, else the default (one copy on the primary when none is set)."""
    section = _storage_section(archive).get("replication", {})
    if not isinstance(section, dict):
        section = {}
    classes = _class_policies(archive)
    if retention_class and retention_class in classes:
        return _parse_policy(retention_class, classes[retention_class], archive)
    if "default" in section:
        return _parse_policy("default", section["default"], archive)
    return Policy(copies=1, locations=(archive.settings.primary_location,))


def policy_of(archive: Archive, package_id: str, retention_class: str | None = None) -> Policy:
    """The policy for one package: that of its retention class when none is given.

    Evidence may ask for more copies than the default, so every path that
    makes or counts copies (ingest, jobs, ``longwatch replicate``, a drop folder
    releasing its source) must use the package's own class. The class is
    looked up only when the archive configures per-class policies.
    """
    if retention_class is None and _class_policies(archive):
        from longwatch.core.records.assignment import record_class_of

        retention_class = record_class_of(archive, package_id)
    return policy_for(archive, retention_class)


def _class_policies(archive: Archive) -> dict[str, Any]:
    section = _storage_section(archive).get("replication", {})
    classes = section.get("classes", {}) if isinstance(section, dict) else {}
    return classes if isinstance(classes, dict) else {}


def location_options(archive: Archive, location: str) -> dict[str, Any]:
    spec = archive.settings.locations.get(location)
    if spec is None:
        raise LongwatchError("R003", location=location)
    return spec.options


# -- catalog records ---------------------------------------------------------------
#: storage event kind -> the custody ledger's PREMIS event type (a repair and a move make a new copy)
LEDGER_TYPES = {"replication": "replication", "repair": "replication", "fixity check": "fixity check",
                "tier move": "replication", "tier restore": "replication",
                # the store's object lock follows the catalog's holds and retention (see sync_locks)
                "legal hold placed": "policy assignment", "legal hold lifted": "policy assignment",
                "retention lock": "policy assignment", "object lock": "policy assignment"}


def record_event(archive: Archive, package_id: str, location: str, kind: str, outcome: str,
                 detail: str = "", source_location: str = "", bytes_read: int = 0) -> None:
    """A row for the storage reports and, for what touched the package's copies, a custody-ledger event."""
    now = clock.now()
    with archive.catalog.session() as s:
        s.add(StorageEvent(at=now, package_id=package_id, location=location, kind=kind, outcome=outcome,
                           detail=detail, source_location=source_location, bytes_read=bytes_read))
    ledger_type = LEDGER_TYPES.get(kind)
    if ledger_type and package_id:
        from longwatch.core import custody

        where = f"{location} (from {source_location})" if source_location else location
        custody.Ledger.for_archive(archive).append([custody.Event(
            type=ledger_type, packages=[package_id], outcome="success" if outcome == "success" else "failure",
            time=now, detail=f"{kind} of the copy at {where or 'its location'}: {detail}"[:4000],
            agents=[custody.software_agent()],
            extra={"storage_event": kind, "location": location, "source_location": source_location})])


def record_copy(archive: Archive, package_id: str, location: str, size: int, checked: bool = True) -> None:
    now = clock.now()
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


# -- caps --------------------------------------------------------------------------
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


def usage(archive: Archive, location: str | None = None) -> list[Usage]:
    """Bytes and packages per location (or of one), from the catalog alone (storage is not walked)."""
    # count(*), not count(id): both columns read are in ix_copies_location_size, so the index alone answers
    query = select(Copy.location, func.count(), func.coalesce(func.sum(Copy.size_bytes), 0))
    if location is not None:
        query = query.where(Copy.location == location)
    with archive.catalog.session() as s:
        rows = dict((loc, (n, used)) for loc, n, used in s.execute(query.group_by(Copy.location)))
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


# -- checking one copy -------------------------------------------------------------
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


# -- replication ------------------------------------------------------------------
def copy_package(src: StorageAdapter, dst: StorageAdapter, package_id: str) -> int:
    """Copy every file bit for bit in one streaming pass each; returns bytes copied."""
    total = 0
    with dst.begin_package(package_id) as writer:
        for relpath in sorted(src.package_files(package_id)):
            with src.open_package_file(package_id, relpath) as fh, writer.open(relpath) as out:
                total += digest_stream(fh, sinks=[out], algorithms=("sha256",)).size
        writer.commit()
    return total


def _good_source(archive: Archive, row: Package, exclude: Iterable[str] = ()) -> tuple[StorageAdapter, CopyCheck]:
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


def replicate(archive: Archive, package_id: str, retention_class: str | None = None) -> list[str]:
    """Bring the package up to its policy (its retention class's); returns the locations it was copied to."""
    row = archive.catalog.require(package_id)
    policy = policy_of(archive, package_id, retention_class)
    have = {c.location for c in copies_of(archive, package_id) if c.status == "ok"}
    if not have:
        have = {row.storage_location}
    made = []
    for location in policy.locations:
        if len(have) >= policy.copies:
            break
        if location in have:
            continue
        dst = archive.storage(location)
        src, _check = _good_source(archive, row)
        check_room(archive, location, row.size_bytes)
        if not dst.has_package(package_id):
            copy_package(src, dst, package_id)
        after = check_copy(dst, package_id, row.tagmanifest_sha256)
        if not after.ok:
            record_event(archive, package_id, location, "replication", "failure", after.summary(), src.location)
            raise LongwatchError("R002", package_id=package_id, location=location, detail=after.summary())
        record_copy(archive, package_id, location, row.size_bytes)
        record_event(archive, package_id, location, "replication", "success",
                     "copied bit for bit and read back", src.location, after.bytes_read)
        lock_new_copy(archive, package_id, location, dst)
        have.add(location)
        made.append(location)
    return made


def after_ingest(archive: Archive, package_id: str, location: str, size: int) -> list[str]:
    """Record the primary copy, then replicate; a failed replica is a warning, `longwatch replicate` retries."""
    record_copy(archive, package_id, location, size)
    warnings = []
    pending = lock_new_copy(archive, package_id, location)  # e.g. a camera hold that covers new footage
    if pending:
        warnings.append(pending)
    try:
        replicate(archive, package_id)
    except LongwatchError as exc:
        record_event(archive, package_id, "", "replication", "failure", exc.render(translate=False))
        warnings.append(gettext(N_("replication is pending: {error}")).format(error=exc.render()))
    return warnings


def policy_met(archive: Archive, package_id: str, retention_class: str | None = None) -> bool:
    """True once the package has as many good copies as its policy asks (a drop folder may then release
    the source file)."""
    good = {c.location for c in copies_of(archive, package_id) if c.status == "ok"}
    return len(good) >= policy_of(archive, package_id, retention_class).copies


def replicate_all(archive: Archive) -> tuple[list[tuple[str, list[str]]], list[LongwatchError]]:
    done, errors = [], []
    for package_id in archive.catalog.all_ids():
        try:
            made = replicate(archive, package_id)
        except LongwatchError as exc:
            errors.append(exc)
            continue
        if made:
            done.append((package_id, made))
    return done, errors


# -- audit ------------------------------------------------------------------------
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
    skipped: int = 0
    bytes_read: int = 0
    seconds: float = 0.0


def audit_plan(archive: Archive, locations: Iterable[str] | None = None, limit: int | None = None,
               checked_before: datetime | None = None) -> list[PlannedCopy]:
    """Recorded copies, oldest-checked (never-checked first), from the catalog alone."""
    query = select(Copy.package_id, Copy.location, Copy.size_bytes, Copy.last_checked_at).order_by(
        Copy.last_checked_at.is_not(None), Copy.last_checked_at, Copy.id)
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
    query = select(func.count(Copy.id), func.coalesce(func.sum(Copy.size_bytes), 0))
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
    src, _ = _good_source(archive, row, exclude=[adapter.location])
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
    lock_new_copy(archive, row.id, adapter.location, adapter)  # the repaired objects are new versions, unlocked
    return src.location


def _set_copy(archive: Archive, package_id: str, location: str, status: str, outcome: str) -> None:
    with archive.catalog.session() as s:
        row = s.scalars(select(Copy).where(Copy.package_id == package_id, Copy.location == location)).first()
        if row is not None:
            row.status, row.last_outcome, row.last_checked_at = status, outcome, clock.now()


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
        if row is None:
            continue
        adapter = archive.storage(planned.location)
        check = check_copy(adapter, row.id, row.tagmanifest_sha256, progress=advance)
        result.checked.append(check)
        result.bytes_read += check.bytes_read
        record_event(archive, row.id, planned.location, "fixity check", "success" if check.ok else "failure",
                     check.summary(), bytes_read=check.bytes_read)
        archive.pm.hook.fixity_checked(
            package_id=row.id, path=f"{planned.location}:{row.id}", ok=check.ok,
            problems=[{"code": "V004", "path": p, "detail": why} for p, why in sorted(check.bad.items())])
        if check.ok:
            _set_copy(archive, row.id, planned.location, "ok", "ok")
            lock_new_copy(archive, row.id, planned.location, adapter)  # a lock that failed to apply earlier, again
        else:
            _set_copy(archive, row.id, planned.location, "quarantined", "failed")
            record_event(archive, row.id, planned.location, "quarantine", "success", check.summary())
            try:
                source = repair(archive, row, adapter, check)
            except LongwatchError as exc:
                _set_copy(archive, row.id, planned.location, "lost" if exc.code == "R001" else "quarantined",
                          "failed")
                record_event(archive, row.id, planned.location, "repair", "failure", exc.render(translate=False))
                result.lost.append(exc)
            else:
                _set_copy(archive, row.id, planned.location, "ok", "repaired")
                record_event(archive, row.id, planned.location, "repair", "success",
                             f"repaired {check.summary()}", source)
                result.repaired.append((row.id, planned.location, source))
        if on_copy is not None:
            on_copy(planned, check)
    result.seconds = time.monotonic() - started
    return result


# -- tiers ------------------------------------------------------------------------
def move_package(archive: Archive, package_id: str, to: str, kind: str = "tier move") -> str:
    """Move the package's working copy to ``to``: copy, verify, then remove from the old location.

    The id and every byte stay the same; the old copy is removed only after
    the new one verifies, and not at all while the store locks it (S013).
    """
    row = archive.catalog.require(package_id)
    old = row.storage_location
    if old == to:
        return old
    dst = archive.storage(to)
    src = archive.storage(old)
    if not any(c.location == to and c.status == "ok" for c in copies_of(archive, package_id)):
        check_room(archive, to, row.size_bytes)
        if not dst.has_package(package_id):
            copy_package(src, dst, package_id)
        after = check_copy(dst, package_id, row.tagmanifest_sha256)
        if not after.ok:
            raise LongwatchError("R002", package_id=package_id, location=to, detail=after.summary())
        record_copy(archive, package_id, to, row.size_bytes)
        lock_new_copy(archive, package_id, to, dst)
    delete_copy(archive, src, package_id)
    with archive.catalog.session() as s:
        pkg = s.get(Package, package_id)
        assert pkg is not None
        pkg.storage_location = to
        for c in s.scalars(select(Copy).where(Copy.package_id == package_id, Copy.location == old)):
            s.delete(c)
    record_event(archive, package_id, to, kind, "success", f"moved from {old}", old)
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


# -- object lock ------------------------------------------------------------------
# The catalog's holds and retention are the truth; a store with object lock
# (WORM) is made to enforce them too, so that not even a mistake in longwatch,
# or a person with the store's credentials, can delete held evidence. Each
# lock placed or lifted is a storage event and a custody-ledger event.
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
    from longwatch.core.records.holds import holds_on, lock_until

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
    holds = holds_on(archive, package_id)
    fixed = lock_until(archive, package_id, now)
    changed = []
    for location in targets:
        adapter = adapters[location]
        if not adapter.has_package(package_id):
            continue  # a copy the catalog still lists but the store lost: the audit deals with it
        if adapter.set_legal_hold(package_id, bool(holds)):
            kind = "legal hold placed" if holds else "legal hold lifted"
            detail = (f"store legal hold on every object, for hold {', '.join(h.id[:8] for h in holds)}" if holds
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


def _sync_packages(archive: Archive, pick: Callable[[list[str]], Iterable[str]], *,
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


def sync_hold(archive: Archive, hold: Any) -> list[tuple[str, str, str]]:
    """After a hold was placed or released: every package it covers on a store with object lock
    (none: the hold lives in the catalog alone, as before)."""
    from longwatch.core.records.holds import covered_packages

    return _sync_packages(archive, lambda lockable: covered_packages(archive, hold, lockable))


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


def sync_retention(archive: Archive, package_ids: Iterable[str], now: datetime | None = None,
                   holds_too: bool = False) -> int:
    """After retention classes were (re)assigned: retain-until dates where locations ask for them, and
    with ``holds_too`` (a package joined a case, which a case hold may cover) legal holds everywhere.

    Failures are warned and recorded, not raised: the assignment stands, and
    ``sync-locks`` retries."""
    configured = set(archive.settings.locations) if holds_too else set(retention_lock_locations(archive))
    if not configured:
        return 0
    return len(_sync_packages(archive, lambda _lockable: package_ids, among=configured, now=now, strict=False))


def sync_all_locks(archive: Archive, package_ids: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
    """``longwatch sync-locks``: every package with a copy on a store with object lock (or the ones given)."""

    def pick(lockable: list[str]) -> Iterable[str]:
        if package_ids is not None:
            return package_ids
        with archive.catalog.session() as s:
            return list(s.scalars(select(Copy.package_id).where(Copy.location.in_(lockable))
                                  .distinct().order_by(Copy.package_id)))

    return _sync_packages(archive, pick)


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
