"""One dialogue: the same conversations answered through the real Rasa server and with Rasa unreachable give the
same matter and the same reply texts, buttons, cards and checklists (the degraded path only adds its notice).

The conversations are in ``tests/data/parity_conversations.yml`` (written for this test). Forms are excepted
(they need Rasa). Ticket numbers differ between the two databases and are compared as ``#``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.citizen import citizen_client

pytestmark = pytest.mark.rasa

CONVERSATIONS = yaml.safe_load((Path(__file__).parents[1] / "data" / "parity_conversations.yml")
                               .read_text(encoding="utf-8"))["conversations"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
FORM_INTENTS = {"register_licence", "book_home_visit"}


def _comparable(reply: dict) -> list:
    """What a citizen sees, without the reduced-mode notice and with ticket numbers blanked."""
    out = []
    for p in reply["replies"]:
        if p["type"] == "notice" and "简化模式" in p["text"]:
            continue
        if p["type"] == "matter_card":
            out.append(["card", p["matter"]["code"]])
        elif p["type"] == "checklist":
            out.append(["checklist", p["matter"]["code"], [i["name"] for i in p["items"]]])
        elif p["type"] == "handoff":
            out.append(["handoff", p["ticket"]["level"]])
        elif p["type"] == "buttons":
            out.append(["buttons", [(b["title"], b["payload"]) for b in p["buttons"]]])
        else:
            out.append([p["type"], re.sub(r"工单号 \d+", "工单号 #", p.get("text", ""))])
    return out


def _talk(chat, sid: str, turns: list[str]) -> list[dict]:
    replies: list[dict] = []
    for t in turns:
        if t.startswith("@"):
            buttons = [b for p in replies[-1]["replies"] if p["type"] == "buttons" for b in p["buttons"]]
            t = buttons[int(t[1:]) - 1]["payload"]
        replies.append(chat(sid, t))
    return replies


@pytest.fixture(scope="module")
def rasa_down(make_settings, kb, nlu, tmp_path_factory):
    """The same app with Rasa unreachable (nothing listens at its URL), on a database of its own."""
    from assistant.app import create_app

    db = tmp_path_factory.mktemp("down") / "down.db"
    app = create_app(make_settings(database_url=f"sqlite:///{db}"), kb=kb, nlu=nlu, load_models=False)
    with citizen_client(app) as c:
        def chat(sid, text):
            r = c.post("/api/v1/chat", json={"session_id": sid, "text": text})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["degraded"] is True
            return body
        yield chat


@pytest.fixture(scope="module")
def make_settings(tmp_path_factory):
    from assistant.settings import Settings

    tmp = tmp_path_factory.mktemp("settings")

    def _make(**overrides):
        values = dict(environment="test", data_dir=tmp / "var", rasa_manage=False, rasa_url="http://127.0.0.1:9",
                      rasa_timeout_s=3.0, staff_token=None)
        values.update(overrides)
        return Settings(**values)
    return _make


def test_conversations_are_answered_alike_with_rasa_up_and_down(live, rasa_down):
    assert len(CONVERSATIONS) >= 40
    same = total = 0
    report = []
    for i, turns in enumerate(CONVERSATIONS):
        up = _talk(live.chat, f"par-{i}", turns)
        down = _talk(rasa_down, f"par-{i}", turns)
        for text, a, b in zip(turns, up, down):
            assert a["degraded"] is False
            if a["intent"] in FORM_INTENTS:
                continue
            total += 1
            ok = _comparable(a) == _comparable(b) and a["matter"] == b["matter"]
            same += ok
            if not ok:
                report.append({"conversation": i, "text": text, "rasa": _comparable(a), "degraded": _comparable(b),
                               "matter": [a["matter"], b["matter"]]})
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "one-dialogue-parity.json").write_text(json.dumps(
        {"turns": total, "same": same, "differences": report}, ensure_ascii=False, indent=1), encoding="utf-8")
    assert total >= 80
    assert same / total >= 0.95, json.dumps(report[:5], ensure_ascii=False, indent=1)


def test_the_degraded_answer_adds_only_the_notice(rasa_down):
    body = rasa_down("par-notice", "居住证咋个办")
    assert body["replies"][0]["type"] == "notice" and "简化模式" in body["replies"][0]["text"]
    assert sum(1 for p in body["replies"] if p["type"] == "notice" and "简化模式" in p["text"]) == 1


def test_a_form_needs_rasa_and_says_so(rasa_down):
    body = rasa_down("par-form", "/book_home_visit")
    texts = " ".join(p.get("text", "") for p in body["replies"])
    assert "预约和登记功能暂时不可用" in texts
    assert any(b["payload"].startswith("/request_human") for p in body["replies"] if p["type"] == "buttons"
               for b in p["buttons"])
