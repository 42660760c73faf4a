"""A real S3-compatible HTTP server on 127.0.0.1: moto's standalone server, one per test process.

Registered through ``pytest_plugins`` in conftest.py. The port is picked free
at run time, so pytest-xdist workers each run their own server. Credentials
are dummy values set in the environment for the duration of the session, and
the shared AWS config files are pointed away so nothing on the machine leaks in.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ports import free_port

_ENV = {
    "AWS_ACCESS_KEY_ID": "longwatch-test",
    "AWS_SECRET_ACCESS_KEY": "longwatch-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class S3Server:
    endpoint_url: str

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1")

    def create_bucket(self, object_lock: bool = False) -> str:
        name = f"lw-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
        return name

    def options(self, bucket: str | None = None, object_lock: bool = False, **extra: Any) -> dict[str, Any]:
        """Options for an ``s3`` location on a fresh bucket of this server."""
        return {"bucket": bucket or self.create_bucket(object_lock), "endpoint_url": self.endpoint_url,
                "part_size": 5 << 20, **extra}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    saved = {k: os.environ.get(k) for k in _ENV}
    os.environ.update(_ENV)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Server(endpoint_url=f"http://127.0.0.1:{port}")
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def make_adapter(kind: str, name: str, tmp_path: Path, s3_server: S3Server, **options: Any) -> Any:
    """A storage adapter of ``kind`` ('local' or 's3') for location ``name``, fresh and empty."""
    from longwatch.storage_adapters.local import LocalStorageAdapter
    from longwatch.storage_adapters.s3 import S3StorageAdapter

    if kind == "local":
        return LocalStorageAdapter(name, {"path": str(tmp_path / f"store-{name}"), "durable": False, **options},
                                   tmp_path)
    return S3StorageAdapter(name, s3_server.options(**options), tmp_path)


@pytest.fixture(params=["local", "s3"])
def storage_kind(request: pytest.FixtureRequest) -> str:
    """Every storage test runs on both the filesystem and the S3 adapter."""
    return str(request.param)


@pytest.fixture
def any_adapter(storage_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    server = request.getfixturevalue("s3_server") if storage_kind == "s3" else None
    return make_adapter(storage_kind, "primary", tmp_path, server)  # type: ignore[arg-type]
