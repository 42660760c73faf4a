"""The storage contract of the conformance kit, run on the filesystem and the S3 adapter alike."""

from __future__ import annotations

import pytest

from longwatch.testing import StorageAdapterContract


class TestBuiltinAdapters(StorageAdapterContract):
    @pytest.fixture
    def adapter(self, any_adapter):
        return any_adapter
