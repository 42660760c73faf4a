"""Window cutting, redaction, exports and disposition as jobs: in-process on SQLite, queued on PostgreSQL.

Each kind is idempotent: run again with the same arguments (a retry after a
kill), it finds what its earlier attempt finished and returns it, never a
second package, a second export or a second transfer event. On PostgreSQL a
real ``longwatch worker`` is SIGKILLed in the middle of an export and of a
redaction (a fault point kills it at the worst moment) and a second worker
finishes the job once, cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import LONGWATCH, START, create_archive, stored_file
from retention_helpers import ALICE, BOB, add_package, later, on_storage, status
from sqlalchemy import text

from longwatch.core import custody
from longwatch.core.archive import Archive
from longwatch.core.evidence import export as export_mod
from longwatch.core.evidence import tasks as evidence_tasks
from longwatch.core.evidence.request import Recipient, Request, request_to_dict
from longwatch.core.evidence.verify_export import verify_export
from longwatch.core.jobs import queue as jobs
from longwatch.core.media.probe import make_test_clip
from longwatch.core.preservation import tasks as preservation_tasks
from longwatch.core.records import certificates, dispositions, holds
from longwatch.core.records import tasks as records_tasks
from longwatch.errors import LongwatchError

RECIPIENT = Recipient("Seoul Jung-gu Police", "Kim", "2026-77", "Criminal Procedure Act art. 106",
                      "investigation")


@pytest.fixture
def four_seconds(archive, tmp_path):
    from conftest import ingest_one

    clip = make_test_clip(tmp_path / "cam-09.mp4", seconds=4, label="cam-09", start=START)
    return ingest_one(archive, clip, camera="cam-09", start=START)


def _boxes(tmp_path: Path) -> Path:
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps([{"start": 0, "end": 10, "box": [10, 10, 40, 40]}]))
    return path


def _transfers(archive: Archive, package_id: str, export_id: str) -> int:
    return sum(1 for _, e, _ in custody.Ledger.for_archive(archive).history(package_id)
               if e["type"] == "transfer" and e["extra"].get("export_id") == export_id)


# -- SQLite: in-process, as before, and idempotent -----------------------------------------------
def test_window_and_redaction_jobs_run_in_process_and_a_rerun_adds_nothing(archive, four_seconds, tmp_path):
    result, window_id = preservation_tasks.enqueue_window(archive, four_seconds, "2026-03-03T05:00:01Z",
                                                          "2026-03-03T05:00:03Z", reason="complaint 2026-5")
    assert result == {"package_id": window_id, "source": four_seconds, "stored": True}
    result, redacted_id = preservation_tasks.enqueue_redaction(archive, four_seconds, faces=False,
                                                               boxes_file=_boxes(tmp_path))
    assert result == {"package_id": redacted_id, "source": four_seconds, "stored": True}
    before = set(archive.catalog.all_ids())
    assert before == {four_seconds, window_id, redacted_id}
    # the same jobs again (a retry): the packages their first attempts made, not new ones
    again = jobs.run_task(archive, "window", {"package_id": four_seconds, "start": "2026-03-03T05:00:01Z",
                                              "end": "2026-03-03T05:00:03Z", "result_id": window_id})
    assert again == {"package_id": window_id, "source": four_seconds, "stored": False}
    again = jobs.run_task(archive, "redact", {"package_id": four_seconds, "result_id": redacted_id, "faces": False,
                                              "boxes_file": str(_boxes(tmp_path))})
    assert again["stored"] is False and set(archive.catalog.all_ids()) == before
    row = archive.catalog.get(redacted_id)
    assert row is not None and row.clips and row.clips[0].width


def test_a_derived_package_published_by_a_killed_attempt_is_completed_not_made_again(archive, four_seconds,
                                                                                     monkeypatch):
    """Killed between the atomic publish and the catalog row: the retry catalogues what is stored."""
    monkeypatch.setenv("LONGWATCH_FAULT", "after-publish")
    monkeypatch.setattr(os, "kill", lambda pid, sig: (_ for _ in ()).throw(SystemExit("killed")))
    args = {"package_id": four_seconds, "start": "2026-03-03T05:00:00Z", "end": "2026-03-03T05:00:04Z",
            "result_id": "0b5e2c9e-7d5f-4a8e-9a44-3f0c2a1e6b11"}
    with pytest.raises(SystemExit):
        jobs.run_task(archive, "window", args)
    monkeypatch.undo()
    assert archive.catalog.get(args["result_id"]) is None and archive.storage().has_package(args["result_id"])
    assert jobs.run_task(archive, "window", args)["stored"] is False
    assert archive.catalog.get(args["result_id"]) is not None
    history = custody.Ledger.for_archive(archive).history(args["result_id"])
    assert [e["type"] for _, e, _ in history].count("information package creation") == 1


def test_export_job_writes_under_a_partial_name_and_a_rerun_returns_the_finished_export(
        archive, four_seconds, tmp_path, monkeypatch):
    out = tmp_path / "exports" / "case-77"
    request = Request(RECIPIENT, package_ids=[four_seconds])
    args = {"export_id": "5d1f3c1a-2a57-4d0e-8f6e-93a1b0c2d4e5", "out_dir": str(out), "zip_path": None,
            "request": request_to_dict(request)}
    # a failure after the transfer event was recorded: no bag, no partial bag
    def disk_gone(point: str) -> None:  # only the export's own point: the ledger's kill points pass
        if point == "export-before-rename":
            raise OSError("disk gone")

    monkeypatch.setattr(export_mod.faults, "fault", disk_gone)
    with pytest.raises(OSError):
        jobs.run_task(archive, "export", args)
    monkeypatch.undo()
    assert not out.exists() and list(out.parent.iterdir()) == []
    assert _transfers(archive, four_seconds, args["export_id"]) == 1
    first = jobs.run_task(archive, "export", args)  # the retry: the same transfer event, a whole bag
    assert first["export_id"] == args["export_id"] and first["path"] == str(out)
    assert _transfers(archive, four_seconds, args["export_id"]) == 1
    assert sorted(p.name for p in out.parent.iterdir()) == ["case-77"]
    assert verify_export(out, [archive.certificate]).ok
    second = jobs.run_task(archive, "export", args)  # once more: the finished export, untouched
    assert second == first and _transfers(archive, four_seconds, args["export_id"]) == 1
    # through the enqueue helper (in-process here), with a ZIP written under a partial name too
    result, export_id = evidence_tasks.enqueue_export(archive, request, tmp_path / "exports" / "other",
                                            tmp_path / "exports" / "other.zip")
    assert isinstance(result, dict) and result["export_id"] == export_id
    assert sorted(p.name for p in out.parent.iterdir()) == ["case-77", "other", "other.zip"]
    assert verify_export(tmp_path / "exports" / "other.zip", [archive.certificate]).ok
    with pytest.raises(LongwatchError) as exc:  # another export into a finished one's folder
        evidence_tasks.enqueue_export(archive, request, out)
    assert exc.value.code == "E006" and jobs.permanent(exc.value)


def test_periodic_disposition_executes_only_what_is_approved_and_unheld(archive, small_clip, tmp_path,
                                                                         frozen_clock):
    frozen_clock(later(60))
    ids = [add_package(archive, small_clip, tmp_path, f"p{i}") for i in range(3)]
    disposition, _plan = dispositions.propose(archive, ALICE, later(60))
    assert disposition is not None
    assert jobs.run_task(archive, "dispose_due", {}) == {"dispositions": [], "deleted": 0, "held": 0, "failed": []}
    assert all(status(archive, p) == "stored" for p in ids)  # proposed, not approved: nothing happens
    dispositions.approve(archive, disposition.id, BOB, later(60))
    holds.place_hold(archive, BOB, owner="court", reason="lawsuit 2026-9", package_id=ids[0])
    done = jobs.run_task(archive, "dispose_due", {})
    assert done == {"dispositions": [disposition.id], "deleted": 2, "held": 1, "failed": []}
    assert status(archive, ids[0]) == "stored" and on_storage(archive, ids[0])
    assert [status(archive, p) for p in ids[1:]] == ["disposed", "disposed"]
    assert not any(on_storage(archive, p) for p in ids[1:])
    assert jobs.run_task(archive, "dispose_due", {})["dispositions"] == []  # executed: not again
    result = records_tasks.enqueue_disposition(archive, disposition.id)  # a job for an executed one reports it
    assert isinstance(result, dict) and sorted(result["deleted"]) == sorted(ids[1:])
    cert = dispositions.get_disposition(archive, disposition.id)[0].certificate
    assert certificates.verify_certificate(stored_file(archive, cert), [archive.certificate])["ok"]
    assert json.loads(stored_file(archive, cert).read_text())["executor"]["name"] == records_tasks.SCHEDULER[0]


def test_jobs_crons_come_from_longwatch_toml(archive_dir):
    from longwatch import config

    archive = create_archive(archive_dir)
    settings = archive.settings
    assert (settings.audit_cron, settings.disposition_cron) == (config.AUDIT_CRON, config.DISPOSITION_CRON)
    path = archive_dir / "longwatch.toml"
    base = path.read_text()
    path.write_text(base + '\n[jobs]\ndisposition_cron = "5 22 * * 1-5"\naudit_cron = ""\n')
    settings = config.load(archive_dir)
    assert (settings.audit_cron, settings.disposition_cron) == ("", "5 22 * * 1-5")
    path.write_text(base + '\n[jobs]\ndisposition_cron = "every night"\n')
    with pytest.raises(LongwatchError) as exc:
        config.load(archive_dir)
    assert exc.value.code == "A003" and "disposition_cron" in str(exc.value)


# -- PostgreSQL: queued, and a real worker killed mid-job -------------------------------------------
@pytest.fixture
def pg_archive(pg_url, archive):
    """The usual test archive on a fresh PostgreSQL database (so jobs are queued); list it before four_seconds."""
    jobs.apply_schema(archive)
    return archive


def test_worker_app_has_the_new_kinds_on_the_heavy_queue_and_a_configured_periodic_disposition(pg_archive):
    app = jobs.make_app(pg_archive)
    assert {p.task.name: p.cron for p in app.periodic_registry.periodic_tasks.values()} == {
        "periodic_audit": jobs.AUDIT_CRON, "periodic_disposition": jobs.DISPOSITION_CRON}
    path = pg_archive.root / "longwatch.toml"
    path.write_text(path.read_text() + '\n[jobs]\ndisposition_cron = "5 22 * * *"\naudit_cron = ""\n')
    app = jobs.make_app(Archive.open(pg_archive.root))
    for name in ("window", "redact", "export", "dispose", "dispose_due"):
        assert app.tasks[name].queue == jobs.HEAVY
    [periodic] = app.periodic_registry.periodic_tasks.values()  # the audit is turned off
    assert (periodic.task.name, periodic.cron, periodic.task.queue) == ("periodic_disposition", "5 22 * * *",
                                                                        jobs.HEAVY)
    assert periodic.configure_kwargs["lock"] == records_tasks.DISPOSE_LOCK  # never beside a `dispose` job


def test_jobs_are_queued_atomically_and_run_by_a_worker(pg_archive, small_clip, tmp_path, frozen_clock):
    frozen_clock(later(60))
    ids = [add_package(pg_archive, small_clip, tmp_path, f"q{i}") for i in range(2)]
    disposition, _plan = dispositions.propose(pg_archive, ALICE, later(60))
    assert disposition is not None
    with pytest.raises(RuntimeError), pg_archive.catalog.session() as s:  # rolled back: no job
        records_tasks.enqueue_disposition(pg_archive, disposition.id, session=s)
        raise RuntimeError("the approval failed")
    assert jobs.list_jobs(pg_archive) == []
    not_yet = records_tasks.enqueue_disposition(pg_archive, disposition.id)
    jobs.run_worker(pg_archive, [jobs.HEAVY], wait=False)
    [row] = jobs.list_jobs(pg_archive)
    assert (row.id, row.state, row.code) == (not_yet, "failed", "H006")  # not approved: refused, not retried
    dispositions.approve(pg_archive, disposition.id, BOB, later(60))
    job = records_tasks.enqueue_disposition(pg_archive, disposition.id)
    assert records_tasks.enqueue_disposition(pg_archive, disposition.id) == job  # waiting already: the same job
    recent = add_package(pg_archive, small_clip, tmp_path, "recent", start=later(50))  # not due
    window_job, window_id = preservation_tasks.enqueue_window(pg_archive, recent, "2026-02-20T00:00:00Z",
                                                              "2026-02-20T00:00:01Z")
    assert isinstance(window_job, int) and pg_archive.catalog.get(window_id) is None
    jobs.run_worker(pg_archive, [jobs.HEAVY], wait=False)
    states = {r.id: (r.state, r.message) for r in jobs.list_jobs(pg_archive)}
    assert states[job][0] == states[window_job][0] == "done", states
    assert [status(pg_archive, p) for p in ids] == ["disposed", "disposed"]
    assert archive_has(pg_archive, window_id)


def archive_has(archive: Archive, package_id: str) -> bool:
    return archive.catalog.get(package_id) is not None and archive.storage().has_package(package_id)


def _worker(root: Path, log: Path, fault: str = "") -> subprocess.Popen[bytes]:
    env = {**os.environ, "LONGWATCH_FAULT": fault} if fault else os.environ.copy()
    with log.open("ab") as out:
        return subprocess.Popen([*LONGWATCH, "-A", str(root), "-q", "worker", "--queues", "heavy"], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env)


def _run_killed_then_finished(archive: Archive, job_id: int, log: Path, fault: str) -> None:
    """A worker that SIGKILLs itself at the fault point mid-job, then a clean one that takes the stalled job."""
    victim = _worker(archive.root, log, fault=fault)
    try:
        assert victim.wait(180) == -signal.SIGKILL, log.read_text()[-3000:]
    finally:
        if victim.poll() is None:
            victim.kill()
    [row] = [r for r in jobs.list_jobs(archive) if r.id == job_id]
    assert row.state == "running"  # held by a dead worker
    rescuer = _worker(archive.root, log)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            [row] = [r for r in jobs.list_jobs(archive) if r.id == job_id]
            if row.state in ("done", "failed"):
                break
            assert rescuer.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
    finally:
        rescuer.send_signal(signal.SIGTERM)
        try:
            rescuer.wait(30)
        except subprocess.TimeoutExpired:
            rescuer.kill()
            rescuer.wait()
    assert row.state == "done", (row, log.read_text()[-3000:])
    assert "stalled; retrying it" in log.read_text()


@pytest.mark.slow
def test_a_worker_killed_mid_export_leaves_no_half_bag_and_the_rerun_finishes_once(pg_archive, four_seconds,
                                                                                     tmp_path):
    out = tmp_path / "exports" / "case-77"
    job, export_id = evidence_tasks.enqueue_export(pg_archive,
                                                   Request(RECIPIENT, package_ids=[four_seconds]),
                                                   out, tmp_path / "exports" / "case-77.zip")
    # killed after the bag, the ZIP and the transfer event are written, before the rename
    _run_killed_then_finished(pg_archive, job, tmp_path / "worker.log", "export-before-rename")
    assert sorted(p.name for p in out.parent.iterdir()) == ["case-77", "case-77.zip"]  # no partial left
    assert json.loads((out / "export.json").read_text())["export_id"] == export_id
    assert _transfers(pg_archive, four_seconds, export_id) == 1
    assert verify_export(out, [pg_archive.certificate]).ok
    assert verify_export(out.with_suffix(".zip"), [pg_archive.certificate]).ok
    with pg_archive.catalog.engine.connect() as c:
        assert c.execute(text("SELECT attempts FROM procrastinate_jobs WHERE id = :id"), {"id": job}).scalar() >= 1


@pytest.mark.slow
def test_a_worker_killed_mid_redaction_leaves_one_package_after_the_rerun(pg_archive, four_seconds, tmp_path):
    boxes = _boxes(tmp_path)
    job, redacted_id = preservation_tasks.enqueue_redaction(pg_archive, four_seconds, faces=False, boxes_file=boxes)
    # killed once the package is on storage, before its catalog row and ledger events
    _run_killed_then_finished(pg_archive, job, tmp_path / "worker.log", "after-publish")
    assert set(pg_archive.catalog.all_ids()) == {four_seconds, redacted_id}
    assert archive_has(pg_archive, redacted_id)
    history = custody.Ledger.for_archive(pg_archive).history(redacted_id)
    assert [e["type"] for _, e, _ in history].count("redaction") == 1
    staging = pg_archive.storage().root / ".staging"
    assert not staging.exists() or list(staging.iterdir()) == []
    result = subprocess.run([*LONGWATCH, "-A", str(pg_archive.root), "verify", redacted_id], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


EXPORT_ARGS = ("--agency", "Seoul Jung-gu Police", "--legal-basis", "Criminal Procedure Act art. 106",
               "--purpose", "investigation")


def test_queue_option_runs_in_process_on_sqlite(lw, archive, four_seconds, tmp_path):
    out = tmp_path / "cli-export"
    result = lw("export", four_seconds, "-o", str(out), *EXPORT_ARGS, "--queue", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["path"] == str(out) and (out / "export.json").is_file()
    result = lw("window", four_seconds, "--from", "2026-03-03T05:00:01Z", "--to", "2026-03-03T05:00:02Z",
                "--queue", "--json")
    assert result.exit_code == 0 and "queued" not in json.loads(result.output)


def test_queue_option_queues_jobs_on_postgresql(pg_archive, lw, four_seconds, tmp_path, small_clip, frozen_clock):
    out = tmp_path / "cli-export"
    result = lw("export", four_seconds, "-o", str(out), *EXPORT_ARGS, "--queue", "--json")
    assert result.exit_code == 0, result.output
    queued = json.loads(result.output)
    assert queued["queued"] and queued["task"] == "export" and not out.exists()
    window = json.loads(lw("window", four_seconds, "--from", "2026-03-03T14:00:01+09:00", "--to",
                           "2026-03-03T05:00:02Z", "--queue", "--json").output)
    boxes = _boxes(tmp_path)
    redaction = json.loads(lw("redact", four_seconds, "--boxes", str(boxes), "--queue", "--json").output)
    refused = lw("export", four_seconds, "-o", str(tmp_path / "x"), "--agency", "A", "--legal-basis", "B",
                 "--purpose", "C", "--queue", "--camera", "cam-09")
    assert refused.exit_code == 13  # E003 now, not a job that fails later
    frozen_clock(later(60))
    add_package(pg_archive, small_clip, tmp_path, "old")
    disposition, _plan = dispositions.propose(pg_archive, ALICE, later(60))
    assert disposition is not None
    assert lw("dispose", "execute", disposition.id, "--queue").exit_code == 12  # H006: not approved
    dispositions.approve(pg_archive, disposition.id, BOB, later(60))
    dispose = json.loads(lw("dispose", "execute", disposition.id[:8], "--queue", "--json").output)
    [row] = [r for r in jobs.list_jobs(pg_archive) if r.id == window["job_id"]]
    assert (row.task, row.args["start"], row.args["end"]) == ("window", "2026-03-03T05:00:01Z",
                                                              "2026-03-03T05:00:02Z")
    jobs.run_worker(pg_archive, [jobs.HEAVY], wait=False)
    states = {r.id: r.state for r in jobs.list_jobs(pg_archive)}
    assert [states[j["job_id"]] for j in (queued, window, redaction, dispose)] == ["done"] * 4
    assert verify_export(out, [pg_archive.certificate]).ok
    assert archive_has(pg_archive, window["package_id"]) and archive_has(pg_archive, redaction["package_id"])
    assert dispositions.get_disposition(pg_archive, disposition.id)[0].status == "executed"


def test_the_periodic_disposition_runs_in_a_worker(pg_archive, small_clip, tmp_path, frozen_clock):
    """The job procrastinate defers at each cron tick (``periodic_disposition`` with its timestamp), run for real."""
    frozen_clock(later(60))
    [pid] = [add_package(pg_archive, small_clip, tmp_path, "due")]
    disposition, _plan = dispositions.propose(pg_archive, ALICE, later(60))
    assert disposition is not None
    dispositions.approve(pg_archive, disposition.id, BOB, later(60))
    with pg_archive.catalog.session() as s:
        tick = jobs._defer(s, {"queue": jobs.HEAVY, "task": "periodic_disposition", "lock": None,
                               "queueing_lock": None, "args": json.dumps({"timestamp": int(time.time())})})
    jobs.run_worker(pg_archive, [jobs.HEAVY], wait=False)
    [row] = jobs.list_jobs(pg_archive)
    assert (row.id, row.state) == (tick, "done")
    assert status(pg_archive, pid) == "disposed"
    assert dispositions.get_disposition(pg_archive, disposition.id)[0].status == "executed"


def _event(archive: Archive, package_id: str, vendor_id: str):
    from datetime import timedelta

    from longwatch.core.events import record as events

    return events.record(archive, camera="cam-09", type="fall", start=START + timedelta(seconds=1),
                         end=START + timedelta(seconds=2), confidence=0.97, source="control-centre",
                         vendor_event_id=vendor_id, package_id=package_id)


def test_an_event_window_job_is_idempotent(archive, four_seconds):
    """In-process (SQLite) the window is cut as the event is recorded; the job run again changes nothing."""
    recorded = _event(archive, four_seconds, "ev-1")
    assert recorded.window and archive_has(archive, recorded.window)
    assert jobs.run_task(archive, "event_window", {"event_id": recorded.event.id}) == {
        "event_id": recorded.event.id, "window": recorded.window}
    assert len(archive.catalog.all_ids()) == 2


def test_an_event_queues_its_window_in_its_own_transaction_on_postgresql(pg_archive, four_seconds):
    from longwatch.core.catalog.models import DetectedEvent, EventWindow

    recorded = _event(pg_archive, four_seconds, "ev-2")
    assert recorded.window is None  # a worker cuts it
    [job] = jobs.list_jobs(pg_archive)
    assert (job.task, job.args, job.queue) == ("event_window", {"event_id": recorded.event.id}, jobs.HEAVY)
    # killed once the window package is on storage, before it is catalogued or linked to the event
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LONGWATCH_FAULT", "after-publish")
        patch.setattr(os, "kill", lambda pid, sig: (_ for _ in ()).throw(SystemExit("killed")))
        with pytest.raises(SystemExit):
            jobs.run_task(pg_archive, "event_window", {"event_id": recorded.event.id})
    assert pg_archive.catalog.all_ids() == [four_seconds]
    jobs.run_worker(pg_archive, [jobs.HEAVY], wait=False)  # the retry: the package the attempt published
    assert [(r.state, r.message) for r in jobs.list_jobs(pg_archive)] == [("done", "")]
    with pg_archive.catalog.session() as s:
        window = s.get(DetectedEvent, recorded.event.id).window_package_id
        assert [w.package_id for w in s.query(EventWindow)] == [window]
    assert window and set(pg_archive.catalog.all_ids()) == {four_seconds, window}
    assert not pg_archive.storage().sweep()


def test_approve_execute_runs_at_once_on_sqlite(lw, archive, small_clip, tmp_path, frozen_clock, signed_in):
    frozen_clock(later(60))
    pid = add_package(archive, small_clip, tmp_path, "old")
    disposition, _plan = dispositions.propose(archive, ALICE, later(60))
    assert disposition is not None
    result = lw("dispose", "approve", disposition.id[:8], "--execute", env=signed_in("bob"))
    assert result.exit_code == 0, result.output
    assert "1 package destroyed;" in result.output and status(archive, pid) == "disposed"


def test_approve_execute_queues_the_execution_in_the_approvals_transaction(pg_archive, lw, small_clip, tmp_path,
                                                                          frozen_clock, signed_in):
    frozen_clock(later(60))
    pid = add_package(pg_archive, small_clip, tmp_path, "old")
    disposition, _plan = dispositions.propose(pg_archive, ALICE, later(60))
    assert disposition is not None
    refused = lw("dispose", "approve", disposition.id, "--execute", env=signed_in("alice"))
    assert refused.exit_code == 12 and jobs.list_jobs(pg_archive) == []  # H004: no approval, no job
    result = lw("dispose", "approve", disposition.id, "--execute", env=signed_in("bob"))
    assert result.exit_code == 0, result.output
    [job] = jobs.list_jobs(pg_archive)
    assert (job.task, job.args["disposition_id"], job.args["actor"]) == ("dispose", disposition.id, "bob")
    assert f"Job {job.id} queued" in result.output and status(pg_archive, pid) == "stored"
    jobs.run_worker(pg_archive, [jobs.HEAVY], wait=False)
    assert status(pg_archive, pid) == "disposed"
    key = dispositions.get_disposition(pg_archive, disposition.id)[0].certificate
    cert = json.loads(stored_file(pg_archive, key).read_text())
    assert (cert["approver"]["name"], cert["executor"]["name"]) == ("bob", "bob")


def test_missing_copies_are_retried_other_job_errors_are_final():
    assert not jobs.permanent(LongwatchError("J007", package_id="p"))  # an off-site store may come back
    assert jobs.permanent(LongwatchError("J005", job_id=1, state="done"))
    assert jobs.permanent(LongwatchError("E006", detail="x"))


def _searched_request(archive: Archive) -> str:
    from longwatch.core.public import access_requests as req_api

    req = req_api.create(archive, "pipa-access", requester="김민수", identity_method="주민등록증 대조 (창구)",
                         claimed_start=START, camera="cam-09", claimed_end=START + timedelta(minutes=1))
    return req_api.search(archive, req.number, actor="clerk").number


def test_a_request_mask_job_rerun_after_a_kill_masks_once(archive, four_seconds):
    """Its copies' ids are chosen at enqueueing: a copy a killed attempt made is found, the step recorded once."""
    from longwatch.core.preservation import redact
    from longwatch.core.public import access_requests as req_api

    number = _searched_request(archive)
    [found] = req_api.package_ids(req_api.get(archive, number))
    args = {"number": number, "result_ids": {found: str(uuid.uuid4())}, "keep": [], "actor": "clerk"}
    # the killed attempt got as far as publishing the masked copy
    redact.redact(archive, found, faces=True, package_id_out=args["result_ids"][found])
    done = jobs.run_task(archive, "request_mask", args)
    assert done == {"number": number, "status": "ready", "packages": [args["result_ids"][found]]}
    assert jobs.run_task(archive, "request_mask", args) == done  # finished: a rerun changes nothing
    req = req_api.get(archive, number)
    assert [s.step for s in req.steps].count("masked") == 1
    assert len([p for p in archive.catalog.packages() if p.id != found]) == 1  # one masked copy, not two


def test_request_masking_is_queued_on_postgresql(pg_archive, lw, four_seconds):
    from longwatch.core.public import access_requests as req_api

    number = _searched_request(pg_archive)
    result = lw("requests", "mask", number, "--queue", "--json")
    assert result.exit_code == 0, result.output
    queued = json.loads(result.output)
    assert queued["queued"] and queued["task"] == "request_mask"
    assert req_api.get(pg_archive, number).status == "searching"  # nothing yet: the worker masks
    jobs.run_worker(pg_archive, [jobs.HEAVY], wait=False)
    assert {r.id: r.state for r in jobs.list_jobs(pg_archive)}[queued["job_id"]] == "done"
    req = req_api.get(pg_archive, number)
    assert req.status == "ready" and [s.step for s in req.steps].count("masked") == 1
    again = lw("requests", "mask", number, "--queue")  # ready now: refused at once, not by a worker
    assert again.exit_code != 0 and "U002" in again.output
