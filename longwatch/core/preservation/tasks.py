"""Preservation's jobs: ingest a file, cut a window, make a redacted copy; and how each is queued.

Declared through the ``register_tasks`` hook (the queue itself knows no
feature, :mod:`longwatch.core.jobs.queue`); ``prepare_worker`` puts right
what a worker killed mid-ingest left before a new one takes jobs.

Each task is idempotent. Ingest is keyed by the file's SHA-256 and looks in
the catalog before doing any work (and ingest itself refuses a duplicate with
I006). A window cut or a redaction gets its package id when it is queued
(:func:`enqueue_window`, :func:`enqueue_redaction`), so a retry finds what
its killed attempt published (completing its catalog row and custody events)
instead of making a second one.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from longwatch.clock import parse_time
from longwatch.core import custody
from longwatch.core.archive import Archive
from longwatch.core.jobs.queue import HEAVY, QUICK, Task, enqueue
from longwatch.core.preservation import derive, ingest, publish, windows
from longwatch.core.storage import replicate as storage_replicate
from longwatch.core.storage.tasks import require_copies
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl


def _ingest(archive: Archive, path: str, sha256: str, camera: str = "", zone: str = "",
            title: str = "") -> dict[str, Any]:
    existing = archive.catalog.find_clip(sha256)
    stored = False
    if existing is not None:  # stored before (an earlier attempt of this job, or another): no second package
        package_id = existing.package_id
        _complete_custody(archive, package_id)
    else:
        request = ingest.IngestRequest(path=Path(path), camera=camera, zone=zone, title=title)
        try:
            package_id, stored = ingest.ingest(archive, request).package_id, True
        except LongwatchError as exc:
            if exc.code != "I006":
                raise
            package_id = str(exc.context.get("package_id", ""))
    # The job is done only when the policy's copies exist: a replica that failed during ingest (or an
    # attempt killed between cataloguing and replicating) fails the job, and its retry completes them.
    storage_replicate.replicate(archive, package_id)
    if not storage_replicate.policy_met(archive, package_id):
        raise LongwatchError("J007", package_id=package_id)
    return {"package_id": package_id, "stored": stored}


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
    """An ingest job keyed by the file's SHA-256 and path: two jobs for one file never run at once."""
    path = path.resolve()
    sha256 = file_sha256(path)
    key = f"ingest:{sha256}"
    return enqueue(archive, "ingest", {"path": str(path), "sha256": sha256, "camera": camera, "zone": zone,
                                       "title": title}, session=session, lock=key, queueing_lock=f"{key}:{path}")


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
