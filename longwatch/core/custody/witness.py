"""Witnesses: other parties co-sign the ledger's checkpoints, so a later rewrite cannot pass as the original.

A witness (another longwatch, a court's or a police agency's verifier) keeps
an Ed25519 key and, for each archive it watches, the last checkpoint it
co-signed. Before co-signing a newer checkpoint it checks the archive's
signature and an RFC 9162 consistency proof from the one it co-signed last,
so it never co-signs two histories. The formats are the public C2SP ones, so
any tool that speaks them can check a cosignature without longwatch:

- the checkpoint body of C2SP ``tlog-checkpoint``: ``<origin>\\n<tree size>\\n<base64 root>\\n``;
- the cosignature of C2SP ``tlog-cosignature`` (``cosignature/v1``): an
  Ed25519 signature over ``cosignature/v1\\ntime <unix seconds>\\n`` followed
  by that body, written as a signed-note line
  ``— <witness name> <base64(key id || 8-byte time || signature)>``;
- the verifier key of C2SP ``signed-note``: ``<name>+<key id hex>+<base64(0x04 || public key)>``,
  the key id being the first 4 bytes of SHA-256(name || "\\n" || 0x04 || public key).

The archive keeps the cosignatures it receives beside its checkpoints (in the
catalog's database and the ledger's mirror, ``custody-ledger/witnesses/``);
``custody verify --witness VKEY`` checks each one
against the ledger as it is now: a rewrite or truncation after a co-signed
checkpoint cannot keep the co-signed root (L029).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from longwatch import clock
from longwatch.core.custody.checkpoints import Checkpoint
from longwatch.errors import LongwatchError

COSIGNATURE_ALG = 0x04
DASH = "\u2014"


def checkpoint_body(origin: str, size: int, root: bytes) -> bytes:
    """The C2SP tlog-checkpoint body of a checkpoint (what a witness co-signs)."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n".encode()


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([COSIGNATURE_ALG]) + public).digest()[:4]


@dataclass(frozen=True)
class WitnessKey:
    """A witness's verifier key (public): its name, key id and Ed25519 public key."""

    name: str
    public: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public)

    def text(self) -> str:
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(bytes([COSIGNATURE_ALG]) + self.public).decode()}"

    @classmethod
    def parse(cls, text: str) -> WitnessKey:
        try:
            name, kid, blob = text.strip().split("+", 2)
            raw = base64.b64decode(blob, validate=True)
            if raw[0] != COSIGNATURE_ALG or len(raw) != 33 or not name or any(c.isspace() for c in name):
                raise ValueError("not a cosignature/v1 Ed25519 verifier key")
            key = cls(name, raw[1:])
            if key.id.hex() != kid:
                raise ValueError("the key id does not match the name and key")
            return key
        except (ValueError, IndexError) as exc:
            raise LongwatchError("L030", detail=str(exc)) from exc


def generate(name: str) -> tuple[bytes, WitnessKey]:
    """A new witness key: the private key (PKCS#8 PEM, keep it secret) and its verifier key."""
    if not name or any(c.isspace() or c == "+" for c in name):
        raise LongwatchError("L030", detail="a witness name has no spaces and no '+' (e.g. court.example.kr)")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return pem, WitnessKey(name, public)


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise LongwatchError("L030", detail=f"{path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise LongwatchError("L030", detail=f"{path}: not an Ed25519 key")
    return key


def cosign(private: Ed25519PrivateKey, name: str, body: bytes, when: datetime | None = None) -> str:
    """One cosignature/v1 line over a checkpoint body."""
    seconds = int(clock.current(when).timestamp())
    signature = private.sign(b"cosignature/v1\ntime %d\n" % seconds + body)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    blob = key_id(name, public) + struct.pack(">Q", seconds) + signature
    return f"{DASH} {name} {base64.b64encode(blob).decode()}\n"


def verify(key: WitnessKey, body: bytes, line: str) -> datetime:
    """The time a cosignature line says it was made, if it is ``key``'s over ``body``; else L029."""
    try:
        dash, name, blob_text = line.strip().split(" ")
        blob = base64.b64decode(blob_text, validate=True)
    except ValueError as exc:
        raise LongwatchError("L029", witness=key.name, detail=f"not a cosignature line: {exc}") from exc
    if dash != DASH or name != key.name or len(blob) != 76 or blob[:4] != key.id:
        raise LongwatchError("L029", witness=key.name, detail="the line is another witness's or malformed")
    (seconds,) = struct.unpack(">Q", blob[4:12])
    try:
        Ed25519PublicKey.from_public_bytes(key.public).verify(
            blob[12:], b"cosignature/v1\ntime %d\n" % seconds + body)
    except InvalidSignature as exc:
        raise LongwatchError("L029", witness=key.name, detail="the signature does not verify over this "
                                                              "checkpoint") from exc
    return datetime.fromtimestamp(seconds, UTC)


# -- what a witness remembers about each archive it watches -------------------------------------
def load_state(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise LongwatchError("L030", detail=f"{path}: {exc}") from exc


def save_state(path: Path, origin: str, cp: Checkpoint) -> None:
    state = load_state(path)
    state[origin] = {"tree_size": cp.size, "root_hash": cp.root.hex()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
