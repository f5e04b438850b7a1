"""A Rasa call cut off by a dying Rasa server (refused, 502/503/504 from the balancer) is tried once more at once;
a timeout is not (that would double the citizen's wait): the turn takes the degraded path."""

from __future__ import annotations

from tests.citizen import citizen_client

from assistant.app import create_app
from assistant.rasa.client import RasaUnavailable


class FlakyRasa:
    """Fails the first ``send`` with ``reason``, then answers."""

    def __init__(self, reason: str):
        self.reason, self.calls = reason, 0

    async def send(self, sender, text, metadata=None):
        self.calls += 1
        if self.calls == 1:
            raise RasaUnavailable("cut off", self.reason)
        return [{"recipient_id": sender, "text": "您好，我是金小二。"}]

    async def status(self):
        return {"model_file": "x"}


def _turn(make_settings, kb, reason):
    rasa = FlakyRasa(reason)
    with citizen_client(create_app(make_settings(), kb=kb, load_models=False, rasa=rasa)) as c:
        body = c.post("/api/v1/chat", json={"session_id": f"retry-{reason}", "text": "你好"}).json()
    return rasa.calls, body


def test_a_cut_off_rasa_call_is_tried_once_more(make_settings, kb):
    for reason in ("connect", "http_502", "http_503"):
        calls, body = _turn(make_settings, kb, reason)
        assert calls == 2 and body["degraded"] is False
        assert body["replies"] == [{"type": "text", "text": "您好，我是金小二。"}]


def test_a_timeout_is_not_retried(make_settings, kb):
    calls, body = _turn(make_settings, kb, "timeout")
    assert calls == 1 and body["degraded"] is True
