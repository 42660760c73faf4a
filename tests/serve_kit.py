"""`longwatch serve` as a real process for a test: started, answering, and on a port of its own.

Why not just ``free_port()`` and a health check: the port is free only when it is picked. Under
``pytest -n 2`` another test's server can bind it before gunicorn does; gunicorn then retries and gives
up ("Connection in use"), or the test's requests reach the other server and fail with a wrong answer
instead of a clear message. Here the server counts as up only once its own log says it listens on that
address and it answers; a port taken meanwhile is given up at once and another one tried.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import requests
from conftest import LONGWATCH
from ports import free_port

#: a loaded machine: gunicorn's imports, then its first worker's
START_TIMEOUT = 180


def start_serve(root: Path, log: Path, *args: str, env: dict[str, str] | None = None,
                attempts: int = 5) -> tuple[subprocess.Popen[bytes], str]:
    """``longwatch -A ROOT serve --port PORT ARGS``, its output appended to ``log``: (process, base URL).

    The process runs in its own session (a test may kill its process group); the caller stops it.
    """
    for _ in range(attempts):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with log.open("ab") as out:  # the child keeps its own descriptor
            proc = subprocess.Popen([*LONGWATCH, "-A", str(root), "serve", "--port", str(port), *args],
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                    env=os.environ.copy() if env is None else env)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            text = log.read_text(errors="replace")
            if f"Connection in use: ('127.0.0.1', {port})" in text:  # taken after it was picked: another port
                proc.kill()
                proc.wait()
                break
            if f"Listening at: {base} " in text and _answers(base):
                return proc, base
            assert proc.poll() is None and time.monotonic() < deadline, text[-3000:]
            time.sleep(0.2)
    raise AssertionError(f"no free port for `longwatch serve` in {attempts} attempts:\n{log.read_text()[-3000:]}")


def _answers(base: str) -> bool:
    try:
        return requests.get(base + "/healthz", timeout=10).status_code == 200
    except (requests.ConnectionError, requests.Timeout):
        return False
