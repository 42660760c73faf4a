"""What an evidence export is asked for: the recipient, the packages or camera range, and the options.

Kept apart from the writing (export.py) because it travels: the command line
and the public-requests workflow build a :class:`Request`, and an export job
carries it as JSON (:func:`request_to_dict`, :func:`request_from_dict`) to the
worker that runs :func:`longwatch.core.evidence.export.export`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from longwatch.core.custody.entries import utc_text


@dataclass
class Recipient:
    """Who receives the export, on what legal basis and for what purpose, and until when."""

    agency: str
    officer: str = ""
    case_number: str = ""
    legal_basis: str = ""
    purpose: str = ""
    expires: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["expires"] = utc_text(self.expires) if self.expires else ""
        return data


@dataclass
class Request:
    """What to export: package ids, and/or cameras over ``start``..``end`` (UTC)."""

    recipient: Recipient
    package_ids: list[str] = field(default_factory=list)
    cameras: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    cut: bool = False  # also an exact stream-copy cut of the range, as a derived package
    case: str = ""  # a catalog case id: see packages_for_case
    language: str = "ko"
    reason: str = ""
    watermark: bool = False  # also watermarked access copies under data/access/ (never the originals)
    timezone: str = ""  # the recipient's time zone for the report (IANA name); "" is the archive's


def request_to_dict(request: Request) -> dict[str, Any]:
    """A request as JSON (the arguments of an export job, core/evidence/tasks.py); times as UTC ISO 8601."""
    data = asdict(request)
    data["recipient"] = request.recipient.to_dict()
    data["start"] = utc_text(request.start) if request.start else ""
    data["end"] = utc_text(request.end) if request.end else ""
    return data


def request_from_dict(data: dict[str, Any]) -> Request:
    def when(value: str) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    recipient = Recipient(**{**data["recipient"], "expires": when(data["recipient"].get("expires", ""))})
    return Request(**{**data, "recipient": recipient, "start": when(data["start"]), "end": when(data["end"])})
