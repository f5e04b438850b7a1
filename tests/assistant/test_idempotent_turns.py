"""A retried chat request (same ``session_id`` and ``message_id``) gets the stored answer, never a second turn —
also when the two requests arrive at the same time — on SQLite and on PostgreSQL. (A retry presents the
conversation's session token like any later request; ``citizen_client`` keeps it.)"""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from assistant.app import create_app
from tests.citizen import citizen_client

CHAT = "/api/v1/chat"


def _app(make_settings, kb, db_url):
    return create_app(make_settings(database_url=db_url, staff_token="test-staff-token"), kb=kb, load_models=False)


def test_a_retry_returns_the_stored_answer_and_opens_no_second_ticket(make_settings, kb, db_url):
    with citizen_client(_app(make_settings, kb, db_url)) as c:
        body = {"session_id": "idem-1", "text": "/request_human", "message_id": "m-1"}
        first = c.post(CHAT, json=body).json()
        again = c.post(CHAT, json=body).json()
        # the stored answer, without the session token (it is never stored: only the first answer carries it)
        assert first.pop("session_token") and again.pop("session_token") is None
        assert again == first and first["handoff"] is not None
        services = c.app.state.services
        assert len(services.handoffs.list()) == 1
        assert [ln["role"] for ln in services.conversations.transcript("idem-1")] == ["user", "bot"]
        other = c.post(CHAT, json={**body, "message_id": "m-2", "text": "你好"}).json()
        assert other["replies"] != first["replies"]
        assert len(services.conversations.transcript("idem-1")) == 4


def test_two_requests_at_once_make_one_turn(make_settings, kb, db_url):
    app = _app(make_settings, kb, db_url)
    with TestClient(app):  # runs the lifespan (migrations)
        assistant = app.state.services.assistant

        async def both():
            return await asyncio.gather(*(assistant.chat("idem-2", "/request_human", message_id="same")
                                          for _ in range(3)))

        answers = asyncio.run(both())
        assert len({a.model_dump_json() for a in answers}) == 1
        assert len(app.state.services.handoffs.list()) == 1
        assert len(app.state.services.conversations.transcript("idem-2")) == 2


def test_a_bad_message_id_is_a_clear_error(app_client):
    r = app_client.post(CHAT, json={"session_id": "idem-3", "text": "你好", "message_id": "has space"})
    assert r.status_code == 422 and "message_id" in r.text
