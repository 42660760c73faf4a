"""REPORT.html, REPORT.pdf and VERIFY.txt of an evidence export: what a judge reads.

REPORT.pdf is REPORT.html laid out as PDF/A by ``core/documents/pdfa.py``
(the one module that imports WeasyPrint), with a Korean font found through
fontconfig and embedded. The labels go through longwatch's translations, Korean by
default, English on request; VERIFY.txt is always in both languages because
it travels to people whose language the archive does not know.
"""

from __future__ import annotations

import html
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from longwatch import i18n
from longwatch.core.documents import fonts, pdfa
from longwatch.i18n import N_

LABELS = {
    "title": N_("Evidence export report"),
    "export": N_("Export"),
    "created": N_("Created"),
    "archive": N_("Archive"),
    "exported_by": N_("Exported by"),
    "recipient": N_("Recipient"),
    "agency": N_("Agency"),
    "officer": N_("Officer"),
    "case": N_("Case number"),
    "legal_basis": N_("Legal basis"),
    "purpose": N_("Purpose"),
    "expires": N_("Expires"),
    "files": N_("Files (originals, bit for bit)"),
    "path": N_("Path"),
    "camera": N_("Camera"),
    "upload": N_("upload by {account}, unconfirmed: not a camera's recording"),
    "confirmed": N_("upload by {account}, confirmed as the camera's recording by {confirmer} at {time}"),
    "utc": N_("Time range (UTC)"),
    "local": N_("Time range (local time, {zone})"),
    "gaps": N_("Gaps in the requested range"),
    "no_gaps": N_("No gaps in the requested range."),
    "no_range": N_("No time range was requested (packages by id)."),
    "custody": N_("Custody timeline"),
    "event": N_("Event"),
    "outcome": N_("Outcome"),
    "detail": N_("Detail"),
    "checkpoint": N_("Signed checkpoint for this export: {size} entries, root {root}, {time}"),
    "signer": N_("Signer certificate"),
    "how": N_("How to verify: see VERIFY.txt in the same folder."),
    "compare": N_("Compare the signer's fingerprint {fingerprint} and the checkpoint ({size} entries, root {root}) "
                  "with {where}, never with values written in this export: the export carries its own "
                  "certificate, so only a comparison outside it shows that the archive made it."),
    "withheld": N_("withheld: about another recipient (proven by its hash)"),
    "where_url": N_("the list of certificates and checkpoints the archive publishes at {url}"),
    "where_other": N_("the values the archive gives you through another channel (an official letter, a telephone "
                      "call, or /.well-known/longwatch/anchors.json on its public website)"),
    "range": N_("Requested range"),
    "seconds": N_("{seconds} s"),
    "access": N_("Access copies (re-encoded, watermarked for the recipient; NOT evidence, use the originals)"),
}


#: The PREMIS event types and outcomes the custody timeline shows, so a Korean report names them in Korean.
EVENT_TYPES = {
    "accession": N_("accession"), "capture": N_("capture"), "creation": N_("creation"),
    "deaccession": N_("deaccession"), "deletion": N_("deletion"),
    "digital signature generation": N_("digital signature generation"),
    "digital signature validation": N_("digital signature validation"), "dissemination": N_("dissemination"),
    "exporting": N_("exporting"), "extraction": N_("extraction"), "fixity check": N_("fixity check"),
    "format identification": N_("format identification"),
    "information package creation": N_("information package creation"), "ingestion": N_("ingestion"),
    "message digest calculation": N_("message digest calculation"), "metadata extraction": N_("metadata extraction"),
    "metadata modification": N_("metadata modification"), "policy assignment": N_("policy assignment"),
    "recovery": N_("recovery"), "redaction": N_("redaction"), "replication": N_("replication"),
    "transfer": N_("transfer"), "validation": N_("validation"),
}
OUTCOMES = {"success": N_("success"), "failure": N_("failure"), "warning": N_("warning")}


def _labels(language: str) -> dict[str, str]:
    tr = i18n.translations(i18n.normalize(language) or "ko")
    labels = {k: tr.gettext(v) for k, v in LABELS.items()}
    labels.update({f"event:{k}": tr.gettext(v) for k, v in EVENT_TYPES.items()})
    labels.update({f"outcome:{k}": tr.gettext(v) for k, v in OUTCOMES.items()})
    return labels


def _local(text: str, tz: tzinfo) -> str:
    if not text:
        return "-"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(tz).isoformat(timespec="seconds")


def _utc(text: str) -> str:
    if not text:
        return "-"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat(timespec="seconds").replace("+00:00", "Z")


def _both(text: str, tz: tzinfo) -> str:
    """A moment in the recipient's time zone, with its UTC value: what a reader abroad and the record both need."""
    return "-" if not text else f"{_local(text, tz)} ({_utc(text)})"


def _rows(description: dict[str, Any], timeline: list[dict[str, Any]], tz: tzinfo,
          t: dict[str, str]) -> dict[str, Any]:
    r = description["recipient"]
    head = [(t["export"], description["export_id"]), (t["created"], _both(description["created"], tz)),
            (t["archive"], f"{description['archive']} {description['organization']}".strip()),
            (t["exported_by"], description["exported_by"]), (t["agency"], r["agency"]),
            (t["officer"], r["officer"] or "-"), (t["case"], r["case_number"] or "-"),
            (t["legal_basis"], r["legal_basis"]), (t["purpose"], r["purpose"]),
            (t["expires"], _both(r["expires"], tz)),
            (t["signer"], description["custody"]["signer"])]
    req = description["request"]
    if req["start"]:
        head.append((t["range"], f"{_utc(req['start'])} - {_utc(req['end'])} / "
                                 f"{_local(req['start'], tz)} - {_local(req['end'], tz)}"))
    origin = {p["id"]: p for p in description["packages"] if p.get("origin") == "upload"}

    def camera(f: dict[str, Any]) -> str:
        """An upload says so beside its camera, confirmed (by whom, when) or not (issue 22)."""
        p = origin.get(f.get("package", ""))
        if p is None:
            return str(f["camera"] or "-")
        account = p.get("uploaded_by", "?")
        said = t["confirmed"].format(account=account, confirmer=p.get("confirmed_by", "?"),
                                     time=_both(p["confirmed_at"], tz)) if p.get("confirmed_at") else \
            t["upload"].format(account=account)
        return f"{f['camera'] or '-'} ({said})"

    files = [(f["path"], f["sha256"], camera(f), f"{_utc(f['start'])} - {_utc(f['end'])}",
              f"{_local(f['start'], tz)} - {_local(f['end'], tz)}") for f in description["files"]]
    gaps = [(g.get("camera") or "-", f"{_utc(g['start'])} - {_utc(g['end'])}",
             f"{_local(g['start'], tz)} - {_local(g['end'], tz)}", t["seconds"].format(seconds=int(g["seconds"])))
            for g in description["gaps"]]

    def named(kind: str, value: str) -> str:
        return t.get(f"{kind}:{value}", value)

    events = [(str(e.get("seq")), "-", t["withheld"], "-", "") if e.get("withheld") else
              (str(e.get("seq")), _both(str(e.get("time", "")), tz), named("event", str(e.get("type", ""))),
               named("outcome", str(e.get("outcome", ""))), str(e.get("detail", ""))[:300]) for e in timeline]
    c = description["custody"]
    checkpoint = t["checkpoint"].format(size=c["checkpoint_size"], root=c["checkpoint_root"],
                                        time=_both(c["checkpoint_time"], tz))
    access = [(a["path"], a["sha256"], a["watermark"]) for a in description.get("access_copies", [])]
    url = description.get("keys_url", "")
    compare = t["compare"].format(fingerprint=c["signer"], size=c["checkpoint_size"], root=c["checkpoint_root"],
                                  where=t["where_url"].format(url=url) if url else t["where_other"])
    return {"head": head, "files": files, "gaps": gaps, "events": events, "checkpoint": checkpoint,
            "has_range": bool(req["start"]), "access": access, "compare": compare}


def render_html(description: dict[str, Any], timeline: list[dict[str, Any]], tz: tzinfo, language: str) -> str:
    t = _labels(language)
    d = _rows(description, timeline, tz, t)
    e = html.escape
    zone = t["local"].format(zone=description["timezone"])

    def table(header: list[str], rows: list[tuple[str, ...]], nowrap: frozenset[int] = frozenset()) -> str:
        """``nowrap``: columns of single words, which a printed page must not split between two syllables."""
        def cell(tag: str, i: int, text: str) -> str:
            return f'<{tag} class="nw">{e(text)}</{tag}>' if i in nowrap else f"<{tag}>{e(text)}</{tag}>"

        head = "".join(cell("th", i, h) for i, h in enumerate(header))
        body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>\n" for row in rows)
        return f"<table>\n<tr>{head}</tr>\n{body}</table>\n"

    def stacked(header: list[str], rows: list[tuple[str, ...]],
                groups: list[tuple[tuple[int, ...], tuple[str, ...]]]) -> str:
        """A table whose cells stack several values, one per line, so a digest or a path is never split
        across lines on a printed A4 page (REPORT.pdf)."""
        head = "".join(f"<th>{e(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(
            "<td>" + "<br>".join(f'<span class="{kind}">{e(row[i])}</span>' if kind else e(row[i])
                                 for i, kind in zip(group, classes, strict=False)) + "</td>"
            for group, classes in groups) + "</tr>\n" for row in rows)
        return f"<table>\n<tr>{head}</tr>\n{body}</table>\n"

    files = stacked([f"{t['path']} / SHA-256", t["camera"], f"{t['utc']} / {zone}"], d["files"],
                    [((0, 1), ("path", "sha")), ((2,), ("nw",)), ((3, 4), ("", ""))])
    access = stacked([f"{t['path']} / SHA-256", ""], d["access"], [((0, 1), ("path", "sha")), ((2,), ("",))])
    gaps = (table([t["camera"], t["utc"], zone, ""], d["gaps"]) if d["gaps"] else
            f"<p>{e(t['no_gaps'] if d['has_range'] else t['no_range'])}</p>")
    lang = i18n.normalize(language) or "ko"
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{e(t['title'])}</title>
<style>body{{font-family:"Noto Sans CJK KR",sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #999;padding:.3em .5em;font-size:90%;vertical-align:top}}code,.sha{{font-family:monospace}}
.path,.sha,.nw{{white-space:nowrap}}
</style></head><body>
<h1>{e(t['title'])}</h1>
{table(["", ""], d["head"])}
<h2>{e(t['files'])}</h2>
{files}
<h2>{e(t['gaps'])}</h2>
{gaps}
{f"<h2>{e(t['access'])}</h2>" + access if d["access"] else ""}
<h2>{e(t['custody'])}</h2>
<p>{e(d['checkpoint'])}</p>
{table(['#', zone, t['event'], t['outcome'], t['detail']], d["events"], frozenset({2, 3}))}
<p>{e(d['compare'])}</p>
<p>{e(t['how'])}</p>
</body></html>
"""


def font_path() -> Path:
    """The font file the access copies' watermark burns in (a Korean-capable one, found through fontconfig)."""
    return fonts.korean_font("E008").path


def preflight() -> None:
    """E008 (no Korean font) or U021 (no layout engine) before an export writes or records anything."""
    fonts.korean_font("E008")
    pdfa.load()


def render_pdf(description: dict[str, Any], timeline: list[dict[str, Any]], tz: tzinfo, language: str) -> bytes:
    """REPORT.html laid out as PDF/A (tagged, page numbers, Korean font embedded): the same content, one source."""
    t = _labels(language)
    created = datetime.fromisoformat(description["created"].replace("Z", "+00:00"))
    return pdfa.render(render_html(description, timeline, tz, language),
                       title=f"{t['title']} {description['export_id']}", lang=i18n.normalize(language) or "ko",
                       created=created, document="REPORT.pdf", missing_code="E008")


def write_reports(bag: Path, description: dict[str, Any], timeline: list[dict[str, Any]], tz: tzinfo,
                  language: str) -> None:
    (bag / "REPORT.html").write_text(render_html(description, timeline, tz, language), encoding="utf-8")
    (bag / "REPORT.pdf").write_bytes(render_pdf(description, timeline, tz, language))


def keys_place(keys_url: str) -> tuple[str, str]:
    """Where to compare the fingerprint and the checkpoint OUTSIDE the export (Korean, English)."""
    if keys_url:
        return (f"아카이브가 공개하는 인증서·체크포인트 목록 {keys_url} "
                "(또는 공문, 전화 등 다른 경로로 아카이브에서 받은 값)",
                f"the certificates and checkpoints the archive publishes at {keys_url} (or the values you got from "
                "the archive through another channel: an official letter, a telephone call)")
    return ("아카이브에서 이 반출 자료와 다른 경로(공문, 전화, 아카이브 공개 웹사이트의 "
            "/.well-known/longwatch/anchors.json)로 받은 값",
            "the values you get from the archive through a channel other than this export (an official letter, "
            "a telephone call, or /.well-known/longwatch/anchors.json on the archive's public website)")


def verify_text(tsa: bool, tsa_chain: bool, checkpoint_tsr: bool, keys_url: str = "", signer: str = "",
                checkpoint: tuple[int, str] = (0, ""), earlier: tuple[int, str] | None = None) -> str:
    """The exact standard-tool commands, run in the export's folder, what their output means, and what to compare.

    Every value an export shows about itself (its certificate, fingerprint,
    checkpoint) could have been remade with it; so the text says where to
    compare them outside the export, and that the steps alone prove only
    that the export is consistent.
    """
    where_ko, where_en = keys_place(keys_url)
    steps = [
        ("sha256sum -c tagmanifest-sha256.txt",
         "모든 줄이 '완료' 또는 'OK'이면 보고서, 매니페스트, 설명 파일이 서명 당시와 같습니다. "
         "'실패' 또는 'FAILED'가 하나라도 있으면 그 파일이 바뀌었습니다.",
         "Every line says OK: the reports, manifests and description are as signed. Any FAILED line: that "
         "file was changed."),
        ("sha256sum -c manifest-sha256.txt",
         "모든 줄이 OK이면 원본 영상, 메타데이터, 관리 연속성 기록과 증명이 한 비트도 바뀌지 않았습니다. "
         "목록에 없는 파일이 폴더에 더 있으면 나중에 추가된 것입니다('longwatch verify-export .'가 찾아냅니다).",
         "Every line says OK: the original media, their metadata and the custody extract and proofs are "
         "bit for bit as exported. A file in the folder that no manifest lists was added afterwards "
         "('longwatch verify-export .' finds it)."),
        ("openssl cms -verify -binary -inform DER -in tagmanifest-sha256.txt.p7s -content tagmanifest-sha256.txt "
         "-CAfile data/custody/signer-chain.pem -purpose any -out /dev/null",
         "'CMS Verification successful'이 나오면 data/custody/signer-chain.pem의 키가 바로 이 목록(tagmanifest)에 "
         "서명했습니다. 'Verification failure'는 목록이나 서명이 바뀌었다는 뜻입니다. 이 인증서는 반출 자료 안에 "
         "들어 있으므로, 누가 서명했는지는 다음 단계의 비교로만 확인됩니다.",
         "'CMS Verification successful': the key of data/custody/signer-chain.pem signed exactly this tag "
         "manifest. 'Verification failure': the manifest or the signature was changed. That certificate travels "
         "inside the export, so who signed is shown only by the comparison in the next step."),
        ("openssl x509 -in data/custody/signer-chain.pem -noout -fingerprint -sha256",
         f"출력된 지문(SHA256 Fingerprint=...)을 {where_ko}과 비교하십시오. 이 반출 자료 안에 적힌 지문과 "
         "비교해서는 안 됩니다"
         + (f" (자료에 적힌 값: {signer})" if signer else "")
         + ". 같으면 아카이브의 서명 키가 서명한 것이고, 다르면 아카이브가 만든 자료가 아닙니다. 확인: "
         "'longwatch verify-export . --fingerprint 지문'.",
         f"Compare the fingerprint printed (SHA256 Fingerprint=...) with {where_en}, never with a value "
         "written in this export"
         + (f" (the export states {signer})" if signer else "")
         + ". Equal: the archive's signing key signed it. Different: the archive did not make this export. "
         "Also: 'longwatch verify-export . --fingerprint FINGERPRINT'."),
        ("openssl cms -verify -binary -inform DER -in data/custody/checkpoint.note.p7s "
         "-content data/custody/checkpoint.note -CAfile data/custody/signer-chain.pem -purpose any -out /dev/null",
         "'CMS Verification successful'이면 관리 연속성 원장의 체크포인트(항목 수와 머클 루트)가 서명된 그대로입니다. "
         "각 항목이 이 루트에 포함된다는 증명(data/custody/proofs/)은 RFC 9162 방식이며 "
         "'longwatch verify-export .'가 확인합니다.",
         "'CMS Verification successful': the custody ledger's checkpoint (entry count and Merkle root) is as "
         "signed. That each entry is in this root is shown by the RFC 9162 inclusion proofs in "
         "data/custody/proofs/, which 'longwatch verify-export .' checks."),
    ]
    size, root = checkpoint
    if size:
        since_ko = since_en = ""
        if earlier is not None:
            since_ko = (f" data/custody/consistency.json은 이 원장이 그 이전 체크포인트(항목 {earlier[0]}개, "
                        f"루트 {earlier[1]})를 그대로 이어 간다는 증명이므로 그 체크포인트와 비교해도 됩니다.")
            since_en = (f" data/custody/consistency.json proves that this ledger extends the checkpoint before it "
                        f"({earlier[0]} entries, root {earlier[1]}), so you may compare that one instead.")
        steps.append((
            "cat data/custody/checkpoint.note",
            f"이 반출 자료의 체크포인트는 항목 {size}개, 루트 {root}입니다. {where_ko} 또는 다른 기관(증인)이 "
            f"보관한 체크포인트와 비교하십시오.{since_ko} 확인: 'longwatch verify-export . --checkpoint 파일'.",
            f"The export's checkpoint has {size} entries and root {root}. Compare it with {where_en}, or with a "
            f"checkpoint another party (a witness) keeps.{since_en} Also: "
            "'longwatch verify-export . --checkpoint FILE'."))
    tsa_ca = "data/custody/tsa-chain.pem" if tsa_chain else "TSA-CA.pem"
    if tsa:
        steps.append((
            f"openssl ts -verify -data tagmanifest-sha256.txt.p7s -in tagmanifest-sha256.txt.p7s.tsr -CAfile {tsa_ca}",
            "'Verification: OK'이면 독립된 타임스탬프 기관(TSA)이 이 서명이 토큰의 시각에 이미 있었음을 보증합니다."
            + (" data/custody/tsa-chain.pem은 타임스탬프 기관의 인증서와 그 발급 기관(CA) 인증서입니다. 그 CA가 "
               "기관이 공개한 것과 같은지도 확인하십시오." if tsa_chain else
               " TSA-CA.pem은 타임스탬프 기관의 인증서입니다(기관에서 받으십시오)."),
            "'Verification: OK': an independent time-stamp authority attests that this signature existed at "
            "the token's time."
            + (" data/custody/tsa-chain.pem holds the authority's certificate and its issuing CA's; check that "
               "the CA is the one the authority publishes." if tsa_chain else
               " TSA-CA.pem is the authority's certificate (ask it).")))
    if checkpoint_tsr:
        steps.append((
            f"openssl ts -verify -data data/custody/checkpoint.note.p7s -in data/custody/checkpoint.note.p7s.tsr "
            f"-CAfile {tsa_ca}",
            "'Verification: OK'이면 체크포인트 서명의 시각도 타임스탬프 기관이 보증합니다.",
            "'Verification: OK': the time-stamp authority also attests the checkpoint signature's time."))
    out = ["검증 방법 / HOW TO VERIFY THIS EXPORT", "",
           "이 폴더에서 아래 명령을 차례로 실행하십시오 (coreutils와 OpenSSL만 필요).",
           "Run these commands in this folder, in order (only coreutils and OpenSSL are needed).", ""]
    for i, (cmd, ko, en) in enumerate(steps, 1):
        out += [f"{i}. {cmd}", f"   [ko] {ko}", f"   [en] {en}", ""]
    out += ["모든 단계가 성공하고 지문(과 체크포인트)이 반출 자료 밖에서 받은 값과 같으면, 이 자료는 아카이브가 서명한 "
            "그대로입니다. 그 비교 없이 명령만 성공했다면 자료가 내부적으로 일관된다는 것만 증명됩니다: 인증서가 자료 "
            "안에 들어 있으므로 새로 꾸며 낸 자료도 통과합니다. 한 단계라도 실패하면 자료를 증거로 쓰기 전에 "
            "아카이브에 문의하십시오.",
            "If every step succeeds AND the fingerprint (and the checkpoint) equal the values you got outside this "
            "export, this export is exactly as the archive signed it. Without that comparison the commands show "
            "only that the export is consistent: its certificate travels inside it, so a remade export passes "
            "them too. If any step fails, ask the archive before relying on it.", ""]
    return "\n".join(out)
