"""The official-account endpoint ``/wechat/mp``: verification, modes, bad input, dedup, the 4.5-s rule and the
customer-service path against the local fake WeChat API server."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from assistant.channels.wechat import mp as wechat_mp
from assistant.channels.wechat.xml import parse_wechat_xml
from assistant.db.wechat import WeChatDelivery, WeChatInbound, WeChatUser
from tests.channels.conftest import APPID, SECRET, error_code, error_message, run
from tests.channels.wechat_helpers import (
    client, encrypted, event_msg, open_encrypted_reply, query, text_msg,
)


def _rows(services, model):
    with services.db.session() as s:
        return list(s.scalars(select(model)).all())


# ---- GET verification ---------------------------------------------------------------------------------


def test_get_verification_echoes_and_rejects(channel_app):
    app, _, _ = channel_app()

    async def go():
        async with client(app) as c:
            ok = await c.get("/wechat/mp", params=query(echostr="echo-123"))
            bad = await c.get("/wechat/mp", params={**query(echostr="x"), "signature": "0" * 40})
            missing = await c.get("/wechat/mp", params={"timestamp": str(int(time.time())), "nonce": "1",
                                                        "echostr": "x"})
            stale = await c.get("/wechat/mp", params=query(ts=str(int(time.time()) - 3600), echostr="x"))
            return ok, bad, missing, stale

    ok, bad, missing, stale = run(go())
    assert ok.status_code == 200 and ok.text == "echo-123"
    assert bad.status_code == 403 and error_code(bad) == "bad_signature"
    assert missing.status_code == 403
    assert stale.status_code == 403 and error_code(stale) == "stale_timestamp"


def test_unconfigured_token_is_503(channel_app):
    app, _, _ = channel_app(wechat_token="")

    async def go():
        async with client(app) as c:
            return await c.get("/wechat/mp", params=query(echostr="x"))

    assert run(go()).status_code == 503


# ---- plain mode -----------------------------------------------------------------------------------------


def test_text_gets_a_passive_reply_with_the_matter_card(channel_app):
    app, services, bot = channel_app()

    async def go():
        async with client(app) as c:
            r = await c.post("/wechat/mp", params=query(), content=text_msg("开小卖部要什么材料"))
            return r

    r = run(go())
    assert r.status_code == 200
    reply = parse_wechat_xml(r.content)
    assert reply["ToUserName"] == "o-user-1" and reply["FromUserName"] == "gh_jinniu"
    assert reply["MsgType"] == "text"
    assert "【个体工商户设立登记】" in reply["Content"] and "1. 身份证（原件，1份）" in reply["Content"]
    assert "回复数字选择" in reply["Content"]
    assert bot.calls[0]["channel"] == "wechat_mp" and bot.calls[0]["session_id"].startswith("wx-")
    assert bot.calls[0]["metadata"]["wechat_openid"] == "o-user-1"
    (row,) = _rows(services, WeChatInbound)
    assert row.status == "answered" and row.delivery == "passive"


def test_number_reply_maps_to_the_option_shown(channel_app):
    app, _, bot = channel_app()

    async def go():
        async with client(app) as c:
            await c.post("/wechat/mp", params=query(), content=text_msg("要什么材料", msgid="1"))
            r = await c.post("/wechat/mp", params=query(), content=text_msg("2", msgid="2"))
            return r

    r = run(go())
    assert bot.calls[1]["text"] == "/request_human"
    assert "已为您转接金帮办专员" in parse_wechat_xml(r.content)["Content"]


def test_bad_input_is_rejected_cleanly_and_never_reaches_the_assistant(channel_app):
    app, _, bot = channel_app()
    xxe = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<xml><ToUserName>a</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType>'
           '<Content>&x;</Content><MsgId>9</MsgId></xml>')

    async def go():
        async with client(app) as c:
            out = {}
            out["malformed"] = await c.post("/wechat/mp", params=query(), content="<xml><Content>oops")
            out["xxe"] = await c.post("/wechat/mp", params=query(), content=xxe)
            out["huge"] = await c.post("/wechat/mp", params=query(),
                                       content=b"<xml><Content>" + b"a" * (1024 * 1024) + b"</Content></xml>")
            out["nosig"] = await c.post("/wechat/mp", params={"timestamp": str(int(time.time())), "nonce": "1"},
                                        content=text_msg("hi"))
            out["badsig"] = await c.post("/wechat/mp", params={**query(), "signature": "f" * 40},
                                         content=text_msg("hi"))
            out["stale"] = await c.post("/wechat/mp", params=query(ts=str(int(time.time()) - 10_000)),
                                        content=text_msg("hi"))
            out["nofields"] = await c.post("/wechat/mp", params=query(), content="<xml><A>1</A></xml>")
            out["unknown"] = await c.post("/wechat/mp", params=query(), content=text_msg(
                "x", msgid="77").replace("<MsgType><![CDATA[text]]>", "<MsgType><![CDATA[hologram]]>"))
            out["encrypted_in_plain"] = await c.post("/wechat/mp", params=encrypted(text_msg("hi"))[1],
                                                     content=encrypted(text_msg("hi"))[0])
            return out

    out = run(go())
    assert out["malformed"].status_code == 400 and error_code(out["malformed"]) == "bad_xml"
    assert out["xxe"].status_code == 400 and "DOCTYPE" in error_message(out["xxe"])
    assert out["huge"].status_code == 413
    assert out["nosig"].status_code == 403 and out["badsig"].status_code == 403
    assert out["stale"].status_code == 403
    assert out["nofields"].status_code == 400
    assert out["unknown"].status_code == 200 and out["unknown"].text == "success"
    assert out["encrypted_in_plain"].status_code == 400
    assert bot.calls == []


def test_events_subscribe_click_unsubscribe_and_media(channel_app):
    app, services, bot = channel_app()
    now = int(time.time())

    async def go():
        async with client(app) as c:
            sub = await c.post("/wechat/mp", params=query(), content=event_msg("subscribe", create=now))
            click = await c.post("/wechat/mp", params=query(), content=event_msg(
                "CLICK", create=now + 1, EventKey="MATTER:510100-XYZ"))
            view = await c.post("/wechat/mp", params=query(), content=event_msg(
                "VIEW", create=now + 2, EventKey="https://example.org"))
            img = await c.post("/wechat/mp", params=query(), content=text_msg("x", msgid="55").replace(
                "<MsgType><![CDATA[text]]>", "<MsgType><![CDATA[image]]>"))
            unsub = await c.post("/wechat/mp", params=query(), content=event_msg("unsubscribe", create=now + 3))
            return sub, click, view, img, unsub

    sub, click, view, img, unsub = run(go())
    welcome = parse_wechat_xml(sub.content)["Content"]
    assert "欢迎关注" in welcome and "1. 养老金资格认证" in welcome and "5. 转人工" in welcome
    assert bot.calls[0]["text"] == '/ask_matter{"matter": "510100-XYZ"}'
    assert view.text == "success"
    assert "只能看懂文字和语音" in parse_wechat_xml(img.content)["Content"]
    assert unsub.text == "success"
    (user,) = _rows(services, WeChatUser)
    assert user.subscribed is False
    assert len(bot.calls) == 1


def test_voice_uses_recognition_else_says_unsupported(channel_app, tmp_path):
    # no speech model in this install (Vosk chosen, its model missing): voice without WeChat's recognition is
    # answered with "unsupported" instead of failing
    app, _, bot = channel_app(asr_engine="vosk", vosk_model_path=tmp_path / "no-model", wechat_reply_budget_s=4.0)
    base = {"ToUserName": "gh_jinniu", "FromUserName": "o-user-1", "CreateTime": int(time.time()),
            "MsgType": "voice", "MediaId": "m1", "Format": "amr"}
    from assistant.channels.wechat.xml import build_xml

    async def go():
        async with client(app) as c:
            a = await c.post("/wechat/mp", params=query(),
                             content=build_xml({**base, "Recognition": "社保卡怎么补办", "MsgId": 301}))
            b = await c.post("/wechat/mp", params=query(), content=build_xml({**base, "MsgId": 302}))
            return a, b

    a, b = run(go())
    assert bot.calls[0]["text"] == "社保卡怎么补办"
    assert "收到：社保卡怎么补办" in parse_wechat_xml(a.content)["Content"]
    assert parse_wechat_xml(b.content)["Content"] == wechat_mp.TEXT_VOICE_UNSUPPORTED
    assert len(bot.calls) == 1


# ---- safe and compatible modes ---------------------------------------------------------------------------


def test_safe_mode_decrypts_and_encrypts_the_reply(channel_app):
    app, _, bot = channel_app(wechat_mode="safe")

    async def go():
        async with client(app) as c:
            body, q = encrypted(text_msg("你好"))
            ok = await c.post("/wechat/mp", params=q, content=body)
            plain = await c.post("/wechat/mp", params=query(), content=text_msg("明文", msgid="2"))
            body2, q2 = encrypted(text_msg("x", msgid="3"), appid="wxsomeoneelse00000")
            wrong_app = await c.post("/wechat/mp", params=q2, content=body2)
            body3, q3 = encrypted(text_msg("x", msgid="4"))
            bad_msgsig = await c.post("/wechat/mp", params={**q3, "msg_signature": "0" * 40}, content=body3)
            # a fixed ciphertext (fixed random bytes and CreateTime): what the wrong key yields is not left to chance
            body4, q4 = encrypted(text_msg("x", msgid="5", CreateTime=1764500000), key="A" * 43,
                                  random16=bytes(range(16)))
            wrong_key = await c.post("/wechat/mp", params=q4, content=body4)
            body5, q5 = encrypted(text_msg("x", msgid="6"))
            from assistant.channels.wechat.xml import build_xml
            from assistant.channels.wechat.crypto import sha1_signature
            enc = parse_wechat_xml(body5)["Encrypt"][:40]
            q5["msg_signature"] = sha1_signature("jxetoken2026", q5["timestamp"], q5["nonce"], enc)
            truncated = await c.post("/wechat/mp", params=q5,
                                     content=build_xml({"ToUserName": "gh", "Encrypt": enc}))
            return ok, plain, wrong_app, bad_msgsig, wrong_key, truncated

    ok, plain, wrong_app, bad_msgsig, wrong_key, truncated = run(go())
    assert ok.status_code == 200
    reply = open_encrypted_reply(ok.content)
    assert reply["Content"] == "收到：你好" and reply["ToUserName"] == "o-user-1"
    assert plain.status_code == 400
    assert wrong_app.status_code == 403 and error_code(wrong_app) == "wrong_appid"
    assert bad_msgsig.status_code == 403
    assert wrong_key.status_code == 400 and error_code(wrong_key) == "decrypt_failed"
    assert truncated.status_code == 400 and error_code(truncated) == "decrypt_failed"
    assert [c["text"] for c in bot.calls] == ["你好"]


def test_compatible_mode_accepts_both(channel_app):
    app, _, bot = channel_app(wechat_mode="compatible")

    async def go():
        async with client(app) as c:
            plain = await c.post("/wechat/mp", params=query(), content=text_msg("明文", msgid="1"))
            body, q = encrypted(text_msg("密文", msgid="2"))
            enc = await c.post("/wechat/mp", params=q, content=body)
            return plain, enc

    plain, enc = run(go())
    assert parse_wechat_xml(plain.content)["Content"] == "收到：明文"
    assert open_encrypted_reply(enc.content)["Content"] == "收到：密文"


# ---- the 4.5-second rule, retries, customer-service delivery ----------------------------------------------


def test_slow_answer_success_then_customer_service_exactly_once(channel_app, fake_wechat, db_url):
    _, wx = fake_wechat
    app, services, bot = channel_app(database_url=db_url, wechat_reply_budget_s=0.3)  # SQLite and PostgreSQL

    async def go():
        async with client(app) as c:
            first = await c.post("/wechat/mp", params=query(), content=text_msg("慢慢问", msgid="900"))
            retry = await c.post("/wechat/mp", params=query(), content=text_msg("慢慢问", msgid="900"))
            bot.gate.set()                                   # only now can the answer exist
            await wechat_mp.get_runtime(app).drain()
            late_retry = await c.post("/wechat/mp", params=query(), content=text_msg("慢慢问", msgid="900"))
            return first, retry, late_retry

    first, retry, late_retry = run(go())
    # the answer could not exist while WeChat waited (the gate was closed): "success" within the budget
    assert first.text == "success"
    assert retry.text == "success" and late_retry.text == "success"
    assert len(bot.calls) == 1
    sent = wx.wait_sent(1)
    assert len(sent) == 1 and sent[0]["touser"] == "o-user-1" and sent[0]["text"]["content"] == "收到：慢慢问"
    (row,) = _rows(services, WeChatInbound)
    assert row.delivery == "custom" and row.status == "delivered" and row.attempts == 3
    assert [d.status for d in _rows(services, WeChatDelivery)] == ["sent"]


def test_retry_while_computing_gets_the_answer_passively_and_nothing_is_sent(channel_app, fake_wechat, db_url):
    _, wx = fake_wechat
    # the budget only bounds how long the retry may wait once the answer is released (a hang guard)
    app, services, bot = channel_app(database_url=db_url, wechat_reply_budget_s=3.0)
    key = None

    async def go():
        nonlocal key
        rt = wechat_mp.get_runtime(app)
        async with client(app) as c:
            first = await c.post("/wechat/mp", params=query(), content=text_msg("慢问题", msgid="901"))
            (key,) = list(rt._pending)
            retry = asyncio.create_task(c.post("/wechat/mp", params=query(),
                                               content=text_msg("慢问题", msgid="901")))
            while rt._pending[key].waiters == 0:            # the retry has joined the computation
                assert not retry.done(), retry.result().text
                await asyncio.sleep(0.01)
            bot.gate.set()
            retry = await retry
            await rt.drain()
            return first, retry

    first, retry = run(go())
    assert first.text == "success"
    assert parse_wechat_xml(retry.content)["Content"] == "收到：慢问题"
    assert len(bot.calls) == 1
    (row,) = _rows(services, WeChatInbound)
    assert row.delivery == "passive" and row.status == "answered"
    assert wx.sent == [] and _rows(services, WeChatDelivery) == []


def test_lost_passive_reply_is_repeated_on_retry_not_recomputed(channel_app, fake_wechat):
    _, wx = fake_wechat
    app, _, bot = channel_app()

    async def go():
        async with client(app) as c:
            a = await c.post("/wechat/mp", params=query(), content=text_msg("快问题", msgid="902"))
            b = await c.post("/wechat/mp", params=query(), content=text_msg("快问题", msgid="902"))
            return a, b

    a, b = run(go())
    assert parse_wechat_xml(a.content)["Content"] == parse_wechat_xml(b.content)["Content"] == "收到：快问题"
    assert len(bot.calls) == 1 and wx.sent == []


def test_event_retries_dedup_by_openid_and_createtime(channel_app):
    app, _, _ = channel_app()
    now = int(time.time())

    async def go():
        async with client(app) as c:
            for _ in range(3):
                await c.post("/wechat/mp", params=query(), content=event_msg("CLICK", create=now,
                                                                             EventKey="ASK:居住证怎么办"))
            await c.post("/wechat/mp", params=query(), content=event_msg("CLICK", create=now + 1,
                                                                         EventKey="ASK:居住证怎么办"))

    app2 = app
    run(go())
    assert [c["text"] for c in app2.state.services.assistant.calls] == ["居住证怎么办", "居住证怎么办"]


def test_long_answer_first_part_passive_rest_by_customer_service(channel_app, fake_wechat):
    _, wx = fake_wechat
    app, _, _ = channel_app()

    async def go():
        async with client(app) as c:
            r = await c.post("/wechat/mp", params=query(), content=text_msg("长答案", msgid="903"))
            await wechat_mp.get_runtime(app).drain()
            return r

    r = run(go())
    first = parse_wechat_xml(r.content)["Content"]
    assert len(first.encode()) <= 2000
    sent = wx.wait_sent(3)
    assert len(sent) == 3 and all(len(s["text"]["content"].encode()) <= 2000 for s in sent)
    assert first.startswith("政务服务") and sent[0]["text"]["content"].startswith("政务服务")
    assert "sczwfw.gov.cn" in sent[-1]["text"]["content"]  # capped at 4 messages with a pointer


def test_token_refresh_on_40001_and_45015_recorded_undeliverable(channel_app, fake_wechat, db_url):
    _, wx = fake_wechat
    app, services, bot = channel_app(database_url=db_url, wechat_reply_budget_s=0.05)

    async def go():
        async with client(app) as c:
            wx.send_script = [40001]
            await c.post("/wechat/mp", params=query(), content=text_msg("慢一", msgid="904"))  # deferred
            bot.gate.set()
            await wechat_mp.get_runtime(app).drain()
            bot.gate.clear()
            wx.send_script = [45015]
            await c.post("/wechat/mp", params=query(), content=text_msg("慢二", msgid="905"))  # deferred
            bot.gate.set()
            await wechat_mp.get_runtime(app).drain()

    run(go())
    assert len(wx.tokens_issued) == 3  # first fetch, the scripted revocation, the refetch after 40001
    assert [s["text"]["content"] for s in wx.sent] == ["收到：慢一"]
    deliveries = {d.dedup_key.split(":")[-1]: d for d in _rows(services, WeChatDelivery)}
    assert deliveries["904"].status == "sent"
    assert deliveries["905"].status == "undeliverable" and deliveries["905"].errcode == 45015
    rows = {r.dedup_key.split(":")[-1]: r for r in _rows(services, WeChatInbound)}
    assert rows["905"].status == "undeliverable" and rows["904"].status == "delivered"


def test_assistant_error_still_answers(channel_app):
    app, _, _ = channel_app()

    async def go():
        async with client(app) as c:
            return await c.post("/wechat/mp", params=query(), content=text_msg("boom", msgid="906"))

    assert parse_wechat_xml(run(go()).content)["Content"] == wechat_mp.TEXT_ERROR


def test_staff_reply_reaches_the_wechat_user(channel_app, fake_wechat):
    _, wx = fake_wechat
    app, services, _ = channel_app()

    async def go():
        async with client(app) as c:
            await c.post("/wechat/mp", params=query(), content=text_msg("转人工", msgid="907"))
        ticket = services.handoffs.list()[0]
        msg = services.handoffs.reply(ticket.id, "您好，我是王老师，请带身份证原件。", "金帮办·王老师")
        out = await wechat_mp.deliver(services, ticket.session_id,
                                      [{"type": "staff", "text": msg.text, "staff_name": msg.staff_name}])
        not_wechat = await wechat_mp.deliver(services, "web-session-1", [{"type": "staff", "text": "x"}])
        scheduled = wechat_mp.schedule_delivery(services, ticket.session_id,
                                                [{"type": "staff", "text": "第二条", "staff_name": "王老师"}])
        wechat_mp.schedule_delivery(services, "web-session-1", [{"type": "staff", "text": "x"}])  # not WeChat's
        await wechat_mp.get_runtime(app).drain()
        return out, not_wechat, scheduled

    out, not_wechat, scheduled = run(go())
    assert out == "delivered" and not_wechat is None and scheduled is True
    assert all(m["text"]["content"] != "x" for m in wx.sent)
    assert wx.sent[-1]["text"]["content"] == "【王老师】第二条", wx.send_attempts
    assert wx.sent[-2]["text"]["content"] == "【金帮办·王老师】您好，我是王老师，请带身份证原件。"
    assert wx.sent[-1]["touser"] == "o-user-1"


def test_processes_share_one_access_token(make_settings, fake_wechat, db_url):
    """Two app processes (two runtimes over one database) fetch the token once and use the same one; after a
    40001 one of them refreshes it and the other picks up the new token instead of fetching its own."""
    from assistant.container import build_services

    base, state = fake_wechat
    settings = make_settings(database_url=db_url, wechat_appid=APPID,
                             wechat_appsecret=SECRET, wechat_api_base=base)
    one, two = build_services(settings, rasa=None), build_services(settings, rasa=None)
    one.db.upgrade()
    try:
        a, b = wechat_mp.runtime_for(one).api, wechat_mp.runtime_for(two).api
        first = run(a.access_token())
        assert run(b.access_token()) == first and len(state.tokens_issued) == 1
        renewed = run(a.access_token(force_refresh=True))
        assert renewed != first and len(state.tokens_issued) == 2
        assert run(b.access_token(force_refresh=False)) == renewed
        assert run(b.access_token(force_refresh=True)) != renewed  # b's own stale token is refreshed once more
    finally:
        one.db.dispose()
        two.db.dispose()


def test_a_captured_signature_cannot_carry_another_message(channel_app):
    """In plain mode the signature covers only token, timestamp and nonce: the same signed query with another body
    (another sender) is refused as replayed; the same body again is WeChat's own retry and is answered."""
    app, _, _ = channel_app()
    q, body = query(), text_msg("社保卡怎么补办", msgid="7001")

    async def go():
        async with client(app) as c:
            first = await c.post("/wechat/mp", params=q, content=body)
            retry = await c.post("/wechat/mp", params=q, content=body)
            forged = await c.post("/wechat/mp", params=q,
                                  content=text_msg("社保卡怎么补办", msgid="7002", openid="o-attacker"))
            return first, retry, forged

    first, retry, forged = run(go())
    assert first.status_code == 200 and retry.status_code == 200
    assert forged.status_code == 403 and error_code(forged) == "replayed"
