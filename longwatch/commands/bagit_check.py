"""``longwatch verify --bagit DIR``: any BagIt bag (0.93 to 1.0), not only the archive's own AIPs.

The checks live in ``core/aip/bagit_only.py``; this module only prints them.
It needs no archive: a bag received from another body is checked before
anything is done with it. ``longwatch ingest BAG`` uses the same check, so a
bag's payload is archived only once the bag verifies, and its tag files
(bagit.txt, manifests) are never archived as footage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from longwatch.console import Context, emit_json, human_size, progress_for
from longwatch.core.aip import bagit_only, signing
from longwatch.errors import LongwatchError
from longwatch.i18n import _, ngettext


def check_bag(obj: Context, path: Path, cert_paths: tuple[Path, ...], as_json: bool) -> None:
    """Print every finding (errors, then warnings) and exit 1 unless the bag is valid."""
    trusted: list[signing.x509.Certificate | signing.Anchor] | None = (
        [c for p in cert_paths for c in signing.load_certificates(p)] or None)
    with progress_for(obj, _("verifying {name}").format(name=str(path)), 0) as advance:
        report = bagit_only.verify_bag(path, trusted=trusted, progress=advance)
    if as_json:
        emit_json({"ok": report.ok, "packages": [report.to_dict()]})
    else:
        for problem in report.problems:
            click.echo(f"ERROR [{problem.code}] {report.target}: {problem.render()}", err=True)
        for warning in report.warnings:
            click.echo(f"WARNING [{warning.code}] {report.target}: {warning.render()}", err=True)
        if not obj.quiet:
            if report.ok:
                click.echo(ngettext(
                    "VALID {bag}: BagIt {version}; {files} payload file ({size}) matches its manifests",
                    "VALID {bag}: BagIt {version}; {files} payload files ({size}) match their manifests",
                    report.files_checked).format(bag=report.target, version=report.version,
                                                 files=report.files_checked, size=human_size(report.bytes_checked)))
            else:
                click.echo(ngettext("INVALID {bag}: {count} problem", "INVALID {bag}: {count} problems",
                                    len(report.problems)).format(bag=report.target, count=len(report.problems)))
            if report.warnings:
                click.echo(ngettext("{count} warning: worth a look, but not a reason to refuse the bag",
                                    "{count} warnings: worth a look, but not a reason to refuse the bag",
                                    len(report.warnings)).format(count=len(report.warnings)), err=True)
    if not report.ok:
        sys.exit(1)


def payload_of_bags(paths: list[Path]) -> list[Path]:
    """Each bag directory among ``paths`` (it holds bagit.txt) replaced by its data/ folder once it verifies.

    A bag that does not verify is refused whole (V039) before anything is
    archived: archiving a part of a damaged bag would hide the damage.
    """
    result = []
    for path in paths:
        if path.is_dir() and not path.is_symlink() and (path / "bagit.txt").is_file():
            report = bagit_only.verify_bag(path)
            if not report.ok:
                raise LongwatchError("V039", path=str(path), count=len(report.problems),
                                     first=report.problems[0].render())
            result.append(path / "data")
        else:
            result.append(path)
    return result
