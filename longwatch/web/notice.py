"""Built-in web plugin: the public CCTV notice (no sign-in) and its editor for administrators.

The notice is written in Markdown and shown as formatted text (:mod:`longwatch.web.markdown`); the
purposes of the cameras by zone are named in the reader's language."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from longwatch.core.public import notice as notice_api
from longwatch.web import current_archive, markdown, numbers
from longwatch.web.security import current_user, public, requires

bp = Blueprint("notice", __name__)


@bp.get("/notice")
@public
def page() -> str:
    archive = current_archive()
    version = request.args.get("version", "")
    shown = notice_api.get(archive, int(version)) if numbers.is_whole(version) else notice_api.current(archive)
    published = [v for v in notice_api.versions(archive) if v.published_at]
    return render_template("public/notice.html", notice=shown, published=published,
                           body=markdown.to_html(shown.body) if shown is not None else "",
                           zones=notice_api.cameras_by_zone(archive, g.lang), tz=archive.settings.tz,
                           organization=archive.settings.organization,
                           retention=(notice_api.retention_summary(archive, g.lang).splitlines()
                                      if shown is None or not numbers.is_whole(version) else []))


@bp.route("/notice/edit", methods=["GET", "POST"])
@requires("notice:write")
def edit() -> Any:
    archive = current_archive()
    if request.method == "POST":
        user = current_user()
        row = notice_api.draft(archive, request.form.get("title", ""), request.form.get("body", ""),
                               user.username if user else "")
        if request.form.get("publish"):
            notice_api.publish(archive, row.version)
        return redirect(url_for("notice.edit"))
    versions = notice_api.versions(archive)
    latest = versions[0] if versions else None
    body = latest.body if latest else notice_api.template(archive)
    return render_template("public/notice_edit.html", versions=versions, latest=latest, body=body,
                           tz=archive.settings.tz)


@bp.post("/notice/publish")
@requires("notice:write")
def publish() -> Response:
    version = request.form.get("version", "")
    notice_api.publish(current_archive(), int(version) if numbers.is_whole(version) else -1)
    return redirect(url_for("notice.edit"))


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
