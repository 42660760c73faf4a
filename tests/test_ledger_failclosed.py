"""Fail closed (issue 20, design point 4): the custody ledger never takes a folder that is not its own for an
empty ledger, and crash recovery never removes more than the one unacknowledged group, never anything at or
below a signed checkpoint. The ledger's place does not follow the primary storage location."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import configure_storage
from sqlalchemy import delete, func, select

from longwatch.core import custody
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import CustodyEntry, CustodyLedgerIdentity
from longwatch.core.custody import ledger as ledger_module
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger
from longwatch.errors import LongwatchError


def rows(archive: Archive) -> list[tuple[int, str]]:
    with archive.catalog.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(CustodyEntry.seq, CustodyEntry.leaf_hash)
                                                .order_by(CustodyEntry.seq))]


def events(n: int, package: str = "p") -> list[CustodyEvent]:
    return [CustodyEvent("fixity check", packages=[package], detail=f"{package} {i}") for i in range(n)]


def seqs(ledger: Ledger) -> list[int]:
    return [json.loads(line)["seq"] for _s, _o, line, _c in ledger.lines()]


def verified(archive: Archive) -> custody.LedgerReport:
    report = custody.verify_ledger(Ledger.for_archive(archive), [archive.certificate])
    assert report.ok, [p.render() for p in report.problems]
    return report


@pytest.fixture
def signed(archive: Archive) -> Ledger:
    """Seven entries in three groups, a signed checkpoint of all seven."""
    ledger = Ledger.for_archive(archive)
    for n in (3, 2, 2):
        ledger.append(events(n))
    assert ledger.checkpoint().size == 7
    return ledger


@pytest.mark.parametrize("how", ["moved away", "empty mount point"])
def test_a_ledger_folder_that_is_gone_refuses_appends_and_keeps_every_row(archive, signed, how, tmp_path):
    before = rows(archive)
    shutil.move(signed.dir, tmp_path / "elsewhere")
    if how == "empty mount point":
        signed.dir.mkdir()
    with pytest.raises(LongwatchError) as caught:
        Ledger.for_archive(archive).append(events(1, "after"))
    assert caught.value.code == "L024"
    assert rows(archive) == before
    if how == "moved away":
        assert not signed.dir.exists()  # a folder the catalog records is never created afresh
    with pytest.raises(LongwatchError) as caught:
        Ledger.for_archive(archive).checkpoint()
    assert caught.value.code == "L024"
    shutil.rmtree(signed.dir, ignore_errors=True)
    shutil.move(tmp_path / "elsewhere", signed.dir)  # the mount comes back: the chain goes on
    Ledger.for_archive(archive).append(events(1, "after"))
    assert seqs(signed) == list(range(8))
    assert verified(archive).entries == 8


def test_the_ledger_has_an_identity_in_the_catalog_and_beside_the_segments(archive, signed):
    identity = json.loads((signed.dir / "identity.json").read_bytes())
    with archive.catalog.engine.connect() as conn:
        row = conn.execute(select(CustodyLedgerIdentity.__table__)).one()
    assert (identity["ledger_id"], identity["first_hash"]) == (row.ledger_id, row.first_hash)
    assert row.first_hash == rows(archive)[0][1] == custody.leaf_hash(next(signed.lines())[2]).hex()
    assert row.directory == "storage/ledger"
    assert identity["origin"] == archive.settings.name


def test_an_identity_that_differs_refuses(archive, signed):
    before = rows(archive)
    path = signed.dir / "identity.json"
    data = json.loads(path.read_bytes())
    path.write_text(json.dumps({**data, "ledger_id": "someone-else"}))
    with pytest.raises(LongwatchError) as caught:
        Ledger.for_archive(archive).append(events(1))
    assert caught.value.code == "L024"
    assert rows(archive) == before


def test_a_missing_identity_file_refuses_while_the_catalog_has_entries(archive, signed):
    (signed.dir / "identity.json").unlink()
    with pytest.raises(LongwatchError) as caught:
        Ledger.for_archive(archive).append(events(1))
    assert caught.value.code == "L024"
    assert len(rows(archive)) == 7


def test_a_ledger_from_before_identities_gets_one_from_what_both_sides_agree_on(archive, signed):
    (signed.dir / "identity.json").unlink()
    with archive.catalog.engine.begin() as conn:
        conn.execute(delete(CustodyLedgerIdentity))
    Ledger.for_archive(archive).append(events(1, "after"))
    identity = json.loads((signed.dir / "identity.json").read_bytes())
    assert identity["first_hash"] == rows(archive)[0][1]
    with archive.catalog.engine.connect() as conn:
        assert conn.execute(select(CustodyLedgerIdentity.ledger_id)).scalar() == identity["ledger_id"]
    assert verified(archive).entries == 8


def test_a_ledger_from_before_identities_with_an_empty_folder_refuses(archive, signed, tmp_path):
    with archive.catalog.engine.begin() as conn:
        conn.execute(delete(CustodyLedgerIdentity))  # a catalog older than identities, ledger under storage/
    shutil.move(signed.dir, tmp_path / "elsewhere")
    with pytest.raises(LongwatchError) as caught:
        Ledger.for_archive(archive).append(events(1))
    assert caught.value.code == "L024"
    assert len(rows(archive)) == 7


class Crash(BaseException):
    """The power goes: nothing after this point runs, no cleanup either."""


def crash_after_the_index_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    def power_cut(_fd: int, _data: bytes) -> None:
        raise Crash

    monkeypatch.setattr(ledger_module, "_write_all", power_cut)


def test_a_crash_above_the_checkpoint_still_recovers_its_one_group(archive, signed, monkeypatch):
    with monkeypatch.context() as m:
        crash_after_the_index_commit(m)
        with pytest.raises(Crash):
            Ledger.for_archive(archive).append(events(3, "lost"))
    assert len(rows(archive)) == 10  # the index commit happened, the bytes never came
    Ledger.for_archive(archive).append(events(1, "after"))
    entries = [json.loads(line) for _s, _o, line, _c in signed.lines()]
    assert [e["type"] for e in entries[7:]] == ["recovery", "fixity check"]
    assert "entries 7..9" in entries[7]["detail"]
    assert verified(archive).entries == 9


def test_a_crash_of_the_very_first_group_recovers(archive, monkeypatch):
    with monkeypatch.context() as m:
        crash_after_the_index_commit(m)
        with pytest.raises(Crash):
            Ledger.for_archive(archive).append(events(2, "lost"))
    Ledger.for_archive(archive).append(events(1, "after"))
    ledger = Ledger.for_archive(archive)
    assert [json.loads(line)["type"] for _s, _o, line, _c in ledger.lines()] == ["recovery", "fixity check"]
    identity = json.loads((ledger.dir / "identity.json").read_bytes())
    assert identity["first_hash"] == rows(archive)[0][1]
    assert verified(archive).entries == 2


def truncate_to(ledger: Ledger, entries: int) -> None:
    (segment,) = ledger.segment_paths()
    lines = segment.read_bytes().splitlines(keepends=True)
    segment.write_bytes(b"".join(lines[:entries]))


def test_rows_at_or_below_the_signed_checkpoint_are_never_removed(archive, signed):
    before = rows(archive)
    truncate_to(signed, 5)  # the last group's bytes, but the checkpoint of 7 signs them
    with pytest.raises(LongwatchError) as caught:
        Ledger.for_archive(archive).append(events(1))
    assert caught.value.code == "L025"
    assert rows(archive) == before


def test_rows_of_more_than_the_last_group_are_never_removed(archive):
    ledger = Ledger.for_archive(archive)
    for n in (3, 2, 2):
        ledger.append(events(n), checkpoint=False)
    before = rows(archive)
    truncate_to(ledger, 3)  # two groups gone: no crash does that
    with pytest.raises(LongwatchError) as caught:
        Ledger.for_archive(archive).append(events(1))
    assert caught.value.code == "L025"
    assert rows(archive) == before
    truncate_to(ledger, 0)  # every byte gone, the folder's identity still there
    with pytest.raises(LongwatchError) as caught:
        Ledger.for_archive(archive).append(events(1))
    assert caught.value.code in ("L024", "L025")
    assert rows(archive) == before


def storage_body(primary: str, s3: dict) -> str:
    cloud = "\n".join(f"{k} = {json.dumps(v)}" for k, v in s3.items())
    return (f'[storage]\nprimary = "{primary}"\n\n[storage.replication]\ndefault = ["{primary}"]\n\n'
            '[storage.locations.disk]\nadapter = "local"\npath = "storage"\ndurable = false\n\n'
            f'[storage.locations.cloud]\nadapter = "s3"\n{cloud}\n')


def test_switching_the_primary_to_s3_and_back_continues_the_chain(archive, s3_server):
    s3 = s3_server.options()
    a = configure_storage(archive, storage_body("disk", s3))
    Ledger.for_archive(a).append(events(3, "disk"))
    Ledger.for_archive(a).checkpoint()
    place = Ledger.for_archive(a).dir
    a = configure_storage(a, storage_body("cloud", s3))
    ledger = Ledger.for_archive(a)
    assert ledger.dir == place  # the catalog says where the ledger is, not the primary location
    ledger.append(events(2, "cloud"))
    a = configure_storage(a, storage_body("disk", s3))
    Ledger.for_archive(a).append(events(1, "disk again"))
    assert seqs(Ledger.for_archive(a)) == list(range(6))
    assert verified(a).entries == 6
    assert len(rows(a)) == 6
    with a.catalog.engine.connect() as conn:
        assert conn.execute(select(func.min(CustodyEntry.seq))).scalar() == 0
    a.close()


@pytest.mark.parametrize("how", ["moved away", "empty mount point"])
def test_a_worker_on_the_wrong_folder_refuses_to_start(archive, signed, how, tmp_path):
    """What `longwatch worker` does first (hook prepare_worker): check the ledger, before recovering anything."""
    before = rows(archive)
    shutil.move(signed.dir, tmp_path / "elsewhere")
    if how == "empty mount point":
        signed.dir.mkdir()
    with pytest.raises(LongwatchError) as caught:
        archive.pm.hook.prepare_worker(archive=archive)
    assert caught.value.code == "L024"
    assert rows(archive) == before
    assert not signed.dir.exists() or not any(signed.dir.iterdir())  # nothing written there
    shutil.rmtree(signed.dir, ignore_errors=True)
    shutil.move(tmp_path / "elsewhere", signed.dir)
    archive.pm.hook.prepare_worker(archive=archive)  # the mount is back: the worker starts
