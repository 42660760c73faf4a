"""The main navigation: every page the signed-in role may use, and no other.

Each entry names an endpoint; whether it is shown is decided by the same
rule that guards the page (:func:`longwatch.web.security.may_use` over the
view's :func:`~longwatch.web.security.requires`), so a link cannot point to a
page that answers 403, and a page a role may use cannot be left unlinked
while it is listed here. Page plugins add their pages to
``app.config["LONGWATCH_NAVIGATION"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for

from longwatch.i18n import N_, gettext
from longwatch.web.security import current_user, may_use

#: (endpoint, label): the pages people go to, in the order shown. Pages reached from another page
#: (a package, a request, the profile under the user's name) are not listed.
PAGES: list[tuple[str, str]] = [
    ("packages.dashboard", N_("Dashboard")),
    ("packages.package_list", N_("Packages")),
    ("search.page", N_("Search")),
    ("saved_searches.listing", N_("Saved searches")),
    ("cases.listing", N_("Cases")),
    ("exports.listing", N_("Exports")),
    ("inquiry.page", N_("Inquiry")),
    ("events_review.queue", N_("Event review")),
    ("cameras.listing", N_("Cameras")),
    ("requests.listing", N_("Requests")),
    ("shares.shares_page", N_("Share links")),
    ("analytics.page", N_("Analytics")),
    ("register.page", N_("Operation register")),
    ("notice.edit", N_("Public notice")),
    ("holds.page", N_("Legal holds")),
    ("disposition.page", N_("Disposition")),
    ("schedules.page", N_("Retention schedule")),
    ("upload.page", N_("Upload")),
    ("admin.users", N_("Users")),
]


@dataclass(frozen=True)
class Link:
    endpoint: str
    url: str
    label: str
    current: bool


def links() -> list[Link]:
    """The navigation of the signed-in user (empty for anonymous visitors)."""
    user = current_user()
    if user is None:
        return []
    out = []
    for endpoint, label in current_app.config["LONGWATCH_NAVIGATION"]:
        view = current_app.view_functions.get(endpoint)
        if view is None or not may_use(user.role, view):
            continue
        out.append(Link(endpoint, url_for(endpoint), gettext(label), request.endpoint == endpoint))
    return out
