"""Reply parts: the contract between the dialogue and the channels (``docs/architecture.md``, "Contracts").

``text``, ``notice``, ``matter_card``, ``checklist``, ``buttons``, ``handoff``, ``staff``. The builders here
are the only place a part's shape is written; button payloads use the NLU's payload syntax
(:func:`nlu.payload.build_payload`).
"""

from __future__ import annotations

from typing import Any

from nlu.payload import build_payload

PART_TYPES = {"text", "notice", "matter_card", "checklist", "buttons", "handoff", "staff"}

__all__ = ["PART_TYPES", "payload", "text", "notice", "buttons", "matter_card_part", "checklist_part",
           "sanitize_part", "part_summary"]


def payload(intent: str, matter_code: str | None = None) -> str:
    """A button payload for ``intent`` (with the ``matter`` entity when ``matter_code`` is given)."""
    return build_payload(intent, {"matter": matter_code} if matter_code else None)


def text(t: str) -> dict[str, Any]:
    """A ``text`` part."""
    return {"type": "text", "text": t}


def notice(t: str) -> dict[str, Any]:
    """A ``notice`` part (shown apart from the answer: reduced mode, unverified guide, text cut …)."""
    return {"type": "notice", "text": t}


def buttons(items: list[tuple[str, str]]) -> dict[str, Any]:
    """A ``buttons`` part from ``(title, payload)`` pairs."""
    return {"type": "buttons", "buttons": [{"title": t, "payload": p} for t, p in items]}


def matter_card_part(m: Any) -> dict[str, Any]:
    """The ``matter_card`` part for a ``knowledge.schema.Matter``."""
    place = m.places[0] if getattr(m, "places", None) else None
    return {"type": "matter_card", "matter": {
        "code": m.code, "name": m.name, "department": m.department, "matter_type": m.matter_type,
        "place": (f"{place.name}（{place.window}）" if place.window else place.name) if place else "",
        "address": place.address if place else "",
        "hours": place.hours if place else "", "promised_time_limit": m.promised_time_limit,
        "legal_time_limit": m.legal_time_limit, "fee": m.fee, "online_link": m.online_link,
        "consult_phone": m.consult_phone or (place.phone if place else ""), "verified": bool(m.verified),
        "level": m.level,
    }}


def checklist_part(m: Any) -> dict[str, Any]:
    """The ``checklist`` part (材料清单) for a ``knowledge.schema.Matter``."""
    return {"type": "checklist", "matter": {"code": m.code, "name": m.name}, "items": [
        {"name": x.name, "form": x.form, "copies": x.copies, "requirement": x.requirement, "note": x.note}
        for x in m.materials]}


def sanitize_part(part: Any) -> dict[str, Any] | None:
    """``part`` when it is a well-formed reply part (buttons cleaned), else ``None``."""
    if not isinstance(part, dict) or part.get("type") not in PART_TYPES:
        return None
    t = part["type"]
    if t in {"text", "notice", "staff"} and not isinstance(part.get("text"), str):
        return None
    if t == "buttons":
        items = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                 for b in part.get("buttons") or [] if isinstance(b, dict) and b.get("title")]
        return {"type": "buttons", "buttons": items} if items else None
    if t in {"matter_card", "checklist"} and not isinstance(part.get("matter"), dict):
        return None
    if t == "handoff" and not isinstance(part.get("ticket"), dict):
        return None
    return part


def part_summary(part: dict[str, Any]) -> str:
    """One line for a transcript: the text of text parts, a bracketed label for the others."""
    t = part.get("type")
    if t in {"text", "notice", "staff"}:
        return str(part.get("text", ""))
    if t == "matter_card":
        return f"[事项] {(part.get('matter') or {}).get('name', '')}"
    if t == "checklist":
        return f"[材料清单] {(part.get('matter') or {}).get('name', '')}"
    if t == "buttons":
        return "[按钮] " + " / ".join(str(b.get("title", "")) for b in part.get("buttons") or [])
    if t == "handoff":
        return f"[转人工] 工单 {(part.get('ticket') or {}).get('id', '')}"
    return ""
