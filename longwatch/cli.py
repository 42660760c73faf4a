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

from longwatch import __version__, cli_help, clock, i18n, startup
from longwatch.commands.index import COMMANDS
from longwatch.console import Context, emit_json, human_size, local_time, package_status, pass_obj
from longwatch.errors import LongwatchError
from longwatch.i18n import _, ngettext

if TYPE_CHECKING:
    from longwatch.core.aip import signing
    from longwatch.core.aip import verify as verify_mod
    from longwatch.core.archive import Archive
    from longwatch.core.preservation import early as early_pass

# Every import of the core, of rich and of a command module sits in the command that needs it (issue 23):
# `longwatch --help` and `longwatch verify --fast DIR` pay for what they use, not for the whole archive.


class LongwatchGroup(click.Group):
    """Imports a command's module when that command runs and turns LongwatchError into ``ERROR [CODE] ...``.

    Built-in commands come from ``commands.index.COMMANDS`` (module and help, no import); the entry-point
    plugins are asked for theirs when the whole list is wanted (``--help``) or a name is not built in.
    """

    _plugins_loaded = False
    context_class = cli_help.HelpContext

    def _load_plugins(self) -> None:
        if not LongwatchGroup._plugins_loaded:
            from longwatch import registry

            # Marked loaded only on success: a broken plugin (P003) must fail every run, not only the first.
            registry.command_plugins(cli=self)
            LongwatchGroup._plugins_loaded = True

    def _load_builtin(self, name: str) -> None:
        """Import the module that registers the built-in command NAME (and its sibling commands)."""
        if name in COMMANDS and name not in self.commands:
            import importlib

            module = importlib.import_module(f"longwatch.commands.{COMMANDS[name][0]}")
            module.register_commands(cli=self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            if cmd_name in COMMANDS:
                self._load_builtin(cmd_name)
            else:
                self._load_plugins()
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's list of commands, with the built-ins not yet imported shown from their index entry."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name) or cli_help.translated(click.Command(name, help=COMMANDS[name][1]))
            if not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _command in rows)
            with formatter.section("Commands"):  # click's own word: the formatter translates it
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in rows])

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        asked = cli_help.language_option(args)
        # --help is eager: it is shown while the options are read, before --lang reaches the callback
        token = i18n.set_language(asked) if asked and i18n.normalize(asked) else None
        try:
            return super().parse_args(ctx, args)
        finally:
            if token is not None:
                i18n.reset_language(token)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                              list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and cli_help.asks_for_help(rest):
            command = cli_help.translated(command, ctx.params.get("lang"))
        return name, command, rest

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if i18n.current_language() != "en" and not getattr(self, "_translated", False):
            self._load_plugins()
            copy = cli_help.translated(self)
            copy._translated = True  # type: ignore[attr-defined]
            copy.format_help(ctx, formatter)
            return
        super().format_help(ctx, formatter)

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
              help="The end-entity certificate of --key (then its issuers), e.g. from the city's CA.")
@click.option("--unencrypted-key", is_flag=True,
              help="Store the signing key without a passphrase (not recommended; see docs/keys.md).")
@pass_obj
def init(obj: Context, directory: Path, name: str, organization: str, timezone: str, language: str,
         key_path: Path | None, cert_path: Path | None, unencrypted_key: bool) -> None:
    """Create an archive in DIRECTORY: configuration, catalog, storage, its CA and an encrypted signing key.

    The key's passphrase comes from LONGWATCH_KEY_PASSPHRASE (or a prompt on a terminal).
    """
    from longwatch.console import announce_first_administrator, passphrase_prompt
    from longwatch.core.archive import GENERATED_PASSPHRASE, Archive
    from longwatch.core.custody import decisions

    archive = Archive.create(directory, name=name, organization=organization, timezone=timezone,
                             language=language, key_path=key_path, cert_path=cert_path,
                             unencrypted_key=unencrypted_key, passphrase_prompt=passphrase_prompt(confirm=True),
                             generate_passphrase=True)
    startup.resume()
    decisions.drain(archive)  # the first administrator, journaled before the archive existed, reaches the ledger
    if not obj.quiet:
        click.echo(_("Created archive {path}").format(path=archive.root))
        click.echo(_("Signing certificate: {path} ({fingerprint})").format(
            path=archive.settings.cert_path, fingerprint=archive.signer.fingerprint))
        click.echo(_("Keep a copy of the key {path} somewhere safe.").format(path=archive.settings.key_path))
    generated = archive.root / GENERATED_PASSPHRASE
    if archive.settings.passphrase_file == generated:
        click.echo(_("WARNING the key is encrypted with a generated passphrase kept in {path}: move it off this "
                     "disk (LONGWATCH_KEY_PASSPHRASE, a systemd credential or a file elsewhere named by "
                     "passphrase_file) and delete the file").format(path=generated), err=True)
    announce_first_administrator(archive, obj.quiet)


#: What `ingest` imports before its first query, preloaded beside a pass in its own process (early.preload).
#: In the order the command needs them, so that the command can take over between two of them.
INGEST_START_UP = ("sqlalchemy", "sqlalchemy.orm", "longwatch.core.catalog", "longwatch.core.aip.signing",
                   "longwatch.core.accounts", "longwatch.core.archive", "longwatch.core.custody",
                   "longwatch.core.preservation.ingest", "longwatch.core.preservation.publish")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--camera", default="", help="Camera id.")
@click.option("--zone", default="", help="Zone (e.g. Jung-gu/Market).")
@click.option("--location", default="", metavar="LAT,LON", help="Camera position in decimal degrees.")
@click.option("--place", "location_name", default="", help="Place name or address.")
@click.option("--start", default="", metavar="ISO8601", help="Recording start with Z or an offset.")
@click.option("--title", default="", help="Title (default: camera, time and file name).")
@click.option("--allow-duplicate", is_flag=True, help="Archive bytes already in the archive again.")
@click.option("--follow-symlinks", is_flag=True,
              help="Archive the files symbolic links point to (links are refused by default).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@pass_obj
def ingest(obj: Context, paths: tuple[Path, ...], camera: str, zone: str, location: str, location_name: str,
           start: str, title: str, allow_duplicate: bool, follow_symlinks: bool, as_json: bool) -> None:
    """Archive files (a directory: every file in it) as signed packages.

    Metadata may also come from a JSON sidecar next to each file
    (clip.mp4.json or clip.json); options given here win.
    """
    # issue 23: the copy-and-digest pass of a single file starts now, before SQLAlchemy, the catalog and the
    # plugins load (on the second core, beside SHA-512); it writes to staging only, and is discarded unless the
    # pipeline takes it over after the account and every other check.
    from longwatch.core.preservation import early as early_pass

    # The `longwatch` program (start-up paused) runs the pass in a process of its own and makes the start-up's
    # imports on a thread of lower priority, so that the kernel gives SHA-512 its core (early.py).
    own_process = startup.paused()
    early = early_pass.start(obj.archive_dir, paths[0], follow_symlinks, own_process) if len(paths) == 1 else None
    if early is not None and early.own_process:
        early_pass.preload(INGEST_START_UP, early)
    try:
        _ingest(obj, paths, camera, zone, location, location_name, start, title, allow_duplicate, follow_symlinks,
                as_json, early)
    finally:
        if early is not None:
            early.discard()  # a refusal leaves nothing behind; nothing once the package is published


def _ingest(obj: Context, paths: tuple[Path, ...], camera: str, zone: str, location: str, location_name: str,
            start: str, title: str, allow_duplicate: bool, follow_symlinks: bool, as_json: bool,
            early: early_pass.EarlyPass | None) -> None:
    from longwatch.console import progress_for
    from longwatch.core.aip.package import printable_name
    from longwatch.core.preservation import ingest as ingest_mod
    from longwatch.core.preservation import publish as publish_mod

    obj.account("upload:write")  # the account that asks is the one recorded
    archive = obj.archive()
    lat = lon = None
    if location:
        lat, lon = ingest_mod.parse_location(location)
    start_time = clock.parse_time(start) if start else None
    ingest_mod.check_camera(camera)
    publish_mod.recover(archive)  # staging and half-done publications a killed ingest left
    results, failures = [], []
    given = list(paths)
    if any(path.is_dir() for path in given):  # issue 23: a bag gives its payload (its checks load for a folder)
        from longwatch.commands.bagit_check import payload_of_bags

        given = payload_of_bags(given)
    files = list(ingest_mod.expand_paths(given))
    for path in files:
        request = ingest_mod.IngestRequest(
            path=path, camera=camera, zone=zone, latitude=lat, longitude=lon, location_name=location_name,
            start=start_time, title=title, allow_duplicate=allow_duplicate, follow_symlinks=follow_symlinks)
        try:
            size = path.stat().st_size if path.is_file() else 0
            with progress_for(obj, path.name, size) as advance:
                result = ingest_mod.ingest(archive, request, progress=advance,
                                           early=early if len(files) == 1 else None)
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
@click.option("--cert", "cert_paths", multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Trusted signer certificates, PEM files of one or several (repeatable; default: every key "
                   "the archive has signed with, each for its period).")
@click.option("--bagit", is_flag=True,
              help="Check the directory TARGET as any BagIt bag (versions 0.93 to 1.0); a profile and a "
                   "signature only when the bag declares them.")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def verify(obj: Context, target: str | None, verify_all: bool, fast: bool, cert_paths: tuple[Path, ...],
           bagit: bool, as_json: bool) -> None:
    """Verify a package (id or directory) or --all: digests, manifests, signature, schemas, profile.

    Every problem is listed with its code; the exit status is 1 when any is found.
    """
    from longwatch.core.aip import signing
    from longwatch.core.aip import verify as verify_mod

    if bagit:  # issue 23: a bag from anywhere, checked against BagIt alone
        if verify_all or not target or not Path(target).is_dir():
            raise LongwatchError("C002")
        from longwatch.commands.bagit_check import check_bag

        startup.resume()  # a bag may hold thousands of files: the collector runs while they are read
        check_bag(obj, Path(target), cert_paths, as_json)
        return
    if not target and not verify_all:
        raise LongwatchError("C001")
    # Each kind of target imports its own checks: the records and evidence modules load the catalog.
    if target and not verify_all and Path(target).is_file():  # issue 6: a destruction certificate (JSON + CMS)
        from longwatch.commands.retention import verify_certificate
        from longwatch.core.records import certificates

        if certificates.is_certificate(Path(target)):
            verify_certificate(obj, Path(target), cert_paths, as_json)
            return
    if target and not verify_all and target.startswith("certificates/") and not Path(target).exists():
        from longwatch.commands.retention import verify_stored_certificate  # the key `show` prints

        verify_stored_certificate(obj, target, cert_paths, as_json)
        return
    if target and not verify_all and (Path(target) / "export.json").is_file():
        from longwatch.core.evidence.bag import is_export

        if is_export(Path(target)):  # issue 21: an evidence export is checked as one, anchored or not
            from longwatch.commands.export import check_export

            startup.resume()
            check_export(Path(target), list(cert_paths), [], [], None, as_json)
            return
    trusted: list[signing.x509.Certificate | signing.Anchor] | None = (
        [c for p in cert_paths for c in signing.load_certificates(p)] or None)
    jobs: list[tuple[str, verify_mod.PackageSource | None, Archive | None]] = []
    bare_directory = bool(target and Path(target).is_dir() and not verify_all)
    if bare_directory:
        archive = None
        if trusted is None and _archive_around(obj):
            try:
                archive = obj.archive()
                trusted = list(archive.trusted)
            except LongwatchError:
                archive = None
        jobs.append((str(target), verify_mod.DirectorySource(Path(str(target))), archive))
    else:
        from longwatch.console import resolve_package
        from longwatch.core.storage.copies import working_locations

        archive = obj.archive()
        trusted = trusted or list(archive.trusted)
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

    startup.resume()  # a package directory without its archive: the collector runs while its files are read
    reports = []
    ledger_results = []  # custody ledger (issue 4): one "fixity check" event per package in the archive
    for name, source, archive in jobs:
        if source is None:
            report = verify_mod.Report(target=name, package_id=name)
            assert archive is not None
            report.add("V017", package_id=name, location=archive.settings.primary_location)
        else:
            from longwatch.console import progress_for

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
        from longwatch.core import custody

        custody.record_fixity(archive, ledger_results)
    if as_json:
        emit_json({"ok": all(r.ok for r in reports), "packages": [r.to_dict() for r in reports]})
    elif len(reports) > 1 and not obj.quiet:
        bad = sum(1 for r in reports if not r.ok)
        click.echo(ngettext("{count} package verified, {bad} with problems",
                            "{count} packages verified, {bad} with problems", len(reports)).format(
            count=len(reports), bad=bad))
    if any(not r.ok for r in reports):
        sys.exit(1)


def _archive_around(obj: Context) -> bool:
    """Whether an archive is named or above the working directory, found without importing the archive."""
    from longwatch import config

    try:
        config.find_archive(obj.archive_dir)
    except LongwatchError:
        return False
    return True


def _print_report(report: verify_mod.Report, obj: Context) -> None:
    for problem in report.problems:
        click.echo(f"ERROR [{problem.code}] {report.target}: {problem.render()}", err=True)
    if obj.quiet:
        return
    label = report.package_id or report.target
    if report.ok:
        mode = _("fast check") if report.fast else ngettext(
            "{files} file, {size} digested", "{files} files, {size} digested", report.files_checked).format(
            files=report.files_checked, size=human_size(report.bytes_checked))
        click.echo(_("OK {package}: {mode}; signed by {signer}").format(
            package=label, mode=mode, signer=report.signer or "?"))
    else:
        click.echo(ngettext("FAILED {package}: {count} problem", "FAILED {package}: {count} problems",
                            len(report.problems)).format(package=label, count=len(report.problems)))
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

    from longwatch.console import stdout

    archive = obj.archive()
    rows = archive.catalog.packages(limit=limit, offset=offset)
    if as_json:
        emit_json({"packages": [_package_dict(p) for p in rows]})
        return
    table = Table(_("id"), _("camera"), _("start"), _("duration"), _("size"), _("title"), _("status"), box=None)
    for p in rows:
        duration = (p.end_utc - p.start_utc).total_seconds() if p.start_utc and p.end_utc else None
        upload = p.origin == "upload" and p.confirmed_at is None  # an upload by an account, not a camera's (yet)
        table.add_row(p.id[:8], _("upload by {account}, unconfirmed").format(account=p.uploaded_by) if upload
                      else p.camera or "-", local_time(p.start_utc, archive),
                      f"{duration:.0f}s" if duration is not None else "-", human_size(p.size_bytes), p.title,
                      package_status(p.status))
    stdout.print(table)


def _package_dict(p: Any) -> dict[str, Any]:
    return {
        "package_id": p.id, "camera": p.camera, "zone": p.zone, "title": p.title,
        "start": p.start_utc, "end": p.end_utc, "time_source": p.time_source,
        "latitude": p.latitude, "longitude": p.longitude, "location_name": p.location_name,
        "size": p.size_bytes, "files": p.file_count, "status": p.status,
        "location": p.storage_location, "media_ok": p.media_ok, "created": p.created_at,
        "signer_fingerprint": p.signer_fingerprint,
        "origin": p.origin, "uploaded_by": p.uploaded_by, "claimed_camera": p.claimed_camera,
        "confirmed_by": p.confirmed_by, "confirmed_at": p.confirmed_at,
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

    from longwatch.console import resolve_package, stdout
    from longwatch.core.aip import metadata, package
    from longwatch.core.preservation import provenance
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
    table.add_row(_("origin"), provenance.describe(row))
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

    from longwatch import registry
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


@db.command("copy")
@click.option("--to", "url", required=True, metavar="URL",
              help="An empty database, e.g. postgresql+psycopg://longwatch:PASSWORD@db.internal/longwatch.")
@click.option("--switch", is_flag=True, help="Once the copy is verified, make the archive use it (longwatch.toml).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def copy_catalog(obj: Context, url: str, switch: bool, as_json: bool) -> None:
    """Copy the catalog (with the custody ledger's index) into an empty database, PostgreSQL when scaling out,
    and verify the copy."""
    from longwatch.commands import db as db_commands

    db_commands.copy_catalog(obj, url, switch, as_json)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True)
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Threads per worker process: each serves one request (a long download, a slow client).")
@pass_obj
def serve(obj: Context, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the web UI with gunicorn."""
    import logging

    from longwatch import logs
    from longwatch.web import serve as run  # Flask and gunicorn load for this command only

    archive = obj.archive()
    message = _("Serving {name} on http://{host}:{port}/").format(name=archive.settings.name, host=host, port=port)
    if logs.json_lines():  # a service's log is read by machines: every line one JSON object
        logs.configure()
        logging.getLogger("longwatch.web").info(message)
    else:
        click.echo(message, err=True)
    run(archive.root, host=host, port=port, workers=workers, threads=threads)


def main() -> None:
    """The ``longwatch`` program: the command line as its own process (the start-up runs without the
    garbage collector until the archive is open: ``longwatch/startup.py``)."""
    startup.pause()
    cli(prog_name="longwatch")
