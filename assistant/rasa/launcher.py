"""Starts the Rasa server (``rasa run …``) with fixes that make a turn cheaper without changing what Rasa does:

* the action server's answer is validated against a schema compiled once instead of on every custom-action
  turn: Rasa 3.6 calls ``jsonschema.validate(result, spec)`` for every custom-action answer, which re-checks the
  schema itself each time (measured ~35–45 ms a turn on this machine). The same schema, the same errors.
* the SQL tracker store writes the same rows with fewer round trips: Rasa's ``save`` counts the stored events of
  the conversation's session (a ``COUNT`` with a sub-query) to find the new ones, then inserts them one statement
  at a time. The tracker now remembers how many stored events it was loaded with (no other process can add any
  while Rasa's lock store holds the conversation), and the new events go in one multi-row ``INSERT``. A server
  also keeps the trackers it saved (``JXE_RASA_TRACKER_CACHE`` of them): a conversation's next turn takes its
  tracker from memory when the conversation's stored events are still those saved with it (its last event id and
  latest event time, one indexed query), instead of reading every event of the session and rebuilding the
  tracker from them. A tracker in which a new session began is kept as a read would give it (from the session's
  start on); one another server moved on meanwhile is read from the database as before.
* an action call carries the tracker's events from the latest user message on, not the whole conversation:
  the app's steps keep the conversation's memory in the app's database and read only the current turn's
  message and metadata from the events (the degraded path runs the same steps with none), while Rasa
  serialises, and the app parses, every earlier event (each user message with its full NLU parse) on every call.
  Slots, the latest message and the active form are sent as before.
* the app's parse can come with the message: the app reads every message in the conversation's state before it
  sends it (it has the state at hand for masking), so it attaches that parse to the message's metadata, signed
  with the internal token (:func:`sign_parse`). Rasa then uses it instead of calling the app's ``/nlu/model/parse``
  back over HTTP (:func:`take_signed_parse`); the parse is removed from the metadata so the tracker keeps it
  once (in ``parse_data``, as before). A message without a valid signature is parsed over HTTP as before.

It runs inside the Rasa venv (Python 3.10) by path, ``.venv-rasa/bin/python assistant/rasa/launcher.py run …``,
so it imports nothing of the app; the arguments are ``rasa``'s own, plus ``--auth-token`` from the environment
variable ``JXE_RASA_AUTH_TOKEN`` (set by the supervisor; kept off the command line).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from typing import Any

#: Metadata keys of a message that carry the app's parse of it and the parse's signature.
PARSE_KEY, PARSE_SIG_KEY = "jxe_parse", "jxe_parse_sig"


def _parse_mac(token: str, text: str, parse_json: str) -> str:
    return hmac.new(token.encode(), f"{text}\n{parse_json}".encode(), hashlib.sha256).hexdigest()


def sign_parse(metadata: dict[str, Any], text: str, parse: dict[str, Any], token: str) -> None:
    """Attach ``parse`` (the app's reading of ``text``, the text Rasa is sent) to a message's ``metadata``,
    signed with the internal token (used by the app's Rasa client)."""
    parse_json = json.dumps(parse, ensure_ascii=False)
    metadata[PARSE_KEY], metadata[PARSE_SIG_KEY] = parse_json, _parse_mac(token, text, parse_json)


def take_signed_parse(metadata: Any, text: str, token: str) -> dict[str, Any] | None:
    """Remove the parse :func:`sign_parse` attached from ``metadata`` and return it when its signature holds for
    ``text`` and ``token`` (``None`` otherwise: Rasa asks the app's NLU endpoint as usual)."""
    if not isinstance(metadata, dict):
        return None
    parse_json, sig = metadata.pop(PARSE_KEY, None), metadata.pop(PARSE_SIG_KEY, None)
    if not token or not isinstance(parse_json, str) or not isinstance(sig, str):
        return None
    if not hmac.compare_digest(sig, _parse_mac(token, text, parse_json)):
        return None
    try:
        parse = json.loads(parse_json)
    except ValueError:
        return None
    return parse if isinstance(parse, dict) and parse.get("text") == text else None


def compile_action_validator() -> None:
    """Replace ``RemoteAction._validate_action_result`` with a validator built once from the same spec."""
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    spec = RemoteAction.action_response_format_spec()
    validator_cls = validator_for(spec)
    validator_cls.check_schema(spec)
    validator = validator_cls(spec)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        try:
            validator.validate(result)
        except ValidationError as e:
            e.message += (". Failed to validate Action server response from API, make sure your response from the "
                          f"Action endpoint is valid. For more information about the format visit "
                          f"{DOCS_BASE_URL}/custom-actions")
            raise
        return True

    RemoteAction._validate_action_result = _validate_action_result


#: How many conversations' trackers one Rasa server keeps in memory between their turns (``JXE_RASA_TRACKER_CACHE``;
#: 0: none). A tracker is a few kB to a few tens of kB.
TRACKER_CACHE_DEFAULT = 1000


def faster_sql_tracker_store(cache_size: int = TRACKER_CACHE_DEFAULT) -> None:
    """Patch ``SQLTrackerStore._retrieve`` and ``save`` as described in the module doc (same rows, same order, the
    same tracker).

    Args:
        cache_size: trackers kept in memory after their save, at most (the least recently saved go first).
    """
    import itertools
    from collections import OrderedDict

    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    def kept(store: Any) -> OrderedDict:
        if not hasattr(store, "jxe_kept"):
            store.jxe_kept = OrderedDict()
        return store.jxe_kept

    def stored_mark(store: Any, conn: Any, sender_id: str) -> tuple:
        """The conversation's last stored event id and latest event time: any event added, removed or re-dated
        since a tracker was saved changes it."""
        if not hasattr(store, "jxe_mark"):
            events = store.SQLEvent.__table__
            store.jxe_mark = (sa.select(sa.func.max(events.c.id), sa.func.max(events.c.timestamp))
                              .where(events.c.sender_id == sa.bindparam("sender_id")))
        return tuple(conn.execute(store.jxe_mark, {"sender_id": sender_id}).one())

    def current_mark(store: Any, sender_id: str) -> tuple | None:
        """:func:`stored_mark` on a connection of its own that commits by itself (no pool checkout, no rollback
        round trip per turn); ``None`` when the database cannot be asked (the turn then reads as Rasa does)."""
        conn = getattr(store, "jxe_mark_conn", None)
        try:
            if conn is None:
                conn = store.jxe_mark_conn = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            return stored_mark(store, conn, sender_id)
        except Exception:  # a dropped connection (a database restart): a new one next time
            store.jxe_mark_conn = None
            try:
                conn.close()
            except Exception:
                pass
            return None

    def as_read(store: Any, tracker: Any, mark: tuple) -> Any:
        """``tracker`` as :func:`_retrieve` would read it back: the events stamped from the latest session start on
        (Rasa's own query). Only a tracker in which a new session began differs; it is replayed from those events
        (the same objects: nothing is deserialised)."""
        events = list(tracker.events)
        start = max((e.timestamp for e in events if isinstance(e, SessionStarted)), default=None)
        if start is None or all(e.timestamp >= start for e in events):
            return tracker
        kept_events = [e for e in events if e.timestamp >= start]
        fresh = DialogueStateTracker.from_events(tracker.sender_id, kept_events, store.domain.slots)
        fresh.jxe_stored_events = (tracker.sender_id, len(kept_events), mark)
        return fresh

    async def _retrieve(self: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        held = None if fetch_events_from_all_sessions else kept(self).pop(sender_id, None)
        if held is not None and current_mark(self, sender_id) == held[0]:
            return held[1]  # this server saved it last, and nothing was stored since
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id,
                                     fetch_events_from_all_sessions=fetch_events_from_all_sessions).all()
            events = [json.loads(row.data) for row in rows]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:  # exactly what save()'s COUNT would find while the lock is held
            times = [r.timestamp for r in rows if r.timestamp is not None]  # as SQL's max() skips NULLs
            tracker.jxe_stored_events = (sender_id, len(rows), (max(r.id for r in rows), max(times, default=None)))
        return tracker

    async def save(self: Any, tracker: Any) -> None:
        await self.stream_events(tracker)
        known = getattr(tracker, "jxe_stored_events", None)
        read_here = known is not None and known[0] == tracker.sender_id
        mark = None
        with self.session_scope() as session:
            if read_here:
                stored, mark = known[1], known[2]
            else:  # a tracker that was not loaded here (a new conversation, the HTTP API): ask the database
                stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
            rows = []
            for event in itertools.islice(tracker.events, stored, len(tracker.events)):
                data = event.as_dict()
                rows.append({"sender_id": tracker.sender_id, "type_name": event.type_name,
                             "timestamp": data.get("timestamp"),
                             "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                             "action_name": data.get("name"), "data": json.dumps(data)})
            if rows or mark is None:
                if rows:
                    session.execute(self.SQLEvent.__table__.insert(), rows)
                mark = stored_mark(self, session.connection(), tracker.sender_id)
                session.commit()
        tracker.jxe_stored_events = (tracker.sender_id, len(tracker.events), mark)
        if cache_size > 0 and read_here:  # kept for the conversation's next turn as a read would give it
            memory = kept(self)
            memory[tracker.sender_id] = (mark, as_read(self, tracker, mark))
            memory.move_to_end(tracker.sender_id)
            while len(memory) > cache_size:
                memory.popitem(last=False)

    SQLTrackerStore._retrieve = _retrieve
    SQLTrackerStore.save = save


def lean_action_calls() -> None:
    """Send an action call the events from the latest user message on (see the module doc)."""
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import EventVerbosity

    def _action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
        events = list(tracker.events)
        start = next((i for i in range(len(events) - 1, -1, -1) if isinstance(events[i], UserUttered)), 0)
        tracker_state = tracker.current_state(EventVerbosity.NONE)
        tracker_state["events"] = [e.as_dict() for e in events[start:]]
        result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": tracker_state,
                  "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    RemoteAction._action_call_format = _action_call_format


def parse_from_metadata(token: str) -> None:
    """Let Rasa's HTTP NLU interpreter take a signed parse from the message (see the module doc)."""
    from rasa.core.http_interpreter import RasaNLUHttpInterpreter

    ask_over_http = RasaNLUHttpInterpreter.parse

    async def parse(self: Any, message: Any) -> dict[str, Any]:
        given = take_signed_parse(message.metadata, message.text or "", token)
        return given if given is not None else await ask_over_http(self, message)

    RasaNLUHttpInterpreter.parse = parse


def apply_auth_token(argv: list[str], environ: dict[str, str]) -> list[str]:
    """``argv`` of ``rasa run`` with ``--auth-token`` taken from ``JXE_RASA_AUTH_TOKEN`` (removed from
    ``environ``), so the token never appears on the process's command line (``ps`` shows that to every user)."""
    token = environ.pop("JXE_RASA_AUTH_TOKEN", "")
    given = any(a in ("-t", "--auth-token") or a.startswith("--auth-token=") for a in argv)
    if token and len(argv) > 1 and argv[1] == "run" and not given:
        # one argument with "=": a random token may begin with "-", which argparse would take for an option
        return [*argv, f"--auth-token={token}"]
    return argv


def main() -> None:
    """``rasa`` with the fixes of the module doc (and the API token from the environment)."""
    import os

    sys.argv = apply_auth_token(sys.argv, os.environ)
    compile_action_validator()
    faster_sql_tracker_store(int(os.environ.get("JXE_RASA_TRACKER_CACHE") or TRACKER_CACHE_DEFAULT))
    lean_action_calls()
    parse_from_metadata(os.environ.get("JXE_INTERNAL_TOKEN", ""))
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
