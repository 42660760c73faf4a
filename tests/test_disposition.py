"""Disposition: two-person approval, execution that removes every copy, tombstones, signed certificates,
crash resumption, and a full disk that refuses writes instead of deleting."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import error_codes, frozen_longwatch, run_longwatch, sign_in, stored_file, unique_copy
from retention_helpers import ALICE, BOB, add_package, later, on_storage, status

from longwatch.core import custody
from longwatch.core.catalog.models import Clip, DispositionItem
from longwatch.core.records import actors, assignment, certificates, dispositions, holds
from longwatch.core.storage.objects import objects
from longwatch.errors import LongwatchError

NOW = "2026-03-01T00:00:00Z"


def proposed(archive, small_clip, tmp_path, n=1):
    ids = [add_package(archive, small_clip, tmp_path, f"p{i}") for i in range(n)]
    disposition, _plan = dispositions.propose(archive, ALICE, later(60))
    assert disposition is not None
    return disposition, ids


def test_self_approval_is_refused(archive, small_clip, tmp_path):
    disposition, _ids = proposed(archive, small_clip, tmp_path)
    with pytest.raises(LongwatchError) as info:
        dispositions.approve(archive, disposition.id, actors.Actor("Alice", "records-manager"), later(60))
    assert info.value.code == "H004"
    with pytest.raises(LongwatchError) as info:
        dispositions.approve(archive, disposition.id, actors.Actor("carol", "operator"), later(60))
    assert info.value.code == "H005"
    with pytest.raises(LongwatchError) as info:
        dispositions.execute(archive, disposition.id, BOB, later(60))
    assert info.value.code == "H006"  # not approved yet
    dispositions.approve(archive, disposition.id, BOB, later(60))
    with pytest.raises(LongwatchError) as info:
        dispositions.approve(archive, disposition.id, actors.Actor("dave", "records-manager"), later(60))
    assert info.value.code == "H006"


def test_cli_self_approval_refused(lw, archive, small_clip, tmp_path, frozen_clock, signed_in):
    frozen_clock(NOW)
    add_package(archive, small_clip, tmp_path, "a")
    erin = signed_in("erin")
    out = json.loads(lw("dispose", "propose", "--json", env=erin).stdout)
    result = lw("dispose", "approve", out["disposition_id"][:8], env=signed_in("erin"))  # a second token: same account
    assert result.exit_code == 12 and error_codes(result.stderr) == ["H004"]
    result = lw("dispose", "approve", out["disposition_id"][:8], env=signed_in("frank"))
    assert result.exit_code == 0, result.output


def test_invented_names_can_no_longer_act(lw, archive, small_clip, tmp_path, frozen_clock):
    """Issue 21: `--as mallory --role records-manager` and LONGWATCH_USER named anyone; neither exists now."""
    frozen_clock(NOW)
    add_package(archive, small_clip, tmp_path, "a")
    result = lw("dispose", "propose", "--as", "mallory", "--role", "records-manager")
    assert result.exit_code == 2 and "No such option" in result.output
    out = json.loads(lw("dispose", "propose", "--json", env={"LONGWATCH_USER": "mallory",
                                                             "LONGWATCH_ROLE": "records-manager"}).stdout)
    [entry] = [d for d in json.loads(lw("dispose", "list", "--json").stdout)["dispositions"]]
    assert entry["proposer"] != "mallory"  # the environment names nobody: the OS user's mapped account acted
    # an invented second name cannot approve: the approver must be an account, and not the proposer
    result = lw("dispose", "approve", out["disposition_id"][:8], env={"LONGWATCH_USER": "ghost",
                                                                     "LONGWATCH_ROLE": "records-manager"})
    assert result.exit_code != 0 and error_codes(result.stderr) == ["H005"]  # the mapped administrator
    result = lw("dispose", "approve", out["disposition_id"][:8], env={"LONGWATCH_TOKEN": "lwt_invented"})
    assert result.exit_code != 0 and error_codes(result.stderr) == ["W031"]
    assert dispositions.get_disposition(archive, out["disposition_id"])[0].status == "proposed"


def test_full_disposition_removes_every_copy_and_signs_a_certificate(lw, archive, small_clip, tmp_path,
                                                                    frozen_clock, signed_in):
    frozen_clock(NOW)
    # a second storage location holding a replica, and staging left behind by a killed writer
    config = archive.root / "longwatch.toml"
    config.write_text(config.read_text() + '\n[storage.locations.mirror]\nadapter = "local"\npath = "mirror"\n'
                      'durable = false\n')
    keep = add_package(archive, small_clip, tmp_path, "keep", start=later(40))
    gone = add_package(archive, small_clip, tmp_path, "gone")
    archive = type(archive).open(archive.root)
    src = archive.storage("primary").local_path(gone)
    dst = archive.storage("mirror").local_path(gone)
    shutil.copytree(src, dst)
    assert on_storage(archive, gone) and archive.storage("mirror").has_package(gone)

    out = json.loads(lw("retention", "run", "--json", env=signed_in("alice")).stdout)
    assert out["due"]["continuous"]["count"] == 1
    did = out["disposition_id"]
    bob = signed_in("bob")
    assert lw("dispose", "approve", did, env=bob).exit_code == 0
    result = lw("dispose", "execute", did, "--json", env=bob)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["deleted"] == [gone]
    assert not archive.storage("primary").has_package(gone) and not archive.storage("mirror").has_package(gone)
    assert on_storage(archive, keep)
    # the tombstone keeps the digests
    assert status(archive, gone) == "disposed"
    with archive.catalog.session() as s:
        clips = s.query(Clip).filter(Clip.package_id == gone).all()
    assert clips and len(clips[0].sha256) == 64
    assert json.loads(lw("list", "--json").stdout)["packages"][-1]["status"] in ("disposed", "stored")
    # the deletion event names proposer-approved execution with the authorizer
    events = [e for _s, e, _l in custody.Ledger.for_archive(archive).history(gone) if e["type"] == "deletion"]
    assert len(events) == 1
    assert {a["role"] for a in events[0]["agents"]} >= {"implementer", "authorizer"}
    assert sorted(events[0]["extra"]["locations"]) == ["mirror", "primary"]
    # proposed, approved, executed: all three in the package's timeline, with who did each
    steps = [(e["type"], e["extra"].get("action"), [(a["name"], a["role"]) for a in e["agents"][1:]])
             for _s, e, _l in custody.Ledger.for_archive(archive).history(gone)
             if e["extra"].get("disposition") == did]
    assert steps == [("policy assignment", "disposition proposed", [("alice", "implementer")]),
                     ("policy assignment", "disposition approved", [("bob", "authorizer")]),
                     ("deletion", None, [("bob", "implementer"), ("bob", "authorizer")]),
                     ("digital signature generation", None, [("bob", "implementer")])]  # the certificate
    assert not [e for _s, e, _l in custody.Ledger.for_archive(archive).history(keep)
                if e["extra"].get("disposition") == did]
    # the certificate: JSON, detached CMS, readable HTML
    cert = stored_file(archive, report["certificate"])
    body = json.loads(cert.read_text())
    (entry,) = body["packages"]
    assert entry["package_id"] == gone and entry["record_class"] == "continuous"
    assert entry["legal_basis"].startswith("Personal Information Protection Act")
    assert entry["files"][0]["sha256"] == clips[0].sha256
    assert body["proposer"]["name"] == "alice" and body["approver"]["name"] == "bob"
    assert body["schedule"]["id"] == "kr-public-default"
    html = cert.with_suffix(".html").read_text()
    assert gone in html and "파기 확인서" in html
    # longwatch verify accepts it, and so does dispose certificate --verify
    ok = lw("verify", str(cert))
    assert ok.exit_code == 0 and "OK destruction certificate" in ok.stdout
    # in the store, not the archive folder; `dispose certificate ID -o DIR` copies it out
    assert report["certificate"] == f"certificates/{did}.json" and not (archive.root / "retention").exists()
    assert lw("dispose", "certificate", did[:8]).stdout.strip() == report["certificate"]
    assert json.loads(lw("dispose", "certificate", did[:8], "--verify", "--json").stdout)["ok"] is True
    fetched = lw("dispose", "certificate", did[:8], "-o", str(tmp_path / "out"))
    assert fetched.exit_code == 0 and fetched.stdout.strip() == str(tmp_path / "out" / f"{did}.json")
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {f"{did}.json", f"{did}.json.p7s", f"{did}.html"}
    assert (tmp_path / "out" / f"{did}.json").read_bytes() == cert.read_bytes()
    assert lw("verify", str(tmp_path / "out" / f"{did}.json")).exit_code == 0
    stored_ok = lw("verify", report["certificate"])  # the key `show` prints verifies from the store
    assert stored_ok.exit_code == 0 and "OK destruction certificate" in stored_ok.stdout, stored_ok.output
    # verify --all does not miss the tombstone
    assert lw("verify", "--all", "--fast").exit_code == 0
    # show tells what happened to it and where the proof is
    shown = lw("show", gone[:8])
    assert shown.exit_code == 0, shown.output
    assert did in shown.stdout and report["certificate"] in shown.stdout and clips[0].sha256 in shown.stdout
    shown = json.loads(lw("show", gone, "--json").stdout)
    assert shown["status"] == "disposed"
    assert shown["disposition"]["disposition"] == did and shown["disposition"]["approver"] == "bob"
    assert shown["disposition"]["certificate"] == report["certificate"]
    # one changed byte: the signature no longer verifies
    cert.write_bytes(cert.read_bytes().replace(b'"bob"', b'"bib"'))
    bad = lw("verify", str(cert))
    assert bad.exit_code == 1 and error_codes(bad.stderr) == ["H016"]
    lost = cert.with_name("lost.json")
    lost.write_text(json.dumps({"type": "longwatch-destruction-certificate"}))
    assert error_codes(lw("verify", str(lost)).stderr) == ["H016"]


def test_certificate_verifies_away_from_its_archive(lw, archive, small_clip, tmp_path):
    disposition, _ids = proposed(archive, small_clip, tmp_path)
    dispositions.approve(archive, disposition.id, BOB, later(60))
    cert = stored_file(archive, dispositions.execute(archive, disposition.id, BOB, later(61))["certificate"])
    away = tmp_path / "mailed"
    away.mkdir()
    for path in cert.parent.iterdir():
        shutil.copy(path, away / path.name)
    proc = run_longwatch("verify", away / cert.name, "--cert", archive.settings.cert_path, cwd=away)
    assert proc.returncode == 0, proc.stderr
    stranger = run_longwatch("verify", away / cert.name, "--cert", Path(__file__).parent / "nonexistent.pem",
                             cwd=away)
    assert stranger.returncode == 2  # click refuses a missing --cert file


def test_crash_between_deleting_copies_and_the_certificate_is_resumed(archive, small_clip, tmp_path):
    disposition, ids = proposed(archive, small_clip, tmp_path, n=2)
    dispositions.approve(archive, disposition.id, BOB, later(60))
    bob = sign_in(archive, "bob", "records-manager")
    env = {"LONGWATCH_FAULT": "after-delete", **bob}
    proc = frozen_longwatch(NOW, "-A", archive.root, "dispose", "execute", disposition.id, env=env)
    assert proc.returncode == -9, proc.stderr  # killed by SIGKILL right after the copies went
    with archive.catalog.session() as s:
        items = {i.package_id: i.status for i in s.query(DispositionItem).all()}
    first = next(p for p, st in items.items() if st == "deleting")  # the intent record says so
    assert status(archive, first) == "disposing" and not on_storage(archive, first)
    assert not objects(archive).list(certificates.CERTIFICATES)
    # a hold placed while the run is stopped still wins for the package not yet reached
    other = next(p for p in ids if p != first)
    holds.place_hold(archive, ALICE, owner="court", reason="late subpoena", package_id=other, now=later(60))
    proc = frozen_longwatch(NOW, "-A", archive.root, "dispose", "execute", disposition.id, "--json",
                         env=bob)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["deleted"] == [first] and result["held"] == [other]
    assert status(archive, first) == "disposed" and on_storage(archive, other)
    body = json.loads(stored_file(archive, result["certificate"]).read_text())
    assert [p["package_id"] for p in body["packages"]] == [first]
    deletions = [e for _s, e, _l in custody.Ledger.for_archive(archive).history(first) if e["type"] == "deletion"]
    assert len(deletions) == 1


def test_disk_full_refuses_writes_and_deletes_nothing(lw, archive, small_clip, tmp_path, frozen_clock):
    frozen_clock(NOW)
    old = add_package(archive, small_clip, tmp_path, "old")
    event = add_package(archive, small_clip, tmp_path, "event")
    recent = add_package(archive, small_clip, tmp_path, "recent", start=later(50))
    held = add_package(archive, small_clip, tmp_path, "held")
    assignment.assign(archive, ALICE, later(1))
    assignment.assign(archive, ALICE, later(1), [event], event_type="motion")
    holds.place_hold(archive, ALICE, owner="o", reason="r", package_id=held, now=later(1))
    config = archive.root / "longwatch.toml"
    config.write_text(config.read_text().replace("durable = false", f"durable = false\nreserve_bytes = {10**18}"))
    result = lw("ingest", str(unique_copy(small_clip, tmp_path / "new.mp4")))
    assert result.exit_code == 12 and error_codes(result.stderr) == ["H002"]
    assert "nothing was deleted" in result.stderr
    assert all(status(archive, p) == "stored" for p in (old, event, recent, held))
    assert lw("retention", "purge").exit_code == 2  # opt-in only
    alone = lw("retention", "purge", "--emergency")
    assert alone.exit_code != 0 and error_codes(alone.stderr) == ["H021"]  # footage goes only on two accounts' word
    assert all(status(archive, p) == "stored" for p in (old, event, recent, held))
    second = sign_in(archive, "bob", "records-manager")
    out = lw("retention", "purge", "--emergency", "--json", env={"LONGWATCH_APPROVER_TOKEN": second["LONGWATCH_TOKEN"]})
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["removed"] == [old]  # expired, unheld, continuous only
    assert [status(archive, p) for p in (event, recent, held)] == ["stored"] * 3


def test_a_package_is_not_proposed_twice(archive, small_clip, tmp_path):
    first, ids = proposed(archive, small_clip, tmp_path)
    again, _plan = dispositions.propose(archive, ALICE, later(61))
    assert again is None
    extra = add_package(archive, small_clip, tmp_path, "extra")
    again, _plan = dispositions.propose(archive, ALICE, later(62))
    assert again is not None
    assert [i.package_id for i in dispositions.get_disposition(archive, again.id)[1]] == [extra]
    assert first.id != again.id and ids


def test_nothing_due_proposes_nothing(lw, archive, small_clip, tmp_path, frozen_clock, signed_in):
    frozen_clock(NOW)
    add_package(archive, small_clip, tmp_path, "fresh", start=later(59))
    result = lw("retention", "run")
    assert result.exit_code == 0 and "Nothing is due" in result.stdout
    assert lw("dispose", "list", "--json").stdout.count("disposition_id") == 0
    assert error_codes(lw("dispose", "approve", "deadbeef", env=signed_in("bob")).stderr) \
        == ["H007"]


def test_certificates_carry_a_time_stamp_when_a_tsa_is_configured(lw, archive, small_clip, tmp_path, tsa):
    """Issue 21: with a TSA, every destruction certificate carries a token over its signature, dated with it;
    a stripped token or a backdated certificate fails `verify` (H020)."""
    shutil.copy(tsa.cert, archive.root / "tsa.pem")
    with (archive.root / "longwatch.toml").open("a") as fh:
        fh.write(f'\n[custody]\ntsa_url = "{tsa.url}"\ntsa_cert = "tsa.pem"\n')
    disposition, _ids = proposed(archive, small_clip, tmp_path, n=2)
    dispositions.approve(archive, disposition.id, BOB, later(60))
    cert = stored_file(archive, dispositions.execute(archive, disposition.id, BOB)["certificate"])  # executed now
    token = cert.with_name(cert.name + ".p7s.tsr")
    assert token.exists()
    checked = json.loads(lw("verify", str(cert), "--json").stdout)
    assert checked["ok"] and checked["timestamp"]
    token.rename(token.with_suffix(".gone"))
    stripped = lw("verify", str(cert))
    assert stripped.exit_code == 1 and error_codes(stripped.stderr) == ["H020"]

    # a certificate that claims an earlier execution than its token can attest
    late, _ids = proposed(archive, small_clip, tmp_path / "more", n=1)
    dispositions.approve(archive, late.id, BOB, later(60))
    backdated = stored_file(archive, dispositions.execute(archive, late.id, BOB, later(61))["certificate"])
    result = lw("verify", str(backdated))
    assert result.exit_code == 1 and error_codes(result.stderr) == ["H020"]
