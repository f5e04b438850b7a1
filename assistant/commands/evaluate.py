"""``jinxiaoer evaluate``: matter routing of the NLU + search layer on an evaluation file (no Rasa server).

Writes one JSON line per query (``id``, ``intent``, ``out_of_scope``, ``matters``: top-k ``{code, name,
score}``) to ``--out`` (default stdout) and a summary (top-1, top-3, out-of-scope recall) to stderr. The figures
follow ``../shared/eval/score.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from assistant.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``evaluate`` to the ``jinxiaoer`` parser.

    Args:
        subparsers: the dispatcher's sub-parser collection.
    """
    p = subparsers.add_parser("evaluate", help="measure matter routing on an evaluation file",
                              description="Route every query of a JSON Lines evaluation file through the NLU.")
    p.add_argument("--queries", required=True, type=Path, help="JSON Lines file (id, query, kind, accept, …)")
    p.add_argument("--top-k", type=int, default=5, help="matters kept per query (default 5)")
    p.add_argument("--out", type=Path, default=None, help="predictions file (default: stdout)")
    p.add_argument("--with-learned", action="store_true",
                   help="serve the learned examples of the database (triage inbox) as the app would")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the evaluation; exit code 0, or 2 on an unusable queries file or bad ``--top-k``."""
    from assistant.container import load_kb, load_nlu
    from nlu.evaluation import EvalFileError, load_queries, predict, score

    if args.top_k < 1:
        print("evaluate: --top-k must be at least 1", file=sys.stderr)
        return 2
    try:
        items = load_queries(args.queries)
    except EvalFileError as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        return 2
    nlu = load_nlu(settings, load_kb(settings))
    if getattr(args, "with_learned", False):
        from assistant.db.session import Database
        from assistant.teach.store import learned_version, live_learned
        from nlu.learned import LearnedExample

        db = Database(settings.database_url)
        db.upgrade()
        rows = live_learned(db)
        nlu.set_learned(nlu.learned_set([LearnedExample(r["text"], r["kind"], r["label"]) for r in rows],
                                        learned_version(db), settings.learned_match_threshold))
        db.dispose()
        print(f"evaluate: serving {len(nlu.learned)} learned examples", file=sys.stderr)
    t0 = time.perf_counter()
    preds = predict(items, lambda q: nlu.parse(q, k=args.top_k), args.top_k)
    seconds = time.perf_counter() - t0
    lines = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in preds)
    if args.out is None:
        sys.stdout.write(lines)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(lines, encoding="utf-8")
    s = score(items, preds)
    print(f"evaluate: {len(items)} queries, {1000 * seconds / max(1, len(items)):.1f} ms/query; "
          f"top-1 {_pct(s['top1'])}  top-3 {_pct(s['top3'])}  out-of-scope recall {_pct(s['oos_recall'])}  "
          f"(matter flagged out of scope {_pct(s['matter_flagged_oos'])}, combined top-1 {_pct(s['combined_top1'])})",
          file=sys.stderr)
    print(json.dumps(s, ensure_ascii=False), file=sys.stderr)
    return 0


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"
