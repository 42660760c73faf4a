"""Packages catalogued before the copies table existed get their one copy recorded by the migration."""

from datetime import UTC, datetime

from sqlalchemy import text

from longwatch.core.catalog import Catalog


def test_existing_packages_get_a_copy_row(tmp_path):
    catalog = Catalog(f"sqlite:///{tmp_path / 'old.sqlite'}")
    catalog.upgrade("0001")
    with catalog.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO packages (id, created_at, camera, zone, title, location_name, time_source, size_bytes, "
            "file_count, status, storage_location, tagmanifest_sha256, signer_fingerprint, media_ok) VALUES "
            "('p1', :t, '', '', '', '', '', 42, 1, 'stored', 'primary', '', '', 1)"), {"t": datetime.now(UTC)})
    catalog.upgrade("0006")
    with catalog.engine.connect() as conn:
        rows = conn.execute(text("SELECT package_id, location, status, size_bytes, last_checked_at FROM copies"))
        assert [tuple(r) for r in rows] == [("p1", "primary", "ok", 42, None)]
    catalog.dispose()
