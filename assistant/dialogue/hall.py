"""Steps for the hall's own questions and for complaints.

* ``action_hall_answer``: opening hours, lunch break, weekend/holiday and 延时 service, address, metro/bus,
  parking, 取号/预约, 帮办代办, 24 h self-service, mail-back, accessibility, phone — for the hall the message names,
  else the district hall (with a pointer to the street centres). Answers come from ``knowledge/data/halls.yml``
  (``knowledge.hall_questions``), marked 待核实 while unverified.
* ``action_complaint``: 12345 and 好差评, with a button that registers the complaint with a helper.
* ``action_complaint_ticket``: a ticket tagged ``complaint``.
"""

from __future__ import annotations

from assistant.dialogue.context import StepContext, step
from assistant.dialogue.matter import offer_help, open_ticket
from assistant.dialogue.replies import human_button, say
from assistant.dialogue.understand import halls
from assistant.logging import get_logger, log_event
from assistant.parts import buttons, payload
from knowledge.hall_questions import HallTopic, answer_text

log = get_logger(__name__)


@step("action_hall_answer")
def hall_answer(ctx: StepContext) -> None:
    """A question about a hall itself."""
    directory = halls()
    topic_value = next(iter(ctx.tracker.entity_values("hall_topic")), "")
    try:
        topic = HallTopic(topic_value)
    except ValueError:
        topic = HallTopic.HOURS
    if directory is None:
        ctx.text(say("hall.unknown"))
        ctx.reply(buttons([human_button()]))
        return
    hall_id = next(iter(ctx.tracker.entity_values("hall")), "")
    hall = directory.get(hall_id) if hall_id else None
    named = hall is not None
    hall = hall or directory.district()
    ctx.text(answer_text(topic, hall))
    told = bool(ctx.tracker.get_slot("hall_topic"))  # (a hall question answered before in this conversation)
    ctx.set_slot("hall_topic", topic.value)
    ctx.set_slot("last_hall", hall.id if named else "")
    if not named and not told:
        ctx.text(say("hall.street_centres"))  # (once: it is not said again after every hall answer)
    message = ctx.tracker.latest_message
    if topic is HallTopic.PROXY and not (message.get("cannot_come") or message.get("needs_a_hand")):
        # («有没有人帮我弄»: the 金帮办's service told, and the button that asks one now, for the conversation's matter)
        ctx.reply(buttons([(say("button.proxy"), payload("request_human", ctx.state.matter_code))]))
    offer_help(ctx)  # «我爸走不动了» answered with the hall's accessibility, and 上门办 / 代办 offered
    log_event(log, "dialogue.hall.answered", session=ctx.tracker.sender_id, topic=topic.value, hall=hall.id)


@step("action_complaint")
def complaint(ctx: StepContext) -> None:
    """A complaint: where it is handled, and the offer to register it with a helper now (more of it, told right
    after — «窗口人员让我跑了三趟» — is acknowledged, not answered with the channels again)."""
    detail = ctx.tracker.latest_message.get("interpreted") == "complaint_detail"
    ctx.text(say("complaint.detail" if detail else "complaint.channels"))
    ctx.reply(buttons([(say("button.complaint_ticket"), payload("complain_ticket"))]))


@step("action_complaint_ticket")
async def complaint_ticket(ctx: StepContext) -> None:
    """Register the complaint with a helper (a ticket tagged ``complaint``)."""
    await open_ticket(ctx, "complaint", say("complaint.registered"))
