"""Run inside the Rasa venv by tests/rasa/test_tracker_store.py (not collected by pytest: no ``test_`` prefix).

``python tracker_store_script.py plain|patched sqlite:<file> | postgresql:<schema>`` plays four turns of one
conversation (a new session in the third) through Rasa's SQLTrackerStore, plain or with the launcher's patch, and
prints JSON: the stored rows in order, the statements by kind and, after every turn, the tracker the next turn
got (its events and slots) beside the one a fresh read of the database gives.

``python tracker_store_script.py servers <target>``: the same turns through two patched stores on one database,
as two Rasa servers behind a balancer would take them (A, B, A, A, B): each server keeps the trackers it saved.
"""

import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "assistant", "rasa"))

from sqlalchemy import event  # noqa: E402

from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import (ActionExecuted, BotUttered, SessionStarted, SlotSet,  # noqa: E402
                                     UserUttered)
from rasa.shared.core.trackers import EventVerbosity  # noqa: E402

mode, target = sys.argv[1], sys.argv[2]
if mode in ("patched", "servers"):
    from launcher import faster_sql_tracker_store

    faster_sql_tracker_store()

domain = Domain.from_dict({"intents": ["ask", "thanks"], "slots": {"matter": {"type": "text", "mappings": [
    {"type": "custom"}]}}, "actions": ["action_answer"]})
kind, _, where = target.partition(":")


def open_store() -> SQLTrackerStore:
    if kind == "sqlite":
        return SQLTrackerStore(domain, dialect="sqlite", db=where)
    os.environ["POSTGRESQL_SCHEMA"] = where
    return SQLTrackerStore(domain, dialect="postgresql", host="127.0.0.1", port=5432, db="test",
                           username="postgres")


store = open_store()
second = open_store() if mode == "servers" else store
reader = open_store()  # for the comparison only: its statements are not counted
statements = {"count": 0, "insert": 0, "select": 0, "read_events": 0}


@event.listens_for(store.engine, "before_cursor_execute")
def _count(conn, cursor, statement, parameters, context, executemany):
    s = statement.lstrip().lower()
    if "count(" in s:
        statements["count"] += 1
    elif s.startswith("insert"):
        statements["insert"] += 1
    elif s.startswith("select"):
        statements["select"] += 1
        if "events.data" in s:
            statements["read_events"] += 1


def stored_state(sender_id: str) -> dict:
    """The tracker as a read of the database gives it (Rasa's own query, the store's memory left alone)."""
    with reader.session_scope() as session:
        rows = reader._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        events = [json.loads(r.data) for r in rows]
    from rasa.shared.core.trackers import DialogueStateTracker

    return state_of(DialogueStateTracker.from_dict(sender_id, events, domain.slots))


def state_of(tracker) -> dict:
    state = tracker.current_state(EventVerbosity.ALL)
    return {"events": state["events"], "slots": state["slots"], "active_loop": state["active_loop"]}


compared: list[bool] = []


def user(text: str, intent: str, t: float) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9}, timestamp=t)


async def play() -> None:
    t = 1_000.0
    tracker = await store.get_or_create_tracker("c1")  # a new conversation: saved once, Rasa counts
    servers = [store, second, store, store, second] if mode == "servers" else [store] * 4
    for turn, server in enumerate(servers):
        tracker = await server.get_or_create_tracker("c1")
        compared.append(state_of(tracker) == stored_state("c1"))  # the turn starts from what is stored
        if turn == 2:  # a new session starts inside this turn
            tracker.update(ActionExecuted("action_session_start", timestamp=t))
            tracker.update(SessionStarted(timestamp=t + 0.1))
            tracker.update(ActionExecuted("action_listen", timestamp=t + 0.2))
        tracker.update(user(f"第{turn}句", "ask" if turn % 2 == 0 else "thanks", t + 1))
        tracker.update(SlotSet("matter", f"M{turn}", timestamp=t + 2))
        tracker.update(ActionExecuted("action_answer", timestamp=t + 3))
        tracker.update(BotUttered(f"答{turn}", timestamp=t + 4))
        tracker.update(ActionExecuted("action_listen", timestamp=t + 5))
        await server.save(tracker)
        if turn == 1:
            await server.save(tracker)  # saved again with nothing new: nothing is written
        t += 10


asyncio.run(play())
with reader.session_scope() as session:
    rows = [[r.type_name, r.intent_name, r.action_name, json.loads(r.data)]
            for r in session.query(reader.SQLEvent).order_by(reader.SQLEvent.id).all()]
for r in rows:  # the initial action_listen of a new tracker is stamped with the clock
    if r[0] == "action" and r[2] == "action_listen" and r[3]["timestamp"] > 1e9:
        r[3]["timestamp"] = 0
print(json.dumps({"rows": rows, "statements": statements, "same_as_stored": compared}, ensure_ascii=False))
