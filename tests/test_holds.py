"""A legal hold beats every deletion path: disposition, manual delete, administrator, storage-full purge,
schedule change; and it is enforced in the core (deletion.delete_package), below every caller."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import stored_file
from retention_helpers import ADMIN, ALICE, BOB, T0, add_package, later, on_storage, status

import longwatch
from longwatch.core import custody
from longwatch.core.records import assignment, deletion, dispositions, holds, purge, schedules
from longwatch.errors import LongwatchError

NOW = "2026-03-01T00:00:00Z"


@pytest.fixture
def two(archive, small_clip, tmp_path):
    """Two expired continuous packages on cam-01; the second under a package hold."""
    free = add_package(archive, small_clip, tmp_path, "free")
    held = add_package(archive, small_clip, tmp_path, "held")
    assignment.assign(archive, ALICE, later(1))
    hold = holds.place_hold(archive, ALICE, owner="Seoul Central District Prosecutors' Office",
                            reason="case 2026-J-17", package_id=held, now=later(2))
    return free, held, hold


def assert_kept(archive, package_id):
    assert status(archive, package_id) == "stored"
    assert on_storage(archive, package_id)


def test_scheduled_disposition_skips_held(archive, two):
    free, held, _hold = two
    disposition, plan = dispositions.propose(archive, ALICE, later(60))
    assert [i.package_id for i in dispositions.get_disposition(archive, disposition.id)[1]] == [free]
    assert plan.by_class()["continuous"]["count"] == 1
    assert [c.package_id for c, _ in plan.held] == [held]
    dispositions.approve(archive, disposition.id, BOB, later(60))
    result = dispositions.execute(archive, disposition.id, BOB, later(61))
    assert result["deleted"] == [free]
    assert_kept(archive, held)


def test_hold_placed_after_approval_wins(archive, small_clip, tmp_path):
    a = add_package(archive, small_clip, tmp_path, "a")
    b = add_package(archive, small_clip, tmp_path, "b")
    disposition, _plan = dispositions.propose(archive, ALICE, later(60))
    dispositions.approve(archive, disposition.id, BOB, later(60))
    holds.place_hold(archive, ALICE, owner="court", reason="subpoena", package_id=b, now=later(60))
    result = dispositions.execute(archive, disposition.id, BOB, later(61))
    assert result["deleted"] == [a] and result["held"] == [b]
    assert_kept(archive, b)
    cert = json.loads(stored_file(archive, result["certificate"]).read_text())
    assert [p["package_id"] for p in cert["packages"]] == [a]
    assert cert["withheld"] == [{"package_id": b, "record_class": "continuous", "status": "held"}]


@pytest.mark.parametrize("actor,reason", [(ALICE, "manual"), (ADMIN, "administrator"), (BOB, "manual")])
def test_manual_and_administrator_delete_refused(archive, two, actor, reason):
    free, held, hold = two
    with pytest.raises(LongwatchError) as info:
        deletion.delete_package(archive, held, actor, reason, now=later(3))
    assert info.value.code == "H003" and hold.id[:8] in str(info.value)
    assert_kept(archive, held)
    deletion.delete_package(archive, free, actor, reason, now=later(3))  # unheld: allowed, and recorded
    assert status(archive, free) == "disposed" and not on_storage(archive, free)


def test_cli_delete_refused_with_exit_status_9(lw, archive, two):
    _free, held, _hold = two
    result = lw("dispose", "delete", held[:8], "--reason", "cleanup")
    assert result.exit_code == 12
    assert "ERROR [H003]" in result.stderr
    assert_kept(archive, held)


def test_storage_full_purge_refused(archive, two):
    free, held, _hold = two
    _reserve_everything(archive)
    for runs, approves in ((BOB, BOB), (ADMIN, ALICE)):  # the same account, or not a records manager
        with pytest.raises(LongwatchError) as refused:
            purge.emergency_purge(archive, runs, approves, later(60))
        assert refused.value.code == "H021"
    removed = purge.emergency_purge(archive, ADMIN, BOB, later(60))
    assert removed == [free]
    assert_kept(archive, held)


def test_schedule_change_cannot_destroy_held(lw, archive, two, tmp_path, frozen_clock, signed_in):
    frozen_clock(NOW)
    free, held, _hold = two
    shorter = tmp_path / "short.toml"
    shorter.write_text(schedules.DEFAULT_SCHEDULE.read_text().replace('period = "P30D"', 'period = "P1D"'))
    preview = json.loads(lw("retention", "preview", str(shorter), "--json").stdout)
    assert preview["destroy"]["continuous"]["count"] == 1 and preview["held"]["continuous"]["count"] == 1
    bob = signed_in("bob")
    assert lw("retention", "set", str(shorter), env=bob).exit_code == 0
    out = json.loads(lw("retention", "run", "--json").stdout)
    assert out["held"][0]["package_id"] == held
    assert lw("dispose", "approve", out["disposition_id"], env=bob).exit_code == 0
    assert lw("dispose", "execute", out["disposition_id"], env=bob).exit_code == 0
    assert status(archive, free) == "disposed"
    assert_kept(archive, held)


def _reserve_everything(archive):
    config = archive.root / "longwatch.toml"
    config.write_text(config.read_text().replace("durable = false", f"durable = false\nreserve_bytes = {10**18}"))
    archive.storage.cache_clear()
    archive.settings = type(archive).open(archive.root).settings


def test_release_lets_deletion_proceed_and_both_are_ledger_events(lw, archive, two, signed_in):
    _free, held, hold = two
    result = lw("hold", "release", hold.id[:8], "--reason", "case closed", env=signed_in("bob"))
    assert result.exit_code == 0, result.output
    assert lw("hold", "list", "--json").stdout.count(hold.id) == 0
    listed = json.loads(lw("hold", "list", "--all", "--json").stdout)["holds"]
    assert listed[0]["released_by"] == "bob"
    deletion.delete_package(archive, held, ALICE, "manual", now=later(5))
    actions = [e["extra"].get("action") for _s, e, _l in custody.Ledger.for_archive(archive).history(held)]
    assert actions.count("hold placed") == 1 and actions.count("hold released") == 1


def test_camera_hold_has_second_precision(archive, small_clip, tmp_path):
    start = T0 + timedelta(hours=14)  # the clip covers 14:00:00 .. 14:00:01
    pid = add_package(archive, small_clip, tmp_path, "a", camera="cam-07", start=start)
    miss = holds.place_hold(archive, ALICE, owner="o", reason="r", camera="cam-07",
                            start=start + timedelta(seconds=2), end=start + timedelta(seconds=9), now=later(1))
    assert holds.holds_on(archive, pid) == []
    other = holds.place_hold(archive, ALICE, owner="o", reason="r", camera="cam-08", start=start,
                             end=start + timedelta(hours=1), now=later(1))
    assert holds.holds_on(archive, pid) == []
    hit = holds.place_hold(archive, ALICE, owner="o", reason="r", camera="cam-07",
                           start=start + timedelta(seconds=1), end=start + timedelta(seconds=5), now=later(1))
    assert [h.id for h in holds.holds_on(archive, pid)] == [hit.id]
    assert {miss.id, other.id}.isdisjoint(h.id for h in holds.holds_on(archive, pid))
    with pytest.raises(LongwatchError) as info:
        deletion.delete_package(archive, pid, ADMIN, "administrator", now=later(90))
    assert info.value.code == "H003"


def test_case_and_saved_search_holds(lw, archive, small_clip, tmp_path):
    in_case = add_package(archive, small_clip, tmp_path, "c", camera="cam-02")
    market = add_package(archive, small_clip, tmp_path, "m", camera="cam-03", zone="Jung-gu/Market/Gate-2")
    elsewhere = add_package(archive, small_clip, tmp_path, "e", camera="cam-04", zone="Mapo-gu")
    assignment.assign(archive, ALICE, later(1), [in_case], case_id="2026-J-99")
    result = lw("hold", "place", "--case", "2026-J-99", "--owner", "police", "--reason", "robbery", "--review",
                "2026-06-01T00:00:00+09:00", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["review"] == "2026-05-31T15:00:00Z"
    result = lw("hold", "place", "--search", "zone=Jung-gu/Market", "--search", "from=2025-12-31T00:00:00Z",
                "--owner", "audit office", "--reason", "inspection")
    assert result.exit_code == 0, result.output
    assert holds.holds_on(archive, in_case) and holds.holds_on(archive, market)
    assert holds.holds_on(archive, elsewhere) == []
    text = lw("hold", "list").stdout
    assert "robbery" in text and "inspection" in text


@pytest.mark.parametrize("args", [
    [],  # no target
    ["--case", "x", "--search", "zone=y"],  # two targets
    ["--camera", "cam-01"],  # no range
    ["--camera", "cam-01", "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"],  # reversed
    ["--case", "c", "--from", "2026-01-02T00:00:00Z"],  # range without camera
])
def test_bad_hold_targets_are_H009(lw, args):
    result = lw("hold", "place", *args, "--owner", "o", "--reason", "r")
    assert result.exit_code == 12 and "ERROR [H009]" in result.stderr


def test_bad_hold_inputs(lw):
    result = lw("hold", "place", "--search", "colour=red", "--owner", "o", "--reason", "r")
    assert "ERROR [H012]" in result.stderr
    result = lw("hold", "place", "--camera", "c", "--from", "2026-01-01 10:00", "--to", "2026-01-02T00:00:00Z",
                "--owner", "o", "--reason", "r")
    assert "ERROR [I003]" in result.stderr
    result = lw("hold", "release", "nope", "--reason", "r")
    assert "ERROR [H008]" in result.stderr


def test_no_other_module_removes_package_files():
    """Package deletion is reachable only through deletion.delete_package: no other module calls the mechanism."""
    root = Path(longwatch.__file__).resolve().parent
    allowed = {
        "core/records/deletion.py",  # delete_package, the one way in, and _remove_copies
        "core/storage/tiers.py",  # delete_copy; tier moves drop a copy only after a verified copy exists elsewhere
        "storage_adapters/base.py", "storage_adapters/local.py", "storage_adapters/s3.py",  # the mechanism itself
        "testing.py",  # the adapters' conformance kit
    }
    call = re.compile(r"(?<!deletion\.)\b(delete_package|delete_copy|_remove_copies)\(")
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel not in allowed and call.search(path.read_text()):
            offenders.append(rel)
    assert offenders == []


def test_planning_sql_and_single_package_check_agree(archive, small_clip, tmp_path):
    """plan() applies the holds in SQL; delete_package checks one package in Python: same answer."""
    start = T0 + timedelta(hours=9)
    ids = [add_package(archive, small_clip, tmp_path, f"p{i}", camera=f"cam-{i % 3}", start=start + timedelta(
        seconds=i * 2), zone=("Jung-gu/Market/Gate-1", "Jung-gu/Marketplace", "Mapo-gu")[i % 3]) for i in range(6)]
    assignment.assign(archive, ALICE, later(1))
    assignment.assign(archive, ALICE, later(1), [ids[5]], case_id="K_1%")
    for kwargs in ({"camera": "cam-1", "start": start + timedelta(seconds=3), "end": start + timedelta(seconds=4)},
                   {"search": {"zone": "Jung-gu/Market", "to": (start + timedelta(seconds=1)).isoformat()}},
                   {"search": {"text": "MARKET%"}}, {"case_id": "K_1%"}, {"package_id": ids[4]}):
        holds.place_hold(archive, ALICE, owner="o", reason="r", now=later(1), **kwargs)
    assignment.close_case(archive, "K_1%", T0, ALICE, later(2))  # incident evidence: due ten years later
    result = dispositions.plan(archive, later(11 * 366))
    held_sql = {c.package_id for c, _h in result.held}
    held_python = {p for p in ids if holds.holds_on(archive, p)}
    assert held_sql == held_python == {ids[0], ids[1], ids[4], ids[5]}
    assert all(h for _c, h in result.held)
    assert {c.package_id for c in result.due} == set(ids) - held_sql
