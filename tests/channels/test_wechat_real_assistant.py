"""End to end with the real app *and* the real Assistant (NLU + KB fallback, Rasa absent): a WeChat citizen
asks, picks a numbered option, asks for a human, and the helper's reply reaches WeChat via the fake API."""

from __future__ import annotations

import pytest

from assistant.channels.wechat import mp as wechat_mp
from assistant.channels.wechat.xml import parse_wechat_xml
from tests.channels.conftest import AES_KEY, APPID, SECRET, TOKEN, run
from tests.channels.wechat_helpers import client, query, text_msg

pytestmark = pytest.mark.slow


def test_wechat_conversation_with_the_real_assistant(make_settings, fake_wechat, kb, nlu):
    from assistant.app import create_app

    base, wx = fake_wechat
    settings = make_settings(wechat_token=TOKEN, wechat_appid=APPID, wechat_appsecret=SECRET,
                             wechat_aes_key=AES_KEY, wechat_mode="plain", wechat_api_base=base,
                             wechat_reply_budget_s=4.5, staff_token="staff-secret")
    app = create_app(settings, kb=kb, nlu=nlu, rasa=None, load_models=False)
    services = app.state.services
    services.db.upgrade()
    services.status.update(db="ready", kb="ready", nlu="ready")

    async def go():
        async with client(app) as c:
            first = await c.post("/wechat/mp", params=query(), content=text_msg("养老金资格认证怎么办", msgid="1"))
            materials = await c.post("/wechat/mp", params=query(), content=text_msg("1", msgid="2"))
            human = await c.post("/wechat/mp", params=query(), content=text_msg("转人工", msgid="3"))
            await wechat_mp.get_runtime(app).drain()
            tickets = services.handoffs.list()
            sent_before = len(wx.sent)
            # the helper answers through the staff API, which must reach the WeChat user by itself
            staff = await c.post(f"/api/v1/handoffs/{tickets[0].id}/reply",
                                 headers={"Authorization": "Bearer staff-secret"},
                                 json={"text": "您好，80岁以上老人可以申请上门认证。", "staff_name": "金帮办·王老师"})
            await wechat_mp.get_runtime(app).drain()
            return first, materials, human, tickets, staff, sent_before

    first, materials, human, tickets, staff, sent_before = run(go())
    text1 = parse_wechat_xml(first.content)["Content"]
    assert "资格认证】" in text1 and "回复数字选择" in text1 and "办理部门：" in text1
    text2 = parse_wechat_xml(materials.content)["Content"]
    assert "材料清单" in text2
    assert parse_wechat_xml(human.content)["Content"]
    assert tickets and tickets[0].channel == "wechat_mp" and tickets[0].session_id.startswith("wx-")
    assert staff.status_code == 200, staff.text
    assert len(wx.sent) == sent_before + 1
    assert wx.sent[-1]["touser"] == "o-user-1"
    assert wx.sent[-1]["text"]["content"].startswith("【金帮办·王老师】")
