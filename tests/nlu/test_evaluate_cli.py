"""``jinxiaoer evaluate`` on a small evaluation file of our own, checked against the reference scorer."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nlu.evaluation import EvalFileError, load_queries, score

SCORER = Path(__file__).resolve().parents[3] / "shared" / "eval" / "score.py"


def _items(kb):
    shop = kb.by_name("个体工商户设立登记").code
    return [
        {"id": "own-1", "query": "开个小卖部要办啥子证", "kind": "matter", "accept": [shop], "accept_keywords": []},
        {"id": "own-2", "query": "养老金认证咋个整", "kind": "matter", "accept": [], "accept_keywords": ["资格认证"]},
        {"id": "own-3", "query": "今天天气咋样", "kind": "out_of_scope", "accept": [], "accept_keywords": []},
        {"id": "own-4", "query": "小区物业天天乱收费", "kind": "out_of_scope", "accept": [], "accept_keywords": []},
    ]


def test_evaluate_command_output_and_summary_agree_with_score_py(tmp_path, kb, nlu, monkeypatch):
    from assistant.commands import evaluate
    from assistant.settings import Settings

    queries = tmp_path / "q.jsonl"
    queries.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in _items(kb)), encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    # Reuse the session NLU (same settings) instead of loading a second one.
    monkeypatch.setattr("nlu.NLU", lambda *a, **k: nlu)

    class Args:
        pass
    args = Args()
    args.queries, args.top_k, args.out = queries, 3, out
    assert evaluate.run(args, Settings(environment="test")) == 0
    preds = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [p["id"] for p in preds] == ["own-1", "own-2", "own-3", "own-4"]
    for p in preds:
        assert set(p) == {"id", "intent", "out_of_scope", "matters"} and len(p["matters"]) <= 3
        assert all(set(m) == {"code", "name", "score"} for m in p["matters"])
    ours = score(_items(kb), preds)
    assert ours["top3"] == 1.0 and ours["oos_recall"] == 1.0
    # the reference scorer of ../shared must agree with ours (a missing scorer fails, it is not dropped)
    assert SCORER.exists(), f"a required part is missing: {SCORER} (../shared must sit beside the repository)"
    ref = subprocess.run([sys.executable, str(SCORER), str(queries), str(out)], capture_output=True, text=True)
    assert json.loads(ref.stdout) == ours


def test_bad_queries_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "query": "ok"}\nnot json\n', encoding="utf-8")
    with pytest.raises(EvalFileError, match="bad.jsonl:2"):
        load_queries(bad)
    with pytest.raises(EvalFileError):
        load_queries(tmp_path / "missing.jsonl")


def test_cli_rejects_bad_file_with_exit_2(tmp_path, capsys):
    from assistant.commands import evaluate
    from assistant.settings import Settings

    bad = tmp_path / "bad.jsonl"
    bad.write_text("[1, 2]\n", encoding="utf-8")

    class Args:
        queries, top_k, out = bad, 5, None
    assert evaluate.run(Args(), Settings(environment="test")) == 2
    assert "needs string fields" in capsys.readouterr().err


def test_no_eval_query_in_nlu_training_data():
    from knowledge.leakcheck import find_leaks, find_near_copies, read_queries

    eval_file = SCORER.parent / "citizen_questions.jsonl"
    if not eval_file.exists():
        pytest.fail(f"a required part is missing: {eval_file} (../shared must sit beside the repository)")
    data = Path(__file__).resolve().parents[2] / "nlu" / "data"
    queries = read_queries(eval_file)
    assert find_leaks(queries, [data]) == []
    assert find_near_copies(queries, [data]) == []
