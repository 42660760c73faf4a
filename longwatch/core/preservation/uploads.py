"""Resumable uploads kept in the catalog and the object store, not on the web server that took them.

Why: behind a load balancer, each tus PATCH of one upload may reach a
different web server, on a different machine, and the package may be made by
a worker on a third; they share only the catalog's database and the storage
locations (issue 20). So the upload's state (offset, length, metadata, owner,
status) is its ``uploads`` row, and each chunk received is an object
``uploads/<upload id>/<start:016d>-<token>`` on the primary location (a file
under its folder on a local location), named in ``upload_parts`` by the same
transaction that moves the offset on (:func:`add_part`). A chunk is first
spooled to the receiving machine's scratch folder, so a chunk whose checksum
is wrong, or that is cut short, never reaches the store.

When the last byte is recorded, the upload turns ``archiving`` and gets the
id its package will have, in the same transaction; on PostgreSQL the
``ingest_upload`` job is queued in it too, so a crash can lose neither. The
job (:func:`complete`; run in-process on SQLite, as everything is there)
streams the parts into its own scratch folder, checks the whole file's
SHA-256 against the one the client announced, ingests it under the recorded
package id, and deletes the parts only once the package is published. Run
again (a retry after a kill, a second server's restart), it finds the
package instead of making another.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from longwatch import clock
from longwatch.core.aip import package
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Upload, UploadPart, User
from longwatch.core.jobs import queue as jobs
from longwatch.core.preservation import ingest as ingest_mod
from longwatch.core.preservation import provenance, staging
from longwatch.core.preservation import publish as publish_mod
from longwatch.errors import LongwatchError

PREFIX = "uploads"
#: Errors that are the file's own (a wrong digest, a duplicate): its bytes go. Any other keeps them for a retry.
FILE_FAULTS = ("I", "W")
#: Where 0.x kept an upload's bytes: an upload that was complete when the archive was upgraded is archived
#: from there, on the machine that has it.
LEGACY_FOLDER = "uploads"
log = logging.getLogger(__name__)


def part_prefix(upload_id: str) -> str:
    return f"{PREFIX}/{upload_id}/"


def load(archive: Archive, upload_id: str) -> Upload | None:
    with archive.catalog.session() as s:
        row = s.get(Upload, upload_id)
        if row is not None:
            s.expunge(row)
    return row


def _set(archive: Archive, upload_id: str, **values: Any) -> Upload:
    with archive.catalog.session() as s:
        stored = s.get(Upload, upload_id)
        assert stored is not None
        for key, value in values.items():
            setattr(stored, key, value)
        s.flush()
        s.expunge(stored)
    return stored


# -- receiving ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Added:
    """What :func:`add_part` recorded: the new offset, and whether that was the last byte."""

    offset: int
    complete: bool


def add_part(archive: Archive, upload_id: str, start: int, spooled: BinaryIO, size: int) -> Added:
    """Store ``size`` bytes read from ``spooled`` as the part at ``start``; W014 if another request got there first.

    The object goes to the store first, under a key no other request uses;
    then one transaction moves the offset on from ``start`` (only if it is
    still ``start``), names the part, and with the last byte turns the upload
    ``archiving`` (and, on PostgreSQL, queues its job). A request that lost
    the race removes its object again.
    """
    adapter = staging.primary(archive)
    if jobs.queued(archive):
        jobs.apply_schema(archive)  # the job may be queued below, before any worker has installed the queue
    key = f"{part_prefix(upload_id)}{start:016d}-{uuid.uuid4().hex[:12]}"
    adapter.put(key, spooled)
    end = start + size
    try:
        with archive.catalog.session() as s:
            row = s.get(Upload, upload_id)
            if row is None or row.status != "receiving" or row.offset != start or end > row.length:
                raise LongwatchError("W014", offset=row.offset if row else start, given=start)
            last = end == row.length
            values: dict[str, Any] = {"offset": end}
            if last:  # the last byte and the duty to archive it are recorded together
                values.update(status="archiving", package_id=str(uuid.uuid4()))
            moved = s.execute(update(Upload).where(Upload.id == upload_id, Upload.offset == start,
                                                   Upload.status == "receiving").values(**values))
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                raise LongwatchError("W014", offset=row.offset, given=start)
            s.add(UploadPart(upload_id=upload_id, start=start, end=end, key=key))
            if last and jobs.queued(archive):
                enqueue(archive, upload_id, session=s)
    except BaseException:
        adapter.delete_transient(key)
        raise
    return Added(end, last)


def enqueue(archive: Archive, upload_id: str, session: Session | None = None) -> int | dict[str, Any]:
    """The job that makes the upload's package, acting for the account that uploaded it.

    On SQLite it runs now, in this process. Queued twice while one waits, it
    is one job (queueing lock); two never run at once (job lock).
    """
    args: dict[str, Any] = {"upload_id": upload_id}
    if session is not None:
        owner = session.scalar(select(User.username).join(Upload, Upload.user_id == User.id)
                               .where(Upload.id == upload_id))
    else:
        with archive.catalog.session() as s:
            owner = s.scalar(select(User.username).join(Upload, Upload.user_id == User.id)
                             .where(Upload.id == upload_id))
    if owner:
        args[jobs.REQUESTED_BY] = owner
    return jobs.enqueue(archive, "ingest_upload", args, session=session, lock=f"upload:{upload_id}",
                        queueing_lock=f"upload:{upload_id}")


def forget(archive: Archive, upload_id: str) -> None:
    """Delete an upload's parts (objects and rows); whatever else a crash left under its prefix goes too."""
    adapter = staging.primary(archive)
    with archive.catalog.session() as s:
        keys = list(s.scalars(select(UploadPart.key).where(UploadPart.upload_id == upload_id)))
    for key in {*keys, *adapter.list(part_prefix(upload_id))}:
        adapter.delete_transient(key)
    with archive.catalog.session() as s:
        s.execute(delete(UploadPart).where(UploadPart.upload_id == upload_id))
    shutil.rmtree(archive.root / LEGACY_FOLDER / upload_id, ignore_errors=True)


def expire(archive: Archive) -> list[str]:
    """Forget uploads nobody finished before they expired: their parts go, their row says ``expired``.

    Only uploads still missing bytes: one whose last byte arrived is waiting
    for its package and is completed, never swept.
    """
    with archive.catalog.session() as s:
        gone = list(s.scalars(select(Upload.id).where(Upload.expires_at < clock.now(),
                                                      Upload.status == "receiving", Upload.offset < Upload.length)))
    for upload_id in gone:
        forget(archive, upload_id)
        with archive.catalog.session() as s:
            s.execute(update(Upload).where(Upload.id == upload_id, Upload.status == "receiving")
                      .values(status="expired"))
    return gone


def awaiting_package(archive: Archive) -> list[str]:
    """Uploads whose every byte arrived and whose package is not made yet."""
    with archive.catalog.session() as s:
        return list(s.scalars(select(Upload.id).where(
            Upload.status.in_(("receiving", "archiving")), Upload.offset == Upload.length)))


# -- completing ---------------------------------------------------------------------------------
def complete(archive: Archive, upload_id: str) -> Upload | None:
    """Archive an upload whose every byte arrived, exactly once, whichever process or machine gets there first.

    The package id was recorded with the last byte, so a package published
    before a crash is found, not made twice. An error that is the file's own
    (I, W: a wrong digest, a duplicate) fails the upload and its parts go;
    any other (a full store, a lost catalog) leaves it ``archiving`` with the
    error recorded and its parts kept, for the next try. Raises the error
    either way; returns the row as it ends.
    """
    # one at a time across processes and machines; sixteen locks (by the id's first digit), not one per upload,
    # so that SQLite's lock files beside the catalog stay few
    with archive.catalog.exclusive(f"upload-{upload_id[:1]}"):
        row = load(archive, upload_id)
        if row is None or row.offset != row.length or row.status not in ("receiving", "archiving"):
            return row
        if not row.package_id:
            row = _set(archive, upload_id, status="archiving", package_id=str(uuid.uuid4()))
        if archive.catalog.get(row.package_id) is None:
            publish_mod.recover(archive)  # a publication a dead process left half done
        if archive.catalog.get(row.package_id) is None:
            try:
                _archive(archive, row)
            except LongwatchError as exc:
                text = f"[{exc.code}] {exc.render(translate=False)}"
                if exc.code[0] in FILE_FAULTS:
                    _set(archive, upload_id, status="failed", error=text, package_id="")
                    forget(archive, upload_id)
                else:
                    _set(archive, upload_id, status="archiving", error=text)
                raise
        row = _set(archive, upload_id, status="archived", error="")
        forget(archive, upload_id)
        return row


def _keys(archive: Archive, row: Upload) -> list[str]:
    """The part keys that make up the upload, in order; I054 when they do not cover it exactly."""
    with archive.catalog.session() as s:
        parts = list(s.execute(select(UploadPart.start, UploadPart.end, UploadPart.key)
                               .where(UploadPart.upload_id == row.id).order_by(UploadPart.start)).all())
    at = 0
    for start, end, _key in parts:
        if start != at:
            raise LongwatchError("I054", upload_id=row.id, length=row.length, detail=f"no part at byte {at}")
        at = end
    if at != row.length:
        raise LongwatchError("I054", upload_id=row.id, length=row.length, detail=f"the parts end at byte {at}")
    return [key for _start, _end, key in parts]


def _legacy_file(archive: Archive, row: Upload) -> Path | None:
    """The bytes of an upload completed before parts existed (0.x kept them in the archive folder), if here.

    Renamed to the original (safe) name in place, as 0.x did, so the package records that name.
    """
    folder = archive.root / LEGACY_FOLDER / row.id
    named = folder / package.safe_name(row.filename or "upload.bin", "upload.bin")
    if (folder / "data").is_file() and not named.exists():
        (folder / "data").replace(named)
    return named if named.is_file() and named.stat().st_size == row.length else None


def _archive(archive: Archive, row: Upload) -> None:
    """Fetch the parts, check the whole file's digest, then ingest it under the recorded package id."""
    with staging.scratch(archive, "upload-") as scratch:
        with archive.catalog.session() as s:
            has_parts = s.scalar(select(UploadPart.id).where(UploadPart.upload_id == row.id).limit(1)) is not None
        legacy = None if has_parts else _legacy_file(archive, row)
        if legacy is not None:
            source = legacy
            sha256 = staging.digest_file(legacy)
        else:
            source = scratch / package.safe_name(row.filename or "upload.bin", "upload.bin")
            sha256, _size = staging.fetch(archive, _keys(archive, row), source)
        if row.expected_sha256 and row.expected_sha256 != sha256:
            raise LongwatchError("W017", found=sha256, expected=row.expected_sha256)
        meta = json.loads(row.metadata_json or "{}")
        with archive.catalog.session() as s:
            owner = s.execute(select(User.username, User.role).where(User.id == row.user_id)).first()
        # an upload by an account, whatever camera it names, unless its role files camera recordings directly
        uploaded_by = "" if owner is not None and owner.role in provenance.DIRECT_ROLES else (
            owner.username if owner is not None else "?")
        req = ingest_mod.IngestRequest(
            path=source,
            camera=meta.get("camera", ""),
            zone=meta.get("zone", "")[:200],
            title=meta.get("title", "")[:500],
            start=clock.parse_time(meta["start"]) if meta.get("start") else None,
            package_id=row.package_id,
            uploaded_by=uploaded_by,
        )
        try:
            result = ingest_mod.ingest(archive, req)
        except OSError as exc:
            raise LongwatchError("W023", detail=str(exc)) from exc
        if result.sha256 != sha256:  # the bytes changed between fetching and ingest
            raise LongwatchError("W017", found=result.sha256, expected=sha256)
