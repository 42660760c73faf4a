"""Losing the catalog loses no decision: cases, events and reviews, dispositions and their certificates,
tombstones, requests and their steps, share links and accounts come back from the custody ledger.

Each change to such a row is journaled in the same transaction
(``core/catalog/journal.py``) and appended to the ledger after the commit
(``core/custody/decisions.py``); ``reindex`` replays the entries after reading
the packages. Compared here row by row, every column, before and after.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from retention_helpers import ALICE, BOB, T0, add_package, later
from test_export_shares import RECIPIENT
from test_replay import drop_catalog

from longwatch.core import accounts, custody
from longwatch.core.archive import Archive
from longwatch.core.catalog import journal, reference
from longwatch.core.catalog.models import Base, CatalogJournal, Package
from longwatch.core.custody import decisions
from longwatch.core.events import record as events
from longwatch.core.evidence import export, shares
from longwatch.core.evidence.request import Request
from longwatch.core.public import access_requests
from longwatch.core.records import dispositions

SECRET = {"users": {"password_hash"}}


def table_rows(archive: Archive) -> dict[str, list[dict[str, Any]]]:
    """Every journaled table, every column but the secret ones, ordered by primary key."""
    out = {}
    with archive.catalog.engine.connect() as conn:
        for name in journal.JOURNALED:
            table = Base.metadata.tables[name]
            rows = conn.execute(table.select().order_by(*table.primary_key.columns)).mappings()
            where = (lambda r: r["status"] == "disposed") if name == "packages" else (lambda r: True)
            out[name] = [{k: v for k, v in r.items() if k not in SECRET.get(name, ())} for r in rows if where(r)]
    return out


@pytest.fixture
def decided(archive, small_clip, tmp_path, frozen_clock):
    """An archive whose catalog holds one of every kind of decision."""
    frozen_clock("2026-01-02T00:00:00Z")
    ids = [add_package(archive, small_clip, tmp_path, f"p{i}", camera=f"cam-{i}") for i in range(4)]
    reference.add_case(archive.catalog, "2026-J-7", title="소매치기", requester="police", notes="first note",
                       now=later(1))
    reference.attach_packages(archive.catalog, "2026-J-7", ids[:2])
    reference.attach_range(archive.catalog, "2026-J-7", T0, T0 + timedelta(seconds=1), camera="cam-1")
    seen = events.record(archive, camera="cam-2", type="intrusion", start=T0, end=T0 + timedelta(seconds=1),
                         confidence=0.91, source="vms-1", vendor_event_id="v-1", apply_rules=False)
    events.review(archive, seen.event.id, "confirmed", "alice", note="real")
    request = access_requests.create(archive, "pipa-access", requester="Kim", identity_method="in person",
                                     claimed_start=T0, claimed_end=T0 + timedelta(minutes=1), camera="cam-3",
                                     actor="alice")
    access_requests.refuse(archive, request.number, access_requests.refusal_reasons()[0].code, actor="alice")
    accounts.add_user(archive.catalog, "officer", "a long enough password 1", "investigator")
    accounts.set_role(archive.catalog, "officer", "auditor")
    accounts.create_token(archive.catalog, "officer", name="scanner", days=30)
    out = tmp_path / "export"
    export.export(archive, Request(RECIPIENT, package_ids=[ids[3]]), out)
    share_id, _token = shares.create_share(archive, out, later(90), created_by="alice")
    shares.revoke_share(archive, share_id)
    disposition, _plan = dispositions.propose(archive, ALICE, later(60))
    assert disposition is not None
    dispositions.approve(archive, disposition.id, BOB, later(60))
    dispositions.execute(archive, disposition.id, BOB, later(61))
    return ids


def test_every_decision_is_in_the_ledger_when_the_command_returns(archive, decided):
    with archive.catalog.session() as s:
        assert s.query(CatalogJournal).count() == 0  # drained after each commit
    tables = {e["extra"]["catalog"]["table"] for e in custody.Ledger.for_archive(archive).entries(
        mentioning=decisions.MARK)}
    assert {"cases", "case_packages", "case_ranges", "events", "dispositions", "disposition_items", "packages",
            "public_requests", "request_steps", "users", "api_tokens", "export_shares"} <= tables
    for entry in custody.Ledger.for_archive(archive).entries(mentioning=b'"table":"users"'):
        assert "password_hash" not in json.dumps(entry)  # secrets never enter the ledger


def test_every_decision_survives_the_loss_of_the_catalog(lw, archive, decided):
    before = table_rows(archive)
    assert len(before["packages"]) == 4 and all(r["status"] == "disposed" for r in before["packages"])
    listings = [lw("cases", "--json").output, lw("events", "--json").output, lw("users", "list", "--json").output]
    drop_catalog(archive)

    result = lw("reindex", "--json")
    assert result.exit_code == 0, result.output
    reopened = Archive.open(archive.root)
    try:
        assert table_rows(reopened) == before
        with reopened.catalog.session() as s:
            tomb = s.get(Package, decided[0])
            assert tomb is not None and tomb.status == "disposed" and len(tomb.clips) == 1
        assert [lw("cases", "--json").output, lw("events", "--json").output,
                lw("users", "list", "--json").output] == listings
        # replay is idempotent and journals nothing again
        seqs = custody.Ledger.for_archive(reopened).size()
        assert lw("reindex").exit_code == 0
        assert table_rows(reopened) == before
        assert custody.Ledger.for_archive(reopened).size() == seqs
    finally:
        reopened.close()


def test_a_crash_before_the_drain_loses_nothing(archive, small_clip, tmp_path, monkeypatch):
    """The change and its journal row commit together; the next commit (or reindex) takes the row along."""
    calls = []
    with archive.catalog.session() as s:
        waiting = s.query(CatalogJournal).count()  # the first administrator, made before the archive existed
    monkeypatch.setattr(decisions, "drain", lambda a: calls.append(a))  # the process "dies" before draining
    reference.add_case(archive.catalog, "2026-K-1", title="lost?", now=later(1))
    assert calls
    with archive.catalog.session() as s:
        assert s.query(CatalogJournal).count() == waiting + 1
    monkeypatch.undo()
    reference.add_case(archive.catalog, "2026-K-2", title="next", now=later(2))
    cases = [e["extra"]["catalog"]["key"] for e in custody.Ledger.for_archive(archive).entries(
        mentioning=decisions.MARK) if e["extra"]["catalog"]["table"] == "cases"]
    assert len(cases) == 2
    with archive.catalog.session() as s:
        assert s.query(CatalogJournal).count() == 0
