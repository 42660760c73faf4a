"""The custody ledger: hash-chained entries sequenced by the catalog's database, a Merkle tree, signed checkpoints.

Where it lives (docs/custody.md, "Where the entries live")::

    custody_entries        one row per entry: its canonical JSON bytes, seq and leaf hash
                           (the previous entry's leaf hash is inside the bytes: the chain)
    custody_checkpoints    signed checkpoints: note, CMS signature, RFC 3161 token, Merkle frontier
    custody_cosignatures   witnesses' cosignatures of those checkpoints
    custody_ledger         the identity: an id and entry 0's leaf hash
    custody_mirrors        how far the copy on each storage location reaches (mirror.py)

**Appending** is one database transaction: it takes the ledger's write lock
(PostgreSQL: a transaction-level advisory lock; SQLite: the database's write
lock, taken by making the transaction's first statement a write), reads the
head (the last seq and its leaf hash), inserts the group's rows and commits
durably (``synchronous_commit`` on, ``synchronous=FULL``). There is no
``flock`` and no folder: every machine that shares the database shares the
ledger, and a crash leaves the whole group or none of it, so recovery never
removes anything, let alone anything below a signed checkpoint.

**The mirror**: every checkpoint closes a segment (the entries since the
previous one) and both are written to every storage location, under object
lock where the store has it (:mod:`longwatch.core.custody.mirror`). The
database can then be lost as the catalog can: ``reindex`` restores the ledger
from the mirror (:meth:`Ledger.restore`), and what only the database held
(the entries after the last checkpoint) is bounded by ``[custody]
checkpoint_every`` and ``checkpoint_minutes``.

**Fail closed** (:meth:`Ledger.check`): an append refuses when the mirror
names another ledger (L024), when the mirror holds entries the database lacks
(L034: a database restored from an older backup, or a new catalog: run
``reindex``), or when the primary location's mirror has been unreachable for
longer than ``[custody] mirror_grace_minutes`` (L032).

What an entry is (:class:`~longwatch.core.custody.entries.CustodyEvent`, its
agents and bytes) is in ``entries.py``; the checkpoint note's format is in
``checkpoints.py``; proofs and verification are in ``audit.py``.

Why one long module: :class:`Ledger` is the one writer of the ledger's
tables. Appending, checkpointing and restoring all move the same head under
the same lock and reset the same per-process caches (the last checkpoint
seen, the last check), so splitting them would spread one invariant over
several files that each reach into the others' private state.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import tomllib
import uuid
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from longwatch import clock
from longwatch.core import faults
from longwatch.core.aip import signing, timestamp
from longwatch.core.aip.vocabulary import event_type_uri
from longwatch.core.catalog.models import (
    CustodyCheckpoint,
    CustodyCosignature,
    CustodyEntry,
    CustodyEntryPackage,
    CustodyLedgerIdentity,
    CustodyMirror,
    Package,
)
from longwatch.core.custody import mirror
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
from longwatch.core.custody.merkle import Frontier, MerkleTree
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

ZERO_HASH = "0" * 64
ENTRIES: Table = CustodyEntry.__table__  # type: ignore[assignment]
ENTRY_PACKAGES: Table = CustodyEntryPackage.__table__  # type: ignore[assignment]
IDENTITY: Table = CustodyLedgerIdentity.__table__  # type: ignore[assignment]
CHECKPOINTS: Table = CustodyCheckpoint.__table__  # type: ignore[assignment]
COSIGNATURES: Table = CustodyCosignature.__table__  # type: ignore[assignment]
MIRRORS: Table = CustodyMirror.__table__  # type: ignore[assignment]
PACKAGES: Table = Package.__table__  # type: ignore[assignment]
#: the PostgreSQL advisory lock every appender takes (the first 8 bytes of a SHA-256 of its name)
LOCK_KEY = int.from_bytes(hashlib.sha256(b"longwatch custody ledger").digest()[:8], "big", signed=True)
#: how long a process trusts its last look at the mirror's identity before it looks again (seconds)
CHECK_EVERY = 300.0
#: engine -> monotonic time of the last check() that passed in this process (shared by its Ledger objects)
_CHECKED: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()
Identity = mirror.Identity


@dataclass(frozen=True)
class CustodySettings:
    """``[custody]`` in longwatch.toml."""

    checkpoint_every: int = 1000
    checkpoint_minutes: float = 60.0
    tsa_url: str = ""
    tsa_cert: Path | None = None
    #: verifier keys of the witnesses whose cosignatures `custody verify` checks (core/custody/witness.py)
    witnesses: tuple[str, ...] = ()
    #: how long the primary location's mirror may stay unreachable before appends stop (L032)
    mirror_grace_minutes: float = 60.0


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
        grace = float(data.get("mirror_grace_minutes", 60))
    except (TypeError, ValueError) as exc:
        raise LongwatchError("A003", path=path, detail=f"[custody]: {exc}") from exc
    if every < 1 or minutes <= 0 or grace < 0:
        raise LongwatchError("A003", path=path, detail="[custody] checkpoint_every >= 1, checkpoint_minutes > 0, "
                                                       "mirror_grace_minutes >= 0")
    cert = data.get("tsa_cert")
    witnesses = data.get("witnesses", [])
    if not isinstance(witnesses, list) or not all(isinstance(w, str) for w in witnesses):
        raise LongwatchError("A003", path=path, detail="[custody] witnesses is a list of verifier keys (text)")
    return CustodySettings(every, minutes, str(data.get("tsa_url", "")), root / str(cert) if cert else None,
                           tuple(witnesses), grace)


_ENTRY_COLUMNS = ("seq", "time_utc", "event_type", "event_id", "outcome", "segment", "byte_offset", "length",
                  "leaf_hash", "line")


def _insert_rows(conn: Any, rows: list[tuple[Any, ...]], pkg_rows: list[tuple[int, str]]) -> None:
    """Straight to the driver's executemany: SQLAlchemy's per-row parameter handling cost more than the insert.

    Times arrive as the text SQLAlchemy's DateTime writes on SQLite (naive UTC),
    which is what the catalog's UTCDateTime stores; other back ends get the
    naive UTC datetime it binds there.
    """
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    if conn.dialect.name != "sqlite":
        rows = [(r[0], datetime.fromisoformat(r[1]), *r[2:]) for r in rows]
    if rows:
        conn.exec_driver_sql(
            f"INSERT INTO custody_entries ({', '.join(_ENTRY_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join([mark] * len(_ENTRY_COLUMNS))})", rows)
    if pkg_rows:
        conn.exec_driver_sql(f"INSERT INTO custody_entry_packages (seq, package_id) VALUES ({mark}, {mark})",  # noqa: S608
                             pkg_rows)


@contextlib.contextmanager
def durable_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection holding the ledger's write lock in a transaction whose commit reaches the disk.

    SQLite: the catalog runs with ``synchronous=NORMAL``, so this connection
    switches to FULL for the commit, and the transaction's first statement is a
    write (an UPDATE of the identity row, which matches nothing before entry 0):
    the database's write lock is taken before anything is read, so two
    appenders never both read the same head (with WAL a deferred reader could
    not upgrade afterwards anyway). PostgreSQL: a transaction-level advisory
    lock, released by the commit or by the server when the client dies, and
    ``synchronous_commit`` on even where the server or role turned it off.
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA synchronous=FULL")
            conn.commit()
        try:
            if sqlite:
                conn.execute(update(IDENTITY).where(IDENTITY.c.id == 1).values(group_start=IDENTITY.c.group_start))
            else:
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO on")
            yield conn
            conn.commit()
        finally:
            conn.rollback()
            if sqlite:
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                conn.commit()


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
    """The archive's custody ledger. Safe to use from many processes and machines at once."""

    def __init__(self, engine: Engine, origin: str, settings: CustodySettings | None = None,
                 signer: Any = None, archive: Archive | None = None, operator: str = "") -> None:
        self.engine = engine
        self.origin = origin
        self.settings = settings or CustodySettings()
        self._signer = signer
        self._archive = archive
        self.operator = operator
        self._checked_at: float | None = None  # monotonic time of the last check() that passed
        self._known_checkpoint: tuple[int, datetime | None] | None = None  # (size, time) of the newest seen
        self._first: datetime | None = None  # time of entry 0 (fixed once written)
        self.mirrored_to: set[str] = set()  # locations this process knows hold the mirror (mirror.push_tail)
        self._imported = False  # whether a pre-0027 folder was looked for (and imported) in this process

    @classmethod
    def for_archive(cls, archive: Archive) -> Ledger:
        return cls(archive.catalog.engine, archive.settings.name, load_settings(archive.root), archive=archive,
                   operator=archive.operator)

    @property
    def archive(self) -> Archive | None:
        return self._archive

    @property
    def signer(self) -> signing.Signer:
        if self._signer is None:
            assert self._archive is not None
            self._signer = self._archive.signer
        return self._signer

    # -- identity and fail-closed checks ---------------------------------------------------
    def catalog_identity(self) -> Identity | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(IDENTITY).where(IDENTITY.c.id == 1)).first()
        return None if row is None or not row.first_hash else Identity(row.ledger_id, row.first_hash)

    def check(self) -> None:
        """Refuse unless appending is safe: reads the database and the primary location's mirror, writes nothing
        (except, once, importing a ledger kept in a folder before migration 0027).

        L024: the mirror names another ledger, or lacks its identity where entries were mirrored before (a
        failed mount, another archive's bucket); L034: the mirror holds entries the database lacks (the
        database was restored from an older backup, or is a new catalog: ``reindex`` restores them);
        L032: the primary location's mirror has been unreachable for longer than the configured grace.
        Workers call it before they take a job, ``/readyz`` before it says ready.
        """
        self._import_folder()
        if self._archive is None:
            self._checked_at = time.monotonic()
            return
        mirror.check(self, self._archive.settings.primary_location)
        self._checked_at = _CHECKED[self.engine] = time.monotonic()  # before the recovery entry: no second check
        for first, end in mirror.fill_gaps(self):
            self.append([CustodyEvent("recovery", outcome="success", agents=[software_agent()], detail=(
                f"custody ledger: entries {first}..{end - 1} were committed but never reached the mirror on "
                f"{self._archive.settings.primary_location!r} (a process stopped between its commit and its "
                "mirror write); they are mirrored now"))])

    def _check_if_stale(self) -> None:
        """Check at most every :data:`CHECK_EVERY` seconds per process and database: commands and jobs make a
        new :class:`Ledger` for each append, and the check reads the mirror's listing, which grows."""
        last = max(self._checked_at or 0.0, _CHECKED.get(self.engine, 0.0))
        if not last or time.monotonic() - last > CHECK_EVERY:
            self.check()

    def _refuse_if_mirror_lost(self, conn: Connection) -> None:
        """Within the append's transaction: L032 when the primary mirror has failed for longer than the grace."""
        if self._archive is None:
            return
        location = self._archive.settings.primary_location
        since = conn.execute(select(MIRRORS.c.failing_since).where(MIRRORS.c.location == location)).scalar()
        if since is None:
            return
        since = since.replace(tzinfo=UTC) if since.tzinfo is None else since
        if clock.now() - since > timedelta(minutes=self.settings.mirror_grace_minutes):
            raise LongwatchError("L032", location=location, since=utc_text(since),
                                 minutes=self.settings.mirror_grace_minutes)

    # -- appending -------------------------------------------------------------------
    def append(self, events: Sequence[CustodyEvent], checkpoint: bool = True) -> list[Receipt]:
        """Append ``events`` in order as one durable group; return once the database has committed them.

        The group then goes to the primary location's mirror as a tail object
        (so losing the database loses no acknowledged entry the store still
        has). A checkpoint that falls due is signed afterwards, outside the
        transaction, and then mirrored: signing, the time-stamp authority and
        the object store never hold up the next group.
        """
        for event in events:
            event.check()
        if not events:
            return []
        self._check_if_stale()
        self._name_the_bytes(events)
        prepared = self._prepare(list(events))  # JSON work outside the transaction: other writers keep going
        first, lines = self._write(prepared)
        faults.fault("ledger-after-commit")  # acknowledged by the database, not yet on the mirror
        if self._archive is not None:
            mirror.push_tail(self, first, lines)
        if checkpoint:
            made: Checkpoint | None = None
            with contextlib.suppress(LongwatchError):  # a missing key must not stop ingest
                made = self._checkpoint_if_due(first + len(prepared))
            if made is not None:
                self._publish(made)
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

    def _write(self, prepared: list[_Prepared]) -> tuple[int, list[bytes]]:
        """One transaction under the ledger's lock: the head, the group's rows, the identity at entry 0."""
        with durable_transaction(self.engine) as conn:
            self._refuse_if_mirror_lost(conn)
            top = conn.execute(select(ENTRIES.c.seq, ENTRIES.c.leaf_hash).order_by(ENTRIES.c.seq.desc())
                               .limit(1)).first()
            first, prev = (0, ZERO_HASH) if top is None else (top.seq + 1, top.leaf_hash)
            rows: list[tuple[Any, ...]] = []
            pkg_rows: list[tuple[int, str]] = []
            seq = first
            for p in prepared:
                line = b"".join((p.start, prev.encode(), p.middle, str(seq).encode(), p.end))
                leaf = hashlib.sha256(b"\x00" + line).hexdigest()  # leaf_hash(line), inlined: once per entry
                rows.append((seq, p.stamp, p.type, p.event_id, p.outcome, "", 0, len(line), leaf, line))
                if p.packages:
                    pkg_rows.extend((seq, pkg) for pkg in dict.fromkeys(p.packages))
                seq, prev = seq + 1, leaf
            _insert_rows(conn, rows, pkg_rows)
            if first == 0:  # entry 0 fixes the identity (an id kept from a ledger whose entry 0 never committed)
                known = conn.execute(select(IDENTITY.c.ledger_id).where(IDENTITY.c.id == 1)).scalar()
                conn.execute(delete(IDENTITY))
                conn.execute(insert(IDENTITY).values(id=1, ledger_id=known or str(uuid.uuid4()),
                                                     first_hash=rows[0][8], directory="", group_start=0))
            else:
                conn.execute(update(IDENTITY).where(IDENTITY.c.id == 1).values(group_start=first))
            faults.fault("ledger-before-commit")
        return first, [row[9] for row in rows]

    # -- reading ---------------------------------------------------------------------
    def lines(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, bytes]]:
        """(seq, canonical bytes) of entries ``start..stop-1`` in ledger order."""
        self._import_folder()
        query = select(ENTRIES.c.seq, ENTRIES.c.line).where(ENTRIES.c.seq >= start).order_by(ENTRIES.c.seq)
        if stop is not None:
            query = query.where(ENTRIES.c.seq < stop)
        with self.engine.connect() as conn:
            for seq, line in conn.execute(query.execution_options(yield_per=5000)):
                yield seq, bytes(line) if line is not None else b""

    def rows(self) -> Iterator[tuple[int, str, bytes]]:
        """(seq, leaf hash recorded at write, canonical bytes) of every entry, for ``custody verify``."""
        self._import_folder()
        query = select(ENTRIES.c.seq, ENTRIES.c.leaf_hash, ENTRIES.c.line).order_by(ENTRIES.c.seq)
        with self.engine.connect() as conn:
            for seq, leaf, line in conn.execute(query.execution_options(yield_per=5000)):
                yield seq, leaf, bytes(line) if line is not None else b""

    def entries(self, mentioning: bytes = b"") -> Iterator[dict[str, Any]]:
        """Every entry in ledger order. ``mentioning`` skips, before parsing, every entry without those bytes;
        an entry that is not JSON is skipped (``custody verify`` reports it)."""
        for _seq, line in self.lines():
            if mentioning and mentioning not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry

    def of_types(self, types: list[str]) -> list[tuple[int, str, dict[str, Any]]]:
        """(seq, type, entry) of every entry of these event types, in ledger order (through the type index)."""
        self._import_folder()
        with self.engine.connect() as conn:
            rows = conn.execute(select(ENTRIES.c.seq, ENTRIES.c.event_type, ENTRIES.c.line)
                                .where(ENTRIES.c.event_type.in_(types)).order_by(ENTRIES.c.seq)).all()
        return [(row.seq, row.event_type, json.loads(row.line)) for row in rows]

    def size(self) -> int:
        with self.engine.connect() as conn:
            top = conn.execute(select(func.max(ENTRIES.c.seq))).scalar()
        return 0 if top is None else int(top) + 1

    def entry(self, ref: str | int) -> tuple[int, dict[str, Any], bytes]:
        """An entry by seq or event id."""
        self._import_folder()
        text = str(ref)
        query = select(ENTRIES.c.seq, ENTRIES.c.line)
        query = query.where(ENTRIES.c.seq == int(text)) if text.isdigit() else query.where(ENTRIES.c.event_id == text)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise LongwatchError("L017", entry=ref)
        return row.seq, json.loads(row.line), bytes(row.line)

    def history(self, package_id: str) -> list[tuple[int, dict[str, Any], bytes]]:
        self._import_folder()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ENTRIES.c.seq, ENTRIES.c.line)
                .join(ENTRY_PACKAGES, ENTRY_PACKAGES.c.seq == ENTRIES.c.seq)
                .where(ENTRY_PACKAGES.c.package_id == package_id).order_by(ENTRIES.c.seq)).all()
        return [(row.seq, json.loads(row.line), bytes(row.line)) for row in rows]

    def indexed_leaves(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, bytes]]:
        """(seq, leaf hash) as recorded when each entry was written."""
        query = select(ENTRIES.c.seq, ENTRIES.c.leaf_hash).where(ENTRIES.c.seq >= start).order_by(ENTRIES.c.seq)
        if stop is not None:
            query = query.where(ENTRIES.c.seq < stop)
        with self.engine.connect() as conn:
            for seq, leaf in conn.execute(query.execution_options(yield_per=10000)):
                yield seq, bytes.fromhex(leaf)

    def tree(self, size: int | None = None) -> MerkleTree:
        """The Merkle tree over the recorded leaves (proofs are checked against signed roots anyway)."""
        tree = MerkleTree()
        for expected, (seq, leaf) in enumerate(self.indexed_leaves(0, size)):
            if seq != expected:
                raise LongwatchError("L006", first=expected, last=seq - 1)
            tree.append(leaf)
        return tree

    # -- checkpoints ----------------------------------------------------------------------
    def _from_row(self, row: Any) -> Checkpoint:
        note = bytes(row.note)
        try:
            origin, size, root, when = parse_note(note)
        except (ValueError, UnicodeDecodeError) as exc:
            raise LongwatchError("L023", name=f"{row.size} (database)", detail=str(exc)) from exc
        if size != row.size:
            raise LongwatchError("L023", name=f"{row.size} (database)", detail=f"the note says {size} entries")
        return Checkpoint(size, root, when, origin, note, bytes(row.signature),
                          bytes(row.tsr) if row.tsr is not None else None)

    def checkpoints(self) -> list[Checkpoint]:
        self._import_folder()
        with self.engine.connect() as conn:
            rows = conn.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.size)).all()
        return [self._from_row(r) for r in rows]

    def checkpoint_for(self, size: int) -> Checkpoint:
        with self.engine.connect() as conn:
            row = conn.execute(select(CHECKPOINTS).where(CHECKPOINTS.c.size == size)).first()
        if row is None:
            raise LongwatchError("L018", checkpoint=size)
        return self._from_row(row)

    def last_checkpoint(self) -> Checkpoint | None:
        """The newest signed checkpoint (None before the first)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.size.desc()).limit(1)).first()
        last = None if row is None else self._from_row(row)
        self._known_checkpoint = (last.size, last.time) if last else (0, None)
        return last

    def _frontier(self, size: int) -> Frontier:
        """The Merkle frontier at ``size``: from the newest checkpoint's stored frontier when its root agrees."""
        with self.engine.connect() as conn:
            row = conn.execute(select(CHECKPOINTS.c.size, CHECKPOINTS.c.note, CHECKPOINTS.c.frontier)
                               .where(CHECKPOINTS.c.size <= size).where(CHECKPOINTS.c.frontier.is_not(None))
                               .order_by(CHECKPOINTS.c.size.desc()).limit(1)).first()
        frontier = Frontier()
        if row is not None:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                candidate = Frontier(int(row.size), [bytes.fromhex(h) for h in json.loads(row.frontier)])
                if candidate.root() == parse_note(bytes(row.note))[2]:
                    frontier = candidate
        for seq, leaf in self.indexed_leaves(frontier.size, size):
            if seq != frontier.size:
                raise LongwatchError("L006", first=frontier.size, last=seq - 1)
            frontier.append(leaf)
        if frontier.size != size:
            raise LongwatchError("L006", first=frontier.size, last=size - 1)
        return frontier

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
        """After an append that made the ledger ``size`` entries long: sign one if it is due.

        What this process last saw of the checkpoints answers most calls
        without a query; it can only be older than the truth, so "due" is
        confirmed against the database before anything is signed.
        """
        known = self._known_checkpoint
        if known is not None and not self._is_due(size, *known):
            return None
        last = self.last_checkpoint()
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
        """Sign (size, root, time) over entries 0..size-1, which are committed and never change.

        Two processes may sign at once; each checkpoint is a row keyed by its
        size, so the second of the same size finds the first's and uses it.
        """
        if last is not None and last.size >= size:
            return last
        frontier = self._frontier(size)
        root = frontier.root()
        now = clock.now()
        note = checkpoint_note(self.origin, size, root, now)
        signature = signing.sign_detached(self.signer, note)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(CHECKPOINTS).values(
                    size=size, time_utc=now, note=note, signature=signature, tsr=None,
                    frontier=json.dumps([h.hex() for h in frontier.hashes])))
        except IntegrityError:
            return self.checkpoint_for(size)
        self._known_checkpoint = (size, now)
        return Checkpoint(size, root, now, self.origin, note, signature)

    def _timestamp(self, cp: Checkpoint) -> None:
        try:
            cp.tsr = timestamp.request_token(self.settings.tsa_url, cp.signature)
        except timestamp.TimestampError as exc:
            cp.tsa_error = str(exc)
            return
        with self.engine.begin() as conn:
            conn.execute(update(CHECKPOINTS).where(CHECKPOINTS.c.size == cp.size).values(tsr=cp.tsr))

    def _publish(self, cp: Checkpoint) -> None:
        """A new checkpoint's time-stamp, then its mirror: failures are recorded, never raised (the entries
        are committed); the mirror's state stops appends only past the grace (L032)."""
        if cp.tsr is None and self.settings.tsa_url:
            self._timestamp(cp)
        faults.fault("checkpoint-before-mirror")  # signed and committed, its segment not yet mirrored
        if self._archive is not None:
            mirror.sync(self)

    def checkpoint(self) -> Checkpoint:
        """On demand (``custody checkpoint``, every export): a signed checkpoint of the ledger as it is now."""
        self._check_if_stale()
        size = self.size()
        if size == 0:
            raise LongwatchError("L022")
        cp = self._make_checkpoint(size, self.last_checkpoint())
        self._publish(cp)
        return cp

    # -- witnesses' cosignatures --------------------------------------------------------------
    def add_cosignature(self, size: int, witness_name: str, line: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(COSIGNATURES).where(COSIGNATURES.c.size == size)
                         .where(COSIGNATURES.c.witness == witness_name))
            conn.execute(insert(COSIGNATURES).values(size=size, witness=witness_name, line=line))
        if self._archive is not None:
            mirror.sync(self)

    def cosignatures(self) -> list[tuple[int, str, str]]:
        """(tree size, witness name, line) of every cosignature kept."""
        self._import_folder()
        with self.engine.connect() as conn:
            return [(int(r.size), r.witness, r.line) for r in conn.execute(
                select(COSIGNATURES).order_by(COSIGNATURES.c.size, COSIGNATURES.c.witness))]

    # -- restoring ----------------------------------------------------------------------
    def restore(self, source: mirror.Source | None = None) -> int:
        """Rebuild the database's ledger from its mirror (the longest one, or ``source``); the count restored.

        For a catalog that was lost or restored from an older backup
        (``reindex`` calls it when the mirror is ahead). Refuses, with the first
        problem's code, unless the mirror is one unbroken chain whose every
        signed checkpoint matches, and unless every entry the database still
        holds is the mirror's (L004): it must not launder a tampered ledger.
        Entries the database holds beyond the mirror are kept when they extend
        it. The restore is itself recorded.
        """
        source = source or mirror.best_source(self)
        if source is None:
            return 0
        count = self._replace_from(source, keep_tail=True)
        self.append([CustodyEvent("recovery", outcome="success", agents=[
            software_agent(), *([person_agent(self.operator, "authorizer")] if self.operator else [])],
            detail=f"custody ledger: restored into the database from {source.label} ({count} entries, "
                   f"{len(source.checkpoints())} checkpoints matched)")])
        return count

    def behind(self) -> mirror.Source | None:
        """The mirror holding entries the database lacks, if any (``reindex`` then calls :meth:`restore`)."""
        source = mirror.best_source(self)
        return source if source is not None and source.size() > self.size() else None

    def _import_folder(self) -> None:
        """Once, after migration 0027: fill the bytes of entries that a pre-0027 ledger kept in a folder.

        The folder's entries must be exactly the ones the catalog indexed
        (L004 edited, L005 more than indexed, L006 fewer); its checkpoints and
        cosignatures come along. The folder itself is left as it was.
        """
        if self._imported:
            return
        with self.engine.connect() as conn:
            directory = conn.execute(select(IDENTITY.c.directory).where(IDENTITY.c.id == 1)).scalar()
            missing = directory is None and conn.execute(
                select(ENTRIES.c.seq).where(ENTRIES.c.line.is_(None)).limit(1)).first() is not None
        if not directory and not missing:
            self._imported = True
            return
        root = self._archive.root if self._archive is not None else Path.cwd()
        path = Path(directory) if directory else mirror.legacy_folder(self._archive)
        if path is None:
            raise LongwatchError("L024", path="ledger", detail="the catalog indexes entries written before "
                                 "migration 0027 but no ledger folder holds them")
        source = mirror.FolderSource(path if path.is_absolute() else root / path)
        self._imported = True  # before the import: reading the database back during it must not recurse
        try:
            self._replace_from(source, keep_tail=False)
        except BaseException:
            self._imported = False
            raise

    def _replace_from(self, source: mirror.Source, keep_tail: bool) -> int:
        """Check ``source`` against itself and the database, then make the database's ledger equal to it."""
        restored = mirror.read_checked(source)  # L001/L002/L003/L009/L010 on a broken source
        identity = source.identity() or Identity(str(uuid.uuid4()), restored.rows[0][8] if restored.rows else "")
        if restored.rows and identity.first_hash != restored.rows[0][8]:
            raise LongwatchError("L024", path=source.label, detail="its identity names another entry 0")
        with durable_transaction(self.engine) as conn:
            held = dict(conn.execute(select(ENTRIES.c.seq, ENTRIES.c.leaf_hash)).all())
            for row in restored.rows:
                if held.get(row[0], row[8]) != row[8]:
                    raise LongwatchError("L004", seq=row[0])
            beyond = sorted(s for s in held if s >= len(restored.rows))
            if beyond and not keep_tail:
                raise LongwatchError("L006", first=len(restored.rows), last=beyond[-1])
            if not keep_tail and len(restored.rows) > len(held):
                raise LongwatchError("L005", first=len(held), last=len(restored.rows) - 1)
            conn.execute(delete(ENTRY_PACKAGES).where(ENTRY_PACKAGES.c.seq < len(restored.rows)))
            conn.execute(delete(ENTRIES).where(ENTRIES.c.seq < len(restored.rows)))
            for i in range(0, len(restored.rows), 5000):
                _insert_rows(conn, restored.rows[i:i + 5000], [])
            for i in range(0, len(restored.packages), 5000):
                _insert_rows(conn, [], restored.packages[i:i + 5000])
            known = {int(s) for s in conn.execute(select(CHECKPOINTS.c.size)).scalars()}
            for cp in restored.checkpoints:
                if cp.size not in known:
                    conn.execute(insert(CHECKPOINTS).values(size=cp.size, time_utc=cp.time, note=cp.note,
                                                            signature=cp.signature, tsr=cp.tsr, frontier=None))
            have = {(int(r.size), r.witness) for r in conn.execute(select(COSIGNATURES.c.size, COSIGNATURES.c.witness))}
            for size, name, line in source.cosignatures():
                if (size, name) not in have:
                    conn.execute(insert(COSIGNATURES).values(size=size, witness=name, line=line))
            conn.execute(delete(IDENTITY))
            if restored.rows:
                conn.execute(insert(IDENTITY).values(id=1, ledger_id=identity.ledger_id, first_hash=identity.first_hash,
                                                     directory="", group_start=len(restored.rows)))
            if source.location is not None:
                mirror.record_reach(conn, source.location, source.size())
        self._known_checkpoint = None
        self._checked_at = None
        _CHECKED.pop(self.engine, None)
        return len(restored.rows)
