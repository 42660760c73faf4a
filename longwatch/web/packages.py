"""Built-in web plugin: the package list (the full UI grows in its own issue)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, render_template

from longwatch.hookspecs import hookimpl

bp = Blueprint("packages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/longwatch")


@bp.get("/")
def index() -> str:
    from longwatch.web import current_archive

    archive = current_archive()
    rows = archive.catalog.packages(limit=200)
    return render_template("packages.html", archive=archive, packages=rows, tz=archive.settings.tz)


@bp.get("/api/v1/packages")
def api_packages() -> Any:
    from longwatch.cli import _package_dict
    from longwatch.web import current_archive

    return jsonify({"packages": [_package_dict(p) for p in current_archive().catalog.packages(limit=200)]})


@bp.get("/api/v1/packages/<package_id>")
def api_package(package_id: str) -> Any:
    from longwatch.cli import _package_dict
    from longwatch.web import current_archive

    row = current_archive().catalog.get(package_id)
    if row is None:
        abort(404)
    return jsonify(_package_dict(row))


@hookimpl
def register_blueprints(app: Any) -> list[Blueprint]:
    return [bp]
