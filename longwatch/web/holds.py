"""Built-in web plugin: legal holds for records managers (list, place, release).

Every rule about what a hold covers and who may lift it lives in
:mod:`longwatch.core.records.holds`; this page only turns a form into one
call of :func:`~longwatch.core.records.holds.place_hold` or
:func:`~longwatch.core.records.holds.release_hold`, each already a custody
event. Times are picked in the archive's local zone and kept in UTC to the
second (:mod:`longwatch.web.pickers`). A refused form comes back as typed,
with the error beside its field.

Anyone who reads the catalog except the scoped roles may see the holds (an
investigator sees only the cases shared with them, so not every hold);
placing and releasing needs ``records:write``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from longwatch import clock
from longwatch.core.records import actors
from longwatch.core.records import holds as holds_api
from longwatch.errors import LongwatchError
from longwatch.i18n import gettext
from longwatch.web import current_archive
from longwatch.web.forms import FORM, errors_for
from longwatch.web.pickers import parse_local
from longwatch.web.security import current_user, requires

bp = Blueprint("holds", __name__)

#: The form's fields, in order; ``kind`` says which target the hold covers.
FIELDS = ("kind", "package", "case", "camera", "start", "end", "search_camera", "search_zone", "search_text",
          "search_from", "search_to", "owner", "reason", "review")
#: The field that names each kind of target (an empty one is W061 beside it).
TARGET_FIELD = {"package": "package", "case": "case", "camera": "camera", "search": "search_text"}
SEARCH_FIELDS = {"camera": "search_camera", "zone": "search_zone", "text": "search_text"}
KIND_LABELS = {"package": "a package", "case": "a case", "camera": "a camera over a time range",
               "search": "a saved search"}


def _actor() -> actors.Actor:
    user = current_user()
    assert user is not None  # requires() let the request through
    return actors.actor_of(user)


def _page(status: int = 200, errors: dict[str, LongwatchError] | None = None,
          values: MultiDict[str, str] | dict[str, str] | None = None) -> tuple[str, int]:
    archive = current_archive()
    user = current_user()
    assert user is not None
    include_released = request.args.get("all") == "1"
    rows = holds_api.list_holds(archive, include_released)
    now = clock.now()
    return render_template(
        "holds.html", holds=[_row(h, now) for h in rows], include_released=include_released,
        can_write=user.can("records:write"), errors=errors or {}, values=values or {}, tz=archive.settings.tz,
        kinds=KIND_LABELS, now=now), status


def _row(hold: Any, now: datetime) -> dict[str, Any]:
    """What the list shows of one hold; an active hold past its review date is flagged."""
    search = json.loads(hold.search or "{}")
    return {"hold": hold, "search": search, "overdue": hold.released_at is None and hold.review_at is not None
            and hold.review_at < now}


@bp.get("/holds")
@requires("catalog:read", scoped=False)
def page() -> tuple[str, int]:
    return _page()


@bp.post("/holds")
@requires("records:write")
def place() -> Any:
    archive = current_archive()
    f = request.form
    kind = f.get("kind", "")
    try:
        tz = archive.settings.tz
        review = parse_local("review", f.get("review", ""), tz)
        if kind not in TARGET_FIELD:
            raise LongwatchError("W061", name="kind")
        target = TARGET_FIELD[kind]
        if kind != "search" and not f.get(target, "").strip():
            raise LongwatchError("W061", name=target)
        target_args: dict[str, Any] = {}
        if kind == "package":
            matches = archive.catalog.resolve(f["package"].strip())
            if len(matches) != 1:
                raise LongwatchError("I008", package_id=f["package"].strip(), name="package")
            target_args["package_id"] = matches[0]
        elif kind == "case":
            target_args["case_id"] = f["case"].strip()
        elif kind == "camera":
            start, end = parse_local("start", f.get("start", ""), tz), parse_local("end", f.get("end", ""), tz)
            for name, value in (("start", start), ("end", end)):
                if value is None:
                    raise LongwatchError("W061", name=name)
            assert start is not None and end is not None
            if end < start:
                raise LongwatchError("W064", name="end", start=clock.iso_z(start), end=clock.iso_z(end))
            target_args.update(camera=f["camera"].strip(), start=start, end=end)
        else:
            target_args["search"] = _search(f, tz)
        hold = holds_api.place_hold(archive, _actor(), owner=f.get("owner", "").strip(),
                                    reason=f.get("reason", "").strip(), review_at=review, **target_args)
    except LongwatchError as exc:  # the form again, as typed, with the error beside its field
        return _page(400, _place_errors(exc, f), f)
    return redirect(url_for("holds.page", placed=hold.id[:8]))


def _search(f: Any, tz: Any) -> dict[str, str]:
    """The saved search's criteria; at least one must be given (W061 beside the text field)."""
    criteria = {key: f.get(field, "").strip() for key, field in SEARCH_FIELDS.items() if f.get(field, "").strip()}
    for key, field in (("from", "search_from"), ("to", "search_to")):
        when = parse_local(field, f.get(field, ""), tz)
        if when is not None:
            criteria[key] = clock.iso_z(when)
    if not criteria:
        raise LongwatchError("W061", name="search_text")
    return criteria


def _place_errors(exc: LongwatchError, f: Any) -> dict[str, LongwatchError]:
    """The core's codes carry no field name: H013 goes beside the empty one of owner and reason, H009 and H012
    beside the target."""
    if exc.code == "H013":
        return {"owner" if not f.get("owner", "").strip() else "reason": exc}
    if exc.code in ("H009", "H012"):
        return {TARGET_FIELD.get(f.get("kind", ""), "kind"): exc}
    return errors_for(exc, FIELDS)


@bp.post("/holds/release")
@requires("records:write")
def release() -> Any:
    archive = current_archive()
    hold_id = request.form.get("hold_id", "")
    reason = request.form.get("reason", "").strip()
    field = f"release-{hold_id[:36]}"
    try:
        if not reason:
            raise LongwatchError("W063", name=field)
        holds_api.release_hold(archive, hold_id, _actor(), reason)
    except LongwatchError as exc:
        return _page(404 if exc.code == "H008" else 400,
                     {field if exc.code == "W063" else FORM: exc}, {field: reason})
    return redirect(url_for("holds.page", released=hold_id[:8]))


def dashboard_panel(archive: Any, user: Any) -> tuple[str, str, dict[str, Any]] | None:
    """Active holds on the dashboard, those past their review date first (for whoever may see the holds)."""
    if not user.can("catalog:read") or user.is_scoped:
        return None
    now = clock.now()
    rows = [_row(h, now) for h in holds_api.list_holds(archive)]
    rows.sort(key=lambda r: (not r["overdue"], r["hold"].review_at or datetime.max.replace(tzinfo=now.tzinfo)))
    return gettext("Legal holds"), "_holds_panel.html", {
        "hold_rows": rows[:10], "hold_count": len(rows), "overdue_count": sum(1 for r in rows if r["overdue"]),
        "tz": archive.settings.tz}


def blueprints(app: Any) -> list[Blueprint]:
    panels = app.config["LONGWATCH_DASHBOARD_PANELS"]
    if dashboard_panel not in panels:
        panels.append(dashboard_panel)
    return [bp]
