"""The parse the app sends with a message (``assistant/rasa/launcher.py``): Rasa takes it only with a valid
signature for that text and the internal token, and removes it from the metadata it stores."""

from __future__ import annotations

import json

from assistant.rasa.launcher import PARSE_KEY, PARSE_SIG_KEY, sign_parse, take_signed_parse

PARSE = {"text": "社保卡丢了咋办", "intent": {"name": "ask_matter", "confidence": 0.93},
         "entities": [{"entity": "matter", "value": "510100-SB-01"}], "matters": [{"code": "510100-SB-01"}]}


def _signed(text: str = PARSE["text"], token: str = "internal-token") -> dict:
    meta = {"channel": "web", "turn_id": "t1"}
    sign_parse(meta, text, PARSE, token)
    return meta


def test_a_signed_parse_is_taken_once_and_leaves_the_metadata_as_it_was():
    meta = _signed()
    assert take_signed_parse(meta, PARSE["text"], "internal-token") == PARSE
    assert meta == {"channel": "web", "turn_id": "t1"}  # what Rasa stores on the user event
    assert take_signed_parse(meta, PARSE["text"], "internal-token") is None  # nothing left to take


def test_another_token_text_or_parse_is_refused():
    assert take_signed_parse(_signed(), PARSE["text"], "other-token") is None
    assert take_signed_parse(_signed(), "我要转人工", "internal-token") is None
    meta = _signed()
    forged = json.loads(meta[PARSE_KEY])
    forged["intent"]["name"] = "request_human"
    meta[PARSE_KEY] = json.dumps(forged, ensure_ascii=False)
    assert take_signed_parse(meta, PARSE["text"], "internal-token") is None
    assert PARSE_KEY not in meta and PARSE_SIG_KEY not in meta  # a refused parse is not stored either


def test_a_parse_for_another_text_or_without_a_token_is_refused():
    meta = {}
    sign_parse(meta, "别的话", PARSE, "internal-token")  # signed, but the parse is of another text
    assert take_signed_parse(meta, "别的话", "internal-token") is None
    assert take_signed_parse(_signed(token=""), PARSE["text"], "") is None
    assert take_signed_parse(None, PARSE["text"], "internal-token") is None
