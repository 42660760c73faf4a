"""Issue 20's whole test: three working directories with nothing shared but PostgreSQL and the S3 store.

A is where people run commands, B and C run workers, and the web app is opened
on C and on B. Files queued on A (then deleted there) are ingested by the
workers; one worker is killed with SIGKILL while it holds a job and another
takes its place; a hold is placed from A; an export asked for through the API
on C is written by a worker and downloaded through its share link from B; every
copy is audited; then the ledger and every package verify from C, and B and C
kept nothing of their own but configuration, keys, scratch and the access log.
A worker whose archive folder is empty refuses to start and changes nothing.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
import zipfile

import pytest
from cluster_kit import stop, wait_for_jobs, worker
from conftest import LONGWATCH, unique_copy
from sqlalchemy import text
from test_staging import _local_leftovers, machines  # noqa: F401 (a fixture)
from web_fixtures import PASSWORD

from longwatch.core import accounts, custody
from longwatch.core.jobs import queue as jobs
from longwatch.web import create_app

pytestmark = pytest.mark.slow
N_CLIPS = 6


def _run(root, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LONGWATCH, "-A", str(root), *args], capture_output=True, text=True, timeout=600,
                          env={k: v for k, v in os.environ.items() if k != "LONGWATCH_FAULT"}, check=False)


def _kill_while_holding_a_job(archive, proc, log) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with archive.catalog.engine.connect() as c:
            doing = c.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")).scalar()
        if doing:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        assert proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.02)
    raise AssertionError("no job was ever running")


def test_a_web_server_and_two_workers_share_only_postgresql_and_the_store(machines, tmp_path, small_clip):  # noqa: F811
    a, b_root, c_root = machines
    accounts.add_user(a.catalog, "officer", PASSWORD, "operator")
    token = accounts.create_token(a.catalog, "officer", "three machines")
    auth = {"Authorization": f"Bearer {token}"}
    sources = tmp_path / "sources"
    for i in range(N_CLIPS):
        clip = unique_copy(small_clip, sources / f"cam-0{i % 2}_{i}.mp4")
        queued = _run(a.root, "jobs", "ingest", "--camera", f"cam-0{i % 2}", str(clip))
        assert queued.returncode == 0, queued.stderr
        clip.unlink()  # the submitting machine's file is gone: the job names the staged object, not this path

    logs = [tmp_path / "b.log", tmp_path / "c.log"]
    victim = worker(b_root, logs[0])
    procs = [victim]
    try:
        _kill_while_holding_a_job(a, victim, logs[0])
        procs = [worker(b_root, logs[0]), worker(c_root, logs[1])]
        wait_for_jobs(a, N_CLIPS, logs[0], timeout=600)
        packages = sorted(a.catalog.all_ids())
        assert len(packages) == N_CLIPS

        held = packages[0]
        hold = _run(a.root, "hold", "place", "--package", held, "--owner", "서울중앙지방검찰청",
                    "--reason", "사건 2026-91")
        assert hold.returncode == 0, hold.stderr

        web_c = create_app(c_root, {"TESTING": True}).test_client()
        web_b = create_app(b_root, {"TESTING": True}).test_client()
        asked = web_c.post("/api/v1/exports", headers=auth, json={
            "package_ids": packages[:2], "language": "en",
            "recipient": {"agency": "Seoul Jung-gu Police", "officer": "Kim", "legal_basis": "PIPA 18(2)7",
                          "purpose": "investigation"}})
        assert asked.status_code in (200, 202), asked.get_data(as_text=True)
        export = asked.get_json()["export"]
        deadline = time.monotonic() + 300
        state = {}
        while time.monotonic() < deadline:
            state = web_b.get(f"/api/v1/exports/{export}", headers=auth).get_json()  # asked on C, read on B
            if state["state"] in ("done", "failed"):
                break
            time.sleep(0.5)
        assert state["state"] == "done", state
        link = web_c.post(f"/api/v1/exports/{export}/links", headers=auth, json={}).get_json()
        download = web_b.get(f"/s/{link['token']}/download")
        assert download.status_code == 200
        bag = tmp_path / "received"
        with zipfile.ZipFile(io.BytesIO(download.get_data())) as zf:
            zf.extractall(bag)
        inner = next(p for p in bag.rglob("bag-info.txt")).parent
        checked = _run(c_root, "verify-export", str(inner), "--cert", str(a.settings.cert_path))
        assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]

        with a.catalog.session() as s:
            audits = [jobs.enqueue(a, "audit_package", {"package_id": p}, session=s) for p in packages]
        wait_for_jobs(a, N_CLIPS + 1 + len(audits), logs[1], timeout=600)
    finally:
        stop(*procs)

    deleted = _run(a.root, "dispose", "delete", held, "--reason", "test")
    assert deleted.returncode != 0 and "H00" in deleted.stderr and held in a.catalog.all_ids()  # held: refused
    for args in (["custody", "verify"], ["verify", "--all", "--fast"]):
        result = _run(c_root, *args)
        assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    ledger = custody.Ledger.for_archive(a)
    for pid in packages:
        assert [e["type"] for _, e, _ in ledger.history(pid)].count("ingestion") == 1
    for root in (b_root, c_root):  # what a machine kept: its log and scratch, nothing another one needs
        assert [p for p in _local_leftovers(root) if not p.startswith(("logs/", "tmp/"))] == [], root

    empty = tmp_path / "empty-mount"
    empty.mkdir()
    size = custody.Ledger.for_archive(a).size()
    refused = subprocess.run([*LONGWATCH, "-A", str(empty), "worker", "--until-empty"], capture_output=True,
                             text=True, timeout=120, check=False)
    assert refused.returncode != 0 and "A001" in refused.stderr
    assert list(empty.iterdir()) == [] and custody.Ledger.for_archive(a).size() == size
