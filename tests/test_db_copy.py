"""Growing is a command: `longwatch db copy --to postgresql://...` moves a populated SQLite catalog with its
ledger index to PostgreSQL, proves the copy (row counts, searches, a full custody verify), then switches."""

from __future__ import annotations

import json

import pytest
from conftest import error_codes, ingest_one, unique_copy
from pg import PostgresServer
from test_decisions_replay import decided, table_rows  # noqa: F401  (decided is a fixture)
from test_facet_hours import assert_counts_in_step

from longwatch import config
from longwatch.core import custody
from longwatch.core.archive import Archive

pytestmark = pytest.mark.usefixtures("postgres_server")


def test_a_populated_sqlite_archive_moves_to_postgresql(lw, archive, decided, postgres_server: PostgresServer,  # noqa: F811
                                                         small_clip, tmp_path):
    url = postgres_server.create_database()
    before = table_rows(archive)
    entries = custody.Ledger.for_archive(archive).size()
    listing = lw("list", "--json").output
    result = lw("db", "copy", "--to", url, "--switch", "--json")
    assert result.exit_code == 0, result.output
    made = json.loads(result.output)
    assert made["switched"] and made["ledger_entries"] == entries and made["tables"]["packages"] == 4

    moved = Archive.open(archive.root)
    try:
        assert moved.settings.catalog_url == url and f'url = "{url}"' in (archive.root / "longwatch.toml").read_text()
        assert moved.catalog.engine.dialect.name == "postgresql"
        assert table_rows(moved) == before
        assert lw("list", "--json").output == listing
        assert_counts_in_step(moved.catalog)  # the facet panel's counts per hour, rebuilt by the triggers
        # the ledger continues on the new catalog: a new package, and everything verifies
        ingest_one(moved, unique_copy(small_clip, tmp_path / "after.mp4"), camera="cam-9")
        assert custody.Ledger.for_archive(moved).size() > entries
        verified = lw("custody", "verify", "--json")
        assert verified.exit_code == 0, verified.output
        assert json.loads(verified.output)["ok"]
    finally:
        moved.close()


def test_a_database_that_is_not_empty_is_refused(lw, archive, small_clip, postgres_server: PostgresServer):
    ingest_one(archive, small_clip, camera="cam-1")
    url = postgres_server.create_database()
    assert lw("db", "copy", "--to", url).exit_code == 0  # verified, not switched
    assert config.load(archive.root).catalog_url != url
    again = lw("db", "copy", "--to", url)
    assert again.exit_code != 0 and error_codes(again.output) == ["A010"]
