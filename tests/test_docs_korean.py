"""The documents a public body reads exist in Korean, in step with their English pages.

docs/ko/<page>.md names its English page in its first line (``<!-- source: docs/x.md -->``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_glossary import GLOSSARY, glossary_terms

ROOT = Path(__file__).resolve().parent.parent
KO_DIR = ROOT / "docs/ko"
#: the English pages a public body's staff read first: the quick start, and requests, register and notice
FOR_PUBLIC_BODIES = ("README.md", "docs/public-sector.md")
SOURCE = re.compile(r"<!-- source: (\S+) -->")


def korean_pages() -> dict[str, Path]:
    """English page -> its Korean page."""
    pages = {}
    for path in sorted(KO_DIR.glob("*.md")):
        match = SOURCE.match(path.read_text(encoding="utf-8"))
        assert match, f"{path.name}: the first line names its English page: <!-- source: docs/x.md -->"
        pages[match.group(1)] = path
    return pages


def sections(text: str) -> list[str]:
    without_code = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.findall(r"^## .+$", without_code, re.M)


def test_every_page_for_public_bodies_has_its_korean_page():
    assert set(FOR_PUBLIC_BODIES) <= set(korean_pages())


@pytest.mark.parametrize("english", sorted(korean_pages()))
def test_korean_page_keeps_step_with_its_english_page(english):
    korean = korean_pages()[english]
    source = ROOT / english
    assert source.is_file(), f"{korean.name} translates {english}, which is gone"
    ko_text, en_text = korean.read_text(encoding="utf-8"), source.read_text(encoding="utf-8")
    assert len(sections(ko_text)) == len(sections(en_text)), "a section was added or removed on one side only"
    prose = re.sub(r"```.*?```|`[^`]*`|\[[^\]]*\]\([^)]*\)", "", ko_text, flags=re.S)
    hangul = sum("\uac00" <= ch <= "\ud7a3" for ch in prose)
    latin = sum(ch.isascii() and ch.isalpha() for ch in prose)
    assert hangul > latin, "the page is still mostly English"
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", ko_text):
        assert (korean.parent / target).resolve().exists(), f"{korean.name}: broken link {target}"


def test_korean_pages_use_the_glossary():
    terms = glossary_terms(GLOSSARY.read_text(encoding="utf-8"))
    found = [(path.name, word) for path in KO_DIR.glob("*.md") for term in terms for word in term.avoid
             if word in path.read_text(encoding="utf-8")]
    assert found == []
