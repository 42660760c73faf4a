"""Analytics counts equal counts computed by hand from fixture events; charts, CSV and PNG."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from longwatch.core import analytics as an
from longwatch.core.catalog.models import Camera, Event
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
            s.add(Event(camera=camera, type=kind, start_utc=_when(local), source="fixture"))
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


def test_planning_sample_rule_is_data():
    rule = an.planning_sample()
    assert (rule.minutes_per_hour, rule.keep_years) == (10, 5)
    t = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert rule.keeps(t + timedelta(minutes=5), t + timedelta(minutes=6))
    assert not rule.keeps(t + timedelta(minutes=15), t + timedelta(minutes=50))
    assert rule.keeps(t + timedelta(minutes=50), t + timedelta(minutes=65))  # reaches the next hour's sample
    assert rule.keep_until(t).year == 2031


def test_bad_grouping(events):
    with pytest.raises(LongwatchError) as err:
        an.counts(events, grouping="fortnight")
    assert err.value.code == "U009"


def test_pages_chart_csv_png(app, login_as, web_archive):
    archive = web_archive.archive
    with archive.catalog.session() as s:
        s.add(Event(camera="cam-01", package_id=web_archive.package_id, type="person",
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
