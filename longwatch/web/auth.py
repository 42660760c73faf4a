"""Built-in web plugin: sign in and out, and the user's own settings (language)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from longwatch import clock, i18n
from longwatch.core import accounts
from longwatch.errors import LongwatchError
from longwatch.web import current_archive
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
    return render_template("profile.html", user=user, roles=accounts.ROLES)


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
