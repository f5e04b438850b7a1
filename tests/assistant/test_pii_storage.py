"""Stored answers hold masked text (issue 11 part 4): the bot's reply payload in ``messages``, the answer a retried
request gets from ``turn_keys``, WeChat's stored reply chunks and delivery rows — on SQLite and PostgreSQL. And the
maskers the dialogue uses for Rasa (one place: ``assistant/privacy.py``)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from assistant.db.chat import Message, TurnKey
from assistant.db.conversations import ConversationStore
from assistant.db.session import Database
from assistant.db.wechat import WeChatDelivery, WeChatInbound
from assistant.dialogue.state import PERSONAL_SLOTS, mask_for_rasa, mask_slot

PHONE, ID_NO, ADDRESS = "13812345678", "510106199001011234", "蜀汉路88号5栋2单元301"
REPLY = [{"type": "text", "text": f"好的，电话 {PHONE}，身份证 {ID_NO}，地址 {ADDRESS}"},
         {"type": "buttons", "buttons": [{"title": f"打给 {PHONE}", "payload": "/request_human"}]}]


@pytest.fixture
def database(db_url):
    db = Database(db_url)
    db.upgrade()
    yield db
    db.dispose()


def _raw(value) -> list[str]:
    text = json.dumps(value, ensure_ascii=False)
    return [s for s in (PHONE, ID_NO, "88号5栋") if s in text]


def test_reply_payloads_and_stored_retry_answers_are_masked(database):
    conv = ConversationStore(database)
    conv.record_turn("pii-s", "web", f"我电话{PHONE}", REPLY, "ask_matter", None)
    assert conv.claim_turn("pii-s", "m1")[0] == "claimed"
    conv.finish_turn("pii-s", "m1", {"session_id": "pii-s", "replies": REPLY})
    with database.session() as s:
        msgs = list(s.scalars(select(Message).where(Message.session_id == "pii-s")))
        key = s.get(TurnKey, ("pii-s", "m1"))
        assert msgs and not any(_raw([m.text, m.payload]) for m in msgs), [(m.text, m.payload) for m in msgs]
        assert not _raw(key.response)
        bot = [m for m in msgs if m.role == "bot"][0]
        assert "138****5678" in json.dumps(bot.payload, ensure_ascii=False)
        assert bot.payload[1]["buttons"][0]["payload"] == "/request_human"  # the structure stays usable


def test_wechat_reply_chunks_and_deliveries_are_masked(database, make_settings):
    from assistant.channels.wechat.mp import WeChatRuntime

    rt = WeChatRuntime(make_settings(wechat_token="t", wechat_appid="wx1"), database, assistant=None)
    with database.session() as s:
        s.add(WeChatInbound(dedup_key="k1", openid="o1", status="processing"))
    rt._finish_row("k1", "answered", "passive", [REPLY[0]["text"], f"再说一遍 {PHONE}"])
    rt._record_delivery("k1", "o1", "wechat_mp", 0, REPLY[0]["text"], "sent", None, None)
    with database.session() as s:
        row = s.get(WeChatInbound, "k1")
        deliveries = list(s.scalars(select(WeChatDelivery)))
        assert row.reply_chunks and not _raw(row.reply_chunks), row.reply_chunks
        assert deliveries and not _raw([d.content for d in deliveries])


def test_what_rasa_is_sent_and_keeps_is_masked():
    assert mask_for_rasa(f"我电话{PHONE}，住{ADDRESS}", in_form=False) == "我电话138****5678，住蜀汉路***"
    assert mask_for_rasa("开个小卖部要办啥子证", in_form=False) == "开个小卖部要办啥子证"
    # inside a form any answer may be a name: masked as a whole
    masked = mask_for_rasa("王德福，88岁，长期卧床", in_form=True)
    assert "德福" not in masked and masked.startswith("王")
    assert mask_for_rasa('/ask_materials{"matter": "51201200200013"}', in_form=True) == \
        '/ask_materials{"matter": "51201200200013"}'
    for slot in PERSONAL_SLOTS:
        for value in (PHONE, ADDRESS, ID_NO, f"none|{PHONE}"):
            assert not _raw(mask_slot(slot, value)), (slot, mask_slot(slot, value))
    for slot in ("visit_person", "licence_holder"):  # names
        assert "德福" not in mask_slot(slot, "王德福，88岁")
    assert "5101060012345" not in mask_slot("licence_number", "JY15101060012345")
    assert mask_slot("visit_street", "营门口街道") == "营门口街道" and mask_slot("visit_phone", None) is None
