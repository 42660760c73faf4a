"""Logging for services (`longwatch serve`, `longwatch worker`): level, text or JSON lines, nothing secret.

Why here and once: a service's log goes to journald or a log collector that
many people read, and a share link's token *is* the permission to download
an evidence export; a bearer token or a database password is the same. So
every line passes :func:`redact` on its way out, whatever logger wrote it
(longwatch's, gunicorn's access log, werkzeug's, a library's), and the access
log's request line is redacted before it is formatted.

Set by the environment, as unit files and compose files do:
``LONGWATCH_LOG_LEVEL`` (DEBUG, INFO, WARNING, ERROR; INFO by default) and
``LONGWATCH_LOG_FORMAT`` (``text`` by default, ``json`` for one JSON object a
line with ``time``, ``level``, ``logger`` and ``message``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from typing import Any

from longwatch import clock

ENV_LEVEL = "LONGWATCH_LOG_LEVEL"
ENV_FORMAT = "LONGWATCH_LOG_FORMAT"
REDACTED = "[redacted]"

#: What must never reach a log, each with the part kept: share links' tokens (/s/<token>), bearer tokens
#: and API tokens, token/password/secret query parameters, passwords inside URLs (postgresql://u:PASS@h).
_SECRETS = (
    # the request line is logged as sent: /%73/TOKEN and /s%2FTOKEN reach the share link too
    (re.compile(r"(?i)((?:/|%2f)(?:s|%73)(?:/|%2f)+)[^/?#\s\"']+"), r"\1" + REDACTED),
    (re.compile(r"(?i)(bearer\s+)[^\s\"',]+"), r"\1" + REDACTED),
    (re.compile(r"\blwt_[A-Za-z0-9_-]+"), REDACTED),
    (re.compile(r"(?i)(\b(?:access_token|token|password|passwd|secret|key|signature|x-amz-signature)=)"
                r"[^&\s\"']*"),
     r"\1" + REDACTED),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s\"']+:)[^@\s\"']+(@)"), r"\1" + REDACTED + r"\2"),
)


def redact(text: str) -> str:
    """``text`` without the secrets above (the rest of the line kept, so the line still says what happened)."""
    for pattern, keep in _SECRETS:
        text = pattern.sub(keep, text)
    return text


def level() -> int:
    name = os.environ.get(ENV_LEVEL, "INFO").strip().upper()
    value = logging.getLevelName(name)
    return value if isinstance(value, int) else logging.INFO


def json_lines() -> bool:
    return os.environ.get(ENV_FORMAT, "text").strip().lower() == "json"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then redacts the whole line (message, arguments and traceback alike)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line; fields a caller passes in ``extra={"fields": {...}}`` are added."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": clock.iso_z(clock.now()),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


def formatter() -> logging.Formatter:
    if json_lines():
        return JsonFormatter()
    return RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure(stream: Any = None) -> None:
    """The root logger to ``stream`` (standard error) at the configured level and format; idempotent."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "lw_service", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.lw_service = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter())
    root.addHandler(handler)
    root.setLevel(level())
    # Alembic announces each of its plugins at INFO whenever a process checks the schema (every web worker
    # on start): noise for an operator, so it speaks from WARNING unless asked for DEBUG.
    logging.getLogger("alembic").setLevel(logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING)
