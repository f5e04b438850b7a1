"""Through the real Rasa server: Rasa asks the app's NLU (``/nlu/model/parse``), so an unsure turn lands in the
inbox the same way, and a taught matter is answered by Rasa's rules at once."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from assistant.db.triage import LearnedExampleRow, TriageItem
from nlu.learned import LearnedSet
from tests.teach.conftest import SHOP_CODE, SHOP_PARAPHRASE, SHOP_Q


def test_rasa_turns_feed_the_inbox_and_serve_what_was_taught(live):
    nlu = live.app.state.services.nlu
    try:
        session = "rasa-" + uuid.uuid4().hex[:8]
        r = live.http.post("/api/v1/chat", json={"session_id": session, "text": SHOP_Q})
        assert r.status_code == 200 and not r.json()["degraded"], r.text
        # (the live stack is shared: the conversation tests before this one fill the inbox with groups of their own)
        groups = live.http.get("/api/v1/triage", params={"sort": "newest"}, headers=live.staff_headers).json()["items"]
        group = next(g for g in groups if SHOP_Q in g["examples"])
        assert "ambiguous" in group["reasons"]
        r = live.http.post(f"/api/v1/triage/{group['id']}/resolve", json={"matter_code": SHOP_CODE},
                           headers=live.staff_headers)
        assert r.status_code == 200, r.text
        answer = live.http.post("/api/v1/chat", json={"session_id": "rasa-" + uuid.uuid4().hex[:8],
                                                      "text": SHOP_PARAPHRASE}).json()
        assert not answer["degraded"] and answer["matter"]["code"] == SHOP_CODE
        assert any(p["type"] == "matter_card" for p in answer["replies"])
    finally:  # the live stack is shared by the session: take the lesson back (its app polls the version)
        with live.app.state.services.db.session() as s:
            s.execute(update(LearnedExampleRow).values(status="removed"))
        nlu.set_learned(LearnedSet.empty(nlu.encoder.dim))


def test_answers_to_a_forms_questions_are_not_put_in_the_inbox(live):
    session = "rasa-form-" + uuid.uuid4().hex[:8]
    for text in ("帮我约个上门办", "钟桂兰，九十岁卧床", "13900007777", "金牛区营门口路9号", "下周三上午"):
        r = live.http.post("/api/v1/chat", json={"session_id": session, "text": text})
        assert r.status_code == 200 and not r.json()["degraded"], r.text
    with live.app.state.services.db.session() as s:  # (a name, a number, an address: no question it was unsure of)
        kept = s.scalars(select(TriageItem.text).where(TriageItem.session_id == session)).all()
    assert kept == [], kept
