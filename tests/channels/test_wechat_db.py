"""WeChat's database-backed guarantees across processes, on SQLite and PostgreSQL (``db_url``): one row per
inbound message however many workers receive it, one access-token refresh however many processes need one, and a
retry reaching another replica while the first still computes (its lease is live) is not answered twice, while a
message whose owner died (its lease lapsed) is taken over and answered."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from assistant.db.base import utcnow

from assistant.channels.wechat import mp as wechat_mp
from assistant.channels.wechat.api import SharedTokenStore
from assistant.db.session import Database
from assistant.db.wechat import WeChatInbound, WeChatToken
from tests.channels.conftest import APPID, run
from assistant.channels.wechat.xml import parse_wechat_xml
from tests.channels.wechat_helpers import client, query, text_msg


def _threads(n, target):
    barrier = threading.Barrier(n)
    out: list = [None] * n

    def one(k):
        barrier.wait()
        out[k] = target(k)

    ts = [threading.Thread(target=one, args=(k,)) for k in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
        assert not t.is_alive(), "hung"
    return out


def test_one_inbound_row_however_many_workers_claim_the_message(channel_app, db_url):
    apps = [channel_app(database_url=db_url)[0] for _ in range(2)]
    runtimes = [wechat_mp.get_runtime(app) for app in apps]
    inb = wechat_mp.Inbound(channel="wechat_mp", fields={"ToUserName": "gh_jinniu", "FromUserName": "o-dedup",
                                                         "CreateTime": "1764500000", "MsgType": "text",
                                                         "Content": "你好", "MsgId": "77001"})
    claimed = _threads(6, lambda k: runtimes[k % 2]._insert_row(inb, "processing"))
    assert sorted(claimed) == [False] * 5 + [True]
    db = Database(db_url)
    try:
        with db.session() as s:
            assert [r.dedup_key for r in s.scalars(select(WeChatInbound))] == [inb.dedup_key]
    finally:
        db.dispose()


def test_processes_needing_a_new_token_at_once_fetch_one(db_url, make_settings):
    from assistant.container import build_services

    build_services(make_settings(database_url=db_url), rasa=None).db.upgrade()
    dbs = [Database(db_url) for _ in range(3)]           # three processes' engines
    with dbs[0].session() as s:
        s.add(WeChatToken(appid=APPID, token="TOKEN-OLD", expires_at=time.time() + 3600))
    fetched: list[str] = []
    lock = threading.Lock()

    def fetch():
        with lock:
            fetched.append(f"TOKEN-NEW-{len(fetched) + 1}")
            token = fetched[-1]
        time.sleep(0.3)  # a slow /cgi-bin/token: widens the window for a second fetch (none may happen)
        return token, time.time() + 7000

    try:
        got = _threads(3, lambda k: SharedTokenStore(dbs[k], APPID).refresh(fetch, "TOKEN-OLD"))
    finally:
        for db in dbs:
            db.dispose()
    assert fetched == ["TOKEN-NEW-1"]                    # WeChat invalidates older tokens: one fetch only
    assert got == ["TOKEN-NEW-1"] * 3


def _row(db_url, key):
    db = Database(db_url)
    try:
        with db.session() as s:
            r = s.get(WeChatInbound, key)
            return None if r is None else {"status": r.status, "delivery": r.delivery, "attempts": r.attempts}
    finally:
        db.dispose()


def _lease_left_s(db_url, key) -> float:
    """Seconds until the row's lease runs out (negative once it has)."""
    db = Database(db_url)
    try:
        with db.session() as s:
            until = s.get(WeChatInbound, key).lease_until
    finally:
        db.dispose()
    now = utcnow()
    return (until.replace(tzinfo=None) - now.replace(tzinfo=None)).total_seconds()


def _first_then_retry_on_another_replica(channel_app, db_url, msgid: str, outlive_first_lease: bool = False,
                                         **settings):
    """The first delivery of ``msgid`` reaches replica one (its answer is held back by the bot's gate), WeChat's
    retry reaches replica two — at once, or with ``outlive_first_lease`` only once the first lease has run out (so
    only the owner's renewals can have kept the message its own); both bots are then let go. Returns both replies,
    both bots and the row as the retry found it."""
    one, _, bot_one = channel_app(database_url=db_url, wechat_reply_budget_s=0.2, **settings)
    two, _, bot_two = channel_app(database_url=db_url, wechat_reply_budget_s=0.2, **settings)
    key = f"wechat_mp:id:{msgid}"

    async def go():
        async with client(one) as c1, client(two) as c2:
            first = await c1.post("/wechat/mp", params=query(), content=text_msg("慢慢问", msgid=msgid))
            before = None
            if outlive_first_lease:
                await asyncio.sleep(max(0.0, await asyncio.to_thread(_lease_left_s, db_url, key)) + 0.5)
                before = {**await asyncio.to_thread(_row, db_url, key),
                          "lease_left_s": await asyncio.to_thread(_lease_left_s, db_url, key)}
            retry = await c2.post("/wechat/mp", params=query(), content=text_msg("慢慢问", msgid=msgid))
            bot_one.gate.set()
            bot_two.gate.set()
            await wechat_mp.get_runtime(one).drain()
            await wechat_mp.get_runtime(two).drain()
            return first, retry, before

    first, retry, before = run(go())
    return first, retry, bot_one, bot_two, before


def test_a_retry_on_another_replica_while_the_first_computes_is_not_answered_twice(channel_app, db_url,
                                                                                     fake_wechat):
    _, wx = fake_wechat
    first, retry, bot_one, bot_two, _ = _first_then_retry_on_another_replica(channel_app, db_url, "78001")
    assert first.text == "success" and retry.text == "success"
    assert len(bot_one.calls) == 1 and bot_two.calls == []
    assert [m["text"]["content"] for m in wx.sent] == ["收到：慢慢问"]     # the owner delivers it, once
    assert _row(db_url, "wechat_mp:id:78001") == {"status": "delivered", "delivery": "custom", "attempts": 2}


def test_the_owner_keeps_its_lease_alive_while_it_computes_longer_than_the_lease(channel_app, db_url, fake_wechat):
    _, wx = fake_wechat
    # the retry comes after the first lease ran out: only the owner's renewals (every third of the lease) keep the
    # message its own. The lease is long enough that a loaded machine's stalls of a second or two cannot make it
    # lapse between two renewals.
    first, retry, bot_one, bot_two, before = _first_then_retry_on_another_replica(
        channel_app, db_url, "78002", outlive_first_lease=True, wechat_lease_s=4.0)
    assert before["status"] == "processing" and before["lease_left_s"] > 0  # renewed past the first lease
    assert first.text == "success" and retry.text == "success"
    assert len(bot_one.calls) == 1 and bot_two.calls == []
    assert [m["text"]["content"] for m in wx.sent] == ["收到：慢慢问"]


def _orphan(db_url, key, lease_until):
    """The row a replica that died while computing leaves behind."""
    db = Database(db_url)
    try:
        with db.session() as s:
            s.add(WeChatInbound(dedup_key=key, channel="wechat_mp", openid="o-user-1", msg_type="text",
                                status="processing", lease_until=lease_until))
    finally:
        db.dispose()


@pytest.mark.parametrize("lapsed", ["expired", "none"])
def test_a_message_whose_owner_died_is_taken_over_and_answered(channel_app, db_url, lapsed):
    two, _, bot_two = channel_app(database_url=db_url)
    _orphan(db_url, "wechat_mp:id:78003", utcnow() - timedelta(seconds=1) if lapsed == "expired" else None)

    async def go():
        async with client(two) as c2:
            retry = await c2.post("/wechat/mp", params=query(), content=text_msg("你好", msgid="78003"))
            await wechat_mp.get_runtime(two).drain()
            return retry

    retry = run(go())
    assert parse_wechat_xml(retry.content)["Content"] == "收到：你好"
    assert len(bot_two.calls) == 1
    assert _row(db_url, "wechat_mp:id:78003") == {"status": "answered", "delivery": "passive", "attempts": 2}


def test_a_lease_that_lapses_while_the_retry_waits_is_taken_over_within_that_request(channel_app, db_url):
    two, _, bot_two = channel_app(database_url=db_url, wechat_reply_budget_s=4.0)
    _orphan(db_url, "wechat_mp:id:78004", utcnow() + timedelta(seconds=0.8))  # the owner dies right now

    async def go():
        async with client(two) as c2:
            retry = await c2.post("/wechat/mp", params=query(), content=text_msg("你好", msgid="78004"))
            await wechat_mp.get_runtime(two).drain()
            return retry

    retry = run(go())
    assert parse_wechat_xml(retry.content)["Content"] == "收到：你好"
    assert len(bot_two.calls) == 1


def test_one_replica_takes_over_a_lapsed_message_however_many_try_at_once(channel_app, db_url):
    apps = [channel_app(database_url=db_url)[0] for _ in range(2)]
    runtimes = [wechat_mp.get_runtime(app) for app in apps]
    _orphan(db_url, "wechat_mp:id:78005", utcnow() - timedelta(seconds=1))
    taken = _threads(6, lambda k: runtimes[k % 2]._take_over("wechat_mp:id:78005"))
    assert sorted(taken) == [False] * 5 + [True]
    assert _row(db_url, "wechat_mp:id:78005")["attempts"] == 2
