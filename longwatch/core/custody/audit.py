"""Checking the ledger, and proofs that anyone can check offline.

``verify_ledger`` reads every entry once: it checks each entry's sequence
number and hash chain, compares it with the leaf hash recorded when it was
written, rebuilds the Merkle tree, compares every signed checkpoint (and any
checkpoints saved elsewhere) with the tree at that size, and compares each
location's mirror with the database byte for byte. Every finding is a coded
:class:`Problem`; nothing stops at the first.

A proof file carries the entry's exact bytes, the RFC 9162 audit path and the
signed checkpoint (with its time-stamp), so ``check_proof`` needs nothing but
the file and the archive's certificate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from longwatch.core.aip import signing, timestamp
from longwatch.core.custody import mirror, witness
from longwatch.core.custody.checkpoints import Checkpoint, checkpoint_from_dict, parse_note
from longwatch.core.custody.entries import utc_text
from longwatch.core.custody.ledger import Ledger
from longwatch.core.custody.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from longwatch.errors import Findings, LongwatchError, Problem

INCLUSION_FORMAT = "longwatch-custody-inclusion-proof/1"
CONSISTENCY_FORMAT = "longwatch-custody-consistency-proof/1"
CHECKPOINTS_FORMAT = "longwatch-custody-checkpoints/1"


@dataclass
class LedgerReport(Findings):
    entries: int = 0
    root: str = ""
    checkpoints: int = 0
    timestamps: int = 0
    saved_checked: int = 0
    witnessed: int = 0
    mirrored: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "root_hash": self.root, "checkpoints": self.checkpoints,
                "timestamps": self.timestamps, "saved_checkpoints_checked": self.saved_checked,
                "cosignatures_checked": self.witnessed, "mirrored": self.mirrored,
                "problems": [p.to_dict() for p in self.problems], "notes": self.notes}


def _ranges(seqs: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s in sorted(seqs):
        if out and s == out[-1][1] + 1:
            out[-1] = (out[-1][0], s)
        else:
            out.append((s, s))
    return out


def check_signature(cp: Checkpoint, trusted: list[Any] | None, report: LedgerReport, label: str) -> bool:
    try:
        info = signing.verify_detached(cp.signature, cp.note)
    except signing.SignatureError as exc:
        report.add("L007", checkpoint=label, detail=str(exc))
        return False
    if trusted is not None and not signing.is_trusted(info, trusted):
        report.add("L008", checkpoint=label, fingerprint=info.fingerprint)
        return False
    return True


#: how far after its checkpoint's own time a token may be dated: a token proves the note existed *then*, so a
#: later one leaves the note's time unattested (a retried TSA call stays well inside this)
TSA_TOLERANCE = timedelta(minutes=10)


def check_timestamp(cp: Checkpoint, report: LedgerReport, label: str, tsa_cert: Any = None,
                    tolerance: timedelta = TSA_TOLERANCE) -> None:
    """The checkpoint's RFC 3161 token: valid, over this signature, by the trusted TSA, dated with the note.

    With a trusted TSA given (``[custody] tsa_cert``, or ``--tsa-cert``) a
    checkpoint without a token is an error (L027): stripping tokens must not
    pass. A token dated before the note's own time, or more than
    ``tolerance`` after it, is L028 (backdated or not attesting the note's time).
    """
    if cp.tsr is None:
        if tsa_cert is not None:
            report.add("L027", checkpoint=label)
        return
    try:
        info = timestamp.verify_token(cp.tsr, cp.signature)
    except timestamp.ImprintMismatch as exc:
        report.add("L012", checkpoint=label, detail=str(exc))
        return
    except timestamp.TimestampError as exc:
        report.add("L011", checkpoint=label, detail=str(exc))
        return
    if tsa_cert is not None and info.tsa_fingerprint != signing.fingerprint(tsa_cert):
        report.add("L011", checkpoint=label, detail=f"signed by another TSA ({info.tsa_fingerprint})")
        return
    token_time = info.time if info.time.tzinfo else info.time.replace(tzinfo=UTC)
    if token_time < cp.time - timedelta(seconds=1) or token_time - cp.time > tolerance:
        report.add("L028", checkpoint=label, note_time=utc_text(cp.time), token_time=utc_text(token_time),
                   tolerance=int(tolerance.total_seconds()))
        return
    report.timestamps += 1


def verify_ledger(ledger: Ledger, trusted: list[Any] | None, saved: list[tuple[str, Checkpoint]] = (),  # type: ignore[assignment]
                  tsa_cert: Any = None, progress: Callable[[int], None] | None = None,
                  witnesses: Sequence[witness.WitnessKey] = (), mirrors: bool = True) -> LedgerReport:
    """Chain, recorded leaf hashes, tree, every checkpoint's signature and time-stamp, saved checkpoints, the
    cosignatures of the ``witnesses`` given (each must co-sign the root the ledger has now at that size), and
    (``mirrors``) every location's mirror, byte for byte against the database."""
    report = LedgerReport()
    tree = MerkleTree()
    expected = 0
    prev = "0" * 64
    for seq, recorded, line in ledger.rows():
        if seq != expected:
            report.add("L006", first=expected, last=seq - 1)
        leaf = leaf_hash(line)
        try:
            entry = json.loads(line)
            found = int(entry["seq"])
            entry_prev = str(entry["prev"])
        except (ValueError, KeyError, TypeError) as exc:
            report.add("L001", segment="database", offset=seq, detail=str(exc))
        else:
            if found != seq:
                report.add("L002", segment="database", offset=seq, found=found, expected=seq)
            if entry_prev != prev:
                report.add("L003", seq=seq)
        if recorded != leaf.hex():
            report.add("L004", seq=seq)
        tree.append(leaf)
        prev = leaf.hex()
        expected = seq + 1
        if progress is not None:
            progress(1)
    report.entries = tree.size
    report.root = tree.root().hex() if tree.size else ""

    try:
        kept = ledger.checkpoints()
    except LongwatchError as exc:
        report.add(exc.code, **exc.context)
        kept = []
    for cp in kept:
        label = str(cp.size)
        report.checkpoints += 1
        if not cp.signature:
            report.add("L007", checkpoint=label, detail="the signature is missing")
        else:
            check_signature(cp, trusted, report, label)
        check_timestamp(cp, report, label, tsa_cert)
        _compare(tree, cp, report, label)
    for source, cp in saved:
        report.saved_checked += 1
        label = f"{cp.size} ({source})"
        check_signature(cp, trusted, report, label)
        check_timestamp(cp, report, label, tsa_cert)
        if cp.size > tree.size:
            report.add("L010", checkpoint=label, size=cp.size, found=tree.size)
        elif tree.root(cp.size) != cp.root:
            report.add("L021", size=cp.size, source=source, expected=cp.root.hex(), found=tree.root(cp.size).hex())
    _check_witnesses(ledger, tree, witnesses, report)
    if mirrors and ledger.archive is not None:
        _check_mirrors(ledger, {cp.size: cp for cp in kept}, tree.size, report)
    return report


def _check_mirrors(ledger: Ledger, kept: dict[int, Checkpoint], size: int, report: LedgerReport) -> None:
    """Each location's mirror must hold exactly the database's entries and checkpoints, as far as it reaches."""
    archive = ledger.archive
    assert archive is not None
    for state in mirror.states(ledger):
        try:
            source = mirror.MirrorSource(archive.storage(state.location))
            found = source.identity()
            if found is None:
                if state.size:
                    report.add("L024", path=f"{state.location}:{mirror.PREFIX}",
                               detail=f"no identity.json although {state.size} entries were mirrored there")
                continue
            mine = ledger.catalog_identity()
            if mine is not None and found != mine:
                report.add("L024", path=f"{state.location}:{mirror.PREFIX}", detail="it names another ledger")
                continue
            for first, end, key in source.segments() + source.tail():
                if end > size:
                    report.add("L034", location=state.location, mirrored=end, held=size)
                    break
                with source.adapter.open(key) as fh:
                    stored = fh.read()
                if stored != b"".join(line + b"\n" for _seq, line in ledger.lines(first, end)):
                    report.add("L033", location=state.location, key=key)
            for cp in source.checkpoints():
                mine_cp = kept.get(cp.size)
                if mine_cp is None or (mine_cp.note, mine_cp.signature) != (cp.note, cp.signature):
                    report.add("L033", location=state.location, key=f"{mirror.CHECKPOINTS}/{cp.name}.note")
            reached = source.size()
            report.mirrored[state.location] = reached
            if state.location == archive.settings.primary_location and state.failing_since is None and reached < size:
                # every append writes its group there right after its commit: rows that never got there were
                # not written by the append path (a crash between the two leaves them only until the next one)
                report.add("L005", first=reached, last=size - 1)
        except (LongwatchError, OSError) as exc:
            report.notes.append(f"the mirror on location {state.location!r} could not be read: {exc}")


def _check_witnesses(ledger: Ledger, tree: MerkleTree, keys: Sequence[witness.WitnessKey],
                     report: LedgerReport) -> None:
    """Each kept cosignature of a given witness must verify over the checkpoint body of the ledger as it is now."""
    by_name = {k.name: k for k in keys}
    for size, name, line in ledger.cosignatures():
        key = by_name.get(name)
        if key is None:
            continue
        if size > tree.size:
            report.add("L029", witness=name, detail=f"it co-signed {size} entries, the ledger holds {tree.size}")
            continue
        try:
            witness.verify(key, witness.checkpoint_body(ledger.origin, size, tree.root(size)), line)
        except LongwatchError as exc:
            report.add("L029", witness=name, detail=f"at {size} entries: {exc.context.get('detail', exc)}")
            continue
        report.witnessed += 1


def _compare(tree: MerkleTree, cp: Checkpoint, report: LedgerReport, label: str) -> None:
    if cp.size > tree.size:
        report.add("L010", checkpoint=label, size=cp.size, found=tree.size)
    elif tree.root(cp.size) != cp.root:
        report.add("L009", checkpoint=label, expected=cp.root.hex(), found=tree.root(cp.size).hex())


# -- saved checkpoints -----------------------------------------------------------------
def export_checkpoints(ledger: Ledger) -> dict[str, Any]:
    return {"format": CHECKPOINTS_FORMAT, "origin": ledger.origin,
            "checkpoints": [cp.to_dict() for cp in ledger.checkpoints()]}


def load_saved_checkpoints(path: Path) -> list[tuple[str, Checkpoint]]:
    """Checkpoints kept elsewhere: a file from `custody checkpoints -o`, a proof file, or a .note beside its .p7s."""
    try:
        if path.suffix == ".note":
            note = path.read_bytes()
            origin, size, root, when = parse_note(note)
            sig = path.with_name(path.name + ".p7s").read_bytes()
            tsr_path = path.with_name(path.name + ".p7s.tsr")
            tsr = tsr_path.read_bytes() if tsr_path.exists() else None
            return [(path.name, Checkpoint(size, root, when, origin, note, sig, tsr))]
        data = json.loads(path.read_text(encoding="utf-8"))
        items = data.get("checkpoints") or [data["checkpoint"]]
        return [(path.name, checkpoint_from_dict(item)) for item in items]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LongwatchError("L020", path=path, detail=str(exc)) from exc


# -- proofs ------------------------------------------------------------------------------
def _covering_checkpoint(ledger: Ledger, seq: int, against: int | None) -> Checkpoint:
    if against is not None:
        cp = ledger.checkpoint_for(against)
        if cp.size <= seq:
            raise LongwatchError("L018", checkpoint=f"{against} (entry {seq} is not in it)")
        return cp
    for cp in ledger.checkpoints():
        if cp.size > seq:
            return cp
    return ledger.checkpoint()  # none covers it yet: take one now


def prove_inclusion(ledger: Ledger, ref: str | int, against: int | None = None,
                    tree: MerkleTree | None = None) -> dict[str, Any]:
    seq, _entry, line = ledger.entry(ref)
    cp = _covering_checkpoint(ledger, seq, against)
    tree = tree or ledger.tree(cp.size)
    path = tree.inclusion_proof(seq, cp.size)
    return {
        "format": INCLUSION_FORMAT,
        "algorithm": "RFC 9162 section 2.1.3 (SHA-256; leaf = SHA-256(0x00 || entry), "
                     "node = SHA-256(0x01 || left || right))",
        "leaf_index": seq,
        "tree_size": cp.size,
        "entry": line.decode("utf-8"),
        "leaf_hash": leaf_hash(line).hex(),
        "inclusion_path": [h.hex() for h in path],
        "checkpoint": cp.to_dict(),
    }


def prove_consistency(ledger: Ledger, first: int, second: int) -> dict[str, Any]:
    old, new = ledger.checkpoint_for(first), ledger.checkpoint_for(second)
    if old.size > new.size:
        old, new = new, old
    tree = ledger.tree(new.size)
    return {
        "format": CONSISTENCY_FORMAT,
        "algorithm": "RFC 9162 section 2.1.4 (SHA-256)",
        "first": old.size, "second": new.size,
        "consistency_path": [h.hex() for h in tree.consistency_proof(old.size, new.size)] if old.size else [],
        "first_checkpoint": old.to_dict(),
        "second_checkpoint": new.to_dict(),
    }


def check_proof(data: dict[str, Any], trusted: list[Any], tsa_cert: Any = None) -> LedgerReport:
    """Offline: the checkpoint signature(s), the time-stamp(s) and the RFC 9162 proof."""
    report = LedgerReport()
    fmt = data.get("format")
    try:
        if fmt == INCLUSION_FORMAT:
            cp = checkpoint_from_dict(data["checkpoint"])
            label = str(cp.size)
            check_signature(cp, trusted, report, label)
            check_timestamp(cp, report, label, tsa_cert)
            line = str(data["entry"]).encode("utf-8")
            seq, size = int(data["leaf_index"]), int(data["tree_size"])
            leaf = leaf_hash(line)
            entry = json.loads(line)
            path = [bytes.fromhex(h) for h in data["inclusion_path"]]
            if size != cp.size:
                report.add("L013", seq=seq, detail=f"the proof is for {size} entries, the checkpoint for {cp.size}")
            elif int(entry.get("seq", -1)) != seq:
                report.add("L013", seq=seq, detail="the entry's seq is not the leaf index")
            elif leaf.hex() != data.get("leaf_hash"):
                report.add("L013", seq=seq, detail="the entry does not hash to the leaf hash (it was edited)")
            elif not verify_inclusion(seq, size, leaf, path, cp.root):
                report.add("L013", seq=seq, detail="the audit path does not lead to the signed root")
            report.entries, report.root, report.checkpoints = size, cp.root.hex(), 1
        elif fmt == CONSISTENCY_FORMAT:
            old = checkpoint_from_dict(data["first_checkpoint"])
            new = checkpoint_from_dict(data["second_checkpoint"])
            for cp in (old, new):
                check_signature(cp, trusted, report, str(cp.size))
                check_timestamp(cp, report, str(cp.size), tsa_cert)
            path = [bytes.fromhex(h) for h in data["consistency_path"]]
            if not verify_consistency(old.size, new.size, old.root, new.root, path):
                report.add("L014", first=old.size, second=new.size,
                           detail="the older tree is not a prefix of the newer one")
            report.entries, report.root, report.checkpoints = new.size, new.root.hex(), 2
        else:
            raise LongwatchError("L020", path="proof", detail=f"unknown format {fmt!r}")
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise LongwatchError("L020", path="proof", detail=str(exc)) from exc
    return report
