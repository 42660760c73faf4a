"""Forms that keep what was typed and say what is wrong beside the field, never a bare error page.

A view that takes a form catches the :class:`~longwatch.errors.LongwatchError`
its action raises and renders its page again with :func:`errors_for` (the
error placed on the field it is about) and the values sent; the templates'
``field_error`` macro (``_form.html``) shows it beside that field, and the
field says so to screen readers (``aria-invalid``, ``aria-describedby``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from longwatch.clock import parse_time
from longwatch.errors import LongwatchError

#: The fields an error code is about (the first the form has), where its context does not name one.
FIELD_OF: dict[str, tuple[str, ...]] = {
    "W003": ("role",), "W004": ("password", "new_password"), "W005": ("username",), "W006": ("username",),
    "W054": ("password", "new_password"), "W081": ("current_password",), "W082": ("confirm_password",),
    "W083": ("days",), "W084": ("tokens",), "W085": ("file",), "W086": ("decision",), "I009": ("camera_id",),
    "Q002": ("location",), "Q009": ("camera_id",), "Q012": ("file",),
    "U003": ("kind",), "U007": ("identity_method", "contact"), "Q001": ("end", "claimed_end"),
    "I003": ("start", "at"),
}
#: Fields of the request form that U005 names by their catalog column.
COLUMN_FIELDS = {"claimed_start_utc": "claimed_start", "claimed_end_utc": "claimed_end"}
#: Where an error that is about no one field goes: the top of the form (``field_error(errors, "form")``).
FORM = "form"


def errors_for(error: LongwatchError, fields: Sequence[str]) -> dict[str, LongwatchError]:
    """``{field: error}``: the field the error names (``name`` in its context), else the one its code is about,
    else :data:`FORM`."""
    named = str(error.context.get("name", ""))
    named = COLUMN_FIELDS.get(named, named)
    for candidate in (named, *FIELD_OF.get(error.code, ())):
        if candidate and candidate in fields:
            return {candidate: error}
    return {FORM: error}


def time_field(name: str, text: str) -> None:
    """Check one typed time; a bad one is W012 naming the field (so it shows beside it)."""
    if text.strip():
        try:
            parse_time(text.strip())
        except LongwatchError as exc:
            raise LongwatchError("W012", name=name, detail=exc.render()) from exc


def local_time(name: str, text: str, zone: tzinfo) -> datetime | None:
    """A time typed in a picker (``datetime-local``: no zone, so the archive's) or in ISO 8601 with Z or an offset.

    People pick times on the wall clock of the place; the record keeps UTC. A bad time is W012 naming the
    field, so it shows beside it. Empty is None.
    """
    text = text.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise LongwatchError("W012", name=name, detail=f"not a time: {text[:40]!r}") from exc


def picker_value(value: datetime | None, zone: tzinfo) -> str:
    """The value a ``datetime-local`` picker shows for a time: the wall clock of the archive's zone."""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S") if value is not None else ""
