"""Ingest: receive -> digest while copying -> probe -> metadata -> bag -> sign -> hand to publish.

The file is read exactly once: SHA-256, SHA-512 and the copy into the
storage location's staging area happen in the same pass (``fixity``);
ffprobe and exiftool read the header meanwhile. This module turns what was
received into a :class:`~longwatch.core.preservation.publish.NewPackage` and
hands it to :func:`~longwatch.core.preservation.publish.publish`, which makes
the package visible in one atomic step after it is signed; the catalog row
follows. A failure at any point before publishing leaves staging only,
which the next run sweeps away: no partial package, no catalog row. A
failure after publishing (a killed process) is completed by
:func:`longwatch.core.preservation.publish.recover`.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from longwatch import __version__, clock
from longwatch.core.aip import metadata, package
from longwatch.core.aip.fixity import ALGORITHMS, digest_stream, open_for_reading
from longwatch.core.archive import Archive
from longwatch.core.catalog import Clip, reference
from longwatch.core.media import probe as media
from longwatch.core.preservation import early as early_pass
from longwatch.core.preservation import provenance
from longwatch.core.preservation.publish import NewPackage, publish
from longwatch.core.preservation.sources import check_source, open_source
from longwatch.core.storage import caps
from longwatch.errors import LongwatchError
from longwatch.i18n import N_, gettext
from longwatch.storage_adapters.base import PackageWriter

SIDECAR_SUFFIXES = (".json",)
MAX_SIDECAR_BYTES = 16 << 20
_CAMERA_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: Free space kept beyond the file itself, for tag files and the file system's own needs.
HEADROOM = early_pass.HEADROOM


@dataclass
class IngestRequest:
    """What the operator (or a connector) says about a file; the sidecar fills the gaps."""

    path: Path
    camera: str = ""
    zone: str = ""
    latitude: float | None = None
    longitude: float | None = None
    location_name: str = ""
    start: datetime | None = None
    title: str = ""
    description: str = ""
    allow_duplicate: bool = False
    #: the exact end when the source knows it (a recorder's segment list); else start + duration
    end: datetime | None = None
    #: archive what a symbolic link points to; never by default (``ln -s /etc/passwd x.mp4``)
    follow_symlinks: bool = False
    #: the package id to use, chosen by a caller that must find the package again after a crash (uploads)
    package_id: str = ""
    #: the account whose upload this is: the package is then an upload by it, and ``camera`` only claimed
    #: (``core/preservation/provenance.py``) until a records manager confirms it
    uploaded_by: str = ""


@dataclass
class IngestResult:
    package_id: str
    path: Path
    size: int
    sha256: str
    start: datetime | None
    end: datetime | None
    media_ok: bool
    warnings: list[str] = field(default_factory=list)


# -- parsing what people type -------------------------------------------------
def parse_location(value: str) -> tuple[float, float]:
    try:
        lat_text, lon_text = value.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError as exc:
        raise LongwatchError("I004", value=value) from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or lat != lat or lon != lon:
        raise LongwatchError("I004", value=value)
    return lat, lon


def check_camera(value: str) -> str:
    if value and not _CAMERA_ID.match(value):
        raise LongwatchError("I009", value=value)
    return value


# -- sidecars ------------------------------------------------------------------
def find_sidecar(path: Path) -> Path | None:
    """``clip.mp4.json`` or ``clip.json`` next to the file (a link or a FIFO is no sidecar)."""
    for candidate in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        try:
            if candidate != path and not candidate.is_symlink() and candidate.is_file():
                return candidate
        except OSError:  # e.g. the name plus ".json" is longer than the file system allows
            continue
    return None


def read_sidecar(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_SIDECAR_BYTES:
            raise LongwatchError("I005", path=path, detail=f"larger than {MAX_SIDECAR_BYTES} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: bad JSON, bad UTF-8, an integer of 5000 digits
        raise LongwatchError("I005", path=path, detail=str(exc)) from exc
    except RecursionError as exc:  # "[[[[..." nested deeper than the parser's stack
        raise LongwatchError("I005", path=path, detail="nested too deeply") from exc
    if not isinstance(data, dict):
        raise LongwatchError("I005", path=path, detail="expected a JSON object")
    return data


def apply_sidecar(request: IngestRequest, data: dict[str, Any], sidecar: Path) -> None:
    """Fill what the operator did not give from the sidecar; explicit options win."""

    def text(key: str) -> str:
        value = data.get(key, "")
        if not isinstance(value, str | int | float):
            raise LongwatchError("I005", path=sidecar, detail=f"{key!r} must be text")
        # The sidecar itself is kept bit for bit; its copy in the catalog and XML must be storable text.
        return metadata.xml_text(str(value))

    request.camera = request.camera or check_camera(text("camera"))
    request.zone = request.zone or text("zone")
    request.title = request.title or text("title")
    request.description = request.description or text("description")
    request.location_name = request.location_name or text("location_name") or text("address")
    if request.start is None and data.get("start"):
        request.start = clock.parse_time(text("start"))
    if request.latitude is None and data.get("location"):
        loc = data["location"]
        if isinstance(loc, dict):
            loc = f"{loc.get('lat', loc.get('latitude'))},{loc.get('lon', loc.get('longitude'))}"
        request.latitude, request.longitude = parse_location(str(loc))


def expand_paths(paths: list[Path]) -> Iterator[Path]:
    """Files as given; a directory yields its files (recursively), sidecars excepted.

    Links, FIFOs and devices inside a directory are yielded too, so that each
    is refused with its code and reported, rather than skipped unseen.
    """
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            files = sorted(p for p in path.rglob("*") if p.is_symlink() or not p.is_dir())
            sidecars = {find_sidecar(p) for p in files if p.suffix not in SIDECAR_SUFFIXES}
            yield from (p for p in files if p not in sidecars)
        else:
            yield path


# -- the pipeline ----------------------------------------------------------------
def ingest(
    archive: Archive,
    request: IngestRequest,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
    early: early_pass.EarlyPass | None = None,
) -> IngestResult:
    """Archive one file as a signed AIP on the primary location, then catalog it.

    ``early``: the command's copy-and-digest pass of this file, started before
    the archive was opened (:mod:`~longwatch.core.preservation.early`); it is
    taken over when it copies exactly this file, and discarded otherwise.
    """
    return ingest_files(archive, [request], progress=progress, now=now, early=early)[0]


@dataclass
class _Member:
    """One file on its way into a package: what was asked, and what the streaming pass found."""

    request: IngestRequest
    size: int
    mtime: float
    sidecar: Path | None
    checked: os.stat_result
    media_path: str = ""
    digests: Any = None
    probe: media.ProbeResult | None = None
    start: datetime | None = None
    end: datetime | None = None


def ingest_files(
    archive: Archive,
    requests: list[IngestRequest],
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
    gaps: list[dict[str, str]] | None = None,
    early: early_pass.EarlyPass | None = None,
) -> list[IngestResult]:
    """Archive several files of one camera as ONE signed AIP (a camera-hour of segments), then catalog them.

    Each file keeps its own payload path, digests, PREMIS object, validation
    event, technical metadata and catalog clip with its own UTC range, so a
    search by time finds the right minutes inside the package. ``gaps`` (times
    the source had no footage) are kept in technical.json. One file is the
    ordinary ``ingest``: the same path with n=1. Everything is checked before
    a byte is copied: an empty or missing member refuses the whole package and
    nothing is stored. ``early`` (one file only): see :func:`ingest`; it is
    discarded whatever happens unless this pipeline took it over.
    """
    try:
        return _ingest_files(archive, requests, progress, now, gaps, early)
    finally:
        if early is not None:
            early.discard()  # nothing once taken over: the package is then published, or aborted by its writer


def _ingest_files(
    archive: Archive,
    requests: list[IngestRequest],
    progress: Callable[[int], None] | None,
    now: datetime | None,
    gaps: list[dict[str, str]] | None,
    early: early_pass.EarlyPass | None,
) -> list[IngestResult]:
    if not requests:
        raise LongwatchError("I050", detail="no files given")
    members = []
    for request in requests:
        src = request.path
        st = check_source(src, request.follow_symlinks)
        if st.st_size == 0:
            raise LongwatchError("I001", path=src)
        check_camera(request.camera)
        sidecar = find_sidecar(src)
        if sidecar is not None:
            apply_sidecar(request, read_sidecar(sidecar), sidecar)
        if request.zone:
            request.zone = reference.normalize_zone(request.zone)
        members.append(_Member(request, st.st_size, st.st_mtime, sidecar, st))
    cameras = {m.request.camera for m in members}
    if len(cameras) > 1:
        raise LongwatchError("I050", detail=f"one package holds one camera, got {', '.join(sorted(cameras))}")
    first = members[0].request
    total = sum(m.size for m in members)

    storage = archive.storage()
    taken: set[str] = set()
    for member in members:
        member.media_path = f"data/media/{_unique_name(package.safe_name(member.request.path.name), taken)}"
    if early is not None and not (len(members) == 1 and early.location == storage.location and early.fits(
            first.path, members[0].checked, first.follow_symlinks, members[0].media_path, first.package_id)):
        early.discard()  # not this file after all (replaced meanwhile): copied below, as without it
        early = None

    if early is None:  # else the early pass made these checks before its first byte (they count its bytes now)
        caps.ensure_room(storage, total)  # a location's reserve refuses the write, never deletes
        free = storage.free_bytes()
        if free is not None and free < total + HEADROOM:
            raise LongwatchError("S001", location=storage.location,
                                 detail=f"{free} bytes free, {total} needed")
    cap_alert = caps.check_room(archive, storage.location, total)  # S001 past the cap
    assert archive.signer is not None  # load the key now: fail on a wrong key before copying gigabytes
    now = now or clock.now()
    package_id = early.package_id if early is not None else (first.package_id or str(uuid.uuid4()))
    warnings: list[str] = [cap_alert] if cap_alert else []

    def advance(n: int) -> None:
        if progress is not None:
            progress(n)  # the bytes read since the last call: the command's bar adds them up, as verify's does

    staging: AbstractContextManager[PackageWriter] = early if early is not None else storage.begin_package(package_id)
    with staging as writer, ThreadPoolExecutor(1, "longwatch-probe") as background:
        # ffprobe and exiftool read only the container's header and index, and they are other
        # processes: they run while the streaming pass is busy, instead of after it.
        probing = background.submit(_probe_all, [m.request.path for m in members])
        payload: list[package.PayloadEntry] = []
        sidecar_records: list[metadata.FileRecord] = []
        for member in members:
            src = member.request.path
            try:
                if early is not None:  # copied and digested since the command started: wait for its end
                    early.attach(advance)
                    member.digests = early.result()
                else:
                    with open_source(src, member.checked, member.request.follow_symlinks) as fh, \
                            writer.open(member.media_path) as out:
                        member.digests = digest_stream(fh, sinks=[out], progress=advance)
            except OSError as exc:
                raise LongwatchError("I007", path=src, detail=str(exc)) from exc
            if member.digests.size != member.size:
                raise LongwatchError("I007", path=src, detail="the file changed size while it was read")
            if not member.request.allow_duplicate:
                existing = archive.catalog.find_clip(member.digests["sha256"])
                if existing is not None:
                    raise LongwatchError("I006", path=src, package_id=existing.package_id)
            payload.append(package.PayloadEntry(member.media_path, member.digests.size, member.digests.hexdigests))
            if member.sidecar is not None:
                side_name = _unique_name(package.safe_name(member.sidecar.name, "sidecar.json"), taken)
                side_path = f"data/sidecar/{side_name}"
                with open_for_reading(member.sidecar) as fh, writer.open(side_path) as out:
                    side = digest_stream(fh, sinks=[out])
                payload.append(package.PayloadEntry(side_path, side.size, side.hexdigests))
                sidecar_records.append(metadata.FileRecord(
                    relpath=side_path, size=side.size, digests=side.hexdigests,
                    original_name=package.printable_name(member.sidecar.name), format_name="JSON",
                    mime_type="application/json", role="sidecar"))

        sources = set()
        for member, probe in zip(members, probing.result(), strict=True):
            member.probe = probe
            src = member.request.path
            if not probe.ok:
                warnings.append(gettext(N_(
                    "ffprobe could not read {name} ({error}); it is preserved bit for bit "
                    "with a failed validation event")).format(name=package.printable_name(src.name),
                                                              error=probe.error))
            member.start, source = _start_time(member.request, probe, member.mtime)
            sources.add(source)
            if member.request.end is not None:
                member.end = member.request.end
            elif member.start and probe.duration:
                member.end = member.start + timedelta(seconds=probe.duration)
        time_source = sources.pop() if len(sources) == 1 else "mixed"

        starts = [m.start for m in members if m.start is not None]
        start = min(starts) if starts else None
        ends = [t for t in (m.end or m.start for m in members) if t is not None]
        end = max(ends) if ends and (len(members) > 1 or members[0].end is not None) else None
        if not first.uploaded_by:  # a claimed camera's registered place is a claim too: not filled in
            _fill_from_registry(archive, first, start)
        fields: dict[str, Any] = {
            "title": first.title or _default_title(first, first.path, start, archive, len(members)),
            "camera": first.camera, "zone": first.zone, "description": first.description,
            "location_name": first.location_name, "latitude": first.latitude,
            "longitude": first.longitude, "start": start, "end": end,
        }
        technical: dict[str, Any] = {
            "schema": "longwatch-technical/1",
            "files": {m.media_path: _technical(m, len(members) > 1) for m in members},
            "time_source": time_source,
            "tools": _tool_versions(),
        }
        if gaps:
            technical["gaps"] = gaps
        archive.pm.hook.prepare_metadata(package_id=package_id, metadata=fields, technical=technical)

        media_records = [_media_record(m) for m in members]
        files = [*media_records, *sidecar_records]
        agents, events = _provenance(archive, package_id, files, [(m.media_path, m.probe) for m in members], now,
                                     first.uploaded_by)
        claimed = str(fields["camera"] or "")
        desc = metadata.Description(
            package_id=package_id, title=str(fields["title"]), camera="" if first.uploaded_by else claimed,
            zone=str(fields["zone"] or ""), location_name=str(fields["location_name"] or ""),
            latitude=fields["latitude"], longitude=fields["longitude"], start=fields["start"],
            end=fields["end"], organization=archive.settings.organization,
            formats=sorted({f.mime_type for f in files if f.mime_type}),
            description=str(fields["description"] or ""),
        )
        clip_rows = [_clip_row(m, record) for m, record in zip(members, media_records, strict=True)]
        media_ok = all(m.probe is not None and m.probe.ok for m in members)
        new = NewPackage(package_id=package_id, payload=payload, files=files, agents=agents, events=events,
                         desc=desc, technical=technical, time_source=time_source, clips=clip_rows,
                         media_ok=media_ok,
                         bag_info=provenance.bag_info(first.uploaded_by, claimed) if first.uploaded_by else [])
        publish(archive, writer, new, now, warnings)

    summary = {"path": str(first.path), "size": total, "sha256": members[0].digests["sha256"],
               "media_ok": media_ok, "files": len(members)}
    archive.pm.hook.package_stored(package_id=package_id, location=storage.location, summary=summary)
    return [IngestResult(package_id=package_id, path=m.request.path, size=m.digests.size,
                         sha256=m.digests["sha256"], start=m.start, end=m.end,
                         media_ok=bool(m.probe and m.probe.ok), warnings=warnings) for m in members]


def _unique_name(name: str, taken: set[str]) -> str:
    """Two segments with one name (two sessions' seg000000.ts) must not overwrite each other."""
    candidate, n = name, 1
    stem, dot, ext = name.rpartition(".")
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem}~{n}.{ext}" if dot and stem else f"{name}~{n}"
    taken.add(candidate.lower())
    return candidate


def _technical(member: _Member, with_range: bool) -> dict[str, Any]:
    probe = member.probe
    assert probe is not None
    entry: dict[str, Any] = {"ffprobe": probe.ffprobe, "exiftool": probe.exiftool,
                             "probe_ok": probe.ok, "probe_error": probe.error}
    if with_range:  # reindex gives each file of a multi-file package its own range back
        entry["start_utc"] = member.start.isoformat().replace("+00:00", "Z") if member.start else ""
        entry["end_utc"] = member.end.isoformat().replace("+00:00", "Z") if member.end else ""
    return entry


def _media_record(member: _Member) -> metadata.FileRecord:
    probe = member.probe
    assert probe is not None
    video = probe.video_stream
    return metadata.FileRecord(
        relpath=member.media_path, size=member.digests.size, digests=member.digests.hexdigests,
        original_name=package.printable_name(member.request.path.name),
        format_name=probe.format_long_name or probe.mime_type,
        format_version=str(video.get("codec_name", "")),
        mime_type=probe.mime_type,
        creating_application=str(probe.exiftool.get("QuickTime:Encoder")
                                 or probe.ffprobe.get("format", {}).get("tags", {}).get("encoder", "")),
    )


def _clip_row(member: _Member, record: metadata.FileRecord) -> Clip:
    probe = member.probe
    assert probe is not None
    video = probe.video_stream
    return Clip(relpath=member.media_path, original_name=record.original_name, size_bytes=member.digests.size,
                sha256=member.digests["sha256"], sha512=member.digests["sha512"], mime_type=probe.mime_type,
                format_name=probe.format_name, codec=str(video.get("codec_name", "")),
                width=video.get("width"), height=video.get("height"), duration=probe.duration,
                start_utc=member.start, end_utc=member.end, probe_ok=probe.ok)


def _fill_from_registry(archive: Archive, request: IngestRequest, start: datetime | None) -> None:
    """A registered camera gives the zone and place it had at recording time; explicit values win."""
    if not request.camera:
        return
    place = reference.camera_at(archive.catalog, request.camera, start)
    if place is None:
        return
    request.zone = request.zone or place["zone"] or ""
    if request.latitude is None and place["latitude"] is not None:
        request.latitude, request.longitude = place["latitude"], place["longitude"]
    request.location_name = request.location_name or place["address"] or ""


def _probe_all(paths: list[Path]) -> list[media.ProbeResult]:
    probes = [media.probe(p) for p in paths]  # each probe tells its tool's version: no process to ask it
    _tool_versions()  # cached: the PREMIS agents need them later
    return probes


def _start_time(request: IngestRequest, probe: media.ProbeResult, mtime: float) -> tuple[datetime, str]:
    """The recording's start, and where it came from (kept in the package: evidence of how we know)."""
    if request.start is not None:
        return request.start, "operator"
    if probe.creation_time is not None:
        return probe.creation_time, "container"
    return datetime.fromtimestamp(mtime, UTC), "file-mtime"


def _default_title(request: IngestRequest, src: Path, start: datetime | None, archive: Archive,
                   count: int = 1) -> str:
    when = start.astimezone(archive.settings.tz).strftime("%Y-%m-%d %H:%M:%S %z") if start else ""
    name = package.printable_name(src.name) if count == 1 else gettext(N_("{count} segments")).format(count=count)
    # An upload's camera is only claimed: in its title it would be found by a search for that camera's name.
    who = (gettext(N_("upload by {account}")).format(account=request.uploaded_by) if request.uploaded_by
           else request.camera)
    return " ".join(part for part in (who, when, name) if part)


def _tool_versions() -> dict[str, str]:
    versions = {"longwatch": __version__}
    for tool in ("ffprobe", "exiftool"):
        try:
            versions[tool] = media.tool_version(tool)
        except LongwatchError:
            versions[tool] = "not installed"
    return versions


def _provenance(
    archive: Archive,
    package_id: str,
    files: list[metadata.FileRecord],
    probes: list[tuple[str, media.ProbeResult | None]],
    now: datetime,
    uploaded_by: str = "",
) -> tuple[list[metadata.AgentRecord], list[metadata.EventRecord]]:
    """PREMIS agents and the events of this ingest, in the order they happened; an upload's ingestion names
    the account that uploaded it, not the process that happened to run the job."""
    versions = _tool_versions()
    agents = [
        metadata.AgentRecord("longwatch", "longwatch", "software", __version__),
        metadata.AgentRecord("ffprobe", "ffprobe", "software", versions["ffprobe"]),
        metadata.AgentRecord("exiftool", "ExifTool", "software", versions["exiftool"]),
        metadata.AgentRecord(f"person:{archive.operator}", archive.operator, "person",
                             note="operating-system user who ran the ingest"),
    ]
    if uploaded_by:
        agents.append(metadata.AgentRecord(f"account:{uploaded_by}", uploaded_by, "person",
                                           note="account that uploaded the file (origin: upload)"))
    if archive.settings.organization:
        agents.append(metadata.AgentRecord("organization", archive.settings.organization, "organization"))
    paths = [f.relpath for f in files]
    media_paths = [path for path, _ in probes]
    software = ("longwatch", "executing program")
    person = (f"account:{uploaded_by}", "implementer") if uploaded_by else (f"person:{archive.operator}", "implementer")

    def event(kind: str, detail: str, outcome: str, objects: list[str], agents_: list[tuple[str, str]],
              note: str = "") -> metadata.EventRecord:
        return metadata.EventRecord(str(uuid.uuid4()), kind, now, detail, outcome, note, agents_, objects)

    events = [
        event("message digest calculation",
              f"{', '.join(a.upper() for a in ALGORITHMS)} computed in one streaming pass while copying",
              "success", paths, [software]),
        *[event("validation", "ffprobe read the container and its streams",
                "success" if probe.ok else "failure", [path], [("ffprobe", "validator"), software],
                "" if probe.ok else f"{probe.error}; preserved bit for bit as received")
          for path, probe in probes if probe is not None],  # one per file: each keeps its own outcome
        event("metadata extraction", "technical metadata by ffprobe and exiftool, kept in metadata/technical.json",
              "success" if all(p is not None and (p.exiftool or p.ffprobe) for _, p in probes) else "warning",
              media_paths, [("ffprobe", "executing program"), ("exiftool", "executing program")]),
        event("ingestion", "received and stored without change; original name kept as originalName",
              "success", [*paths, package_id], [software, person]),
        event("information package creation", "BagIt AIP with the longwatch AIP profile", "success",
              [package_id], [software]),
        event("digital signature generation",
              "detached CMS signature over tagmanifest-sha256.txt "
              f"(signer {archive.signer.fingerprint})", "success", [package_id], [software]),
    ]
    return agents, events
