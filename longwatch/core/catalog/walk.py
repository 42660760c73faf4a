"""One page of a text search read in time order from the terms beside the time (``term_index``).

The full-text engines answer "which clips match" in clip or row order; a page wants the newest
(or oldest) 50 of them. ``clip_terms`` (Korean terms) and ``clip_words`` (other words) hold each
clip's terms keyed by (term, start time, clip), so the newest clips holding a term are one index
range read backwards. A query is a list of *sources*, each a set of table terms of which a clip
must hold at least one: a Korean bigram or letter is one term; an English word, matched as a
prefix ("gate" finds "gates"), is the few distinct words of ``clip_words`` that start with it,
found by one index seek each (:func:`term_index.expand`).

One source drives (its rows read in time order), the others are primary-key lookups per
candidate. A source of several words is read as a merge: for each word its own ordered
``LIMIT n`` read, the union of them ordered again -- the first ``n`` distinct clips of the union
are among the first ``n`` of some word each of them holds, so nothing is missed.

The walk is chosen only when it can be cheap: a prefix that expands to more than EXPAND_CAP
words (one letter, "n") is left to the full-text index, and the walk stops after a budget of rows
(see :func:`page`), after which the caller asks the full-text index instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, column, exists, func, literal, literal_column, select, table, text, tuple_, union
from sqlalchemy.orm import Session

from longwatch.core.catalog import term_index, terms
from longwatch.core.catalog.models import Clip, Package

#: A prefix with more distinct words than this is not walked (one merge read per word).
EXPAND_CAP = 32


@dataclass(frozen=True)
class Source:
    """Table terms of which a matching clip holds at least one (one Korean term, or one prefix's words)."""

    kind: term_index.Kind
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    sources: tuple[Source, ...]
    exact: tuple[terms.Clause, ...]


def plan(s: Session, text_: str) -> Plan | None:
    """The sources of a query, or None when it cannot be walked (a word no table holds, too wide a prefix)."""
    walk = term_index.plan(text_)
    if walk is None:
        return None
    sources = [Source(term_index.KOREAN, (t,)) for t in walk.needed]
    for prefix in walk.prefixes:
        words = term_index.expand(s, prefix, EXPAND_CAP + 1)
        if len(words) > EXPAND_CAP:
            return None
        # no word with that prefix: the prefix itself, which holds no row, so the page is empty
        sources.append(Source(term_index.WORDS, tuple(words) or (prefix,)))
    return Plan(tuple(sources), walk.exact)


def _alias(kind: term_index.Kind, name: str) -> Any:
    return table(kind.table, column("term"), column("t"), column("clip_id")).alias(name)


def page(s: Session, p: Plan, conds: list[Any], *, order: str, limit: int, budget: int,
         window: tuple[datetime | None, datetime | None], longest_s: int,
         cursor: tuple[datetime, int] | None) -> Select[Any] | Any:
    """The statement of one page (``limit`` + 1 clip ids, in time order), read from the driving source.

    ``conds``: the page's other WHERE terms on ``clips`` (the time window's, as the full-text path has
    them); ``window`` and ``cursor`` also bound the walk on the tables' keys. The driving source is
    the one whose ``budget``-th row from the cursor lies furthest in time (the locally rarest); that row
    ends the walk and ``s.info["walk_cut"]`` says so: a page not full by then is a rare combination of
    common words, which the caller then asks the full-text index for. ``budget`` 0: one source, no end.
    """
    dialect = s.get_bind().dialect.name
    desc = order == "desc"

    def span(ct: Any) -> list[Any]:
        out: list[Any] = []
        start, end = window
        if end is not None:
            out.append(ct.c.t < term_index.key_time(dialect, end))
        if start is not None:
            out.append(ct.c.t >= term_index.key_time(dialect, start - timedelta(seconds=longest_s + 1)))
        if cursor is not None:
            key = tuple_(ct.c.t, ct.c.clip_id)
            bound = tuple_(literal(term_index.key_time(dialect, cursor[0])), literal(cursor[1]))
            out.append(key < bound if desc else key > bound)
        return out

    def by_time(ct: Any) -> tuple[Any, Any]:
        return (ct.c.t.desc(), ct.c.clip_id.desc()) if desc else (ct.c.t.asc(), ct.c.clip_id.asc())

    # Which source to walk, and how far: for each the time of its budget-th row from where the page
    # starts (an index range of that many entries, nothing else read). (Counting each term's rows up to
    # 20,000 cost 25 ms for "시장 소매치기" at a million clips on PostgreSQL.)
    drive, last = p.sources[0], None
    for src in p.sources if budget > 0 else ():  # no budget: the only source, walked to its end
        reach = _reach(s, src, span, by_time, budget, desc)
        if reach is None:
            drive, last = src, None
            break
        if last is None or (reach < last if desc else reach > last):
            drive, last = src, reach
    if last is not None:
        s.info["walk_cut"] = True
    parts = []
    for term in drive.terms:
        ct = _alias(drive.kind, "ct")
        where: list[Any] = [ct.c.term == term, *conds, *span(ct)]
        if last is not None:
            where.append(ct.c.t >= last if desc else ct.c.t <= last)
        where += _checks(dialect, p, drive, ct)
        columns = (Clip.id,) if len(drive.terms) == 1 else (Clip.id.label("id"), ct.c.t.label("t"))
        parts.append(select(*columns).select_from(ct).join(Clip, Clip.id == ct.c.clip_id).where(*where)
                     .order_by(*by_time(ct)).limit(limit + 1))
    if len(parts) == 1:
        return parts[0]
    # The merge: UNION drops a clip met under two words ("gate", "gates"), then the first limit + 1.
    merged = [select(w.c.id, w.c.t) for w in (part.subquery(f"w{n}") for n, part in enumerate(parts))]
    key: tuple[Any, Any] = (literal_column("t").desc(), literal_column("id").desc()) if desc else (
        literal_column("t").asc(), literal_column("id").asc())
    return union(*merged).order_by(*key).limit(limit + 1)


def _reach(s: Session, src: Source, span: Any, by_time: Any, budget: int, desc: bool) -> Any:
    """The key time of the source's ``budget``-th row from the cursor, None when it has fewer rows left."""
    if len(src.terms) == 1:
        ct = _alias(src.kind, "ct")
        return s.scalar(select(ct.c.t).where(ct.c.term == src.terms[0], *span(ct)).order_by(*by_time(ct))
                        .offset(budget - 1).limit(1))
    firsts = []
    for n, term in enumerate(src.terms):
        ct = _alias(src.kind, f"r{n}")
        firsts.append(select(ct.c.t).where(ct.c.term == term, *span(ct)).order_by(*by_time(ct)).limit(budget)
                      .subquery(f"f{n}"))
    each = [select(f.c.t.label("t")) for f in firsts]
    every = each[0].union_all(*each[1:]).subquery("every")
    return s.scalar(select(every.c.t).order_by(every.c.t.desc() if desc else every.c.t.asc())
                    .offset(budget - 1).limit(1))


def _checks(dialect: str, p: Plan, drive: Source, ct: Any) -> list[Any]:
    """What a candidate of the driving source must also hold: the other sources, a phrase's order."""
    where: list[Any] = []
    if dialect == "sqlite":
        # SQLite may give a deleted clip's id to the next clip: a row left by a delete its triggers could
        # not follow (the package already gone) must not stand for the new clip.
        where.append(text(f"ct.t = {term_index.sqlite_time('clips.start_utc')}"))
    # (Not on PostgreSQL, whose ids are never reused: there the planner, estimating the two equalities as
    # independent, expected one row in all and sorted every match -- 66 ms for 시장 at 100,000 clips.)
    for n, other in enumerate(src for src in p.sources if src is not drive):
        x = _alias(other.kind, f"ct{n}")
        term = x.c.term == other.terms[0] if len(other.terms) == 1 else x.c.term.in_(other.terms)
        held = select(literal(1)).where(term, x.c.t == ct.c.t, x.c.clip_id == ct.c.clip_id)
        # OFFSET 0: PostgreSQL then keeps it a lookup per candidate rather than a join of every row of the term.
        where.append(exists(held.offset(0) if dialect != "sqlite" else held))
    if p.exact:
        # The phrase as a run of its terms in the package's space-separated terms: what FTS5's and
        # PostgreSQL's phrase operators test, read from one row. FTS5 asked per clip (MATCH with
        # rowid =) parsed the query and sought every term's list each time: 0.3 ms a candidate.
        padded = literal(" ") + func.coalesce(Package.search_terms, "") + literal(" ")
        position = func.instr if dialect == "sqlite" else func.strpos
        phrases = [position(padded, f" {' '.join(c.terms)} ") > 0 for c in p.exact]
        package = select(Package.id).where(Package.id == Clip.package_id, *phrases)
        where.append(exists(package.offset(0) if dialect != "sqlite" else package))
    return where
