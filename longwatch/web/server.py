"""`longwatch serve`: gunicorn, configured for slow clients, long downloads and logs without secrets.

Why these settings:

- **gthread workers** (``threads`` per process): a download of a large export
  or a slow mobile client occupies one thread, not a whole process; gunicorn's
  threaded worker also hands a connection that sends nothing for a few
  seconds back to its poller, so half-sent requests (slowloris) do not take
  the thread pool (tested with stalled raw sockets against a real server).
- **timeouts**: ``timeout`` is the worker heartbeat (a process that stops
  answering it is replaced), not a limit on a download's length, which the
  threads serve while the main thread keeps beating; ``graceful_timeout``
  lets running downloads finish on restart; ``keepalive`` is short.
- **the access log** goes through :mod:`longwatch.logs`: request lines and
  referers are redacted (share links' tokens, tokens in query strings) and
  the client address is the one ProxyFix found (``[web] trusted_proxies``),
  so records behind a proxy name the client, not the proxy.
- gunicorn's own X-Forwarded-Proto handling is off: ProxyFix, configured
  with the number of trusted proxies, is the one place that believes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from longwatch import logs

THREADS = 8
TIMEOUT = 120
GRACEFUL_TIMEOUT = 60
KEEPALIVE = 5
ACCESS_FORMAT = '%(h)s - %(u)s [%(t)s] "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
_REDACTED_ATOMS = ("r", "U", "q", "f")


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
                "bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread", "threads": threads,
                "timeout": TIMEOUT, "graceful_timeout": GRACEFUL_TIMEOUT, "keepalive": KEEPALIVE,
                "accesslog": "-", "errorlog": "-", "access_log_format": ACCESS_FORMAT,
                "logger_class": ServiceLogger, "loglevel": logging_level(),
                "secure_scheme_headers": {},
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            logs.configure()
            return create_app(archive_root)

    _App().run()


def logging_level() -> str:
    import logging

    return logging.getLevelName(logs.level()).lower()
