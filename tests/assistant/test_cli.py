"""The serve/ask/db sub-commands."""

from __future__ import annotations

import argparse
import json

import pytest
from sqlalchemy import inspect

from assistant.cli import build_parser
from assistant.commands import ask, db, serve


def test_parser_has_the_commands():
    parser = build_parser()
    args = parser.parse_args(["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert (args.host, args.port) == ("0.0.0.0", 8123)
    args = parser.parse_args(["ask", "营业执照", "--json", "--session", "s1"])
    assert (args.text, args.json, args.session) == ("营业执照", True, "s1")
    assert parser.parse_args(["db", "upgrade"]).func is db._upgrade


def test_serve_settings_follow_the_flags(make_settings):
    s = serve.settings_for(make_settings(), "0.0.0.0", 8123)
    assert (s.host, s.port, s.app_internal_url) == ("0.0.0.0", 8123, "http://127.0.0.1:8123")
    assert serve.page_url(s) == "http://127.0.0.1:8123/"
    custom = serve.settings_for(make_settings(app_internal_url="http://app.internal:9000"), None, 8124)
    assert custom.app_internal_url == "http://app.internal:9000"


def test_db_upgrade_command(db_url, make_settings, capsys):
    settings = make_settings(database_url=db_url)
    assert db._upgrade(argparse.Namespace(), settings) == 0
    out = capsys.readouterr().out
    assert "is at" in out and "tables" in out
    from assistant.db.session import make_engine

    engine = make_engine(db_url)
    try:
        assert {"conversations", "messages", "handoff_tickets"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_render_text():
    text = ask.render_text({"replies": [
        {"type": "notice", "text": "提示"},
        {"type": "matter_card", "matter": {"code": "C1", "name": "某事项", "fee": "不收费", "verified": False}},
        {"type": "checklist", "matter": {"name": "某事项"}, "items": [
            {"name": "身份证", "form": "原件", "copies": 1, "requirement": "required", "note": ""}]},
        {"type": "buttons", "buttons": [{"title": "材料清单", "payload": "/x"}]},
        {"type": "handoff", "ticket": {"id": 7, "level": "区政务大厅", "status": "open"}},
    ]})
    assert "【提示】提示" in text and "■ 某事项（C1） [仅供参考]" in text and "收费：不收费" in text
    assert "1. 身份证（原件，1份）" in text and "[材料清单]" in text and "工单 7" in text


@pytest.mark.slow
def test_ask_answers_in_process_without_rasa(make_settings, nlu, capsys):
    # ``nlu`` first: the session fixture warms the NLU index cache that the command's own app then reuses
    settings = make_settings()
    args = build_parser().parse_args(["ask", "我想办个体户营业执照", "--json", "--no-rasa", "--session", "cli-1"])
    assert args.func(args, settings) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["session_id"] == "cli-1" and body["degraded"] is True
    assert any(p["type"] == "matter_card" and "个体工商户" in p["matter"]["name"] for p in body["replies"])
