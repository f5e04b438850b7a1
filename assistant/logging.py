"""Structured logging: dotted event names (``chat.turn.completed``) with key/value fields, one JSON object
per line, personal data masked in every record (:class:`assistant.privacy.PIIMaskingFilter`), and session ids
replaced by keyed hashes (:func:`session_ref`).

Usage::

    from assistant.logging import get_logger, log_event
    log = get_logger(__name__)
    log_event(log, "chat.turn.completed", session="s1", ms=42)   # logged as session="s-…" (a keyed hash)

A session id is what lets someone read or continue a conversation, so it never reaches a log line: every
``log_event`` field named in :data:`SESSION_FIELDS` is replaced by :func:`session_ref` of its value (HMAC-SHA256
with the pseudonym key, ``settings.pseudonym_key`` set by :func:`set_pseudonym_key`). The same id gives the same
reference, so one conversation can still be followed through the logs; staff who have an id compute its
reference with ``jinxiaoer session-ref <id>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import sys
import time
from typing import Any

from assistant.privacy import PIIMaskingFilter

__all__ = ["configure_logging", "get_logger", "log_event", "JsonFormatter", "pseudonym", "session_ref",
           "set_pseudonym_key", "SESSION_FIELDS"]

#: ``log_event`` fields that carry a session id (``sender`` is Rasa's name for it); logged as :func:`session_ref`.
SESSION_FIELDS = frozenset({"session", "session_id", "sender"})

_pseudonym_key: bytes = secrets.token_bytes(32)


def set_pseudonym_key(key: str | bytes | None) -> None:
    """Use ``key`` for :func:`pseudonym` from now on (``create_app`` passes ``settings.pseudonym_key``).

    Args:
        key: the secret; empty or ``None`` keeps this process's random key.
    """
    global _pseudonym_key
    if key:
        _pseudonym_key = key.encode("utf-8") if isinstance(key, str) else bytes(key)


def pseudonym(value: str, kind: str = "s") -> str:
    """A keyed hash standing for ``value`` (a session id, an OpenID, a client address).

    Args:
        value: what must not be written down.
        kind: a short tag of what it stands for (``s`` session, ``o`` OpenID, ``c`` client); values of different
            kinds never share a hash.

    Returns:
        ``"<kind>-"`` + 13 base32 characters (65 bits of HMAC-SHA256 with the pseudonym key): the same value gives
        the same reference, and without the key it cannot be turned back into the value or checked against a guess.
    """
    digest = hmac.new(_pseudonym_key, f"{kind}:{value}".encode("utf-8"), hashlib.sha256).digest()
    return f"{kind}-" + base64.b32encode(digest[:10]).decode("ascii").lower()[:13]


def session_ref(session_id: str | None) -> str | None:
    """What the logs say instead of the session id ``session_id`` (``None`` stays ``None``)."""
    return pseudonym(session_id, "s") if isinstance(session_id, str) and session_id else session_id

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
        **fields: key/value context; strings are masked for personal data before any handler sees them, and
            the fields of :data:`SESSION_FIELDS` are replaced by :func:`session_ref`.
    """
    if not isinstance(level, int) or isinstance(level, bool):
        fields = {"level": level, **fields}
        level = logging.INFO
    if logger.isEnabledFor(level):
        for name in SESSION_FIELDS.intersection(fields):
            fields[name] = session_ref(fields[name])
        suffix = " ".join(f"{k}={v}" for k, v in fields.items())
        logger.log(level, f"{event} {suffix}".strip(), extra={"event": event, "fields": fields})
