"""The 金帮办 ticket workflow behind ``/staff``: the routed queue, claim, transfer, notes, labels, canned replies,
close with a summary, presence, call-backs and the citizen's rating.

Every change writes a ``ticket_events`` row in its own transaction and then wakes the live queues
(:class:`assistant.staff.events.TicketEvents`). Audit entries are written by the API layer
(``assistant/api/workbench.py``), which knows who acts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from assistant.db.base import utcnow
from assistant.db.chat import HandoffTicket
from assistant.db.conversations import (HandoffStore, TicketClosed, TicketNotFound, TicketView, _aware,
                                        add_ticket_event)
from assistant.db.session import Database
from assistant.db.staff import CallbackRequest, CannedReply, StaffPresence, TicketNote
from assistant.privacy import mask_pii
from assistant.settings import Settings
from assistant.staff import routing
from assistant.staff.identity import StaffUser

__all__ = ["Workbench", "QueueItem", "TicketConflict", "TicketNotFound", "TicketClosed", "DEFAULT_CANNED",
           "extract_phone"]

#: The canned replies a fresh installation starts with (admins edit them on /staff).
DEFAULT_CANNED: list[tuple[str, str]] = [
    ("问候", "您好，我是金帮办专员，已经看到您的问题，正在为您查询，请稍候。"),
    ("材料核对", "请您把手头已有的材料告诉我（比如身份证、租房合同），我帮您核对还差哪些。"),
    ("到窗口办理", "这个事项需要本人带齐材料到窗口办理。办理地点和时间见上面的事项卡片，建议先取号。"),
    ("网上办理", "这个事项可以在四川政务服务网或天府通办上网办，不用跑窗口。"),
    ("稍后回电", "您的问题需要进一步核实，我们会在工作时间内给您回电，请保持电话畅通。"),
    ("结束语", "请问还有其他需要帮忙的吗？如果没有，本次服务就先到这里，祝您办事顺利！"),
]

_PHONE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?([2-9]\d{6,7})(?!\d)")
#: A message that is just a score: "5", "4分", "5星".
_RATING_MESSAGE = re.compile(r"^\s*([1-5])\s*(?:分|星|颗星)?\s*$")
#: A message that is (mostly) a phone number: "13812345678", "电话：028-87654321", "打我手机138 1234 5678".
_PHONE_MESSAGE = re.compile(r"^[\s\u4e00-\u9fff：:，,。.]{0,12}[+0-9\s\-]{7,20}[\s\u4e00-\u9fff。.!！]{0,6}$")


def extract_phone(text: str) -> str | None:
    """A mainland mobile or landline number in ``text`` (digits only, landline as ``028-87654321``), or ``None``."""
    m = _PHONE.search(text or "")
    if m:
        return "".join(m.groups())
    m = _LANDLINE.search(text or "")
    if m:
        return f"{m.group(1)}-{m.group(2)}"
    return None


class TicketConflict(Exception):
    """The ticket is claimed by another helper."""

    def __init__(self, claimed_by: str):
        super().__init__(claimed_by)
        self.claimed_by = claimed_by


class QueueItem(BaseModel):
    """A ticket as the queue lists it (no transcript, no personal data)."""

    id: int
    channel: str
    matter: dict[str, str] | None = None
    level: str
    place: str | None = None
    status: str
    reason: str = ""
    claimed_by: str | None = None
    labels: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    #: Seconds the citizen has waited for a first reply (up to now, or up to the first reply).
    waiting_s: int
    #: Waiting past ``staff_wait_warn_s`` without a reply.
    late: bool
    #: 0 the helper's level and place, 1 their level, 2 another level.
    priority: int
    #: The citizen left a phone number for a call-back that nobody has done yet.
    callback: bool = False


@dataclass
class Availability:
    """Whether someone can answer a new ticket now, and if not, when."""

    online: int
    in_hours: bool
    when: str


def _waiting(t: HandoffTicket, now: datetime) -> int:
    end = _aware(t.first_reply_at) or _aware(t.closed_at) or now
    return max(0, int((end - _aware(t.created_at)).total_seconds()))


class Workbench:
    """The ticket workflow.

    Args:
        db: the app database.
        handoffs: the ticket store (creating, replying, closing).
        settings: thresholds, office hours, presence timeout.
    """

    def __init__(self, db: Database, handoffs: HandoffStore, settings: Settings):
        self.db = db
        self.handoffs = handoffs
        self.settings = settings

    def _changed(self) -> None:
        self.handoffs.conversations._ticket_changed()

    def _ticket(self, s, ticket_id: int) -> HandoffTicket:
        t = s.get(HandoffTicket, ticket_id)
        if t is None:
            raise TicketNotFound(ticket_id)
        return t

    # --- the queue ----------------------------------------------------------------------------------------------

    def queue(self, user: StaffUser, include_closed: bool = False, limit: int = 200) -> list[QueueItem]:
        """The tickets a helper works on: the not-closed ones (plus today's closed when asked), the helper's level
        and place first, then the oldest waiting first."""
        now = utcnow()
        with self.db.session() as s:
            q = select(HandoffTicket)
            if include_closed:
                q = q.where((HandoffTicket.status != "closed") | (HandoffTicket.closed_at > now - timedelta(days=1)))
            else:
                q = q.where(HandoffTicket.status != "closed")
            rows = s.scalars(q.order_by(HandoffTicket.id.desc()).limit(limit)).all()
            ids = [t.id for t in rows]
            callbacks = set(s.scalars(select(CallbackRequest.ticket_id).where(
                CallbackRequest.ticket_id.in_(ids), CallbackRequest.done_at.is_(None)))) if ids else set()
            items = []
            for t in rows:
                wait = _waiting(t, now)
                items.append(QueueItem(
                    id=t.id, channel=t.channel, level=t.level, place=t.place, status=t.status, reason=t.reason or "",
                    matter={"code": t.matter_code, "name": t.matter_name or ""} if t.matter_code else None,
                    claimed_by=t.claimed_by, labels=list(t.labels or []), created_at=_aware(t.created_at),
                    updated_at=_aware(t.updated_at), waiting_s=wait,
                    late=t.first_reply_at is None and t.status == "open" and wait >= self.settings.staff_wait_warn_s,
                    priority=routing.priority(user, t.level, t.place), callback=t.id in callbacks))
        closed_last = {"closed": 1}
        items.sort(key=lambda i: (closed_last.get(i.status, 0), i.priority, i.created_at))
        return items

    def detail(self, ticket_id: int, kb: Any = None) -> dict[str, Any]:
        """One ticket for the helper: the ticket (masked transcript), notes, call-backs (masked), the matter card
        and the material pre-check of what the citizen wrote.

        Raises:
            TicketNotFound: no such ticket.
        """
        view = self.handoffs.get(ticket_id)
        if view is None:
            raise TicketNotFound(ticket_id)
        with self.db.session() as s:
            notes = [{"id": n.id, "author": n.author, "text": n.text, "at": _aware(n.created_at).isoformat()}
                     for n in s.scalars(select(TicketNote).where(TicketNote.ticket_id == ticket_id)
                                        .order_by(TicketNote.id))]
            callbacks = [{"id": c.id, "phone": mask_pii(c.phone), "at": _aware(c.created_at).isoformat(),
                          "done_by": c.done_by, "done_at": _aware(c.done_at).isoformat() if c.done_at else None}
                         for c in s.scalars(select(CallbackRequest).where(CallbackRequest.ticket_id == ticket_id)
                                            .order_by(CallbackRequest.id))]
        card = precheck = None
        m = kb.get(view.matter.get("code")) if (kb is not None and view.matter) else None
        if m is not None:
            from assistant.parts import matter_card_part
            from assistant.preservice.precheck import precheck as run_precheck

            card = matter_card_part(m)["matter"]
            said = "。".join(ln.text for ln in view.transcript if ln.role == "user")
            precheck = [{"name": i.name, "status": i.status, "requirement": i.requirement, "form": i.form,
                         "copies": i.copies, "hint": i.hint, "matched": i.matched}
                        for i in run_precheck(m, said)]
        now = utcnow()
        end = view.first_reply_at or view.closed_at or now
        return {"ticket": view.model_dump(mode="json"), "notes": notes, "callbacks": callbacks,
                "matter_card": card, "precheck": precheck,
                "waiting_s": max(0, int((end - view.created_at).total_seconds()))}

    # --- actions ------------------------------------------------------------------------------------------------

    def claim(self, user: StaffUser, ticket_id: int, force: bool = False) -> TicketView:
        """Take a ticket ("assign to me"); ``force`` takes it over from another helper.

        Raises:
            TicketNotFound, TicketClosed, TicketConflict.
        """
        with self.db.session() as s:
            t = self._ticket(s, ticket_id)
            if t.status == "closed":
                raise TicketClosed(ticket_id)
            if t.claimed_by and t.claimed_by != user.username and not force:
                raise TicketConflict(t.claimed_by)
            if t.claimed_by != user.username:
                t.claimed_by, t.claimed_at, t.updated_at = user.username, utcnow(), utcnow()
                add_ticket_event(s, t, "claimed")
        self._changed()
        return self.handoffs.get(ticket_id)

    def transfer(self, user: StaffUser, ticket_id: int, level: str, place: str | None) -> TicketView:
        """Hand a ticket to another level and/or place; it becomes unclaimed there (a note says who moved it).

        Args:
            user: who transfers.
            ticket_id: the ticket.
            level: ``district`` / ``street`` / ``community``.
            place: the street or community (``None``: the whole level).

        Raises:
            TicketNotFound, TicketClosed.
        """
        name = routing.LEVEL_NAMES[level]
        with self.db.session() as s:
            t = self._ticket(s, ticket_id)
            if t.status == "closed":
                raise TicketClosed(ticket_id)
            before = f"{t.level}{' · ' + t.place if t.place else ''}"
            t.level, t.place = name, (place or None) if level != "district" else None
            t.claimed_by, t.claimed_at, t.updated_at = None, None, utcnow()
            s.add(TicketNote(ticket_id=t.id, author=user.username,
                             text=f"转办：{before} → {name}{' · ' + t.place if t.place else ''}"))
            add_ticket_event(s, t, "transferred")
        self._changed()
        return self.handoffs.get(ticket_id)

    def add_note(self, user: StaffUser, ticket_id: int, text: str) -> dict[str, Any]:
        """Add an internal note.

        Raises:
            TicketNotFound.
        """
        with self.db.session() as s:
            t = self._ticket(s, ticket_id)
            n = TicketNote(ticket_id=t.id, author=user.username, text=text)
            s.add(n)
            s.flush()
            add_ticket_event(s, t, "note")
            out = {"id": n.id, "author": n.author, "text": n.text, "at": _aware(n.created_at).isoformat()}
        self._changed()
        return out

    def set_labels(self, ticket_id: int, labels: list[str]) -> TicketView:
        """Replace a ticket's labels.

        Raises:
            TicketNotFound.
        """
        clean = []
        for label in labels:
            label = label.strip()[:20]
            if label and label not in clean:
                clean.append(label)
        with self.db.session() as s:
            t = self._ticket(s, ticket_id)
            t.labels, t.updated_at = clean[:10], utcnow()
            add_ticket_event(s, t, "updated")
        self._changed()
        return self.handoffs.get(ticket_id)

    def close(self, ticket_id: int, summary: str) -> TicketView:
        """Close with the helper's summary (the citizen is then asked to rate the help).

        Raises:
            TicketNotFound.
        """
        return self.handoffs.close(ticket_id, summary=summary)

    # --- the citizen's side ------------------------------------------------------------------------------------

    def rate(self, session_id: str, ticket_id: int, rating: int) -> TicketView:
        """The citizen rates a closed ticket of their conversation, once.

        Raises:
            TicketNotFound: no such ticket in this conversation.
            TicketClosed: (reused) the ticket is not closed yet or is already rated.
        """
        with self.db.session() as s:
            t = s.get(HandoffTicket, ticket_id)
            if t is None or t.session_id != session_id:
                raise TicketNotFound(ticket_id)
            if t.status != "closed" or t.rating is not None:
                raise TicketClosed(ticket_id)
            t.rating = int(rating)
            add_ticket_event(s, t, "rated")
        self._changed()
        return self.handoffs.get(ticket_id)

    def rating_request(self, session_id: str) -> dict[str, Any] | None:
        """``{"ticket_id"}`` of the conversation's newest ticket when it is closed and not rated yet (the page then
        shows the 1–5 buttons), else ``None``."""
        with self.db.session() as s:
            t = s.scalars(select(HandoffTicket).where(HandoffTicket.session_id == session_id)
                          .order_by(HandoffTicket.id.desc()).limit(1)).first()
            if t is None or t.status != "closed" or t.rating is not None:
                return None
            return {"ticket_id": t.id}

    def rating_from_text(self, session_id: str, text: str) -> int | None:
        """When the conversation's last ticket is closed and not rated and ``text`` is just a score ("5", "4分"),
        store it (channels without buttons: WeChat, the mini-program) and return it; else ``None``."""
        m = _RATING_MESSAGE.match(text or "")
        if not m:
            return None
        asked = self.rating_request(session_id)
        if asked is None:
            return None
        try:
            self.rate(session_id, asked["ticket_id"], int(m.group(1)))
        except (TicketNotFound, TicketClosed):
            return None
        return int(m.group(1))

    def leave_callback(self, session_id: str, phone: str) -> int:
        """Store a call-back number for the conversation's open ticket.

        Returns:
            The ticket id.

        Raises:
            TicketNotFound: the conversation has no open ticket.
        """
        with self.db.session() as s:
            t = s.scalars(select(HandoffTicket).where(HandoffTicket.session_id == session_id,
                                                      HandoffTicket.status != "closed")
                          .order_by(HandoffTicket.id.desc()).limit(1)).first()
            if t is None:
                raise TicketNotFound(session_id)
            s.add(CallbackRequest(ticket_id=t.id, phone=phone))
            add_ticket_event(s, t, "callback")
            tid = t.id
        self._changed()
        return tid

    @staticmethod
    def looks_like_phone(text: str) -> bool:
        """Whether ``text`` is essentially a phone number (cheap; no database)."""
        return bool(_PHONE_MESSAGE.match(text or "")) and extract_phone(text) is not None

    def callback_from_text(self, session_id: str, text: str) -> tuple[int, str] | None:
        """When the conversation has an open, not yet answered ticket and ``text`` is essentially a phone number,
        store it as a call-back and return ``(ticket id, the number)``; else ``None``."""
        if not _PHONE_MESSAGE.match(text or ""):
            return None
        phone = extract_phone(text)
        if phone is None:
            return None
        with self.db.session() as s:
            t = s.scalars(select(HandoffTicket).where(HandoffTicket.session_id == session_id,
                                                      HandoffTicket.status == "open")
                          .order_by(HandoffTicket.id.desc()).limit(1)).first()
            if t is None:
                return None
        return self.leave_callback(session_id, phone), phone

    def reveal_callback(self, ticket_id: int, callback_id: int, done_by: str | None = None) -> str:
        """The full number of a call-back (for dialling); ``done_by`` also marks it done.

        Raises:
            TicketNotFound.
        """
        with self.db.session() as s:
            c = s.get(CallbackRequest, callback_id)
            if c is None or c.ticket_id != ticket_id:
                raise TicketNotFound(ticket_id)
            if done_by and c.done_at is None:
                c.done_by, c.done_at = done_by, utcnow()
            return c.phone

    # --- presence and availability ------------------------------------------------------------------------------

    def heartbeat(self, user: StaffUser) -> None:
        """The helper's /staff page is open."""
        for _ in range(2):  # the page and its event stream may both say so at the same moment
            try:
                with self.db.session() as s:
                    p = s.get(StaffPresence, user.username)
                    if p is None:
                        s.add(StaffPresence(username=user.username, level=user.level, place=user.place,
                                            last_seen=utcnow()))
                    else:
                        p.level, p.place, p.last_seen = user.level, user.place, utcnow()
                return
            except IntegrityError:
                continue

    def offline(self, user: StaffUser) -> None:
        """The helper left (logged out)."""
        with self.db.session() as s:
            s.execute(delete(StaffPresence).where(StaffPresence.username == user.username))

    def online(self, level: str | None = None) -> list[dict[str, Any]]:
        """Helpers with a recent heartbeat (optionally of one level code)."""
        since = utcnow() - timedelta(seconds=self.settings.staff_presence_ttl_s)
        with self.db.session() as s:
            q = select(StaffPresence).where(StaffPresence.last_seen >= since)
            if level:
                q = q.where(StaffPresence.level == level)
            return [{"username": p.username, "level": p.level, "place": p.place}
                    for p in s.scalars(q.order_by(StaffPresence.username))]

    def availability(self, level_name: str, now: datetime | None = None) -> Availability:
        """Who can answer a ticket of ``level_name`` now; when nobody, when the next office hours begin."""
        now = now or datetime.now(timezone.utc)
        in_hours = routing.in_office_hours(self.settings, now)
        online = len(self.online(routing.level_code(level_name)))
        when = routing.describe_time(routing.next_opening(self.settings, now), now)
        return Availability(online=online, in_hours=in_hours, when=when)

    # --- canned replies -----------------------------------------------------------------------------------------

    def canned(self) -> list[dict[str, Any]]:
        """The canned replies (the defaults are written on first use)."""
        with self.db.session() as s:
            if not s.scalar(select(func.count(CannedReply.id))):
                for title, text in DEFAULT_CANNED:
                    s.add(CannedReply(title=title, text=text, updated_by="system"))
                s.flush()
            return [{"id": c.id, "title": c.title, "text": c.text, "updated_by": c.updated_by}
                    for c in s.scalars(select(CannedReply).order_by(CannedReply.id))]

    def save_canned(self, user: StaffUser, title: str, text: str, canned_id: int | None = None) -> dict[str, Any]:
        """Create (``canned_id`` ``None``) or change a canned reply.

        Raises:
            TicketNotFound: (reused) no canned reply ``canned_id``.
        """
        self.canned()
        with self.db.session() as s:
            if canned_id is None:
                c = CannedReply(title=title, text=text, updated_by=user.username)
                s.add(c)
            else:
                c = s.get(CannedReply, canned_id)
                if c is None:
                    raise TicketNotFound(canned_id)
                c.title, c.text, c.updated_by = title, text, user.username
            s.flush()
            return {"id": c.id, "title": c.title, "text": c.text, "updated_by": c.updated_by}

    def delete_canned(self, canned_id: int) -> None:
        """Remove a canned reply (no error when there is none)."""
        with self.db.session() as s:
            s.execute(delete(CannedReply).where(CannedReply.id == canned_id))
