"""Events: what a detector or a control centre's AI said, recorded so that it can be re-checked.

Each event is a catalog row and a custody-ledger entry naming who said it:
the detector's name, version, model hash and parameters, or the source
system and its own event id. Imports are idempotent on (source system,
vendor event id), so a control centre's export can be imported again after
a partial failure. An event whose confidence passes its type's rule
(:mod:`longwatch.core.events.rules`) preserves a window of footage around it as a
derived package; a window that must grow becomes a new package that
supersedes the old one, because stored packages are never edited.
"""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from longwatch import clock
from longwatch.clock import parse_time
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import DetectedEvent, EventWindow, Package
from longwatch.core.custody import CustodyEvent, Ledger, person_agent, software_agent
from longwatch.core.events import rules
from longwatch.core.jobs import queue as jobs
from longwatch.core.preservation import derive, windows
from longwatch.errors import LongwatchError

#: Namespace of the window package ids that event-window jobs derive (uuid5).
WINDOW_IDS = uuid.UUID("7f0c8a4e-3b1d-5e62-9a57-2c4d6e8f1a3b")
STATUSES = ("new", "confirmed", "false_positive", "unsure")
DECISIONS = ("confirmed", "false_positive", "unsure")
FIELDS = ("camera", "time", "start", "end", "type", "confidence", "source_system", "vendor_event_id", "boxes", "zone")


@dataclass
class Recorded:
    event: DetectedEvent
    created: bool
    window: str | None = None  # package id of the window that now covers the event


@dataclass
class ImportResult:
    imported: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # already imported (same source and vendor id)
    errors: list[tuple[int, LongwatchError]] = field(default_factory=list)
    windows: list[str] = field(default_factory=list)


def event_dict(e: DetectedEvent) -> dict[str, Any]:
    """The stable JSON form of one event (``longwatch events --json``, the web API)."""
    return {
        "id": e.id, "package_id": e.package_id, "camera": e.camera, "type": e.type,
        "start_utc": derive.utc_text(e.start_utc), "end_utc": derive.utc_text(e.end_utc) or None,
        "confidence": e.confidence, "source": e.source, "vendor_event_id": e.vendor_event_id,
        "detector": json.loads(e.detector) if e.detector else None, "boxes": json.loads(e.boxes) if e.boxes else [],
        "zone": e.zone, "status": e.status, "reviewer": e.reviewer, "review_note": e.review_note,
        "reviewed_at": derive.utc_text(e.reviewed_at) or None, "window_package_id": e.window_package_id,
    }


def _detector_agent(identity: dict[str, Any]) -> dict[str, str]:
    models = ",".join(m["sha256"] for m in identity.get("models", []))
    return {"id": f"detector:{identity['name']}:{identity['version']}:{models}", "name": identity["name"],
            "type": "software", "version": str(identity["version"]), "role": "executing program"}


def _covering_package(archive: Archive, camera: str, when: datetime) -> str | None:
    """The original package of ``camera`` whose footage includes ``when`` (window packages excluded)."""
    with archive.catalog.session() as s:
        kept = select(EventWindow.package_id)
        row = s.scalars(select(Package.id).where(
            Package.camera == camera, Package.start_utc <= when, Package.end_utc >= when,
            Package.id.not_in(kept)).order_by(Package.created_at).limit(1)).first()
    return row


def record(archive: Archive, *, camera: str, type: str, start: datetime, end: datetime | None,
           confidence: float, source: str, vendor_event_id: str | None = None, package_id: str | None = None,
           detector: dict[str, Any] | None = None, boxes: list[Any] | None = None, zone: str = "",
           apply_rules: bool = True, rule_set: rules.Rules | None = None) -> Recorded:
    """Record one event in the catalog and the ledger; an event seen before is returned as it was."""
    with archive.catalog.session() as s:
        if vendor_event_id:
            old = s.scalars(select(DetectedEvent).where(DetectedEvent.source == source,
                                                        DetectedEvent.vendor_event_id == vendor_event_id)).first()
            if old is not None:
                return Recorded(old, False, old.window_package_id)
    if package_id is None and camera:
        package_id = _covering_package(archive, camera, start)
    row = DetectedEvent(package_id=package_id, camera=camera, type=type, start_utc=start, end_utc=end,
                        confidence=confidence, source=source, vendor_event_id=vendor_event_id or None,
                        detector=json.dumps(detector, sort_keys=True) if detector else "",
                        boxes=json.dumps(boxes) if boxes else "", zone=zone, status="new", reviewer="", review_note="")
    as_job = apply_rules and bool(package_id) and jobs.queued(archive)
    with archive.catalog.session() as s:
        s.add(row)
        s.flush()
        s.refresh(row)
        if as_job:  # a worker cuts the window; the job exists exactly when the event does
            jobs.enqueue(archive, "event_window", {"event_id": row.id}, session=s, lock=f"windows:{package_id}")
    agents = [software_agent()]
    if detector:
        agents.append(_detector_agent(detector))
    else:
        agents.append({"id": f"source:{source}", "name": source, "type": "software", "role": "executing program"})
    detail = (f"event {row.id}: {type} on {camera or '-'} {derive.utc_text(start)}"
              f"{' to ' + derive.utc_text(end) if end else ''}, confidence {confidence:.2f}, "
              + (f"detector {derive.identity_text(detector)}" if detector
                 else f"from {source} (vendor event id {vendor_event_id or '-'})"))
    Ledger.for_archive(archive).append([CustodyEvent(
        type="metadata extraction", packages=[package_id] if package_id else [], detail=detail[:4000],
        agents=agents, extra={"longwatch_event": event_dict(row)})])
    window = apply_rule(archive, row.id, rule_set) if apply_rules and not as_job else None
    with archive.catalog.session() as s:
        fresh = s.get(DetectedEvent, row.id)
        assert fresh is not None
    return Recorded(fresh, True, window)


def _package_range(archive: Archive, package_id: str) -> tuple[datetime, datetime] | None:
    row = archive.catalog.get(package_id)
    if row is None:
        return None
    ranges = [derive.clip_range(c) for c in row.clips if c.duration and c.start_utc]
    if not ranges:
        return None
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def apply_rule(archive: Archive, event_id: int, rule_set: rules.Rules | None = None, stable_id: bool = False
               ) -> str | None:
    """Preserve the window the event's rule asks for; returns the window package id (or None).

    ``stable_id`` (a job, core/events/tasks.py): the window package's id follows from
    the event and the merged range, so a retry after a kill finds the package
    its earlier attempt published instead of cutting a second one.
    """
    rule_set = rule_set or rules.load(archive.root)
    with archive.catalog.session() as s:
        ev = s.get(DetectedEvent, event_id)
        if ev is None:
            raise LongwatchError("D015", event_id=event_id)
    rule = rule_set.for_type(ev.type)
    if ev.confidence < rule.min_confidence or not ev.package_id:
        return None
    bounds = _package_range(archive, ev.package_id)
    if bounds is None:
        return None
    start = max(bounds[0], ev.start_utc - timedelta(seconds=rule.before))
    end = min(bounds[1], (ev.end_utc or ev.start_utc) + timedelta(seconds=rule.after))
    if end <= start:
        return None
    with archive.catalog.session() as s:
        current = list(s.scalars(select(EventWindow).where(
            EventWindow.source_package_id == ev.package_id, EventWindow.superseded_by.is_(None),
            EventWindow.start_utc <= end, EventWindow.end_utc >= start)))
    for w in current:
        if w.start_utc <= start and end <= w.end_utc:  # already kept: the event joins the window
            with archive.catalog.session() as s:
                s.get(DetectedEvent, event_id).window_package_id = w.package_id  # type: ignore[union-attr]
            return w.package_id
    merged_start = min([start] + [w.start_utc for w in current])
    merged_end = max([end] + [w.end_utc for w in current])
    old_ids = [w.package_id for w in current]
    with archive.catalog.session() as s:
        members = list(s.scalars(select(DetectedEvent).where(
            (DetectedEvent.id == event_id) | DetectedEvent.window_package_id.in_(old_ids))
            .order_by(DetectedEvent.start_utc)))
    identities: list[dict[str, Any]] = []
    for m in members:
        ident = json.loads(m.detector) if m.detector else None
        if ident and ident not in identities:
            identities.append(ident)
    reason = f"{len(members)} event(s) passed the window rules ({', '.join(sorted({m.type for m in members}))})"
    if old_ids:
        reason += f"; supersedes window package(s) {', '.join(old_ids)}, which stay stored unchanged"
    cause = derive.Cause(reason=reason, detectors=identities, detections=[
        {"type": m.type, "start": derive.utc_text(m.start_utc), "end": derive.utc_text(m.end_utc or m.start_utc),
         "confidence": m.confidence, "event_id": m.id, "source": m.source,
         "vendor_event_id": m.vendor_event_id} for m in members])
    wanted = (str(uuid.uuid5(WINDOW_IDS, f"{event_id}/{derive.utc_text(merged_start)}/{derive.utc_text(merged_end)}"))
              if stable_id else None)
    found = derive.find_published(archive, wanted) if wanted else None
    new_id = found.id if found is not None else windows.window(
        archive, ev.package_id, merged_start, merged_end, cause, package_id_out=wanted).package.id
    with archive.catalog.session() as s:
        s.add(EventWindow(package_id=new_id, source_package_id=ev.package_id, start_utc=merged_start,
                          end_utc=merged_end, supersedes=old_ids[0] if old_ids else None,
                          retention_class=rule.retention))
        for w in s.scalars(select(EventWindow).where(EventWindow.package_id.in_(old_ids))):
            w.superseded_by = new_id
        for m in s.scalars(select(DetectedEvent).where(DetectedEvent.id.in_([m.id for m in members]))):
            m.window_package_id = new_id
    return new_id


def review(archive: Archive, event_id: int, decision: str, reviewer: str, note: str = "",
           rule_set: rules.Rules | None = None) -> DetectedEvent:
    """Record a reviewer's decision; a window whose events are all false positives moves to a shorter class."""
    if decision not in DECISIONS:
        raise LongwatchError("D017")
    now = clock.now()
    with archive.catalog.session() as s:
        ev = s.get(DetectedEvent, event_id)
        if ev is None:
            raise LongwatchError("D015", event_id=event_id)
        ev.status, ev.reviewer, ev.review_note, ev.reviewed_at = decision, reviewer, note, now
        s.flush()
        window_id, package_id, type_ = ev.window_package_id, ev.package_id, ev.type
    batch = [CustodyEvent(type="validation", packages=[p for p in (package_id, window_id) if p],
                          detail=f"event {event_id} ({type_}) reviewed: {decision.replace('_', ' ')}", note=note,
                          agents=[person_agent(reviewer, "validator"), software_agent()],
                          extra={"event_id": event_id, "decision": decision}, time=now)]
    if window_id:
        rule = (rule_set or rules.load(archive.root)).for_type(type_)
        with archive.catalog.session() as s:
            statuses = set(s.scalars(select(DetectedEvent.status).where(DetectedEvent.window_package_id == window_id)))
            w = s.get(EventWindow, window_id)
            wanted = rule.false_positive_retention if statuses == {"false_positive"} else rule.retention
            if w is not None and w.retention_class != wanted:
                old, w.retention_class = w.retention_class, wanted
                batch.append(CustodyEvent(
                    type="policy assignment", packages=[window_id],
                    detail=f"retention class {old} -> {wanted} after review of event {event_id}; "
                           "the package is kept until normal disposition",
                    agents=[person_agent(reviewer, "authorizer"), software_agent()], time=now))
    Ledger.for_archive(archive).append(batch)
    with archive.catalog.session() as s:
        out = s.get(DetectedEvent, event_id)
        assert out is not None
    return out


def query(archive: Archive, camera: str | None = None, type: str | None = None, start: datetime | None = None,
          end: datetime | None = None, status: str | None = None, limit: int | None = None) -> list[DetectedEvent]:
    stmt = select(DetectedEvent)
    if camera:
        stmt = stmt.where(DetectedEvent.camera == camera)
    if type:
        stmt = stmt.where(DetectedEvent.type == type)
    if start:
        stmt = stmt.where(DetectedEvent.start_utc >= start)
    if end:
        stmt = stmt.where(DetectedEvent.start_utc < end)
    if status:
        stmt = stmt.where(DetectedEvent.status == status)
    stmt = stmt.order_by(DetectedEvent.start_utc, DetectedEvent.id)
    if limit:
        stmt = stmt.limit(limit)
    with archive.catalog.session() as s:
        return list(s.scalars(stmt))


def window_rows(archive: Archive) -> list[EventWindow]:
    with archive.catalog.session() as s:
        return list(s.scalars(select(EventWindow).order_by(EventWindow.start_utc)))


# -- report ---------------------------------------------------------------------------------------
REPORT_KEYS = ("detector", "camera", "type", "month")


def _detector_name(e: DetectedEvent) -> str:
    if e.detector:
        ident = json.loads(e.detector)
        return f"{ident['name']} {ident['version']}"
    return e.source or "-"


def report(events: Iterable[DetectedEvent], by: Iterable[str]) -> list[dict[str, Any]]:
    """Counts and rates per group. Rates are shares of the reviewed events (confirmed, false positive, unsure)."""
    keys = list(by)
    for k in keys:
        if k not in REPORT_KEYS:
            raise ValueError(f"cannot group by {k!r}; choose from {', '.join(REPORT_KEYS)}")
    groups: dict[tuple[str, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    for e in events:
        values = {"detector": _detector_name(e), "camera": e.camera or "-", "type": e.type,
                  "month": e.start_utc.astimezone(UTC).strftime("%Y-%m")}
        groups[tuple(values[k] for k in keys)][e.status] += 1
    return [{**dict(zip(keys, group, strict=True)), **_rates(groups[group])} for group in sorted(groups)]


def _rates(c: dict[str, int]) -> dict[str, Any]:
    reviewed = c["confirmed"] + c["false_positive"] + c["unsure"]
    return {"events": sum(c.values()), "reviewed": reviewed,
            "confirmed": c["confirmed"], "false_positive": c["false_positive"], "unsure": c["unsure"],
            "confirmed_rate": round(c["confirmed"] / reviewed, 4) if reviewed else None,
            "false_positive_rate": round(c["false_positive"] / reviewed, 4) if reviewed else None}


def detector_report(archive: Archive) -> list[dict[str, Any]]:
    """``report(events, ["detector"])`` over every event, counted by the catalog (one grouped query) rather
    than by reading each event: the review page shows it on every visit."""
    groups: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    with archive.catalog.session() as s:
        rows = s.execute(select(DetectedEvent.detector, DetectedEvent.source, DetectedEvent.status, func.count())
                         .group_by(DetectedEvent.detector, DetectedEvent.source, DetectedEvent.status)).all()
    for detector, source, status, count in rows:
        ident = json.loads(detector) if detector else None
        name = f"{ident['name']} {ident['version']}" if ident else (source or "-")
        if status in STATUSES:
            groups[name][status] += int(count)
    return [{"detector": name, **_rates(groups[name])} for name in sorted(groups)]


def waiting_count(archive: Archive) -> int:
    """How many events await review."""
    with archive.catalog.session() as s:
        return int(s.scalar(select(func.count()).select_from(DetectedEvent).where(DetectedEvent.status == "new"))
                   or 0)


def recently_reviewed(archive: Archive, limit: int = 20) -> list[DetectedEvent]:
    """The latest decisions, newest first."""
    with archive.catalog.session() as s:
        return list(s.scalars(select(DetectedEvent).where(DetectedEvent.reviewed_at.is_not(None))
                              .order_by(DetectedEvent.reviewed_at.desc(), DetectedEvent.id.desc()).limit(limit)))


# -- import ---------------------------------------------------------------------------------------
def _boxes(value: Any) -> list[dict[str, Any]]:
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list):
        raise ValueError("boxes must be a list of [x, y, w, h] or of {offset, boxes}")
    if all(isinstance(b, list) for b in value):
        value = [{"offset": 0.0, "boxes": value}]
    out = []
    for frame in value:
        if not isinstance(frame, dict) or not isinstance(frame.get("boxes"), list):
            raise ValueError("each frame of boxes must be {\"offset\": seconds, \"boxes\": [[x, y, w, h], ...]}")
        for b in frame["boxes"]:
            if (not isinstance(b, list) or len(b) != 4
                    or not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in b)):
                raise ValueError(f"a box must be [x, y, w, h] with numbers of pixels >= 0, got {b!r}")
        out.append({"offset": float(frame.get("offset", 0.0)), "boxes": frame["boxes"]})
    return out


def parse_row(data: dict[str, Any]) -> dict[str, Any]:
    """One import row (already a dict) checked and normalised; raises ValueError saying what is wrong."""
    def text(key: str, required: bool = True) -> str:
        value = data.get(key)
        if value is None or str(value).strip() == "":
            if required:
                raise ValueError(f"{key} is missing")
            return ""
        return str(value).strip()

    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(FIELDS)}")
    camera, type_ = text("camera"), text("type")
    source, vendor_id = text("source_system"), text("vendor_event_id")
    if text("time", False):
        start, end = parse_time(text("time")), None
    elif text("start", False):
        start = parse_time(text("start"))
        end = parse_time(text("end")) if text("end", False) else None
        if end is not None and end < start:
            raise ValueError("end is before start")
    else:
        raise ValueError("time (or start and end) is missing")
    try:
        confidence = float(text("confidence"))
    except ValueError as exc:
        raise ValueError(f"confidence {data.get('confidence')!r} is not a number from 0 to 1") from exc
    if not (0.0 <= confidence <= 1.0) or math.isnan(confidence):
        raise ValueError(f"confidence {confidence!r} is not a number from 0 to 1")
    return {"camera": camera, "type": type_, "start": start, "end": end, "confidence": confidence,
            "source": source, "vendor_event_id": vendor_id, "boxes": _boxes(data.get("boxes")),
            "zone": text("zone", False)}


def read_rows(path: Path) -> Iterable[tuple[int, dict[str, Any] | Exception]]:
    """(line number, row or the error reading it) for a JSON Lines or CSV file."""
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv"):
        raise LongwatchError("D016", path=path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LongwatchError("D016", path=path) from exc
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            clean = {k.strip(): v for k, v in row.items() if k is not None and v not in (None, "")}
            if None in row:
                yield reader.line_num, ValueError("more values than columns")
            else:
                yield reader.line_num, clean
        return
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, ValueError(f"not JSON: {exc.msg}")
            continue
        yield n, data if isinstance(data, dict) else ValueError("a line must be one JSON object")


def import_rows(archive: Archive, rows: Iterable[tuple[int, dict[str, Any] | Exception]],
                apply_rules: bool = True) -> ImportResult:
    """Every good row lands; every bad row becomes a D014 error with its line number."""
    result = ImportResult()
    rule_set = rules.load(archive.root) if apply_rules else None
    for line, data in rows:
        try:
            if isinstance(data, Exception):
                raise data
            row = parse_row(data)
        except (ValueError, TypeError, LongwatchError) as exc:
            detail = exc.render() if isinstance(exc, LongwatchError) else str(exc)
            result.errors.append((line, LongwatchError("D014", line=line, detail=detail)))
            continue
        rec = record(archive, camera=row["camera"], type=row["type"], start=row["start"], end=row["end"],
                     confidence=row["confidence"], source=row["source"], vendor_event_id=row["vendor_event_id"],
                     boxes=row["boxes"], zone=row["zone"], apply_rules=apply_rules, rule_set=rule_set)
        (result.imported if rec.created else result.skipped).append(rec.event.id)
        if rec.window and rec.window not in result.windows:
            result.windows.append(rec.window)
    return result
