"""The conversation's memory that the dialogue steps read and change, kept in the app's database.

:class:`DialogueState` is small on purpose: the matter the conversation is about, the candidates last offered
(in their order), the failed-turn streak, the open ticket, the form in progress, and a few pre-service facts.
Rasa keeps only the slots of its forms; everything here lives in ``dialogue_states`` so that any replica — and
the degraded path when Rasa is unreachable — continues the same conversation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sqlalchemy import select

from assistant.db.base import utcnow
from assistant.db.chat import DialogueStateRow
from assistant.db.session import upsert_statement
from assistant.privacy import mask_name, mask_pii

#: State fields the dialogue steps read and write as slots (``ctx.tracker.get_slot`` / ``ctx.set_slot``).
MEMORY_SLOTS = ("matter_code", "matter_name", "candidates", "offered_before", "fallback_streak", "handoff_ticket",
                "last_booking", "firm_facts", "topic_text", "topic_matters", "hall_topic", "last_hall")
#: Memory slots holding lists of matter codes.
_LIST_SLOTS = ("candidates", "offered_before", "topic_matters")
#: Form slots whose values are personal data: Rasa gets them masked (:func:`mask_slot`), the raw value stays in
#: :attr:`DialogueState.form_values` until the form ends.
PERSONAL_SLOTS = ("visit_person", "visit_phone", "visit_address", "licence_number", "licence_holder",
                  "licence_channel")
#: Of those, the ones that are personal as a whole (a name, a number): masked character by character.
_WHOLE_SLOTS = ("visit_person", "licence_holder", "licence_number")


def mask_slot(name: str, value: Any) -> Any:
    """What Rasa's tracker may keep of a personal slot's value (``None`` stays ``None``)."""
    if value is None or name not in PERSONAL_SLOTS:
        return value
    return mask_name(str(value)) if name in _WHOLE_SLOTS else mask_pii(str(value))


def mask_for_rasa(text: str, in_form: bool) -> str:
    """The user text Rasa is sent (and keeps in its tracker): masked with :func:`assistant.privacy.mask_pii`;
    inside a form, where any answer may be a name or a number, masked as a whole (button payloads excepted)."""
    if text.startswith("/"):
        return mask_pii(text)
    return mask_name(text) if in_form else mask_pii(text)


@dataclass
class DialogueState:
    """What the dialogue remembers of a conversation.

    Attributes:
        matter_code: catalogue code of the matter the conversation is about.
        matter_name: its name.
        candidates: codes offered in the last clarification, in the order shown.
        offered_before: the options the current matter was picked from, in the order shown, for a correction of the
            pick («不对，是第一个»).
        fallback_streak: failed turns in a row (at 2 a human helper takes over).
        handoff_ticket: id of the conversation's last human-helper ticket.
        last_booking: the last home-visit booking number of this conversation.
        firm_facts: what a firm said about itself (industry, size …) for the policy handbook.
        topic_text: the question that brought up the current matter (masked), to re-read a later detail with it.
        topic_matters: other matters that question named as much as the current one («优待证咋办»: 退役军人优待证
            and 老年人优待证), which a later detail («我爸70了») may choose; after a detail moved the conversation
            on, with the matter it moved from («在外地看病 → 医保能报不»: the 备案 one, for «要备案吗»).
        hall_topic: the hall topic last answered («几点开门» → hours), for «那营门口街道的呢».
        said_before: the last message answered as small talk, out of scope, not understood or with the policy list
            (masked; set by :func:`assistant.dialogue.context.run_step`), to read a
            question that follows it («我想养条狗», then «要办啥子证») together with it; after two such messages in
            a row, both, one per line.
        last_hall: the id of the hall last answered about when the message named it (``knowledge/data/halls.yml``),
            for «几点下班» after «营门口街道便民服务中心在哪».
        cannot_come: the person (or the relative they ask for) may not be able to come to the hall — a disability
            or a great age told, or said outright: 上门办 and 帮办代办 are offered with each matter after
            («那帮我约一个» books the visit).
        said_cannot_come: … said outright («瘫痪在床», «走不动»), which the offers after say back.
        form: the Rasa form in progress (``None`` when none).
        last_intent: the intent of the last turn a dialogue step answered.
        turn_id: the id of that turn (the chat service compares it with the turn it sent).
        erase: the citizen confirmed «删除我的记录» in that turn: the chat service erases the conversation after it.
        form_values: the personal answers of the form in progress (name, phone, address, licence number and
            holder, contact) as given; Rasa's slots hold only masked values (:data:`PERSONAL_SLOTS`). Emptied when
            the form ends (submitted or dropped) — the booking or licence row keeps what it needs.
        pending_turn: the turn whose text Rasa was sent masked …
        pending_text: … and that text as the citizen wrote it, for the NLU and the steps of that turn only (the
            chat service empties it when the turn is over).
    """

    matter_code: str | None = None
    matter_name: str | None = None
    candidates: list[str] = field(default_factory=list)
    offered_before: list[str] = field(default_factory=list)
    fallback_streak: int = 0
    handoff_ticket: str | None = None
    last_booking: str | None = None
    firm_facts: dict[str, Any] | None = None
    topic_text: str = ""
    topic_matters: list[str] = field(default_factory=list)
    hall_topic: str = ""
    last_hall: str = ""
    cannot_come: bool = False
    said_cannot_come: bool = False
    said_before: str = ""
    form: str | None = None
    last_intent: str = ""
    turn_id: str = ""
    erase: bool = False
    form_values: dict[str, Any] = field(default_factory=dict)
    pending_turn: str = ""
    pending_text: str = ""

    @classmethod
    def from_dict(cls, data: Any) -> "DialogueState":
        """A state from its stored JSON (unknown keys ignored, bad values reset)."""
        data = data if isinstance(data, dict) else {}
        known = {f.name for f in fields(cls)}
        state = cls(**{k: v for k, v in data.items() if k in known})
        for name in _LIST_SLOTS:
            value = getattr(state, name)
            setattr(state, name, [str(c) for c in value] if isinstance(value, list) else [])
        state.form_values = dict(state.form_values) if isinstance(state.form_values, dict) else {}
        try:
            state.fallback_streak = max(0, int(state.fallback_streak or 0))
        except (TypeError, ValueError):
            state.fallback_streak = 0
        return state

    def to_dict(self) -> dict[str, Any]:
        """The JSON stored for this state."""
        return asdict(self)

    def slot(self, name: str) -> Any:
        """A memory slot's value (see :data:`MEMORY_SLOTS`)."""
        return getattr(self, name)

    def set_slot(self, name: str, value: Any) -> None:
        """Set a memory slot (``None`` resets it to its default)."""
        if value is None:
            default = DialogueState()
            value = getattr(default, name)
        if name == "fallback_streak":
            value = int(float(value or 0))
        if name in _LIST_SLOTS:
            value = [str(c) for c in value or []]
        setattr(self, name, value)

    @property
    def matter(self) -> dict[str, str] | None:
        """``{"code", "name"}`` of the current matter, or ``None``."""
        return {"code": self.matter_code, "name": self.matter_name or ""} if self.matter_code else None


class StateStore:
    """Load and save :class:`DialogueState` per conversation.

    Args:
        db: the app database (``assistant.db.session.Database``).
    """

    def __init__(self, db: Any):
        self.db = db

    def load(self, session_id: str) -> DialogueState:
        """The conversation's state (a fresh one for a new conversation)."""
        row = self.db.first(select(DialogueStateRow.state).where(DialogueStateRow.session_id == session_id))
        return DialogueState.from_dict(row[0] if row is not None else None)

    def save(self, session_id: str, state: DialogueState) -> None:
        """Store the conversation's state (the last writer wins; Rasa's lock store orders a conversation's
        turns): one upsert."""
        self.db.run(upsert_statement(self.db.engine.dialect.name, DialogueStateRow,
                                     {"session_id": session_id, "state": state.to_dict(), "updated_at": utcnow()},
                                     keys=("session_id",)))
