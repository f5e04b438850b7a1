"""Structured logging: dotted event names (``chat.turn.completed``) with key/value fields, one JSON object
per line, personal data masked in every record (:class:`assistant.privacy.PIIMaskingFilter`).

Usage::

    from assistant.logging import get_logger, log_event
    log = get_logger(__name__)
    log_event(log, "chat.turn.completed", session="s1", ms=42)
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from assistant.privacy import PIIMaskingFilter

__all__ = ["configure_logging", "get_logger", "log_event", "JsonFormatter"]

_CONFIGURED_MARK = "_jxe_handler"


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: ``{"ts", "level", "logger", "event", ...fields}``."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "event", None) or record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for k, v in fields.items():
                payload[k if k not in payload else f"field_{k}"] = v
        if record.exc_info or record.exc_text:
            payload["exc"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Install one JSON handler with PII masking on the root logger (idempotent).

    Args:
        level: the root level name (``"INFO"``, ``"DEBUG"`` …), usually ``settings.log_level``.
        stream: where to write; standard error when ``None``.
    """
    root = logging.getLogger()
    root.setLevel(level.upper())
    # one line per outgoing HTTP call (Rasa turns, health probes, WeChat) is noise at INFO: the app logs its own
    # events for those calls; problems still show as warnings
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    install_masking_everywhere()
    for h in root.handlers:
        if getattr(h, _CONFIGURED_MARK, False):
            return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PIIMaskingFilter())
    setattr(handler, _CONFIGURED_MARK, True)
    root.addHandler(handler)
    # Let uvicorn's loggers reach our handler (and its masking) instead of their own.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True


def install_masking_everywhere() -> None:
    """Attach the masking filter to every handler on the root logger that lacks it (e.g. pytest's)."""
    for h in logging.getLogger().handlers:
        if not any(isinstance(f, PIIMaskingFilter) for f in h.filters):
            h.addFilter(PIIMaskingFilter())


def get_logger(name: str) -> logging.Logger:
    """The standard logger ``name`` (a thin alias so callers import one module)."""
    return logging.getLogger(name)


def log_event(logger: logging.Logger, event: str, level: Any = logging.INFO, **fields: Any) -> None:
    """Log a structured event.

    Args:
        logger: the module's logger.
        event: the dotted event name, e.g. ``"handoff.ticket.created"``.
        level: a ``logging`` level number; any other value (e.g. a handoff level ``"区政务大厅"``) is logged as
            the field ``level`` at INFO.
        **fields: key/value context; strings are masked for personal data before any handler sees them.
    """
    if not isinstance(level, int) or isinstance(level, bool):
        fields = {"level": level, **fields}
        level = logging.INFO
    if logger.isEnabledFor(level):
        suffix = " ".join(f"{k}={v}" for k, v in fields.items())
        logger.log(level, f"{event} {suffix}".strip(), extra={"event": event, "fields": fields})
