"""Custody ledger benchmark: durable appends, proofs at a million entries, full verification.

    .venv/bin/python benchmarks/ledger.py [--entries 20000] [--batch 64] [--proof-entries 1000000]

Every append is acknowledged only after the catalog index commit (SQLite
``synchronous=FULL``) and an ``fdatasync`` of the segment; ``--batch`` entries
share one lock, one commit and one fsync (group commit). The baseline inserts
the same entry bytes into a plain SQLite table (WAL, ``synchronous=FULL``, the
same batches) in the same run, so the price of tamper evidence shows as a ratio.
With ``--verify-entries 1000000`` it also builds a real ledger of a million
entries and times a full ``verify_ledger`` and a proof file on it.
Figures go to docs/performance.md.
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
import sys, time
from longwatch.core.archive import Archive
from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger
root, count, batch, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ledger = Ledger.for_archive(Archive.open(root))
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
    parser.add_argument("--verify-entries", type=int, default=0,
                        help="also build a real ledger of this many entries (appends of 10,000) and time a "
                             "full verify and a real proof file on it; the issue's figure is at 1000000")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        baseline_url = ""
        if args.postgres:
            server = stack.enter_context(running_postgres(fsync=True))
            os.environ["LONGWATCH_CATALOG_URL"] = server.create_database()  # the writers inherit it
            baseline_url = pg_baseline_db(server.create_database())
        run(args, baseline_url)


def run(args: argparse.Namespace, baseline_url: str) -> None:
    results: dict[str, float | int | str] = {"catalog": "postgresql" if baseline_url else "sqlite"}

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        archive = Archive.create(root / "archive", organization="bench", language="en", unencrypted_key=True)
        n, b = args.entries, args.batch

        # 1. one writer, group commit of --batch
        t = run_writers(WRITER, [[str(archive.root), str(n), str(b), "w0"]], "ledger")
        results["ledger_1w_per_s"] = n / t
        # 2. four writers at once
        t = run_writers(WRITER, [[str(archive.root), str(n // 4), str(b), f"w{i}"] for i in range(4)])
        results["ledger_4w_per_s"] = (n // 4 * 4) / t
        # 3. no group commit: one entry per durable append
        single = max(50, n // 100)
        t = run_writers(WRITER, [[str(archive.root), str(single), "1", "s"]])
        results["ledger_1w_batch1_per_s"] = single / t
        # 4. four writers of one entry at a time: only the cross-process group commit (spool) batches them
        t = run_writers(WRITER, [[str(archive.root), str(single), "1", f"s{i}"] for i in range(4)])
        results["ledger_4w_batch1_per_s"] = 4 * single / t

        # baselines: the same counts into a plain table of the same database engine, same durability and batches
        # (the keys say "sqlite" for either engine; "catalog" says which)
        script, base = (PG_BASELINE_WRITER, baseline_url) if baseline_url else (BASELINE_WRITER,
                                                                                 str(root / "baseline.sqlite"))
        if not baseline_url:
            baseline_db(Path(base))
        t = run_writers(script, [[base, str(n), str(b), "w0"]], "sqlite")
        results["sqlite_1w_per_s"] = n / t
        t = run_writers(script, [[base, str(n // 4), str(b), f"w{i}"] for i in range(4)])
        results["sqlite_4w_per_s"] = (n // 4 * 4) / t
        t = run_writers(script, [[base, str(single), "1", "s"]])
        results["sqlite_1w_batch1_per_s"] = single / t
        t = run_writers(script, [[base, str(single), "1", f"s{i}"] for i in range(4)])
        results["sqlite_4w_batch1_per_s"] = 4 * single / t

        # CPU per entry, less what a writer that appends nothing spends on start-up (imports, connecting)
        run_writers(WRITER, [[str(archive.root), "0", str(b), "idle"]], "ledger_idle")
        run_writers(script, [[base, "0", str(b), "idle"]], "sqlite_idle")
        results["ledger_1w_cpu_us_per_entry"] = (CPU["ledger"] - CPU["ledger_idle"]) / n * 1e6
        results["sqlite_1w_cpu_us_per_entry"] = (CPU["sqlite"] - CPU["sqlite_idle"]) / n * 1e6

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
    print(f"ratio ledger/plain {results['catalog']}, 1 writer, batch {args.batch}: "
          f"{results['ledger_1w_per_s'] / results['sqlite_1w_per_s']:.2f}")  # type: ignore[operator]
    print(f"ratio ledger/plain {results['catalog']}, 4 writers, batch {args.batch}: "
          f"{results['ledger_4w_per_s'] / results['sqlite_4w_per_s']:.2f}")  # type: ignore[operator]
    print(f"ratio ledger/plain {results['catalog']}, 4 writers, batch 1: "
          f"{results['ledger_4w_batch1_per_s'] / results['sqlite_4w_batch1_per_s']:.2f}")  # type: ignore[operator]
    print(f"ratio ledger/plain {results['catalog']}, 1 writer, batch 1: "
          f"{results['ledger_1w_batch1_per_s'] / results['sqlite_1w_batch1_per_s']:.2f}")  # type: ignore[operator]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
