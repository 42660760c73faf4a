"""PREMIS controlled vocabularies (Library of Congress), shared by packages and the ledger.

One table so that the event types and agent roles written into a package's
``premis.xml`` are exactly those the custody ledger records.
"""

from __future__ import annotations

from longwatch.i18n import N_

EVENT_TYPE_AUTHORITY = "http://id.loc.gov/vocabulary/preservation/eventType"
AGENT_ROLE_AUTHORITY = "http://id.loc.gov/vocabulary/preservation/eventRelatedAgentRole"
OUTCOME_AUTHORITY = "http://id.loc.gov/vocabulary/preservation/eventOutcome"

#: label -> code at id.loc.gov/vocabulary/preservation/eventType (labels marked N_: the web shows them in Korean)
EVENT_TYPES: dict[str, str] = {
    N_("accession"): "acc",
    N_("capture"): "cap",
    N_("creation"): "cre",
    N_("deaccession"): "dea",
    N_("deletion"): "del",
    N_("digital signature generation"): "dsg",
    N_("digital signature validation"): "dig",
    N_("dissemination"): "dis",
    N_("exporting"): "exp",
    N_("extraction"): "ext",
    N_("fixity check"): "fix",
    N_("format identification"): "for",
    N_("information package creation"): "ipc",
    N_("ingestion"): "ing",
    N_("message digest calculation"): "mes",
    N_("metadata extraction"): "mee",
    N_("metadata modification"): "mem",
    N_("policy assignment"): "poa",
    N_("recovery"): "rec",
    N_("redaction"): "red",
    N_("replication"): "rep",
    N_("transfer"): "tra",
    N_("validation"): "val",
}

#: the outcomes longwatch writes (id.loc.gov/vocabulary/preservation/eventOutcome), marked for translation
OUTCOMES = (N_("success"), N_("failure"), N_("warning"))

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
