"""The Korean font for documents and watermarks, found through fontconfig rather than a distribution's path.

Every reader of a filed document must see the Hangul, so the font is
embedded; which font does not matter as long as it covers Korean. fontconfig
(which Pango, and so WeasyPrint, uses anyway) knows the fonts of any Linux,
BSD or macOS machine: ``fc-list :lang=ko`` lists exactly the fonts that cover
Korean. Families known to be good for Korean body text come first; any other
font that covers Korean will do.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from longwatch.errors import LongwatchError

#: Preferred families, best first; the first one installed is used.
PREFERRED = ("Noto Sans CJK KR", "Noto Sans KR", "Source Han Sans K", "Source Han Sans KR", "NanumGothic",
             "Nanum Gothic", "NanumBarunGothic", "Malgun Gothic", "Apple SD Gothic Neo", "Noto Serif CJK KR",
             "Noto Serif KR", "NanumMyeongjo", "UnDotum", "Baekmuk Gulim")
QUERY = ":lang=ko"
INSTALL_HINT = "fonts-noto-cjk"


@dataclass(frozen=True)
class Font:
    path: Path
    index: int
    family: str
    style: str


def korean_fonts() -> list[Font]:
    """Every font fontconfig says covers Korean, preferred families and regular weights first."""
    try:
        done = subprocess.run(["fc-list", QUERY, "-f", "%{file}\t%{index}\t%{family}\t%{style}\n"],
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = []
    for line in done.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[0]:
            continue
        path, index, family, style = parts
        found.append(Font(Path(path), int(index or 0), family.split(",")[0], style.split(",")[0]))

    def rank(font: Font) -> tuple[int, int, str, int]:
        preferred = PREFERRED.index(font.family) if font.family in PREFERRED else len(PREFERRED)
        regular = 0 if font.style.lower() in ("regular", "book", "normal", "medium") else 1
        return preferred, regular, font.family, font.index

    return sorted(found, key=rank)


def korean_font(missing_code: str = "U020", document: str = "PDF") -> Font:
    """The font to embed; ``missing_code`` names whose work needed it (E008: before an export writes anything)."""
    fonts = korean_fonts()
    if not fonts:
        if missing_code == "U020":
            raise LongwatchError("U020", document=document, detail=f"fontconfig ({QUERY}) lists none",
                                 package=INSTALL_HINT)
        raise LongwatchError(missing_code, path=f"fontconfig {QUERY}")
    return fonts[0]
