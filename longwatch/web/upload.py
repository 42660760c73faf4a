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
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
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
from longwatch.core.catalog.models import Upload
from longwatch.core.preservation import ingest as ingest_mod
from longwatch.errors import LongwatchError
from longwatch.web import current_archive
from longwatch.web.api import _param, operation
from longwatch.web.security import current_user, public, requires

bp = Blueprint("upload", __name__)
UPLOAD_ID = _param("upload_id", "path", {"type": "string", "maxLength": 32}, True)
TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,checksum,termination"
PIECE = 4 << 20
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

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
    """Forget uploads nobody finished before they expired (their bytes and their row)."""
    now = now or clock.now()
    gone = []
    catalog = current_archive().catalog
    with catalog.session() as s:
        for row in s.scalars(select(Upload).where(Upload.expires_at < now, Upload.status == "receiving")):
            shutil.rmtree(upload_dir() / row.id, ignore_errors=True)
            row.status = "expired"
            gone.append(row.id)
    with _hashers_lock:
        for upload_id in gone:
            _hashers.pop(upload_id, None)
    return gone


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
    if not text.isdigit() or not 0 < int(text) <= limit:
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
    if row.status != "receiving":
        raise LongwatchError("W014", offset=row.offset, given=request.headers.get("Upload-Offset", "")[:20])
    given = request.headers.get("Upload-Offset", "")
    if not given.isdigit():
        raise LongwatchError("W021", detail="Upload-Offset is missing or not a number")
    expected_chunk = _checksum(request.headers.get("Upload-Checksum"))
    path = _data_path(upload_id)
    if not path.exists() and row.offset == row.length:
        # every byte arrived but the server stopped while archiving: archive again, nothing to receive
        named = _named_path(row)
        if not named.exists() or int(given) != row.length:
            raise LongwatchError("W018", upload_id=upload_id[:40])
        finish(row, _running_hash(upload_id, named, row.length).hexdigest())
        response = tus_headers(Response(status=204))
        response.headers["Upload-Offset"] = str(row.length)
        return response
    with path.open("r+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # one writer per upload, across processes
        with current_archive().catalog.session() as s:
            fresh = s.get(Upload, upload_id)
            assert fresh is not None
        row = fresh
        start = row.offset
        if int(given) != start:
            raise LongwatchError("W014", offset=start, given=given)
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
                    data = request.stream.read(PIECE)
                    if not data:
                        break
                    if received + len(data) > room:
                        fh.truncate(start)
                        raise LongwatchError("W016", limit=row.length)
                    fh.write(data)
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(_update, digests, data)
                    received += len(data)
            except (ClientDisconnected, OSError):
                disconnected = True
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
        with _hashers_lock:
            _hashers[upload_id] = (offset, whole)
    if offset == row.length:
        with _hashers_lock:
            _hashers.pop(upload_id, None)
        row.offset = offset
        finish(row, whole.hexdigest())
    response = tus_headers(Response(status=204))
    response.headers["Upload-Offset"] = str(offset)
    return response


def _named_path(row: Upload) -> Path:
    """Where the complete file waits for ingest, under its original (safe) name."""
    return upload_dir() / row.id / package.safe_name(row.filename or "upload.bin", "upload.bin")


def finish(row: Upload, sha256: str) -> str:
    """Check the whole file's digest, then archive it through core.ingest; returns the package id."""
    archive = current_archive()
    folder = upload_dir() / row.id

    def fail(error: LongwatchError) -> None:
        with archive.catalog.session() as s:
            stored = s.get(Upload, row.id)
            assert stored is not None
            stored.status, stored.error = "failed", f"[{error.code}] {error.render(translate=False)}"
        shutil.rmtree(folder, ignore_errors=True)
        raise error

    if row.expected_sha256 and row.expected_sha256 != sha256:
        fail(LongwatchError("W017", found=sha256, expected=row.expected_sha256))
    meta = json.loads(row.metadata_json or "{}")
    named = _named_path(row)
    if (folder / "data").exists():
        os.replace(folder / "data", named)
    req = ingest_mod.IngestRequest(
        path=named,
        camera=meta.get("camera", ""),
        zone=meta.get("zone", "")[:200],
        title=meta.get("title", "")[:500],
        start=clock.parse_time(meta["start"]) if meta.get("start") else None,
    )
    try:
        result = ingest_mod.ingest(archive, req)
    except LongwatchError as exc:  # its own code says best what went wrong (I006 duplicate, S001 full, ...)
        fail(exc)
        raise  # unreachable: fail() raises
    except OSError as exc:
        fail(LongwatchError("W023", detail=str(exc)))
        raise  # unreachable: fail() raises
    if result.sha256 != sha256:  # the bytes changed between receipt and ingest
        fail(LongwatchError("W017", found=result.sha256, expected=sha256))
    with archive.catalog.session() as s:
        stored = s.get(Upload, row.id)
        assert stored is not None
        stored.status, stored.package_id = "archived", result.package_id
    shutil.rmtree(folder, ignore_errors=True)
    return result.package_id


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
    return [bp]
