"""The signed checkpoint's note format: what a checkpoint says, as bytes, and back.

A checkpoint commits to the ledger's first ``size`` entries by their Merkle
root at a time, in a short text note that the archive's key signs (and a
time-stamp authority may counter-sign). The note is read back from the
ledger's ``checkpoints/`` directory, from proofs and saved checkpoint lists
(:mod:`longwatch.core.custody.audit`) and from evidence exports, so its format
lives here as plain data and encoding, apart from the
:class:`~longwatch.core.custody.ledger.Ledger` that makes checkpoints.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from longwatch.clock import parse_utc
from longwatch.core.custody.entries import utc_text

NOTE_HEADER = "longwatch custody checkpoint v1"


@dataclass
class Checkpoint:
    size: int
    root: bytes
    time: datetime
    origin: str
    note: bytes
    signature: bytes = b""
    tsr: bytes | None = None
    tsa_error: str = ""

    @property
    def name(self) -> str:
        return f"{self.size:012d}"

    def to_dict(self) -> dict[str, Any]:
        return {"tree_size": self.size, "root_hash": self.root.hex(), "time": utc_text(self.time),
                "origin": self.origin, "note": self.note.decode("utf-8"),
                "signature": base64.b64encode(self.signature).decode(),
                "timestamp": base64.b64encode(self.tsr).decode() if self.tsr else None}


def checkpoint_note(origin: str, size: int, root: bytes, when: datetime) -> bytes:
    return (f"{NOTE_HEADER}\norigin: {origin}\ntree-size: {size}\nroot-hash: {root.hex()}\n"
            f"time: {utc_text(when)}\n").encode()


def parse_note(note: bytes) -> tuple[str, int, bytes, datetime]:
    """(origin, size, root, time) of a checkpoint note; ValueError when it is not one."""
    lines = note.decode("utf-8").split("\n")
    if len(lines) != 6 or lines[0] != NOTE_HEADER or lines[5] != "":
        raise ValueError("not a longwatch checkpoint note")
    fields = {}
    for line, key in zip(lines[1:5], ("origin", "tree-size", "root-hash", "time"), strict=True):
        prefix = key + ": "
        if not line.startswith(prefix):
            raise ValueError(f"expected {key!r}")
        fields[key] = line[len(prefix):]
    root = bytes.fromhex(fields["root-hash"])
    if len(root) != 32:
        raise ValueError("the root hash is not 32 bytes")
    size = int(fields["tree-size"])
    if size < 1 or str(size) != fields["tree-size"]:
        raise ValueError("bad tree size")
    return fields["origin"], size, root, parse_utc(fields["time"])


def checkpoint_from_dict(data: dict[str, Any]) -> Checkpoint:
    note = str(data["note"]).encode("utf-8")
    origin, size, root, when = parse_note(note)
    tsr = data.get("timestamp")
    return Checkpoint(size, root, when, origin, note, base64.b64decode(data["signature"]),
                      base64.b64decode(tsr) if tsr else None)

