"""Logging: plain text for a terminal, one JSON object per line for a log pipeline.

`log_format = "json"` (TOKUI_LOG_FORMAT=json) makes every record, Tokui's and the web
server's access log alike, a line such as

    {"ts": "2026-01-05T03:00:00.123Z", "level": "INFO", "logger": "tokui.worker",
     "message": "delivery cycle", "pid": 4242, "sent": 1000, "seconds": 0.84}

Fields passed with `extra={...}` become keys. Access-log lines carry method, path,
status and client as fields; a `key` or `token` query parameter in the path (public
API keys travel that way for navigator.sendBeacon) is replaced by "***" so that keys do
not end up in log storage.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_SECRET_PARAM = re.compile(r"(?<=[?&])(key|token)=[^&\s]*", re.IGNORECASE)
# Attributes every LogRecord has; anything else on a record came from `extra`.
# uvicorn's color_message repeats the message with terminal colour codes.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def redact(path: str) -> str:
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}=***", path)


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process or os.getpid(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            out.update(_access_fields(record.args))
            out["message"] = "request"
        for name, value in record.__dict__.items():
            if name not in _STANDARD and not name.startswith("_"):
                out[name] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def _access_fields(args: tuple[Any, ...]) -> dict[str, Any]:
    """uvicorn's access record: (client, method, path, http version, status)."""
    if len(args) != 5:
        return {}
    client, method, path, version, status = args
    return {
        "client": client,
        "method": method,
        "path": redact(str(path)),
        "http_version": version,
        "status": status,
    }


class _RedactAccess(logging.Filter):
    """The same redaction for plain-text access lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            args = list(record.args)
            args[2] = redact(str(args[2]))
            record.args = tuple(args)
        return True


def check(fmt: str, level: str) -> tuple[str, str]:
    fmt, level = fmt.lower(), level.upper()
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log_format {fmt!r}: use {' or '.join(LOG_FORMATS)}")
    if level not in LOG_LEVELS:
        raise ValueError(f"log_level {level!r}: use one of {', '.join(LOG_LEVELS)}")
    return fmt, level


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes (a test runner may swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure(fmt: str = "text", level: str = "INFO") -> None:
    """Send every log record (root, uvicorn's) to stderr in the chosen format. Calling it
    again replaces its own handler and leaves other handlers alone."""
    fmt, level = check(fmt, level)
    handler = _StderrHandler()
    handler.setFormatter(JSONFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactAccess) for f in access.filters):
        access.addFilter(_RedactAccess())


def uvicorn_log_config() -> dict[str, Any]:
    """A log config for uvicorn.run that leaves its loggers to `configure`."""
    return {"version": 1, "disable_existing_loggers": False}
