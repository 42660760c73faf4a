"""The indexed terms of a package's text, and the query that matches them: words inside Korean compounds.

Korean writes nouns together ("남대문시장", "교통사고조사"), so an index of whole words cannot
find "시장" inside "남대문시장". Each run of Hangul (or Han) letters is therefore also indexed as
its overlapping two-letter pieces (bigrams) plus its last letter: "남대문시장" gives 남대 대문 문시
시장 장. A Korean query word becomes the phrase of its bigrams ("대문시장" = 대문 문시 시장, in that
order), so it matches exactly the texts that contain it as a substring; a one-letter query is
a prefix that matches the pieces starting with it (the last letter covers words ending in it).
Other words (Latin, digits) keep today's rule: the whole word, matched as a prefix.

Why bigrams and not a morphological analyser such as kiwipiepy: the analyser leaves compounds
such as 횡단보도 and 교통사고 whole (checked with kiwipiepy on this project's machines), so
보도 and 사고 would still be missed as parts; bigrams need no model (kiwipiepy's is 105 MB),
give the same terms on both back ends, and their answers follow from the text alone. The price
is precision where a part means something else ("시장" also finds 시장실, the mayor's office);
``benchmarks/korean_search.py`` measures both on a Korean test set.

The terms are computed here, in Python, once per write (``Package.search_terms``), and both
back ends index that one column with their plain whitespace tokenizer: SQLite's FTS5
(unicode61) and PostgreSQL's ``to_tsvector('simple', ...)``. The text is normalised first
(NFKC, lower case, accents off Latin letters, letters and digits only), so the two engines
see identical tokens and give the same answers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Letters and digits; everything else (punctuation, operators, quotes) separates words.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
#: PostgreSQL ignores words longer than 2047 bytes; no real word is near it.
MAX_TERM = 200


def _is_cjk(ch: str) -> bool:
    """Hangul syllables and Han ideographs: the scripts that write compounds without spaces."""
    code = ord(ch)
    return 0xAC00 <= code <= 0xD7A3 or 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


def _fold(ch: str) -> str:
    """Lower case, and accents off a Latin letter ("é" -> "e"), as FTS5's remove_diacritics would."""
    if _is_cjk(ch) or ord(ch) < 0x80:
        return ch.lower()
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    """The searchable words of a text: NFKC (so decomposed Hangul and full-width letters match), folded."""
    normal = unicodedata.normalize("NFKC", text or "")
    return [w[:MAX_TERM] for w in ("".join(_fold(c) for c in m) for m in _WORD.findall(normal)) if w]


def _runs(word: str) -> list[tuple[bool, str]]:
    """The word cut where it changes between CJK and other letters: "3번출구" -> 3 | 번출구."""
    out: list[tuple[bool, str]] = []
    for ch in word:
        cjk = _is_cjk(ch)
        if out and out[-1][0] == cjk:
            out[-1] = (cjk, out[-1][1] + ch)
        else:
            out.append((cjk, ch))
    return out


def _pieces(run: str) -> list[str]:
    """Bigrams of a CJK run, then its last letter: 남대문 -> 남대 대문 문."""
    return [run[i:i + 2] for i in range(len(run) - 1)] + [run[-1]]


def document(*texts: str | None) -> str:
    """The indexed terms of some texts, space-separated, in order (phrases depend on the order).

    Each word is written whole first; a word with CJK letters is followed by the pieces of each
    CJK run, and a mixed word ("3번출구") by its other runs too. The whole word between two
    words' pieces keeps one word's last bigram from being adjacent to the next word's first, so
    a phrase never matches across a space.
    """
    out: list[str] = []
    for text in texts:
        for word in words(text or ""):
            out.append(word)
            runs = _runs(word)
            if len(runs) == 1 and not runs[0][0]:
                continue
            for cjk, run in runs:
                if cjk:
                    out.extend(_pieces(run))
                elif len(runs) > 1:
                    out.append(run)
    return " ".join(out)


@dataclass(frozen=True)
class Clause:
    """One required part of a query: a phrase of exact terms, or a single term matched as a prefix."""

    terms: tuple[str, ...]
    prefix: bool


def query(text: str) -> list[Clause]:
    """The clauses a query needs, all of them required (AND); empty when it holds no word.

    Per word: each CJK run of two or more letters is the phrase of its bigrams, a one-letter
    run is a prefix (it matches the pieces that start with it), any other run a prefix as today.
    """
    clauses: list[Clause] = []
    for word in words(text):
        for cjk, run in _runs(word):
            if cjk and len(run) > 1:
                clause = Clause(tuple(run[i:i + 2] for i in range(len(run) - 1)), prefix=False)
            else:
                clause = Clause((run,), prefix=True)
            if clause not in clauses:
                clauses.append(clause)
    return clauses


def sqlite_match(clauses: list[Clause]) -> str:
    """An FTS5 MATCH expression: terms are letters and digits only, each quoted; phrases with ``+``."""
    parts = []
    for c in clauses:
        phrase = " + ".join(f'"{t}"' for t in c.terms)
        parts.append(phrase + "*" if c.prefix else phrase)
    return " AND ".join(parts)


def pg_tsquery(clauses: list[Clause]) -> str:
    """A to_tsquery text: phrases with ``<->`` (followed by), prefixes with ``:*``; all required."""
    parts = []
    for c in clauses:
        if c.prefix:
            parts.append(f"'{c.terms[0]}':*")
        else:
            phrase = " <-> ".join(f"'{t}'" for t in c.terms)
            parts.append(f"({phrase})" if len(c.terms) > 1 else phrase)
    return " & ".join(parts)
