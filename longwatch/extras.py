"""What each optional part of longwatch needs, and one clear error when it is missing.

A base install archives, verifies, exports and serves the web UI on SQLite
and local disk. The detectors (OpenCV, ONNX Runtime and the face model),
PostgreSQL (psycopg, procrastinate) and S3 (boto3) are extras
(``pip install 'longwatch[detectors]'``, ``[postgresql]``, ``[s3]``,
``[all]``). The module that wraps such a library imports it through
:func:`require`, where it is first needed, so a role that never uses it
never pays for it, and one that does gets T002 naming the extra to install
instead of an ImportError traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from longwatch.errors import LongwatchError

#: extra -> what it enables (the extras of pyproject.toml)
EXTRAS = {
    "detectors": "the built-in detectors (motion, person, face) and face or person redaction",
    "postgresql": "a PostgreSQL catalog and its job queue",
    "s3": "storage locations on S3-compatible object storage",
}


def require(module: str, extra: str) -> ModuleType:
    """``import module``, or T002 when it (not one of its own imports) is missing: install ``longwatch[extra]``."""
    if extra not in EXTRAS:
        raise KeyError(f"unknown extra {extra}")
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != module.split(".")[0]:
            raise  # the library is there and something it imports is not: its own installation is broken
        raise LongwatchError("T002", module=module.split(".")[0], extra=extra) from exc
