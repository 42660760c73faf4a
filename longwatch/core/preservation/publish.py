"""Publishing a package, and completing a publication a killed process left half done.

Every package ends here, an original (:mod:`longwatch.core.preservation.ingest`)
and a derived one alike (windows, redacted copies:
:mod:`longwatch.core.preservation.derive`): :func:`publish` writes the
metadata and tag files, signs the tag manifest, makes the package visible in
one atomic step, then adds the catalog row, the policy's copies and the
custody events. Those steps after the atomic publish are bracketed by a
pending-publication row; a process killed among them leaves that row, and
:func:`recover` (run before each ingest command, connector and worker) or a
job's retry (:func:`complete_publication`) finishes the package from the
stored package itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.exc import SQLAlchemyError

from longwatch import __version__, clock
from longwatch.core import custody, faults
from longwatch.core.aip import metadata, package, signing
from longwatch.core.aip.fixity import digest_bytes
from longwatch.core.archive import Archive
from longwatch.core.catalog import Clip, Package
from longwatch.core.catalog.models import CustodyEntry, CustodyEntryPackage, PendingPublication
from longwatch.core.preservation import provenance, reindex
from longwatch.core.storage import replicate as storage_replicate
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import PackageWriter, StorageAdapter

log = logging.getLogger(__name__)


@dataclass
class NewPackage:
    """Everything a package needs besides payload bytes already written through the writer.

    Shared by plain ingest and by derived packages (windows, redacted copies):
    both end in :func:`publish`, so a derived package is bagged, described,
    signed, published and catalogued exactly as an original is.
    """

    package_id: str
    payload: list[package.PayloadEntry]
    files: list[metadata.FileRecord]
    agents: list[metadata.AgentRecord]
    events: list[metadata.EventRecord]
    desc: metadata.Description
    technical: dict[str, Any]
    time_source: str
    clips: list[Clip]
    media_ok: bool = True
    sources: list[str] = field(default_factory=list)  # package ids this one derives from
    bag_info: list[tuple[str, str]] = field(default_factory=list)  # extra bag-info.txt fields


def publish(
    archive: Archive, writer: PackageWriter, new: NewPackage, now: datetime, warnings: list[str] | None = None
) -> Package:
    """Metadata -> validate -> bag -> sign -> atomic publish -> catalog row -> copies -> custody ledger.

    The payload is already written through ``writer``. A replica that fails is
    a warning appended to ``warnings``; `longwatch replicate` completes it later.
    The steps after the atomic publish are bracketed by a pending-publication
    row, so that a process killed among them is completed by :func:`recover`.
    """
    signer = archive.signer
    premis_xml = metadata.build_premis(new.package_id, new.files, new.events, new.agents, sources=new.sources)
    dc_xml = metadata.build_dc(new.desc)
    for name, doc in (("premis", premis_xml), ("dc", dc_xml)):
        errors = metadata.schema_errors(metadata.parse_untrusted(doc), name)
        if errors:
            raise LongwatchError("V010", path=f"metadata/{name}.xml", schema=name, detail=errors[0])

    contents = package.BagContents(
        payload=new.payload,
        bag_info=_bag_info(archive, new.package_id, new.desc, new.time_source, now) + new.bag_info,
        tag_files={
            package.PREMIS_PATH: premis_xml,
            package.DC_PATH: dc_xml,
            package.TECHNICAL_PATH: json.dumps(new.technical, ensure_ascii=False, indent=2,
                                               default=str).encode("utf-8"),
        },
    )
    tag_files = contents.tag_file_bytes()
    tag_files.update(contents.tag_manifests(tag_files))
    signed = tag_files[package.SIGNED_FILE]
    tag_files[package.SIGNATURE_PATH] = signing.sign_detached(signer, signed)
    for relpath, data in tag_files.items():
        writer.write_bytes(relpath, data)
    location = archive.storage().location
    _pending(archive, new.package_id, location)
    writer.commit()
    faults.fault("after-publish")  # the crash tests' kill point: stored, not yet catalogued

    desc = new.desc
    for clip in new.clips:  # each clip carries its package's camera and place, so search needs no join
        clip.camera = clip.camera or desc.camera
        clip.zone = clip.zone or desc.zone
        if clip.latitude is None:
            clip.latitude, clip.longitude = desc.latitude, desc.longitude
        if clip.span_s is None and clip.start_utc and clip.end_utc:
            clip.span_s = round((clip.end_utc - clip.start_utc).total_seconds())
    row = Package(
        id=new.package_id, created_at=now, camera=desc.camera, zone=desc.zone, title=desc.title,
        location_name=desc.location_name, latitude=desc.latitude, longitude=desc.longitude,
        start_utc=desc.start, end_utc=desc.end, time_source=new.time_source,
        size_bytes=sum(p.size for p in new.payload), file_count=len(new.payload), status="stored",
        storage_location=location,
        tagmanifest_sha256=digest_bytes(signed, ["sha256"])["sha256"], signer_fingerprint=signer.fingerprint,
        media_ok=new.media_ok, clips=new.clips, description=desc.description, notes="",
        **provenance.columns(dict(new.bag_info)),
    )
    archive.catalog.add_package(row)
    notes = storage_replicate.after_ingest(archive, new.package_id, row.storage_location, row.size_bytes,
                                           at=row.created_at)
    if warnings is not None:
        warnings.extend(notes)
    # custody ledger (issue 4): the same events as premis.xml, once the package is published and catalogued
    payload = {p.relpath: p.digests["sha256"] for p in new.payload if "sha256" in p.digests}
    custody.record_package_events(archive, new.package_id, new.events, new.agents, payload=payload)
    _published(archive, new.package_id)
    return row


# -- completing a publication a killed process left half done -------------------------
#: A pending publication of another host is taken for abandoned after this long (SQLite; on PostgreSQL the
#: lease below says at once whether its publisher is alive, on any host).
STALE_AFTER = timedelta(hours=6)

#: package id -> the connection holding that publication's lease (PostgreSQL)
_LEASES: dict[str, Any] = {}


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _lease_key(package_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"publish:{package_id}".encode()).digest()[:8], "big", signed=True)


def _pending(archive: Archive, package_id: str, location: str) -> None:
    """Record the publication about to happen; on PostgreSQL, also hold its lease.

    The lease is a session advisory lock on a connection of its own, taken
    before the row is written and released after the row is deleted: while the
    row exists without its lock, the publisher is gone (PostgreSQL drops the
    locks of a connection whose process died, on whatever machine), and any
    host may complete it at once instead of waiting hours for a silent pid.
    """
    engine = archive.catalog.engine
    if engine.dialect.name == "postgresql":
        conn = engine.connect()
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _lease_key(package_id)})
        conn.commit()
        _LEASES[package_id] = conn
    with archive.catalog.session() as s:
        s.add(PendingPublication(package_id=package_id, location=location, owner=_owner(),
                                 started_at=clock.now()))


def _published(archive: Archive, package_id: str) -> None:
    with archive.catalog.session() as s:
        s.execute(delete(PendingPublication).where(PendingPublication.package_id == package_id))
    conn = _LEASES.pop(package_id, None)
    if conn is not None:
        with contextlib.suppress(SQLAlchemyError):
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lease_key(package_id)})
            conn.commit()
        conn.close()


def _lease_free(archive: Archive, package_id: str) -> bool:
    """PostgreSQL: nobody holds the publication's lease (its publisher is gone); takes and drops it to ask."""
    with archive.catalog.engine.connect() as conn:
        key = _lease_key(package_id)
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        if got:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        conn.commit()
        return got


def _abandoned(archive: Archive, row: PendingPublication, now: datetime) -> bool:
    """Its publisher is gone: on PostgreSQL its lease is free (any host, at once); on SQLite (one machine)
    its pid is dead, or it gave no news for STALE_AFTER.

    The row is written after the payload, just before the atomic publish, so
    a live publication holds it for seconds (minutes with slow replicas),
    never hours: the age test also covers a reused pid.
    """
    if archive.catalog.engine.dialect.name == "postgresql":
        return row.package_id not in _LEASES and _lease_free(archive, row.package_id)
    if now - row.started_at > STALE_AFTER:
        return True
    host, _, pid = row.owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    return False


def complete_custody(archive: Archive, package_id: str, storage: StorageAdapter) -> int:
    """Append the package's PREMIS events that the custody ledger lacks; return how many.

    A process killed between cataloguing a package and appending its events
    leaves a package the ledger does not know. The events are read back from
    the package's own premis.xml (same ids, times and agents), so the ledger
    ends as if the first attempt had finished; events already there are kept.
    """
    with storage.open_package_file(package_id, package.PREMIS_PATH) as fh:
        agents, events = metadata.premis_records(metadata.parse_untrusted(fh.read(), package.PREMIS_PATH))
    with archive.catalog.session() as s:
        recorded = set(s.scalars(
            select(CustodyEntry.event_id).join(CustodyEntryPackage, CustodyEntryPackage.seq == CustodyEntry.seq)
            .where(CustodyEntryPackage.package_id == package_id)))
    missing = [e for e in events if e.identifier not in recorded]
    if missing:
        log.warning("package %s lacked %d custody events (a killed process); recording them",
                    package_id, len(missing))
        custody.record_package_events(archive, package_id, missing, agents)
    return len(missing)


def recover(archive: Archive, now: datetime | None = None) -> list[str]:
    """Clean up after killed processes: sweep staging, complete half-done publications.

    Runs before each ingest command, connector and worker. Completing means
    the catalog row, the copies and the custody events, made from the stored
    package. Only the pending rows are read, not all of storage, and each step
    is idempotent, so a second run (or a crash during this one) is harmless.
    A package that never reached storage loses only its pending row.
    """
    archive.storage().sweep()  # staging a killed writer left (a live writer's survives)
    now = now or clock.now()
    with archive.catalog.session() as s:
        rows = [r for r in s.scalars(select(PendingPublication)) if _abandoned(archive, r, now)]
        s.expunge_all()
    done = []
    for row in rows:
        if complete_publication(archive, row.package_id, row.location) is not None:
            done.append(row.package_id)
    return done


def complete_publication(archive: Archive, package_id: str, location: str) -> Package | None:
    """Finish what a killed publisher left of one package: its catalog row, copies and custody events.

    None when the package never reached ``location`` (then only its pending row
    goes). Used by :func:`recover` and by a job's retry (core/jobs/queue.py), which
    knows the package id its killed attempt chose.
    """
    storage = archive.storage(location)
    found = None
    if storage.has_package(package_id):
        found = archive.catalog.get(package_id)
        if found is None:
            found = reindex.read_package(storage, package_id)
            archive.catalog.add_package(found)
        storage_replicate.after_ingest(archive, package_id, location, found.size_bytes, at=found.created_at)
        complete_custody(archive, package_id, storage)
        found = archive.catalog.get(package_id)
    _published(archive, package_id)
    return found




def _bag_info(
    archive: Archive, package_id: str, desc: metadata.Description, time_source: str, now: datetime
) -> list[tuple[str, str]]:
    fields = [
        ("BagIt-Profile-Identifier", package.PROFILE_ID),
        ("Bagging-Date", package.bagging_date(now)),
        ("Source-Organization", archive.settings.organization or archive.settings.name),
        ("External-Identifier", package_id),
        ("External-Description", desc.title),
        ("Bag-Software-Agent", f"longwatch {__version__}"),
        ("Longwatch-Package-Type", "AIP"),
    ]
    optional = [
        ("Longwatch-Camera", desc.camera),
        ("Longwatch-Zone", desc.zone),
        ("Longwatch-Start", desc.start.isoformat().replace("+00:00", "Z") if desc.start else ""),
        ("Longwatch-End", desc.end.isoformat().replace("+00:00", "Z") if desc.end else ""),
        ("Longwatch-Time-Source", time_source),
        ("Longwatch-Location",
         f"{desc.latitude},{desc.longitude}" if desc.latitude is not None else ""),
        ("Longwatch-Location-Name", desc.location_name),
    ]
    return fields + [(k, v) for k, v in optional if v]
