"""Built-in web plugin: the CCTV operation register, with filters, CSV and PDF for the annual inspection."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

from longwatch.clock import parse_time
from longwatch.core.public import operation_register as register_api
from longwatch.i18n import gettext
from longwatch.web import current_archive
from longwatch.web.security import requires

bp = Blueprint("register", __name__)


def _rows() -> tuple[list[register_api.Row], dict[str, Any]]:
    args = request.args
    start, end = args.get("start", "").strip(), args.get("end", "").strip()
    categories = [c for c in args.getlist("category") if c in register_api.CATEGORIES]
    text = args.get("q", "")
    filters = {"start": start, "end": end, "category": categories, "q": text}
    rows = register_api.build(current_archive(), start=parse_time(start) if start else None,
                              end=parse_time(end) if end else None, categories=categories, text=text)
    return rows, filters


@bp.get("/register")
@requires("register:read")
def page() -> str:
    rows, filters = _rows()
    return render_template("public/register.html", rows=rows, f=filters, tz=current_archive().settings.tz,
                           categories=register_api.CATEGORIES)


@bp.get("/register.csv")
@requires("register:read")
def csv_file() -> Response:
    rows, _f = _rows()
    return Response(register_api.to_csv(rows, current_archive().settings.tz), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="cctv-register.csv"'})


@bp.get("/register.pdf")
@requires("register:read")
def pdf_file() -> Response:
    rows, _f = _rows()
    archive = current_archive()
    data = register_api.to_pdf(rows, archive.settings.tz, gettext("CCTV operation register"),
                               archive.settings.organization)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="cctv-register.pdf"'})


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
