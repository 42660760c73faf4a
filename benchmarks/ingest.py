"""Ingest and verify against the tools a person would otherwise use (issue 3's targets).

Baselines, each measured in this same run on the same file with a warm page
cache: ``cp`` onto the storage filesystem (the I/O limit), ``openssl dgst
-sha512`` and ``-sha256`` (the digest limits), and ``cp`` followed by
bagit-python's ``bagit.py --sha256 --sha512`` (the peer tool). Candidates:
``longwatch ingest`` as a command and the ``ingest()`` call in this process,
and ``longwatch verify`` of the stored package. Rounds interleave baselines
and candidates in a rotating order. Peak RSS of the ingest command is taken
at 200 MB and at the full size.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.util import (
    VENV_BIN,
    Run,
    Series,
    filesystem,
    human,
    loadavg,
    make_video,
    require,
    run_shell_timed,
    run_timed,
    time_call,
    warm,
)

SMALL = 200_000_000
RSS_LIMIT = 200 * 1000 * 1000
#: "Flat": the peak at the full size is within this factor of the peak at 200 MB.
RSS_FLAT = 1.10

TARGETS = [
    # key, description, ratio key, comparison, bound
    ("ingest_vs_floor", "ingest ≤ 1.25 × max(cp, openssl sha512)", "<=", 1.25),
    ("bagit_vs_ingest", "cp + bagit.py ≥ 1.5 × ingest", ">=", 1.5),
    ("verify_vs_sha512", "verify ≤ 1.25 × openssl sha512", "<=", 1.25),
]


def run(work: Path, size: int, rounds: int) -> dict[str, Any]:
    from longwatch.core.archive import Archive
    from longwatch.core.preservation.ingest import IngestRequest, ingest

    require("ffmpeg", "openssl", "cp", "bagit.py", "longwatch")
    longwatch = VENV_BIN / "longwatch"
    bagit = VENV_BIN / "bagit.py"
    footage = work / "footage"
    footage.mkdir(parents=True, exist_ok=True)
    print(f"generating {human(size)} of H.264 footage in {work} ({filesystem(work)}) ...", flush=True)
    src = make_video(footage / "bench.mp4", size)
    small = make_video(footage / "small.mp4", SMALL) if size > SMALL * 1.25 else src
    size = src.stat().st_size

    archive_dir = work / "archive"
    if not archive_dir.exists():
        subprocess.run([longwatch, "-q", "init", archive_dir, "--name", "bench", "--language", "en"],
                       check=True, stdout=subprocess.DEVNULL)
    archive = Archive.open(archive_dir)
    storage = archive.storage()
    scratch = work / "scratch"
    load_before = loadavg()

    def ingest_cli(path: Path) -> tuple[Run, str]:
        before = set(storage.package_ids())
        run_ = run_timed([longwatch, "-q", "-A", archive_dir, "ingest", "--allow-duplicate", path])
        (package_id,) = set(storage.package_ids()) - before
        return run_, package_id

    def drop(package_id: str) -> None:
        local = storage.local_path(package_id)
        if local is not None:
            shutil.rmtree(local)

    names = ["cp", "openssl_sha512", "openssl_sha256", "cp_bagit", "ingest_cli", "ingest_call",
             "verify_cli", "openssl_sha512_stored", "verify_fast_cli", "direct_sha512_stored"]
    series = {name: Series(name) for name in names}

    def step_cp() -> None:
        scratch.mkdir(exist_ok=True)
        series["cp"].runs.append(run_timed(["cp", src, scratch / "copy.mp4"]))
        shutil.rmtree(scratch)

    def step_sha512() -> None:
        series["openssl_sha512"].runs.append(run_timed(["openssl", "dgst", "-sha512", src]))

    def step_sha256() -> None:
        series["openssl_sha256"].runs.append(run_timed(["openssl", "dgst", "-sha256", src]))

    def step_bagit() -> None:
        bag = scratch / "bag"
        bag.mkdir(parents=True)
        series["cp_bagit"].runs.append(run_shell_timed(
            f'cp "{src}" "{bag}/" && "{bagit}" --quiet --sha256 --sha512 "{bag}"'))
        shutil.rmtree(scratch)

    kept: list[str] = []

    def step_ingest_cli() -> None:
        run_, package_id = ingest_cli(src)
        series["ingest_cli"].runs.append(run_)
        kept.append(package_id)

    def step_ingest_call() -> None:
        run_, result = time_call(lambda: ingest(archive, IngestRequest(path=src, allow_duplicate=True)))
        series["ingest_call"].runs.append(run_)
        drop(result.package_id)

    steps = [step_cp, step_sha512, step_sha256, step_bagit, step_ingest_cli, step_ingest_call]
    warm(src)
    for i in range(rounds):
        order = steps[i % len(steps):] + steps[: i % len(steps)]
        for step in order:
            step()
        # verify the package this round's command made, against openssl over the same stored file
        package_id = kept.pop()
        local = storage.local_path(package_id)
        assert local is not None
        stored = local / "data" / "media" / src.name
        warm(local)
        pair = [("verify_cli", [longwatch, "-q", "-A", archive_dir, "verify", package_id]),
                ("openssl_sha512_stored", ["openssl", "dgst", "-sha512", stored]),
                # everything but the payload digests: the command's fixed cost
                ("verify_fast_cli", [longwatch, "-q", "-A", archive_dir, "verify", "--fast", package_id]),
                # verify reads the medium (O_DIRECT), not the page cache: the same read, then openssl
                ("direct_sha512_stored", f'dd if="{stored}" iflag=direct bs=8M status=none | openssl dgst -sha512')]
        for name, cmd in pair if i % 2 == 0 else reversed(pair):
            series[name].runs.append(run_shell_timed(cmd) if isinstance(cmd, str) else run_timed(cmd))
        drop(package_id)
        print(f"  round {i + 1}/{rounds}: ingest {series['ingest_cli'].runs[-1].wall:.2f} s, "
              f"openssl sha512 {series['openssl_sha512'].runs[-1].wall:.2f} s, "
              f"verify {series['verify_cli'].runs[-1].wall:.2f} s (load {loadavg():.1f})", flush=True)

    rss_small = Series("ingest_cli_small")
    if small == src:
        rss_small.runs = list(series["ingest_cli"].runs)
    else:
        warm(small)
        for _ in range(max(2, rounds // 2)):
            run_, package_id = ingest_cli(small)
            rss_small.runs.append(run_)
            drop(package_id)
    archive.close()

    floor = max(series["cp"].median, series["openssl_sha512"].median)
    ratios = {
        "ingest_vs_floor": series["ingest_cli"].median / floor,
        "ingest_call_vs_floor": series["ingest_call"].median / floor,
        "bagit_vs_ingest": series["cp_bagit"].median / series["ingest_cli"].median,
        "verify_vs_sha512": series["verify_cli"].median / series["openssl_sha512_stored"].median,
        "verify_vs_direct_sha512": series["verify_cli"].median / series["direct_sha512_stored"].median,
        "rss_large_vs_small": series["ingest_cli"].peak_rss / rss_small.peak_rss,
        # CPU seconds (children included): what the wall-clock ratios follow when the cores are contended
        "ingest_cpu_vs_sha512_cpu": series["ingest_cli"].cpu / series["openssl_sha512"].cpu,
        "bagit_cpu_vs_ingest_cpu": series["cp_bagit"].cpu / series["ingest_cli"].cpu,
        "verify_cpu_vs_sha512_cpu": series["verify_cli"].cpu / series["openssl_sha512_stored"].cpu,
    }
    rss = {"small_file_bytes": small.stat().st_size, "small_peak_bytes": rss_small.peak_rss,
           "large_file_bytes": size, "large_peak_bytes": series["ingest_cli"].peak_rss}
    checks = {key: (ratios[key] <= bound if op == "<=" else ratios[key] >= bound) for key, _, op, bound in TARGETS}
    checks["rss_flat_under_200MB"] = (max(rss["small_peak_bytes"], rss["large_peak_bytes"]) < RSS_LIMIT
                                      and ratios["rss_large_vs_small"] <= RSS_FLAT)
    return {
        "topic": "ingest",
        "file_bytes": size,
        "rounds": rounds,
        "filesystem": filesystem(work),
        "load_before": round(load_before, 2),
        "load_after": round(loadavg(), 2),
        "series": {name: s.to_dict() for name, s in series.items()},
        "ratios": {k: round(v, 3) for k, v in ratios.items()},
        "rss": rss,
        "targets_met": checks,
    }


def table(result: dict[str, Any]) -> str:
    s, r, rss = result["series"], result["ratios"], result["rss"]
    lines = [f"ingest benchmark: {human(result['file_bytes'])} file, {result['rounds']} rounds, "
             f"{result['filesystem']}, load {result['load_before']} -> {result['load_after']}", ""]
    lines.append(f"{'command':<44}{'median':>9}{'min':>9}{'max':>9}{'cpu':>9}")
    labels = {
        "cp": "cp FILE (same filesystem)",
        "openssl_sha512": "openssl dgst -sha512 FILE",
        "openssl_sha256": "openssl dgst -sha256 FILE",
        "cp_bagit": "cp + bagit.py --sha256 --sha512",
        "ingest_cli": "longwatch ingest (command)",
        "ingest_call": "ingest() (in process)",
        "verify_cli": "longwatch verify (full)",
        "openssl_sha512_stored": "openssl dgst -sha512 (stored copy)",
        "verify_fast_cli": "longwatch verify --fast (fixed cost)",
        "direct_sha512_stored": "dd iflag=direct | openssl dgst -sha512 (stored)",
    }
    for key, label in labels.items():
        row = s[key]
        lines.append(f"{label:<44}{row['median_s']:>8.2f}s{row['min_s']:>8.2f}s{row['max_s']:>8.2f}s"
                     f"{row['cpu_median_s']:>8.2f}s")
    lines += ["", f"{'target':<48}{'measured':>10}  met"]
    met = result["targets_met"]
    for key, description, _op, _bound in TARGETS:
        lines.append(f"{description:<48}{r[key]:>9.2f}×  {'yes' if met[key] else 'NO'}")
    lines.append(f"{'  (ingest() call vs the same floor)':<48}{r['ingest_call_vs_floor']:>9.2f}×")
    lines.append(f"{'  (verify vs the same device read + openssl)':<48}{r['verify_vs_direct_sha512']:>9.2f}×")
    lines.append(f"{'  (CPU time: ingest / openssl sha512)':<48}{r['ingest_cpu_vs_sha512_cpu']:>9.2f}×")
    lines.append(f"{'  (CPU time: cp + bagit.py / ingest)':<48}{r['bagit_cpu_vs_ingest_cpu']:>9.2f}×")
    lines.append(f"{'  (CPU time: verify / openssl sha512)':<48}{r['verify_cpu_vs_sha512_cpu']:>9.2f}×")
    lines.append(f"{'ingest peak RSS flat, under 200 MB':<48}"
                 f"{human(rss['small_peak_bytes']):>9} @ {human(rss['small_file_bytes'])}, "
                 f"{human(rss['large_peak_bytes'])} @ {human(rss['large_file_bytes'])}  "
                 f"{'yes' if met['rss_flat_under_200MB'] else 'NO'}")
    return "\n".join(lines)
