"""Korean search (issue 24): recall and precision against the previous tokenizer, and p95 at scale.

    python benchmarks/korean_search.py                      # quality on both back ends, latency at 1,000,000 clips
    python benchmarks/korean_search.py --clips 100000 --backends sqlite
    python benchmarks/korean_search.py --quality-only
    python benchmarks/korean_search.py --latency-only --keep DIR   # load once into DIR, then rerun the queries

Quality: the 240 clips and 64 queries of ``benchmarks/data/korean_search.json`` (relevance
judged by meaning; see ``data/make_korean_search.py``) are filed in a fresh catalog, and every
query runs twice in the same run on the same rows: through ``longwatch.core.catalog.search``
(bigrams of Korean compounds, ``packages.search_terms``) and through the previous release's
tokenizer, rebuilt here exactly as it was (whole words of the raw fields, each query word a
prefix: FTS5 unicode61 on SQLite, ``to_tsvector('simple', ...)`` on PostgreSQL). Micro recall
and precision over all queries, and macro recall (the mean of the queries' recalls).

Latency: the million-clip catalog of ``benchmarks/search.py`` (same generator, cameras, cases
and events), its titles written in Korean from the test set's places and events, and ten
Korean searches of one page of 50 (dense, rare, one-letter, phrases, two words), p50 and p95.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import search as scale  # noqa: E402
from longwatch.core.catalog import Catalog, terms  # noqa: E402
from longwatch.core.catalog import search as search_module  # noqa: E402
from longwatch.core.catalog.models import Clip, Package  # noqa: E402
from longwatch.core.catalog.search import Query, explain, search  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "korean_search.json"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OLD_TABLE = "ks_old_fts"


def load_set(path: Path = DATA) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def package_id(item_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"longwatch-korean-search/{item_id}"))


def file_items(catalog: Catalog, items: list[dict[str, Any]]) -> None:
    """Each item as one package with one clip, through the catalog's own ORM (so the terms are set)."""
    for n, it in enumerate(items):
        start = T0 + timedelta(minutes=10 * n)
        pid = package_id(it["id"])
        clip = Clip(relpath="data/media/clip.mp4", sha256=f"{n:064x}", sha512="", start_utc=start,
                    end_utc=start + timedelta(minutes=5), camera=it["camera"], span_s=300)
        catalog.add_package(Package(id=pid, created_at=start, camera=it["camera"], title=it["title"],
                                    notes=it["notes"], location_name=it["address"], description="",
                                    start_utc=start, end_utc=start + timedelta(minutes=5), clips=[clip]))


# -- the previous release's tokenizer, exactly as it was (fulltext.py before revision 0023) -------------
_OLD_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_OLD_FIELDS = ("title", "description", "notes", "location_name", "camera", "zone")


def old_words(query: str) -> list[str]:
    return [w.lower() for w in _OLD_WORD.findall(query)]


def _old_concat(alias: str) -> str:
    return " || ' ' || ".join(f"coalesce({alias}.{f}, '')" for f in _OLD_FIELDS)


def build_old_index(catalog: Catalog) -> None:
    """The old index beside the new one (SQLite: its FTS5 table; PostgreSQL: none, the expression is scanned)."""
    if catalog.engine.dialect.name != "sqlite":
        return
    with catalog.engine.begin() as conn:
        conn.execute(text(f"CREATE VIRTUAL TABLE {OLD_TABLE} USING fts5(body, tokenize='unicode61 "
                          "remove_diacritics 2')"))
        conn.execute(text(f"INSERT INTO {OLD_TABLE}(rowid, body) SELECT c.id, {_old_concat('p')} FROM clips c "
                          "JOIN packages p ON p.id = c.package_id"))


def old_search(catalog: Catalog, query: str) -> set[str]:
    """Package ids the previous tokenizer finds: every word a prefix, all required."""
    words = old_words(query)
    with catalog.engine.connect() as conn:
        if catalog.engine.dialect.name == "sqlite":
            match = " AND ".join('"' + t.replace('"', '""') + '"*' for t in words)
            rows = conn.execute(text(f"SELECT c.package_id FROM {OLD_TABLE} f JOIN clips c ON c.id = f.rowid "
                                     f"WHERE {OLD_TABLE} MATCH :q"), {"q": match})
        else:
            tsq = " & ".join(f"'{t}':*" for t in words)
            rows = conn.execute(text(f"SELECT id FROM packages p WHERE to_tsvector('simple', {_old_concat('p')}) "
                                     "@@ to_tsquery('simple', :q)"), {"q": tsq})
        return {r[0] for r in rows}


def new_search(catalog: Catalog, query: str) -> set[str]:
    """Package ids longwatch's search finds (all pages)."""
    found: set[str] = set()
    after = ""
    while True:
        page = search(catalog, Query(text=query, limit=1000, after=after))
        found |= {i["package_id"] for i in page.items}
        if not page.next_cursor:
            return found
        after = page.next_cursor


def scores(results: dict[str, set[str]], relevant: dict[str, set[str]]) -> dict[str, float]:
    """Micro recall and precision over all queries, macro recall, F1 (micro)."""
    hit = sum(len(results[q] & relevant[q]) for q in relevant)
    found = sum(len(results[q]) for q in relevant)
    wanted = sum(len(relevant[q]) for q in relevant)
    recall = hit / wanted if wanted else 0.0
    precision = hit / found if found else 0.0
    macro = statistics.mean(len(results[q] & relevant[q]) / len(relevant[q]) for q in relevant if relevant[q])
    f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    return {"recall": recall, "precision": precision, "macro_recall": macro, "f1": f1}


def evaluate(catalog: Catalog, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """File the test set into an empty, current catalog and score both tokenizers on it."""
    data = data or load_set()
    file_items(catalog, data["items"])
    build_old_index(catalog)
    relevant = {q["text"]: {package_id(i) for i in q["relevant"]} for q in data["queries"]}
    old = {q: old_search(catalog, q) for q in relevant}
    new = {q: new_search(catalog, q) for q in relevant}
    return {"old": scores(old, relevant), "new": scores(new, relevant), "old_hits": old, "new_hits": new,
            "relevant": relevant}


def print_quality(name: str, result: dict[str, Any]) -> None:
    print(f"\n## quality, {name}: {len(result['relevant'])} queries")
    print("| tokenizer | recall (micro) | recall (macro) | precision (micro) | F1 |")
    print("|---|---:|---:|---:|---:|")
    for label, key in (("previous (whole words, prefix)", "old"), ("bigrams (this release)", "new")):
        s = result[key]
        print(f"| {label} | {s['recall']:.3f} | {s['macro_recall']:.3f} | {s['precision']:.3f} | {s['f1']:.3f} |")
    worse = [q for q in result["relevant"]
             if len(result["new_hits"][q] & result["relevant"][q]) < len(result["old_hits"][q] & result["relevant"][q])]
    print(f"queries where the new search finds fewer relevant clips: {worse or 'none'}", flush=True)


# -- latency at scale -----------------------------------------------------------------------------------
#: Dense single bigrams, phrases, a one-letter prefix, two words, rare words; last, two common words that
#: never meet in one title (the walk's budget runs out and the full-text index answers: its worst case).
SCALE_QUERIES = ["시장", "남대문시장", "사고", "교통사고", "역", "입구", "시장 소매치기", "낙서", "침수 호우",
                 "열람", "시장 공원"]


def koreanize(data: dict[str, Any], seed: int) -> None:
    """Titles and notes of the generated catalog in Korean, from the test set's vocabulary; terms set."""
    vocab = load_set()
    titles = sorted({it["title"] for it in vocab["items"]})
    notes = sorted({it["notes"] for it in vocab["items"] if it["notes"]})
    rng = random.Random(seed)
    for p in data["packages"]:
        p["title"] = f"{p['camera']} {p['start_utc']:%Y-%m-%d %H:%M} {rng.choice(titles)}"
        p["notes"] = rng.choice(notes) if rng.random() < 0.1 else ""
        p["search_terms"] = terms.document(*(p.get(f) for f in _OLD_FIELDS))


@contextmanager
def backend_url(name: str, workdir: Path, keep: Path | None = None) -> Iterator[str]:
    """A new SQLite file, or a throwaway PostgreSQL server (durable settings), for one run; with ``keep``,
    the catalog of that directory, kept between runs (loaded by the first)."""
    if name == "sqlite":
        yield f"sqlite:///{(keep or workdir) / 'bench.sqlite'}"
    else:
        with scale.throwaway_postgres(keep / "pg" if keep else None) as url:
            yield url


def kept(keep: Path | None, name: str) -> bool:
    """Whether ``keep`` holds a catalog of this back end loaded by an earlier run."""
    return keep is not None and (keep / f"{name}.loaded").exists()


def _server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one PostgreSQL backend, read from /proc on this machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def latency(name: str, url: str, data: dict[str, Any], samples: int,
            explain_plans: bool = False) -> dict[str, tuple[float, ...]]:
    """p50 and p95 wall time per query, and p95 CPU: this process (SQLite: the whole search) plus,
    on PostgreSQL, the server backend that ran it, so the figures survive a loaded machine."""
    catalog = Catalog(url)
    catalog.upgrade()
    if data:
        t0 = time.perf_counter()
        scale.load(catalog, data)
        print(f"{name}: loaded {len(data['clips'])} clips in {time.perf_counter() - t0:.0f} s", flush=True)
        if name != "sqlite":
            scale.vacuum_postgres(catalog)
    else:
        print(f"{name}: the catalog kept from an earlier run", flush=True)
    backend = 0
    if name != "sqlite":
        with catalog.engine.connect() as conn:  # the pool hands this one connection to every search
            backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar() or 0)
    out = {}
    walk = search_module._walk_plan
    for q in SCALE_QUERIES:
        for way in ("before", "after"):
            # before: the previous paths (the terms beside the time not read); after: the code as it is.
            search_module._walk_plan = walk if way == "after" else (lambda _s, _q: None)  # type: ignore[assignment]
            try:
                search(catalog, Query(text=q))  # warm the cache and the plan
                times, cpu, hits = [], [], 0
                for _ in range(samples):
                    t, c = time.perf_counter(), time.process_time()
                    server = _server_cpu(backend) if backend else 0.0
                    page = search(catalog, Query(text=q))
                    times.append((time.perf_counter() - t) * 1000)
                    server = (_server_cpu(backend) - server) if backend else 0.0
                    cpu.append((time.process_time() - c + server) * 1000)
                    hits = len(page.items)
            finally:
                search_module._walk_plan = walk
            out[f"{q} ({way})"] = (statistics.median(times), scale._p95(times), statistics.median(cpu),
                                   scale._p95(cpu), hits, os.getloadavg()[0])
        if explain_plans:
            print(f"{q}:\n  " + "\n  ".join(explain(catalog, Query(text=q))), flush=True)
    if backend:
        assert catalog.engine.pool.checkedin() == 1, "searches used more than one connection: server CPU incomplete"
    catalog.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=1_000_000)
    parser.add_argument("--cameras", type=int, default=500)
    parser.add_argument("--samples", type=int, default=40, help="searches per query at scale")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quality-only", action="store_true")
    parser.add_argument("--latency-only", action="store_true", help="skip the quality runs")
    parser.add_argument("--keep", default="", help="a directory where the loaded catalogs stay for the next run "
                        "(the first run loads them; --clips, --cameras and --seed must then stay the same)")
    parser.add_argument("--explain", action="store_true", help="print each query's plan after its samples")
    args = parser.parse_args()
    for backend in [] if args.latency_only else args.backends.split(","):
        workdir = Path(tempfile.mkdtemp(prefix="longwatch-bench-ko-"))
        try:
            with backend_url(backend, workdir) as url:
                catalog = Catalog(url)
                catalog.upgrade()
                print_quality(backend, evaluate(catalog))
                catalog.dispose()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.quality_only:
        return
    keep = Path(args.keep) if args.keep else None
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    if not all(kept(keep, b) for b in args.backends.split(",")):
        t0 = time.perf_counter()
        data = scale.generate(args.clips, args.cameras, args.seed)
        koreanize(data, args.seed)
        print(f"\ngenerated {len(data['clips'])} clips in {time.perf_counter() - t0:.0f} s", flush=True)
    for backend in args.backends.split(","):
        workdir = Path(tempfile.mkdtemp(prefix="longwatch-bench-ko-"))
        try:
            with backend_url(backend, workdir, keep) as url:
                result = latency(backend, url, {} if kept(keep, backend) else data, args.samples, args.explain)
            if keep is not None:
                (keep / f"{backend}.loaded").touch()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print(f"\n## latency, {backend}: {args.clips} clips, one page of 50")
        print("| query | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms | hits/page | load average |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for q, (p50, p95, c50, c95, hits, load) in result.items():
            print(f"| {q} | {p50:.1f} | {p95:.1f} | {c50:.1f} | {c95:.1f} | {hits} | {load:.1f} |", flush=True)
        print(f"load average after the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)


if __name__ == "__main__":
    main()
