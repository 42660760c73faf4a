"""Catalog schema, migrations, reference data, reindex and the commands, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, text
from test_facet_hours import assert_counts_in_step

from longwatch.core.archive import Archive
from longwatch.core.catalog import Catalog, fulltext, reference
from longwatch.core.catalog.models import Base, DetectedEvent
from longwatch.core.catalog.search import Query, search
from longwatch.core.media.probe import make_test_clip

CSV = """id,name,zone,coordinates,address,purpose,tags
cam-01,Market gate,Jung-gu/Market/Gate-1,"37.5665,126.9780",Sejong-daero 110,traffic,entrance;outdoor
cam-02,Namsan trail,Jung-gu/Namsan,"37.5512,126.9882",Namsan-gil 5,parks,
"""


def _url(backend: str, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'c.sqlite'}" if backend == "sqlite" else backend


def test_models_match_migrations(catalog_backend: str, tmp_path: Path) -> None:
    catalog = Catalog(_url(catalog_backend, tmp_path))
    catalog.upgrade()
    with catalog.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_name": fulltext.include_name})
        assert compare_metadata(ctx, Base.metadata) == []
    catalog.dispose()


def test_upgrade_from_0001_keeps_data(catalog_backend: str, tmp_path: Path) -> None:
    catalog = Catalog(_url(catalog_backend, tmp_path))
    catalog.upgrade("0001")
    with catalog.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO packages (id, created_at, camera, zone, title, location_name, latitude, longitude, start_utc,"
            " end_utc, time_source, size_bytes, file_count, status, storage_location, tagmanifest_sha256,"
            " signer_fingerprint, media_ok) VALUES ('p1', '2026-03-03 05:00:00', 'cam-01', 'Jung-gu/Market',"
            " '시장 입구 old clip', '', 37.5665, 126.978, '2026-03-03 05:00:00', '2026-03-03 05:10:00', 'operator',"
            " 10, 1, 'stored', 'primary', '', '', true)"))
        conn.execute(text(
            "INSERT INTO clips (package_id, relpath, original_name, size_bytes, sha256, sha512, mime_type,"
            " format_name, codec, start_utc, end_utc, probe_ok) VALUES ('p1', 'data/media/a.mp4', 'a.mp4', 10,"
            " 'abc', 'def', 'video/mp4', 'mp4', 'h264', '2026-03-03 05:00:00', '2026-03-03 05:10:00', true)"))
    catalog.upgrade()
    assert "cameras" in inspect(catalog.engine).get_table_names()
    with catalog.session() as s:
        from longwatch.core.catalog import reference

        reference.ensure_zone(s, "Jung-gu/Market")
    t = datetime(2026, 3, 3, 5, 5, tzinfo=UTC)
    hits = search(catalog, Query(start=t, end=t.replace(minute=6), near=(37.5665, 126.978), radius_m=10,
                                 zone="Jung-gu", text="시장"))
    assert [(i["package_id"], i["camera"], i["duration"]) for i in hits.items] == [("p1", "cam-01", None)]
    with catalog.engine.connect() as conn:
        assert conn.execute(text("SELECT span_s FROM clips")).scalar() == 600
    catalog.dispose()


def test_downgrade_to_0001_and_up_again(catalog_backend: str, tmp_path: Path) -> None:
    from alembic import command

    from longwatch.core.catalog import alembic_config

    catalog = Catalog(_url(catalog_backend, tmp_path))
    catalog.upgrade()
    with catalog.engine.begin() as conn:
        cfg = alembic_config(catalog.engine)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert "cameras" not in inspect(catalog.engine).get_table_names()
    catalog.upgrade()
    assert "cameras" in inspect(catalog.engine).get_table_names()
    catalog.dispose()


@pytest.fixture
def backend_archive(catalog_backend: str, tmp_path: Path):
    a = Archive.create(tmp_path / "archive", organization="Test City CCTV Centre", language="en")
    yield a
    a.close()


def _lw(runner, archive: Archive, *args: str):
    from longwatch.cli import cli

    return runner.invoke(cli, ["-A", str(archive.root), *args], catch_exceptions=False)


def _answers(archive: Archive) -> list:
    t = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)
    queries = [Query(limit=100), Query(start=t, end=t.replace(hour=6), cameras=["cam-01"]),
               Query(zone="Jung-gu"), Query(near=(37.5665, 126.978), radius_m=300), Query(text="시장"),
               Query(case="2026-0412"), Query(purpose="parks"), Query(tags=["outdoor"])]
    out = []
    for q in queries:
        items = search(archive.catalog, q).items
        out.append([{k: v for k, v in i.items() if k != "clip_id"} for i in items])
    return out


def test_cameras_ingest_cases_and_reindex(backend_archive: Archive, runner, tmp_path: Path) -> None:
    a = backend_archive
    csv_path = tmp_path / "cams.csv"
    csv_path.write_text(CSV, encoding="utf-8")
    assert _lw(runner, a, "cameras", "import", str(csv_path)).exit_code == 0
    cams = json.loads(_lw(runner, a, "cameras", "--json").output)["cameras"]
    assert [c["id"] for c in cams] == ["cam-01", "cam-02"]
    assert cams[0]["tags"] == ["entrance", "outdoor"] and cams[0]["latitude"] == 37.5665
    zones = json.loads(_lw(runner, a, "zones", "--json").output)["zones"]
    assert [z["path"] for z in zones] == ["Jung-gu", "Jung-gu/Market", "Jung-gu/Market/Gate-1", "Jung-gu/Namsan"]
    assert [z["kind"] for z in zones[:3]] == ["district", "area", "site"]

    media = tmp_path / "media"
    media.mkdir()
    for cam, start, title in (("cam-01", "2026-03-03T14:10:00+09:00", "시장에서 넘어짐"),
                              ("cam-01", "2026-03-03T14:40:00+09:00", "market gate"),
                              ("cam-02", "2026-03-03T15:00:00+09:00", "남산 산책로")):
        clip = make_test_clip(media / f"{cam}-{start[11:13]}{start[14:16]}.mp4", seconds=1,
                              label=cam, start=datetime.fromisoformat(start))
        result = _lw(runner, a, "ingest", str(clip), "--camera", cam, "--start", start, "--title", title, "--json")
        assert result.exit_code == 0, result.output
    first = json.loads(_lw(runner, a, "search", "--camera", "cam-01", "--order", "asc", "--json").output)
    assert first["items"][0]["zone"] == "Jung-gu/Market/Gate-1"  # filled from the registry
    assert first["items"][0]["location_name"] == "Sejong-daero 110"
    pid = first["items"][0]["package_id"]
    assert _lw(runner, a, "cases", "add", "2026-0412", "--title", "Fall at the gate",
               "--requester", "Jung-gu police").exit_code == 0
    assert _lw(runner, a, "cases", "attach", "2026-0412", pid[:8]).exit_code == 0
    cases = json.loads(_lw(runner, a, "cases", "--json").output)["cases"]
    assert cases[0]["packages"] == [pid]
    assert _lw(runner, a, "cases", "attach", "2026-0412", pid[:8]).exit_code == 0  # again: no change
    changes = [e for e in json.loads(_lw(runner, a, "custody", "show", pid, "--json").output)["entries"]
               if e["type"] == "metadata modification"]
    assert [(e["detail"], e["extra"]["case"]) for e in changes] == [("attached to case 2026-0412", "2026-0412")]
    assert changes[0]["extra"]["tagmanifests"] == {pid: a.catalog.get(pid).tagmanifest_sha256}  # which bytes

    before = _answers(a)
    assert [len(x) for x in before] == [3, 2, 3, 2, 1, 1, 1, 2]
    out = _lw(runner, a, "search", "--near", "37.5665,126.978", "--radius", "300", "--from",
              "2026-03-03T14:00:00+09:00", "--to", "2026-03-03T15:30:00+09:00", "--facets", "--json")
    data = json.loads(out.output)
    assert sorted(data) == ["facets", "gaps", "items", "next"] and data["gaps"] == []  # no outage recorded
    assert sorted(data["items"][0]) == sorted(["clip_id", "package_id", "camera", "zone", "start", "end",
                                               "duration", "title", "location_name", "latitude", "longitude",
                                               "path", "size", "sha256", "codec", "status"])
    assert data["facets"]["day"] == [{"key": "2026-03-03", "count": 2}]

    # Drop the database entirely, then rebuild it from storage alone.
    a.catalog.dispose()
    url = a.settings.catalog_url
    if url.startswith("sqlite"):
        Path(url[len("sqlite:///"):]).unlink()
    else:
        with a.catalog.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        a.catalog.dispose()
    result = _lw(runner, a, "reindex", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["packages"], report["clips"], report["reference_restored"]) == (3, 3, True)
    assert _answers(a) == before
    assert_counts_in_step(a.catalog)  # the counts per hour of the facet panel came back with the clips


def test_reindex_reports_a_damaged_package(backend_archive: Archive, runner, clip: Path) -> None:
    a = backend_archive
    assert _lw(runner, a, "ingest", str(clip), "--camera", "cam-01").exit_code == 0
    pid = a.catalog.all_ids()[0]
    local = a.storage().local_path(pid)
    assert local is not None
    (local / "metadata" / "dc.xml").write_bytes(b"<not xml")
    result = _lw(runner, a, "reindex", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"][0]["code"] == "Q016"


@pytest.mark.parametrize(("content", "code"), [
    ("id,name\ncam 01,bad id\n", "Q012"),
    ("id,name,coordinates\ncam-01,x,\"91,0\"\n", "Q012"),
    ("id,name,coordinates\ncam-01,x,\"abc\"\n", "Q012"),
    ("id,name,zone\ncam-01,x,a//b\n", "Q012"),
    ("name\nx\n", "Q012"),
])
def test_camera_csv_errors(archive: Archive, lw, tmp_path: Path, content: str, code: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = lw("cameras", "import", str(path))
    assert result.exit_code == 4
    assert f"ERROR [{code}]" in result.output
    assert json.loads(lw("cameras", "--json").output)["cameras"] == []  # all or nothing


def test_camera_move_gives_clips_the_place_of_their_time(archive: Archive, lw, tmp_path: Path) -> None:
    from longwatch.core.catalog import reference

    assert lw("cameras", "add", "cam-09", "--zone", "Mapo-gu/Hapjeong", "--location", "37.55,126.91").exit_code == 0
    assert lw("cameras", "move", "cam-09", "--at", "2026-06-01T00:00:00Z", "--zone", "Jung-gu/Market",
              "--location", "37.5665,126.978").exit_code == 0
    old = reference.camera_at(archive.catalog, "cam-09", datetime(2026, 3, 1, tzinfo=UTC))
    new = reference.camera_at(archive.catalog, "cam-09", datetime(2026, 7, 1, tzinfo=UTC))
    assert old is not None and new is not None
    assert (old["zone"], old["latitude"]) == ("Mapo-gu/Hapjeong", 37.55)
    assert (new["zone"], new["latitude"]) == ("Jung-gu/Market", 37.5665)
    assert "ERROR [Q009]" in lw("cameras", "move", "nope", "--at", "2026-06-01T00:00:00Z").output


def test_search_command_errors_are_coded(archive: Archive, lw) -> None:
    for args, code in ((["--from", "2026-03-04T00:00Z", "--to", "2026-03-03T00:00Z"], "Q001"),
                       (["--near", "37.5,200", "--radius", "300"], "Q002"),
                       (["--zone", "Nowhere"], "Q003"),
                       (["-q", "x" * 500], "Q004"),
                       (["--bbox", "1,2,3"], "Q008"),
                       (["--after", "@@@"], "Q006")):
        result = lw("search", *args)
        assert result.exit_code == 4, (args, result.output)
        assert f"ERROR [{code}]" in result.output
    assert lw("search").exit_code == 0


def test_upgrade_from_0012_makes_the_event_index_covering(catalog_backend: str, tmp_path: Path) -> None:
    """Revision 0014 replaces events(type, confidence) with (type, confidence, package_id); data stays."""
    catalog = Catalog(_url(catalog_backend, tmp_path))
    catalog.upgrade("0012")
    names = {i["name"] for i in inspect(catalog.engine).get_indexes("events")}
    assert "ix_events_type_confidence" in names
    with catalog.session() as s:
        reference.upsert_camera(s, {"id": "cam-01", "zone": "Jung-gu/Market", "latitude": 37.5665,
                                    "longitude": 126.978})
    t = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    with catalog.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO packages (id, created_at, camera, zone, title, location_name, latitude, longitude, start_utc,"
            " end_utc, time_source, size_bytes, file_count, status, storage_location, tagmanifest_sha256,"
            " signer_fingerprint, media_ok, description, notes) VALUES ('p1', '2026-03-03 05:00:00', 'cam-01',"
            " 'Jung-gu/Market', 'fall', '', 37.5665, 126.978, '2026-03-03 05:00:00', '2026-03-03 05:10:00',"
            " 'operator', 10, 1, 'stored', 'primary', '', '', true, '', '')"))
        conn.execute(text(
            "INSERT INTO clips (package_id, relpath, original_name, size_bytes, sha256, sha512, mime_type,"
            " format_name, codec, start_utc, end_utc, probe_ok, camera, zone, span_s) VALUES ('p1', 'a.mp4',"
            " 'a.mp4', 10, 'abc', 'def', 'video/mp4', 'mp4', 'h264', '2026-03-03 05:00:00', '2026-03-03 05:10:00',"
            " true, 'cam-01', 'Jung-gu/Market', 600)"))
    with catalog.engine.begin() as conn:  # the events table is the same at 0012 and at 0014
        # Core, not the ORM: the ORM's flush also feeds the analytics rollups, which come in 0017
        conn.execute(insert(DetectedEvent.__table__).values(package_id="p1", camera="cam-01", type="fall", start_utc=t,
                                                            confidence=0.9, source="ai-x"))
    catalog.upgrade()
    names = {i["name"] for i in inspect(catalog.engine).get_indexes("events")}
    assert "ix_events_type_confidence_package" in names and "ix_events_type_confidence" not in names
    page = search(catalog, Query(event_type="fall", min_confidence=0.8, start=t, end=t.replace(hour=6)))
    assert [i["package_id"] for i in page.items] == ["p1"]
    catalog.dispose()
