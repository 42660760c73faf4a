"""HTML to PDF/A: the one module that imports WeasyPrint.

A public body files its destruction certificates, its CCTV operation register
and the reports it hands over; an archival office accepts PDF/A. So each
document is the HTML the archive already writes, laid out by WeasyPrint as
PDF/A-3u (every character mapped to Unicode, fonts embedded, an sRGB output
intent, XMP that names the conformance; part 3 because a certificate carries
its signed JSON record inside) with a tagged structure (headings, tables and
paragraphs a screen reader can follow), page numbers, the document's language
and its title shown as the window title. The Korean font is found through
fontconfig (``fonts.py``) and embedded as a subset; a character no font
covers stops the document (U020) instead of filing boxes.

Nothing is fetched while rendering: the fetcher refuses every URL, so a
document never depends on, or leaks to, the network. The PDF's dates come
from the document (``created``), so the same content renders the same bytes.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from longwatch import clock
from longwatch.core.documents import fonts
from longwatch.errors import LongwatchError

#: PDF/A-3 level U; WeasyPrint adds the tags (pdf_tags) on request.
VARIANT = "pdf/a-3u"
PRODUCER = "longwatch"
#: the output intent's name: an sRGB profile, the colour space every page is drawn in
OUTPUT_INTENT = "longwatch-srgb"

#: Identifiers (code, digests) never wrap: a package id or a SHA-256 split at a hyphen cannot be compared.
PAGE_CSS = """
@page {{ size: A4 {orientation}; margin: 14mm 12mm 16mm 12mm;
  @bottom-center {{ content: counter(page) " / " counter(pages); font-family: {family}; font-size: 8pt; }} }}
html, body {{ font-family: {family} !important; }}
body {{ margin: 0 !important; font-size: 9pt; line-height: 1.35; }}
h1 {{ font-size: 15pt; margin: 0 0 6pt; }}
h2 {{ font-size: 11.5pt; margin: 10pt 0 4pt; break-after: avoid; }}
table {{ border-collapse: collapse; margin: 4pt 0; }}
th, td {{ border: 0.5pt solid #777; padding: 2pt 4pt; vertical-align: top; text-align: left;
          overflow-wrap: anywhere; font-size: 8pt; }}
th {{ background: #e1e6ee; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; }}
code, .sha {{ font-family: "DejaVu Sans Mono", monospace, {family}; font-size: 7pt; white-space: nowrap; }}
"""


@dataclass(frozen=True)
class Attachment:
    """A file carried inside the PDF (PDF/A-3 allows any), e.g. the signed record the page shows."""

    name: str
    data: bytes
    description: str = ""
    relationship: str = "Source"


def load() -> Any:
    """The WeasyPrint module; U021 when it or the Pango library under it does not load."""
    # Deferred: WeasyPrint loads Pango and fontconfig, a second's work that only a document needs.
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango library is not installed
        raise LongwatchError("U021", detail=str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    return weasyprint


def _srgb_profile(weasyprint: Any) -> Any:
    """WeasyPrint's own sRGB profile for the output intent, read whole: its ``srgb`` shortcut leaves the profile's
    file open for the garbage collector, one handle per document."""
    from weasyprint.css import ColorProfile

    data = (resources.files(weasyprint) / "pdf" / "sRGB2014.icc").read_bytes()
    return ColorProfile(io.BytesIO(data), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"]))


def _css_family(font: fonts.Font) -> str:
    stack = [font.family, *(f for f in fonts.PREFERRED if f != font.family)]
    return ", ".join('"' + f.replace('"', "") + '"' for f in stack) + ", sans-serif"


def render(html: str, *, title: str, lang: str, created: datetime | None = None, landscape: bool = False,
           attachments: Sequence[Attachment] = (), document: str = "PDF", missing_code: str = "U020") -> bytes:
    """The PDF/A of ``html``: ``title`` and ``lang`` (BCP 47, e.g. ``ko``) become the PDF's title and language.

    ``created`` (default: now) dates the PDF and its attachments; ``document``
    names it in errors. U020 when no installed font covers a character.
    """
    weasyprint = load()
    font = fonts.korean_font(missing_code, document)
    family = _css_family(font)
    when = (created or clock.now()).astimezone(UTC).replace(microsecond=0)
    stamp = when.isoformat().replace("+00:00", "Z")
    refuse_all = weasyprint.URLFetcher(allowed_protocols=())
    css = weasyprint.CSS(string=PAGE_CSS.format(orientation="landscape" if landscape else "portrait",
                                                family=family), url_fetcher=refuse_all)
    rendered = weasyprint.HTML(string=html, url_fetcher=refuse_all).render(stylesheets=[css],
                                                                            output_intent=OUTPUT_INTENT)
    rendered.color_profiles[OUTPUT_INTENT] = _srgb_profile(weasyprint)
    meta = rendered.metadata
    meta.title, meta.lang, meta.created, meta.modified, meta.generator = title, lang, stamp, stamp, PRODUCER
    meta.attachments = [
        weasyprint.Attachment(string=a.data, name=a.name, description=a.description or a.name,
                              created=when, modified=when, relationship=a.relationship, url_fetcher=refuse_all)
        for a in attachments]
    identifier = hashlib.sha256(html.encode("utf-8") + title.encode("utf-8")).digest()[:16]
    data = rendered.write_pdf(pdf_variant=VARIANT, pdf_tags=True, pdf_identifier=identifier,
                              output_intent=OUTPUT_INTENT)
    missing = sorted({chr(c) for f in rendered.fonts.values() for c in getattr(f, "missing", {})})
    if missing:
        raise LongwatchError("U020", document=document, detail="no installed font has " + "".join(missing[:20]),
                             package=fonts.INSTALL_HINT)
    return bytes(data)
