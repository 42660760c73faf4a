"""Full verification of a package: every problem found, each with its code.

Works on a bare package directory with no archive around it, or on a package
in any storage location (through the adapter). Checks, in order: the bag
declaration, the manifests (safe paths), payload completeness, every payload
digest (all algorithms in one parallel pass), the tag manifests, the
signature (and, when trust anchors are given, the signer), PREMIS and Dublin
Core against the official schemas, PREMIS fixity against the manifests, and
the AIP profile. Like bagit-python, it collects every finding and reports
them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from cryptography import x509

from longwatch.core.aip import metadata, package, signing
from longwatch.core.aip.fixity import digest_stream, open_for_reading
from longwatch.errors import Findings, LongwatchError, Problem
from longwatch.i18n import N_
from longwatch.storage_adapters.base import StorageAdapter


class PackageSource(Protocol):
    """Read access to one package's files, wherever it lives."""

    name: str

    def files(self) -> list[str]: ...
    def read(self, relpath: str) -> bytes: ...
    def open(self, relpath: str) -> BinaryIO: ...


class DirectorySource:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)

    def files(self) -> list[str]:
        found = []
        for p in self.path.rglob("*"):
            if p.is_file() or p.is_symlink():
                found.append(p.relative_to(self.path).as_posix())
        return sorted(found)

    def links(self) -> list[str]:
        return sorted(p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_symlink())

    def read(self, relpath: str) -> bytes:
        return (self.path / relpath).read_bytes()

    def open(self, relpath: str) -> BinaryIO:
        return open_for_reading(self.path / relpath, direct=True)  # check the medium, not the page cache


class StoredSource:
    def __init__(self, adapter: StorageAdapter, package_id: str) -> None:
        self.adapter = adapter
        self.package_id = package_id
        self.name = f"{adapter.location}:{package_id}"

    def files(self) -> list[str]:
        return sorted(self.adapter.package_files(self.package_id))

    def read(self, relpath: str) -> bytes:
        with self.adapter.open_package_file(self.package_id, relpath) as fh:
            return fh.read()

    def open(self, relpath: str) -> BinaryIO:
        return self.adapter.open_package_file(self.package_id, relpath)


def source_for(adapter: StorageAdapter, package_id: str) -> PackageSource:
    """A directory source when the adapter is a filesystem (fastest), else the adapter itself."""
    local = adapter.local_path(package_id)
    return DirectorySource(local) if local is not None else StoredSource(adapter, package_id)


@dataclass
class Report(Findings):
    target: str
    package_id: str = ""
    fast: bool = False
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_checked: int = 0
    bytes_checked: int = 0
    signer: str = ""
    signer_fingerprint: str = ""
    trusted: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "package_id": self.package_id,
            "ok": self.ok,
            "fast": self.fast,
            "files_checked": self.files_checked,
            "bytes_checked": self.bytes_checked,
            "signer": self.signer,
            "signer_fingerprint": self.signer_fingerprint,
            "trusted": self.trusted,
            "problems": [p.to_dict() for p in self.problems],
            "notes": self.notes,
        }


_ALGORITHMS = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}


def verify_package(
    source: PackageSource,
    trusted: Sequence[x509.Certificate | signing.Anchor] | None = None,
    fast: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Check everything; never stop at the first problem."""
    report = Report(target=source.name, fast=fast)
    try:
        names = source.files()
    except OSError as exc:
        report.add("V001", path=source.name, detail=str(exc))
        return report
    # A link could make a package "contain" bytes that live elsewhere: never follow one.
    links = source.links() if isinstance(source, DirectorySource) else []
    for link in links:
        report.add("V018", path=link)
        names = [n for n in names if n != link and not n.startswith(link + "/")]
    present = set(names)
    if "bagit.txt" not in present:
        report.add("V001", path=source.name, detail="bagit.txt is missing")
        return report
    declaration = source.read("bagit.txt").decode("utf-8", "replace")
    if "BagIt-Version: 1.0" not in declaration or "Tag-File-Character-Encoding: UTF-8" not in declaration:
        report.add("V001", path=source.name, detail="bagit.txt does not declare BagIt 1.0 in UTF-8")

    bag_info: list[tuple[str, str]] = []
    if "bag-info.txt" in present:
        try:
            bag_info = package.parse_bag_info(source.read("bag-info.txt"))
        except (ValueError, UnicodeDecodeError) as exc:
            report.add("V001", path=source.name, detail=f"bag-info.txt: {exc}")
    info = {k.lower(): v for k, v in bag_info}
    report.package_id = info.get("external-identifier", "")

    manifests = _read_manifests(source, present, "manifest-", report)
    listed = set().union(*(m.keys() for m in manifests.values())) if manifests else set()
    payload = sorted(n for n in present if n.startswith("data/"))
    for path in sorted(listed - present):
        report.add("V002", path=path)
    for path in payload:
        if path not in listed:
            report.add("V003", path=path)

    sizes = _check_payload(source, manifests, sorted(listed & present), fast, report, progress)
    oxum = info.get("payload-oxum")
    if oxum is not None:
        found = f"{sum(sizes.values())}.{len(payload)}"
        if sizes and found != oxum and len(sizes) == len(listed & present):
            report.add("V012", expected=oxum, found=found)

    tag_manifests = _read_manifests(source, present, "tagmanifest-", report)
    covered = set().union(*(m.keys() for m in tag_manifests.values())) if tag_manifests else set()
    for algorithm, entries in tag_manifests.items():
        for path, expected in entries.items():
            if path not in present:
                if algorithm == "sha256":
                    report.add("V005", path=path)
                continue
            found = hashlib.new(algorithm, source.read(path)).hexdigest()
            if found != expected:
                report.add("V006", path=path, algorithm=algorithm, expected=expected, found=found)
    for path in sorted(present):
        # Only files about the signed tag manifest (its signature, a time-stamp token) may stand outside it.
        if (not path.startswith("data/") and not path.startswith("tagmanifest-")
                and not path.startswith(f"signature/{package.SIGNED_FILE}.") and path not in covered):
            report.add("V016", path=path)

    _check_signature(source, present, trusted, report)
    fixities = _check_metadata(source, present, report)
    for path, digests in fixities.items():
        for algorithm, value in digests.items():
            manifest_value = manifests.get(algorithm, {}).get(path)
            if manifest_value is not None and manifest_value != value.lower():
                report.add("V015", path=path, algorithm=algorithm, expected=value, found=manifest_value)
    for problem in package.profile_problems(bag_info, present):
        report.add("V014", detail=problem)
    if info.get("bagit-profile-identifier") != package.PROFILE_ID:  # issue 23: a bag from elsewhere
        report.notes.append(N_("this bag does not declare longwatch's package profile; "
                               "`longwatch verify --bagit DIR` checks it against BagIt alone"))
    return report


def _read_manifests(
    source: PackageSource, present: set[str], prefix: str, report: Report
) -> dict[str, dict[str, str]]:
    manifests: dict[str, dict[str, str]] = {}
    for name in sorted(present):
        if not (name.startswith(prefix) and name.endswith(".txt") and "/" not in name):
            continue
        algorithm = name[len(prefix) : -len(".txt")]
        if algorithm not in _ALGORITHMS:
            report.add("V013", path=name, line=0, detail=f"unknown algorithm {algorithm!r}")
            continue
        try:
            entries = package.parse_manifest(source.read(name))
        except package.ManifestError as exc:
            report.add("V013", path=name, line=exc.line, detail=exc.detail)
        except UnicodeDecodeError as exc:
            report.add("V013", path=name, line=0, detail=str(exc))
        else:
            if prefix == "manifest-":  # RFC 8493 2.1.3: a payload manifest lists payload files only
                for number, path in enumerate(entries, start=1):
                    if not path.startswith("data/"):
                        report.add("V013", path=name, line=number, detail=f"{path!r} is not under data/")
                entries = {p: d for p, d in entries.items() if p.startswith("data/")}
            manifests[algorithm] = entries
    return manifests


def _check_payload(
    source: PackageSource,
    manifests: dict[str, dict[str, str]],
    paths: list[str],
    fast: bool,
    report: Report,
    progress: Callable[[int], None] | None,
) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for path in paths:
        algorithms = [a for a, m in manifests.items() if path in m]
        try:
            with source.open(path) as fh:
                if fast:
                    fh.seek(0, 2)
                    sizes[path] = fh.tell()
                    continue
                digests = digest_stream(fh, algorithms=algorithms, progress=progress)
        except OSError as exc:
            report.add("V001", path=path, detail=str(exc))
            continue
        sizes[path] = digests.size
        report.files_checked += 1
        report.bytes_checked += digests.size
        for algorithm in algorithms:
            expected, found = manifests[algorithm][path], digests[algorithm]
            if expected != found:
                report.add("V004", path=path, algorithm=algorithm, expected=expected, found=found)
    return sizes


def _check_signature(
    source: PackageSource, present: set[str], trusted: Sequence[x509.Certificate | signing.Anchor] | None,
    report: Report,
) -> None:
    if package.SIGNATURE_PATH not in present:
        report.add("V007", path=package.SIGNATURE_PATH)
        return
    if package.SIGNED_FILE not in present:
        return  # already reported as a missing tag manifest
    try:
        info = signing.verify_detached(source.read(package.SIGNATURE_PATH), source.read(package.SIGNED_FILE))
    except signing.SignatureError as exc:
        report.add("V008", path=package.SIGNATURE_PATH, detail=str(exc))
        return
    report.signer, report.signer_fingerprint = info.subject, info.fingerprint
    if trusted is None:
        report.notes.append(N_("the signer was not compared with a trusted certificate (use --cert)"))
        return
    report.trusted = signing.is_trusted(info, trusted)
    if not report.trusted:
        report.add("V009", path=package.SIGNATURE_PATH, fingerprint=info.fingerprint)


def _check_metadata(source: PackageSource, present: set[str], report: Report) -> dict[str, dict[str, str]]:
    fixities: dict[str, dict[str, str]] = {}
    for path, schema in ((package.PREMIS_PATH, "premis"), (package.DC_PATH, "dc")):
        if path not in present:
            continue
        try:
            tree = metadata.parse_untrusted(source.read(path), path)
        except LongwatchError as exc:
            if exc.code == "X001":
                report.add("V011", path=path, detail=exc.context.get("detail", ""))
            else:
                report.add("V010", path=path, schema=schema, detail=exc.context.get("detail", ""))
            continue
        for error in metadata.schema_errors(tree, schema):
            report.add("V010", path=path, schema=schema, detail=error)
        if schema == "premis":
            fixities = metadata.premis_fixities(tree)
    return fixities
