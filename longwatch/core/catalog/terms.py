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


#: A run of the letters that write compounds without spaces: Hangul syllables and Han ideographs.
_CJK_RUN = re.compile("[\uac00-\ud7a3\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
#: Latin letters that may carry accents (Latin-1, Extended-A/B, Extended Additional).
_ACCENTED = re.compile("[\u00c0-\u024f\u1e00-\u1eff]")


def _strip_accent(m: re.Match[str]) -> str:
    """"é" -> "e"; a letter with no base letter (ł, ß) stays as it is."""
    return "".join(c for c in unicodedata.normalize("NFKD", m.group()) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The searchable words of a text: NFKC (so decomposed Hangul and full-width letters match), folded.

    One pass of each normalisation over the whole text, the accent pass only where a Latin
    accent can be: this runs on every write and on every row of a rebuild.
    """
    normal = unicodedata.normalize("NFKC", text or "").lower()
    if not normal.isascii():
        normal = _ACCENTED.sub(_strip_accent, normal)
    return [w[:MAX_TERM] for w in _WORD.findall(normal)]


def _runs(word: str) -> list[tuple[bool, str]]:
    """The word cut where it changes between CJK and other letters: "3번출구" -> 3 | 번출구."""
    out: list[tuple[bool, str]] = []
    at = 0
    for m in _CJK_RUN.finditer(word):
        if m.start() > at:
            out.append((False, word[at:m.start()]))
        out.append((True, m.group()))
        at = m.end()
    if at < len(word):
        out.append((False, word[at:]))
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

    Per word: a CJK word of two or more letters is the phrase of its bigrams, a one-letter
    CJK word a prefix (it matches the pieces that start with it), any other word -- Latin,
    digits, or mixed such as "3번출구" -- the whole word as a prefix, as before. (Mixed words are
    not cut into runs here: a run "3" as a prefix would match every number starting with 3,
    costly and useless.)
    """
    clauses: list[Clause] = []
    for word in words(text):
        runs = _runs(word)
        if len(runs) == 1 and runs[0][0] and len(word) > 1:
            clause = Clause(tuple(word[i:i + 2] for i in range(len(word) - 1)), prefix=False)
        else:
            clause = Clause((word,), prefix=True)
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
