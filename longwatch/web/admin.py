"""Built-in web plugin: accounts and roles, for administrators (auditors may look)."""

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
          errors: dict[str, LongwatchError] | None = None, values: dict[str, str] | None = None) -> tuple[str, int]:
    user = current_user()
    assert user is not None
    return render_template("users.html", users=accounts.users(current_archive().catalog), roles=accounts.ROLES,
                           error=error, can_write=user.can("users:write"), errors=errors or {},
                           values=values or {}), status


@bp.get("/users")
@requires("users:read")
def users() -> tuple[str, int]:
    return _page()


@bp.post("/users")
@requires("users:write")
def add_user() -> Any:
    try:
        accounts.add_user(current_archive().catalog, request.form.get("username", "").strip(),
                          request.form.get("password", ""), request.form.get("role", ""))
    except LongwatchError as exc:  # the form again, with what was typed (never the password) and the error
        errors = errors_for(exc, ("username", "password", "role"))
        return _page(None, 400, errors, {"username": request.form.get("username", ""),
                                         "role": request.form.get("role", "")})
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>")
@requires("users:write")
def change_user(username: str) -> Any:
    catalog = current_archive().catalog
    try:
        if request.form.get("role"):
            accounts.set_role(catalog, username, request.form["role"])
        if request.form.get("active") in ("0", "1"):
            accounts.set_active(catalog, username, request.form["active"] == "1")
    except LongwatchError as exc:
        return _page(exc, 404 if exc.code == "W007" else 400)
    return redirect(url_for("admin.users"))


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
