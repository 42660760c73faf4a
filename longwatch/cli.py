"""The ``longwatch`` command. Plugins add commands through ``register_commands``.

Conventions (docs/cli.md): the archive is ``-A DIR``, else ``LONGWATCH_ARCHIVE``,
else the nearest ``longwatch.toml`` upward; errors go to stderr as
``ERROR [CODE] message`` with the exit status of the code's family; listing
commands take ``--json`` with stable keys; long work shows a progress bar on a
terminal and plain lines otherwise; ``--quiet`` silences both.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.formatting import HelpFormatter

from longwatch import __version__, commands, config, i18n, registry
from longwatch.console import Context, emit_json, pass_obj
from longwatch.errors import LongwatchError
from longwatch.i18n import _

if TYPE_CHECKING:
    from longwatch.core.aip import verify as verify_mod
    from longwatch.core.archive import Archive

# The core verbs below import what they use inside their bodies: `longwatch --help`, `longwatch ingest --help`
# and every other command then pay only for the modules they run (docs/performance.md, "Start-up").


class LongwatchGroup(click.Group):
    """Loads a built-in command's module when it runs, plugin commands on first use, and turns
    LongwatchError into ``ERROR [CODE] ...``.

    ``--help`` lists the built-in commands from ``longwatch.commands.BUILTIN`` without importing them.
    """

    _plugins_loaded = False

    def _load_plugins(self) -> None:
        if not LongwatchGroup._plugins_loaded:
            # Marked loaded only on success: a broken plugin (P003) must fail every run, not only the first.
            registry.command_plugins().hook.register_commands(cli=self)
            LongwatchGroup._plugins_loaded = True

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return sorted(set(super().list_commands(ctx)) | set(commands.BUILTIN))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            if cmd_name in commands.BUILTIN:
                commands.load(cmd_name, self)
            else:
                self._load_plugins()
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: HelpFormatter) -> None:
        """As click's, with the built-in commands not yet loaded described from the table (no import)."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.commands.get(name)
            if cmd is None and name in commands.BUILTIN:
                cmd = click.Command(name, help=commands.BUILTIN[name][1])
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _cmd in rows)
            with formatter.section("Commands"):  # as click prints it (its own gettext domain, English)
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LongwatchError as exc:
            obj = ctx.find_object(Context)
            if obj is not None and obj.debug:
                traceback.print_exc()
            click.echo(f"ERROR [{exc.code}] {exc.render()}", err=True)
            ctx.exit(exc.exit_status)


@click.group(cls=LongwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-A", "--archive", "archive_dir", envvar=None, metavar="DIR",
              help="Archive directory (else LONGWATCH_ARCHIVE, else the nearest longwatch.toml).")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("--lang", type=click.Choice(i18n.SUPPORTED), help="Language of messages (else LONGWATCH_LANG, LANG).")
@click.version_option(__version__, prog_name="longwatch")
@click.pass_context
def cli(ctx: click.Context, archive_dir: str | None, quiet: bool, debug: bool, lang: str | None) -> None:
    """longwatch: a preservation archive for CCTV video."""
    i18n.set_language(lang or i18n.language_from_environment())
    ctx.obj = Context(archive_dir=archive_dir, quiet=quiet, debug=debug, lang=lang)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default="", help="Archive name (default: the directory name).")
@click.option("--organization", default="", help="Organisation that holds the footage (Source-Organization).")
@click.option("--timezone", default="Asia/Seoul", show_default=True)
@click.option("--language", type=click.Choice(i18n.SUPPORTED), default="ko", show_default=True)
@click.option("--key", "key_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Import an existing private key (PEM) instead of generating one.")
@click.option("--cert", "cert_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The certificate of --key.")
@pass_obj
def init(obj: Context, directory: Path, name: str, organization: str, timezone: str, language: str,
         key_path: Path | None, cert_path: Path | None) -> None:
    """Create an archive in DIRECTORY: configuration, catalog, storage and a signing key."""
    from longwatch.core.archive import Archive  # the catalog and the signer: this command only

    archive = Archive.create(directory, name=name, organization=organization, timezone=timezone,
                             language=language, key_path=key_path, cert_path=cert_path)
    if not obj.quiet:
        click.echo(_("Created archive {path}").format(path=archive.root))
        click.echo(_("Signing certificate: {path} ({fingerprint})").format(
            path=archive.settings.cert_path, fingerprint=archive.signer.fingerprint))
        click.echo(_("Keep a copy of the key {path} somewhere safe.").format(path=archive.settings.key_path))


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--camera", default="", help="Camera id.")
@click.option("--zone", default="", help="Zone (e.g. Jung-gu/Market).")
@click.option("--location", default="", metavar="LAT,LON", help="Camera position in decimal degrees.")
@click.option("--place", "location_name", default="", help="Place name or address.")
@click.option("--start", default="", metavar="ISO8601", help="Recording start with Z or an offset.")
@click.option("--title", default="", help="Title (default: camera, time and file name).")
@click.option("--allow-duplicate", is_flag=True, help="Archive bytes already in the archive again.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@pass_obj
def ingest(obj: Context, paths: tuple[Path, ...], camera: str, zone: str, location: str, location_name: str,
           start: str, title: str, allow_duplicate: bool, as_json: bool) -> None:
    """Archive files (a directory: every file in it) as signed packages.

    Metadata may also come from a JSON sidecar next to each file
    (clip.mp4.json or clip.json); options given here win.
    """
    from longwatch import clock
    from longwatch.console import human_size, progress_for
    from longwatch.core.aip.package import printable_name
    from longwatch.core.preservation import ingest as ingest_mod  # the pipeline: SQLAlchemy, lxml, cryptography
    from longwatch.core.preservation import publish as publish_mod

    archive = obj.archive()
    lat = lon = None
    if location:
        lat, lon = ingest_mod.parse_location(location)
    start_time = clock.parse_time(start) if start else None
    ingest_mod.check_camera(camera)
    publish_mod.recover(archive)  # staging and half-done publications a killed ingest left
    results, failures = [], []
    files = list(ingest_mod.expand_paths(list(paths)))
    for path in files:
        request = ingest_mod.IngestRequest(
            path=path, camera=camera, zone=zone, latitude=lat, longitude=lon, location_name=location_name,
            start=start_time, title=title, allow_duplicate=allow_duplicate)
        try:
            size = path.stat().st_size if path.is_file() else 0
            with progress_for(obj, path.name, size) as advance:
                result = ingest_mod.ingest(archive, request, progress=advance)
        except LongwatchError as exc:
            if len(files) == 1:
                raise
            click.echo(f"ERROR [{exc.code}] {exc.render()}", err=True)
            failures.append({"path": printable_name(str(path)), **exc.to_dict()})
            continue
        for warning in result.warnings:
            click.echo(_("WARNING {message}").format(message=warning), err=True)
        results.append(result)
        if not as_json and not obj.quiet:
            click.echo(_("{package_id}  {path}  {size}  sha256:{sha256}").format(
                package_id=result.package_id, path=printable_name(str(path)), size=human_size(result.size),
                sha256=result.sha256[:16]))
    if as_json:
        emit_json({
            "packages": [{"package_id": r.package_id, "path": printable_name(str(r.path)), "size": r.size,
                          "sha256": r.sha256, "start": r.start, "end": r.end, "media_ok": r.media_ok,
                          "warnings": r.warnings}
                         for r in results],
            "failures": failures,
        })
    if failures:
        sys.exit(4)


@cli.command()
@click.argument("target", required=False)
@click.option("--all", "verify_all", is_flag=True, help="Every package in the archive.")
@click.option("--fast", is_flag=True, help="Sizes and presence only; skip payload digests.")
@click.option("--cert", "cert_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Trusted signer certificate (default: the archive's).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def verify(obj: Context, target: str | None, verify_all: bool, fast: bool, cert_path: Path | None,
           as_json: bool) -> None:
    """Verify a package (id or directory) or --all: digests, manifests, signature, schemas, profile.

    Every problem is listed with its code; the exit status is 1 when any is found.
    """
    # Each branch imports what it needs: a bare package directory needs no catalog, ledger or records module.
    from longwatch.console import progress_for
    from longwatch.core.aip import signing
    from longwatch.core.aip import verify as verify_mod  # lxml, cryptography, asn1crypto: this command only

    if not target and not verify_all:
        raise LongwatchError("C001")
    if target and not verify_all and Path(target).is_file():  # issue 6: a destruction certificate verifies too
        from longwatch.core.records import certificates  # the records layer: for a certificate only

        if certificates.is_certificate(Path(target)):
            from longwatch.commands.retention import verify_certificate

            verify_certificate(obj, Path(target), cert_path, as_json)
            return
    trusted = [signing.load_certificate(cert_path)] if cert_path else None
    jobs: list[tuple[str, verify_mod.PackageSource | None, Archive | None]] = []
    bare_directory = bool(target and Path(target).is_dir() and not verify_all)
    if bare_directory:
        archive = None
        if trusted is None:
            try:
                config.find_archive(obj.archive_dir)  # A001 before importing the archive (and its catalog)
                archive = obj.archive()
                trusted = [archive.certificate]
            except LongwatchError:
                archive = None
        jobs.append((str(target), verify_mod.DirectorySource(Path(str(target))), archive))
    else:
        from longwatch.console import resolve_package
        from longwatch.core.storage.copies import working_locations  # the catalog: packages of an archive only

        archive = obj.archive()
        trusted = trusted or [archive.certificate]
        storage = archive.storage()

        if verify_all:
            on_storage = set(storage.package_ids())
            ids = sorted(on_storage | set(archive.catalog.all_ids()))
        else:
            ids = [resolve_package(archive, str(target))]
            on_storage = set()
        where = working_locations(archive)  # a package moved to a colder tier is read there
        for package_id in ids:
            here = archive.storage(where.get(package_id, storage.location))
            present = (package_id in on_storage) if verify_all and here is storage else here.has_package(package_id)
            source = verify_mod.source_for(here, package_id) if present else None
            jobs.append((package_id, source, archive))

    reports = []
    ledger_results = []  # custody ledger (issue 4): one "fixity check" event per package in the archive
    for name, source, archive in jobs:
        if source is None:
            report = verify_mod.Report(target=name, package_id=name)
            assert archive is not None
            report.add("V017", package_id=name, location=archive.settings.primary_location)
        else:
            with progress_for(obj, _("verifying {name}").format(name=name), 0) as advance:
                report = verify_mod.verify_package(source, trusted=trusted, fast=fast, progress=advance)
        if archive is not None:
            archive.pm.hook.fixity_checked(package_id=report.package_id or None, path=report.target,
                                           ok=report.ok, problems=[p.to_dict() for p in report.problems])
        reports.append(report)
        if archive is not None and not bare_directory:
            detail = (f"longwatch verify ({'fast' if fast else 'full'}): {report.files_checked} files, "
                      f"{report.bytes_checked} bytes digested")  # the record stays English
            ledger_results.append((name, report.ok, detail, [p.to_dict() for p in report.problems]))
        if not as_json:
            _print_report(report, obj)
    if ledger_results and archive is not None:
        from longwatch.core import custody  # the ledger: packages of an archive only

        custody.record_fixity(archive, ledger_results)
    if as_json:
        emit_json({"ok": all(r.ok for r in reports), "packages": [r.to_dict() for r in reports]})
    elif len(reports) > 1 and not obj.quiet:
        bad = sum(1 for r in reports if not r.ok)
        click.echo(_("{count} packages verified, {bad} with problems").format(count=len(reports), bad=bad))
    if any(not r.ok for r in reports):
        sys.exit(1)


def _print_report(report: verify_mod.Report, obj: Context) -> None:
    from longwatch.console import human_size

    for problem in report.problems:
        click.echo(f"ERROR [{problem.code}] {report.target}: {problem.render()}", err=True)
    if obj.quiet:
        return
    label = report.package_id or report.target
    if report.ok:
        mode = _("fast check") if report.fast else _("{files} files, {size} digested").format(
            files=report.files_checked, size=human_size(report.bytes_checked))
        click.echo(_("OK {package}: {mode}; signed by {signer}").format(
            package=label, mode=mode, signer=report.signer or "?"))
    else:
        click.echo(_("FAILED {package}: {count} problems").format(package=label, count=len(report.problems)))
    for note in report.notes:
        click.echo(_("NOTE {message}").format(message=_(note)), err=True)


@cli.command(name="list")
@click.option("--limit", default=50, show_default=True)
@click.option("--offset", default=0)
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def list_(obj: Context, limit: int, offset: int, as_json: bool) -> None:
    """List packages, newest recording first."""
    from rich.table import Table

    from longwatch.console import human_size, local_time, stdout

    archive = obj.archive()
    rows = archive.catalog.packages(limit=limit, offset=offset)
    if as_json:
        emit_json({"packages": [_package_dict(p) for p in rows]})
        return
    table = Table(_("id"), _("camera"), _("start"), _("duration"), _("size"), _("title"), box=None)
    for p in rows:
        duration = (p.end_utc - p.start_utc).total_seconds() if p.start_utc and p.end_utc else None
        table.add_row(p.id[:8], p.camera or "-", local_time(p.start_utc, archive),
                      f"{duration:.0f}s" if duration is not None else "-", human_size(p.size_bytes), p.title)
    stdout.print(table)


def _package_dict(p: Any) -> dict[str, Any]:
    return {
        "package_id": p.id, "camera": p.camera, "zone": p.zone, "title": p.title,
        "start": p.start_utc, "end": p.end_utc, "time_source": p.time_source,
        "latitude": p.latitude, "longitude": p.longitude, "location_name": p.location_name,
        "size": p.size_bytes, "files": p.file_count, "status": p.status,
        "location": p.storage_location, "media_ok": p.media_ok, "created": p.created_at,
        "signer_fingerprint": p.signer_fingerprint,
        "clips": [{"path": c.relpath, "original_name": c.original_name, "size": c.size_bytes,
                   "sha256": c.sha256, "sha512": c.sha512, "mime_type": c.mime_type, "codec": c.codec,
                   "width": c.width, "height": c.height, "duration": c.duration,
                   "start": c.start_utc, "end": c.end_utc, "probe_ok": c.probe_ok} for c in p.clips],
    }


@cli.command()
@click.argument("package_id")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def show(obj: Context, package_id: str, as_json: bool) -> None:
    """Show one package: what it holds, where, and its PREMIS events."""
    from rich.table import Table

    from longwatch.console import human_size, local_time, resolve_package, stdout
    from longwatch.core.aip import metadata, package  # lxml: this command only
    from longwatch.core.storage.copies import copies_report

    archive = obj.archive()
    pid = resolve_package(archive, package_id)
    row = archive.catalog.get(pid)
    assert row is not None
    if row.status == "disposed":
        _show_tombstone(archive, row, as_json)
        return
    storage = archive.storage(row.storage_location)
    try:
        with storage.open_package_file(pid, package.PREMIS_PATH) as fh:
            premis = fh.read()
    except FileNotFoundError as exc:  # the catalog says it exists: storage disagrees, say which part is gone
        code = "V005" if storage.has_package(pid) else "V017"
        raise LongwatchError(code, path=f"{pid}/{package.PREMIS_PATH}", package_id=pid,
                             location=storage.location) from exc
    events = metadata.premis_events(metadata.parse_untrusted(premis, package.PREMIS_PATH))
    data = _package_dict(row)
    data["events"] = events

    data["copies"] = copies_report(archive, pid)
    local = storage.local_path(pid)
    data["path"] = str(local) if local else None
    if as_json:
        emit_json(data)
        return
    table = Table(box=None, show_header=False)
    for key, label in (("package_id", _("package")), ("title", _("title")), ("camera", _("camera")),
                       ("zone", _("zone")), ("location_name", _("place"))):
        table.add_row(label, str(data[key] or "-"))
    table.add_row(_("recorded"), f"{local_time(row.start_utc, archive)} — {local_time(row.end_utc, archive)}"
                  f" ({row.time_source})")
    if row.latitude is not None:
        table.add_row(_("position"), f"{row.latitude}, {row.longitude}")
    table.add_row(_("size"), human_size(row.size_bytes))
    table.add_row(_("stored in"), f"{row.storage_location}" + (f" ({local})" if local else ""))
    table.add_row(_("signer"), row.signer_fingerprint)
    stdout.print(table)
    clips = Table(_("file"), _("size"), _("format"), _("sha256"), box=None, title=_("Files"))
    for c in row.clips:
        fmt = f"{c.codec} {c.width}x{c.height}" if c.width else (c.mime_type or "?")
        clips.add_row(c.relpath, human_size(c.size_bytes), fmt, c.sha256)
    stdout.print(clips)
    copies = Table(_("location"), _("status"), _("last checked"), _("outcome"), _("store lock"), box=None,
                   title=_("Copies"))
    for c in data["copies"]:
        copies.add_row(c["location"], c["status"], local_time(c["last_checked"], archive), c["last_outcome"] or "-",
                       c["store_lock"] or "-")
    stdout.print(copies)
    ev = Table(_("time"), _("event"), _("outcome"), _("detail"), box=None, title=_("PREMIS events"))
    for e in events:
        ev.add_row(e["time"] or "", e["type"] or "", e["outcome"] or "", (e["note"] or e["detail"] or ""))
    stdout.print(ev)


def _show_tombstone(archive: Archive, row: Any, as_json: bool) -> None:
    """A disposed package: its catalog record, the disposition that destroyed it and the certificate."""
    from longwatch.console import human_size, local_time
    from longwatch.core.records import certificates

    data = _package_dict(row)
    data["disposition"] = certificates.tombstone(archive, row.id)
    if as_json:
        emit_json(data)
        return
    gone = data["disposition"] or {}
    click.echo(_("Package {id} was destroyed on {when} under disposition {disposition} "
                 "(proposed by {proposer}, approved by {approver}).").format(
        id=row.id, when=local_time(gone.get("destroyed_at"), archive), disposition=gone.get("disposition", "-"),
        proposer=gone.get("proposer", "-"), approver=gone.get("approver", "-")))
    if gone.get("certificate"):
        click.echo(_("Destruction certificate: {path} (check it with `longwatch verify`)").format(
            path=gone["certificate"]))
    click.echo(_("Files it held") + ":")
    for c in row.clips:  # full digests, never cut to the terminal's width: they are the evidence
        click.echo(f"  {c.relpath}  {human_size(c.size_bytes)}  sha256:{c.sha256}")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def plugins(as_json: bool) -> None:
    """List loaded plugins with their versions and hooks."""
    from rich.table import Table

    from longwatch.console import stdout

    pm = registry.get_plugin_manager()
    rows = registry.plugin_list(pm)
    if as_json:
        emit_json({"plugins": rows, "storage_adapters": sorted(registry.storage_adapters(pm))})
        return
    table = Table(_("plugin"), _("distribution"), _("version"), _("hooks"), box=None)
    for row in rows:
        table.add_row(row["name"], row["distribution"], row["version"], row["hooks"])
    stdout.print(table)


@cli.group()
def db() -> None:
    """Catalog database maintenance."""


@db.command()
@pass_obj
def upgrade(obj: Context) -> None:
    """Apply every pending catalog migration."""
    obj.archive().catalog.upgrade()
    if not obj.quiet:
        click.echo(_("The catalog is up to date."))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True)
@pass_obj
def serve(obj: Context, host: str, port: int, workers: int) -> None:
    """Serve the web UI with gunicorn."""
    from longwatch.web import serve as run  # Flask and gunicorn load for this command only

    archive = obj.archive()
    click.echo(_("Serving {name} on http://{host}:{port}/").format(name=archive.settings.name, host=host,
                                                                 port=port), err=True)
    run(archive.root, host=host, port=port, workers=workers)


def main() -> None:
    cli(prog_name="longwatch")
