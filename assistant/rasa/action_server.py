"""Rasa's custom-action protocol, served by the app: ``POST /actions/webhook``.

Rasa posts ``{"next_action", "sender_id", "tracker", "domain", "version"}`` and expects
``{"events": [...], "responses": [...]}``; an action this server does not know is answered with 404
``{"error", "action_name"}`` (Rasa then reports the missing action instead of guessing).

This module only speaks the protocol: every action is a dialogue step (``assistant.dialogue``), run by
:func:`assistant.dialogue.context.run_step` — the same function the degraded path uses when Rasa is down.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from assistant.api.deps import ApiError, require_internal
from assistant.dialogue.context import get_step, registered_steps, run_step
from assistant.logging import get_logger, log_event

__all__ = ["router"]

log = get_logger(__name__)
router = APIRouter(tags=["rasa-actions"])


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
    if get_step(name) is None:
        log_event(log, "actions.unknown", action=name)
        return JSONResponse({"error": f"No registered action found for name '{name}'.", "action_name": name},
                            status_code=404)
    tracker_state = body.get("tracker")
    tracker_state = {} if tracker_state is None else tracker_state
    if not isinstance(tracker_state, dict):
        return _bad_request("tracker must be a JSON object", name)
    sender = str(body.get("sender_id") or tracker_state.get("sender_id") or "")
    ctx = await run_step(name, sender, tracker_state, getattr(request.app.state, "services", None))
    return JSONResponse(ctx.result())


@router.get("/actions")
async def list_actions() -> dict[str, Any]:
    """The registered custom actions (as rasa-sdk's ``/actions``)."""
    return {"actions": [{"name": n} for n in registered_steps()]}
