"""The web application: a Flask factory; blueprints come from plugins (built-ins included).

Pages are rendered on the server (Jinja) and work without scripts except the
player and the upload page; every asset is served from here (no CDN). Every
request is authenticated (session cookie or bearer token) before its view
runs, every unsafe browser request carries a CSRF token, and every response
carries the security headers below.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from longwatch import i18n
from longwatch.core.archive import Archive
from longwatch.errors import LongwatchError
from longwatch.web import health, maps, navigation, numbers, security
from longwatch.web.security import current_archive as current_archive  # for the pages and page plugins

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                               "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

#: HTTP status per W code (other codes: 400 for bad input, 500 for the rest).
STATUS = {
    "W001": 401, "W002": 429, "W008": 401, "W009": 403, "W010": 403, "W011": 404, "W013": 412,
    "W014": 409, "W015": 460, "W016": 413, "W017": 422, "W018": 404, "W020": 416, "W023": 422,
    "W040": 403, "W041": 410, "W042": 409, "W050": 403, "W051": 503, "W052": 503, "W053": 503, "W070": 403, "W071": 409,
    "W072": 410, "W080": 409, "W084": 404, "W090": 403, "W094": 409, "W095": 404,
    "I006": 409, "I008": 404, "S001": 507, "S021": 507,
    # things the REST API looks up by name: not found is 404 (a disposition, hold, case, request, event, entry)
    "H007": 404, "H008": 404, "Q010": 404, "U001": 404, "D015": 404, "L017": 404, "E021": 404, "Q011": 409,
}


def status_for(error: LongwatchError) -> int:
    if error.code in STATUS:
        return STATUS[error.code]
    return 500 if error.code[0] in "AKSPT" else 400


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


#: Bytes of randomness in the session key; a shorter key file is refused, never used.
SECRET_KEY_BYTES = 32


def _secret_key(root: Path) -> bytes:
    """One key per archive, shared by every web process; created once, readable by its owner only.

    Why a link: processes starting together on a fresh archive race to make the key. The key is written
    and synced under a temporary name and then linked into place, which fails if another process got
    there first; so no process ever reads a key that is still being written (an empty key once made a
    second web process refuse every session the first one signed).
    """
    path = Path(root) / "web-secret.key"
    if not path.exists():
        fd, temporary = tempfile.mkstemp(prefix=".web-secret.", dir=path.parent)  # 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(os.urandom(SECRET_KEY_BYTES))
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    key = path.read_bytes()
    if len(key) < SECRET_KEY_BYTES:
        raise LongwatchError("K014", path=str(path), size=len(key), needed=SECRET_KEY_BYTES)
    return key


class _SessionInterface(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over https (directly, or through a trusted
    proxy's X-Forwarded-Proto), so one configuration serves both a loopback test and the public site."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def create_app(archive_root: str | Path | None = None, config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    archive = Archive.open(archive_root)
    app.extensions["longwatch"] = archive
    archive.open_catalog()  # upgraded when behind (Catalog.ensure_current): one query when current
    app.config.update(
        SECRET_KEY=_secret_key(archive.root),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="longwatch_session",
        MAX_CONTENT_LENGTH=None,
        LONGWATCH_UPLOAD_DIR=str(archive.root / "tmp" / "uploads"),  # this machine's chunks in flight only
        LONGWATCH_UPLOAD_MAX=1 << 44,  # 16 TiB
        LONGWATCH_UPLOAD_EXPIRY_HOURS=24,
        LONGWATCH_UPLOAD_CHUNK=8 << 20,  # what the browser sends per PATCH
        LONGWATCH_PAGE_SIZE=50,
        #: dashboard panels other features add: callables (archive, user) -> (title, template, context) | None
        LONGWATCH_DASHBOARD_PANELS=[],
        #: the main navigation's pages: (endpoint, label msgid); each is shown to the roles its view allows
        LONGWATCH_NAVIGATION=list(navigation.PAGES),
    )
    app.config.update(config or {})
    app.session_interface = _SessionInterface()
    if archive.settings.trusted_proxies:  # believe X-Forwarded-For/Proto/Host/Port of that many proxies only
        n = archive.settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]

    @app.before_request
    def authenticate() -> None:
        if request.path in health.NO_ARCHIVE:
            return
        security.load_user()
        asked = request.args.get("lang")
        if asked and i18n.normalize(asked):
            session["lang"] = i18n.normalize(asked)
        user = security.current_user()
        lang = ((user.language if user else None) or session.get("lang")
                or request.accept_languages.best_match(i18n.SUPPORTED))
        g.lang = i18n.normalize(lang) or i18n.normalize(archive.settings.language) or "en"
        i18n.set_language(g.lang)
        security.check_csrf()

    headers = {**SECURITY_HEADERS,  # the operator's tile server, if on another host, may send map images
               "Content-Security-Policy": maps.csp(SECURITY_HEADERS["Content-Security-Policy"], archive.settings)}

    @app.after_request
    def secure(response: Any) -> Any:
        for key, value in headers.items():
            response.headers.setdefault(key, value)
        if security.current_user() is not None or request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        response.vary.add("Accept-Language")
        return response

    @app.errorhandler(LongwatchError)
    def coded_error(error: LongwatchError) -> Any:
        status = status_for(error)
        if wants_json():
            response = jsonify({"error": error.to_dict()})
            response.status_code = status
        else:
            if error.code == "W008":
                from flask import redirect, url_for

                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            response = app.make_response((render_template("error.html", error=error, status=status), status))
        if error.code == "W008":
            response.headers["WWW-Authenticate"] = 'Bearer realm="longwatch"'
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        if error.code == 404:
            coded = LongwatchError("W011", what=request.path)
        else:
            coded = LongwatchError("W021", detail=f"{error.code} {error.name}")
        response = coded_error(coded)
        response.status_code = error.code or 400
        if error.code == 405:
            valid = getattr(error, "valid_methods", None)
            if valid:
                response.headers["Allow"] = ", ".join(valid)
        return response

    app.jinja_env.globals.update(
        _=i18n.gettext, ngettext=i18n.ngettext, pgettext=i18n.pgettext,
        csrf_token=security.csrf_token, current_user=security.current_user, nav_links=navigation.links,
    )
    app.jinja_env.filters.update(when=i18n.format_datetime, number=i18n.format_number, day=i18n.format_date)
    app.url_map.converters["int"] = numbers.WholeNumberConverter  # before any rule: '١٢٣' or 40 digits are 400
    for blueprints in archive.pm.hook.register_blueprints(app=app):
        for blueprint in blueprints or ():
            app.register_blueprint(blueprint)
    return app


def serve(archive_root: Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 2,
          threads: int = 8) -> None:
    """Run gunicorn in this process (longwatch.web.server: threads, timeouts, logs without secrets)."""
    from longwatch.web import server

    server.run(archive_root, host=host, port=port, workers=workers, threads=threads)
