"""``jinxiaoer staff add|list|disable|reset-password``: the 金帮办 helpers' accounts.

Passwords are read from standard input (the first line; a terminal is asked without echo), never from the
command line, and stored as argon2id hashes::

    printf '%s\\n' "$PASSWORD" | jinxiaoer staff add wang --level street --place 营门口街道
    jinxiaoer staff list
    jinxiaoer staff disable wang
    printf '%s\\n' "$NEW" | jinxiaoer staff reset-password wang
"""

from __future__ import annotations

import argparse
import getpass
import sys

from assistant.settings import Settings
from assistant.staff.identity import LEVELS, ROLES


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``staff`` and its sub-commands to the ``jinxiaoer`` parser."""
    p = subparsers.add_parser("staff", help="staff accounts: add, list, disable, reset-password",
                              description="Manage the accounts of the 金帮办 helpers (password from stdin).")
    sub = p.add_subparsers(dest="staff_command", metavar="ACTION")
    p.set_defaults(func=lambda args, settings: (p.print_help(), 2)[1])
    add = sub.add_parser("add", help="create an account (password from stdin)")
    add.add_argument("username")
    add.add_argument("--level", required=True, choices=LEVELS)
    add.add_argument("--place", default=None, help="the street or community served (street/community level)")
    add.add_argument("--role", default="agent", choices=ROLES)
    add.set_defaults(func=_add)
    ls = sub.add_parser("list", help="list the accounts")
    ls.set_defaults(func=_list)
    dis = sub.add_parser("disable", help="disable an account and end its logins")
    dis.add_argument("username")
    dis.set_defaults(func=_disable)
    rp = sub.add_parser("reset-password", help="set a new password (from stdin), re-enable, unlock")
    rp.add_argument("username")
    rp.set_defaults(func=_reset)


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise SystemExit("jinxiaoer staff: the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _accounts(settings: Settings):
    from assistant.db.session import Database
    from assistant.staff.accounts import Accounts

    db = Database(settings.database_url)
    db.upgrade()
    return Accounts(db, settings), db


def _run(settings: Settings, fn) -> int:
    from assistant.staff.accounts import AccountError

    acc, db = _accounts(settings)
    try:
        return fn(acc)
    except AccountError as exc:
        print(f"jinxiaoer staff: {exc.message}", file=sys.stderr)
        return 1
    finally:
        db.dispose()


def _add(args: argparse.Namespace, settings: Settings) -> int:
    password = _password()

    def go(acc) -> int:
        u = acc.add(args.username, password, args.level, args.place, args.role)
        print(f"added {u.username} ({u.level}{' · ' + u.place if u.place else ''}, {u.role})")
        return 0

    return _run(settings, go)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    def go(acc) -> int:
        rows = acc.list()
        for r in rows:
            print(f"{r['username']}\t{r['level']}\t{r['place'] or '-'}\t{r['role']}\t"
                  f"{'active' if r['active'] else 'disabled'}")
        if not rows:
            print("no staff accounts", file=sys.stderr)
        return 0

    return _run(settings, go)


def _disable(args: argparse.Namespace, settings: Settings) -> int:
    def go(acc) -> int:
        acc.disable(args.username)
        print(f"disabled {args.username}")
        return 0

    return _run(settings, go)


def _reset(args: argparse.Namespace, settings: Settings) -> int:
    password = _password()

    def go(acc) -> int:
        acc.reset_password(args.username, password)
        print(f"password of {args.username} reset")
        return 0

    return _run(settings, go)
