"""Feedback API, CORS limited to configured origins, the widget files, the WeChat/feedback migration, and the
voice path (AMR from the media API → ffmpeg → 16 kHz PCM → speech engine)."""

from __future__ import annotations

import os
import time

import sqlalchemy as sa
from sqlalchemy import select

from assistant.channels.wechat import mp as wechat_mp
from assistant.channels.wechat.xml import build_xml, parse_wechat_xml
from assistant.db.feedback import Feedback
from assistant.db.session import Database
from tests.channels.conftest import run
from tests.channels.wechat_helpers import client, query

ALLOWED = "https://www.jinniu.gov.cn"


def test_feedback_is_stored_masked_and_replaced(channel_app):
    app, services, _ = channel_app()

    async def go():
        async with client(app) as c:
            assert (await c.post("/api/v1/chat", json={"session_id": "w-abc", "text": "你好"})).status_code == 200
            a = await c.post("/api/v1/feedback", json={
                "session_id": "w-abc", "message_ref": "12", "rating": "up",
                "answer_text": "请致电 13812345678 咨询", "matter_code": "C1"})
            b = await c.post("/api/v1/feedback", json={"session_id": "w-abc", "message_ref": "12",
                                                        "rating": "down", "comment": "地址不对"})
            bad = await c.post("/api/v1/feedback", json={"session_id": "w-abc", "message_ref": "1",
                                                          "rating": "meh"})
            bad_sid = await c.post("/api/v1/feedback", json={"session_id": "<script>", "message_ref": "1",
                                                              "rating": "up"})
            return a, b, bad, bad_sid

    a, b, bad, bad_sid = run(go())
    assert a.status_code == 201 and b.status_code == 201 and a.json()["id"] == b.json()["id"]
    assert bad.status_code == 422 and bad_sid.status_code == 422
    with services.db.session() as s:
        (row,) = s.scalars(select(Feedback)).all()
        assert row.rating == "down" and row.comment == "地址不对" and row.matter_code == "C1"
        assert row.answer_text == "请致电 138****5678 咨询"  # masked, kept when the rating changes


def test_cors_only_for_configured_origins_and_widget_files(channel_app):
    app, _, _ = channel_app(cors_origins=[ALLOWED])
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-session-token"}

    async def go():
        async with client(app) as c:
            ok = await c.options("/api/v1/chat", headers={"Origin": ALLOWED, **pre})
            evil = await c.options("/api/v1/chat", headers={"Origin": "https://evil.example", **pre})
            await c.post("/api/v1/chat", headers={"Origin": ALLOWED}, json={"session_id": "w-1", "text": "你好"})
            fb = await c.post("/api/v1/feedback", headers={"Origin": ALLOWED},
                              json={"session_id": "w-1", "message_ref": "1", "rating": "up"})
            js = await c.get("/widget.js")
            demo = await c.get("/widget/demo")
            return ok, evil, fb, js, demo

    ok, evil, fb, js, demo = run(go())
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-origin" not in evil.headers and evil.status_code == 400
    assert fb.headers["access-control-allow-origin"] == ALLOWED
    assert js.status_code == 200 and js.headers["content-type"].startswith("application/javascript")
    assert "attachShadow" in js.text and ".innerHTML" not in js.text  # text-only DOM building
    assert demo.status_code == 200 and 'src="/widget.js"' in demo.text


def test_migration_creates_the_tables_the_models_describe(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.upgrade()
    insp = sa.inspect(db.engine)
    from assistant.db.wechat import WeChatDelivery, WeChatInbound, WeChatUser

    for model in (WeChatInbound, WeChatDelivery, WeChatUser, Feedback):
        cols = {c["name"] for c in insp.get_columns(model.__tablename__)}
        assert cols == {c.name for c in model.__table__.columns}, model.__tablename__
    db.dispose()


def _amr_nb(seconds: float = 1.0) -> bytes:
    """A valid AMR-NB file: the magic, then 12.2 kbit/s frames (header 0x3C + 31 payload bytes, 20 ms each)."""
    frames = int(seconds / 0.02)
    return b"#!AMR\n" + b"".join(b"\x3c" + os.urandom(31) for _ in range(frames))


class RecordingEngine:
    """Stands in for a voice/ engine: records what PCM it was given and returns a fixed transcript."""

    def __init__(self):
        self.pcm: list[bytes] = []

    def transcribe_pcm(self, pcm16: bytes):
        self.pcm.append(pcm16)

        class R:
            text = "社保卡怎么补办"
        return R()


def test_voice_without_recognition_goes_through_ffmpeg_and_the_engine(channel_app, fake_wechat):
    _, wx = fake_wechat
    app, _, bot = channel_app(wechat_reply_budget_s=3.0)
    wx.media["MEDIA-1"] = _amr_nb(1.0)
    engine = RecordingEngine()
    wechat_mp.get_runtime(app).asr = engine
    msg = build_xml({"ToUserName": "gh", "FromUserName": "o-voice", "CreateTime": int(time.time()),
                     "MsgType": "voice", "MediaId": "MEDIA-1", "Format": "amr", "MsgId": 4242})
    bad = build_xml({"ToUserName": "gh", "FromUserName": "o-voice", "CreateTime": int(time.time()),
                     "MsgType": "voice", "MediaId": "NO-SUCH", "Format": "amr", "MsgId": 4243})

    async def go():
        async with client(app) as c:
            out = (await c.post("/wechat/mp", params=query(), content=msg),
                   await c.post("/wechat/mp", params=query(), content=bad))
            await wechat_mp.get_runtime(app).drain()  # an answer deferred past the budget is sent by now
            return out

    r, r_bad = run(go())
    # Each answer is the passive reply, or, when the reply budget ran out first (a slow machine), the
    # customer-service message sent after "success". Either way each message is answered once.
    passive = [parse_wechat_xml(x.content)["Content"] for x in (r, r_bad) if x.text != "success"]
    deferred = 2 - len(passive)
    sent = [m["text"]["content"] for m in wx.wait_sent(deferred)] if deferred else []
    assert sorted(passive + sent) == sorted(["收到：社保卡怎么补办", wechat_mp.TEXT_VOICE_UNCLEAR])
    assert len(wx.sent) == deferred
    assert bot.calls[0]["text"] == "社保卡怎么补办"
    assert abs(len(engine.pcm[0]) - 32000) <= 3200  # 1 s of 16 kHz 16-bit mono
