"""Built-in web plugin: the package page with its player, the media stream, poster frames, "verify now".

Media is read through the storage adapter with byte ranges (HTTP 206), so a
player seeks in a file of any size on any location without the server
reading more than it sends. Poster frames are derived with ffmpeg once and
cached outside the packages (a cache, never evidence).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from flask import Blueprint, Response, redirect, render_template, request, url_for

from longwatch.core.aip import metadata, package
from longwatch.core.aip import verify as verify_mod
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Clip
from longwatch.core.media import ffmpeg
from longwatch.core.preservation import provenance
from longwatch.core.records import certificates
from longwatch.core.storage import viewing_cache
from longwatch.core.storage.copies import copies_report
from longwatch.core.storage.viewing_cache import CachedView
from longwatch.errors import LongwatchError
from longwatch.i18n import gettext
from longwatch.storage_adapters.base import check_key, package_prefix
from longwatch.web import current_archive, queries
from longwatch.web.security import current_user, record_access, record_footage, requires

bp = Blueprint("clips", __name__)
CHUNK = 1 << 20


def _chunks(opened: BinaryIO, length: int) -> Iterator[bytes]:
    """At most ``length`` bytes of an opened object, in pieces of :data:`CHUNK`, closing it at the end."""
    with opened as fh:
        while length > 0:
            chunk = fh.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
#: Containers browsers play natively. Others (the recorder's MPEG-TS segments, vendor formats
#: ffmpeg can demux) are played through an access copy made by stream copy: see access_copy_view.
BROWSER_PLAYABLE = frozenset({"video/mp4", "video/webm", "video/ogg"})


def needs_access_copy(clip: Clip) -> bool:
    return bool(clip.probe_ok) and (clip.mime_type or "") not in BROWSER_PLAYABLE
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

#: Slots the custody and holds features fill on the package page: callables (archive, package) -> html-safe
#: (title, template, context) tuples or None.
PACKAGE_PANELS: list[Any] = []


def copies_panel(archive: Any, pkg: Any) -> tuple[str, str, dict[str, Any]] | None:
    """Where the package's copies are, when each was last checked, and whether the store locks it."""
    copies = copies_report(archive, pkg.id)
    return (gettext("Copies"), "_copies_panel.html", {"copies": copies}) if copies else None


PACKAGE_PANELS.append(copies_panel)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_exclusive)`` for one satisfiable byte range; None for no (or a multi-part) range.

    Unsatisfiable ranges raise W020 (HTTP 416).
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        if header.strip().startswith("bytes=") and "," in header:
            return None  # several ranges: we may answer with the whole file (RFC 9110 14.2)
        raise LongwatchError("W020", value=header[:80], size=size)
    first, last = match.groups()
    if first == "" and last == "":
        raise LongwatchError("W020", value=header[:80], size=size)
    if first == "":
        length = int(last)
        if length == 0:
            raise LongwatchError("W020", value=header[:80], size=size)
        return max(0, size - length), size
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if start >= size or end <= start:
        raise LongwatchError("W020", value=header[:80], size=size)
    return start, end


def stream_media(archive: Archive, pkg: Any, clip: Clip, download: bool = False) -> Response:
    storage = archive.storage(pkg.storage_location)
    key = check_key(f"{package_prefix(pkg.id)}/{clip.relpath}")
    try:
        size = storage.stat(key).size
    except FileNotFoundError as exc:
        raise LongwatchError("V017", package_id=pkg.id, location=storage.location) from exc
    try:
        wanted = parse_range(request.headers.get("Range"), size)
    except LongwatchError:
        response = Response(status=416)
        response.headers["Content-Range"] = f"bytes */{size}"
        response.headers["Accept-Ranges"] = "bytes"
        return response
    if_range = request.headers.get("If-Range")
    etag = f'"{clip.sha256}"'
    if wanted is not None and if_range and if_range != etag:
        wanted = None
    start, end = wanted if wanted is not None else (0, size)

    response = Response(_chunks(storage.open(key, start, end), end - start), status=206 if wanted is not None else 200,
                        mimetype=clip.mime_type or "application/octet-stream", direct_passthrough=True)
    response.headers["Content-Length"] = str(end - start)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["ETag"] = etag
    if wanted is not None:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if download:
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(clip.original_name)}"
    # every range is covered by a record: one per playback or download, see record_footage
    record_footage("download" if download else "view", pkg.id, clip.relpath, start, end, size)
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(os.path.basename(name) or "clip", safe="")


def _ffmpeg_cached(archive: Archive, pkg: Any, clip: Clip, kind: str, suffix: str,
                   attempts: list[Callable[[str, str], list[str]]], timeout: int) -> tuple[CachedView | None, bytes]:
    """Run ffmpeg over the stored clip into the viewing cache (``cache/<kind>/<package>/<sha256><suffix>``
    on the primary location), once for every machine that shares the store.

    Each attempt gives ffmpeg's command line (from :mod:`longwatch.core.media.ffmpeg`) for a
    source (the stored clip's path, or a copy in this machine's temporary folder when it is on
    object storage) and an output in the same temporary folder; the first that writes a non-empty file is stored (the
    adapter publishes it whole). Returns the cached view (None if every attempt failed)
    and the last attempt's stderr.
    """
    name = f"{clip.sha256}{suffix}"
    found = viewing_cache.find(archive, kind, pkg.id, name)
    if found is not None:
        return found, b""
    storage = archive.storage(pkg.storage_location)
    local = storage.local_path(pkg.id)
    stderr = b""
    with tempfile.TemporaryDirectory(prefix="longwatch-view-") as scratch:
        tmp = str(Path(scratch) / name)
        if local is not None:
            source = str(local / clip.relpath)
        else:  # an object store: one streamed copy here, which ffmpeg can seek in (a pipe cannot)
            source = str(Path(scratch) / f"source{Path(clip.relpath).suffix}")
            with storage.open_package_file(pkg.id, clip.relpath) as fh, open(source, "wb") as out:
                shutil.copyfileobj(fh, out, CHUNK)
        for attempt in attempts:
            result = subprocess.run(attempt(source, tmp), stdin=subprocess.DEVNULL, capture_output=True,
                                    timeout=timeout, check=False)
            stderr = result.stderr
            if result.returncode == 0 and os.path.exists(tmp) and os.path.getsize(tmp) > 0:
                return viewing_cache.keep(archive, kind, pkg.id, name, Path(tmp)), b""
    return None, stderr


def poster_view(archive: Archive, pkg: Any, clip: Clip) -> CachedView:
    """A JPEG frame near the start, made once with ffmpeg from the stored bytes and cached by SHA-256."""
    # seeking before -i is fast on a file (the stored one, or the temporary copy of one on object storage)
    seek = (clip.duration or 0) > 1
    made, _ = _ffmpeg_cached(archive, pkg, clip, "posters", ".jpg",
                             [partial(ffmpeg.poster_frame, seek=seek)], timeout=120)
    if made is None:
        raise LongwatchError("W011", what=f"poster frame of clip {clip.id}")
    return made


def access_copy_view(archive: Archive, pkg: Any, clip: Clip) -> CachedView:
    """An MP4 the browser can play, remuxed by stream copy from the stored original and cached by SHA-256.

    Not a byte of picture or sound is re-encoded: only the container changes. It is a
    viewing cache (``cache/access/`` on the primary location), never a package: the original
    stays the evidence, and downloads always give the original. Sound a MP4 cannot carry is
    dropped from the copy (never from the original).
    """
    made, stderr = _ffmpeg_cached(archive, pkg, clip, "access", ".mp4",
                                  [partial(ffmpeg.mp4_remux, audio=True), partial(ffmpeg.mp4_remux, audio=False)],
                                  timeout=300)
    if made is None:
        detail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise LongwatchError("N014", clip=clip.id, detail=detail[0][-200:])
    return made


def footage_clip(archive: Archive, user: Any, clip_id: int) -> tuple[Any, Clip]:
    """The clip when the user may see it and its footage still exists; W041 (410) for a destroyed package."""
    pkg, clip = queries.visible_clip(archive, user, clip_id)
    refuse_destroyed(pkg)
    return pkg, clip


def refuse_destroyed(pkg: Any) -> None:
    if queries.is_destroyed(pkg):
        raise LongwatchError("W041", package_id=pkg.id, status=pkg.status)


def _tombstone(archive: Archive, pkg: Any) -> dict[str, Any] | None:
    """What remains of a destroyed package (None while it is stored): the disposition and its certificate."""
    if not queries.is_destroyed(pkg):
        return None
    return certificates.tombstone(archive, pkg.id) or {}


def _page(archive: Archive, pkg: Any, report: verify_mod.Report | None) -> str:
    panels = [made for panel in PACKAGE_PANELS if (made := panel(archive, pkg))]
    return render_template("package.html", archive=archive, pkg=pkg, events=_events(archive, pkg),
                           panels=panels, tz=archive.settings.tz, report=report, needs_access_copy=needs_access_copy,
                           tombstone=_tombstone(archive, pkg))


def _events(archive: Archive, pkg: Any) -> list[dict[str, Any]]:
    storage = archive.storage(pkg.storage_location)
    try:
        with storage.open_package_file(pkg.id, package.PREMIS_PATH) as fh:
            return metadata.premis_events(metadata.parse_untrusted(fh.read(), package.PREMIS_PATH))
    except (OSError, LongwatchError):
        return []


@bp.get("/packages/<package_id>")
@requires("catalog:read")
def package_page(package_id: str) -> str:
    archive = current_archive()
    user = current_user()
    assert user is not None
    pkg = queries.visible_package(archive, user, package_id)
    return _page(archive, pkg, None)


@bp.get("/clips/<int:clip_id>/media")
@requires("footage:read")
def media(clip_id: int) -> Response:
    archive = current_archive()
    user = current_user()
    assert user is not None
    pkg, clip = footage_clip(archive, user, clip_id)
    return stream_media(archive, pkg, clip, download=request.args.get("download") == "1")


@bp.get("/clips/<int:clip_id>/playable.mp4")
@requires("footage:read")
def playable(clip_id: int) -> Response:
    """The browser's copy of a clip it cannot play as stored (an MPEG-TS segment): same pictures, MP4 box."""
    archive = current_archive()
    user = current_user()
    assert user is not None
    pkg, clip = footage_clip(archive, user, clip_id)
    if not needs_access_copy(clip):
        return stream_media(archive, pkg, clip)
    view = access_copy_view(archive, pkg, clip)
    size = view.size
    try:
        wanted = parse_range(request.headers.get("Range"), size)
    except LongwatchError:
        response = Response(status=416)  # no byte is served, so nothing is recorded
        response.headers["Content-Range"] = f"bytes */{size}"
        response.headers["Accept-Ranges"] = "bytes"
        return response
    etag = f'"access-{clip.sha256}"'
    if_range = request.headers.get("If-Range")
    if wanted is not None and if_range and if_range != etag:
        wanted = None
    start, end = wanted if wanted is not None else (0, size)
    record_footage("view", pkg.id, clip.relpath, start, end, size, kind="access copy (stream copy to MP4)")
    response = _view_response(archive, view, start, end, wanted is not None, "video/mp4", etag)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _view_response(archive: Archive, view: CachedView, start: int, end: int, ranged: bool, mimetype: str,
                   etag: str) -> Response:
    """Bytes ``[start, end)`` of a cached view, read from the store in chunks (a file on a local primary)."""

    response = Response(_chunks(viewing_cache.open_view(archive, view, start, end), end - start),
                        status=206 if ranged else 200, mimetype=mimetype, direct_passthrough=True)
    response.headers["Content-Length"] = str(end - start)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["ETag"] = etag
    if ranged:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{view.size}"
    return response


@bp.get("/clips/<int:clip_id>/poster.jpg")
@requires("footage:read")
def poster(clip_id: int) -> Response:
    """A frame of the footage: the same permission as playing it, and an access record like any view."""
    archive = current_archive()
    user = current_user()
    assert user is not None
    pkg, clip = footage_clip(archive, user, clip_id)
    view = poster_view(archive, pkg, clip)
    with viewing_cache.open_view(archive, view) as fh:
        data = fh.read()  # a few kB
    record_footage("view", pkg.id, clip.relpath, 0, len(data), len(data), kind="poster frame",
                  restart_at_zero=False)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def run_verify(archive: Archive, package_id: str) -> verify_mod.Report:
    """Full verification of the stored package (the same as ``longwatch verify ID``)."""
    pkg = archive.catalog.get(package_id)
    assert pkg is not None
    storage = archive.storage(pkg.storage_location)
    if not storage.has_package(package_id):
        report = verify_mod.Report(target=package_id, package_id=package_id)
        report.add("V017", package_id=package_id, location=storage.location)
    else:
        report = verify_mod.verify_package(verify_mod.source_for(storage, package_id),
                                           trusted=archive.trusted)
        report.package_id = package_id
    archive.pm.hook.fixity_checked(package_id=package_id, path=report.target, ok=report.ok,
                                   problems=[p.to_dict() for p in report.problems])
    return report


@bp.post("/packages/<package_id>/verify")
@requires("package:verify")
def verify_now(package_id: str) -> tuple[str, int]:
    archive = current_archive()
    user = current_user()
    assert user is not None
    pkg = queries.visible_package(archive, user, package_id)
    refuse_destroyed(pkg)
    return _page(archive, pkg, run_verify(archive, pkg.id)), 200


@bp.post("/packages/<package_id>/confirm-upload")
@requires(provenance.CONFIRM_PERMISSION)
def confirm_upload(package_id: str) -> Any:
    """A records manager confirms an upload as a camera's recording: a decision in the custody ledger."""
    archive = current_archive()
    user = current_user()
    assert user is not None
    queries.visible_package(archive, user, package_id)
    provenance.confirm(archive, package_id, user.username, user.role, request.form.get("camera", "")[:64].strip())
    record_access("upload confirmed", package_id, detail=f"by {user.username}")
    return redirect(url_for("clips.package_page", package_id=package_id))


_DISPOSITION_ID = re.compile(r"^[0-9a-f-]{36}$")


@bp.get("/certificates/<disposition_id>")
@requires("catalog:read")
def certificate(disposition_id: str) -> Response:
    """The destruction certificate of a disposition, as the archive signed it (HTML; ``?format=json`` for the
    signed JSON that ``longwatch verify`` checks, ``?format=p7s`` its signature, ``?format=tsr`` its
    time-stamp; ``?format=pdf`` for the PDF/A to file, made again from the signed JSON if the disposition
    could not make it)."""
    if not _DISPOSITION_ID.match(disposition_id):
        raise LongwatchError("W011", what=f"certificate {disposition_id[:40]}")
    wanted = request.args.get("format", "html")
    suffix = {"json": "json", "pdf": "pdf", "p7s": "json.p7s", "tsr": "json.p7s.tsr"}.get(wanted, "html")
    archive = current_archive()  # from the object store: any machine may have executed the disposition
    data = certificates.read_certificate_file(archive, disposition_id, suffix)
    if data is None and suffix == "pdf":  # made again from the signed JSON if the disposition could not make it
        record = certificates.read_certificate_file(archive, disposition_id)
        if record is not None:
            data = certificates.render_certificate_pdf(
                record, certificates.read_certificate_file(archive, disposition_id, "json.p7s"))
    if data is None:
        raise LongwatchError("W011", what=f"certificate {disposition_id}")
    if suffix in ("pdf", "json.p7s", "json.p7s.tsr"):
        mimetype = {"pdf": "application/pdf", "json.p7s": "application/pkcs7-signature",
                    "json.p7s.tsr": "application/timestamp-reply"}[suffix]
        name = (f"destruction-certificate-{disposition_id}.pdf" if suffix == "pdf"
                else f"{disposition_id}.{suffix}")
        return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
    # a certificate is a few kilobytes: read whole
    return Response(data, mimetype="application/json" if suffix == "json" else "text/html")


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
