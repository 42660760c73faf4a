"""Built-in web plugin: the dashboard and the package list.

Dashboard panels from other features (holds, disposition, custody) plug in
through ``app.config["LONGWATCH_DASHBOARD_PANELS"]``; the list's filters are
one :class:`~longwatch.web.queries.PackageFilter`, which search extends.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from longwatch.console import human_size as fmt
from longwatch.errors import LongwatchError
from longwatch.web import current_archive, queries, search
from longwatch.web.forms import errors_for
from longwatch.web.security import current_user, requires

bp = Blueprint("packages", __name__)


@bp.get("/")
@requires("catalog:read")
def dashboard() -> str:
    archive = current_archive()
    user = current_user()
    assert user is not None
    totals = queries.totals(archive, user)
    recent, _total, _exact = queries.list_packages(archive, user, queries.PackageFilter(limit=8))
    storage = archive.storage()
    free = storage.free_bytes()
    panels = []
    for panel in current_app.config["LONGWATCH_DASHBOARD_PANELS"]:
        made = panel(archive, user)
        if made:
            panels.append((made[0], render_panel(made[1], made[2])))
    return render_template("dashboard.html", archive=archive, totals=totals, recent=recent, free=free,
                           location=storage.location, panels=panels, tz=archive.settings.tz)


@bp.get("/packages")
@requires("catalog:read")
def package_list() -> Any:
    if search.wants_search(request.args):  # ?near=, ?zone=, ... are the search page's: never ignored here
        args: dict[str, Any] = request.args.to_dict(flat=False)
        args.pop("limit", None)
        args.pop("offset", None)
        return redirect(url_for("search.page", **args))
    archive = current_archive()
    user = current_user()
    assert user is not None
    try:
        f = queries.PackageFilter.from_args(request.args, current_app.config["LONGWATCH_PAGE_SIZE"])
    except LongwatchError as exc:  # the filters again, as typed, with the error beside the field
        return render_template("packages.html", archive=archive, packages=[], total=0, exact=True,
                               f=queries.PackageFilter(), cameras=queries.cameras(archive, user),
                               tz=archive.settings.tz, errors=errors_for(exc, FILTER_FIELDS)), 400
    rows, total, exact = queries.list_packages(archive, user, f)
    return render_template("packages.html", archive=archive, packages=rows, total=total, exact=exact, f=f,
                           cameras=queries.cameras(archive, user), tz=archive.settings.tz, errors={})


FILTER_FIELDS = ("camera", "start", "end", "limit", "offset")


def render_panel(template: str, context: dict[str, Any]) -> Markup:
    """A dashboard panel rendered with its dict: each key as a name of its own (``open_requests``), and the
    whole dict as ``context`` (``context.waiting``), the two ways the panels' templates read it.

    An ``{% include %}`` in the dashboard's loop saw only ``context``, so a panel reading its names directly
    (the open requests and their 10-day clocks) was always empty."""
    return Markup(render_template(template, **{**context, "context": context}))  # noqa: S704 - a template, autoescaped


def human_size(n: int | None) -> str:
    return fmt(int(n or 0))


def blueprints(app: Any) -> list[Blueprint]:
    app.jinja_env.filters.setdefault("human_size", human_size)
    return [bp]
