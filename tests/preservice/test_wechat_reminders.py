"""Reminders to WeChat users go through the WeChat channel layer's delivery hook (customer-service messages),
here against the local fake WeChat API server of tests/channels; on SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

import asyncio
from datetime import date

from assistant.channels.wechat import mp as wechat_mp
from assistant.db.wechat import WeChatUser
from tests.channels.conftest import APPID, SECRET


def _wechat_services(make_settings, kb, fake_wechat, clock, db_url):
    from assistant.container import build_services
    from assistant.preservice.runtime import set_clock

    base, state = fake_wechat
    services = build_services(make_settings(database_url=db_url, wechat_appid=APPID, wechat_appsecret=SECRET, wechat_api_base=base,
                                            wechat_token="t"), kb=kb, rasa=None)
    services.db.upgrade()
    wechat_mp.register_outbox(services)
    with services.db.session() as s:
        s.add(WeChatUser(openid="o-firm-1", channel="wechat_mp", session_id="wx-firm-1", subscribed=True))
    pre = set_clock(services, clock)
    lt = pre.catalogue.get("tobacco_retail")
    pre.licences.register(licence_type=lt.key, licence_name=lt.name, number="510106107788", holder="金牛便利店",
                          expiry_date=date(2026, 12, 8), session_id="wx-firm-1", channel="wechat")
    return services, pre, state


def test_wechat_reminder_is_a_customer_service_message(make_settings, kb, fake_wechat, clock, db_url):
    services, pre, state = _wechat_services(make_settings, kb, fake_wechat, clock, db_url)
    report = asyncio.run(pre.scheduler.run_once())
    assert report.sent == 1 and report.skipped == 2
    [msg] = state.wait_sent(1)
    assert msg["touser"] == "o-firm-1" and msg["msgtype"] == "text"
    content = msg["text"]["content"]
    assert "烟草专卖零售许可证" in content and "还剩 7 天" in content and "材料清单" in content
    assert asyncio.run(pre.scheduler.run_once()).sent == 0
    assert len(state.sent) == 1
    pre.scheduler.leadership.release()
    services.db.dispose()


def test_wechat_refusal_outside_the_48_hour_window_is_pending_for_staff(make_settings, kb, fake_wechat, clock, db_url):
    services, pre, state = _wechat_services(make_settings, kb, fake_wechat, clock, db_url)
    state.send_script = [45015]
    report = asyncio.run(pre.scheduler.run_once())
    assert report.pending == 1 and report.sent == 0
    from sqlalchemy import select

    from assistant.db.preservice import Reminder

    with services.db.session() as s:
        row = s.scalars(select(Reminder).where(Reminder.offset_days == 7)).one()
        assert row.status == "pending" and "undeliverable" in row.detail
    pre.scheduler.leadership.release()
    services.db.dispose()
