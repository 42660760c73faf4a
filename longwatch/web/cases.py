"""Built-in web plugin: cases (``/cases``), where an investigation keeps its footage, notes and holds.

A case gathers packages (one by one, or every package of a camera over a time
range), notes, legal holds on its footage, and the named accounts it is shared
with. The case itself is the catalog's (:mod:`longwatch.core.catalog.reference`:
``add_case``, ``attach_packages``, ``attach_range``, ``add_case_note``,
``share_case``); holds go through the retention core
(:func:`longwatch.core.records.holds.place_hold`), which every deletion path
asks, and each is a custody-ledger event, as is each package attached.

Who may do what: opening a case and adding a camera's time range are request
work (``requests:write``: a range reaches every camera's footage in it, which an
investigator may not see); notes, packages and holds are inquiry work
(``inquiry:write``), which an investigator does only in the cases shared with
them (W070, 403) and only with packages they may see; sharing is a records
manager's decision (``records:write``). An investigator lists exactly the cases
shared with them, and another case is not found (W011).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from longwatch.core import accounts, custody
from longwatch.core.catalog import reference
from longwatch.core.records import holds
from longwatch.core.records.actors import actor_of
from longwatch.errors import LongwatchError
from longwatch.web import current_archive, queries
from longwatch.web.forms import FORM, errors_for, local_time
from longwatch.web.security import current_user, requires

bp = Blueprint("cases", __name__)

#: The fields of the forms on these pages (an error names one, else it shows at the top of its form).
FIELDS = ("number", "title", "requester", "notes", "package", "start", "end", "camera", "note", "owner", "reason",
          "review", "username")
#: Errors whose context names no field, by the field they are about.
FIELD_OF_CODE = {"Q011": "number", "Q001": "end", "I008": "package", "E001": "package", "W011": "package",
                 "W072": "package", "W007": "username", "H013": "reason"}


def _errors(exc: LongwatchError) -> dict[str, LongwatchError]:
    if exc.code == "Q015":
        named = {"case number": "number", "note": "note"}.get(str(exc.context.get("field", "")), FORM)
        return {named: exc}
    if exc.code in FIELD_OF_CODE and "name" not in exc.context:
        return {FIELD_OF_CODE[exc.code]: exc}
    return errors_for(exc, FIELDS)


def _visible_case(number: str) -> dict[str, Any]:
    """The case as ``reference.list_cases`` gives it, when the user may see it; W011 otherwise (no hint which)."""
    archive = current_archive()
    user = current_user()
    assert user is not None
    for case in queries.visible_cases(archive, user):
        if case["number"] == number:
            return case
    raise LongwatchError("W011", what=f"case {number}")


def _writable_case(number: str) -> dict[str, Any]:
    """The case the user may write in: any case for unscoped roles, only a shared one for scoped roles (W070)."""
    archive = current_archive()
    user = current_user()
    assert user is not None
    if user.is_scoped and not queries.may_see_case(archive, user, number):
        raise LongwatchError("W070", number=number)
    for case in reference.list_cases(archive.catalog):
        if case["number"] == number:
            return case
    raise LongwatchError("W011", what=f"case {number}")


@bp.get("/cases")
@requires("catalog:read")
def listing() -> Any:
    return _render_list({}, {})


def _render_list(typed: dict[str, str], errors: dict[str, LongwatchError]) -> Any:
    archive = current_archive()
    user = current_user()
    assert user is not None
    body = render_template("cases.html", cases=queries.visible_cases(archive, user), typed=typed, errors=errors,
                           tz=archive.settings.tz)
    return (body, 400) if errors else body


@bp.post("/cases")
@requires("requests:write")
def create() -> Any:
    typed = {k: request.form.get(k, "").strip() for k in ("number", "title", "requester")}
    archive = current_archive()
    try:
        if not typed["number"]:
            raise LongwatchError("W012", name="number", detail="a case number is needed")
        reference.add_case(archive.catalog, typed["number"], typed["title"], typed["requester"])
    except LongwatchError as exc:
        return _render_list(typed, _errors(exc))
    reference.save_snapshot(archive)
    return redirect(url_for("cases.case_page", number=typed["number"]))


@bp.get("/cases/<number>")
@requires("catalog:read")
def case_page(number: str) -> Any:
    return _render_case(number, {}, {})


def _notes(text: str) -> list[dict[str, str]]:
    out = []
    for line in text.splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3:
            out.append({"at": parts[0], "author": parts[1], "text": parts[2]})
    return out


def _render_case(number: str, typed: dict[str, str], errors: dict[str, LongwatchError]) -> Any:
    archive = current_archive()
    user = current_user()
    assert user is not None
    case = _visible_case(number)
    ids = queries.visible_package_ids(archive, user, case["packages"])
    rows: list[dict[str, Any]] = []
    for pid in ids:
        try:
            row = archive.catalog.get(pid)
        except LongwatchError:
            row = None
        if row is not None:
            rows.append({"package": row, "held": bool(holds.holds_on(archive, pid)),
                         "destroyed": queries.is_destroyed(row)})
    rows.sort(key=lambda r: (r["package"].start_utc is None, r["package"].start_utc or 0))
    users = [u.username for u in accounts.users(archive.catalog)] if user.can("records:write") else []
    body = render_template("case.html", case=case, rows=rows, notes=_notes(case["notes"]), typed=typed,
                           errors=errors, users=users, tz=archive.settings.tz,
                           may_write=not user.is_scoped or user.username in case["members"])
    return (body, 400) if errors else body


def _attached_event(number: str, new: list[str]) -> None:
    """A package newly attached to a case is a metadata change: one custody event per 1,000 packages."""
    archive = current_archive()
    user = current_user()
    assert user is not None
    agents = [custody.software_agent(), custody.person_agent(user.username)]
    events = [custody.CustodyEvent("metadata modification", packages=new[i:i + 1000], agents=agents,
                                   detail=f"attached to case {number}", extra={"case": number})
              for i in range(0, len(new), 1000)]
    if events:
        custody.Ledger.for_archive(archive).append(events)


@bp.post("/cases/attach")
@requires("inquiry:write")
def attach_chosen() -> Any:
    """The search page's "add to a case": the case is chosen in the form, the packages ticked in the results."""
    number = request.form.get("number", "").strip()
    if not number:
        return _render_list({}, {FORM: LongwatchError("W012", name="number", detail="choose a case")})
    return add_packages(number)


@bp.post("/cases/<number>/packages")
@requires("inquiry:write")
def add_packages(number: str) -> Any:
    """Attach packages the user may see (ids or unique prefixes, separated by spaces, commas or lines)."""
    archive = current_archive()
    user = current_user()
    assert user is not None
    case = _writable_case(number)
    typed = {"package": " ".join([request.form.get("package", ""), *request.form.getlist("chosen")]).strip()}
    try:
        wanted = [p for p in typed["package"].replace(",", " ").split() if p]
        if not wanted:
            raise LongwatchError("W012", name="package", detail="give one package id or more")
        ids = []
        for value in wanted[:1000]:
            matches = archive.catalog.resolve(value)
            if len(matches) != 1:
                raise LongwatchError("E001", package_id=value[:40])
            row = queries.visible_package(archive, user, matches[0])  # W011 for a package they may not see
            if queries.is_destroyed(row):
                raise LongwatchError("W072", package_id=row.id)
            ids.append(row.id)
        reference.attach_packages(archive.catalog, number, ids)
    except LongwatchError as exc:
        return _render_case(number, typed, _errors(exc))
    reference.save_snapshot(archive)
    _attached_event(number, sorted(set(ids) - set(case["packages"])))
    return redirect(url_for("cases.case_page", number=number))


@bp.post("/cases/<number>/ranges")
@requires("requests:write")
def add_range(number: str) -> Any:
    """Record a camera's time range (times on the archive's clock) and attach every package overlapping it."""
    archive = current_archive()
    case = _writable_case(number)
    typed = {k: request.form.get(k, "").strip() for k in ("start", "end", "camera")}
    try:
        start = local_time("start", typed["start"], archive.settings.tz)
        end = local_time("end", typed["end"], archive.settings.tz)
        if start is None or end is None:
            raise LongwatchError("W012", name="start" if start is None else "end", detail="a time is needed")
        reference.attach_range(archive.catalog, number, start, end, typed["camera"][:64])
    except LongwatchError as exc:
        return _render_case(number, typed, _errors(exc))
    reference.save_snapshot(archive)
    after = _visible_case(number)["packages"]
    _attached_event(number, sorted(set(after) - set(case["packages"])))
    return redirect(url_for("cases.case_page", number=number))


@bp.post("/cases/<number>/notes")
@requires("inquiry:write")
def add_note(number: str) -> Any:
    archive = current_archive()
    user = current_user()
    assert user is not None
    _writable_case(number)
    typed = {"note": request.form.get("note", "")}
    try:
        reference.add_case_note(archive.catalog, number, user.username, typed["note"][:4000])
    except LongwatchError as exc:
        return _render_case(number, typed, _errors(exc))
    return redirect(url_for("cases.case_page", number=number))


@bp.post("/cases/<number>/hold")
@requires("inquiry:write")
def hold(number: str) -> Any:
    """A legal hold on every package of the case the user may see and no hold covers yet, one per package.

    Package holds, not a hold of kind "case": that kind covers the packages whose retention facts name the
    case, which a package attached here need not have. A package attached later is held by holding again.
    """
    archive = current_archive()
    user = current_user()
    assert user is not None
    case = _writable_case(number)
    typed = {k: request.form.get(k, "").strip() for k in ("owner", "reason", "review")}
    try:
        review = local_time("review", typed["review"], archive.settings.tz)
        if not typed["reason"]:
            raise LongwatchError("W012", name="reason", detail="say why the footage is held")
        owner = typed["owner"] or f"case {number}"
        for pid in queries.visible_package_ids(archive, user, case["packages"]):
            row = archive.catalog.get(pid)
            if row is None or queries.is_destroyed(row) or holds.holds_on(archive, pid):
                continue
            holds.place_hold(archive, actor_of(user), owner=owner[:200], reason=f"case {number}: {typed['reason']}",
                             review_at=review, package_id=pid)
    except LongwatchError as exc:
        return _render_case(number, typed, _errors(exc))
    return redirect(url_for("cases.case_page", number=number))


@bp.post("/cases/<number>/members")
@requires("records:write")
def share(number: str) -> Any:
    """Share the case with a named account, or stop sharing it (``action=unshare``)."""
    archive = current_archive()
    user = current_user()
    assert user is not None
    _writable_case(number)
    typed = {"username": request.form.get("username", "").strip()}
    try:
        if typed["username"] not in {u.username for u in accounts.users(archive.catalog)}:
            raise LongwatchError("W007", username=typed["username"][:64])
        if request.form.get("action") == "unshare":
            reference.unshare_case(archive.catalog, number, typed["username"])
        else:
            reference.share_case(archive.catalog, number, typed["username"], granted_by=user.username)
    except LongwatchError as exc:
        return _render_case(number, typed, _errors(exc))
    reference.save_snapshot(archive)
    return redirect(url_for("cases.case_page", number=number))


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
