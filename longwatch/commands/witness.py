"""``longwatch witness``: co-sign another archive's checkpoints, as a court, a police agency or a second archive.

Needs no archive of its own: a witness key (``keygen``), the archive's
certificate it decided to trust, and a state file remembering the last
checkpoint it co-signed for each archive (core/custody/witness.py). It never
co-signs a checkpoint that does not extend the one it co-signed before.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from longwatch.core import custody
from longwatch.core.aip import signing
from longwatch.core.custody import witness
from longwatch.core.custody.audit import check_signature
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _


@click.group(name="witness")
def witness_group() -> None:
    """Co-sign the custody checkpoints of an archive you watch (C2SP cosignature/v1); no archive needed."""


@witness_group.command()
@click.argument("name")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to write NAME.key (secret) and NAME.vkey (publish it).")
def keygen(name: str, out_dir: Path) -> None:
    """Make a witness key called NAME (e.g. court.example.kr)."""
    pem, key = witness.generate(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    secret = out_dir / f"{name}.key"
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    (out_dir / f"{name}.vkey").write_text(key.text() + "\n", encoding="utf-8")
    click.echo(key.text())


@witness_group.command()
@click.argument("checkpoints", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--name", required=True, help="The witness name the key was made with.")
@click.option("--cert", "certs", required=True, multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The archive's signing certificate(s) you trust (from its published anchors).")
@click.option("--state", "state_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="This witness's memory of what it co-signed (created on first use).")
@click.option("--proof", "proof_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Consistency proof from the last co-signed checkpoint (`longwatch custody consistency`).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the line here.")
def cosign(checkpoints: Path, key_path: Path, name: str, certs: tuple[Path, ...], state_path: Path,
           proof_path: Path | None, output: Path | None) -> None:
    """Co-sign the newest checkpoint in CHECKPOINTS (the anchors file, or `custody checkpoints -o`)."""
    private = witness.load_private(key_path)
    trusted = [signing.load_certificate(p) for p in certs]
    found = custody.load_saved_checkpoints(checkpoints)
    if not found:
        raise LongwatchError("L020", path=checkpoints, detail="no checkpoint in it")
    _source, cp = max(found, key=lambda item: item[1].size)
    report = custody.LedgerReport()
    check_signature(cp, trusted, report, str(cp.size))
    if report.problems:
        raise report.problems[0]
    before = witness.load_state(state_path).get(cp.origin)
    if before is not None:
        _check_extends(before, cp, proof_path, trusted)
    line = witness.cosign(private, name, witness.checkpoint_body(cp.origin, cp.size, cp.root))
    witness.save_state(state_path, cp.origin, cp)
    if output is not None:
        output.write_text(line, encoding="utf-8")
    click.echo(line, nl=False)


def _check_extends(before: dict[str, Any], cp: custody.Checkpoint, proof_path: Path | None,
                   trusted: list[Any]) -> None:
    """The new checkpoint must be the one co-signed before, or extend it by a verified consistency proof."""
    signed, root = int(before["tree_size"]), str(before["root_hash"])
    refuse = {"origin": cp.origin, "signed": signed, "root": root[:16], "size": cp.size}
    if cp.size < signed:
        raise LongwatchError("L031", **refuse, detail=_("fewer entries mean the ledger was truncated"))
    if cp.size == signed:
        if cp.root.hex() != root:
            raise LongwatchError("L031", **refuse, detail=_("a different root at the same size is a second history"))
        return
    if proof_path is None:
        raise LongwatchError("L031", **refuse,
                             detail=_("give the consistency proof from the co-signed checkpoint (--proof)"))
    data = json.loads(proof_path.read_text(encoding="utf-8"))
    checked = custody.check_proof(data, trusted)
    first, second = data.get("first_checkpoint", {}), data.get("second_checkpoint", {})
    if checked.problems or first.get("tree_size") != signed or first.get("root_hash") != root \
            or second.get("tree_size") != cp.size or second.get("root_hash") != cp.root.hex():
        raise LongwatchError("L031", **refuse,
                             detail=_("the consistency proof does not lead from the co-signed checkpoint to this one"))


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_command(witness_group, name="witness")
