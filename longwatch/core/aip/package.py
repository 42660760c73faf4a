"""Build and read Archival Information Packages: BagIt 1.0 (RFC 8493) bags.

The bag is written by hand rather than by ``bagit.make_bag``, because that
works in place on a finished directory and hashes it again: ingest already
has every digest from its single streaming pass. The layout and the profile
(``profiles/longwatch-aip-v1.json``) are checked by bagit-python and the
BagIt profile validator in the tests.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from longwatch.core.aip.fixity import ALGORITHMS, digest_bytes

PROFILE_PATH = Path(__file__).resolve().parents[2] / "profiles" / "longwatch-aip-v1.json"
PROFILE_ID = "urn:longwatch:bagit-profile:aip:1.0"
DATASET_PROFILE_PATH = PROFILE_PATH.with_name("longwatch-dataset-v1.json")
DATASET_PROFILE_ID = "urn:longwatch:bagit-profile:dataset:1.0"
#: Profiles a bag may declare in bag-info.txt; any other declaration is checked against the AIP profile.
PROFILES = {PROFILE_ID: PROFILE_PATH, DATASET_PROFILE_ID: DATASET_PROFILE_PATH}
BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
SIGNATURE_PATH = "signature/tagmanifest-sha256.txt.p7s"
SIGNED_FILE = "tagmanifest-sha256.txt"
PREMIS_PATH = "metadata/premis.xml"
DC_PATH = "metadata/dc.xml"
TECHNICAL_PATH = "metadata/technical.json"
MAX_NAME_BYTES = 200

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_PRINTABLE_ESCAPE = re.compile(r"[%\x00-\x1f\x7f-\x9f\udc80-\udcff]")
_DIGEST = re.compile(r"^[0-9a-fA-F]+$")


@functools.lru_cache(maxsize=4)
def profile(identifier: str = PROFILE_ID) -> dict[str, Any]:
    return dict(json.loads(PROFILES.get(identifier, PROFILE_PATH).read_text(encoding="utf-8")))


# -- names -------------------------------------------------------------------
def safe_name(name: str, fallback: str = "media.bin") -> str:
    """A file name that cannot leave the payload directory, keeping what can be kept.

    Directory parts are dropped (only the last component counts), control
    characters, separators and '%' become '_', and over-long names are shortened
    keeping the extension. The exact original name is recorded separately
    (PREMIS originalName), so nothing is lost by renaming.
    """
    base = re.split(r"[/\\]", name)[-1]
    # Bytes that are not UTF-8 (a CP949 name from a Windows NVR share) arrive as surrogates.
    base = _SURROGATE.sub("_", base)
    base = unicodedata.normalize("NFC", _CONTROL.sub("_", base)).strip()
    # RFC 8493 would percent-encode '%' in manifests, but bagit-python and `sha256sum -c`
    # do not decode it: a stored name without '%' reads the same in every tool.
    base = base.replace("%", "_")
    if base in ("", ".", "..") or base.startswith("~"):
        base = fallback if base in ("", ".", "..") else "_" + base[1:]
    if len(base.encode("utf-8")) > MAX_NAME_BYTES:
        stem, dot, ext = base.rpartition(".")
        ext = ext if dot and len(ext.encode()) <= 16 else ""
        budget = MAX_NAME_BYTES - len(ext.encode()) - 1
        stem = (stem if dot else base).encode("utf-8")[:budget].decode("utf-8", "ignore")
        base = f"{stem}.{ext}" if ext else stem
    return base


def printable_name(name: str) -> str:
    """The original name as XML can carry it, losslessly: see :func:`original_name_bytes`.

    '%', control characters and bytes that are not UTF-8 (surrogate-escaped by
    Python) are percent-encoded; every other character is kept as it is, so
    ordinary names (Korean ones included) read as they were.
    """

    def encode(match: re.Match[str]) -> str:
        ch = match.group()
        raw = bytes([ord(ch) - 0xDC00]) if 0xDC80 <= ord(ch) <= 0xDCFF else ch.encode("utf-8")
        return "".join(f"%{b:02X}" for b in raw)

    return _PRINTABLE_ESCAPE.sub(encode, name)


def original_name_bytes(printable: str) -> bytes:
    """The exact bytes of the original file name, from its PREMIS originalName."""
    return urllib.parse.unquote_to_bytes(printable)


def is_safe_bag_path(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and "\\" not in path and not _CONTROL.search(path) and all(
        p not in ("", ".", "..") for p in parts
    )


# -- manifests and tag files ---------------------------------------------------
def _encode_path(path: str) -> str:
    """RFC 8493 section 2.1.3: percent-encode CR, LF and '%' in manifest paths."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _decode_path(path: str) -> str:
    return path.replace("%0D", "\r").replace("%0d", "\r").replace("%0A", "\n").replace("%0a", "\n").replace(
        "%25", "%"
    )


def manifest_text(entries: dict[str, str]) -> bytes:
    return "".join(f"{digest}  {_encode_path(path)}\n" for path, digest in sorted(entries.items())).encode()


class ManifestError(ValueError):
    def __init__(self, line: int, detail: str) -> None:
        super().__init__(detail)
        self.line = line
        self.detail = detail


def parse_manifest(data: bytes) -> dict[str, str]:
    """path -> digest; raise ManifestError for a malformed line or an unsafe path."""
    entries: dict[str, str] = {}
    for number, raw in enumerate(data.decode("utf-8", "strict").splitlines(), start=1):
        if not raw.strip():
            continue
        digest, sep, path = raw.partition(" ")
        path = _decode_path(path.lstrip(" ").lstrip("*"))
        if not sep or not _DIGEST.match(digest) or not path:
            raise ManifestError(number, "expected '<digest> <path>'")
        if not is_safe_bag_path(path):
            raise ManifestError(number, f"unsafe path {path!r}")
        if path in entries:
            raise ManifestError(number, f"{path!r} listed twice")
        entries[path] = digest.lower()
    return entries


def bag_info_text(fields: Iterable[tuple[str, str]]) -> bytes:
    lines = []
    for key, value in fields:
        clean = " ".join(_SURROGATE.sub("\ufffd", _CONTROL.sub(" ", str(value))).split())  # one line each
        lines.append(f"{key}: {clean}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def parse_bag_info(data: bytes) -> list[tuple[str, str]]:
    """Labels and values in order; continuation lines (leading whitespace) are joined."""
    fields: list[tuple[str, str]] = []
    for line in data.decode("utf-8").splitlines():
        if not line.strip():
            continue
        if line[0] in " \t" and fields:
            key, value = fields[-1]
            fields[-1] = (key, f"{value} {line.strip()}")
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"bag-info line without ':': {line[:80]!r}")
        fields.append((key.strip(), value.strip()))
    return fields


@dataclass
class PayloadEntry:
    relpath: str
    size: int
    digests: dict[str, str]


@dataclass
class BagContents:
    """What goes into a bag besides the payload bytes (already written by ingest)."""

    payload: list[PayloadEntry]
    bag_info: list[tuple[str, str]]
    tag_files: dict[str, bytes] = field(default_factory=dict)  # metadata/... -> bytes

    @property
    def payload_oxum(self) -> str:
        return f"{sum(p.size for p in self.payload)}.{len(self.payload)}"

    def tag_file_bytes(self) -> dict[str, bytes]:
        """Every tag file except the tag manifests and the signature, in write order."""
        files: dict[str, bytes] = {"bagit.txt": BAGIT_TXT}
        info = [*self.bag_info, ("Payload-Oxum", self.payload_oxum)]
        files["bag-info.txt"] = bag_info_text(info)
        for algorithm in ALGORITHMS:
            entries = {p.relpath: p.digests[algorithm] for p in self.payload}
            files[f"manifest-{algorithm}.txt"] = manifest_text(entries)
        files.update(self.tag_files)
        return files

    def tag_manifests(self, files: dict[str, bytes]) -> dict[str, bytes]:
        manifests = {}
        digests = {path: digest_bytes(data) for path, data in files.items()}
        for algorithm in ALGORITHMS:
            entries = {path: d[algorithm] for path, d in digests.items()}
            manifests[f"tagmanifest-{algorithm}.txt"] = manifest_text(entries)
        return manifests


def bagging_date(now: datetime) -> str:
    return now.date().isoformat()


# -- profile -----------------------------------------------------------------
def profile_problems(bag_info: list[tuple[str, str]], files: Iterable[str]) -> list[str]:
    """Where a bag departs from its longwatch profile (bag-info, manifests, tag files).

    The profile is the one the bag declares (an AIP or a dataset export); a
    bag declaring none, or another, is held to the AIP profile.
    """
    declared = [v for k, v in bag_info if k.lower() == "bagit-profile-identifier"]
    spec = profile(declared[0] if len(declared) == 1 else PROFILE_ID)
    problems = []
    info: dict[str, list[str]] = {}
    for key, value in bag_info:
        info.setdefault(key.lower(), []).append(value)
    for tag, rule in spec.get("Bag-Info", {}).items():
        values = info.get(tag.lower())
        if rule.get("required") and not values:
            problems.append(f"bag-info.txt lacks {tag}")
        allowed = rule.get("values")
        if values and allowed and any(v not in allowed for v in values):
            problems.append(f"bag-info.txt {tag} must be one of {allowed}")
    names = set(files)
    for algorithm in spec.get("Manifests-Required", []):
        if f"manifest-{algorithm}.txt" not in names:
            problems.append(f"manifest-{algorithm}.txt is required")
    for algorithm in spec.get("Tag-Manifests-Required", []):
        if f"tagmanifest-{algorithm}.txt" not in names:
            problems.append(f"tagmanifest-{algorithm}.txt is required")
    for kind, prefix in (("Manifests-Allowed", "manifest-"), ("Tag-Manifests-Allowed", "tagmanifest-")):
        allowed_algorithms = spec.get(kind)
        for name in sorted(names):
            if allowed_algorithms and name.startswith(prefix) and name.endswith(".txt") and "/" not in name:
                if name[len(prefix) : -len(".txt")] not in allowed_algorithms:
                    problems.append(f"{name} is not allowed by the profile ({kind})")
    for required in spec.get("Tag-Files-Required", []):
        if required not in names:
            problems.append(f"required tag file {required} is missing")
    allowed_tags = spec.get("Tag-Files-Allowed", ["*"])
    for name in sorted(names):
        if name.startswith("data/"):
            continue
        if not any(fnmatch.fnmatch(name, pattern) for pattern in allowed_tags):
            problems.append(f"tag file {name} is not allowed by the profile")
    if not spec.get("Allow-Fetch.txt", True) and "fetch.txt" in names:
        problems.append("fetch.txt is not allowed")
    return problems
