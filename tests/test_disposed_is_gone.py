"""Destroyed means destroyed: a disposed package takes its viewing caches, copies and bytes with it."""

from __future__ import annotations

import json

from conftest import configure_storage, local_locations
from retention_helpers import ALICE, add_package, later

from longwatch.core.catalog.models import Copy, Package
from longwatch.core.records import deletion
from longwatch.core.storage import viewing_cache
from longwatch.web.package_view import access_copy_view, poster_view


def _views(archive, package_id: str) -> list:
    pkg = archive.catalog.get(package_id)
    clip = pkg.clips[0]
    # real ffmpeg; on a local primary location the views are files under its storage folder
    return [view.path for view in (poster_view(archive, pkg, clip), access_copy_view(archive, pkg, clip))]


def test_disposal_purges_caches_and_copies_and_audit_stays_quiet(archive, small_clip, tmp_path, lw):
    archive = configure_storage(archive, local_locations(tmp_path / "offsite", '["primary", "offsite"]'))
    gone = add_package(archive, small_clip, tmp_path, "gone")
    kept = add_package(archive, small_clip, tmp_path, "kept")
    gone_views, kept_views = _views(archive, gone), _views(archive, kept)
    assert all(p.is_file() for p in gone_views + kept_views)
    before = json.loads(lw("locations", "--json").stdout)
    assert before["viewing_caches"]["files"] == 4
    assert before["viewing_caches"]["bytes"] == sum(p.stat().st_size for p in gone_views + kept_views)

    deletion.delete_package(archive, gone, ALICE, "manual", now=later(3))

    assert not any(p.exists() for p in gone_views)
    assert all(p.is_file() for p in kept_views)  # another package's views stay
    after = json.loads(lw("locations", "--json").stdout)
    assert after["viewing_caches"]["files"] == 2
    used = {u["location"]: (u["packages"], u["used_bytes"]) for u in after["locations"]}
    was = {u["location"]: (u["packages"], u["used_bytes"]) for u in before["locations"]}
    size = archive.catalog.get(gone).size_bytes
    assert used == {name: (n - 1, b - size) for name, (n, b) in was.items()} and was["offsite"][0] == 2
    with archive.catalog.session() as s:
        assert s.query(Copy).filter(Copy.package_id == gone).count() == 0
    result = lw("audit", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert "R001" not in result.output and gone not in json.dumps(report)
    assert lw("verify", kept).exit_code == 0


def test_copy_rows_an_older_catalog_kept_are_neither_audited_nor_counted(archive, small_clip, tmp_path, lw):
    gone = add_package(archive, small_clip, tmp_path, "old")
    kept = add_package(archive, small_clip, tmp_path, "other")
    deletion.delete_package(archive, gone, ALICE, "manual", now=later(3))
    with archive.catalog.session() as s:  # what a catalog from before this release still holds
        size = s.get(Package, gone).size_bytes
        s.add(Copy(package_id=gone, location="primary", status="ok", size_bytes=size, created_at=later(1)))
    usage = json.loads(lw("locations", "--json").stdout)["locations"][0]
    assert usage["packages"] == 1 and usage["used_bytes"] == archive.catalog.get(kept).size_bytes
    plan = json.loads(lw("audit", "--plan", "--json").stdout)
    assert gone not in json.dumps(plan)
    result = lw("audit", "--json")
    assert result.exit_code == 0 and "R001" not in result.output


def test_running_the_deletion_again_purges_views_left_by_a_killed_run(archive, small_clip, tmp_path):
    gone = add_package(archive, small_clip, tmp_path, "again")
    deletion.delete_package(archive, gone, ALICE, "manual", now=later(3))
    with archive.catalog.session() as s:
        sha = s.get(Package, gone).clips[0].sha256
    left = archive.storage().root / viewing_cache.view_key("posters", gone, f"{sha}.jpg")
    left.parent.mkdir(parents=True, exist_ok=True)
    left.write_bytes(b"left by a run killed after the tombstone")
    assert deletion.delete_package(archive, gone, ALICE, "manual", now=later(4)).already
    assert not left.exists()


def test_views_in_the_folder_of_an_older_release_go_with_the_package(archive, small_clip, tmp_path, lw):
    """Archives before the views moved to the store kept them in <archive>/cache/<kind>/<sha256>.jpg."""
    gone = add_package(archive, small_clip, tmp_path, "legacy")
    with archive.catalog.session() as s:
        sha = s.get(Package, gone).clips[0].sha256
    old = archive.root / viewing_cache.LEGACY_DIR / "posters" / f"{sha}.jpg"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"\xff\xd8\xff a poster from before")
    assert json.loads(lw("locations", "--json").stdout)["viewing_caches"]["files"] == 1
    deletion.delete_package(archive, gone, ALICE, "manual", now=later(3))
    assert not old.exists()
