"""Events' jobs: a detector run over a stored package, and the window an event's rule asks for.

Declared through the ``register_tasks`` hook (the queue itself knows no
feature, :mod:`longwatch.core.jobs.queue`). ``detect`` resumes from each
clip's checkpoint (:mod:`longwatch.core.events.detect`); ``event_window`` is
queued in the transaction that records the event (:func:`longwatch.core.events.record.record`),
and its package id follows from the event and the merged range, so a retry
reuses what its killed attempt published.
"""

from __future__ import annotations

from typing import Any

from longwatch import registry
from longwatch.core.archive import Archive
from longwatch.core.events import record as events
from longwatch.core.events.detect import detect_clip
from longwatch.core.jobs.queue import HEAVY, Task
from longwatch.core.storage.tasks import require_copies
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl


def _detect(archive: Archive, package_id: str, detector: str, parameters: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    row = archive.catalog.get(package_id)
    if row is None:
        raise LongwatchError("J003", package_id=package_id)
    found = 0
    instance = registry.detector(archive.pm, detector, parameters or {})
    for clip in row.clips:  # resumes from its checkpoint after a crash
        found += len(detect_clip(archive, row, clip, instance).detections)
    return {"package_id": package_id, "detections": found}


def _event_window(archive: Archive, event_id: int) -> dict[str, Any]:
    """The window an event's rule asks for (queued with the event, in its transaction; core/events/record.py)."""
    window = events.apply_rule(archive, event_id, stable_id=True)
    if window:
        require_copies(archive, window)
    return {"event_id": event_id, "window": window}


TASKS = (
    Task("detect", _detect, HEAVY),
    Task("event_window", _event_window, HEAVY),
)


@hookimpl
def register_tasks() -> list[Task]:
    return list(TASKS)
