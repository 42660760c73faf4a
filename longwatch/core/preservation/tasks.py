"""Preservation's jobs: ingest a file or an upload, cut a window, make a redacted copy; and how each is queued.

Declared through the ``register_tasks`` hook (the queue itself knows no
feature, :mod:`longwatch.core.jobs.queue`); ``prepare_worker`` puts right
what a worker killed mid-ingest left before a new one takes jobs.

Each task is idempotent. Ingest is keyed by the file's SHA-256 and looks in
the catalog before doing any work (and ingest itself refuses a duplicate with
I006); a queued ingest names a staged object, not a path on the machine that
queued it (:mod:`longwatch.core.preservation.staging`). An upload's package
id is recorded with its last byte (:mod:`longwatch.core.preservation.uploads`),
and a window cut or a redaction gets its package id when it is queued
(:func:`enqueue_window`, :func:`enqueue_redaction`), so a retry finds what
its killed attempt published (completing its catalog row and custody events)
instead of making a second one.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from longwatch.clock import parse_time
from longwatch.core import custody
from longwatch.core.aip.package import safe_name
from longwatch.core.archive import Archive
from longwatch.core.jobs.queue import HEAVY, QUICK, Task, enqueue, queued
from longwatch.core.preservation import derive, ingest, publish, staging, uploads, windows
from longwatch.core.storage import replicate as storage_replicate
from longwatch.core.storage.tasks import require_copies
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl


def _ingest(archive: Archive, sha256: str, path: str = "", staged: str = "", name: str = "", camera: str = "",
            zone: str = "", title: str = "", sidecar: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ingest a file: ``staged`` (a key on the primary location, queued from any machine) or a local ``path``
    (run in-process on SQLite, where the file is on this machine). The staged object goes only once the
    package is published and copied, so a retry after a kill still finds it."""
    existing = archive.catalog.find_clip(sha256)
    stored = False
    if existing is not None:  # stored before (an earlier attempt of this job, or another): no second package
        package_id = existing.package_id
        _complete_custody(archive, package_id)
    elif staged:
        package_id, stored = _ingest_staged(archive, staged, sha256, name, camera, zone, title, sidecar)
    else:
        package_id, stored = _ingest_path(archive, Path(path), camera, zone, title)
    # The job is done only when the policy's copies exist: a replica that failed during ingest (or an
    # attempt killed between cataloguing and replicating) fails the job, and its retry completes them.
    storage_replicate.replicate(archive, package_id)
    if not storage_replicate.policy_met(archive, package_id):
        raise LongwatchError("J007", package_id=package_id)
    if staged:
        staging.discard(archive, [staged])
    return {"package_id": package_id, "stored": stored}


def _ingest_path(archive: Archive, path: Path, camera: str, zone: str, title: str) -> tuple[str, bool]:
    request = ingest.IngestRequest(path=path, camera=camera, zone=zone, title=title)
    try:
        return ingest.ingest(archive, request).package_id, True
    except LongwatchError as exc:
        if exc.code != "I006":
            raise
        return str(exc.context.get("package_id", "")), False


def _ingest_staged(archive: Archive, key: str, sha256: str, name: str, camera: str, zone: str, title: str,
                   sidecar: dict[str, Any] | None) -> tuple[str, bool]:
    """Fetch the staged object into this worker's scratch folder (under its original name, beside its
    sidecar), check it is what was queued, and ingest it."""
    with staging.scratch(archive, "ingest-") as scratch:
        path = scratch / safe_name(name or "staged.bin", "staged.bin")
        found, _size = staging.fetch(archive, [key], path)
        if found != sha256:
            raise LongwatchError("I053", key=key, found=found, expected=sha256)
        if sidecar:
            path.with_name(path.name + ".json").write_text(json.dumps(sidecar), encoding="utf-8")
        return _ingest_path(archive, path, camera, zone, title)


def _ingest_upload(archive: Archive, upload_id: str) -> dict[str, Any]:
    """Make the package of a tus upload whose every byte arrived (:mod:`longwatch.core.preservation.uploads`)."""
    row = uploads.complete(archive, upload_id)
    if row is None:
        raise LongwatchError("J009", upload_id=upload_id, error="no such upload")
    if row.status == "failed":  # an earlier attempt found the file at fault: nothing more to try
        raise LongwatchError("J009", upload_id=upload_id, error=row.error)
    if row.status != "archived":
        raise LongwatchError("J009", upload_id=upload_id, error=f"the upload is {row.status}")
    storage_replicate.replicate(archive, row.package_id)
    if not storage_replicate.policy_met(archive, row.package_id):
        raise LongwatchError("J007", package_id=row.package_id)
    return {"package_id": row.package_id, "upload_id": upload_id}


def _complete_custody(archive: Archive, package_id: str) -> None:
    """A retry of a job whose attempt was killed after cataloguing: the ledger gets the missing events now,
    without waiting for ``publish.recover`` to find the dead worker (it may have run on another host)."""
    row = archive.catalog.get(package_id)
    if row is None:
        raise LongwatchError("J003", package_id=package_id)
    publish.complete_custody(archive, package_id, archive.storage(row.storage_location))


def _window(archive: Archive, package_id: str, start: str, end: str, result_id: str, reason: str = ""
            ) -> dict[str, Any]:
    """Cut ``start``..``end`` of a package into the derived package ``result_id`` (chosen at enqueueing)."""
    stored = derive.find_published(archive, result_id) is None  # else a killed attempt published it
    if stored:
        windows.window(archive, package_id, parse_time(start), parse_time(end), derive.Cause(reason=reason),
                       package_id_out=result_id)
    require_copies(archive, result_id)
    return {"package_id": result_id, "source": package_id, "stored": stored}


def _redact(archive: Archive, package_id: str, result_id: str, faces: bool = True, persons: bool = False,
            boxes_file: str | None = None, keep: list[str] | None = None, reason: str = "") -> dict[str, Any]:
    """A redacted access copy of a package as the derived package ``result_id`` (chosen at enqueueing)."""
    from longwatch.core.preservation import redact  # NumPy and the frame decoder: not on every command's start

    stored = derive.find_published(archive, result_id) is None
    if stored:
        redact.redact(archive, package_id, faces=faces, persons=persons,
                      boxes_file=Path(boxes_file) if boxes_file else None, keep=frozenset(keep or ()),
                      reason=reason, package_id_out=result_id)
    require_copies(archive, result_id)
    return {"package_id": result_id, "source": package_id, "stored": stored}


TASKS = (
    Task("ingest", _ingest, QUICK),
    Task("ingest_upload", _ingest_upload, QUICK),
    Task("window", _window, HEAVY),
    Task("redact", _redact, HEAVY),
)


@hookimpl
def register_tasks() -> list[Task]:
    return list(TASKS)


@hookimpl
def prepare_worker(archive: Archive) -> None:
    # A worker whose archive folder is not the shared one (a failed mount) refuses to start (L024) before
    # it recovers or appends anything, instead of taking an empty folder for a new ledger.
    custody.Ledger.for_archive(archive).check()
    publish.recover(archive)  # what a worker killed mid-ingest left (a live writer's staging survives)
    staging.sweep_scratch(archive)  # and the bytes it had fetched into this machine's scratch folder


# -- enqueueing -------------------------------------------------------------------------------
def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise LongwatchError("I002", path=path) from exc
    return digest.hexdigest()


def enqueue_ingest(archive: Archive, path: Path, camera: str = "", zone: str = "", title: str = "",
                   session: Session | None = None) -> int | dict[str, Any]:
    """An ingest job keyed by the file's SHA-256 and path: two jobs for one file never run at once.

    Queued (PostgreSQL), the file is staged on the primary location first and
    the job names the staged object, so a worker on any machine can take it;
    its JSON sidecar travels in the job. In-process (SQLite, one machine) the
    job reads the file where it is, as before.
    """
    path = path.absolute()  # not resolve(): a symbolic link stays a link, and ingest refuses it (I051)
    if not queued(archive):
        sha256 = file_sha256(path)
        args: dict[str, Any] = {"path": str(path), "sha256": sha256}
    else:
        staged = staging.stage_file(archive, path)
        sha256 = staged.sha256
        sidecar = ingest.find_sidecar(path)
        args = {"staged": staged.key, "sha256": sha256, "name": path.name,
                "sidecar": ingest.read_sidecar(sidecar) if sidecar else None}
    key = f"ingest:{sha256}"
    return enqueue(archive, "ingest", {**args, "camera": camera, "zone": zone, "title": title},
                   session=session, lock=key, queueing_lock=f"{key}:{path}")


def enqueue_window(archive: Archive, package_id: str, start: str, end: str, reason: str = "",
                   session: Session | None = None) -> tuple[int | dict[str, Any], str]:
    """A window-cutting job; returns (job id or, in-process, its result) and the id its package will have."""
    result_id = str(uuid.uuid4())
    job = enqueue(archive, "window", {"package_id": package_id, "start": start, "end": end, "reason": reason,
                                      "result_id": result_id}, session=session, lock=f"derive:{result_id}")
    return job, result_id


def enqueue_redaction(archive: Archive, package_id: str, *, faces: bool = True, persons: bool = False,
                      boxes_file: Path | None = None, keep: list[str] | None = None, reason: str = "",
                      session: Session | None = None) -> tuple[int | dict[str, Any], str]:
    """A redaction job (never a dry run: listing tracks is quick); returns the job and the package id to be."""
    result_id = str(uuid.uuid4())
    job = enqueue(archive, "redact", {"package_id": package_id, "result_id": result_id, "faces": faces,
                                      "persons": persons, "boxes_file": str(boxes_file.resolve()) if boxes_file
                                      else None, "keep": sorted(keep or []), "reason": reason},
                  session=session, lock=f"derive:{result_id}")
    return job, result_id
