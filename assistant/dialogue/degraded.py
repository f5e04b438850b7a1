"""A turn without Rasa (unreachable, timing out, or its circuit open): the same steps, the same texts.

The message is understood by the same NLU call Rasa would make (:func:`assistant.dialogue.understand.understand`),
the step is chosen by the same rule table Rasa follows (:mod:`assistant.dialogue.rules`), and the step runs with
the same conversation memory (:func:`assistant.dialogue.context.run_step`). Only two things differ: the answer
starts with a ``notice`` part saying the assistant is in a reduced mode, and forms (which need Rasa to keep
their slots) say that booking is briefly unavailable and offer 转人工.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from assistant.dialogue.context import get_step, run_step
from assistant.dialogue.replies import human_button, say
from assistant.parts import buttons, notice, text
from assistant.dialogue.rules import load_rules
from assistant.dialogue.state import DialogueState
from assistant.dialogue.understand import understand
from assistant.logging import get_logger, log_event

log = get_logger(__name__)


async def degraded_turn(services: Any, session_id: str, message: str, metadata: dict[str, Any], *,
                        with_notice: bool = True) -> tuple[list[dict[str, Any]], str]:
    """Answer one message without Rasa.

    Args:
        services: the app's services.
        session_id: the conversation id.
        message: the normalised message text (or a button payload).
        metadata: what Rasa would have stored with the message (``channel``, ``turn_id`` …).
        with_notice: start the answer with the reduced-mode notice.

    Returns:
        ``(reply parts, intent name)``.
    """
    lead = [notice(say("notice.degraded"))] if with_notice else []
    parse = await understand(services, message, session_id, metadata=metadata)
    intent = parse["intent"]["name"]
    if parse.get("error") == "nlu_not_ready":
        return lead + [notice(say("notice.loading")), buttons([human_button()])], ""
    rules = load_rules(services.settings.rasa_project_dir.resolve())
    state = DialogueState()
    if getattr(services, "states", None) is not None:
        try:
            state = await run_in_threadpool(services.states.load, session_id)
        except Exception:
            log.exception("dialogue.state.load_failed")
    if intent in rules.forms or state.form:
        log_event(log, "dialogue.degraded.form_unavailable", session=session_id, intent=intent, form=state.form)
        return lead + [text(say("notice.form_unavailable")), buttons([human_button(state.matter_code)])], intent
    name = rules.step_for(intent)
    if get_step(name) is None:
        name = rules.fallback_step
    tracker = {"latest_message": {**parse, "metadata": dict(metadata)}, "slots": {}, "events": [],
               "active_loop": None}
    ctx = await run_step(name, session_id, tracker, services, degraded=True)
    return lead + ctx.parts, intent
