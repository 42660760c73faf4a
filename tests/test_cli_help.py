"""`longwatch --help` speaks the reader's language: every command's help, its options and click's words."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po
from conftest import run_longwatch
from test_i18n import KO_PO, korean_text

from longwatch.cli import cli
from longwatch.cli_help import all_help_texts


@pytest.fixture(scope="module")
def catalog():
    with KO_PO.open("rb") as fh:
        return read_po(fh, locale="ko")


def test_every_help_text_is_translated(catalog):
    texts = all_help_texts(cli)
    assert len(texts) > 200  # every command of the tree, subcommands included
    missing = [t for t in texts if not (catalog.get(t) and catalog.get(t).string)]
    assert missing == [], "add these to scripts/ko/ and run `make i18n`"


def test_help_in_korean_from_the_environment_and_from_lang():
    korean = run_longwatch("--help", env={"LONGWATCH_LANG": "ko"})
    assert korean.returncode == 0, korean.stderr
    assert "사용법: longwatch" in korean.stdout and "옵션:" in korean.stdout and "명령:" in korean.stdout
    assert "영상정보처리기기(CCTV) 영상을 위한 보존 아카이브" in korean.stdout
    assert "이 도움말을 보여 주고 끝냅니다." in korean.stdout
    assert "Show this message" not in korean.stdout and "Usage:" not in korean.stdout
    # the commands' short help in the list is Korean too
    assert "법적 보존 조치" in korean.stdout

    nested = run_longwatch("--lang", "ko", "custody", "verify", "--help", env={"LONGWATCH_LANG": "en"})
    assert nested.returncode == 0, nested.stderr
    assert "원장 전체를 검증합니다" in nested.stdout and "신뢰하는 서명자 인증서" in nested.stdout

    english = run_longwatch("--help", env={"LONGWATCH_LANG": "en"})
    assert "Usage: longwatch" in english.stdout and "a preservation archive for CCTV video" in english.stdout
    assert not korean_text(english.stdout)


def test_lang_before_help_at_the_top(runner):
    result = runner.invoke(cli, ["--lang", "ko", "--help"], env={"LONGWATCH_LANG": "en"})
    assert result.exit_code == 0 and "사용법:" in result.output


def test_korean_help_leaves_the_commands_english(runner):
    """Help is translated on a copy: the next reader, in the same process, still gets English."""
    korean = runner.invoke(cli, ["--lang", "ko", "verify", "--help"])
    assert "패키지(ID 또는 디렉터리)나 --all을 검증합니다" in korean.output
    english = runner.invoke(cli, ["--lang", "en", "verify", "--help"])
    assert "Verify a package (id or directory)" in english.output and not korean_text(english.output)
    assert cli.get_command(None, "verify").help.startswith("Verify a package")
