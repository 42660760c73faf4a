"""``longwatch custody ...``: the chain-of-custody ledger (docs/custody.md).

A built-in command plugin: it registers the ``custody`` group through
``register_commands`` exactly as a third-party plugin would.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from longwatch.clock import parse_utc
from longwatch.console import Context, emit_json, local_time, pass_obj, progress_for, stdout
from longwatch.core import custody
from longwatch.core.aip import signing
from longwatch.core.custody import witness
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _, ngettext, pgettext


def _ledger(obj: Context) -> custody.Ledger:
    return custody.Ledger.for_archive(obj.archive())


def _package_id(obj: Context, value: str) -> str:
    """A full id as given, or a unique prefix of a catalogued package (as `longwatch show` accepts)."""
    matches = obj.archive().catalog.resolve(value)
    return matches[0] if len(matches) == 1 else value


def _report_problems(report: custody.LedgerReport) -> None:
    for problem in report.problems:
        click.echo(f"ERROR [{problem.code}] {problem.render()}", err=True)


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        output.write_bytes(data)


@click.group()
def custody_group() -> None:
    """The chain-of-custody ledger: every event on every package, hash-chained, signed and provable."""


@custody_group.command()
@click.argument("package_id")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def show(obj: Context, package_id: str, as_json: bool) -> None:
    """The custody timeline of a package: every recorded event, oldest first."""
    archive = obj.archive()
    pid = _package_id(obj, package_id)
    rows = _ledger(obj).history(pid)
    entries = [{"seq": seq, "time": e["time"], "type": e["type"], "outcome": e["outcome"],
                "agents": e.get("agents", []), "packages": e.get("packages", []), "detail": e.get("detail", ""),
                "note": e.get("note", ""), "event_id": e["event_id"], "extra": e.get("extra", {}),
                "leaf_hash": custody.leaf_hash(line).hex()} for seq, e, line in rows]
    if as_json:
        emit_json({"package_id": pid, "entries": entries})
        return
    if not entries:
        click.echo(_("No custody events for {package_id}.").format(package_id=pid))
        return
    table = Table(_("seq"), _("time"), _("event"), _("outcome"), pgettext("custody event actor", "by"), _("detail"),
                  box=None,
                  title=_("Custody of {package_id}").format(package_id=pid))
    for e in entries:
        who = ", ".join(f"{a.get('name', a['id'])} ({a['role']})" for a in e["agents"])
        table.add_row(str(e["seq"]), local_time(parse_utc(e["time"]), archive), e["type"], e["outcome"], who,
                      e["note"] or e["detail"])
    stdout.print(table)


@custody_group.command()
@click.option("--cert", "cert_paths", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Trusted signer certificates (repeatable; default: every key the archive has signed with).")
@click.option("--checkpoints", "saved", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Checkpoints kept elsewhere (`custody checkpoints -o`, a proof file or a .note); repeatable.")
@click.option("--witness", "witness_keys", multiple=True, metavar="VKEY",
              help="A witness's verifier key whose cosignatures must hold (also [custody] witnesses); repeatable.")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def verify(obj: Context, cert_paths: tuple[Path, ...], saved: tuple[Path, ...], witness_keys: tuple[str, ...],
           as_json: bool) -> None:
    """Verify the whole ledger: chain, index, tree, every checkpoint's signature and time-stamp.

    Each problem is listed with its code; the exit status is 1 when any is found.
    """
    archive = obj.archive()
    ledger = _ledger(obj)
    trusted: list[Any] = [c for p in cert_paths for c in signing.load_certificates(p)] or list(archive.trusted)
    tsa_cert = signing.load_certificate(ledger.settings.tsa_cert) if ledger.settings.tsa_cert else None
    checkpoints = [item for path in saved for item in custody.load_saved_checkpoints(path)]
    with progress_for(obj, _("verifying the custody ledger"), 0) as advance:
        keys = [witness.WitnessKey.parse(k) for k in (*ledger.settings.witnesses, *witness_keys)]
        report = custody.verify_ledger(ledger, trusted, checkpoints, tsa_cert=tsa_cert, progress=advance,
                                       witnesses=keys)
    if as_json:
        emit_json(report.to_dict())
    else:
        _report_problems(report)
        if not obj.quiet:
            message = _("OK custody ledger: {entries} entries, {checkpoints} checkpoints ({timestamps} time-stamped), "
                        "{saved} saved checkpoints matched") if report.ok else ngettext(
                "FAILED custody ledger: {count} problem", "FAILED custody ledger: {count} problems",
                len(report.problems))
            click.echo(message.format(entries=report.entries, checkpoints=report.checkpoints,
                                      timestamps=report.timestamps, saved=report.saved_checked,
                                      count=len(report.problems)))
    if not report.ok:
        sys.exit(1)


@custody_group.command()
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def checkpoint(obj: Context, as_json: bool) -> None:
    """Sign a checkpoint of the ledger now (and time-stamp it when a TSA is configured)."""
    cp = _ledger(obj).checkpoint()
    if as_json:
        emit_json({**cp.to_dict(), "tsa_error": cp.tsa_error or None})
    elif not obj.quiet:
        click.echo(_("Checkpoint of {size} entries, root {root}, {time}").format(
            size=cp.size, root=cp.root.hex(), time=local_time(cp.time, obj.archive())))
    if cp.tsa_error:
        raise LongwatchError("L019", detail=cp.tsa_error)


@custody_group.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Save every checkpoint to this file (keep it elsewhere; `custody verify --checkpoints`).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def checkpoints(obj: Context, output: Path | None, as_json: bool) -> None:
    """List the signed checkpoints, or save them all to a file kept away from the archive."""
    ledger = _ledger(obj)
    data = custody.export_checkpoints(ledger)
    if output is not None:
        output.write_text(json.dumps(data, indent=2), encoding="utf-8")
        if not obj.quiet:
            click.echo(ngettext("Saved {count} checkpoint to {path}", "Saved {count} checkpoints to {path}",
                                len(data["checkpoints"])).format(count=len(data["checkpoints"]), path=output))
        return
    if as_json:
        emit_json({"checkpoints": [{k: c[k] for k in ("tree_size", "root_hash", "time")} | {
            "timestamped": c["timestamp"] is not None} for c in data["checkpoints"]]})
        return
    table = Table(_("entries"), _("time"), _("root hash"), _("time-stamp"), box=None)
    for c in data["checkpoints"]:
        table.add_row(str(c["tree_size"]), local_time(parse_utc(c["time"]), obj.archive()), c["root_hash"],
                      _("yes") if c["timestamp"] else "-")
    stdout.print(table)


@custody_group.command()
@click.argument("line_file", metavar="COSIGNATURE", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--witness", "witness_key", required=True, metavar="VKEY", help="The witness's verifier key.")
@pass_obj
def cosignature(obj: Context, line_file: Path, witness_key: str) -> None:
    """Keep a witness's cosignature of one of our checkpoints, after checking it against the ledger."""
    ledger = _ledger(obj)
    key = witness.WitnessKey.parse(witness_key)
    line = line_file.read_text(encoding="utf-8")
    for cp in reversed(ledger.checkpoints()):
        try:
            witness.verify(key, witness.checkpoint_body(ledger.origin, cp.size, cp.root), line)
        except LongwatchError:
            continue
        ledger.add_cosignature(cp.size, key.name, line)
        if not obj.quiet:
            click.echo(_("Kept the cosignature of {witness} for {size} entries").format(witness=key.name,
                                                                                        size=cp.size))
        return
    raise LongwatchError("L029", witness=key.name, detail=_("it co-signs none of this ledger's checkpoints"))


@custody_group.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the anchors (JSON) to this file, for a channel outside the archive.")
@click.option("--notes", "notes_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write the newest checkpoint as a signed note with its signature and time-stamp here.")
@pass_obj
def publish(obj: Context, output: Path | None, notes_dir: Path | None) -> None:
    """What others check the archive against: its signing certificates and newest signed checkpoints.

    The same document the web server publishes at /.well-known/longwatch/anchors.json. Send it to
    whoever should be able to hold the archive to its past (a court, a police agency, a second archive);
    they check a later ledger with `custody verify --checkpoints FILE`.
    """
    from longwatch.core.custody import anchors

    archive = obj.archive()
    ledger = _ledger(obj)
    doc = anchors.document(archive, ledger)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if notes_dir is not None:
        notes_dir.mkdir(parents=True, exist_ok=True)
        for name, data in anchors.note_files(ledger).items():
            (notes_dir / name).write_bytes(data)
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    if not obj.quiet:
        click.echo(_("Wrote {certificates} certificates and {checkpoints} checkpoints to {path}").format(
            certificates=len(doc["certificates"]), checkpoints=len(doc["checkpoints"]), path=output))


@custody_group.command()
@click.argument("entry")
@click.option("--against", type=int, metavar="SIZE", help="Checkpoint (its tree size) to prove against.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the proof here.")
@pass_obj
def prove(obj: Context, entry: str, against: int | None, output: Path | None) -> None:
    """Inclusion proof of ENTRY (a seq number or event id) against a signed checkpoint."""
    proof = custody.prove_inclusion(_ledger(obj), entry, against)
    _write((json.dumps(proof, indent=2, ensure_ascii=False) + "\n").encode("utf-8"), output)


@custody_group.command()
@click.argument("first", type=int)
@click.argument("second", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the proof here.")
@pass_obj
def consistency(obj: Context, first: int, second: int, output: Path | None) -> None:
    """Consistency proof between two checkpoints (given by tree size): the older is a prefix of the newer."""
    proof = custody.prove_consistency(_ledger(obj), first, second)
    _write((json.dumps(proof, indent=2) + "\n").encode("utf-8"), output)


@custody_group.command(name="check-proof")
@click.argument("proof_path", metavar="PROOF", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--cert", "cert_paths", required=True, multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The archive's signing certificates (repeatable; a PEM file may hold several).")
@click.option("--tsa-cert", "tsa_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The time-stamp authority's certificate, to require that TSA.")
@click.option("--json", "as_json", is_flag=True)
def check_proof(proof_path: Path, cert_paths: tuple[Path, ...], tsa_path: Path | None, as_json: bool) -> None:
    """Check a proof file offline: needs nothing but the file and the certificate."""
    try:
        data: Any = json.loads(proof_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LongwatchError("L020", path=proof_path, detail=str(exc)) from exc
    if not isinstance(data, dict):
        raise LongwatchError("L020", path=proof_path, detail="expected a JSON object")
    tsa = signing.load_certificate(tsa_path) if tsa_path else None
    report = custody.check_proof(data, [c for p in cert_paths for c in signing.load_certificates(p)], tsa)
    if as_json:
        emit_json(report.to_dict())
    else:
        _report_problems(report)
        if report.ok:
            click.echo(_("OK the proof holds: signed tree of {size} entries, root {root}").format(
                size=report.entries, root=report.root))
    if not report.ok:
        sys.exit(1)


@custody_group.command(name="export-premis")
@click.argument("package_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the XML here.")
@pass_obj
def export_premis(obj: Context, package_id: str, output: Path | None) -> None:
    """The package's custody events as PREMIS v3 XML (valid against the official schema)."""
    _write(custody.premis_for_package(_ledger(obj), _package_id(obj, package_id)), output)


@custody_group.command()
@click.option("--from", "location", metavar="LOCATION",
              help="Restore from this location's mirror (default: the longest mirror, the primary's on a tie).")
@pass_obj
def restore(obj: Context, location: str | None) -> None:
    """Restore the ledger into the catalog's database from its mirror on storage.

    For a database that was lost or restored from an older backup (`longwatch
    reindex` does this itself). Refuses when the mirror is not one unbroken
    chain matching every signed checkpoint, or differs from what the database
    still holds.
    """
    ledger = _ledger(obj)
    source = custody.mirror.MirrorSource(obj.archive().storage(location)) if location else None
    count = ledger.restore(source)
    if not obj.quiet:
        click.echo(ngettext("Restored the custody ledger: {count} entry", "Restored the custody ledger: {count} "
                            "entries", count).format(count=count))


@custody_group.command()
@click.option("--again", is_flag=True,
              help="Write each location's mirror from entry 0 (objects already there are compared, not rewritten).")
@click.option("--location", "locations", multiple=True, metavar="LOCATION", help="Only this location (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def mirror(obj: Context, again: bool, locations: tuple[str, ...], as_json: bool) -> None:
    """Bring the ledger's mirror on every storage location up to the newest checkpoint, and show how far each
    reaches. Exit status 1 when a location's mirror could not be written."""
    states = custody.mirror.sync(_ledger(obj), list(locations) or None, again=again)
    if as_json:
        emit_json({"mirrors": [s.to_dict() for s in states]})
    else:
        table = Table(_("location"), _("entries"), _("written"), _("error"), box=None)
        for state in states:
            table.add_row(state.location, str(state.size),
                          local_time(state.synced_at, obj.archive()) if state.synced_at else "-", state.error or "-")
        stdout.print(table)
    if any(s.error for s in states if not locations or s.location in locations):
        sys.exit(1)


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_command(custody_group, name="custody")
