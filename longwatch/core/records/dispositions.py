"""Disposition: finding what is due, and destroying it with two people's consent and a certificate.

What the active schedule makes due is found by one indexed query with the
holds applied in SQL (:func:`plan`; :func:`preview` asks the same of a
schedule not yet active). A disposition then goes through three steps, each
a recorded act of a named person: :func:`propose` (everything due, unheld,
whose action is destroy), :func:`approve` (a records manager who is not the
proposer; or :func:`reject`, the same person saying no) and :func:`execute` (resumable: only items still due and unheld
are destroyed, the planning sample is kept first, every deletion goes
through :func:`longwatch.core.records.deletion.delete_package`, and a signed
destruction certificate ends it). :func:`result_of` is what an executed
disposition did.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, delete, func, insert, literal, or_, select, text, update
from sqlalchemy.orm import Session

from longwatch import clock
from longwatch.core import custody
from longwatch.core.catalog.models import Disposition, DispositionItem, Package, RetentionAssignment
from longwatch.core.faults import fault
from longwatch.core.records import deletion
from longwatch.core.records.actors import RECORDS_MANAGER, Actor, agents, ledger_append
from longwatch.core.records.assignment import assign, facts_of
from longwatch.core.records.certificates import write_certificate
from longwatch.core.records.deletion import KEPT_BY, refuse_if_locked
from longwatch.core.records.holds import HoldIndex, held_clause
from longwatch.core.records.sampling import KEPT_AS_SAMPLE, SAMPLE_FAILED, keep_planning_sample, planning_samples_of
from longwatch.core.records.schedules import Schedule, active_schedule, classify
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    package_id: str
    record_class: str
    size: int
    start: datetime | None
    due: datetime | None
    digest: str


@dataclass
class Plan:
    now: datetime
    schedule: Schedule
    due: list[Candidate] = field(default_factory=list)
    held: list[tuple[Candidate, str]] = field(default_factory=list)
    review: list[Candidate] = field(default_factory=list)
    summary: dict[str, dict[str, Any]] | None = None  # set when the due rows were never fetched (propose)

    def by_class(self) -> dict[str, dict[str, Any]]:
        return self.summary if self.summary is not None else summarize(self.due)


def summarize(candidates: Iterable[Candidate]) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for c in candidates:
        g = groups.setdefault(c.record_class, {"count": 0, "size": 0, "oldest": None, "newest": None})
        g["count"] += 1
        g["size"] += c.size
        if c.start is not None:
            g["oldest"] = c.start if g["oldest"] is None or c.start < g["oldest"] else g["oldest"]
            g["newest"] = c.start if g["newest"] is None or c.start > g["newest"] else g["newest"]
    return dict(sorted(groups.items()))


def _large_read_cache(s: Session) -> None:
    """SQLite's default 2 MB page cache makes the due-date index walk re-read pages from the OS at
    millions of rows; planning asks its connection for 256 MB (a per-connection setting)."""
    if s.get_bind().dialect.name == "sqlite":
        s.execute(text("PRAGMA cache_size=-262144"))


def plan(archive: Archive, now: datetime | None = None, classes: Sequence[str] | None = None) -> Plan:
    """What is due now under the active schedule: one indexed query with the holds applied in SQL."""
    now = clock.current(now)
    schedule = active_schedule(archive)
    result = Plan(now=now, schedule=schedule)
    with archive.catalog.session() as s:
        _large_read_cache(s)
        holds = HoldIndex.load(s)
        held = held_clause(holds.holds)
        query = (select(Package.id, RetentionAssignment.record_class, Package.size_bytes, Package.start_utc,
                        RetentionAssignment.due_at, Package.tagmanifest_sha256, RetentionAssignment.action,
                        held.label("held") if held is not None else literal(False).label("held"))
                 .join(RetentionAssignment, RetentionAssignment.package_id == Package.id)
                 .where(RetentionAssignment.due_at <= now, Package.status == "stored")
                 .order_by(RetentionAssignment.due_at, Package.id))
        if classes:
            query = query.where(RetentionAssignment.record_class.in_(list(classes)))
        due, review, set_aside = result.due.append, result.review.append, result.held.append
        for row in s.connection().execute(query):  # Core rows: no ORM bookkeeping per row
            c = Candidate(row[0], row[1], row[2], row[3], row[4], row[5])
            if row[7]:
                set_aside((c, ""))
            elif row[6] == "destroy":
                due(c)
            else:
                review(c)
    _name_holds(archive, holds, result)
    return result


@dataclass
class DueSummary:
    """What :func:`plan` would find, counted in SQL: due for destruction by class, held, due for review."""

    now: datetime
    schedule: Schedule
    destroy: dict[str, dict[str, Any]]
    held: int
    review: int


def due_summary(archive: Archive, now: datetime | None = None) -> DueSummary:
    """:func:`plan`'s answer as counts, grouped in the database: a page can show it for a million due clips
    without loading them. The same conditions as :func:`plan` and :func:`propose` (holds in SQL by
    :func:`held_clause`)."""
    now = clock.current(now)
    schedule = active_schedule(archive)
    with archive.catalog.session() as s:
        _large_read_cache(s)
        held = held_clause(HoldIndex.load(s).holds)
        is_held = func.coalesce(held, literal(False)) if held is not None else literal(False)
        kind = case((is_held == literal(True), literal("held")),
                    (RetentionAssignment.action == "destroy", literal("destroy")), else_=literal("review"))
        rows = s.execute(
            select(kind.label("kind"), RetentionAssignment.record_class, func.count(), func.sum(Package.size_bytes),
                   func.min(Package.start_utc), func.max(Package.start_utc))
            .join(RetentionAssignment, RetentionAssignment.package_id == Package.id)
            .where(RetentionAssignment.due_at <= now, Package.status == "stored")
            .group_by(kind, RetentionAssignment.record_class).order_by(RetentionAssignment.record_class)).all()
    destroy = {r[1]: {"count": r[2], "size": int(r[3] or 0), "oldest": r[4], "newest": r[5]}
               for r in rows if r[0] == "destroy"}
    return DueSummary(now=now, schedule=schedule, destroy=destroy, held=sum(r[2] for r in rows if r[0] == "held"),
                      review=sum(r[2] for r in rows if r[0] == "review"))


def _name_holds(archive: Archive, holds: HoldIndex, result: Plan) -> None:
    """Which hold keeps each package set aside (one query for all of them)."""
    if not result.held:
        return
    wanted = {c.package_id for c, _h in result.held}
    with archive.catalog.session() as s:
        rows = s.execute(select(Package, RetentionAssignment.case_id)
                         .join(RetentionAssignment, RetentionAssignment.package_id == Package.id)
                         .where(Package.id.in_(wanted))).all()
        names = {}
        for package, case_id in rows:
            found = holds.covering(package, case_id or "")
            names[package.id] = found[0].id if found else ""
    result.held = [(c, names.get(c.package_id, "")) for c, _h in result.held]


def preview(archive: Archive, schedule: Schedule, now: datetime | None = None) -> dict[str, Any]:
    """What ``schedule`` would destroy now if it were made active: counts, sizes, oldest, newest by class."""
    now = clock.current(now)
    destroyed, held, review = [], [], []
    with archive.catalog.session() as s:
        holds = HoldIndex.load(s)
        rows = s.execute(select(Package, RetentionAssignment)
                         .outerjoin(RetentionAssignment, RetentionAssignment.package_id == Package.id)
                         .where(Package.status == "stored"))
        for package, assignment in rows:
            record_class, _rule, due = classify(schedule, facts_of(package, assignment))
            if due is None or due > now:
                continue
            c = Candidate(package.id, record_class.id, package.size_bytes, package.start_utc, due,
                          package.tagmanifest_sha256)
            if holds.covering(package, assignment.case_id if assignment else ""):
                held.append(c)
            elif record_class.action == "destroy":
                destroyed.append(c)
            else:
                review.append(c)
    return {"schedule": schedule.id, "now": clock.iso_z(now), "destroy": jsonable(summarize(destroyed)),
            "held": jsonable(summarize(held)), "review": jsonable(summarize(review)),
            "total": {"count": len(destroyed), "size": sum(c.size for c in destroyed)}}


def jsonable(groups: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """:func:`summarize`'s groups with their oldest and newest times as ISO 8601 (for JSON)."""
    return {k: {**v, "oldest": clock.iso_z(v["oldest"]), "newest": clock.iso_z(v["newest"])}
            for k, v in groups.items()}


def propose(archive: Archive, actor: Actor, now: datetime | None = None,
            classes: Sequence[str] | None = None) -> tuple[Disposition | None, Plan]:
    """A disposition proposal of everything due (unheld, action destroy); None when nothing is due.

    Set-based: the proposal's items are written by one INSERT ... SELECT with
    the holds applied in SQL, so a million due clips are never loaded into
    Python; only what is held or due for review (few) is listed.
    """
    now = clock.current(now)
    assign(archive, actor, now)  # packages ingested since the last run get their class first
    schedule = active_schedule(archive)
    result = Plan(now=now, schedule=schedule)
    disposition_id = str(uuid.uuid4())
    columns = (Package.id, RetentionAssignment.record_class, Package.size_bytes, Package.start_utc,
               RetentionAssignment.due_at, Package.tagmanifest_sha256)
    with archive.catalog.session() as s:
        _large_read_cache(s)
        holds = HoldIndex.load(s)
        held = held_clause(holds.holds)
        is_held = func.coalesce(held, literal(False)) if held is not None else literal(False)
        where = [RetentionAssignment.due_at <= now, Package.status == "stored"]
        if classes:
            where.append(RetentionAssignment.record_class.in_(list(classes)))
        joined = select(*columns).join(RetentionAssignment, RetentionAssignment.package_id == Package.id)
        # a package already in a proposal that is not finished is not proposed twice
        in_open_disposition = (
            select(DispositionItem.package_id).join(Disposition, Disposition.id == DispositionItem.disposition_id)
            .where(DispositionItem.package_id == Package.id, DispositionItem.status.in_(("pending", "deleting")),
                   Disposition.status.in_(("proposed", "approved", "executing"))).exists())
        s.add(Disposition(id=disposition_id, status="proposed", schedule_id=schedule.id, proposer=actor.name,
                          proposer_role=actor.role, proposed_at=now, approver="", approver_role="", certificate=""))
        s.flush()
        chosen = (select(literal(disposition_id), Package.id, RetentionAssignment.record_class, literal("pending"),
                         Package.tagmanifest_sha256, Package.size_bytes)
                  .join(RetentionAssignment, RetentionAssignment.package_id == Package.id)
                  .where(*where, RetentionAssignment.action == "destroy", is_held == literal(False),
                         ~in_open_disposition)
                  .order_by(Package.id))  # the items' indexes then grow at their end, not at random
        s.execute(insert(DispositionItem).from_select(
            ["disposition_id", "package_id", "record_class", "status", "digest", "size_bytes"], chosen))
        groups = s.execute(
            select(DispositionItem.record_class, func.count(), func.sum(DispositionItem.size_bytes),
                   func.min(Package.start_utc), func.max(Package.start_utc))
            .join(Package, Package.id == DispositionItem.package_id)
            .where(DispositionItem.disposition_id == disposition_id)
            .group_by(DispositionItem.record_class).order_by(DispositionItem.record_class)).all()
        result.summary = {g[0]: {"count": g[1], "size": g[2] or 0, "oldest": g[3], "newest": g[4]} for g in groups}
        # one more pass for what is set aside (held, or due for review or transfer): usually few rows
        aside = joined.add_columns(is_held.label("held")).where(
            *where, or_(is_held == literal(True), RetentionAssignment.action != "destroy"))
        for row in s.connection().execute(aside):
            if row[-1]:
                result.held.append((Candidate(*row[:-1]), ""))
            else:
                result.review.append(Candidate(*row[:-1]))
        if not groups:
            s.execute(delete(Disposition).where(Disposition.id == disposition_id))
    _name_holds(archive, holds, result)
    if not groups:
        return None, result
    _ledger_disposition(archive, disposition_id, "disposition proposed", agents(actor), now,
                        f"disposition {disposition_id} proposed by {actor.name} ({actor.role}) "
                        f"under retention schedule {schedule.id}")
    with archive.catalog.session() as s:
        return s.get(Disposition, disposition_id), result


#: The record class of an item proposed by hand (``longwatch dispose delete``) rather than by the schedule.
MANUAL = "manual deletion"


def open_disposition_of(archive: Archive, package_id: str) -> Disposition | None:
    """The unfinished disposition (proposed, approved or executing) that holds ``package_id``, if any."""
    with archive.catalog.session() as s:
        return s.scalars(
            select(Disposition).join(DispositionItem, DispositionItem.disposition_id == Disposition.id)
            .where(DispositionItem.package_id == package_id, DispositionItem.status.in_(("pending", "deleting")),
                   Disposition.status.in_(("proposed", "approved", "executing")))).first()


def propose_deletion(archive: Archive, package_id: str, actor: Actor, reason: str,
                     now: datetime | None = None) -> Disposition:
    """One package proposed for deletion outside the schedule (issue 21: no path destroys footage on one word).

    The same two-person rule as the schedule's dispositions: a records manager
    other than the proposer approves it, then executing it deletes the package
    and signs a destruction certificate. A legal hold refuses it now (H003),
    not only at execution; a package already in an open disposition is H019.
    """
    now = clock.current(now)
    open_ = open_disposition_of(archive, package_id)
    if open_ is not None:
        raise LongwatchError("H019", package_id=package_id, disposition_id=open_.id[:8], status=open_.status)
    schedule = active_schedule(archive)
    disposition_id = str(uuid.uuid4())
    with archive.catalog.session() as s:
        package = s.get(Package, package_id)
        if package is None or package.status == "disposed":
            raise LongwatchError("I008", package_id=package_id)
        assignment = s.get(RetentionAssignment, package_id)
        held = HoldIndex.load(s).covering(package, assignment.case_id if assignment else "")
        if held:
            raise LongwatchError("H003", package_id=package_id, hold_id=held[0].id[:8], reason=held[0].reason)
        s.add(Disposition(id=disposition_id, status="proposed", schedule_id=schedule.id, proposer=actor.name,
                          proposer_role=actor.role, proposed_at=now, approver="", approver_role="", certificate=""))
        s.flush()
        s.add(DispositionItem(disposition_id=disposition_id, package_id=package_id, record_class=MANUAL,
                              status="pending", digest=package.tagmanifest_sha256, size_bytes=package.size_bytes))
    _ledger_disposition(archive, disposition_id, "deletion proposed", agents(actor), now,
                        f"deletion of package {package_id} proposed by {actor.name} ({actor.role}) as disposition "
                        f"{disposition_id}: {reason}")
    with archive.catalog.session() as s:
        found = s.get(Disposition, disposition_id)
        assert found is not None
        return found


def _ledger_disposition(archive: Archive, disposition_id: str, action: str, agents: list[dict[str, str]],
                        now: datetime, detail: str) -> None:
    """The proposal or approval in every named package's custody timeline: one event per 1,000 packages,
    read in streams, so a year-end proposal of a million clips never sits in memory at once."""
    query = (select(DispositionItem.package_id).where(DispositionItem.disposition_id == disposition_id)
             .order_by(DispositionItem.package_id))
    batch: list[Any] = []
    with archive.catalog.session() as s:
        for part in s.scalars(query.execution_options(yield_per=1000)).partitions(1000):
            batch.append(custody.CustodyEvent(type="policy assignment", packages=list(part), agents=agents, time=now,
                                              detail=detail, extra={"action": action, "disposition": disposition_id}))
            if len(batch) == 50:
                ledger_append(archive, batch)
                batch = []
    if batch:
        ledger_append(archive, batch)


def get_disposition(archive: Archive, disposition_id: str) -> tuple[Disposition, list[DispositionItem]]:
    with archive.catalog.session() as s:
        escaped = disposition_id.replace("%", "")
        matches = list(s.scalars(select(Disposition).where(Disposition.id.like(escaped + "%")).limit(2)))
        if len(matches) != 1:
            raise LongwatchError("H007", disposition_id=disposition_id)
        items = list(s.scalars(select(DispositionItem).where(DispositionItem.disposition_id == matches[0].id)
                               .order_by(DispositionItem.record_class, DispositionItem.package_id)))
        return matches[0], items


def list_dispositions(archive: Archive) -> list[Disposition]:
    with archive.catalog.session() as s:
        return list(s.scalars(select(Disposition).order_by(Disposition.proposed_at)))


def progress(archive: Archive, disposition_ids: Sequence[str] | None = None) -> dict[str, dict[str, int]]:
    """``{disposition id: {item status: count}}``: how far each disposition has got, in one grouped query
    (the items' statuses are the execution's journal, so this is its progress, whoever runs it)."""
    query = select(DispositionItem.disposition_id, DispositionItem.status, func.count()).group_by(
        DispositionItem.disposition_id, DispositionItem.status)
    if disposition_ids is not None:
        query = query.where(DispositionItem.disposition_id.in_(list(disposition_ids)))
    out: dict[str, dict[str, int]] = {}
    with archive.catalog.session() as s:
        for disposition_id, status, count in s.execute(query):
            out.setdefault(disposition_id, {})[status] = count
    return out


def summary(archive: Archive, disposition_id: str) -> tuple[Disposition, dict[str, int], dict[str, dict[str, int]]]:
    """A disposition with its items counted by status and by class (count, bytes), grouped in the database:
    a page shows a year-end disposition of a million clips without loading its items."""
    with archive.catalog.session() as s:
        escaped = disposition_id.replace("%", "")
        matches = list(s.scalars(select(Disposition).where(Disposition.id.like(escaped + "%")).limit(2)))
        if len(matches) != 1:
            raise LongwatchError("H007", disposition_id=disposition_id)
        found = matches[0]
        rows = s.execute(select(DispositionItem.record_class, DispositionItem.status, func.count(),
                                func.sum(DispositionItem.size_bytes))
                         .where(DispositionItem.disposition_id == found.id)
                         .group_by(DispositionItem.record_class, DispositionItem.status)
                         .order_by(DispositionItem.record_class, DispositionItem.status)).all()
    by_status: dict[str, int] = {}
    by_class: dict[str, dict[str, int]] = {}
    for record_class, status, count, size in rows:
        by_status[status] = by_status.get(status, 0) + count
        group = by_class.setdefault(record_class, {"count": 0, "size": 0})
        group["count"] += count
        group["size"] += int(size or 0)
    return found, by_status, by_class


def approve(archive: Archive, disposition_id: str, actor: Actor, now: datetime | None = None,
            then: Callable[[Session], Any] | None = None) -> Disposition:
    """The second person: a records manager who is not the proposer.

    ``then`` runs in the approval's own transaction (``dispose approve
    --execute`` queues the execution there, core/jobs/queue.py): the job exists
    exactly when the approval does.
    """
    now = clock.current(now)
    disposition, _items = get_disposition(archive, disposition_id)
    if disposition.status != "proposed":
        raise LongwatchError("H006", disposition_id=disposition.id[:8], status=disposition.status,
                             expected="proposed")
    if actor.role != RECORDS_MANAGER:
        raise LongwatchError("H005", user=actor.name, role=actor.role)
    if actor.name.casefold() == disposition.proposer.casefold():
        raise LongwatchError("H004", user=actor.name, disposition_id=disposition.id[:8])
    with archive.catalog.session() as s:
        s.execute(update(Disposition).where(Disposition.id == disposition.id, Disposition.status == "proposed")
                  .values(status="approved", approver=actor.name, approver_role=actor.role, approved_at=now))
        if then is not None:
            then(s)
    _ledger_disposition(archive, disposition.id, "disposition approved", agents(actor, "authorizer"), now,
                        f"disposition {disposition.id} (proposed by {disposition.proposer}) approved by "
                        f"{actor.name} ({actor.role})")
    return get_disposition(archive, disposition.id)[0]


def reject(archive: Archive, disposition_id: str, actor: Actor, reason: str,
           now: datetime | None = None) -> Disposition:
    """The second person says no: a records manager other than the proposer refuses a proposal.

    The same two-person rule as :func:`approve` (W062 otherwise), and a reason
    is required (W063), because a rejection is a decision someone will later
    ask about. The items leave the proposal ("rejected"), so the packages can
    be proposed again by the next run; nothing is destroyed. Recorded in every
    named package's custody timeline, with the reason.
    """
    now = clock.current(now)
    disposition, _items = get_disposition(archive, disposition_id)
    if disposition.status != "proposed":
        raise LongwatchError("H006", disposition_id=disposition.id[:8], status=disposition.status,
                             expected="proposed")
    if actor.role != RECORDS_MANAGER or actor.name.casefold() == disposition.proposer.casefold():
        raise LongwatchError("W062", user=actor.name, role=actor.role, disposition_id=disposition.id[:8],
                             proposer=disposition.proposer)
    if not reason.strip():
        raise LongwatchError("W063", name="reason")
    with archive.catalog.session() as s:
        s.execute(update(Disposition).where(Disposition.id == disposition.id, Disposition.status == "proposed")
                  .values(status="rejected", approver=actor.name, approver_role=actor.role))
        s.execute(update(DispositionItem).where(DispositionItem.disposition_id == disposition.id,
                                                DispositionItem.status == "pending").values(status="rejected"))
    _ledger_disposition(archive, disposition.id, "disposition rejected", agents(actor, "authorizer"), now,
                        f"disposition {disposition.id} (proposed by {disposition.proposer}) rejected by "
                        f"{actor.name} ({actor.role}): {reason.strip()}")
    return get_disposition(archive, disposition.id)[0]


def execute(archive: Archive, disposition_id: str, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """Carry out an approved disposition (or resume one that was interrupted) and sign its certificate.

    One executor at a time across every machine (the nightly job and a
    records manager at the command line may both start it): the second waits,
    then finds the disposition executed (H006).
    """
    with archive.catalog.exclusive("disposition"):
        return _execute(archive, disposition_id, actor, now)


def _execute(archive: Archive, disposition_id: str, actor: Actor, now: datetime | None) -> dict[str, Any]:
    now = clock.current(now)
    disposition, items = get_disposition(archive, disposition_id)
    if disposition.status not in ("approved", "executing"):
        raise LongwatchError("H006", disposition_id=disposition.id[:8], status=disposition.status,
                             expected="approved")
    with archive.catalog.session() as s:
        s.execute(update(Disposition).where(Disposition.id == disposition.id).values(status="executing"))
    approver = Actor(disposition.approver, disposition.approver_role)
    schedule = active_schedule(archive)
    for item in items:
        if item.status not in ("pending", "deleting"):
            continue
        with archive.catalog.session() as s:
            assignment = s.get(RetentionAssignment, item.package_id)
            due = assignment.due_at if assignment else None
            action = assignment.action if assignment else ""
        if item.record_class == MANUAL:  # proposed by hand and approved by a second account: not the schedule's
            try:
                deletion.delete_package(archive, item.package_id, actor,
                                        "administrator" if disposition.proposer_role == "administrator" else "manual",
                                        now=now, disposition_id=disposition.id, approver=approver)
            except LongwatchError as exc:
                if exc.code not in KEPT_BY:
                    raise
                _set_item(archive, disposition.id, item.package_id, KEPT_BY[exc.code])
            continue
        # a schedule change or a new fact since approval: only what is still due is destroyed
        if item.status == "pending" and (due is None or due > now or action != "destroy"):
            _set_item(archive, disposition.id, item.package_id, "not-due")
            continue
        sample = schedule.planning_sample
        if item.status == "pending" and sample is not None and sample.enabled and \
                item.record_class != sample.record_class:
            # the sampled minutes are kept before anything goes; a hold or a store's lock keeps all of it, uncut
            try:
                refuse_if_locked(archive, item.package_id)
            except LongwatchError as exc:
                if exc.code not in KEPT_BY:
                    raise
                _set_item(archive, disposition.id, item.package_id, KEPT_BY[exc.code])
                continue
            try:
                kept = keep_planning_sample(archive, item.package_id, sample, actor, now, disposition.id)
            except LongwatchError as exc:
                # this package's minutes could not be kept (a damaged clip, a store down): it stays, the rest goes
                log.warning("disposition %s: %s", disposition.id[:8], exc.render(translate=False))
                _set_item(archive, disposition.id, item.package_id, SAMPLE_FAILED)
                continue
            if kept == "kept":
                _set_item(archive, disposition.id, item.package_id, KEPT_AS_SAMPLE)
                continue
            if kept == "cut":
                fault("after-planning-sample")
        record_class = schedule.classes.get(item.record_class)
        try:
            deletion.delete_package(archive, item.package_id, actor, "disposition", now=now,
                                    disposition_id=disposition.id, approver=approver,
                                    extra={"record_class": item.record_class, "schedule": disposition.schedule_id,
                                           "legal_basis": record_class.legal_basis if record_class else ""})
        except LongwatchError as exc:
            if exc.code not in KEPT_BY:
                raise
            # a catalog hold, or a store that still locks a copy (a retain-until date not yet reached)
            _set_item(archive, disposition.id, item.package_id, KEPT_BY[exc.code])
    fault("before-certificate")
    disposition, items = get_disposition(archive, disposition.id)
    certificate = write_certificate(archive, disposition, items, actor, now)
    with archive.catalog.session() as s:
        s.execute(update(Disposition).where(Disposition.id == disposition.id)
                  .values(status="executed", executed_at=now, certificate=str(certificate)))
    return result_of(archive, disposition.id)


def result_of(archive: Archive, disposition_id: str) -> dict[str, Any]:
    """What an executed disposition did, by item status (the command's and the job's answer)."""
    disposition, items = get_disposition(archive, disposition_id)

    def having(status: str) -> list[str]:
        return [i.package_id for i in items if i.status == status]

    return {"disposition_id": disposition.id, "certificate": disposition.certificate,
            "deleted": having("deleted"), "held": having("held"), "store_locked": having("store-locked"),
            "not_due": having("not-due"), "sample_failed": having(SAMPLE_FAILED),
            "planning_samples": list(dict.fromkeys(r["package_id"] for r in planning_samples_of(archive,
                                                                                                disposition.id)))}


def _set_item(archive: Archive, disposition_id: str, package_id: str, status: str) -> None:
    with archive.catalog.session() as s:
        s.execute(update(DispositionItem).where(DispositionItem.disposition_id == disposition_id,
                                                DispositionItem.package_id == package_id).values(status=status))
