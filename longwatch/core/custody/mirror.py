"""The custody ledger's mirror: closed segments, checkpoints and cosignatures as objects on every location.

The database sequences the ledger (:mod:`longwatch.core.custody.ledger`); this
module keeps a copy of it beside the packages, so the ledger survives the loss
of the database as the packages survive the loss of the catalog. Under each
storage location::

    custody-ledger/identity.json                      the ledger's id and entry 0's leaf hash
    custody-ledger/segments/000000001000-000000002000.jsonl
                                                      entries 1000..1999, one canonical JSON line each
    custody-ledger/checkpoints/000000002000.note      the signed checkpoint that closed that segment,
    custody-ledger/checkpoints/000000002000.note.p7s  its detached CMS signature,
    custody-ledger/checkpoints/000000002000.note.p7s.tsr   and its RFC 3161 token, when there is one
    custody-ledger/witnesses/000000002000.NAME.cosig  a witness's cosignature
    custody-ledger/tail/000000002000-000000002064.jsonl   a group appended since the newest checkpoint

Every append writes its group to the primary location as a tail object right
after the database commits it, so the database can be lost without losing an
acknowledged entry; a checkpoint closes a segment over them, and the tail
objects it covers are then removed (they are the only objects that change).

Every object is written once and never changed: a second write finds the
object and compares it (L033 when it differs), and on a store with object lock
each gets an indefinite legal hold. ``custody_mirrors`` records how far each
location's copy reaches and since when writing to it has failed.

Sources: :class:`MirrorSource` reads such a copy back and :class:`FolderSource`
reads a ledger folder written before migration 0027; :func:`read_checked`
checks either as ``custody verify`` would before anything is restored from it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, select, update

from longwatch import clock
from longwatch.core.catalog.models import CustodyMirror
from longwatch.core.custody.checkpoints import Checkpoint, parse_note
from longwatch.core.custody.merkle import Frontier, leaf_hash
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from longwatch.core.archive import Archive
    from longwatch.core.custody.ledger import Ledger
    from longwatch.storage_adapters.base import StorageAdapter

PREFIX = "custody-ledger"
IDENTITY_KEY = f"{PREFIX}/identity.json"
SEGMENTS = f"{PREFIX}/segments"
TAIL = f"{PREFIX}/tail"
CHECKPOINTS = f"{PREFIX}/checkpoints"
WITNESSES = f"{PREFIX}/witnesses"
IDENTITY_FORMAT = "longwatch-custody-ledger/1"
MIRRORS: Table = CustodyMirror.__table__  # type: ignore[assignment]
ZERO_HASH = "0" * 64
#: how long a committed group may go without its tail object before fill_gaps takes it as abandoned
SETTLE = timedelta(seconds=60)


@dataclass(frozen=True)
class Identity:
    """Who a ledger is: an id and the leaf hash of its entry 0, in the database and in every mirror."""

    ledger_id: str
    first_hash: str

    def to_bytes(self, origin: str) -> bytes:
        return json.dumps({"format": IDENTITY_FORMAT, "ledger_id": self.ledger_id, "first_hash": self.first_hash,
                           "origin": origin}, sort_keys=True).encode() + b"\n"


def _parse_identity(data: bytes, where: str) -> Identity:
    try:
        value = json.loads(data)
        return Identity(str(value["ledger_id"]), str(value["first_hash"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise LongwatchError("L024", path=where, detail=f"identity.json is unreadable: {exc}") from exc


# -- sources: a mirror on a location, or a pre-0027 folder -------------------------------------
class Source:
    """A copy of the ledger that can be read back: ``label`` names it in messages."""

    label: str
    location: str | None = None

    def identity(self) -> Identity | None:
        raise NotImplementedError

    def size(self) -> int:
        """How many entries it holds (from names where it can, without reading them)."""
        raise NotImplementedError

    def lines(self) -> Iterator[tuple[str, int, bytes, bool]]:
        """(segment, byte offset, line without newline, complete?) in ledger order."""
        raise NotImplementedError

    def checkpoints(self) -> list[Checkpoint]:
        raise NotImplementedError

    def cosignatures(self) -> list[tuple[int, str, str]]:
        raise NotImplementedError


def _split(name: str, data: bytes) -> Iterator[tuple[str, int, bytes, bool]]:
    offset = 0
    for raw in io.BytesIO(data):
        complete = raw.endswith(b"\n")
        yield name, offset, raw[:-1] if complete else raw, complete
        offset += len(raw)


def _checkpoint(note: bytes, signature: bytes, tsr: bytes | None, name: str) -> Checkpoint:
    try:
        origin, size, root, when = parse_note(note)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LongwatchError("L023", name=name, detail=str(exc)) from exc
    return Checkpoint(size, root, when, origin, note, signature, tsr)


class MirrorSource(Source):
    """The mirror on one storage location."""

    def __init__(self, adapter: StorageAdapter) -> None:
        self.adapter = adapter
        self.location = adapter.location
        self.label = f"the mirror on location {adapter.location!r}"
        self._segments: list[tuple[int, int, str]] | None = None

    def _read(self, key: str) -> bytes:
        with self.adapter.open(key) as fh:
            return fh.read()

    def identity(self) -> Identity | None:
        try:
            data = self._read(IDENTITY_KEY)
        except FileNotFoundError:
            return None
        return _parse_identity(data, f"{self.location}:{IDENTITY_KEY}")

    def ranges(self, prefix: str) -> list[tuple[int, int, str]]:
        found = []
        for key in self.adapter.list(prefix):
            name = key.rsplit("/", 1)[-1]
            first, _, rest = name.partition("-")
            end = rest.removesuffix(".jsonl")
            if first.isdigit() and end.isdigit() and rest.endswith(".jsonl"):
                found.append((int(first), int(end), key))
        return sorted(found)

    def segments(self) -> list[tuple[int, int, str]]:
        """(first seq, end seq, key) of every closed segment, in order; names that are not segments are ignored."""
        if self._segments is None:
            self._segments = self.ranges(SEGMENTS)
        return self._segments

    def tail(self) -> list[tuple[int, int, str]]:
        """The tail groups that continue the closed segments without a gap (a group still being written by
        another process, or one whose write failed, ends it: what follows cannot be linked yet)."""
        closed = self.segments()
        expected = closed[-1][1] if closed else 0
        out = []
        for first, end, key in self.ranges(TAIL):
            if end <= expected:
                continue  # covered by a closed segment already (its removal failed or raced)
            if first != expected:
                break
            out.append((first, end, key))
            expected = end
        return out

    def size(self) -> int:
        parts = self.segments() + self.tail()
        return max((end for _first, end, _key in parts), default=0)

    def lines(self) -> Iterator[tuple[str, int, bytes, bool]]:
        expected = 0
        for first, end, key in self.segments() + self.tail():
            name = key.rsplit("/", 1)[-1]
            if first != expected:
                raise LongwatchError("L002", segment=name, offset=0, found=first, expected=expected)
            yield from _split(name, self._read(key))
            expected = end

    def checkpoints(self) -> list[Checkpoint]:
        keys = set(self.adapter.list(CHECKPOINTS))
        out = []
        for key in sorted(k for k in keys if k.endswith(".note")):
            signature = self._read(key + ".p7s") if key + ".p7s" in keys else b""
            tsr = self._read(key + ".p7s.tsr") if key + ".p7s.tsr" in keys else None
            out.append(_checkpoint(self._read(key), signature, tsr, key))
        return out

    def cosignatures(self) -> list[tuple[int, str, str]]:
        out = []
        for key in sorted(self.adapter.list(WITNESSES)):
            name = key.rsplit("/", 1)[-1]
            size, _, rest = name.partition(".")
            if size.isdigit() and rest.endswith(".cosig"):
                out.append((int(size), rest.removesuffix(".cosig"), self._read(key).decode("utf-8")))
        return out


class FolderSource(Source):
    """A ledger folder as longwatch kept it before migration 0027 (segments named by their first seq)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = f"the ledger folder {path}"

    def identity(self) -> Identity | None:
        try:
            data = (self.path / "identity.json").read_bytes()
        except FileNotFoundError:
            return None
        return _parse_identity(data, str(self.path / "identity.json"))

    def _segment_paths(self) -> list[Path]:
        return sorted(p for p in (self.path / "segments").glob("*.jsonl") if p.name[:12].isdigit())

    def size(self) -> int:
        last = -1
        for _segment, _offset, _line, complete in self.lines():
            if complete:
                last += 1
        return last + 1

    def lines(self) -> Iterator[tuple[str, int, bytes, bool]]:
        for path in self._segment_paths():
            yield from _split(path.name, path.read_bytes())

    def checkpoints(self) -> list[Checkpoint]:
        out = []
        for note in sorted((self.path / "checkpoints").glob("*.note")):
            sig, tsr = note.with_name(note.name + ".p7s"), note.with_name(note.name + ".p7s.tsr")
            out.append(_checkpoint(note.read_bytes(), sig.read_bytes() if sig.exists() else b"",
                                   tsr.read_bytes() if tsr.exists() else None, note.name))
        return out

    def cosignatures(self) -> list[tuple[int, str, str]]:
        out = []
        for path in sorted((self.path / "witnesses").glob("*.cosig")):
            size, _, rest = path.name.partition(".")
            out.append((int(size), rest.removesuffix(".cosig"), path.read_text(encoding="utf-8")))
        return out


def legacy_folder(archive: Archive | None) -> Path | None:
    """Where longwatch kept a ledger folder before migration 0027, if one is there."""
    if archive is None:
        return None
    root = getattr(archive.storage(), "root", None)
    candidates = [root / "ledger"] if isinstance(root, Path) else []
    candidates += [archive.root / "storage" / "ledger", archive.root / "ledger"]
    return next((c for c in candidates if any((c / "segments").glob("*.jsonl"))), None)


@dataclass
class Checked:
    """A source read and checked: the database rows it makes, and its checkpoints."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    packages: list[tuple[int, str]] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)


def read_checked(source: Source) -> Checked:
    """Every entry of ``source`` as database rows, refusing (L001/L002/L003/L009/L010) a broken chain or a
    checkpoint whose root the entries do not give: a restore must not launder a tampered ledger."""
    out = Checked(checkpoints=source.checkpoints())
    wanted = {cp.size: cp for cp in out.checkpoints}
    frontier = Frontier()
    prev = ZERO_HASH
    for segment, offset, line, complete in source.lines():
        if not complete:
            raise LongwatchError("L001", segment=segment, offset=offset, detail="a torn tail")
        try:
            entry = json.loads(line)
            seq = int(entry["seq"])
            when = str(entry["time"])
            row_head = (entry["type"], entry["event_id"], entry["outcome"])
            packages = list(dict.fromkeys(entry.get("packages", [])))
        except (ValueError, KeyError, TypeError) as exc:
            raise LongwatchError("L001", segment=segment, offset=offset, detail=str(exc)) from exc
        if seq != frontier.size:
            raise LongwatchError("L002", segment=segment, offset=offset, found=seq, expected=frontier.size)
        if entry.get("prev") != prev:
            raise LongwatchError("L003", seq=seq)
        leaf = leaf_hash(line)
        frontier.append(leaf)
        cp = wanted.get(frontier.size)
        if cp is not None and frontier.root() != cp.root:
            raise LongwatchError("L009", checkpoint=cp.size, expected=cp.root.hex(), found=frontier.root().hex())
        prev = leaf.hex()
        out.rows.append((seq, when[:10] + " " + when[11:].rstrip("Z"), *row_head, "", 0, len(line), prev, line))
        out.packages.extend((seq, p) for p in packages)
    for size in wanted:
        if size > frontier.size:
            raise LongwatchError("L010", checkpoint=size, size=size, found=frontier.size)
    return out


def best_source(ledger: Ledger) -> Source | None:
    """The longest mirror among the archive's locations (the primary's on a tie); a pre-0027 folder when no
    location holds a mirror. Locations that cannot be read now are passed over."""
    archive = ledger.archive
    if archive is None:
        return None
    best: MirrorSource | None = None
    for location in _locations(archive):
        try:
            source = MirrorSource(archive.storage(location))
            if source.identity() is not None and (best is None or source.size() > best.size()):
                best = source
        except (LongwatchError, OSError):
            continue
    if best is not None:
        return best
    folder = legacy_folder(archive)
    return FolderSource(folder) if folder is not None else None


def _locations(archive: Archive) -> list[str]:
    primary = archive.settings.primary_location
    return [primary, *(name for name in archive.settings.locations if name != primary)]


# -- the state of each mirror ---------------------------------------------------------------
def reach(conn: Connection, location: str) -> int:
    value = conn.execute(select(MIRRORS.c.size).where(MIRRORS.c.location == location)).scalar()
    return int(value or 0)


def written_before(conn: Connection, location: str) -> bool:
    """Whether the mirror on ``location`` was ever written: then a missing identity.json means a failed mount
    or someone else's storage, never a mirror to start afresh."""
    row = conn.execute(select(MIRRORS.c.size, MIRRORS.c.synced_at).where(MIRRORS.c.location == location)).first()
    return row is not None and (row.size > 0 or row.synced_at is not None)


def _upsert(conn: Connection) -> Any:
    """An INSERT into the mirrors' table in ``conn``'s dialect, able to do nothing on a conflict.

    The dialect's module is imported here, not with this module: SQLAlchemy's PostgreSQL dialect costs about
    20 ms of CPU, and every ingest imports this module (issue 23) while an SQLite archive never needs it.
    """
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(MIRRORS)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(MIRRORS)


def record_reach(conn: Connection, location: str, size: int) -> None:
    """Within ``conn``'s transaction: the mirror on ``location`` holds entries 0..size-1 and was just written."""
    now = clock.now()
    insert = _upsert(conn)
    conn.execute(insert.values(location=location, size=size, synced_at=now, failing_since=None, error="")
                 .on_conflict_do_nothing())
    conn.execute(update(MIRRORS).where(MIRRORS.c.location == location)
                 .values(size=size, synced_at=now, failing_since=None, error="")
                 .where(MIRRORS.c.size <= size))


def _record_failure(ledger: Ledger, location: str, error: LongwatchError) -> None:
    now = clock.now()
    with ledger.engine.begin() as conn:
        insert = _upsert(conn)
        conn.execute(insert.values(location=location, size=0, synced_at=None, failing_since=now, error="")
                     .on_conflict_do_nothing())
        conn.execute(update(MIRRORS).where(MIRRORS.c.location == location).where(MIRRORS.c.failing_since.is_(None))
                     .values(failing_since=now))
        conn.execute(update(MIRRORS).where(MIRRORS.c.location == location)
                     .values(error=f"[{error.code}] {error}"[:2000]))


@dataclass
class MirrorState:
    location: str
    size: int
    synced_at: Any
    failing_since: Any
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "entries": self.size, "error": self.error,
                "synced_at": self.synced_at.isoformat() if self.synced_at else None,
                "failing_since": self.failing_since.isoformat() if self.failing_since else None}


def states(ledger: Ledger) -> list[MirrorState]:
    with ledger.engine.connect() as conn:
        rows = {r.location: r for r in conn.execute(select(MIRRORS))}
    archive = ledger.archive
    names = _locations(archive) if archive is not None else sorted(rows)
    return [MirrorState(n, int(rows[n].size), rows[n].synced_at, rows[n].failing_since, rows[n].error)
            if n in rows else MirrorState(n, 0, None, None, "") for n in names]


# -- checking and writing ----------------------------------------------------------------------
def check(ledger: Ledger, location: str) -> None:
    """The fail-closed checks of :meth:`Ledger.check` against the mirror on ``location`` (reads only).

    A location that cannot be read now passes: its writes fail too, and the
    grace on those failures (L032) is what stops appends.
    """
    archive = ledger.archive
    assert archive is not None
    source = MirrorSource(archive.storage(location))
    try:
        found = source.identity()
        mirrored = source.size() if found is not None else 0
    except (LongwatchError, OSError) as exc:
        if isinstance(exc, LongwatchError) and exc.code == "L024":
            raise
        return
    mine = ledger.catalog_identity()
    with ledger.engine.connect() as conn:
        before = written_before(conn, location)
    if found is None:
        if before:
            raise LongwatchError("L024", path=f"{location}:{PREFIX}", detail="the mirror has no identity.json "
                                 "although the ledger was mirrored there (a failed mount, or not the archive's "
                                 "storage)")
        return
    if mine is not None and found != mine:
        raise LongwatchError("L024", path=f"{location}:{PREFIX}", detail=(
            f"it names ledger {found.ledger_id} (entry 0 {found.first_hash[:16]}), the database ledger "
            f"{mine.ledger_id} (entry 0 {mine.first_hash[:16]})"))
    held = ledger.size()
    if mirrored > held:
        raise LongwatchError("L034", location=location, mirrored=mirrored, held=held)


def put_once(adapter: StorageAdapter, key: str, data: bytes) -> bool:
    """Write ``key`` unless it is there; True when written. L033 when it is there with other bytes."""
    try:
        adapter.stat(key)
    except FileNotFoundError:
        adapter.put(key, io.BytesIO(data))
        adapter.hold_object(key)
        return True
    with adapter.open(key) as fh:
        existing = fh.read()
    if existing != data:
        raise LongwatchError("L033", location=adapter.location, key=key)
    return False


def push_tail(ledger: Ledger, first: int, lines: list[bytes]) -> None:
    """Right after an append commits: its group to the primary location's mirror. A failure is recorded (the
    grace then runs, L032) and not raised: the entries are committed and the next checkpoint mirrors them."""
    archive = ledger.archive
    assert archive is not None
    location = archive.settings.primary_location
    try:
        adapter = archive.storage(location)
        if first == 0:
            identity = ledger.catalog_identity()
            assert identity is not None
            put_once(adapter, IDENTITY_KEY, identity.to_bytes(ledger.origin))
        adapter.put(f"{TAIL}/{first:012d}-{first + len(lines):012d}.jsonl",
                    io.BytesIO(b"".join(line + b"\n" for line in lines)))
        if location not in ledger.mirrored_to:  # once per process: this location holds the mirror now
            with ledger.engine.begin() as conn:
                if not written_before(conn, location):
                    record_reach(conn, location, reach(conn, location))
            ledger.mirrored_to.add(location)
    except (LongwatchError, OSError) as exc:
        error = exc if isinstance(exc, LongwatchError) else LongwatchError("S002", location=location,
                                                                             detail=str(exc))
        _record_failure(ledger, location, error)


def fill_gaps(ledger: Ledger) -> list[tuple[int, int]]:
    """Mirror entries that a process committed but never wrote to the primary location (killed in between).

    Each append writes its own group as a tail object right after its commit,
    so a group missing from the tail while later groups are there is one whose
    writer stopped in between; without this, the mirror would stay short of
    those entries until the next checkpoint. A gap whose newest entry was
    recorded less than :data:`SETTLE` ago is left alone: its writer may still
    be on its way. Returns the (first, end) ranges written; the caller records
    each as a ``recovery`` entry, so the repair is itself on the record.
    """
    archive = ledger.archive
    assert archive is not None
    try:
        adapter = archive.storage(archive.settings.primary_location)
        source = MirrorSource(adapter)
        if source.identity() is None:
            return []
        closed = source.segments()
        tails = source.ranges(TAIL)
    except (LongwatchError, OSError):
        return []  # unreachable: the failure grace (L032) is what guards this
    gaps = []
    cursor = closed[-1][1] if closed else 0
    for first, end, _key in tails:
        if first > cursor:
            gaps.append((cursor, first))
        cursor = max(cursor, end)
    held = ledger.size()
    if cursor < held:
        gaps.append((cursor, held))
    filled: list[tuple[int, int]] = []
    now = clock.now()
    for first, end in gaps:
        lines = [line for _seq, line in ledger.lines(first, end)]
        if not lines or now - _recorded(lines[-1]) < SETTLE:
            continue
        try:
            put_once(adapter, f"{TAIL}/{first:012d}-{end:012d}.jsonl", b"".join(line + b"\n" for line in lines))
        except OSError:
            return filled
        filled.append((first, end))
    return filled


def _recorded(line: bytes) -> datetime:
    value = json.loads(line).get("recorded", "")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def sync(ledger: Ledger, locations: list[str] | None = None, again: bool = False) -> list[MirrorState]:
    """Bring the mirror on each location (all of the archive's, primary first) up to the newest checkpoint.

    Failures are recorded per location (``custody_mirrors.failing_since``) and
    never raised: the entries are committed in the database already. With
    ``again`` a location is written from entry 0 (each object already there is
    compared, not rewritten): after a location was replaced, or to check it.
    """
    archive = ledger.archive
    assert archive is not None
    for location in locations or _locations(archive):
        try:
            _sync_one(ledger, archive.storage(location), location, again)
        except (LongwatchError, OSError) as exc:
            error = exc if isinstance(exc, LongwatchError) else LongwatchError("S002", location=location,
                                                                                 detail=str(exc))
            _record_failure(ledger, location, error)
    return states(ledger)


def _sync_one(ledger: Ledger, adapter: StorageAdapter, location: str, again: bool) -> None:
    identity = ledger.catalog_identity()
    if identity is None:
        return  # nothing written yet
    with ledger.engine.connect() as conn:
        reached = 0 if again else reach(conn, location)
        before = written_before(conn, location)
    found = MirrorSource(adapter).identity()
    if found is None:
        if before and not again:
            raise LongwatchError("L024", path=f"{location}:{PREFIX}", detail="the mirror has no identity.json "
                                 "although the ledger was mirrored there (a failed mount, or not the archive's "
                                 "storage); `longwatch custody mirror --again` writes it anew")
        put_once(adapter, IDENTITY_KEY, identity.to_bytes(ledger.origin))
    elif found != identity:
        raise LongwatchError("L024", path=f"{location}:{PREFIX}", detail=(
            f"it names ledger {found.ledger_id}, the database ledger {identity.ledger_id}"))
    start = reached
    for cp in ledger.checkpoints():
        if cp.size <= reached:
            continue
        data = b"".join(line + b"\n" for _seq, line in ledger.lines(start, cp.size))
        put_once(adapter, f"{SEGMENTS}/{start:012d}-{cp.size:012d}.jsonl", data)
        note = f"{CHECKPOINTS}/{cp.name}.note"
        put_once(adapter, note + ".p7s", cp.signature)
        if cp.tsr is not None:
            put_once(adapter, note + ".p7s.tsr", cp.tsr)
        put_once(adapter, note, cp.note)  # the note last: a checkpoint without its signature is never listed
        with ledger.engine.begin() as conn:
            record_reach(conn, location, cp.size)
        start = cp.size
    for _first, end, key in MirrorSource(adapter).ranges(TAIL):
        if end <= start:
            adapter.delete(key)  # a closed segment holds these entries now
    listed = set(adapter.list(WITNESSES))
    for size, name, line in ledger.cosignatures():
        key = f"{WITNESSES}/{size:012d}.{name}.cosig"
        if key not in listed:
            put_once(adapter, key, line.encode("utf-8"))
    with ledger.engine.begin() as conn:
        record_reach(conn, location, max(start, reached))
