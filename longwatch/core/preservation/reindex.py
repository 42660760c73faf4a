"""Rebuild the catalog from storage alone: the package is the truth, the catalog its cache.

Every published package is read back through the storage adapter (bag-info.txt,
the manifests, metadata/dc.xml, premis.xml and technical.json); no media is
read. Reference data (zones, purposes, cameras, cases) comes from the snapshot
the reference commands keep on storage (``catalog/reference.json``). What only
the custody ledger records (footage gaps, the copies of each package, and through
the ``replay_ledger`` hook the retention assignments and legal holds) is replayed
by :func:`replay_ledger` last. The packages are read from the primary location,
and those a tier move took elsewhere from where the ledger says they are. Reindex opens a catalog whose file is missing
(``Archive.open_catalog(missing_ok=True)``), which every other command refuses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete

from longwatch import clock
from longwatch.core import custody
from longwatch.core.aip import metadata, package
from longwatch.core.catalog import fulltext, journal, reference
from longwatch.core.catalog.models import (
    Camera,
    CameraPosition,
    Case,
    CasePackage,
    CaseRange,
    Clip,
    DetectedEvent,
    FootageGap,
    Package,
    Purpose,
    Zone,
)
from longwatch.core.custody import decisions
from longwatch.core.preservation import gaps, provenance
from longwatch.core.storage import rebuild as storage_rebuild
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import package_prefix

P = "{http://www.loc.gov/premis/v3}"


@dataclass
class ReindexReport:
    packages: int = 0
    clips: int = 0
    gaps: int = 0
    copies: int = 0
    decisions: int = 0
    ledger_restored: int = 0
    reference_restored: bool = False
    problems: list[dict[str, Any]] = field(default_factory=list)


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def read_package(storage: Any, package_id: str) -> Package:
    """One catalog row (with its clips) from what the stored package says."""

    def read(relpath: str) -> bytes:
        with storage.open_package_file(package_id, relpath) as fh:
            return bytes(fh.read())

    try:
        info = dict(package.parse_bag_info(read("bag-info.txt")))
        sha256 = package.parse_manifest(read("manifest-sha256.txt"))
        sha512 = package.parse_manifest(read("manifest-sha512.txt"))
        tagmanifest = read(package.SIGNED_FILE)
        dc = metadata.dc_fields(metadata.parse_untrusted(read(package.DC_PATH), package.DC_PATH))
        premis = metadata.parse_untrusted(read(package.PREMIS_PATH), package.PREMIS_PATH)
        technical = json.loads(read(package.TECHNICAL_PATH).decode("utf-8"))
    except (OSError, ValueError, LongwatchError) as exc:
        raise LongwatchError("Q016", package_id=package_id, detail=str(exc)) from exc

    names: dict[str, str] = {}
    for obj in premis.getroot().iter(P + "object"):
        ident = obj.findtext(f"{P}objectIdentifier/{P}objectIdentifierValue")
        if ident:
            names[ident] = obj.findtext(P + "originalName") or ""
    created = None
    signer = ""
    for ev in premis.getroot().iter(P + "event"):
        kind = ev.findtext(P + "eventType") or ""
        if kind == "ingestion" and created is None:
            created = _time(ev.findtext(P + "eventDateTime"))
        detail = ev.findtext(f"{P}eventDetailInformation/{P}eventDetail") or ""
        if kind == "digital signature generation" and "(signer " in detail:
            signer = detail.rsplit("(signer ", 1)[1].rstrip(")")
    start, end = _time(info.get("Longwatch-Start")), _time(info.get("Longwatch-End"))
    lat = lon = None
    if info.get("Longwatch-Location"):
        try:
            lat, lon = (float(v) for v in info["Longwatch-Location"].split(","))
        except ValueError:
            lat = lon = None
    zone = info.get("Longwatch-Zone", "")
    files = technical.get("files", {}) if isinstance(technical, dict) else {}
    sizes = {}
    for relpath in sha256:
        try:
            sizes[relpath] = storage.stat(f"{_prefix(package_id)}/{relpath}").size
        except (FileNotFoundError, LongwatchError):
            sizes[relpath] = 0
    clips = []
    for relpath in sorted(p for p in sha256 if p.startswith("data/media/")):
        tech = files.get(relpath, {}) if isinstance(files, dict) else {}
        ffprobe = tech.get("ffprobe") or {}
        video: dict[str, Any] = next((s for s in ffprobe.get("streams", []) if s.get("codec_type") == "video"), {})
        duration = ffprobe.get("format", {}).get("duration")
        # a file of a multi-file package (a camera-hour of segments) carries its own range
        clip_start = _time(tech.get("start_utc")) if tech.get("start_utc") else start
        clip_end = _time(tech.get("end_utc")) if tech.get("start_utc") else end
        clips.append(Clip(
            relpath=relpath, original_name=names.get(relpath, ""), size_bytes=sizes[relpath],
            sha256=sha256[relpath], sha512=sha512.get(relpath, ""),
            mime_type=str((tech.get("exiftool") or {}).get("File:MIMEType", "application/octet-stream")),
            format_name=str(ffprobe.get("format", {}).get("format_name", "")),
            codec=str(video.get("codec_name", "")), width=video.get("width"), height=video.get("height"),
            duration=float(duration) if duration is not None else None, start_utc=clip_start, end_utc=clip_end,
            probe_ok=bool(tech.get("probe_ok", True)), camera=info.get("Longwatch-Camera", ""), zone=zone,
            latitude=lat, longitude=lon,
            span_s=round((clip_end - clip_start).total_seconds()) if clip_start and clip_end else None))
    return Package(
        id=package_id, created_at=created or clock.now(), camera=info.get("Longwatch-Camera", ""),
        zone=zone, title=(dc.get("title") or [info.get("External-Description", "")])[0],
        location_name=info.get("Longwatch-Location-Name", ""), latitude=lat, longitude=lon,
        start_utc=start, end_utc=end, time_source=info.get("Longwatch-Time-Source", ""),
        **provenance.columns(info),
        size_bytes=sum(sizes[p] for p in sha256), file_count=len(sha256), status="stored",
        storage_location=storage.location, tagmanifest_sha256=hashlib.sha256(tagmanifest).hexdigest(),
        signer_fingerprint=signer, media_ok=all(c.probe_ok for c in clips),
        description=(dc.get("description") or [""])[0], notes="", clips=clips)


def _prefix(package_id: str) -> str:
    return package_prefix(package_id)


def replay_ledger(archive: Any, report: ReindexReport, copies: storage_rebuild.LedgerCopies | None = None) -> None:
    """Replay the custody ledger onto the rebuilt catalog, after packages and reference data.

    The footage gaps and the copies (:mod:`longwatch.core.storage.rebuild`,
    which reports each copy its store lacks as R006) are restored here. What
    higher features keep (the retention assignments, the active schedule and
    the legal holds, answered by :mod:`longwatch.core.records.rebuild`) comes
    back through the ``replay_ledger`` hook: each plugin applies the entries in
    ledger order, so later facts (a release after a placement) win.
    Every other decision the catalog keeps (cases, events and reviews,
    dispositions, requests, share links, accounts, disposed packages'
    tombstones) comes back from its journal entries
    (:mod:`longwatch.core.custody.decisions`); a row whose package is gone
    without a tombstone is reported (L026), never half-written.
    """
    report.gaps = gaps.restore_from_ledger(archive)
    ledger = custody.Ledger.for_archive(archive)
    if copies is None:
        copies = storage_rebuild.read_ledger(ledger.entries(mentioning=b'"storage_event"'))
    missing = storage_rebuild.restore_copies(archive, copies)
    report.problems += [exc.to_dict() for exc in missing]
    report.copies = storage_rebuild.count(archive)
    replayed = decisions.replay(archive, ledger.entries(mentioning=decisions.MARK))
    report.decisions = replayed.rows
    report.problems += [exc.to_dict() for exc in replayed.skipped]
    archive.pm.hook.replay_ledger(archive=archive, ledger=ledger)


def reindex(archive: Any, progress: Callable[[int], None] | None = None) -> ReindexReport:
    """Empty the catalog and fill it again from storage; the result is what a fresh catalog would hold.

    A database that lacks ledger entries its mirror on storage holds (a lost
    catalog, or one restored from an older backup) gets them back first
    (:meth:`~longwatch.core.custody.Ledger.restore`, which refuses a broken
    chain: then the problem is reported and nothing is appended). Decisions
    still waiting in the catalog's journal reach the ledger next; what reindex
    then writes back is already in the packages or the ledger, so it is not
    journaled again.
    """
    catalog = archive.open_catalog(missing_ok=True)
    catalog.upgrade()
    restored, problems = _restore_ledger(archive)
    if not problems:
        decisions.drain(archive)
    with journal.paused(catalog.session_factory):
        report = _rebuild(archive, catalog, progress)
    report.ledger_restored = restored
    report.problems[:0] = problems
    return report


def _restore_ledger(archive: Any) -> tuple[int, list[dict[str, Any]]]:
    ledger = custody.Ledger.for_archive(archive)
    try:
        source = ledger.behind()
        return (ledger.restore(source) if source is not None else 0), []
    except LongwatchError as exc:
        return 0, [exc.to_dict()]


def _rebuild(archive: Any, catalog: Any, progress: Callable[[int], None] | None) -> ReindexReport:
    report = ReindexReport()
    with catalog.session() as s:
        for model in (CaseRange, CasePackage, Case, DetectedEvent, Clip, Package, CameraPosition, Camera, Purpose,
                      FootageGap):
            s.execute(delete(model))
        s.execute(delete(Zone).where(Zone.parent.is_not(None)))
        s.execute(delete(Zone))
    storage = archive.storage()
    rows: list[Package] = []
    for package_id in sorted(storage.package_ids()):
        try:
            rows.append(read_package(storage, package_id))
        except LongwatchError as exc:
            report.problems.append(exc.to_dict())
        if progress:
            progress(1)
    # packages a tier move took off the primary location are read where the ledger says they are
    ledger = custody.Ledger.for_archive(archive)
    copies = storage_rebuild.read_ledger(ledger.entries(mentioning=b'"storage_event"'))
    found = {row.id for row in rows}
    for package_id, location in sorted(copies.working.items()):
        if package_id in found or location == storage.location or location not in archive.settings.locations:
            continue
        elsewhere = archive.storage(location)
        if not elsewhere.has_package(package_id):
            continue  # disposed of, or lost: restore_copies and the ledger's deletion entry say which
        try:
            rows.append(read_package(elsewhere, package_id))
        except LongwatchError as exc:
            report.problems.append(exc.to_dict())
    # Ingest order first, so that catalog ids come out as they were when nothing was deleted.
    rows.sort(key=lambda p: (p.created_at, p.id))
    for start in range(0, len(rows), 500):
        with catalog.session() as s:
            for row in rows[start:start + 500]:
                if row.zone:
                    reference.ensure_zone(s, row.zone)
                s.add(row)
                report.packages += 1
                report.clips += len(row.clips)
    snapshot = reference.load_snapshot(archive)
    if snapshot is not None:
        reference.import_reference(catalog, snapshot, {p.id for p in rows})
        report.reference_restored = True
    with catalog.engine.begin() as conn:
        fulltext.rebuild_fulltext(conn)
    replay_ledger(archive, report, copies)
    return report
