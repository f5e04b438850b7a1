"""Building signed (and encrypted) WeChat requests the way WeChat's servers do."""

from __future__ import annotations

import secrets
import time

import httpx

from assistant.channels.wechat.crypto import WeChatCrypto, sha1_signature
from assistant.channels.wechat.xml import build_xml, parse_wechat_xml
from tests.channels.conftest import AES_KEY, APPID, TOKEN
from tests.citizen import keep_session_tokens


def query(ts: str | None = None, nonce: str | None = None, token: str = TOKEN, **extra) -> dict[str, str]:
    """A signed query as WeChat sends it: a fresh nonce per request unless one is given."""
    ts = ts or str(int(time.time()))
    nonce = nonce or secrets.token_hex(8)
    return {"signature": sha1_signature(token, ts, nonce), "timestamp": ts, "nonce": nonce,
            "openid": "o-user-1", **extra}


def text_msg(content: str, msgid: str = "1001", openid: str = "o-user-1", **extra) -> str:
    return build_xml({"ToUserName": "gh_jinniu", "FromUserName": openid, "CreateTime": int(time.time()),
                      "MsgType": "text", "Content": content, "MsgId": int(msgid), **extra})


def event_msg(event: str, openid: str = "o-user-1", create: int | None = None, **extra) -> str:
    return build_xml({"ToUserName": "gh_jinniu", "FromUserName": openid, "CreateTime": create or int(time.time()),
                      "MsgType": "event", "Event": event, **extra})


def encrypted(plain: str, appid: str = APPID, key: str = AES_KEY, fmt: str = "xml",
              nonce: str | None = None, random16: bytes | None = None) -> tuple[str, dict[str, str]]:
    """(body, query) of an encrypted message as WeChat sends it in safe mode (``random16``: fixed leading bytes
    for a deterministic ciphertext)."""
    c = WeChatCrypto(TOKEN, key, appid)
    enc = c.encrypt(plain, random16)
    ts = str(int(time.time()))
    nonce = nonce or secrets.token_hex(8)
    q = query(ts=ts, nonce=nonce, encrypt_type="aes", msg_signature=sha1_signature(TOKEN, ts, nonce, enc))
    if fmt == "json":
        import json
        return json.dumps({"ToUserName": "gh_jinniu", "Encrypt": enc}), q
    return build_xml({"ToUserName": "gh_jinniu", "Encrypt": enc}), q


def open_encrypted_reply(body: bytes) -> dict:
    """Check MsgSignature of an encrypted passive reply and return the decrypted reply fields."""
    outer = parse_wechat_xml(body)
    assert outer["MsgSignature"] == sha1_signature(TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    return parse_wechat_xml(WeChatCrypto(TOKEN, AES_KEY, APPID).decrypt(outer["Encrypt"]))


def client(app) -> httpx.AsyncClient:
    """An async client over ``app`` that keeps and sends session tokens like a citizen's (``tests/citizen.py``)."""
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    keep_session_tokens(c)
    return c
