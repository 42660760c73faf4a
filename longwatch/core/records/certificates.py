"""Destruction certificates: the signed proof of what a disposition destroyed, and what remains of it.

An executed disposition ends with a certificate (:func:`write_certificate`):
a JSON record of every package destroyed (class, legal basis, digests, files),
what was withheld and what was kept as planning samples, who proposed,
approved and executed it; its detached CMS signature by the archive key (as
packages are signed); a printable bilingual HTML page
(:func:`render_certificate_html`); and the same page as PDF/A to file
(:func:`render_certificate_pdf`), which carries the signed JSON and its
signature inside it. :func:`verify_certificate` checks one
(``longwatch verify CERTIFICATE.json``), :func:`is_certificate` tells one
from a package, and :func:`tombstone` is what ``longwatch show`` says of a
disposed package.

The certificate's files are objects in the store (``certificates/<disposition
id>.json``, ``.json.p7s``, ``.json.p7s.tsr``, ``.html``, ``.pdf`` on the primary
location, :mod:`longwatch.core.storage.objects`), written once and under the
store's legal hold where it has object lock: the machine that executed the
disposition is not the one that serves the certificate, and the two share only
the database and the store. :func:`fetch_certificate` copies one to a local
folder (``longwatch dispose certificate ID -o DIR``). Certificates written by
earlier releases under the archive folder (``retention/certificates``) are
still read, for one release.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from longwatch import clock
from longwatch.core import custody
from longwatch.core.aip import signing, timestamp
from longwatch.core.catalog.models import Clip, Disposition, DispositionItem, Package
from longwatch.core.custody.audit import TSA_TOLERANCE
from longwatch.core.documents import pdfa
from longwatch.core.records.actors import Actor, agents, ledger_append
from longwatch.core.records.sampling import planning_samples_of
from longwatch.core.records.schedules import active_schedule
from longwatch.core.storage.objects import objects
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

CERTIFICATES = "certificates"
#: Where releases before 0.9 wrote certificates, under the archive folder (still read, for one release).
OLD_CERTIFICATES = "retention/certificates"
#: A certificate's files by suffix: the record, its signature and time-stamp, the page, the PDF/A.
SUFFIXES = ("json", "json.p7s", "json.p7s.tsr", "html", "pdf")
CERTIFICATE_TYPE = "longwatch-destruction-certificate"
LOG = logging.getLogger(__name__)


def write_certificate(archive: Archive, disposition: Disposition, items: Sequence[DispositionItem], actor: Actor,
                      now: datetime) -> str:
    """JSON (the record), its detached CMS signature by the archive key (as packages are signed), HTML and PDF/A,
    into the store; returns the record's key."""
    schedule = active_schedule(archive)
    deleted = [i for i in items if i.status == "deleted"]
    with archive.catalog.session() as s:
        clips: dict[str, list[Clip]] = {}
        for clip in s.scalars(select(Clip).where(Clip.package_id.in_([i.package_id for i in deleted]))):
            clips.setdefault(clip.package_id, []).append(clip)
        packages = {p.id: p for p in s.scalars(select(Package).where(Package.id.in_([i.package_id for i in deleted])))}

    def describe(item: DispositionItem) -> dict[str, Any]:
        rc = schedule.classes.get(item.record_class)
        p = packages.get(item.package_id)
        return {"package_id": item.package_id, "record_class": item.record_class,
                "class_name": rc.name if rc else "", "period": rc.period if rc else "",
                "legal_basis": rc.legal_basis if rc else "", "tagmanifest_sha256": item.digest,
                "size": item.size_bytes, "camera": p.camera if p else "",
                "recorded_from": clock.iso_z(p.start_utc) if p else None,
                "recorded_to": clock.iso_z(p.end_utc) if p else None,
                "destroyed_at": clock.iso_z(item.done_at),
                "files": [{"path": c.relpath, "sha256": c.sha256, "sha512": c.sha512, "size": c.size_bytes}
                          for c in clips.get(item.package_id, [])]}

    body = {
        "type": CERTIFICATE_TYPE, "version": 1, "disposition_id": disposition.id,
        "archive": archive.settings.name, "organization": archive.settings.organization,
        "schedule": {"id": disposition.schedule_id, "title": schedule.title, "owner": schedule.owner},
        "proposer": {"name": disposition.proposer, "role": disposition.proposer_role,
                     "time": clock.iso_z(disposition.proposed_at)},
        "approver": {"name": disposition.approver, "role": disposition.approver_role,
                     "time": clock.iso_z(disposition.approved_at)},
        "executor": {"name": actor.name, "role": actor.role}, "executed_at": clock.iso_z(now),
        "packages": [describe(i) for i in deleted],
        "withheld": [{"package_id": i.package_id, "record_class": i.record_class, "status": i.status}
                     for i in items if i.status != "deleted"],
        "planning_samples": planning_samples_of(archive, disposition.id),
        "totals": {"packages": len(deleted), "bytes": sum(i.size_bytes for i in deleted)},
        "signer": archive.signer.fingerprint,
    }
    data = json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    store = objects(archive)
    key = certificate_key(disposition.id)
    notes: list[str] = []
    token: bytes | None = None
    earlier = store.stat(key)
    if earlier is not None:
        # an earlier attempt signed and stored it and was killed before the catalog said so: that record stands
        data = store.read_bytes(key)
        token = b"" if store.stat(certificate_key(disposition.id, "json.p7s.tsr")) else None
        notes.append("the certificate an interrupted attempt stored was kept")
    else:
        signature = signing.sign_detached(archive.signer, data)
        token, tsa_error = _timestamp(archive, signature)
        outputs = [("json.p7s", signature), ("html", render_certificate_html(body).encode("utf-8"))]
        if token is not None:
            outputs.append(("json.p7s.tsr", token))
        # The footage is gone already: a PDF that cannot be made (no Korean font, no Pango) must not cost the
        # signed record. The ledger entry says why; the web page renders it again on request.
        pdf_error = ""
        try:
            outputs.append(("pdf", render_certificate_pdf(data, signature)))
        except LongwatchError as exc:
            pdf_error = f"[{exc.code}] {exc}"
            LOG.warning("destruction certificate %s without PDF: %s", disposition.id, exc)
        notes += [f"the time-stamp authority failed: {tsa_error}" if tsa_error else "",
                  f"no PDF/A: {pdf_error}" if pdf_error else ""]
        for suffix, content in outputs:  # the record last: a certificate whose JSON is stored is whole
            part = certificate_key(disposition.id, suffix)
            store.put_bytes(part, content)
            store.adapter.hold_object(part)
        store.put_once(key, data)
    ledger_append(archive, [custody.CustodyEvent(
        type="digital signature generation", packages=[i.package_id for i in deleted][:1000],
        agents=agents(actor), time=now, detail=f"destruction certificate of disposition {disposition.id}",
        note="; ".join(n for n in notes if n),
        extra={"certificate_sha256": hashlib.sha256(data).hexdigest(), "disposition": disposition.id,
               "packages": len(deleted), "timestamped": token is not None})])
    return key


def certificate_key(disposition_id: str, suffix: str = "json") -> str:
    """``certificates/<disposition id>.<suffix>``: where a certificate's file is in the store."""
    return f"{CERTIFICATES}/{disposition_id}.{suffix}"


def read_certificate_file(archive: Archive, disposition_id: str, suffix: str = "json") -> bytes | None:
    """One file of a disposition's certificate (``suffix`` one of :data:`SUFFIXES`): from the store, else from
    the archive folder where earlier releases wrote it; None when neither has it."""
    if suffix not in SUFFIXES:
        return None
    try:
        return objects(archive).read_bytes(certificate_key(disposition_id, suffix))
    except FileNotFoundError:
        pass
    try:
        return (archive.root / OLD_CERTIFICATES / f"{disposition_id}.{suffix}").read_bytes()
    except OSError:
        return None


def fetch_certificate(archive: Archive, disposition_id: str, folder: Path) -> Path:
    """Copy a disposition's certificate files to ``folder``; returns the JSON's local path (what ``longwatch
    verify`` checks). H022 when the store has no such certificate."""
    data = read_certificate_file(archive, disposition_id)
    if data is None:
        raise LongwatchError("H022", disposition_id=disposition_id, key=certificate_key(disposition_id),
                             location=archive.settings.primary_location)
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in SUFFIXES:
        content = data if suffix == "json" else read_certificate_file(archive, disposition_id, suffix)
        if content is not None:
            target = folder / f"{disposition_id}.{suffix}"
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(content)
            os.replace(tmp, target)
    return folder / f"{disposition_id}.json"


def _timestamp(archive: Archive, signature: bytes) -> tuple[bytes | None, str]:
    """An RFC 3161 token over the certificate's signature when a time-stamp authority is configured.

    The footage is already gone when the certificate is written, so a TSA that
    does not answer cannot stop anything: the certificate is kept without a
    token, the ledger entry says why, and ``verify`` reports it (H020) for as
    long as a TSA is configured.
    """
    settings = custody.load_settings(archive.root)
    if not settings.tsa_url:
        return None, ""
    try:
        return timestamp.request_token(settings.tsa_url, signature), ""
    except timestamp.TimestampError as exc:
        return None, str(exc)


def certificate_title(body: dict[str, Any]) -> str:
    return f"파기 확인서 Destruction certificate {body['disposition_id']}"


def render_certificate_html(body: dict[str, Any]) -> str:
    """A readable, printable page in English and Korean; the JSON and its signature are the record."""
    e = html.escape
    rows = "".join(
        f"<tr><td><code>{e(p['package_id'])}</code></td><td>{e(p['class_name'] or p['record_class'])}</td>"
        f"<td>{e(p['legal_basis'])}</td><td>{e(str(p['recorded_from'] or ''))}</td><td>{p['size']}</td>"
        f"<td><code>{e(p['tagmanifest_sha256'])}</code></td></tr>" for p in body["packages"])

    def person(p: dict[str, Any]) -> str:
        return f"{e(p['name'])} ({e(p['role'])}) {e(str(p['time']))}"

    withheld = "".join(f"<li><code>{e(w['package_id'])}</code>: {e(w['status'])}</li>" for w in body["withheld"])
    samples = "".join(
        f"<tr><td><code>{e(k['package_id'])}</code></td><td><code>{e(k['source_package_id'])}</code></td>"
        f"<td>{e(k['kind'])}</td><td>{e(k['camera'])}</td><td>{e(str(k['start']))}</td><td>{e(str(k['end']))}</td>"
        f"<td>{e(k['record_class'])}</td><td>{e(str(k['keep_until'] or ''))}</td></tr>"
        for k in body.get("planning_samples", []))
    sample_table = (
        "<h2>Kept as planning samples / 정책 기획용 표본으로 보존</h2><table><tr><th>package</th><th>source</th>"
        "<th>kind</th><th>camera</th><th>from</th><th>to</th><th>class / 분류</th><th>kept until / 보존 기한</th>"
        f"</tr>{samples}</table>") if samples else ""
    return f"""<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>{e(certificate_title(body))}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:4px}}</style>
</head><body>
<h1>Destruction certificate / 파기 확인서</h1>
<p>Archive / 기록관: {e(body['archive'])} {e(body.get('organization') or '')}</p>
<p>Disposition / 처분: <code>{e(body['disposition_id'])}</code></p>
<p>Schedule / 보존기간 책정표: {e(body['schedule']['id'])} — {e(body['schedule']['title'])}</p>
<p>Proposed by / 제안: {person(body['proposer'])}</p>
<p>Approved by / 승인: {person(body['approver'])}</p>
<p>Executed / 집행: {e(body['executor']['name'])} {e(str(body['executed_at']))}</p>
<p>Packages destroyed / 파기한 패키지: {body['totals']['packages']} ({body['totals']['bytes']} bytes)</p>
<table><tr><th>package</th><th>class / 분류</th><th>legal basis / 근거</th><th>recorded / 촬영</th>
<th>bytes</th><th>tag manifest SHA-256</th></tr>{rows}</table>
{sample_table}
{f'<h2>Withheld / 제외</h2><ul>{withheld}</ul>' if withheld else ''}
<p>Signed by / 서명: <code>{e(body['signer'])}</code>. The JSON file and its detached CMS signature (.p7s) are
the record; check them with <code>longwatch verify CERTIFICATE.json</code>.</p>
</body></html>
"""


def render_certificate_pdf(data: bytes, signature: bytes | None = None) -> bytes:
    """The certificate's page as PDF/A-3, carrying the signed JSON (and its signature) as embedded files.

    A records office files the PDF; the JSON inside it is still the record
    that ``longwatch verify`` checks, so the filed copy keeps its proof.
    """
    body = json.loads(data)
    attachments = [pdfa.Attachment(f"{body['disposition_id']}.json", data, "signed destruction certificate (JSON)")]
    if signature is not None:
        attachments.append(pdfa.Attachment(f"{body['disposition_id']}.json.p7s", signature,
                                           "detached CMS signature of the JSON", "Supplement"))
    executed = clock.parse_utc(str(body["executed_at"])) if body.get("executed_at") else None
    # landscape: a package id and its tag manifest digest each stay on one line in the table
    return pdfa.render(render_certificate_html(body), title=certificate_title(body), lang="ko", created=executed,
                       landscape=True, attachments=attachments, document="destruction certificate")


def tombstone(archive: Archive, package_id: str) -> dict[str, Any] | None:
    """What remains of a disposed package: when, under which disposition, approved by whom, and the
    certificate that proves it (for `longwatch show`)."""
    with archive.catalog.session() as s:
        found = s.execute(
            select(DispositionItem, Disposition)
            .join(Disposition, Disposition.id == DispositionItem.disposition_id)
            .where(DispositionItem.package_id == package_id, DispositionItem.status == "deleted")
            .order_by(DispositionItem.done_at.desc())).first()
    if found is None:
        return None
    item, disposition = found
    return {"disposition": disposition.id, "record_class": item.record_class, "destroyed_at": item.done_at,
            "proposer": disposition.proposer, "approver": disposition.approver,
            "approved_at": disposition.approved_at, "certificate": disposition.certificate,
            "tagmanifest_sha256": item.digest}


def _check_token(path: Path, body: dict[str, Any], signature_path: Path, tsa_cert: Any,
                 problems: list[LongwatchError]) -> str | None:
    token_path = signature_path.with_name(signature_path.name + ".tsr")
    if not token_path.exists():
        if tsa_cert is not None:
            problems.append(LongwatchError("H020", path=path, detail=f"{token_path.name} is missing"))
        return None
    try:
        info = timestamp.verify_token(token_path.read_bytes(), signature_path.read_bytes())
    except (timestamp.TimestampError, OSError) as exc:
        problems.append(LongwatchError("H020", path=path, detail=str(exc)))
        return None
    if tsa_cert is not None and info.tsa_fingerprint != signing.fingerprint(tsa_cert):
        problems.append(LongwatchError("H020", path=path, detail=f"signed by another TSA ({info.tsa_fingerprint})"))
    executed = clock.parse_utc(str(body.get("executed_at") or "")) if body.get("executed_at") else None
    when = info.time if info.time.tzinfo else info.time.replace(tzinfo=UTC)
    if executed is not None and (when < executed - timedelta(seconds=1) or when - executed > TSA_TOLERANCE):
        problems.append(LongwatchError("H020", path=path, detail=f"the token is dated {clock.iso_z(when)}, the "
                                                                 f"certificate says {clock.iso_z(executed)}"))
    return clock.iso_z(when)


def is_certificate(path: Path) -> bool:
    if path.suffix != ".json" or not path.is_file():
        return False
    try:
        return json.loads(path.read_bytes()).get("type") == CERTIFICATE_TYPE
    except (ValueError, OSError, AttributeError):
        return False


def verify_certificate(path: Path, trusted: Sequence[Any] | None = None, tsa_cert: Any = None) -> dict[str, Any]:
    """Signature and trust of a destruction certificate, and its time-stamp; problems are coded (H015, H016, H020).

    With a trusted TSA (``tsa_cert``), the token must be there, verify over the
    signature, come from that TSA and be dated with the certificate's
    ``executed_at`` (up to the ledger's tolerance later): a certificate cannot
    be backdated or re-signed later without its token showing it.
    """
    problems: list[LongwatchError] = []
    try:
        data = path.read_bytes()
        body = json.loads(data)
        if body.get("type") != CERTIFICATE_TYPE:
            raise ValueError(f"type is not {CERTIFICATE_TYPE}")
    except (OSError, ValueError, AttributeError) as exc:
        raise LongwatchError("H015", path=path, detail=str(exc)) from exc
    signer = ""
    signature_path = path.with_name(path.name + ".p7s")
    try:
        info = signing.verify_detached(signature_path.read_bytes(), data)
        signer = info.fingerprint
        if trusted is not None and not signing.is_trusted(info, list(trusted)):
            problems.append(LongwatchError("H016", path=path, detail=f"signed by {info.fingerprint}, not trusted"))
    except FileNotFoundError:
        problems.append(LongwatchError("H016", path=path, detail=f"{signature_path.name} is missing"))
    except signing.SignatureError as exc:
        problems.append(LongwatchError("H016", path=path, detail=str(exc)))
    token_time = _check_token(path, body, signature_path, tsa_cert, problems)
    return {"certificate": str(path), "ok": not problems, "timestamp": token_time,
            "disposition_id": body.get("disposition_id"),
            "packages": len(body.get("packages", [])), "signer": signer,
            "problems": [p.to_dict() for p in problems]}
