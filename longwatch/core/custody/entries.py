"""What a custody ledger entry is, apart from where it is kept: the event, its agents, its bytes, its id.

The :class:`~longwatch.core.custody.ledger.Ledger` turns each
:class:`CustodyEvent` into one line of a segment file (adding seq, the record
time, the clock and the previous entry's leaf hash) and hands back a
:class:`Receipt`. Everything here is plain data and encoding, so the code that
only builds events, or checks an entry's bytes, need not know how the ledger
writes, locks or recovers. Held here: the entry format version, the outcomes,
the agent dictionaries, :func:`canonical` (the one byte form of an entry),
:func:`utc_text` (the ledger's time format) and :func:`new_event_id`.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from longwatch import __version__
from longwatch.core.aip.vocabulary import AGENT_ROLES, EVENT_TYPES
from longwatch.errors import LongwatchError

FORMAT = 1  # the "v" of every entry
OUTCOMES = ("success", "failure", "warning")


def software_agent(role: str = "executing program") -> dict[str, str]:
    """longwatch itself, with the host it ran on: an entry names the account that asked (a person agent)
    and the machine that acted (issue 21)."""
    return {"id": "longwatch", "name": "longwatch", "type": "software", "version": __version__, "role": role,
            "host": host()}


@functools.cache
def host() -> str:
    """This machine's name, as the ledger records it."""
    return socket.gethostname()


def person_agent(name: str, role: str = "implementer") -> dict[str, str]:
    return {"id": f"person:{name}", "name": name, "type": "person", "role": role}


@dataclass
class CustodyEvent:
    """One thing that happened to packages; the ledger adds seq, time, clock and prev."""

    type: str
    packages: list[str] = field(default_factory=list)
    outcome: str = "success"
    detail: str = ""
    note: str = ""
    agents: list[dict[str, str]] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    event_id: str = ""
    time: datetime | None = None

    def check(self) -> None:
        if self.type not in EVENT_TYPES:
            raise LongwatchError("L015", value=self.type)
        if self.outcome not in OUTCOMES:
            raise LongwatchError("L016", value=self.outcome)
        for agent in self.agents:
            if agent.get("role") not in AGENT_ROLES:
                raise LongwatchError("L016", value=agent.get("role"))


def canonical(obj: Any) -> bytes:
    """The one byte form of an entry: sorted keys, no spaces, UTF-8 (what the leaf hash covers)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def utc_text(value: datetime) -> str:
    """The ledger's time format: UTC to the microsecond, so entries written in one burst keep their order."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Receipt:
    """Where an appended event landed: its seq in the ledger and its event id."""

    seq: int
    event_id: str


def new_event_id() -> str:
    """A UUIDv7 (RFC 9562): time-ordered, so the catalog's event-id index grows at its right edge
    instead of rewriting pages all over the B-tree on every group commit."""
    rand = int.from_bytes(os.urandom(10), "big")
    value = ((time.time_ns() // 1_000_000) & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 68) << 64 \
        | 0b10 << 62 | (rand & ((1 << 62) - 1))
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

