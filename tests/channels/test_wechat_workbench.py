"""WeChat and the 金帮办 workbench: a helper's reply through ``POST /api/v1/tickets/{id}/reply`` is pushed with
the customer-service API (the fake WeChat server), and after the close the user is asked to rate."""

from __future__ import annotations

from assistant.channels.wechat import mp as wechat_mp
from assistant.dialogue.replies import say
from tests.channels.conftest import run
from tests.channels.wechat_helpers import client, query, text_msg

SERVICE = {"Authorization": "Bearer wechat-workbench-token"}


def test_workbench_reply_and_rating_request_reach_the_wechat_user(channel_app, fake_wechat):
    _, wx = fake_wechat
    app, services, _ = channel_app(staff_token="wechat-workbench-token")

    async def go():
        async with client(app) as c:
            await c.post("/wechat/mp", params=query(), content=text_msg("转人工", msgid="951"))
            ticket = services.handoffs.list()[0]
            r = await c.post(f"/api/v1/tickets/{ticket.id}/reply", headers=SERVICE,
                             json={"text": "您好，请带身份证原件。", "staff_name": "金帮办·王老师"})
            assert r.status_code == 200, r.text
            await wechat_mp.get_runtime(app).drain()
            r = await c.post(f"/api/v1/tickets/{ticket.id}/close", headers=SERVICE, json={"summary": "已告知材料"})
            assert r.status_code == 200, r.text
            await wechat_mp.get_runtime(app).drain()
            return ticket

    ticket = run(go())
    contents = [m["text"]["content"] for m in wx.wait_sent(2)]
    assert "【金帮办·王老师】您好，请带身份证原件。" in contents
    assert contents[-1] == say("handoff.rate_ask")
    assert services.handoffs.get(ticket.id).status == "closed"
