"""Built-in web plugin: resumable uploads with tus 1.0 (core, creation, checksum, termination).

Why tus: the protocol is published and has clients for browsers, Python and
the command line, so nobody has to trust a home-made one. The partial file
lives under the archive's ``uploads/`` directory; the catalog row keeps the
offset of the last byte known good, so an upload resumes after a dropped
connection or a server restart. Bytes are streamed to disk in 4 MiB pieces
(a few MiB per request whatever the size); a chunk that carries ``Upload-Checksum`` is
checked before its bytes count, and a bad chunk is cut off again. The running
SHA-256 of the whole file is kept in memory per process and rebuilt from disk
when another process (or a restart) took the previous chunk; when the last
byte arrives the whole-file digest is compared with the one the client
announced (``Upload-Metadata: sha256``) and only then does the file go through
``core.ingest``.

Nothing is lost at the edges: the row that records the last byte also turns
the upload to ``archiving`` in the same transaction, and the package id is
chosen before ingest starts. An upload whose every byte arrived is never
swept; if the server dies before its package is made, the next process to
start (or the next PATCH) completes it exactly once, and a package already
published under that id counts as done. Free space is checked when an
upload is created and before each chunk (507, S021), never discovered as a
failed write.
"""

from __future__ import annotations

import base64
import binascii
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import ClientDisconnected

from longwatch import clock
from longwatch.core.accounts import Account
from longwatch.core.aip import package
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Upload
from longwatch.core.faults import fault
from longwatch.core.preservation import ingest as ingest_mod
from longwatch.core.preservation import publish as publish_mod
from longwatch.errors import LongwatchError
from longwatch.web import current_archive, numbers
from longwatch.web.api import _param, operation
from longwatch.web.security import current_user, public, requires

bp = Blueprint("upload", __name__)
UPLOAD_ID = _param("upload_id", "path", {"type": "string", "maxLength": 32}, True)
TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,checksum,termination"
PIECE = 4 << 20
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
#: Free space kept in the upload area beyond what uploads still need, for the catalog and logs.
RESERVE = 64 << 20
#: Errors that are the file's own (a wrong digest, a duplicate): its bytes go. Any other keeps them for a retry.
_FILE_FAULTS = ("I", "W")
log = logging.getLogger(__name__)

# upload id -> (offset, running sha256) in this process; rebuilt from disk when stale
_hashers: dict[str, tuple[int, Any]] = {}
_hashers_lock = threading.Lock()


def tus_headers(response: Response) -> Response:
    response.headers["Tus-Resumable"] = TUS_VERSION
    response.headers["Cache-Control"] = "no-store"
    return response


def _check_version() -> None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise LongwatchError("W013")


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs."""
    out: dict[str, str] = {}
    if not header:
        return out
    for item in header.split(","):
        item = item.strip()
        if not item:
            continue
        key, _, value = item.partition(" ")
        if not _KEY.match(key) or key in out:
            raise LongwatchError("W022", detail=f"bad or repeated key {key[:64]!r}")
        try:
            out[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value else ""
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise LongwatchError("W022", detail=f"{key}: not base64 of UTF-8 text") from exc
    return out


def upload_dir() -> Path:
    path = Path(current_app.config["LONGWATCH_UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def _data_path(upload_id: str) -> Path:
    return upload_dir() / upload_id / "data"


def sweep_expired(now: datetime | None = None) -> list[str]:
    """Forget uploads nobody finished before they expired (their bytes and their row).

    Only uploads still missing bytes: one whose last byte arrived is waiting
    for its package and is completed, never swept.
    """
    now = now or clock.now()
    gone = []
    catalog = current_archive().catalog
    with catalog.session() as s:
        for row in s.scalars(select(Upload).where(Upload.expires_at < now, Upload.status == "receiving",
                                                  Upload.offset < Upload.length)):
            shutil.rmtree(upload_dir() / row.id, ignore_errors=True)
            row.status = "expired"
            gone.append(row.id)
    with _hashers_lock:
        for upload_id in gone:
            _hashers.pop(upload_id, None)
    return gone


def check_room(root: Path, needed: int, reserve: int = RESERVE) -> None:
    """Refuse (S021, 507) before receiving bytes the upload area has no room for."""
    root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(root).free
    if free < needed + reserve:
        raise LongwatchError("S021", needed=needed, free=free, reserve=reserve)


def _get(upload_id: str, user: Account) -> Upload:
    with current_archive().catalog.session() as s:
        row = s.get(Upload, upload_id) if re.fullmatch(r"[0-9a-f]{32}", upload_id) else None
    now = clock.now()
    if (
        row is None
        or (row.user_id != user.id and user.role != "administrator")
        or (row.status == "receiving" and row.expires_at < now)
        or row.status == "expired"
    ):
        raise LongwatchError("W018", upload_id=upload_id[:40])
    return row


def _expires_header(row: Upload) -> str:
    from email.utils import format_datetime

    return format_datetime(row.expires_at.astimezone(UTC), usegmt=True)


def _status(row: Upload) -> dict[str, Any]:
    return {
        "upload_id": row.id,
        "length": row.length,
        "offset": row.offset,
        "filename": row.filename,
        "status": row.status,
        "package_id": row.package_id or None,
        "error": row.error or None,
        "expires": row.expires_at.isoformat().replace("+00:00", "Z"),
    }


@bp.after_request
def always_tus(response: Response) -> Response:
    """Errors from the tus endpoints carry the protocol header too."""
    if request.path.startswith("/api/v1/uploads"):
        response.headers.setdefault("Tus-Resumable", TUS_VERSION)
    return response


@bp.route("/api/v1/uploads", methods=["OPTIONS"], provide_automatic_options=False)
@public
@operation("tus discovery (OPTIONS)", None, errors=(), auth=False, status=204)
def options() -> Response:
    """tus discovery: what this server supports (no secrets, so no sign-in needed)."""
    response = tus_headers(Response(status=204))
    response.headers["Tus-Version"] = TUS_VERSION
    response.headers["Tus-Extension"] = EXTENSIONS
    response.headers["Tus-Max-Size"] = str(current_app.config["LONGWATCH_UPLOAD_MAX"])
    response.headers["Tus-Checksum-Algorithm"] = "sha256"
    return response


@bp.post("/api/v1/uploads")
@requires("upload:write")
@operation(
    "tus creation: start an upload (Upload-Length, Upload-Metadata)",
    None,
    [
        _param("Tus-Resumable", "header", {"type": "string", "enum": ["1.0.0"]}, True),
        _param("Upload-Length", "header", {"type": "integer", "minimum": 1}, True),
    ],
    errors=(400, 401, 403, 412, 413),
    status=201,
)
def create() -> Response:
    """tus creation: announce the length (and optionally filename, sha256, camera, start, title)."""
    _check_version()
    user = current_user()
    assert user is not None
    limit = int(current_app.config["LONGWATCH_UPLOAD_MAX"])
    text = request.headers.get("Upload-Length", "")
    if not numbers.is_whole(text) or not 0 < int(text) <= limit:
        raise LongwatchError("W016", limit=limit)
    meta = parse_metadata(request.headers.get("Upload-Metadata"))
    expected = meta.get("sha256", "").strip().lower()
    if expected and not _HEX64.match(expected):
        raise LongwatchError("W022", detail="sha256 must be 64 hexadecimal digits")
    if meta.get("camera"):
        try:
            ingest_mod.check_camera(meta["camera"])
        except LongwatchError as exc:
            raise LongwatchError("W022", detail=exc.render()) from exc
    if meta.get("start"):
        try:
            clock.parse_time(meta["start"])
        except LongwatchError as exc:
            raise LongwatchError("W022", detail=exc.render()) from exc
    sweep_expired()
    check_room(upload_dir(), int(text), int(current_app.config["LONGWATCH_UPLOAD_RESERVE"]))
    storage = current_archive().storage()
    free = storage.free_bytes()
    if free is not None and free < int(text) + ingest_mod.HEADROOM:  # the package must fit too
        raise LongwatchError("S001", location=storage.location, detail=f"{free} bytes free, {text} needed")
    now = clock.now()
    upload_id = uuid.uuid4().hex
    path = _data_path(upload_id)
    path.parent.mkdir(parents=True)
    path.touch()
    row = Upload(
        id=upload_id,
        user_id=user.id,
        length=int(text),
        offset=0,
        filename=(meta.get("filename") or "upload.bin")[:255],
        metadata_json=json.dumps(meta),
        expected_sha256=expected,
        status="receiving",
        package_id="",
        error="",
        created_at=now,
        expires_at=now + timedelta(hours=float(current_app.config["LONGWATCH_UPLOAD_EXPIRY_HOURS"])),
    )
    with current_archive().catalog.session() as s:
        s.add(row)
    response = tus_headers(Response(status=201))
    response.headers["Location"] = url_for("upload.upload", upload_id=upload_id, _external=False)
    response.headers["Upload-Expires"] = _expires_header(row)
    return response


@bp.route("/api/v1/uploads/<upload_id>", methods=["GET", "HEAD"])
@requires("upload:write")
@operation("tus offset (HEAD) and status of an upload", {"type": "object"}, [UPLOAD_ID], errors=(401, 403, 404))
def upload(upload_id: str) -> Response:
    """tus HEAD: the offset to resume from. GET also answers with the upload's status as JSON."""
    user = current_user()
    assert user is not None
    row = _get(upload_id, user)
    response = jsonify(_status(row))
    response.headers["Upload-Offset"] = str(row.offset)
    response.headers["Upload-Length"] = str(row.length)
    if row.status == "receiving":
        response.headers["Upload-Expires"] = _expires_header(row)
    return tus_headers(response)


def _checksum(header: str | None) -> bytes | None:
    if not header:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise LongwatchError("W019", algorithm=algorithm[:20])
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except binascii.Error as exc:
        raise LongwatchError("W021", detail="Upload-Checksum is not base64") from exc
    if len(digest) != 32:
        raise LongwatchError("W021", detail="Upload-Checksum is not a SHA-256 digest")
    return digest


def _update(digests: list[Any], data: bytes) -> None:
    for digest in digests:
        digest.update(data)


def _running_hash(upload_id: str, path: Path, offset: int) -> Any:
    with _hashers_lock:
        cached = _hashers.get(upload_id)
    if cached is not None and cached[0] == offset:
        return cached[1].copy()
    whole = hashlib.sha256()
    with path.open("rb") as fh:
        left = offset
        while left > 0:
            data = fh.read(min(8 * PIECE, left))
            if not data:
                break
            whole.update(data)
            left -= len(data)
    return whole


@bp.patch("/api/v1/uploads/<upload_id>")
@requires("upload:write")
@operation(
    "tus core: append bytes at Upload-Offset (Upload-Checksum: sha256 ...)",
    None,
    [UPLOAD_ID],
    errors=(400, 401, 403, 404, 409, 412, 413, 422, 460),
    status=204,
)
def patch(upload_id: str) -> Response:
    """tus core: append bytes at ``Upload-Offset``; checked, then counted, then (at the end) archived."""
    _check_version()
    user = current_user()
    assert user is not None
    if request.mimetype != "application/offset+octet-stream":
        raise LongwatchError("W021", detail="Content-Type must be application/offset+octet-stream")
    row = _get(upload_id, user)
    given = request.headers.get("Upload-Offset", "")
    if row.status == "archiving" or (row.status == "receiving" and row.offset == row.length):
        # every byte arrived but the package is not made yet (a server died, or a retry): make it now
        if given != str(row.length):
            raise LongwatchError("W014", offset=row.offset, given=given[:20])
        done = complete(current_archive(), upload_dir(), upload_id, raise_errors=True)
        response = tus_headers(Response(status=204))
        response.headers["Upload-Offset"] = str(done.offset if done is not None else row.length)
        return response
    if row.status != "receiving":
        raise LongwatchError("W014", offset=row.offset, given=given[:20])
    if not numbers.is_whole(given):
        raise LongwatchError("W021", detail="Upload-Offset is missing or not a number")
    expected_chunk = _checksum(request.headers.get("Upload-Checksum"))
    path = _data_path(upload_id)
    with path.open("r+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # one writer per upload, across processes
        with current_archive().catalog.session() as s:
            fresh = s.get(Upload, upload_id)
            assert fresh is not None
        row = fresh
        start = row.offset
        if row.status != "receiving" or start == row.length:  # another request took the last byte meanwhile
            raise LongwatchError("W014", offset=start, given=given)
        if int(given) != start:
            raise LongwatchError("W014", offset=start, given=given)
        check_room(path.parent, row.length - start, int(current_app.config["LONGWATCH_UPLOAD_RESERVE"]))
        fh.truncate(start)  # bytes past the last good offset (a crash mid-chunk) are not trusted
        fh.seek(start)
        whole = _running_hash(upload_id, path, start)
        chunk = hashlib.sha256()
        received, disconnected = 0, False
        room = row.length - start
        digests = [whole] if expected_chunk is None else [whole, chunk]
        # hashing overlaps with reading the socket and writing the file (hashlib releases the GIL)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending: Future[None] | None = None
            try:
                while True:
                    try:
                        data = request.stream.read(PIECE)
                    except (ClientDisconnected, OSError):
                        disconnected = True
                        break
                    if not data:
                        break
                    if received + len(data) > room:
                        fh.truncate(start)
                        raise LongwatchError("W016", limit=row.length)
                    try:
                        fh.write(data)
                    except OSError as exc:  # the disk filled under us: the chunk is not kept
                        fh.truncate(start)
                        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                            raise LongwatchError("S021", needed=room, free=0, reserve=0) from exc
                        raise LongwatchError("W023", detail=str(exc)) from exc
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(_update, digests, data)
                    received += len(data)
            finally:
                if pending is not None:
                    pending.result()
        fh.flush()
        os.fsync(fh.fileno())
        if expected_chunk is not None and (disconnected or chunk.digest() != expected_chunk):
            fh.truncate(start)  # the chunk cannot be checked, or is wrong: forget it
            with _hashers_lock:
                _hashers.pop(upload_id, None)
            raise LongwatchError("W015", algorithm="sha256")
        offset = start + received
        with current_archive().catalog.session() as s:
            stored = s.get(Upload, upload_id)
            assert stored is not None
            stored.offset = offset
            if offset == row.length:  # the last byte and the duty to archive it are recorded together
                stored.status, stored.package_id = "archiving", str(uuid.uuid4())
        with _hashers_lock:
            _hashers[upload_id] = (offset, whole)
    if offset == row.length:
        fault("upload-after-last-byte")
        complete(current_archive(), upload_dir(), upload_id, sha256=whole.hexdigest(), raise_errors=True)
        with _hashers_lock:
            _hashers.pop(upload_id, None)
    response = tus_headers(Response(status=204))
    response.headers["Upload-Offset"] = str(offset)
    return response


def _named_path(root: Path, row: Upload) -> Path:
    """Where the complete file waits for ingest, under its original (safe) name."""
    return root / row.id / package.safe_name(row.filename or "upload.bin", "upload.bin")


def _set(archive: Archive, upload_id: str, **values: Any) -> Upload:
    with archive.catalog.session() as s:
        stored = s.get(Upload, upload_id)
        assert stored is not None
        for key, value in values.items():
            setattr(stored, key, value)
        s.flush()
        s.expunge(stored)
    return stored


def complete(archive: Archive, root: Path, upload_id: str, sha256: str = "",
             raise_errors: bool = False) -> Upload | None:
    """Archive an upload whose every byte arrived, exactly once, whichever process gets there first.

    The package id was recorded with the last byte, so a package published
    before a crash is found, not made twice. An error that is the file's own
    (I, W: a wrong digest, a duplicate) fails the upload and its bytes go; any
    other (a full store, a lost catalog) leaves it ``archiving`` with the error
    recorded and its bytes kept, for the next try. Returns the row as it ends,
    or None when another process holds it.
    """
    folder = root / upload_id
    try:
        lock = (folder / "finish.lock").open("a+b")
    except FileNotFoundError:  # already archived, or the upload area is not mounted here: touch nothing
        with archive.catalog.session() as s:
            row = s.get(Upload, upload_id)
            if row is not None:
                s.expunge(row)
        return row
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if raise_errors else fcntl.LOCK_NB))
        except BlockingIOError:
            return None
        with archive.catalog.session() as s:
            row = s.get(Upload, upload_id)
            if row is not None:
                s.expunge(row)
        if row is None or row.offset != row.length or row.status not in ("receiving", "archiving"):
            return row
        if not row.package_id:
            row = _set(archive, upload_id, status="archiving", package_id=str(uuid.uuid4()))
        if archive.catalog.get(row.package_id) is None:
            publish_mod.recover(archive)  # a publication the dead process left half done
        if archive.catalog.get(row.package_id) is not None:
            row = _set(archive, upload_id, status="archived", error="")
            shutil.rmtree(folder, ignore_errors=True)
            return row
        try:
            _archive(archive, root, row, sha256)
        except LongwatchError as exc:
            text = f"[{exc.code}] {exc.render(translate=False)}"
            if exc.code[0] in _FILE_FAULTS:
                _set(archive, upload_id, status="failed", error=text, package_id="")
                shutil.rmtree(folder, ignore_errors=True)
            else:
                _set(archive, upload_id, status="archiving", error=text)
            if raise_errors:
                raise
            log.warning("upload %s: %s", upload_id, text)
            return None
        row = _set(archive, upload_id, status="archived", error="")
        shutil.rmtree(folder, ignore_errors=True)
        return row
    finally:
        lock.close()


def _archive(archive: Archive, root: Path, row: Upload, sha256: str) -> None:
    """Check the whole file's digest, then archive it through core.ingest under the recorded package id."""
    folder = root / row.id
    named = _named_path(root, row)
    if (folder / "data").exists():
        os.replace(folder / "data", named)
    if not named.exists():
        raise LongwatchError("W023", detail="the received bytes are gone")
    if not sha256:
        sha256 = _running_hash(row.id, named, row.length).hexdigest()
    if row.expected_sha256 and row.expected_sha256 != sha256:
        raise LongwatchError("W017", found=sha256, expected=row.expected_sha256)
    meta = json.loads(row.metadata_json or "{}")
    req = ingest_mod.IngestRequest(
        path=named,
        camera=meta.get("camera", ""),
        zone=meta.get("zone", "")[:200],
        title=meta.get("title", "")[:500],
        start=clock.parse_time(meta["start"]) if meta.get("start") else None,
        package_id=row.package_id,
    )
    try:
        result = ingest_mod.ingest(archive, req)
    except OSError as exc:
        raise LongwatchError("W023", detail=str(exc)) from exc
    if result.sha256 != sha256:  # the bytes changed between receipt and ingest
        raise LongwatchError("W017", found=result.sha256, expected=sha256)


def awaiting_package(archive: Archive) -> list[str]:
    """Uploads whose every byte arrived and whose package is not made yet."""
    with archive.catalog.session() as s:
        return list(s.scalars(select(Upload.id).where(
            Upload.status.in_(("receiving", "archiving")), Upload.offset == Upload.length)))


def resume_pending(archive: Archive, root: Path) -> threading.Thread | None:
    """On start, complete in the background what a dead server left between last byte and package."""
    waiting = awaiting_package(archive)
    if not waiting:
        return None

    def run() -> None:
        for upload_id in waiting:
            try:
                complete(archive, root, upload_id)
            except Exception:  # a retry comes with the next start or PATCH; the server must still serve
                log.exception("upload %s could not be completed", upload_id)

    thread = threading.Thread(target=run, name="longwatch-upload-resume", daemon=True)
    thread.start()
    return thread


@bp.delete("/api/v1/uploads/<upload_id>")
@requires("upload:write")
@operation("tus termination: abandon an upload", None, [UPLOAD_ID], errors=(401, 403, 404, 412), status=204)
def terminate(upload_id: str) -> Response:
    """tus termination: the client gives up; the bytes go at once."""
    _check_version()
    user = current_user()
    assert user is not None
    row = _get(upload_id, user)
    if row.status != "receiving":
        raise LongwatchError("W021", detail=f"the upload is {row.status} and cannot be terminated")
    folder = upload_dir() / row.id
    with _data_path(row.id).open("r+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with current_archive().catalog.session() as s:
            stored = s.get(Upload, row.id)
            assert stored is not None
            s.delete(stored)
    shutil.rmtree(folder, ignore_errors=True)
    with _hashers_lock:
        _hashers.pop(row.id, None)
    return tus_headers(Response(status=204))


@bp.get("/upload")
@requires("upload:write")
def page() -> str:
    return render_template(
        "upload.html", max_size=current_app.config["LONGWATCH_UPLOAD_MAX"],
        chunk=current_app.config["LONGWATCH_UPLOAD_CHUNK"],
    )


def blueprints(app: Any) -> list[Blueprint]:
    app.config.setdefault("LONGWATCH_UPLOAD_RESERVE", RESERVE)
    if app.config.setdefault("LONGWATCH_UPLOAD_RESUME", True):
        app.extensions["longwatch-upload-resume"] = resume_pending(
            app.extensions["longwatch"], Path(app.config["LONGWATCH_UPLOAD_DIR"]))
    return [bp]
