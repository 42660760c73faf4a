"""Built-in web plugin: requests for footage with their 10-day clocks, and a dashboard panel.

Pages take the request number as a query parameter (``/requests/view?number=``), so every route
of the public-sector pages has a fixed path the permission matrix can walk.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from longwatch.clock import parse_time
from longwatch.core.jobs import queue as jobs
from longwatch.core.public import access_requests as req_api
from longwatch.core.public import tasks as public_tasks
from longwatch.errors import LongwatchError
from longwatch.i18n import gettext
from longwatch.web import current_archive, numbers
from longwatch.web.forms import errors_for, time_field
from longwatch.web.security import current_user, requires

bp = Blueprint("requests", __name__)


def _actor() -> str:
    user = current_user()
    return user.username if user else ""


def _time(name: str) -> Any:
    value = request.form.get(name, "").strip()
    return parse_time(value) if value else None


@bp.get("/requests")
@requires("requests:read")
def listing() -> str:
    archive = current_archive()
    status = request.args.get("status", "")
    rows = req_api.listing(archive, status if status in req_api.STATUSES else "")
    tz = archive.settings.tz
    return render_template("public/requests.html", rows=[(r, req_api.clock(r, tz)) for r in rows], tz=tz,
                           api=req_api, status=status)


@bp.route("/requests/new", methods=["GET", "POST"])
@requires("requests:write")
def new() -> Any:
    archive = current_archive()
    if request.method == "POST":
        f = request.form
        try:
            for name in ("claimed_start", "claimed_end", "received"):
                time_field(name, f.get(name, ""))
            req = req_api.create(archive, f.get("kind", "pipa-access"), requester=f.get("requester", ""),
                                 identity_method=f.get("identity_method", ""), contact=f.get("contact", ""),
                                 claimed_start=_time("claimed_start"), claimed_end=_time("claimed_end"),
                                 claimed_place=f.get("claimed_place", ""), camera=f.get("camera", ""),
                                 legal_basis=f.get("legal_basis", ""), reference=f.get("reference", ""),
                                 received_at=_time("received"), actor=_actor())
        except LongwatchError as exc:  # the form again, as typed, with the error beside its field
            errors = errors_for(exc, NEW_FIELDS)
            return render_template("public/request_new.html", api=req_api, values=f, errors=errors), 400
        return redirect(url_for("requests.view", number=req.number))
    return render_template("public/request_new.html", api=req_api, values={}, errors={})


NEW_FIELDS = ("kind", "requester", "identity_method", "contact", "claimed_start", "claimed_end", "claimed_place",
              "camera", "reference", "legal_basis", "received")


@bp.get("/requests/view")
@requires("requests:read")
def view() -> str:
    number = request.args.get("number", "")
    export = session.pop("delivered_export", None)  # shown once, right after the delivery
    queued = session.pop("queued_job", None)
    return _page(number, export if export and export.get("number") == number else None,
                 queued if queued and queued.get("number") == number else None)


def _page(number: str, export: dict[str, Any] | None = None, queued: dict[str, Any] | None = None) -> str:
    archive = current_archive()
    req = req_api.get(archive, number)
    tz = archive.settings.tz
    return render_template("public/request.html", req=req, clock=req_api.clock(req, tz), tz=tz, api=req_api,
                           reasons=req_api.refusal_reasons(), packages=req_api.package_ids(req),
                           export=export, queued=queued)


@bp.post("/requests/action")
@requires("requests:write")
def action() -> Response:
    archive = current_archive()
    f = request.form
    number, what = f.get("number", ""), f.get("action", "")
    if what == "search":
        req_api.search(archive, number, actor=_actor())
    elif what == "postpone":
        req_api.postpone(archive, number, f.get("reason", ""), actor=_actor())
    elif what == "mask":
        keep = frozenset(k.strip() for k in f.get("keep", "").split(",") if k.strip())
        if jobs.queued(archive):  # face detection on every frame: a worker's job, not this page's
            job = public_tasks.enqueue_request_mask(archive, number, keep, actor=_actor())
            session["queued_job"] = {"number": number, "job_id": job}
        else:
            req_api.mask(archive, number, keep, actor=_actor())
    elif what == "deliver":
        days = f.get("expires_days", "7").strip() or "7"
        if not numbers.is_whole(days, 36500):
            raise LongwatchError("U012", number=number, detail="the link's days must be a whole number")
        _req, export = req_api.deliver(archive, number, f.get("recipient", ""), int(days), actor=_actor())
        # the link's token is shown once, on the next page (the catalog keeps only its hash)
        session["delivered_export"] = {
            "number": number, "export_id": export["export_id"], "files": export["files"],
            "recipient": export["recipient"], "expires": export["expires"],
            "url": url_for("shares.landing", token=export["link"].rsplit("/", 1)[-1], _external=True)}
    elif what == "refuse":
        req_api.refuse(archive, number, f.get("reason", ""), f.get("note", ""), actor=_actor())
    else:
        raise LongwatchError("W012", name="action", detail=what or "-")
    return redirect(url_for("requests.view", number=number))


def dashboard_panel(archive: Any, user: Any) -> tuple[str, str, dict[str, Any]] | None:
    """Open requests and their clocks on the dashboard, the most urgent first."""
    if not user.can("requests:read"):
        return None
    tz = archive.settings.tz
    open_rows = [(r, req_api.clock(r, tz)) for r in req_api.listing(archive)
                 if r.status not in ("delivered", "refused")]
    open_rows.sort(key=lambda rc: rc[1].remaining)
    return gettext("Open requests"), "public/_request_panel.html", {"open_requests": open_rows, "api": req_api}


def blueprints(app: Any) -> list[Blueprint]:
    panels = app.config["LONGWATCH_DASHBOARD_PANELS"]
    if dashboard_panel not in panels:
        panels.append(dashboard_panel)
    return [bp]
