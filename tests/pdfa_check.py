"""The structural PDF/A check of docs/documents.md, read from outside with pikepdf and poppler's pdftotext.

Shared by tests/test_pdfa.py and the tests of each document (export report, register, certificate).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pikepdf

from longwatch.core.documents import fonts

#: actions and keys that run code or reach outside the file; PDF/A forbids them
FORBIDDEN_KEYS = {"/JS", "/JavaScript", "/AA", "/URI", "/Launch", "/GoToR", "/GoToE", "/SubmitForm", "/ImportData"}
FORBIDDEN_ACTIONS = {"/JavaScript", "/URI", "/Launch", "/GoToR", "/GoToE", "/SubmitForm", "/ImportData", "/Movie",
                     "/Sound", "/Rendition"}


def page_texts(path: Path) -> list[str]:
    with pikepdf.open(path) as pdf:
        count = len(pdf.pages)
    return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), "-layout", str(path), "-"], check=True,
                           capture_output=True, text=True).stdout for i in range(1, count + 1)]


def structure_types(node: object, seen: set[str], depth: int = 0) -> None:
    if depth > 200:
        return
    if isinstance(node, pikepdf.Array):
        for child in node:
            structure_types(child, seen, depth + 1)
    elif isinstance(node, pikepdf.Dictionary):
        if "/S" in node:
            seen.add(str(node.S))
        if "/K" in node:
            structure_types(node.K, seen, depth + 1)


def check_pdfa(path: Path, *, lang: str, title: str) -> tuple[pikepdf.Pdf, list[str]]:
    """The structural PDF/A check every filed document must pass; returns the PDF and each page's text."""
    pdf = pikepdf.open(path)
    assert not pdf.is_encrypted
    root = pdf.Root
    # PDF/A identification (XMP) and the output intent
    meta = pdf.open_metadata()
    assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "U", str(meta)
    assert title in str(meta.get("dc:title", "")), str(meta)
    intents = root.OutputIntents
    assert len(intents) >= 1 and intents[0].S == "/GTS_PDFA1" and "/DestOutputProfile" in intents[0]
    # title and language
    assert title in str(pdf.docinfo.Title)
    assert root.ViewerPreferences.DisplayDocTitle is True
    assert str(root.Lang) == lang
    # tagged, with headings and tables a screen reader can follow
    assert root.MarkInfo.Marked is True
    assert "/StructTreeRoot" in root
    kinds: set[str] = set()
    structure_types(root.StructTreeRoot.K, kinds)
    assert {"/H1", "/Table", "/TR", "/TD", "/P"} <= kinds, kinds
    # every font embedded (a Type0 font's glyphs sit in its descendant)
    font_count = 0
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/Font" or obj.get("/Subtype") == "/Type0":
            continue
        font_count += 1
        descriptor = obj.get("/FontDescriptor")
        assert descriptor is not None and any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), \
            obj.get("/BaseFont")
    assert font_count >= 1
    # nothing that runs or reaches outside the file
    assert "/OpenAction" not in root and "/AA" not in root
    assert "/JavaScript" not in root.get("/Names", pikepdf.Dictionary())
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary):
            assert not FORBIDDEN_KEYS & set(obj.keys()), dict(obj)
            assert obj.get("/S") not in FORBIDDEN_ACTIONS or obj.get("/Type") == "/StructElem"
            if obj.get("/Type") == "/Filespec":
                assert "/EF" in obj and "/URL" != obj.get("/FS")
    # nothing runs off the page (an identifier kept whole must still fit)
    boxes = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True,
                           text=True).stdout
    widths = [float(w) for w in re.findall(r'<page width="([0-9.]+)"', boxes)]
    right = max(float(x) for x in re.findall(r'xMax="([0-9.]+)"', boxes))
    assert right <= min(widths), (right, widths)
    # page numbers on every page: "i / n"
    texts = page_texts(path)
    for i, text in enumerate(texts, 1):
        assert re.search(rf"(?<!\d){i}\s*/\s*{len(texts)}(?!\d)", text), (i, text[-200:])
    return pdf, texts


def fonts_embedded(path: Path) -> bool:
    """Every font of the PDF carries its glyphs (a Type0 font's sit in its descendant)."""
    found = False
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/Font" or \
                    obj.get("/Subtype") == "/Type0":
                continue
            descriptor = obj.get("/FontDescriptor")
            if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                return False
            found = True
    return found


def korean_fonts_embedded(pdf: pikepdf.Pdf) -> bool:
    names = [str(obj.get("/BaseFont")) for obj in pdf.objects
             if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font"]
    family = fonts.korean_font().family.replace(" ", "-")
    return any(family in name for name in names)
