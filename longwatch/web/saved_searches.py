"""Built-in web plugin: saved searches (``/search/saved``): keep the search page's filters under a name, list,
run and delete them (each account its own), and hold what one finds (records managers).

The filters are kept as the form had them (:mod:`longwatch.core.catalog.saved_searches`), so running one
opens the search page filled in exactly as it was saved. A legal hold made from a saved search is the holds'
own kind "search" (:mod:`longwatch.core.records.holds`), which keeps one camera, a zone, words and a time
range; a saved search with other filters (a place, an event, a case, several cameras) is refused with W096
naming them, rather than held more widely than it finds.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from longwatch import clock
from longwatch.core.catalog import saved_searches
from longwatch.core.records import actors
from longwatch.core.records import holds as holds_api
from longwatch.errors import LongwatchError
from longwatch.web import current_archive, search
from longwatch.web.forms import FORM, local_time
from longwatch.web.security import current_user, requires

bp = Blueprint("saved_searches", __name__)

#: the search form's filters a legal hold can keep, and the hold's key for each
HOLD_KEYS = {"zone": "zone", "q": "text"}


def _user() -> Any:
    user = current_user()
    assert user is not None  # requires() let the request through
    return user


def hold_criteria(saved: dict[str, Any], zone: Any) -> dict[str, str]:
    """The criteria of a legal hold on what ``saved`` finds; W096 naming the filters a hold cannot keep."""
    criteria: dict[str, Any] = saved["criteria"]
    cameras = criteria.get("camera") or []
    beyond = sorted(k for k in criteria if k not in (*HOLD_KEYS, "camera", "start", "end"))
    if len(cameras) > 1:
        beyond.insert(0, "camera")
    if beyond:
        raise LongwatchError("W096", name=saved["name"], filters=", ".join(beyond))
    out = {HOLD_KEYS[k]: criteria[k] for k in HOLD_KEYS if criteria.get(k)}
    if cameras:
        out["camera"] = cameras[0]
    for key, hold_key in (("start", "from"), ("end", "to")):
        when = local_time(key, criteria.get(key, ""), zone)
        if when is not None:
            out[hold_key] = clock.iso_z(when)
    if not out:
        raise LongwatchError("W096", name=saved["name"], filters="-")
    return out


def _page(status: int = 200, errors: dict[str, LongwatchError] | None = None,
          values: dict[str, str] | None = None) -> tuple[str, int]:
    archive = current_archive()
    user = _user()
    rows = saved_searches.listing(archive.catalog, user.username)
    return render_template("saved_searches.html", saved=rows, errors=errors or {}, values=values or {},
                           can_hold=user.can("records:write") and not user.is_scoped,
                           done=request.args.get("done", ""), tz=archive.settings.tz), status


@bp.get("/search/saved")
@requires("catalog:read")
def listing() -> Any:
    return _page()


@bp.post("/search/saved")
@requires("catalog:read")
def save() -> Any:
    """Save the search the form holds (its filters as hidden fields) under the name typed beside them."""
    archive = current_archive()
    typed = search.typed_of(request.form)
    criteria = {k: v for k, v in typed.items() if k != "after"}
    try:
        # the filters must read as a search (a bad time or place is shown beside its field, not saved)
        search.read_form(typed, 1)
        saved = saved_searches.save(archive.catalog, _user().username, request.form.get("name", ""), criteria)
    except LongwatchError as exc:
        field = "name" if exc.code in ("W093", "W094") else search.field_of(exc)
        return search.render(request.form, {field: exc})
    return redirect(url_for("search.page", saved=saved["name"], **{k: v for k, v in criteria.items() if v}))


@bp.post("/search/saved/<search_id>/delete")
@requires("catalog:read")
def delete(search_id: str) -> Any:
    archive = current_archive()
    saved = saved_searches.get(archive.catalog, _user().username, search_id)
    saved_searches.delete(archive.catalog, _user().username, search_id)
    return redirect(url_for("saved_searches.listing", done=saved["name"]))


@bp.post("/search/saved/<search_id>/hold")
@requires("records:write", scoped=False)
def hold(search_id: str) -> Any:
    """A legal hold on what the saved search finds, with an owner and a reason; a custody event like any hold."""
    archive = current_archive()
    user = _user()
    f = request.form
    values = {f"owner-{search_id[:36]}": f.get("owner", ""), f"reason-{search_id[:36]}": f.get("reason", "")}
    try:
        saved = saved_searches.get(archive.catalog, user.username, search_id)
        placed = holds_api.place_hold(archive, actors.actor_of(user), owner=f.get("owner", "").strip(),
                                      reason=f.get("reason", "").strip(),
                                      search=hold_criteria(saved, archive.settings.tz))
    except LongwatchError as exc:
        if exc.code == "W095":
            raise
        field = {"H013": f"owner-{search_id[:36]}" if not f.get("owner", "").strip()
                 else f"reason-{search_id[:36]}"}.get(exc.code, f"hold-{search_id[:36]}")
        return _page(400, {field if field else FORM: exc}, values)
    return redirect(url_for("holds.page", placed=placed.id[:8]))


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
