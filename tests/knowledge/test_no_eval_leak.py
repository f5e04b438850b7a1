"""No query of the evaluation set may appear in the KB, the guides or any training data.

The evaluation set (../shared/eval/citizen_questions.jsonl) is for measurement only; a copied query would make
the reported accuracy meaningless. The checker is tested on planted strings first, so this test can fail.
"""

from __future__ import annotations

import json

import pytest

from knowledge.leakcheck import NEAR_COPY_RATIO, find_leaks, find_near_copies, normalize, read_queries
from tests.knowledge.conftest import EVAL_QUERIES, REPO_ROOT, require

#: Where KB text and training examples live: authored guides, generated KB files, the NLU engineer's examples,
#: the Rasa domain and training data.
GUARDED = [REPO_ROOT / "knowledge" / "guides", REPO_ROOT / "knowledge" / "data", REPO_ROOT / "nlu" / "data",
           REPO_ROOT / "domain", REPO_ROOT / "data", REPO_ROOT / "assistant" / "preservice" / "data",
           REPO_ROOT / "assistant" / "dialogue", REPO_ROOT / "tests" / "data"]


@pytest.fixture(scope="module")
def queries():
    return read_queries(require(EVAL_QUERIES))


def write_eval(tmp_path, items):
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items), encoding="utf-8")
    return path


def test_checker_finds_a_planted_query(tmp_path):
    q = write_eval(tmp_path, [{"id": "t-1", "query": "咨询某某区居民证明开具的问题"},
                              {"id": "t-2", "query": "办证"}])  # too short to count
    queries = read_queries(q)
    assert [qid for qid, _ in queries] == ["t-1"]
    root = tmp_path / "guides"
    root.mkdir()
    (root / "clean.yml").write_text("examples:\n- 居民证明怎么开\n", encoding="utf-8")
    assert find_leaks(queries, [root]) == []
    # copied verbatim, with other spacing/punctuation, and wrapped over two lines
    (root / "a.yml").write_text("name: x\nexamples:\n- 咨询某某区居民证明开具的问题\n", encoding="utf-8")
    (root / "b.json").write_text('{"text": "咨询 某某区居民证明开具的问题？"}', encoding="utf-8")
    (root / "c.md").write_text("intro\n咨询某某区居民\n证明开具的问题\n", encoding="utf-8")
    (root / "办证.yml").write_text("- 办证\n", encoding="utf-8")
    leaks = find_leaks(queries, [root, tmp_path / "missing"])
    assert [(leak.file.name, leak.line, leak.query_id) for leak in leaks] == [
        ("a.yml", 3, "t-1"), ("b.json", 1, "t-1"), ("c.md", 2, "t-1")]
    assert "a.yml:3: contains evaluation query t-1" in str(leaks[0])


def test_near_copy_checker_finds_a_planted_paraphrase(tmp_path):
    queries = read_queries(write_eval(tmp_path, [{"id": "t-1", "query": "咨询外地社保转到某某区的办理流程"}]))
    root = tmp_path / "nlu"
    root.mkdir()
    (root / "ok.yml").write_text("examples:\n  - 社保怎么转过来\n", encoding="utf-8")
    assert find_near_copies(queries, [root]) == []
    # one word dropped, one swapped: not a substring, still a copy
    (root / "intents.yml").write_text("ask:\n  examples:\n    - 咨询外地社保转入某某区的流程\n", encoding="utf-8")
    (root / "ex.jsonl").write_text('{"text": "咨询外地社保转去某某区的办理流程"}\n', encoding="utf-8")
    (root / "notes.txt").write_text("咨询外地社保转到某某区办理流程\n", encoding="utf-8")
    found = find_near_copies(queries, [root])
    assert sorted(f.file.name for f in found) == ["ex.jsonl", "intents.yml", "notes.txt"]
    assert all(f.ratio >= NEAR_COPY_RATIO and f.query_id == "t-1" for f in found)
    assert find_leaks(queries, [root]) == []  # the exact check alone would have missed them


def test_normalize():
    assert normalize("咨询 成都市（金牛区）落户？") == normalize("咨询成都市(金牛区)落户") == "咨询成都市金牛区落户"


def test_no_eval_query_in_kb_or_training_data(queries):
    assert len(queries) >= 150
    leaks = find_leaks(queries, GUARDED)
    assert leaks == [], "evaluation queries copied into the project:\n" + "\n".join(map(str, leaks))


def test_no_near_copy_of_eval_queries_in_authored_text(queries):
    """Paraphrases by small edits count as copies too (knowledge/data is upstream catalogue text: exact check only)."""
    roots = [r for r in GUARDED if r.name != "data" or r.parent.name != "knowledge"]
    found = find_near_copies(queries, roots)
    assert found == [], "near copies of evaluation queries:\n" + "\n".join(map(str, found))
