"""Loopback ports for the tests' own servers, and ports that nothing answers on.

Why a held port for "unreachable": a port that :func:`free_port` returned is
free only when it returns; under ``pytest -n 2`` another test's server (an
RTSP server with a password, an S3 server) can take it a moment later, and a
test expecting "cannot reach" then meets "wrong credentials". A socket bound
but not listening refuses every connection at once and keeps the port from
anyone else for as long as it is held.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator


def free_port() -> int:
    """A port free now, for a server the test starts next (which binds it at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A port that refuses connections for the whole block: bound, never listening, and held."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
