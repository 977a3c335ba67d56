"""Logs: JSON lines for machines, readable coloured lines for a person at a terminal.

Both formats carry the request id, tenant and actor from context and redact extra fields
whose names look secret. `configure_logging` picks the format: `json`, `pretty`, or `auto`
(pretty when the log stream, stderr, is a terminal; JSON lines otherwise, e.g. under a
process manager or when redirected to a file).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
import time
from typing import TextIO

from shared.json_types import JSONObject

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
tenant_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant", default=None)
actor_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("actor", default=None)

LOG_FORMATS = ("auto", "json", "pretty")
_SECRET_WORDS = ("authorization", "token", "secret", "password", "key")
# `color_message`: uvicorn's copy of its message with escape codes, never wanted in a line
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "color_message",
}
_ACCESS_FIELDS = {"method", "path", "route", "status", "durationMs"}


def extra_fields(record: logging.LogRecord) -> JSONObject:
    """The record's own fields (from `extra=`), secret-looking ones redacted."""
    fields: JSONObject = {}
    for key, value in record.__dict__.items():
        if key in _STANDARD or key.startswith("_"):
            continue
        lowered = key.lower()
        fields[key] = "[redacted]" if any(w in lowered for w in _SECRET_WORDS) else value
    return fields


class JsonFormatter(logging.Formatter):
    """Formats records as JSON lines; extra fields whose names look secret are redacted."""

    def format(self, record: logging.LogRecord) -> str:
        """Render one record."""
        entry: JSONObject = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "requestId": request_id_var.get(),
            "tenant": tenant_var.get(),
            "actor": actor_var.get(),
        }
        entry.update(extra_fields(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


_RESET = "\x1b[0m"
_DIM = "\x1b[2m"
_RED = "\x1b[1;31m"
_LEVEL_COLOURS = {"DEBUG": _DIM, "WARNING": "\x1b[33m", "ERROR": _RED, "CRITICAL": _RED}
_STATUS_COLOURS = {2: "\x1b[32m", 3: "\x1b[36m", 4: "\x1b[33m", 5: _RED}


class PrettyFormatter(logging.Formatter):
    """One readable line per record: `time level what  key=value  tenant/actor  req=id`.

    An access-log record reads `12:00:01.042 INFO  POST /customers 201 12.4 ms ...`, its status
    coloured by class; with `colour=False` the same text without escape codes.
    """

    def __init__(self, *, colour: bool) -> None:
        super().__init__()
        self.colour = colour

    def _paint(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.colour and code else text

    def format(self, record: logging.LogRecord) -> str:
        """Render one record."""
        moment = time.strftime("%H:%M:%S", time.localtime(record.created))
        level = record.levelname
        head = f"{moment}.{int(record.msecs):03d} " + self._paint(
            _LEVEL_COLOURS.get(level, ""), f"{level:<5}"
        )
        fields = extra_fields(record)
        if fields.keys() >= _ACCESS_FIELDS and record.name == "customers.access":
            status = int(fields["status"])
            what = f"{fields['method']} {fields['path']} " + self._paint(
                _STATUS_COLOURS.get(status // 100, ""), str(status)
            )
            what += f" {float(fields['durationMs']):.1f} ms"
            rest = {k: v for k, v in fields.items() if k not in _ACCESS_FIELDS}
        else:
            # uvicorn logs its start and stop as `uvicorn.error`, which reads as an error
            name = "uvicorn" if record.name == "uvicorn.error" else record.name
            what = f"{name}: {record.getMessage()}"
            rest = fields
        parts = [head, what, *(f"{k}={v}" for k, v in rest.items())]
        tenant, actor, request_id = tenant_var.get(), actor_var.get(), request_id_var.get()
        if tenant or actor:
            parts.append(self._paint(_DIM, f"tenant={tenant or '-'} actor={actor or '-'}"))
        if request_id:
            parts.append(self._paint(_DIM, f"req={request_id}"))
        line = "  ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def wants_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org) or TERM=dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return _is_terminal(stream)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def resolve_format(log_format: str, stream: TextIO) -> str:
    """`json` or `pretty`: `auto` is pretty on a terminal, JSON lines anywhere else."""
    if log_format == "auto":
        return "pretty" if _is_terminal(stream) else "json"
    return log_format


def configure_logging(level: str = "INFO", log_format: str = "auto") -> str:
    """Send every log record to stderr (called by entrypoints, never on import); the format used."""
    stream = sys.stderr
    chosen = resolve_format(log_format, stream)
    handler = logging.StreamHandler(stream)
    if chosen == "pretty":
        handler.setFormatter(PrettyFormatter(colour=wants_colour(stream)))
    else:
        handler.setFormatter(JsonFormatter())
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
    # Drivers that log whole documents or statements at DEBUG would leak personal data.
    for driver in ("pymongo", "psycopg", "aiormq", "aio_pika", "redis", "httpx"):
        logging.getLogger(driver).setLevel(max(logging.getLevelName(level), logging.INFO))
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    return chosen
