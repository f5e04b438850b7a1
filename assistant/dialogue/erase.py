"""«删除我的记录»: a citizen erases what 金小二 keeps of their conversation, after saying yes to a question.

``erase_my_data`` (typed or said words, :mod:`assistant.dialogue.interpret`; or the payload ``/erase_my_data``)
asks first, with two buttons; ``erase_confirm`` right after that question marks the conversation for erasure
(:attr:`DialogueState.erase`), and the chat turn erases it once the turn is over (``assistant/chat.py`` with
:func:`assistant.db.retention.erase_session`), so nothing of the erasing turn stays either. ``erase_cancel``
keeps everything. One step answers all three, the same on the Rasa path and the degraded path.
"""

from __future__ import annotations

from assistant.dialogue.context import StepContext, step
from assistant.dialogue.replies import say
from assistant.logging import get_logger, log_event
from assistant.parts import buttons

log = get_logger(__name__)

#: The button payloads of the erase question.
CONFIRM, CANCEL = "/erase_confirm", "/erase_cancel"


def _ask(ctx: StepContext) -> None:
    ctx.text(say("erase.ask"))
    ctx.reply(buttons([(say("erase.button.confirm"), CONFIRM), (say("erase.button.cancel"), CANCEL)]))


@step("action_erase")
def action_erase(ctx: StepContext) -> None:
    """Ask before erasing; erase on «是» right after the question; keep everything on «不»."""
    intent = ctx.tracker.intent
    if intent == "erase_cancel":
        ctx.text(say("erase.kept"))
        return
    # ``ctx.state.last_intent`` is still the previous turn's: a confirmation counts only right after the question
    if intent == "erase_confirm" and ctx.state.last_intent == "erase_my_data":
        ctx.state.erase = True
        ctx.text(say("erase.done"))
        log_event(log, "dialogue.erase.confirmed", session=ctx.tracker.sender_id, degraded=ctx.degraded)
        return
    _ask(ctx)
