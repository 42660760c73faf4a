"""Whole numbers from the outside (paths, query strings, headers): ASCII digits that fit the catalog, or 400.

Why: Python's ``int()`` and ``str.isdigit()`` accept far more than the
digits a person means. ``'١٢٣'`` and ``'１２３'`` parse as 123, ``'²'`` passes
``isdigit()`` and then fails ``int()``, and a 40-digit number parses but
overflows the catalog's 64-bit integers deep in SQL. Each of those became a
500. Every number the web reads goes through here instead: ASCII digits
only, at most what a 64-bit signed integer holds, else a coded 400.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from longwatch.errors import LongwatchError

#: The largest value a catalog integer column (SQLite INTEGER, PostgreSQL BIGINT) holds.
MAX_INT = (1 << 63) - 1


def is_whole(text: str, maximum: int = MAX_INT) -> bool:
    """``text`` is ASCII digits (no sign, no space) whose value is at most ``maximum``."""
    return bool(text) and text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= maximum


def whole_number(text: str | None, name: str, minimum: int = 0, maximum: int = MAX_INT,
                 code: str = "W012", **context: Any) -> int:
    """The value of ``text``, or ``code`` (W012 by default: the parameter ``name`` is invalid)."""
    value = (text or "").strip()
    if not is_whole(value) or not minimum <= int(value) <= maximum:
        detail = f"not a whole number from {minimum} to {maximum} in ASCII digits"
        if code == "W012":
            raise LongwatchError("W012", name=name, detail=detail)
        raise LongwatchError(code, **{"detail": f"{name}: {detail}", **context})
    return int(value)


class BadNumber(BadRequest):
    """A path segment that looks like a number but is not one this archive can hold."""

    description = "a number in the path is not ASCII digits, or too large"


class WholeNumberConverter(IntegerConverter):
    """Flask's ``<int:...>`` with the limits above: other digits or a number too large are 400, not 500."""

    def to_python(self, value: str) -> int:
        if not is_whole(value):
            raise BadNumber()
        return int(value)
