"""``longwatch uploads confirm``: confirm an upload as a camera's recording, as the package page's button does.

An upload is an upload by its account until a records manager or an
administrator confirms it (issue 22, :mod:`longwatch.core.preservation.provenance`);
a records manager working from a terminal needs no browser to do it.
"""

from __future__ import annotations

from typing import Any

import click

from longwatch import clock
from longwatch.console import Context, emit_json, pass_obj
from longwatch.core.preservation import provenance
from longwatch.i18n import _


@click.group(name="uploads")
def uploads_cmd() -> None:
    """Uploads: confirm one as a camera's recording (until then it is an upload by its account)."""


@uploads_cmd.command(name="confirm")
@click.argument("package_id")
@click.option("--camera", default="", help="The camera whose recording it is (default: the camera it claims).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def confirm_cmd(obj: Context, package_id: str, camera: str, as_json: bool) -> None:
    """Confirm the upload PACKAGE_ID as a camera's recording; recorded in the custody ledger (records managers
    and administrators)."""
    archive = obj.archive()
    who = obj.account(provenance.CONFIRM_PERMISSION)
    row = provenance.confirm(archive, package_id, who.username, who.role, camera.strip())
    if as_json:
        emit_json({"package_id": row.id, "camera": row.camera, "uploaded_by": row.uploaded_by,
                   "confirmed_by": row.confirmed_by, "confirmed_at": clock.iso_z(row.confirmed_at)})
    elif not obj.quiet:
        click.echo(_("{package_id}: {provenance}").format(package_id=row.id, provenance=provenance.describe(row)))


def register_commands(cli: Any) -> None:
    cli.add_command(uploads_cmd)
