"""One vocabulary in Korean: the glossary holds, the catalog compiles, and Korean pages show no English.

docs/glossary.md is the vocabulary's one source: this test reads its table, so
adding a term there is enough to enforce it on every message.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KO_PO = ROOT / "longwatch/locale/ko/LC_MESSAGES/longwatch.po"
GLOSSARY = ROOT / "docs/glossary.md"


@dataclass(frozen=True)
class Term:
    english: tuple[str, ...]
    korean: str
    avoid: tuple[str, ...]
    forms: tuple[str, ...] = ()  # the term's verb forms, in brackets in the table: 내보내기 (내보냅니다)

    def said_in(self, msgstr: str) -> bool:
        return any(form in msgstr for form in (self.korean, *self.forms))

    def used_in(self, msgid: str) -> bool:
        # placeholders, commands and option names are not words a reader reads: {package}, `custody verify`
        msgid = re.sub(r"\{[^}]*\}|`[^`]*`|\[[^\]]*\]", " ", msgid)
        return any(re.search(rf"(?<![\w-]){re.escape(e)}(?![\w-])", msgid, re.I) for e in self.english)


def glossary_terms(text: str) -> list[Term]:
    """The rows of the "Terms" table: English | 한국어 | Source | Not."""
    section = text.split("## Terms", 1)[1].split("\n## ", 1)[0]
    terms = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("English", "") or set(cells[0]) <= {"-"}:
            continue
        english = tuple(e.strip() for e in re.sub(r"\(.*?\)", "", cells[0]).split("/") if e.strip())
        avoid = tuple(a.strip() for a in cells[3].split(",") if a.strip())
        korean, _, forms = cells[1].partition("(")
        terms.append(Term(english, korean.strip(), avoid,
                          tuple(f.strip() for f in forms.rstrip(")").split(",") if f.strip())))
    return terms


@pytest.fixture(scope="module")
def terms() -> list[Term]:
    return glossary_terms(GLOSSARY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def korean() -> list[tuple[str, str]]:
    """(msgid, msgstr) of every Korean message; a plural message by its plural msgid."""
    with KO_PO.open("rb") as fh:
        catalog = read_po(fh, locale="ko")
    out = []
    for m in catalog:
        if not m.id:
            continue
        msgid = m.id[-1] if isinstance(m.id, tuple | list) else m.id
        msgstr = m.string[0] if isinstance(m.string, tuple | list) else m.string
        out.append((msgid, msgstr))
    return out


def test_glossary_table_is_read(terms):
    names = {e for t in terms for e in t.english}
    assert {"destruction certificate", "chain of custody", "worker", "catalog", "manifest"} <= names
    assert len(terms) >= 25


def test_no_message_uses_a_word_the_glossary_rules_out(terms, korean):
    found = [(term.korean, word, msgid) for term in terms for word in term.avoid
             for msgid, msgstr in korean if word in msgstr]
    assert found == [], "translate with the glossary's term (docs/glossary.md)"


def test_each_term_is_translated_one_way(terms, korean):
    """A message whose English names a term says the glossary's Korean for it."""
    found = []
    for term in terms:
        # the longest English match wins: "custody ledger" is its own row, and so is "destruction certificate"
        longer = [t for t in terms if t is not term and any(
            e != f and e in f for e in term.english for f in t.english)]
        for msgid, msgstr in korean:
            if not term.used_in(msgid) or term.said_in(msgstr):
                continue
            if any(t.used_in(msgid) and t.said_in(msgstr) for t in longer):
                continue
            found.append((term.english[0], term.korean, msgid, msgstr))
    assert found == [], "\n".join(f"{e} -> {k}: {i!r} = {s!r}" for e, k, i, s in found)


def test_the_words_named_in_issue_24_are_settled(korean):
    table = dict(korean)
    assert table["Skip to content"] == "본문 바로가기"
    assert table["Event"] == "이벤트"
    assert "파기 확인서" in table["Destruction certificate: {path} (check it with `longwatch verify`)"]
    assert "카탈로그" in table["Jobs run in-process on this archive (SQLite catalog); there is no queue."]
    assert "관리 연속성" in table["Custody timeline"]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt (Debian package gettext)")
def test_msgfmt_accepts_the_catalog(tmp_path):
    result = subprocess.run(["msgfmt", "-c", "-o", str(tmp_path / "ko.mo"), str(KO_PO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr


# ---- Korean pages show no English --------------------------------------------------------------

#: English a Korean page may show: names, formats and standards that are not translated in Korean either
KEEP_ENGLISH = {"longwatch", "SHA-256", "SHA-512", "PREMIS", "BagIt", "UTC", "KST", "PIPA", "JSON", "CSV", "API",
                "OpenAPI", "ID", "MP4", "SVG", "PDF", "English", "CCTV", "URL", "PostgreSQL", "SQLite"}
LANG_EN = re.compile(r"<(\w+)\b[^>]*\blang=\"en\"[^>]*>.*?</\1>", re.S)
TAGS = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->", re.S | re.I)
VISIBLE_ATTRS = re.compile(r'\b(?:alt|title|aria-label|placeholder)="([^"]*)"')
ENGLISH_PHRASE = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ \t]+[A-Za-z][A-Za-z'’-]*)+")


def visible_text(page: str) -> str:
    """What a reader sees or hears: the text between the tags and the attributes a screen reader reads.

    An element marked ``lang="en"`` holds what a record itself says in English (a PREMIS event's note, the
    language switch's "English"): it is shown as written and announced in English, so it is not checked.
    """
    page = LANG_EN.sub(" ", TAGS.sub(" ", page))
    spoken = " \n".join(VISIBLE_ATTRS.findall(page))
    return html.unescape(re.sub(r"<[^>]+>", "\n", page) + "\n" + spoken)


def english_phrases(text: str, data: set[str]) -> list[str]:
    """Two or more English words in a row that are not a name, a standard or the archive's own data."""
    found = []
    for line in text.splitlines():
        for data_value in data:
            line = line.replace(data_value, " ")
        for phrase in ENGLISH_PHRASE.findall(line):
            words = [w for w in phrase.split() if w not in KEEP_ENGLISH]
            if len(words) >= 2 and not phrase.startswith("longwatch "):  # a command line is not translated
                found.append(phrase)
    return found


def get_pages(app, web_archive) -> list[str]:
    """Every page a GET without query reaches: the app's rules with the test archive's ids filled in."""
    values = {"package_id": web_archive.package_id}
    pages = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint.endswith("static"):
                continue
            if rule.rule.startswith("/api/") or set(rule.arguments) - set(values):
                continue
            pages.append(url_for(rule.endpoint, **{k: values[k] for k in rule.arguments}))
    return sorted(set(pages))


def test_english_phrases_are_found():
    page = ('<p>패키지 <b>Verify now</b></p><img alt="Poster frame of clip"><script>var a = "not shown";</script>'
            '<td lang="en">computed in one pass</td>')
    assert english_phrases(visible_text(page), set()) == ["Verify now", "Poster frame of clip"]
    assert english_phrases(visible_text("<p>SHA-256 PREMIS 검증</p><p>Gate cam</p>"), {"Gate cam"}) == []


def test_korean_pages_show_no_english(app, web_archive, login_as):
    from web_fixtures import csrf_of

    client = login_as("administrator")
    client.post("/me", data={"language": "ko", "csrf_token": csrf_of(client, "/me")})
    pkg = web_archive.archive.catalog.get(web_archive.package_id)
    data = {web_archive.package_id, pkg.title or "", pkg.camera or "", "administrator", "records-manager",
            web_archive.archive.settings.organization}
    data |= {c.original_name for c in pkg.clips} | {c.relpath for c in pkg.clips} | {pkg.storage_location}
    # a request with a few steps, so that its page, its timeline and the register have rows
    from longwatch.core.public import access_requests

    archive = web_archive.archive
    req = access_requests.create(archive, "pipa-access", requester="김민수", identity_method="주민등록증 대조",
                                 claimed_start=pkg.start_utc, camera=pkg.camera or "", actor="operator")
    access_requests.search(archive, req.number, actor="operator")
    access_requests.postpone(archive, req.number, "마스킹할 얼굴이 많음", actor="operator")
    found = {}
    pages = [*get_pages(app, web_archive), "/no-such-page", f"/requests/view?number={req.number}"]
    assert len(pages) >= 10, pages
    for path in pages:
        response = client.get(path)
        if response.mimetype != "text/html":  # error pages too: a 404 speaks Korean as well
            continue
        page = response.get_data(as_text=True)
        assert 'lang="ko"' in page, path
        phrases = english_phrases(visible_text(page), {d for d in data if d})
        if phrases:
            found[path] = phrases
    assert found == {}


def test_one_register_of_politeness(korean):
    """Sentences end in 합쇼체 (…습니다, …십시오); never 해요체 (…해요, …세요) or the plain …한다."""
    plain = re.compile(r"(?<!니)다[.!]?(?:$|\n)|(?<!아니)요[.!]?(?:$|\n)|세요|해요")
    found = [(msgid, msgstr) for msgid, msgstr in korean if plain.search(msgstr)]
    assert found == []
