"""The catalog reader of longwatch/pofile.py gives every message exactly as Babel's read_po + write_mo did.

Babel stays the reference (it writes the catalogs, `make i18n`); the reader exists because importing Babel
and its parser cost every command in Korean about 60 ms (issue 23).
"""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from test_i18n import KO_PO

from longwatch import pofile

SAMPLE = r'''# Korean translations for a sample.
msgid ""
msgstr ""
"Language: ko\n"
"Plural-Forms: nplurals=1; plural=0;\n"
"Content-Type: text/plain; charset=utf-8\n"

msgid "plain"
msgstr "평범한"

#, python-brace-format
msgid ""
"a message on "
"two lines with \"quotes\", a tab\t and {name}\n"
msgstr ""
"두 줄에 걸친 \"따옴표\", 탭\t 그리고 "
"{name}\n"

#, fuzzy
msgid "fuzzy one"
msgstr "흐릿한 번역"

msgid "not translated"
msgstr ""

msgctxt "grouping"
msgid "by"
msgstr "별"
msgctxt "person"
msgid "by"
msgstr "작성자"

msgid "{count} file"
msgid_plural "{count} files"
msgstr[0] "파일 {count}개"

msgid "{count} thing"
msgid_plural "{count} things"
msgstr[0] ""

msgid "back\\slash"
msgstr "역\\슬래시"

#~ msgid "obsolete"
#~ msgstr "폐기됨"
'''


def babel_translations(text: str) -> Translations:
    """What i18n.translations did before: Babel reads the catalog and writes a .mo in memory."""
    catalog = read_po(io.BytesIO(text.encode("utf-8")), locale="ko", domain="longwatch")
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain="longwatch")


def asked(text: str) -> list[tuple]:
    """Every question a caller can put about the catalog's messages (and a few it does not hold)."""
    catalog = read_po(io.BytesIO(text.encode("utf-8")), locale="ko")
    questions: list[tuple] = [("gettext", "nothing like this"), ("ngettext", "no file", "no files", 2)]
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id, message.id + "s")
        for n in (1, 2):
            if message.context:
                questions += [("pgettext", message.context, ids[0]), ("npgettext", message.context, *ids, n)]
            else:
                questions += [("gettext", ids[0]), ("ngettext", *ids, n)]
    return questions


@pytest.mark.parametrize("source", ["sample", "korean catalog"])
def test_every_message_reads_as_babel_reads_it(source):
    text = SAMPLE if source == "sample" else KO_PO.read_text(encoding="utf-8")
    ours, babels = pofile.translations(text), babel_translations(text)
    questions = asked(text)
    assert len(questions) > (10 if source == "sample" else 2000)
    differ = [(q, getattr(ours, q[0])(*q[1:]), getattr(babels, q[0])(*q[1:])) for q in questions
              if getattr(ours, q[0])(*q[1:]) != getattr(babels, q[0])(*q[1:])]
    assert differ == []


def test_what_the_sample_holds():
    t = pofile.translations(SAMPLE)
    assert t.gettext("plain") == "평범한"
    assert t.gettext('a message on two lines with "quotes", a tab\t and {name}\n') == \
        '두 줄에 걸친 "따옴표", 탭\t 그리고 {name}\n'
    assert t.gettext("fuzzy one") == "fuzzy one"  # a fuzzy translation is not used
    assert t.gettext("not translated") == "not translated"
    assert (t.pgettext("grouping", "by"), t.pgettext("person", "by")) == ("별", "작성자")
    assert t.ngettext("{count} file", "{count} files", 5) == "파일 {count}개"
    assert t.ngettext("{count} thing", "{count} things", 5) == "{count} thing"  # Korean's one form
    assert t.gettext("back\\slash") == "역\\슬래시"
    assert t.gettext("obsolete") == "obsolete"


def test_a_line_that_is_not_a_catalog_line_is_refused():
    with pytest.raises(ValueError):
        pofile.translations(SAMPLE + "\nmsgsomething else\n")


def test_reading_korean_imports_no_babel():
    code = ("import sys\nfrom longwatch import i18n\ni18n.set_language('ko')\n"
            "assert i18n.gettext('Commands') != 'Commands'\nprint('babel' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
