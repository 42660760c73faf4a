"""Retention schedules as data: validation, assignment (longest wins), the notice, preview, time across years."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import error_codes, run_longwatch
from retention_helpers import ALICE, T0, add_package, later, status

from longwatch.core import custody
from longwatch.core.records import assignment, dispositions, schedules

GOOD = schedules.DEFAULT_SCHEDULE.read_text(encoding="utf-8")


def test_default_schedule_is_valid_and_has_the_korean_classes():
    schedule = schedules.load_schedule(schedules.DEFAULT_SCHEDULE)
    periods = {c.id: c.period for c in schedule.classes.values()}
    assert periods == {"continuous": "P30D", "event": "P1Y", "incident": "P10Y", "disaster": "permanent",
                       "planning": "P5Y"}
    assert all(c.legal_basis and c.owner for c in schedule.classes.values())


def test_show_prints_a_bilingual_notice(lw_bare, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no archive here: the built-in default schedule
    result = lw_bare("retention", "show")
    assert result.exit_code == 0, result.output
    for text in ("상시 녹화 영상", "Continuous footage", "30일", "30 days", "영구", "permanent", "파기", "destroy",
                 "개인정보 보호법"):
        assert text in result.stdout
    data = json.loads(lw_bare("retention", "show", "--json").stdout)
    assert [c["id"] for c in data["classes"]][:2] == ["continuous", "event"]


BAD_SCHEDULES = {
    "not-toml": ("id = \n", "line 1"),
    "no-classes": ('id = "x"\ntitle = "t"\nowner = "o"\ndefault_class = "a"\n', "classes"),
    "bad-period": (GOOD.replace('period = "P30D"', 'period = "30 days"'), "classes/0/period"),
    "bad-trigger": (GOOD.replace('trigger = "capture"', 'trigger = "ingest"', 1), "classes/0/trigger"),
    "bad-action": (GOOD.replace('action = "destroy"', 'action = "shred"', 1), "classes/0/action"),
    "unknown-field": (GOOD.replace('emergency_purge = true', 'emergency_purge = true\ncolour = "red"'),
                      "colour"),
    "rule-unknown-class": (GOOD.replace('class = "planning"', 'class = "plans"'), "rules/3/class"),
    "default-unknown": (GOOD.replace('default_class = "continuous"', 'default_class = "all"'), "default_class"),
    "duplicate-class": (GOOD.replace('id = "event"', 'id = "continuous"'), "used twice"),
    "no-legal-basis": (GOOD.replace('legal_basis = "Personal Information Protection Act art. 25; the body\'s CCTV '
                                    'operating policy (minimum necessary period)"\n', ''), "legal_basis"),
}


@pytest.mark.parametrize("name", sorted(BAD_SCHEDULES))
def test_schedule_file_errors_are_H001_naming_the_field(lw_bare, tmp_path, name):
    text, expected = BAD_SCHEDULES[name]
    assert text != GOOD
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Exception) as info:
        schedules.load_schedule(path)
    assert info.value.code == "H001", info.value
    assert expected in str(info.value)
    result = lw_bare("retention", "show", "--schedule", str(path))
    assert result.exit_code == 12
    assert "ERROR [H001]" in result.stderr and str(path) in result.stderr


def test_missing_schedule_file_is_H001(tmp_path):
    proc = run_longwatch("retention", "show", "--schedule", tmp_path / "absent.toml", cwd=tmp_path)
    assert proc.returncode == 12 and error_codes(proc.stderr) == ["H001"]


def test_periods_are_calendar_arithmetic():
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert schedules.add_period(leap, "P1Y") == datetime(2029, 2, 28, 12, 0, tzinfo=UTC)
    assert schedules.add_period(T0, "P30D") == datetime(2026, 1, 31, tzinfo=UTC)
    assert schedules.add_period(T0, "P10Y") == datetime(2036, 1, 1, tzinfo=UTC)
    assert schedules.add_period(datetime(2026, 1, 31, tzinfo=UTC), "P1M") == datetime(2026, 2, 28, tzinfo=UTC)
    assert schedules.add_period(T0, "permanent") is None


def test_longest_retention_wins(archive, small_clip, tmp_path):
    pid = add_package(archive, small_clip, tmp_path, "a")
    (change,) = assignment.assign(archive, ALICE, later(1), [pid])
    assert change["class"] == "continuous" and change["due"] == "2026-01-31T00:00:00Z"
    (change,) = assignment.assign(archive, ALICE, later(2), [pid], event_type="motion")
    assert change["class"] == "event" and change["due"] == "2027-01-01T00:00:00Z"
    # linked to a case that is still open: case-closed clock not running, so it outlives the event class
    (change,) = assignment.assign(archive, ALICE, later(3), [pid], case_id="2026-J-17")
    assert change["class"] == "incident" and change["due"] is None
    closed = datetime(2026, 6, 30, tzinfo=UTC)
    (change,) = assignment.close_case(archive, "2026-J-17", closed, ALICE, later(200))
    assert change["class"] == "incident" and change["due"] == "2036-06-30T00:00:00Z"
    (change,) = assignment.assign(archive, ALICE, later(201), [pid], event_type="flood")
    assert change["class"] == "disaster" and change["due"] is None
    # every assignment and change is in the custody ledger
    types = [(e["type"], e["extra"].get("retention", {}).get("class"))
             for _seq, e, _line in custody.Ledger.for_archive(archive).history(pid)]
    assert [c for t, c in types if t == "policy assignment"] == ["continuous", "event", "incident", "incident",
                                                                 "disaster"]


def test_schedules_across_years(archive, small_clip, tmp_path):
    pid = add_package(archive, small_clip, tmp_path, "a")
    assignment.assign(archive, ALICE, later(0), [pid], event_type="alarm")
    assert dispositions.plan(archive, datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)).due == []
    due = dispositions.plan(archive, datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC)).due
    assert [c.package_id for c in due] == [pid]
    assert status(archive, pid) == "stored"


def test_preview_of_a_schedule_change_destroys_nothing(lw, archive, small_clip, tmp_path, frozen_clock):
    old = add_package(archive, small_clip, tmp_path, "old", start=T0)
    add_package(archive, small_clip, tmp_path, "new", start=later(25))
    event = add_package(archive, small_clip, tmp_path, "event", start=T0)
    assignment.assign(archive, ALICE, later(26))
    assignment.assign(archive, ALICE, later(26), [event], event_type="motion")
    shorter = tmp_path / "shorter.toml"
    shorter.write_text(GOOD.replace('period = "P30D"', 'period = "P7D"').replace('period = "P1Y"', 'period = "P14D"'),
                       encoding="utf-8")
    frozen_clock("2026-01-27T00:00:00Z")
    result = lw("retention", "preview", str(shorter), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["destroy"]["continuous"]["count"] == 1
    assert data["destroy"]["continuous"]["oldest"] == "2026-01-01T00:00:00Z"
    assert data["destroy"]["event"]["count"] == 1
    assert data["total"]["count"] == 2 and data["total"]["size"] > 0
    text = lw("retention", "preview", str(shorter)).stdout
    assert "continuous" in text and "2 packages" in text
    assert status(archive, old) == "stored"  # a preview changes nothing


def test_set_schedule_is_recorded_and_reassigns(lw, archive, small_clip, tmp_path, frozen_clock, signed_in):
    pid = add_package(archive, small_clip, tmp_path, "a")
    assignment.assign(archive, ALICE, later(1))
    longer = tmp_path / "longer.toml"
    longer.write_text(GOOD.replace('period = "P30D"', 'period = "P60D"').replace('"kr-public-default"', '"v2"'),
                      encoding="utf-8")
    frozen_clock("2026-01-10T00:00:00Z")
    result = lw("retention", "set", str(longer), "--json", env=signed_in("carol"))
    assert result.exit_code == 0, result.output
    (change,) = json.loads(result.stdout)["changes"]
    assert change["due"] == "2026-03-02T00:00:00Z" and change["schedule"] == "v2"
    assert schedules.active_schedule(archive).id == "v2"
    entries = [e for _s, e, _l in custody.Ledger.for_archive(archive).history(pid)]
    assert entries[-1]["extra"]["retention"]["previous_due"] == "2026-01-31T00:00:00Z"


def test_roles_are_the_accounts_roles(lw, monkeypatch, tmp_path, signed_in):
    """The web's permissions hold on the command line: an operator may not change the schedule (W009)."""
    path = Path(tmp_path / "x.toml")
    path.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv("LONGWATCH_ROLE", "records-manager")  # no longer read
    result = lw("retention", "set", str(path), env=signed_in("olive", "operator"))
    assert result.exit_code != 0 and error_codes(result.stderr) == ["W009"]
    assert "records:write" in result.stderr
