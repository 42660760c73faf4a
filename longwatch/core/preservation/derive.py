"""DERIVED packages: a new signed AIP made from stored packages (an event window, a redacted copy).

A derived package never edits its source: it is a new package whose PREMIS
records each source package and file (derivation relationships, "has
source"), the tool that made it with its version and parameters, and the
cause: the reason given by a person and, when a detector asked for it, the
detector's identity (name, version, model file, size, SHA-256, parameters)
and the detection with its confidence. That last part is what says why this
footage was kept. Bagging, signing, publishing and cataloguing are
:func:`longwatch.core.preservation.publish.publish`, the same steps as a plain ingest.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from longwatch import __version__, clock
from longwatch.core.aip import metadata, package
from longwatch.core.aip.fixity import ALGORITHMS, digest_stream, open_for_reading
from longwatch.core.archive import Archive
from longwatch.core.catalog import Clip, Package
from longwatch.core.media import probe as media
from longwatch.core.preservation import publish as publish_mod
from longwatch.errors import LongwatchError


@dataclass
class DerivedFile:
    """One payload file of a derived package: a local file made by a tool, or a stored file copied as is."""

    name: str  # payload file name
    derived_from: list[str]  # "<package id>/<relpath>" of its sources
    local: Path | None = None  # made by a tool (a cut, a redacted copy)
    stored: tuple[str, str] | None = None  # (package id, relpath): copied bit for bit
    start: datetime | None = None  # actual recorded range of this file, UTC
    end: datetime | None = None
    # of ``local``, when the caller already has it, or will have it: a probe running beside the copy
    probe: media.ProbeResult | Future[media.ProbeResult] | None = None
    mime_type: str = ""  # when the probe has no exiftool part (a cut keeps its source's container)


@dataclass
class Cause:
    """Why the package was made: a person's reason and/or a detector's finding."""

    reason: str = ""
    detectors: list[dict[str, Any]] = field(default_factory=list)  # Detector.identity() of each
    detections: list[dict[str, Any]] = field(default_factory=list)  # type, start, end, confidence (UTC)

    def describe(self) -> str:
        parts = [self.reason] if self.reason else []
        for d in self.detections:
            parts.append(f"{d['type']} {d['start']} to {d['end']} (confidence {d['confidence']:.2f})")
        for identity in self.detectors:
            parts.append(f"detector {identity_text(identity)}")
        return "; ".join(parts) or "requested by the operator"

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "detectors": self.detectors, "detections": self.detections}


def identity_text(identity: dict[str, Any]) -> str:
    """'face 1.0, model centerface.onnx 7304518 bytes sha256 0918..., onnxruntime 1.32.0, parameters {...}'."""
    models = ", ".join(f"model {m['name']} {m['size']} bytes sha256 {m['sha256']}" for m in identity["models"])
    text = f"{identity['name']} {identity['version']}"
    for part in (models, identity.get("library", "")):
        if part:
            text += f", {part}"
    return text + f", parameters {json.dumps(identity['parameters'], sort_keys=True)}"


def detector_agent(identity: dict[str, Any]) -> metadata.AgentRecord:
    return metadata.AgentRecord(f"detector:{identity['name']}", f"longwatch detector {identity['name']}",
                                "software", str(identity["version"]), note=identity_text(identity))


def utc_text(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def derive(
    archive: Archive,
    sources: list[Package],
    files: list[DerivedFile],
    *,
    action: str,
    event_type: str,
    tool: metadata.AgentRecord,
    parameters: dict[str, Any],
    cause: Cause,
    title: str,
    requested: tuple[datetime, datetime] | None = None,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
    package_id: str | None = None,
) -> Package:
    """Write ``files`` into a new package derived from ``sources``; returns its catalog row.

    ``action`` names what was done ("window", "redaction"), ``event_type`` is
    the PREMIS event for it ("creation", "redaction"), ``tool`` the program
    that made the files (ffmpeg) and ``parameters`` exactly how it was called.
    ``package_id`` is chosen by a job (core/preservation/tasks.py), so that its retry finds
    the package an earlier attempt published instead of making a second one.
    """
    now = now or clock.now()
    package_id = package_id or str(uuid.uuid4())
    storage = archive.storage()
    first = sources[0]
    payload: list[package.PayloadEntry] = []
    records: list[metadata.FileRecord] = []
    clips: list[Clip] = []
    probes: dict[str, Any] = {}
    with storage.begin_package(package_id) as writer:
        for item in files:
            relpath = f"data/media/{package.safe_name(item.name)}"
            if item.stored is not None:
                source_storage = archive.storage(archive.catalog.require(item.stored[0]).storage_location)
                with source_storage.open_package_file(*item.stored) as fh, writer.open(relpath) as out:
                    digests = digest_stream(fh, sinks=[out], progress=progress)
                # a file copied as is must be the file the source recorded: rot would become a signed derivative
                expected = next((c.sha256 for c in archive.catalog.require(item.stored[0]).clips
                                 if c.relpath == item.stored[1]), None)
                if expected is not None and digests["sha256"] != expected:
                    raise LongwatchError("D045", package_id=item.stored[0], path=item.stored[1],
                                         expected=expected, found=digests["sha256"])
            else:
                assert item.local is not None
                with open_for_reading(item.local) as fh, writer.open(relpath) as out:
                    digests = digest_stream(fh, sinks=[out], progress=progress)
            probe = item.probe.result() if isinstance(item.probe, Future) else item.probe
            probe = probe or (media.probe(item.local) if item.local is not None else None)
            if item.end is None and item.start is not None and probe is not None:
                item.end = item.start + timedelta(seconds=probe.duration or 0.0)  # a made file ends where it stops
            if probe is None:
                src_clip = next(c for c in archive.catalog.require(item.stored[0]).clips  # type: ignore[index]
                                if c.relpath == item.stored[1])  # type: ignore[index]
                mime, fmt, codec = src_clip.mime_type, src_clip.format_name, src_clip.codec
                width, height, duration = src_clip.width, src_clip.height, src_clip.duration
                probes[relpath] = {"copied_from": item.derived_from, "probe": "see the source package"}
            else:
                video = probe.video_stream
                mime = item.mime_type if item.mime_type and not probe.exiftool else probe.mime_type
                fmt, codec = probe.format_name, str(video.get("codec_name", ""))
                width, height, duration = video.get("width"), video.get("height"), probe.duration
                probes[relpath] = {"ffprobe": probe.ffprobe, "exiftool": probe.exiftool, "probe_ok": probe.ok}
            payload.append(package.PayloadEntry(relpath, digests.size, digests.hexdigests))
            records.append(metadata.FileRecord(
                relpath=relpath, size=digests.size, digests=digests.hexdigests, original_name=item.name,
                format_name=fmt or mime, format_version=codec, mime_type=mime,
                creating_application=tool.name if item.local is not None else "",
                creating_application_version=tool.version if item.local is not None else "",
                derived_from=item.derived_from))
            clips.append(Clip(relpath=relpath, original_name=item.name, size_bytes=digests.size,
                              sha256=digests["sha256"], sha512=digests["sha512"], mime_type=mime, format_name=fmt,
                              codec=codec, width=width, height=height, duration=duration,
                              start_utc=item.start, end_utc=item.end, probe_ok=True))

        starts = [f.start for f in files if f.start]
        ends = [f.end for f in files if f.end]
        start, end = (min(starts) if starts else None), (max(ends) if ends else None)
        agents, events = _provenance(archive, package_id, records, action, event_type, tool, parameters, cause,
                                     sources, requested, (start, end), now)
        desc = metadata.Description(
            package_id=package_id, title=title, camera=first.camera, zone=first.zone,
            location_name=first.location_name, latitude=first.latitude, longitude=first.longitude,
            start=start, end=end, organization=archive.settings.organization,
            formats=sorted({r.mime_type for r in records if r.mime_type}),
            description=f"{action} of {', '.join(s.id for s in sources)}: {cause.describe()}",
        )
        derivation = {
            "action": action, "sources": [s.id for s in sources],
            "tool": {"name": tool.name, "version": tool.version}, "parameters": parameters,
            "requested": {"start": utc_text(requested[0]), "end": utc_text(requested[1])} if requested else None,
            "actual": {"start": utc_text(start), "end": utc_text(end)},
            "cause": cause.to_dict(),
        }
        technical = {"schema": "longwatch-technical/1", "files": probes, "time_source": "derived",
                     "derivation": derivation, "tools": {"longwatch": __version__, tool.name: tool.version}}
        bag_info = [("Longwatch-Derived-From", s.id) for s in sources]
        bag_info.append(("Longwatch-Derivation", action))
        if requested:
            bag_info += [("Longwatch-Requested-Start", utc_text(requested[0])),
                         ("Longwatch-Requested-End", utc_text(requested[1]))]
        new = publish_mod.NewPackage(package_id=package_id, payload=payload, files=records, agents=agents,
                                events=events, desc=desc, technical=technical, time_source="derived",
                                clips=clips, sources=[s.id for s in sources], bag_info=bag_info)
        row = publish_mod.publish(archive, writer, new, now)
    archive.pm.hook.package_stored(package_id=package_id, location=storage.location,
                                   summary={"derived_from": [s.id for s in sources], "action": action,
                                            "size": sum(p.size for p in payload)})
    return row


def _provenance(
    archive: Archive,
    package_id: str,
    records: list[metadata.FileRecord],
    action: str,
    event_type: str,
    tool: metadata.AgentRecord,
    parameters: dict[str, Any],
    cause: Cause,
    sources: list[Package],
    requested: tuple[datetime, datetime] | None,
    actual: tuple[datetime | None, datetime | None],
    now: datetime,
) -> tuple[list[metadata.AgentRecord], list[metadata.EventRecord]]:
    agents = [
        metadata.AgentRecord("longwatch", "longwatch", "software", __version__),
        tool,
        metadata.AgentRecord(f"person:{archive.operator}", archive.operator, "person",
                             note=f"operating-system user who asked for the {action}"),
    ]
    if archive.settings.organization:
        agents.append(metadata.AgentRecord("organization", archive.settings.organization, "organization"))
    detector_agents: list[tuple[str, str]] = []
    for identity in cause.detectors:
        agent = detector_agent(identity)
        agents.append(agent)
        detector_agents.append((agent.identifier, "executing program"))
    paths = [r.relpath for r in records]
    software = ("longwatch", "executing program")
    person = (f"person:{archive.operator}", "implementer")
    source_text = ", ".join(s.id for s in sources)
    range_text = ""
    if requested:
        range_text = (f"; requested {utc_text(requested[0])} to {utc_text(requested[1])}, "
                      f"actual {utc_text(actual[0])} to {utc_text(actual[1])}")

    def event(kind: str, detail: str, objects: list[str], agents_: list[tuple[str, str]],
              note: str = "") -> metadata.EventRecord:
        return metadata.EventRecord(str(uuid.uuid4()), kind, now, detail, "success", note, agents_, objects)

    events = [
        event("policy assignment", f"kept as a derived package ({action}) because: {cause.describe()}",
              [package_id], [*detector_agents, person]),
        event(event_type, f"{action} of package {source_text} by {tool.name} {tool.version} with parameters "
              f"{json.dumps(parameters, sort_keys=True, default=str)}{range_text}",
              paths, [(tool.identifier, "executing program"), software]),
        event("message digest calculation",
              f"{', '.join(a.upper() for a in ALGORITHMS)} computed in one streaming pass while copying",
              paths, [software]),
        event("information package creation", f"BagIt AIP derived from package {source_text}", [package_id],
              [software, person]),
        event("digital signature generation",
              f"detached CMS signature over tagmanifest-sha256.txt (signer {archive.signer.fingerprint})",
              [package_id], [software]),
    ]
    return agents, events


def find_published(archive: Archive, package_id: str) -> Package | None:
    """The derived package ``package_id`` if an earlier attempt published it, completed (catalog, copies,
    custody) when that attempt was killed before it finished; None when it never reached storage."""
    row = archive.catalog.get(package_id)
    location = row.storage_location if row is not None else archive.storage().location
    if row is None and not archive.storage(location).has_package(package_id):
        return None
    return publish_mod.complete_publication(archive, package_id, location)


def local_media(archive: Archive, row: Package, clip: Clip, scratch: Path) -> Path:
    """A path ffmpeg can seek in (the stored file itself on a filesystem, else a scratch copy) whose bytes
    are the clip's recorded SHA-256 (D045 otherwise).

    A cut, a redaction or a detection run on rotten bytes would otherwise be
    signed or recorded as if it came from the evidence; the check costs one
    read of the clip, which the cut reads again from the page cache.
    """
    storage = archive.storage(row.storage_location)
    local = storage.local_path(row.id)
    if local is not None and (local / clip.relpath).is_file():
        path = local / clip.relpath
        with open_for_reading(path) as fh:
            found = digest_stream(fh, algorithms=("sha256",))["sha256"]
    else:
        path = scratch / f"source-{clip.id}{Path(clip.relpath).suffix}"
        with storage.open_package_file(row.id, clip.relpath) as fh, path.open("wb") as out:
            found = digest_stream(fh, sinks=[out], algorithms=("sha256",))["sha256"]
    if found != clip.sha256:
        raise LongwatchError("D045", package_id=row.id, path=clip.relpath, expected=clip.sha256, found=found)
    return path


def scratch_dir(archive: Archive, prefix: str) -> tempfile.TemporaryDirectory[str]:
    """Scratch space of this machine alone (the system's temporary folder), removed afterwards.

    Work in progress (a cut, a redaction, a copy of a clip from object storage)
    is needed by no other machine: what they need is stored through a storage
    location. So it never goes under the archive folder, which machines that
    share only the database and the store do not share.
    """
    return tempfile.TemporaryDirectory(prefix=f"longwatch-{prefix}")


def ffmpeg_agent() -> metadata.AgentRecord:
    return metadata.AgentRecord("ffmpeg", "ffmpeg", "software", media.tool_version("ffmpeg"))


def clip_range(clip: Clip) -> tuple[datetime, datetime]:
    """A stored clip's UTC range; a clip without a start time is refused (nothing to cut by)."""
    if clip.start_utc is None or clip.duration is None:
        raise LongwatchError("D009", package_id=clip.package_id)
    return clip.start_utc, clip.start_utc + timedelta(seconds=clip.duration)
