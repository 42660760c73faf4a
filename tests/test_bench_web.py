"""The web benchmark's drain between two lines: with the catalog on PostgreSQL it waits for the database too.

A worker waiting for PostgreSQL uses no CPU, so a backlog of slow facet panels there was measured as the
next line's latency (the API search of a zone, 5-8 ms alone, at 2.7 s p50). Real PostgreSQL server.
"""

from __future__ import annotations

import os
import threading
import time

from sqlalchemy import create_engine, text

from benchmarks import web


def test_no_database_to_wait_for_on_sqlite(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LONGWATCH_CATALOG_URL", f"sqlite:///{tmp_path / 'c.sqlite'}")
    assert web.database_busy() == 0
    monkeypatch.delenv("LONGWATCH_CATALOG_URL")
    assert web.database_busy() == 0


def test_settle_waits_for_a_statement_still_running_in_postgresql(postgres_server, monkeypatch) -> None:
    url = postgres_server.create_database()
    monkeypatch.setenv("LONGWATCH_CATALOG_URL", url)
    assert web.database_busy() == 0
    engine = create_engine(url)
    started = threading.Event()

    def slow() -> None:
        with engine.connect() as conn:
            started.set()
            conn.execute(text("SELECT pg_sleep(3)"))

    worker = threading.Thread(target=slow)
    t = time.perf_counter()
    worker.start()
    try:
        started.wait(10)
        time.sleep(0.3)
        assert web.database_busy() == 1
        # this process stands in for the server: it has no worker processes, so their CPU is idle at once
        drained = web.settle(os.getpid(), limit=30)
        assert time.perf_counter() - t >= 2.9  # the statement's end, not the first idle second of the workers
        assert drained >= 2.0
        assert web.database_busy() == 0
    finally:
        worker.join()
        engine.dispose()
        postgres_server.drop_database(url)
