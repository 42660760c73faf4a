"""One error root for everything longwatch refuses or finds wrong.

Codes are data (as in ocfl-py): a stable code a person can search for, and a
message template that says what to do. Templates are English msgids that go
through gettext when rendered, so the Korean catalog translates them without
touching this file. Context (path, package id, camera) travels with the error
as keyword arguments and fills the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from longwatch.i18n import N_, gettext

#: code -> message template. Never reuse or renumber a code: users search for them.
CODES: Mapping[str, str] = {
    # A: archive and configuration
    "A001": N_(
        "no archive found: pass -A DIR, set LONGWATCH_ARCHIVE, or run `longwatch init DIR` first"
    ),
    "A002": N_("{path} already holds an archive; choose an empty directory"),
    "A003": N_("the configuration {path} is invalid: {detail}"),
    "A004": N_("the catalog could not be opened or updated: {detail}"),
    # C: command-line usage that click cannot check by itself
    "C001": N_("say what to verify: a package id, a package directory, or --all"),
    # H: retention schedules, legal holds and disposition
    "H001": N_("the retention schedule {path} is invalid: {detail}"),
    "H002": N_(
        "storage location {location!r} is full ({free} bytes free, {needed} needed, {reserve} kept in reserve); "
        "nothing was written and nothing was deleted: add storage, or let a records manager run "
        "`longwatch retention purge --emergency` (expired, unheld continuous footage only)"
    ),
    "H003": N_(
        "package {package_id} is under legal hold {hold_id} ({reason}); nothing was deleted: "
        "the hold must be released first (`longwatch hold release`)"
    ),
    "H004": N_(
        "{user} proposed disposition {disposition_id} and cannot approve it: "
        "a second person with the records-manager role must approve"
    ),
    "H005": N_("approving a disposition needs the records-manager role; {user} acts as {role!r}"),
    "H006": N_("disposition {disposition_id} is {status}; this step needs it {expected}"),
    "H007": N_("no disposition {disposition_id}; list them with `longwatch dispose list`"),
    "H008": N_("no legal hold {hold_id}; list them with `longwatch hold list`"),
    "H009": N_(
        "a hold covers exactly one target: --package ID, --case ID, --camera ID with --from and --to "
        "(from before to), or --search KEY=VALUE"
    ),
    "H010": N_("say who acts: --as USER --role ROLE, or set LONGWATCH_USER and LONGWATCH_ROLE"),
    "H011": N_("the role {role!r} is unknown; use one of {roles}"),
    "H012": N_("the saved search of a hold is invalid: {detail}"),
    "H013": N_("a hold needs an owner (--owner) and a reason (--reason)"),
    "H014": N_("legal hold {hold_id} was already released"),
    "H015": N_("{path}: not a longwatch destruction certificate: {detail}"),
    "H016": N_("{path}: the destruction certificate's signature does not verify: {detail}"),
    # I: input given to ingest
    "I001": N_("{path} is empty (0 bytes): there is nothing to preserve"),
    "I002": N_("{path} does not exist or is not a regular file"),
    "I003": N_("the time {value!r} is not ISO 8601 with Z or an offset (e.g. 2026-03-03T14:00:00+09:00)"),
    "I004": N_("the location {value!r} is not LAT,LON in decimal degrees (e.g. 37.5665,126.9780)"),
    "I005": N_("the sidecar {path} is invalid: {detail}"),
    "I006": N_(
        "{path} is already archived as package {package_id} (same SHA-256); "
        "pass --allow-duplicate to archive it again"
    ),
    "I007": N_("{path} could not be read: {detail}"),
    "I008": N_("no package {package_id} in this archive"),
    "I009": N_("the camera id {value!r} is invalid: use letters, digits, '.', '_' or '-' (at most 64)"),
    # K: keys and signatures
    "K001": N_("the signing key {path} could not be loaded: {detail}"),
    "K002": N_("the certificate {path} does not belong to the signing key"),
    "K003": N_("the certificate {path} could not be loaded: {detail}"),
    # L: custody ledger (each verification finding is reported, not only the first)
    "L001": N_("ledger segment {segment} at byte {offset}: not a readable entry: {detail}"),
    "L002": N_(
        "ledger segment {segment} at byte {offset}: entry has seq {found} where {expected} was expected: "
        "an entry was deleted, reordered or inserted"
    ),
    "L003": N_(
        "ledger entry {seq}: its prev hash does not match the entry before it: the chain is broken "
        "(an earlier entry was changed, removed or reordered)"
    ),
    "L004": N_("ledger entry {seq} differs from what the catalog index recorded when it was written: it was edited"),
    "L005": N_(
        "ledger entries {first}..{last} are in the segments but not in the catalog index: they were not "
        "written by longwatch (forged), or the catalog was restored from a backup; run `longwatch custody verify`"
    ),
    "L006": N_(
        "ledger entries {first}..{last} are in the catalog index but missing from the segments: "
        "they were deleted or the ledger was truncated"
    ),
    "L007": N_("checkpoint {checkpoint}: the signature does not verify: {detail}"),
    "L008": N_("checkpoint {checkpoint}: signed by {fingerprint}, which is not the trusted certificate"),
    "L009": N_(
        "checkpoint {checkpoint}: it signs root {expected} but the ledger's tree at that size has root {found}: "
        "the ledger was rewritten"
    ),
    "L010": N_("checkpoint {checkpoint} covers {size} entries but the ledger holds only {found}: it was truncated"),
    "L011": N_("checkpoint {checkpoint}: the time-stamp token does not verify: {detail}"),
    "L012": N_("checkpoint {checkpoint}: the time-stamp token is for other data: {detail}"),
    "L013": N_("the inclusion proof of entry {seq} does not verify: {detail}"),
    "L014": N_("the consistency proof from {first} to {second} entries does not verify: {detail}"),
    "L015": N_("{value!r} is not a PREMIS event type of longwatch's vocabulary (longwatch/core/vocabulary.py)"),
    "L016": N_("{value!r} is not a valid outcome (success, failure, warning) or agent role for a ledger event"),
    "L017": N_("no ledger entry {entry}: give a sequence number or an event id"),
    "L018": N_("no checkpoint of {checkpoint} entries: list them with `longwatch custody checkpoints`"),
    "L019": N_("the time-stamp authority failed: {detail}; the checkpoint is signed but carries no time-stamp"),
    "L020": N_("{path}: not a longwatch proof or checkpoint file: {detail}"),
    "L021": N_(
        "saved checkpoint of {size} entries ({source}) signs root {expected} but the ledger now has {found}: "
        "the ledger was rewritten after that checkpoint was saved"
    ),
    "L022": N_("the custody ledger is empty: there is nothing to checkpoint or prove yet"),
    "L023": N_("checkpoint file {name}: {detail}"),
    # P: plugins
    "P001": N_("two plugins register the storage adapter {name!r}: {first} and {second}"),
    "P002": N_("no storage adapter {name!r} is installed; installed: {available}"),
    "P003": N_("a plugin is broken: {detail}"),
    # S: storage
    "S001": N_("storage location {location!r} has no room left; nothing was deleted to make room: {detail}"),
    "S002": N_("storage location {location!r} failed: {detail}"),
    "S003": N_("{key!r} is not a safe storage key"),
    # T: external tools
    "T001": N_("{tool} is not installed; `make demo` installs it (Debian package {package})"),
    # V: verification findings (each one is reported, not only the first)
    "V001": N_("{path}: not a BagIt bag: {detail}"),
    "V002": N_("{path}: payload file listed in the manifest is missing"),
    "V003": N_("{path}: payload file is not listed in the manifest"),
    "V004": N_("{path}: {algorithm} mismatch: expected {expected}, found {found}"),
    "V005": N_("{path}: tag file is missing"),
    "V006": N_("{path}: tag file {algorithm} mismatch: expected {expected}, found {found}"),
    "V007": N_("{path}: the signature is missing"),
    "V008": N_("{path}: the signature does not verify: {detail}"),
    "V009": N_("{path}: the signer is not a trusted certificate ({fingerprint})"),
    "V010": N_("{path}: not valid against the {schema} schema: {detail}"),
    "V011": N_("{path}: refused XML: {detail}"),
    "V012": N_("Payload-Oxum says {expected}, the payload is {found}"),
    "V013": N_("{path}: manifest line {line} is malformed or names an unsafe path: {detail}"),
    "V014": N_("the bag does not conform to its profile: {detail}"),
    "V015": N_("{path}: PREMIS records {algorithm} {expected} but the manifest says {found}"),
    "V016": N_("{path}: tag file is not listed in the tag manifests, so the signature does not cover it"),
    "V017": N_("package {package_id} is in the catalog but not on storage location {location!r}"),
    "V018": N_("{path}: is a symbolic link; a package holds regular files only, so it was not followed"),
    # X: XML from outside
    "X001": N_("{path}: refused XML: {detail}"),
    "X002": N_("{path}: not well-formed XML: {detail}"),
}

#: Exit status per code family; documented in docs/cli.md.
EXIT_STATUS: Mapping[str, int] = {
    "V": 1,  # a check found problems
    "L": 1,  # the custody ledger: a check found problems
    "C": 2,  # usage
    "A": 3,
    "I": 4,
    "X": 4,
    "K": 5,
    "S": 6,
    "P": 7,
    "T": 8,
    "H": 9,  # retention: refused by a hold, a missing approval or a full disk
}


class LongwatchError(Exception):
    """Root of every error longwatch raises on purpose.

    ``code`` selects the template in :data:`CODES`; ``context`` fills it and is
    kept for machine readers (``--json``, the API) so a caller never has to
    parse the message.
    """

    def __init__(self, code: str, **context: Any) -> None:
        if code not in CODES:
            raise KeyError(f"unknown error code {code}")
        self.code = code
        self.context = context
        super().__init__(self.render(translate=False))

    def render(self, translate: bool = True) -> str:
        """The message with its context, in the user's language when asked."""
        template = gettext(CODES[self.code]) if translate else CODES[self.code]
        try:
            return template.format(**self.context)
        except (KeyError, IndexError):  # a missing field must never hide the error itself
            return f"{template} {self.context!r}"

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS.get(self.code[0], 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.render(),
            "context": {k: str(v) for k, v in self.context.items()},
        }


class Problem(LongwatchError):
    """One finding of a check; verification collects all of them (bagit-python style)."""


class VerificationFailed(LongwatchError):
    """Raised once with every problem a verification found."""

    def __init__(self, problems: list[Problem], **context: Any) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(first.code, **first.context)
