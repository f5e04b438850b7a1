"""The workbench's stores on SQLite and PostgreSQL (``db_url``): accounts, sessions, lock-out, the ticket workflow,
presence, call-backs, rating, canned replies, ticket events."""

from __future__ import annotations

import pytest


@pytest.fixture
def parts(db_url):
    from assistant.db.conversations import ConversationStore, HandoffStore
    from assistant.db.session import Database
    from assistant.settings import Settings
    from assistant.staff.accounts import Accounts
    from assistant.staff.events import TicketEvents
    from assistant.staff.workbench import Workbench

    settings = Settings(environment="test", database_url=db_url, rasa_manage=False, staff_lockout_failures=2,
                        staff_office_hours="00:00-23:59", staff_office_days=[1, 2, 3, 4, 5, 6, 7])
    db = Database(db_url)
    db.upgrade()
    conversations = ConversationStore(db)
    woken = []
    conversations.on_ticket_event = lambda: woken.append(1)
    handoffs = HandoffStore(db, conversations)
    yield {"db": db, "accounts": Accounts(db, settings), "handoffs": handoffs,
           "wb": Workbench(db, handoffs, settings), "events": TicketEvents(settings, db), "woken": woken}
    db.dispose()


def test_accounts_sessions_and_lockout(parts):
    from assistant.staff.accounts import AccountError, LoginRefused

    acc = parts["accounts"]
    user = acc.add("li", "Good-password-1", "community", "花照壁社区", "agent")
    assert user.place == "花照壁社区"
    with pytest.raises(AccountError) as exc:
        acc.add("li", "Good-password-1", "district")
    assert exc.value.code == "exists"
    res = acc.login("li", "Good-password-1", "10.0.0.1")
    found = acc.session_user(res.token)
    assert found is not None and found[0] == user and found[1] == res.csrf
    assert acc.session_user("nope") is None
    for _ in range(2):
        with pytest.raises(LoginRefused):
            acc.login("li", "bad-password-0", "10.0.0.2")
    with pytest.raises(LoginRefused) as locked:
        acc.login("li", "Good-password-1", "10.0.0.3")
    assert locked.value.code == "locked" and locked.value.retry_after > 0
    acc.logout(res.token)
    assert acc.session_user(res.token) is None


def test_ticket_workflow_and_events(parts):
    from assistant.staff.identity import StaffUser
    from assistant.staff.workbench import TicketConflict

    h, wb, events = parts["handoffs"], parts["wb"], parts["events"]
    start = events.last_id()
    t = h.create("s-1", "web", None, None, "街道便民服务中心", [{"role": "user", "text": "我电话13812345678"}],
                 "request_human", "营门口街道")
    assert t.place == "营门口街道" and "138****5678" in t.transcript[0].text
    a = StaffUser("a", "street", "营门口街道", "agent")
    b = StaffUser("b", "street", "茶店子街道", "agent")
    assert [i.priority for i in wb.queue(a) if i.id == t.id] == [0]
    assert [i.priority for i in wb.queue(b) if i.id == t.id] == [1]
    wb.claim(a, t.id)
    with pytest.raises(TicketConflict):
        wb.claim(b, t.id)
    wb.add_note(a, t.id, "先核实材料")
    assert wb.leave_callback("s-1", "13812345678") == t.id
    h.reply(t.id, "您好", "王老师")
    moved = wb.transfer(a, t.id, "district", "营门口街道")
    assert moved.level == "区政务大厅" and moved.place is None and moved.claimed_by is None
    detail = wb.detail(t.id)
    assert detail["callbacks"][0]["phone"] == "138****5678" and len(detail["notes"]) == 2
    wb.close(t.id, "已解答")
    assert wb.rating_request("s-1") == {"ticket_id": t.id}
    assert wb.rating_from_text("s-1", "5分") == 5 and h.get(t.id).rating == 5
    kinds = [e["kind"] for e in events.after(start)]
    assert kinds == ["created", "claimed", "note", "callback", "replied", "transferred", "closed", "rated"]
    assert len(parts["woken"]) == len(kinds)


def test_presence_and_canned(parts):
    from assistant.staff.identity import StaffUser

    wb = parts["wb"]
    u = StaffUser("z", "district", None, "admin")
    assert wb.availability("区政务大厅").online == 0
    wb.heartbeat(u)
    wb.heartbeat(u)
    assert wb.availability("区政务大厅").online == 1 and wb.availability("街道便民服务中心").online == 0
    wb.offline(u)
    assert wb.online() == []
    titles = [c["title"] for c in wb.canned()]
    assert "问候" in titles
    made = wb.save_canned(u, "新模板", "内容")
    wb.save_canned(u, "改过", "新内容", made["id"])
    assert any(c["title"] == "改过" for c in wb.canned())
    wb.delete_canned(made["id"])
    assert not any(c["id"] == made["id"] for c in wb.canned())
