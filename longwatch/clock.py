"""One clock for the whole program, and the one way times are read and written.

Every "now" in longwatch comes from :func:`now`: retention due dates,
disposition, ledger entries, certificates, leases and expiries must agree with
each other, and a test that moves time must move all of them at once. Tests
replace the source in-process with the ``frozen_clock`` fixture (``tests/conftest.py``);
no environment variable moves a production process's time.

Times are ISO 8601 with ``Z`` or an offset on input (a zone-less time is
refused, never guessed) and stored in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import overload

from longwatch.errors import LongwatchError


def wall_clock() -> datetime:
    """The machine's real time, for comparisons with another system's clock (an object store refuses a
    retain-until date that its own clock has passed). Never moved by tests."""
    return datetime.now(UTC)


_source: Callable[[], datetime] = wall_clock


def now() -> datetime:
    """The current time in UTC, as the archive records it."""
    return _source()


def current(given: datetime | None = None) -> datetime:
    """``given`` in UTC when a caller fixed the time (a preview "as of" a date), else :func:`now`."""
    return given.astimezone(UTC) if given is not None else now()


def parse_time(value: str) -> datetime:
    """ISO 8601 with Z or an offset, in UTC; a time without a zone is refused (I003), never guessed."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise LongwatchError("I003", value=value) from exc
    if parsed.tzinfo is None:
        raise LongwatchError("I003", value=value)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 has no UTC equivalent
        raise LongwatchError("I003", value=value) from exc


def parse_utc(value: str) -> datetime:
    """A time longwatch wrote itself (the ledger, the catalog's JSON): trusted, so no error code."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


@overload
def iso_z(value: datetime) -> str: ...
@overload
def iso_z(value: None) -> None: ...
def iso_z(value: datetime | None) -> str | None:
    """UTC with ``Z``, as evidence documents and ``--json`` keys show times; None stays None."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None
