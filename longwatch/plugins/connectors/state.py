"""A watch's state in the catalog: its cursor, its clips and gaps, and which process runs it.

Until this release each watch kept ``state.json`` in a folder of the archive
(``<archive>/connectors/<watch>/``), so a watcher on another machine could
not continue it. Now the state is three things in the catalog's database,
which every machine of the archive shares:

- ``connector_state``: one row per watch (cursor, gaps, a version, the owner);
- ``connector_clips``: one row per clip dealt with (pending, done, rejected),
  so that a save writes only what changed, however long the watch has run;
- the *claim*: one process at a time runs a watch. On PostgreSQL the claim is
  a session advisory lock on a connection of its own, which the server drops
  when that process dies, on whatever machine; on SQLite (one machine) it is
  the row's ``owner`` (``host:pid``), compared and set, and taken over when
  that process is gone. A second watcher is refused (N018) instead of taking
  the same clips.

Every save also compares and sets the row's ``version``: a watcher whose
state was changed under it by another (a claim lost or broken by hand) stops
with N019 before taking another clip, never overwriting what the other did.

An existing ``state.json`` is imported once, when the watch first opens its
state and the catalog has none, and renamed ``state.json.imported``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from longwatch import clock
from longwatch.core.catalog import Catalog
from longwatch.core.catalog.models import ConnectorClip, ConnectorState
from longwatch.errors import LongwatchError

LEGACY_NAME = "state.json"
_CHUNK = 500

#: (database url, watch) -> the connection holding that watch's claim (PostgreSQL), one per process
_CLAIMS: dict[tuple[str, str], Any] = {}


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _lock_key(watch: str) -> int:
    return int.from_bytes(hashlib.sha256(f"watch:{watch}".encode()).digest()[:8], "big", signed=True)


@dataclass
class WatchState:
    """What a watch has done; ``done``, ``pending``, ``rejected`` and ``gaps`` are the watch's working copies."""

    catalog: Catalog
    name: str
    cursor: str | None = None
    done: dict[str, str] = field(default_factory=dict)
    gaps: list[dict[str, str]] = field(default_factory=list)
    #: keys whose ingest began; one still here after a restart may already be stored.
    pending: list[str] = field(default_factory=list)
    #: keys refused for good (an empty segment: recorded as a gap), reported once, left in place
    rejected: dict[str, str] = field(default_factory=dict)
    version: int = 0
    _saved: dict[str, tuple[str, str, str]] = field(default_factory=dict, repr=False)

    # -- reading -------------------------------------------------------------------------
    @classmethod
    def load(cls, catalog: Catalog, name: str, legacy_dir: Path | None = None) -> WatchState:
        """The watch's state from the catalog; the first time, what its old state file held (N011 if unreadable)."""
        state = cls(catalog, name)
        if state.refresh():
            return state
        legacy = legacy_dir / LEGACY_NAME if legacy_dir is not None else None
        if legacy is not None and legacy.exists():
            state._import(legacy)
        try:
            with catalog.session() as s:
                s.execute(insert(ConnectorState).values(
                    name=name, cursor=state.cursor, gaps=json.dumps(state.gaps), version=0, owner="",
                    updated_at=clock.now()))
                if state._wanted():
                    s.execute(insert(ConnectorClip), state._rows(state._wanted()))
        except LongwatchError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            state = cls(catalog, name)  # another machine made it first: theirs is the state
            state.refresh()
            return state
        state._saved = state._wanted()
        if legacy is not None and legacy.exists():
            with contextlib.suppress(OSError):
                legacy.rename(legacy.with_name(LEGACY_NAME + ".imported"))
        return state

    def refresh(self) -> bool:
        """Read the catalog's state again (another watcher may have run meanwhile); False when there is none."""
        with self.catalog.session() as s:
            row = s.get(ConnectorState, self.name)
            if row is None:
                return False
            if row.version == self.version and self._saved:
                return True
            self.cursor, self.version = row.cursor, row.version
            self.gaps = list(json.loads(row.gaps or "[]"))
            clips = s.execute(select(ConnectorClip.key, ConnectorClip.status, ConnectorClip.package_id,
                                     ConnectorClip.code).where(ConnectorClip.watch == self.name)).all()
        self.done = {k: p for k, st, p, _ in clips if st == "done"}
        self.pending = [k for k, st, _, _ in clips if st == "pending"]
        self.rejected = {k: c for k, st, _, c in clips if st == "rejected"}
        self._saved = self._wanted()
        return True

    def _import(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.cursor = data.get("cursor")
            self.done = dict(data.get("done", {}))
            self.gaps = list(data.get("gaps", []))
            self.pending = list(data.get("pending", []))
            self.rejected = dict(data.get("rejected", {}))
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise LongwatchError("N011", path=path, detail=str(exc)) from exc

    # -- writing -------------------------------------------------------------------------
    def _wanted(self) -> dict[str, tuple[str, str, str]]:
        rows = {key: ("pending", "", "") for key in self.pending}
        rows.update({key: ("rejected", "", code) for key, code in self.rejected.items()})
        rows.update({key: ("done", package_id, "") for key, package_id in self.done.items()})
        return rows

    def _rows(self, wanted: dict[str, tuple[str, str, str]]) -> list[dict[str, str]]:
        return [{"watch": self.name, "key": key, "status": st, "package_id": p, "code": c}
                for key, (st, p, c) in wanted.items()]

    def save(self) -> None:
        """Write what changed since the last save, if nobody else wrote meanwhile (else N019)."""
        wanted = self._wanted()
        changed = {k: v for k, v in wanted.items() if self._saved.get(k) != v}
        gone = [k for k in self._saved if k not in wanted]
        with self.catalog.session() as s:
            moved = s.execute(update(ConnectorState).where(
                ConnectorState.name == self.name, ConnectorState.version == self.version).values(
                cursor=self.cursor, gaps=json.dumps(self.gaps), version=self.version + 1, updated_at=clock.now()))
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                s.rollback()
                owner = s.scalar(select(ConnectorState.owner).where(ConnectorState.name == self.name))
                raise LongwatchError("N019", watch=self.name, owner=owner or "another watcher")
            stale = [*gone, *changed]
            for start in range(0, len(stale), _CHUNK):
                s.execute(delete(ConnectorClip).where(ConnectorClip.watch == self.name,
                                                      ConnectorClip.key.in_(stale[start:start + _CHUNK])))
            if changed:
                s.execute(insert(ConnectorClip), self._rows(changed))
        self.version += 1
        self._saved = wanted

    # -- one process per watch -----------------------------------------------------------
    def claim(self) -> None:
        """Hold the watch for this process (N018 while another live process holds it), then catch up with
        what the other one did."""
        me = owner_id()
        engine = self.catalog.engine
        if engine.dialect.name == "postgresql":
            held = (str(engine.url), self.name)
            if held not in _CLAIMS:
                conn = engine.connect()
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_key(self.name)}).scalar())
                conn.commit()
                if not got:
                    conn.close()
                    raise LongwatchError("N018", watch=self.name, owner=self._owner() or "another process")
                _CLAIMS[held] = conn
            with self.catalog.session() as s:
                s.execute(update(ConnectorState).where(ConnectorState.name == self.name).values(owner=me))
        else:
            seen = self._owner()
            if seen and seen != me and _alive(seen):
                raise LongwatchError("N018", watch=self.name, owner=seen)
            with self.catalog.session() as s:
                moved = s.execute(update(ConnectorState).where(
                    ConnectorState.name == self.name, ConnectorState.owner == seen).values(owner=me))
                if moved.rowcount != 1:  # type: ignore[attr-defined]
                    s.rollback()
                    raise LongwatchError("N018", watch=self.name, owner=self._owner() or "another process")
        self.refresh()

    def release(self) -> None:
        """Let another watcher take the watch (at a clean stop; a killed process's claim goes with it)."""
        with contextlib.suppress(LongwatchError), self.catalog.session() as s:
            s.execute(update(ConnectorState).where(ConnectorState.name == self.name,
                                                   ConnectorState.owner == owner_id()).values(owner=""))
        conn = _CLAIMS.pop((str(self.catalog.engine.url), self.name), None)
        if conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(self.name)})
                conn.commit()
            conn.close()

    def _owner(self) -> str:
        with self.catalog.session() as s:
            return str(s.scalar(select(ConnectorState.owner).where(ConnectorState.name == self.name)) or "")


def _alive(owner: str) -> bool:
    """SQLite (one machine): is the process ``host:pid`` still running here? Another host's is taken as gone."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True
