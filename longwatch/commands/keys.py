"""``longwatch keys``: the archive's signing keys over time (list, rotate, import).

Each change is kept in the key history (``keys/history.json``, see
``core/aip/keys.py``) and recorded in the custody ledger, so that who changed
the key, and when, is as provable as what the keys signed.
"""

from __future__ import annotations

from pathlib import Path

import click

from longwatch.console import Context, emit_json, pass_obj
from longwatch.core import custody
from longwatch.core.aip import keys
from longwatch.core.archive import Archive
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _


@click.group(name="keys")
def keys_group() -> None:
    """The archive's signing keys: every key it has signed with, rotation, import, a key in an HSM."""


@keys_group.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the key history as JSON.")
@pass_obj
def list_cmd(obj: Context, as_json: bool) -> None:
    """Every key the archive has signed with, and the period it signed in (the first is the oldest)."""
    archive = obj.archive()
    entries = archive.keyring.entries()
    if as_json:
        emit_json({"keys": [e.to_dict() for e in entries], "trusted": keys.TRUSTED, "ca": keys.CA_CERT})
        return
    for e in entries:  # one line per key, whole fingerprints (people compare them character by character)
        click.echo(_("{fingerprint}  {since} to {until}  {origin}  {subject}").format(
            fingerprint=e.fingerprint, since=e.since or "-", until=e.until or _("in use"), origin=e.origin,
            subject=e.subject))


def _record(archive: Archive, action: str, retired: keys.KeyEntry | None, new: keys.KeyEntry) -> None:
    detail = (f"signing key {action}: {new.fingerprint} ({new.origin}) in use from {new.since}"
              + (f"; {retired.fingerprint} retired" if retired else ""))  # the record stays English
    event = custody.CustodyEvent(
        type="creation", detail=detail, objects=[new.fingerprint],
        agents=[custody.software_agent(), custody.person_agent(archive.operator)],
        extra={"key": new.to_dict(), "retired": retired.fingerprint if retired else ""})
    custody.Ledger.for_archive(archive).append([event])


def _done(obj: Context, archive: Archive, action: str, retired: keys.KeyEntry | None, new: keys.KeyEntry,
          as_json: bool) -> None:
    archive.forget_signer()
    _record(archive, action, retired, new)
    if as_json:
        emit_json({"new": new.to_dict(), "retired": retired.to_dict() if retired else None})
    elif not obj.quiet:
        click.echo(_("Signing with {fingerprint} from now on").format(fingerprint=new.fingerprint))
        if retired is not None:
            click.echo(_("Retired {fingerprint}: what it signed stays valid").format(
                fingerprint=retired.fingerprint))


@keys_group.command()
@click.option("--ca-key", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The archive's CA key, if it is kept elsewhere (default: keys/ca-key.pem).")
@click.option("--pkcs11-module", default="", metavar="PATH",
              help="Sign with a key in a PKCS#11 token from now on: the module (e.g. libsofthsm2.so).")
@click.option("--pkcs11-token", default="", metavar="LABEL", help="The token's label.")
@click.option("--pkcs11-key", default="", metavar="LABEL", help="The key's label in the token.")
@click.option("--pkcs11-pin-env", default="LONGWATCH_PKCS11_PIN", show_default=True,
              help="The environment variable that holds the token's PIN.")
@click.option("--generate", is_flag=True, help="Make the key in the token (EC P-256, not extractable).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def rotate(obj: Context, ca_key: Path | None, pkcs11_module: str, pkcs11_token: str, pkcs11_key: str,
           pkcs11_pin_env: str, generate: bool, as_json: bool) -> None:
    """Retire the key in use and sign with a new one, certified by the archive's CA.

    Everything the old key signed stays valid: it is trusted for the period it was in use.
    """
    archive = obj.archive()
    token = None
    if pkcs11_module:
        if not (pkcs11_token and pkcs11_key):
            raise click.UsageError(_("--pkcs11-module needs --pkcs11-token and --pkcs11-key"))
        token = {"module": pkcs11_module, "token": pkcs11_token, "label": pkcs11_key, "pin_env": pkcs11_pin_env}
    retired, new = archive.keyring.rotate(archive.passphrase(), ca_key=ca_key, token=token,
                                          generate_in_token=generate)
    _done(obj, archive, "rotated", retired, new, as_json)


@keys_group.command(name="import")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The new private key (PEM; encrypted with the archive's passphrase, or not at all).")
@click.option("--cert", "cert_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Its end-entity certificate from your CA, then the CA's certificates (PEM).")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def import_cmd(obj: Context, key_path: Path, cert_path: Path, as_json: bool) -> None:
    """Sign from now on with a key and certificate your own CA issued (the key in use is retired)."""
    archive = obj.archive()
    retired, new = archive.keyring.rotate(archive.passphrase(), key_path=key_path, cert_path=cert_path)
    _done(obj, archive, "imported", retired, new, as_json)


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(keys_group)
