"""Custody ledger benchmark: durable appends, proofs at a million entries, full verification.

    .venv/bin/python benchmarks/ledger.py [--entries 20000] [--batch 256] [--postgres] [--profile]

The ledger is sequenced by the catalog's database (core/custody/ledger.py):
every append is one transaction under the ledger's lock (SQLite's write lock
with ``synchronous=FULL``; a PostgreSQL advisory lock with
``synchronous_commit`` on) and is acknowledged after the commit and after its
group went to the primary storage location as a tail object
(``mirror.push_tail``); ``--batch`` entries share one transaction and one tail
object. The writers open the archive as a command does
(``Ledger.for_archive``), so the mirror push is on; the same runs with a ledger
that has no archive (``Ledger(engine, origin, settings, signer)``: no mirror)
show what the append alone costs. The baseline inserts the same entry bytes
into a plain table of the same database engine, with the same durability and
the same batches, from separate processes, in the same run, so the price of
tamper evidence shows as a ratio. Each figure is printed with the load average
taken just before it was measured. ``--profile`` adds a cProfile of one writer
in this process (mirror on). With ``--verify-entries 1000000`` it also builds a
real ledger of a million entries and times a full ``verify_ledger`` and a proof
file on it. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from longwatch.core import custody
from longwatch.core.archive import Archive
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger
from longwatch.core.custody.merkle import MerkleTree, leaf_hash, verify_inclusion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from pg import running_postgres  # the tests' throwaway PostgreSQL, here with fsync on

WRITER = """
import os, sys, time
from longwatch.core.archive import Archive
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger
from longwatch.core.custody.ledger import load_settings
root, count, batch, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
mode = sys.argv[5] if len(sys.argv) > 5 else "mirror"
if len(sys.argv) > 6 and sys.argv[6]:  # the append-alone runs keep their own catalog database
    os.environ["LONGWATCH_CATALOG_URL"] = sys.argv[6]
archive = Archive.open(root)
if mode == "mirror":  # as every command appends: the group goes to the primary location after the commit
    ledger = Ledger.for_archive(archive)
else:  # the append alone: no archive, so no identity check against the mirror and no tail object
    ledger = Ledger(archive.catalog.engine, archive.settings.name, load_settings(archive.root), archive.signer)
ledger.size()  # connect before the clock starts
print("ready", flush=True)
sys.stdin.readline()
done = 0
while done < count:
    n = min(batch, count - done)
    ledger.append([CustodyEvent("fixity check", packages=["00000000-0000-4000-8000-%012d" % ((done + j) % 997)],
                                detail=f"{name} scheduled audit {done + j}") for j in range(n)])
    done += n
print("done", flush=True)
"""

BASELINE_WRITER = """
import sqlite3, sys, json
path, count, batch, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
db = sqlite3.connect(path, timeout=60, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
print("ready", flush=True)
sys.stdin.readline()
done = 0
while done < count:
    n = min(batch, count - done)
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO events(body) VALUES (?)",
                   [(json.dumps({"type": "fixity check", "detail": f"{name} scheduled audit {done + j}"}),)
                    for j in range(n)])
    db.execute("COMMIT")
    done += n
print("done", flush=True)
"""


PG_BASELINE_WRITER = """
import json, sys
import psycopg
url, count, batch, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
db = psycopg.connect(url)  # synchronous_commit on, fsync on: each COMMIT is durable
print("ready", flush=True)
sys.stdin.readline()
done = 0
while done < count:
    n = min(batch, count - done)
    with db.transaction(), db.cursor() as cur:
        cur.executemany("INSERT INTO events(body) VALUES (%s)",
                        [(json.dumps({"type": "fixity check", "detail": f"{name} scheduled audit {done + j}"}),)
                         for j in range(n)])
    done += n
print("done", flush=True)
"""

CPU: dict[str, float] = {}
#: the 1-minute load average taken just before each rate was measured (the machine is shared)
LOADS: dict[str, float] = {}


def profile(archive: Archive, count: int, batch: int) -> None:
    """cProfile of ``count`` appends in groups of ``batch`` by this process, mirror on: where the time goes.

    Wall time inside each function (``tottime``) separates the commit's wait
    for the disk (in the driver's commit), the tail object's write and fsyncs
    (in the storage adapter) and the Python work (encoding, hashing, binding).
    """
    import cProfile
    import pstats

    ledger = Ledger.for_archive(archive)
    ledger.size()
    prof = cProfile.Profile()
    prof.enable()
    for done in range(0, count, batch):
        ledger.append([CustodyEvent("fixity check", packages=[f"00000000-0000-4000-8000-{(done + j) % 997:012d}"],
                                    detail=f"profiled audit {done + j}") for j in range(min(batch, count - done))])
    prof.disable()
    print(f"profile: {count} appends in groups of {batch}, mirror on, one process "
          f"(load average {os.getloadavg()[0]:.1f})")
    pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(18)
    pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
    # the ledger's own steps (transaction, encoding, tail object, checkpoint, mirror sync), whatever their rank
    pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(r"custody/|storage_adapters/", 30)


def run_writers(script: str, args: list[list[str]], label: str = "") -> float:
    """Wall seconds of the appends; the writers' CPU seconds go to CPU[label] (load-independent).

    The clock stops when the last writer reports its appends done, before the
    interpreters exit: tearing down a process that imported SQLAlchemy and the
    plugins took seconds on the loaded machine, and is no part of appending.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    procs = [subprocess.Popen([sys.executable, "-c", script, *a], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True) for a in args]
    for p in procs:  # every writer has imported and connected: time the appends only
        assert p.stdout is not None
        p.stdout.readline()
    start = time.perf_counter()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.close()
    for p in procs:
        assert p.stdout is not None
        if p.stdout.readline().strip() != "done":
            raise SystemExit("a writer failed")
    wall = time.perf_counter() - start
    for p in procs:
        assert p.stdout is not None
        p.stdout.close()
        if p.wait() != 0:
            raise SystemExit("a writer failed")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if label:
        CPU[label] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall


def pg_baseline_db(url: str) -> str:
    """The baseline table in its own PostgreSQL database; returns the libpq URL the writers connect with."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("CREATE TABLE events(seq BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)")
    return plain


def baseline_db(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE events(seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)")
    db.commit()
    db.close()


def timed_verify(ledger: Ledger, archive: Archive, what: str) -> tuple[Any, float]:
    """A full ``verify_ledger`` and its seconds; a ledger that does not verify ends the benchmark."""
    start = time.perf_counter()
    report = custody.verify_ledger(ledger, [archive.certificate])
    seconds = time.perf_counter() - start
    if not report.ok:
        raise SystemExit(f"{what} does not verify: {[p.render() for p in report.problems[:5]]}")
    return report, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=20000, help="entries per append run (default 20000)")
    parser.add_argument("--batch", type=int, default=256, help="entries per group commit (default 256)")
    parser.add_argument("--proof-entries", type=int, default=1_000_000, help="tree size for the proof figures")
    parser.add_argument("--proofs", type=int, default=2000, help="random proofs to time")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the test archive (default: a temp dir)")
    parser.add_argument("--postgres", action="store_true",
                        help="the catalog (and the baseline) on a throwaway PostgreSQL 15 with fsync on, started "
                             "and removed by the benchmark, instead of SQLite")
    parser.add_argument("--profile", action="store_true",
                        help="also profile (cProfile) one writer's appends in this process, mirror on")
    parser.add_argument("--verify-entries", type=int, default=0,
                        help="also build a real ledger of this many entries (appends of 10,000) and time a "
                             "full verify and a real proof file on it; the issue's figure is at 1000000")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        baseline_url = bare_url = ""
        if args.postgres:
            server = stack.enter_context(running_postgres(fsync=True))
            os.environ["LONGWATCH_CATALOG_URL"] = server.create_database()  # the writers inherit it
            baseline_url = pg_baseline_db(server.create_database())
            bare_url = server.create_database()
        run(args, baseline_url, bare_url)


def run(args: argparse.Namespace, baseline_url: str, bare_url: str) -> None:
    results: dict[str, float | int | str] = {"catalog": "postgresql" if baseline_url else "sqlite"}

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        archive = Archive.create(root / "archive", organization="bench", language="en", unencrypted_key=True)
        n, b = args.entries, args.batch
        single = max(50, n // 100)
        here = str(archive.root)
        # The append-alone runs write to an archive (and catalog database) of their own: entries appended with
        # no mirror push would rightly fail the verify below of the archive whose primary location lacks them.
        saved = os.environ.get("LONGWATCH_CATALOG_URL")
        if bare_url:
            os.environ["LONGWATCH_CATALOG_URL"] = bare_url
        Archive.create(root / "bare", organization="bench", language="en", unencrypted_key=True).close()
        if saved is not None:
            os.environ["LONGWATCH_CATALOG_URL"] = saved
        bare = str(root / "bare")

        def rate(key: str, script: str, target: str, count: int, batch: int, writers: int, *extra: str) -> None:
            """``writers`` processes of ``count // writers`` entries each, batches of ``batch``: entries/s."""
            LOADS[key] = os.getloadavg()[0]
            each = count // writers
            t = run_writers(script, [[target, str(each), str(batch), f"{key}{i}", *extra] for i in range(writers)],
                            key if writers == 1 and batch == b else "")
            results[key] = each * writers / t

        if args.profile:  # first, on the fresh archive: the steady state of --batch groups, no batch-1 tails to clear
            profile(archive, n, b)

        # the ledger as commands use it (mirror push on), then the append alone, then the baseline,
        # each at 1 and 4 writers, batch --batch and batch 1
        rate("ledger_1w_per_s", WRITER, here, n, b, 1)
        rate("ledger_4w_per_s", WRITER, here, n, b, 4)
        rate("ledger_1w_batch1_per_s", WRITER, here, single, 1, 1)
        rate("ledger_4w_batch1_per_s", WRITER, here, 4 * single, 1, 4)
        rate("bare_1w_per_s", WRITER, bare, n, b, 1, "bare", bare_url)
        rate("bare_4w_per_s", WRITER, bare, n, b, 4, "bare", bare_url)
        rate("bare_1w_batch1_per_s", WRITER, bare, single, 1, 1, "bare", bare_url)
        rate("bare_4w_batch1_per_s", WRITER, bare, 4 * single, 1, 4, "bare", bare_url)

        # baselines: the same counts into a plain table of the same database engine, same durability and batches
        # (the keys say "sqlite" for either engine; "catalog" says which)
        script, base = (PG_BASELINE_WRITER, baseline_url) if baseline_url else (BASELINE_WRITER,
                                                                                 str(root / "baseline.sqlite"))
        if not baseline_url:
            baseline_db(Path(base))
        rate("sqlite_1w_per_s", script, base, n, b, 1)
        rate("sqlite_4w_per_s", script, base, n, b, 4)
        rate("sqlite_1w_batch1_per_s", script, base, single, 1, 1)
        rate("sqlite_4w_batch1_per_s", script, base, 4 * single, 1, 4)

        # CPU per entry, less what a writer that appends nothing spends on start-up (imports, connecting)
        run_writers(WRITER, [[here, "0", str(b), "idle"]], "ledger_idle")
        run_writers(WRITER, [[bare, "0", str(b), "idle", "bare", bare_url]], "bare_idle")
        run_writers(script, [[base, "0", str(b), "idle"]], "sqlite_idle")
        results["ledger_1w_cpu_us_per_entry"] = (CPU["ledger_1w_per_s"] - CPU["ledger_idle"]) / n * 1e6
        results["bare_1w_cpu_us_per_entry"] = (CPU["bare_1w_per_s"] - CPU["bare_idle"]) / n * 1e6
        results["sqlite_1w_cpu_us_per_entry"] = (CPU["sqlite_1w_per_s"] - CPU["sqlite_idle"]) / n * 1e6

        # 4. verify the whole ledger written above (chain, index, tree, checkpoints)
        ledger = Ledger.for_archive(archive)
        report, t = timed_verify(ledger, archive, "the benchmark ledger")
        results["verify_entries"] = report.entries
        results["verify_checkpoints"] = report.checkpoints
        results["verify_per_s"] = report.entries / t
        sample = custody.prove_inclusion(ledger, report.entries // 2)
        results["proof_file_bytes_small"] = len(json.dumps(sample, indent=2))
        archive.close()

    # 5. a real ledger of --verify-entries: full verify and a proof file at that size
    if args.verify_entries:
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            archive = Archive.create(Path(tmp) / "archive", organization="bench", language="en", unencrypted_key=True)
            ledger = Ledger.for_archive(archive)
            start = time.perf_counter()
            for first in range(0, args.verify_entries, 10000):
                ledger.append([CustodyEvent("fixity check", packages=[f"00000000-0000-4000-8000-{i % 997:012d}"],
                                            detail=f"scheduled audit {i}")
                               for i in range(first, min(first + 10000, args.verify_entries))])
            results["big_append_per_s"] = args.verify_entries / (time.perf_counter() - start)
            report, t = timed_verify(ledger, archive, "the big ledger")
            results["big_verify_entries"] = report.entries
            results["big_verify_checkpoints"] = report.checkpoints
            results["big_verify_per_s"] = report.entries / t
            results["big_verify_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            ledger.checkpoint()
            start = time.perf_counter()
            proof = custody.prove_inclusion(ledger, report.entries // 3)
            results["big_prove_command_s"] = time.perf_counter() - start  # reads the index, builds the tree
            results["big_proof_file_bytes"] = len(json.dumps(proof, indent=2))
            start = time.perf_counter()
            checked = custody.check_proof(proof, [archive.certificate])
            results["big_check_proof_ms"] = (time.perf_counter() - start) * 1000
            assert checked.ok, checked.problems
            archive.close()

    # 6. a tree of --proof-entries leaves: proof generation + verification
    m = args.proof_entries
    entry = json.dumps({"type": "fixity check", "detail": "x" * 200}).encode()
    start = time.perf_counter()
    tree = MerkleTree(leaf_hash(entry + str(i).encode()) for i in range(m))
    results["tree_build_s"] = time.perf_counter() - start
    root_hash = tree.root()
    rng = random.Random(4)
    timings = []
    path_len = 0
    for _ in range(args.proofs):
        i = rng.randrange(m)
        start = time.perf_counter()
        path = tree.inclusion_proof(i)
        ok = verify_inclusion(i, m, tree.leaf(i), path, root_hash)
        timings.append(time.perf_counter() - start)
        assert ok
        path_len = max(path_len, len(path))
    timings.sort()
    results["proof_tree_size"] = m
    results["proof_ms_median"] = statistics.median(timings) * 1000
    results["proof_ms_p99"] = timings[int(len(timings) * 0.99)] * 1000
    results["proof_path_hashes"] = path_len
    results["proof_path_bytes"] = path_len * 32
    results["tree_memory_mib"] = sum(len(level) for level in tree.levels) / (1 << 20)

    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()}, indent=2))
    print(f"{'writers, batch':<16}{'ledger+mirror/s':>16}{'append alone/s':>16}{'plain inserts/s':>16}"
          f"{'ratio':>7}{'ratio alone':>12}  load")
    for w, batch in ((1, args.batch), (4, args.batch), (1, 1), (4, 1)):
        suffix = f"{w}w_per_s" if batch == args.batch else f"{w}w_batch1_per_s"
        led, alone, plain = (float(results[f"{k}_{suffix}"]) for k in ("ledger", "bare", "sqlite"))
        loads = "/".join(f"{LOADS[f'{k}_{suffix}']:.1f}" for k in ("ledger", "bare", "sqlite"))
        print(f"{f'{w}, {batch}':<16}{led:>16,.0f}{alone:>16,.0f}{plain:>16,.0f}{led / plain:>7.3f}"
              f"{alone / plain:>12.3f}  {loads}")
    print(f"ratios are ledger/plain {results['catalog']} inserts in the same run; target 5,000 appends/s; "
          f"load averages (1 min) before the ledger / append-alone / plain runs")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
