"""PREMIS v3 and Dublin Core, written with lxml and validated against the vendored XSDs.

Validation loads the official schemas from ``longwatch/schemas/`` (an OASIS
catalog maps their official addresses there), so it never touches the
network. Every XML document that comes from outside (a package under
verification, a vendor sidecar) goes through :func:`parse_untrusted`: no
DTDs, no entities, no network, bounded size.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree

from longwatch.core.aip.vocabulary import (
    AGENT_ROLE_AUTHORITY,
    EVENT_TYPE_AUTHORITY,
    agent_role_uri,
    event_type_uri,
)
from longwatch.errors import LongwatchError

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
XML_CATALOG = SCHEMA_DIR / "catalog.xml"
# libxml2 reads this when it first needs a catalog; set before any schema is loaded.
os.environ.setdefault("XML_CATALOG_FILES", str(XML_CATALOG))

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
RECORD_NS = "urn:longwatch:dc"
MAX_XML_BYTES = 64 << 20

P = f"{{{PREMIS_NS}}}"
#: Characters XML 1.0 cannot carry (lxml refuses them); free text from sidecars may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
XSI_TYPE = f"{{{XSI_NS}}}type"


@dataclass
class FileRecord:
    """One file of the package as PREMIS describes it."""

    relpath: str
    size: int
    digests: dict[str, str]
    original_name: str = ""
    format_name: str = ""
    format_version: str = ""
    mime_type: str = ""
    creating_application: str = ""
    creating_application_version: str = ""
    role: str = "media"  # media | sidecar
    #: "<package id>/<path>" of the files this one was made from (a window's cut, a redacted copy)
    derived_from: list[str] = field(default_factory=list)


@dataclass
class AgentRecord:
    identifier: str
    name: str
    type: str  # software | organization | person
    version: str = ""
    note: str = ""


@dataclass
class EventRecord:
    identifier: str
    type: str  # a label of vocabulary.EVENT_TYPES
    when: datetime
    detail: str
    outcome: str  # success | failure | warning
    outcome_note: str = ""
    agents: list[tuple[str, str]] = field(default_factory=list)  # (agent id, role label)
    objects: list[str] = field(default_factory=list)  # object identifiers (package-relative paths)


@dataclass
class Description:
    """The descriptive fields that Dublin Core and bag-info.txt carry."""

    package_id: str
    title: str
    camera: str = ""
    zone: str = ""
    location_name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    start: datetime | None = None
    end: datetime | None = None
    organization: str = ""
    formats: list[str] = field(default_factory=list)
    description: str = ""


def xml_text(text: str) -> str:
    """Free text as XML can hold it: characters XML 1.0 forbids become U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


# -- untrusted XML -----------------------------------------------------------
def _hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def parse_untrusted(data: bytes, path: str = "<xml>") -> etree._ElementTree:
    """Parse XML from outside; refuse DTDs and entities outright (XXE, billion laughs)."""
    if len(data) > MAX_XML_BYTES:
        raise LongwatchError("X001", path=path, detail=f"larger than {MAX_XML_BYTES} bytes")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise LongwatchError("X001", path=path, detail="DOCTYPE and ENTITY declarations are not allowed")
    try:
        root = etree.fromstring(data, parser=_hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise LongwatchError("X002", path=path, detail=str(exc)) from exc
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise LongwatchError("X001", path=path, detail="DOCTYPE declarations are not allowed")
    return tree


# -- schemas -----------------------------------------------------------------
@functools.cache
def schema(name: str) -> etree.XMLSchema:
    """'premis' or 'dc': the official schema, loaded from the vendored copies only."""
    files = {"premis": "premis.xsd", "dc": "longwatch-dc.xsd"}
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    doc = etree.parse(str(SCHEMA_DIR / files[name]), parser=parser)
    return etree.XMLSchema(doc)


def schema_errors(tree: etree._ElementTree | etree._Element, name: str) -> list[str]:
    """Every schema violation as 'line N: message'; empty when valid."""
    xsd = schema(name)
    if xsd.validate(tree):
        return []
    return [f"line {e.line}: {e.message}" for e in xsd.error_log]


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# -- PREMIS ------------------------------------------------------------------
def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    el = etree.SubElement(parent, P + tag, attrib)
    if text is not None:
        el.text = xml_text(text)
    return el


def _identifier(parent: etree._Element, kind: str, id_type: str, value: str) -> None:
    ident = _sub(parent, kind)
    _sub(ident, kind + "Type", id_type)
    _sub(ident, kind + "Value", value)


def _relationship(parent: etree._Element, kind: str, subtype: str, id_type: str, value: str) -> None:
    rel = _sub(parent, "relationship")
    _sub(rel, "relationshipType", kind)
    _sub(rel, "relationshipSubType", subtype)
    related = _sub(rel, "relatedObjectIdentifier")
    _sub(related, "relatedObjectIdentifierType", id_type)
    _sub(related, "relatedObjectIdentifierValue", value)


PREMIS_DIGEST_NAMES = {"sha256": "SHA-256", "sha512": "SHA-512"}


def build_premis(
    package_id: str,
    files: list[FileRecord],
    events: list[EventRecord],
    agents: list[AgentRecord],
    rights_note: str = "",
    sources: list[str] | None = None,
) -> bytes:
    """The package's PREMIS document: one object per file, the package object, events, agents.

    ``sources`` are the ids of the packages a derived package was made from:
    each becomes a derivation relationship ("has source") of the package object.
    """
    root = etree.Element(P + "premis", nsmap={"premis": PREMIS_NS, "xsi": XSI_NS}, version="3.0")

    pkg = _sub(root, "object", **{XSI_TYPE: "premis:intellectualEntity"})
    _identifier(pkg, "objectIdentifier", "UUID", package_id)
    for source in sources or []:
        _relationship(pkg, "derivation", "has source", "UUID", source)
    for record in files:
        obj = _sub(root, "object", **{XSI_TYPE: "premis:file"})
        _identifier(obj, "objectIdentifier", "local", record.relpath)
        chars = _sub(obj, "objectCharacteristics")
        _sub(chars, "compositionLevel", "0")
        for algorithm, value in record.digests.items():
            fixity = _sub(chars, "fixity")
            _sub(fixity, "messageDigestAlgorithm", PREMIS_DIGEST_NAMES.get(algorithm, algorithm),
                 authority="cryptographicHashFunctions",
                 authorityURI="http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions")
            _sub(fixity, "messageDigest", value)
            _sub(fixity, "messageDigestOriginator", "longwatch")
        _sub(chars, "size", str(record.size))
        fmt = _sub(chars, "format")
        designation = _sub(fmt, "formatDesignation")
        _sub(designation, "formatName", record.format_name or record.mime_type or "unknown")
        if record.format_version:
            _sub(designation, "formatVersion", record.format_version)
        if record.creating_application:
            app = _sub(chars, "creatingApplication")
            _sub(app, "creatingApplicationName", record.creating_application)
            if record.creating_application_version:
                _sub(app, "creatingApplicationVersion", record.creating_application_version)
        if record.original_name:
            _sub(obj, "originalName", record.original_name)
        storage = _sub(obj, "storage")
        location = _sub(storage, "contentLocation")
        _sub(location, "contentLocationType", "bag path")
        _sub(location, "contentLocationValue", record.relpath)
        rel = _sub(obj, "relationship")
        _sub(rel, "relationshipType", "structural")
        _sub(rel, "relationshipSubType", "is included in")
        related = _sub(rel, "relatedObjectIdentifier")
        _sub(related, "relatedObjectIdentifierType", "UUID")
        _sub(related, "relatedObjectIdentifierValue", package_id)
        for source in record.derived_from:
            _relationship(obj, "derivation", "has source", "local", source)
        for event in events:
            if record.relpath in event.objects:
                _identifier(obj, "linkingEventIdentifier", "UUID", event.identifier)

    for event in events:
        ev = _sub(root, "event")
        _identifier(ev, "eventIdentifier", "UUID", event.identifier)
        _sub(ev, "eventType", event.type, authority="eventType", authorityURI=EVENT_TYPE_AUTHORITY,
             valueURI=event_type_uri(event.type))
        _sub(ev, "eventDateTime", event.when.isoformat().replace("+00:00", "Z"))
        info = _sub(ev, "eventDetailInformation")
        _sub(info, "eventDetail", event.detail)
        outcome = _sub(ev, "eventOutcomeInformation")
        _sub(outcome, "eventOutcome", event.outcome)
        if event.outcome_note:
            detail = _sub(outcome, "eventOutcomeDetail")
            _sub(detail, "eventOutcomeDetailNote", event.outcome_note)
        for agent_id, role in event.agents:
            link = _sub(ev, "linkingAgentIdentifier")
            _sub(link, "linkingAgentIdentifierType", "local")
            _sub(link, "linkingAgentIdentifierValue", agent_id)
            _sub(link, "linkingAgentRole", role, authority="eventRelatedAgentRole",
                 authorityURI=AGENT_ROLE_AUTHORITY, valueURI=agent_role_uri(role))
        for obj_id in event.objects:
            link = _sub(ev, "linkingObjectIdentifier")
            _sub(link, "linkingObjectIdentifierType", "UUID" if obj_id == package_id else "local")
            _sub(link, "linkingObjectIdentifierValue", obj_id)

    for agent in agents:
        ag = _sub(root, "agent")
        _identifier(ag, "agentIdentifier", "local", agent.identifier)
        _sub(ag, "agentName", agent.name)
        _sub(ag, "agentType", agent.type)
        if agent.version:
            _sub(ag, "agentVersion", agent.version)
        if agent.note:
            _sub(ag, "agentNote", agent.note)

    if rights_note:
        rights = _sub(root, "rights")
        statement = _sub(rights, "rightsStatement")
        _identifier(statement, "rightsStatementIdentifier", "UUID", package_id)
        _sub(statement, "rightsBasis", "Statute")
        statute = _sub(statement, "statuteInformation")
        _sub(statute, "statuteJurisdiction", "KR")
        _sub(statute, "statuteCitation", rights_note)

    return serialize(root)


def premis_fixities(tree: etree._ElementTree) -> dict[str, dict[str, str]]:
    """relpath -> {algorithm: digest} as the PREMIS document records them."""
    names = {v: k for k, v in PREMIS_DIGEST_NAMES.items()}
    found: dict[str, dict[str, str]] = {}
    for obj in tree.getroot().iter(P + "object"):
        ident = obj.findtext(f"{P}objectIdentifier/{P}objectIdentifierValue")
        if ident is None:
            continue
        for fixity in obj.iter(P + "fixity"):
            algorithm = fixity.findtext(P + "messageDigestAlgorithm") or ""
            digest = fixity.findtext(P + "messageDigest") or ""
            found.setdefault(ident, {})[names.get(algorithm, algorithm)] = digest
    return found


def premis_relationships(tree: etree._ElementTree) -> list[dict[str, str]]:
    """Every relationship of every object: which object, what kind, and to what."""
    rows = []
    for obj in tree.getroot().iter(P + "object"):
        ident = obj.findtext(f"{P}objectIdentifier/{P}objectIdentifierValue") or ""
        for rel in obj.iter(P + "relationship"):
            rows.append({
                "object": ident,
                "type": rel.findtext(P + "relationshipType") or "",
                "subtype": rel.findtext(P + "relationshipSubType") or "",
                "related": rel.findtext(f"{P}relatedObjectIdentifier/{P}relatedObjectIdentifierValue") or "",
            })
    return rows


def premis_agents(tree: etree._ElementTree) -> list[dict[str, str]]:
    """Agents as plain dicts: who and what acted on the package (detectors included)."""
    return [{
        "id": ag.findtext(f"{P}agentIdentifier/{P}agentIdentifierValue") or "",
        "name": ag.findtext(P + "agentName") or "",
        "type": ag.findtext(P + "agentType") or "",
        "version": ag.findtext(P + "agentVersion") or "",
        "note": ag.findtext(P + "agentNote") or "",
    } for ag in tree.getroot().iter(P + "agent")]


def premis_events(tree: etree._ElementTree) -> list[dict[str, Any]]:
    """Events as plain dicts, for `longwatch show`."""
    rows = []
    for ev in tree.getroot().iter(P + "event"):
        rows.append({
            "type": ev.findtext(P + "eventType"),
            "time": ev.findtext(P + "eventDateTime"),
            "detail": ev.findtext(f"{P}eventDetailInformation/{P}eventDetail"),
            "outcome": ev.findtext(f"{P}eventOutcomeInformation/{P}eventOutcome"),
            "note": ev.findtext(f"{P}eventOutcomeInformation/{P}eventOutcomeDetail/{P}eventOutcomeDetailNote"),
        })
    return rows


def premis_records(tree: etree._ElementTree) -> tuple[list[AgentRecord], list[EventRecord]]:
    """The agents and events of a premis.xml as :func:`build_premis` was given them (a round trip).

    Used to complete the custody ledger for a package whose publishing
    process was killed before it appended them.
    """
    agents = [AgentRecord(a["id"], a["name"], a["type"], a["version"], a["note"]) for a in premis_agents(tree)]
    events = []
    for ev in tree.getroot().iter(P + "event"):
        when = datetime.fromisoformat((ev.findtext(P + "eventDateTime") or "").replace("Z", "+00:00"))
        events.append(EventRecord(
            identifier=ev.findtext(f"{P}eventIdentifier/{P}eventIdentifierValue") or "",
            type=ev.findtext(P + "eventType") or "",
            when=when,
            detail=ev.findtext(f"{P}eventDetailInformation/{P}eventDetail") or "",
            outcome=ev.findtext(f"{P}eventOutcomeInformation/{P}eventOutcome") or "",
            outcome_note=ev.findtext(
                f"{P}eventOutcomeInformation/{P}eventOutcomeDetail/{P}eventOutcomeDetailNote") or "",
            agents=[(link.findtext(P + "linkingAgentIdentifierValue") or "",
                     link.findtext(P + "linkingAgentRole") or "") for link in ev.iter(P + "linkingAgentIdentifier")],
            objects=[link.findtext(P + "linkingObjectIdentifierValue") or ""
                     for link in ev.iter(P + "linkingObjectIdentifier")],
        ))
    return agents, events


# -- Dublin Core ---------------------------------------------------------------
def _utc(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def build_dc(desc: Description) -> bytes:
    """A Dublin Core record: identifier, title, type, format, coverage (time and place), source."""
    nsmap = {"lw": RECORD_NS, "dc": DC_NS, "dcterms": DCTERMS_NS, "xsi": XSI_NS}
    root = etree.Element(f"{{{RECORD_NS}}}record", nsmap=nsmap)

    def add(ns: str, tag: str, text: str, xsi_type: str | None = None) -> None:
        el = etree.SubElement(root, f"{{{ns}}}{tag}")
        el.text = xml_text(text)
        if xsi_type:
            el.set(XSI_TYPE, xsi_type)

    add(DC_NS, "identifier", f"urn:uuid:{desc.package_id}", "dcterms:URI")
    add(DC_NS, "title", desc.title)
    add(DC_NS, "type", "MovingImage", "dcterms:DCMIType")
    for fmt in desc.formats:
        add(DC_NS, "format", fmt, "dcterms:IMT")
    if desc.description:
        add(DC_NS, "description", desc.description)
    if desc.organization:
        add(DC_NS, "publisher", desc.organization)
    if desc.camera:
        add(DC_NS, "source", f"camera:{desc.camera}")
    if desc.zone:
        add(DC_NS, "coverage", desc.zone)
    if desc.start is not None:
        add(DCTERMS_NS, "created", _utc(desc.start), "dcterms:W3CDTF")
        period = f"start={_utc(desc.start)};"
        if desc.end is not None:
            period += f" end={_utc(desc.end)};"
        add(DCTERMS_NS, "temporal", period + " scheme=W3C-DTF", "dcterms:Period")
    if desc.latitude is not None and desc.longitude is not None:
        point = f"east={desc.longitude}; north={desc.latitude};"
        if desc.location_name:
            point += f" name={desc.location_name.replace(';', ',')}"
        add(DCTERMS_NS, "spatial", point.strip(), "dcterms:Point")
    elif desc.location_name:
        add(DCTERMS_NS, "spatial", desc.location_name)
    return serialize(root)


def dc_fields(tree: etree._ElementTree) -> dict[str, list[str]]:
    """'title' -> ['...'], 'temporal' -> [...]: every DC element of a record."""
    fields: dict[str, list[str]] = {}
    for el in tree.getroot():
        if isinstance(el.tag, str):
            fields.setdefault(etree.QName(el).localname, []).append(el.text or "")
    return fields
