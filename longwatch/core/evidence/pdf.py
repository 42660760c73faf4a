"""PDF documents with Korean text: the one module that imports fpdf2.

fpdf2 embeds (and subsets) an OpenType font, so the register printed for the annual inspection
shows Hangul on any reader. The font is Debian's fonts-noto-cjk (Noto Sans CJK, an OpenType
collection), found on the machine, never downloaded. The API is tiny on purpose so another
feature (evidence export) can share it: Document(title).heading/text/table, then output().
"""

from __future__ import annotations

import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

from longwatch.errors import LongwatchError

FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJKkr-Regular.otf"),
    Path("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
)
KOREAN_INDEX = 1  # in the collection: JP 0, KR 1, SC 2, TC 3, HK 4


def font_path(missing_code: str = "U011") -> Path:
    """The CJK font to embed; ``missing_code`` says whose document needed it (U011 register, E008 export)."""
    for path in FONT_CANDIDATES:
        if path.is_file():
            return path
    raise LongwatchError(missing_code, path=FONT_CANDIDATES[0])


class Document:
    """An A4 document with the Korean font loaded (parsing the font takes the most time, so make it early)."""

    def __init__(self, title: str, landscape: bool = True, missing_code: str = "U011") -> None:
        from fpdf import FPDF
        from fpdf.fonts import FontFace

        self._heading_style = FontFace(emphasis="", fill_color=(225, 230, 238))

        self._pdf = FPDF(orientation="L" if landscape else "P", unit="mm", format="A4")
        self._pdf.set_title(title)
        self._pdf.set_auto_page_break(True, margin=12)
        path = font_path(missing_code)
        if path.suffix == ".ttc":
            self._pdf.add_font("cjk", fname=str(path), collection_font_number=KOREAN_INDEX)
        else:
            self._pdf.add_font("cjk", fname=str(path))
        self._pdf.add_page()
        self._pdf.set_font("cjk", size=10)
        # A document dropped unfinished (an export refused after its font was loaded in the background)
        # still closes the font file, instead of leaving the handle to the garbage collector.
        weakref.finalize(self, _close_fonts, self._pdf)

    def heading(self, text: str) -> None:
        self._pdf.set_font("cjk", size=16)
        self._pdf.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
        self._pdf.set_font("cjk", size=10)

    def text(self, text: str) -> None:
        self._pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        self._pdf.ln(2)

    def table(self, header: list[str], rows: list[list[str]], widths: list[float] | None = None) -> None:
        pdf = self._pdf
        pdf.set_font("cjk", size=8)
        usable = pdf.epw
        widths = list(widths or [0.0] * len(header))
        rest = [i for i, w in enumerate(widths) if not w]
        if rest:
            share = (usable - sum(widths)) / len(rest)
            for i in rest:
                widths[i] = share
        with pdf.table(col_widths=tuple(widths), text_align="LEFT", line_height=5,
                       headings_style=self._heading_style) as table:
            row = table.row()
            for cell in header:
                row.cell(cell)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(str(value))
        pdf.set_font("cjk", size=10)

    def line(self, text: str, size: float = 9, gap: float = 0) -> None:
        """One paragraph at ``size`` points, then ``gap`` millimetres of space."""
        pdf = self._pdf
        pdf.set_font("cjk", size=size)
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(pdf.epw, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        if gap:
            pdf.ln(gap)

    def gap(self, millimetres: float) -> None:
        self._pdf.ln(millimetres)

    def set_creation_date(self, when: datetime) -> None:
        """Fixed from the content, so the same export renders the same bytes."""
        self._pdf.set_creation_date(when)

    def output(self) -> bytes:
        """The PDF; then the font files are closed (fontTools reads them lazily and would otherwise keep the
        28 MB collection open until the garbage collector finds it, one handle per document)."""
        try:
            return bytes(self._pdf.output())
        finally:
            _close_fonts(self._pdf)


def _close_fonts(pdf: Any) -> None:
    for font in pdf.fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.close()
