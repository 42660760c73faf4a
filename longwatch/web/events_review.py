"""Built-in web plugin: the review queue of AI and vendor events, and each detector's false-positive report.

Why a page of its own: an event that passes its window rule keeps a window
of footage for a year; a person must say whether it was real. Each decision
goes through :func:`longwatch.core.events.record.review`, which records the
reviewer in the custody ledger (and, a false positive, moves the window to
the shorter retention class); the catalog journal carries the changed row to
the ledger as well. The queue shows what decided: the source system, or the
detector's name, version and model hash, and the windows the event preserved.

Who: every role that sees all footage may look (auditors read the report);
reviewing needs ``inquiry:write`` (as ``longwatch events review`` does).
Investigators see only their cases, so neither (W040).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from longwatch.core.catalog.models import EventWindow
from longwatch.core.events import record as events
from longwatch.errors import LongwatchError
from longwatch.i18n import N_, gettext
from longwatch.web import current_archive
from longwatch.web.numbers import is_whole
from longwatch.web.security import current_user, requires

bp = Blueprint("events_review", __name__)

QUEUE_SIZE = 100
#: decision -> label (for people), in the order of the buttons
DECISIONS: dict[str, str] = {"confirmed": N_("Confirm"), "false_positive": N_("False positive"),
                             "unsure": N_("Unsure")}
#: status -> label (for people)
STATUS_LABELS: dict[str, str] = {"new": N_("awaiting review"), "confirmed": N_("confirmed"),
                                 "false_positive": N_("false positive"), "unsure": N_("unsure")}


def _detector(text: str) -> dict[str, Any] | None:
    """The detector identity stored on the event: name, version, model files and their SHA-256."""
    if not text:
        return None
    ident: dict[str, Any] = json.loads(text)
    return ident


def _page(status: int = 200, errors: dict[int, LongwatchError] | None = None,
          values: dict[str, str] | None = None) -> tuple[str, int]:
    archive = current_archive()
    user = current_user()
    assert user is not None
    queue = events.query(archive, status="new", limit=QUEUE_SIZE)
    reviewed = events.recently_reviewed(archive)
    wanted = {e.window_package_id for e in [*queue, *reviewed] if e.window_package_id}
    with archive.catalog.session() as s:
        windows = {w.package_id: w for w in s.scalars(select(EventWindow).where(EventWindow.package_id.in_(wanted)))}
    return render_template("events_review.html", queue=queue, waiting=events.waiting_count(archive),
                           reviewed=reviewed, windows=windows, report=events.detector_report(archive),
                           detector=_detector, decisions=DECISIONS, statuses=STATUS_LABELS,
                           can_review=user.can("inquiry:write"), errors=errors or {}, values=values or {},
                           tz=archive.settings.tz), status


@bp.get("/events/review")
@requires("catalog:read", scoped=False)
def queue() -> tuple[str, int]:
    return _page()


@bp.post("/events/review")
@requires("inquiry:write", scoped=False)
def review() -> Any:
    """One decision on one event; a refusal is shown beside that event's buttons, with the note as typed."""
    user = current_user()
    assert user is not None
    text = request.form.get("event_id", "").strip()
    decision = request.form.get("decision", "")
    note = request.form.get("note", "")[:2000]
    event_id = int(text) if is_whole(text) else 0
    try:
        if decision not in events.DECISIONS:
            raise LongwatchError("W086")
        events.review(current_archive(), event_id, decision, user.username, note)
    except LongwatchError as exc:
        return _page(404 if exc.code == "D015" else 400, {event_id: exc}, {"event_id": text, "note": note})
    return redirect(url_for("events_review.queue") + "#reviewed")


def dashboard_panel(archive: Any, user: Any) -> tuple[str, str, dict[str, Any]] | None:
    """How many events await review, linked to the queue, for the roles that may open it."""
    if not user.can("catalog:read") or user.is_scoped:
        return None
    return gettext("Events awaiting review"), "_review_panel.html", {"waiting": events.waiting_count(archive)}


def blueprints(app: Any) -> list[Blueprint]:
    panels = app.config["LONGWATCH_DASHBOARD_PANELS"]
    if dashboard_panel not in panels:
        panels.append(dashboard_panel)
    return [bp]
