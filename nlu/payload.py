"""Button payloads: ``/intent`` or ``/intent{"matter": "<code>"}`` (Rasa's syntax; Rasa passes them to the
external NLU unparsed). Entity values are validated against the KB; malformed JSON is tolerated (the intent is
kept, the entities dropped)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

_PAYLOAD = re.compile(r"^/([A-Za-z_][A-Za-z0-9_]{0,63})(\{.*)?$", re.S)
#: Entities a payload may carry, with a validator of their value.
KNOWN_ENTITIES = ("matter",)


def parse_payload(text: str, intents: set[str], matter_exists: Callable[[str], bool]) -> dict | None:
    """Parse a button payload.

    Args:
        text: the raw message.
        intents: the intent names the NLU knows; another name gives ``None`` (treated as ordinary text).
        matter_exists: ``code -> bool``; a matter code the KB does not know is dropped.

    Returns:
        ``{"intent": name, "entities": {entity: value}}`` or ``None`` when ``text`` is not a payload.
    """
    m = _PAYLOAD.match(text.strip())
    if not m or m.group(1) not in intents:
        return None
    entities: dict[str, str] = {}
    if m.group(2):
        try:
            data = json.loads(m.group(2))
        except ValueError:
            data = {}
        if isinstance(data, dict):
            for key in KNOWN_ENTITIES:
                value = data.get(key)
                if isinstance(value, list) and value:
                    value = value[0]
                if isinstance(value, str) and value and matter_exists(value):
                    entities[key] = value
    return {"intent": m.group(1), "entities": entities}


def build_payload(intent: str, entities: dict[str, str] | None = None) -> str:
    """A button payload: ``/intent`` or ``/intent{"matter": "<code>"}`` (what :func:`parse_payload` reads).

    Args:
        intent: the intent name.
        entities: entity name → value (``None`` values are left out).
    """
    ents = {k: v for k, v in (entities or {}).items() if v is not None}
    return f"/{intent}" + (json.dumps(ents, ensure_ascii=False) if ents else "")


def looks_like_payload(text: str) -> bool:
    """Whether ``text`` has the payload syntax (whatever its intent): such text is never cut or rewritten."""
    return bool(_PAYLOAD.match(text.strip()))


def payload_parse(raw: str, payload: dict, matter_name: Callable[[str], str]) -> dict:
    """The full parse (Rasa's format plus ``matters``/``out_of_scope``/``ambiguous``) of a parsed payload.

    Args:
        raw: the message as sent.
        payload: what :func:`parse_payload` returned for it.
        matter_name: ``code -> name`` of a known matter.
    """
    code = payload["entities"].get("matter")
    matters, entities = [], []
    if code:
        matters = [{"code": code, "name": matter_name(code), "score": 1.0}]
        entities = [{"entity": "matter", "value": code, "start": 0, "end": len(raw), "confidence_entity": 1.0,
                     "extractor": "jxe"}]
    ranked = [{"name": payload["intent"], "confidence": 1.0}]
    return {"text": raw, "intent": ranked[0], "intent_ranking": ranked, "entities": entities, "matters": matters,
            "out_of_scope": payload["intent"] == "out_of_scope", "ambiguous": False}
