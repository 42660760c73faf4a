"""`make bench`: run the benchmarks, print ratios against baselines measured in the same run.

    python benchmarks/run.py [--size 2G] [--quick] [--rounds N] [--dir DIR] [--keep] [TOPIC...]

Results are printed as a table and written as JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import cli_startup, ingest  # noqa: E402
from benchmarks.util import machine, parse_size  # noqa: E402

TOPICS = {"ingest": ingest, "cli_startup": cli_startup}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*", choices=[*TOPICS, []], default=[], metavar="TOPIC",
                        help=f"which benchmarks ({', '.join(TOPICS)}; default: all)")
    parser.add_argument("--size", default="2G", help="size of the generated file (default 2G; e.g. 200M)")
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 5")
    parser.add_argument("--rounds", type=int, help="runs of each command (medians are reported)")
    parser.add_argument("--dir", type=Path, help="work directory on the storage filesystem (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (footage is reused)")
    parser.add_argument("--against", type=Path,
                        help="cli_startup: another checkout (e.g. the code before a change) whose ingest runs "
                             "interleaved with this one's, in the same rounds")
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    rounds = args.rounds or (3 if args.quick else 5)
    work = args.dir or Path(tempfile.mkdtemp(prefix="longwatch-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results_dir = ROOT / "benchmarks" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    report = {"started": stamp, "machine": machine(), "topics": {}}
    try:
        for name in args.topics or list(TOPICS):
            module = TOPICS[name]
            extra = {"against": args.against} if args.against is not None and name == "cli_startup" else {}
            result = module.run(work / name, size, rounds, **extra)
            report["topics"][name] = result
            print()
            print(module.table(result))
    finally:
        if not (args.keep or args.dir):
            shutil.rmtree(work, ignore_errors=True)
    out = results_dir / f"bench-{stamp}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults: {out.relative_to(ROOT)}")
    return 0 if all(all(r["targets_met"].values()) for r in report["topics"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
