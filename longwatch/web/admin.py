"""Built-in web plugin: accounts and roles, for administrators (auditors may look), with their audit trail.

Every change made here names the administrator who made it
(``core.accounts.changes``, journaled to the custody ledger), and the core
refuses to demote or disable the last active administrator (W080), so the
page cannot lock everyone out of account management.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from longwatch.core import accounts
from longwatch.errors import LongwatchError
from longwatch.web import current_archive
from longwatch.web.forms import errors_for
from longwatch.web.security import current_user, requires

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(error: LongwatchError | None = None, status: int = 200,
          errors: dict[str, LongwatchError] | None = None, values: dict[str, str] | None = None,
          row_errors: dict[str, LongwatchError] | None = None) -> tuple[str, int]:
    user = current_user()
    assert user is not None
    archive = current_archive()
    return render_template("users.html", users=accounts.users(archive.catalog), roles=accounts.ROLES,
                           error=error, can_write=user.can("users:write"), errors=errors or {},
                           values=values or {}, row_errors=row_errors or {},
                           changes=accounts.changes(archive.catalog), change_labels=accounts.CHANGES,
                           tz=archive.settings.tz), status


@bp.get("/users")
@requires("users:read")
def users() -> tuple[str, int]:
    return _page()


@bp.post("/users")
@requires("users:write")
def add_user() -> Any:
    admin = current_user()
    assert admin is not None
    try:
        accounts.add_user(current_archive().catalog, request.form.get("username", "").strip(),
                          request.form.get("password", ""), request.form.get("role", ""), by=admin.username)
    except LongwatchError as exc:  # the form again, with what was typed (never the password) and the error
        errors = errors_for(exc, ("username", "password", "role"))
        return _page(None, 400, errors, {"username": request.form.get("username", ""),
                                         "role": request.form.get("role", "")})
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>")
@requires("users:write")
def change_user(username: str) -> Any:
    """Role and enabled state of one account; a refusal is shown on that account's row."""
    admin = current_user()
    assert admin is not None
    catalog = current_archive().catalog
    try:
        if request.form.get("role"):
            accounts.set_role(catalog, username, request.form["role"], by=admin.username)
        if request.form.get("active") in ("0", "1"):
            accounts.set_active(catalog, username, request.form["active"] == "1", by=admin.username)
    except LongwatchError as exc:
        if exc.code == "W007":
            return _page(exc, 404)
        return _page(None, 409 if exc.code == "W080" else 400, row_errors={username: exc})
    return redirect(url_for("admin.users"))


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
