"""Replication: bring a package up to its policy by copying it bit for bit to more locations.

Ingest publishes to the primary, then :func:`after_ingest` records that copy
and replicates; each new copy is read back (fixity) before it is counted, and
gets the store's locks its package already has. :func:`policy_met` is what a
connector asks before it releases its source. The policy itself is
:mod:`~longwatch.core.storage.policy`.
"""

from __future__ import annotations

from datetime import datetime

from longwatch import clock
from longwatch.core.aip.fixity import digest_stream
from longwatch.core.archive import Archive
from longwatch.core.storage.caps import check_room
from longwatch.core.storage.copies import check_copy, copies_of, good_source, record_copy, record_event
from longwatch.core.storage.locks import lock_new_copy
from longwatch.core.storage.policy import policy_of
from longwatch.errors import LongwatchError
from longwatch.i18n import N_, gettext
from longwatch.storage_adapters.base import StorageAdapter


def copy_package(src: StorageAdapter, dst: StorageAdapter, package_id: str) -> int:
    """Copy every file bit for bit in one streaming pass each; returns bytes copied."""
    total = 0
    with dst.begin_package(package_id) as writer:
        for relpath in sorted(src.package_files(package_id)):
            with src.open_package_file(package_id, relpath) as fh, writer.open(relpath) as out:
                total += digest_stream(fh, sinks=[out], algorithms=("sha256",)).size
        writer.commit()
    return total


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
        src, _check = good_source(archive, row)
        check_room(archive, location, row.size_bytes)
        if not dst.has_package(package_id):
            copy_package(src, dst, package_id)
        after = check_copy(dst, package_id, row.tagmanifest_sha256)
        if not after.ok:
            record_event(archive, package_id, location, "replication", "failure", after.summary(), src.location)
            raise LongwatchError("R002", package_id=package_id, location=location, detail=after.summary())
        now = clock.now()  # the copy's time and its ledger entry's: reindex rebuilds the one from the other
        record_copy(archive, package_id, location, row.size_bytes, at=now)
        record_event(archive, package_id, location, "replication", "success",
                     "copied bit for bit and read back", src.location, after.bytes_read, at=now)
        lock_new_copy(archive, package_id, location, dst)
        have.add(location)
        made.append(location)
    return made


def after_ingest(archive: Archive, package_id: str, location: str, size: int,
                 at: datetime | None = None) -> list[str]:
    """Record the primary copy, then replicate; a failed replica is a warning, `longwatch replicate` retries.

    ``at`` is the package's ingest time: the first copy was checked as it was written, and it has no
    ledger entry of its own, so ``longwatch reindex`` gives it the package's time (its ingestion event's).
    """
    record_copy(archive, package_id, location, size, at=at)
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
