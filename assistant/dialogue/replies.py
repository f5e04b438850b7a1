"""The dialogue's texts: ``say(key, **values)`` reads ``replies.yml`` (loaded once) and fills its placeholders.

Every text a citizen reads from the dialogue comes from that one file, whichever path answered the turn (Rasa's
custom actions or the degraded path), so the wording cannot drift between them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from assistant.parts import payload

REPLIES_FILE = Path(__file__).with_name("replies.yml")


@lru_cache(maxsize=1)
def texts() -> dict[str, str]:
    """Every text by key, as written in ``replies.yml``."""
    data = yaml.safe_load(REPLIES_FILE.read_text(encoding="utf-8")) or {}
    out = data.get("texts") or {}
    if not isinstance(out, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in out.items()):
        raise ValueError(f"{REPLIES_FILE}: 'texts' must map keys to strings")
    return out


def say(key: str, **values: object) -> str:
    """The text ``key`` with its ``{placeholders}`` filled from ``values``.

    Raises:
        KeyError: ``replies.yml`` has no such key (a programming error, caught by the tests).
    """
    text = texts()[key]
    return text.format(**values) if values else text


def human_button(matter_code: str | None = None) -> tuple[str, str]:
    """The 转人工 button ``(title, payload)``, carrying the matter when there is one (the ticket is routed by it)."""
    return say("button.human"), payload("request_human", matter_code)
