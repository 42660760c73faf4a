"""Losing the catalog forgets no legal hold: ``longwatch reindex`` replays them from the custody ledger.

Every hold placed or released is a ledger entry carrying the whole hold
(``extra.legal_hold``); reindex reads the packages, then replays the ledger in
order through the ``replay_ledger`` hook, which the records feature answers
(``longwatch.core.records.rebuild``). A command that finds the catalog file
gone while storage holds packages refuses (A005) instead of starting an empty one.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import configure_storage, create_archive, error_codes, run_longwatch, sign_in
from retention_helpers import ADMIN, ALICE, BOB, T0, add_package, later, on_storage, status

from longwatch.console import record_os_user_mapping
from longwatch.core import accounts, custody
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Copy, LegalHold, RetentionAssignment
from longwatch.core.records import assignment, deletion, dispositions, holds, purge, schedules
from longwatch.core.storage import audit as storage_audit
from longwatch.core.storage import tiers
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import package_prefix

NOW = "2026-03-01T00:00:00Z"


def drop_catalog(archive: Archive) -> None:
    """What an operator's `rm catalog.sqlite` does (with SQLite's side files).

    First the first administrator's mapping goes into the ledger, as `longwatch init` records it (test
    archives are made without the command), so that reindex brings back someone who may act.
    """
    if not [e for e in custody.Ledger.for_archive(archive).entries(mentioning=b'"os user mapped"')]:
        me = accounts.os_user()
        record_os_user_mapping(archive, me, me, me)
    archive.close()
    database = Path(archive.settings.catalog_url[len("sqlite:///"):])
    for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        path.unlink(missing_ok=True)
    assert not database.exists()


@pytest.fixture
def held(archive, small_clip, tmp_path):
    """Packages under holds of every scope, one released, one placed and released twice."""
    start = T0 + timedelta(hours=14)  # each clip covers one second from its start
    ids = {
        "package": add_package(archive, small_clip, tmp_path, "package", camera="cam-01"),
        "case": add_package(archive, small_clip, tmp_path, "case", camera="cam-02"),
        "camera": add_package(archive, small_clip, tmp_path, "camera", camera="cam-07", start=start),
        "search": add_package(archive, small_clip, tmp_path, "search", camera="cam-03",
                              zone="Jung-gu/Market/Gate-2"),
        "released": add_package(archive, small_clip, tmp_path, "released", camera="cam-05", zone="Mapo-gu"),
        "twice": add_package(archive, small_clip, tmp_path, "twice", camera="cam-06", zone="Mapo-gu"),
        "free": add_package(archive, small_clip, tmp_path, "free", camera="cam-04", zone="Mapo-gu"),
    }
    assignment.assign(archive, ALICE, later(1))
    assignment.assign(archive, ALICE, later(1), [ids["case"]], case_id="2026-J-99")
    review = T0 + timedelta(days=200, seconds=17, microseconds=250)
    placed = {
        "package": holds.place_hold(archive, ALICE, owner="Seoul Central District Prosecutors' Office",
                                    reason="case 2026-J-17", review_at=review, package_id=ids["package"],
                                    now=later(2)),
        "case": holds.place_hold(archive, BOB, owner="police", reason="robbery", case_id="2026-J-99",
                                 review_at=review, now=later(2) + timedelta(seconds=1)),
        "camera": holds.place_hold(archive, ALICE, owner="court", reason="incident 14:00:01",
                                   camera="cam-07", start=start + timedelta(seconds=1),
                                   end=start + timedelta(seconds=5), now=later(3)),
        "near miss": holds.place_hold(archive, ALICE, owner="court", reason="the seconds after",
                                      camera="cam-07", start=start + timedelta(seconds=2),
                                      end=start + timedelta(seconds=9), now=later(3)),
        "search": holds.place_hold(archive, ALICE, owner="audit office", reason="inspection",
                                   search={"zone": "Jung-gu/Market/Gate-2", "from": "2025-12-31T00:00:00Z"},
                                   now=later(4)),
        "released": holds.place_hold(archive, ALICE, owner="court", reason="subpoena", package_id=ids["released"],
                                     now=later(5)),
        "first": holds.place_hold(archive, ALICE, owner="court", reason="first time", package_id=ids["twice"],
                                  now=later(6)),
    }
    holds.release_hold(archive, placed["released"].id, BOB, "subpoena withdrawn", now=later(7))
    holds.release_hold(archive, placed["first"].id, BOB, "first release", now=later(8))
    placed["second"] = holds.place_hold(archive, ALICE, owner="court", reason="second time",
                                        package_id=ids["twice"], now=later(9))
    holds.release_hold(archive, placed["second"].id, BOB, "second release", now=later(10))
    placed["third"] = holds.place_hold(archive, ALICE, owner="court", reason="third time",
                                       package_id=ids["twice"], now=later(11))
    return ids, placed


def listings(lw) -> tuple[dict, dict, str]:
    active = lw("hold", "list", "--json")
    every = lw("hold", "list", "--all", "--json")
    text = lw("hold", "list", "--all")
    assert active.exit_code == every.exit_code == text.exit_code == 0, (active.output, every.output)
    return json.loads(active.stdout), json.loads(every.stdout), text.stdout


def covering(archive: Archive, package_id: str) -> set[str]:
    return {h.id for h in holds.holds_on(archive, package_id)}


def test_holds_survive_the_loss_of_the_catalog(lw, archive, held):
    ids, placed = held
    before = listings(lw)
    assert len(before[0]["holds"]) == 6 and len(before[1]["holds"]) == 9
    covered_before = {name: covering(archive, pid) for name, pid in ids.items()}
    assert covered_before["free"] == set() and covered_before["released"] == set()
    assert covered_before["twice"] == {placed["third"].id}
    drop_catalog(archive)

    result = lw("reindex", "--json")
    assert result.exit_code == 0, result.output
    assert listings(lw) == before  # same ids, fields, times to the microsecond, released ones released
    reopened = Archive.open(archive.root)
    try:
        covered_after = {name: covering(reopened, pid) for name, pid in ids.items() if name != "case"}
        assert covered_after == {k: v for k, v in covered_before.items() if k != "case"}
        # again: replaying is idempotent, and a catalog that still has its holds keeps them as they are
        assert lw("reindex").exit_code == 0
        assert listings(lw) == before
        with reopened.catalog.session() as s:
            assert s.query(LegalHold).count() == 9
    finally:
        reopened.close()


def test_every_deletion_path_still_refuses_a_held_package(lw, archive, held, tmp_path, frozen_clock):
    ids, placed = held
    drop_catalog(archive)
    assert lw("reindex").exit_code == 0
    a = Archive.open(archive.root)
    try:
        for name in ("package", "case", "camera", "search", "twice"):
            with pytest.raises(LongwatchError) as info:
                deletion.delete_package(a, ids[name], ADMIN, "administrator", now=later(90))
            assert info.value.code == "H003", name
        for name in ("package", "case"):
            result = lw("dispose", "delete", ids[name][:8], "--reason", "cleanup")
            assert result.exit_code == 12 and "ERROR [H003]" in result.stderr, name
        # a new hold and a release after the rebuild go on the same ledger
        holds.release_hold(a, placed["search"].id, BOB, "inspection over", now=later(91))
        holds.place_hold(a, ALICE, owner="court", reason="again", package_id=ids["search"], now=later(92))
        assert custody.verify_ledger(custody.Ledger.for_archive(a), [a.certificate]).ok

        # the storage-full purge
        config = a.root / "longwatch.toml"
        config.write_text(config.read_text().replace("durable = false", f"durable = false\nreserve_bytes = {10**18}"))
        a.close()
        a = Archive.open(a.root)
        removed = purge.emergency_purge(a, ADMIN, BOB, later(400))
        assert set(removed).isdisjoint({ids[n] for n in ("package", "case", "camera", "search", "twice")})
        assert ids["free"] in removed and ids["released"] in removed
        config.write_text(config.read_text().replace(f"\nreserve_bytes = {10**18}", ""))

        # a schedule change that makes everything due
        frozen_clock(NOW)
        shorter = tmp_path / "short.toml"
        shorter.write_text(schedules.DEFAULT_SCHEDULE.read_text().replace('period = "P30D"', 'period = "P1D"'))
        bob = sign_in(a, "bob", "records-manager")
        assert lw("retention", "set", str(shorter), env=bob).exit_code == 0
        out = json.loads(lw("retention", "run", "--json").stdout)
        # (the case's package is not due at all: its case-closed clock has not started)
        assert {h["package_id"] for h in out["held"]} >= {ids[n] for n in ("package", "camera", "search", "twice")}
        if out.get("disposition_id"):
            assert lw("dispose", "approve", out["disposition_id"], env=bob).exit_code == 0
            lw("dispose", "execute", out["disposition_id"], env=bob)
        for name in ("package", "case", "camera", "search", "twice"):
            assert status(a, ids[name]) == "stored" and on_storage(a, ids[name]), name
    finally:
        a.close()


def test_a_case_hold_still_covers_its_packages_after_a_rebuild(lw, archive, held):
    ids, placed = held
    drop_catalog(archive)
    assert lw("reindex").exit_code == 0
    a = Archive.open(archive.root)
    try:
        assert covering(a, ids["case"]) == {placed["case"].id}
    finally:
        a.close()


def assignments(archive: Archive) -> dict[str, dict]:
    """Every retention assignment with every column, as the catalog holds it."""
    with archive.catalog.session() as s:
        return {row.package_id: {c.name: getattr(row, c.name) for c in RetentionAssignment.__table__.columns}
                for row in s.query(RetentionAssignment)}


def planned(archive: Archive, when) -> tuple[list, list, list]:
    plan = dispositions.plan(archive, when)
    return ([(c.package_id, c.record_class, c.due) for c in plan.due],
            [(c.package_id, hold) for c, hold in plan.held], [c.package_id for c in plan.review])


@pytest.fixture
def assigned(archive, small_clip, tmp_path):
    """Packages whose assignments went through facts, a case closure and a schedule change."""
    ids = {name: add_package(archive, small_clip, tmp_path, name, camera=f"cam-{n}")
           for n, name in enumerate(("plain", "event", "case", "late", "sample"), 1)}
    assignment.assign(archive, ALICE, later(1))
    assignment.assign(archive, ALICE, later(2), [ids["event"]], event_type="motion",
                      event_time=T0 + timedelta(hours=3, microseconds=17))
    assignment.assign(archive, ALICE, later(3), [ids["case"]], case_id="2026-J-17")
    assignment.close_case(archive, "2026-J-17", T0 + timedelta(days=40), BOB, later(41))
    assignment.assign(archive, ALICE, later(4), [ids["sample"]], purpose=schedules.SAMPLE_PURPOSE)
    longer = tmp_path / "v2.toml"
    longer.write_text(schedules.DEFAULT_SCHEDULE.read_text(encoding="utf-8")
                      .replace('period = "P30D"', 'period = "P60D"')
                      .replace('"kr-public-default"', '"v2"', 1), encoding="utf-8")
    assignment.set_schedule(archive, longer, BOB, later(50))
    assignment.assign(archive, ALICE, later(51), [ids["late"]], event_type="alarm")
    return ids


def test_retention_assignments_and_the_schedule_survive_the_loss_of_the_catalog(lw, archive, assigned):
    assert schedules.active_schedule(archive).id == "v2"
    before = assignments(archive)
    assert len(before) == 5 and before[assigned["case"]]["case_closed_at"] is not None
    assert before[assigned["event"]]["event_time"].microsecond == 17
    shown = lw("retention", "show", "--json").stdout
    plans = [planned(archive, later(days)) for days in (60, 120, 800, 5000)]
    assert any(plan[0] for plan in plans)
    active = archive.root / schedules.ACTIVE_NAME
    text = active.read_bytes()
    drop_catalog(archive)
    active.unlink()  # lost with the catalog's disk: the ledger kept the version

    assert lw("reindex").exit_code == 0
    a = Archive.open(archive.root)
    try:
        assert active.read_bytes() == text
        assert assignments(a) == before  # class, rule, action, trigger, due, facts, times to the microsecond
        assert lw("retention", "show", "--json").stdout == shown
        assert [planned(a, later(days)) for days in (60, 120, 800, 5000)] == plans
        assert lw("reindex").exit_code == 0 and assignments(a) == before  # idempotent
        # a catalog still holding (stale) rows gets the ledger's word
        with a.catalog.session() as s:
            s.query(RetentionAssignment).filter_by(package_id=assigned["case"]).update({"case_id": "", "due_at": None})
        assert lw("reindex").exit_code == 0 and assignments(a) == before
    finally:
        a.close()


def test_assignments_recorded_before_action_and_trigger_were_kept(archive, assigned):
    before = assignments(archive)
    entries = list(custody.Ledger.for_archive(archive).entries(mentioning=b'"retention'))
    old = json.loads(json.dumps(entries))
    for entry in old:
        change = entry["extra"].get("retention")
        if change:
            del change["action"], change["trigger"]
        version = entry["extra"].get("retention_schedule")
        if version:
            del version["text"]
    with archive.catalog.session() as s:
        s.query(RetentionAssignment).delete()
    assert assignment.replay(archive, old) == 5
    assert assignments(archive) == before
    # a schedule that no longer exists anywhere: no action is guessed, so nothing is destroyed by it
    for entry in old:
        change = entry["extra"].get("retention")
        if change:
            change["schedule"] = "gone"
    with archive.catalog.session() as s:
        s.query(RetentionAssignment).delete()
    assignment.replay(archive, old)
    rows = assignments(archive)
    assert {r["action"] for r in rows.values()} == {""} and {r["trigger_at"] for r in rows.values()} == {None}
    assert {k: (r["record_class"], r["due_at"]) for k, r in rows.items()} == \
        {k: (r["record_class"], r["due_at"]) for k, r in before.items()}
    assert planned(archive, later(5000))[0] == []


def test_replay_follows_the_ledger_order_and_is_idempotent(archive, small_clip, tmp_path):
    pid = add_package(archive, small_clip, tmp_path, "p")
    hold = holds.place_hold(archive, ALICE, owner="court", reason="r", package_id=pid, now=later(1))
    holds.release_hold(archive, hold.id, BOB, "done", now=later(2))
    entries = [e for _s, e, _l in custody.Ledger.for_archive(archive).history(pid)
               if "legal_hold" in (e.get("extra") or {})]
    placed, released = entries
    (before,) = holds.list_holds(archive, include_released=True)
    with archive.catalog.session() as s:
        s.query(LegalHold).delete()
    assert holds.replay(archive, [placed]) == 1
    assert covering(archive, pid) == {hold.id}
    assert holds.replay(archive, [placed, released]) == 1 and covering(archive, pid) == set()
    assert holds.replay(archive, [placed, released]) == 1 and covering(archive, pid) == set()
    (row,) = holds.list_holds(archive, include_released=True)
    assert holds.hold_dict(row) == holds.hold_dict(before)
    # an entry written before hold_dict carried the people and times: they come from the entry itself
    old = json.loads(json.dumps(released))
    for key in ("placed_by", "placed_at", "released_at", "released_by", "release_reason"):
        del old["extra"]["legal_hold"][key]
    old_placed = json.loads(json.dumps(placed))
    for key in ("placed_by", "placed_at"):
        del old_placed["extra"]["legal_hold"][key]
    with archive.catalog.session() as s:
        s.query(LegalHold).delete()
    holds.replay(archive, [old_placed, old])
    (row,) = holds.list_holds(archive, include_released=True)
    assert holds.hold_dict(row) == holds.hold_dict(before)


def test_a_missing_catalog_is_refused_while_storage_holds_packages(archive, small_clip, tmp_path, lw):
    pid = add_package(archive, small_clip, tmp_path, "p")
    drop_catalog(archive)
    database = Path(archive.settings.catalog_url[len("sqlite:///"):])
    for args in (["list"], ["hold", "list"], ["show", pid], ["custody", "verify"], ["db", "upgrade"]):
        result = lw(*args)
        assert result.exit_code == 3 and "ERROR [A005]" in result.stderr, (args, result.output)
        assert "longwatch reindex" in result.stderr
        assert not database.exists(), args  # nothing created: an operator does not carry on with an empty one
    korean = run_longwatch("-A", archive.root, "list", env={"LONGWATCH_LANG": "ko"})
    assert error_codes(korean.stderr) == ["A005"]
    assert "카탈로그" in korean.stderr and "longwatch reindex" in korean.stderr
    assert lw("reindex").exit_code == 0
    assert lw("list", "--json").exit_code == 0 and database.exists()


def test_a_new_archive_without_packages_still_creates_its_catalog(tmp_path, lw_bare):
    a = create_archive(tmp_path / "new")
    a.close()
    database = Path(a.settings.catalog_url[len("sqlite:///"):])
    database.unlink()
    assert lw_bare("-A", str(a.root), "list", "--json").exit_code == 0
    assert database.exists()
    result = lw_bare("init", str(tmp_path / "other"), "--language", "en")
    assert result.exit_code == 0 and (tmp_path / "other" / "catalog.sqlite").exists()


def test_a_rebuilt_catalog_lifts_no_store_legal_hold(archive, s3_server, small_clip, tmp_path, lw):
    from test_object_lock import configure, legal_holds

    a = configure(archive, {"primary": {"adapter": "s3", **s3_server.options(object_lock=True)}}, ["primary"])
    kept = add_package(a, small_clip, tmp_path, "kept")
    lifted = add_package(a, small_clip, tmp_path, "lifted")
    holds.place_hold(a, ALICE, owner="court", reason="subpoena", package_id=kept)
    gone = holds.place_hold(a, ALICE, owner="court", reason="withdrawn", package_id=lifted)
    holds.release_hold(a, gone.id, BOB, "withdrawn")
    assert legal_holds(s3_server, a, "primary", kept) == {"ON"}
    assert legal_holds(s3_server, a, "primary", lifted) == {"OFF"}
    drop_catalog(a)
    assert error_codes(lw("list").stderr) == ["A005"]  # an object store's packages count too
    assert lw("reindex").exit_code == 0, lw("reindex").output
    for args in (["sync-locks", "--json"], ["sync-locks", kept], ["sync-locks", lifted], ["audit"]):
        result = lw(*args)
        assert result.exit_code == 0, (args, result.output)
    assert legal_holds(s3_server, a, "primary", kept) == {"ON"}
    assert legal_holds(s3_server, a, "primary", lifted) == {"OFF"}
    b = Archive.open(a.root)
    try:
        with pytest.raises(LongwatchError) as info:
            deletion.delete_package(b, kept, ADMIN, "administrator")
        assert info.value.code == "H003"
    finally:
        b.close()


# -- copies -------------------------------------------------------------------------------
def corrupt(adapter, package_id: str, relpath: str) -> None:
    with adapter.open_package_file(package_id, relpath) as fh:
        data = bytearray(fh.read())
    data[len(data) // 2] ^= 0x01
    import io

    adapter.put(f"{package_prefix(package_id)}/{relpath}", io.BytesIO(bytes(data)))


def copy_rows(archive: Archive) -> list[dict]:
    with archive.catalog.session() as s:
        return sorted(({c.name: getattr(row, c.name) for c in Copy.__table__.columns if c.name != "id"}
                       for row in s.query(Copy)), key=lambda r: (r["package_id"], r["location"]))


def copy_listings(lw, ids) -> dict:
    plan = lw("audit", "--plan", "--json", "--limit", "1000")
    usage = lw("locations", "--json")
    assert plan.exit_code == usage.exit_code == 0, (plan.output, usage.output)
    shown = {}
    for pid in ids:
        result = lw("show", pid, "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        shown[pid] = (data["copies"], data["storage_location"] if "storage_location" in data else None)
    return {"plan": json.loads(plan.stdout), "locations": json.loads(usage.stdout), "show": shown}


@pytest.fixture
def copied(archive, small_clip, tmp_path):
    """Two copies of everything (primary, offsite), a cold tier; checks, a repair, a loss and a tier move."""
    body = ('[storage]\nprimary = "primary"\n\n[storage.replication]\ndefault = ["primary", "offsite"]\n\n'
            '[storage.locations.primary]\nadapter = "local"\npath = "storage"\ndurable = false\n\n'
            f'[storage.locations.offsite]\nadapter = "local"\npath = "{tmp_path / "offsite"}"\ndurable = false\n\n'
            f'[storage.locations.cold]\nadapter = "local"\npath = "{tmp_path / "cold"}"\ndurable = false\n'
            'cold = true\n')
    a = configure_storage(archive, body)
    ids = {name: add_package(a, small_clip, tmp_path, name, camera=f"cam-{n}")
           for n, name in enumerate(("plain", "repaired", "lost", "moved", "checked"), 1)}
    storage_audit.audit(a, locations=["primary"])  # the primary copies checked later than the offsite ones
    def media(pid: str) -> str:
        return next(r for r in a.storage("primary").package_files(pid) if r.startswith("data/media/"))

    corrupt(a.storage("offsite"), ids["repaired"], media(ids["repaired"]))
    for location in ("primary", "offsite"):
        corrupt(a.storage(location), ids["lost"], media(ids["lost"]))
    storage_audit.audit(a, locations=["offsite"])
    storage_audit.audit(a, locations=["primary"])
    tiers.move_package(a, ids["moved"], "cold")
    storage_audit.audit(a, locations=["cold"])
    yield a, ids
    a.close()


def test_copies_survive_the_loss_of_the_catalog(lw, copied):
    a, ids = copied
    before, rows = copy_listings(lw, ids.values()), copy_rows(a)
    states = {(r["package_id"], r["location"]): (r["status"], r["last_outcome"]) for r in rows}
    assert states[(ids["repaired"], "offsite")] == ("ok", "repaired")
    assert states[(ids["lost"], "primary")] == states[(ids["lost"], "offsite")] == ("lost", "failed")
    assert {loc for pid, loc in states if pid == ids["moved"]} == {"offsite", "cold"}
    assert before["plan"]["total_copies"] == 10
    drop_catalog(a)

    result = lw("reindex", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["copies"] == 10 and report["packages"] == 5 and report["problems"] == []
    b = Archive.open(a.root)
    try:
        assert copy_rows(b) == rows  # locations, statuses, outcomes, sizes, times to the microsecond
        assert copy_listings(lw, ids.values()) == before
        assert b.catalog.get(ids["moved"]).storage_location == "cold"
        assert lw("reindex").exit_code == 0 and copy_rows(b) == rows  # idempotent
        # the audit plans what it planned before, and checks it
        audited = json.loads(lw("audit", "--json").stdout)
        assert audited["checked"] == 10 and {e["code"] for e in audited["lost"]} == {"R001"}
    finally:
        b.close()


def test_a_copy_the_store_lacks_is_reported_and_audited_not_dropped(lw, copied):
    a, ids = copied
    rows = copy_rows(a)
    a.storage("offsite").delete_package(ids["plain"])  # lost with the catalog, say: one disk, one bad day
    drop_catalog(a)

    result = lw("reindex", "--json")
    assert result.exit_code == 1
    assert [(p["code"], p["context"]["package_id"], p["context"]["location"])
            for p in json.loads(result.stdout)["problems"]] == [("R006", ids["plain"], "offsite")]
    assert "ERROR [R006]" in result.stderr and "longwatch audit" in result.stderr
    b = Archive.open(a.root)
    try:
        assert copy_rows(b) == rows  # still there, as the ledger says
        plan = json.loads(lw("audit", "--plan", "--json", "--limit", "1000").stdout)
        assert {"package_id": ids["plain"], "location": "offsite"}.items() <= \
            next(c for c in plan["copies"] if c["package_id"] == ids["plain"] and c["location"] == "offsite").items()
        audited = json.loads(lw("audit", "--json", "--location", "offsite").stdout)
        assert {"package_id": ids["plain"], "location": "offsite", "missing": True, "files": {}} in audited["failures"]
        assert {"package_id": ids["plain"], "location": "offsite", "source": "primary"} in audited["repaired"]
        assert b.storage("offsite").has_package(ids["plain"])
    finally:
        b.close()
