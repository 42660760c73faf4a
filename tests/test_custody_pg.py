"""The custody ledger sequenced by a real PostgreSQL catalog (the `pg` fixture module).

These tests run the append path (one writer, concurrent processes under the
advisory lock), verify, prove, check-proof and the restore from the mirror
against PostgreSQL 15 on loopback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import create_archive
from sqlalchemy import select

from longwatch.cli import cli
from longwatch.core import custody
from longwatch.core.catalog.models import CustodyEntry
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger

WRITER = """
import sys
from datetime import UTC, datetime
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import CustodyEntry
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger
ledger = Ledger.for_archive(Archive.open(sys.argv[1]))
name, batches, size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for i in range(batches):
    ledger.append([CustodyEvent("replication", packages=[name, "shared"], detail=f"{name} {i}.{j}")
                   for j in range(size)])
"""


@pytest.fixture
def archive(postgres_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A test archive whose catalog is a fresh PostgreSQL database (the env var reaches subprocesses too)."""
    url = postgres_server.create_database()
    monkeypatch.setenv("LONGWATCH_CATALOG_URL", url)
    a = create_archive(tmp_path / "archive")
    assert a.catalog.engine.dialect.name == "postgresql"
    yield a
    a.close()
    postgres_server.drop_database(url)


def test_append_show_verify_prove_and_check_proof(lw, archive, tmp_path):
    ledger = Ledger.for_archive(archive)
    receipts = ledger.append([CustodyEvent("ingestion", packages=["p1"], detail="한글 detail"),
                              CustodyEvent("transfer", packages=["p1", "p2"], extra={"recipient": "Police"})])
    assert [r.seq for r in receipts] == [0, 1]
    ledger.append([CustodyEvent("fixity check", packages=["p2"], outcome="failure")], checkpoint=False)
    with archive.catalog.engine.connect() as conn:  # the index rows, as PostgreSQL holds them
        rows = conn.execute(select(CustodyEntry.__table__).order_by(CustodyEntry.__table__.c.seq)).all()
    assert [(r.seq, r.event_type, r.outcome) for r in rows] == [
        (0, "ingestion", "success"), (1, "transfer", "success"), (2, "fixity check", "failure")]
    assert rows[0].time_utc.tzinfo is not None  # stored naive UTC, read back aware
    assert abs((rows[0].time_utc - datetime.now(UTC)).total_seconds()) < 600
    shown = json.loads(lw("custody", "show", "p2", "--json").output)["entries"]
    assert [e["seq"] for e in shown] == [1, 2] and shown[0]["extra"] == {"recipient": "Police"}
    cp = json.loads(lw("custody", "checkpoint", "--json").output)
    assert cp["tree_size"] == 3
    result = lw("custody", "verify", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["entries"] == 3
    proof = tmp_path / "proof.json"
    assert lw("custody", "prove", receipts[1].event_id, "-o", str(proof)).exit_code == 0
    checked = CliRunner().invoke(cli,
                                 ["custody", "check-proof", str(proof), "--cert", str(archive.settings.cert_path)])
    assert checked.exit_code == 0, checked.output
    ledger.append([CustodyEvent("replication", packages=["p1"]) for _ in range(4)], checkpoint=False)
    ledger.checkpoint()
    consistency = tmp_path / "consistency.json"
    assert lw("custody", "consistency", "3", "7", "-o", str(consistency)).exit_code == 0


def test_concurrent_writers_keep_one_chain(archive):
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write("\n[custody]\ncheckpoint_every = 25\n")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(archive.root), f"w{i}", "15", "3"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(4)]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    ledger = Ledger.for_archive(archive)
    report = custody.verify_ledger(ledger, [archive.certificate])
    assert report.ok, [p.render() for p in report.problems]
    assert report.entries == 4 * 15 * 3 and report.checkpoints >= 2
    entries = [json.loads(line) for _seq, line in ledger.lines()]
    assert [e["seq"] for e in entries] == list(range(180))
    for i in range(4):  # each writer's entries in its own order
        assert [e["detail"] for e in entries if e["packages"][0] == f"w{i}"] == [
            f"w{i} {b}.{j}" for b in range(15) for j in range(3)]
    assert len(ledger.history("shared")) == 180  # two package rows per entry, all indexed


def test_restore_after_the_database_lost_the_ledger(lw, archive):
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("ingestion", packages=["p"]) for _ in range(3)])
    ledger.checkpoint()
    ledger.append([CustodyEvent("fixity check", packages=["p"])])  # after the checkpoint: in the mirror's tail
    assert lw("custody", "verify").exit_code == 0
    with archive.catalog.engine.begin() as conn:  # the catalog lost the ledger (restored from an old backup)
        conn.exec_driver_sql("DELETE FROM custody_entry_packages")
        conn.exec_driver_sql("DELETE FROM custody_entries")
        conn.exec_driver_sql("DELETE FROM custody_checkpoints")
        conn.exec_driver_sql("DELETE FROM custody_ledger")
    result = lw("custody", "checkpoint")
    assert result.exit_code != 0 and "L034" in result.output
    result = lw("custody", "restore")
    assert result.exit_code == 0, result.output
    assert lw("custody", "verify").exit_code == 0
    types = [json.loads(line)["type"] for _seq, line in Ledger.for_archive(archive).lines()]
    assert types == ["ingestion"] * 3 + ["fixity check", "recovery"]
    assert [e["seq"] for e in json.loads(lw("custody", "show", "p", "--json").output)["entries"]] == [0, 1, 2, 3]


def test_checkpoint_after_t_minutes(archive):
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write("\n[custody]\ncheckpoint_minutes = 0.000001\n")
    ledger = Ledger.for_archive(archive)
    ledger.append([CustodyEvent("replication")])  # due by the time of entry 0, read back from PostgreSQL
    ledger.append([CustodyEvent("replication")])
    assert [cp.size for cp in ledger.checkpoints()] == [1, 2]


def test_the_index_commit_is_synchronous_even_when_the_database_says_otherwise(archive, postgres_server):
    """The guarantee needs a durable index commit; a server-wide synchronous_commit=off must not weaken it."""
    from sqlalchemy import event

    database = archive.catalog.engine.url.database
    with archive.catalog.engine.connect() as conn:
        conn.exec_driver_sql(f'ALTER DATABASE "{database}" SET synchronous_commit TO off')
        conn.commit()
    archive.catalog.engine.dispose()  # new sessions pick up the database's setting
    seen: list[str] = []

    def look(conn, cursor, statement, *_args):
        if statement.startswith("INSERT INTO custody_entries "):
            seen.append(cursor.connection.execute("SHOW synchronous_commit").fetchone()[0])

    event.listen(archive.catalog.engine, "after_cursor_execute", look)
    try:
        with archive.catalog.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        Ledger.for_archive(archive).append([CustodyEvent("replication", packages=["p"])])
    finally:
        event.remove(archive.catalog.engine, "after_cursor_execute", look)
    assert seen == ["on"]
