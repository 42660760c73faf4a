"""Built-in web plugin: urban-planning analytics as bar charts the project draws itself.

SVG is written here (no chart library, nothing from a CDN); each bar is a link to the footage it
was counted from. PNG is drawn with the standard library (zlib) from the same figures, so no
image library is needed on the server. CSV carries every figure and its packages.
"""

from __future__ import annotations

import csv
import io
import struct
import zlib
from typing import Any
from xml.sax.saxutils import escape

from flask import Blueprint, Response, render_template, request, url_for

from longwatch.clock import parse_time
from longwatch.core.public import analytics as an
from longwatch.core.public import notice
from longwatch.i18n import N_, gettext
from longwatch.web import current_archive
from longwatch.web.security import requires

bp = Blueprint("analytics", __name__)
COLOURS = {"person": (0x1f, 0x6f, 0xb4), "vehicle": (0xd9, 0x7a, 0x1e), "other": (0x6b, 0x8e, 0x23)}
WEEKDAYS = ("", N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
#: labels shown through gettext at run time
LABELS = (N_("person"), N_("vehicle"), N_("other"), N_("hour of day"), N_("weekday"), N_("month"),
          N_("event counts"))


def _params() -> dict[str, Any]:
    args = request.args
    start, end = args.get("start", "").strip(), args.get("end", "").strip()
    return {"grouping": args.get("grouping", "hour"), "by": args.get("by", "camera"),
            "start": start, "end": end, "camera": args.get("camera", "").strip(), "zone": args.get("zone", "")}


def _figures(p: dict[str, Any], links: bool = False) -> list[an.Figure]:
    """Charts link a bar by its camera and time span; only the CSV lists every figure's packages."""
    return an.counts(current_archive(), grouping=p["grouping"], by=p["by"],
                     start=parse_time(p["start"]) if p["start"] else None,
                     end=parse_time(p["end"]) if p["end"] else None,
                     cameras=[p["camera"]] if p["camera"] else None, zone=p["zone"], links=links)


def _label(bucket: str, grouping: str) -> str:
    return gettext(WEEKDAYS[int(bucket)]) if grouping == "weekday" else bucket


def _buckets(grouping: str, figures: list[an.Figure]) -> list[str]:
    if grouping == "hour":
        return [f"{h:02d}" for h in range(24)]
    if grouping == "weekday":
        return [str(d) for d in range(1, 8)]
    return sorted({f.bucket for f in figures})


def footage_link(fig: an.Figure, by: str) -> str:
    """The packages list narrowed to the figure's camera and time span (its packages are in the CSV)."""
    args: dict[str, Any] = {}
    if by == "camera" and fig.group:
        args["camera"] = fig.group
    if fig.first and fig.last:
        args["start"] = fig.first.isoformat()
        args["end"] = fig.last.isoformat()
    return url_for("packages.package_list", **args)


def stacks(figures: list[an.Figure], grouping: str) -> list[tuple[str, list[tuple[str, int, list[an.Figure]]]]]:
    """bucket -> [(class, total over groups, figures)]."""
    by_cell: dict[tuple[str, str], list[an.Figure]] = {}
    for f in figures:  # one pass: a page over 200 cameras has ~15,000 figures
        by_cell.setdefault((f.bucket, f.cls), []).append(f)
    out = []
    for bucket in _buckets(grouping, figures):
        row = []
        for cls in an.CLASSES:
            figs = by_cell.get((bucket, cls), [])
            row.append((cls, sum(f.count for f in figs), figs))
        out.append((bucket, row))
    return out


def svg_chart(figures: list[an.Figure], grouping: str, by: str, width: int = 760, height: int = 300) -> str:
    data = stacks(figures, grouping)
    top = max([sum(n for _c, n, _f in row) for _b, row in data] or [0]) or 1
    left, bottom, plot_h = 40, 30, height - 50
    step = (width - left - 10) / max(len(data), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(gettext("event counts"))}" class="chart">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="#555"/>',
             f'<text x="{left - 4}" y="{height - bottom - plot_h + 10}" text-anchor="end" font-size="10">{top}</text>']
    for i, (bucket, row) in enumerate(data):
        x = left + i * step + 2
        y: float = height - bottom
        for cls, n, figs in row:
            if not n:
                continue
            h = n / top * plot_h
            y -= h
            colour = "#{:02x}{:02x}{:02x}".format(*COLOURS[cls])
            href = footage_link(figs[0], by) if len(figs) == 1 else footage_link(_merged(figs), by)
            title = f"{_label(bucket, grouping)} {gettext(cls)}: {n}"
            parts.append(f'<a href="{escape(href)}" class="bar" data-bucket="{bucket}" data-class="{cls}" '
                         f'data-count="{n}"><rect x="{x:.1f}" y="{y:.1f}" width="{max(step - 4, 1):.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>{escape(title)}</title></rect></a>')
        parts.append(f'<text x="{x + step / 2 - 2:.1f}" y="{height - bottom + 14}" font-size="10" '
                     f'text-anchor="middle">{escape(_label(bucket, grouping))}</text>')
    for j, cls in enumerate(an.CLASSES):
        colour = "#{:02x}{:02x}{:02x}".format(*COLOURS[cls])
        parts.append(f'<rect x="{left + j * 110}" y="4" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + j * 110 + 14}" y="13" font-size="11">{escape(gettext(cls))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _merged(figs: list[an.Figure]) -> an.Figure:
    firsts = [f.first for f in figs if f.first]
    lasts = [f.last for f in figs if f.last]
    groups = {f.group for f in figs}
    return an.Figure(group=groups.pop() if len(groups) == 1 else "", bucket=figs[0].bucket, cls=figs[0].cls,
                     first=min(firsts) if firsts else None, last=max(lasts) if lasts else None)


def png_chart(figures: list[an.Figure], grouping: str, width: int = 760, height: int = 300) -> bytes:
    """The same stacked bars as an RGB PNG (no text: the SVG and CSV carry the labels)."""
    data = stacks(figures, grouping)
    top = max([sum(n for _c, n, _f in row) for _b, row in data] or [0]) or 1
    pixels = [bytearray(b"\xff" * (width * 3)) for _ in range(height)]
    left, bottom, plot_h = 40, 30, height - 50
    step = (width - left - 10) / max(len(data), 1)
    for x in range(left, width - 5):
        pixels[height - bottom][x * 3:x * 3 + 3] = b"\x55\x55\x55"
    for i, (_bucket, row) in enumerate(data):
        x0 = int(left + i * step + 2)
        x1 = int(x0 + max(step - 4, 1))
        y = height - bottom
        for cls, n, _figs in row:
            if not n:
                continue
            h = round(n / top * plot_h)
            for yy in range(y - h, y):
                pixels[yy][x0 * 3:x1 * 3] = bytes(COLOURS[cls]) * (x1 - x0)
            y -= h
    raw = b"".join(b"\x00" + bytes(line) for line in pixels)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def figures_csv(figures: list[an.Figure]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["group", "bucket", "class", "count", "first", "last", "packages"])
    for f in figures:
        d = f.to_dict()
        writer.writerow([f.group, f.bucket, f.cls, f.count, d["first"] or "", d["last"] or "", " ".join(f.packages)])
    return "\ufeff" + buf.getvalue()


@bp.get("/analytics")
@requires("catalog:read")
def page() -> str:
    p = _params()
    figures = _figures(p)
    return render_template("public/analytics.html", p=p, svg=svg_chart(figures, p["grouping"], p["by"]),
                           totals=an.totals(figures), classes=an.CLASSES, figures=figures,
                           groupings=an.GROUPINGS, sample=notice.planning_sample_text(current_archive()),
                           label=lambda b: _label(b, p["grouping"]))


@bp.get("/analytics.svg")
@requires("catalog:read")
def svg() -> Response:
    p = _params()
    return Response(svg_chart(_figures(p), p["grouping"], p["by"]), mimetype="image/svg+xml")


@bp.get("/analytics.png")
@requires("catalog:read")
def png() -> Response:
    p = _params()
    return Response(png_chart(_figures(p), p["grouping"]), mimetype="image/png",
                    headers={"Content-Disposition": 'attachment; filename="analytics.png"'})


@bp.get("/analytics.csv")
@requires("catalog:read")
def csv_file() -> Response:
    return Response(figures_csv(_figures(_params(), links=True)), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="analytics.csv"'})


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
