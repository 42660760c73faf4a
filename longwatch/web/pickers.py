"""Date-and-time pickers in the archive's local time, stored in UTC.

A browser's ``<input type="datetime-local" step="1">`` sends the wall-clock
time without a zone (``2026-03-03T14:00:05``). A person at a Korean control
centre means Korean time, so the value is read in the archive's zone
(``[archive] timezone``) and kept in UTC, to the second; a time typed with
its own offset or ``Z`` (a pasted ISO 8601 value) keeps that offset. The
command line refuses times without a zone (I003) because a script must not
be guessed at; a picker has one implied by the page, which says which.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from longwatch.errors import LongwatchError

#: The forms a picker sends: with seconds (step="1") or without.
LOCAL_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


def parse_local(name: str, text: str, tz: tzinfo) -> datetime | None:
    """The UTC time a picker (or a typed ISO 8601 value) names; None when empty; W060 naming the field."""
    value = text.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        parsed = None
        for form in LOCAL_FORMATS:
            try:
                parsed = datetime.strptime(value, form)
                break
            except ValueError:
                continue
    if parsed is None:
        raise LongwatchError("W060", name=name, value=value[:40], zone=str(tz))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return parsed.astimezone(UTC).replace(microsecond=0)
    except OverflowError as exc:  # year 1 with a positive offset has no UTC equivalent
        raise LongwatchError("W060", name=name, value=value[:40], zone=str(tz)) from exc


def picker_value(value: datetime | None, tz: tzinfo) -> str:
    """A stored UTC time as a picker's ``value`` (local wall clock, to the second)."""
    if value is None:
        return ""
    return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S")
