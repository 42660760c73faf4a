"""Issue 21, item 1: every state change on the command line is made by an authenticated account.

The CLI signs in with the web's accounts (``longwatch login``, a stored token
readable by its OS user only), or acts through an administrator's mapping of an
OS user to an account; roles are the web's; the two-person rule compares
accounts; no path destroys footage on one account's word; a queued job is
credited to the account that asked, not to the worker's OS user.
"""

from __future__ import annotations

import json
import stat

import pytest
from conftest import error_codes, sign_in, stored_file, unique_copy
from retention_helpers import add_package, on_storage, status

from longwatch.core import accounts, custody
from longwatch.core.jobs import queue as jobs
from longwatch.core.records import dispositions
from longwatch.errors import LongwatchError

PASSWORD = "correct horse battery"


def ledger_entries(archive) -> list[dict]:
    return list(custody.Ledger.for_archive(archive).entries())


def add_user(lw, username: str, role: str) -> None:
    result = lw("users", "add", username, "--role", role, "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def whoami(lw, env: dict[str, str] | None = None) -> dict:
    result = lw("whoami", "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_new_archive_has_one_administrator_the_os_user_who_made_it(lw_bare, tmp_path):
    root = tmp_path / "fresh"
    result = lw_bare("init", str(root), "--language", "en")
    assert result.exit_code == 0, result.output
    me = accounts.os_user()
    assert f"First administrator: account {me}" in result.output
    data = json.loads(lw_bare("-A", str(root), "whoami", "--json").stdout)
    assert data == {"username": me, "role": "administrator", "os_user": me, "by": "os-user"}
    # the mapping is on the record, and the account cannot sign in until it has a password
    from longwatch.core.archive import Archive

    archive = Archive.open(root)
    try:
        [mapped] = [e for e in ledger_entries(archive) if e["extra"].get("action") == "os user mapped"]
        assert (mapped["extra"]["os_user"], mapped["extra"]["account"]) == (me, me)
        assert [m[:2] for m in accounts.os_user_mappings(archive.catalog)] == [(me, me)]
        with pytest.raises(LongwatchError) as info:
            accounts.authenticate(archive.catalog, me, "", "test")
        assert info.value.code == "W001"
    finally:
        archive.close()


def test_login_whoami_logout(lw, archive):
    add_user(lw, "bob", "records-manager")
    assert whoami(lw)["by"] == "os-user"
    wrong = lw("login", "bob", "--password-stdin", input="not the password\n")
    assert wrong.exit_code != 0 and error_codes(wrong.stderr) == ["W001"]
    result = lw("login", "bob", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "Signed in as bob" in result.output
    path = accounts.token_file(archive.root)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # only this OS user can read it
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    token = path.read_text().strip()
    assert accounts.token_account(archive.catalog, token).username == "bob"
    assert whoami(lw) == {"username": "bob", "role": "records-manager", "os_user": accounts.os_user(),
                          "by": "login"}
    assert lw("logout").exit_code == 0
    assert not path.exists()
    assert accounts.token_account(archive.catalog, token) is None  # revoked, not only forgotten
    assert whoami(lw)["by"] == "os-user"


def test_a_stale_login_is_refused_not_replaced_by_the_os_user(lw, archive):
    add_user(lw, "bob", "records-manager")
    assert lw("login", "bob", "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    accounts.set_active(archive.catalog, "bob", False)  # disabling revokes every token
    result = lw("whoami")
    assert result.exit_code != 0 and error_codes(result.stderr) == ["W031"]


def test_os_user_mappings_are_made_by_an_administrator_and_recorded(lw, archive, signed_in):
    add_user(lw, "svc-worker", "operator")
    refused = lw("users", "map-os-user", "longwatch-svc", "svc-worker", env=signed_in("olive", "operator"))
    assert refused.exit_code != 0 and error_codes(refused.stderr) == ["W009"]
    result = lw("users", "map-os-user", "longwatch-svc", "svc-worker")
    assert result.exit_code == 0, result.output
    assert ("longwatch-svc", "svc-worker", accounts.os_user()) in [m[:3] for m in
                                                                    accounts.os_user_mappings(archive.catalog)]
    listed = lw("users", "map-os-user", "longwatch-svc").stdout
    assert "longwatch-svc\tsvc-worker" in listed
    events = [e for e in ledger_entries(archive) if e["extra"].get("action") == "os user mapped"]
    assert events and events[-1]["extra"]["os_user"] == "longwatch-svc"
    assert events[-1]["extra"]["account"] == "svc-worker"
    assert events[-1]["agents"][1]["name"] == accounts.os_user()  # the administrator who mapped it
    assert events[-1]["extra"]["host"]


def test_an_unmapped_os_user_that_has_not_signed_in_changes_nothing(lw, archive, small_clip, tmp_path):
    me = accounts.os_user()
    assert lw("users", "map-os-user", me, "--remove").exit_code == 0
    result = lw("ingest", str(unique_copy(small_clip, tmp_path / "x.mp4")))
    assert result.exit_code != 0 and error_codes(result.stderr) == ["W030"]
    assert f"longwatch users map-os-user {me}" in result.stderr
    assert archive.catalog.all_ids() == []
    assert lw("list", "--json").exit_code == 0  # reading needs no account


@pytest.mark.parametrize("role,command,allowed", [
    ("operator", ("users", "add", "eve", "--role", "administrator", "--password-stdin"), False),
    ("auditor", ("users", "list"), True),
    ("auditor", ("users", "role", "bob", "operator"), False),
    ("investigator", ("hold", "release", "nope", "--reason", "r"), False),
    ("operator", ("dispose", "propose"), False),
    ("records-manager", ("dispose", "propose"), True),
    ("auditor", ("requests", "search", "2026-0001"), False),
    ("investigator", ("replicate",), False),
])
def test_roles_are_enforced_as_on_the_web(lw, archive, signed_in, role, command, allowed):
    """Each command needs the permission its page needs (core/accounts.py PERMISSIONS): W009 otherwise."""
    sign_in(archive, "bob", "records-manager")
    result = lw(*command, env=signed_in(f"user-{role}", role), input=PASSWORD + "\n")
    codes = error_codes(result.stderr)
    if allowed:
        assert "W009" not in codes, result.output
    else:
        assert codes == ["W009"], result.output


def test_manual_delete_needs_a_second_records_manager(lw, archive, small_clip, tmp_path, signed_in):
    pid = add_package(archive, small_clip, tmp_path, "a")
    alice, bob = signed_in("alice"), signed_in("bob")
    refused = lw("dispose", "delete", pid[:8], "--reason", "recorded by mistake", env=alice)
    assert refused.exit_code != 0 and error_codes(refused.stderr) == ["H018"]
    assert status(archive, pid) == "stored" and on_storage(archive, pid)
    disposition = dispositions.open_disposition_of(archive, pid)
    assert disposition is not None and disposition.proposer == "alice"
    # asking again, or executing before approval, deletes nothing
    assert error_codes(lw("dispose", "delete", pid[:8], "--reason", "x", env=alice).stderr) == ["H018"]
    assert error_codes(lw("dispose", "execute", disposition.id[:8], env=alice).stderr) == ["H006"]
    # the proposer cannot approve (a second token of the same account is the same account)
    assert error_codes(lw("dispose", "approve", disposition.id[:8], env=signed_in("alice")).stderr) == ["H004"]
    # an administrator is not a records manager
    assert error_codes(lw("dispose", "approve", disposition.id[:8]).stderr) == ["H005"]
    assert status(archive, pid) == "stored"
    assert lw("dispose", "approve", disposition.id[:8], env=bob).exit_code == 0
    result = lw("dispose", "delete", pid[:8], "--reason", "recorded by mistake", env=alice)
    assert result.exit_code == 0, result.output
    assert status(archive, pid) == "disposed" and not on_storage(archive, pid)
    [deleted] = [e for _s, e, _l in custody.Ledger.for_archive(archive).history(pid) if e["type"] == "deletion"]
    assert [(a["name"], a["role"]) for a in deleted["agents"][1:]] == [("alice", "implementer"),
                                                                      ("bob", "authorizer")]
    assert deleted["extra"]["reason"] == "manual" and deleted["extra"]["disposition"] == disposition.id
    key = dispositions.get_disposition(archive, disposition.id)[0].certificate
    cert = json.loads(stored_file(archive, key).read_text())
    assert (cert["proposer"]["name"], cert["approver"]["name"], cert["executor"]["name"]) == ("alice", "bob",
                                                                                              "alice")


def test_manual_delete_of_a_held_package_is_refused_at_once(lw, archive, small_clip, tmp_path, signed_in):
    pid = add_package(archive, small_clip, tmp_path, "a")
    assert lw("hold", "place", "--package", pid, "--owner", "court", "--reason", "case").exit_code == 0
    result = lw("dispose", "delete", pid[:8], "--reason", "x", env=signed_in("alice"))
    assert error_codes(result.stderr) == ["H003"]
    assert dispositions.open_disposition_of(archive, pid) is None


def test_a_queued_job_is_credited_to_the_account_that_asked(pg_url, lw, archive, small_clip, tmp_path):
    """The worker runs as the OS user (mapped to the administrator here) but acts for the job's requester."""
    jobs.apply_schema(archive)
    alice = sign_in(archive, "alice", "operator")
    clip = unique_copy(small_clip, tmp_path / "cam-01_20260303T050000Z.mp4")
    result = lw("jobs", "ingest", str(clip), "--camera", "cam-01", env=alice)
    assert result.exit_code == 0, result.output
    [job] = jobs.list_jobs(archive)
    assert job.args[jobs.REQUESTED_BY] == "alice"  # the job row names who asked
    jobs.run_worker(archive, None, wait=False)
    [pid] = archive.catalog.all_ids()
    people = {a["name"] for _s, e, _l in custody.Ledger.for_archive(archive).history(pid)
              for a in e["agents"] if a["type"] == "person"}
    assert people == {"alice"}, people


def test_reindex_brings_back_the_os_user_mappings(lw_bare, tmp_path, small_clip):
    """Accounts live in the catalog, but who may act as whom is in the ledger: losing the catalog loses neither."""
    root = tmp_path / "a"
    assert lw_bare("init", str(root), "--language", "en").exit_code == 0
    assert lw_bare("-A", str(root), "users", "add", "svc", "--role", "operator", "--password-stdin",
                   input=PASSWORD + "\n").exit_code == 0
    assert lw_bare("-A", str(root), "users", "map-os-user", "longwatch-svc", "svc").exit_code == 0
    assert lw_bare("-A", str(root), "ingest", str(unique_copy(small_clip, tmp_path / "c.mp4"))).exit_code == 0
    (root / "catalog.sqlite").unlink()
    assert lw_bare("-A", str(root), "reindex").exit_code == 0
    me = accounts.os_user()
    data = json.loads(lw_bare("-A", str(root), "whoami", "--json").stdout)
    assert (data["username"], data["role"], data["by"]) == (me, "administrator", "os-user")
    from longwatch.core.archive import Archive

    archive = Archive.open(root)
    try:
        assert sorted(m[:2] for m in accounts.os_user_mappings(archive.catalog)) == sorted(
            [(me, me), ("longwatch-svc", "svc")])
        assert accounts.account_named(archive.catalog, "svc").role == "operator"
    finally:
        archive.close()


def test_sharing_a_case_is_for_records_managers(lw, archive):
    """Sharing a case opens its footage to an investigator: an investigator or an operator cannot do it."""
    assert lw("cases", "add", "2026-J-1").exit_code == 0  # the administrator the OS user is mapped to
    sign_in(archive, "ivy", "investigator")
    for who, role in (("ivy", "investigator"), ("otto", "operator")):
        refused = lw("cases", "share", "2026-J-1", "ivy", env=sign_in(archive, who, role))
        assert refused.exit_code != 0 and error_codes(refused.stderr) == ["W009"], refused.output
    assert json.loads(lw("cases", "--json").output)["cases"][0]["members"] == []
    done = lw("cases", "share", "2026-J-1", "ivy", env=sign_in(archive, "rita", "records-manager"))
    assert done.exit_code == 0, done.output
    assert json.loads(lw("cases", "--json").output)["cases"][0]["members"] == ["ivy"]
    attach = lw("cases", "add", "2026-J-2", env=sign_in(archive, "ivy", "investigator"))
    assert error_codes(attach.stderr) == ["W009"]
