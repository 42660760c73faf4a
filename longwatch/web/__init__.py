"""The web application: a Flask factory; blueprints come from plugins (built-ins included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g, request

from longwatch import i18n
from longwatch.core.archive import Archive

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                               "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(archive_root: str | Path | None = None, config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(config or {})
    archive = Archive.open(archive_root)
    app.extensions["longwatch"] = archive

    @app.before_request
    def choose_language() -> None:
        lang = request.args.get("lang") or request.accept_languages.best_match(i18n.SUPPORTED)
        g.lang = i18n.normalize(lang) or archive.settings.language or "en"
        i18n.set_language(g.lang)

    @app.after_request
    def secure(response: Any) -> Any:
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    app.jinja_env.globals.update(_=i18n.gettext)
    for blueprints in archive.pm.hook.register_blueprints(app=app):
        for blueprint in blueprints or ():
            app.register_blueprint(blueprint)
    return app


def current_archive() -> Archive:
    from flask import current_app

    archive: Archive = current_app.extensions["longwatch"]
    return archive


def serve(archive_root: Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 2) -> None:
    """Run gunicorn in this process (a production WSGI server, not Flask's development one)."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")

        def load(self) -> Flask:
            return create_app(archive_root)

    _App().run()
