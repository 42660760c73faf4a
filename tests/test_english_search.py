"""English words beside the time (issue 22, revision 0037): a dense English word reads its page in time order.

The reference everywhere is the search with the walk turned off (``_walk_plan`` answering None:
the matches listed from FTS5 / GIN and sorted). Words are prefixes ("gate" finds "gates" and
"gateway"), numbers and mixed words ("3번출구") too, on both back ends.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import old_catalog
import pytest
from alembic import command
from sqlalchemy import text

from longwatch.core.catalog import Catalog, alembic_config, fulltext, term_index, walk
from longwatch.core.catalog import search as search_module
from longwatch.core.catalog.models import Clip, Package
from longwatch.core.catalog.search import Query, explain, facets, search

T0 = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
WORDS = ["gate", "gates", "gateway", "north", "northern", "lane", "lanes", "exit", "b2", "2026", "20", "café",
         "3번출구", "시장", "정문", "남대문시장", "parking", "park", "p1", "north-gate"]
QUERIES = ["gate", "gates", "gat", "g", "north gate", "lane 시장", "3번", "3번출구", "2026", "20", "cafe",
           "gate 정문", "northern lane", "b", "exit", "zzz", "park", "p", "정문 gate 시장", "남대문시장 north",
           "gateway exit lane", "gate zzz"]


@pytest.fixture
def catalog(fresh_catalog: Catalog) -> Catalog:
    return fresh_catalog


def _package(pid: str, title: str, start: datetime, description: str = "", span: int = 5) -> Package:
    end = start + timedelta(minutes=span)
    return Package(id=pid, created_at=start, title=title, start_utc=start, end_utc=end, camera="cam-01",
                   description=description, notes="", location_name="",
                   clips=[Clip(relpath="data/media/x.mp4", sha256=pid.ljust(64, "0"), sha512="", start_utc=start,
                               end_utc=end, camera="cam-01", span_s=span * 60)])


def _fill(catalog: Catalog, n: int = 260) -> None:
    """Titles of 1-4 words of WORDS at times with ties (two clips often start in the same minute)."""
    rng = random.Random(22)
    for i in range(n):
        title = " ".join(rng.sample(WORDS, rng.randint(1, 4)))
        start = T0 + timedelta(minutes=7 * (i // 2) + rng.choice((0, 0, 3)))
        catalog.add_package(_package(f"p-{i:03d}", title, start, description=rng.choice(["", "north", "b2 exit"]),
                                     span=rng.choice((1, 5, 30))))


def _pages(catalog: Catalog, query: Query) -> list[tuple[int, str | None]]:
    """Every clip id of a search with the cursor that followed its page, page by page."""
    out: list[tuple[int, str | None]] = []
    while True:
        page = search(catalog, query)
        out += [(i["clip_id"], page.next_cursor) for i in page.items]
        if not page.next_cursor:
            return out
        query = Query(**{**query.__dict__, "after": page.next_cursor})


def test_english_walk_gives_the_full_text_answers(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every query, both orders, pages of 7, with and without a window, small budgets, a narrow expansion:
    the same clips, in the same order, with the same cursors as the full-text index alone."""
    _fill(catalog)
    window = (T0 + timedelta(hours=2), T0 + timedelta(hours=9))
    plan = search_module._walk_plan
    for query in QUERIES:
        for order in ("desc", "asc"):
            for start, end in ((None, None), window):
                q = Query(text=query, limit=7, order=order, start=start, end=end)
                monkeypatch.setattr(search_module, "_walk_plan", lambda _s, _q: None)
                listed = _pages(catalog, q)
                monkeypatch.setattr(search_module, "_walk_plan", plan)
                assert _pages(catalog, q) == listed, (query, order, start)
                for budget in (3, 20):  # pages that give way to the full-text index part-way
                    monkeypatch.setattr(search_module, "WALK_BUDGET", budget)
                    assert _pages(catalog, q) == listed, (query, order, start, budget)
                monkeypatch.setattr(search_module, "WALK_BUDGET", 1000)
                monkeypatch.setattr(walk, "EXPAND_CAP", 1)  # "gate" (3 words) is left to the full-text index
                assert _pages(catalog, q) == listed, (query, order, start, "narrow")
                monkeypatch.setattr(walk, "EXPAND_CAP", 32)
    assert any(_pages(catalog, Query(text=q)) for q in ("gate", "3번", "2026", "cafe"))


def test_a_dense_english_word_reads_clip_words_in_time_order(catalog: Catalog) -> None:
    _fill(catalog, 40)
    with catalog.session() as s:
        assert term_index.expand(s, "gate", 10) == ["gate", "gates", "gateway"]
        assert term_index.expand(s, "gate", 2) == ["gate", "gates"]
        assert term_index.expand(s, "zzz", 10) == []
        assert set(term_index.expand(s, "p", 10)) == {"p1", "park", "parking"}
    plan = " / ".join(explain(catalog, Query(text="gate")))
    assert "clip_words" in plan or " ct " in f" {plan} ", plan
    if catalog.engine.dialect.name == "sqlite":
        assert "SEARCH ct USING PRIMARY KEY (term=?" in plan, plan
        assert plan.count("SEARCH ct USING PRIMARY KEY") == 3, plan  # gate, gates, gateway: merged
    one = " / ".join(explain(catalog, Query(text="gateway")))
    if catalog.engine.dialect.name == "sqlite":
        assert one.startswith("SEARCH ct USING PRIMARY KEY (term=?)") and "TEMP B-TREE" not in one, one
    # with a camera, the camera's index drives as before
    assert " ct " not in " ".join(explain(catalog, Query(text="gate", cameras=["cam-01"])))


def test_words_beside_the_time_follow_every_write(catalog: Catalog) -> None:
    """Ingest, a title edit, a clip's new start, deletes and a rebuild keep ``clip_words`` exactly in step."""
    table = term_index.WORDS.table

    def rows() -> set[tuple[str, int]]:
        with catalog.engine.connect() as conn:
            return {(r[0], r[1]) for r in conn.execute(text(f"SELECT term, clip_id FROM {table}"))}

    def found(q: str) -> set[str]:
        return {i["package_id"] for i in search(catalog, Query(text=q)).items}

    catalog.add_package(_package("p-1", "North Gate 3번출구 시장", T0))
    catalog.add_package(_package("p-2", "Lane 7", T0 + timedelta(minutes=10)))
    assert {term for term, _ in rows()} >= {"north", "gate", "3번출구", "3", "lane", "7"}
    assert not any(term_index.is_cjk(term[0]) for term, _ in rows())
    assert found("gat") == {"p-1"} and found("lan") == {"p-2"} and found("3번") == {"p-1"}
    with catalog.session() as s:
        row = s.get(Package, "p-1")
        assert row is not None
        row.title = "South gateway"
    assert found("north") == set() and found("gate") == {"p-1"} and found("south") == {"p-1"}
    with catalog.session() as s:  # a clip re-timed: its rows move with it
        clip = s.query(Clip).filter_by(package_id="p-2").one()
        clip.start_utc = T0 - timedelta(days=1)
    assert search(catalog, Query(text="lane", start=T0 - timedelta(days=2), end=T0 - timedelta(hours=12))
                  ).items[0]["package_id"] == "p-2"
    before = rows()
    with catalog.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {table}"))
        fulltext.rebuild_fulltext(conn)
    assert rows() == before
    with catalog.session() as s:
        s.delete(s.get(Package, "p-1"))
    with catalog.engine.connect() as conn:
        ids = {r[0] for r in conn.execute(text("SELECT id FROM clips"))}
    assert {clip for _, clip in rows()} == ids
    with catalog.engine.begin() as conn:
        conn.execute(text("DELETE FROM clips"))
    assert rows() == set()


def test_migration_0037_fills_the_words_of_existing_clips(catalog_backend: str, tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}" if catalog_backend == "sqlite" else catalog_backend)
    catalog.upgrade("0036")
    old_catalog.add_package(catalog, _package("p-1", "North gate 남대문시장", T0))
    catalog.upgrade()
    with catalog.engine.connect() as conn:
        words = {r[0] for r in conn.execute(text(f"SELECT term FROM {term_index.WORDS.table}"))}
    assert {"north", "gate"} <= words and "남대문시장" not in words
    assert [i["package_id"] for i in search(catalog, Query(text="gat")).items] == ["p-1"]
    with catalog.engine.begin() as connection:
        cfg = alembic_config(catalog.engine)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0036")
    with catalog.engine.connect() as conn:
        assert not term_index.exists(conn, term_index.WORDS) and term_index.exists(conn)
    old_catalog.add_package(catalog, _package("p-2", "South gate", T0 + timedelta(hours=1)))  # no trigger left behind
    catalog.dispose()


@pytest.mark.parametrize("query", ["gate", "north", "시장", "gate 정문", "3번"])
def test_capped_facets_of_a_walked_word_are_those_of_the_newest_matches(
        catalog: Catalog, query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The facet panel reads its newest ``cap`` matches through the walk too: for small caps and budgets,
    the counts are exactly the uncapped counts of the newest ``cap`` matches."""
    _fill(catalog, 120)
    monkeypatch.setattr(search_module, "WALK_BUDGET", 3)
    everything = search(catalog, Query(text=query, limit=1000)).items
    assert everything
    for cap in sorted(c for c in {1, 2, 5, 17, len(everything) - 1, len(everything)} if 1 <= c <= len(everything)):
        newest = [it["package_id"] for it in everything[:cap]]
        expected = facets(catalog, Query(packages=newest))
        found = facets(catalog, Query(text=query), cap=cap)
        assert found["total_exact"] is (cap == len(everything)), (query, cap)
        assert {**found, "total_exact": True} == expected, (query, cap)
