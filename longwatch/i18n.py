"""Korean and English for every user-facing text, through gettext (Babel).

Code, logs and identifiers stay English; what a person reads goes through
:func:`gettext`. The catalogs are plain ``.po`` files in ``locale/``; they are
compiled in memory on first use so that no binary ``.mo`` file has to be kept
in step with its source.

The language follows an explicit choice (``set_language``, the web user's
setting, the archive's ``language``), then ``LONGWATCH_LANG``, then the usual
POSIX variables, and falls back to English.
"""

from __future__ import annotations

import contextvars
import functools
import io
import os
from gettext import NullTranslations
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "longwatch"
SUPPORTED = ("en", "ko")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("longwatch_lang", default=None)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


def normalize(value: str | None) -> str | None:
    """Map 'ko_KR.UTF-8', 'ko-KR', 'ko' to 'ko'; unknown languages to None."""
    if not value:
        return None
    short = value.replace("-", "_").split(".")[0].split("_")[0].lower()
    return short if short in SUPPORTED else None


def language_from_environment(fallback: str | None = None) -> str:
    """LONGWATCH_LANG, then LC_ALL, LC_MESSAGES, LANG, then ``fallback`` (the archive's), then English."""
    for var in ("LONGWATCH_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        lang = normalize(os.environ.get(var))
        if lang:
            return lang
    return normalize(fallback) or "en"


def set_language(lang: str | None) -> contextvars.Token[str | None]:
    """Choose the language for this context (a CLI run, a web request)."""
    return _current.set(normalize(lang))


def current_language() -> str:
    return _current.get() or language_from_environment()


@functools.cache
def translations(lang: str) -> NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return NullTranslations()
    # Babel is imported here, not at the top: English needs no catalog, and
    # every command imports this module before it knows its language.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


_ = gettext
