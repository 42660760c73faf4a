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
Its memory is bounded by a batch (:data:`BATCH`), not by the archive: each
package is parsed once and staged on disk (:class:`_Staged`), then written in
ingest order a batch at a time.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
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
#: Packages written per catalog transaction, and the most reindex holds as rows at once (read at each run).
BATCH = 500
#: Threads reading packages; None: the store's own ``concurrency`` option where it has one (S3: 10 requests
#: at once), else 1 (a local disk, where parsing, not waiting, is the work). See docs/performance.md.
READERS: int | None = None


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
    return package_row(read_record(storage, package_id))


def read_record(storage: Any, package_id: str) -> dict[str, Any]:
    """What :func:`read_package` makes a row of, as plain values (times as datetimes).

    Reindex stages these on disk (:class:`_Staged`) rather than holding ORM
    rows for the whole archive: a plain record is what survives a round trip
    through JSON unchanged.
    """

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
        clips.append(dict(
            relpath=relpath, original_name=names.get(relpath, ""), size_bytes=sizes[relpath],
            sha256=sha256[relpath], sha512=sha512.get(relpath, ""),
            mime_type=str((tech.get("exiftool") or {}).get("File:MIMEType", "application/octet-stream")),
            format_name=str(ffprobe.get("format", {}).get("format_name", "")),
            codec=str(video.get("codec_name", "")), width=video.get("width"), height=video.get("height"),
            duration=float(duration) if duration is not None else None, start_utc=clip_start, end_utc=clip_end,
            probe_ok=bool(tech.get("probe_ok", True)), camera=info.get("Longwatch-Camera", ""), zone=zone,
            latitude=lat, longitude=lon,
            span_s=round((clip_end - clip_start).total_seconds()) if clip_start and clip_end else None))
    return dict(
        id=package_id, created_at=created or clock.now(), camera=info.get("Longwatch-Camera", ""),
        zone=zone, title=(dc.get("title") or [info.get("External-Description", "")])[0],
        location_name=info.get("Longwatch-Location-Name", ""), latitude=lat, longitude=lon,
        start_utc=start, end_utc=end, time_source=info.get("Longwatch-Time-Source", ""),
        **provenance.columns(info),
        size_bytes=sum(sizes[p] for p in sha256), file_count=len(sha256), status="stored",
        storage_location=storage.location, tagmanifest_sha256=hashlib.sha256(tagmanifest).hexdigest(),
        signer_fingerprint=signer, media_ok=all(c["probe_ok"] for c in clips),
        description=(dc.get("description") or [""])[0], notes="", clips=clips)


def package_row(record: dict[str, Any]) -> Package:
    """The catalog row (with its clips) of a record from :func:`read_record`."""
    return Package(**{**record, "clips": [Clip(**clip) for clip in record["clips"]]})


_TIMES = ("created_at", "start_utc", "end_utc")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _encode(record: dict[str, Any]) -> str:
    def times(row: dict[str, Any]) -> dict[str, Any]:
        return {k: (v.isoformat() if k in _TIMES and v is not None else v) for k, v in row.items()}

    return json.dumps({**times(record), "clips": [times(c) for c in record["clips"]]}, separators=(",", ":"))


def _decode(line: str) -> dict[str, Any]:
    def times(row: dict[str, Any]) -> dict[str, Any]:
        return {k: (datetime.fromisoformat(v) if k in _TIMES and v is not None else v) for k, v in row.items()}

    record = json.loads(line)
    return {**times(record), "clips": [times(c) for c in record["clips"]]}


class _Staged:
    """Parsed packages in a scratch SQLite file in the system temp folder, given back in ingest order.

    Catalog ids come out in ingest order only if the rows are written sorted by
    (created_at, id), which is known only after every package is read; holding
    the rows meanwhile cost about 8.6 KB a package (8 GiB at a million), at the
    moment an operator can least afford an out-of-memory kill. SQLite sorts on
    disk in bounded memory; the file (about 1.3 KB a package, 1.3 GB at a
    million; ``TMPDIR`` says where) is removed when the rebuild ends, also on
    error. Each package is still read once: on S3 every read is a request.
    """

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="longwatch-reindex-")
        self._db = sqlite3.connect(Path(self._dir.name) / "staged.sqlite", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")  # scratch: a crash leaves nothing to recover
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE staged (created INTEGER NOT NULL, id TEXT NOT NULL, record TEXT NOT NULL)")
        self._db.execute("BEGIN")
        self.ids: set[str] = set()

    def add(self, record: dict[str, Any]) -> None:
        created = (record["created_at"] - _EPOCH) // timedelta(microseconds=1)  # exact, as datetimes sort
        self._db.execute("INSERT INTO staged VALUES (?, ?, ?)", (created, record["id"], _encode(record)))
        self.ids.add(record["id"])

    def in_order(self) -> Iterator[dict[str, Any]]:
        """The records by (created_at, id): the order the old in-memory sort gave."""
        self._db.execute("COMMIT")
        # an index of the keys alone: the sort then copies ~60 bytes a package, not every record once more
        self._db.execute("CREATE INDEX staged_order ON staged (created, id)")
        for (line,) in self._db.execute("SELECT record FROM staged ORDER BY created, id"):
            yield _decode(line)

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()


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


def _read_packages(archive: Any, storage: Any, staged: _Staged, report: ReindexReport,
                   progress: Callable[[int], None] | None) -> storage_rebuild.LedgerCopies:
    """Stage every package: the primary location's, then those a tier move took elsewhere; the ledger's copies."""
    readers = READERS or max(1, int(getattr(storage, "concurrency", 1)))
    for found in _read_in_order(storage, sorted(storage.package_ids()), readers):
        if isinstance(found, LongwatchError):
            report.problems.append(found.to_dict())
        else:
            staged.add(found)
        if progress:
            progress(1)
    # packages a tier move took off the primary location are read where the ledger says they are
    ledger = custody.Ledger.for_archive(archive)
    copies = storage_rebuild.read_ledger(ledger.entries(mentioning=b'"storage_event"'))
    for package_id, location in sorted(copies.working.items()):
        if package_id in staged.ids or location == storage.location or location not in archive.settings.locations:
            continue
        elsewhere = archive.storage(location)
        if not elsewhere.has_package(package_id):
            continue  # disposed of, or lost: restore_copies and the ledger's deletion entry say which
        found = _attempt(elsewhere, package_id)
        if isinstance(found, LongwatchError):
            report.problems.append(found.to_dict())
        else:
            staged.add(found)
    return copies


def _attempt(storage: Any, package_id: str) -> dict[str, Any] | LongwatchError:
    try:
        return read_record(storage, package_id)
    except LongwatchError as exc:
        return exc


def _read_in_order(storage: Any, package_ids: list[str], readers: int) -> Iterator[dict[str, Any] | LongwatchError]:
    """Each package read once, by ``readers`` threads, given back in the order asked.

    The reads wait on the store (a request each on S3); at most ``readers`` x 4
    records are waiting to be staged, so memory stays bounded.
    """
    if readers <= 1:
        for package_id in package_ids:
            yield _attempt(storage, package_id)
        return
    with ThreadPoolExecutor(readers, thread_name_prefix="longwatch-reindex") as pool:
        window: deque[Future[dict[str, Any] | LongwatchError]] = deque()
        for package_id in package_ids:
            window.append(pool.submit(_attempt, storage, package_id))
            if len(window) >= readers * 4:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _rebuild(archive: Any, catalog: Any, progress: Callable[[int], None] | None) -> ReindexReport:
    report = ReindexReport()
    with catalog.session() as s:
        for model in (CaseRange, CasePackage, Case, DetectedEvent, Clip, Package, CameraPosition, Camera, Purpose,
                      FootageGap):
            s.execute(delete(model))
        s.execute(delete(Zone).where(Zone.parent.is_not(None)))
        s.execute(delete(Zone))
    storage = archive.storage()
    staged = _Staged()
    try:
        copies = _read_packages(archive, storage, staged, report, progress)
        batch = BATCH
        rows = staged.in_order()
        while chunk := list(itertools.islice(rows, batch)):
            with catalog.session() as s:
                for record in chunk:
                    if record["zone"]:
                        reference.ensure_zone(s, record["zone"])
                    s.add(package_row(record))
                    report.packages += 1
                    report.clips += len(record["clips"])
            del chunk
        known = staged.ids
    finally:
        staged.close()
    snapshot = reference.load_snapshot(archive)
    if snapshot is not None:
        reference.import_reference(catalog, snapshot, known)
        report.reference_restored = True
    with catalog.engine.begin() as conn:
        fulltext.rebuild_fulltext(conn)
    replay_ledger(archive, report, copies)
    return report
