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
import os
from datetime import UTC, date, datetime, timedelta, tzinfo
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


def reset_language(token: contextvars.Token[str | None]) -> None:
    """Undo a :func:`set_language` (a help page shown in the language asked for, then back)."""
    _current.reset(token)


def current_language() -> str:
    return _current.get() or language_from_environment()


@functools.cache
def translations(lang: str) -> NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return NullTranslations()
    # Read by pofile.py, not Babel: Babel's import and parser cost every command in Korean about 60 ms.
    from longwatch import pofile

    return pofile.translations(po.read_text(encoding="utf-8"))


def gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """One message for one thing and another for many ("1 file", "2 files"); Korean has one form."""
    return translations(current_language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """A message whose English word has two meanings ("by": a grouping, a person): the context tells
    the translator which, and each meaning gets its own Korean word (docs/glossary.md)."""
    return translations(current_language()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translations(current_language()).npgettext(context, singular, plural, n)


def babel_locale() -> str:
    """The Babel locale for the reader's language: Korean readers get Korean dates and numbers."""
    return "ko_KR" if current_language() == "ko" else "en_US"


def format_number(value: int | float) -> str:
    """Digits grouped as the reader writes them (1,234,567)."""
    from babel.numbers import format_decimal  # Babel's locale data loads on first use

    return format_decimal(value, locale=babel_locale())


def format_datetime(value: datetime | str | None, tz: tzinfo | None = None, utc: bool = False) -> str:
    """A time as the reader reads it, to the second and with its zone.

    By default the archive's local zone (``tz``); ``utc=True`` where the record itself is in UTC
    (the exact value stays in the page's ``<time datetime>``). Never microseconds: nobody reads them.
    A string is a time longwatch wrote itself (ISO 8601 with Z, as in PREMIS).
    """
    if not value:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    from babel.dates import format_datetime as babel_format

    zone = UTC if utc or tz is None else tz
    local = value.astimezone(zone).replace(microsecond=0)
    return f"{babel_format(local, 'medium', tzinfo=zone, locale=babel_locale())} {_zone_name(local)}"


def format_date(value: date | datetime | None, tz: tzinfo | None = None) -> str:
    """A calendar date in the reader's form (Korean: 2026년 12월 7일)."""
    if value is None:
        return "-"
    from babel.dates import format_date as babel_format

    if isinstance(value, datetime):
        value = value.astimezone(tz or UTC).date()
    return babel_format(value, "long", locale=babel_locale())


def _zone_name(value: datetime) -> str:
    """UTC, KST, or the offset (+09:00) when the zone has no short name."""
    if value.utcoffset() == timedelta(0):
        return "UTC"
    name = value.tzname() or ""
    if name and name[0] not in "+-":
        return name
    return value.isoformat()[-6:]


_ = gettext
