"""The CCTV operation register (PIPA): built from the custody ledger and the requests, never typed by hand.

PIPA expects a public body to log every use beyond the stated purpose, every provision to a third
party, every access request and every destruction; a viewing by the body's own staff in the web pages is
filed as a use within the body, never as a provision. Each row here points at the ledger entry (or the
request) it was read from, so the annual inspection can check the register against the record.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from longwatch import clock, i18n
from longwatch.clock import parse_utc
from longwatch.core.catalog.models import PublicRequest
from longwatch.core.custody import Ledger
from longwatch.core.documents import pdfa
from longwatch.i18n import N_, gettext, ngettext

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

CATEGORIES: dict[str, str] = {
    "use": N_("use within the body (viewing)"),
    "beyond-purpose": N_("use beyond purpose"),
    "provision": N_("provision to a third party"),
    "access-request": N_("access request"),
    "destruction": N_("destruction"),
}

#: ledger event type -> category (a request step may refine it below)
EVENT_CATEGORIES: dict[str, str] = {
    "dissemination": "provision",
    "exporting": "provision",
    "transfer": "provision",  # an evidence export (core/evidence/export.py) to an agency
    "deletion": "destruction",
    "deaccession": "destruction",
}
#: request kinds whose provision is a use beyond the stated purpose (PIPA art. 18(2))
BEYOND_PURPOSE_KINDS = frozenset({"police", "court", "insurer"})
#: what the web records when a signed-in member of staff plays or downloads footage (web/security.py)
INTERNAL_ACTIONS = frozenset({"view", "download"})


def _internal(extra: dict[str, Any]) -> bool:
    """A viewing by the body's own staff: a web view or download by a signed-in account, handed to no one.

    Footage that leaves through a request, an export or a share link is a provision to a third party; a
    member of staff watching it in the archive's own pages is a use of it (PIPA art. 18(1))."""
    return (extra.get("action") in INTERNAL_ACTIONS and "user_role" in extra
            and not any(extra.get(k) for k in ("request", "export_id", "share", "recipient")))

COLUMNS = ("time", "category", "event_type", "request", "recipient", "legal_basis", "packages", "actor",
           "detail", "ledger_seq")


@dataclass
class Row:
    time: datetime
    category: str
    event_type: str
    request: str = ""
    recipient: str = ""
    legal_basis: str = ""
    packages: list[str] = field(default_factory=list)
    actor: str = ""
    detail: str = ""
    ledger_seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["time"] = self.time.isoformat().replace("+00:00", "Z")
        return out


def _actor(entry: dict[str, Any]) -> str:
    people = [a.get("name", "") for a in entry.get("agents", []) if a.get("type") == "person"]
    return ", ".join(p for p in people if p)


def _from_ledger(archive: Archive) -> Iterable[Row]:
    entries = Ledger.for_archive(archive).of_types(list(EVENT_CATEGORIES))
    # a request's delivery is one provision: its step names the export, whose own transfer is not repeated
    delivered = {str((e.get("extra") or {}).get("export_id")) for _s, t, e in entries
                 if t == "dissemination" and (e.get("extra") or {}).get("request")}
    for seq, event_type, entry in entries:
        extra = entry.get("extra") or {}
        if event_type == "transfer" and str(extra.get("export_id")) in delivered:
            continue
        category = EVENT_CATEGORIES[event_type]
        if event_type == "dissemination" and _internal(extra):
            category = "use"
        if extra.get("beyond_purpose") or (category == "provision" and extra.get("request_kind") in
                                           BEYOND_PURPOSE_KINDS):
            category = "beyond-purpose"
        recipient, legal_basis = extra.get("recipient", ""), extra.get("legal_basis", "")
        if isinstance(recipient, dict):  # an export's recipient: agency, officer, legal basis, ...
            legal_basis = legal_basis or recipient.get("legal_basis", "")
            recipient = " ".join(str(recipient.get(k, "")) for k in ("agency", "officer") if recipient.get(k))
        yield Row(time=parse_utc(entry["time"]), category=category, event_type=event_type,
                  request=str(extra.get("request", "")), recipient=str(recipient),
                  legal_basis=str(legal_basis), packages=list(entry.get("packages", [])),
                  actor=_actor(entry), detail=entry.get("detail", ""), ledger_seq=seq)


def _from_requests(archive: Archive) -> Iterable[Row]:
    with archive.catalog.session() as s:
        for req in s.scalars(select(PublicRequest).order_by(PublicRequest.received_at)).all():
            first = req.steps[0] if req.steps else None
            yield Row(time=req.received_at, category="access-request", event_type=req.kind, request=req.number,
                      recipient=req.requester, legal_basis=req.legal_basis,
                      packages=[p for p in (req.packages or "").split(",") if p],
                      actor=first.actor if first else "",
                      detail=f"{req.status}" + (f" ({req.refusal_reason})" if req.refusal_reason else ""))


def build(archive: Archive, *, start: datetime | None = None, end: datetime | None = None,
          categories: Iterable[str] = (), text: str = "") -> list[Row]:
    """The register's rows, oldest first, filtered by time span, category and words."""
    wanted = set(categories)
    rows = [*_from_ledger(archive), *_from_requests(archive)]
    out = []
    needle = text.strip().lower()
    for row in rows:
        if (start and row.time < start) or (end and row.time >= end):
            continue
        if wanted and row.category not in wanted:
            continue
        if needle and needle not in " ".join(
                (row.request, row.recipient, row.detail, row.legal_basis, " ".join(row.packages))).lower():
            continue
        out.append(row)
    out.sort(key=lambda r: (r.time, r.ledger_seq or 0))
    return out


def to_csv(rows: list[Row], tz: Any) -> str:
    """UTF-8 with a byte-order mark, so spreadsheet programs open the Korean text correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([gettext(c) for c in COLUMNS])
    for row in rows:
        writer.writerow([row.time.astimezone(tz).isoformat(timespec="seconds"), gettext(CATEGORIES[row.category]),
                         row.event_type, row.request, row.recipient, row.legal_basis, " ".join(row.packages),
                         row.actor, row.detail, "" if row.ledger_seq is None else row.ledger_seq])
    return "\ufeff" + buf.getvalue()


def to_html(rows: list[Row], tz: Any, title: str, organization: str, printed: datetime | None = None) -> str:
    """The register as one printable page in the reader's language; ``to_pdf`` files the same page as PDF/A."""
    e = html.escape
    header = [gettext("time"), gettext("category"), gettext("request"), gettext("recipient"),
              gettext("legal_basis"), gettext("packages"), gettext("detail"), gettext("ledger_seq")]
    body = "".join(
        "<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in (
            r.time.astimezone(tz).strftime("%Y-%m-%d %H:%M"), gettext(CATEGORIES[r.category]), r.request,
            r.recipient, r.legal_basis, len(r.packages) or "", r.detail,
            "" if r.ledger_seq is None else r.ledger_seq)) + "</tr>\n" for r in rows)
    when = (printed or clock.now()).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    count = ngettext("{count} row", "{count} rows", len(rows)).format(count=len(rows))
    return f"""<!doctype html>
<html lang="{e(i18n.current_language())}"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>table{{width:100%}}</style></head><body>
<h1>{e(title)}</h1>
<p>{e(organization)} · {e(when)} · {e(count)}</p>
<table>
<thead><tr>{"".join(f'<th scope="col">{e(h)}</th>' for h in header)}</tr></thead>
<tbody>
{body}</tbody>
</table>
</body></html>
"""


def to_pdf(rows: list[Row], tz: Any, title: str, organization: str, printed: datetime | None = None) -> bytes:
    """The register as PDF/A (tagged, page numbers, Korean font embedded), landscape for its columns."""
    when = printed or clock.now()
    return pdfa.render(to_html(rows, tz, title, organization, when), title=title, lang=i18n.current_language(),
                       created=when, landscape=True, document="CCTV operation register")
