"""Fixtures of the triage-inbox tests: an app with the real NLU (Rasa down: the turns take the degraded path, which
parses with the same ``understand``), and the shared NLU's learned examples reset after each test."""

from __future__ import annotations

import pytest

from tests.staff.conftest import (page_factory, staff_browser_login, staff_server,  # noqa: F401 - shared
                                 staff_user)

STAFF = {"Authorization": "Bearer test-staff-token"}
#: A small shop's question the NLU cannot tell apart (ambiguous: 个体工商户设立登记 / 食品小经营店备案发放 / 食品经营
#: 许可), a paraphrase of it (also ambiguous), and the matter a helper teaches: 个体工商户设立登记. (A stall at the
#: roadside was the example until the guidebook had 临时便民服务摊点设置, which answers it.)
SHOP_Q = "开个卖烤红苕的小门面要登记不"
SHOP_PARAPHRASE = "开个卖烤红薯的小门面要登记不"
SHOP_CODE = "511A0074300005"


@pytest.fixture
def fresh_learned(nlu):
    """The session NLU with nothing learned, and nothing learned left behind."""
    from nlu.learned import LearnedSet

    nlu.set_learned(LearnedSet.empty(nlu.encoder.dim))
    yield nlu
    nlu.set_learned(LearnedSet.empty(nlu.encoder.dim))


@pytest.fixture
def teach_client(make_settings, kb, fresh_learned):
    """A ``TestClient`` over an app with the real NLU; staff token ``test-staff-token``; learned poll 0.5 s."""
    from tests.citizen import citizen_client

    from assistant.app import create_app

    app = create_app(make_settings(staff_token="test-staff-token", learned_poll_s=0.5), kb=kb, nlu=fresh_learned)
    with citizen_client(app, raise_server_exceptions=False) as client:
        yield client


def chat(client, session: str, text: str) -> dict:
    r = client.post("/api/v1/chat", json={"session_id": session, "text": text})
    assert r.status_code == 200, r.text
    return r.json()
