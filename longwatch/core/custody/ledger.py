"""The custody ledger: hash-chained JSON Lines segments, a Merkle tree, signed checkpoints.

Layout under the primary storage location (a filesystem path)::

    ledger/lock                       flock'd by every appender: one writer at a time
    ledger/checkpoint.lock            flock'd while a checkpoint is signed (appenders go on meanwhile)
    ledger/segments/000000000000.jsonl   entries, one canonical JSON object a line;
                                      a segment is named by the seq of its first entry
    ledger/checkpoints/000000001000.note  signed checkpoint (tree size, root hash, time)
    ledger/checkpoints/000000001000.note.p7s   detached CMS by the archive's key
    ledger/checkpoints/000000001000.note.p7s.tsr  RFC 3161 response over the .p7s (optional)
    ledger/set-aside/                 torn tails cut off by recovery, kept as evidence
    ledger/spool/                     groups waiting for the lock holder to write them with its own
    ledger/frontier.json              cache of the tree's frontier (never trusted blindly)
    ledger/identity.json              the ledger's id and entry 0's leaf hash, as the catalog records them

Fail closed (docs/custody.md, "Identity and recovery"): the catalog records the
ledger's folder (so its place does not follow the primary storage location) and
its identity; an append refuses (L024) when the folder's identity and the
catalog's differ, or one is missing while the other side has entries. Recovery
removes index rows only of the last group written, never at or below the last
signed checkpoint (L025 otherwise).

Durability (docs/custody.md): :meth:`Ledger.append` returns only after the
catalog index rows are committed with a synchronous commit and the entry bytes
are ``fdatasync``'d. One call appends a whole batch (group commit: one lock, one
index transaction, one fsync), and the lock holder takes along the groups that
other processes spooled while they waited. A crash before that leaves at most a torn tail
or index rows for bytes never written; both are undone on the next append and
recorded as a "recovery" event. An acknowledged entry is never lost or changed.

What an entry is (:class:`~longwatch.core.custody.entries.CustodyEvent`, its
agents and bytes) is in ``entries.py``; the checkpoint note's format is in
``checkpoints.py``; proofs and verification are in ``audit.py``. Here are the
ledger's settings, its durable writes and the :class:`Ledger` itself.

Why one long module: the append path (group commit and the spool), recovery
and checkpointing are one protocol over one directory. They share the appender
lock and the order in which it is taken with the checkpoint lock, the on-disk
format (segment names, byte offsets, the prev chain, the index rows that must
agree with them), and the head and frontier that an append leaves behind and
recovery or a checkpoint picks up. Split across modules, each part would reach
into the others' private state, and the invariants that make an acknowledged
entry permanent could no longer be read in one place.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
import time
import tomllib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.engine import Engine

from longwatch import clock
from longwatch.clock import parse_utc
from longwatch.core.aip import signing, timestamp
from longwatch.core.aip.vocabulary import event_type_uri
from longwatch.core.catalog.models import CustodyEntry, CustodyEntryPackage, CustodyLedgerIdentity, Package
from longwatch.core.custody.checkpoints import Checkpoint, checkpoint_note, parse_note
from longwatch.core.custody.entries import (
    FORMAT,
    CustodyEvent,
    Receipt,
    new_event_id,
    person_agent,
    software_agent,
    utc_text,
)
from longwatch.core.custody.merkle import Frontier, MerkleTree, leaf_hash
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import fsync_dir

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

ZERO_HASH = "0" * 64
SPOOL_POLL = 0.001  # seconds between looks for an answer while another process holds the lock
ENTRIES: Table = CustodyEntry.__table__  # type: ignore[assignment]
ENTRY_PACKAGES: Table = CustodyEntryPackage.__table__  # type: ignore[assignment]
IDENTITY: Table = CustodyLedgerIdentity.__table__  # type: ignore[assignment]
PACKAGES: Table = Package.__table__  # type: ignore[assignment]
IDENTITY_FILE = "identity.json"
IDENTITY_FORMAT = "longwatch-custody-ledger/1"


@dataclass(frozen=True)
class Identity:
    """Who a ledger is: an id and the leaf hash of its entry 0, in the catalog and beside the segments."""

    ledger_id: str
    first_hash: str


@dataclass(frozen=True)
class CustodySettings:
    """``[custody]`` in longwatch.toml."""

    checkpoint_every: int = 1000
    checkpoint_minutes: float = 60.0
    tsa_url: str = ""
    tsa_cert: Path | None = None
    segment_bytes: int = 64 << 20
    #: verifier keys of the witnesses whose cosignatures `custody verify` checks (core/custody/witness.py)
    witnesses: tuple[str, ...] = ()


def load_settings(root: Path) -> CustodySettings:
    """Read ``[custody]``; read here so the shared Settings object need not know the ledger."""
    path = root / "longwatch.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")).get("custody", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LongwatchError("A003", path=path, detail=str(exc)) from exc
    if not isinstance(data, dict):
        raise LongwatchError("A003", path=path, detail="[custody] must be a table")
    try:
        every = int(data.get("checkpoint_every", 1000))
        minutes = float(data.get("checkpoint_minutes", 60))
        seg = int(data.get("segment_bytes", 64 << 20))
    except (TypeError, ValueError) as exc:
        raise LongwatchError("A003", path=path, detail=f"[custody]: {exc}") from exc
    if every < 1 or minutes <= 0 or seg < 4096:
        raise LongwatchError("A003", path=path, detail="[custody] checkpoint_every >= 1, checkpoint_minutes > 0, "
                                                       "segment_bytes >= 4096")
    cert = data.get("tsa_cert")
    witnesses = data.get("witnesses", [])
    if not isinstance(witnesses, list) or not all(isinstance(w, str) for w in witnesses):
        raise LongwatchError("A003", path=path, detail="[custody] witnesses is a list of verifier keys (text)")
    return CustodySettings(every, minutes, str(data.get("tsa_url", "")), root / str(cert) if cert else None, seg,
                           tuple(witnesses))


# -- files ---------------------------------------------------------------------
def _write_durable(path: Path, data: bytes, sync: bool = True, sync_dir: bool = True) -> None:
    """Whole file or nothing: temp file, fsync, rename, fsync the directory (when asked)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        if sync:
            os.fsync(fh.fileno())
    os.replace(tmp, path)
    if sync and sync_dir:
        fsync_dir(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


@dataclass
class _Head:
    segment: Path | None
    size: int
    next_seq: int
    prev: str


_ENTRY_COLUMNS = ("seq", "time_utc", "event_type", "event_id", "outcome", "segment", "byte_offset", "length",
                  "leaf_hash")


def _insert_rows(conn: Any, rows: list[tuple[Any, ...]], pkg_rows: list[tuple[int, str]]) -> None:
    """Straight to the driver's executemany: SQLAlchemy's per-row parameter handling cost more than the insert.

    Times arrive as the text SQLAlchemy's DateTime writes on SQLite (naive UTC),
    which is what the catalog's UTCDateTime stores; other back ends get the
    naive UTC datetime it binds there.
    """
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    if conn.dialect.name != "sqlite":
        rows = [(r[0], datetime.fromisoformat(r[1]), *r[2:]) for r in rows]
    conn.exec_driver_sql(
        f"INSERT INTO custody_entries ({', '.join(_ENTRY_COLUMNS)}) VALUES ({', '.join([mark] * 9)})",  # noqa: S608
        rows)
    if pkg_rows:
        conn.exec_driver_sql(f"INSERT INTO custody_entry_packages (seq, package_id) VALUES ({mark}, {mark})",  # noqa: S608
                             pkg_rows)


@dataclass(slots=True)
class _Prepared:
    """An entry's canonical bytes, less prev (between start and middle) and seq (between middle and end),
    and what its index row needs besides (``stamp``: the event time as naive UTC text)."""

    stamp: str
    type: str
    event_id: str
    outcome: str
    packages: tuple[str, ...]
    start: bytes
    middle: bytes
    end: bytes


# The canonical form built field by field (entries are encoded once, not as a dict and again as bytes);
# JSON encoding composes, so this equals canonical() of the whole entry (tests compare them).
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_STRING = json.encoder.encode_basestring


def _json(value: Any) -> str:
    return _STRING(value) if type(value) is str else _ENCODE(value)


class Ledger:
    """The archive's custody ledger. Safe to use from many processes at once."""

    def __init__(self, directory: Path, engine: Engine, origin: str, settings: CustodySettings | None = None,
                 signer: Any = None, archive: Archive | None = None, operator: str = "",
                 create: bool = True) -> None:
        self.dir = directory
        self.segments_dir = directory / "segments"
        self.checkpoints_dir = directory / "checkpoints"
        self.set_aside_dir = directory / "set-aside"
        self.engine = engine
        self.origin = origin
        self.settings = settings or CustodySettings()
        self._signer = signer
        self._archive = archive
        self.operator = operator
        self._head: _Head | None = None
        self._known_checkpoint: tuple[int, datetime | None] | None = None  # (size, time) of the newest seen
        self._first: datetime | None = None  # time of entry 0 (fixed once written)
        self._lock_fd: int | None = None
        self._thread_lock = threading.RLock()
        self._identity: Identity | None = None
        self._group_start: int | None = None  # first seq of the last group written (recovery may undo it)
        if create:  # a folder the catalog records is never created: a missing one is L024, not a new ledger
            for d in (self.segments_dir, self.checkpoints_dir):
                d.mkdir(parents=True, exist_ok=True)

    @classmethod
    def for_archive(cls, archive: Archive) -> Ledger:
        """The archive's ledger, where the catalog says it is (whichever location is primary now).

        A ledger the catalog does not know yet (a new archive, a catalog rebuilt
        from storage, a catalog older than migration 0022) is looked for where
        longwatch has kept ledgers: under the primary location when it is a
        directory, else under the archive's directory; the first of those that
        holds a ledger wins, and the place is recorded with its first entry.
        """
        with archive.catalog.engine.connect() as conn:
            recorded = conn.execute(select(IDENTITY.c.directory).where(IDENTITY.c.id == 1)).scalar()
        if recorded:
            directory = archive.root / recorded
        else:
            root = getattr(archive.storage(), "root", None)
            candidates = [root / "ledger"] if isinstance(root, Path) else []
            candidates += [archive.root / "storage" / "ledger", archive.root / "ledger"]
            directory = next((c for c in candidates if (c / IDENTITY_FILE).exists()
                              or any((c / "segments").glob("*.jsonl"))), candidates[0])
        return cls(directory, archive.catalog.engine, archive.settings.name, load_settings(archive.root),
                   archive=archive, operator=archive.operator, create=not recorded)

    def _open_in_dir(self, name: str) -> int:
        try:
            return os.open(self.dir / name, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError as exc:
            raise LongwatchError("L024", path=self.dir, detail="the folder does not exist") from exc

    def _directory_text(self) -> str:
        """The folder as the catalog records it: relative to the archive when inside it."""
        if self._archive is not None:
            with contextlib.suppress(ValueError):
                return str(self.dir.relative_to(self._archive.root))
        return str(self.dir)

    @property
    def signer(self) -> signing.Signer:
        if self._signer is None:
            assert self._archive is not None
            self._signer = self._archive.signer
        return self._signer

    # -- locking -----------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """The exclusive appender lock (flock: released by the kernel if the holder dies)."""
        with self._thread_lock:  # threads sharing this object first, then processes through flock
            if self._lock_fd is not None:  # re-entrant within this thread
                yield
                return
            fd = self._open_in_dir("lock")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._lock_fd = fd
                yield
            finally:
                self._lock_fd = None
                os.close(fd)

    # -- segments ------------------------------------------------------------------
    def segment_paths(self) -> list[Path]:
        return sorted(p for p in self.segments_dir.glob("*.jsonl") if p.name[:12].isdigit())

    def _read_last_line(self, path: Path, size: int) -> bytes | None:
        if size == 0:
            return None
        with open(path, "rb") as fh:
            chunk = 1 << 16
            pos = size
            buf = b""
            while pos > 0:
                step = min(chunk, pos)
                pos -= step
                fh.seek(pos)
                buf = fh.read(step) + buf
                idx = buf.rfind(b"\n", 0, len(buf) - 1)
                if idx >= 0:
                    return buf[idx + 1 : -1]
            return buf[:-1]

    @staticmethod
    def _complete_end(path: Path, size: int) -> int:
        """The offset just after the last newline: everything beyond it is a torn append."""
        with open(path, "rb") as fh:
            pos = size
            while pos > 0:
                step = min(1 << 16, pos)
                pos -= step
                fh.seek(pos)
                idx = fh.read(step).rfind(b"\n")
                if idx >= 0:
                    return pos + idx + 1
        return 0

    def _index_max(self) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(ENTRIES.c.seq))).scalar()

    def _recover(self) -> tuple[_Head, list[CustodyEvent]]:
        """Under the lock: check the identity, cut a torn tail, drop index rows of the last group for bytes
        never written; say what was done. Refuses (L024, L025) rather than remove anything else."""
        repairs: list[CustodyEvent] = []
        paths = self.segment_paths()
        self._identity = self._check_identity(paths)
        segment = paths[-1] if paths else None
        size = 0
        if segment is not None:
            size = segment.stat().st_size
            keep = self._complete_end(segment, size)
            if keep != size:
                repairs.append(self._set_aside(segment, keep, size))
                size = keep
        last_line: bytes | None = None
        for path in reversed(paths):
            last_line = self._read_last_line(path, size if path == segment else path.stat().st_size)
            if last_line is not None:
                break
        if last_line is None:
            next_seq, prev = 0, ZERO_HASH
        else:
            try:
                last_seq = int(json.loads(last_line)["seq"])
            except (ValueError, KeyError, TypeError) as exc:
                raise LongwatchError("L001", segment=segment.name if segment else "-", offset=-1,
                                     detail=f"the last entry is unreadable: {exc}") from exc
            next_seq, prev = last_seq + 1, leaf_hash(last_line).hex()
        with self.engine.connect() as conn:
            top_row = conn.execute(select(ENTRIES.c.seq, ENTRIES.c.leaf_hash).order_by(ENTRIES.c.seq.desc())
                                   .limit(1)).first()
        top = -1 if top_row is None else top_row.seq
        if top > next_seq - 1:
            cps = self.checkpoint_paths()
            signed = int(cps[-1].stem) if cps else 0
            group = self._group_start
            if group is None or next_seq < group or next_seq < signed:
                why = (f"the checkpoint of {signed} entries is signed" if next_seq < signed else
                       "the catalog does not record which group was written last" if group is None else
                       f"the last group written starts at entry {group}")
                raise LongwatchError("L025", first=next_seq, last=top, path=self.segments_dir, detail=why)
            with self.engine.begin() as conn:
                conn.execute(delete(ENTRY_PACKAGES).where(ENTRY_PACKAGES.c.seq >= next_seq))
                conn.execute(delete(ENTRIES).where(ENTRIES.c.seq >= next_seq))
                conn.execute(update(IDENTITY).where(IDENTITY.c.id == 1).values(group_start=next_seq))
            self._group_start = next_seq
            repairs.append(CustodyEvent(
                "recovery", detail=f"custody ledger: index rows for entries {next_seq}..{top} were committed "
                                   "but their bytes never reached the segment (a crash before acknowledgement); "
                                   "the rows were removed", agents=[software_agent()],
                outcome="warning"))
        elif top < next_seq - 1:
            raise LongwatchError("L005", first=top + 1, last=next_seq - 1)
        elif top_row is not None and top_row.leaf_hash != prev:
            raise LongwatchError("L004", seq=top)
        return _Head(segment, size, next_seq, prev), repairs

    # -- identity ----------------------------------------------------------------------
    def read_identity(self) -> Identity | None:
        """``identity.json`` beside the segments (None when there is none); L024 when it is unreadable."""
        path = self.dir / IDENTITY_FILE
        try:
            data = json.loads(path.read_bytes())
            return Identity(str(data["ledger_id"]), str(data["first_hash"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LongwatchError("L024", path=self.dir, detail=f"{IDENTITY_FILE} is unreadable: {exc}") from exc

    def catalog_identity(self) -> Identity | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(IDENTITY).where(IDENTITY.c.id == 1)).first()
        return None if row is None else Identity(row.ledger_id, row.first_hash)

    def _write_identity(self, identity: Identity) -> None:
        _write_durable(self.dir / IDENTITY_FILE, json.dumps(
            {"format": IDENTITY_FORMAT, "ledger_id": identity.ledger_id, "first_hash": identity.first_hash,
             "origin": self.origin}, sort_keys=True).encode() + b"\n")

    def _identity_row(self, conn: Any, identity: Identity, group_start: int) -> None:
        """Within ``conn``'s transaction: the catalog's identity row, replaced."""
        conn.execute(delete(IDENTITY))
        conn.execute(insert(IDENTITY).values(id=1, ledger_id=identity.ledger_id, first_hash=identity.first_hash,
                                             directory=self._directory_text(), group_start=group_start))
        self._group_start = group_start

    def _first_line(self, paths: list[Path]) -> bytes | None:
        for path in paths:
            with open(path, "rb") as fh:
                line = fh.readline()
            if line.endswith(b"\n"):
                return line[:-1]
            if line:
                return None  # a torn first line: recovery cuts it, entry 0 is not written yet
        return None

    def check(self) -> None:
        """Refuse (L024) unless the folder holds the ledger the catalog records; reads, writes nothing.

        For processes that should not start at all on the wrong folder (a worker
        whose shared mount failed): they find out before their first append.
        """
        self._check_identity(self.segment_paths())

    def _check_identity(self, paths: list[Path]) -> Identity | None:
        """Under the lock: the folder and the catalog must name the same ledger before anything is written
        or repaired. Adopts an identity for a ledger older than identities when both sides agree on entry 0."""
        on_disk = self.read_identity()
        with self.engine.connect() as conn:
            row = conn.execute(select(IDENTITY).where(IDENTITY.c.id == 1)).first()
            first_row = conn.execute(select(ENTRIES.c.leaf_hash).where(ENTRIES.c.seq == 0)).scalar()
            top = conn.execute(select(func.max(ENTRIES.c.seq))).scalar()
        in_catalog = None if row is None else Identity(row.ledger_id, row.first_hash)
        self._group_start = None if row is None else row.group_start
        first_line = self._first_line(paths)
        first_leaf = None if first_line is None else leaf_hash(first_line).hex()
        indexed = 0 if top is None else int(top) + 1
        has_rows, has_bytes = top is not None, first_line is not None

        def refuse(detail: str) -> LongwatchError:
            return LongwatchError("L024", path=self.dir, detail=detail)

        if not has_rows and not has_bytes:
            return in_catalog or on_disk  # nothing written yet (or a first group that never completed)
        if in_catalog is not None and on_disk is not None:
            if in_catalog != on_disk:
                raise refuse(f"its {IDENTITY_FILE} names ledger {on_disk.ledger_id} (entry 0 "
                             f"{on_disk.first_hash[:16]}), the catalog ledger {in_catalog.ledger_id} (entry 0 "
                             f"{in_catalog.first_hash[:16]})")
            for found in (first_row, first_leaf):
                if found is not None and found != in_catalog.first_hash:
                    raise refuse(f"its entry 0 has leaf hash {found[:16]}, the ledger's is "
                                 f"{in_catalog.first_hash[:16]}")
            return in_catalog
        if in_catalog is not None:
            raise refuse(f"the folder has no {IDENTITY_FILE} but the catalog records ledger {in_catalog.ledger_id} "
                         f"with {indexed} entries (a failed mount, or not the archive's "
                         "ledger folder)")
        if not has_rows:
            return on_disk  # the index is behind the segments: L005 below, `custody reindex`
        if not has_bytes:
            raise refuse(f"the catalog index holds {indexed} entries and the folder none (a failed mount, or "
                         "not the archive's ledger folder)")
        if first_row is None or first_row != first_leaf or (on_disk is not None and on_disk.first_hash != first_row):
            raise refuse("the folder's entry 0 is not the one the catalog index records")
        # both sides hold entries and agree on entry 0: a ledger from before identities, or a catalog restored
        # from a backup older than its identity. Nothing is known to be pending, so recovery may undo nothing.
        identity = on_disk or Identity(str(uuid.uuid4()), first_row)
        if on_disk is None:
            self._write_identity(identity)
        with self.engine.begin() as conn:
            self._identity_row(conn, identity, indexed)
        return identity

    def _set_aside(self, path: Path, keep: int, size: int) -> CustodyEvent:
        self.set_aside_dir.mkdir(parents=True, exist_ok=True)
        with open(path, "rb") as fh:
            fh.seek(keep)
            torn = fh.read()
        kept = self.set_aside_dir / f"{path.stem}.{keep}.torn"
        _write_durable(kept, torn)
        fd = os.open(path, os.O_WRONLY)
        try:
            os.ftruncate(fd, keep)
            os.fsync(fd)
        finally:
            os.close(fd)
        return CustodyEvent("recovery", outcome="warning", agents=[software_agent()],
                            detail=f"custody ledger: a torn tail of {size - keep} bytes at {path.name} offset "
                                   f"{keep} (an append that was never acknowledged) was set aside",
                            extra={"set_aside": f"ledger/set-aside/{kept.name}",
                                   "sha256": hashlib.sha256(torn).hexdigest()})

    def _current_head(self) -> tuple[_Head, list[CustodyEvent]]:
        head = self._head
        if head is not None:
            paths = self.segment_paths()
            newest = paths[-1] if paths else None
            if newest == head.segment and (newest is None or newest.stat().st_size == head.size):
                return head, []
        return self._recover()

    # -- appending -------------------------------------------------------------------
    def append(self, events: Sequence[CustodyEvent], checkpoint: bool = True) -> list[Receipt]:
        """Append ``events`` in order as one durable group; return once they are on disk.

        Group commit across processes: a writer that finds the lock taken leaves
        its prepared entries in ``ledger/spool/`` and waits; whoever holds the lock
        next writes every waiting group with its own, under one index commit and
        one fsync, and leaves each waiter the sequence numbers it got. A
        checkpoint that falls due is signed after the lock is released, so
        signing and its fsyncs never hold up the next group.
        """
        for event in events:
            event.check()
        if not events:
            return []
        self._name_the_bytes(events)
        prepared = self._prepare(list(events))  # JSON work outside the lock: other writers keep going
        first = self._append_prepared(prepared)
        if checkpoint:
            made: Checkpoint | None = None
            with contextlib.suppress(LongwatchError):  # a missing key must not stop ingest
                made = self._checkpoint_if_due(first + len(prepared))
            if made is not None and made.tsr is None and self.settings.tsa_url:
                self._timestamp(made)
        return [Receipt(first + i, e.event_id) for i, e in enumerate(events)]

    def _name_the_bytes(self, events: Sequence[CustodyEvent]) -> None:
        """Bind each package event to content, not only to an id: ``extra.tagmanifests`` maps each package it
        names to the SHA-256 of the package's tagmanifest-sha256.txt, which covers every manifest and so
        every byte (the same digest the package's signature signs). Packages the catalog does not know
        (yet, or any more) are left out; an event that says it itself is left as it is."""
        wanted = sorted({p for e in events if e.packages and "tagmanifests" not in e.extra for p in e.packages})
        if not wanted:
            return
        digests: dict[str, str] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                digests.update((row[0], row[1]) for row in conn.execute(
                    select(PACKAGES.c.id, PACKAGES.c.tagmanifest_sha256).where(PACKAGES.c.id.in_(wanted[i:i + 500]))))
        for event in events:
            if event.packages and "tagmanifests" not in event.extra:
                found = {p: digests[p] for p in event.packages if digests.get(p)}
                if found:
                    event.extra = {**event.extra, "tagmanifests": found}

    def _append_prepared(self, prepared: list[_Prepared]) -> int:
        """Write ``prepared`` durably (ourselves or through the lock holder); the seq of its first entry."""
        with self._thread_lock:
            nested = self._lock_fd is not None  # called by a method that already holds the lock (reindex)
            fd = self._lock_fd if nested else self._open_in_dir("lock")
            assert fd is not None
            try:
                token: str | None = None
                if not nested:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        token = self._spool(prepared)  # someone is writing: let them take ours along
                        while True:  # until a holder answers, or the lock is ours
                            seqs = self._collect(token)
                            if seqs is not None:
                                return seqs[0]
                            try:
                                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                                break
                            except BlockingIOError:
                                time.sleep(SPOOL_POLL)
                    self._lock_fd = fd
                if token is not None:
                    seqs = self._collect(token)
                    if seqs is not None:
                        return seqs[0]
                head, repairs = self._current_head()
                if repairs:
                    head = self._write(head, self._prepare(repairs))
                claimed = self._claim()
                done = self._already_written(claimed)
                group: list[_Prepared] = []
                starts: dict[str, int] = {}
                for name, batch in claimed:
                    if name not in done:
                        starts[name] = head.next_seq + len(group)
                        group.extend(batch)
                if token is None:
                    starts[""] = head.next_seq + len(group)
                    group.extend(prepared)
                if group:
                    head = self._write(head, group)
                self._head = head
                for name, batch in claimed:
                    first = done.get(name, starts.get(name, -1))
                    if name != token:
                        _write_durable(self.spool_dir / f"{name}.done",
                                       json.dumps(list(range(first, first + len(batch)))).encode(), sync=False)
                    (self.spool_dir / f"{name}.pending").unlink(missing_ok=True)
                return starts[""] if token is None else done.get(token, starts.get(token, -1))
            finally:
                if not nested:
                    self._lock_fd = None
                    os.close(fd)

    # -- the spool: groups handed to the lock holder ------------------------------------
    @property
    def spool_dir(self) -> Path:
        return self.dir / "spool"

    def _spool(self, prepared: list[_Prepared]) -> str:
        """One file: a JSON line of each entry's index fields and part lengths, then the parts' raw bytes."""
        self.spool_dir.mkdir(exist_ok=True)
        token = f"{time.time_ns():020d}-{uuid.uuid4().hex}"
        head = json.dumps([[p.stamp, p.type, p.event_id, p.outcome, p.packages, len(p.start), len(p.middle),
                            len(p.end)] for p in prepared], ensure_ascii=False).encode()
        body = b"".join(part for p in prepared for part in (p.start, p.middle, p.end))
        # not fsync'd: nothing is acknowledged until the holder's fsync of the segment
        _write_durable(self.spool_dir / f"{token}.pending", head + b"\n" + body, sync=False)
        return token

    @staticmethod
    def _unspool(data: bytes) -> list[_Prepared]:
        """ValueError when the file is not what :meth:`_spool` wrote."""
        cut = data.index(b"\n")
        items = json.loads(data[:cut])
        body = memoryview(data)[cut + 1 :]
        out: list[_Prepared] = []
        pos = 0
        for stamp, type_, event_id, outcome, packages, n1, n2, n3 in items:
            a, b, c = pos + n1, pos + n1 + n2, pos + n1 + n2 + n3
            out.append(_Prepared(stamp, type_, event_id, outcome, tuple(packages), bytes(body[pos:a]),
                                 bytes(body[a:b]), bytes(body[b:c])))
            pos = c
        if pos != len(body):
            raise ValueError("the spooled group's parts do not add up")
        return out

    def _collect(self, token: str) -> list[int] | None:
        """The seqs a lock holder gave our spooled group, or None when we must write it ourselves."""
        done = self.spool_dir / f"{token}.done"
        try:
            seqs = json.loads(done.read_bytes())
        except FileNotFoundError:
            return None
        done.unlink(missing_ok=True)
        return [int(s) for s in seqs]

    def _claim(self) -> list[tuple[str, list[_Prepared]]]:
        if not self.spool_dir.is_dir():
            return []
        claimed = []
        now = time.time()
        for path in sorted(self.spool_dir.iterdir()):
            if path.suffix == ".done":
                with contextlib.suppress(FileNotFoundError):  # its waiter may be collecting it right now
                    if now - path.stat().st_mtime > 3600:
                        path.unlink()  # its writer died before collecting
            if path.suffix != ".pending":
                continue
            try:
                batch = self._unspool(path.read_bytes())
            except (OSError, ValueError, TypeError):
                path.unlink(missing_ok=True)  # never acknowledged: its writer will not see a .done and retries
                continue
            claimed.append((path.stem, batch))
        return claimed

    def _already_written(self, claimed: list[tuple[str, list[_Prepared]]]) -> dict[str, int]:
        """Spooled groups that a holder wrote and then died before answering: name -> first seq."""
        ids = {batch[0].event_id: name for name, batch in claimed if batch}
        if not ids:
            return {}
        found: dict[str, int] = {}
        with self.engine.connect() as conn:
            for event_id, seq in conn.execute(select(ENTRIES.c.event_id, ENTRIES.c.seq)
                                              .where(ENTRIES.c.event_id.in_(list(ids)))):
                found[ids[event_id]] = seq
        return found

    def _prepare(self, events: list[CustodyEvent]) -> list[_Prepared]:
        """Each entry's canonical JSON around the two fields only the lock holder knows (prev, seq)."""
        now = clock.now()
        now_text = utc_text(now)
        middle = f'","recorded":"{now_text}","seq":'.encode()
        default_agents = _json([software_agent(), *([person_agent(self.operator)] if self.operator else [])])
        uris: dict[str, str] = {}
        out = []
        for event in events:
            event.event_id = event.event_id or new_event_id()
            when = now_text if event.time is None else utc_text(event.time)
            uri = uris.get(event.type)
            if uri is None:
                uri = uris[event.type] = _json(event_type_uri(event.type))
            packages = tuple(event.packages)
            start = (f'{{"agents":{_json(event.agents) if event.agents else default_agents},"clock":"system",'
                     f'"detail":{_json(event.detail)},"event_id":{_json(event.event_id)},'
                     f'"extra":{_json(event.extra)},"note":{_json(event.note)},"objects":{_json(list(event.objects))},'
                     f'"outcome":{_json(event.outcome)},"packages":{_json(list(packages))},"prev":"')
            end = f',"time":"{when}","type":{_json(event.type)},"type_uri":{uri},"v":{FORMAT}}}'
            out.append(_Prepared(when[:10] + " " + when[11:-1], event.type, event.event_id, event.outcome, packages,
                                 start.encode(), middle, end.encode()))
        return out

    def _write(self, head: _Head, prepared: list[_Prepared]) -> _Head:
        lines: list[bytes] = []
        rows: list[tuple[Any, ...]] = []
        pkg_rows: list[tuple[int, str]] = []
        seq, prev = head.next_seq, head.prev
        segment, offset = head.segment, head.size
        new_segment = segment is None or offset >= self.settings.segment_bytes
        if new_segment:
            segment, offset = self.segments_dir / f"{seq:012d}.jsonl", 0
        assert segment is not None
        name = segment.name
        for p in prepared:
            line = b"".join((p.start, prev.encode(), p.middle, str(seq).encode(), p.end))
            leaf = hashlib.sha256(b"\x00" + line).hexdigest()  # leaf_hash(line), inlined: once per entry
            rows.append((seq, p.stamp, p.type, p.event_id, p.outcome, name, offset, len(line), leaf))
            if p.packages:
                pkg_rows.extend((seq, pkg) for pkg in dict.fromkeys(p.packages))
            lines.append(line)
            offset += len(line) + 1
            seq, prev = seq + 1, leaf
        first_identity: Identity | None = None
        if head.next_seq == 0:  # entry 0 fixes the identity: beside the segments first, then in the catalog
            known = self._identity or self.catalog_identity() or self.read_identity()
            first_identity = Identity(known.ledger_id if known else str(uuid.uuid4()), rows[0][8])
            self._write_identity(first_identity)
        # 1. the index, committed durably: a line the index lacks was not written by us
        with self.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:  # the catalog runs with synchronous=NORMAL; this commit must reach the disk
                conn.exec_driver_sql("PRAGMA synchronous=FULL")
                conn.commit()
            try:
                if conn.dialect.name == "postgresql":  # durable even where the server or role turned it off
                    conn.exec_driver_sql("SET LOCAL synchronous_commit TO on")
                _insert_rows(conn, rows, pkg_rows)
                if first_identity is not None:
                    self._identity_row(conn, first_identity, head.next_seq)
                else:
                    conn.execute(update(IDENTITY).where(IDENTITY.c.id == 1).values(group_start=head.next_seq))
                conn.commit()
                self._group_start = head.next_seq
                if first_identity is not None:
                    self._identity = first_identity
            finally:
                conn.rollback()
                if sqlite:
                    conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                    conn.commit()
        # 2. the bytes, then fdatasync: only now is the group acknowledged
        try:
            fd = os.open(segment, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                lines.append(b"")
                _write_all(fd, b"\n".join(lines))
                os.fdatasync(fd)
            finally:
                os.close(fd)
            if new_segment:
                fsync_dir(self.segments_dir)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.truncate(segment, head.size if not new_segment else 0)
            with self.engine.begin() as conn:
                conn.execute(delete(ENTRY_PACKAGES).where(ENTRY_PACKAGES.c.seq >= head.next_seq))
                conn.execute(delete(ENTRIES).where(ENTRIES.c.seq >= head.next_seq))
            raise LongwatchError("S002", location="ledger", detail=str(exc)) from exc
        return _Head(segment, offset, seq, prev)

    # -- reading ---------------------------------------------------------------------
    def lines(self) -> Iterator[tuple[str, int, bytes, bool]]:
        """Every line as (segment, offset, bytes without newline, complete?) in file order."""
        for path in self.segment_paths():
            with open(path, "rb") as fh:
                offset = 0
                for raw in fh:
                    complete = raw.endswith(b"\n")
                    yield path.name, offset, raw[:-1] if complete else raw, complete
                    offset += len(raw)

    def entries(self, mentioning: bytes = b"") -> Iterator[dict[str, Any]]:
        """Every complete entry in ledger order, straight from the segments (no index needed: ``reindex``
        replays them into a catalog that lost its index too). ``mentioning`` skips, before parsing, every
        line without those bytes; a line that is not JSON is skipped (``custody verify`` reports it)."""
        for _segment, _offset, line, complete in self.lines():
            if not complete or (mentioning and mentioning not in line):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry

    def index_behind(self) -> bool:
        """Whether the segments hold complete entries the catalog's index lacks (the catalog was lost, or
        restored from a backup older than the ledger): :meth:`reindex` then rebuilds the index."""
        for path in reversed(self.segment_paths()):
            line = self._read_last_line(path, self._complete_end(path, path.stat().st_size))
            if line is None:
                continue
            try:
                last = int(json.loads(line)["seq"])
            except (ValueError, KeyError, TypeError):
                return True  # reindex says what is wrong with it
            top = self._index_max()
            return top is None or top < last
        return False

    def read_entry(self, segment: str, offset: int, length: int) -> tuple[dict[str, Any], bytes]:
        with open(self.segments_dir / segment, "rb") as fh:
            fh.seek(offset)
            line = fh.read(length)
        return json.loads(line), line

    def size(self) -> int:
        top = self._index_max()
        return 0 if top is None else top + 1

    def entry(self, ref: str | int) -> tuple[int, dict[str, Any], bytes]:
        """An entry by seq or event id, located through the index."""
        with self.engine.connect() as conn:
            query = select(ENTRIES.c.seq, ENTRIES.c.segment, ENTRIES.c.byte_offset, ENTRIES.c.length)
            text = str(ref)
            query = query.where(ENTRIES.c.seq == int(text)) if text.isdigit() else query.where(
                ENTRIES.c.event_id == text)
            row = conn.execute(query).first()
        if row is None:
            raise LongwatchError("L017", entry=ref)
        entry, line = self.read_entry(row.segment, row.byte_offset, row.length)
        return row.seq, entry, line

    def history(self, package_id: str) -> list[tuple[int, dict[str, Any], bytes]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ENTRIES.c.seq, ENTRIES.c.segment, ENTRIES.c.byte_offset, ENTRIES.c.length)
                .join(ENTRY_PACKAGES, ENTRY_PACKAGES.c.seq == ENTRIES.c.seq)
                .where(ENTRY_PACKAGES.c.package_id == package_id).order_by(ENTRIES.c.seq)).all()
        out = []
        for row in rows:
            entry, line = self.read_entry(row.segment, row.byte_offset, row.length)
            out.append((row.seq, entry, line))
        return out

    def indexed_leaves(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, bytes]]:
        query = select(ENTRIES.c.seq, ENTRIES.c.leaf_hash).where(ENTRIES.c.seq >= start).order_by(ENTRIES.c.seq)
        if stop is not None:
            query = query.where(ENTRIES.c.seq < stop)
        with self.engine.connect() as conn:
            for seq, leaf in conn.execute(query.execution_options(yield_per=10000)):
                yield seq, bytes.fromhex(leaf)

    def tree(self, size: int | None = None) -> MerkleTree:
        """The Merkle tree over the indexed leaves (proofs are checked against signed roots anyway)."""
        tree = MerkleTree()
        for expected, (seq, leaf) in enumerate(self.indexed_leaves(0, size)):
            if seq != expected:
                raise LongwatchError("L006", first=expected, last=seq - 1)
            tree.append(leaf)
        return tree

    # -- checkpoints ----------------------------------------------------------------------
    def checkpoint_paths(self) -> list[Path]:
        return sorted(p for p in self.checkpoints_dir.glob("*.note") if p.stem.isdigit())

    def load_checkpoint(self, path: Path) -> Checkpoint:
        note = path.read_bytes()
        origin, size, root, when = parse_note(note)
        sig_path = path.with_name(path.name + ".p7s")
        tsr_path = path.with_name(path.name + ".p7s.tsr")
        return Checkpoint(size, root, when, origin, note, sig_path.read_bytes() if sig_path.exists() else b"",
                          tsr_path.read_bytes() if tsr_path.exists() else None)

    def checkpoints(self) -> list[Checkpoint]:
        return [self.load_checkpoint(p) for p in self.checkpoint_paths()]

    def checkpoint_for(self, size: int) -> Checkpoint:
        path = self.checkpoints_dir / f"{size:012d}.note"
        if not path.exists():
            raise LongwatchError("L018", checkpoint=size)
        return self.load_checkpoint(path)

    def _frontier(self, size: int, last: Checkpoint | None) -> Frontier:
        cache = self.dir / "frontier.json"
        frontier = Frontier()
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            data = json.loads(cache.read_text())
            candidate = Frontier(int(data["size"]), [bytes.fromhex(h) for h in data["hashes"]])
            trusted = last is not None and candidate.size == last.size and candidate.root() == last.root
            if candidate.size <= size and trusted:
                frontier = candidate
        for seq, leaf in self.indexed_leaves(frontier.size, size):
            if seq != frontier.size:
                raise LongwatchError("L006", first=frontier.size, last=seq - 1)
            frontier.append(leaf)
        if frontier.size != size:
            raise LongwatchError("L006", first=frontier.size, last=size - 1)
        return frontier

    @contextlib.contextmanager
    def _checkpoint_lock(self, wait: bool) -> Iterator[bool]:
        """Whoever signs a checkpoint holds ``ledger/checkpoint.lock``; yields False when it is taken and
        ``wait`` is false (someone is signing one right now). Taken after the appender lock, never before it."""
        fd = self._open_in_dir("checkpoint.lock")
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def _last_checkpoint(self) -> Checkpoint | None:
        paths = self.checkpoint_paths()
        last = self.load_checkpoint(paths[-1]) if paths else None
        self._known_checkpoint = (last.size, last.time) if last else (0, None)
        return last

    def _is_due(self, size: int, last_size: int, last_time: datetime | None) -> bool:
        if size <= last_size:
            return False
        if size - last_size >= self.settings.checkpoint_every:
            return True
        if last_time is None:
            last_time = self._first_time()
        return last_time is not None and clock.now() - last_time >= timedelta(
            minutes=self.settings.checkpoint_minutes)

    def _checkpoint_if_due(self, size: int) -> Checkpoint | None:
        """After an append that made the ledger ``size`` entries long (all durable): sign one if it is due.

        What this process last saw of the checkpoints answers most calls without
        touching the disk; it can only be older than the truth, so "due" is
        confirmed under the checkpoint lock before anything is signed. If another
        process is signing one at this moment, this one does not wait for it.
        """
        known = self._known_checkpoint
        if known is not None and not self._is_due(size, *known):
            return None
        with self._checkpoint_lock(wait=False) as got:
            if not got:
                return None
            last = self._last_checkpoint()
            if not self._is_due(size, *(self._known_checkpoint or (0, None))):
                return None
            return self._make_checkpoint(size, last)

    def _first_time(self) -> datetime | None:
        if self._first is None:
            with self.engine.connect() as conn:
                value = conn.execute(select(ENTRIES.c.time_utc).where(ENTRIES.c.seq == 0)).scalar()
            if value is not None:
                self._first = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        return self._first

    def _make_checkpoint(self, size: int, last: Checkpoint | None) -> Checkpoint:
        """Under the checkpoint lock: sign (size, root, time) over entries 0..size-1, which are durable.

        Entries below ``size`` never change once acknowledged, so appenders go on
        meanwhile; ``last`` is the newest checkpoint, returned when it covers ``size``.
        """
        if last is not None and last.size >= size:
            return last
        frontier = self._frontier(size, last)
        root = frontier.root()
        now = clock.now()
        note = checkpoint_note(self.origin, size, root, now)
        signature = signing.sign_detached(self.signer, note)
        cp = Checkpoint(size, root, now, self.origin, note, signature)
        path = self.checkpoints_dir / f"{cp.name}.note"
        _write_durable(path.with_name(path.name + ".p7s"), signature, sync_dir=False)
        _write_durable(path, note)  # the note last: a checkpoint without its .p7s is never listed
        self._known_checkpoint = (size, now)
        with contextlib.suppress(OSError):  # a cache, checked against the last checkpoint before use
            _write_durable(self.dir / "frontier.json", json.dumps(
                {"size": frontier.size, "hashes": [h.hex() for h in frontier.hashes]}).encode(), sync=False)
        return cp

    def _timestamp(self, cp: Checkpoint) -> None:
        try:
            cp.tsr = timestamp.request_token(self.settings.tsa_url, cp.signature)
        except timestamp.TimestampError as exc:
            cp.tsa_error = str(exc)
            return
        _write_durable(self.checkpoints_dir / f"{cp.name}.note.p7s.tsr", cp.tsr)

    def checkpoint(self) -> Checkpoint:
        """On demand (``custody checkpoint``, every export): a signed checkpoint of the ledger as it is now."""
        with self.locked():
            head, repairs = self._current_head()
            if repairs:
                head = self._write(head, self._prepare(repairs))
            self._head = head
            if head.next_seq == 0:
                raise LongwatchError("L022")
        with self._checkpoint_lock(wait=True):
            cp = self._make_checkpoint(head.next_seq, self._last_checkpoint())
        if cp.tsr is None and self.settings.tsa_url:
            self._timestamp(cp)
        return cp

    def reindex(self) -> int:
        """Rebuild the catalog index from the segments, after a catalog was restored from an older backup.

        Refuses (with the first problem's code) unless the segments form one
        unbroken chain whose every signed checkpoint still matches: it must
        not launder a tampered ledger. The rebuild is itself recorded.
        """
        with self.locked():
            rows: list[dict[str, Any]] = []
            pkg_rows: list[dict[str, Any]] = []
            frontier = Frontier()
            roots: dict[int, bytes] = {}
            wanted = {cp.size: cp for cp in self.checkpoints()}
            prev = ZERO_HASH
            for segment, offset, line, complete in self.lines():
                try:
                    entry = json.loads(line)
                    seq = int(entry["seq"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise LongwatchError("L001", segment=segment, offset=offset, detail=str(exc)) from exc
                if not complete:
                    raise LongwatchError("L001", segment=segment, offset=offset, detail="a torn tail")
                if seq != frontier.size:
                    raise LongwatchError("L002", segment=segment, offset=offset, found=seq, expected=frontier.size)
                if entry.get("prev") != prev:
                    raise LongwatchError("L003", seq=seq)
                leaf = leaf_hash(line)
                frontier.append(leaf)
                if frontier.size in wanted:
                    roots[frontier.size] = frontier.root()
                prev = leaf.hex()
                rows.append({"seq": seq, "time_utc": parse_utc(entry["time"]), "event_type": entry["type"],
                             "event_id": entry["event_id"], "outcome": entry["outcome"], "segment": segment,
                             "byte_offset": offset, "length": len(line), "leaf_hash": prev})
                pkg_rows.extend({"seq": seq, "package_id": p} for p in dict.fromkeys(entry.get("packages", [])))
            for size, cp in wanted.items():
                if size > frontier.size:
                    raise LongwatchError("L010", checkpoint=size, size=size, found=frontier.size)
                if roots[size] != cp.root:
                    raise LongwatchError("L009", checkpoint=size, expected=cp.root.hex(), found=roots[size].hex())
            identity: Identity | None = None
            if rows:
                on_disk = self.read_identity()
                if on_disk is not None and on_disk.first_hash != rows[0]["leaf_hash"]:
                    raise LongwatchError("L024", path=self.dir, detail=f"its {IDENTITY_FILE} names another entry 0")
                identity = on_disk or Identity(str(uuid.uuid4()), rows[0]["leaf_hash"])
                if on_disk is None:
                    self._write_identity(identity)
            with self.engine.begin() as conn:
                conn.execute(delete(ENTRY_PACKAGES))
                conn.execute(delete(ENTRIES))
                if identity is not None:
                    self._identity_row(conn, identity, len(rows))
                for i in range(0, len(rows), 10000):
                    conn.execute(insert(ENTRIES), rows[i : i + 10000])
                for i in range(0, len(pkg_rows), 10000):
                    conn.execute(insert(ENTRY_PACKAGES), pkg_rows[i : i + 10000])
            self._head = None
            self.append([CustodyEvent("recovery", outcome="success", agents=[
                software_agent(), *([person_agent(self.operator, "authorizer")] if self.operator else [])],
                detail=f"custody ledger: catalog index rebuilt from the segments ({len(rows)} entries, "
                       f"{len(wanted)} checkpoints matched)")])
        return len(rows)
