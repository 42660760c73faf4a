"""Evidence's job: an export for a recipient, queued with the export id it will have.

Declared through the ``register_tasks`` hook (the queue itself knows no
feature, :mod:`longwatch.core.jobs.queue`). The export id is chosen when the
job is queued (:func:`enqueue_export`) and the bag is written under a partial
name and renamed when whole, so a retry finds its killed attempt's transfer
event instead of appending a second one, and a finished export is returned
as it is.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from longwatch.core.archive import Archive
from longwatch.core.evidence import export, stored
from longwatch.core.evidence.request import Request, request_from_dict, request_to_dict
from longwatch.core.jobs.queue import HEAVY, REQUESTED_BY, Task, enqueue
from longwatch.hookspecs import hookimpl


def _export(archive: Archive, export_id: str, out_dir: str | None, request: dict[str, Any],
            zip_path: str | None = None, store: bool = False) -> dict[str, Any]:
    """An evidence export into ``out_dir``, written under a partial name and renamed when whole; with
    ``store``, into the object store (``exports/<export id>/``) for whichever machine serves it."""
    if store or out_dir is None:
        return stored.run_export(archive, request_from_dict(request), export_id)
    result = export.export(archive, request_from_dict(request), Path(out_dir),
                           Path(zip_path) if zip_path else None, export_id=export_id)
    return {"export_id": result.export_id, "path": str(result.path), "files": result.files, "size": result.size,
            "zip": str(result.zip_path) if result.zip_path else None, "transfer_seq": result.transfer_seq}


TASKS = (Task("export", _export, HEAVY),)


@hookimpl
def register_tasks() -> list[Task]:
    return list(TASKS)


def enqueue_export(archive: Archive, request: Request, out_dir: Path | None, zip_path: Path | None = None,
                   session: Session | None = None, export_id: str | None = None,
                   requested_by: str = "") -> tuple[int | dict[str, Any], str]:
    """An evidence-export job; returns the job and the export's id.

    ``export_id`` is one the caller chose, so it can record the order before
    the job exists. ``requested_by`` names the account that asked (a web
    request, which cannot make the shared archive act for it): the export, its
    report and its ledger entry name that account, as for a command's jobs.
    ``out_dir`` None: the export goes to the object store
    (:mod:`longwatch.core.evidence.stored`), as every export made for the
    web, the API or a request does; a folder is the command line's choice.
    """
    export_id = export_id or str(uuid.uuid4())
    args: dict[str, Any] = {"export_id": export_id, "out_dir": str(out_dir.resolve()) if out_dir else None,
                            "zip_path": str(zip_path.resolve()) if zip_path else None,
                            "request": request_to_dict(request)}
    if out_dir is None:
        args["store"] = True
    if requested_by:
        args[REQUESTED_BY] = requested_by
    lock = f"export:{out_dir.resolve()}" if out_dir is not None else f"export:{export_id}"
    job = enqueue(archive, "export", args, session=session, lock=lock)
    return job, export_id
