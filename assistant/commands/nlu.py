"""``jinxiaoer nlu …``: ``parse`` one text (prints the ``/model/parse`` JSON) and ``calibrate`` the thresholds
(writes ``nlu/data/calibration.json``)."""

from __future__ import annotations

import argparse
import json
import sys

from assistant.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``nlu`` and its sub-commands to the ``jinxiaoer`` parser.

    Args:
        subparsers: the dispatcher's sub-parser collection.
    """
    p = subparsers.add_parser("nlu", help="NLU: parse a text, calibrate thresholds",
                              description="The jieba + embedding NLU.")
    sub = p.add_subparsers(dest="nlu_command", metavar="ACTION")
    p.set_defaults(func=lambda args, settings: (p.print_help(), 2)[1])
    parse = sub.add_parser("parse", help="print the /model/parse result of a text")
    parse.add_argument("text", help="the message (or a button payload such as /ask_matter{\"matter\": \"…\"})")
    parse.add_argument("--top-k", type=int, default=5, help="matters returned (default 5)")
    parse.set_defaults(func=_parse)
    cal = sub.add_parser("calibrate", help="measure out-of-scope / ambiguity thresholds on held-out own data")
    cal.add_argument("--seed", type=int, default=13, help="random seed of the held-out split")
    cal.add_argument("--dry-run", action="store_true", help="print, do not write nlu/data/calibration.json")
    cal.set_defaults(func=_calibrate)


def _load(settings: Settings):
    from assistant.container import load_kb, load_nlu

    return load_nlu(settings, load_kb(settings))


def _parse(args: argparse.Namespace, settings: Settings) -> int:
    if args.top_k < 1:
        print("nlu parse: --top-k must be at least 1", file=sys.stderr)
        return 2
    print(json.dumps(_load(settings).parse(args.text, k=args.top_k), ensure_ascii=False, indent=2))
    return 0


def _calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from nlu.calibrate import calibrate
    from nlu.engine import CALIBRATION_FILE

    cal = calibrate(_load(settings), seed=args.seed, log=lambda s: print(s, file=sys.stderr))
    if args.dry_run:
        print(json.dumps(cal.__dict__, default=lambda o: o.__dict__, ensure_ascii=False, indent=2))
    else:
        cal.save(CALIBRATION_FILE)
        print(f"wrote {CALIBRATION_FILE}", file=sys.stderr)
    return 0
