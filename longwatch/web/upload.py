"""Built-in web plugin: resumable uploads with tus 1.0 (core, creation, checksum, termination).

Why tus: the protocol is published and has clients for browsers, Python and
the command line, so nobody has to trust a home-made one. This module speaks
the protocol; the upload itself lives in the catalog and the object store
(:mod:`longwatch.core.preservation.uploads`), not on this server: behind a
load balancer each PATCH may reach another web server, and the package may
be made by a worker on another machine, with nothing shared but the
database and the storage locations. The catalog row keeps the offset of the
last byte known good, so an upload resumes after a dropped connection or a
server restart, on any server.

Each PATCH is spooled to this machine's scratch folder in 4 MiB pieces (a
few MiB of memory per request whatever the size); a chunk that carries
``Upload-Checksum`` is checked before its bytes count, and a bad one never
reaches the store. Then it is stored as one part object and the offset moves
on in the catalog, only if no other request got there first.

Nothing is lost at the edges: the row that records the last byte also turns
the upload to ``archiving`` and chooses the package id in the same
transaction (and on PostgreSQL queues the job that makes the package). On
SQLite that job runs here, before the last PATCH is answered; on PostgreSQL
a worker runs it and the client follows the upload's status. An upload whose
every byte arrived is never swept; if a server dies before its package is
made, the next server to start (or the next PATCH) completes it exactly
once, and a package already published under that id counts as done. Free
space is checked when an upload is created and before each chunk (507,
S021), never discovered as a failed write.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import json
import logging
import re
import shutil
import tempfile
import threading
import uuid
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from werkzeug.exceptions import ClientDisconnected

from longwatch import clock
from longwatch.core.accounts import Account
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Upload
from longwatch.core.faults import fault
from longwatch.core.preservation import ingest as ingest_mod
from longwatch.core.preservation import staging, uploads
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
log = logging.getLogger(__name__)


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
        except (binascii.Error, ValueError) as exc:  # ValueError: a character outside ASCII (b64decode's own)
            raise LongwatchError("W022", detail=f"{key}: not base64 of UTF-8 text") from exc
    return out


def upload_dir() -> Path:
    """This machine's scratch folder for chunks in flight (nothing another machine needs stays here)."""
    path = Path(current_app.config["LONGWATCH_UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def sweep_expired() -> list[str]:
    """Forget uploads nobody finished before they expired (their parts go; their row says expired).

    Only uploads still missing bytes: one whose last byte arrived is waiting
    for its package and is completed, never swept.
    """
    return uploads.expire(current_archive())


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
    if user.is_scoped and (meta.get("camera") or meta.get("zone")):
        # an investigator's file is theirs, not a camera's footage: named so, it would go out in a camera's
        # exports to court as that camera's recording
        raise LongwatchError("W040", role=user.role, permission="upload as a camera's footage")
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
    # this server holds one chunk at a time; the parts and the package go to the primary location
    check_room(upload_dir(), min(int(text), int(current_app.config["LONGWATCH_UPLOAD_CHUNK"])),
               int(current_app.config["LONGWATCH_UPLOAD_RESERVE"]))
    storage = staging.primary(current_archive())
    free = storage.free_bytes()
    if free is not None and free < int(text) + ingest_mod.HEADROOM:  # the package must fit too
        raise LongwatchError("S001", location=storage.location, detail=f"{free} bytes free, {text} needed")
    now = clock.now()
    upload_id = uuid.uuid4().hex
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
    except (binascii.Error, ValueError) as exc:  # ValueError: a character outside ASCII
        raise LongwatchError("W021", detail="Upload-Checksum is not base64") from exc
    if len(digest) != 32:
        raise LongwatchError("W021", detail="Upload-Checksum is not a SHA-256 digest")
    return digest


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
    archive = current_archive()
    if row.status == "archiving" or (row.status == "receiving" and row.offset == row.length):
        # every byte arrived but the package is not made yet (a server died, or a retry): make it now
        if given != str(row.length):
            raise LongwatchError("W014", offset=row.offset, given=given[:20])
        finish(archive, upload_id, raise_errors=True)
        return _offset_response(row.length)
    if row.status != "receiving":
        raise LongwatchError("W014", offset=row.offset, given=given[:20])
    if not numbers.is_whole(given):
        raise LongwatchError("W021", detail="Upload-Offset is missing or not a number")
    start = row.offset
    if int(given) != start:
        raise LongwatchError("W014", offset=start, given=given)
    expected_chunk = _checksum(request.headers.get("Upload-Checksum"))
    scratch = upload_dir()
    room = row.length - start
    announced = request.content_length  # the chunk this request brings, when the client says
    check_room(scratch, min(room, announced) if announced is not None else room,
               int(current_app.config["LONGWATCH_UPLOAD_RESERVE"]))
    free = staging.primary(archive).free_bytes()
    if free is not None and free < room + int(current_app.config["LONGWATCH_UPLOAD_RESERVE"]):
        raise LongwatchError("S021", needed=room, free=free, reserve=current_app.config["LONGWATCH_UPLOAD_RESERVE"])
    with tempfile.TemporaryFile(dir=scratch, prefix=f"{upload_id}-") as fh:
        received, disconnected, chunk = _spool(fh, room, expected_chunk is not None)
        if expected_chunk is not None and (disconnected or chunk.digest() != expected_chunk):
            raise LongwatchError("W015", algorithm="sha256")  # the chunk cannot be checked, or is wrong
        if received == 0:
            return _offset_response(start)
        fh.seek(0)
        added = uploads.add_part(archive, upload_id, start, fh, received)
    if added.complete:
        fault("upload-after-last-byte")
        finish(archive, upload_id, raise_errors=True)
    return _offset_response(added.offset)


def _offset_response(offset: int) -> Response:
    response = tus_headers(Response(status=204))
    response.headers["Upload-Offset"] = str(offset)
    return response


def _spool(fh: Any, room: int, checked: bool) -> tuple[int, bool, Any]:
    """Copy the request's body into ``fh`` (at most ``room`` bytes); the count, a disconnect, its SHA-256."""
    chunk = hashlib.sha256()
    received, disconnected = 0, False
    while True:
        try:
            data = request.stream.read(PIECE)
        except (ClientDisconnected, OSError):
            disconnected = True
            break
        if not data:
            break
        if received + len(data) > room:
            raise LongwatchError("W016", limit=room)
        try:
            fh.write(data)
        except OSError as exc:  # the disk filled under us: the chunk is not kept
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise LongwatchError("S021", needed=room, free=0, reserve=0) from exc
            raise LongwatchError("W023", detail=str(exc)) from exc
        if checked:
            chunk.update(data)
        received += len(data)
    fh.flush()
    return received, disconnected, chunk


def finish(archive: Archive, upload_id: str, raise_errors: bool = False) -> None:
    """Have the package made: here on SQLite (errors answer the PATCH), by a worker on PostgreSQL.

    On PostgreSQL the job was queued with the last byte; asking again queues
    it only if none waits (after a failed job, or a restart).
    """
    try:
        uploads.enqueue(archive, upload_id)
    except LongwatchError as exc:
        if raise_errors:
            raise
        log.warning("upload %s: [%s] %s", upload_id, exc.code, exc.render(translate=False))


def resume_pending(archive: Archive) -> threading.Thread | None:
    """On start, complete in the background what a dead server left between last byte and package."""
    staging.sweep_scratch(archive)  # what a server killed mid-ingest had fetched into this machine's scratch
    waiting = uploads.awaiting_package(archive)
    if not waiting:
        return None

    def run() -> None:
        for upload_id in waiting:
            try:
                finish(archive, upload_id)
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
    with current_archive().catalog.session() as s:
        stored = s.get(Upload, row.id)
        if stored is None or stored.status != "receiving":
            raise LongwatchError("W021", detail="the upload is no longer receiving and cannot be terminated")
        stored.status = "expired"
    uploads.forget(current_archive(), row.id)
    with current_archive().catalog.session() as s:
        stored = s.get(Upload, row.id)
        if stored is not None:
            s.delete(stored)
    return tus_headers(Response(status=204))


@bp.get("/upload")
@requires("upload:write")
def page() -> str:
    user = current_user()
    return render_template(
        "upload.html", max_size=current_app.config["LONGWATCH_UPLOAD_MAX"],
        chunk=current_app.config["LONGWATCH_UPLOAD_CHUNK"],
        camera_field=user is not None and not user.is_scoped,  # an investigator's file names no camera (W040)
    )


def blueprints(app: Any) -> list[Blueprint]:
    app.config.setdefault("LONGWATCH_UPLOAD_RESERVE", RESERVE)
    if app.config.setdefault("LONGWATCH_UPLOAD_RESUME", True):
        app.extensions["longwatch-upload-resume"] = resume_pending(app.extensions["longwatch"])
    return [bp]
