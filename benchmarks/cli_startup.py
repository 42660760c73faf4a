"""What a command costs before it reads a byte, and `longwatch ingest` against the floor (issue 23).

    python benchmarks/cli_startup.py [--size 1G] [--rounds 3] [--against OTHER_CHECKOUT]

Measured in one run on one file with a warm page cache: the interpreter
alone (``python -c pass``), ``longwatch --help`` (in English and in Korean,
which reads the Korean catalog), ``longwatch verify --fast``
of a package directory (no archive) and of a package id (the archive, its
catalog and ledger), then ``longwatch ingest`` of a 1 GB file against ``cp``
and ``openssl dgst -sha512`` of the same file. Start-up commands run ten
times per round, medians are reported, CPU seconds beside wall seconds
(what the wall clock follows when the two cores are shared). Where the
start-up time goes: ``python -X importtime`` of each start-up command, the
ten slowest top-level imports; and where ingest's fixed cost goes, phase by
phase (``benchmarks/ingest_phases.py`` on a 2 MB clip, medians of CPU and wall).

Also a topic of ``benchmarks/run.py`` (``make bench``: ``cli_startup``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.util import (  # noqa: E402
    Series,
    filesystem,
    human,
    loadavg,
    make_video,
    require,
    run_timed,
    warm,
)

#: `python -m longwatch` runs this checkout's code as the installed `longwatch` script runs the installed one
LONGWATCH = [sys.executable, "-m", "longwatch"]
STARTUP_REPEAT = 10
PHASES_REPEAT = 3  # per round

TARGETS = [
    # key, description, comparison, bound
    ("help_s", "longwatch --help < 0.3 s", "<", 0.3),
    ("verify_fast_dir_s", "longwatch verify --fast PKG < 0.3 s", "<", 0.3),
    ("ingest_vs_floor", "ingest ≤ 1.25 × max(cp, openssl sha512)", "<=", 1.25),
]


def _env() -> dict[str, str]:
    env = dict(os.environ, LONGWATCH_LANG="en")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def _import_times(args: list[str], cwd: Path) -> list[tuple[str, float]]:
    """The slowest top-level imports of ``longwatch ARGS`` (cumulative milliseconds), from -X importtime."""
    code = "import sys; from longwatch.cli import main; sys.argv = ['longwatch', *sys.argv[1:]]; main()"
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *args], cwd=cwd, env=_env(),
                            capture_output=True, text=True)
    top: list[tuple[str, float]] = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)  # no indent: imported by the command
        if match:
            top.append((match.group(2), int(match.group(1)) / 1000))
    return sorted(top, key=lambda item: -item[1])[:10]


def run(work: Path, size: int, rounds: int, against: Path | None = None) -> dict[str, Any]:
    """``against``: another checkout (the code before a change) whose ingest, of the large file and of a
    2 MB clip, runs interleaved with this checkout's in every round, on the same archive."""
    require("ffmpeg", "openssl", "cp")
    os.environ.update(_env())  # run_timed inherits it: this checkout, English
    # Byte-compiled first, as pip does when it installs the wheel (else every run compiles the sources).
    for checkout in filter(None, [ROOT, against]):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "longwatch")], check=True,
                       stdout=subprocess.DEVNULL)
    # `python -m` puts the working directory first on the path: both run from a folder with no checkout
    other = ["env", f"PYTHONPATH={against}", *LONGWATCH] if against is not None else []
    footage = work / "footage"
    footage.mkdir(parents=True, exist_ok=True)
    print(f"generating {human(size)} of H.264 footage in {work} ({filesystem(work)}) ...", flush=True)
    src = make_video(footage / "bench.mp4", size)
    small = make_video(footage / "small.mp4", 2_000_000)
    size = src.stat().st_size
    archive_dir = work / "archive"
    if archive_dir.exists():
        shutil.rmtree(archive_dir)
    subprocess.run([*LONGWATCH, "-q", "init", archive_dir, "--name", "bench", "--language", "en"], check=True,
                   stdout=subprocess.DEVNULL)
    ingested = subprocess.run([*LONGWATCH, "-q", "-A", archive_dir, "ingest", "--json", small], check=True,
                              capture_output=True, text=True).stdout
    package_id = json.loads(ingested)["packages"][0]["package_id"]
    package_dir = next((archive_dir / "storage" / "packages").glob(f"*/*/{package_id}"))
    outside = work / "elsewhere"  # no longwatch.toml above it: verify of a directory finds no archive
    outside.mkdir(exist_ok=True)
    scratch = work / "scratch"
    load_before = loadavg()

    startup = {
        "python": [sys.executable, "-c", "pass"],
        "help": [*LONGWATCH, "--help"],
        "help_ko": [*LONGWATCH, "--lang", "ko", "--help"],
        "verify_fast_dir": [*LONGWATCH, "-q", "verify", "--fast", package_dir],
        "verify_fast_id": [*LONGWATCH, "-q", "-A", archive_dir, "verify", "--fast", package_id],
    }
    compared = ["ingest_small", "ingest_against", "ingest_small_against"] if against is not None else []
    series = {name: Series(name) for name in [*startup, "cp", "openssl_sha512", "ingest_cli", *compared]}
    kept: list[Path] = []
    phases: dict[str, list[tuple[float, float]]] = {}

    def step_startup() -> None:
        for _ in range(STARTUP_REPEAT):
            for name, cmd in startup.items():
                series[name].runs.append(run_timed(cmd, cwd=outside))

    def step_phases() -> None:
        for _ in range(PHASES_REPEAT):
            out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "ingest_phases.py"), archive_dir, small],
                                 cwd=outside, check=True, capture_output=True, text=True).stdout
            for name, (cpu, wall) in json.loads(out.strip().splitlines()[-1]).items():
                phases.setdefault(name, []).append((cpu, wall))

    def step_cp() -> None:
        scratch.mkdir(exist_ok=True)
        series["cp"].runs.append(run_timed(["cp", src, scratch / "copy.mp4"]))
        shutil.rmtree(scratch)

    def step_sha512() -> None:
        series["openssl_sha512"].runs.append(run_timed(["openssl", "dgst", "-sha512", src]))

    def step_ingest() -> None:
        before = set((archive_dir / "storage" / "packages").glob("*/*/*"))
        series["ingest_cli"].runs.append(run_timed([*LONGWATCH, "-q", "-A", archive_dir, "ingest",
                                                    "--allow-duplicate", src], cwd=outside))
        kept.extend(set((archive_dir / "storage" / "packages").glob("*/*/*")) - before)

    def step_against() -> None:  # the other checkout's ingest, then both on the small clip, in turn
        before = set((archive_dir / "storage" / "packages").glob("*/*/*"))
        series["ingest_against"].runs.append(run_timed([*other, "-q", "-A", archive_dir, "ingest",
                                                        "--allow-duplicate", src], cwd=outside))
        for i in range(4):
            for name, cmd in (("ingest_small", LONGWATCH), ("ingest_small_against", other))[:: 1 if i % 2 else -1]:
                series[name].runs.append(run_timed([*cmd, "-q", "-A", archive_dir, "ingest", "--allow-duplicate",
                                                    small], cwd=outside))
        kept.extend(set((archive_dir / "storage" / "packages").glob("*/*/*")) - before)

    steps = [step_cp, step_sha512, step_ingest, *([step_against] if against is not None else [])]
    warm(src)
    for i in range(rounds):
        step_startup()
        step_phases()
        for step in steps[i % len(steps):] + steps[: i % len(steps)]:
            step()
        while kept:  # keep the disk from filling; the catalog row stays (never read again)
            shutil.rmtree(kept.pop())
        print(f"  round {i + 1}/{rounds}: --help {series['help'].runs[-1].wall:.3f} s, "
              f"ingest {series['ingest_cli'].runs[-1].wall:.2f} s, "
              f"openssl sha512 {series['openssl_sha512'].runs[-1].wall:.2f} s (load {loadavg():.1f})", flush=True)

    floor = max(series["cp"].median, series["openssl_sha512"].median)
    figures = {
        "help_s": series["help"].median,
        "help_ko_s": series["help_ko"].median,
        "verify_fast_dir_s": series["verify_fast_dir"].median,
        "verify_fast_id_s": series["verify_fast_id"].median,
        "python_s": series["python"].median,
        "ingest_vs_floor": series["ingest_cli"].median / floor,
        "ingest_cpu_vs_sha512_cpu": series["ingest_cli"].cpu / series["openssl_sha512"].cpu,
    }
    if against is not None:
        figures["ingest_against_vs_floor"] = series["ingest_against"].median / floor
    checks = {key: (figures[key] < bound if op == "<" else figures[key] <= bound) for key, _, op, bound in TARGETS}
    imports = {name: _import_times([str(c) for c in cmd[3:]], outside)
               for name, cmd in startup.items() if name != "python"}
    return {
        "topic": "cli_startup",
        "file_bytes": size,
        "rounds": rounds,
        "filesystem": filesystem(work),
        "load_before": round(load_before, 2),
        "load_after": round(loadavg(), 2),
        "series": {name: s.to_dict() for name, s in series.items()},
        "figures": {k: round(v, 3) for k, v in figures.items()},
        "imports_ms": imports,
        "ingest_phases_ms": {name: [round(1000 * statistics.median(c for c, _w in runs), 1),
                                    round(1000 * statistics.median(w for _c, w in runs), 1)]
                             for name, runs in phases.items()},
        "targets_met": checks,
    }


def table(result: dict[str, Any]) -> str:
    s, f = result["series"], result["figures"]
    lines = [f"start-up and ingest benchmark: {human(result['file_bytes'])} file, {result['rounds']} rounds, "
             f"{result['filesystem']}, load {result['load_before']} -> {result['load_after']}", ""]
    lines.append(f"{'command':<46}{'median':>9}{'min':>9}{'max':>9}{'cpu':>9}")
    labels = {
        "python": "python -c pass (the interpreter)",
        "help": "longwatch --help",
        "help_ko": "longwatch --lang ko --help",
        "verify_fast_dir": "longwatch verify --fast DIR (no archive)",
        "verify_fast_id": "longwatch -A ARCHIVE verify --fast ID",
        "cp": "cp FILE (same filesystem)",
        "openssl_sha512": "openssl dgst -sha512 FILE",
        "ingest_cli": "longwatch ingest FILE",
        "ingest_against": "longwatch ingest FILE, the other checkout",
        "ingest_small": "longwatch ingest of a 2 MB clip",
        "ingest_small_against": "longwatch ingest of a 2 MB clip, the other",
    }
    for name, label in labels.items():
        if name not in s:
            continue
        row = s[name]
        lines.append(f"{label:<46}{row['median_s']:>8.3f}s{row['min_s']:>8.3f}s{row['max_s']:>8.3f}s"
                     f"{row['cpu_median_s']:>8.3f}s")
    lines.append("")
    lines.append(f"ingest / max(cp, openssl sha512): {f['ingest_vs_floor']:.3f}  "
                 f"(CPU: ingest / openssl sha512 {f['ingest_cpu_vs_sha512_cpu']:.3f})")
    if "ingest_against_vs_floor" in f:
        lines.append(f"the other checkout's ingest / max(cp, openssl sha512): {f['ingest_against_vs_floor']:.3f}")
    for key, description, _op, _bound in TARGETS:
        mark = "met" if result["targets_met"][key] else "NOT MET"
        lines.append(f"  {description:<44} {f[key]:.3f}  {mark}")
    lines.append("")
    for name, top in result["imports_ms"].items():
        lines.append(f"slowest imports of {name} (cumulative ms): "
                     + ", ".join(f"{module} {ms:.0f}" for module, ms in top[:6]))
    lines.append("")
    lines.append(f"{'where ingest of a 2 MB clip spends its time (medians)':<58}{'CPU ms':>9}{'wall ms':>9}")
    for name, (cpu, wall) in result["ingest_phases_ms"].items():
        lines.append(f"  {name:<56}{cpu:>9.1f}{wall:>9.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    from benchmarks.run import main

    args = sys.argv[1:]
    if not any(a.startswith("--size") for a in args):
        args += ["--size", "1G"]
    if not any(a.startswith(("--rounds", "--quick")) for a in args):
        args += ["--rounds", "3"]
    sys.exit(main(["cli_startup", *args]))
