"""A package's custody events as a PREMIS v3 document, valid against the official schema.

Built with the same builder as the packages' own ``premis.xml``
(``metadata.build_premis``), so event types, agent roles and identifiers are
the ones a package carries; the ledger's sequence number and leaf hash are
kept in each event's detail so an event can be traced back to its proof.
"""

from __future__ import annotations

from longwatch.clock import parse_utc
from longwatch.core.aip import metadata
from longwatch.core.custody.ledger import Ledger
from longwatch.core.custody.merkle import leaf_hash
from longwatch.errors import LongwatchError


def premis_for_package(ledger: Ledger, package_id: str) -> bytes:
    events: list[metadata.EventRecord] = []
    agents: dict[str, metadata.AgentRecord] = {}
    for seq, entry, line in ledger.history(package_id):
        links = []
        for agent in entry.get("agents", []):
            agents.setdefault(agent["id"], metadata.AgentRecord(
                agent["id"], agent.get("name", agent["id"]), agent.get("type", "software"),
                agent.get("version", "")))
            links.append((agent["id"], agent["role"]))
        objects = list(dict.fromkeys([*entry.get("packages", []), *entry.get("objects", [])]))
        detail = f"{entry.get('detail', '')} [custody ledger entry {seq}, leaf {leaf_hash(line).hex()}]".strip()
        events.append(metadata.EventRecord(
            identifier=entry["event_id"], type=entry["type"], when=parse_utc(entry["time"]), detail=detail,
            outcome=entry["outcome"], outcome_note=entry.get("note", ""), agents=links, objects=objects))
    xml = metadata.build_premis(package_id, [], events, list(agents.values()))
    errors = metadata.schema_errors(metadata.parse_untrusted(xml), "premis")
    if errors:
        raise LongwatchError("V010", path="custody-premis.xml", schema="premis", detail=errors[0])
    return xml
