"""Built-in web plugin: the retention schedule, read-only (record classes, assignment rules, versions in use).

Changing the schedule stays a deliberate act at the command line
(``longwatch retention preview`` then ``retention set``), which records the
new version's text in the custody ledger; this page shows what governs the
archive now, in the reader's language, and which schedule versions still
govern packages (:func:`longwatch.core.records.assignment.schedules_in_use`).
Every role may read it: the schedule is what the public notice publishes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from longwatch.core.records import assignment, schedules
from longwatch.i18n import N_, gettext, ngettext
from longwatch.web import current_archive
from longwatch.web.security import requires

bp = Blueprint("schedules", __name__)

TRIGGERS = {"capture": N_("from capture"), "event": N_("from the event"),
            "case-closed": N_("from the case's closure")}
ACTIONS = {"destroy": N_("destroy"), "review": N_("review"), "transfer": N_("transfer")}


def period_text(period: str) -> str:
    """``P1Y6M`` as "1 year 6 months" in the reader's language (the same words as ``retention show``)."""
    if period == "permanent":
        return gettext("permanent")
    match = schedules.PERIOD.match(period)
    words = {"Y": lambda n: ngettext("{n} year", "{n} years", n),
             "M": lambda n: ngettext("{n} month", "{n} months", n),
             "D": lambda n: ngettext("{n} day", "{n} days", n)}
    parts = [words[unit](int(amount)).format(n=int(amount))
             for unit, amount in zip("YMD", match.groups() if match else (), strict=False) if amount]
    return " ".join(parts) or period


def _ko(text: str, text_ko: str) -> str:
    """The schedule's own Korean where it has one and the reader reads Korean."""
    return text_ko if text_ko and g.get("lang") == "ko" else text


@bp.get("/schedules")
@requires("catalog:read")
def page() -> str:
    archive = current_archive()
    schedule = schedules.active_schedule(archive)
    builtin = not (archive.root / schedules.ACTIVE_NAME).is_file()
    return render_template("schedules.html", schedule=schedule, builtin=builtin,
                           versions=assignment.schedules_in_use(archive),
                           history=assignment.schedule_versions(archive), triggers=TRIGGERS, actions=ACTIONS,
                           period_text=period_text, ko=_ko, tz=archive.settings.tz)


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
