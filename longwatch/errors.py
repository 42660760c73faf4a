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
    "A005": N_(
        "the catalog {path} is missing, yet storage location {location!r} holds packages: run `longwatch reindex` "
        "to rebuild it from storage and the custody ledger, or restore the catalog from its backup; nothing was "
        "created"
    ),
    "A010": N_("the database {url} already holds catalog rows (table {table}); `longwatch db copy` fills only an "
               "empty database, so nothing was copied: create a new database and try again"),
    "A011": N_("the copy in {url} does not match the catalog it was made from ({detail}); the archive still uses "
               "its old catalog. Drop the new database and run `longwatch db copy` again"),
    # C: command-line usage that click cannot check by itself
    "C001": N_("say what to verify: a package id, a package directory, or --all"),
    "C002": N_("--bagit checks one bag directory: give its path, not a package id and not --all"),
    # D: detectors, windows and redaction
    "D001": N_("no detector {name!r} is installed; installed: {available} (see `longwatch detectors`)"),
    "D002": N_("the range {start} to {end} is outside the clip {path} ({clip_start} to {clip_end}); "
               "choose times inside it"),
    "D003": N_("detector {name!r}: parameter {parameter!r} is invalid: {detail}"),
    "D004": N_("{path} cannot be decoded as video: {detail}; the stored original is unchanged"),
    "D005": N_("detector {name!r} needs the model file {file} from the Python package {package}; "
               "install it with pip (it is never downloaded at run time)"),
    "D006": N_("two plugins register the detector {name!r}: {first} and {second}"),
    "D007": N_("the time range is empty or reversed ({start} to {end}); --to must be after --from"),
    "D008": N_("the boxes file {path} is invalid: {detail}"),
    "D009": N_("package {package_id} has no video clip to work on"),
    "D010": N_("ffmpeg failed while {action}: {detail}; nothing was stored"),
    "D011": N_("the detection state file {path} is unreadable ({detail}); delete it to start over"),
    "D012": N_("say what to redact: --faces, --persons and/or --boxes FILE"),
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
    "H010": N_("say who acts: --as USER --role ROLE, or set LONGWATCH_USER and LONGWATCH_ROLE"),  # retired (issue 21)
    "H011": N_("the role {role!r} is unknown; use one of {roles}"),
    "H012": N_("the saved search of a hold is invalid: {detail}"),
    "H013": N_("a hold needs an owner (--owner) and a reason (--reason)"),
    "H014": N_("legal hold {hold_id} was already released"),
    "H015": N_("{path}: not a longwatch destruction certificate: {detail}"),
    "H016": N_("{path}: the destruction certificate's signature does not verify: {detail}"),
    # events branch: rules, import, review, dataset export
    "D013": N_("the window rules file {path} is invalid: {detail}"),
    "D014": N_("line {line}: {detail}; fix the row and import the file again (rows already imported are skipped)"),
    "D015": N_("no event {event_id} in the catalog (see `longwatch events`)"),
    "D016": N_("the import file {path} is neither JSON Lines (.jsonl) nor CSV (.csv)"),
    "D017": N_("say the decision: --confirmed, --false-positive or --unsure"),
    # dataset branch: training-data export (longwatch dataset export)
    "D040": N_("no event matches the dataset selection ({detail}); widen the filters (see `longwatch events`)"),
    "D041": N_("the output folder {path} already exists and is not empty; give a new or empty folder for the dataset"),
    "D042": N_("the dataset selection is invalid: {detail}"),
    "D043": N_("a dataset needs a licence (--licence) and a legal basis (--legal-basis): its datasheet states both"),
    "D044": N_("none of the {count} selected events has footage in the archive ({detail}); nothing was written"),
    "D045": N_("{path} of package {package_id} does not match its recorded SHA-256 (found {found}, expected "
               "{expected}); nothing was derived from it: run longwatch audit to repair the copy"),
    "H017": N_("the planning sample {package_id} cut from package {source} is not yet safe ({detail}); the source "
               "is kept and comes up again in the next disposition"),
    # issue 21: every path that destroys footage needs a second account's approval
    "H018": N_("package {package_id} was not deleted: a deletion needs a second records manager's approval. It is "
               "proposed as disposition {disposition_id}; another records manager approves it with "
               "`longwatch dispose approve {disposition_id}`, then `longwatch dispose execute {disposition_id}` "
               "deletes it"),
    "H019": N_("package {package_id} is already in disposition {disposition_id} ({status})"),
    "H021": N_("the storage-full purge destroys footage, so a second records manager approves it: give their "
               "token in LONGWATCH_APPROVER_TOKEN ({detail}); nothing was deleted"),
    "H020": N_("the destruction certificate {path} has no valid time-stamp from the trusted authority: {detail}"),
    "H022": N_("the destruction certificate of disposition {disposition_id} is not in the store ({key} on storage "
               "location {location}): check the location, or restore it from a replica"),
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
    "I050": N_("these files cannot share one package: {detail}; ingest them separately"),
    "I051": N_("{path} is a symbolic link; it was not followed and nothing was archived: give the file it points "
               "to, or pass --follow-symlinks"),
    "I052": N_("{path} is a {kind}, not a regular file; nothing was archived: only regular files are preserved"),
    "I053": N_("the staged object {key} does not hold the bytes it was queued with (SHA-256 {found}, expected "
               "{expected}); nothing was archived: queue the file again"),
    "I054": N_("the parts of upload {upload_id} do not cover its {length} bytes ({detail}); nothing was archived: "
               "start the upload again"),
    # K: keys and signatures
    "K001": N_("the signing key {path} could not be loaded: {detail}"),
    "K002": N_("the certificate {path} does not belong to the signing key"),
    "K003": N_("the certificate {path} could not be loaded: {detail}"),
    "K004": N_("the signing key {path} is encrypted and no passphrase was given: set the environment variable "
               "named by passphrase_env in [signing] (LONGWATCH_KEY_PASSPHRASE by default), set passphrase_file, "
               "or run the command on a terminal to be asked"),
    "K005": N_("the passphrase for the signing key {path} is wrong; nothing was signed"),
    "K006": N_("the signing key would be stored unencrypted: give it a passphrase (LONGWATCH_KEY_PASSPHRASE, "
               "passphrase_file or the prompt), or say --unencrypted-key if you really mean it"),
    "K007": N_("the signing key {path} is stored unencrypted, which this archive does not allow: replace it "
               "with `longwatch keys rotate`, or set encrypted = false in [signing]"),
    "K008": N_("the key history {path} is unreadable: {detail}"),
    "K009": N_("the certificate {path} cannot sign packages: {detail}"),
    "K010": N_("the archive's CA key {path} is not here: give it with --ca-key, or import a certificate "
               "issued by your own CA with `longwatch keys import`"),
    "K011": N_("the PKCS#11 token could not be used: {detail}"),
    "K012": N_("no key {label!r} in the PKCS#11 token {token!r}"),
    "K013": N_("the signing key {path} is not the key the key history names ({fingerprint}); nothing was "
               "signed: change keys with `longwatch keys rotate` or `keys import`, or restore the key"),
    "K014": N_("the web session key {path} holds {size} bytes where {needed} random bytes are needed; no session "
               "was signed with it: copy the key the other web machines use, or delete it to have a new one made "
               "(everyone signed in signs in again)"),
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
    "L004": N_("ledger entry {seq} does not hash to the leaf hash recorded when it was written: it was edited"),
    "L005": N_(
        "ledger entries {first}..{last} are in the database but not in the mirror every append writes to: they "
        "were not written by longwatch (forged), or the mirror lost them; run `longwatch custody verify`"
    ),
    "L006": N_(
        "ledger entries {first}..{last} are missing from the database: they were deleted or the ledger was "
        "truncated"
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
    "L015": N_("{value!r} is not a PREMIS event type of longwatch's vocabulary (longwatch/core/aip/vocabulary.py)"),
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
    "L024": N_(
        "the custody ledger's mirror at {path} is not the one this catalog records: {detail}; nothing was "
        "appended or removed. Check that the storage location is the archive's own and reachable, or restore "
        "the mirror from a replica"
    ),
    "L025": N_(
        "the catalog index holds ledger entries {first}..{last} whose bytes are not in {path}, which is more than "
        "the one unacknowledged group a crash can leave ({detail}); nothing was removed: restore the segments, "
        "then run `longwatch custody verify`"
    ),  # retired (issue 20): entries and their bytes are one database row since migration 0027
    "L026": N_(
        "the custody ledger records {table} {key}, but its {parent} {value} is neither stored nor a tombstone, so "
        "that row was not restored; restore the package's copies, then run `longwatch reindex` again"
    ),
    "L027": N_("checkpoint {checkpoint} carries no time-stamp although a trusted time-stamp authority is "
               "configured: a token was stripped, or the authority was never reached (`longwatch custody "
               "checkpoint` time-stamps the next one)"),
    "L028": N_("checkpoint {checkpoint}: its time-stamp token is dated {token_time} but the checkpoint says "
               "{note_time} (allowed: the same time up to {tolerance} s later): the token does not attest the "
               "checkpoint's time"),
    "L029": N_("witness {witness}: its cosignature does not hold for the ledger as it is now ({detail}): the "
               "ledger was rewritten or truncated after the witness co-signed it, or the cosignature is forged"),
    "L030": N_("witness key: {detail}"),
    "L031": N_("this witness co-signed {origin} at {signed} entries (root {root}); it will not co-sign {size} "
               "entries: {detail}"),
    "L032": N_("the custody ledger's mirror on location {location} has been unreachable since {since} (more "
               "than {minutes} minutes): nothing was appended, so that entries do not pile up that only the "
               "database holds; make the location reachable, then `longwatch custody mirror`"),
    "L033": N_("the custody ledger's mirror on location {location} holds {key} with other bytes than the "
               "database: the mirror or the database was edited; nothing was overwritten, run `longwatch "
               "custody verify`"),
    "L034": N_("the custody ledger's mirror on location {location} holds {mirrored} entries but the database "
               "only {held}: the catalog is new or was restored from an older backup; nothing was appended. "
               "Run `longwatch reindex`, which restores the ledger from the mirror"),
    # N: camera connectors (docs/connectors.md)
    "N001": N_("the {connector} connector configuration is invalid: {detail}"),
    "N002": N_("cannot reach {device}: {detail}; check the address, the network and that the device is on"),
    "N003": N_("{device} refused the credentials of user {user!r}; check the user name and password"),
    "N004": N_("no camera connector {name!r} is installed; installed: {available}"),
    "N005": N_("two plugins register the camera connector {name!r}: {first} and {second}"),
    "N006": N_("the connector configuration file {path} cannot be read: {detail}"),
    "N008": N_("no room to stage footage in {path} ({detail}); nothing received was deleted"),
    "N009": N_(
        "camera {camera}: {name} says it starts at {start}, which cannot be true; set clock_offset_seconds "
        "for this camera or fix its clock (the file was left where it is)"
    ),
    "N010": N_("package {package_id} did not verify after storing, so the original was kept: {detail}"),
    "N011": N_("the watch state {path} is unreadable: {detail}; restore it from backup or move it away"),
    "N012": N_(
        "camera {camera}: segment {name} is empty (0 bytes), so {start} to {end} is recorded as a gap; "
        "the file was left where it is"
    ),
    "N013": N_(
        "camera {camera}: segment {name} ends early (ffmpeg stopped mid-segment); it is archived as received "
        "in package {package_id} and marked partial"
    ),
    "N014": N_(
        "clip {clip} cannot be turned into a browser-playable copy by stream copy ({detail}); "
        "download the original and play it with a desktop player"
    ),
    "N015": N_(
        "package {package_id} has {have} of the {wanted} copies its replication policy asks for ({detail}), "
        "so the original was kept; it is released at a later pass once the copies exist (`longwatch replicate`)"
    ),
    "N016": N_(
        "camera {camera}: {name} is damaged ({detail}); it is archived as received in package {package_id} "
        "and marked partial, its end taken from the last whole frame"
    ),
    "N017": N_(
        "{name}: its DHAV frame headers say it starts at {header_start}, {apart} s away from the {name_start} in "
        "its file name (tolerance {tolerance} s), so the recorder's clock was probably reset: the name's times "
        "were used and the headers' kept in the sidecar (metadata.embedded); if the name is the wrong one, set "
        "dhav_clock_tolerance_seconds higher"
    ),
    "N018": N_(
        "the watch {watch} is already run by {owner}; two watchers of one watch would take the same clips, so "
        "this one waits (or, with --once, stops): stop the other one, or give this one another name"
    ),
    "N019": N_(
        "the state of the watch {watch} was changed by {owner} while this watcher ran; it stopped before "
        "taking another clip: run one watcher per watch"
    ),
    # J: jobs and workers (scale out)
    "J001": N_("this archive runs jobs in-process (its catalog is SQLite); queues and workers need a PostgreSQL "
               "catalog: set [catalog] url in longwatch.toml or LONGWATCH_CATALOG_URL"),
    "J002": N_("no job task {task!r}; known tasks: {known}"),
    "J003": N_("{package_id} is not in the catalog; list packages with `longwatch list` or jobs with "
               "`longwatch jobs`"),
    "J004": N_("unknown value {state!r}; use one of: {known}"),
    "J005": N_("job {job_id} is {state}, not failed; only a failed job can be retried"),
    "J006": N_("the job failed with an unexpected error; see the worker's log and retry it with "
               "`longwatch jobs retry ID`"),
    "J007": N_("package {package_id} does not have the copies its replication policy asks for yet; the job "
               "will be retried (or run `longwatch replicate {package_id}`)"),
    "J008": N_("the staged object {key} is not on storage location {location!r} and no package holds its "
               "bytes; nothing was archived: queue the file again"),
    "J009": N_("upload {upload_id} could not be archived: {error}"),
    "J010": N_("the worker lost the job queue's database ({error}); it carries on and tries again in "
               "{seconds} s"),
    # P: plugins
    "P001": N_("two plugins register the storage adapter {name!r}: {first} and {second}"),
    "P002": N_("no storage adapter {name!r} is installed; installed: {available}"),
    "P003": N_("a plugin is broken: {detail}"),
    # Q: catalog, search and reference data
    "Q001": N_("the time range ends ({end}) before it starts ({start}); give the earlier time first"),
    "Q002": N_("the coordinates {value!r} are out of range: latitude -90..90, longitude -180..180"),
    "Q003": N_("no zone {zone!r}; list the zones with `longwatch zones` or add it with `longwatch zones add`"),
    "Q004": N_("the text query is {length} characters long; at most {limit} are allowed"),
    "Q005": N_("the text query {value!r} has no searchable words (letters or digits)"),
    "Q006": N_("the page cursor {value!r} is invalid; search again without --after"),
    "Q007": N_("the radius {value} m is out of range: give more than 0 and at most {limit} m"),
    "Q008": N_("the box {value!r} is not SOUTH,WEST,NORTH,EAST in decimal degrees with SOUTH <= NORTH "
               "and WEST <= EAST"),
    "Q009": N_("no camera {camera!r} in the registry; add it with `longwatch cameras add` or import a CSV"),
    "Q010": N_("no case {number!r}; create it with `longwatch cases add`"),
    "Q011": N_("a case {number!r} already exists"),
    "Q012": N_("{path} line {line}: {detail}"),
    "Q013": N_("the minimum confidence {value} must be between 0 and 1"),
    "Q014": N_("the page size {value} must be between 1 and {limit}"),
    "Q015": N_("{field} {value!r} is invalid: {detail}"),
    "Q016": N_("package {package_id} could not be read back into the catalog: {detail}"),
    # S: storage
    "S001": N_("storage location {location!r} has no room left; nothing was deleted to make room: {detail}"),
    "S002": N_("storage location {location!r} failed: {detail}"),
    "S003": N_("{key!r} is not a safe storage key"),
    "S010": N_("storage location {location!r} is misconfigured: {detail}; fix it in longwatch.toml"),
    "S011": N_("storage location {location!r}: the bucket {bucket!r} does not exist; create it first"),
    "S012": N_(
        "storage location {location!r}: part {part} of {key!r} failed {attempts} times ({detail}); "
        "the upload was aborted and nothing was published"
    ),
    "S013": N_(
        "storage location {location!r} still locks {key!r} ({lock}); release the hold or wait for the "
        "retention date before disposing of it"
    ),
    "S014": N_("storage location {location!r}: the bucket {bucket!r} has no object lock; create it with object lock"),
    "S016": N_(
        "storage location {location!r} reports SHA-256 {found} for {key!r}, but {expected} was sent; "
        "the object was removed and nothing was published: check the network and the store, then retry"
    ),
    "S015": N_("storage location {location!r} is {percent}% full ({used} of {cap} bytes)"),
    "S017": N_(
        "package {package_id}: storage location {location!r} still locks {key!r} ({lock}); nothing was deleted "
        "on any location: release the hold or wait for the retention date, then dispose of it again"
    ),
    "S018": N_("storage location {location!r} ({adapter}) has no object lock; locks cannot be set there"),
    "S019": N_(
        "storage location {location!r}: cannot tell whether the bucket {bucket!r} has object lock ({detail}); "
        "nothing was deleted or unlocked: let longwatch read the bucket's object-lock configuration "
        "(s3:GetBucketObjectLockConfiguration) or wait until the store answers, then retry"
    ),
    "S020": N_(
        "package {package_id}: storage location {location!r} refused to delete {key!r} ({lock}) after the copies "
        "on {removed} were removed; the package stays stored and the audit restores those copies: release the "
        "hold or wait for the retention date, then dispose of it again"
    ),
    "S021": N_("there is no room for an upload of {needed} more bytes ({free} bytes free, {reserve} kept in "
               "reserve); nothing was stored: try again later, or ask an administrator to free space"),
    # R: replication, audit and repair
    "R001": N_(
        "package {package_id}: no good copy is left ({detail}); restore it from a backup or an export, "
        "nothing was changed"
    ),
    "R002": N_("package {package_id}: the copy on {location!r} does not verify after copying: {detail}"),
    "R003": N_("the replication policy names the unknown storage location {location!r}; define it in longwatch.toml"),
    "R004": N_("package {package_id}: the copy on {location!r} failed its check and could not be repaired: {detail}"),
    "R005": N_("the policy {policy!r} is invalid: {detail}"),
    "R006": N_("package {package_id}: the custody ledger records a copy on {location!r} that the store does not "
               "hold; `longwatch audit` repairs it from a good copy"),
    "R007": N_("package {package_id}: the copy on {location!r} could not be checked, its store failed: {detail}; "
               "the audit went on with the other copies and checks this one again next time"),
    # T: external tools
    "T001": N_("{tool} is not installed; `make demo` installs it (Debian package {package})"),
    "T002": N_("this needs the Python module {module}, which is not installed; it comes with the extra "
               "{extra}: `pip install 'longwatch[{extra}]'` (`make demo` and `make test` install every extra)"),
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
    # issue 23: BagIt-only verification (`longwatch verify --bagit`), any bag of BagIt 0.93 to 1.0
    "V025": N_("bagit.txt is not a valid BagIt declaration: {detail}"),
    "V026": N_("the bag declares BagIt version {version}; only versions 0.93 to 1.0 can be checked"),
    "V027": N_("{path}: cannot be read in the bag's declared character encoding {encoding}: {detail}"),
    "V028": N_("{path}: line {line} names the path {entry!r}, which is not safe: {detail}; it was not opened"),
    "V029": N_("{path}: {entry!r} is listed more than once"),
    "V030": N_("the bag has no payload manifest (manifest-ALGORITHM.txt)"),
    "V031": N_("{path}: is listed in fetch.txt but not present, so the bag is not complete; fetch it first "
               "(longwatch never downloads)"),
    "V032": N_("fetch.txt line {line} is malformed: {detail}"),
    "V033": N_("{path}: line {line} writes its path in a non-standard form ({detail}); it was read without it"),
    "V034": N_("{entry!r} and {other!r} differ only in Unicode normalization or in capital letters; some file "
               "systems cannot keep both"),
    "V035": N_("{path}: is an operating system's hidden file, probably bagged by accident"),
    "V036": N_("{path}: line {line} is malformed: {detail}"),
    "V037": N_("the bag declares the profile {profile}, which longwatch does not know; its rules were not checked"),
    "V038": N_("{path}: is not listed in {manifest}; every payload manifest must list every payload file"),
    "V039": N_("{path} is a BagIt bag that does not verify ({count} problems, the first: {first}); nothing of it was "
               "archived: see every problem with `longwatch verify --bagit {path}`"),
    # W: web, API, accounts and uploads
    "W001": N_("wrong user name or password"),
    "W002": N_("too many failed sign-ins from this address; try again in {minutes} minutes"),
    "W003": N_("unknown role {role!r}; choose one of: {roles}"),
    "W004": N_("the password is too short: use at least {minimum} characters"),
    "W005": N_("the user name {username!r} is invalid: use letters, digits, '.', '_', '@' or '-' (at most 64)"),
    "W006": N_("the user {username!r} already exists"),
    "W007": N_("no user {username!r}"),
    "W008": N_("sign in first (or send an API token as 'Authorization: Bearer ...')"),
    "W009": N_("your role ({role}) may not do this ({permission}); ask an administrator"),
    "W010": N_("the form's security token is missing or stale; reload the page and try again"),
    "W011": N_("not found: {what}"),
    "W012": N_("the parameter {name!r} is invalid: {detail}"),
    "W013": N_("this server speaks tus 1.0.0 only (Tus-Resumable: 1.0.0)"),
    "W014": N_("the upload is at byte {offset}, not {given}; ask with HEAD and resume from there"),
    "W015": N_("the chunk's {algorithm} checksum does not match; it was discarded, send it again"),
    "W016": N_("the upload length is invalid or above the limit of {limit} bytes"),
    "W017": N_("the uploaded file's SHA-256 is {found}, not the expected {expected}; nothing was archived"),
    "W018": N_("no upload {upload_id}, or it expired; start a new upload"),
    "W019": N_("unsupported checksum algorithm {algorithm!r}; use sha256"),
    "W020": N_("the byte range {value!r} cannot be served from a file of {size} bytes"),
    "W021": N_("the request was refused: {detail}"),
    "W022": N_("Upload-Metadata is invalid: {detail}"),
    "W023": N_("the uploaded file could not be archived: {detail}"),
    # issue 21: the command line acts for an authenticated account
    "W030": N_("the OS user {os_user} is not signed in to this archive: run `longwatch login`, or an administrator "
               "maps the OS user to an account (`longwatch users map-os-user {os_user} ACCOUNT`)"),
    "W031": N_("the stored sign-in of {os_user} no longer opens this archive (expired, revoked or the account is "
               "disabled): run `longwatch login` again"),
    "W040": N_("your role ({role}) sees only the cases shared with it, so it may not do this ({permission}): "
               "it would reach footage outside those cases; ask an operator"),
    "W041": N_("package {package_id} was destroyed ({status}); only its tombstone remains, no footage can be "
               "played, downloaded or verified"),
    "W042": N_("package {package_id} is not an upload awaiting confirmation as a camera's recording: {state}"),
    "W050": N_("the metrics are served to this machine only (loopback) or with the metrics token "
               "(environment variable {env}); {address} sent neither"),
    "W051": N_("not ready: the catalog does not answer ({detail})"),
    "W052": N_("not ready: the primary storage location {location} does not answer ({detail})"),
    "W053": N_("not ready: the custody ledger's identity does not match the catalog's ({detail}); "
               "see `longwatch custody verify`"),
    "W054": N_("this password is among the most common ones and would be guessed first: choose another"),
    "W055": N_("not ready: storage location {location} is empty where the catalog records packages or the custody "
               "ledger's mirror (a mount that failed leaves an empty folder): mount the storage, then start again"),
    "W060": N_("{value!r} is not a date and time: use the picker, or type YYYY-MM-DDTHH:MM:SS in {zone} "
               "(or ISO 8601 with an offset)"),
    "W061": N_("choose what the hold covers and fill in that field: a package, a case, a camera with a start and an "
               "end, or a saved search"),
    "W062": N_("{user} ({role}) cannot decide disposition {disposition_id}: a records manager other than its "
               "proposer {proposer} must approve or reject it"),
    "W063": N_("say why: a reason is required and is kept in the custody ledger"),
    "W064": N_("the end {end} is before the start {start}"),
    "W065": N_("executing disposition {disposition_id} stopped with an unexpected error ({detail}); what was "
               "destroyed is shown on its page: execute it again to resume, or run `longwatch dispose execute "
               "{disposition_id}`"),
    "W070": N_("case {number} is not shared with you, so you may not change it; ask a records manager to share it"),
    "W071": N_("export {export_id} is not finished ({state}); a link can be made once it is done"),
    "W072": N_("package {package_id} is destroyed; only its tombstone remains and it cannot be added to a case, "
               "held or exported"),
    # issue 22: the operator's and auditor's pages (events review, cameras, accounts)
    "W080": N_("{username} is the last active administrator: give another account the administrator role "
               "first, or nobody could manage the accounts any more"),
    "W081": N_("the current password is not right; nothing was changed"),
    "W082": N_("the two new passwords differ; type the same one twice"),
    "W083": N_("a token expires after 1 to {maximum} days, not {days}"),
    "W084": N_("you have no API token #{token_id}"),
    "W085": N_("choose a CSV file of cameras to import"),
    "W086": N_("choose a decision: confirmed, false positive or unsure"),
    "W090": N_("this API token's scopes ({scopes}) do not allow this ({permission}): create a token with the "
               "scope {scope} (`longwatch token create USER --scope {scope}`)"),
    "W091": N_("there is no token scope {scope!r}; choose among: {scopes}"),
    "W092": N_("the request body is invalid: {detail}"),
    # issue 22: saved searches
    "W093": N_("a saved search needs a name of 1 to {limit} characters"),
    "W094": N_("you have {count} saved searches, the most one account may keep: delete one first"),
    "W095": N_("you have no saved search {search_id}"),
    "W096": N_("the saved search {name!r} filters by {filters}, which a legal hold cannot keep (a hold keeps one "
               "camera, a zone, words and a time range): hold a case or a camera over the range instead"),
    # E: evidence exports
    "E001": N_("no package matches {package_id!r}: give a full id or a unique prefix (see `longwatch list`)"),
    "E002": N_(
        "case {case!r} holds no packages: attach packages or time ranges with `longwatch cases attach|add-range`"
    ),
    "E003": N_("the export request is incomplete: {detail}"),
    "E004": N_("no recording of {cameras} overlaps {start} to {end}: check the camera names and the range"),
    "E005": N_("{path}: the copy's SHA-256 {found} differs from the stored {expected}; run `longwatch verify` on "
               "the package before exporting it"),
    "E006": N_("{path} already exists and is not empty: choose a new folder for the export"),
    "E007": N_("the time-stamp authority {url} did not answer: {detail}; check [custody] tsa_url or try again"),
    "E008": N_("no CJK font for REPORT.pdf at {path}: install the Debian package fonts-noto-cjk"),
    "E009": N_("{path} is not an evidence export (no bagit.txt or tagmanifest-sha256.txt)"),
    "E010": N_("{path}: {detail}"),
    "E011": N_("{path} is listed in a manifest but missing from the export"),
    "E012": N_("{path} was changed: SHA-256 {found}, the manifest says {expected}"),
    "E013": N_("the export's signature does not verify: {detail}"),
    "E014": N_("the export was signed by {fingerprint}, which is not among the trusted certificates given"),
    "E015": N_("the export's time-stamp token does not verify: {detail}"),
    "E016": N_("{path} is in the export but in no manifest: it was added afterwards"),
    "E017": N_("{path}: {where} does not match the manifest: {detail}"),
    "E018": N_("the custody checkpoint does not verify: {detail}"),
    "E019": N_("custody entry {seq}: the inclusion proof fails: {detail}"),
    "E020": N_("the custody extract does not record the transfer of export {export_id}"),
    "E021": N_("share link {share} does not exist: ask the archive for a new link"),
    "E022": N_("share link {share} has expired or was revoked: ask the archive for a new link"),
    "E023": N_("the watermarked access copy of {path} could not be made: {detail}"),
    "E024": N_("package {package_id}: its signed manifests do not verify ({detail}); nothing was exported. Run "
               "`longwatch verify {package_id}`, then `longwatch audit` to repair it from a replica"),
    "E025": N_("export {export_id} was begun for {before} packages and its selection now finds {now}; "
               "start a new export (its transfer record names what the first attempt selected)"),
    "E026": N_("bag-info.txt's Payload-Oxum says {expected} (bytes.files) but the payload is {found}: a file was "
               "added, removed or changed"),
    "E027": N_("{path} is missing: --tsa-cert asks for a time-stamp token, and this export has none"),
    "E028": N_("{value!r} is not a SHA-256 certificate fingerprint: give 64 hexadecimal digits (colons and a "
               "SHA256: prefix are allowed), as `openssl x509 -noout -fingerprint -sha256` prints it"),
    "E029": N_("the export was signed by {fingerprint}, which is none of the fingerprints given ({given})"),
    "E030": N_("the published checkpoint {path} does not anchor this export: {detail}"),
    "E036": N_("package {package_id} is signed by {fingerprint}, which is not a trusted key of this archive "
               "({detail}); nothing was exported and nothing was re-signed"),
    "E037": N_("{key} is no place for the archive's own objects: packages, the custody ledger's mirror and staging "
               "keep their prefixes to themselves"),
    "E038": N_("{key} on storage location {location} already holds other bytes; a record written once is never "
               "overwritten"),
    "E039": N_("export {export_id} is not in the store: it is not finished yet, or it was deleted"),
    # U: public-sector use (requests, register, notice, analytics)
    "U001": N_("no request {number!r}; list the requests with `longwatch requests list`"),
    "U002": N_("a request cannot go from {current!r} to {target!r}; allowed next: {allowed}"),
    "U003": N_("{value!r} is not a request type; use one of: {allowed}"),
    "U004": N_("{reason!r} is not a lawful refusal reason; choose one of: {allowed}"),
    "U005": N_("the field {name!r} is required for a {kind} request"),
    "U006": N_("postponing the masking needs a reason; say why the copy is late"),
    "U007": N_("record how the identity was checked (a method such as an ID card seen), never the ID number itself"),
    "U008": N_("no published notice yet; an administrator publishes one on the notice page"),
    "U009": N_("{value!r} is not a grouping; use one of: {allowed}"),
    "U010": N_("the refusal reasons file {path} is invalid: {detail}"),
    "U011": N_("no CJK font for PDF files at {path}; install the Debian package fonts-noto-cjk"),
    "U012": N_("request {number} cannot be delivered: {detail}"),
    "U020": N_("cannot make the {document} PDF/A: {detail}; install a font that covers Korean where fontconfig "
               "finds it (on Debian or Ubuntu the package {package})"),
    "U021": N_("cannot make PDF/A documents: the layout engine (WeasyPrint with Pango) does not load ({detail}); "
               "install Pango (on Debian or Ubuntu the package libpango-1.0-0)"),
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
    "D": 9,
    "N": 10,
    "W": 11,
    "R": 1,  # an audit found a problem it could not repair
    "Q": 4,
    "H": 12,  # retention: refused by a hold, a missing approval or a full disk
    "E": 13,  # evidence exports (verify-export: the export fails a check)
    "J": 14,  # jobs and workers
    "U": 4,
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


class Findings:
    """What every check's report shares: a ``problems`` list (declared by the dataclass), ``ok``, ``add``.

    Package verification, ledger verification and export verification all
    collect every finding rather than stopping at the first.
    """

    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code: str, **context: Any) -> None:
        self.problems.append(Problem(code, **context))


class VerificationFailed(LongwatchError):
    """Raised once with every problem a verification found."""

    def __init__(self, problems: list[Problem], **context: Any) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(first.code, **first.context)
