"""The storage contract of the conformance kit, run on the filesystem and the S3 adapter alike."""

from __future__ import annotations

import pytest

from longwatch.testing import StorageAdapterContract


class TestBuiltinAdapters(StorageAdapterContract):
    @pytest.fixture
    def adapter(self, any_adapter):
        return any_adapter


class TestS3WithObjectLock(StorageAdapterContract):
    """The same contract on a bucket created with object lock (the lock branch of the kit)."""

    @pytest.fixture
    def adapter(self, s3_server, tmp_path):
        from s3 import make_adapter

        return make_adapter("s3", "vault", tmp_path, s3_server, object_lock=True)
