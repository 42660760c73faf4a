"""The catalog schema comes from Alembic migrations only, and the models match them exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from longwatch.core.catalog import Base, Catalog, alembic_config, fulltext


def test_upgrade_empty_database_then_models_match(tmp_path):
    catalog = Catalog(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    catalog.upgrade()
    with catalog.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) >= {"packages", "clips", "alembic_version"}
        context = MigrationContext.configure(connection, opts={"include_name": fulltext.include_name})
        head = ScriptDirectory.from_config(alembic_config(catalog.engine)).get_current_head()
        assert context.get_current_revision() == head
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], diff
    catalog.dispose()


def test_upgrade_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.sqlite'}"
    for _ in range(2):
        catalog = Catalog(url)
        catalog.upgrade()
        catalog.dispose()


def test_one_linear_history():
    catalog = Catalog("sqlite://")
    script = ScriptDirectory.from_config(alembic_config(catalog.engine))
    assert len(script.get_heads()) == 1
    catalog.dispose()


def test_db_upgrade_command(lw):
    result = lw("db", "upgrade")
    assert result.exit_code == 0
    assert "up to date" in result.stdout
