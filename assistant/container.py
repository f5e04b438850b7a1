"""``Services``: everything the app is made of, built once by ``create_app(settings)`` and kept on
``app.state.services``. Custom actions and channels reach the KB, the NLU, the stores and the Rasa client
through it (``request.app.state.services``)."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Any

from assistant.chat import Assistant
from assistant.db.conversations import ConversationStore, HandoffStore
from assistant.db.session import Database
from assistant.dialogue.state import StateStore
from assistant.outbox import Outbox
from assistant.settings import Settings
from assistant.staff.events import TicketEvents
from assistant.staff.workbench import Workbench


@dataclass
class Services:
    """The app's parts.

    Attributes:
        settings: the typed settings.
        db: the database (engine + sessionmaker).
        conversations: conversation turns and staff messages.
        handoffs: human-helper tickets.
        states: the dialogue's memory per conversation.
        outbox: delivery of messages outside a turn (channels register their push senders).
        kb: the ``knowledge.kb.KnowledgeBase`` (``None`` while loading).
        nlu: the ``nlu.NLU`` (``None`` while loading).
        rasa: the ``assistant.rasa.client.RasaClient`` (``None``: no Rasa, every turn takes the degraded path).
        supervisor: the ``RasaSupervisor`` when the app manages the Rasa server.
        assistant: the :class:`assistant.chat.Assistant`.
        status: readiness of each part: ``{"kb": "loading"|"ready"|"error: …", "nlu": …, "db": …}``.
        voice: the loaded speech stack (``assistant.channels.kiosk.VoiceRuntime``), ``None`` until first use.
        voice_warming: the speech stack is being loaded in the background.
        wechat: the WeChat runtime (``assistant.channels.wechat.mp.WeChatRuntime``), built on first use.
        preservice: the pre-service parts (``assistant.preservice.runtime.PreService``), built on first use.
        preservice_scheduler: whether the app runs the reminder scheduler (and the desk's escalation check).
        desk: the pre-service desk (``assistant.preservice.desk.Desk``) and ``escalation`` its scheduled check
            (``EscalationCheck``), built on first use by ``assistant/api/desk.py``.
        limiter: the chat rate limits (``assistant.api.limits.RateLimiter``), set by ``create_app``; ``None``:
            no limits.
        ticket_events: wakes the live staff queues of every replica (``assistant.staff.events.TicketEvents``).
        workbench: the 金帮办 ticket workflow (``assistant.staff.workbench.Workbench``).
        guidebook: the guides edited in the workbench and their live application
            (``assistant.guidebook.Guidebook``), built on first use.
    """

    settings: Settings
    db: Database
    conversations: ConversationStore
    handoffs: HandoffStore
    states: StateStore
    outbox: Outbox = field(default_factory=Outbox)
    kb: Any = None
    nlu: Any = None
    rasa: Any = None
    supervisor: Any = None
    assistant: Assistant | None = None
    status: dict[str, str] = field(default_factory=dict)
    voice: Any = None
    voice_warming: bool = False
    wechat: Any = None
    preservice: Any = None
    preservice_scheduler: bool = True
    desk: Any = None
    escalation: Any = None
    limiter: Any = None
    ticket_events: Any = None
    workbench: Any = None
    guidebook: Any = None


def make_rasa_client(settings: Settings) -> Any:
    """The Rasa client for ``settings.rasa_url``."""
    from assistant.rasa.client import RasaClient

    return RasaClient.from_settings(settings)


def build_services(settings: Settings, *, kb: Any = None, nlu: Any = None, rasa: Any = "auto",
                   db: Database | None = None) -> Services:
    """Build the app's parts (no model loading, no migration, no process start here).

    Args:
        settings: the settings.
        kb: an already loaded KnowledgeBase (tests share one per session); loaded at startup when ``None``.
        nlu: an already built NLU; built at startup when ``None``.
        rasa: a Rasa client; ``"auto"`` makes one for ``settings.rasa_url``; ``None`` means no Rasa.
        db: a Database; made from ``settings.database_url`` when ``None``.
    """
    db = db or Database(settings.database_url)
    conversations = ConversationStore(db)
    services = Services(settings=settings, db=db, conversations=conversations,
                        handoffs=HandoffStore(db, conversations), states=StateStore(db), kb=kb, nlu=nlu,
                        rasa=make_rasa_client(settings) if rasa == "auto" else rasa)
    services.status = {"db": "pending", "kb": "ready" if kb is not None else "loading",
                       "nlu": "ready" if nlu is not None else "loading"}
    services.assistant = Assistant(services)
    services.ticket_events = TicketEvents(settings, db)
    conversations.on_ticket_event = services.ticket_events.notify
    services.workbench = Workbench(db, services.handoffs, settings)
    return services


def load_kb(settings: Settings) -> Any:
    """Load the KnowledgeBase the settings point at."""
    from knowledge.kb import KnowledgeBase

    return KnowledgeBase.load(settings.kb_dir, settings.guides_dir, include_guangdong=settings.kb_include_guangdong)


def load_nlu(settings: Settings, kb: Any) -> Any:
    """Build the NLU over ``kb`` with the settings' model, cache and threshold (then :func:`keep_loaded`)."""
    from nlu import NLU

    nlu = NLU(kb, embedding_model=settings.embedding_model, cache_dir=settings.cache_dir / "nlu",
              oos_threshold=settings.nlu_oos_threshold, quantize=settings.nlu_quantize, onnx=settings.nlu_onnx)
    keep_loaded()
    return nlu


def keep_loaded() -> None:
    """Take every object alive now out of the cyclic garbage collector's reach (``gc.freeze``); called once the
    KB, the NLU or the speech stack has loaded.

    They live as long as the process, yet each full collection walked them all: 0.3 s with the KB and the NLU
    loaded (up to 1.4 s measured in the test process), during which no request, kiosk WebSocket or WeChat reply
    moves (WeChat's passive reply has a few seconds in all). Objects made later are collected as before; a frozen
    object dropped later (an index replaced by a guide update) is still freed by reference counting, only a cycle
    among frozen objects is kept.
    """
    gc.freeze()
