"""Analytics counts equal counts computed by hand from fixture events; charts, CSV and PNG."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from longwatch.core.catalog.models import Camera, DetectedEvent
from longwatch.core.public import analytics as an
from longwatch.core.public import analytics_rollups as rollups
from longwatch.core.records import schedules
from longwatch.errors import LongwatchError

# Seoul is UTC+9: 2026-03-02 is a Monday.
FIXTURE = [  # (camera, type, local time in Seoul)
    ("cam-a", "person", "2026-03-02T08:05"),
    ("cam-a", "person", "2026-03-02T08:40"),
    ("cam-a", "car", "2026-03-02T08:41"),
    ("cam-a", "bus", "2026-03-03T17:00"),
    ("cam-b", "pedestrian", "2026-03-02T08:10"),
    ("cam-b", "fire", "2026-03-07T23:59"),
    ("cam-b", "truck", "2026-04-01T00:00"),
    ("cam-b", "person", "2026-04-05T08:30"),
]
KST = timedelta(hours=9)


def _when(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=UTC) - KST


@pytest.fixture
def events(archive):
    with archive.catalog.session() as s:
        s.add_all([Camera(id="cam-a", zone="Jung-gu/Market"), Camera(id="cam-b", zone="Jung-gu/Station")])
        for camera, kind, local in FIXTURE:
            s.add(DetectedEvent(camera=camera, type=kind, start_utc=_when(local), source="fixture"))
    return archive


def test_counts_by_hour_weekday_month_equal_hand_counts(events):
    archive = events
    assert archive.settings.timezone == "Asia/Seoul"
    by_hour = {(f.group, f.bucket, f.cls): f.count for f in an.counts(archive, grouping="hour")}
    assert by_hour == {("cam-a", "08", "person"): 2, ("cam-a", "08", "vehicle"): 1, ("cam-a", "17", "vehicle"): 1,
                       ("cam-b", "08", "person"): 2, ("cam-b", "23", "other"): 1, ("cam-b", "00", "vehicle"): 1}
    by_weekday = {(f.group, f.bucket, f.cls): f.count for f in an.counts(archive, grouping="weekday", by="zone")}
    assert by_weekday == {("Jung-gu/Market", "1", "person"): 2, ("Jung-gu/Market", "1", "vehicle"): 1,
                          ("Jung-gu/Market", "2", "vehicle"): 1, ("Jung-gu/Station", "1", "person"): 1,
                          ("Jung-gu/Station", "6", "other"): 1, ("Jung-gu/Station", "3", "vehicle"): 1,
                          ("Jung-gu/Station", "7", "person"): 1}
    totals = an.totals(an.counts(archive, grouping="month"))
    assert totals == {"2026-03": {"person": 3, "vehicle": 2, "other": 1},
                      "2026-04": {"person": 1, "vehicle": 1, "other": 0}}
    # filters: one camera, one zone, a time span (local midnight boundaries)
    assert sum(f.count for f in an.counts(archive, cameras=["cam-b"])) == 4
    assert sum(f.count for f in an.counts(archive, zone="Jung-gu/Market")) == 4
    march = an.counts(archive, start=_when("2026-03-01T00:00"), end=_when("2026-04-01T00:00"))
    assert sum(f.count for f in march) == 6


def test_compare_two_periods(events):
    rows = an.compare(events, (_when("2026-03-01T00:00"), _when("2026-03-11T00:00")),
                      (_when("2026-03-31T00:00"), _when("2026-04-10T00:00")), cameras=["cam-b"])
    vehicle = next(r for r in rows if r["class"] == "vehicle")
    assert (vehicle["before"], vehicle["after"], vehicle["change"]) == (0, 1, None)
    person = next(r for r in rows if r["class"] == "person")
    assert (person["before"], person["after"], person["change"]) == (1, 1, 0.0)


def test_planning_sample_rule_is_data(archive):
    rule = schedules.load_schedule(schedules.DEFAULT_SCHEDULE).planning_sample
    assert rule is not None and (rule.minutes_per_hour, rule.keep_years, rule.enabled) == (10, 5, False)
    assert schedules.active_schedule(archive).planning_sample == rule  # the archive's own schedule says it
    t = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert rule.ranges(t + timedelta(minutes=5), t + timedelta(minutes=6))
    assert not rule.ranges(t + timedelta(minutes=15), t + timedelta(minutes=50))
    assert rule.ranges(t + timedelta(minutes=50), t + timedelta(minutes=65))  # reaches the next hour's sample


def test_bad_grouping(events):
    with pytest.raises(LongwatchError) as err:
        an.counts(events, grouping="fortnight")
    assert err.value.code == "U009"


def test_pages_chart_csv_png(app, login_as, web_archive):
    archive = web_archive.archive
    with archive.catalog.session() as s:
        s.add(DetectedEvent(camera="cam-01", package_id=web_archive.package_id, type="person",
                            start_utc=_when("2026-03-02T08:05"), source="fixture"))
    c = login_as("auditor")
    html = c.get("/analytics?grouping=hour&lang=ko").get_data(as_text=True)
    assert 'data-bucket="08" data-class="person" data-count="1"' in html
    assert "camera=cam-01" in html  # the bar links to its footage
    csv_text = c.get("/analytics.csv").get_data(as_text=True)
    assert web_archive.package_id in csv_text
    png = c.get("/analytics.png").get_data()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert c.get("/analytics.svg").get_data(as_text=True).startswith("<svg")
    assert "정책 기획용 표본" not in html  # the planning sample is off in the default schedule
    schedule = web_archive.root / schedules.ACTIVE_NAME
    schedule.parent.mkdir(parents=True, exist_ok=True)
    schedule.write_text(schedules.DEFAULT_SCHEDULE.read_text(encoding="utf-8").replace("enabled = false",
                                                                                       "enabled = true"))
    html = c.get("/analytics?grouping=hour&lang=ko").get_data(as_text=True)
    assert "정책 기획용 표본: 영상을 파기할 때 모든 카메라의 매시 00분부터 10분까지" in html


def _figures(figs):
    return {(f.group, f.bucket, f.cls): (f.count, f.first, f.last) for f in figs}


def _random_events(archive, package_id, n=600):
    import random

    rng = random.Random(14)
    base = datetime(2026, 1, 30, 15, 0, tzinfo=UTC)
    with archive.catalog.session() as s:
        s.add_all([Camera(id="cam-a", zone="Jung-gu/Market"), Camera(id="cam-b", zone="Jung-gu/Station")])
        for _ in range(n):
            camera = rng.choice(["cam-a", "cam-b", ""])  # "" takes the package's camera
            s.add(DetectedEvent(camera=camera, package_id=package_id if camera == "" or rng.random() < 0.3 else None,
                                type=rng.choice(["person", "car", "bus", "fire", "pedestrian"]),
                                start_utc=base + timedelta(seconds=rng.randrange(75 * 86400)), source="fixture"))


def test_rollups_equal_live_counts_on_both_catalogs(catalog_backend, archive, clip):
    """Whole months from the monthly table, hours from the hourly one, minutes from the events:
    the same figures as a live count, on SQLite and PostgreSQL alike."""
    from longwatch.core.preservation import ingest

    package_id = ingest.ingest(archive, ingest.IngestRequest(path=clip, camera="cam-c")).package_id
    _random_events(archive, package_id)
    assert rollups.rebuild_rollups(archive) == 600
    state = rollups.rollup_state(archive)
    assert state["in_use"] and state["period_rows"] and state["hourly_rows"] and state["day_rows"]
    spans = [(None, None), (_when("2026-02-03T10:17"), _when("2026-03-20T08:05")),  # weeks, days, hours, minutes
             (_when("2026-01-31T10:00"), _when("2026-03-27T19:00")),  # the same around a whole month
             (_when("2026-02-09T00:00"), _when("2026-02-23T00:00")),  # whole weeks only
             (_when("2026-02-01T00:00"), _when("2026-04-01T00:00")),  # whole months only
             (_when("2026-02-10T10:17"), _when("2026-02-12T23:30")),  # inside one month
             (_when("2026-03-05T10:10"), _when("2026-03-05T10:50")),  # inside one hour
             (None, _when("2026-03-05T10:10")), (_when("2026-03-05T10:10"), None)]
    for start, end in spans:
        for grouping in an.GROUPINGS:
            for by in an.BY:
                rolled = an.counts(archive, grouping=grouping, by=by, start=start, end=end)
                live = an.counts(archive, grouping=grouping, by=by, start=start, end=end, live=True)
                assert _figures(rolled) == _figures(live), (grouping, by, start, end)
                assert {(f.group, f.bucket, f.cls): sorted(f.packages) for f in rolled} == {
                    (f.group, f.bucket, f.cls): sorted(f.packages) for f in live}
    filtered = dict(cameras=["cam-c"], start=_when("2026-02-03T10:17"))
    assert _figures(an.counts(archive, **filtered)) == _figures(an.counts(archive, **filtered, live=True))
    zoned = dict(zone="Jung-gu", by="zone", grouping="weekday")
    assert _figures(an.counts(archive, **zoned)) == _figures(an.counts(archive, **zoned, live=True))


def test_rollups_follow_every_added_and_deleted_event(catalog_backend, archive):
    """Kept in step on each flush (the ORM path of every recorder), without a rebuild."""
    from longwatch.core.events import record as events_api

    with archive.catalog.session() as s:
        s.add_all([Camera(id="cam-a", zone="Jung-gu/Market"), Camera(id="cam-b", zone="Jung-gu/Station")])
        for camera, kind, local in FIXTURE:
            s.add(DetectedEvent(camera=camera, type=kind, start_utc=_when(local), source="fixture"))
    assert an.counts(archive)  # first use builds the rollups of a small archive
    assert rollups.rollup_state(archive)["in_use"]
    events_api.record(archive, camera="cam-a", type="person", start=_when("2026-03-02T08:50"), end=None,
                      confidence=0.9, source="fixture", apply_rules=False)
    with archive.catalog.session() as s:
        s.add(DetectedEvent(camera="cam-b", type="truck", start_utc=_when("2026-04-01T00:30"), source="fixture"))
    by_hour = {(f.group, f.bucket, f.cls): f.count for f in an.counts(archive, grouping="hour")}
    assert by_hour[("cam-a", "08", "person")] == 3 and by_hour[("cam-b", "00", "vehicle")] == 2
    with archive.catalog.session() as s:
        from sqlalchemy import select

        for ev in s.scalars(select(DetectedEvent).where(DetectedEvent.camera == "cam-b", DetectedEvent.type == "fire")):
            s.delete(ev)
    months = an.totals(an.counts(archive, grouping="month"))
    assert months["2026-03"]["other"] == 0 and months["2026-04"]["vehicle"] == 2
    assert _figures(an.counts(archive)) == _figures(an.counts(archive, live=True))
    assert _figures(an.counts(archive, grouping="weekday")) == _figures(an.counts(archive, grouping="weekday",
                                                                                 live=True))
    span = dict(start=_when("2026-02-27T13:20"), end=_when("2026-03-16T09:00"))  # days and a week, kept in step
    for grouping in an.GROUPINGS:
        assert _figures(an.counts(archive, grouping=grouping, **span)) == _figures(
            an.counts(archive, grouping=grouping, live=True, **span))


def test_time_zone_change_and_cli(lw, archive):
    with archive.catalog.session() as s:
        for camera, kind, local in FIXTURE:
            s.add(DetectedEvent(camera=camera, type=kind, start_utc=_when(local), source="fixture"))
    status = json.loads(lw("analytics", "status", "--json").output)
    assert not status["built"] and not status["in_use"]
    out = lw("analytics", "rebuild", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["events"] == len(FIXTURE) and data["in_use"] and data["timezone"] == "Asia/Seoul"
    from zoneinfo import ZoneInfo

    utc_archive = type("A", (), {"catalog": archive.catalog,
                                 "settings": type("S", (), {"tz": ZoneInfo("UTC")})()})()
    # built for Seoul: an archive now in UTC rebuilds its (small) rollups on first use, then agrees
    assert _figures(an.counts(utc_archive)) == _figures(an.counts(utc_archive, live=True))
    assert rollups.rollup_state(utc_archive)["timezone"] == "UTC"
    assert {f.bucket for f in an.counts(utc_archive) if f.group == "cam-a" and f.cls == "person"} == {"23"}


def test_prepare_catalog_attaches_the_rollup_listener_of_the_builtin_plugin_only(archive):
    """The catalog never imports analytics: the built-in plugin's ``prepare_catalog`` hook attaches the
    rollup listener to each catalog's own sessions. Without that plugin, a catalog's events miss the rollups."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from longwatch import registry
    from longwatch.core.catalog import Catalog

    with archive.catalog.session() as s:
        s.add(Camera(id="cam-a", zone="Jung-gu/Market"))
        s.add(DetectedEvent(camera="cam-a", type="person", start_utc=_when("2026-03-02T08:05"), source="fixture"))
    assert rollups.rebuild_rollups(archive) == 1
    assert not event.contains(Session, "after_flush", rollups._keep_rollups)  # no global side effect

    with_plugin = Catalog(archive.settings.catalog_url, registry.get_plugin_manager(load_entrypoints=False))
    without_pm = registry.get_plugin_manager(load_entrypoints=False)
    without_pm.unregister(name="longwatch.plugins.analytics")
    without = Catalog(archive.settings.catalog_url, without_pm)
    bare = Catalog(archive.settings.catalog_url)  # as tests and benchmarks open one: every installed plugin
    try:
        assert event.contains(with_plugin.session_factory, "after_flush", rollups._keep_rollups)
        assert event.contains(bare.session_factory, "after_flush", rollups._keep_rollups)
        assert not event.contains(without.session_factory, "after_flush", rollups._keep_rollups)

        for catalog in (with_plugin, bare):
            with catalog.session() as s:
                s.add(DetectedEvent(camera="cam-a", type="person", start_utc=_when("2026-03-02T08:40"),
                                    source="fixture"))
        assert an.totals(an.counts(archive, grouping="month")) == {"2026-03": {"person": 3, "vehicle": 0, "other": 0}}
        assert _figures(an.counts(archive)) == _figures(an.counts(archive, live=True))

        with without.session() as s:
            s.add(DetectedEvent(camera="cam-a", type="person", start_utc=_when("2026-03-02T08:50"), source="fixture"))
        assert an.totals(an.counts(archive, grouping="month"))["2026-03"]["person"] == 3  # the rollups missed it
        assert an.totals(an.counts(archive, grouping="month", live=True))["2026-03"]["person"] == 4
    finally:
        for catalog in (with_plugin, without, bare):
            catalog.dispose()
