"""PREMIS controlled vocabularies (Library of Congress), shared by packages and the ledger.

One table so that the event types and agent roles written into a package's
``premis.xml`` are exactly those the custody ledger records.
"""

from __future__ import annotations

EVENT_TYPE_AUTHORITY = "http://id.loc.gov/vocabulary/preservation/eventType"
AGENT_ROLE_AUTHORITY = "http://id.loc.gov/vocabulary/preservation/eventRelatedAgentRole"
OUTCOME_AUTHORITY = "http://id.loc.gov/vocabulary/preservation/eventOutcome"

#: label -> code at id.loc.gov/vocabulary/preservation/eventType
EVENT_TYPES: dict[str, str] = {
    "accession": "acc",
    "capture": "cap",
    "creation": "cre",
    "deaccession": "dea",
    "deletion": "del",
    "digital signature generation": "dsg",
    "digital signature validation": "dig",
    "dissemination": "dis",
    "exporting": "exp",
    "extraction": "ext",
    "fixity check": "fix",
    "format identification": "for",
    "information package creation": "ipc",
    "ingestion": "ing",
    "message digest calculation": "mes",
    "metadata extraction": "mee",
    "metadata modification": "mem",
    "policy assignment": "poa",
    "recovery": "rec",
    "redaction": "red",
    "replication": "rep",
    "transfer": "tra",
    "validation": "val",
}

#: label -> code at id.loc.gov/vocabulary/preservation/eventRelatedAgentRole
AGENT_ROLES: dict[str, str] = {
    "authorizer": "aut",
    "executing program": "exe",
    "implementer": "imp",
    "validator": "val",
}


def event_type_uri(label: str) -> str:
    return f"{EVENT_TYPE_AUTHORITY}/{EVENT_TYPES[label]}"


def agent_role_uri(label: str) -> str:
    return f"{AGENT_ROLE_AUTHORITY}/{AGENT_ROLES[label]}"
