"""The catalog: SQLAlchemy over SQLite (WAL) by default, PostgreSQL at scale.

Schema changes go through Alembic migrations only (``migrations/``); opening
an archive upgrades its catalog to the newest revision (``ensure_current``).
Plugins prepare each catalog as it opens (hook ``prepare_catalog``): the
built-in analytics plugin keeps its rollups in step with the events table
through a listener on that catalog's sessions.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from longwatch import registry
from longwatch.core.catalog import journal
from longwatch.core.catalog.models import Base, Clip, Package
from longwatch.core.catalog.reference import ensure_zone
from longwatch.errors import LongwatchError
from longwatch.extras import require

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

__all__ = ["Base", "Catalog", "Clip", "Package"]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    # Imported here: only migrations need Alembic, and importing it costs every command a fifth of a second.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


@functools.cache
def head_revision() -> str:
    """The newest migration: the one no other migration revises (read from the files, without Alembic)."""
    revisions, revised = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = re.search(r'^revision = "([^"]+)"', source, re.M)
        if found:
            revisions.add(found.group(1))
        down = re.search(r'^down_revision = "([^"]+)"', source, re.M)
        if down:
            revised.add(down.group(1))
    (head,) = revisions - revised
    return head


class Catalog:
    def __init__(self, url: str, pm: pluggy.PluginManager | None = None) -> None:
        """Open the catalog at ``url``; ``pm`` (default: every installed plugin) prepares it (``prepare_catalog``)."""
        if url.startswith("postgresql"):
            require("psycopg", "postgresql")  # the driver comes with the extra: T002 rather than A004's ImportError
        try:
            self.engine = create_engine(url)
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise LongwatchError("A004", detail=str(exc)) from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        #: Makes every session of this catalog; a plugin's ``prepare_catalog`` may listen to its events.
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        #: The archive this catalog belongs to, once ``Archive.open_catalog`` opened it (None for a bare
        #: ``Catalog(url)``): the journal's drain (core/custody/decisions.py) needs its ledger.
        self.archive: Any = None
        journal.install(self.session_factory)
        # Before any session is used: the built-in analytics plugin attaches the listener that keeps the
        # rollups in step with the events table, whoever records through this catalog.
        (pm or registry.get_plugin_manager()).hook.prepare_catalog(catalog=self)
        # A catalog dropped without dispose() (a CLI invocation's archive) still closes its pooled
        # connections properly instead of leaving them to the garbage collector.
        weakref.finalize(self, self.engine.dispose)

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` with Alembic (``longwatch db upgrade``)."""
        from alembic import command

        try:
            with self.engine.begin() as connection:
                cfg = alembic_config(self.engine)
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, revision)
        except SQLAlchemyError as exc:
            raise LongwatchError("A004", detail=str(exc)) from exc

    def revision(self) -> str | None:
        """The schema's Alembic revision; None for a database no migration has touched."""
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None

    def ensure_current(self) -> None:
        """Upgrade a catalog that an older longwatch made; one query when it is current already.

        Without this, a new release's first write to a new table fails with a
        bare SQL error instead of migrating (the docstring's promise).
        """
        if self.revision() != head_revision():
            self.upgrade()

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            raise LongwatchError("A004", detail=str(exc)) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold a lock named ``name`` across every process and machine that shares this catalog.

        For work that must never run twice at once whoever starts it (a
        disposition executed from the command line while the nightly job runs
        it too): a PostgreSQL session advisory lock on a connection of its own,
        or on SQLite, whose processes share one machine, ``flock`` on a file
        beside the database. Waits until the holder is done.
        """
        if self.engine.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
            return
        database = self.engine.url.database
        path = Path(f"{database}.{name}.lock") if database and database != ":memory:" else None
        if path is None:
            yield
            return
        with path.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def add_package(self, package: Package) -> None:
        with self.session() as s:
            if package.zone:
                ensure_zone(s, package.zone)  # the zone tree knows every zone footage is filed under
            s.add(package)

    def find_clip(self, sha256: str) -> Clip | None:
        with self.session() as s:
            return s.scalars(select(Clip).where(Clip.sha256 == sha256).limit(1)).first()

    def get(self, package_id: str) -> Package | None:
        with self.session() as s:
            return s.scalars(
                select(Package).options(selectinload(Package.clips)).where(Package.id == package_id)
            ).first()

    def require(self, package_id: str) -> Package:
        """The package's row, or I008: for work that cannot go on without it (derivations, copies)."""
        row = self.get(package_id)
        if row is None:
            raise LongwatchError("I008", package_id=package_id)
        return row

    def resolve(self, prefix: str) -> list[str]:
        """Package ids starting with ``prefix`` (people type short ids, as with git)."""
        with self.session() as s:
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            rows = s.scalars(select(Package.id).where(Package.id.like(escaped + "%", escape="\\")).limit(2))
            return list(rows)

    def packages(self, limit: int = 100, offset: int = 0) -> list[Package]:
        with self.session() as s:
            query = (
                select(Package)
                .options(selectinload(Package.clips))
                .order_by(Package.start_utc.desc(), Package.id)
                .limit(limit)
                .offset(offset)
            )
            return list(s.scalars(query))

    def all_ids(self) -> list[str]:
        with self.session() as s:
            # issue 6: a disposed package is a tombstone, no longer expected on storage
            return list(s.scalars(select(Package.id).where(Package.status != "disposed").order_by(Package.id)))

    def dispose(self) -> None:
        self.engine.dispose()
