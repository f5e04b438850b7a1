"""Own question sets of the calibration: questions about the catalogue's entries (a name, no authored guide;
``nlu/data/catalogue_questions.yml``) and how the served NLU routes their ``check`` part; vague questions
(``nlu/data/vague_questions.yml``)."""

from __future__ import annotations

import pytest

from nlu.calibrate import load_catalogue_questions, load_vague_questions
from nlu.index import matter_texts
from nlu.text import MAX_MODEL_CHARS, normalize


def test_the_own_set_is_about_catalogue_entries_and_is_in_no_index_text(kb):
    parts = load_catalogue_questions()
    assert set(parts) == {"calibrate", "check"} and all(len(v) >= 100 for v in parts.values())
    codes = {p: {c for c, _ in items} for p, items in parts.items()}
    assert not codes["calibrate"] & codes["check"]
    texts = {t for m in kb.matters for t in matter_texts(m)}
    for c, q in parts["calibrate"] + parts["check"]:
        m = kb.get(c)
        assert m is not None and m.source != "authored", c
        assert normalize(q, MAX_MODEL_CHARS) not in texts, q


def test_a_malformed_file_is_refused(tmp_path):
    bad = tmp_path / "q.yml"
    bad.write_text("check:\n  - just a question\n", encoding="utf-8")
    with pytest.raises(ValueError, match="check"):
        load_catalogue_questions(bad)


def test_catalogue_entries_are_routed(nlu):
    """The ``check`` part (never used for a choice): top-1 0.78, top-3 0.88 when written. Before guides were also
    searched in catalogue form to train the re-ranker, it put these entries behind the guides: 0.42 and 0.65."""
    rows = []
    for code, q in load_catalogue_questions()["check"]:
        p = nlu.parse(q)
        rows.append((code, [] if p["out_of_scope"] else [m["code"] for m in p["matters"]][:3]))
    top1 = sum(got[:1] == [c] for c, got in rows) / len(rows)
    top3 = sum(c in got for c, got in rows) / len(rows)
    assert top1 >= 0.70 and top3 >= 0.80, (top1, top3)


def test_vague_questions_are_read_and_are_in_no_index_text(kb, tmp_path):
    vague = load_vague_questions()
    texts = {t for m in kb.matters for t in matter_texts(m)}
    assert len(vague) >= 40 and not {normalize(q, MAX_MODEL_CHARS) for q in vague} & texts
    bad = tmp_path / "v.yml"
    bad.write_text("questions: 社保卡\n", encoding="utf-8")
    with pytest.raises(ValueError, match="questions"):
        load_vague_questions(bad)
