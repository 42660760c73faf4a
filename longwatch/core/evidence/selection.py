"""Which recordings an evidence export holds: the packages asked for, the gaps in the range, the cuts.

:func:`select` turns a :class:`~longwatch.core.evidence.request.Request` into
a :class:`Selection` (package ids, a catalog case through
:func:`packages_for_case`, or cameras over a time range with the stretches no
recording covers, :func:`find_gaps`); :func:`make_cuts` adds an exact cut of
the range as derived packages. The command line calls :func:`select` before
queueing a job, so a request that cannot be met is refused at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select as sql_select

from longwatch.core.archive import Archive
from longwatch.core.catalog import Package, search
from longwatch.core.catalog.models import Case, CaseRange
from longwatch.core.custody.entries import utc_text
from longwatch.core.evidence.request import Request
from longwatch.core.preservation import derive, windows
from longwatch.errors import LongwatchError

GAP_TOLERANCE = timedelta(seconds=1)  # uncovered stretches shorter than this are clip boundaries, not gaps


@dataclass
class Selection:
    """The packages to export (by camera, then time), the gaps in the requested range, and the cuts made."""

    packages: list[Package]
    gaps: list[tuple[str, datetime, datetime]]  # (camera, start, end): each camera's own gaps in the range
    cuts: list[str] = field(default_factory=list)  # ids of derived cut packages among ``packages``


def packages_for_case(archive: Archive, case: str) -> list[str]:
    """Every package of a case: those attached to it, and those overlapping its camera time ranges.

    Goes through the catalog's search API (Q010 names an unknown case), so an
    export sees exactly what a search for the case shows.
    """
    def ids(query: search.Query) -> set[str]:
        found: set[str] = set()
        while True:
            page = search.search(archive.catalog, query)
            found.update(item["package_id"] for item in page.items)
            if not page.next_cursor:
                return found
            query.after = page.next_cursor

    chosen = ids(search.Query(case=case, limit=500))
    with archive.catalog.session() as s:
        ranges = list(s.scalars(sql_select(CaseRange).join(Case, Case.id == CaseRange.case_id)
                                .where(Case.number == case)))
    for r in ranges:
        chosen |= ids(search.Query(cameras=[r.camera] if r.camera else [], start=r.start_utc, end=r.end_utc,
                                   limit=500))
    if not chosen:
        raise LongwatchError("E002", case=case)
    return sorted(chosen)


#: Statuses of a destroyed package (its footage is gone, its tombstone stays): never exported.
DESTROYED = frozenset({"disposing", "disposed"})


def _clips_range(row: Package) -> list[tuple[datetime, datetime]]:
    out = []
    for clip in row.clips:
        if clip.start_utc is not None and clip.duration:
            out.append((clip.start_utc, clip.start_utc + timedelta(seconds=clip.duration)))
    return out


def find_gaps(covered: list[tuple[datetime, datetime]], start: datetime,
              end: datetime) -> list[tuple[datetime, datetime]]:
    """Stretches of ``start``..``end`` that no recording covers (shorter than GAP_TOLERANCE ignored)."""
    gaps = []
    cursor = start
    for a, b in windows.merge_ranges([(max(a, start), min(b, end)) for a, b in covered if a < end and b > start]):
        if a - cursor >= GAP_TOLERANCE:
            gaps.append((cursor, a))
        cursor = max(cursor, b)
    if end - cursor >= GAP_TOLERANCE:
        gaps.append((cursor, end))
    return gaps


def select(archive: Archive, request: Request) -> Selection:
    """The packages to export (whole clips overlapping the range) and the gaps in the range."""
    ids: list[str] = []
    for value in request.package_ids:
        matches = archive.catalog.resolve(value)
        if len(matches) != 1:
            raise LongwatchError("E001", package_id=value)
        ids.append(matches[0])
    named = set(ids)
    if request.case:
        ids.extend(packages_for_case(archive, request.case))
    gaps: list[tuple[str, datetime, datetime]] = []
    if request.cameras or request.start or request.end:
        if not (request.cameras and request.start and request.end):
            raise LongwatchError("E003", detail="give --camera, --from and --to together")
        start, end = request.start, request.end
        if end <= start:
            raise LongwatchError("E003", detail=f"the range ends ({utc_text(end)}) before it starts "
                                                f"({utc_text(start)})")
        with archive.catalog.session() as session:
            rows = session.scalars(sql_select(Package.id).where(Package.camera.in_(request.cameras))
                                   .where(Package.status == "stored")).all()
        # each camera's own coverage: one camera's footage never hides another's gap
        covered: dict[str, list[tuple[datetime, datetime]]] = {camera: [] for camera in request.cameras}
        for pid in rows:
            row = archive.catalog.get(pid)
            assert row is not None
            ranges = _clips_range(row)
            if any(a < end and b > start for a, b in ranges):
                ids.append(pid)
                covered.setdefault(row.camera, []).extend(ranges)
        gaps = [(camera, a, b) for camera in sorted(covered) for a, b in find_gaps(covered[camera], start, end)]
        if not any(covered.values()):
            raise LongwatchError("E004", cameras=", ".join(request.cameras), start=utc_text(start),
                                 end=utc_text(end))
    seen: set[str] = set()
    rows_out: list[Package] = []
    for pid in ids:
        if pid in seen:
            continue
        seen.add(pid)
        row = archive.catalog.get(pid)
        if row is None:
            raise LongwatchError("E001", package_id=pid)
        if row.status in DESTROYED:  # only a tombstone is left: named, it is refused; in a case, it is gone
            if pid in named:
                raise LongwatchError("W041", package_id=pid, status=row.status)
            continue
        rows_out.append(row)
    if not rows_out:
        raise LongwatchError("E003", detail="nothing to export: give package ids, or cameras with a time range")
    rows_out.sort(key=lambda r: (r.camera, r.start_utc or datetime.min.replace(tzinfo=UTC), r.id))
    return Selection(rows_out, gaps)


def make_cuts(archive: Archive, selection: Selection, request: Request, export_id: str = "") -> None:
    """An exact stream-copy cut of the range from each package, kept as a derived package.

    The cut is :func:`longwatch.core.preservation.windows.window`.

    With ``export_id`` (a job's export) each cut's package id follows from it,
    so that a retried job reuses the cuts its killed attempt published.
    """
    assert request.start and request.end
    cause = derive.Cause(reason=request.reason or f"evidence export for {request.recipient.agency} "
                                                    f"{request.recipient.case_number}".strip())
    for row in list(selection.packages):
        cut_id = str(uuid.uuid5(uuid.UUID(export_id), row.id)) if export_id else None
        found = derive.find_published(archive, cut_id) if cut_id else None
        made = found or windows.window(archive, row.id, request.start, request.end, cause,
                                       package_id_out=cut_id).package
        selection.packages.append(made)
        selection.cuts.append(made.id)
