"""Every message a person reads has a Korean translation, and Korean reaches the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from conftest import error_codes, run_longwatch

from longwatch import i18n
from longwatch.errors import CODES, LongwatchError

ROOT = Path(__file__).resolve().parent.parent
KO_PO = ROOT / "longwatch/locale/ko/LC_MESSAGES/longwatch.po"


@pytest.fixture(scope="module")
def korean():
    with KO_PO.open("rb") as fh:
        return read_po(fh, locale="ko")


def extracted_msgids() -> set[str]:
    """What `make i18n` extracts (babel.cfg): Python sources and the web templates."""
    method_map = [("**.py", "python"), ("web/templates/**.html", "jinja2")]
    keywords = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
                "npgettext": ((1, "c"), 2, 3)}
    found = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
            str(ROOT / "longwatch"), method_map=method_map, keywords=keywords):
        found.add((context, message if isinstance(message, str) else message[0]))
    return found


def test_every_error_message_is_translated(korean):
    missing = [code for code, msg in CODES.items() if not (korean.get(msg) and korean.get(msg).string)]
    assert missing == [], "add these to scripts/ko_messages.py and run `make i18n`"


def test_every_extracted_msgid_is_translated(korean):
    missing = sorted(m for context, m in extracted_msgids()
                     if not (korean.get(m, context) and korean.get(m, context).string))
    assert missing == [], "add these to scripts/ko_messages.py and run `make i18n`"


def test_translations_keep_every_placeholder(korean):
    import string

    for message in korean:
        if not message.id or not message.string:
            continue
        # a plural message: Korean's one form keeps the placeholders of the English plural
        msgid = message.id[-1] if isinstance(message.id, tuple | list) else message.id
        msgstr = message.string[0] if isinstance(message.string, tuple | list) else message.string
        fields = {f for _, f, _, _ in string.Formatter().parse(msgid) if f}
        translated = {f for _, f, _, _ in string.Formatter().parse(msgstr) if f}
        assert fields == translated, msgid


def test_error_renders_in_korean_with_the_same_code():
    token = i18n.set_language("ko")
    try:
        err = LongwatchError("I001", path="clip.mp4")
        korean = err.render()
        assert "clip.mp4" in korean and korean != err.render(translate=False)
        assert any("\uac00" <= ch <= "\ud7a3" for ch in korean)  # Hangul
        assert err.to_dict()["code"] == "I001"
    finally:
        i18n._current.reset(token)


@pytest.mark.parametrize("value,expected", [("ko_KR.UTF-8", "ko"), ("ko-KR", "ko"), ("en_US", "en"),
                                            ("fr_FR", None), ("", None), (None, None)])
def test_normalize(value, expected):
    assert i18n.normalize(value) == expected


def test_cli_prints_korean_errors_with_same_code(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    english = run_longwatch("ingest", empty, cwd=tmp_path, env={"LONGWATCH_LANG": "en"})
    korean = run_longwatch("ingest", empty, cwd=tmp_path, env={"LONGWATCH_LANG": "ko"})
    assert error_codes(english.stderr) == error_codes(korean.stderr) == ["A001"]
    assert english.returncode == korean.returncode == 3
    assert "아카이브" in korean.stderr
    assert "no archive found" in english.stderr


def test_cli_korean_inside_archive(archive, tmp_path, lw):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    result = lw("ingest", str(empty), env={"LONGWATCH_LANG": "ko"})
    assert error_codes(result.stderr) == ["I001"]
    assert korean_text(result.stderr)
    result = lw("--lang", "ko", "ingest", str(empty))
    assert error_codes(result.stderr) == ["I001"] and korean_text(result.stderr)


def test_archive_language_applies_when_environment_says_nothing(tmp_path, runner, monkeypatch):
    from conftest import create_archive

    from longwatch.cli import cli

    a = create_archive(tmp_path / "ko-archive", language="ko")
    a.close()
    empty = tmp_path / "empty.mp4"
    empty.touch()
    for var in ("LONGWATCH_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    result = runner.invoke(cli, ["-A", str(tmp_path / "ko-archive"), "ingest", str(empty)])
    assert error_codes(result.stderr) == ["I001"]
    assert korean_text(result.stderr)


def korean_text(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)
