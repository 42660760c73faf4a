"""A throwaway PostgreSQL 15 from Debian's packages, one per test session (per xdist worker).

initdb runs as the ``postgres`` user when the tests run as root (PostgreSQL refuses
root), listens on 127.0.0.1 only, on a port picked free at run time, and is
stopped and removed at the end. ``fsync=off``: for tests only (benchmarks start one with fsync on).
Each test gets a database of its own from :meth:`PostgresServer.create_database`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ports import free_port

PG_BIN = Path(os.environ.get("LONGWATCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
USER = "lw"


@dataclass
class PostgresServer:
    port: int
    workdir: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 is not installed (`make test` installs Debian's postgresql)")
    with running_postgres(fsync=False) as server:
        yield server


@contextmanager
def running_postgres(fsync: bool) -> Iterator[PostgresServer]:
    """Start a throwaway server; ``fsync=True`` for benchmarks of durability (benchmarks/ledger.py --postgres)."""
    workdir = Path(tempfile.mkdtemp(prefix="longwatch-pg-"))
    os.chmod(workdir, 0o755)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    data, log = workdir / "data", workdir / "log"
    port = free_port()
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", USER,
                                 "--encoding=UTF8", "--locale=C.UTF-8"]),
                   check=True, capture_output=True)
    options = f"-k {workdir} -p {port} -c listen_addresses=127.0.0.1 -c fsync={'on' if fsync else 'off'}"
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w",
                                 "start"]), check=True, capture_output=True)
    try:
        yield PostgresServer(port=port, workdir=workdir)
    finally:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh PostgreSQL database that the test's archive uses as its catalog (LONGWATCH_CATALOG_URL)."""
    url = postgres_server.create_database()
    monkeypatch.setenv("LONGWATCH_CATALOG_URL", url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Runs a test once per catalog back end; for PostgreSQL, every archive opened uses a fresh database."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    monkeypatch.setenv("LONGWATCH_CATALOG_URL", url)
    yield url
    server.drop_database(url)


@pytest.fixture
def fresh_catalog(catalog_backend: str, tmp_path: Path) -> Iterator[Any]:
    """An empty catalog at the newest revision on the test's back end: a SQLite file, or the fresh database."""
    from longwatch.core.catalog import Catalog

    url = f"sqlite:///{tmp_path / 'c.sqlite'}" if catalog_backend == "sqlite" else catalog_backend
    catalog = Catalog(url)
    catalog.upgrade()
    yield catalog
    catalog.dispose()
