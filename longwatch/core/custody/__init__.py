"""The chain-of-custody ledger (RFC 9162-style): see docs/custody.md.

Every event on every package is an entry sequenced by the catalog's database,
hash-chained and a leaf of a Merkle tree whose roots are signed in
checkpoints (optionally time-stamped by an RFC 3161 authority); closed
segments and checkpoints are mirrored to every storage location. This package
re-exports the API; the helpers below are what ingest and verify call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from longwatch.core.custody import mirror
from longwatch.core.custody.audit import (
    LedgerReport,
    check_proof,
    export_checkpoints,
    load_saved_checkpoints,
    prove_consistency,
    prove_inclusion,
    verify_ledger,
)
from longwatch.core.custody.checkpoints import Checkpoint
from longwatch.core.custody.entries import CustodyEvent, Receipt, host, person_agent, software_agent
from longwatch.core.custody.export import premis_for_package
from longwatch.core.custody.ledger import CustodySettings, Ledger, load_settings
from longwatch.core.custody.merkle import (
    Frontier,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

if TYPE_CHECKING:
    from longwatch.core.aip.metadata import AgentRecord, EventRecord
    from longwatch.core.archive import Archive

__all__ = [
    "Checkpoint", "CustodyEvent", "CustodySettings", "Frontier", "Ledger", "LedgerReport", "MerkleTree", "Receipt",
    "check_proof", "export_checkpoints", "host", "leaf_hash", "load_saved_checkpoints", "load_settings",
    "mirror", "node_hash", "person_agent", "premis_for_package", "prove_consistency", "prove_inclusion",
    "record_fixity", "record_package_events", "software_agent", "verify_consistency", "verify_inclusion",
    "verify_ledger",
]


def record_package_events(archive: Archive, package_id: str, events: Sequence[EventRecord],
                          agents: Iterable[AgentRecord], payload: dict[str, str] | None = None) -> list[Receipt]:
    """The package's own PREMIS events, with the same ids, agents and types, appended as one group.

    ``payload`` (relative path -> SHA-256, at ingest and derivation) goes with the first event, so the
    ledger names the bytes the package was made of; the ledger adds the tag-manifest digest to each.
    """
    known = {a.identifier: a for a in agents}

    def agent(agent_id: str, role: str) -> dict[str, str]:
        record = known.get(agent_id)
        out = {"id": agent_id, "role": role}
        if record is not None:
            out.update(name=record.name, type=record.type)
            if record.version:
                out["version"] = record.version
            if agent_id == "longwatch":
                out["host"] = host()  # the machine that acted, beside the account that asked
        return out

    batch = [CustodyEvent(type=e.type, packages=[package_id], outcome=e.outcome, detail=e.detail,
                          note=e.outcome_note, agents=[agent(a, r) for a, r in e.agents],
                          objects=[o for o in e.objects if o != package_id], event_id=e.identifier, time=e.when)
             for e in events]
    if payload and batch:
        batch[0].extra = {**batch[0].extra, "payload_sha256": dict(sorted(payload.items()))}
    return Ledger.for_archive(archive).append(batch)


def record_fixity(archive: Archive, results: Sequence[tuple[str, bool, str, list[dict[str, Any]]]]) -> list[Receipt]:
    """One "fixity check" event per verified package: (package id, ok, detail, problems)."""
    batch = []
    for package_id, ok, detail, problems in results:
        note = "; ".join(f"[{p['code']}] {p['message']}" for p in problems)[:4000]
        batch.append(CustodyEvent(type="fixity check", packages=[package_id],
                                  outcome="success" if ok else "failure", detail=detail, note=note,
                                  agents=[software_agent(), person_agent(archive.operator)]))
    return Ledger.for_archive(archive).append(batch)
