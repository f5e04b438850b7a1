"""``jinxiaoer session-ref SESSION_ID …``: what the logs say instead of a session id.

The logs never carry a session id, only its keyed hash (:func:`assistant.logging.session_ref`, keyed with
``JXE_PSEUDONYM_KEY``). Staff who have an id — from a ticket in the workbench, or from a citizen — print its
reference here and search the logs for it. Without a configured key each process uses a random one, and no
reference can be computed afterwards.
"""

from __future__ import annotations

import argparse
import sys

from assistant.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``session-ref`` to the ``jinxiaoer`` parser.

    Args:
        subparsers: the dispatcher's sub-parser collection.
    """
    p = subparsers.add_parser("session-ref", help="print the log reference (keyed hash) of session ids",
                              description="Print what the logs write instead of each session id.")
    p.add_argument("session_ids", nargs="+", metavar="SESSION_ID")
    p.set_defaults(func=_session_ref)


def _session_ref(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.logging import session_ref, set_pseudonym_key

    if not settings.pseudonym_key:
        print("session-ref: JXE_PSEUDONYM_KEY is not set: every process logs with its own random key",
              file=sys.stderr)
        return 2
    set_pseudonym_key(settings.pseudonym_key)
    for sid in args.session_ids:
        print(f"{sid}\t{session_ref(sid)}")
    return 0
