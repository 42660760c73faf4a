"""The documents a public body files are PDF/A: identified in XMP, fonts embedded, tagged, titled, in a language.

veraPDF, the reference validator, is not on the package registries, so this is the structural check of
docs/documents.md, read from outside with pikepdf (and the page text with poppler's pdftotext): the PDF/A
identification in XMP, an output intent, every font embedded, /Lang, /MarkInfo and a structure tree with
headings and tables, the title shown as the window title, page numbers on every page, no encryption, no
JavaScript and no reference outside the file. Each document is made the way the archive makes it: a
destruction certificate by an executed disposition, the operation register by `longwatch register --pdf`,
REPORT.pdf by an evidence export.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from conftest import error_codes, frozen_longwatch, run_longwatch, sign_in, stored_file
from pdfa_check import check_pdfa, korean_fonts_embedded, page_texts
from retention_helpers import ALICE, BOB, add_package, later

from longwatch.core.custody import CustodyEvent, Ledger, person_agent
from longwatch.core.documents import fonts, pdfa
from longwatch.core.evidence import export as export_mod
from longwatch.core.evidence import report
from longwatch.core.evidence.request import Recipient, Request
from longwatch.core.records import dispositions


def test_destruction_certificate_is_pdfa_with_its_signed_record_inside(archive, small_clip, tmp_path):
    package_id = add_package(archive, small_clip, tmp_path, "gone")
    disposition, _plan = dispositions.propose(archive, ALICE, later(60))
    assert disposition is not None
    dispositions.approve(archive, disposition.id, BOB, later(60))
    result = dispositions.execute(archive, disposition.id, BOB, later(60))
    record = stored_file(archive, result["certificate"])
    path = record.with_suffix(".pdf")
    pdf, texts = check_pdfa(path, lang="ko", title="파기 확인서")
    assert korean_fonts_embedded(pdf)
    text = " ".join("".join(texts).split())
    assert "파기 확인서" in text and package_id in text
    # PDF/A-3: the signed JSON and its signature travel inside the filed copy, byte for byte
    attached = {name: spec for name, spec in pdf.attachments.items()}
    assert attached[record.name].get_file().read_bytes() == record.read_bytes()
    signature = record.with_name(record.name + ".p7s")
    assert attached[signature.name].get_file().read_bytes() == signature.read_bytes()
    assert attached[record.name].relationship == "/Source"
    assert {spec.objgen for spec in pdf.Root.AF} == {spec.obj.objgen for spec in attached.values()}
    # the certificate is dated by its execution, not by when it was rendered
    assert str(pdf.docinfo.CreationDate).startswith(later(60).strftime("D:%Y%m%d"))


def test_operation_register_pdf_is_pdfa_on_numbered_landscape_pages(archive, lw, small_clip, tmp_path):
    package_id = add_package(archive, small_clip, tmp_path, "shared")
    Ledger.for_archive(archive).append([
        CustodyEvent(type="dissemination", packages=[package_id], detail=f"화재 원인 조사용 사본 {i}",
                     agents=[person_agent("clerk")], extra={"recipient": "소방서", "legal_basis": "재난안전법 제41조"})
        for i in range(90)])
    out = tmp_path / "register.pdf"
    result = lw("register", "--pdf", str(out), env={"LONGWATCH_LANG": "ko"})
    assert result.exit_code == 0, result.output
    pdf, texts = check_pdfa(out, lang="ko", title="관리대장")
    assert korean_fonts_embedded(pdf)
    assert len(texts) >= 2  # 90 rows do not fit one page: the numbers say "2 / n"
    page = pdf.pages[0]
    assert float(page.MediaBox[2]) > float(page.MediaBox[3])  # landscape
    assert "소방서" in texts[0] and "화재 원인 조사용 사본 89" in "".join(texts)


@pytest.mark.parametrize("language, title", [("ko", "증거"), ("en", "Evidence export report")])
def test_export_report_is_pdfa_in_the_requested_language(archive, small_clip, tmp_path, language, title):
    package_id = add_package(archive, small_clip, tmp_path, "evidence")
    fire = Recipient("소방재난본부", "김소방", legal_basis="재난안전법 제41조", purpose="화재 원인 조사")
    out = tmp_path / "export"
    export_mod.export(archive, Request(fire, [package_id], language=language), out)
    pdf, texts = check_pdfa(out / "REPORT.pdf", lang=language, title=title)
    assert korean_fonts_embedded(pdf)
    assert "소방재난본부" in "".join(texts)


def test_the_same_report_renders_the_same_bytes(archive, small_clip, tmp_path):
    package_id = add_package(archive, small_clip, tmp_path, "twice")
    out = tmp_path / "export"
    export_mod.export(archive, Request(Recipient("중부경찰서", "이경위", legal_basis="형사소송법 제215조",
                                                 purpose="수사"), [package_id]), out)
    description = json.loads((out / "export.json").read_bytes())
    first = report.render_pdf(description, [], UTC, "ko")
    assert report.render_pdf(description, [], UTC, "ko") == first


def fontconfig_with(env_fonts: Path, tmp_path: Path) -> dict[str, str]:
    """An environment whose fontconfig sees only ``env_fonts`` (fontconfig reads its setup once per process)."""
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
                      f"<fontconfig><dir>{env_fonts}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>\n")
    return {"FONTCONFIG_FILE": str(config)}


def _render_in(env_fonts: Path, tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    """Render in a fresh process whose fontconfig sees only ``env_fonts``."""
    script = textwrap.dedent(f"""
        from longwatch.core.documents import pdfa
        from longwatch.errors import LongwatchError
        html = '<!doctype html><html lang="ko"><head><title>t</title></head><body><p>{text}</p></body></html>'
        try:
            pdfa.render(html, title="t", lang="ko", document="test")
        except LongwatchError as exc:
            print(exc.code, str(exc))
        else:
            print("rendered")
        """)
    env = {**os.environ, **fontconfig_with(env_fonts, tmp_path), "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)


def test_no_korean_font_stops_the_document(tmp_path):
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    done = _render_in(empty, tmp_path, "파기 확인서")
    assert done.stdout.startswith("U020 "), done.stdout + done.stderr
    assert "fontconfig" in done.stdout


def test_a_character_no_font_covers_stops_the_document(tmp_path):
    """A box where a name should be is not a record: U020 names the characters."""
    only = tmp_path / "only-korean"
    only.mkdir()
    (only / fonts.korean_font().path.name).symlink_to(fonts.korean_font().path)
    assert _render_in(only, tmp_path, "한글").stdout.strip() == "rendered"
    done = _render_in(only, tmp_path, "한글 \U00013000")
    assert done.stdout.startswith("U020 ") and "\U00013000" in done.stdout, done.stdout + done.stderr


def test_a_disposition_without_a_korean_font_still_signs_its_certificate(archive, small_clip, tmp_path):
    """The footage is gone when the certificate is written: no font costs the PDF, never the signed record."""
    add_package(archive, small_clip, tmp_path, "gone")
    disposition, _plan = dispositions.propose(archive, ALICE, later(60))
    assert disposition is not None
    dispositions.approve(archive, disposition.id, BOB, later(60))
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    env = {**sign_in(archive, "bob", "records-manager"), **fontconfig_with(empty, tmp_path)}
    proc = frozen_longwatch("2026-03-02T00:00:00Z", "-A", archive.root, "dispose", "execute", disposition.id,
                            "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    record = stored_file(archive, json.loads(proc.stdout)["certificate"])
    assert record.is_file() and record.with_name(record.name + ".p7s").is_file()
    assert record.with_suffix(".html").is_file() and not record.with_suffix(".pdf").exists()
    package_id = json.loads(record.read_text())["packages"][0]["package_id"]
    entries = [e for _s, e, _l in Ledger.for_archive(archive).history(package_id)
               if e["type"] == "digital signature generation"]
    [entry] = [e for e in entries if (e.get("extra") or {}).get("disposition") == disposition.id]
    assert "no PDF/A" in entry["note"] and "U020" in entry["note"]


def test_an_export_without_a_korean_font_stops_before_it_writes_or_records(archive, small_clip, tmp_path):
    """E008 before anything: REPORT.pdf could not be made, so no half export and no transfer in the ledger."""
    package_id = add_package(archive, small_clip, tmp_path, "evidence")
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    before = Ledger.for_archive(archive).size()
    out = tmp_path / "export"
    proc = run_longwatch("-A", archive.root, "export", package_id, "-o", out, "--agency", "중부경찰서",
                         "--legal-basis", "형사소송법 제215조", "--purpose", "수사",
                         env={**fontconfig_with(empty, tmp_path), "LONGWATCH_LANG": "en"})
    assert proc.returncode != 0 and error_codes(proc.stderr) == ["E008"], proc.stderr
    assert not out.exists() and Ledger.for_archive(archive).size() == before


def test_no_fetch_while_rendering(tmp_path):
    """A document never reaches the network: an image or stylesheet by URL is refused, the text still renders."""
    html = ('<!doctype html><html lang="en"><head><title>t</title>'
            '<link rel="stylesheet" href="http://127.0.0.1:9/x.css"></head>'
            '<body><h1>offline</h1><img src="http://127.0.0.1:9/x.png" alt="x"><p>text</p></body></html>')
    out = tmp_path / "t.pdf"
    out.write_bytes(pdfa.render(html, title="offline", lang="en", created=datetime(2026, 1, 1, tzinfo=UTC)))
    pdf = pikepdf.open(out)
    assert not [o for o in pdf.objects if isinstance(o, pikepdf.Dictionary) and o.get("/Subtype") == "/Image"]
    assert "offline" in page_texts(out)[0]


def test_the_certificate_page_serves_the_pdfa_and_makes_it_again_from_the_record(web_archive, login_as, small_clip,
                                                                                tmp_path):
    archive = web_archive.archive
    package_id = add_package(archive, small_clip, tmp_path, "old")
    disposition, _plan = dispositions.propose(archive, ALICE, later(60))
    assert disposition is not None
    dispositions.approve(archive, disposition.id, BOB, later(60))
    key = dispositions.execute(archive, disposition.id, BOB, later(60))["certificate"]
    stored = stored_file(archive, key).with_suffix(".pdf")
    c = login_as("operator")
    page = c.get(f"/packages/{package_id}").get_data(as_text=True)
    assert f"/certificates/{disposition.id}?format=pdf" in page
    served = c.get(f"/certificates/{disposition.id}?format=pdf")
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    assert served.data == stored.read_bytes()
    stored.unlink()  # as if the disposition ran where no Korean font was installed
    again = c.get(f"/certificates/{disposition.id}?format=pdf")
    assert again.status_code == 200 and again.data == served.data  # the same record renders the same bytes
    assert c.get("/certificates/00000000-0000-0000-0000-000000000000?format=pdf").status_code == 404
