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

Why "anchors": the signer's certificate travels inside the export, so an
export remade from scratch (new key, new certificate, digests recomputed,
re-signed) is as consistent as a true one. Only something the recipient got
OUTSIDE the export can tell them apart: a certificate or fingerprint the
archive publishes (``--cert``, ``--fingerprint``) or a checkpoint of its
ledger kept elsewhere (``--checkpoint``), which the export's consistency
proof must extend. Without one the result is "unanchored", never "verified".
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
from longwatch.core.custody.checkpoints import Checkpoint, checkpoint_from_dict, parse_note
from longwatch.core.custody.merkle import leaf_hash, verify_consistency, verify_inclusion
from longwatch.core.evidence.bag import (
    CONSISTENCY,
    CUSTODY,
    SIGNATURE,
    TAG_FILES,
    TIMESTAMP_REPLY,
    payload_oxum,
    sha256_file,
)
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
    anchor: str = ""  # what outside the export confirmed the signer: certificate, fingerprint, checkpoint
    problems: list[Problem] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``verified`` (consistent and anchored), ``unanchored`` (consistent only) or ``failed``."""
        if not self.ok:
            return FAILED
        return VERIFIED if self.anchor else UNANCHORED

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.status == VERIFIED, "status": self.status, "anchored": bool(self.anchor),
                "anchor": self.anchor, "path": self.path, "export_id": self.export_id, "files": self.files,
                "signer": self.signer, "checkpoint_size": self.checkpoint_size, "proofs": self.proofs,
                "timestamped": self.timestamped, "problems": [p.to_dict() for p in self.problems]}


VERIFIED, UNANCHORED, FAILED = "verified", "unanchored", "failed"


@dataclass(frozen=True)
class Anchors:
    """What the recipient got outside the export: certificates, fingerprints, checkpoints of the ledger."""

    certs: list[Any] = field(default_factory=list)
    fingerprints: list[str] = field(default_factory=list)
    checkpoints: list[tuple[str, Checkpoint]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.certs or self.fingerprints or self.checkpoints)


def normalize_fingerprint(value: str) -> str:
    """``SHA256:<hex>`` from what people paste: openssl's ``AB:CD:..``, with or without a prefix; else E028."""
    text = value.strip()
    for prefix in ("SHA256:", "sha256:", "SHA256 Fingerprint=", "sha256 Fingerprint="):
        if text.startswith(prefix):
            text = text[len(prefix):]
    digits = text.replace(":", "").replace(" ", "").lower()
    if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
        raise LongwatchError("E028", value=value)
    return "SHA256:" + digits


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


def _unzip(path: Path, into: Path) -> tuple[Path, list[str]]:
    """The bag inside the ZIP, and every ZIP entry that is not part of it (added beside it, or twice)."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        for name in names:
            if not package.is_safe_bag_path(name.rstrip("/")):
                raise LongwatchError("E010", path=name, detail="an unsafe path in the zip")
        zf.extractall(into)
    extra = sorted({f"zip:{name} (twice)" for name in names if names.count(name) > 1})
    tops = [p for p in into.iterdir() if p.is_dir() and (p / "bagit.txt").is_file()]
    if (into / "bagit.txt").is_file() or len(tops) != 1:
        return into, extra
    bag = tops[0]
    for p in sorted(into.rglob("*")):
        if (p.is_file() or (p.is_dir() and not any(p.iterdir()))) and bag not in (p, *p.parents):
            extra.append("zip:" + p.relative_to(into).as_posix())
    return bag, extra


def verify_export(path: Path, trusted: list[Any] | None = None, tsa_cert: Any = None,
                  scratch: Path | None = None, anchors: Anchors | None = None) -> ExportReport:
    """Every check VERIFY.txt describes, plus the inclusion proofs, the report's digests and the anchors.

    ``trusted`` (certificates) and ``anchors`` are what the recipient got
    outside the export; without either, a consistent export is
    :data:`UNANCHORED`, never :data:`VERIFIED`.
    """
    anchors = Anchors(list(trusted or []) + (anchors.certs if anchors else []),
                      anchors.fingerprints if anchors else [], anchors.checkpoints if anchors else [])
    if path.is_file() and zipfile.is_zipfile(path):
        tmp = tempfile.mkdtemp(prefix="lw-verify-export-", dir=scratch)
        try:
            bag, extra = _unzip(path, Path(tmp))
            report = verify_export(bag, tsa_cert=tsa_cert, anchors=anchors)
            for name in extra:
                report.add("E016", path=name)
            report.path = str(path)
            return report
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    bag = path
    report = ExportReport(str(path))
    if not (bag / "bagit.txt").is_file() or not (bag / "tagmanifest-sha256.txt").is_file():
        raise LongwatchError("E009", path=path)
    trusted = anchors.certs or None
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
            _check_anchors(info, anchors, report)
        except signing.SignatureError as exc:
            report.add("E013", detail=str(exc))
        token = bag / TIMESTAMP_REPLY
        if tsa_cert is not None and not token.is_file():
            report.add("E027", path=TIMESTAMP_REPLY)
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
    _check_listed(bag, set(manifest), report)
    oxum = package_info(bag).get("Payload-Oxum", "")
    found = payload_oxum(bag)
    if oxum != found:
        report.add("E026", expected=oxum or "-", found=found)
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
    _check_custody(bag, report, signer_cert, trusted, tsa_cert, described, anchors)
    return report


def _check_anchors(info: signing.SignatureInfo, anchors: Anchors, report: ExportReport) -> None:
    """The signer against what the recipient got outside the export; sets ``report.anchor`` when confirmed."""
    if anchors.certs:
        if not signing.is_trusted(info, anchors.certs):
            report.add("E014", fingerprint=info.fingerprint)
            return
        report.anchor = "certificate"
    if anchors.fingerprints:
        if info.fingerprint not in anchors.fingerprints:
            report.add("E029", fingerprint=info.fingerprint, given=", ".join(anchors.fingerprints))
            return
        report.anchor = report.anchor or "fingerprint"


def _check_listed(bag: Path, listed: set[str], report: ExportReport) -> None:
    """Every file (and empty folder) anywhere in the bag must be one the signature covers: nothing added."""
    covered = listed | set(TAG_FILES) | {"tagmanifest-sha256.txt", SIGNATURE, TIMESTAMP_REPLY}
    for p in sorted(bag.rglob("*")):
        rel = p.relative_to(bag).as_posix()
        if p.is_dir() and not p.is_symlink():
            if not any(p.iterdir()):
                report.add("E016", path=rel + "/")
        elif rel not in covered:
            report.add("E016", path=rel)


def package_info(bag: Path) -> dict[str, str]:
    """bag-info.txt as a dict (the first value of each label); empty when unreadable (the tag manifest says why)."""
    try:
        text = (bag / "bag-info.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    info: dict[str, str] = {}
    for line in text.splitlines():
        label, sep, value = line.partition(":")
        if sep and not line[:1].isspace():
            info.setdefault(label.strip(), value.strip())
    return info


def _check_custody(bag: Path, report: ExportReport, signer_cert: Any, trusted: list[Any] | None, tsa_cert: Any,
                   described: dict[str, str], anchors: Anchors) -> None:
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
    if tsa_cert is not None and cp.tsr is None:
        report.add("E027", path=f"{CUSTODY}/checkpoint.note.p7s.tsr")
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
    _check_consistency(folder, cp, signer_cert, anchors, report)
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
    _check_withheld(folder, {int(json.loads(line)["seq"]) for line in lines if _seq_of(line) is not None},
                    size, root, report)
    if not transfer:
        report.add("E020", export_id=report.export_id or "?")
    for rel in described:
        pid = rel.split("/")[2] if rel.startswith("data/packages/") else ""
        if pid and not any(pid in json.loads(line).get("packages", []) for line in lines):
            report.add("E020", export_id=f"{report.export_id} (package {pid} has no custody entry)")


def _seq_of(line: bytes) -> int | None:
    try:
        return int(json.loads(line)["seq"])
    except (ValueError, KeyError, TypeError):
        return None


def _check_withheld(folder: Path, shown: set[int], size: int, root: bytes, report: ExportReport) -> None:
    """Entries about other recipients travel as a leaf hash with its proof: each must still lead to the root."""
    for proof_path in sorted((folder / "proofs").glob("*.json")):
        try:
            proof = json.loads(proof_path.read_text(encoding="utf-8"))
            seq = int(proof["leaf_index"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            report.add("E019", seq=proof_path.stem, detail=f"no readable proof: {exc}")
            continue
        if seq in shown:
            continue
        if "entry" in proof or not proof.get("withheld"):
            report.add("E019", seq=seq, detail="a proof whose entry is not in the extract")
            continue
        try:
            leaf = bytes.fromhex(proof["leaf_hash"])
            path = [bytes.fromhex(h) for h in proof["inclusion_path"]]
            ok = int(proof["tree_size"]) == size and verify_inclusion(seq, size, leaf, path, root)
        except (ValueError, KeyError, TypeError):
            ok = False
        if ok:
            report.proofs += 1
        else:
            report.add("E019", seq=seq, detail="the withheld entry's hash does not lead to the signed root")


def _check_consistency(folder: Path, cp: Checkpoint, signer_cert: Any, anchors: Anchors,
                       report: ExportReport) -> None:
    """The export's consistency proof from the ledger's previous checkpoint, and the published checkpoints given.

    A checkpoint kept outside the archive anchors the export when it is the
    export's own checkpoint, or the one its consistency proof starts from:
    then the ledger the export was cut from extends what was published, and
    the checkpoint's signer is the archive's.
    """
    earlier: Checkpoint | None = None
    path_hashes: list[bytes] = []
    proof_file = folder / CONSISTENCY.rsplit("/", 1)[-1]
    if proof_file.is_file():
        try:
            data = json.loads(proof_file.read_text(encoding="utf-8"))
            earlier = checkpoint_from_dict(data["first_checkpoint"])
            path_hashes = [bytes.fromhex(h) for h in data["consistency_path"]]
            if int(data["second"]) != cp.size or int(data["first"]) != earlier.size:
                raise ValueError(f"the proof is from {data['first']} to {data['second']} entries, "
                                 f"the checkpoint has {cp.size}")
            info = signing.verify_detached(earlier.signature, earlier.note)
            if signer_cert is not None and info.fingerprint != signing.fingerprint(signer_cert):
                raise ValueError("the earlier checkpoint was signed by another key than the export")
            if not verify_consistency(earlier.size, cp.size, earlier.root, cp.root, path_hashes):
                raise ValueError(f"the checkpoint of {earlier.size} entries is not a prefix of the export's")
        except (OSError, ValueError, KeyError, TypeError, signing.SignatureError) as exc:
            report.add("E018", detail=f"the consistency proof: {exc}")
            earlier = None
    if not anchors.checkpoints:
        return
    signer = signing.fingerprint(signer_cert) if signer_cert is not None else ""
    matched = ""
    for label, published in anchors.checkpoints:
        try:
            info = signing.verify_detached(published.signature, published.note)
        except signing.SignatureError as exc:
            report.add("E030", path=label, detail=f"its signature does not verify: {exc}")
            return
        if published.size > cp.size:
            continue  # newer than the export: says nothing about it
        if published.size == cp.size:
            ours = cp
        elif earlier is not None and published.size == earlier.size:
            ours = earlier
        else:
            continue
        if published.root != ours.root:
            report.add("E030", path=label, detail=f"its root for {published.size} entries differs from the "
                                                  "export's: the ledger was rewritten")
            return
        if info.fingerprint != signer:
            report.add("E030", path=label, detail=f"it was signed by {info.fingerprint}, the export by "
                                                  f"{signer or '?'}")
            return
        matched = label
    if not matched:
        sizes = ", ".join(str(s) for s in sorted({c.size for _label, c in anchors.checkpoints}))
        report.add("E030", path=anchors.checkpoints[0][0],
                   detail=f"none of its checkpoints ({sizes} entries) is the export's ({cp.size}) or the one its "
                          f"consistency proof starts from ({earlier.size if earlier else '-'})")
    elif not report.anchor:
        report.anchor = "checkpoint"


def trusted_from(paths: Iterable[Path]) -> list[Any] | None:
    """The certificates to trust, read from PEM files; None when none is given (no signer is then refused)."""
    certs = [c for p in paths for c in signing.load_certificates(p)]  # a PEM file may hold several (issue 21)
    return certs or None

