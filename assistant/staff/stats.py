"""The service's figures for the dashboard (``GET /api/v1/stats``): SQL aggregates that run on SQLite and
PostgreSQL alike, over the last ``days`` local days (成都, UTC+8).

Where each fact comes from:

* turns, conversations, channels — ``messages`` (``role = 'user'``) joined to ``conversations.channel``;
* answered with a matter / fallback — ``messages.outcome`` and ``messages.matter_code`` of the user message,
  written with the turn (:func:`assistant.db.conversations.turn_outcome`); turns stored before that have no
  outcome and count in neither;
* handoffs, waiting and handling time, ratings — ``handoff_tickets`` (``created_at``, ``claimed_at``,
  ``first_reply_at``, ``closed_at``, ``rating``);
* 👍/👎 — ``feedback``;
* pre-service — ``ps_reminders`` (sent), ``ps_bookings`` (per street), ``ps_new_firms`` (pushed, acknowledged,
  escalated).

Every figure is an aggregate; the only texts are the top unanswered questions, stored masked and masked again
here.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import case, distinct, extract, func, select
from sqlalchemy.sql.elements import ColumnElement

from assistant.db.chat import Conversation, HandoffTicket, Message
from assistant.db.feedback import Feedback
from assistant.db.preservice import Booking, NewFirm, Reminder
from assistant.db.session import Database
from assistant.privacy import mask_pii

#: 成都 is UTC+8 all year (no daylight saving).
LOCAL_OFFSET = timedelta(hours=8)
MAX_DAYS = 366
TOP_N = 10


def _day(dialect: str, col: Any) -> ColumnElement:
    """The local (UTC+8) calendar day of a UTC timestamp column, as SQL."""
    if dialect == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", col))
    return func.date(col, "+8 hours")


def _seconds(dialect: str, later: Any, earlier: Any) -> ColumnElement:
    """``later - earlier`` in seconds, as SQL."""
    if dialect == "postgresql":
        return extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _num(v: Any, nd: int = 1) -> float | None:
    return round(float(v), nd) if v is not None else None


def window(days: int, today: date) -> tuple[date, datetime]:
    """The first local day of the window and its start as an aware UTC datetime."""
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(0), tzinfo=timezone.utc) - LOCAL_OFFSET
    return first, start


def compute(db: Database, days: int, today: date, matter_name: Callable[[str], str] | None = None) -> dict[str, Any]:
    """The figures of the last ``days`` local days up to ``today`` (inclusive).

    Args:
        db: the app database.
        days: 1 … 366.
        today: the local date (the pre-service clock's).
        matter_name: ``code -> name`` for the top matters (the KB); the code is shown when it gives ``""``.

    Returns:
        The JSON of ``GET /api/v1/stats`` (see docs/staff.md).
    """
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1..{MAX_DAYS}")
    dialect = db.engine.dialect.name
    first, start = window(days, today)
    name_of = matter_name or (lambda code: "")
    user = Message.role == "user"
    since = Message.created_at >= start
    with db.session() as s:
        # ---- conversations and turns -------------------------------------------------------------------------
        turns, sessions, with_matter, fallbacks, unknown = s.execute(
            select(func.count(Message.id), func.count(distinct(Message.session_id)),
                   func.sum(case((Message.matter_code.is_not(None), 1), else_=0)),
                   func.sum(case((Message.outcome == "fallback", 1), else_=0)),
                   func.sum(case((Message.outcome.is_(None), 1), else_=0)))
            .where(user, since)).one()
        turns, sessions = int(turns or 0), int(sessions or 0)
        with_matter, fallbacks, unknown = int(with_matter or 0), int(fallbacks or 0), int(unknown or 0)
        day = _day(dialect, Message.created_at).label("day")
        per_day = [
            {"day": str(d), "channel": ch, "conversations": int(c), "turns": int(t)}
            for d, ch, c, t in s.execute(
                select(day, Conversation.channel, func.count(distinct(Message.session_id)), func.count(Message.id))
                .join(Conversation, Conversation.session_id == Message.session_id)
                .where(user, since).group_by(day, Conversation.channel).order_by(day, Conversation.channel))]
        outcomes = {o or "unknown": int(n) for o, n in s.execute(
            select(Message.outcome, func.count(Message.id)).where(user, since).group_by(Message.outcome))}
        top_matters = [
            {"code": code, "name": name_of(code) or code, "turns": int(n)}
            for code, n in s.execute(
                select(Message.matter_code, func.count(Message.id)).where(user, since, Message.matter_code.is_not(None))
                .group_by(Message.matter_code).order_by(func.count(Message.id).desc(), Message.matter_code)
                .limit(TOP_N))]
        top_unanswered = [
            {"text": mask_pii(text or ""), "count": int(n), "last_at": _iso(last)}
            for text, n, last in s.execute(
                select(Message.text, func.count(Message.id), func.max(Message.created_at))
                .where(user, since, Message.outcome == "fallback")
                .group_by(Message.text).order_by(func.count(Message.id).desc(), func.max(Message.created_at).desc())
                .limit(TOP_N))]

        # ---- handoffs ----------------------------------------------------------------------------------------
        t_since = HandoffTicket.created_at >= start
        handoffs, handoff_sessions = s.execute(
            select(func.count(HandoffTicket.id), func.count(distinct(HandoffTicket.session_id))).where(t_since)).one()
        handoffs, handoff_sessions = int(handoffs or 0), int(handoff_sessions or 0)
        tday = _day(dialect, HandoffTicket.created_at).label("day")
        handoffs_per_day = [{"day": str(d), "handoffs": int(n)} for d, n in s.execute(
            select(tday, func.count(HandoffTicket.id)).where(t_since).group_by(tday).order_by(tday))]
        wait = _seconds(dialect, HandoffTicket.first_reply_at, HandoffTicket.created_at)
        claim = _seconds(dialect, HandoffTicket.claimed_at, HandoffTicket.created_at)
        handle = _seconds(dialect, HandoffTicket.closed_at, func.coalesce(HandoffTicket.claimed_at,
                                                                          HandoffTicket.created_at))
        w_n, w_avg, w_max = s.execute(select(func.count(HandoffTicket.id), func.avg(wait), func.max(wait))
                                      .where(t_since, HandoffTicket.first_reply_at.is_not(None))).one()
        c_n, c_avg = s.execute(select(func.count(HandoffTicket.id), func.avg(claim))
                               .where(t_since, HandoffTicket.claimed_at.is_not(None))).one()
        h_n, h_avg, h_max = s.execute(select(func.count(HandoffTicket.id), func.avg(handle), func.max(handle))
                                      .where(t_since, HandoffTicket.closed_at.is_not(None))).one()
        unanswered_now = int(s.scalar(select(func.count(HandoffTicket.id)).where(
            HandoffTicket.status != "closed", HandoffTicket.first_reply_at.is_(None))) or 0)

        # ---- satisfaction --------------------------------------------------------------------------------------
        ratings = {int(r): int(n) for r, n in s.execute(
            select(HandoffTicket.rating, func.count(HandoffTicket.id))
            .where(t_since, HandoffTicket.rating.is_not(None)).group_by(HandoffTicket.rating))}
        r_avg = s.scalar(select(func.avg(HandoffTicket.rating)).where(t_since, HandoffTicket.rating.is_not(None)))
        thumbs = {r: int(n) for r, n in s.execute(
            select(Feedback.rating, func.count(Feedback.id)).where(Feedback.created_at >= start)
            .group_by(Feedback.rating))}

        # ---- pre-service ---------------------------------------------------------------------------------------
        reminders_by_channel = {ch: int(n) for ch, n in s.execute(
            select(Reminder.channel, func.count(Reminder.id))
            .where(Reminder.status == "sent", Reminder.sent_at >= start).group_by(Reminder.channel))}
        reminders_to_phone = int(s.scalar(select(func.count(Reminder.id)).where(
            Reminder.status.in_(("pending", "failed")), Reminder.created_at >= start)) or 0)
        visits = [
            {"street": st, "booked": int(b), "confirmed": int(c or 0), "done": int(d or 0), "cancelled": int(x or 0)}
            for st, b, c, d, x in s.execute(
                select(Booking.street, func.count(Booking.id),
                       func.sum(case((Booking.status == "confirmed", 1), else_=0)),
                       func.sum(case((Booking.status == "done", 1), else_=0)),
                       func.sum(case((Booking.status == "cancelled", 1), else_=0)))
                .where(Booking.created_at >= start).group_by(Booking.street).order_by(Booking.street))]
        ack = _seconds(dialect, NewFirm.acknowledged_at, NewFirm.created_at)
        firms = [
            {"street": st or "", "pushed": int(p), "acknowledged": int(a or 0), "escalated": int(e or 0),
             "avg_ack_s": _num(avg_ack)}
            for st, p, a, e, avg_ack in s.execute(
                select(NewFirm.street, func.count(NewFirm.id),
                       func.sum(case((NewFirm.acknowledged_at.is_not(None), 1), else_=0)),
                       func.sum(case((NewFirm.escalated_at.is_not(None), 1), else_=0)),
                       func.avg(case((NewFirm.acknowledged_at.is_not(None), ack), else_=None)))
                .where(NewFirm.created_at >= start).group_by(NewFirm.street).order_by(NewFirm.street))]

    thumbs_up, thumbs_down = thumbs.get("up", 0), thumbs.get("down", 0)
    return {
        "days": days, "from": first.isoformat(), "to": today.isoformat(),
        "sessions": sessions, "turns": turns,
        "answered_with_matter": with_matter, "matter_rate": _rate(with_matter, turns),
        "fallbacks": fallbacks, "fallback_rate": _rate(fallbacks, turns), "turns_without_outcome": unknown,
        "outcomes": outcomes,
        "handoffs": handoffs, "handoff_rate": _rate(handoff_sessions, sessions),
        "per_day": per_day, "handoffs_per_day": handoffs_per_day,
        "channels": sorted({r["channel"] for r in per_day}),
        "top_matters": top_matters, "top_unanswered": top_unanswered,
        "waiting": {"answered": int(w_n or 0), "avg_s": _num(w_avg), "max_s": _num(w_max),
                    "claimed": int(c_n or 0), "avg_claim_s": _num(c_avg), "unanswered_now": unanswered_now},
        "handling": {"closed": int(h_n or 0), "avg_s": _num(h_avg), "max_s": _num(h_max)},
        "satisfaction": {"ratings": sum(ratings.values()), "avg_rating": _num(r_avg, 2),
                         "distribution": {str(k): ratings.get(k, 0) for k in range(1, 6)},
                         "thumbs_up": thumbs_up, "thumbs_down": thumbs_down,
                         "thumbs_up_rate": _rate(thumbs_up, thumbs_up + thumbs_down)},
        "preservice": {
            "reminders_sent": sum(reminders_by_channel.values()), "reminders_by_channel": reminders_by_channel,
            "reminders_to_phone": reminders_to_phone,
            "visits_booked": sum(v["booked"] for v in visits), "visits_by_street": visits,
            "firms_pushed": sum(f["pushed"] for f in firms),
            "firms_acknowledged": sum(f["acknowledged"] for f in firms),
            "firms_escalated": sum(f["escalated"] for f in firms), "firms_by_street": firms,
        },
    }


def _iso(dt: datetime | None) -> str:
    if dt is None:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.isoformat()


def to_csv(stats: dict[str, Any]) -> str:
    """The figures as one CSV table ``figure,day,key,value`` (UTF-8 with BOM for Excel)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["figure", "day", "key", "value"])
    span = f"{stats['from']}..{stats['to']}"
    for k in ("sessions", "turns", "answered_with_matter", "matter_rate", "fallbacks", "fallback_rate", "handoffs",
              "handoff_rate"):
        w.writerow(["summary", span, k, stats[k]])
    for r in stats["per_day"]:
        w.writerow(["conversations", r["day"], r["channel"], r["conversations"]])
        w.writerow(["turns", r["day"], r["channel"], r["turns"]])
    for r in stats["handoffs_per_day"]:
        w.writerow(["handoffs", r["day"], "", r["handoffs"]])
    for r in stats["top_matters"]:
        w.writerow(["top_matter", span, f"{r['code']} {r['name']}", r["turns"]])
    for r in stats["top_unanswered"]:
        w.writerow(["top_unanswered", span, _cell(r["text"]), r["count"]])
    for group in ("waiting", "handling"):
        for k, v in stats[group].items():
            w.writerow([group, span, k, "" if v is None else v])
    sat = stats["satisfaction"]
    for k in ("ratings", "avg_rating", "thumbs_up", "thumbs_down", "thumbs_up_rate"):
        w.writerow(["satisfaction", span, k, "" if sat[k] is None else sat[k]])
    for k, v in sat["distribution"].items():
        w.writerow(["rating", span, k, v])
    pre = stats["preservice"]
    for k in ("reminders_sent", "reminders_to_phone", "visits_booked", "firms_pushed", "firms_acknowledged",
              "firms_escalated"):
        w.writerow(["preservice", span, k, pre[k]])
    for r in pre["visits_by_street"]:
        w.writerow(["visits_booked", span, r["street"], r["booked"]])
    for r in pre["firms_by_street"]:
        w.writerow(["firms_pushed", span, r["street"] or "(未匹配街道)", r["pushed"]])
        w.writerow(["firms_acknowledged", span, r["street"] or "(未匹配街道)", r["acknowledged"]])
    return "\ufeff" + buf.getvalue()


def _cell(text: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
