"""Built-in web plugin: sign in and out, and the user's own settings: language, password, API tokens.

A new token's secret is shown once, on the page the creating POST answers
(never in a URL or a redirect), and is never stored; the list shows names and
dates only. Password and token changes are lines of the accounts' audit trail.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from longwatch import clock, i18n
from longwatch.core import accounts
from longwatch.errors import LongwatchError
from longwatch.web import current_archive
from longwatch.web.forms import errors_for
from longwatch.web.numbers import is_whole
from longwatch.web.security import SEEN_KEY, SESSION_KEY, client_address, current_user, public, requires

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if not target:
        return url_for("packages.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("packages.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    error = None
    status = 200
    if request.method == "POST":
        try:
            account = accounts.authenticate(current_archive().catalog, request.form.get("username", "")[:64],
                                            request.form.get("password", "")[:1024], client_address())
        except LongwatchError as exc:
            error, status = exc, (429 if exc.code == "W002" else 401)
        else:
            lang = session.get("lang")
            session.clear()  # a new session id after sign-in (no fixation)
            if lang:
                session["lang"] = lang
            session[SESSION_KEY] = accounts.open_session(current_archive().catalog, account, client_address())
            session[SEEN_KEY] = int(clock.now().timestamp())
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error), status


@bp.post("/logout")
@requires("self")
def logout() -> Response:
    secret = session.get(SESSION_KEY)
    if isinstance(secret, str):
        accounts.close_session(current_archive().catalog, secret)
    session.clear()
    return redirect(url_for("auth.login"))


def _profile(status: int = 200, errors: dict[str, LongwatchError] | None = None,
             values: dict[str, str] | None = None, new_token: str = "") -> tuple[str, int]:
    user = current_user()
    assert user is not None
    archive = current_archive()
    return render_template("profile.html", user=user, roles=accounts.ROLES,
                           tokens=accounts.tokens(archive.catalog, user.username), now=clock.now(),
                           errors=errors or {}, values=values or {}, new_token=new_token,
                           token_days=accounts.TOKEN_DAYS, max_days=accounts.MAX_TOKEN_DAYS,
                           tz=archive.settings.tz), status


@bp.route("/me", methods=["GET", "POST"])
@requires("self")
def profile() -> Any:
    user = current_user()
    assert user is not None
    if request.method == "POST":
        lang = i18n.normalize(request.form.get("language")) or ""
        accounts.set_language(current_archive().catalog, user.id, lang)
        session["lang"] = lang or session.get("lang")
        return redirect(url_for("auth.profile"))
    return _profile()


PASSWORD_FIELDS = ("current_password", "new_password", "confirm_password")
TOKEN_FIELDS = ("token_name", "days")


@bp.post("/me/password")
@requires("self")
def change_password() -> Any:
    """The user's own password; it signs every session out, this one included, so sign-in follows."""
    user = current_user()
    assert user is not None
    try:
        accounts.change_own_password(current_archive().catalog, user.username,
                                     request.form.get("current_password", "")[:1024],
                                     request.form.get("new_password", "")[:1024],
                                     request.form.get("confirm_password", "")[:1024])
    except LongwatchError as exc:  # never a password typed back into the form
        return _profile(400, errors_for(exc, PASSWORD_FIELDS))
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/me/tokens")
@requires("self")
def create_token() -> Any:
    user = current_user()
    assert user is not None
    name = request.form.get("token_name", "").strip()[:100]
    text = request.form.get("days", "").strip() or str(accounts.TOKEN_DAYS)
    values = {"token_name": name, "days": text}
    try:
        if not is_whole(text, accounts.MAX_TOKEN_DAYS) or int(text) < 1:
            raise LongwatchError("W083", days=text[:20], maximum=accounts.MAX_TOKEN_DAYS)
        secret = accounts.create_token(current_archive().catalog, user.username, name, int(text), by=user.username)
    except LongwatchError as exc:
        return _profile(400, errors_for(exc, TOKEN_FIELDS), values)
    return _profile(201, new_token=secret)


@bp.post("/me/tokens/revoke")
@requires("self")
def revoke_token() -> Any:
    user = current_user()
    assert user is not None
    text = request.form.get("token_id", "").strip()
    try:
        accounts.revoke_token_id(current_archive().catalog, user.username, int(text) if is_whole(text) else 0,
                                 by=user.username)
    except LongwatchError as exc:
        return _profile(404 if exc.code == "W084" else 400, errors_for(exc, ("tokens",)))
    return redirect(url_for("auth.profile"))


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
