"""Two working directories sharing only PostgreSQL and the S3 store: the viewing caches and the watch state.

Each "machine" is a folder made from the same provisioned configuration and
keys (``longwatch.toml`` and ``keys/`` copied, nothing else), as a web server
and a worker would be deployed. What one makes, the other serves or uses.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import LONGWATCH, create_archive, ingest_one, unique_copy
from retention_helpers import ALICE, add_package, later
from test_watch_state import Numbered
from web_fixtures import PASSWORD, login

from longwatch.core import accounts
from longwatch.core.archive import Archive
from longwatch.core.records import deletion
from longwatch.core.storage import viewing_cache
from longwatch.errors import LongwatchError
from longwatch.web import create_app

pytestmark = pytest.mark.slow


@dataclass
class Machines:
    a: Archive
    b: Archive
    bucket: str
    s3: Any

    def objects(self, prefix: str) -> dict[str, bytes]:
        listed = self.s3.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", [])
        return {o["Key"]: self.s3.client().get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read()
                for o in listed}


@pytest.fixture
def machines(postgres_server, s3_server, tmp_path, monkeypatch) -> Iterator[Machines]:
    monkeypatch.setenv("LONGWATCH_CATALOG_URL", postgres_server.create_database())
    root_a, root_b = tmp_path / "machine-a", tmp_path / "machine-b"
    a = create_archive(root_a)
    options = s3_server.options()
    config = root_a / "longwatch.toml"
    head, _, rest = config.read_text().partition("[storage]")
    _, _, tail = rest.partition("[signing]")
    body = '[storage]\nprimary = "primary"\n\n[storage.locations.primary]\nadapter = "s3"\n' + "".join(
        f"{k} = {json.dumps(v)}\n" for k, v in options.items())
    config.write_text(head + body + "\n[signing]" + tail)
    a.close()
    shutil.rmtree(root_a / "storage", ignore_errors=True)  # the local location of `init`, no longer configured
    root_b.mkdir()
    shutil.copy2(config, root_b / "longwatch.toml")  # provisioned: the same configuration and keys, nothing else
    shutil.copytree(root_a / "keys", root_b / "keys")
    a, b = Archive.open(root_a), Archive.open(root_b)
    yield Machines(a, b, options["bucket"], s3_server)
    a.close()
    b.close()


def _client(root: Path, role: str) -> tuple[Any, Any]:
    app = create_app(root, {"TESTING": True})
    c = app.test_client()
    assert login(c, role).status_code == 302
    return app, c


def _local_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_a_view_made_on_one_machine_is_served_by_the_other_without_ffmpeg(machines, clip, tmp_path):
    from test_web_access_copy import ts_segment

    a, b = machines.a, machines.b
    package_id = ingest_one(a, clip, camera="cam-01")
    segment = ingest_one(a, ts_segment(tmp_path / "cam-01_seg000001.ts"), camera="cam-01")
    accounts.add_user(a.catalog, "operator", PASSWORD, "operator")
    [row] = a.catalog.get(package_id).clips
    [ts_row] = a.catalog.get(segment).clips
    app_a, on_a = _client(a.root, "operator")
    app_b, on_b = _client(b.root, "operator")
    before_b = _local_files(b.root)
    try:
        made = on_a.get(f"/clips/{row.id}/poster.jpg")
        assert made.status_code == 200 and made.data[:3] == b"\xff\xd8\xff"
        key = f"cache/posters/{package_id}/{row.sha256}.jpg"
        assert machines.objects("cache/posters/") == {key: made.data}  # on the store, not in A's folder
        assert not (a.root / "cache").exists()
        # B must serve the stored object, not make its own: mark it so a second ffmpeg run would show
        marked = b"\xff\xd8\xff made on machine A"
        machines.s3.client().put_object(Bucket=machines.bucket, Key=key, Body=marked)
        served = on_b.get(f"/clips/{row.id}/poster.jpg")
        assert served.status_code == 200 and served.data == marked
        assert machines.objects("cache/posters/") == {key: marked}

        # an access copy made on A: B answers its ranges from the store
        whole = on_a.get(f"/clips/{ts_row.id}/playable.mp4")
        assert whole.status_code == 200 and whole.mimetype == "video/mp4"
        body = whole.data
        whole.close()
        access_key = f"cache/access/{segment}/{ts_row.sha256}.mp4"
        assert machines.objects("cache/access/") == {access_key: body}
        ranged = on_b.get(f"/clips/{ts_row.id}/playable.mp4", headers={"Range": "bytes=100-199"})
        assert ranged.status_code == 206 and ranged.data == body[100:200]
        assert ranged.headers["Content-Range"] == f"bytes 100-199/{len(body)}"
        ranged.close()
        assert on_b.get(f"/clips/{ts_row.id}/playable.mp4",
                        headers={"Range": f"bytes={len(body)}-"}).status_code == 416
    finally:
        app_a.extensions["longwatch"].close()
        app_b.extensions["longwatch"].close()
    # B kept nothing another machine needs: only its own access log (docs/deployment.md)
    assert _local_files(b.root) - before_b == {"logs/access.jsonl"}
    views = [json.loads(line) for line in (b.root / "logs" / "access.jsonl").read_text().splitlines()]
    assert [(v["package_id"], v["action"]) for v in views] == [(package_id, "view"), (segment, "view")]


def test_disposal_on_one_machine_purges_the_views_the_other_made(machines, small_clip, tmp_path):
    from longwatch.web.package_view import poster_view

    a, b = machines.a, machines.b
    gone = add_package(a, small_clip, tmp_path, "gone")
    kept = add_package(a, small_clip, tmp_path, "kept")
    for package_id in (gone, kept):
        pkg = a.catalog.get(package_id)
        poster_view(a, pkg, pkg.clips[0])  # made on A (real ffmpeg through a pipe from S3)
    assert {k.split("/")[2] for k in machines.objects("cache/")} == {gone, kept}
    assert viewing_cache.usage(b).files == 2

    result = deletion.delete_package(b, gone, ALICE, "manual", now=later(3))

    assert {k.split("/")[2] for k in machines.objects("cache/")} == {kept}
    assert viewing_cache.usage(a).files == 1
    assert result.package_id == gone and not machines.objects(f"cache/posters/{gone}/")


def test_a_cursor_advanced_on_one_machine_is_where_the_other_continues(machines, small_clip, tmp_path):
    from longwatch.plugins.connectors.watch import Watch, state_dir_for

    a, b = machines.a, machines.b
    source = tmp_path / "source"
    for n in (1, 2):
        unique_copy(small_clip, source / f"{n}.mp4")
    first = Watch(a, Numbered({"folder": str(source)}, state_dir_for(a, "numbered"))).run_once()
    assert [(o.key, o.error) for o in first] == [("n1", None), ("n2", None)]

    on_b = Watch(b, Numbered({"folder": str(source)}, state_dir_for(b, "numbered")))
    assert on_b.state.cursor == "2" and set(on_b.state.done) == {"n1", "n2"}
    unique_copy(small_clip, source / "3.mp4")
    listed: list[str | None] = []
    connector = on_b.connector
    original = connector.list_clips
    connector.list_clips = lambda cursor: (listed.append(cursor), original(cursor))[1]  # type: ignore[method-assign]
    again = on_b.run_once()
    assert listed == ["2"] and [(o.key, o.already, o.error) for o in again] == [("n3", False, None)]
    assert len(a.catalog.packages()) == 3  # nothing ingested twice
    assert Watch(a, Numbered({"folder": str(source)}, state_dir_for(a, "numbered"))).state.cursor == "3"
    assert not (b.root / "connectors" / "numbered" / "state.json").exists()
    assert not (a.root / "connectors" / "numbered" / "state.json").exists()


def test_two_watchers_of_one_watch_never_both_run(machines, small_clip, tmp_path):
    """A watcher on A (a real process) holds the watch: B's is refused (N018) until A stops, then continues."""
    from longwatch.plugins.connectors.dropfolder import DropFolderConnector
    from longwatch.plugins.connectors.watch import Watch, state_dir_for

    a, b = machines.a, machines.b
    drop = tmp_path / "drop"
    unique_copy(small_clip, drop / "a.mp4")
    config = tmp_path / "drop.toml"
    config.write_text(f'path = "{drop}"\nsettle_seconds = 0\ncamera = "cam-01"\n', encoding="utf-8")
    proc = subprocess.Popen([*LONGWATCH, "-A", str(a.root), "watch", "drop-folder", "--config", str(config),
                             "--interval", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while (drop / "a.mp4").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not (drop / "a.mp4").exists()
        unique_copy(small_clip, drop / "b.mp4")
        standby = Watch(b, DropFolderConnector({"path": str(drop), "settle_seconds": 0, "camera": "cam-01"},
                                               state_dir_for(b, "drop-folder")))
        with pytest.raises(LongwatchError) as info:
            standby.run_once()
        assert info.value.code == "N018" and socket.gethostname() in info.value.render()
        proc.terminate()
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "2 clips stored," in err  # A took b.mp4 too, in its passes or its last one
    assert standby.run_once() == []  # B holds the watch now, and finds nothing left to take
    assert len(a.catalog.packages()) == 2


def test_a_view_the_store_refuses_to_delete_never_stops_the_deletion(archive, s3_server, small_clip, tmp_path):
    """A bucket whose object lock keeps a view (an operator's default retention, a stray legal hold): the
    package is still destroyed and recorded, the view is named in the custody event, a rerun purges it."""
    from conftest import configure_storage

    from longwatch.core import custody
    from longwatch.web.package_view import poster_view

    options = s3_server.options(object_lock=True)
    archive = configure_storage(archive, '[storage]\nprimary = "primary"\n\n[storage.locations.primary]\n'
                                'adapter = "s3"\n' + "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items()))
    gone = add_package(archive, small_clip, tmp_path, "locked-view")
    pkg = archive.catalog.get(gone)
    view = poster_view(archive, pkg, pkg.clips[0])
    client = s3_server.client()
    client.put_object_legal_hold(Bucket=options["bucket"], Key=view.key, LegalHold={"Status": "ON"})

    deletion.delete_package(archive, gone, ALICE, "manual", now=later(3))

    assert archive.catalog.get(gone).status == "disposed"
    [event] = [json.loads(line) for _seq, line in custody.Ledger.for_archive(archive).lines()
               if json.loads(line)["type"] == "deletion"]
    assert event["extra"]["viewing_caches_left"] == [view.key] and event["extra"]["viewing_caches_removed"] == 0
    client.put_object_legal_hold(Bucket=options["bucket"], Key=view.key, LegalHold={"Status": "OFF"})
    assert deletion.delete_package(archive, gone, ALICE, "manual", now=later(4)).already
    assert viewing_cache.find(archive, "posters", gone, view.key.rsplit("/", 1)[1]) is None
