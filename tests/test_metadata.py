"""PREMIS and Dublin Core: valid against the official schemas, offline; untrusted XML parsed safely."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from longwatch.core.aip import metadata, package
from longwatch.errors import LongwatchError


def test_schemas_resolve_through_the_vendored_catalog():
    assert os.environ["XML_CATALOG_FILES"] == str(metadata.XML_CATALOG)
    for name in ("premis", "dc"):
        assert metadata.schema(name) is not None


def minimal_premis(**record) -> bytes:
    fields = {"relpath": "data/media/x.mp4", "size": 3, "digests": {"sha256": "a" * 64, "sha512": "b" * 128},
              "original_name": "x.mp4", "format_name": "MPEG-4", **record}
    event = metadata.EventRecord("11111111-1111-1111-1111-111111111111", "ingestion",
                                 datetime(2026, 3, 3, tzinfo=UTC), "detail", "success",
                                 agents=[("longwatch", "executing program")], objects=["data/media/x.mp4"])
    agents = [metadata.AgentRecord("longwatch", "longwatch", "software", "0.1.0")]
    return metadata.build_premis("22222222-2222-2222-2222-222222222222", [metadata.FileRecord(**fields)],
                                 [event], agents, rights_note="Personal Information Protection Act art. 25")


def test_premis_with_rights_validates():
    tree = metadata.parse_untrusted(minimal_premis())
    assert metadata.schema_errors(tree, "premis") == []
    assert metadata.premis_fixities(tree)["data/media/x.mp4"]["sha256"] == "a" * 64


def test_schema_errors_are_reported_with_lines():
    bad = minimal_premis().replace(b"<premis:size>3</premis:size>", b"<premis:size>three</premis:size>")
    errors = metadata.schema_errors(metadata.parse_untrusted(bad), "premis")
    assert errors and errors[0].startswith("line ")


def test_dc_validates_with_and_without_optional_fields():
    full = metadata.Description(package_id="22222222-2222-2222-2222-222222222222", title="t", camera="c",
                                zone="z", location_name="a; b", latitude=1.5, longitude=2.5,
                                start=datetime(2026, 3, 3, tzinfo=UTC), end=datetime(2026, 3, 3, 1, tzinfo=UTC),
                                organization="o", formats=["video/mp4"], description="d")
    bare = metadata.Description(package_id="22222222-2222-2222-2222-222222222222", title="only a title")
    for desc in (full, bare):
        assert metadata.schema_errors(metadata.parse_untrusted(metadata.build_dc(desc)), "dc") == []


def test_free_text_with_characters_xml_forbids():
    desc = metadata.Description(package_id="22222222-2222-2222-2222-222222222222", title="a\x00b\x1bc\udc80")
    fields = metadata.dc_fields(metadata.parse_untrusted(metadata.build_dc(desc)))
    assert fields["title"] == ["a\ufffdb\ufffdc\ufffd"]


@pytest.mark.parametrize("raw", [b"plain.mp4", "카메라 01.mp4".encode(), b"a%41b.mp4", b"\x01\x7f\n.mp4",
                                 "캠".encode("cp949") + b".mp4", "\u0085.mp4".encode()])
def test_original_name_round_trips_exactly(raw):
    printable = package.printable_name(os.fsdecode(raw))
    assert metadata.xml_text(printable) == printable  # XML carries it unchanged
    assert package.original_name_bytes(printable) == raw


def test_korean_names_stay_readable():
    assert package.printable_name("정문 카메라.mp4") == "정문 카메라.mp4"


@pytest.mark.parametrize("data,code", [
    (b'<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>', "X001"),
    (b'<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd"><x/>', "X001"),
    (b"<x><y></x>", "X002"),
    (b"", "X002"),
])
def test_parse_untrusted_refuses(data, code):
    with pytest.raises(LongwatchError) as info:
        metadata.parse_untrusted(data, "metadata/premis.xml")
    assert info.value.code == code


def test_parse_untrusted_size_limit(monkeypatch):
    monkeypatch.setattr(metadata, "MAX_XML_BYTES", 10)
    with pytest.raises(LongwatchError) as info:
        metadata.parse_untrusted(b"<x>0123456789</x>")
    assert info.value.code == "X001"
