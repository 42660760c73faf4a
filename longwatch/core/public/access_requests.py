"""Citizens' requests for footage (PIPA data-subject access, information disclosure) and those of
insurers, courts and police: one workflow with a statutory clock, every step a custody event.

A public body must answer within 10 days (PIPA art. 35, enforcement decree art. 41); the clock is
shown from the received date and warns from day 7. A masked copy may be late: the request then
stays in ``masking`` with the reason it was postponed. A refusal picks a lawful reason kept as
data (profiles/refusal-reasons.toml); "the police are not present" and "other people appear" are
not reasons and can never be chosen (other people are masked instead).

Holds are legal holds of the records core (core/records/holds.py); a delivery is an evidence export
of the masked copies (core/evidence/export.py) with a watermarked access copy and an expiring share link.
Each step is also recorded in the request's timeline and the custody ledger.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from longwatch.clock import now as utc_now
from longwatch.core.catalog import search as search_api
from longwatch.core.catalog.models import PublicRequest, RequestStep
from longwatch.core.custody import CustodyEvent, Ledger, person_agent, software_agent
from longwatch.core.evidence import export as export_mod
from longwatch.core.evidence import shares, stored
from longwatch.core.evidence.request import Recipient, Request
from longwatch.core.preservation import derive
from longwatch.core.records import actors
from longwatch.core.records import holds as legal_holds
from longwatch.errors import LongwatchError
from longwatch.i18n import N_

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

#: kind -> (label, default legal basis, fields that must be filled)
KINDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "pipa-access": (N_("personal information access (PIPA)"), "개인정보 보호법 제35조",
                    ("requester", "identity_method", "claimed_start_utc")),
    "disclosure": (N_("information disclosure"), "공공기관의 정보공개에 관한 법률 제10조",
                   ("requester", "claimed_start_utc")),
    "insurer": (N_("insurer"), "개인정보 보호법 제18조제2항", ("requester", "reference", "claimed_start_utc")),
    "court": (N_("court"), "민사소송법 제344조 / 형사소송법 제272조", ("requester", "reference")),
    "police": (N_("police"), "개인정보 보호법 제18조제2항제7호", ("requester", "reference")),
}

STATUSES: dict[str, str] = {
    "received": N_("received"),
    "searching": N_("searching"),
    "masking": N_("masking (postponed)"),
    "ready": N_("ready"),
    "delivered": N_("delivered"),
    "refused": N_("refused"),
}

#: status -> statuses it may move to
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("searching", "refused"),
    "searching": ("masking", "ready", "refused"),
    "masking": ("masking", "ready", "refused"),
    "ready": ("delivered",),
    "delivered": (),
    "refused": (),
}

REASONS_PATH = Path(__file__).resolve().parents[2] / "profiles" / "refusal-reasons.toml"
DEADLINE_DAYS = 10
WARN_FROM_DAY = 7
#: never lawful, whatever a reasons file says
UNLAWFUL_REASONS = frozenset({"police-not-present", "others-appear"})
#: a resident registration number (or anything shaped like one) must never be stored
_ID_NUMBER = re.compile(r"\d{6}\s*-?\s*[1-8]\d{6}")

#: step and clock names shown through gettext on pages
LABELS = (N_("searched"), N_("hold"), N_("postponed"), N_("masked"), N_("ok"), N_("warning"), N_("done"),
          N_("late"))
#: custody event type of each step
STEP_EVENTS: dict[str, str] = {
    "received": "metadata modification",
    "searched": "metadata extraction",
    "hold": "policy assignment",
    "postponed": "metadata modification",
    "masked": "redaction",
    "delivered": "dissemination",
    "refused": "metadata modification",
}


@dataclass(frozen=True)
class RefusalReason:
    code: str
    ko: str
    en: str

    def label(self, language: str) -> str:
        return self.ko if language == "ko" else self.en


@cache
def refusal_reasons() -> tuple[RefusalReason, ...]:
    """The lawful reasons, in the file's order; an unlawful one in the file is an error, not an option."""
    path = REASONS_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        reasons = tuple(RefusalReason(str(r["code"]), str(r["ko"]), str(r["en"])) for r in data["reason"])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise LongwatchError("U010", path="refusal-reasons.toml", detail=str(exc)) from exc
    bad = [r.code for r in reasons if r.code in UNLAWFUL_REASONS]
    if bad:
        raise LongwatchError("U010", path="refusal-reasons.toml", detail=f"not lawful: {', '.join(bad)}")
    return reasons


@dataclass(frozen=True)
class Clock:
    """Where a request stands against the 10-day statutory deadline (days counted in the archive's zone)."""

    day: int  # 1 on the received date
    due: datetime  # end of the last day, archive zone
    remaining: int  # whole days left (negative when late)
    state: str  # ok, warning, overdue, done, late

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day, "due": self.due.isoformat(), "remaining": self.remaining, "state": self.state}


def clock(req: PublicRequest, tz: Any, now: datetime | None = None) -> Clock:
    now = now or utc_now()
    received = req.received_at.astimezone(tz).date()
    end = (req.closed_at or now).astimezone(tz).date()
    day = (end - received).days + 1
    due_date = received + timedelta(days=DEADLINE_DAYS)
    due = datetime.combine(due_date, datetime.min.time(), tzinfo=tz) - timedelta(seconds=1)
    remaining = DEADLINE_DAYS - day
    if req.status in ("delivered", "refused"):
        state = "done" if day <= DEADLINE_DAYS else "late"
    elif day > DEADLINE_DAYS:
        state = "overdue"
    elif day >= WARN_FROM_DAY:
        state = "warning"
    else:
        state = "ok"
    return Clock(day, due, remaining, state)


def _number(archive: Archive, received: datetime) -> str:
    local = received.astimezone(archive.settings.tz)
    prefix = f"REQ-{local:%Y%m%d}-"
    with archive.catalog.session() as s:
        taken = s.scalars(select(PublicRequest.number).where(PublicRequest.number.like(prefix + "%"))).all()
    return f"{prefix}{len(taken) + 1:03d}"


def _record(archive: Archive, req: PublicRequest, step: str, detail: str, actor: str,
            packages: list[str] | None = None, outcome: str = "success", extra: dict[str, Any] | None = None,
            ) -> RequestStep:
    """One step: a custody ledger entry (the record) and a row for the request's timeline."""
    agents = [software_agent()]
    if actor:
        agents.append(person_agent(actor))
    event = CustodyEvent(type=STEP_EVENTS[step], packages=packages or [], outcome=outcome, detail=detail[:2000],
                         agents=agents, extra={"request": req.number, "request_kind": req.kind, "step": step,
                                               **(extra or {})})
    Ledger.for_archive(archive).append([event])
    row = RequestStep(request_id=req.id, time_utc=utc_now(), step=step, detail=detail, actor=actor,
                      ledger_event=event.event_id)
    with archive.catalog.session() as s:
        s.add(row)
    return row


def create(archive: Archive, kind: str, *, requester: str, identity_method: str = "", contact: str = "",
           claimed_start: datetime | None = None, claimed_end: datetime | None = None, claimed_place: str = "",
           camera: str = "", legal_basis: str = "", reference: str = "", received_at: datetime | None = None,
           number: str = "", actor: str = "") -> PublicRequest:
    if kind not in KINDS:
        raise LongwatchError("U003", value=kind, allowed=", ".join(KINDS))
    if _ID_NUMBER.search(identity_method) or _ID_NUMBER.search(contact):
        raise LongwatchError("U007")
    received = received_at or utc_now()
    if claimed_start and not claimed_end:
        claimed_end = claimed_start + timedelta(minutes=30)
    if claimed_start and claimed_end and claimed_end < claimed_start:
        raise LongwatchError("Q001", start=claimed_start.isoformat(), end=claimed_end.isoformat())
    req = PublicRequest(number=number or _number(archive, received), kind=kind, requester=requester.strip(),
                        identity_method=identity_method.strip(), contact=contact.strip(),
                        legal_basis=legal_basis or KINDS[kind][1], reference=reference.strip(),
                        claimed_start_utc=claimed_start, claimed_end_utc=claimed_end,
                        claimed_place=claimed_place.strip(), camera=camera.strip(), received_at=received,
                        status="received", status_reason="", refusal_reason="", packages="")
    for name in KINDS[kind][2]:
        if not getattr(req, name):
            raise LongwatchError("U005", name=name, kind=kind)
    with archive.catalog.session() as s:
        s.add(req)
    _record(archive, req, "received", f"{kind}: {req.requester} ({req.legal_basis})", actor)
    return req


def get(archive: Archive, number: str) -> PublicRequest:
    with archive.catalog.session() as s:
        req = s.scalars(select(PublicRequest).where(PublicRequest.number == number)).first()
        if req is None:
            raise LongwatchError("U001", number=number)
        _ = list(req.steps)
    return req


def listing(archive: Archive, status: str = "", kind: str = "") -> list[PublicRequest]:
    with archive.catalog.session() as s:
        q = select(PublicRequest).order_by(PublicRequest.received_at.desc())
        if status:
            q = q.where(PublicRequest.status == status)
        if kind:
            q = q.where(PublicRequest.kind == kind)
        return list(s.scalars(q).all())


def _move(archive: Archive, req: PublicRequest, target: str, **fields: Any) -> PublicRequest:
    allowed = TRANSITIONS[req.status]
    if target not in allowed:
        raise LongwatchError("U002", current=req.status, target=target, allowed=", ".join(allowed) or "-")
    with archive.catalog.session() as s:
        row = s.get(PublicRequest, req.id)
        assert row is not None
        row.status = target
        for key, value in fields.items():
            setattr(row, key, value)
        if target in ("delivered", "refused"):
            row.closed_at = utc_now()
    return get(archive, req.number)


def package_ids(req: PublicRequest) -> list[str]:
    return [p for p in (req.packages or "").split(",") if p]


def search(archive: Archive, number: str, actor: str = "", limit: int = 500) -> PublicRequest:
    """Find the footage of the claimed time (and camera), then hold it at once."""
    req = get(archive, number)
    if req.claimed_start_utc is None:  # never a search of the whole archive
        raise LongwatchError("U005", name="claimed_start_utc", kind=req.kind)
    query = search_api.Query(start=req.claimed_start_utc, end=req.claimed_end_utc,
                             cameras=[req.camera] if req.camera else [], order="asc", limit=limit)
    found = sorted({item["package_id"] for item in search_api.search(archive.catalog, query).items})
    req = _move(archive, req, "searching", packages=",".join(found))
    _record(archive, req, "searched", f"{len(found)} packages for {req.claimed_place or req.camera or '-'}",
            actor, packages=found)
    if found:
        place_hold(archive, req, found, actor)
    return get(archive, number)


def place_hold(archive: Archive, req: PublicRequest, packages: list[str], actor: str = "") -> dict[str, Any]:
    """Hold the request's footage at once, so the 30-day deletion cannot win the race (legal holds of
    core/records/holds.py, each a ledger event); the request's timeline records it too."""
    holds = _hold(archive, packages, actor, f"{req.kind} request {req.number}")
    _record(archive, req, "hold", f"hold placed on {len(packages)} packages", actor, packages=packages,
            extra={"holds": holds})
    return {"hold": f"request:{req.number}", "packages": packages, "holds": holds, "wired": True}


def _hold(archive: Archive, packages: list[str], actor: str, reason: str) -> list[str]:
    """One legal hold per package, through the retention core that every deletion path checks."""
    who = actors.Actor(actor or "longwatch", "operator")
    return [legal_holds.place_hold(archive, who, owner=who.name, reason=reason, package_id=pid).id
            for pid in packages]


def postpone(archive: Archive, number: str, reason: str, actor: str = "") -> PublicRequest:
    if not reason.strip():
        raise LongwatchError("U006")
    req = _move(archive, get(archive, number), "masking", status_reason=reason.strip())
    _record(archive, req, "postponed", reason.strip(), actor)
    return req


def mask(archive: Archive, number: str, keep: frozenset[str] = frozenset(), actor: str = "",
         result_ids: dict[str, str] | None = None) -> PublicRequest:
    """A copy of each found package in which every person but the requester is masked (their face
    track is ``keep``; with none kept, every face is masked).

    A job passes ``result_ids`` (found package -> masked copy's id, chosen when
    it was queued): a rerun after a kill finds the copies its attempt made and
    records the step once, and a rerun after it finished changes nothing.
    """
    from longwatch.core.preservation import redact  # NumPy and the frame decoder: masking only

    req = get(archive, number)
    if result_ids is not None and req.status == "ready":
        return req  # a job's attempt got to the end before it was killed
    if "ready" not in TRANSITIONS[req.status]:
        raise LongwatchError("U002", current=req.status, target="ready", allowed=", ".join(TRANSITIONS[req.status]))
    copies = []
    for package_id in package_ids(req):
        out = (result_ids or {}).get(package_id)
        if out is not None and derive.find_published(archive, out) is not None:
            copies.append(out)
            continue
        result = redact.redact(archive, package_id, faces=True, keep=keep,
                               reason=f"{req.kind} request {req.number}", package_id_out=out)
        if result.package is not None:
            copies.append(result.package.id)
    if not _masked_step(archive, req, copies):
        _record(archive, req, "masked", f"{len(copies)} masked copies; kept: {', '.join(sorted(keep)) or '-'}",
                actor, packages=copies)
    return _move(archive, get(archive, number), "ready", packages=",".join(copies) or req.packages)


def _masked_step(archive: Archive, req: PublicRequest, copies: list[str]) -> bool:
    """Has a "masked" step of exactly these copies been recorded (by a killed attempt of the same job)?"""
    ledger = Ledger.for_archive(archive)
    for step in req.steps:
        if step.step == "masked" and step.ledger_event:
            _seq, entry, _line = ledger.entry(step.ledger_event)
            if sorted(entry.get("packages", [])) == sorted(copies):
                return True
    return False


def _check_masked(archive: Archive, req: PublicRequest) -> list[str]:
    """The packages to deliver, each a copy the "masked" step recorded in the ledger: an unmasked
    original never leaves through a request."""
    packages = package_ids(req)
    if not packages:
        raise LongwatchError("U012", number=req.number, detail="no footage was found for it")
    masked: set[str] = set()
    ledger = Ledger.for_archive(archive)
    for step in req.steps:
        if step.step == "masked" and step.ledger_event:
            _seq, entry, _line = ledger.entry(step.ledger_event)
            masked.update(entry.get("packages", []))
    for pid in packages:
        if pid not in masked:
            raise LongwatchError("U012", number=req.number,
                                 detail=f"package {pid} is not a masked copy; run `longwatch requests mask`")
    return packages


def make_export(archive: Archive, req: PublicRequest, recipient: str, expires_days: int,
                actor: str = "") -> dict[str, Any]:
    """The masked copies as an evidence export (core/evidence/export.py): originals of the redacted packages,
    an access copy watermarked with the recipient, a signed bag ``longwatch verify-export`` checks,
    and an expiring share link. The export's own "transfer" event and this request's "delivered"
    step (naming the export and the link) both go into the custody ledger."""
    if expires_days < 1:
        raise LongwatchError("U012", number=req.number, detail="the link must stay valid for at least one day")
    packages = _check_masked(archive, req)
    now = utc_now()
    expires = now + timedelta(days=expires_days)
    label = KINDS[req.kind][0]
    who = Recipient(agency=recipient, case_number=req.number, legal_basis=req.legal_basis,
                    purpose=f"{label} {req.number}", expires=expires)
    request = Request(who, package_ids=packages, language=archive.settings.language or "ko",
                      reason=f"{req.kind} request {req.number}", watermark=True)
    # written in this machine's scratch, then into the object store: the web server that serves the link
    # may be another machine (a failure leaves nothing behind, and nothing in it was sent)
    result = stored.run_export(archive, request, str(uuid.uuid4()), now=now)
    export_id = str(result["export_id"])
    share_id, token = shares.create_share(archive, result["key"], expires, created_by=actor)
    watermark = export_mod.watermark_text(who, export_id)
    export = {"recipient": recipient, "watermark": watermark, "expires": expires.isoformat(),
              "packages": packages, "legal_basis": req.legal_basis, "wired": True,
              "export_id": export_id, "path": result["key"], "key": result["key"], "files": result["files"],
              "transfer_seq": result["transfer_seq"], "share": share_id, "link": f"/s/{token}"}
    _record(archive, req, "delivered",
            f"export {export_id} to {recipient} ({req.legal_basis}), share link {share_id} "
            f"until {expires:%Y-%m-%d}", actor, packages=packages,
            extra={"recipient": recipient, "legal_basis": req.legal_basis, "expires": export["expires"],
                   "watermark": watermark, "export_id": export_id, "transfer_seq": result["transfer_seq"],
                   "share": share_id, "wired": True})
    return export


def deliver(archive: Archive, number: str, recipient: str = "", expires_days: int = 7,
            actor: str = "") -> tuple[PublicRequest, dict[str, Any]]:
    """Export the masked copies and make the link; the request is delivered only once both exist."""
    req = get(archive, number)
    if req.status != "ready":
        raise LongwatchError("U002", current=req.status, target="delivered",
                             allowed=", ".join(TRANSITIONS[req.status]) or "-")
    export = make_export(archive, req, recipient or req.requester, expires_days, actor)
    return _move(archive, req, "delivered"), export


def refuse(archive: Archive, number: str, reason: str, note: str = "", actor: str = "") -> PublicRequest:
    codes = [r.code for r in refusal_reasons()]
    if reason not in codes:
        raise LongwatchError("U004", reason=reason, allowed=", ".join(codes))
    req = _move(archive, get(archive, number), "refused", refusal_reason=reason, status_reason=note.strip())
    _record(archive, req, "refused", f"{reason}: {note}".strip(": "), actor)
    return req


def hold_packages(archive: Archive, label: str, packages: list[str], actor: str = "",
                  reason: str = "") -> dict[str, Any]:
    """Holds outside a request (an incident inquiry): legal holds through the retention core."""
    holds = _hold(archive, packages, actor, f"{label} {reason}".strip())
    return {"hold": label, "packages": packages, "holds": holds, "wired": True}


