"""`longwatch serve`: gunicorn, configured for slow clients, long downloads and logs without secrets.

Why these settings:

- **gthread workers** (``threads`` per process): a download of a large export
  or a slow mobile client occupies one thread, not a whole process.
- **a thread only for a whole request head** (:class:`HeadFirstWorker`):
  gunicorn's threaded worker hands back to its poller a connection that sends
  nothing, but reads one whose request has begun arriving in a blocking thread,
  so 50 half-sent requests (slowloris) held every thread of four workers and
  every page hung. Here a thread takes what has arrived without waiting and,
  while the head is incomplete, gives the connection back to the poller; a head
  not complete within ``HEAD_TIMEOUT`` seconds (or idle for ``keepalive``) is
  dropped. The body and the response are read and written as before, so long
  uploads and downloads are untouched (nginx in deploy/ also buffers heads).
- **timeouts**: ``timeout`` is the worker heartbeat (a process that stops
  answering it is replaced), not a limit on a download's length, which the
  threads serve while the main thread keeps beating; ``graceful_timeout``
  lets running downloads finish on restart; ``keepalive`` is short.
- **the access log** goes through :mod:`longwatch.logs`: request lines and
  referers are redacted (share links' tokens, tokens in query strings) and
  the client address is the one ProxyFix found (``[web] trusted_proxies``),
  so records behind a proxy name the client, not the proxy.
- **no control socket**: gunicorn 27 otherwise opens one under the service
  account's home directory, one path for every ``serve`` on the machine, which
  longwatch never uses (restarts go through systemd's signals).
- gunicorn's own X-Forwarded-Proto handling is off: ProxyFix, configured
  with the number of trusted proxies, is the one place that believes them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.workers import gthread

from longwatch import logs

THREADS = 8
TIMEOUT = 120
GRACEFUL_TIMEOUT = 60
KEEPALIVE = 5
ACCESS_FORMAT = '%(h)s - %(u)s [%(t)s] "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
_REDACTED_ATOMS = ("r", "U", "q", "f")
#: Seconds a client has to send a whole request head (nginx's client_header_timeout in deploy/ is 15 s).
HEAD_TIMEOUT = 15.0
#: Bytes of a head gathered before the parser sees it (gunicorn's own limits then refuse a larger one).
MAX_HEAD = 64 * 1024


class HeadFirstWorker(gthread.ThreadWorker):
    """gunicorn's threaded worker that gives a thread to a request only once its head has arrived.

    Why a subclass and not a setting: gunicorn's worker waits (5 s) for a connection's first byte in the
    poller, but once a byte has come it parses the head in a thread, blocking on the socket; a client that
    stops half-way holds that thread until it goes away. Plain HTTP only (``longwatch serve`` speaks plain
    HTTP behind a proxy); a TLS connection is served as gunicorn serves it.
    """

    def handle(self, conn: Any) -> Any:
        if not self.cfg.is_ssl:
            try:
                arrived = _head_arrived(conn)
            except OSError:
                return False  # the client went away: close
            if arrived is None:
                return False  # closed, or too slow: drop it
            if not arrived:
                return gthread._DEFER  # to the poller; a thread again when more arrives
        return super().handle(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        conn.longwatch_head_since = None  # the next request on this connection has its own time
        return super().handle_request(req, conn)


def _head_arrived(conn: Any) -> bool | None:
    """Take what the client has sent, without waiting; whether the request head is complete.

    True: complete (the parser reads it from the buffer, never from the socket); False: not yet (hand the
    connection back); None: the client closed, or has not completed its head in HEAD_TIMEOUT seconds.
    """
    conn.init()  # the parser, once per connection; its buffer keeps what arrived across hand-backs
    if conn.is_http2:
        return True
    unreader = conn.parser.unreader
    held = unreader.take_buffered()
    since = getattr(conn, "longwatch_head_since", None) or time.monotonic()
    conn.longwatch_head_since = since
    closed = False
    conn.sock.setblocking(False)
    try:
        while len(held) < MAX_HEAD:
            try:
                data = conn.sock.recv(MAX_HEAD)
            except (BlockingIOError, InterruptedError):
                break
            if not data:
                closed = True
                break
            held += data
    finally:
        conn.sock.setblocking(True)
    unreader.unread(held)
    if b"\r\n\r\n" in held or b"\n\n" in held or len(held) >= MAX_HEAD:
        return True
    if closed or time.monotonic() - since > HEAD_TIMEOUT:
        return None
    return False


class ServiceLogger(Logger):
    """gunicorn's logger with redacted access records, the configured level, and JSON lines when asked."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(logs.formatter())
        self.error_log.setLevel(logs.level())

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in _REDACTED_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = logs.redact(atoms[key])
        for key in [k for k in atoms if k.startswith("{")]:  # headers and environ (cookies, Authorization)
            atoms.pop(key)
        return atoms

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        if not logs.json_lines():
            super().access(resp, req, environ, request_time)
            return
        atoms = self.atoms(resp, req, environ, request_time)
        entry = {"client": atoms["h"], "method": atoms["m"], "path": atoms["U"], "query": atoms["q"] or "",
                 "status": str(atoms["s"]), "bytes": atoms["B"] or 0, "referer": atoms["f"],
                 "user_agent": atoms["a"], "duration_ms": atoms["M"]}
        self.access_log.info("%s %s %s", atoms["m"], atoms["U"], atoms["s"], extra={"fields": entry})


def run(archive_root: Path, host: str, port: int, workers: int, threads: int = THREADS) -> None:
    """Run gunicorn in this process (a production WSGI server, not Flask's development one)."""
    from longwatch.web import create_app

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{host}:{port}", "workers": workers, "worker_class": HeadFirstWorker, "threads": threads,
                "timeout": TIMEOUT, "graceful_timeout": GRACEFUL_TIMEOUT, "keepalive": KEEPALIVE,
                "accesslog": "-", "errorlog": "-", "access_log_format": ACCESS_FORMAT,
                "logger_class": ServiceLogger, "loglevel": logging_level(),
                "secure_scheme_headers": {}, "control_socket_disable": True,
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            logs.configure()
            return create_app(archive_root)

    _App().run()


def logging_level() -> str:
    import logging

    return logging.getLevelName(logs.level()).lower()
