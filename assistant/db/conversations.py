"""Conversation turns and human-helper (金帮办专员) tickets, persisted with SQLAlchemy.

``ConversationStore`` keeps the turns of every conversation (user text and reply payloads masked, as staff will
read them) and the
staff messages waiting to be shown to the citizen. ``HandoffStore`` creates, lists, answers and closes tickets;
a staff reply becomes a ``staff`` message in the citizen's conversation (``GET /api/v1/chat/{sid}/messages``).

Both are synchronous (SQLAlchemy sessions); async callers run them in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from assistant.db.base import utcnow
from assistant.db.chat import Conversation, HandoffTicket, Message, TurnKey
from assistant.db.session import Database, upsert_statement
from assistant.db.staff import TicketEvent
from assistant.logging import get_logger, log_event
from assistant.parts import part_summary
from assistant.privacy import mask_data, mask_pii

log = get_logger(__name__)

LEVELS = ("区政务大厅", "街道便民服务中心", "社区便民服务站")
#: Intents that mean the assistant did not understand the citizen (or the question is not a government matter).
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
#: What a turn's answer was (``messages.outcome`` of the user message).
OUTCOMES = ("matter", "clarify", "fallback", "handoff", "other")
TicketStatus = Literal["open", "answered", "closed"]


class TicketNotFound(LookupError):
    """No ticket with that id."""


class TicketClosed(ValueError):
    """The ticket is closed; it takes no more replies."""


class TranscriptLine(BaseModel):
    """One line of a ticket transcript (text masked)."""

    role: str
    text: str
    at: str = ""


class TicketView(BaseModel):
    """A handoff ticket as the staff API shows it."""

    id: int
    session_id: str
    channel: str
    matter: dict[str, str] | None = None
    level: str
    status: str
    reason: str = ""
    transcript: list[TranscriptLine] = Field(default_factory=list)
    staff_name: str | None = None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    #: The street or community that sees the ticket first (``None``: the whole level).
    place: str | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    first_reply_at: datetime | None = None
    labels: list[str] = Field(default_factory=list)
    summary: str | None = None
    rating: int | None = None

    def part(self) -> dict[str, Any]:
        """The ``handoff`` reply part / ``ChatResponse.handoff`` value: ``{"id", "level", "status"}``."""
        return {"id": self.id, "level": self.level, "status": self.status}


class StaffMessage(BaseModel):
    """A message from a human helper, delivered into a citizen's conversation."""

    id: int
    type: Literal["staff"] = "staff"
    text: str
    staff_name: str
    ticket_id: int | None = None
    at: datetime


def _aware(dt: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes (stored as UTC); make every timestamp timezone-aware UTC."""
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt


def _iso(dt: datetime | None) -> str:
    return _aware(dt).isoformat() if dt else ""


def add_ticket_event(s, t: HandoffTicket, kind: str) -> None:
    """Record that ``kind`` happened to ticket ``t`` (in the caller's transaction; the live queue reads it)."""
    s.add(TicketEvent(ticket_id=t.id, kind=kind, level=t.level or "", place=t.place))


def _view(t: HandoffTicket) -> TicketView:
    matter = {"code": t.matter_code, "name": t.matter_name or ""} if t.matter_code else None
    return TicketView(
        id=t.id, session_id=t.session_id, channel=t.channel, matter=matter, level=t.level, status=t.status,
        reason=t.reason or "", transcript=[TranscriptLine(**ln) for ln in (t.transcript or [])],
        staff_name=t.staff_name, created_at=_aware(t.created_at), updated_at=_aware(t.updated_at),
        closed_at=_aware(t.closed_at), place=t.place, claimed_by=t.claimed_by, claimed_at=_aware(t.claimed_at),
        first_reply_at=_aware(t.first_reply_at), labels=list(t.labels or []), summary=t.summary, rating=t.rating)


def turn_outcome(intent: str | None, replies: list[dict[str, Any]]) -> tuple[str, str | None]:
    """How a turn was answered, for the dashboard: ``(outcome, matter_code)``.

    ``fallback`` when the intent says the citizen was not understood (or out of scope); else ``matter`` when the
    answer shows a matter card or checklist; ``handoff`` when it opened a ticket; ``clarify`` when it offers
    options to pick; ``other`` (greetings, form prompts …). ``matter_code`` is the code of the matter shown.
    """
    code = None
    for p in replies:
        if p.get("type") in {"matter_card", "checklist"} and isinstance(p.get("matter"), dict):
            code = str(p["matter"].get("code") or "") or None
            if code:
                break
    types = {p.get("type") for p in replies}
    if (intent or "") in FALLBACK_INTENTS:
        return "fallback", code
    if code:
        return "matter", code
    if "handoff" in types:
        return "handoff", None
    if "buttons" in types:
        return "clarify", None
    return "other", None


class ConversationStore:
    """Turns of citizen conversations.

    Args:
        db: the app database.
    """

    def __init__(self, db: Database):
        self.db = db
        #: Called (no arguments) after a commit that added ticket events: wakes the live queues.
        self.on_ticket_event: Callable[[], None] | None = None

    def _ticket_changed(self) -> None:
        if self.on_ticket_event is not None:
            try:
                self.on_ticket_event()
            except Exception:  # pragma: no cover - waking the queues must never break a turn
                log.exception("handoff.notify_failed")

    @staticmethod
    def _ensure(s, session_id: str, channel: str) -> Conversation:
        conv = s.get(Conversation, session_id)
        if conv is None:
            conv = Conversation(session_id=session_id, channel=channel)
            s.add(conv)
            s.flush()
        return conv

    def exists(self, session_id: str) -> bool:
        """Whether a conversation ``session_id`` has been started."""
        with self.db.session() as s:
            return s.get(Conversation, session_id) is not None

    def token_hash(self, session_id: str) -> tuple[bool, str | None]:
        """``(exists, token_hash)`` of a conversation (one primary-key read; see ``assistant.api.citizen``)."""
        row = self.db.first(select(Conversation.token_hash).where(Conversation.session_id == session_id))
        return (False, None) if row is None else (True, row[0])

    def open(self, session_id: str, channel: str, token_hash: str, opened_by: str | None = None) -> bool:
        """Start the conversation ``session_id`` with the hash of its session token.

        Args:
            opened_by: the hash of the client's ``message_id`` of this first turn, if it sent one.

        Returns:
            ``True``; ``False`` when the conversation exists already (nothing is changed then).
        """
        try:
            self.db.run(insert(Conversation).values(session_id=session_id, channel=channel, token_hash=token_hash,
                                                    opened_by=opened_by))
            return True
        except IntegrityError:
            return False

    def reissue_token(self, session_id: str, opened_by: str, token_hash: str, since: datetime) -> bool:
        """Give the conversation a new token hash when it was opened by the message ``opened_by`` (a hash) at or
        after ``since``; the previous token stops working.

        Returns:
            Whether it was reissued.
        """
        return self.db.run(update(Conversation).where(Conversation.session_id == session_id,
                                                      Conversation.opened_by == opened_by,
                                                      Conversation.created_at >= since)
                           .values(token_hash=token_hash)) == 1

    def set_token_hash(self, session_id: str, channel: str, token_hash: str) -> None:
        """Give the conversation ``session_id`` a new session token hash (started when missing); the previous
        token stops working. For channels whose identity is proven another way (the mini-program's login)."""
        for _ in range(2):
            try:
                with self.db.session() as s:
                    self._ensure(s, session_id, channel).token_hash = token_hash
                return
            except IntegrityError:  # started at the same moment by another request: update that row
                continue

    def record_turn(self, session_id: str, channel: str, user_text: str, replies: list[dict[str, Any]],
                    intent: str | None, matter: dict[str, str] | None, *, turn_key: str | None = None,
                    response: Callable[[int], dict[str, Any]] | None = None, may_have_ticket: bool = True) -> int:
        """Store one turn: the citizen's text (masked) and the bot's reply parts.

        Args:
            session_id: the conversation id.
            channel: ``web``, ``kiosk``, ``wechat`` …
            user_text: the normalised text the citizen sent (masked before storing).
            replies: the reply parts of the answer.
            intent: the recognised intent name, if any.
            matter: ``{"code", "name"}`` of the conversation's current matter, if any.
            turn_key: the client's message id of a claimed turn (:meth:`claim_turn`): its key is finished in the
                same transaction, so a turn is stored and marked answered together — a replica that dies in
                between leaves neither, and the retry runs it once.
            response: builds the stored answer from the bot message's id (with ``turn_key``).
            may_have_ticket: ``False`` when the conversation never opened a ticket (its dialogue memory has no
                ``handoff_ticket``): the look for an open ticket is skipped.

        Returns:
            The id of the stored bot message.
        """
        now = utcnow()
        conversation = {"session_id": session_id, "channel": channel, "created_at": now, "updated_at": now}
        if matter and matter.get("code"):
            conversation.update(matter_code=matter["code"], matter_name=matter.get("name") or "")
        outcome, answered = turn_outcome(intent, replies)
        user_masked = mask_pii(user_text)
        bot_text = "\n".join(t for t in (part_summary(p) for p in replies) if t)
        rows = [{"session_id": session_id, "role": "user", "text": user_masked, "payload": None, "intent": intent,
                 "outcome": outcome, "matter_code": answered, "created_at": now},
                {"session_id": session_id, "role": "bot", "text": mask_pii(bot_text), "payload": mask_data(replies),
                 "intent": None, "outcome": None, "matter_code": None, "created_at": now}]
        messages, keys = Message.__table__, TurnKey.__table__
        with self.db.session() as s:  # a few statements, one transaction; Core ones where no ORM object is needed
            conn = s.connection()
            conn.execute(upsert_statement(conn.dialect.name, Conversation, conversation, keys=("session_id",),
                                          update=tuple(k for k in conversation if k not in ("channel", "created_at"))))
            bot_id = conn.execute(insert(messages).returning(messages.c.id, sort_by_parameter_order=True),
                                  rows).scalars().all()[-1]
            # a conversation with an open ticket: the helper sees what the citizen adds meanwhile
            ticket = None if not may_have_ticket else s.scalars(
                select(HandoffTicket).where(HandoffTicket.session_id == session_id, HandoffTicket.status != "closed")
                .order_by(HandoffTicket.id.desc()).limit(1)).first()
            changed = False
            if ticket is not None:
                lines = list(ticket.transcript or [])
                if not lines or lines[-1].get("text") != user_masked:
                    lines.append({"role": "user", "text": user_masked, "at": _iso(now)})
                    ticket.transcript = lines
                    add_ticket_event(s, ticket, "message")
                    changed = True
            if turn_key is not None and response is not None:
                conn.execute(update(keys).where(keys.c.session_id == session_id, keys.c.message_id == turn_key)
                             .values(status="done", response=response(bot_id)))
        if changed:
            self._ticket_changed()
        return bot_id

    def current_matter(self, session_id: str) -> dict[str, str] | None:
        """The conversation's last matter ``{"code", "name"}``, or ``None``."""
        with self.db.session() as s:
            conv = s.get(Conversation, session_id)
            if conv is None or not conv.matter_code:
                return None
            return {"code": conv.matter_code, "name": conv.matter_name or ""}

    def transcript(self, session_id: str, limit: int = 50) -> list[dict[str, str]]:
        """The last ``limit`` messages of a conversation as masked transcript lines ``{"role","text","at"}``."""
        with self.db.session() as s:
            rows = s.scalars(select(Message).where(Message.session_id == session_id)
                             .order_by(Message.id.desc()).limit(limit)).all()
            return [{"role": m.role, "text": mask_pii(m.text), "at": _iso(m.created_at)} for m in reversed(rows)]

    def recent_failures(self, session_id: str, n: int = 2) -> int:
        """How many of the last ``n`` user turns ended without understanding (nlu_fallback/out_of_scope)."""
        with self.db.session() as s:
            rows = s.scalars(select(Message.intent).where(Message.session_id == session_id,
                                                          Message.role == "user")
                             .order_by(Message.id.desc()).limit(n)).all()
            return sum(1 for i in rows if i in {"nlu_fallback", "out_of_scope", ""})

    def claim_turn(self, session_id: str, message_id: str) -> tuple[str, Any]:
        """Claim the turn of a client message id.

        Returns:
            ``("claimed", None)`` — first time: run the turn, then :meth:`finish_turn`;
            ``("done", response)`` — answered before: the stored response;
            ``("pending", None)`` — another request for it is running now.
        """
        try:
            self.db.run(insert(TurnKey).values(session_id=session_id, message_id=message_id, status="pending"))
            return "claimed", None  # one INSERT: the key is claimed, or it exists
        except IntegrityError:
            row = self.db.first(select(TurnKey.status, TurnKey.response)
                                .where(TurnKey.session_id == session_id, TurnKey.message_id == message_id))
            if row is None:  # pragma: no cover - removed in between
                return "pending", None
            return (row.status, row.response) if row.status == "done" else ("pending", None)

    def finish_turn(self, session_id: str, message_id: str, response: dict[str, Any] | None) -> None:
        """Store the response of a claimed turn (``None``: the turn failed; the claim is released)."""
        with self.db.session() as s:
            row = s.get(TurnKey, (session_id, message_id))
            if row is None:
                return
            if response is None:
                s.delete(row)
            else:  # a retry is answered from here: kept masked like every stored reply
                row.status, row.response = "done", mask_data(response)

    def staff_messages_after(self, session_id: str, after: int = 0) -> list[StaffMessage]:
        """Staff messages for ``session_id`` with an id greater than ``after`` (oldest first)."""
        with self.db.session() as s:
            rows = s.scalars(select(Message).where(Message.session_id == session_id, Message.role == "staff",
                                                   Message.id > after).order_by(Message.id)).all()
            return [StaffMessage(id=m.id, text=m.text, staff_name=(m.payload or {}).get("staff_name", ""),
                                 ticket_id=(m.payload or {}).get("ticket_id"), at=_aware(m.created_at)) for m in rows]


class HandoffStore:
    """Human-helper tickets.

    Args:
        db: the app database.
        conversations: the conversation store (for transcripts and delivering staff replies); built from
            ``db`` when omitted.
    """

    def __init__(self, db: Database, conversations: ConversationStore | None = None):
        self.db = db
        self.conversations = conversations or ConversationStore(db)

    def create(self, session_id: str, channel: str = "web", matter_code: str | None = None,
               matter_name: str | None = None, level: str = "区政务大厅",
               transcript: list[dict[str, str]] | list[str] | None = None, reason: str = "",
               place: str | None = None) -> TicketView:
        """Open a ticket for a conversation (or return its already open one, with the transcript refreshed).

        Args:
            session_id: the citizen's conversation id.
            channel: the channel the citizen is on.
            matter_code: the catalogue code of the matter the conversation is about, if known.
            matter_name: its name.
            level: 区政务大厅 / 街道便民服务中心 / 社区便民服务站 — where a helper for this matter sits; an
                unknown value falls back to 区政务大厅.
            transcript: ``[{"role","text"}]`` or plain strings; ``None`` takes the stored conversation.
                Every text is masked before it is stored.
            reason: why the handoff happened (``request_human``, ``two_fallbacks``, ``rasa_unavailable`` …).
            place: the street or community whose helpers see the ticket first (``None``: the whole level).

        Returns:
            The ticket.
        """
        if level not in LEVELS:
            level = "区政务大厅"
        if transcript is None:
            lines = self.conversations.transcript(session_id)
        else:
            lines = []
            for ln in transcript:
                if isinstance(ln, str):
                    lines.append({"role": "user", "text": mask_pii(ln), "at": ""})
                else:
                    lines.append({"role": str(ln.get("role", "user")), "text": mask_pii(str(ln.get("text", ""))),
                                  "at": str(ln.get("at", ""))})
        with self.db.session() as s:
            t = s.scalars(select(HandoffTicket).where(HandoffTicket.session_id == session_id,
                                                      HandoffTicket.status != "closed")
                          .order_by(HandoffTicket.id.desc()).limit(1)).first()
            created = t is None
            if t is None:
                t = HandoffTicket(session_id=session_id, channel=channel, level=level, status="open",
                                  reason=reason[:255], transcript=lines, matter_code=matter_code,
                                  matter_name=matter_name, place=place, labels=[])
                s.add(t)
            else:
                t.transcript = lines
                if matter_code and not t.claimed_by:
                    t.matter_code, t.matter_name, t.level = matter_code, matter_name, level
                    if place:
                        t.place = place
                t.updated_at = utcnow()
            s.flush()
            add_ticket_event(s, t, "created" if created else "updated")
            view = _view(t)
        self.conversations._ticket_changed()
        log_event(log, "handoff.ticket.created" if created else "handoff.ticket.refreshed", ticket=view.id,
                  session=session_id, channel=channel, level=level, matter=matter_code, reason=reason)
        return view

    def list(self, status: str | None = None, limit: int = 100, offset: int = 0) -> list[TicketView]:
        """Tickets, newest first.

        Args:
            status: only tickets in this status (``open``, ``answered``, ``closed``); all when ``None``.
            limit: at most this many.
            offset: skip this many.
        """
        with self.db.session() as s:
            q = select(HandoffTicket)
            if status:
                q = q.where(HandoffTicket.status == status)
            rows = s.scalars(q.order_by(HandoffTicket.id.desc()).limit(limit).offset(offset)).all()
            return [_view(t) for t in rows]

    def count(self, status: str | None = None) -> int:
        """How many tickets (in ``status``) there are."""
        with self.db.session() as s:
            q = select(func.count(HandoffTicket.id))
            if status:
                q = q.where(HandoffTicket.status == status)
            return int(s.scalar(q) or 0)

    def get(self, ticket_id: int) -> TicketView | None:
        """The ticket ``ticket_id``, or ``None``."""
        with self.db.session() as s:
            t = s.get(HandoffTicket, ticket_id)
            return _view(t) if t else None

    def open_for_session(self, session_id: str) -> TicketView | None:
        """The conversation's ticket that is not closed yet, or ``None``."""
        with self.db.session() as s:
            t = s.scalars(select(HandoffTicket).where(HandoffTicket.session_id == session_id,
                                                      HandoffTicket.status != "closed")
                          .order_by(HandoffTicket.id.desc()).limit(1)).first()
            return _view(t) if t else None

    def reply(self, ticket_id: int, text: str, staff_name: str) -> StaffMessage:
        """Send a staff member's message into the ticket's conversation.

        Args:
            ticket_id: the ticket.
            text: the message for the citizen (stored as written: the citizen sees it).
            staff_name: the helper's display name (``金帮办·王老师``).

        Returns:
            The stored staff message (what ``GET /api/v1/chat/{sid}/messages`` returns).

        Raises:
            TicketNotFound: no such ticket.
            TicketClosed: the ticket is closed.
        """
        with self.db.session() as s:
            t = s.get(HandoffTicket, ticket_id)
            if t is None:
                raise TicketNotFound(ticket_id)
            if t.status == "closed":
                raise TicketClosed(ticket_id)
            ConversationStore._ensure(s, t.session_id, t.channel)
            m = Message(session_id=t.session_id, role="staff", text=text,
                        payload={"staff_name": staff_name, "ticket_id": t.id})
            s.add(m)
            t.status, t.staff_name, t.updated_at = "answered", staff_name, utcnow()
            if t.first_reply_at is None:
                t.first_reply_at = utcnow()
            lines = list(t.transcript or [])
            lines.append({"role": "staff", "text": mask_pii(text), "at": _iso(utcnow())})
            t.transcript = lines
            s.flush()
            msg = StaffMessage(id=m.id, text=m.text, staff_name=staff_name, ticket_id=t.id, at=_aware(m.created_at))
            session_id = t.session_id
            add_ticket_event(s, t, "replied")
        self.conversations._ticket_changed()
        log_event(log, "handoff.ticket.replied", ticket=ticket_id, session=session_id, staff=staff_name,
                  chars=len(text))
        return msg

    def close(self, ticket_id: int, summary: str | None = None) -> TicketView:
        """Close a ticket (idempotent), optionally with the helper's summary.

        Raises:
            TicketNotFound: no such ticket.
        """
        with self.db.session() as s:
            t = s.get(HandoffTicket, ticket_id)
            if t is None:
                raise TicketNotFound(ticket_id)
            if summary:
                t.summary = summary
            if t.status != "closed":
                t.status, t.closed_at, t.updated_at = "closed", utcnow(), utcnow()
                add_ticket_event(s, t, "closed")
            s.flush()
            view = _view(t)
        self.conversations._ticket_changed()
        log_event(log, "handoff.ticket.closed", ticket=ticket_id, session=view.session_id)
        return view
