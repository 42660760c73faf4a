"""The vendor's own proof: longwatch's conformance kit run against example-nvr."""

import hashlib
from datetime import timedelta

import pytest
from longwatch_example_connector import ExampleNvrConnector
from longwatch_example_connector.simulator import CLOCK_OFFSET, START, make_export

from longwatch.testing import CameraConnectorContract


class TestExampleNvr(CameraConnectorContract):
    @pytest.fixture
    def connector_class(self):
        return ExampleNvrConnector

    @pytest.fixture
    def export(self, tmp_path):
        return make_export(tmp_path / "export")

    @pytest.fixture
    def connector_config(self, export):
        return {"path": str(export), "password": "nvr-pass-1"}

    @pytest.fixture
    def expected_clips(self, export):
        return [hashlib.sha256(p.read_bytes()).hexdigest() for p in export.glob("*.mp4")]

    @pytest.fixture
    def secret_values(self):
        return ["nvr-pass-1"]

    @pytest.fixture
    def expected_clock_offset(self):
        return CLOCK_OFFSET

    @pytest.fixture
    def expected_gaps(self):
        return [(START + timedelta(seconds=12), START + timedelta(seconds=17))]

    @pytest.fixture
    def unreachable_config(self, tmp_path):
        return {"path": str(tmp_path / "nvr-offline"), "password": "x"}

    @pytest.fixture
    def bad_credentials_config(self, export):
        return {"path": str(export), "password": "guess"}


def test_native_signature_is_offered(tmp_path):
    connector = ExampleNvrConnector({"path": str(make_export(tmp_path / "e")), "password": "nvr-pass-1"}, tmp_path)
    signatures = [connector.native_signature(c) for c in connector.list_clips(None)]
    assert signatures[0] == b"NVR-SIGNATURE-v1" and signatures[1:] == [None, None]
