"""BagIt-only verification: any bag of BagIt 0.93 to 1.0, not only our own AIPs.

Why a second checker: ``verify.py`` checks longwatch's AIP profile, so a
valid bag from another archive failed there for a missing signature and
profile, and every pre-1.0 bag was "not a BagIt bag". Here only the BagIt
rules apply (RFC 8493 for 1.0, the drafts before it): the declaration, tag
files in their declared encoding, payload and tag manifests of every
algorithm, completeness (fetch.txt), Payload-Oxum. A profile or a signature
is checked only when the bag declares one. The verdicts agree with the
Library of Congress bagit-conformance-suite (tests/data/bagit-conformance).

Every finding has a stable V-code; findings that do not make a bag invalid
(a `./` or md5sum `*` before a path, names equal but for Unicode form or
case, system files such as Thumbs.db) are warnings, kept apart.

Paths read from a bag are never trusted: a path that is absolute, climbs
with `..`, starts with `~`, has a drive letter or a backslash, or (payload
manifests, fetch.txt) lies outside `data/` is a finding and is never opened.
Symbolic links are reported and never followed.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from longwatch.core.aip import package, signing
from longwatch.core.aip.fixity import digest_stream
from longwatch.core.aip.verify import Report
from longwatch.errors import Problem

OLDEST = (0, 93)
NEWEST = (1, 0)
ALGORITHMS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}
SYSTEM_FILES = {"thumbs.db", ".ds_store", "desktop.ini", ".spotlight-v100", ".trashes", ".fseventsd"}

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DECLARATION = re.compile(r"^(BagIt-Version|Tag-File-Character-Encoding): (.+)$")
_VERSION = re.compile(r"^(\d+)\.(\d+)$")
_MANIFEST_LINE = re.compile(r"^([0-9A-Fa-f]+)[ \t]+(.+)$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_ENCODED = re.compile(r"%(0A|0D|25)", re.IGNORECASE)


@dataclass
class BagReport(Report):
    """A verify.Report plus the bag's version and the warnings (findings that leave the bag valid)."""

    version: str = ""
    warnings: list[Problem] = field(default_factory=list)

    def warn(self, code: str, **context: Any) -> None:
        self.warnings.append(Problem(code, **context))

    def to_dict(self) -> dict[str, Any]:
        result = super().to_dict()
        result["bagit_version"] = self.version
        result["warnings"] = [w.to_dict() for w in self.warnings]
        return result


@dataclass
class _Bag:
    root: Path
    version: tuple[int, int]
    encoding: str
    files: set[str]
    report: BagReport

    def read_text(self, name: str) -> str | None:
        """A tag file in the bag's declared encoding, or None (and a finding) when it cannot be read so."""
        try:
            text = (self.root / name).read_bytes().decode(self.encoding)
        except (OSError, UnicodeDecodeError) as exc:
            self.report.add("V027", path=name, encoding=self.encoding, detail=str(exc))
            return None
        return text.removeprefix("\ufeff") if self.encoding.lower().startswith("utf-16") else text


def verify_bag(
    root: Path,
    trusted: Sequence[x509.Certificate | signing.Anchor] | None = None,
    progress: Callable[[int], None] | None = None,
) -> BagReport:
    """Check a bag directory against BagIt alone; collect every finding, never stop at the first."""
    report = BagReport(target=str(root))
    files, links, special = _walk(root)
    for link in links:
        report.add("V018", path=link)
    for name in special:  # reading a FIFO would wait for ever, a device could be endless
        report.add("V001", path=name, detail="not a regular file (a FIFO, socket or device); it was not read")
    if "bagit.txt" not in files:
        report.add("V001", path=str(root), detail="bagit.txt is missing")
        return report
    declared = _read_declaration(root, report)
    if declared is None:
        return report
    version, encoding = declared
    bag = _Bag(root, version, encoding, files, report)

    info = _read_bag_info(bag)
    report.package_id = info.get("external-identifier", "")
    fetched = _read_fetch(bag)
    manifests = _read_manifests(bag, "manifest-")
    if not manifests:
        report.add("V030")
    present = {unicodedata.normalize("NFC", f): f for f in files}
    payload = sorted(f for f in files if f.startswith("data/"))
    listed: dict[str, list[str]] = {}
    for algorithm, entries in sorted(manifests.items()):
        for path in entries:
            listed.setdefault(path, []).append(algorithm)
    _warn_collisions(bag, listed)

    on_disk: dict[str, str] = {}  # listed path -> the file that holds it
    for path in sorted(listed):
        actual = path if path in files else present.get(unicodedata.normalize("NFC", path))
        if actual is not None:
            on_disk[path] = actual
        elif path in fetched:
            report.add("V031", path=path)
        else:
            report.add("V002", path=path)
    held = {actual: path for path, actual in on_disk.items()}
    for name in payload:
        covering = [a for p, act in on_disk.items() if act == name for a in listed[p]]
        if not covering:
            report.add("V003", path=name)
            continue
        for algorithm in sorted(set(manifests) - set(covering)):
            report.add("V038", path=name, manifest=f"manifest-{algorithm}.txt")
        if os.path.basename(name).lower() in SYSTEM_FILES:
            report.warn("V035", path=name)
    _check_digests(bag, manifests, on_disk, progress)
    _check_oxum(bag, info, payload, len(held) == len(payload) and not report.problems)
    _check_tag_manifests(bag)
    _check_profile_and_signature(bag, info, trusted)
    return report


def _walk(root: Path) -> tuple[set[str], list[str], list[str]]:
    """Regular files, symbolic links and other special files, apart: only regular files are ever opened."""
    files: set[str] = set()
    links: list[str] = []
    special: list[str] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        base = Path(folder)
        for name in list(dirs):
            if (base / name).is_symlink():
                links.append((base / name).relative_to(root).as_posix())
                dirs.remove(name)
        for name in names:
            rel = (base / name).relative_to(root).as_posix()
            mode = os.lstat(base / name).st_mode
            if stat.S_ISLNK(mode):
                links.append(rel)
            elif stat.S_ISREG(mode):
                files.add(rel)
            else:
                special.append(rel)
    return files, sorted(links), sorted(special)


def _read_declaration(root: Path, report: BagReport) -> tuple[tuple[int, int], str] | None:
    """bagit.txt: exactly `BagIt-Version: M.N` and `Tag-File-Character-Encoding: ENC`, UTF-8, no BOM."""
    try:
        data = (root / "bagit.txt").read_bytes()
    except OSError as exc:
        report.add("V025", detail=str(exc))
        return None
    if data.startswith(codecs.BOM_UTF8):
        report.add("V025", detail="it starts with a byte order mark")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.add("V025", detail=f"not UTF-8: {exc}")
        return None
    fields: dict[str, str] = {}
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line:
            continue
        match = _DECLARATION.match(line)
        if match is None:
            report.add("V025", detail=f"line {number} is not 'BagIt-Version: M.N' or "
                                      f"'Tag-File-Character-Encoding: ENCODING': {line!r}")
            return None
        fields[match.group(1)] = match.group(2)
    version_text = fields.get("BagIt-Version")
    encoding = fields.get("Tag-File-Character-Encoding")
    if version_text is None or encoding is None:
        report.add("V025", detail="BagIt-Version and Tag-File-Character-Encoding are both required")
        return None
    report.version = version_text
    match = _VERSION.match(version_text)
    if match is None:
        report.add("V025", detail=f"the version {version_text!r} is not of the form M.N")
        return None
    version = (int(match.group(1)), int(match.group(2)))
    if not OLDEST <= version <= NEWEST:
        report.add("V026", version=version_text)
        return None
    try:
        codecs.lookup(encoding)
    except LookupError:
        report.add("V025", detail=f"unknown character encoding {encoding!r}")
        return None
    return version, encoding


def _read_bag_info(bag: _Bag) -> dict[str, str]:
    """bag-info.txt (package-info.txt before 0.96): labels case-insensitive, the first value kept."""
    name = "bag-info.txt" if "bag-info.txt" in bag.files else "package-info.txt"
    if name not in bag.files:
        return {}
    text = bag.read_text(name)
    if text is None:
        return {}
    info: dict[str, str] = {}
    label = ""
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        if line[0] in " \t":
            if not label:
                bag.report.add("V036", path=name, line=number, detail="a continuation line with no label before it")
            continue
        label, sep, value = line.partition(":")
        label = label.strip()
        if not sep or not label:
            bag.report.add("V036", path=name, line=number, detail="expected 'Label: value'")
            label = ""
            continue
        info.setdefault(label.lower(), value.strip())
    return info


def _safe_path(bag: _Bag, raw: str, in_payload: bool) -> tuple[str | None, str]:
    """Normalise a path read from a manifest or fetch.txt; (None, why) when it is not safe to use."""
    path = raw
    if bag.version >= (1, 0):  # RFC 8493 2.1.3: only CR, LF and % are percent-encoded
        path = _ENCODED.sub(lambda m: chr(int(m.group(1), 16)), path)
    if path.startswith("/"):
        return None, "an absolute path"
    if path.startswith("~"):
        return None, "a home directory shortcut"
    if "\\" in path or _DRIVE.match(path):
        return None, "a Windows path (backslash or drive letter)"
    if path.startswith("./"):
        path = path[2:]
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None, "an empty, '.' or '..' path segment"
    if in_payload and (len(parts) < 2 or parts[0] != "data"):
        return None, "outside the payload directory data/"
    if not in_payload and parts[0] == "data":
        return None, "a payload file in a tag manifest"
    return path, ""


def _read_manifests(bag: _Bag, prefix: str) -> dict[str, dict[str, str]]:
    manifests: dict[str, dict[str, str]] = {}
    for name in sorted(bag.files):
        if not (name.startswith(prefix) and name.endswith(".txt") and "/" not in name):
            continue
        algorithm = name[len(prefix):-len(".txt")]
        if algorithm not in ALGORITHMS:
            bag.report.add("V013", path=name, line=0, detail=f"unknown algorithm {algorithm!r}")
            continue
        text = bag.read_text(name)
        if text is not None:
            manifests[algorithm] = _parse_manifest(bag, name, algorithm, text, prefix == "manifest-")
    return manifests


def _parse_manifest(bag: _Bag, name: str, algorithm: str, text: str, in_payload: bool) -> dict[str, str]:
    entries: dict[str, str] = {}
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        match = _MANIFEST_LINE.match(line)
        if match is None or len(match.group(1)) != ALGORITHMS[algorithm]:
            bag.report.add("V013", path=name, line=number, detail=f"expected '<{algorithm} digest> <path>'")
            continue
        digest, raw = match.group(1).lower(), match.group(2)
        if raw.startswith("*"):  # md5sum's "binary mode" mark is not part of the name
            raw = raw[1:]
            bag.report.warn("V033", path=name, line=number, detail="md5sum's '*' before the path")
        if raw.startswith("./"):
            bag.report.warn("V033", path=name, line=number, detail="'./' before the path")
        path, why = _safe_path(bag, raw, in_payload)
        if path is None:
            bag.report.add("V028", path=name, line=number, entry=raw, detail=why)
            continue
        if path in entries:
            if entries[path] != digest or bag.version >= (1, 0):  # RFC 8493: a file is listed once
                bag.report.add("V029", path=name, entry=path)
            else:
                bag.report.warn("V029", path=name, entry=path)
            continue
        entries[path] = digest
    return entries


def _read_fetch(bag: _Bag) -> set[str]:
    """fetch.txt: `URL LENGTH PATH`; only the paths matter here (longwatch never fetches)."""
    if "fetch.txt" not in bag.files:
        return set()
    text = bag.read_text("fetch.txt")
    if text is None:
        return set()
    paths: set[str] = set()
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        parts = line.split(None, 2)
        if len(parts) != 3 or not (parts[1] == "-" or parts[1].isdigit()):
            bag.report.add("V032", line=number, detail="expected 'URL LENGTH PATH'")
            continue
        path, why = _safe_path(bag, parts[2], in_payload=True)
        if path is None:
            bag.report.add("V028", path="fetch.txt", line=number, entry=parts[2], detail=why)
            continue
        paths.add(path)
    return paths


def _warn_collisions(bag: _Bag, listed: dict[str, list[str]]) -> None:
    """Names that one file system keeps apart and another merges (Unicode form, case) are warnings."""
    seen: dict[str, str] = {}
    for path in sorted(listed):
        key = unicodedata.normalize("NFC", path).casefold()
        if key in seen:
            bag.report.warn("V034", entry=path, other=seen[key])
        else:
            seen[key] = path


def _check_digests(
    bag: _Bag, manifests: dict[str, dict[str, str]], on_disk: dict[str, str],
    progress: Callable[[int], None] | None,
) -> None:
    for path, actual in sorted(on_disk.items()):
        algorithms = [a for a, m in manifests.items() if path in m]
        try:
            with open(bag.root / actual, "rb") as fh:
                digests = digest_stream(fh, algorithms=algorithms, progress=progress)
        except OSError as exc:
            bag.report.add("V001", path=path, detail=str(exc))
            continue
        bag.report.files_checked += 1
        bag.report.bytes_checked += digests.size
        for algorithm in algorithms:
            expected, found = manifests[algorithm][path], digests[algorithm]
            if expected != found:
                bag.report.add("V004", path=path, algorithm=algorithm, expected=expected, found=found)


def _check_oxum(bag: _Bag, info: dict[str, str], payload: list[str], complete: bool) -> None:
    oxum = info.get("payload-oxum")
    if oxum is None or not complete:
        return
    size = sum((bag.root / p).stat().st_size for p in payload)
    found = f"{size}.{len(payload)}"
    if oxum != found:
        bag.report.add("V012", expected=oxum, found=found)


def _check_tag_manifests(bag: _Bag) -> None:
    for algorithm, entries in sorted(_read_manifests(bag, "tagmanifest-").items()):
        for path, expected in sorted(entries.items()):
            if path not in bag.files:
                bag.report.add("V005", path=path)
                continue
            try:
                found = hashlib.new(algorithm, (bag.root / path).read_bytes()).hexdigest()
            except OSError as exc:
                bag.report.add("V001", path=path, detail=str(exc))
                continue
            if found != expected:
                bag.report.add("V006", path=path, algorithm=algorithm, expected=expected, found=found)


def _check_profile_and_signature(
    bag: _Bag, info: dict[str, str], trusted: Sequence[x509.Certificate | signing.Anchor] | None,
) -> None:
    """Only what the bag declares: longwatch's own profile is checked; another profile is a warning."""
    declared = info.get("bagit-profile-identifier")
    if declared == package.PROFILE_ID:
        fields = [(k, v) for k, v in info.items()]
        text = bag.read_text("bag-info.txt") if "bag-info.txt" in bag.files else None
        if text is not None:
            fields = package.parse_bag_info(text.encode("utf-8"))
        for problem in package.profile_problems(fields, bag.files):
            bag.report.add("V014", detail=problem)
    elif declared:
        bag.report.warn("V037", profile=declared)
    if package.SIGNATURE_PATH not in bag.files:
        return
    if package.SIGNED_FILE not in bag.files:
        bag.report.add("V005", path=package.SIGNED_FILE)
        return
    try:
        signer = signing.verify_detached((bag.root / package.SIGNATURE_PATH).read_bytes(),
                                         (bag.root / package.SIGNED_FILE).read_bytes())
    except signing.SignatureError as exc:
        bag.report.add("V008", path=package.SIGNATURE_PATH, detail=str(exc))
        return
    bag.report.signer, bag.report.signer_fingerprint = signer.subject, signer.fingerprint
    if trusted is not None:
        bag.report.trusted = signing.is_trusted(signer, trusted)
        if not bag.report.trusted:
            bag.report.add("V009", path=package.SIGNATURE_PATH, fingerprint=signer.fingerprint)
