"""Rasa's custom-action protocol, served by the app: ``POST /actions/webhook``.

Rasa posts ``{"next_action", "sender_id", "tracker", "domain", "version"}`` and expects
``{"events": [...], "responses": [...]}``; an action this server does not know is answered with 404
``{"error", "action_name"}`` (Rasa then reports the missing action instead of guessing).

Actions live in their own modules under ``assistant/actions/`` (``matter.py`` for the spine; a later feature adds
``<feature>.py``) and register themselves with the :func:`action` decorator; every module in the package is
imported when this one is, so adding a file is all a feature needs to do. An action is a function (sync or async)
taking an :class:`ActionContext`; it answers through ``ctx.reply(part)`` (a reply part of
``docs/architecture.md``, sent as a Rasa ``custom`` payload) and changes slots with ``ctx.set_slot``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request

from assistant.api.deps import ApiError, require_internal
from fastapi.responses import JSONResponse

from assistant.logging import get_logger, log_event

__all__ = ["router", "action", "ActionContext", "Tracker", "registered_actions", "load_action_modules"]

log = get_logger(__name__)
router = APIRouter(tags=["rasa-actions"])

ActionFn = Callable[["ActionContext"], Awaitable[None] | None]
_REGISTRY: dict[str, ActionFn] = {}

#: Said when an action fails unexpectedly (the turn still gets an answer, never a 500 to Rasa).
TEXT_ACTION_FAILED = "抱歉，金小二这边出了点问题，暂时答不上来。您可以稍后再问，或者点「转人工」找金帮办专员。"


def action(name: str) -> Callable[[ActionFn], ActionFn]:
    """Register a custom action under ``name`` (the name listed in ``domain/*.yml`` ``actions:``).

    Args:
        name: the Rasa action name, e.g. ``"action_matter_answer"``.

    Raises:
        ValueError: another function already registered that name.
    """
    def deco(fn: ActionFn) -> ActionFn:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not fn and \
                (existing.__module__, existing.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"custom action {name!r} is registered twice ({existing.__module__}, {fn.__module__})")
        _REGISTRY[name] = fn
        return fn
    return deco


def registered_actions() -> list[str]:
    """The names of every registered action, sorted."""
    return sorted(_REGISTRY)


def load_action_modules() -> None:
    """Import every module of ``assistant.actions`` (each registers its actions on import)."""
    import assistant.actions as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name != "server" and not mod.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{mod.name}")


# --- the tracker as actions see it -------------------------------------------------------------------------------

class Tracker:
    """Read access to the tracker Rasa sends with every action call.

    Attributes:
        sender_id: the conversation id.
        slots: slot name → value.
        latest_message: the parse of the last user message (``text``, ``intent``, ``entities``, plus what the app's
            NLU added: ``matters``, ``ambiguous``, ``out_of_scope``; ``metadata`` as the channel sent it).
        events: every event of the conversation so far (dicts, oldest first).
    """

    def __init__(self, sender_id: str, state: dict[str, Any]):
        """Args:
            sender_id: the conversation id.
            state: the ``tracker`` object of the request.
        """
        self.sender_id = sender_id
        self.slots: dict[str, Any] = dict(state.get("slots") or {})
        self.latest_message: dict[str, Any] = dict(state.get("latest_message") or {})
        self.events: list[dict[str, Any]] = [e for e in state.get("events") or [] if isinstance(e, dict)]

    def get_slot(self, name: str) -> Any:
        """The value of slot ``name`` (``None`` when unset or unknown)."""
        return self.slots.get(name)

    @property
    def text(self) -> str:
        """The last user message's text."""
        return str(self.latest_message.get("text") or "")

    @property
    def intent(self) -> str:
        """The last user message's intent name (``""`` when the NLU gave none)."""
        return str((self.latest_message.get("intent") or {}).get("name") or "")

    def entity_values(self, entity: str) -> list[str]:
        """Values of ``entity`` in the last user message, in order, without repeats."""
        out: list[str] = []
        for e in self.latest_message.get("entities") or []:
            if isinstance(e, dict) and e.get("entity") == entity and e.get("value") not in (None, ""):
                v = str(e["value"])
                if v not in out:
                    out.append(v)
        return out

    @property
    def metadata(self) -> dict[str, Any]:
        """The metadata the channel sent with the last user message (the app puts ``channel`` there)."""
        meta = self.latest_message.get("metadata")
        if isinstance(meta, dict) and meta:
            return meta
        for e in reversed(self.events):
            if e.get("event") == "user":
                md = e.get("metadata")
                return md if isinstance(md, dict) else {}
        return {}

    @property
    def channel(self) -> str:
        """The citizen's channel (``web``, ``kiosk``, ``wechat`` …; ``web`` when unknown)."""
        return str(self.metadata.get("channel") or "web")


@dataclass
class ActionContext:
    """One action call: what Rasa sent, the app's services, and the answer being built.

    Attributes:
        name: the action Rasa asked for.
        tracker: the conversation (see :class:`Tracker`).
        domain: the domain Rasa sent (may be empty).
        services: the app's ``assistant.container.Services`` (``kb``, ``nlu``, ``handoffs`` …).
        events: events to return (slot changes …).
        responses: messages to return (``{"custom": <reply part>}``).
    """

    name: str
    tracker: Tracker
    domain: dict[str, Any]
    services: Any
    events: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)

    def reply(self, part: dict[str, Any]) -> None:
        """Send one reply part (``{"type": "text" | "matter_card" | "checklist" | "buttons" | "handoff" …}``)."""
        self.responses.append({"custom": part})

    def text(self, text: str) -> None:
        """Send a ``text`` reply part."""
        self.reply({"type": "text", "text": text})

    def set_slot(self, name: str, value: Any) -> None:
        """Set slot ``name`` to ``value`` (``None`` resets it)."""
        self.events.append({"event": "slot", "name": name, "value": value, "timestamp": time.time()})

    def result(self) -> dict[str, Any]:
        """The protocol answer ``{"events", "responses"}``."""
        return {"events": self.events, "responses": self.responses}


def iso_time(ts: Any) -> str:
    """An event timestamp (seconds since the epoch) as ISO 8601 UTC, ``""`` when absent."""
    try:
        return datetime.fromtimestamp(float(ts), tz=timezone.utc).isoformat(timespec="seconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


# --- the endpoint --------------------------------------------------------------------------------------------------

def _bad_request(message: str, action_name: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "action_name": action_name}, status_code=400)


@router.post("/actions/webhook")
async def webhook(request: Request) -> JSONResponse:
    """Run the custom action Rasa asks for (Rasa's action-server protocol)."""
    try:
        require_internal(request, request.query_params.get("token"))
    except ApiError as exc:
        return JSONResponse({"error": exc.detail["message"], "action_name": None}, status_code=exc.status_code)
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return _bad_request("the body is not valid JSON")
    if not isinstance(body, dict):
        return _bad_request("the body must be a JSON object with next_action, sender_id and tracker")
    name = body.get("next_action")
    if not isinstance(name, str) or not name:
        return _bad_request("next_action (the action name) is required")
    fn = _REGISTRY.get(name)
    if fn is None:
        log_event(log, "actions.unknown", action=name)
        return JSONResponse({"error": f"No registered action found for name '{name}'.", "action_name": name},
                            status_code=404)
    tracker_state = body.get("tracker")
    tracker_state = {} if tracker_state is None else tracker_state
    if not isinstance(tracker_state, dict):
        return _bad_request("tracker must be a JSON object", name)
    sender = str(body.get("sender_id") or tracker_state.get("sender_id") or "")
    domain = body.get("domain") if isinstance(body.get("domain"), dict) else {}
    services = getattr(request.app.state, "services", None)
    ctx = ActionContext(name=name, tracker=Tracker(sender, tracker_state), domain=domain, services=services)
    t0 = time.perf_counter()
    try:
        out = fn(ctx)
        if inspect.isawaitable(out):
            await out
    except Exception:  # an action bug must not lose the citizen's turn
        log.exception("actions.failed", extra={"event": "actions.failed", "fields": {"action": name}})
        ctx = ActionContext(name=name, tracker=ctx.tracker, domain=domain, services=services)
        ctx.text(TEXT_ACTION_FAILED)
        ctx.reply({"type": "buttons", "buttons": [{"title": "转人工", "payload": "/request_human"}]})
    log_event(log, "actions.completed", action=name, session=sender, events=len(ctx.events),
              responses=len(ctx.responses), ms=round((time.perf_counter() - t0) * 1000, 1))
    return JSONResponse(ctx.result())


@router.get("/actions")
async def list_actions() -> dict[str, Any]:
    """The registered custom actions (as rasa-sdk's ``/actions``)."""
    return {"actions": [{"name": n} for n in registered_actions()]}


load_action_modules()
