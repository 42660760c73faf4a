"""Exports in the object store: what the web, the API, jobs and citizens' requests hand over.

Why: the machine that writes an export (a worker) is not the one that serves
it (the web server), and the two share only the database and the object
store. An export made for the web, the API or a request is written in a
per-machine scratch folder, uploaded under ``exports/<export id>/`` on the
primary location (:mod:`longwatch.core.storage.objects`) with ``export.json``
last, and the local working copy removed; share links record that key. An
export whose ``export.json`` is in the store is finished. ``longwatch export
-o DIR`` is untouched: a folder the user chose stays a local folder.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from longwatch.core.evidence import export as export_mod
from longwatch.core.evidence.request import Request
from longwatch.core.storage.objects import objects
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from datetime import datetime

    from longwatch.core.archive import Archive

EXPORTS = "exports"
DESCRIPTION = "export.json"


def export_key(export_id: str) -> str:
    """``exports/<export id>``: the prefix of one stored export (the id must be a UUID)."""
    try:
        return f"{EXPORTS}/{uuid.UUID(export_id)}"
    except ValueError as exc:
        raise LongwatchError("E003", detail=f"export id {export_id[:40]!r} is not a UUID") from exc


def scratch_dir(export_id: str) -> Path:
    """This machine's working copy of an export being written (the system's temporary folder): no other
    machine ever needs it, and it is gone once the export is in the store."""
    return Path(tempfile.gettempdir()) / "longwatch-exports" / str(uuid.UUID(export_id))


def description(archive: Archive, key: str) -> dict[str, Any] | None:
    """The ``export.json`` of the stored export at ``key``; None while unfinished, when gone or unreadable."""
    store = objects(archive)
    try:
        data: dict[str, Any] = json.loads(store.read_bytes(f"{key}/{DESCRIPTION}"))
    except (FileNotFoundError, ValueError):
        return None
    return data


def read_text(archive: Archive, key: str, name: str) -> str:
    """A small text file of a stored export (``VERIFY.txt``); empty when absent."""
    try:
        return objects(archive).read_bytes(f"{key}/{name}").decode("utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return ""


def finished(archive: Archive, export_id: str) -> dict[str, Any] | None:
    """``{"key", "export_id", "files", "size", "transfer_seq"}`` of a finished stored export, else None."""
    key = export_key(export_id)
    data = description(archive, key)
    if data is None or data.get("export_id") != str(uuid.UUID(export_id)):
        return None
    files = data.get("files", [])
    return {"key": key, "path": key, "export_id": data["export_id"], "files": len(files),
            "size": sum(int(f.get("size", 0)) for f in files),
            "transfer_seq": data.get("custody", {}).get("transfer_seq"), "zip": None}


def store(archive: Archive, folder: Path, export_id: str) -> str:
    """Upload the finished export in ``folder`` under its key, ``export.json`` last; returns the key."""
    key = export_key(export_id)
    objects(archive).upload_tree(folder, key, last=DESCRIPTION)
    return key


def run_export(archive: Archive, request: Request, export_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Write the export in scratch, upload it, remove the working copy; a finished one is returned as is.

    A retry after a kill finds its earlier attempt: in the store (done), or a
    whole bag in scratch on this machine (uploaded now), or nothing (the export
    is written again and reuses its transfer event, as
    :func:`longwatch.core.evidence.export.export` does for any retried job).
    """
    done = finished(archive, export_id)
    if done is not None:
        return done
    out = scratch_dir(export_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = export_mod.export(archive, request, out, now=now, export_id=export_id)
        key = store(archive, result.path, export_id)
    finally:
        shutil.rmtree(out, ignore_errors=True)
        export_mod.remove_partial(export_mod.partial_dir(out, export_id))
    return {"key": key, "path": key, "export_id": result.export_id, "files": result.files, "size": result.size,
            "transfer_seq": result.transfer_seq, "zip": None}


def progress(export_id: str) -> tuple[int, int] | None:
    """(bytes, files) written so far when this machine is writing the export; None when it is not."""
    partial = export_mod.partial_dir(scratch_dir(export_id), export_id)
    if not partial.is_dir():
        return None
    total = count = 0
    for path in partial.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
                count += 1
        except OSError:
            continue
    return total, count


def delete(archive: Archive, export_id: str) -> int:
    """Remove a stored export's objects (not its links' records, nor its custody events); how many."""
    return objects(archive).delete_prefix(export_key(export_id))
