"""How a dialogue step sees a turn, and the one function that runs a step: :func:`run_step`.

A step is a function (sync or async) registered under a Rasa action name with :func:`step`. It reads the turn
through :class:`Tracker` (the message's text, intent, entities and the NLU's extra keys, the slots) and answers
through :class:`StepContext` (``reply(part)``, ``text(…)``, ``set_slot(…)``).

:func:`run_step` is shared by both ways a turn is answered:

* Rasa's custom-action call (``assistant.rasa.action_server``) passes Rasa's tracker;
* the degraded path (``assistant.dialogue.degraded``) passes a tracker it builds from the NLU parse.

Either way the conversation's memory (:mod:`assistant.dialogue.state`) is loaded from the app's database,
overlaid on the slots the step sees, and saved after the step, so both paths continue the same conversation.
Slot changes of form slots go back to Rasa as events; memory slots are not Rasa's business.
"""

from __future__ import annotations

import importlib
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from assistant.dialogue.replies import human_button, say
from assistant.dialogue.state import MEMORY_SLOTS, PERSONAL_SLOTS, DialogueState, mask_slot
from assistant.parts import buttons
from assistant.privacy import mask_pii
from assistant.logging import get_logger, log_event

__all__ = ["step", "registered_steps", "Tracker", "StepContext", "run_step", "StepFn"]

log = get_logger(__name__)

#: Steps whose message found no matter (small talk, out of scope, not understood, the policy list): the message is
#: kept (:attr:`DialogueState.said_before`) to read the question after it with it.
UNPLACED_STEPS = {"action_smalltalk", "action_out_of_scope", "action_fallback", "action_policy_list"}

StepFn = Callable[["StepContext"], Awaitable[None] | None]
_REGISTRY: dict[str, StepFn] = {}
#: Modules whose steps register on import.
STEP_MODULES = ("assistant.dialogue.matter", "assistant.dialogue.preservice", "assistant.dialogue.hall",
                "assistant.dialogue.erase")


def step(name: str) -> Callable[[StepFn], StepFn]:
    """Register a dialogue step under the Rasa action name ``name`` (listed in ``domain/*.yml`` ``actions:``).

    Raises:
        ValueError: another function already registered that name.
    """
    def deco(fn: StepFn) -> StepFn:
        existing = _REGISTRY.get(name)
        if existing is not None and (existing.__module__, existing.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"dialogue step {name!r} is registered twice ({existing.__module__}, {fn.__module__})")
        _REGISTRY[name] = fn
        return fn
    return deco


def _load() -> None:
    for mod in STEP_MODULES:
        importlib.import_module(mod)


def registered_steps() -> list[str]:
    """Every registered step name, sorted."""
    _load()
    return sorted(_REGISTRY)


def get_step(name: str) -> StepFn | None:
    """The step registered as ``name``, or ``None``."""
    _load()
    return _REGISTRY.get(name)


class Tracker:
    """Read access to the turn as a step sees it.

    Attributes:
        sender_id: the conversation id.
        slots: slot name → value (Rasa's form slots, overlaid with the conversation's memory).
        latest_message: the parse of the message (``text``, ``intent``, ``entities``, plus the app NLU's
            ``matters``, ``ambiguous``, ``out_of_scope``; ``metadata`` as the channel sent it).
        events: the conversation's events as Rasa sent them (empty on the degraded path).
        active_loop: the form in progress (``None`` when none).
    """

    def __init__(self, sender_id: str, state: dict[str, Any]):
        """Args:
            sender_id: the conversation id.
            state: a Rasa tracker object (``slots``, ``latest_message``, ``events``, ``active_loop``).
        """
        self.sender_id = sender_id
        self.slots: dict[str, Any] = dict(state.get("slots") or {})
        self.latest_message: dict[str, Any] = dict(state.get("latest_message") or {})
        self.events: list[dict[str, Any]] = [e for e in state.get("events") or [] if isinstance(e, dict)]
        loop = state.get("active_loop")
        self.active_loop: str | None = (loop.get("name") if isinstance(loop, dict) else None) or None

    def get_slot(self, name: str) -> Any:
        """The value of slot ``name`` (``None`` when unset or unknown)."""
        return self.slots.get(name)

    @property
    def text(self) -> str:
        """The message's text."""
        return str(self.latest_message.get("text") or "")

    @property
    def intent(self) -> str:
        """The message's intent name (``""`` when the NLU gave none)."""
        return str((self.latest_message.get("intent") or {}).get("name") or "")

    def entity_values(self, entity: str) -> list[str]:
        """Values of ``entity`` in the message, in order, without repeats."""
        out: list[str] = []
        for e in self.latest_message.get("entities") or []:
            if isinstance(e, dict) and e.get("entity") == entity and e.get("value") not in (None, ""):
                v = str(e["value"])
                if v not in out:
                    out.append(v)
        return out

    @property
    def metadata(self) -> dict[str, Any]:
        """What the channel sent with the message (the app puts ``channel`` and ``turn_id`` there)."""
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
        """The citizen's channel (``web``, ``kiosk``, ``wechat_mp`` …; ``web`` when unknown)."""
        return str(self.metadata.get("channel") or "web")


@dataclass
class StepContext:
    """One step run: the turn, the app's services, the conversation's memory and the answer being built.

    Attributes:
        name: the step (Rasa action name).
        tracker: the turn (see :class:`Tracker`).
        services: the app's ``assistant.container.Services``.
        state: the conversation's memory; ``set_slot`` on a memory slot changes it.
        degraded: ``True`` when Rasa is not answering this turn.
        events: slot events for Rasa (form slots).
        responses: the reply parts, as Rasa ``custom`` messages.
    """

    name: str
    tracker: Tracker
    services: Any
    state: DialogueState = field(default_factory=DialogueState)
    degraded: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    #: Memory slots this step set.
    touched: set[str] = field(default_factory=set)
    #: The step placed the message nowhere (it asked which matter): the next message is read with it.
    unplaced: bool = False
    #: What the step answered the message as, when not as the intent understood (a question about one of the
    #: form's own questions, whatever the classifier read it as): the conversation's last intent.
    answered_as: str | None = None

    def reply(self, part: dict[str, Any]) -> None:
        """Send one reply part."""
        self.responses.append({"custom": part})

    def text(self, text: str) -> None:
        """Send a ``text`` part."""
        self.reply({"type": "text", "text": text})

    def set_slot(self, name: str, value: Any) -> None:
        """Set slot ``name`` (``None`` resets it): a memory slot changes :attr:`state`, any other slot goes to
        Rasa as an event. :attr:`tracker` keeps showing the turn as it came in."""
        if name in MEMORY_SLOTS:
            self.touched.add(name)
            self.state.set_slot(name, value)
            return
        if name in PERSONAL_SLOTS:  # the value stays here until the form ends; Rasa keeps it masked
            if value is None:
                self.state.form_values.pop(name, None)
            else:
                self.state.form_values[name] = value
            value = mask_slot(name, value)
        self.events.append({"event": "slot", "name": name, "value": value, "timestamp": time.time()})

    async def take_daily(self, kind: str) -> bool:
        """Count one ``kind`` (``tickets``, ``bookings``) against the daily cap of the client that sent this turn
        (``client_ref`` in the message metadata, set by the channel; none: not capped).

        Returns:
            ``False`` when the client's cap is used up: the step answers politely and does not go ahead.
        """
        limiter = getattr(self.services, "limiter", None)
        if limiter is None:
            return True
        return await limiter.take_daily(kind, self.tracker.metadata.get("client_ref"))

    @property
    def parts(self) -> list[dict[str, Any]]:
        """The reply parts sent so far."""
        return [r["custom"] for r in self.responses]

    def result(self) -> dict[str, Any]:
        """Rasa's action-protocol answer ``{"events", "responses"}``."""
        return {"events": self.events, "responses": self.responses}


def _unmask(tracker: Tracker, state: DialogueState) -> None:
    """Let the step see the turn as the citizen wrote it: Rasa was sent (and keeps) masked text and masked
    personal slots; the text of this turn (:attr:`DialogueState.pending_text`) and the form's personal values
    (:attr:`DialogueState.form_values`) are in the app's database."""
    for slot, value in state.form_values.items():
        tracker.slots[slot] = value
    turn = str(tracker.metadata.get("turn_id") or "")
    if not state.pending_text or not turn or state.pending_turn != turn:
        return
    sent = tracker.text
    tracker.latest_message["text"] = state.pending_text
    requested = tracker.slots.get("requested_slot")
    if requested and tracker.slots.get(requested) == sent:  # Rasa's form took the masked text as the answer
        tracker.slots[requested] = state.pending_text


async def run_step(name: str, sender_id: str, tracker_state: dict[str, Any], services: Any, *,
                   degraded: bool = False) -> StepContext:
    """Run the step ``name`` for one turn with the conversation's memory, and save the memory after it.

    Args:
        name: the step (Rasa action name).
        sender_id: the conversation id.
        tracker_state: a Rasa tracker object (from Rasa, or built by the degraded path).
        services: the app's services (``states`` is the memory store).
        degraded: the turn is answered without Rasa.

    Returns:
        The finished context (reply parts in ``responses``, form-slot events in ``events``). A failing step
        answers with an apology and a 转人工 button instead of raising.

    Raises:
        KeyError: no step is registered as ``name``.
    """
    fn = get_step(name)
    if fn is None:
        raise KeyError(name)
    tracker = Tracker(sender_id, tracker_state)
    states = getattr(services, "states", None)
    state = DialogueState()
    if states is not None and sender_id:
        try:
            state = await run_in_threadpool(states.load, sender_id)
        except Exception:  # the database is down: answer without memory rather than not at all
            log.exception("dialogue.state.load_failed")
    state.erase = False  # only the step of this turn can ask for the conversation to be erased
    for slot in MEMORY_SLOTS:
        tracker.slots[slot] = state.slot(slot)
    _unmask(tracker, state)
    ctx = StepContext(name=name, tracker=tracker, services=services, state=state, degraded=degraded)
    t0 = time.perf_counter()
    try:
        out = fn(ctx)
        if inspect.isawaitable(out):
            await out
    except Exception:  # a step bug must not lose the citizen's turn
        log.exception("dialogue.step.failed", extra={"event": "dialogue.step.failed", "fields": {"step": name}})
        ctx.responses.clear()
        ctx.events.clear()
        ctx.text(say("step.failed"))
        ctx.reply(buttons([human_button()]))
    if "fallback_streak" not in ctx.touched:  # only failed turns in a row count
        state.fallback_streak = 0
    validating = name.startswith("validate_")
    state.form = tracker.active_loop or (name[len("validate_"):] if validating else None)
    if state.form is None and not validating:  # the form is over (submitted, dropped, or its Rasa session ended)
        state.form_values = {}
    turn_id = str(tracker.metadata.get("turn_id") or "")
    if ctx.answered_as:
        state.last_intent = ctx.answered_as
    elif tracker.intent and not (turn_id and turn_id == state.turn_id):  # (once a turn: its first step's)
        state.last_intent = tracker.intent
    if tracker.latest_message.get("cannot_come"):  # whichever step answered: 上门办 is offered with what follows
        state.cannot_come = True
        state.said_cannot_come = state.said_cannot_come or bool(tracker.latest_message.get("said_cannot_come"))
    # a message placed nowhere is read with the question after it («我想养条狗», «住院花了好多钱»); any other answer
    # ends that
    unplaced = (name in UNPLACED_STEPS or ctx.unplaced) and not (tracker.text or "").startswith("/")
    # (two such messages in a row are a story told in pieces, kept on two lines: «我开的小卖部», «要换个地方», then
    # «营业执照要咋弄»)
    said = mask_pii(tracker.text or "")[-100:]
    state.said_before = "" if not unplaced else f"{state.said_before.splitlines()[-1]}\n{said}" if state.said_before \
        else said
    state.turn_id = turn_id
    if states is not None and sender_id:
        try:
            await run_in_threadpool(states.save, sender_id, state)
        except Exception:
            log.exception("dialogue.state.save_failed")
    log_event(log, "dialogue.step.completed", step=name, session=sender_id, degraded=degraded,
              parts=len(ctx.responses), ms=round((time.perf_counter() - t0) * 1000, 1))
    return ctx
