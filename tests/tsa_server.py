"""A real RFC 3161 time-stamp authority on 127.0.0.1: ``openssl ts -reply`` behind a tiny HTTP server.

The TSA key and certificate are generated with openssl for the session; each
POSTed query is answered by the openssl binary itself, so the tokens are what
a real TSA would send and ``openssl ts -verify`` checks them.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CONFIG = """[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass
class TSA:
    url: str
    cert: Path
    dir: Path
    lock: threading.Lock

    def reply(self, query: bytes) -> bytes:
        with self.lock, tempfile.TemporaryDirectory(dir=self.dir) as tmp:
            q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
            q.write_bytes(query)
            subprocess.run(["openssl", "ts", "-reply", "-config", str(self.dir / "tsa.cnf"), "-queryfile", str(q),
                            "-out", str(r)], check=True, capture_output=True)
            return r.read_bytes()


def make_tsa_identity(directory: Path, name: str = "Test TSA") -> None:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(directory / "tsa.key"), "-out", str(directory / "tsa.pem"), "-days", "30",
                    "-subj", f"/CN={name}", "-addext", "extendedKeyUsage=critical,timeStamping",
                    "-addext", "keyUsage=critical,digitalSignature", "-addext", "basicConstraints=critical,CA:false"],
                   check=True, capture_output=True)
    (directory / "serial").write_text("01\n")
    (directory / "tsa.cnf").write_text(CONFIG.format(dir=directory))


@pytest.fixture(scope="session")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TSA]:
    """A running TSA: ``tsa.url`` for ``[custody] tsa_url``, ``tsa.cert`` for ``openssl ts -verify -CAfile``."""
    directory = tmp_path_factory.mktemp("tsa")
    make_tsa_identity(directory)
    with serving(directory, directory / "tsa.pem") as running:
        yield running


@contextmanager
def serving(directory: Path, cert: Path) -> Iterator[TSA]:
    """The TSA of ``directory`` (its openssl config and key) answering on loopback until the block ends."""
    holder: dict[str, TSA] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = holder["tsa"].reply(self.rfile.read(length))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["tsa"] = TSA(f"http://127.0.0.1:{server.server_address[1]}/tsa", cert, directory, threading.Lock())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["tsa"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
