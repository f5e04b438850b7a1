"""A small, fully known week of service written through the app's own stores (turns through
``ConversationStore.record_turn``, tickets through ``HandoffStore``), then dated by hand, so the dashboard's
figures can be checked against numbers counted here independently.

The clock: 2026-12-01 02:00 UTC = 10:00 in 成都; ``days=7`` covers the local days 11-25 … 12-01.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select, update

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
STREET_A = "西安路街道"
STREET_B = "抚琴街道"
PHONE = "13812345678"


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=timezone.utc)


def card(code: str, name: str) -> dict:
    return {"type": "matter_card", "matter": {"code": code, "name": name}}


def seed(services, kb) -> dict:
    """Write the week; return what the dashboard must show (counted by hand from the rows below)."""
    from assistant.db.chat import HandoffTicket, Message
    from assistant.db.feedback import Feedback
    from assistant.db.preservice import Booking, Licence, NewFirm, Reminder

    conv = services.conversations
    m_a, m_b = kb.matters[0], kb.matters[1]
    text = {"type": "text", "text": "好的"}

    def turn(sid, channel, user_text, replies, intent, at):
        bot_id = conv.record_turn(sid, channel, user_text, replies, intent, None)
        with services.db.session() as s:  # the user message is the one just before the bot message
            s.execute(update(Message).where(Message.id.in_((bot_id - 1, bot_id))).values(created_at=_at(at)))

    # s1 web, local day 11-30: two turns answered with matter A
    turn("s1", "web", "我想办个体户营业执照", [card(m_a.code, m_a.name)], "ask_matter", "2026-11-30T03:00:00")
    turn("s1", "web", "要带啥子", [{"type": "checklist", "matter": {"code": m_a.code, "name": m_a.name},
                                   "items": []}], "ask_materials", "2026-11-30T03:01:00")
    # s2 WeChat, 17:30 UTC on 11-30 = 01:30 on 12-01 local: three fallbacks (one with a phone number in it)
    turn("s2", "wechat_mp", "火星签证怎么办", [text], "nlu_fallback", "2026-11-30T17:30:00")
    turn("s2", "wechat_mp", "火星签证怎么办", [text], "nlu_fallback", "2026-11-30T17:31:00")
    turn("s2", "wechat_mp", f"我电话{PHONE}你们打过来", [{"type": "handoff", "ticket": {"id": 1}}],
         "out_of_scope", "2026-11-30T17:32:00")
    # s3 kiosk, local day 11-29: matter B, then a greeting
    turn("s3", "kiosk", "社保卡丢了咋补", [card(m_b.code, m_b.name),
                                        {"type": "buttons", "buttons": []}], "ask_matter", "2026-11-29T05:00:00")
    turn("s3", "kiosk", "你好", [text], "greet", "2026-11-29T05:02:00")
    # s4 web, long before the window
    turn("s4", "web", "老问题", [card(m_a.code, m_a.name)], "ask_matter", "2026-11-10T05:00:00")

    handoffs = services.handoffs
    t1 = handoffs.create("s2", "wechat_mp", reason="two_fallbacks").id
    t2 = handoffs.create("s1", "web", reason="request_human").id
    t3 = handoffs.create("s4", "web", reason="request_human").id
    with services.db.session() as s:
        s.execute(update(HandoffTicket).where(HandoffTicket.id == t1).values(
            created_at=_at("2026-11-30T18:00:00"), claimed_at=_at("2026-11-30T18:01:00"),
            first_reply_at=_at("2026-11-30T18:02:00"), closed_at=_at("2026-11-30T18:10:00"), status="closed",
            rating=4))
        s.execute(update(HandoffTicket).where(HandoffTicket.id == t2).values(
            created_at=_at("2026-11-30T04:00:00"), first_reply_at=_at("2026-11-30T04:05:00"), status="answered"))
        s.execute(update(HandoffTicket).where(HandoffTicket.id == t3).values(created_at=_at("2026-11-10T06:00:00")))
        for i, (r, at) in enumerate([("up", "2026-11-30T03:02:00"), ("up", "2026-11-29T05:03:00"),
                                     ("up", "2026-11-28T05:03:00"), ("down", "2026-11-30T17:33:00"),
                                     ("down", "2026-11-01T00:00:00")]):
            s.add(Feedback(session_id="s1", message_ref=str(i), rating=r, channel="widget", created_at=_at(at)))

        # pre-service: a licence of a firm in street A with three sent reminders and one for the phone
        lic = Licence(session_id=None, licence_type="food_business", licence_name="食品经营许可证",
                      number="JY15101060000001", holder="金牛示范餐饮有限公司", expiry_date=date(2026, 12, 20),
                      channel="none", contact=PHONE, source="upload", status="active")
        s.add(lic)
        s.flush()
        for off, status, ch, at in [(60, "sent", "web", "2026-11-26T02:00:00"),
                                    (30, "sent", "wechat", "2026-11-27T02:00:00"),
                                    (7, "sent", "web", "2026-11-30T02:00:00"),
                                    (1, "pending", "none", "2026-11-30T02:00:00"),
                                    (90, "sent", "web", "2026-10-01T02:00:00")]:
            s.add(Reminder(licence_id=lic.id, offset_days=off, expiry_date=lic.expiry_date,
                           due_date=lic.expiry_date - timedelta(days=off), status=status, channel=ch,
                           created_at=_at(at), sent_at=_at(at) if status == "sent" else None))
        for n, (st, status, at) in enumerate([(STREET_A, "booked", "2026-11-30T01:00:00"),
                                              (STREET_A, "done", "2026-11-28T01:00:00"),
                                              (STREET_B, "confirmed", "2026-11-29T01:00:00"),
                                              (STREET_B, "booked", "2026-11-01T01:00:00")]):
            s.add(Booking(number=f"SM2611300{n:03d}", session_id=f"b{n}", channel="web", person_name="张三丰",
                          person_note="高龄", phone=PHONE, address="金牛区西安中路8号2单元", street=st,
                          matter_code=None, matter_name="养老保险待遇资格认证", visit_date=date(2026, 12, 3),
                          half_day="上午", status=status, created_at=_at(at)))
        for n, (name, st, ack, esc, at) in enumerate([
                ("金牛示范餐饮有限公司", STREET_A, "2026-11-30T03:00:00", None, "2026-11-30T01:00:00"),
                ("西安路小超市", STREET_A, None, "2026-11-29T02:00:00", "2026-11-27T01:00:00"),
                ("无名工作室", "", None, None, "2026-11-29T01:00:00")]):
            s.add(NewFirm(name=name, credit_code=f"92510106MA00000{n:02d}X", address="金牛区西安中路8号",
                          industry="餐饮", registration_date=date(2026, 11, 20), street=st,
                          acknowledged_at=_at(ack) if ack else None, acknowledged_by="wang" if ack else None,
                          escalated_at=_at(esc) if esc else None, created_at=_at(at)))

    return {
        "sessions": 3, "turns": 7, "answered_with_matter": 3, "fallbacks": 3,
        "fallback_rate": round(3 / 7, 4), "matter_rate": round(3 / 7, 4),
        "handoffs": 2, "handoff_rate": round(2 / 3, 4),
        "per_day": [{"day": "2026-11-29", "channel": "kiosk", "conversations": 1, "turns": 2},
                    {"day": "2026-11-30", "channel": "web", "conversations": 1, "turns": 2},
                    {"day": "2026-12-01", "channel": "wechat_mp", "conversations": 1, "turns": 3}],
        "top_matters": [(m_a.code, m_a.name, 2), (m_b.code, m_b.name, 1)],
        "top_unanswered": [("火星签证怎么办", 2)],
        "waiting_avg_s": 210.0, "waiting_max_s": 300.0, "claim_avg_s": 60.0, "handling_avg_s": 540.0,
        "unanswered_now": 1,
        "ratings": 1, "avg_rating": 4.0, "thumbs_up": 3, "thumbs_down": 1,
        "reminders_sent": 3, "reminders_by_channel": {"web": 2, "wechat": 1}, "reminders_to_phone": 1,
        "visits_booked": 3, "visits_by_street": {STREET_A: (2, 1), STREET_B: (1, 0)},
        "firms_pushed": 3, "firms_acknowledged": 1, "firms_escalated": 1,
    }


def message_outcomes(services) -> list[tuple[str, str | None, str | None]]:
    """``(text, outcome, matter_code)`` of every stored user message, oldest first."""
    from assistant.db.chat import Message

    with services.db.session() as s:
        return [(m.text, m.outcome, m.matter_code) for m in
                s.scalars(select(Message).where(Message.role == "user").order_by(Message.id))]
