"""Built-in web plugin: evidence exports for a recipient (``/exports``), their progress and their share links.

An export is asked for here (the recipient: agency, officer, their case
number, the legal basis, the purpose, until when, and whether to add
watermarked access copies; what: a case, packages, or cameras over a range)
and runs as a job, never inside the request
(:mod:`longwatch.core.evidence.orders`). Its page follows it (queued, running
with the bytes written so far, done, or failed with its coded error) and, once
done, makes expiring share links (:mod:`longwatch.core.evidence.shares`); the
token is shown once. The recipient's link opens a landing page first
(``longwatch/web/shares.py``).

An investigator exports only what they may see (a case shared with them,
packages they may see; no camera ranges, which reach other footage) and sees
only the exports they asked for.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from longwatch import clock
from longwatch.core.evidence import orders, shares, stored
from longwatch.core.evidence.request import Recipient, Request
from longwatch.errors import LongwatchError
from longwatch.web import current_archive, numbers, queries
from longwatch.web.forms import FORM, errors_for, local_time
from longwatch.web.security import current_user, requires

bp = Blueprint("exports", __name__)

#: The request form's fields (an error names one, else it shows at the top of the form).
FIELDS = ("agency", "officer", "case_number", "legal_basis", "purpose", "expires", "watermark", "case", "packages",
          "camera", "start", "end", "language", "days")
#: Errors whose context names no field, by the field they are about.
FIELD_OF_CODE = {"E001": "packages", "E002": "case", "E004": "camera", "Q010": "case", "W011": "packages",
                 "W070": "case", "W072": "packages"}
#: Longest a share link may live, in days.
MAX_LINK_DAYS = 90


def _errors(exc: LongwatchError) -> dict[str, LongwatchError]:
    if exc.code == "E003":
        detail = str(exc.context.get("detail", ""))
        for word, name in (("agency", "agency"), ("legal basis", "legal_basis"), ("expiry", "expires"),
                           ("camera", "camera"), ("range", "end")):
            if word in detail:
                return {name: exc}
        return {FORM: exc}
    if exc.code in FIELD_OF_CODE and "name" not in exc.context:
        return {FIELD_OF_CODE[exc.code]: exc}
    return errors_for(exc, FIELDS)


def _visible_orders() -> list[orders.Order]:
    user = current_user()
    assert user is not None
    return orders.list_orders(current_archive(), created_by=user.username if user.is_scoped else None)


def _order(export_id: str) -> orders.Order:
    """The order when the user may see it (scoped roles: only their own); W011 otherwise."""
    user = current_user()
    assert user is not None
    try:
        order = orders.get(current_archive(), export_id)
    except LongwatchError as exc:
        raise LongwatchError("W011", what=f"export {export_id[:40]}") from exc
    if user.is_scoped and order.created_by != user.username:
        raise LongwatchError("W011", what=f"export {export_id[:40]}")
    return order


@bp.get("/exports")
@requires("footage:read")
def listing() -> Any:
    typed = {"case": request.args.get("case", "")[:64], "packages": request.args.get("packages", "")[:4000]}
    return _render_list(typed, {})


def _render_list(typed: dict[str, Any], errors: dict[str, LongwatchError]) -> Any:
    archive = current_archive()
    user = current_user()
    assert user is not None
    body = render_template("exports.html", orders=_visible_orders(), typed=typed, errors=errors,
                           cases=queries.visible_cases(archive, user), cameras=queries.cameras(archive, user),
                           tz=archive.settings.tz)
    return (body, 400) if errors else body


def _request(typed: dict[str, Any]) -> Request:
    """The export request of the form; what the user may not export is refused here (W011, W040, W070)."""
    archive = current_archive()
    user = current_user()
    assert user is not None
    zone = archive.settings.tz
    expires = local_time("expires", typed["expires"], zone)
    recipient = Recipient(typed["agency"], typed["officer"], typed["case_number"], typed["legal_basis"],
                          typed["purpose"], expires)
    package_ids = []
    for value in typed["packages"].replace(",", " ").split()[:1000]:
        matches = archive.catalog.resolve(value)
        if len(matches) != 1:
            raise LongwatchError("E001", package_id=value[:40])
        row = queries.visible_package(archive, user, matches[0])
        if queries.is_destroyed(row):
            raise LongwatchError("W072", package_id=row.id)
        package_ids.append(row.id)
    if typed["case"] and user.is_scoped and not queries.may_see_case(archive, user, typed["case"]):
        raise LongwatchError("W070", number=typed["case"])
    start, end = local_time("start", typed["start"], zone), local_time("end", typed["end"], zone)
    cameras = [typed["camera"]] if typed["camera"] else []
    if (cameras or start or end) and user.is_scoped:
        raise LongwatchError("W040", role=user.role, permission="export a camera's time range")
    if not (package_ids or typed["case"] or cameras):
        raise LongwatchError("W012", name="packages", detail="say what to export: a case, packages or a camera")
    language = typed["language"] if typed["language"] in ("ko", "en") else "ko"
    return Request(recipient, package_ids=package_ids, cameras=cameras, start=start, end=end, case=typed["case"],
                   language=language, watermark=bool(typed["watermark"]), timezone=archive.settings.timezone)


@bp.post("/exports")
@requires("footage:read")
def create() -> Any:
    user = current_user()
    assert user is not None
    typed: dict[str, Any] = {k: request.form.get(k, "").strip()[:4000] for k in FIELDS}
    try:
        export_id = orders.submit(current_archive(), _request(typed), user.username)
    except LongwatchError as exc:
        return _render_list(typed, _errors(exc))
    return redirect(url_for("exports.detail", export_id=export_id), 303)


@bp.get("/exports/<export_id>")
@requires("footage:read")
def detail(export_id: str) -> Any:
    return _render_detail(_order(export_id), {}, {}, None)


def _render_detail(order: orders.Order, typed: dict[str, Any], errors: dict[str, LongwatchError],
                   made: dict[str, Any] | None) -> Any:
    archive = current_archive()
    links = [s for s in shares.list_shares(archive) if s["export_id"] == order.export_id]
    contents = None
    if order.state == "done":
        contents = orders_contents(order)
    body = render_template("export.html", order=order, links=links, typed=typed, errors=errors, made=made,
                           contents=contents, tz=archive.settings.tz, max_days=MAX_LINK_DAYS)
    return (body, 400) if errors else body


def orders_contents(order: orders.Order) -> dict[str, Any] | None:
    """What the finished export holds (its ``export.json`` in the store): packages, files and sizes."""
    return stored.description(current_archive(), order.path)


@bp.post("/exports/<export_id>/links")
@requires("footage:read")
def make_link(export_id: str) -> Any:
    """A share link to the finished export, valid for the days given; its token is shown once, here."""
    order = _order(export_id)
    user = current_user()
    assert user is not None
    typed = {"days": request.form.get("days", "7").strip()[:20]}
    try:
        if order.state != "done":
            raise LongwatchError("W071", export_id=order.export_id, state=order.state)
        if not numbers.is_whole(typed["days"]) or not 1 <= int(typed["days"]) <= MAX_LINK_DAYS:
            raise LongwatchError("W012", name="days", detail=f"a whole number of days, 1 to {MAX_LINK_DAYS}")
        expires = clock.now() + timedelta(days=int(typed["days"]))
        if order.request.recipient.expires is not None:
            expires = min(expires, order.request.recipient.expires)  # never beyond the recipient's own expiry
        share_id, token = shares.create_share(current_archive(), order.path, expires, created_by=user.username)
    except LongwatchError as exc:
        return _render_detail(order, typed, _errors(exc) if exc.code != "W071" else {FORM: exc}, None)
    made = {"id": share_id, "url": url_for("shares.landing", token=token, _external=True), "expires": expires}
    return _render_detail(order, {}, {}, made)


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
