"""Evidence exports: a signed BagIt bag that anyone can check with coreutils and OpenSSL.

An export copies the ORIGINAL media of the chosen packages bit for bit (each
copy digested while it is written and compared with the source manifest),
their PREMIS and Dublin Core, the custody extract of those packages with an
inclusion proof of every entry against a FRESH signed checkpoint taken for
this export (after the "transfer" event that records the export itself), the
signer's certificate, ``REPORT.html``/``REPORT.pdf`` for people and
``VERIFY.txt`` with the standard-tool commands. The tag manifest, which covers
the payload manifest and the reports, is signed by a detached CMS signature
(``openssl cms -verify``) and, when the ledger has a time-stamp authority,
time-stamped (``openssl ts -verify``). :func:`verify_export` checks all of it
and collects every finding as a coded ``E`` problem.

Layout (paths relative to the bag)::

    bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
    tagmanifest-sha256.txt.p7s  [tagmanifest-sha256.txt.p7s.tsr]
    REPORT.html  REPORT.pdf  VERIFY.txt  export.json
    data/packages/<package id>/media/<file>        the originals
    data/packages/<package id>/metadata/{premis,dc}.xml
    data/custody/extract.jsonl                       the ledger entries, exact bytes
    data/custody/proofs/<seq>.json                   RFC 9162 inclusion proofs
    data/custody/checkpoint.note[.p7s[.tsr]]         the fresh checkpoint
    data/custody/signer-chain.pem  [tsa-chain.pem]   certificates
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.hazmat.primitives import serialization

from longwatch import __version__, clock
from longwatch.core import custody, faults
from longwatch.core.aip import package, signing, timestamp
from longwatch.core.aip.fixity import digest_stream, open_for_reading
from longwatch.core.archive import Archive
from longwatch.core.catalog import Package
from longwatch.core.custody.ledger import utc_text
from longwatch.core.media import ffmpeg, probe
from longwatch.core.preservation import derive, windows
from longwatch.errors import Findings, LongwatchError, Problem

FORMAT = "longwatch-evidence-export/1"
SIGNATURE = "tagmanifest-sha256.txt.p7s"
TIMESTAMP_REPLY = "tagmanifest-sha256.txt.p7s.tsr"
CUSTODY = "data/custody"
GAP_TOLERANCE = timedelta(seconds=1)  # uncovered stretches shorter than this are clip boundaries, not gaps
TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "export.json", "REPORT.html", "REPORT.pdf",
             "VERIFY.txt")


@dataclass
class Recipient:
    """Who receives the export, on what legal basis and for what purpose, and until when."""

    agency: str
    officer: str = ""
    case_number: str = ""
    legal_basis: str = ""
    purpose: str = ""
    expires: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["expires"] = utc_text(self.expires) if self.expires else ""
        return data


@dataclass
class Request:
    """What to export: package ids, and/or cameras over ``start``..``end`` (UTC)."""

    recipient: Recipient
    package_ids: list[str] = field(default_factory=list)
    cameras: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    cut: bool = False  # also an exact stream-copy cut of the range, as a derived package
    case: str = ""  # a catalog case id: see packages_for_case
    language: str = "ko"
    reason: str = ""
    watermark: bool = False  # also watermarked access copies under data/access/ (never the originals)


def request_to_dict(request: Request) -> dict[str, Any]:
    """A request as JSON (the arguments of an export job, core/evidence/tasks.py); times as UTC ISO 8601."""
    data = asdict(request)
    data["recipient"] = request.recipient.to_dict()
    data["start"] = utc_text(request.start) if request.start else ""
    data["end"] = utc_text(request.end) if request.end else ""
    return data


def request_from_dict(data: dict[str, Any]) -> Request:
    def when(value: str) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    recipient = Recipient(**{**data["recipient"], "expires": when(data["recipient"].get("expires", ""))})
    return Request(**{**data, "recipient": recipient, "start": when(data["start"]), "end": when(data["end"])})


@dataclass
class Selection:
    packages: list[Package]
    gaps: list[tuple[datetime, datetime]]
    cuts: list[str] = field(default_factory=list)  # ids of derived cut packages among ``packages``


@dataclass
class Result:
    path: Path
    export_id: str
    files: int
    size: int
    gaps: list[tuple[datetime, datetime]]
    checkpoint_size: int
    transfer_seq: int
    zip_path: Path | None = None
    timestamped: bool = False


# -- selection ---------------------------------------------------------------------------------
def packages_for_case(archive: Archive, case: str) -> list[str]:
    """Every package of a case: those attached to it, and those overlapping its camera time ranges.

    Goes through the catalog's search API (Q010 names an unknown case), so an
    export sees exactly what a search for the case shows.
    """
    from sqlalchemy import select

    from longwatch.core.catalog import search
    from longwatch.core.catalog.models import Case, CaseRange

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
        ranges = list(s.scalars(select(CaseRange).join(Case, Case.id == CaseRange.case_id).where(Case.number == case)))
    for r in ranges:
        chosen |= ids(search.Query(cameras=[r.camera] if r.camera else [], start=r.start_utc, end=r.end_utc,
                                   limit=500))
    if not chosen:
        raise LongwatchError("E002", case=case)
    return sorted(chosen)


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
    if request.case:
        ids.extend(packages_for_case(archive, request.case))
    gaps: list[tuple[datetime, datetime]] = []
    if request.cameras or request.start or request.end:
        if not (request.cameras and request.start and request.end):
            raise LongwatchError("E003", detail="give --camera, --from and --to together")
        start, end = request.start, request.end
        if end <= start:
            raise LongwatchError("E003", detail=f"the range ends ({utc_text(end)}) before it starts "
                                                f"({utc_text(start)})")
        from sqlalchemy import select as sql_select

        with archive.catalog.session() as session:
            rows = session.scalars(sql_select(Package.id).where(Package.camera.in_(request.cameras))
                                   .where(Package.status == "stored")).all()
        covered: list[tuple[datetime, datetime]] = []
        for pid in rows:
            row = archive.catalog.get(pid)
            assert row is not None
            ranges = _clips_range(row)
            if any(a < end and b > start for a, b in ranges):
                ids.append(pid)
                covered.extend(ranges)
        gaps = find_gaps(covered, start, end)
        if not covered:
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
        rows_out.append(row)
    if not rows_out:
        raise LongwatchError("E003", detail="nothing to export: give package ids, or cameras with a time range")
    rows_out.sort(key=lambda r: (r.camera, r.start_utc or datetime.min.replace(tzinfo=UTC), r.id))
    return Selection(rows_out, gaps)


def make_cuts(archive: Archive, selection: Selection, request: Request, export_id: str = "") -> None:
    """An exact stream-copy cut of the range from each package, kept as a derived package (core/windows.py).

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


# -- access copies -----------------------------------------------------------------------------
def watermark_text(recipient: Recipient, export_id: str) -> str:
    who = " / ".join(p for p in (recipient.agency, recipient.officer, recipient.case_number) if p)
    return f"ACCESS COPY - NOT EVIDENCE - {who} - export {export_id[:8]}"


def make_access_copy(original: Path, out: Path, text: str, scratch: Path) -> list[str]:
    """A re-encoded copy with the recipient burned in (ffmpeg drawtext); the original is only read."""
    from longwatch.core.evidence import report

    probe.require("ffmpeg")
    text_file = scratch / f"{out.stem}.txt"
    text_file.write_text(text, encoding="utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ffmpeg.watermarked_copy(original, out, text_file, report.font_path())
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise LongwatchError("E023", path=original.name, detail=done.stderr.strip()[-300:])
    return cmd


# -- writing -------------------------------------------------------------------------------------
@dataclass
class _File:
    relpath: str
    sha256: str
    size: int
    package_id: str = ""
    camera: str = ""
    start: datetime | None = None
    end: datetime | None = None
    kind: str = "media"  # media, metadata, custody


#: Read, hash and write the same buffer while it is still in the CPU cache: larger buffers measured slower here.
COPY_BUFFER = 128 << 10
#: Files copied at once; hashlib and file I/O release the GIL, so each worker keeps one core busy.
COPY_WORKERS = 2
#: Progress is reported in steps of this size, not per buffer, so the bar costs nothing.
PROGRESS_STEP = 16 << 20


def copy_and_digest(src: BinaryIO, dst: Path, progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """Copy ``src`` to ``dst`` in one pass and return the SHA-256 of exactly the bytes written.

    Each buffer is read once, fed to the hasher and written from the same
    memory, so the digest is of the bytes handed to the copy: no second read
    of the source or of the copy. The caller compares it with the package's
    signed manifest before anything is signed.
    """
    buf = bytearray(COPY_BUFFER)
    view = memoryview(buf)
    hasher = hashlib.sha256()
    size = unreported = 0
    readinto = getattr(src, "readinto", None)
    with open(dst, "wb", buffering=0) as out:
        while True:
            if readinto is not None:
                n = readinto(buf) or 0
            else:
                data = src.read(COPY_BUFFER)
                n = len(data)
                buf[:n] = data
            if n == 0:
                break
            chunk = view[:n]
            hasher.update(chunk)
            written = 0
            while written < n:
                written += out.write(chunk[written:]) or 0
            size += n
            unreported += n
            if progress is not None and unreported >= PROGRESS_STEP:
                progress(unreported)
                unreported = 0
    if progress is not None and unreported:
        progress(unreported)
    return hasher.hexdigest(), size


class _SignedDigests:
    """The SHA-256 of every file of a stored package, as its SIGNED manifests state them.

    The export trusts neither the catalog (a cache) nor the stored bytes
    alone: the tag manifest must carry a valid signature, the payload
    manifest must match the tag manifest, and every copied file must match
    these digests (and the catalog's) or the export is refused.
    """

    def __init__(self, storage: Any, package_id: str) -> None:
        def read(relpath: str) -> bytes:
            try:
                with storage.open_package_file(package_id, relpath) as fh:
                    return bytes(fh.read())
            except OSError as exc:
                raise LongwatchError("E024", package_id=package_id, detail=f"{relpath}: {exc}") from exc

        tag = read(package.SIGNED_FILE)
        try:
            signing.verify_detached(read(package.SIGNATURE_PATH), tag)
            tags = package.parse_manifest(tag)
            manifest = read("manifest-sha256.txt")
            payload = package.parse_manifest(manifest)
        except (signing.SignatureError, package.ManifestError, UnicodeDecodeError) as exc:
            raise LongwatchError("E024", package_id=package_id, detail=str(exc)) from exc
        if tags.get("manifest-sha256.txt") != hashlib.sha256(manifest).hexdigest():
            raise LongwatchError("E024", package_id=package_id,
                                 detail="manifest-sha256.txt differs from the signed tag manifest")
        self.package_id = package_id
        self.digests = {**tags, **payload}

    def expected(self, relpath: str, catalog_sha256: str = "") -> str:
        """The signed digest of ``relpath``; the catalog must agree with it."""
        signed = self.digests.get(relpath)
        if signed is None:
            raise LongwatchError("E024", package_id=self.package_id, detail=f"{relpath} is in no signed manifest")
        if catalog_sha256 and catalog_sha256 != signed:
            raise LongwatchError("E005", path=f"{self.package_id}/{relpath}", expected=signed, found=catalog_sha256)
        return signed


def _copy_clip(open_source: Callable[[], BinaryIO], dst: Path, expected: str, label: str,
               progress: Callable[[int], None] | None) -> int:
    with open_source() as fh:
        sha, size = copy_and_digest(fh, dst, progress)
    if sha != expected:
        raise LongwatchError("E005", path=label, expected=expected, found=sha)
    return size


def _copy_media(archive: Archive, rows: list[Package], bag: Path, now: datetime,
                progress: Callable[[int], None] | None) -> tuple[list[_File], dict[str, _SignedDigests]]:
    """Copy every original, ``COPY_WORKERS`` files at a time; refuse (E005) if any copy differs from its signed digest.

    Returns the media entries in a stable order (package, then clip time) and
    each package's signed digests for the metadata files.
    """
    lock = threading.Lock()

    def report(n: int) -> None:
        assert progress is not None
        with lock:
            progress(n)

    signed: dict[str, _SignedDigests] = {}
    jobs: list[tuple[_File, Callable[[], int]]] = []
    for row in rows:
        storage = archive.storage(row.storage_location)
        signed[row.id] = digests = _SignedDigests(storage, row.id)
        (bag / f"data/packages/{row.id}/media").mkdir(parents=True, exist_ok=True)
        for clip in sorted(row.clips, key=lambda c: (c.start_utc or now, c.relpath)):
            relpath = f"data/packages/{row.id}/media/{Path(clip.relpath).name}"
            expected = digests.expected(clip.relpath, clip.sha256)
            start, end = (clip.start_utc, clip.start_utc + timedelta(seconds=clip.duration)) if (
                clip.start_utc and clip.duration) else (clip.start_utc, clip.end_utc)
            entry = _File(relpath, expected, 0, row.id, row.camera, start, end)
            jobs.append((entry, functools.partial(
                _copy_clip, functools.partial(_open_stored, storage, row.id, clip.relpath), bag / relpath,
                expected, f"{row.id}/{clip.relpath}", report if progress is not None else None)))
    with ThreadPoolExecutor(max_workers=COPY_WORKERS, thread_name_prefix="export-copy") as pool:
        futures = [(entry, pool.submit(job)) for entry, job in jobs]
        try:
            for entry, future in futures:
                entry.size = future.result()
        except BaseException:
            for _entry, future in futures:
                future.cancel()
            raise
    return [entry for entry, _ in futures], signed


def _open_stored(storage: Any, package_id: str, relpath: str) -> BinaryIO:
    """A filesystem location is read unbuffered with read-ahead; others through the adapter's stream."""
    local = storage.local_path(package_id)
    if local is not None and (local / relpath).is_file():
        return open_for_reading(local / relpath)
    return storage.open_package_file(package_id, relpath)


def _write(bag: Path, relpath: str, data: bytes, kind: str, package_id: str = "") -> _File:
    path = bag / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return _File(relpath, hashlib.sha256(data).hexdigest(), len(data), package_id, kind=kind)


def _pem(cert: Any) -> bytes:
    return bytes(cert.public_bytes(serialization.Encoding.PEM))


def partial_dir(out_dir: Path, export_id: str) -> Path:
    """Where an export is written before one rename makes it ``out_dir``: never mistaken for a finished bag.

    ``export_id`` must be a UUID: the name is removed with its contents on a retry.
    """
    return out_dir.parent / f".{out_dir.name}.{_checked_id(export_id)[:8]}.partial"


def _partial_zip(zip_path: Path, export_id: str) -> Path:
    return zip_path.with_name(f".{zip_path.name}.{_checked_id(export_id)[:8]}.partial")


def _checked_id(export_id: str) -> str:
    try:
        return str(uuid.UUID(export_id))
    except ValueError as exc:
        raise LongwatchError("E003", detail=f"export id {export_id!r} is not a UUID") from exc


def finished(out_dir: Path, export_id: str, zip_path: Path | None = None) -> Result | None:
    """The export ``export_id`` if it is already complete in ``out_dir`` (a job's earlier attempt made it)."""
    try:
        description = json.loads((out_dir / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if description.get("export_id") != export_id or not (out_dir / SIGNATURE).is_file():
        return None
    gaps = [(datetime.fromisoformat(g["start"]), datetime.fromisoformat(g["end"])) for g in description["gaps"]]
    custody_ = description["custody"]
    return Result(out_dir, export_id, len(description["files"]), sum(f["size"] for f in description["files"]),
                  gaps, custody_["checkpoint_size"], custody_["transfer_seq"],
                  zip_path=zip_path if zip_path is not None and zip_path.is_file() else None,
                  timestamped=(out_dir / TIMESTAMP_REPLY).is_file())


def _earlier_transfer(ledger: custody.Ledger, package_ids: list[str], export_id: str) -> int | None:
    """The ledger seq of this export's transfer event, when a killed attempt already appended it.

    That event names the packages handed over; a retry whose selection now
    finds others (a clip stored since in the camera and time range) would
    deliver something the record does not say, so it is refused (E025).
    """
    for seq, entry, _line in ledger.history(package_ids[0]):
        if entry.get("type") == "transfer" and (entry.get("extra") or {}).get("export_id") == export_id:
            if sorted(entry.get("packages") or []) != sorted(package_ids):
                raise LongwatchError("E025", export_id=export_id, before=len(entry.get("packages") or []),
                                     now=len(package_ids))
            return seq
    return None


def export(archive: Archive, request: Request, out_dir: Path, zip_path: Path | None = None,
           progress: Callable[[int], None] | None = None, now: datetime | None = None,
           export_id: str | None = None) -> Result:
    """Write the export bag into ``out_dir`` (which must not exist yet); optionally zip it (streamed).

    The bag is written beside ``out_dir`` under a partial name and renamed at
    the end, so ``out_dir`` holds a whole export or nothing. A job passes its
    own ``export_id``: run again after a kill, it removes its partial bag, reuses
    its transfer event and cuts, and returns an export already finished as is.
    """
    from longwatch.core.evidence import report  # the PDF library loads only when an export is written

    if export_id is not None:
        done = finished(out_dir, export_id, zip_path)
        if done is not None:
            return done
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise LongwatchError("E006", path=out_dir)
    if not request.recipient.agency.strip():
        raise LongwatchError("E003", detail="the recipient agency is required (--agency)")
    if not (request.recipient.legal_basis.strip() and request.recipient.purpose.strip()):
        raise LongwatchError("E003", detail="the legal basis and the purpose are required (--legal-basis, --purpose)")
    now = now or clock.now()
    if request.recipient.expires is not None and request.recipient.expires <= now:
        raise LongwatchError("E003", detail=f"the expiry {utc_text(request.recipient.expires)} is in the past")
    selection = select(archive, request)
    if request.cut:
        if not (request.start and request.end):
            raise LongwatchError("E003", detail="--cut needs --from and --to")
        make_cuts(archive, selection, request, export_id or "")
    export_id = export_id or str(uuid.uuid4())
    report.font_path()  # E008 before anything is written or recorded
    pdf = report.start_pdf()
    bag = partial_dir(out_dir, export_id)
    if bag.exists():  # a killed attempt of this export: nothing in it was handed over
        shutil.rmtree(bag)
    bag.mkdir(parents=True)
    try:
        files, signed = _copy_media(archive, selection.packages, bag, now, progress)
        for row in selection.packages:
            storage = archive.storage(row.storage_location)
            for meta in (package.PREMIS_PATH, package.DC_PATH):
                with storage.open_package_file(row.id, meta) as fh:
                    data = fh.read()
                expected, found = signed[row.id].expected(meta), hashlib.sha256(data).hexdigest()
                if found != expected:
                    raise LongwatchError("E005", path=f"{row.id}/{meta}", expected=expected, found=found)
                files.append(_write(bag, f"data/packages/{row.id}/{meta}", data, "metadata", row.id))
        access: list[_File] = []
        if request.watermark:
            text = watermark_text(request.recipient, export_id)
            with tempfile.TemporaryDirectory(prefix="lw-watermark-") as scratch:
                for f in [f for f in files if f.kind == "media"]:
                    name = Path(f.relpath)
                    rel = f"data/access/{f.package_id}/{name.stem}.ACCESS-COPY-watermarked.mp4"
                    make_access_copy(bag / f.relpath, bag / rel, text, Path(scratch))
                    access.append(_File(rel, _sha256_file(bag / rel), (bag / rel).stat().st_size, f.package_id,
                                        f.camera, f.start, f.end, kind="access"))
            files.extend(access)

        # the transfer event, then a fresh checkpoint that covers it
        ledger = custody.Ledger.for_archive(archive)
        recipient = request.recipient
        detail = (f"evidence export {export_id} to {recipient.agency}"
                  + (f", officer {recipient.officer}" if recipient.officer else "")
                  + (f", case {recipient.case_number}" if recipient.case_number else "")
                  + f"; legal basis: {recipient.legal_basis}; purpose: {recipient.purpose}"
                  + (f"; expires {utc_text(recipient.expires)}" if recipient.expires else ""))
        pids = [r.id for r in selection.packages]
        transfer_seq = _earlier_transfer(ledger, pids, export_id)
        if transfer_seq is None:
            transfer_seq = ledger.append([custody.CustodyEvent(
                type="transfer", packages=pids, detail=detail,
                agents=[custody.software_agent(), custody.person_agent(archive.operator)],
                extra={"export_id": export_id, "recipient": recipient.to_dict(),
                       "files": [f.relpath for f in files if f.kind == "media"]})], checkpoint=False)[0].seq
        cp = ledger.checkpoint()
        tree = ledger.tree(cp.size)
        entries: dict[int, bytes] = {}
        for pid in pids:
            for seq, _entry, line in ledger.history(pid):
                if seq < cp.size:
                    entries[seq] = line
        timeline = []
        files.append(_write(bag, f"{CUSTODY}/extract.jsonl", b"".join(entries[s] + b"\n" for s in sorted(entries)),
                            "custody"))
        for seq in sorted(entries):
            proof = custody.prove_inclusion(ledger, seq, against=cp.size, tree=tree)
            proof.pop("checkpoint")  # the one checkpoint sits beside the proofs
            proof["checkpoint_note"] = "checkpoint.note"
            files.append(_write(bag, f"{CUSTODY}/proofs/{seq:012d}.json",
                                json.dumps(proof, indent=1, sort_keys=True).encode(), "custody"))
            entry = json.loads(entries[seq])
            timeline.append(entry)
        files.append(_write(bag, f"{CUSTODY}/checkpoint.note", cp.note, "custody"))
        files.append(_write(bag, f"{CUSTODY}/checkpoint.note.p7s", cp.signature, "custody"))
        if cp.tsr:
            files.append(_write(bag, f"{CUSTODY}/checkpoint.note.p7s.tsr", cp.tsr, "custody"))
        files.append(_write(bag, f"{CUSTODY}/signer-chain.pem", _pem(archive.certificate), "custody"))
        tsa_cert_path = ledger.settings.tsa_cert
        if ledger.settings.tsa_url and tsa_cert_path and tsa_cert_path.is_file():
            files.append(_write(bag, f"{CUSTODY}/tsa-chain.pem", tsa_cert_path.read_bytes(), "custody"))

        # manifest, description, reports, tag manifest, signature, time-stamp
        media = [f for f in files if f.kind == "media"]
        payload_size = sum(f.size for f in files)
        (bag / "manifest-sha256.txt").write_bytes(package.manifest_text({f.relpath: f.sha256 for f in files}))
        (bag / "bagit.txt").write_bytes(b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        info = [("Source-Organization", archive.settings.organization or archive.settings.name),
                ("Bagging-Date", package.bagging_date(now)),
                ("Payload-Oxum", f"{payload_size}.{len(files)}"),
                ("External-Identifier", export_id),
                ("External-Description", f"longwatch evidence export to {recipient.agency}"),
                ("Bag-Software-Agent", f"longwatch {__version__}")]
        (bag / "bag-info.txt").write_bytes(package.bag_info_text(info))
        description = {
            "format": FORMAT, "export_id": export_id, "created": utc_text(now), "archive": archive.settings.name,
            "organization": archive.settings.organization, "timezone": archive.settings.timezone,
            "exported_by": archive.operator, "recipient": recipient.to_dict(), "reason": request.reason,
            "language": request.language,
            "request": {"package_ids": request.package_ids, "cameras": request.cameras,
                        "start": utc_text(request.start) if request.start else "",
                        "end": utc_text(request.end) if request.end else "", "cut": request.cut},
            "gaps": [{"start": utc_text(a), "end": utc_text(b), "seconds": (b - a).total_seconds()}
                     for a, b in selection.gaps],
            "packages": [{"id": r.id, "camera": r.camera, "title": r.title, "start": utc_text(r.start_utc)
                          if r.start_utc else "", "end": utc_text(r.end_utc) if r.end_utc else "",
                          "derived_cut": r.id in selection.cuts} for r in selection.packages],
            "files": [{"path": f.relpath, "sha256": f.sha256, "size": f.size, "package": f.package_id,
                       "camera": f.camera, "start": utc_text(f.start) if f.start else "",
                       "end": utc_text(f.end) if f.end else ""} for f in media],
            "access_copies": [{"path": f.relpath, "sha256": f.sha256, "size": f.size, "package": f.package_id,
                               "watermark": watermark_text(recipient, export_id), "evidence": False}
                              for f in access],
            "custody": {"entries": sorted(entries), "transfer_seq": transfer_seq, "checkpoint_size": cp.size,
                        "checkpoint_root": cp.root.hex(), "checkpoint_time": utc_text(cp.time),
                        "signer": archive.signer.fingerprint, "checkpoint_timestamped": cp.tsr is not None},
        }
        (bag / "export.json").write_bytes(json.dumps(description, indent=1, ensure_ascii=False).encode())
        report.write_reports(bag, description, timeline, archive.settings.tz, request.language, pdf.result())
        (bag / "VERIFY.txt").write_bytes(report.verify_text(
            tsa=bool(ledger.settings.tsa_url), tsa_chain=(bag / CUSTODY / "tsa-chain.pem").exists(),
            checkpoint_tsr=cp.tsr is not None).encode())
        tag = package.manifest_text({name: _sha256_file(bag / name) for name in TAG_FILES})
        (bag / "tagmanifest-sha256.txt").write_bytes(tag)
        signature = signing.sign_detached(archive.signer, tag)
        (bag / SIGNATURE).write_bytes(signature)
        timestamped = False
        if ledger.settings.tsa_url:
            try:
                (bag / TIMESTAMP_REPLY).write_bytes(timestamp.request_token(ledger.settings.tsa_url, signature))
                timestamped = True
            except timestamp.TimestampError as exc:
                raise LongwatchError("E007", url=ledger.settings.tsa_url, detail=str(exc)) from exc
        result = Result(out_dir, export_id, len(media), sum(f.size for f in media), selection.gaps, cp.size,
                        transfer_seq, timestamped=timestamped)
        if zip_path is not None:  # the ZIP first: a finished bag always has its ZIP beside it
            partial_zip = _partial_zip(zip_path, export_id)
            with open(partial_zip, "wb") as fh:
                for chunk in stream_zip(bag, prefix=out_dir.name):
                    fh.write(chunk)
            os.replace(partial_zip, zip_path)
            result.zip_path = zip_path
        faults.fault("export-before-rename")
        if out_dir.is_dir():
            out_dir.rmdir()  # the empty folder the caller made (checked above); rename needs it gone
        os.rename(bag, out_dir)
    except BaseException:
        shutil.rmtree(bag, ignore_errors=True)  # a failure leaves no half-written bag (a kill: the retry removes it)
        if zip_path is not None:
            _partial_zip(zip_path, export_id).unlink(missing_ok=True)
        raise
    return result


def _sha256_file(path: Path) -> str:
    with open_for_reading(path) as fh:
        return digest_stream(fh, algorithms=("sha256",))["sha256"]


# -- zip, streamed -------------------------------------------------------------------------------
class _Sink:
    """A write-only, non-seekable target: zipfile then writes data descriptors and never seeks back."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def bag_files(bag: Path) -> list[str]:
    return sorted(p.relative_to(bag).as_posix() for p in bag.rglob("*") if p.is_file())


def stream_zip(bag: Path, prefix: str | None = None, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """The bag as a ZIP (stored, ZIP64), yielded in pieces: nothing is assembled in memory."""
    prefix = prefix if prefix is not None else bag.name
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:  # type: ignore[call-overload]
        for rel in bag_files(bag):
            info = zipfile.ZipInfo.from_file(bag / rel, f"{prefix}/{rel}")
            info.compress_type = zipfile.ZIP_STORED
            with open(bag / rel, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                while block := src.read(chunk_size):
                    dst.write(block)
                    yield sink.take()
            yield sink.take()
    yield sink.take()


# -- verification ---------------------------------------------------------------------------------
@dataclass
class ExportReport(Findings):
    path: str
    export_id: str = ""
    files: int = 0
    signer: str = ""
    checkpoint_size: int = 0
    proofs: int = 0
    timestamped: bool = False
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "path": self.path, "export_id": self.export_id, "files": self.files,
                "signer": self.signer, "checkpoint_size": self.checkpoint_size, "proofs": self.proofs,
                "timestamped": self.timestamped, "problems": [p.to_dict() for p in self.problems]}


def _read_manifest(path: Path, report: ExportReport) -> dict[str, str]:
    try:
        return package.parse_manifest(path.read_bytes())
    except (OSError, package.ManifestError) as exc:
        report.add("E010", path=path.name, detail=str(exc))
        return {}


def _check_digests(bag: Path, manifest: dict[str, str], report: ExportReport, code_missing: str = "E011") -> None:
    for rel, expected in manifest.items():
        if not package.is_safe_bag_path(rel):
            report.add("E010", path=rel, detail="an unsafe path in the manifest")
            continue
        path = bag / rel
        if not path.is_file():
            report.add(code_missing, path=rel)
            continue
        found = _sha256_file(path)
        if found != expected:
            report.add("E012", path=rel, expected=expected, found=found)


def _unzip(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not package.is_safe_bag_path(name):
                raise LongwatchError("E010", path=name, detail="an unsafe path in the zip")
        zf.extractall(into)
    tops = [p for p in into.iterdir()]
    return tops[0] if len(tops) == 1 and tops[0].is_dir() else into


def verify_export(path: Path, trusted: list[Any] | None = None, tsa_cert: Any = None,
                  scratch: Path | None = None) -> ExportReport:
    """Every check VERIFY.txt describes, plus the inclusion proofs and the report's digests."""
    if path.is_file() and zipfile.is_zipfile(path):
        tmp = tempfile.mkdtemp(prefix="lw-verify-export-", dir=scratch)
        try:
            report = verify_export(_unzip(path, Path(tmp)), trusted, tsa_cert)
            report.path = str(path)
            return report
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    bag = path
    report = ExportReport(str(path))
    if not (bag / "bagit.txt").is_file() or not (bag / "tagmanifest-sha256.txt").is_file():
        raise LongwatchError("E009", path=path)
    tag_bytes = (bag / "tagmanifest-sha256.txt").read_bytes()
    tags = _read_manifest(bag / "tagmanifest-sha256.txt", report)
    for name in TAG_FILES:
        if name not in tags:
            report.add("E010", path="tagmanifest-sha256.txt", detail=f"{name} is not listed")
    _check_digests(bag, tags, report)
    # the signature over the tag manifest
    signer_cert = None
    sig_path = bag / SIGNATURE
    if not sig_path.is_file():
        report.add("E013", detail=f"{SIGNATURE} is missing")
    else:
        signature = sig_path.read_bytes()
        try:
            info = signing.verify_detached(signature, tag_bytes)
            signer_cert = info.cert
            report.signer = info.fingerprint
            chain = bag / CUSTODY / "signer-chain.pem"
            if chain.is_file() and signing.fingerprint(signing.load_certificate(chain)) != info.fingerprint:
                report.add("E013", detail="the signature was made by another certificate than signer-chain.pem")
            if trusted is not None and not signing.is_trusted(info, trusted):
                report.add("E014", fingerprint=info.fingerprint)
        except signing.SignatureError as exc:
            report.add("E013", detail=str(exc))
        token = bag / TIMESTAMP_REPLY
        if token.is_file():
            try:
                tinfo = timestamp.verify_token(token.read_bytes(), signature)
                if tsa_cert is not None and tinfo.tsa_fingerprint != signing.fingerprint(tsa_cert):
                    report.add("E015", detail=f"signed by another TSA ({tinfo.tsa_fingerprint})")
                else:
                    report.timestamped = True
            except timestamp.TimestampError as exc:
                report.add("E015", detail=str(exc))
    # the payload
    manifest = _read_manifest(bag / "manifest-sha256.txt", report) if (bag / "manifest-sha256.txt").is_file() else {}
    _check_digests(bag, manifest, report)
    listed = set(manifest)
    for p in (bag / "data").rglob("*") if (bag / "data").is_dir() else []:
        if p.is_file() and p.relative_to(bag).as_posix() not in listed:
            report.add("E016", path=p.relative_to(bag).as_posix())
    # the description and the report agree with the manifest
    try:
        description = json.loads((bag / "export.json").read_text(encoding="utf-8"))
        report.export_id = str(description.get("export_id", ""))
        described = {f["path"]: f["sha256"] for f in description["files"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report.add("E010", path="export.json", detail=str(exc))
        described = {}
    report.files = len(described)
    try:
        html = (bag / "REPORT.html").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        html = ""
    for rel, sha in described.items():
        if manifest.get(rel) != sha:
            report.add("E017", path=rel, where="export.json", detail="its SHA-256 differs from manifest-sha256.txt")
        if sha not in html:
            report.add("E017", path=rel, where="REPORT.html", detail="its SHA-256 is not in the report")
    _check_custody(bag, report, signer_cert, trusted, tsa_cert, described)
    return report


def _check_custody(bag: Path, report: ExportReport, signer_cert: Any, trusted: list[Any] | None, tsa_cert: Any,
                   described: dict[str, str]) -> None:
    from longwatch.core.custody.ledger import Checkpoint, parse_note
    from longwatch.core.custody.merkle import leaf_hash, verify_inclusion

    folder = bag / CUSTODY
    try:
        note = (folder / "checkpoint.note").read_bytes()
        origin, size, root, when = parse_note(note)
        sig = (folder / "checkpoint.note.p7s").read_bytes()
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        report.add("E018", detail=f"the checkpoint: {exc}")
        return
    tsr_path = folder / "checkpoint.note.p7s.tsr"
    cp = Checkpoint(size, root, when, origin, note, sig, tsr_path.read_bytes() if tsr_path.is_file() else None)
    report.checkpoint_size = size
    ledger_report = custody.LedgerReport()
    custody.audit.check_signature(cp, trusted, ledger_report, str(size))
    custody.audit.check_timestamp(cp, ledger_report, str(size), tsa_cert)
    for problem in ledger_report.problems:
        report.add("E018", detail=f"[{problem.code}] {problem.render()}")
    try:
        cp_info = signing.verify_detached(sig, note)
        if signer_cert is not None and cp_info.fingerprint != signing.fingerprint(signer_cert):
            report.add("E018", detail="the checkpoint was signed by another key than the export")
    except signing.SignatureError:
        pass  # already reported above
    try:
        lines = [line for line in (folder / "extract.jsonl").read_bytes().split(b"\n") if line]
    except OSError as exc:
        report.add("E019", seq="-", detail=str(exc))
        return
    transfer = False
    for line in lines:
        try:
            entry = json.loads(line)
            seq = int(entry["seq"])
        except (ValueError, KeyError, TypeError) as exc:
            report.add("E019", seq="?", detail=f"an extract line is not a ledger entry: {exc}")
            continue
        if entry.get("type") == "transfer" and entry.get("extra", {}).get("export_id") == report.export_id:
            transfer = True
        proof_path = folder / "proofs" / f"{seq:012d}.json"
        try:
            proof = json.loads(proof_path.read_text(encoding="utf-8"))
            path = [bytes.fromhex(h) for h in proof["inclusion_path"]]
            proof_entry = str(proof["entry"]).encode("utf-8")
            index, tree_size = int(proof["leaf_index"]), int(proof["tree_size"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            report.add("E019", seq=seq, detail=f"no readable proof: {exc}")
            continue
        leaf = leaf_hash(line)
        if proof_entry != line:
            report.add("E019", seq=seq, detail="the extract's entry differs from the proof's entry")
        elif index != seq or tree_size != size:
            report.add("E019", seq=seq, detail=f"the proof is for entry {index} of {tree_size}, "
                                               f"the checkpoint for {size}")
        elif not verify_inclusion(seq, size, leaf, path, root):
            report.add("E019", seq=seq, detail="the audit path does not lead to the signed root")
        else:
            report.proofs += 1
    if not transfer:
        report.add("E020", export_id=report.export_id or "?")
    for rel in described:
        pid = rel.split("/")[2] if rel.startswith("data/packages/") else ""
        if pid and not any(pid in json.loads(line).get("packages", []) for line in lines):
            report.add("E020", export_id=f"{report.export_id} (package {pid} has no custody entry)")


def trusted_from(paths: Iterable[Path]) -> list[Any] | None:
    certs = [signing.load_certificate(p) for p in paths]
    return certs or None


def remove_partial(path: Path) -> None:
    """After a failed export: no half-written bag is left to be mistaken for evidence."""
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)

