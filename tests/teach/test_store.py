"""The triage tables on SQLite and PostgreSQL: items masked and de-duplicated, vectors round-trip, the learned
version changes with every served example, grouping is stable as items arrive."""

from __future__ import annotations

import numpy as np

from assistant.db.session import Database
from assistant.teach import groups, store


def test_items_and_learned_examples(db_url):
    db = Database(db_url)
    db.upgrade()
    try:
        v = np.ones(4, dtype="float32") / 2
        a = store.add_item(db, session_id="s1", channel="web", text="我的身份证号510104199001011234 咋个补办",
                           reason="fallback", vector=v)
        assert a is not None
        assert store.add_item(db, session_id="s1", channel="web", text="我的身份证号510104199001011234 咋个补办",
                              reason="fallback") is None  # a duplicate of an open item
        b = store.add_item(db, session_id="s2", channel="web", text="另一个问题", reason="ambiguous",
                           vector=np.array([1, 0, 0, 0], dtype="float32"))
        items = store.open_items(db)
        assert [i.id for i in items] == [a, b]
        assert "510104199001011234" not in items[0].text and np.allclose(items[0].vector, v)
        assert store.learned_version(db) == "0:0"
        store.add_learned(db, [{"text": "另一个问题", "kind": "out_of_scope", "triage_item_id": b}], "live", "b1",
                          {"passed": True}, "tester")
        store.add_learned(db, [{"text": "x", "kind": "intent", "label": "greet"}], "held", "b2", {}, "tester")
        assert store.learned_version(db).startswith("1:")
        assert [r["text"] for r in store.live_learned(db)] == ["另一个问题"]
        store.mark(db, [b], "resolved", {"kind": "out_of_scope"}, "tester")
        assert [i.id for i in store.open_items(db)] == [a] and store.item_status(db, b) == "resolved"
    finally:
        db.dispose()


def _item(i: int, text: str, vec) -> store.OpenItem:
    from datetime import datetime, timezone

    return store.OpenItem(i, text, "fallback", datetime(2026, 11, 30, 10, i, tzinfo=timezone.utc), None, None, "",
                          None if vec is None else np.array(vec, dtype="float32"), "open", "")


def test_grouping_is_stable_as_items_arrive():
    x, y = [1.0, 0.0], [0.0, 1.0]
    near = [0.96, 0.28]  # cosine 0.96 with x
    first = groups.group([_item(1, "a", x), _item(2, "b", y)], 0.9)
    later = groups.group([_item(1, "a", x), _item(2, "b", y), _item(3, "c", near), _item(4, "a", None)], 0.9)
    assert [g.id for g in first] == [g.id for g in later] == [1, 2]
    assert [i.id for i in later[0].items] == [1, 3, 4]
    assert groups.ordered(later)[0].id == 1 and groups.ordered(later, "newest")[0].id == 1
    assert later[0].view()["count"] == 3 and later[0].view()["text"] == "a"
