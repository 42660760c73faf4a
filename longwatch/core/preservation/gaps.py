"""Footage gaps: times a camera should have recorded and did not.

A gap is a fact about the *absence* of footage, so no package can hold it on
its own: it goes into the custody ledger (a "capture" event with outcome
"failure" and the range in ``extra.gap``), which is the durable, signed
record, and into the catalog table ``footage_gaps``, which is its index for
searches and reports ("no footage from X to Y"). ``reindex`` restores the
rows from the ledger. Recording the same gap twice is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from longwatch import clock
from longwatch.clock import parse_utc
from longwatch.core import custody
from longwatch.core.catalog.models import FootageGap, Package

if TYPE_CHECKING:
    from longwatch.core.archive import Archive
    from longwatch.core.catalog import Catalog

EVENT_TYPE = "capture"


@dataclass(frozen=True)
class GapRecord:
    """A gap as listings and search results show it (stable ``--json`` keys)."""

    camera: str
    start: datetime
    end: datetime
    reason: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"camera": self.camera, "start": clock.iso_z(self.start), "end": clock.iso_z(self.end),
                "seconds": round((self.end - self.start).total_seconds(), 3), "reason": self.reason,
                "source": self.source}


def record(archive: Archive, camera: str, start: datetime, end: datetime, reason: str, source: str = "",
           now: datetime | None = None) -> bool:
    """Ledger event, then catalog row; False when the catalog already knows this gap."""
    if end <= start:
        return False
    with archive.catalog.session() as s:
        if s.scalars(select(FootageGap.id).where(FootageGap.camera == camera, FootageGap.start_utc == start,
                                                 FootageGap.end_utc == end)).first() is not None:
            return False
    gap = {"camera": camera, "start": clock.iso_z(start), "end": clock.iso_z(end), "reason": reason, "source": source}
    event = custody.CustodyEvent(
        type=EVENT_TYPE, outcome="failure",
        detail=f"no footage from camera {camera} from {gap['start']} to {gap['end']}",
        note=reason, agents=[custody.software_agent(), custody.person_agent(archive.operator)],
        extra={"gap": gap})
    [receipt] = custody.Ledger.for_archive(archive).append([event])
    with archive.catalog.session() as s:
        s.add(FootageGap(camera=camera, start_utc=start, end_utc=end, reason=reason[:2000], source=source[:200],
                         recorded_at=now or clock.now(), ledger_event=receipt.event_id))
    return True


def overlapping(catalog: Catalog, start: datetime | None = None, end: datetime | None = None,
                cameras: list[str] | None = None, limit: int = 1000) -> list[GapRecord]:
    """Gaps that overlap [start, end), oldest first."""
    query = select(FootageGap)
    if start is not None:
        query = query.where(FootageGap.end_utc > start)
    if end is not None:
        query = query.where(FootageGap.start_utc < end)
    if cameras:
        query = query.where(FootageGap.camera.in_(sorted(set(cameras))))
    with catalog.session() as s:
        rows = s.scalars(query.order_by(FootageGap.start_utc, FootageGap.id).limit(limit)).all()
        return [GapRecord(r.camera, r.start_utc, r.end_utc, r.reason, r.source) for r in rows]


@dataclass(frozen=True)
class CameraFootage:
    """What the cameras page says of one camera: when its footage last ended, and its gaps."""

    camera: str
    last_footage: datetime | None
    gaps: int
    last_gap_start: datetime | None


def per_camera(catalog: Catalog) -> dict[str, CameraFootage]:
    """Per camera: the end of its newest footage and how many gaps it has (two grouped queries, however many
    packages), so a camera that stopped sending shows as silent without opening any package."""
    with catalog.session() as s:
        last = dict(s.execute(select(Package.camera, func.max(Package.end_utc)).group_by(Package.camera)).all())
        gaps = {row[0]: (row[1], row[2]) for row in s.execute(
            select(FootageGap.camera, func.count(), func.max(FootageGap.start_utc)).group_by(FootageGap.camera))}
    out = {}
    for camera in set(last) | set(gaps):
        count, latest = gaps.get(camera, (0, None))
        out[str(camera)] = CameraFootage(str(camera), last.get(camera), int(count), latest)
    return out


def restore_from_ledger(archive: Archive) -> int:
    """Rows for every gap event in the custody ledger that the catalog lacks (``reindex``)."""
    ledger = custody.Ledger.for_archive(archive)
    restored = 0
    for entry in ledger.entries(mentioning=b'"gap"'):
        try:
            gap = (entry.get("extra") or {}).get("gap")
            if entry.get("type") != EVENT_TYPE or not isinstance(gap, dict):
                continue
            start, end = parse_utc(gap["start"]), parse_utc(gap["end"])
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        with archive.catalog.session() as s:
            exists = s.scalars(select(FootageGap.id).where(
                FootageGap.camera == gap["camera"], FootageGap.start_utc == start,
                FootageGap.end_utc == end)).first()
            if exists is None:
                s.add(FootageGap(camera=str(gap["camera"]), start_utc=start, end_utc=end,
                                 reason=str(gap.get("reason", "")), source=str(gap.get("source", "")),
                                 recorded_at=parse_utc(entry["time"]) if entry.get("time") else clock.now(),
                                 ledger_event=str(entry.get("event_id", ""))))
                restored += 1
    return restored
