"""Markdown to HTML for text an administrator writes for the public (the CCTV notice): markdown-it-py.

The one module that imports it. CommonMark with raw HTML off, so whatever the
text holds is shown as text, never run as markup; images are off too, so the
notice cannot make a reader's browser fetch anything from elsewhere. Headings
move one level down: the page's own title is the ``<h1>``.
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False}).disable("image")


def _shift(tokens: list[Any]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1:]) + 1, 6)}"


def to_html(text: str) -> Markup:
    """``text`` (Markdown) as safe HTML to put in a page."""
    tokens = _md.parse(text or "")
    _shift(tokens)
    return Markup(_md.renderer.render(tokens, _md.options, {}))  # noqa: S704 - markdown-it escapes, html off
