"""Verifying an evidence export: every check VERIFY.txt describes, with coded ``E`` findings.

:func:`verify_export` takes a bag folder or its ZIP and needs no archive:
the tag and payload manifests and every digest, the detached CMS signature
over the tag manifest (and whose certificate made it, against ``trusted``
from :func:`trusted_from`), the time-stamp token, files no manifest lists,
``export.json`` and ``REPORT.html`` against the manifest, and the custody
extract: the fresh checkpoint's signature and time-stamp, every entry's
inclusion proof against it, the export's own "transfer" event and a custody
entry for every exported package. All of it is collected in an
:class:`ExportReport`. The layout it checks is :mod:`longwatch.core.evidence.bag`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from longwatch.core import custody
from longwatch.core.aip import package, signing, timestamp
from longwatch.core.custody.checkpoints import Checkpoint, parse_note
from longwatch.core.custody.merkle import leaf_hash, verify_inclusion
from longwatch.core.evidence.bag import CUSTODY, SIGNATURE, TAG_FILES, TIMESTAMP_REPLY, sha256_file
from longwatch.errors import Findings, LongwatchError, Problem


@dataclass
class ExportReport(Findings):
    path: str
    export_id: str = ""
    files: int = 0
    signer: str = ""
    checkpoint_size: int = 0
    proofs: int = 0
    timestamped: bool = False
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "path": self.path, "export_id": self.export_id, "files": self.files,
                "signer": self.signer, "checkpoint_size": self.checkpoint_size, "proofs": self.proofs,
                "timestamped": self.timestamped, "problems": [p.to_dict() for p in self.problems]}


def _read_manifest(path: Path, report: ExportReport) -> dict[str, str]:
    try:
        return package.parse_manifest(path.read_bytes())
    except (OSError, package.ManifestError) as exc:
        report.add("E010", path=path.name, detail=str(exc))
        return {}


def _check_digests(bag: Path, manifest: dict[str, str], report: ExportReport, code_missing: str = "E011") -> None:
    for rel, expected in manifest.items():
        if not package.is_safe_bag_path(rel):
            report.add("E010", path=rel, detail="an unsafe path in the manifest")
            continue
        path = bag / rel
        if not path.is_file():
            report.add(code_missing, path=rel)
            continue
        found = sha256_file(path)
        if found != expected:
            report.add("E012", path=rel, expected=expected, found=found)


def _unzip(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not package.is_safe_bag_path(name):
                raise LongwatchError("E010", path=name, detail="an unsafe path in the zip")
        zf.extractall(into)
    tops = [p for p in into.iterdir()]
    return tops[0] if len(tops) == 1 and tops[0].is_dir() else into


def verify_export(path: Path, trusted: list[Any] | None = None, tsa_cert: Any = None,
                  scratch: Path | None = None) -> ExportReport:
    """Every check VERIFY.txt describes, plus the inclusion proofs and the report's digests."""
    if path.is_file() and zipfile.is_zipfile(path):
        tmp = tempfile.mkdtemp(prefix="lw-verify-export-", dir=scratch)
        try:
            report = verify_export(_unzip(path, Path(tmp)), trusted, tsa_cert)
            report.path = str(path)
            return report
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    bag = path
    report = ExportReport(str(path))
    if not (bag / "bagit.txt").is_file() or not (bag / "tagmanifest-sha256.txt").is_file():
        raise LongwatchError("E009", path=path)
    tag_bytes = (bag / "tagmanifest-sha256.txt").read_bytes()
    tags = _read_manifest(bag / "tagmanifest-sha256.txt", report)
    for name in TAG_FILES:
        if name not in tags:
            report.add("E010", path="tagmanifest-sha256.txt", detail=f"{name} is not listed")
    _check_digests(bag, tags, report)
    # the signature over the tag manifest
    signer_cert = None
    sig_path = bag / SIGNATURE
    if not sig_path.is_file():
        report.add("E013", detail=f"{SIGNATURE} is missing")
    else:
        signature = sig_path.read_bytes()
        try:
            info = signing.verify_detached(signature, tag_bytes)
            signer_cert = info.cert
            report.signer = info.fingerprint
            chain = bag / CUSTODY / "signer-chain.pem"
            if chain.is_file() and signing.fingerprint(signing.load_certificate(chain)) != info.fingerprint:
                report.add("E013", detail="the signature was made by another certificate than signer-chain.pem")
            if trusted is not None and not signing.is_trusted(info, trusted):
                report.add("E014", fingerprint=info.fingerprint)
        except signing.SignatureError as exc:
            report.add("E013", detail=str(exc))
        token = bag / TIMESTAMP_REPLY
        if token.is_file():
            try:
                tinfo = timestamp.verify_token(token.read_bytes(), signature)
                if tsa_cert is not None and tinfo.tsa_fingerprint != signing.fingerprint(tsa_cert):
                    report.add("E015", detail=f"signed by another TSA ({tinfo.tsa_fingerprint})")
                else:
                    report.timestamped = True
            except timestamp.TimestampError as exc:
                report.add("E015", detail=str(exc))
    # the payload
    manifest = _read_manifest(bag / "manifest-sha256.txt", report) if (bag / "manifest-sha256.txt").is_file() else {}
    _check_digests(bag, manifest, report)
    listed = set(manifest)
    for p in (bag / "data").rglob("*") if (bag / "data").is_dir() else []:
        if p.is_file() and p.relative_to(bag).as_posix() not in listed:
            report.add("E016", path=p.relative_to(bag).as_posix())
    # the description and the report agree with the manifest
    try:
        description = json.loads((bag / "export.json").read_text(encoding="utf-8"))
        report.export_id = str(description.get("export_id", ""))
        described = {f["path"]: f["sha256"] for f in description["files"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report.add("E010", path="export.json", detail=str(exc))
        described = {}
    report.files = len(described)
    try:
        html = (bag / "REPORT.html").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        html = ""
    for rel, sha in described.items():
        if manifest.get(rel) != sha:
            report.add("E017", path=rel, where="export.json", detail="its SHA-256 differs from manifest-sha256.txt")
        if sha not in html:
            report.add("E017", path=rel, where="REPORT.html", detail="its SHA-256 is not in the report")
    _check_custody(bag, report, signer_cert, trusted, tsa_cert, described)
    return report


def _check_custody(bag: Path, report: ExportReport, signer_cert: Any, trusted: list[Any] | None, tsa_cert: Any,
                   described: dict[str, str]) -> None:
    folder = bag / CUSTODY
    try:
        note = (folder / "checkpoint.note").read_bytes()
        origin, size, root, when = parse_note(note)
        sig = (folder / "checkpoint.note.p7s").read_bytes()
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        report.add("E018", detail=f"the checkpoint: {exc}")
        return
    tsr_path = folder / "checkpoint.note.p7s.tsr"
    cp = Checkpoint(size, root, when, origin, note, sig, tsr_path.read_bytes() if tsr_path.is_file() else None)
    report.checkpoint_size = size
    ledger_report = custody.LedgerReport()
    custody.audit.check_signature(cp, trusted, ledger_report, str(size))
    custody.audit.check_timestamp(cp, ledger_report, str(size), tsa_cert)
    for problem in ledger_report.problems:
        report.add("E018", detail=f"[{problem.code}] {problem.render()}")
    try:
        cp_info = signing.verify_detached(sig, note)
        if signer_cert is not None and cp_info.fingerprint != signing.fingerprint(signer_cert):
            report.add("E018", detail="the checkpoint was signed by another key than the export")
    except signing.SignatureError:
        pass  # already reported above
    try:
        lines = [line for line in (folder / "extract.jsonl").read_bytes().split(b"\n") if line]
    except OSError as exc:
        report.add("E019", seq="-", detail=str(exc))
        return
    transfer = False
    for line in lines:
        try:
            entry = json.loads(line)
            seq = int(entry["seq"])
        except (ValueError, KeyError, TypeError) as exc:
            report.add("E019", seq="?", detail=f"an extract line is not a ledger entry: {exc}")
            continue
        if entry.get("type") == "transfer" and entry.get("extra", {}).get("export_id") == report.export_id:
            transfer = True
        proof_path = folder / "proofs" / f"{seq:012d}.json"
        try:
            proof = json.loads(proof_path.read_text(encoding="utf-8"))
            path = [bytes.fromhex(h) for h in proof["inclusion_path"]]
            proof_entry = str(proof["entry"]).encode("utf-8")
            index, tree_size = int(proof["leaf_index"]), int(proof["tree_size"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            report.add("E019", seq=seq, detail=f"no readable proof: {exc}")
            continue
        leaf = leaf_hash(line)
        if proof_entry != line:
            report.add("E019", seq=seq, detail="the extract's entry differs from the proof's entry")
        elif index != seq or tree_size != size:
            report.add("E019", seq=seq, detail=f"the proof is for entry {index} of {tree_size}, "
                                               f"the checkpoint for {size}")
        elif not verify_inclusion(seq, size, leaf, path, root):
            report.add("E019", seq=seq, detail="the audit path does not lead to the signed root")
        else:
            report.proofs += 1
    if not transfer:
        report.add("E020", export_id=report.export_id or "?")
    for rel in described:
        pid = rel.split("/")[2] if rel.startswith("data/packages/") else ""
        if pid and not any(pid in json.loads(line).get("packages", []) for line in lines):
            report.add("E020", export_id=f"{report.export_id} (package {pid} has no custody entry)")


def trusted_from(paths: Iterable[Path]) -> list[Any] | None:
    """The certificates to trust, read from PEM files; None when none is given (no signer is then refused)."""
    certs = [c for p in paths for c in signing.load_certificates(p)]  # a PEM file may hold several (issue 21)
    return certs or None

