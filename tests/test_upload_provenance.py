"""An upload is recorded as an upload by its account until a role that may do so confirms it (issue 22).

"Uploads are recorded as uploads by that account, never as a camera's
recording unless a role that may do so confirms it": an operator's file
naming a camera is stored with origin ``upload``, its uploader and the
*claimed* camera in bag-info.txt; it is in no camera search or range export
until a records manager (or an administrator) confirms it, a decision kept in
the custody ledger that ``reindex`` replays after the catalog is lost.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import old_catalog
import pytest
from alembic import command
from sqlalchemy import inspect
from test_export_shares import RECIPIENT
from test_replay import drop_catalog

from longwatch.core.archive import Archive
from longwatch.core.catalog import Catalog, alembic_config, reference
from longwatch.core.catalog.models import Clip, Package
from longwatch.core.catalog.search import Query, search
from longwatch.core.evidence import export as export_mod
from longwatch.core.evidence.request import Request
from longwatch.core.preservation import provenance, reindex
from longwatch.errors import LongwatchError

TUS = {"Tus-Resumable": "1.0.0"}
START = "2026-03-03T07:00:00Z"
RANGE = (datetime(2026, 3, 3, 6, 59, tzinfo=UTC), datetime(2026, 3, 3, 7, 1, tzinfo=UTC))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _upload(client, token: str, data: bytes, camera: str = "cam-01") -> str:
    """A whole file through ``/api/v1/uploads`` (tus), as a script would send it; the package id."""
    auth = {**TUS, "Authorization": f"Bearer {token}"}
    meta = f"filename {_b64('phone.mp4')},camera {_b64(camera)},start {_b64(START)}"
    made = client.post("/api/v1/uploads", headers={**auth, "Upload-Length": str(len(data)), "Upload-Metadata": meta})
    assert made.status_code == 201, made.get_data(as_text=True)
    url = made.headers["Location"]
    sent = client.patch(url, data=data, headers={**auth, "Content-Type": "application/offset+octet-stream",
                                                 "Upload-Offset": "0"})
    assert sent.status_code == 204, sent.get_data(as_text=True)
    status = client.get(url, headers=auth).get_json()
    assert status["status"] == "archived", status
    return str(status["package_id"])


def _range_export(archive: Archive, tmp_path, name: str) -> list[str]:
    """The package ids a range export of cam-01 around the upload's time holds (none: E004)."""
    try:
        result = export_mod.export(archive, Request(RECIPIENT, cameras=["cam-01"], start=RANGE[0], end=RANGE[1]),
                                   tmp_path / name)
    except LongwatchError as exc:
        assert exc.code == "E004", exc
        return []
    description = json.loads((result.path / "export.json").read_text(encoding="utf-8"))
    return [p["id"] for p in description["packages"]]


def _bag_info(archive: Archive, package_id: str) -> dict[str, str]:
    with archive.storage().open_package_file(package_id, "bag-info.txt") as fh:
        lines = fh.read().decode("utf-8").splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def _confirm(client, token: str, package_id: str, camera: str = "cam-01"):
    return client.post(f"/api/v1/packages/{package_id}/confirm-upload", json={"camera": camera},
                       headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def uploaded(client, web_archive, token_for, fresh_clip) -> str:
    return _upload(client, token_for("operator"), fresh_clip.read_bytes())


def test_an_operators_upload_is_an_upload_by_that_account_not_the_cameras_recording(
        client, web_archive, token_for, uploaded, tmp_path, login_as) -> None:
    archive = web_archive.archive
    info = _bag_info(archive, uploaded)
    assert info["Longwatch-Origin"] == "upload" and info["Longwatch-Uploaded-By"] == "operator"
    assert info["Longwatch-Claimed-Camera"] == "cam-01" and info.get("Longwatch-Camera", "") == ""
    title = archive.catalog.get(uploaded).title  # a claim is no camera name for a text search to find
    assert "cam-01" not in title and "operator" in title and "phone.mp4" in title, title
    with archive.storage().open_package_file(uploaded, "metadata/premis.xml") as fh:
        assert b"account:operator" in fh.read()
    assert _range_export(archive, tmp_path, "before") == []
    answer = client.get(f"/api/v1/packages/{uploaded}", headers={"Authorization": f"Bearer {token_for('auditor')}"})
    got = answer.get_json()
    assert got["camera"] == "" and got["origin"] == "upload" and got["uploaded_by"] == "operator"
    assert got["claimed_camera"] == "cam-01" and got["confirmed"] is False
    listed = client.get("/api/v1/packages?camera=cam-01", headers={"Authorization": f"Bearer {token_for('auditor')}"})
    assert uploaded not in {p["package_id"] for p in listed.get_json()["packages"]}
    page = login_as("records-manager").get(f"/packages/{uploaded}").get_data(as_text=True)
    assert "upload by operator, unconfirmed" in page and 'id="confirm-upload"' in page
    assert 'id="confirm-upload"' not in login_as("operator").get(f"/packages/{uploaded}").get_data(as_text=True)
    # named by its id, it goes out marked as an upload, never as cam-01's recording
    result = export_mod.export(archive, Request(RECIPIENT, package_ids=[uploaded]), tmp_path / "by-id")
    report = next(result.path.rglob("REPORT.html")).read_text(encoding="utf-8")
    assert "업로드 (계정 operator, 확인되지 않음): 카메라 녹화 영상이 아님" in report


def test_the_package_page_confirms_an_upload(web_archive, uploaded, login_as) -> None:
    browser = login_as("records-manager")
    page = browser.get(f"/packages/{uploaded}").get_data(as_text=True)
    token = re.search(r'id="confirm-upload".*?name="csrf_token" value="([^"]+)"', page, re.S)
    assert token is not None
    done = browser.post(f"/packages/{uploaded}/confirm-upload", data={"csrf_token": token.group(1),
                                                                     "camera": "cam-01"})
    assert done.status_code == 302, done.get_data(as_text=True)
    page = browser.get(f"/packages/{uploaded}").get_data(as_text=True)
    assert "confirmed as cam-01" in page and "by records-manager" in page and 'id="confirm-upload"' not in page
    row = web_archive.archive.catalog.get(uploaded)
    assert row is not None and row.camera == "cam-01" and row.confirmed_by == "records-manager"


def test_an_operator_may_not_confirm_an_upload(client, web_archive, token_for, uploaded) -> None:
    refused = _confirm(client, token_for("operator"), uploaded)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "W009"
    assert client.get(f"/api/v1/packages/{uploaded}",
                      headers={"Authorization": f"Bearer {token_for('operator')}"}).get_json()["confirmed"] is False


def test_a_records_manager_confirms_it_and_it_survives_the_loss_of_the_catalog(
        client, app, web_archive, token_for, uploaded, tmp_path, lw) -> None:
    archive = web_archive.archive
    done = _confirm(client, token_for("records-manager"), uploaded)
    assert done.status_code == 200, done.get_data(as_text=True)
    got = done.get_json()
    assert got["camera"] == "cam-01" and got["confirmed"] is True and got["confirmed_by"] == "records-manager"
    assert _range_export(archive, tmp_path, "after") == [uploaded]
    said = json.loads((tmp_path / "after" / "export.json").read_text(encoding="utf-8"))["packages"][0]
    assert (said["origin"], said["uploaded_by"], said["confirmed_by"]) == ("upload", "operator", "records-manager")
    report = next((tmp_path / "after").rglob("REPORT.html")).read_text(encoding="utf-8")
    assert "records-manager이(가)" in report and "카메라 녹화 영상으로 확인함" in report  # the report is in Korean
    assert _bag_info(archive, uploaded).get("Longwatch-Camera", "") == ""  # the package bytes are never rewritten
    again = _confirm(client, token_for("administrator"), uploaded)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "W042"

    with archive.catalog.session() as session:
        terms_before = session.get(Package, uploaded).search_terms
    app.extensions["longwatch"].close()
    drop_catalog(archive)
    assert lw("reindex").exit_code == 0
    reopened = Archive.open(archive.root)
    try:
        row = reopened.catalog.get(uploaded)
        assert row is not None and row.camera == "cam-01" and row.origin == "upload"
        assert row.uploaded_by == "operator" and row.confirmed_by == "records-manager"
        assert {c.camera for c in row.clips} == {"cam-01"} and row.search_terms == terms_before
        assert _range_export(reopened, tmp_path, "rebuilt") == [uploaded]
    finally:
        reopened.close()


def test_reindex_reads_the_provenance_from_the_package(web_archive, uploaded) -> None:
    archive = web_archive.archive
    row = reindex.read_package(archive.storage(), uploaded)
    assert (row.origin, row.uploaded_by, row.claimed_camera, row.camera) == ("upload", "operator", "cam-01", "")
    ingested = reindex.read_package(archive.storage(), web_archive.package_id)
    assert (ingested.origin, ingested.uploaded_by, ingested.camera) == ("camera", "", "cam-01")


def test_migration_0039_on_both_back_ends(catalog_backend: str, tmp_path) -> None:
    """Packages catalogued before 0039 are a camera's; the downgrade drops the columns and keeps the triggers."""
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}" if catalog_backend == "sqlite" else catalog_backend)
    t0 = datetime(2026, 3, 3, 5, tzinfo=UTC)

    def made(pid: str, title: str) -> Package:
        return Package(id=pid, created_at=t0, title=title, camera="cam-01", start_utc=t0, end_utc=t0,
                       description="", notes="", location_name="",
                       clips=[Clip(relpath="data/media/x.mp4", sha256=pid.ljust(64, "0"), sha512="",
                                   start_utc=t0, end_utc=t0, camera="cam-01", span_s=1)])

    catalog.upgrade("0038")
    old_catalog.add_package(catalog, made("p-1", "North gate"))
    catalog.upgrade()
    row = catalog.get("p-1")
    assert row is not None and (row.origin, row.uploaded_by, row.confirmed_at) == ("camera", "", None)
    with catalog.engine.begin() as connection:
        cfg = alembic_config(catalog.engine)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0038")
    columns = {c["name"] for c in inspect(catalog.engine).get_columns("packages")}
    assert not columns & {"origin", "uploaded_by", "claimed_camera", "confirmed_by", "confirmed_at"}
    old_catalog.add_package(catalog, made("p-2", "South gate"))
    assert {i["package_id"] for i in search(catalog, Query(text="gate")).items} == {"p-1", "p-2"}
    catalog.upgrade()
    catalog.dispose()


def test_the_command_line_confirms_an_upload(web_archive, uploaded, lw) -> None:
    done = lw("uploads", "confirm", uploaded, "--json")
    assert done.exit_code == 0, done.output
    said = json.loads(done.output)
    assert said["camera"] == "cam-01" and said["uploaded_by"] == "operator" and said["confirmed_by"]
    again = lw("uploads", "confirm", uploaded)
    assert again.exit_code != 0 and "W042" in again.output


def test_db_copy_carries_the_provenance(client, web_archive, token_for, uploaded, lw, postgres_server) -> None:
    assert _confirm(client, token_for("administrator"), uploaded).status_code == 200
    url = postgres_server.create_database()
    copied = lw("db", "copy", "--to", url, "--json")
    assert copied.exit_code == 0, copied.output
    target = Catalog(url)
    try:
        row = target.get(uploaded)
        assert row is not None and (row.origin, row.uploaded_by, row.claimed_camera) == ("upload", "operator", "cam-01")
        assert row.camera == "cam-01" and row.confirmed_by == "administrator" and row.confirmed_at is not None
    finally:
        target.dispose()


def test_list_and_show_say_it_is_an_upload(web_archive, uploaded, lw) -> None:
    assert "upload by operator, unconfirmed" in lw("--lang", "en", "show", uploaded).output
    shown = json.loads(lw("show", uploaded, "--json").output)
    assert (shown["origin"], shown["uploaded_by"], shown["camera"]) == ("upload", "operator", "")
    listed = lw("--lang", "en", "list").output  # the table narrows the cell to the terminal's width
    row = next(line for line in listed.splitlines() if line.strip().startswith(uploaded[:8]))
    assert "upload by" in row


def test_search_marks_the_upload_and_a_camera_search_leaves_it_out(client, web_archive, token_for, uploaded,
                                                                    login_as) -> None:
    auth = {"Authorization": f"Bearer {token_for('operator')}"}
    span = "start=2026-03-03T06:59:00Z&end=2026-03-03T07:01:00Z"
    hits = client.get(f"/api/v1/search?{span}", headers=auth).get_json()["items"]
    mine = [h for h in hits if h["package_id"] == uploaded]
    assert mine and mine[0]["origin"] == "upload" and mine[0]["uploaded_by"] == "operator"
    assert mine[0]["confirmed"] is False and mine[0]["camera"] == ""
    assert not client.get(f"/api/v1/search?{span}&camera=cam-01", headers=auth).get_json()["items"]
    page = login_as("operator").get(f"/search?{span}").get_data(as_text=True)
    assert "upload by operator, unconfirmed" in page


def test_a_camera_hold_covers_an_unconfirmed_upload_that_claims_that_camera(web_archive, uploaded) -> None:
    """A hold fails closed: an upload claimed to be cam-01's footage may be the very evidence a hold on cam-01
    over that range is meant to keep, so the hold covers it until a records manager says whose it is."""
    from longwatch.core.records import deletion, holds
    from longwatch.core.records.actors import Actor

    archive = web_archive.archive
    manager = Actor("records-manager", "records-manager")
    hold = holds.place_hold(archive, manager, owner="Seoul Jung-gu police", reason="theft 2026-17",
                            camera="cam-01", start=RANGE[0], end=RANGE[1])
    other = holds.place_hold(archive, manager, owner="o", reason="r", camera="cam-02", start=RANGE[0], end=RANGE[1])
    assert [h.id for h in holds.holds_on(archive, uploaded)] == [hold.id]
    assert uploaded in holds.covered_packages(archive, hold)  # the SQL the planner and object lock use
    assert uploaded not in holds.covered_packages(archive, other)
    with pytest.raises(LongwatchError) as refused:
        deletion.delete_package(archive, uploaded, manager, "manual")
    assert refused.value.code == "H003"
    assert archive.catalog.get(uploaded).status == "stored"
    # confirmed as another camera's recording, it is that camera's footage, held by that camera's holds
    reference.import_cameras_text(archive.catalog, "id,name\ncam-02,North gate\n", "cameras.csv")
    provenance.confirm(archive, uploaded, "records-manager", "records-manager", camera="cam-02")
    assert [h.id for h in holds.holds_on(archive, uploaded)] == [other.id]
    assert uploaded not in holds.covered_packages(archive, hold)
    assert uploaded in holds.covered_packages(archive, other)
