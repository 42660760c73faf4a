"""The planning sample: the minutes of every hour that outlive the footage they were cut from.

When a schedule's ``[planning_sample]`` rule is on
(:class:`~longwatch.core.records.schedules.PlanningSample`), a disposition
first keeps the sampled minutes of each package it is about to destroy
(:func:`keep_planning_sample`): cut by stream copy into derived packages, or
the package itself when it lies wholly inside them, re-classed into the
sample's record class, replicated to that class's copies and verified
before the source may go. Every step is idempotent, so a disposition killed
part-way finds its cuts when it runs again. :func:`planning_samples_of` is
what a disposition kept (for its certificate and its result).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from longwatch import clock
from longwatch.core import custody
from longwatch.core.catalog.models import Package, PlanningSampleKept, RetentionAssignment
from longwatch.core.preservation import derive, windows
from longwatch.core.records.actors import Actor, agents, ledger_append
from longwatch.core.records.assignment import assign
from longwatch.core.records.schedules import SAMPLE_PURPOSE, PlanningSample
from longwatch.core.storage import copies as storage_copies
from longwatch.core.storage import replicate as storage_replicate
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

#: Planning-sample cuts get uuid5 ids in this namespace from (source, start, end): a retry finds its cut.
SAMPLE_NAMESPACE = uuid.UUID("6c6f6e67-7761-7463-6800-73616d706c65")
KEPT_AS_SAMPLE = "kept-as-sample"  # a disposition item that lay wholly inside the sampled minutes
SAMPLE_FAILED = "sample-failed"  # its sampled minutes could not be kept yet, so it was not destroyed


def keep_planning_sample(archive: Archive, package_id: str, sample: PlanningSample, actor: Actor,
                         now: datetime | None = None, disposition_id: str = "") -> str:
    """Keep the sampled minutes of a package about to be disposed of; idempotent.

    Returns ``"kept"`` when the package lies wholly inside the sampled minutes
    (it is re-classed into the sample's class, not cut, and must not be
    destroyed), ``"cut"`` when its sampled minutes are now in derived packages
    (made here, or found from an earlier, interrupted run), and ``""`` when
    there is nothing to keep (another camera, no recorded times, no overlap).
    A range already kept for the same camera (by this package's earlier run,
    or from footage it was itself derived from) is not cut again.
    """
    now = clock.current(now)
    with archive.catalog.session() as s:
        package = s.get(Package, package_id)
        if package is None:
            raise LongwatchError("I008", package_id=package_id)
        camera, title = package.camera or "", package.title or package.id
        spans = [(c.start_utc, c.start_utc + timedelta(seconds=c.duration)) for c in package.clips
                 if c.start_utc is not None and c.duration]
    if not sample.applies_to(camera) or not spans:
        return ""
    wanted = windows.merge_ranges([r for lo, hi in spans for r in sample.ranges(lo, hi)])
    if not wanted:
        return ""
    whole = all(sample.ranges(lo, hi) == [(lo, hi)] for lo, hi in spans)
    kind = "kept" if whole else "cut"
    made: list[tuple[str, datetime, datetime]] = []
    if whole:
        with archive.catalog.session() as s:
            done = s.execute(select(PlanningSampleKept.package_id)
                             .where(PlanningSampleKept.package_id == package_id).limit(1)).first() is not None
        if not done:
            made += [(package_id, lo, hi) for lo, hi in wanted]
    for lo, hi in [] if whole else wanted:
        with archive.catalog.session() as s:
            if _sample_covers(s, camera, lo, hi):
                continue
        # the cut's id follows from what it is, so a run killed after publishing is found, not cut again
        cut_id = str(uuid.uuid5(SAMPLE_NAMESPACE, f"{package_id}/{clock.iso_z(lo)}/{clock.iso_z(hi)}"))
        if derive.find_published(archive, cut_id) is None:
            cause = derive.Cause(reason=f"planning sample of the retention schedule: minutes "
                                        f"{sample.offset_minutes} to {sample.offset_minutes + sample.minutes_per_hour}"
                                        f" of every hour kept ({sample.record_class}, {sample.period})"
                                        + (f" before disposition {disposition_id}" if disposition_id else ""))
            windows.window(archive, package_id, lo, hi, cause, action="planning-sample", package_id_out=cut_id)
        made.append((cut_id, lo, hi))
        _record_sample(archive, cut_id, package_id, camera, lo, hi, kind, disposition_id, now)
    # the class follows the purpose (see classify); also for a cut a killed run left unassigned
    with archive.catalog.session() as s:
        kept_ids = list(s.scalars(select(PlanningSampleKept.package_id)
                                  .where(PlanningSampleKept.source_package_id == package_id)))
        kept_ids = list(dict.fromkeys([*kept_ids, *(new_id for new_id, _lo, _hi in made)]))
        ready = set(s.scalars(select(RetentionAssignment.package_id).where(
            RetentionAssignment.package_id.in_(kept_ids), RetentionAssignment.purpose == SAMPLE_PURPOSE)))
    unassigned = [i for i in kept_ids if i not in ready]
    if unassigned:
        assign(archive, actor, now, unassigned, purpose=SAMPLE_PURPOSE)
    for kept_id in kept_ids:  # now in the sample's class, so with that class's copies
        _secure_sample(archive, kept_id, package_id)
    for kept_id, lo, hi in made if whole else []:
        _record_sample(archive, kept_id, package_id, camera, lo, hi, kind, disposition_id, now)
    if made:
        ledger_append(archive, [custody.CustodyEvent(
            type="creation" if kind == "cut" else "policy assignment",
            packages=list(dict.fromkeys([package_id, new_id])), agents=agents(actor), time=now,
            detail=(f"planning sample {clock.iso_z(lo)} to {clock.iso_z(hi)} of package {package_id} ({title}) "
                    + (f"cut by stream copy into package {new_id}" if kind == "cut" else "kept whole, re-classed")
                    + f" ({sample.record_class}, {sample.period})"),
            extra={"planning_sample": {"source": package_id, "package": new_id, "kind": kind,
                                       "start": clock.iso_z(lo), "end": clock.iso_z(hi),
                                       "record_class": sample.record_class, "disposition": disposition_id or None}})
            for new_id, lo, hi in made])
    return kind


def _secure_sample(archive: Archive, sample_id: str, source_id: str) -> None:
    """Before its source may go: the sample has the copies of its class, and every copy verifies (H017).

    The cut was replicated when it was published, before it had the sample's
    class; a class that asks for more copies (off-site, say) gets them here.
    """
    if sample_id == source_id:
        return  # kept whole: nothing is destroyed, `longwatch replicate` brings it to its class's copies
    row = archive.catalog.require(sample_id)
    try:
        storage_replicate.replicate(archive, sample_id)
    except LongwatchError as exc:
        raise LongwatchError("H017", package_id=sample_id, source=source_id,
                             detail=exc.render(translate=False)) from exc
    for copy in storage_copies.copies_of(archive, sample_id):
        check = storage_copies.check_copy(archive.storage(copy.location), sample_id, row.tagmanifest_sha256)
        if not check.ok:
            raise LongwatchError("H017", package_id=sample_id, source=source_id,
                                 detail=f"the copy at {copy.location}: {check.summary()}")
    if not storage_replicate.policy_met(archive, sample_id):
        raise LongwatchError("H017", package_id=sample_id, source=source_id, detail="copies missing")


def _sample_covers(s: Session, camera: str, lo: datetime, hi: datetime) -> bool:
    """Is ``lo``..``hi`` of ``camera`` already inside a kept, still stored sample?"""
    return s.execute(
        select(PlanningSampleKept.package_id)
        .join(Package, Package.id == PlanningSampleKept.package_id)
        .where(PlanningSampleKept.camera == camera, PlanningSampleKept.start_utc <= lo,
               PlanningSampleKept.end_utc >= hi, Package.status == "stored").limit(1)).first() is not None


def _record_sample(archive: Archive, package_id: str, source_id: str, camera: str, lo: datetime, hi: datetime,
                   kind: str, disposition_id: str, now: datetime) -> None:
    with archive.catalog.session() as s:
        s.add(PlanningSampleKept(package_id=package_id, source_package_id=source_id, camera=camera, start_utc=lo,
                                 end_utc=hi, kind=kind, disposition_id=disposition_id, made_at=now))


def planning_samples_of(archive: Archive, disposition_id: str) -> list[dict[str, Any]]:
    """What a disposition kept as planning samples (for its certificate and its result)."""
    with archive.catalog.session() as s:
        rows = s.execute(
            select(PlanningSampleKept, RetentionAssignment.record_class, RetentionAssignment.due_at)
            .outerjoin(RetentionAssignment, RetentionAssignment.package_id == PlanningSampleKept.package_id)
            .where(PlanningSampleKept.disposition_id == disposition_id)
            .order_by(PlanningSampleKept.camera, PlanningSampleKept.start_utc)).all()
    return [{"package_id": r.package_id, "source_package_id": r.source_package_id, "kind": r.kind,
             "camera": r.camera, "start": clock.iso_z(r.start_utc), "end": clock.iso_z(r.end_utc),
             "record_class": cls or "", "keep_until": clock.iso_z(due)} for r, cls, due in rows]
