"""Locations, replicas, audits that repair, tiers and caps, on the filesystem and S3 alike.

The archive's primary location is of ``storage_kind`` and its off-site
replica of the other kind, so every test exercises both adapters.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from conftest import configure_storage as configure

from longwatch.core.preservation.ingest import IngestRequest, ingest
from longwatch.core.storage import audit as storage_audit
from longwatch.core.storage import copies as storage_copies
from longwatch.core.storage import policy as storage_policy
from longwatch.core.storage import replicate as storage_replicate
from longwatch.core.storage import tiers as storage_tiers
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import package_prefix


def _location(kind: str, name: str, tmp_path: Path, s3_server, **extra) -> str:
    if kind == "local":
        spec = {"adapter": "local", "path": str(tmp_path / f"store-{name}"), "durable": False, **extra}
    else:
        spec = {"adapter": "s3", **s3_server.options(), **extra}
    lines = [f"[storage.locations.{name}]"] + [f"{k} = {json.dumps(v)}" for k, v in spec.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def replicated(archive, storage_kind, tmp_path, request):
    """primary (storage_kind) + offsite (the other kind), default policy: two copies."""
    server = request.getfixturevalue("s3_server")
    other = "s3" if storage_kind == "local" else "local"
    body = ('[storage]\nprimary = "primary"\n\n[storage.replication]\ndefault = ["primary", "offsite"]\n\n'
            + _location(storage_kind, "primary", tmp_path, server)
            + _location(other, "offsite", tmp_path, server) + "\n")
    a = configure(archive, body)
    yield a
    a.close()


def _ingest(archive, clip, n=1):
    return [ingest(archive, IngestRequest(path=clip, camera="cam-01", allow_duplicate=True)).package_id
            for _ in range(n)]


def corrupt(adapter, package_id: str, relpath: str) -> None:
    """Flip one bit in the middle of a stored file, through the adapter (a new S3 version, a rewritten file)."""
    import io

    with adapter.open_package_file(package_id, relpath) as fh:
        data = bytearray(fh.read())
    data[len(data) // 2] ^= 0x01
    adapter.put(f"{package_prefix(package_id)}/{relpath}", io.BytesIO(bytes(data)))


def test_ingest_replicates_to_policy_and_show_lists_copies(replicated, clip, lw):
    [pid] = _ingest(replicated, clip)
    copies = storage_copies.copies_of(replicated, pid)
    assert {(c.location, c.status, c.last_outcome) for c in copies} == {("primary", "ok", "ok"),
                                                                      ("offsite", "ok", "ok")}
    row = replicated.catalog.get(pid)
    for location in ("primary", "offsite"):
        adapter = replicated.storage(location)
        assert storage_copies.check_copy(adapter, pid, row.tagmanifest_sha256).ok
    a, b = replicated.storage("primary"), replicated.storage("offsite")
    assert sorted(a.package_files(pid)) == sorted(b.package_files(pid))
    for rel in a.package_files(pid):
        with a.open_package_file(pid, rel) as x, b.open_package_file(pid, rel) as y:
            assert x.read() == y.read()
    shown = json.loads(lw("show", pid, "--json").output)
    assert {c["location"] for c in shown["copies"]} == {"primary", "offsite"}
    text = lw("show", pid).output
    assert "offsite" in text and "Copies" in text


def test_bit_rot_in_one_percent_of_files_found_and_repaired_by_one_audit(replicated, clip, lw):
    pids = _ingest(replicated, clip, 6)
    stored = [(loc, pid, rel) for loc in ("primary", "offsite") for pid in pids
              for rel in replicated.storage(loc).package_files(pid)]
    rng = random.Random(12)
    count = max(2, math.ceil(len(stored) / 100))
    victims = [rng.choice([s for s in stored if s[0] == "primary"]),
               rng.choice([s for s in stored if s[0] == "offsite"])]
    while len(set(victims)) < count:
        victims.append(rng.choice(stored))
    victims = sorted(set(victims))
    for loc, pid, rel in victims:
        corrupt(replicated.storage(loc), pid, rel)

    result = lw("audit", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    found = {(f["location"], f["package_id"], rel) for f in report["failures"] for rel in f["files"]}
    assert found == set(victims)
    assert report["checked"] == 2 * len(pids)
    assert {(r["location"], r["package_id"]) for r in report["repaired"]} == {(v[0], v[1]) for v in victims}
    again = json.loads(lw("audit", "--json").output)
    assert again["failed"] == 0 and again["ok"]
    # the bad bytes are kept as evidence, and every repair is recorded
    loc, pid, rel = victims[0]
    assert any(k.endswith(rel) for k in replicated.storage(loc).list(f"quarantine/{pid}"))
    assert lw("verify", "--all").exit_code == 0
    # ... in the custody ledger too: the copy's failed fixity check, then its repair, after its replication
    timeline = json.loads(lw("custody", "show", pid, "--json").output)["entries"]
    storage = [(e["type"], e["outcome"], e["extra"].get("storage_event"), e["extra"].get("location"))
               for e in timeline if "storage_event" in e["extra"]]
    assert ("replication", "success", "replication", "offsite") in storage
    failed = storage.index(("fixity check", "failure", "fixity check", loc))
    assert storage[failed + 1] == ("replication", "success", "repair", loc)
    assert lw("custody", "verify").exit_code == 0


def test_whole_replica_deleted_is_restored(replicated, clip, lw):
    [pid] = _ingest(replicated, clip)
    offsite = replicated.storage("offsite")
    storage_tiers.delete_copy(replicated, offsite, pid)
    assert not offsite.has_package(pid)
    report = json.loads(lw("audit", "--json").output)
    assert report["failures"] == [{"package_id": pid, "location": "offsite", "missing": True, "files": {}}]
    assert report["repaired"] == [{"package_id": pid, "location": "offsite", "source": "primary"}]
    assert offsite.has_package(pid)
    assert storage_copies.check_copy(offsite, pid, replicated.catalog.get(pid).tagmanifest_sha256).ok


def test_every_copy_corrupted_is_a_coded_error_naming_the_package(replicated, clip, lw):
    [pid, ok_pid] = _ingest(replicated, clip, 2)
    media = next(r for r in replicated.storage("primary").package_files(pid) if r.startswith("data/media/"))
    for loc in ("primary", "offsite"):
        corrupt(replicated.storage(loc), pid, media)
    result = lw("audit", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert not report["ok"]
    assert {e["code"] for e in report["lost"]} == {"R001"}
    assert all(pid in e["message"] for e in report["lost"])
    assert "ERROR [R001]" in result.stderr and pid in result.stderr
    statuses = {c.location: c.status for c in storage_copies.copies_of(replicated, pid)}
    assert statuses == {"primary": "lost", "offsite": "lost"}
    assert {c.status for c in storage_copies.copies_of(replicated, ok_pid)} == {"ok"}


def test_plan_is_oldest_checked_first_and_budgets_stop_early(replicated, clip, lw):
    pids = _ingest(replicated, clip, 2)
    storage_audit.audit(replicated, locations=["primary"])
    plan = json.loads(lw("audit", "--plan", "--json").output)["copies"]
    assert [c["location"] for c in plan[:2]] == ["offsite", "offsite"]  # checked at ingest, before the audit
    assert {c["package_id"] for c in plan} == set(pids)
    result = json.loads(lw("audit", "--time-budget", "0", "--json").output)
    assert result["checked"] == 0 and result["skipped"] == 4
    limited = json.loads(lw("audit", "--bandwidth", "1G", "--json").output)
    assert limited["checked"] == 4 and limited["ok"]
    bad = lw("audit", "--bandwidth", "fast")
    assert bad.exit_code == 2


def test_full_location_refuses_new_writes_and_deletes_nothing(archive, storage_kind, tmp_path, request, clip, lw):
    server = request.getfixturevalue("s3_server")
    size = clip.stat().st_size
    body = ('[storage]\nprimary = "primary"\n\n'
            + _location(storage_kind, "primary", tmp_path, server, cap_bytes=int(size * 1.5), alert_at=0.5))
    a = configure(archive, body)
    first = ingest(a, IngestRequest(path=clip, allow_duplicate=True))
    assert any("S015" not in w and "full" in w for w in first.warnings)
    with pytest.raises(LongwatchError) as info:
        ingest(a, IngestRequest(path=clip, allow_duplicate=True))
    assert info.value.code == "S001"
    assert list(a.storage().package_ids()) == [first.package_id]
    assert a.catalog.all_ids() == [first.package_id]
    usage = json.loads(lw("locations", "--json").output)["locations"][0]
    assert usage["state"] == "alert" and usage["packages"] == 1
    a.close()


def test_tier_moves_cold_packages_and_restores_them(archive, storage_kind, tmp_path, request, clip, lw):
    server = request.getfixturevalue("s3_server")
    other = "s3" if storage_kind == "local" else "local"
    body = ('[storage]\nprimary = "primary"\n\n' + _location(storage_kind, "primary", tmp_path, server)
            + _location(other, "cold", tmp_path, server, cold=True))
    a = configure(archive, body)
    [pid] = _ingest(a, clip)
    moved = json.loads(lw("tier", "move", "--after-days", "0", "--to", "cold", "--json").output)
    assert moved["moved"] == [{"package_id": pid, "from": "primary", "to": "cold"}]
    assert not a.storage("primary").has_package(pid) and a.storage("cold").has_package(pid)
    assert lw("verify", pid).exit_code == 0
    assert json.loads(lw("tier", "move", "--after-days", "0", "--to", "cold", "--json").output)["moved"] == []
    assert lw("tier", "restore", pid[:8]).exit_code == 0
    assert a.storage("primary").has_package(pid) and not a.storage("cold").has_package(pid)
    assert [c.location for c in storage_copies.copies_of(a, pid)] == ["primary"]
    a.close()


def test_policy_naming_an_unknown_location_is_refused(archive):
    a = configure(archive, '[storage]\nprimary = "primary"\n[storage.replication]\ndefault = ["primary", "nowhere"]\n'
                  '[storage.locations.primary]\nadapter = "local"\npath = "storage"\n')
    with pytest.raises(LongwatchError) as info:
        storage_policy.policy_for(a)
    assert info.value.code == "R003"
    a.close()


def test_replicate_catches_up_when_the_policy_grows(archive, storage_kind, tmp_path, request, clip, lw):
    server = request.getfixturevalue("s3_server")
    other = "s3" if storage_kind == "local" else "local"
    locations = _location(storage_kind, "primary", tmp_path, server) + _location(other, "offsite", tmp_path, server)
    a = configure(archive, '[storage]\nprimary = "primary"\n\n' + locations)
    [pid] = _ingest(a, clip)
    assert [c.location for c in storage_copies.copies_of(a, pid)] == ["primary"]
    assert storage_replicate.policy_met(a, pid)
    text = (archive.root / "longwatch.toml").read_text().replace(
        '[storage]\nprimary = "primary"\n', '[storage]\nprimary = "primary"\n[storage.replication]\n'
        'default = ["primary", "offsite"]\n')
    (archive.root / "longwatch.toml").write_text(text)
    assert not storage_replicate.policy_met(a, pid)  # two copies asked, one made: the source is kept
    result = lw("replicate", "--json")
    assert result.exit_code == 0, result.output
    assert storage_replicate.policy_met(a, pid)
    assert json.loads(result.stdout)["replicated"] == [{"package_id": pid, "locations": ["offsite"]}]
    assert json.loads(lw("replicate", "--json").stdout)["replicated"] == []
    listing = lw("locations")
    assert "offsite" in listing.stdout and listing.exit_code == 0
    usage = {u["location"]: u["packages"] for u in json.loads(lw("locations", "--json").stdout)["locations"]}
    assert usage == {"primary": 1, "offsite": 1}
    plan = lw("audit", "--plan")
    assert pid[:8] in plan.stdout and "offsite" in plan.stdout
    audited = lw("audit")
    assert audited.exit_code == 0 and "2 copies checked" in audited.stdout
    events = lw("show", pid)
    assert "Copies" in events.stdout
    a.close()


def test_ingest_replicates_to_the_policy_of_the_package_s_retention_class(archive, tmp_path, clip, lw):
    """Evidence may ask for more copies than the default: ingest, policy_met and replicate use the class's."""
    locations = _location("local", "primary", tmp_path, None) + _location("local", "offsite", tmp_path, None)
    # one copy by default; the default schedule puts footage in class "continuous", which asks for two
    a = configure(archive, '[storage]\nprimary = "primary"\n\n[storage.replication]\ndefault = ["primary"]\n\n'
                           '[storage.replication.classes]\ncontinuous = ["primary", "offsite"]\n\n' + locations)
    [pid] = _ingest(a, clip)
    assert sorted(c.location for c in storage_copies.copies_of(a, pid)) == ["offsite", "primary"]
    assert storage_policy.policy_of(a, pid).copies == 2
    assert storage_replicate.policy_met(a, pid)
    assert storage_policy.policy_of(a, pid, "no-such-class").copies == 1  # an unknown class gets the default
    a.close()
