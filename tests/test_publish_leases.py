"""Crash recovery of a half-published package works from any host at once, through a lease in PostgreSQL.

A publisher holds an advisory lock on a connection of its own for as long as
its pending-publication row exists; PostgreSQL drops it when the publisher's
process dies, wherever it ran. A pending row without its lock is abandoned and
is completed by the next process that looks, with no six-hour wait for a
`host:pid` nobody can check from another machine; a row whose lease is held
is left alone.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import create_archive, ingest_one
from sqlalchemy import delete, text

from longwatch import clock
from longwatch.core.catalog.models import Clip, Copy, Package, PendingPublication
from longwatch.core.preservation import publish


@pytest.fixture
def pg_archive(pg_url, tmp_path):
    a = create_archive(tmp_path / "archive")
    assert a.catalog.engine.dialect.name == "postgresql"
    yield a
    a.close()


def half_published(archive, small_clip) -> str:
    """A stored package the catalog does not know, its pending row naming a publisher on another machine."""
    package_id = ingest_one(archive, small_clip, camera="cam-01")
    with archive.catalog.session() as s:
        for model in (Copy, Clip):
            s.execute(delete(model).where(model.package_id == package_id))
        s.execute(delete(Package).where(Package.id == package_id))
        s.add(PendingPublication(package_id=package_id, location=archive.settings.primary_location,
                                 owner="worker-7.city.internal:4242", started_at=clock.now() - timedelta(seconds=5)))
    return package_id


def test_a_dead_publisher_on_another_host_is_completed_at_once(pg_archive, small_clip):
    package_id = half_published(pg_archive, small_clip)
    assert publish.recover(pg_archive) == [package_id]
    assert pg_archive.catalog.get(package_id) is not None
    with pg_archive.catalog.session() as s:
        assert s.get(PendingPublication, package_id) is None


def test_a_live_lease_is_left_alone(pg_archive, small_clip):
    package_id = half_published(pg_archive, small_clip)
    with pg_archive.catalog.engine.connect() as holder:  # the publisher, alive on its machine
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": publish._lease_key(package_id)})
        holder.commit()
        assert publish.recover(pg_archive) == []
        assert pg_archive.catalog.get(package_id) is None
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": publish._lease_key(package_id)})
        holder.commit()
    assert publish.recover(pg_archive) == [package_id]  # it died without finishing: any host completes it


def test_an_ingest_holds_and_releases_its_lease(pg_archive, small_clip):
    package_id = ingest_one(pg_archive, small_clip, camera="cam-02")
    assert publish._LEASES == {}
    assert publish._lease_free(pg_archive, package_id)
