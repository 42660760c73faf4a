"""Issue 23: a storage folder that is mounted but empty is not ready.

A mount that failed leaves its mount point: an empty folder where the catalog
says packages are stored, or where the custody ledger's mirror was written.
Free space and a listing both answer from it, so ``/readyz`` compares what
the folder holds with what the catalog records (W055, before the ledger's own
checks), and a worker refuses to start on it (W055, before it recovers or
appends anything). Real archive, catalog, ledger and app (Flask's test client);
the worker on a real PostgreSQL queue.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import error_codes

from longwatch.core.archive import Archive
from longwatch.core.storage import mounted
from longwatch.errors import LongwatchError
from longwatch.web import create_app


@contextmanager
def failed_mount(archive: Archive, tmp_path: Path) -> Iterator[Path]:
    """The primary location's folder moved away and an empty one in its place, as a mount that did not come up."""
    root = archive.storage().root
    away = tmp_path / "the-real-disk"
    shutil.move(root, away)
    root.mkdir()
    try:
        yield root
    finally:
        shutil.rmtree(root)
        shutil.move(away, root)  # the mount comes back


def readiness(client) -> tuple[int, str | None]:
    response = client.get("/readyz")
    body = response.get_json()
    return response.status_code, (body.get("error") or {}).get("code")


def test_readyz_refuses_an_empty_mount_point_where_packages_are(client, web_archive, tmp_path):
    assert readiness(client) == (200, None)
    with failed_mount(web_archive.archive, tmp_path):
        response = client.get("/readyz")
        assert response.status_code == 503 and response.headers["Retry-After"]
        error = response.get_json()["error"]
        assert error["code"] == "W055" and error["context"] == {"location": "primary"}
        assert str(tmp_path) not in response.get_data(as_text=True)  # public: no path
    assert readiness(client) == (200, None)


def test_readyz_refuses_an_empty_mount_point_where_only_the_ledger_was_mirrored(archive, lw, tmp_path):
    """No package yet, but the ledger's mirror was written there (an account made is a ledger entry)."""
    app = create_app(archive.root, {"TESTING": True})
    try:
        client = app.test_client()
        with failed_mount(archive, tmp_path):  # before anything was mirrored, empty is what the catalog expects
            assert readiness(client) == (200, None)
        assert lw("users", "add", "olga", "--role", "operator", "--password-stdin",
                  input="correct horse battery\n").exit_code == 0
        assert archive.catalog.all_ids() == [] and list(archive.storage().list("custody-ledger"))
        assert readiness(client) == (200, None)
        with failed_mount(archive, tmp_path):
            assert readiness(client) == (503, "W055")
    finally:
        app.extensions["longwatch"].close()


def test_a_location_that_never_held_anything_may_be_empty(archive, clip):
    """A replica location the catalog records nothing on: empty is its normal state, not a failed mount."""
    from longwatch.core.preservation import ingest

    config = archive.root / "longwatch.toml"
    config.write_text(config.read_text() + '\n[storage.locations.spare]\nadapter = "local"\npath = "spare"\n')
    reopened = Archive.open(archive.root)
    try:
        ingest.ingest(reopened, ingest.IngestRequest(path=clip))  # on the primary only
        assert list(reopened.storage("spare").package_ids()) == []
        mounted.check_not_emptied(reopened, "spare")
        mounted.check_not_emptied(reopened)
    finally:
        reopened.close()


def test_a_worker_refuses_to_start_on_an_empty_mount_point_before_anything_else(archive, clip, tmp_path):
    """W055 comes first: before the ledger's check (L024) and before recovery sweeps or completes anything."""
    from longwatch.core.preservation import ingest

    ingest.ingest(archive, ingest.IngestRequest(path=clip))
    with failed_mount(archive, tmp_path) as root:
        with pytest.raises(LongwatchError) as refused:
            archive.pm.hook.prepare_worker(archive=archive)
        assert refused.value.code == "W055"
        assert list(root.iterdir()) == []  # nothing written where nobody looks
    archive.pm.hook.prepare_worker(archive=archive)  # back: starts


def test_the_worker_command_refuses_on_an_empty_mount_point(pg_url, lw, archive, clip, tmp_path):
    from longwatch.core.preservation import ingest

    ingest.ingest(archive, ingest.IngestRequest(path=clip))
    with failed_mount(archive, tmp_path) as root:
        result = lw("worker", "--until-empty")
        assert result.exit_code != 0
        assert error_codes(result.stderr) == ["W055"], result.output
        assert list(root.iterdir()) == []
    assert lw("worker", "--until-empty").exit_code == 0
