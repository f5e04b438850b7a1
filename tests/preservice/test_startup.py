"""The app starts the reminder scheduler itself, and its first run catches up on what came due while it was down."""

from __future__ import annotations

import time
from datetime import date

from tests.citizen import citizen_client


def test_app_start_catches_up_on_due_reminders(make_settings, kb, clock):
    from assistant.api.citizen import hash_token, new_session_token
    from assistant.app import create_app
    from assistant.preservice.runtime import set_clock

    settings = make_settings(staff_token="t")
    # a licence registered before a downtime: its 30-day reminder came due while the app was down
    first = create_app(settings, kb=kb, nlu=None, rasa=None, load_models=False)
    first.state.services.db.upgrade()
    pre = set_clock(first.state.services, clock)
    # the citizen's conversation (started by a chat turn, which gave their page its session token)
    token = new_session_token()
    first.state.services.conversations.open("boot-1", "web", hash_token(token))
    lt = pre.catalogue.get("public_place_hygiene")
    pre.licences.register(licence_type=lt.key, licence_name=lt.name, number="川卫公证字2023第123号", holder="好好洗浴",
                          expiry_date=date(2026, 12, 25), session_id="boot-1")
    first.state.services.db.dispose()

    app = create_app(settings, kb=kb, nlu=None, rasa=None, load_models=False)
    set_clock(app.state.services, clock)
    with citizen_client(app) as client:
        deadline = time.monotonic() + 60  # a hang guard, not a speed check
        msgs = []
        while time.monotonic() < deadline and not msgs:
            r = client.get("/api/v1/chat/boot-1/messages", headers={"X-Session-Token": token})
            msgs = r.json()["messages"] if r.status_code == 200 else []
            time.sleep(0.1)
        assert len(msgs) == 1 and "公共场所卫生许可证" in msgs[0]["text"] and "还剩 24 天" in msgs[0]["text"]
        assert msgs[0]["staff_name"] == "金小二·预服务"
    # stopped cleanly: the scheduler task is gone
    assert app.state.services.preservice.scheduler._task is None
