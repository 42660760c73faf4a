"""The planning sample: when a camera's footage is disposed of, the sampled minutes of every hour stay,
cut by stream copy into derived packages of the planning class (or kept whole), exactly once, never
under a hold. Real ffmpeg footage: one camera hour recorded as three files (5, 20 and 35 minutes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import configure_storage, frozen_longwatch, ingest_one, local_locations, sign_in, stored_file, unique_copy
from retention_helpers import ALICE, BOB, on_storage, status
from sqlalchemy import select

from longwatch.core import custody
from longwatch.core.aip import package
from longwatch.core.catalog.models import Package, PlanningSampleKept, RetentionAssignment
from longwatch.core.media.probe import make_test_clip
from longwatch.core.public import notice
from longwatch.core.records import dispositions, holds, sampling, schedules
from longwatch.core.records.assignment import set_schedule
from longwatch.errors import LongwatchError

HOUR = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
PARTS = {"a": (0, 5), "b": (5, 25), "c": (25, 60)}  # minutes of the hour each file covers
NOW = HOUR + timedelta(days=60)  # continuous footage (P30D) is due


@pytest.fixture(scope="module")
def hour_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """64x48 at 1 frame per second, a keyframe every second: a camera hour in a few seconds of ffmpeg."""
    folder = tmp_path_factory.mktemp("hour")
    return {name: make_test_clip(folder / f"cam-p_{name}.mp4", seconds=(hi - lo) * 60, size="64x48", rate=1)
            for name, (lo, hi) in PARTS.items()}


def sampled_schedule(tmp_path: Path, enabled: bool = True) -> Path:
    text = schedules.DEFAULT_SCHEDULE.read_text(encoding="utf-8").replace("enabled = false",
                                                                          f"enabled = {str(enabled).lower()}")
    path = tmp_path / f"schedule-{enabled}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def camera_hour(archive, hour_files, tmp_path) -> dict[str, str]:
    set_schedule(archive, sampled_schedule(tmp_path), ALICE, now=HOUR)
    return {name: ingest_one(archive, unique_copy(path, tmp_path / "src" / path.name), camera="cam-p",
                             start=HOUR + timedelta(minutes=PARTS[name][0]), zone="Jung-gu/Market")
            for name, path in hour_files.items()}


def dispose(archive, now=NOW):
    disposition, _plan = dispositions.propose(archive, ALICE, now)
    if disposition is None:
        return None
    dispositions.approve(archive, disposition.id, BOB, now)
    return dispositions.execute(archive, disposition.id, BOB, now)


def samples(archive) -> list[tuple[Package, RetentionAssignment, PlanningSampleKept | None]]:
    with archive.catalog.session() as s:
        rows = s.execute(
            select(Package, RetentionAssignment, PlanningSampleKept)
            .join(RetentionAssignment, RetentionAssignment.package_id == Package.id)
            .outerjoin(PlanningSampleKept, PlanningSampleKept.package_id == Package.id)
            .where(Package.status == "stored", Package.camera == "cam-p").order_by(Package.start_utc)).all()
        for package_row, _a, _k in rows:
            _ = package_row.clips
        return [tuple(r) for r in rows]


def test_the_sampled_minutes_survive_disposition_as_planning_packages(lw, archive, hour_files, tmp_path):
    ids = camera_hour(archive, hour_files, tmp_path)
    result = dispose(archive)
    assert result is not None
    assert sorted(result["deleted"]) == sorted([ids["b"], ids["c"]])
    kept = samples(archive)
    assert [k.kind for _p, _a, k in kept] == ["kept", "cut"]
    whole, cut = kept[0][0], kept[1][0]
    assert whole.id == ids["a"]  # wholly inside the sample: kept and re-classed, not cut
    assert status(archive, ids["b"]) == "disposed" and not on_storage(archive, ids["b"])
    assert status(archive, ids["c"]) == "disposed"
    # exactly the sampled minutes remain: 12:00 to 12:10, in the planning class, kept five years
    spans = [(c.start_utc, c.start_utc + timedelta(seconds=c.duration)) for p, _a, _k in kept for c in p.clips]
    assert spans[0] == (HOUR, HOUR + timedelta(minutes=5))
    assert spans[1][0] == HOUR + timedelta(minutes=5)  # a keyframe every second: the cut starts on the minute
    assert abs((spans[1][1] - (HOUR + timedelta(minutes=10))).total_seconds()) <= 1
    for _p, assignment, _k in kept:
        assert (assignment.record_class, assignment.rule) == ("planning", "planning sample")
        assert assignment.due_at == HOUR.replace(year=2031) + (_p.start_utc - HOUR)
    # the cut verifies and names its source, its tool and its reason
    assert lw("verify", cut.id).exit_code == 0
    storage = archive.storage()
    with storage.open_package_file(cut.id, "bag-info.txt") as fh:
        info = dict(package.parse_bag_info(fh.read()))
    assert info["Longwatch-Derived-From"] == ids["b"] and info["Longwatch-Derivation"] == "planning-sample"
    assert kept[1][2].source_package_id == ids["b"]
    with storage.open_package_file(cut.id, "metadata/technical.json") as fh:
        derivation = json.loads(fh.read())["derivation"]
    assert derivation["tool"]["name"] == "ffmpeg" and "-c copy" in derivation["parameters"]["commands"][0]
    # the custody ledger records the derivation on both packages
    ledger = custody.Ledger.for_archive(archive)
    made = [e for _s, e, _l in ledger.history(ids["b"]) if e.get("extra", {}).get("planning_sample")]
    assert [e["extra"]["planning_sample"]["package"] for e in made] == [cut.id]
    assert any(e.get("extra", {}).get("planning_sample") for _s, e, _l in ledger.history(cut.id))
    # the destruction certificate lists what was kept
    body = json.loads(stored_file(archive, result["certificate"]).read_text())
    assert {k["package_id"]: k["kind"] for k in body["planning_samples"]} == {whole.id: "kept", cut.id: "cut"}
    assert {i["package_id"]: i["status"] for i in body["withheld"]} == {ids["a"]: "kept-as-sample"}
    html = (stored_file(archive, result["certificate"]).with_suffix(".html")).read_text()
    assert "planning samples" in html and cut.id in html
    assert sorted(result["planning_samples"]) == sorted([whole.id, cut.id])


def test_running_disposition_again_cuts_nothing_twice(archive, hour_files, tmp_path):
    ids = camera_hour(archive, hour_files, tmp_path)
    dispose(archive)
    before = [p.id for p, _a, _k in samples(archive)]
    assert dispose(archive, NOW + timedelta(days=1)) is None  # the samples are not due for five years
    sample = schedules.active_schedule(archive).planning_sample
    assert sample is not None
    # asking again for the disposed source: its minutes are already kept
    assert sampling.keep_planning_sample(archive, ids["b"], sample, BOB, NOW) == "cut"
    assert sampling.keep_planning_sample(archive, ids["a"], sample, BOB, NOW) == "kept"
    assert [p.id for p, _a, _k in samples(archive)] == before
    # a recomputation of every class (a schedule change) keeps them in the planning class
    set_schedule(archive, sampled_schedule(tmp_path, enabled=False), ALICE, now=NOW)
    assert {a.record_class for _p, a, _k in samples(archive)} == {"planning"}


EXECUTED_AT = "2026-03-02T03:00:00Z"
def killed_execution(archive, fault: str):
    """Propose and approve a disposition, then run `dispose execute` in a process killed at ``fault``."""
    disposition, _plan = dispositions.propose(archive, ALICE, NOW)
    assert disposition is not None
    dispositions.approve(archive, disposition.id, BOB, NOW)
    proc = frozen_longwatch(EXECUTED_AT, "-A", archive.root, "dispose", "execute", disposition.id,
                            env={**sign_in(archive, "bob", "records-manager"), "LONGWATCH_FAULT": fault})
    assert proc.returncode == -9, proc.stderr
    return disposition


def test_a_run_killed_after_the_cut_is_resumed_without_a_second_cut(archive, hour_files, tmp_path):
    ids = camera_hour(archive, hour_files, tmp_path)
    disposition = killed_execution(archive, "after-planning-sample")  # between the cut and the source's deletion
    assert status(archive, ids["b"]) == "stored"
    assert [k.kind for _p, _a, k in samples(archive) if k is not None and k.kind == "cut"] == ["cut"]
    proc = frozen_longwatch(EXECUTED_AT, "-A", archive.root, "dispose", "execute", disposition.id, "--json",
                            env=sign_in(archive, "bob", "records-manager"))
    assert proc.returncode == 0, proc.stderr
    kept = samples(archive)
    assert [k.kind for _p, _a, k in kept] == ["kept", "cut"]
    assert status(archive, ids["b"]) == "disposed" and status(archive, ids["c"]) == "disposed"


def test_a_held_camera_hour_is_neither_cut_nor_disposed(archive, hour_files, tmp_path):
    ids = camera_hour(archive, hour_files, tmp_path)
    disposition, _plan = dispositions.propose(archive, ALICE, NOW)
    assert disposition is not None
    dispositions.approve(archive, disposition.id, BOB, NOW)
    # the hold arrives after approval: it still wins over the sample's cut and the deletion
    holds.place_hold(archive, ALICE, owner="police", reason="collision inquiry", camera="cam-p",
                     start=HOUR, end=HOUR + timedelta(hours=1), now=NOW)
    result = dispositions.execute(archive, disposition.id, BOB, NOW)
    assert sorted(result["held"]) == sorted(ids.values()) and result["planning_samples"] == []
    assert [status(archive, i) for i in ids.values()] == ["stored"] * 3
    assert [p.id for p, _a, _k in samples(archive)] == [ids["a"], ids["b"], ids["c"]]  # nothing new
    # and a hold in place before the proposal keeps everything out of it
    assert dispositions.propose(archive, ALICE, NOW + timedelta(days=1))[0] is None


def test_other_cameras_and_a_rule_that_is_off_are_not_sampled(archive, hour_files, tmp_path):
    only_x = sampled_schedule(tmp_path)
    only_x.write_text(only_x.read_text().replace("cameras = []", 'cameras = ["cam-x"]'))
    set_schedule(archive, only_x, ALICE, now=HOUR)
    pid = ingest_one(archive, unique_copy(hour_files["a"], tmp_path / "src" / "a.mp4"), camera="cam-p",
                     start=HOUR)
    result = dispose(archive)
    assert result is not None and result["deleted"] == [pid] and result["planning_samples"] == []


def test_the_rule_is_checked_and_quoted_in_the_notice(archive, tmp_path):
    bad = schedules.DEFAULT_SCHEDULE.read_text(encoding="utf-8")
    for wrong, where in (('class = "planning"\ncameras', "planning_sample/class"),
                         ("offset_minutes = 0", "planning_sample")):
        replaced = bad.replace(wrong, 'class = "plans"\ncameras' if "class" in wrong else "offset_minutes = 55")
        path = tmp_path / "bad.toml"
        path.write_text(replaced, encoding="utf-8")
        with pytest.raises(LongwatchError) as info:
            schedules.load_schedule(path)
        assert info.value.code == "H001" and where in str(info.value)
    assert "when footage is destroyed" not in notice.retention_summary(archive, "en")  # off by default
    set_schedule(archive, sampled_schedule(tmp_path), ALICE, now=HOUR)
    english = notice.retention_summary(archive, "en")
    assert "Planning sample: when footage is destroyed, minutes 00 to 10 of every hour of every camera" in english
    assert "5 years" in english
    assert "표본" in notice.retention_summary(archive, "ko")
    sample = schedules.active_schedule(archive).planning_sample
    assert sample is not None and (sample.minutes_per_hour, sample.keep_years) == (10, 5)
    assert sample.ranges(HOUR + timedelta(minutes=50), HOUR + timedelta(minutes=65)) == [
        (HOUR + timedelta(hours=1), HOUR + timedelta(minutes=65))]


def test_retention_show_quotes_the_rule(lw, tmp_path):
    result = lw("retention", "show", "--schedule", str(sampled_schedule(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "매시 00분부터 10분까지" in result.output and "minutes 00 to 10 of every hour" in result.output
    data = json.loads(lw("retention", "show", "--schedule", str(sampled_schedule(tmp_path)), "--json").output)
    assert data["planning_sample"] == {"enabled": True, "minutes_per_hour": 10, "offset_minutes": 0,
                                       "class": "planning", "cameras": [], "period": "P5Y"}
    assert "매시" not in lw("retention", "show").output  # off in the default


def test_a_package_inside_two_hours_samples_is_kept_and_covers_only_them(archive, hour_files, tmp_path):
    """Two files in one package, 12:00-12:05 and 13:00-13:05: kept whole, one index row per hour, and
    a later package of 12:05-12:25 still has its 12:05-12:10 cut (the gap is not counted as kept)."""
    from longwatch.core.preservation.ingest import IngestRequest, ingest_files

    set_schedule(archive, sampled_schedule(tmp_path), ALICE, now=HOUR)
    five = hour_files["a"]
    requests = [IngestRequest(path=unique_copy(five, tmp_path / "src" / f"g{i}.mp4"), camera="cam-p",
                              start=HOUR + timedelta(hours=i), end=HOUR + timedelta(hours=i, minutes=5),
                              allow_duplicate=True) for i in (0, 1)]
    gappy = ingest_files(archive, requests)[0].package_id
    later = ingest_one(archive, unique_copy(hour_files["b"], tmp_path / "src" / "b.mp4"), camera="cam-p",
                       start=HOUR + timedelta(minutes=5))
    result = dispose(archive)
    assert result is not None and result["deleted"] == [later]
    with archive.catalog.session() as s:
        rows = s.execute(select(PlanningSampleKept.package_id, PlanningSampleKept.kind, PlanningSampleKept.start_utc,
                                PlanningSampleKept.end_utc).order_by(PlanningSampleKept.start_utc)).all()
    assert [(r[0] == gappy, r[1], r[2], r[3]) for r in rows] == [
        (True, "kept", HOUR, HOUR + timedelta(minutes=5)),
        (False, "cut", HOUR + timedelta(minutes=5), HOUR + timedelta(minutes=10)),
        (True, "kept", HOUR + timedelta(hours=1), HOUR + timedelta(hours=1, minutes=5))]
    assert status(archive, gappy) == "stored" and on_storage(archive, gappy)


def test_a_cut_killed_after_publishing_is_found_again_not_cut_twice(archive, hour_files, tmp_path):
    ids = camera_hour(archive, hour_files, tmp_path)
    disposition = killed_execution(archive, "after-publish")  # the cut is in storage, not yet in the catalog
    assert status(archive, ids["b"]) == "stored"
    proc = frozen_longwatch(EXECUTED_AT, "-A", archive.root, "dispose", "execute", disposition.id, "--json",
                            env=sign_in(archive, "bob", "records-manager"))
    assert proc.returncode == 0, proc.stderr
    kept = samples(archive)
    assert [k.kind for _p, _a, k in kept] == ["kept", "cut"]
    with archive.catalog.session() as s:  # one cut of b's minutes in the catalog, and one in storage
        derived = list(s.scalars(select(Package.id).where(Package.camera == "cam-p", Package.id.not_in(ids.values()))))
    assert derived == [kept[1][0].id]
    assert sorted(archive.storage().package_ids()) == sorted([ids["a"], kept[1][0].id])


def _with_offsite(archive, tmp_path, classes: str, offsite_options: str = ""):
    """primary + a local off-site location; one copy by default, ``classes`` per retention class."""
    return configure_storage(archive, local_locations(tmp_path / "offsite", '["primary"]', classes, offsite_options))


def test_a_cut_has_the_copies_of_the_planning_class_before_its_source_goes(archive, hour_files, tmp_path):
    from longwatch.core.storage import copies as storage_copies
    from longwatch.core.storage import replicate as storage_replicate

    archive = _with_offsite(archive, tmp_path, 'planning = ["primary", "offsite"]')
    ids = camera_hour(archive, hour_files, tmp_path)
    result = dispose(archive)
    assert result is not None and sorted(result["deleted"]) == sorted([ids["b"], ids["c"]])
    cut = samples(archive)[1][0]
    assert sorted(c.location for c in storage_copies.copies_of(archive, cut.id)) == ["offsite", "primary"]
    assert storage_replicate.policy_met(archive, cut.id)
    archive.close()


def test_a_sample_that_cannot_be_made_safe_keeps_its_source_and_the_rest_goes_on(archive, hour_files, tmp_path):
    # the planning class asks for an off-site copy, and the off-site location is full
    archive = _with_offsite(archive, tmp_path, 'planning = ["primary", "offsite"]', "cap_bytes = 1000\n")
    ids = camera_hour(archive, hour_files, tmp_path)
    result = dispose(archive)
    assert result is not None
    assert result["sample_failed"] == [ids["b"]] and status(archive, ids["b"]) == "stored"
    assert result["deleted"] == [ids["c"]]  # nothing of c is sampled: it goes
    body = json.loads(stored_file(archive, result["certificate"]).read_text())
    assert {i["package_id"]: i["status"] for i in body["withheld"]}[ids["b"]] == "sample-failed"
    archive.close()


def test_a_cut_from_rotten_bytes_is_refused(archive, hour_files, tmp_path):
    ids = camera_hour(archive, hour_files, tmp_path)
    row = archive.catalog.require(ids["b"])
    media_file = archive.storage().local_path(row.id) / row.clips[0].relpath
    data = bytearray(media_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    media_file.write_bytes(bytes(data))
    sample = schedules.active_schedule(archive).planning_sample
    assert sample is not None
    with pytest.raises(LongwatchError) as info:
        sampling.keep_planning_sample(archive, ids["b"], sample, BOB, NOW)
    assert info.value.code == "D045" and ids["b"] in str(info.value)
    assert sorted(archive.storage().package_ids()) == sorted(ids.values())  # nothing derived
