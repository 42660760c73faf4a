"""``longwatch export`` and ``longwatch verify-export``: evidence exports (docs/export.md).

A built-in command plugin, registered through ``register_commands`` like any
third-party plugin.
"""

from __future__ import annotations

from pathlib import Path

import click

from longwatch.clock import parse_time
from longwatch.commands.jobs import queue_option, report_queued
from longwatch.console import Context, emit_json, human_size, local_time, pass_obj, progress_for
from longwatch.core import custody
from longwatch.core.aip import signing
from longwatch.core.custody.entries import utc_text
from longwatch.core.evidence import export as export_mod
from longwatch.core.evidence import selection, shares, verify_export
from longwatch.core.evidence import tasks as evidence_tasks
from longwatch.core.evidence.request import Recipient, Request
from longwatch.core.jobs import queue as jobs
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _, ngettext


@click.command(name="export")
@click.argument("package_ids", nargs=-1)
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path),
              help="New folder for the export bag.")
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the bag as this ZIP file (streamed).")
@click.option("--camera", "cameras", multiple=True, help="Export this camera over --from/--to (repeatable).")
@click.option("--from", "start", metavar="ISO8601", help="Start of the range, to the second (Z or offset).")
@click.option("--to", "end", metavar="ISO8601", help="End of the range.")
@click.option("--cut", is_flag=True, help="Also an exact stream-copy cut of the range, as a derived package.")
@click.option("--case", default="", help="A case of the catalog (when the archive has cases).")
@click.option("--agency", required=True, help="The receiving agency (police, court, insurer).")
@click.option("--officer", default="", help="The receiving officer.")
@click.option("--case-number", default="", help="The recipient's case number.")
@click.option("--legal-basis", required=True, help="The legal basis of the disclosure.")
@click.option("--purpose", required=True, help="The purpose of the disclosure.")
@click.option("--expires", metavar="ISO8601", help="Until when the recipient may use the export.")
@click.option("--reason", default="", help="Why it is exported (recorded with the cut).")
@click.option("--watermark", is_flag=True,
              help="Also watermarked access copies for the recipient under data/access/ (originals untouched).")
@click.option("--report-language", type=click.Choice(["ko", "en"]), default="ko", show_default=True)
@click.option("--timezone", "recipient_zone", default="", metavar="ZONE",
              help="The recipient's time zone for the report (IANA name); default the archive's.")
@click.option("--json", "as_json", is_flag=True)
@queue_option
@pass_obj
def export_cmd(obj: Context, package_ids: tuple[str, ...], output: Path, zip_path: Path | None,
               cameras: tuple[str, ...], start: str | None, end: str | None, cut: bool, case: str, agency: str,
               officer: str, case_number: str, legal_basis: str, purpose: str, expires: str | None, reason: str,
               watermark: bool, report_language: str, recipient_zone: str, as_json: bool, as_job: bool) -> None:
    """Export packages, or cameras over a time range, as a signed evidence bag verifiable with standard tools."""
    obj.account("footage:read")  # the account that asks is the one recorded
    archive = obj.archive()
    recipient = Recipient(agency, officer, case_number, legal_basis, purpose,
                          parse_time(expires) if expires else None)
    request = Request(recipient, list(package_ids), list(cameras), parse_time(start) if start else None,
                      parse_time(end) if end else None, cut, case, report_language, reason, watermark,
                      recipient_zone)
    if as_job and jobs.queued(archive):
        if output.exists() and (not output.is_dir() or any(output.iterdir())):
            raise LongwatchError("E006", path=output)
        selection.select(archive, request)  # a request that cannot be met is refused now, not by a worker
        job, export_id = evidence_tasks.enqueue_export(archive, request, output, zip_path)
        assert isinstance(job, int)
        report_queued(obj, as_json, job, "export", str(output.resolve()), export_id=export_id,
                      path=str(output.resolve()))
        return
    existed = output.exists()
    try:
        with progress_for(obj, _("exporting"), 0) as advance:
            result = export_mod.export(archive, request, output, zip_path, progress=advance)
    except BaseException:
        if not existed:
            export_mod.remove_partial(output)
        raise
    data = {"path": str(result.path), "export_id": result.export_id, "files": result.files, "size": result.size,
            "zip": str(result.zip_path) if result.zip_path else None, "transfer_seq": result.transfer_seq,
            "checkpoint_size": result.checkpoint_size, "timestamped": result.timestamped,
            "gaps": [{"camera": camera, "start": utc_text(a), "end": utc_text(b)} for camera, a, b in result.gaps]}
    if as_json:
        emit_json(data)
        return
    if obj.quiet:
        return
    click.echo(ngettext("Exported {files} file ({size}) to {path}; export {export_id}",
                        "Exported {files} files ({size}) to {path}; export {export_id}", result.files).format(
        files=result.files, size=human_size(result.size), path=result.path, export_id=result.export_id))
    for camera, a, b in result.gaps:
        click.echo(_("gap in {camera}: {start} to {end}").format(camera=camera, start=local_time(a, archive),
                                                                  end=local_time(b, archive)))
    click.echo(_("Check it with the commands in {path}").format(path=result.path / "VERIFY.txt"))


def _saved_checkpoints(path: Path) -> list[tuple[str, custody.Checkpoint]]:
    """A --checkpoint file; one that is no checkpoint is a failed anchor of the export (E030), not a ledger error."""
    try:
        return custody.load_saved_checkpoints(path)
    except LongwatchError as exc:
        raise LongwatchError("E030", path=path, detail=exc.render(translate=False)) from exc


#: verify-export's exit status when the export is consistent but nothing outside it confirms the signer.
UNANCHORED_EXIT = 15


@click.command(name="verify-export")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--cert", "certs", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Trust only signatures by this certificate, got from the archive outside the export (repeatable).")
@click.option("--fingerprint", "fingerprints", multiple=True, metavar="SHA256",
              help="The signer's SHA-256 fingerprint as the archive publishes it (repeatable).")
@click.option("--checkpoint", "checkpoints", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A ledger checkpoint kept outside the archive (`custody checkpoints -o`, or a .note beside "
                   "its .p7s); the export must extend it (repeatable).")
@click.option("--tsa-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Require time-stamp tokens from this authority.")
@click.option("--json", "as_json", is_flag=True)
def verify_export_cmd(path: Path, certs: tuple[Path, ...], fingerprints: tuple[str, ...],
                      checkpoints: tuple[Path, ...], tsa_cert: Path | None, as_json: bool) -> None:
    """Check an evidence export (folder or ZIP) in one go; needs no archive.

    Exit status 0: VERIFIED (consistent, and its signer matches --cert,
    --fingerprint or --checkpoint); 15: UNANCHORED (consistent, signer not
    confirmed); 13: NOT VERIFIED.
    """
    check_export(path, certs, fingerprints, checkpoints, tsa_cert, as_json)


def check_export(path: Path, certs: tuple[Path, ...] | list[Path], fingerprints: tuple[str, ...] | list[str],
                 checkpoints: tuple[Path, ...] | list[Path], tsa_cert: Path | None, as_json: bool) -> None:
    """verify-export's checks and output, also ``longwatch verify DIR`` on an export; exits non-zero unless VERIFIED.

    The archive's own certificate is never an anchor here: only what the
    recipient got outside the export (and outside the operator's word) is.
    """
    anchors = verify_export.Anchors(
        certs=verify_export.trusted_from(certs) or [],
        fingerprints=[verify_export.normalize_fingerprint(f) for f in fingerprints],
        checkpoints=[item for p in checkpoints for item in _saved_checkpoints(p)])
    tsa = signing.load_certificate(tsa_cert) if tsa_cert else None
    report = verify_export.verify_export(path, tsa_cert=tsa, anchors=anchors)
    if as_json:
        emit_json(report.to_dict())
    else:
        for problem in report.problems:
            click.echo(f"ERROR [{problem.code}] {problem.render()}", err=True)
        ts = _(", time-stamped") if report.timestamped else ""
        if report.status == verify_export.VERIFIED:
            click.echo(_("VERIFIED: export {export_id} is exactly as signed by {signer}: {files} files, "
                         "{proofs} custody entries proven against a signed checkpoint of {size} entries{ts}.").format(
                export_id=report.export_id, signer=report.signer, files=report.files, proofs=report.proofs,
                size=report.checkpoint_size, ts=ts))
        elif report.status == verify_export.UNANCHORED:
            click.echo(_("UNANCHORED: export {export_id} is consistent ({files} files, {proofs} custody entries "
                         "proven against a signed checkpoint of {size} entries{ts}), but nothing from outside the "
                         "export confirms its signer {signer}: the export carries its own certificate, so a remade "
                         "export would pass too. Compare the fingerprint with the one the archive publishes, then "
                         "check again with --fingerprint, --cert or --checkpoint.").format(
                export_id=report.export_id, signer=report.signer, files=report.files, proofs=report.proofs,
                size=report.checkpoint_size, ts=ts))
        else:
            click.echo(_("NOT VERIFIED: {count} problems; do not rely on this export before asking the archive.")
                       .format(count=len(report.problems)))
    if report.status == verify_export.FAILED:
        raise SystemExit(LongwatchError(report.problems[0].code).exit_status)
    if report.status == verify_export.UNANCHORED:
        raise SystemExit(UNANCHORED_EXIT)


@click.command(name="share-export")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--expires", required=True, metavar="ISO8601", help="When the link stops working.")
@click.option("--base-url", default="", help="The web UI's address, to print a whole link.")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def share_export_cmd(obj: Context, path: Path, expires: str, base_url: str, as_json: bool) -> None:
    """Make an expiring, revocable download link for an export (served by `longwatch serve` at /s/TOKEN)."""
    obj.account("footage:read")  # the account that asks is the one recorded
    archive = obj.archive()
    when = parse_time(expires)
    share_id, token = shares.create_share(archive, path, when)
    url = f"{base_url.rstrip('/')}/s/{token}"
    if as_json:
        emit_json({"id": share_id, "url": url, "token": token, "expires": utc_text(when)})
    else:
        click.echo(_("Share link {id} for export {export_id}, valid until {expires}: {url}").format(
            id=share_id, export_id=path.name, expires=local_time(when, archive), url=url))


@click.command(name="revoke-share")
@click.argument("share_id", type=int)
@pass_obj
def revoke_share_cmd(obj: Context, share_id: int) -> None:
    """Revoke a share link at once."""
    obj.account("footage:read")  # the account that asks is the one recorded
    shares.revoke_share(obj.archive(), share_id)
    if not obj.quiet:
        click.echo(_("Share link {id} revoked").format(id=share_id))


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(export_cmd)
    cli.add_command(verify_export_cmd)
    cli.add_command(share_export_cmd)
    cli.add_command(revoke_share_cmd)
