"""The ``jinxiaoer`` command line. Each sub-command lives in ``assistant/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (called with the parsed arguments and the
settings; it returns the exit code)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from pydantic import ValidationError

from assistant import commands
from assistant.settings import get_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jinxiaoer", description="金小二 — 金牛区政务服务智能导办")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"assistant.commands.{mod.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = get_settings()
    except ValidationError as exc:  # e.g. production with a weak token: one line saying why, no traceback
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err.get("loc", ()))
        msg = str(err.get("msg", exc)).removeprefix("Value error, ")
        print(f"jinxiaoer: invalid settings: {where + ': ' if where else ''}{msg}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args, settings) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
