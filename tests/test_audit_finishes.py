"""Audits that finish, against the real S3 server: a store error on one copy is that copy's, and object-lock
state is read only for copies whose package has a hold or a retention date."""

from __future__ import annotations

from collections import Counter

import pytest
from botocore.awsrequest import AWSResponse
from retention_helpers import ALICE, add_package
from sqlalchemy import select
from test_object_lock import configure

from longwatch.core.catalog.models import Copy, StorageEvent
from longwatch.core.records import holds
from longwatch.core.storage import audit as storage_audit
from longwatch.storage_adapters import s3 as s3_adapter

LOCK_READS = {"GetObjectLegalHold", "GetObjectRetention", "ListObjectVersions", "PutObjectLegalHold",
              "PutObjectRetention"}


@pytest.fixture
def two_stores(archive, s3_server, tmp_path):
    """primary (local) and offsite (S3 with object lock): two copies of everything."""
    a = configure(archive, {
        "primary": {"adapter": "local", "path": str(tmp_path / "store-primary"), "durable": False},
        "offsite": {"adapter": "s3", **s3_server.options(object_lock=True)},
    }, ["primary", "offsite"])
    yield a
    a.close()


@pytest.fixture
def s3_requests(monkeypatch):
    """Every request any S3 adapter sends, by operation; ``deny`` makes the store refuse some of them."""
    seen: Counter[str] = Counter()
    deny: list = []
    original = s3_adapter.S3StorageAdapter.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)

        def count(model, params, **_kwargs):
            seen[model.name] += 1
            for refuse in deny:
                if refuse(model.name, params):
                    error = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                             "ResponseMetadata": {"HTTPStatusCode": 403}}
                    return AWSResponse("", 403, {}, None), error
            return None

        self.client.meta.events.register("before-call.s3", count)

    monkeypatch.setattr(s3_adapter.S3StorageAdapter, "__init__", init)
    return seen, deny


def test_lock_state_is_read_only_for_protected_copies(two_stores, s3_requests, small_clip, tmp_path):
    seen, _deny = s3_requests
    free = [add_package(two_stores, small_clip, tmp_path, f"free{i}") for i in range(2)]
    held = add_package(two_stores, small_clip, tmp_path, "held")
    holds.place_hold(two_stores, ALICE, owner="court", reason="subpoena", package_id=held)
    seen.clear()
    result = storage_audit.audit(two_stores, locations=["offsite"])
    assert len(result.checked) == 3 and not result.lost and not result.errors
    lock_requests = sum(n for op, n in seen.items() if op in LOCK_READS)
    per_copy = sum(seen.values()) / 3
    assert lock_requests > 0  # the held package's copy: its store hold is made sure of
    seen.clear()
    holds.release_hold(two_stores, holds.list_holds(two_stores)[0].id, ALICE, "done")
    seen.clear()
    result = storage_audit.audit(two_stores, locations=["offsite"])
    assert len(result.checked) == 3 and {c.package_id for c in result.checked} == {*free, held}
    assert sum(n for op, n in seen.items() if op in LOCK_READS) == 0, dict(seen)
    assert sum(seen.values()) / 3 < per_copy


def test_a_store_error_on_one_copy_is_recorded_and_the_audit_goes_on(two_stores, s3_requests, small_clip,
                                                                     tmp_path):
    _seen, deny = s3_requests
    pids = [add_package(two_stores, small_clip, tmp_path, f"p{i}") for i in range(3)]
    broken = pids[1]
    deny.append(lambda op, params: op == "HeadObject" and broken in str(params.get("url_path", "")))
    result = storage_audit.audit(two_stores)
    assert [e.code for e in result.errors] == ["R007"]
    assert result.errors[0].context["package_id"] == broken and result.errors[0].context["location"] == "offsite"
    checked = {(c.package_id, c.location) for c in result.checked}
    assert checked == {(p, loc) for p in pids for loc in ("primary", "offsite")} - {(broken, "offsite")}
    assert not result.lost and not result.repaired  # a store that failed is no bad copy: nothing repaired
    with two_stores.catalog.session() as s:
        copy = s.scalars(select(Copy).where(Copy.package_id == broken, Copy.location == "offsite")).one()
        assert (copy.status, copy.last_outcome) == ("ok", "error")
        kinds = [e.kind for e in s.scalars(select(StorageEvent).where(StorageEvent.package_id == broken))]
        assert "store error" in kinds
    deny.clear()
    again = storage_audit.audit(two_stores, locations=["offsite"])
    assert not again.errors and broken in {c.package_id for c in again.checked}
