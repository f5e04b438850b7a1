"""A guide edit with the real Rasa server answering (the session-wide ``live`` stack): the next answer Rasa's
custom action builds for that matter has the new material, without restarting either process; a revert brings
the old answer back."""

from __future__ import annotations

import uuid

import pytest

from tests.live_stack import parts

pytestmark = pytest.mark.rasa

CODE = "JN-GJJ-002"
QUESTION = "租房提取公积金要带啥子材料"
NEW = {"name": "社保缴费证明（近6个月）", "form": "复印件", "copies": 2, "requirement": "required", "note": "",
       "aliases": []}


def _checklist(live) -> list[str]:
    reply = live.chat(f"guides-rasa-{uuid.uuid4().hex[:8]}", QUESTION)
    assert not reply["degraded"] and reply["matter"]["code"] == CODE, reply
    return [i["name"] for i in parts(reply, "checklist")[0]["items"]]


def test_a_guide_edit_is_in_rasas_next_answer_and_a_revert_restores_it(live):
    before = _checklist(live)
    d = live.http.get(f"/api/v1/guides/{CODE}", headers=live.staff_headers).json()
    start = d["version"]
    r = live.http.put(f"/api/v1/guides/{CODE}", headers=live.staff_headers,
                      json={"guide": {"materials": d["matter"]["materials"] + [NEW]}, "base_version": start})
    assert r.status_code == 200, r.text
    try:
        assert _checklist(live) == before + [NEW["name"]]
    finally:
        r = live.http.post(f"/api/v1/guides/{CODE}/revert", headers=live.staff_headers,
                           json={"version": start})
        assert r.status_code == 200, r.text
    assert _checklist(live) == before
