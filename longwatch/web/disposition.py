"""Built-in web plugin: disposition for records managers (preview, propose, approve or reject, execute).

The two-person rule, the holds and what is due are the core's
(:mod:`longwatch.core.records.dispositions`): this page calls
:func:`~longwatch.core.records.dispositions.propose`,
:func:`~longwatch.core.records.dispositions.approve`,
:func:`~longwatch.core.records.dispositions.reject`, and shows a refusal
(H004 self-approval, H005, W062, H006) beside the form that caused it. The
approver is the signed-in account, never a typed name.

Executing destroys footage and may take hours, so it never runs inside the
HTTP request: on PostgreSQL it is a queued ``dispose`` job
(:func:`longwatch.core.records.tasks.enqueue_disposition`) that a worker
runs; on SQLite, where jobs run in-process, the same call runs in a thread
of the web process, on an archive of its own. Either way the page shows the
disposition's progress from its items (the execution's journal, so it is
true whoever runs it), the job's state and any failure with its code, and
links the destruction certificate once it is signed.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for

from longwatch.core import accounts
from longwatch.core.archive import Archive
from longwatch.core.jobs import queue as jobs
from longwatch.core.records import actors, assignment, dispositions
from longwatch.core.records import tasks as records_tasks
from longwatch.core.records.schedules import active_schedule
from longwatch.errors import LongwatchError
from longwatch.i18n import N_, gettext
from longwatch.web import current_archive
from longwatch.web.security import current_user, requires

bp = Blueprint("disposition", __name__)
log = logging.getLogger(__name__)

#: The words for a disposition's, an item's and a job's states (stored in English, shown translated).
WORDS = {
    "proposed": N_("proposed"), "approved": N_("approved"), "executing": N_("executing"),
    "executed": N_("executed"), "rejected": N_("rejected"), "pending": N_("pending"), "deleting": N_("deleting"),
    "deleted": N_("deleted"), "held": N_("held"), "store-locked": N_("store-locked"), "not-due": N_("not due"),
    "kept-as-sample": N_("kept as a planning sample"), "sample-failed": N_("planning sample failed"),
    "queued": N_("queued"), "running": N_("running"), "done": N_("done"), "failed": N_("failed"),
    "cancelled": N_("cancelled"), dispositions.MANUAL: N_("manual deletion"),
}
#: Item statuses that mean the package was kept, and why (the certificate says the same).
KEPT = {"held": N_("a legal hold covers it"), "store-locked": N_("a store still locks a copy"),
        "not-due": N_("no longer due"), "kept-as-sample": N_("its sampled minutes are kept for planning"),
        "sample-failed": N_("its planning sample could not be kept yet"),
        "rejected": N_("the proposal was rejected")}
#: Executions running in this web process (SQLite): (archive root, disposition id) -> thread, and failures.
_running: dict[tuple[str, str], threading.Thread] = {}
_failed: dict[tuple[str, str], LongwatchError] = {}
_lock = threading.Lock()


def _class_names(archive: Archive) -> dict[str, str]:
    """Record class id -> its name in the reader's language (the schedule's own Korean where it has one)."""
    korean = g.get("lang") == "ko"
    return {c.id: (c.name_ko if korean and c.name_ko else c.name) for c in active_schedule(archive).classes.values()}


def _actor() -> actors.Actor:
    user = current_user()
    assert user is not None  # requires() let the request through
    return actors.actor_of(user)


@bp.get("/dispositions")
@requires("catalog:read", scoped=False)
def page() -> tuple[str, int]:
    return _list_page()


def _list_page(status: int = 200, errors: dict[str, LongwatchError] | None = None) -> tuple[str, int]:
    archive = current_archive()
    user = current_user()
    assert user is not None
    due = dispositions.due_summary(archive)  # counted in SQL: the page stays quick with a million due clips
    rows = list(reversed(dispositions.list_dispositions(archive)))
    return render_template("dispositions.html", due=due, by_class=due.destroy, rows=rows,
                           progress=dispositions.progress(archive, [d.id for d in rows]),
                           unassigned=assignment.unassigned(archive),
                           schedule=active_schedule(archive), can_write=user.can("records:write"),
                           errors=errors or {}, tz=archive.settings.tz, words=WORDS,
                           class_names=_class_names(archive)), status


@bp.post("/dispositions/propose")
@requires("records:write")
def propose() -> Any:
    archive = current_archive()
    classes = [c for c in request.form.getlist("class") if c]
    try:
        disposition, _plan = dispositions.propose(archive, _actor(), classes=classes or None)
    except LongwatchError as exc:
        return _list_page(400, {"propose": exc})
    if disposition is None:
        return redirect(url_for("disposition.page", nothing=1))
    return redirect(url_for("disposition.view", id=disposition.id))


@bp.get("/dispositions/view")
@requires("catalog:read", scoped=False)
def view() -> tuple[str, int]:
    return _view_page(_disposition_id(request.args))


def _disposition_id(values: Any) -> str:
    """The disposition a page or form names (a unique prefix will do; an empty one, which would name the only
    disposition there is, is H007)."""
    disposition_id = str(values.get("id", "")).strip()
    if not disposition_id:
        raise LongwatchError("H007", disposition_id="-")
    return disposition_id


def _view_page(disposition_id: str, status: int = 200, errors: dict[str, LongwatchError] | None = None,
               values: dict[str, str] | None = None) -> tuple[str, int]:
    archive = current_archive()
    user = current_user()
    assert user is not None
    disposition, counts, by_class = dispositions.summary(archive, disposition_id)  # counted, never loaded
    done = sum(n for s, n in counts.items() if s not in ("pending", "deleting"))
    return render_template(
        "disposition.html", d=disposition, counts=counts, by_class=by_class, done=done, total=sum(counts.values()),
        kept=KEPT, job=_job_state(archive, disposition.id), can_write=user.can("records:write"),
        errors=errors or {}, values=values or {}, tz=archive.settings.tz, me=user.username, words=WORDS,
        roles=accounts.ROLES, class_names=_class_names(archive)), status


def _job_state(archive: Archive, disposition_id: str) -> dict[str, Any] | None:
    """The execution job of a disposition: its state and any failure (the newest, if several)."""
    if jobs.queued(archive):
        for row in jobs.list_jobs(archive):
            if row.task == "dispose" and row.args.get("disposition_id") == disposition_id:
                return {"id": row.id, "state": row.state, "code": row.code, "message": row.message}
        return None
    key = (str(archive.root), disposition_id)
    with _lock:
        thread, failure = _running.get(key), _failed.get(key)
    if failure is not None:
        return {"id": None, "state": "failed", "code": failure.code, "message": failure.render()}
    if thread is not None:
        return {"id": None, "state": "running" if thread.is_alive() else "done", "code": "", "message": ""}
    return None


@bp.post("/dispositions/approve")
@requires("records:write")
def approve() -> Any:
    archive = current_archive()
    disposition_id = _disposition_id(request.form)
    try:
        dispositions.approve(archive, disposition_id, _actor())
    except LongwatchError as exc:  # self-approval (H004), not a records manager (H005), not proposed (H006)
        if exc.code == "H007":
            raise
        # a refusal by the two-person rule is not a missing permission (403): the role may use this page
        return _view_page(disposition_id, 400, {"approve": exc})
    return redirect(url_for("disposition.view", id=disposition_id))


@bp.post("/dispositions/reject")
@requires("records:write")
def reject() -> Any:
    archive = current_archive()
    disposition_id = _disposition_id(request.form)
    reason = request.form.get("reason", "")
    try:
        dispositions.reject(archive, disposition_id, _actor(), reason)
    except LongwatchError as exc:
        if exc.code == "H007":
            raise
        return _view_page(disposition_id, 400, {"reason": exc}, {"reason": reason})
    return redirect(url_for("disposition.view", id=disposition_id))


@bp.post("/dispositions/execute")
@requires("records:write")
def execute() -> Any:
    archive = current_archive()
    disposition_id = _disposition_id(request.form)
    disposition, _counts, _classes = dispositions.summary(archive, disposition_id)
    if disposition.status not in ("approved", "executing"):  # refused now, beside the button, not by a worker
        error = LongwatchError("H006", disposition_id=disposition.id[:8], status=disposition.status,
                               expected="approved")
        return _view_page(disposition.id, 409, {"execute": error})
    actor = _actor()
    if jobs.queued(archive):
        records_tasks.enqueue_disposition(archive, disposition.id, actor.name, actor.role)
    else:
        start_in_process(archive.root, disposition.id, actor)
    return redirect(url_for("disposition.view", id=disposition.id))


def start_in_process(root: Path, disposition_id: str, actor: actors.Actor) -> threading.Thread:
    """SQLite: the job runs in a thread of this process (one per disposition), on its own archive, so the request
    that asked returns at once. A failure is kept for the page to report; the disposition itself stays
    resumable (``longwatch dispose execute``, or this button again)."""
    key = (str(root), disposition_id)
    with _lock:
        running = _running.get(key)
        if running is not None and running.is_alive():
            return running
        _failed.pop(key, None)

        def run() -> None:
            archive = Archive.open(root)
            try:
                records_tasks.enqueue_disposition(archive, disposition_id, actor.name, actor.role)
            except LongwatchError as exc:
                log.warning("disposition %s: %s", disposition_id[:8], exc.render(translate=False))
                with _lock:
                    _failed[key] = exc
            except Exception as exc:  # reported truthfully on the page, never as done
                log.exception("disposition %s failed", disposition_id[:8])
                with _lock:
                    _failed[key] = LongwatchError("W065", disposition_id=disposition_id,
                                                  detail=f"{type(exc).__name__}: {exc}")
            finally:
                archive.close()

        thread = threading.Thread(target=run, name=f"longwatch-dispose-{disposition_id[:8]}", daemon=True)
        _running[key] = thread
        thread.start()
    return thread


def running_thread(root: Path, disposition_id: str) -> threading.Thread | None:
    """The in-process execution of a disposition, if this process started one (tests wait on it)."""
    with _lock:
        return _running.get((str(root), disposition_id))


def dashboard_panel(archive: Archive, user: Any) -> tuple[str, str, dict[str, Any]] | None:
    """Dispositions waiting for a second records manager, or running, on the dashboard."""
    if not user.can("catalog:read") or user.is_scoped:
        return None
    waiting = [d for d in dispositions.list_dispositions(archive) if d.status in ("proposed", "approved", "executing")]
    return gettext("Disposition"), "_disposition_panel.html", {"open_dispositions": waiting, "words": WORDS,
                                                               "tz": archive.settings.tz}


def blueprints(app: Any) -> list[Blueprint]:
    panels = app.config["LONGWATCH_DASHBOARD_PANELS"]
    if dashboard_panel not in panels:
        panels.append(dashboard_panel)
    return [bp]
