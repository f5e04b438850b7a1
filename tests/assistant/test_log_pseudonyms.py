"""The logs carry a keyed hash of each session id, never the id (issue 11). Finding: the session id — all it took
to read or continue a conversation — was written to the logs in clear."""

from __future__ import annotations

import argparse
import ast
import io
import json
import logging
from pathlib import Path

from assistant.logging import (SESSION_FIELDS, JsonFormatter, get_logger, log_event, pseudonym, session_ref,
                               set_pseudonym_key)
from assistant.privacy import PIIMaskingFilter, mask_pii
from tests.citizen import citizen_client

ROOT = Path(__file__).resolve().parents[2] / "assistant"


def _capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PIIMaskingFilter())
    logger = logging.getLogger(f"test.pseudonyms.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, stream


def test_session_fields_are_logged_as_keyed_hashes():
    logger, stream = _capture()
    log_event(logger, "chat.turn.completed", session="web-3f9a7c2e11", session_id="kiosk-77", sender="mp-abc",
              ms=12)
    line = json.loads(stream.getvalue())
    assert line["session"] == session_ref("web-3f9a7c2e11") and line["session"].startswith("s-")
    assert line["session_id"] == session_ref("kiosk-77") and line["sender"] == session_ref("mp-abc")
    for raw in ("web-3f9a7c2e11", "kiosk-77", "mp-abc"):
        assert raw not in stream.getvalue()
    assert line["ms"] == 12


def test_the_reference_is_keyed_stable_and_survives_the_masking():
    set_pseudonym_key("Key-One-For-The-Pseudonyms-123")
    one = session_ref("web-abc")
    assert session_ref("web-abc") == one and session_ref("web-abd") != one
    assert pseudonym("web-abc", "o") != one                      # other kinds never share a hash
    set_pseudonym_key("Key-Two-For-The-Pseudonyms-456")
    assert session_ref("web-abc") != one                          # without the key, no one can recompute it
    refs = [session_ref(f"s-{i}") for i in range(2000)]
    assert all(mask_pii(r) == r and len(r) == 15 for r in refs)  # never mistaken for a phone number
    assert session_ref(None) is None and session_ref("") == ""


def test_a_whole_turn_logs_no_session_id(make_settings, kb, caplog):
    from assistant.app import create_app

    app = create_app(make_settings(pseudonym_key="Key-For-The-Turn-Test-0123456"), kb=kb, load_models=False,
                     rasa=None)
    sid = "web-7f3e9d2a5b8c4e1f"
    with citizen_client(app) as c, caplog.at_level(logging.INFO):
        assert c.post("/api/v1/chat", json={"session_id": sid, "text": "/request_human"}).status_code == 200
        assert c.get(f"/api/v1/chat/{sid}/messages").status_code == 200
        assert c.post("/api/v1/chat", json={"session_id": sid, "text": "你好"},
                      headers={"X-Session-Token": "wrong-token-0123456789abcdef"}).status_code == 403
    app_records = [r for r in caplog.records if not r.name.startswith("httpx")]  # not the test client's own log
    text = "\n".join(r.getMessage() for r in app_records) + json.dumps(
        [getattr(r, "fields", {}) for r in app_records], default=str)
    assert sid not in text
    events = {getattr(r, "event", None) for r in app_records if session_ref(sid) in json.dumps(
        getattr(r, "fields", {}), default=str)}
    assert {"citizen.session.opened", "chat.turn.completed", "handoff.ticket.created",
            "citizen.session.refused"} <= events


def test_staff_compute_the_reference_of_an_id(make_settings, capsys):
    from assistant.commands import session_ref as command

    settings = make_settings(pseudonym_key="Key-For-The-Command-Test-0123")
    assert command._session_ref(argparse.Namespace(session_ids=["web-1", "kiosk-2"]), settings) == 0
    out = capsys.readouterr().out.splitlines()
    set_pseudonym_key(settings.pseudonym_key)
    assert out == [f"web-1\t{session_ref('web-1')}", f"kiosk-2\t{session_ref('kiosk-2')}"]
    assert command._session_ref(argparse.Namespace(session_ids=["x"]), make_settings()) == 2  # no key: no use


def test_wechat_dedup_keys_carry_a_keyed_hash_of_the_openid():
    from assistant.channels.wechat.mp import _log_key

    logged = _log_key("wechat_mp:ev:o-secret-openid-123:subscribe:1700000000")
    assert "o-secret-openid-123" not in logged and pseudonym("o-secret-openid-123", "o") in logged


def _session_like(node: ast.AST) -> bool:
    src = ast.unparse(node)
    return any(word in src for word in ("session_id", "sender_id", "message_id", "sid")) and "ticket" not in src


def test_every_log_event_with_a_session_id_uses_a_session_field():
    """Guard for new code: a ``log_event`` keyword whose value is a session id must be one of
    :data:`SESSION_FIELDS` (hashed); anything else would write the id in clear."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "log_event":
                for kw in call.keywords:
                    if kw.arg and kw.arg not in SESSION_FIELDS and _session_like(kw.value) \
                            and kw.arg not in {"message"}:
                        offenders.append(f"{path.relative_to(ROOT.parent)}:{call.lineno} {kw.arg}=")
    assert not offenders, offenders
    assert get_logger("x") is logging.getLogger("x")
