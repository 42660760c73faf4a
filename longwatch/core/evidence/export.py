"""Writing an evidence export: a signed BagIt bag that anyone can check with coreutils and OpenSSL.

An export copies the ORIGINAL media of the chosen packages bit for bit (each
copy digested while it is written and compared with the source's signed
manifests), their PREMIS and Dublin Core, the custody extract of those
packages with an inclusion proof of every entry against a FRESH signed
checkpoint taken for this export (after the "transfer" event that records the
export itself), the signer's certificate, ``REPORT.html``/``REPORT.pdf`` for
people and ``VERIFY.txt`` with the standard-tool commands. The tag manifest,
which covers the payload manifest and the reports, is signed by a detached CMS
signature (``openssl cms -verify``) and, when the ledger has a time-stamp
authority, time-stamped (``openssl ts -verify``).

This module holds :func:`export` and what it needs: watermarked access
copies, the copy-and-digest of the originals, the partial folder renamed when
whole (and what a retried job finds of its killed attempt: :func:`finished`,
the earlier transfer event); the streamed ZIP is :mod:`~longwatch.core.evidence.zipstream`.
What is asked for is :mod:`~longwatch.core.evidence.request`,
what it selects :mod:`~longwatch.core.evidence.selection`, the bag's layout
:mod:`~longwatch.core.evidence.bag`, and how an export is checked
:mod:`~longwatch.core.evidence.verify_export`.
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives import serialization

from longwatch import __version__, clock
from longwatch.core import custody, faults
from longwatch.core.aip import package, signing, timestamp
from longwatch.core.aip.fixity import open_for_reading
from longwatch.core.archive import Archive
from longwatch.core.catalog import Package
from longwatch.core.custody.entries import utc_text
from longwatch.core.evidence import report
from longwatch.core.evidence.bag import (
    CONSISTENCY,
    CUSTODY,
    FORMAT,
    KEYS_PATH,
    SIGNATURE,
    TAG_FILES,
    TIMESTAMP_REPLY,
    sha256_file,
)
from longwatch.core.evidence.request import Recipient, Request
from longwatch.core.evidence.selection import make_cuts, select
from longwatch.core.evidence.zipstream import stream_zip
from longwatch.core.media import ffmpeg, probe
from longwatch.core.preservation import provenance
from longwatch.errors import LongwatchError


@dataclass
class Result:
    """A finished export: its folder and id, the originals it holds, the gaps, its custody record and ZIP."""

    path: Path
    export_id: str
    files: int
    size: int
    gaps: list[tuple[str, datetime, datetime]]  # (camera, start, end)
    checkpoint_size: int
    transfer_seq: int
    zip_path: Path | None = None
    timestamped: bool = False


# -- access copies -----------------------------------------------------------------------------
def watermark_text(recipient: Recipient, export_id: str) -> str:
    who = " / ".join(p for p in (recipient.agency, recipient.officer, recipient.case_number) if p)
    return f"ACCESS COPY - NOT EVIDENCE - {who} - export {export_id[:8]}"


def make_access_copy(original: Path, out: Path, text: str, scratch: Path) -> list[str]:
    """A re-encoded copy with the recipient burned in (ffmpeg drawtext); the original is only read."""
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
            self.signature = signing.verify_detached(read(package.SIGNATURE_PATH), tag)
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
        signing.require_trusted(digests.signature, archive.trusted, row.id)  # E036: never hand over a foreign one
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
    gaps = [(str(g.get("camera", "")), datetime.fromisoformat(g["start"]), datetime.fromisoformat(g["end"]))
            for g in description["gaps"]]
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


#: Why a custody entry is proven in an export by its hash only.
WITHHELD = "about another recipient's export or request: proven by its leaf hash, its content withheld"


def withheld_from(entry: dict[str, Any], export_id: str) -> bool:
    """Whether a ledger entry about the exported packages must not be shown to this export's recipient.

    Another export's transfer or share download names its agency, officer
    and case number, and an access request names a data subject: the next
    recipient learns none of it. The entry's leaf hash still travels with
    its inclusion proof, so the extract shows that something was withheld
    and cannot hide or change an entry.
    """
    extra = entry.get("extra") or {}
    if extra.get("export_id"):
        return bool(extra["export_id"] != export_id)
    return bool(entry.get("type") == "transfer" or "request" in extra or "recipient" in extra)


def keys_url(archive: Archive) -> str:
    """The public page of the archive's certificates and checkpoints, when ``[archive] public_url`` is set."""
    base = archive.settings.public_url
    return f"{base}{KEYS_PATH}" if base else ""


def _consistency_from_previous(ledger: custody.Ledger, cp: custody.Checkpoint, tree: Any) -> bytes | None:
    """The RFC 9162 consistency proof from the ledger's previous signed checkpoint to the export's own.

    The previous checkpoint is one the archive may already have published
    (or a witness kept): a recipient holding it checks that the export's
    ledger extends it, which no export remade from scratch can show.
    """
    earlier = [c for c in ledger.checkpoints() if c.size < cp.size]
    if not earlier:
        return None
    old = earlier[-1]
    proof = {"format": custody.audit.CONSISTENCY_FORMAT, "algorithm": "RFC 9162 section 2.1.4 (SHA-256)",
             "first": old.size, "second": cp.size,
             "consistency_path": [h.hex() for h in tree.consistency_proof(old.size, cp.size)],
             "first_checkpoint": old.to_dict(), "second_checkpoint_note": "checkpoint.note"}
    return json.dumps(proof, indent=1, sort_keys=True).encode()


def export(archive: Archive, request: Request, out_dir: Path, zip_path: Path | None = None,
           progress: Callable[[int], None] | None = None, now: datetime | None = None,
           export_id: str | None = None) -> Result:
    """Write the export bag into ``out_dir`` (which must not exist yet); optionally zip it (streamed).

    The bag is written beside ``out_dir`` under a partial name and renamed at
    the end, so ``out_dir`` holds a whole export or nothing. A job passes its
    own ``export_id``: run again after a kill, it removes its partial bag, reuses
    its transfer event and cuts, and returns an export already finished as is.
    """
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
    zone = request.timezone or archive.settings.timezone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise LongwatchError("E003", detail=f"unknown time zone {zone!r} (give an IANA name such as "
                                            "Asia/Seoul)") from exc
    now = now or clock.now()
    if request.recipient.expires is not None and request.recipient.expires <= now:
        raise LongwatchError("E003", detail=f"the expiry {utc_text(request.recipient.expires)} is in the past")
    selection = select(archive, request)
    if request.cut:
        if not (request.start and request.end):
            raise LongwatchError("E003", detail="--cut needs --from and --to")
        make_cuts(archive, selection, request, export_id or "")
    export_id = export_id or str(uuid.uuid4())
    report.preflight()  # E008 or U021 before anything is written or recorded
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
                    access.append(_File(rel, sha256_file(bag / rel), (bag / rel).stat().st_size, f.package_id,
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
        withheld = {seq for seq, line in entries.items() if withheld_from(json.loads(line), export_id)}
        files.append(_write(bag, f"{CUSTODY}/extract.jsonl",
                            b"".join(entries[s] + b"\n" for s in sorted(entries) if s not in withheld), "custody"))
        for seq in sorted(entries):
            proof = custody.prove_inclusion(ledger, seq, against=cp.size, tree=tree)
            proof.pop("checkpoint")  # the one checkpoint sits beside the proofs
            proof["checkpoint_note"] = "checkpoint.note"
            if seq in withheld:  # proven by its leaf hash alone: the entry itself is another recipient's
                proof.pop("entry")
                proof["withheld"] = WITHHELD
                timeline.append({"seq": seq, "withheld": True})
            else:
                timeline.append(json.loads(entries[seq]))
            files.append(_write(bag, f"{CUSTODY}/proofs/{seq:012d}.json",
                                json.dumps(proof, indent=1, sort_keys=True).encode(), "custody"))
        files.append(_write(bag, f"{CUSTODY}/checkpoint.note", cp.note, "custody"))
        consistency = _consistency_from_previous(ledger, cp, tree)
        if consistency is not None:
            files.append(_write(bag, CONSISTENCY, consistency, "custody"))
        files.append(_write(bag, f"{CUSTODY}/checkpoint.note.p7s", cp.signature, "custody"))
        if cp.tsr:
            files.append(_write(bag, f"{CUSTODY}/checkpoint.note.p7s.tsr", cp.tsr, "custody"))
        files.append(_write(bag, f"{CUSTODY}/signer-chain.pem", archive.certificate_chain, "custody"))
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
            "organization": archive.settings.organization, "timezone": zone,
            "archive_timezone": archive.settings.timezone,
            "exported_by": archive.operator, "recipient": recipient.to_dict(), "reason": request.reason,
            "language": request.language, "keys_url": keys_url(archive),
            "request": {"package_ids": request.package_ids, "cameras": request.cameras,
                        "start": utc_text(request.start) if request.start else "",
                        "end": utc_text(request.end) if request.end else "", "cut": request.cut},
            "gaps": [{"camera": camera, "start": utc_text(a), "end": utc_text(b), "seconds": (b - a).total_seconds()}
                     for camera, a, b in selection.gaps],
            "packages": [{"id": r.id, "camera": r.camera, "title": r.title, "start": utc_text(r.start_utc)
                          if r.start_utc else "", "end": utc_text(r.end_utc) if r.end_utc else "",
                          "derived_cut": r.id in selection.cuts, **provenance.export_fields(r)}
                         for r in selection.packages],
            "files": [{"path": f.relpath, "sha256": f.sha256, "size": f.size, "package": f.package_id,
                       "camera": f.camera, "start": utc_text(f.start) if f.start else "",
                       "end": utc_text(f.end) if f.end else ""} for f in media],
            "access_copies": [{"path": f.relpath, "sha256": f.sha256, "size": f.size, "package": f.package_id,
                               "watermark": watermark_text(recipient, export_id), "evidence": False}
                              for f in access],
            "custody": {"entries": sorted(entries), "withheld": sorted(withheld), "transfer_seq": transfer_seq,
                        "checkpoint_size": cp.size,
                        "checkpoint_root": cp.root.hex(), "checkpoint_time": utc_text(cp.time),
                        "signer": archive.signer.fingerprint, "checkpoint_timestamped": cp.tsr is not None},
        }
        (bag / "export.json").write_bytes(json.dumps(description, indent=1, ensure_ascii=False).encode())
        report.write_reports(bag, description, timeline, ZoneInfo(zone), request.language)
        earlier = json.loads(consistency)["first_checkpoint"] if consistency is not None else None
        (bag / "VERIFY.txt").write_bytes(report.verify_text(
            tsa=bool(ledger.settings.tsa_url), tsa_chain=(bag / CUSTODY / "tsa-chain.pem").exists(),
            checkpoint_tsr=cp.tsr is not None, keys_url=keys_url(archive), signer=archive.signer.fingerprint,
            checkpoint=(cp.size, cp.root.hex()),
            earlier=(earlier["tree_size"], earlier["root_hash"]) if earlier else None).encode())
        tag = package.manifest_text({name: sha256_file(bag / name) for name in TAG_FILES})
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



def remove_partial(path: Path) -> None:
    """After a failed export: no half-written bag is left to be mistaken for evidence."""
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)

