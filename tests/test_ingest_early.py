"""Issue 23: `longwatch ingest FILE` copies and digests the file while the command starts up.

The pass (core/preservation/early.py) begins before SQLAlchemy, the catalog and the plugins are imported, and
writes only into the storage location's staging. The pipeline takes it over after every check it makes today;
a command refused before that (no account, a role without the permission) or a file replaced meanwhile
leaves nothing of the pass behind, and the package made through it is the one the pipeline would have made.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import error_codes, unique_copy

from longwatch.cli import INGEST_START_UP
from longwatch.core import accounts
from longwatch.core.aip import verify as verify_mod
from longwatch.core.preservation import early
from longwatch.core.preservation.ingest import IngestRequest, ingest

#: Runs the command in a fresh interpreter and tells, for each early pass started, whether SQLAlchemy and the
#: catalog were loaded at that moment (the real `early.start`, wrapped to look at sys.modules).
WATCHED = """
import json, sys
from longwatch.core.preservation import early
started = []
real_start = early.start
def start(*args, **kwargs):
    found = real_start(*args, **kwargs)
    started.append({"sqlalchemy": "sqlalchemy" in sys.modules, "catalog": "longwatch.core.catalog" in sys.modules,
                    "plugins": "longwatch.core.preservation.tasks" in sys.modules,
                    "package_id": found.package_id if found is not None else None})
    return found
early.start = start
from longwatch.cli import cli
status = 0
try:
    cli(sys.argv[1:], prog_name="longwatch")
except SystemExit as exc:
    status = exc.code
print(json.dumps([status, started]), file=sys.stderr)
"""


def staged(archive) -> list[str]:
    """What the primary location's staging holds (a pass's folder while it is neither published nor discarded)."""
    folder = archive.storage().root / ".staging"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_pass_starts_before_the_catalog_loads_and_its_package_verifies(archive, fresh_clip):
    result = subprocess.run([sys.executable, "-c", WATCHED, "-A", str(archive.root), "ingest", "--json",
                             str(fresh_clip)], capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, "LONGWATCH_LANG": "en"})
    status, started = json.loads(result.stderr.strip().splitlines()[-1])
    assert status == 0, result.stderr
    assert len(started) == 1
    assert started[0]["package_id"], "the pass did not start"
    assert not started[0]["sqlalchemy"] and not started[0]["catalog"] and not started[0]["plugins"]
    stored = json.loads(result.stdout)["packages"]
    assert [p["package_id"] for p in stored] == [started[0]["package_id"]]  # the pipeline took the pass over
    assert stored[0]["sha256"] == sha256(fresh_clip)
    report = verify_mod.verify_package(verify_mod.source_for(archive.storage(), stored[0]["package_id"]),
                                       trusted=list(archive.trusted))
    assert report.ok, report.problems
    assert staged(archive) == []


@pytest.mark.parametrize("refusal", ["W030", "W009"])
def test_a_refused_account_discards_what_the_pass_staged(lw, archive, fresh_clip, signed_in, caplog, refusal):
    """Bytes may reach staging before the catalog says who asks; a refusal removes them, and nothing is recorded."""
    caplog.set_level(logging.DEBUG, logger=early.__name__)
    env = None
    if refusal == "W030":  # nobody: an OS user neither mapped nor signed in
        assert lw("users", "map-os-user", accounts.os_user(), "--remove").exit_code == 0
    else:  # somebody whose role may not ingest
        env = signed_in("audrey", "auditor")
    entries_before = len(list(archive.storage().list("custody/")))
    result = lw("ingest", str(fresh_clip), env=env)
    assert result.exit_code != 0 and error_codes(result.stderr) == [refusal], result.output
    assert "early pass of" in caplog.text and "started" in caplog.text  # the pass ran, then was discarded
    assert "discarded" in caplog.text
    assert staged(archive) == []
    assert archive.catalog.all_ids() == [] and list(archive.storage().package_ids()) == []
    assert len(list(archive.storage().list("custody/"))) == entries_before


def test_a_refusal_after_the_pass_is_taken_over_leaves_nothing(lw, archive, fresh_clip):
    """The same bytes again (I006, found by the pass's own SHA-256): the staged copy goes with the refusal."""
    assert lw("ingest", str(fresh_clip)).exit_code == 0
    again = lw("ingest", str(fresh_clip))
    assert error_codes(again.stderr) == ["I006"]
    assert staged(archive) == []
    assert len(archive.catalog.all_ids()) == 1


def test_a_file_replaced_after_the_pass_started_is_copied_afresh(archive, fresh_clip, tmp_path):
    """The pass copied a file that is no longer the one the pipeline checks: it is discarded, never published."""
    path = unique_copy(fresh_clip, tmp_path / "clip.mp4")
    started = early.start(archive.root, path)
    assert started is not None
    first_copy_id = started.package_id
    started.result()  # the first file is fully staged
    os.replace(unique_copy(fresh_clip, tmp_path / "new.mp4"), path)  # another file under the same name
    result = ingest(archive, IngestRequest(path=path), early=started)
    assert result.sha256 == sha256(path)
    assert result.package_id != first_copy_id
    assert staged(archive) == []
    assert list(archive.storage().package_ids()) == [result.package_id]


def test_no_pass_where_the_pipeline_would_refuse_before_writing(archive, tmp_path):
    """An empty file, a link, a folder, or no archive: no pass starts, and the pipeline says why with its code."""
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    link = tmp_path / "link.mp4"
    link.symlink_to("/etc/passwd")
    assert early.start(archive.root, empty) is None
    assert early.start(archive.root, link) is None
    assert early.start(archive.root, tmp_path) is None
    assert early.start(tmp_path / "nowhere", empty) is None
    assert staged(archive) == []


@pytest.mark.parametrize("with_early_pass", [False, True])
def test_progress_reports_each_chunk_once(archive, tmp_path, with_early_pass):
    """The command's bar adds what it is given: the pipeline reports increments that sum to the file's size,
    with the early pass (bytes read before the bar existed, then each chunk) as without it."""
    path = tmp_path / "five.mp4"
    path.write_bytes(os.urandom(5 << 20) + b"\0" * 123)  # three chunks of the pass; ffprobe warns, it is kept
    seen: list[int] = []
    started = early.start(archive.root, path) if with_early_pass else None
    assert (started is not None) == with_early_pass
    ingest(archive, IngestRequest(path=path), progress=seen.append, early=started)
    assert sum(seen) == path.stat().st_size and all(n > 0 for n in seen)


#: The `longwatch` program itself (``cli.main``: its start-up paused, its only thread the main one), in a fresh
#: interpreter; tells for each early pass whether it ran in a process of its own, that process's id, and
#: whether the start-up's imports were preloaded beside it.
PROGRAM = """
import json, os, sys
from longwatch.core.preservation import early
started = []
real_start, real_preload = early.start, early.preload
def start(*args, **kwargs):
    found = real_start(*args, **kwargs)
    child = getattr(found, "_child", None)
    started.append({"own_process": bool(found and found.own_process), "pid": child.pid if child else None,
                    "package_id": found.package_id if found is not None else None})
    return found
def preload(modules, early=None):
    started[-1]["preload"] = {"modules": list(modules), "until_the_pass_ends": early is not None}
    real_preload(modules, early)
early.start, early.preload = start, preload
from longwatch.cli import main
sys.argv = ["longwatch", *sys.argv[1:]]
status = 0
try:
    main()
except SystemExit as exc:
    status = exc.code
print(json.dumps([status, started]), file=sys.stderr)
"""


def run_program(*args: str) -> tuple[int, list[dict], subprocess.CompletedProcess]:
    result = subprocess.run([sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, timeout=120,
                            check=False, env={**os.environ, "LONGWATCH_LANG": "en"})
    status, started = json.loads(result.stderr.strip().splitlines()[-1])
    return status, started, result


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_program_runs_the_pass_in_a_process_of_its_own_and_its_package_verifies(archive, fresh_clip):
    status, started, result = run_program("-A", str(archive.root), "ingest", "--json", str(fresh_clip))
    assert status == 0, result.stderr
    assert len(started) == 1 and started[0]["own_process"], started
    assert started[0]["pid"] != os.getpid() and gone(started[0]["pid"])  # reaped once the pipeline took it over
    assert started[0]["preload"] == {"modules": list(INGEST_START_UP), "until_the_pass_ends": True}
    stored = json.loads(result.stdout)["packages"]
    assert [p["package_id"] for p in stored] == [started[0]["package_id"]]
    assert stored[0]["sha256"] == sha256(fresh_clip)
    report = verify_mod.verify_package(verify_mod.source_for(archive.storage(), stored[0]["package_id"]),
                                       trusted=list(archive.trusted))
    assert report.ok, report.problems
    copy = archive.storage().local_path(stored[0]["package_id"]) / "data" / "media" / fresh_clip.name
    assert copy.read_bytes() == fresh_clip.read_bytes()
    assert staged(archive) == []


def test_a_refusal_ends_the_pass_process_and_leaves_nothing(lw, archive, fresh_clip):
    """No account (W030) while the pass runs in its own process: the process is ended, its staging removed."""
    assert lw("users", "map-os-user", accounts.os_user(), "--remove").exit_code == 0
    status, started, result = run_program("-A", str(archive.root), "ingest", str(fresh_clip))
    assert status != 0 and error_codes(result.stderr) == ["W030"], result.stderr
    assert started[0]["own_process"] and gone(started[0]["pid"])
    assert staged(archive) == []
    assert archive.catalog.all_ids() == [] and list(archive.storage().package_ids()) == []


#: early.start(own_process=True) as the program calls it, in a fresh interpreter (only one thread may fork):
#: the digests and progress a finished pass gives, then a discard of one still running (a large sparse file).
OWN_PROCESS = """
import json, os, sys
from pathlib import Path
from longwatch.core.preservation import early
root, path, big = sys.argv[1:]
seen = []
done = early.start(root, Path(path), own_process=True)
done.attach(seen.append)
digests = done.result()
done.discard()
running = early.start(root, Path(big), own_process=True)
pid = running._child.pid
running.discard()
print(json.dumps({"own_process": [done.own_process, running.own_process], "size": digests.size,
                  "seen": sum(seen), "sha256": digests["sha256"], "sha512": digests["sha512"], "pid": pid}))
"""


def test_a_pass_in_its_own_process_gives_the_digests_and_stops_when_discarded(archive, tmp_path):
    path = tmp_path / "nine.mp4"
    path.write_bytes(os.urandom(9 << 20) + b"tail")
    big = tmp_path / "big.mp4"
    with big.open("wb") as fh:  # sparse: seconds of reading and hashing, no disk
        fh.truncate(16 << 30)
    result = subprocess.run([sys.executable, "-c", OWN_PROCESS, str(archive.root), str(path), str(big)],
                            capture_output=True, text=True, timeout=120, check=True)
    found = json.loads(result.stdout)
    assert found["own_process"] == [True, True]
    assert found["size"] == found["seen"] == path.stat().st_size
    assert found["sha256"] == sha256(path)
    assert found["sha512"] == hashlib.sha512(path.read_bytes()).hexdigest()
    assert gone(found["pid"]) and staged(archive) == []


def test_the_pass_process_ends_when_the_program_is_killed(archive, tmp_path):
    """A killed command leaves no pass running: its process stops at its next chunk, and the staging is swept."""
    big = tmp_path / "big.mp4"
    with big.open("wb") as fh:  # sparse: seconds of reading and hashing, no disk
        fh.truncate(16 << 30)
    program = subprocess.Popen([sys.executable, "-m", "longwatch", "-q", "-A", str(archive.root), "ingest", str(big)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        children: list[int] = []
        listed = Path(f"/proc/{program.pid}/task/{program.pid}/children")
        for _ in range(400):  # the pass's process, once forked
            with contextlib.suppress(OSError):
                children = [int(p) for p in listed.read_text().split()]
            if children and staged(archive):
                break
            time.sleep(0.05)
        assert children and staged(archive)
    finally:
        program.kill()
        program.wait()
    for _ in range(200):
        if all(gone(pid) for pid in children):
            break
        time.sleep(0.05)
    assert all(gone(pid) for pid in children)
    assert archive.storage().sweep() and staged(archive) == []


def test_preload_imports_on_a_thread_of_lower_priority_until_the_pass_ends(monkeypatch):
    """The start-up's imports run on a reniced thread of their own; the command's own priority is untouched, and
    the thread stops between two modules once the pass has ended (the command imports the rest itself)."""
    seen: list[tuple[str, int, bool]] = []
    real_import = importlib.import_module

    def watched(name: str):
        nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        seen.append((name, nice, threading.current_thread() is threading.main_thread()))
        return real_import(name)

    class Pass:  # ends after the second module
        def running(self) -> bool:
            return len(seen) < 2

    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    monkeypatch.setattr(early.importlib, "import_module", watched)
    early.preload(["json", "csv", "email"], Pass())  # type: ignore[arg-type]
    assert [name for name, _, _ in seen] == ["json", "csv"]
    assert all(nice >= early.START_UP_NICE and not on_main for _, nice, on_main in seen)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own
