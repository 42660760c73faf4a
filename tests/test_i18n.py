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


# ---- plurals, numbers and dates (issue 24) -----------------------------------------------------

def in_language(lang: str, func, *args, **kwargs):
    token = i18n.set_language(lang)
    try:
        return func(*args, **kwargs)
    finally:
        i18n.reset_language(token)


def test_plurals_in_english_and_korean():
    def files(n):
        return i18n.ngettext("{files} file, {size} digested", "{files} files, {size} digested", n).format(
            files=n, size="1 KiB")

    assert in_language("en", files, 1) == "1 file, 1 KiB digested"
    assert in_language("en", files, 2) == "2 files, 1 KiB digested"
    assert in_language("ko", files, 1) == "파일 1개, 1 KiB 해시 검사"
    assert in_language("ko", files, 2) == "파일 2개, 1 KiB 해시 검사"


def test_one_file_is_not_one_files(lw, archive, fresh_clip):
    from conftest import ingest_one

    package_id = ingest_one(archive, fresh_clip)
    english = lw("--lang", "en", "verify", package_id)
    assert english.exit_code == 0 and "1 file, " in english.stdout and "1 files" not in english.stdout
    korean = lw("--lang", "ko", "verify", package_id)
    assert "파일 1개" in korean.stdout


def test_words_with_two_meanings_have_a_context_each():
    assert in_language("ko", i18n.pgettext, "analytics grouping", "by") == "집계 단위"
    assert in_language("ko", i18n.pgettext, "custody event actor", "by") == "수행자"
    assert in_language("ko", i18n.pgettext, "calendar", "month") == "월"
    assert in_language("ko", i18n.ngettext, "{n} month", "{n} months", 6).format(n=6) == "6개월"
    assert in_language("en", i18n.pgettext, "analytics grouping", "by") == "by"


def test_dates_and_numbers_in_the_readers_form():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    when = datetime(2026, 12, 7, 3, 4, 5, 123456, tzinfo=UTC)
    seoul = ZoneInfo("Asia/Seoul")
    assert in_language("ko", i18n.format_datetime, when, seoul) == "2026. 12. 7. 오후 12:04:05 KST"
    assert in_language("en", i18n.format_datetime, when, seoul) == "Dec 7, 2026, 12:04:05\u202fPM KST"
    assert in_language("ko", i18n.format_datetime, "2026-12-07T03:04:05.123456Z", utc=True) == \
        "2026. 12. 7. 오전 3:04:05 UTC"
    assert in_language("ko", i18n.format_date, when, seoul) == "2026년 12월 7일"
    assert in_language("ko", i18n.format_number, 1234567) == "1,234,567"
    assert in_language("ko", i18n.format_datetime, None) == "-"


def test_package_page_shows_local_times_without_microseconds(login_as, web_archive):
    import re

    from web_fixtures import csrf_of

    client = login_as("operator")
    client.post("/me", data={"language": "ko", "csrf_token": csrf_of(client, "/me")})
    page = client.get(f"/packages/{web_archive.package_id}").get_data(as_text=True)
    events = page.split('id="events-h"', 1)[1]
    shown = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', events)
    assert shown, events[:500]
    for exact, text in shown:
        assert re.search(r"\.\d{6}|\dT\d", text) is None, text  # no ISO 8601, no microseconds
        assert text.endswith(" KST") and ("오전" in text or "오후" in text), text
        assert exact.endswith("Z")  # the record's own value stays in the markup
    assert "입수" in events or "해시값 계산" in events  # PREMIS event types in Korean
