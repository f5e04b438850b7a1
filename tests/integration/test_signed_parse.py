"""Through the real Rasa server: the app understands a message once, before sending it, and Rasa uses that signed
parse instead of calling the app's NLU endpoint back; the tracker stores the parse once (``parse_data``) and not
in the message metadata. A parse Rasa cannot verify makes it ask the NLU endpoint, and the turn is answered the
same way."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

import assistant.chat as chat_module
import assistant.rasa.nlu_endpoint as nlu_endpoint
from assistant.rasa.launcher import PARSE_KEY, PARSE_SIG_KEY, sign_parse

QUESTION = "社保卡丢了要去哪里补办"


def _user_events(live, sid: str) -> list[dict]:
    with live.app.state.services.db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"),
                            {"s": sid})
        return [json.loads(r[0]) for r in rows]


def _count_endpoint_parses(monkeypatch) -> list[str]:
    asked: list[str] = []
    real = nlu_endpoint.understand

    async def counting(services, text, session_id=None, **kw):
        asked.append(text)
        return await real(services, text, session_id, **kw)

    monkeypatch.setattr(nlu_endpoint, "understand", counting)
    return asked


def test_rasa_uses_the_signed_parse_and_stores_it_once(live, monkeypatch):
    asked = _count_endpoint_parses(monkeypatch)
    sid = "signed-" + uuid.uuid4().hex[:8]
    r = live.chat(sid, QUESTION)
    assert r["matter"] and not r["degraded"]
    assert asked == []  # Rasa did not call the app back
    (user,) = _user_events(live, sid)
    assert user["parse_data"]["intent"]["name"] == r["intent"]
    assert PARSE_KEY not in user["metadata"] and PARSE_SIG_KEY not in user["metadata"]
    assert user["metadata"]["channel"] == "web"  # the rest of the metadata is kept


def test_a_parse_rasa_cannot_verify_is_asked_for_again(live, monkeypatch):
    asked = _count_endpoint_parses(monkeypatch)
    monkeypatch.setattr(chat_module, "sign_parse",
                        lambda meta, text, parse, token: sign_parse(meta, text, parse, "not-the-internal-token"))
    baseline = live.chat("signed-ref-" + uuid.uuid4().hex[:8], QUESTION)
    assert asked == [QUESTION]
    monkeypatch.undo()
    again = live.chat("signed-ok-" + uuid.uuid4().hex[:8], QUESTION)
    assert (again["intent"], again["matter"]) == (baseline["intent"], baseline["matter"])
    assert [p["type"] for p in again["replies"]] == [p["type"] for p in baseline["replies"]]
