"""Several machines of one archive: PostgreSQL for the catalog, an S3 server for the store, nothing else shared.

The tests of workers, staging, shared stores and three machines each need the
same steps: put an archive's locations on the S3 server, give another machine
its own working directory (configuration and keys, as configuration management
would), start and stop `longwatch` processes, and wait for the job queue.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from conftest import LONGWATCH

from longwatch.core.archive import Archive
from longwatch.core.jobs import queue as jobs


def s3_location(name: str, s3_server: Any) -> str:
    spec = {"adapter": "s3", **s3_server.options()}
    return f"[storage.locations.{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in spec.items())


def store_on_s3(root: Path, s3_server: Any, locations: tuple[str, ...] = ("primary",)) -> None:
    """Rewrite the archive's storage section: every location a bucket of the S3 server, the first primary,
    each package kept in all of them; no periodic jobs (a nightly tick would add jobs to the tests' counts)."""
    path = root / "longwatch.toml"
    head, _, rest = path.read_text().partition("[storage]")
    _, _, tail = rest.partition("[signing]")
    replication = json.dumps(list(locations))
    body = (f'[storage]\nprimary = "{locations[0]}"\n\n[storage.replication]\ndefault = {replication}\n\n'
            + "\n".join(s3_location(name, s3_server) for name in locations) + "\n")
    path.write_text(head + body + "\n[signing]" + tail + '\n[jobs]\naudit_cron = ""\ndisposition_cron = ""\n')


def open_cluster_archive(root: Path) -> Archive:
    """The archive at ``root`` with the job queue's schema in its (PostgreSQL) catalog."""
    archive = Archive.open(root)
    jobs.apply_schema(archive)
    return archive


def provision(source: Path, target: Path) -> Path:
    """A machine's own working directory: the provisioned configuration and keys, nothing else."""
    target.mkdir(parents=True)
    shutil.copy2(source / "longwatch.toml", target / "longwatch.toml")
    shutil.copytree(source / "keys", target / "keys")
    return target


def spawn(args: list[str], log: Path, fault: str = "") -> subprocess.Popen[bytes]:
    """`longwatch ARGS` in its own session, output appended to ``log``; ``fault`` sets LONGWATCH_FAULT."""
    env = os.environ.copy()
    env.pop("LONGWATCH_FAULT", None)
    if fault:
        env["LONGWATCH_FAULT"] = fault
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen([*LONGWATCH, *args], stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env=env)


def worker(root: Path, log: Path, *args: str, fault: str = "") -> subprocess.Popen[bytes]:
    return spawn(["-A", str(root), "-q", "worker", *args], log, fault)


def stop(*procs: subprocess.Popen[bytes]) -> None:
    """SIGTERM to all, then wait for each (killed after 30 s)."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_for_jobs(archive: Archive, done: int, log: Path, timeout: float = 300) -> dict[str, int]:
    """The queue's counts once ``done`` jobs are done and none is queued or running (else fail with the log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = jobs.counts(archive)
        if counts.get("done", 0) >= done and not counts.get("queued") and not counts.get("running"):
            return counts
        time.sleep(0.5)
    raise AssertionError(f"jobs not done in time: {jobs.counts(archive)}\n{log.read_text()[-3000:]}")
