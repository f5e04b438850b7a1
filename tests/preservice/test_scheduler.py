"""The reminder scheduler with a controllable clock: each offset once, restarts, catch-up, no duplicates."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from assistant.db.preservice import Reminder
from assistant.preservice.delivery import DeliveryResult
from assistant.preservice.runtime import build_preservice

EXPIRY = date(2027, 2, 1)  # 62 days after the clock's start (2026-12-01)


def _register(pre, sid="ps-s1", number="JY15101060012345", expiry=EXPIRY, channel="web", key="food_business"):
    lt = pre.catalogue.get(key)
    return pre.licences.register(licence_type=lt.key, licence_name=lt.name, number=number, holder="蓉城小面馆",
                                 expiry_date=expiry, session_id=sid, channel=channel)


def _inbox(services, sid="ps-s1"):
    return services.conversations.staff_messages_after(sid, 0)


def _rows(services):
    with services.db.session() as s:
        return [(r.offset_days, r.status) for r in s.scalars(select(Reminder).order_by(Reminder.id))]


def _run(pre):
    return asyncio.run(pre.scheduler.run_once())


def _to_days_before(clock, days):
    """Move the clock to ``days`` before EXPIRY (10:00 成都)."""
    from assistant.preservice.validation import today_local

    clock.advance(days=(EXPIRY - today_local(clock())).days - days)


def test_each_offset_is_sent_once_with_the_renewal_checklist(services, pre, clock):
    _register(pre)
    assert _run(pre).sent == 0                       # 62 days before: nothing due
    _to_days_before(clock, 60)
    assert _run(pre).sent == 1
    assert _run(pre).sent == 0                       # same day again: nothing new
    clock.advance(hours=5)
    assert _run(pre).sent == 0
    msgs = _inbox(services)
    assert len(msgs) == 1 and "还剩 60 天" in msgs[0].text and "食品经营许可证" in msgs[0].text
    assert "食品(含保健食品)经营许可延续" in msgs[0].text            # the renewal matter …
    assert "材料清单" in msgs[0].text                                  # … and its checklist
    _to_days_before(clock, 30)
    assert _run(pre).sent == 1
    _to_days_before(clock, 7)
    assert _run(pre).sent == 1
    clock.advance(days=3)
    assert _run(pre).sent == 0
    assert [m.text.split("还剩 ")[1].split(" 天")[0] for m in _inbox(services)] == ["60", "30", "7"]
    assert _rows(services) == [(60, "sent"), (30, "sent"), (7, "sent")]


def test_restart_in_the_middle_sends_nothing_twice(db_services, db_pre, clock):
    services, pre = db_services, db_pre  # SQLite and PostgreSQL
    _register(pre)
    _to_days_before(clock, 45)                       # 60-day reminder due
    assert _run(pre).sent == 1
    # the app restarts: a brand-new scheduler over the same database
    again = build_preservice(services, clock)
    assert asyncio.run(again.scheduler.run_once()).sent == 0
    _to_days_before(clock, 29)
    assert asyncio.run(again.scheduler.run_once()).sent == 1
    third = build_preservice(services, clock)
    assert asyncio.run(third.scheduler.run_once()).sent == 0
    assert len(_inbox(services)) == 2
    assert _rows(services) == [(60, "sent"), (30, "sent")]


def test_catch_up_after_downtime_sends_the_latest_due_and_records_the_skipped(services, pre, clock):
    _register(pre)
    _register(pre, sid="ps-s2", number="JY15101060099999", expiry=date(2027, 1, 25))  # 55 days out
    # the app was down from before any reminder was due until 20 days before EXPIRY
    _to_days_before(clock, 20)
    restarted = build_preservice(services, clock)
    report = asyncio.run(restarted.scheduler.run_once())
    assert report.sent == 2 and report.skipped == 2
    [msg] = _inbox(services)
    assert "还剩 20 天" in msg.text                   # the 30-day reminder, sent late, counts days honestly
    assert sorted(_rows(services)) == sorted([(60, "skipped"), (30, "sent"), (60, "skipped"), (30, "sent")])
    [msg2] = _inbox(services, "ps-s2")
    assert "还剩 13 天" in msg2.text
    _to_days_before(clock, 7)                        # both 7-day reminders (the second one expires today)
    assert asyncio.run(restarted.scheduler.run_once()).sent == 2
    assert "还剩 0 天" in _inbox(services, "ps-s2")[-1].text


def test_concurrent_schedulers_deliver_once(db_services, db_pre, clock):
    services, pre = db_services, db_pre  # SQLite and PostgreSQL
    _register(pre)
    _to_days_before(clock, 30)
    other = build_preservice(services, clock)

    async def both():
        return await asyncio.gather(pre.scheduler.run_once(), other.scheduler.run_once())

    reports = asyncio.run(both())
    assert len(_inbox(services)) == 1
    assert sum(r.sent for r in reports) == 1


class FlakyChannel:
    """A non-database channel: fails the first ``fail`` sends, then delivers (records every call)."""

    name = "wechat"

    def __init__(self, fail: int = 1, block: bool = False):
        self.fail, self.block, self.calls = fail, block, []

    async def send(self, session_id, contact, parts, kind):
        self.calls.append((session_id, kind, parts[0]["text"]))
        if self.block:
            await asyncio.sleep(3600)
        if self.fail:
            self.fail -= 1
            raise ConnectionError("WeChat API unreachable")
        return DeliveryResult("sent", "wx-1")


def test_a_failed_send_is_recorded_and_retried(db_services, db_pre, clock):
    services, pre = db_services, db_pre  # SQLite and PostgreSQL
    _register(pre, channel="wechat")
    flaky = FlakyChannel(fail=1)
    pre.scheduler.channels["wechat"] = flaky
    _to_days_before(clock, 30)
    r1 = _run(pre)
    assert r1.failed == 1 and r1.sent == 0
    assert _rows(services) == [(60, "skipped"), (30, "failed")]
    clock.advance(hours=1)
    r2 = _run(pre)
    assert r2.sent == 1 and r2.retried == 1
    assert _rows(services) == [(60, "skipped"), (30, "sent")]
    assert len(flaky.calls) == 2
    assert _run(pre).sent == 0 and len(flaky.calls) == 2


def test_a_send_cut_off_by_shutdown_is_finished_after_restart(db_services, db_pre, clock):
    services, pre = db_services, db_pre  # SQLite and PostgreSQL
    _register(pre, channel="wechat")
    _to_days_before(clock, 7)
    hanging = FlakyChannel(fail=0, block=True)
    pre.scheduler.channels["wechat"] = hanging

    async def cut_off():
        task = asyncio.create_task(pre.scheduler.run_once())
        while not hanging.calls:
            await asyncio.sleep(0.01)
        task.cancel()                                 # the app stops mid-send
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cut_off())
    assert (7, "claimed") in _rows(services)
    restarted = build_preservice(services, clock)
    ok = FlakyChannel(fail=0)
    restarted.scheduler.channels["wechat"] = ok
    report = asyncio.run(restarted.scheduler.run_once())
    assert report.sent == 1 and len(ok.calls) == 1
    assert (7, "sent") in _rows(services) and (7, "claimed") not in _rows(services)


def test_wechat_without_a_wechat_conversation_is_pending_for_staff(services, pre, clock):
    _register(pre, channel="wechat")                 # the real WeChat channel: this session is not a WeChat one
    _to_days_before(clock, 7)
    report = _run(pre)
    assert report.pending == 1 and report.sent == 0
    assert (7, "pending") in _rows(services)


def test_cancelled_and_expired_licences_get_nothing_and_a_renewal_starts_afresh(services, pre, clock):
    lic = _register(pre)
    _register(pre, sid="ps-s1", number="510106107788", key="tobacco_retail", expiry=date(2026, 12, 20))
    pre.licences.cancel("ps-s1", "JY15101060012345")
    _to_days_before(clock, 30)                        # the tobacco licence expired meanwhile
    assert _run(pre).sent == 0
    # re-registered with the renewed expiry: a fresh set of reminders
    lt = pre.catalogue.get("food_business")
    again = pre.licences.register(licence_type=lt.key, licence_name=lt.name, number=lic.number, holder="蓉城小面馆",
                                  expiry_date=date(2027, 1, 20), session_id="ps-s1")
    assert again.id == lic.id
    assert _run(pre).sent == 1


def test_offsets_come_from_settings(make_settings, kb, clock):
    from assistant.container import build_services

    services = build_services(make_settings(reminder_offsets_days="90, 15"), kb=kb, rasa=None)
    services.db.upgrade()
    pre = build_preservice(services, clock)
    assert pre.scheduler.offsets == [90, 15]
    services.db.dispose()


def test_a_batch_that_meets_a_concurrent_send_falls_back_to_one_by_one(db_services, db_pre, clock):
    services, pre = db_services, db_pre  # SQLite and PostgreSQL
    from assistant.preservice.scheduler import RunReport
    from assistant.preservice.validation import today_local

    for i in range(3):
        _register(pre, sid=f"ps-b{i}", number=f"JY1510106000000{i}")
    _to_days_before(clock, 7)
    today = today_local(clock())
    due = pre.scheduler._due(today)
    assert len(due) == 3
    with services.db.session() as s:   # another run recorded licence 2's 7-day reminder meanwhile
        lic_id, expiry = due[1][0], due[1][1]
        s.add(Reminder(licence_id=lic_id, offset_days=7, expiry_date=expiry, due_date=expiry - timedelta(days=7),
                       status="sent", channel="web", detail="", attempts=1))
    report = RunReport(today=today)
    pre.scheduler._send_web_batch(due, today, report)
    assert report.sent == 2
    assert [len(_inbox(services, f"ps-b{i}")) for i in range(3)] == [1, 0, 1]
    # licence 2 never gets an older (60/30-day) reminder after its 7-day one
    clock.advance(hours=1)
    assert _run(pre).sent == 0
