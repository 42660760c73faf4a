"""Retention drives the store's object lock: holds become S3 legal holds, fixed retention a retain-until date,
and disposal is refused (S017, nothing deleted anywhere) while a store still locks a copy.

Against moto's real S3 server on loopback (tests/s3.py): ``primary`` is a local
directory (no lock), ``offsite`` and ``vault`` are buckets created with object lock.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from retention_helpers import ADMIN, ALICE, T0, add_package, on_storage, status

from longwatch.core import custody
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import StorageEvent
from longwatch.core.records import assignment, deletion, dispositions, holds
from longwatch.core.storage import audit as storage_audit
from longwatch.core.storage import copies as storage_copies
from longwatch.core.storage import locks as storage_locks
from longwatch.core.storage.objects import objects
from longwatch.errors import LongwatchError


def _location(name: str, spec: dict) -> str:
    return "\n".join([f"[storage.locations.{name}]"] + [f"{k} = {json.dumps(v)}" for k, v in spec.items()]) + "\n"


def configure(archive: Archive, locations: dict[str, dict], policy: list[str]) -> Archive:
    """Rewrite the archive's [storage] section and reopen it."""
    path = archive.root / "longwatch.toml"
    head, _, rest = path.read_text().partition("[storage]")
    _, _, tail = rest.partition("[signing]")
    body = (f'[storage]\nprimary = "primary"\n\n[storage.replication]\ndefault = {json.dumps(policy)}\n\n'
            + "".join(_location(n, s) for n, s in locations.items()))
    path.write_text(head + body + "\n[signing]" + tail)
    archive.close()
    return Archive.open(archive.root)


@pytest.fixture
def locked(archive, s3_server, tmp_path):
    """primary (local, no lock), offsite and vault (S3 with object lock); three copies of everything."""
    a = configure(archive, {
        "primary": {"adapter": "local", "path": str(tmp_path / "store-primary"), "durable": False},
        "offsite": {"adapter": "s3", **s3_server.options(object_lock=True)},
        "vault": {"adapter": "s3", **s3_server.options(object_lock=True), "object_lock_retention": True,
                  "object_lock_mode": "COMPLIANCE"},
    }, ["primary", "offsite", "vault"])
    yield a
    a.close()


def object_locks(server, archive: Archive, location: str, package_id: str) -> list[tuple[str, str, str | None]]:
    """(key, legal hold, retain-until mode) of every version of every object of the package, asked of S3 itself."""
    adapter = archive.storage(location)
    client = server.client()
    found = []
    for key in adapter.package_keys(package_id):
        for version in client.list_object_versions(Bucket=adapter.bucket, Prefix=key).get("Versions", []):
            if version["Key"] != key:
                continue
            head = client.head_object(Bucket=adapter.bucket, Key=key, VersionId=version["VersionId"])
            found.append((key, head.get("ObjectLockLegalHoldStatus", "OFF"), head.get("ObjectLockMode")))
    assert found
    return found


def legal_holds(server, archive, location, package_id) -> set[str]:
    return {hold for _key, hold, _mode in object_locks(server, archive, location, package_id)}


def copies_verify(archive: Archive, package_id: str) -> bool:
    row = archive.catalog.get(package_id)
    return all(storage_copies.check_copy(archive.storage(loc), package_id, row.tagmanifest_sha256).ok
               for loc in ("primary", "offsite", "vault"))


def storage_events(archive: Archive, package_id: str) -> list[tuple[str, str]]:
    with archive.catalog.session() as s:
        rows = s.query(StorageEvent).filter(StorageEvent.package_id == package_id).order_by(StorageEvent.id)
        return [(e.kind, e.location) for e in rows if "hold" in e.kind or "retention" in e.kind]


def test_holds_drive_s3_legal_holds_and_the_order_of_release_and_disposal(locked, s3_server, small_clip,
                                                                          tmp_path):
    a = add_package(locked, small_clip, tmp_path, "a")
    b = add_package(locked, small_clip, tmp_path, "b")
    assert legal_holds(s3_server, locked, "offsite", a) == {"OFF"}
    first = holds.place_hold(locked, ALICE, owner="court", reason="subpoena 1", package_id=a)
    for location in ("offsite", "vault"):
        assert legal_holds(s3_server, locked, location, a) == {"ON"}, location  # every object, every copy
        assert legal_holds(s3_server, locked, location, b) == {"OFF"}  # not covered
    second = holds.place_hold(locked, ALICE, owner="police", reason="case 7", camera="cam-01",
                              start=T0 - timedelta(minutes=1), end=T0 + timedelta(minutes=1))
    assert legal_holds(s3_server, locked, "offsite", b) == {"ON"}  # the camera hold covers b too
    holds.release_hold(locked, first.id, ALICE, "subpoena withdrawn")
    assert legal_holds(s3_server, locked, "offsite", a) == {"ON"}  # the camera hold still covers it
    with pytest.raises(LongwatchError) as info:
        deletion.delete_package(locked, a, ADMIN, "administrator")
    assert info.value.code == "H003"
    holds.release_hold(locked, second.id, ALICE, "case closed")
    for location in ("offsite", "vault"):
        assert legal_holds(s3_server, locked, location, a) == {"OFF"}
    # each lock placed or lifted is a storage event and a custody-ledger event
    assert storage_events(locked, a) == [("legal hold placed", "offsite"), ("legal hold placed", "vault"),
                                         ("legal hold lifted", "offsite"), ("legal hold lifted", "vault")]
    timeline = [e for _i, e, _raw in custody.Ledger.for_archive(locked).history(a)
                if str((e.get("extra") or {}).get("storage_event", "")).startswith("legal hold")]
    assert len(timeline) == 4 and {e["type"] for e in timeline} == {"policy assignment"}
    deleted = deletion.delete_package(locked, a, ADMIN, "administrator")
    assert sorted(deleted.locations) == ["offsite", "primary", "vault"] and not on_storage(locked, a)


def test_disposal_while_the_store_locks_a_copy_is_refused_and_nothing_is_deleted(locked, s3_server, small_clip,
                                                                                tmp_path):
    a = add_package(locked, small_clip, tmp_path, "a")
    # a lock the catalog does not know of (placed by hand, or left by a lift that failed)
    locked.storage("vault").set_legal_hold(a, True)
    with pytest.raises(LongwatchError) as info:
        deletion.delete_package(locked, a, ADMIN, "administrator")
    assert info.value.code == "S017"
    message = info.value.render()
    assert a in message and "'vault'" in message and "legal hold" in message
    assert status(locked, a) == "stored"
    assert all(locked.storage(loc).has_package(a) for loc in ("primary", "offsite", "vault"))
    assert copies_verify(locked, a)
    # a disposition keeps it too, naming why
    locked.storage("vault").set_legal_hold(a, False)
    locked.storage("offsite").set_legal_hold(a, True)
    with pytest.raises(LongwatchError) as info:
        deletion.delete_package(locked, a, ADMIN, "administrator")
    assert info.value.code == "S017" and "'offsite'" in info.value.render()
    assert copies_verify(locked, a)


def test_a_camera_hold_covers_footage_ingested_later(locked, s3_server, small_clip, tmp_path, lw):
    holds.place_hold(locked, ALICE, owner="police", reason="incident at the market", camera="cam-02",
                     start=T0, end=T0 + timedelta(hours=2))
    later = add_package(locked, small_clip, tmp_path, "later", camera="cam-02", start=T0 + timedelta(hours=1))
    other = add_package(locked, small_clip, tmp_path, "other", camera="cam-03", start=T0 + timedelta(hours=1))
    for location in ("offsite", "vault"):
        assert legal_holds(s3_server, locked, location, later) == {"ON"}
        assert legal_holds(s3_server, locked, location, other) == {"OFF"}
    shown = json.loads(lw("show", later, "--json").output)
    assert {c["location"]: c["store_lock"] for c in shown["copies"]} == {
        "primary": None, "offsite": "legal hold", "vault": "legal hold"}
    assert "legal hold" in lw("show", later).output
    # a lock that did not get through (a store unreachable at the time) is put back by sync-locks
    locked.storage("vault").set_legal_hold(later, False)
    synced = json.loads(lw("sync-locks", "--json").output)["changed"]
    assert synced == [{"package_id": later, "location": "vault", "change": "legal hold placed"}]
    assert legal_holds(s3_server, locked, "vault", later) == {"ON"}
    # a repaired copy is a new version: it is held as well, and the old version stays held
    from test_replication import corrupt

    row = locked.catalog.get(later)
    relpath = next(p for p in locked.storage("vault").package_files(later) if p.startswith("data/"))
    corrupt(locked.storage("vault"), later, relpath)
    result = storage_audit.audit(locked, locations=["vault"])
    assert result.repaired and not result.lost
    assert storage_copies.check_copy(locked.storage("vault"), later, row.tagmanifest_sha256).ok
    assert legal_holds(s3_server, locked, "vault", later) == {"ON"}


def test_a_case_hold_covers_a_package_that_joins_the_case_later(locked, s3_server, small_clip, tmp_path):
    a = add_package(locked, small_clip, tmp_path, "a")
    holds.place_hold(locked, ALICE, owner="prosecutor", reason="case 2026-J-17", case_id="2026-J-17")
    assert legal_holds(s3_server, locked, "offsite", a) == {"OFF"}
    assignment.assign(locked, ALICE, package_ids=[a], case_id="2026-J-17")
    for location in ("offsite", "vault"):
        assert legal_holds(s3_server, locked, location, a) == {"ON"}


def test_a_fixed_retention_sets_retain_until_with_the_configured_mode(locked, s3_server, small_clip, tmp_path):
    recorded = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    a = add_package(locked, small_clip, tmp_path, "a", start=recorded)
    assignment.assign(locked, ALICE)
    due, record_class = holds.lock_until(locked, a)
    assert record_class == "continuous" and due == recorded + timedelta(days=30)
    vault = locked.storage("vault")
    modes = {mode for _key, _hold, mode in object_locks(s3_server, locked, "vault", a)}
    assert modes == {"COMPLIANCE"}
    client = s3_server.client()
    key = vault.package_keys(a)[0]
    assert client.head_object(Bucket=vault.bucket, Key=key)["ObjectLockRetainUntilDate"] == due
    # offsite is not configured for retention dates: no date there
    assert {mode for _key, _hold, mode in object_locks(s3_server, locked, "offsite", a)} == {None}
    assert [k for k in storage_events(locked, a) if k[0] == "retention lock"] == [("retention lock", "vault")]
    # a schedule that shortens the retention never shortens the store's date; a longer one extends it
    assert vault.set_retention(a, due - timedelta(days=10)) is False
    assert client.head_object(Bucket=vault.bucket, Key=key)["ObjectLockRetainUntilDate"] == due
    assert vault.set_retention(a, due + timedelta(days=10)) is True
    assert client.head_object(Bucket=vault.bucket, Key=key)["ObjectLockRetainUntilDate"] == due + timedelta(days=10)
    # disposal waits for the store's date
    with pytest.raises(LongwatchError) as info:
        deletion.delete_package(locked, a, ADMIN, "administrator")
    assert info.value.code == "S017" and "COMPLIANCE retention until" in info.value.render()
    assert copies_verify(locked, a)


def test_a_location_without_object_lock_keeps_holds_in_the_catalog(archive, s3_server, small_clip, tmp_path, lw):
    plain = configure(archive, {
        "primary": {"adapter": "local", "path": str(tmp_path / "store-primary"), "durable": False},
        "offsite": {"adapter": "s3", **s3_server.options(), "object_lock_retention": True},
    }, ["primary", "offsite"])
    try:
        a = add_package(plain, small_clip, tmp_path, "a")
        hold = holds.place_hold(plain, ALICE, owner="court", reason="subpoena", package_id=a)
        assignment.assign(plain, ALICE)
        with pytest.raises(LongwatchError) as info:
            deletion.delete_package(plain, a, ADMIN, "administrator")
        assert info.value.code == "H003"
        shown = json.loads(lw("show", a, "--json").output)
        assert [c["store_lock"] for c in shown["copies"]] == [None, None]
        holds.release_hold(plain, hold.id, ALICE, "done")
        assert storage_events(plain, a) == []
        deletion.delete_package(plain, a, ADMIN, "administrator")
        assert not on_storage(plain, a)
    finally:
        plain.close()


def test_a_disposition_keeps_what_the_store_still_locks(locked, s3_server, small_clip, tmp_path):
    from retention_helpers import BOB, later

    a = add_package(locked, small_clip, tmp_path, "a")
    b = add_package(locked, small_clip, tmp_path, "b")
    disposition, _plan = dispositions.propose(locked, ALICE, later(60))
    dispositions.approve(locked, disposition.id, BOB, later(60))
    locked.storage("offsite").set_legal_hold(b, True)
    result = dispositions.execute(locked, disposition.id, BOB, later(61))
    assert result["deleted"] == [a] and result["store_locked"] == [b]
    assert copies_verify(locked, b)
    cert = json.loads(objects(locked).read_bytes(result["certificate"]))  # the certificate is in the store
    assert cert["withheld"] == [{"package_id": b, "record_class": "continuous", "status": "store-locked"}]


def test_an_unreachable_store_never_loosens_anything(archive, s3_server, small_clip, tmp_path, refused_port):
    """The store cannot be asked: the catalog hold still stands, and disposal is refused, coded, not guessed."""
    options = {**s3_server.options(object_lock=True), "endpoint_url": f"http://127.0.0.1:{refused_port}"}
    a_archive = configure(archive, {
        "primary": {"adapter": "local", "path": str(tmp_path / "store-primary"), "durable": False},
        "offline": {"adapter": "s3", **options},
    }, ["primary"])
    try:
        a = add_package(a_archive, small_clip, tmp_path, "a")
        with pytest.raises(LongwatchError) as info:
            holds.place_hold(a_archive, ALICE, owner="court", reason="subpoena", package_id=a)
        assert info.value.code == "S002" and "offline" in info.value.render()
        assert [h.package_id for h in holds.list_holds(a_archive)] == [a]  # the catalog hold stands
        hold = holds.list_holds(a_archive)[0]
        with pytest.raises(LongwatchError):
            holds.release_hold(a_archive, hold.id, ALICE, "done")
        assert holds.list_holds(a_archive) == []  # released in the catalog; the store is asked again later
        with pytest.raises(LongwatchError) as info:
            deletion.delete_package(a_archive, a, ADMIN, "administrator")
        assert info.value.code == "S002"  # whether the store locks it is unknown: nothing is deleted
        assert status(a_archive, a) == "stored" and a_archive.storage("primary").has_package(a)
    finally:
        a_archive.close()


def deny_lock_configuration(monkeypatch, archive: Archive, location: str) -> None:
    """AccessDenied on GetObjectLockConfiguration for one location's bucket.

    moto's server ignores bucket policies (a policy denying
    s3:GetBucketObjectLockConfiguration still gets the configuration back),
    so the denial is put on the location's boto3 client for that one call, as
    the store itself would answer it; every other request reaches moto.
    """
    from botocore.awsrequest import AWSResponse

    from longwatch.storage_adapters import s3 as s3_adapter

    def deny(**_kwargs):
        error = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                 "ResponseMetadata": {"HTTPStatusCode": 403}}
        return AWSResponse("", 403, {}, None), error

    archive.storage(location).client.meta.events.register("before-call.s3.GetObjectLockConfiguration", deny)
    # a real disposal runs in a fresh process, which has not asked the bucket yet
    monkeypatch.setattr(s3_adapter, "_OBJECT_LOCK", {})


def test_an_unreadable_lock_configuration_refuses_disposal_and_holds(locked, s3_server, small_clip, tmp_path,
                                                                    monkeypatch):
    """S019, not "no lock": disposal is refused before anything is recorded or deleted."""
    a = add_package(locked, small_clip, tmp_path, "a")
    locked.storage("vault").set_legal_hold(a, True)  # a lock the catalog does not know of
    deny_lock_configuration(monkeypatch, locked, "vault")
    with pytest.raises(LongwatchError) as info:
        deletion.delete_package(locked, a, ADMIN, "administrator")
    assert info.value.code == "S019" and "'vault'" in info.value.render() and "AccessDenied" in info.value.render()
    assert status(locked, a) == "stored"
    assert copies_verify(locked, a)
    # a hold cannot silently skip the store either: the catalog hold stands, the failure is said
    b = add_package(locked, small_clip, tmp_path, "b")
    with pytest.raises(LongwatchError) as info:
        holds.place_hold(locked, ALICE, owner="court", reason="subpoena", package_id=b)
    assert info.value.code == "S019"
    assert legal_holds(s3_server, locked, "offsite", b) == {"ON"}  # the other store was still done
    assert b in [h.package_id for h in holds.list_holds(locked)]


def test_a_lock_placed_after_the_check_stops_disposal_before_any_copy_goes(locked, s3_server, small_clip,
                                                                            tmp_path, monkeypatch):
    """An S013 from the store part-way (a lock placed after the check looked): the lock-capable stores are
    deleted first, so nothing is lost, and the package is back to ``stored``, not stuck in ``disposing``."""
    a = add_package(locked, small_clip, tmp_path, "a")
    # the check ran before the hold reached the store
    monkeypatch.setattr(storage_locks, "store_locks", lambda archive, package_id: [])
    locked.storage("vault").set_legal_hold(a, True)
    with pytest.raises(LongwatchError) as info:
        deletion.delete_package(locked, a, ADMIN, "administrator")
    # offsite (lock-capable, unlocked) went first, then vault refused: primary is untouched
    assert info.value.code == "S020" and "'vault'" in info.value.render() and "offsite" in info.value.render()
    assert status(locked, a) == "stored"
    assert locked.storage("primary").has_package(a) and locked.storage("vault").has_package(a)
    assert not locked.storage("offsite").has_package(a)
    # the audit puts the removed copy back; then nothing was lost at all
    result = storage_audit.audit(locked)
    assert [(pid, loc) for pid, loc, _src in result.repaired] == [(a, "offsite")] and not result.lost
    assert copies_verify(locked, a)


def test_a_disposition_refused_by_the_store_part_way_marks_the_item_store_locked(locked, s3_server, small_clip,
                                                                                tmp_path, monkeypatch):
    from retention_helpers import BOB, later

    a = add_package(locked, small_clip, tmp_path, "a")
    disposition, _plan = dispositions.propose(locked, ALICE, later(60))
    dispositions.approve(locked, disposition.id, BOB, later(60))
    monkeypatch.setattr(storage_locks, "store_locks", lambda archive, package_id: [])
    locked.storage("offsite").set_legal_hold(a, True)  # the first lock-capable store refuses: nothing goes
    result = dispositions.execute(locked, disposition.id, BOB, later(61))
    assert result["deleted"] == [] and result["store_locked"] == [a]
    assert status(locked, a) == "stored"
    assert copies_verify(locked, a)


def test_store_locks_follow_the_package_protection_hook(locked, s3_server, small_clip, tmp_path):
    """Storage learns a package's holds and retain-until date only through package_protection: the built-in
    answers from the catalog, a vendor's records system registered later is asked first, and no answer at
    all is P003 with every store's lock left as it was (never read as "no hold")."""
    from longwatch import hookimpl
    from longwatch.core.storage.locks import Protection

    a = add_package(locked, small_clip, tmp_path, "a")
    built_in = locked.pm.hook.package_protection(archive=locked, package_id=a, now=None)
    assert built_in == Protection(hold_ids=(), retain_until=holds.lock_until(locked, a))

    class VendorRecords:
        @hookimpl
        def package_protection(self, package_id):  # fewer arguments than the spec: pluggy passes what is asked
            return Protection(hold_ids=("vendor-hold-1",)) if package_id == a else None

    locked.pm.register(VendorRecords(), name="vendor-records")
    assert storage_locks.sync_locks(locked, a) == [("offsite", "legal hold placed"), ("vault", "legal hold placed")]
    assert legal_holds(s3_server, locked, "vault", a) == {"ON"}
    locked.pm.unregister(name="vendor-records")
    locked.pm.unregister(name="longwatch.core.records.locks")
    with pytest.raises(LongwatchError) as info:
        storage_locks.sync_locks(locked, a)
    assert info.value.code == "P003" and "package_protection" in info.value.render()
    assert legal_holds(s3_server, locked, "vault", a) == {"ON"}
