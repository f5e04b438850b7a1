"""Mini-program: the JSON API under /api/v1/mp/ and the message push at /wechat/miniprogram (JSON and XML,
customer-service delivery, transfer_customer_service)."""

from __future__ import annotations

import json
import time

from assistant.channels.wechat import mp as wechat_mp
from assistant.channels.wechat.crypto import WeChatCrypto, sha1_signature
from assistant.channels.wechat.xml import build_xml
from tests.channels.conftest import AES_KEY, APPID, TOKEN, run
from tests.channels.wechat_helpers import client, encrypted, query


def mp_text(content: str, msgid: str, openid: str = "o-mp-user-1") -> dict:
    return {"ToUserName": "gh_mini", "FromUserName": openid, "CreateTime": int(time.time()),
            "MsgType": "text", "Content": content, "MsgId": int(msgid)}


def test_push_json_plain_answers_by_customer_service(channel_app, fake_wechat):
    _, wx = fake_wechat
    app, _, bot = channel_app()

    async def go():
        async with client(app) as c:
            ok = await c.get("/wechat/miniprogram", params=query(echostr="e1"))
            r = await c.post("/wechat/miniprogram", params=query(), content=json.dumps(mp_text("你好", "1")),
                             headers={"Content-Type": "application/json"})
            retry = await c.post("/wechat/miniprogram", params=query(), content=json.dumps(mp_text("你好", "1")))
            bad = await c.post("/wechat/miniprogram", params=query(), content="{not json")
            enter = await c.post("/wechat/miniprogram", params=query(), content=json.dumps(
                {"ToUserName": "gh_mini", "FromUserName": "o-mp-user-1", "CreateTime": 1700000000,
                 "MsgType": "event", "Event": "user_enter_tempsession", "SessionFrom": "x"}))
            await wechat_mp.get_runtime(app).drain()
            return ok, r, retry, bad, enter

    ok, r, retry, bad, enter = run(go())
    assert ok.text == "e1"
    assert r.text == "success" and retry.text == "success" and enter.text == "success"
    assert bad.status_code == 400
    assert len(bot.calls) == 1 and bot.calls[0]["channel"] == "miniprogram"
    sent = wx.wait_sent(2)
    contents = sorted(s["text"]["content"] for s in sent)
    assert len(sent) == 2 and "收到：你好" in contents and any("欢迎" in x for x in contents)


def test_push_encrypted_json_transfer_customer_service(channel_app, fake_wechat):
    _, wx = fake_wechat
    app, services, _ = channel_app(wechat_mode="safe", wechat_miniprogram_transfer=True)

    async def go():
        async with client(app) as c:
            body, q = encrypted(json.dumps(mp_text("我要人工", "2"), ensure_ascii=False), fmt="json")
            r = await c.post("/wechat/miniprogram", params=q, content=body)
            await wechat_mp.get_runtime(app).drain()
            return r

    r = run(go())
    outer = r.json()
    assert outer["MsgSignature"] == sha1_signature(TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    inner = json.loads(WeChatCrypto(TOKEN, AES_KEY, APPID).decrypt(outer["Encrypt"]))
    assert inner["MsgType"] == "transfer_customer_service" and inner["ToUserName"] == "o-mp-user-1"
    assert "已为您转接" in wx.wait_sent(1)[0]["text"]["content"]
    assert services.handoffs.list()[0].channel == "miniprogram"


def test_push_xml_without_transfer_setting_is_success(channel_app, fake_wechat):
    _, wx = fake_wechat
    app, _, _ = channel_app()

    async def go():
        async with client(app) as c:
            r = await c.post("/wechat/miniprogram", params=query(), content=build_xml(mp_text("转人工", "3")))
            await wechat_mp.get_runtime(app).drain()
            return r

    r = run(go())
    assert r.text == "success"
    assert "已为您转接" in wx.wait_sent(1)[0]["text"]["content"]


def test_json_api_session_chat_handoff_and_matter(channel_app, kb):
    app, services, _ = channel_app(kb=kb)
    code = next(m.code for m in kb.matters if m.materials)

    async def go():
        async with client(app) as c:
            out = {}
            out["session"] = await c.post("/api/v1/mp/session", json={"code": "CODE-OK"})
            out["again"] = await c.post("/api/v1/mp/session", json={"code": "CODE-OK"})
            out["badcode"] = await c.post("/api/v1/mp/session", json={"code": "nope"})
            out["nocode"] = await c.post("/api/v1/mp/session", json={})
            sid = out["session"].json()["session_id"]
            out["chat"] = await c.post("/api/v1/mp/chat", json={"session_id": sid, "text": "要带什么材料"})
            out["empty"] = await c.post("/api/v1/mp/chat", json={"session_id": sid, "text": "  "})
            out["unknown"] = await c.post("/api/v1/mp/chat", json={"session_id": "mp-doesnotexist1", "text": "x"})
            out["before"] = await c.get(f"/api/v1/mp/sessions/{sid}/handoff")
            await c.post("/api/v1/mp/chat", json={"session_id": sid, "text": "转人工"})
            tid = services.handoffs.list()[0].id
            services.handoffs.reply(tid, "请到3号窗口。", "金帮办·李老师")
            out["after"] = await c.get(f"/api/v1/mp/sessions/{sid}/handoff")
            out["matter"] = await c.get(f"/api/v1/mp/matters/{code}")
            out["checklist"] = await c.get(f"/api/v1/mp/matters/{code}/checklist")
            out["nomatter"] = await c.get("/api/v1/mp/matters/NO-SUCH-CODE")
            out["openapi"] = await c.get("/openapi.json")
            return out

    out = run(go())
    s = out["session"].json()
    assert s["session_id"].startswith("mp-") and s["new"] is True
    again = out["again"].json()
    assert again["session_id"] == s["session_id"] and again["new"] is False
    assert len(s["session_token"]) >= 32 and again["session_token"] != s["session_token"]  # a new login, a new token
    assert out["badcode"].status_code == 400 and out["nocode"].status_code == 400
    chat = out["chat"].json()
    assert chat["session_id"] == s["session_id"] and [p["type"] for p in chat["replies"]][:3] == [
        "text", "matter_card", "checklist"]
    assert out["empty"].status_code == 400 and out["unknown"].status_code == 401
    assert out["before"].json()["handoff"] is None
    after = out["after"].json()
    assert after["handoff"]["status"] == "answered"
    assert after["messages"][0]["text"] == "请到3号窗口。" and after["messages"][0]["staff_name"] == "金帮办·李老师"
    m = out["matter"].json()
    assert m["matter_card"]["matter"]["code"] == code and m["checklist"]["items"]
    assert out["checklist"].json()["type"] == "checklist"
    assert out["nomatter"].status_code == 404
    paths = out["openapi"].json()["paths"]
    for p in ("/api/v1/mp/session", "/api/v1/mp/chat", "/api/v1/mp/matters/{code}",
              "/api/v1/mp/matters/{code}/checklist", "/api/v1/mp/sessions/{session_id}/handoff"):
        assert p in paths


def test_openid_directly_only_outside_production(channel_app):
    app, _, _ = channel_app()
    # production refuses weak tokens and plain-mode WeChat at start (assistant/settings.py)
    papp, _, _ = channel_app(environment="production", staff_token="Kq7-vR2xWm9pLz4Ns8Tb3Yc6", wechat_mode="safe")

    async def go():
        async with client(app) as c, client(papp) as p:
            return (await c.post("/api/v1/mp/session", json={"openid": "o-dev"}),
                    await p.post("/api/v1/mp/session", json={"openid": "o-dev"}))

    dev, prod = run(go())
    assert dev.status_code == 200 and prod.status_code == 400


def test_mini_program_conversation_needs_its_session_token(channel_app):
    """Finding: the mini-program API answered for any ``mp-…`` session id. Now the login returns a session token,
    every call for the conversation needs it, and a new login replaces it."""
    import httpx

    app, _, bot = channel_app()

    async def go():
        bare = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        async with bare as c:
            first = (await c.post("/api/v1/mp/session", json={"code": "CODE-OK"})).json()
            sid, token = first["session_id"], first["session_token"]
            chat = {"session_id": sid, "text": "你好"}
            out = {
                "none": await c.post("/api/v1/mp/chat", json=chat),
                "wrong": await c.post("/api/v1/mp/chat", json={**chat, "session_token": "x" * 32}),
                "body": await c.post("/api/v1/mp/chat", json={**chat, "session_token": token}),
                "header": await c.post("/api/v1/mp/chat", json=chat, headers={"X-Session-Token": token}),
                "poll_none": await c.get(f"/api/v1/mp/sessions/{sid}/handoff"),
                "poll": await c.get(f"/api/v1/mp/sessions/{sid}/handoff", headers={"X-Session-Token": token}),
            }
            again = (await c.post("/api/v1/mp/session", json={"code": "CODE-OK"})).json()
            out["old"] = await c.post("/api/v1/mp/chat", json={**chat, "session_token": token})
            out["new"] = await c.post("/api/v1/mp/chat", json={**chat, "session_token": again["session_token"]})
            # a web session's token does not open a mini-program conversation, nor the other way round
            web = (await c.post("/api/v1/chat", json={"session_id": "w-mp-1", "text": "你好"})).json()
            out["web_token"] = await c.post("/api/v1/mp/chat", json={**chat, "session_token": web["session_token"]})
            out["mp_on_web"] = await c.post("/api/v1/mp/chat", json={"session_id": "w-mp-1", "text": "x",
                                                                     "session_token": web["session_token"]})
            return out

    out = run(go())
    assert out["none"].status_code == 401 and out["wrong"].status_code == 403
    assert out["body"].status_code == 200 and out["header"].status_code == 200
    assert out["poll_none"].status_code == 401 and out["poll"].status_code == 200
    assert out["old"].status_code == 403 and out["new"].status_code == 200
    assert out["web_token"].status_code == 403
    assert out["mp_on_web"].status_code == 422  # not an mp- session id at all
    # the turns that got through carry the WeChat user as the client of the daily caps, never an address
    refs = {c["metadata"]["client_ref"] for c in bot.calls if c["channel"] == "miniprogram"}
    assert len(refs) == 1 and refs.pop().startswith("c-")
