"""Staff accounts, passwords (argon2id), login sessions and the lock-out after repeated failures.

* :class:`Accounts` — ``add``, ``list``, ``disable``, ``reset_password`` (the ``jinxiaoer staff`` commands),
  ``login`` (checks the lock-out, the password, opens a session) and ``session_user`` (who a token belongs to).
* A session token is 32 random bytes (URL-safe); the database keeps only its SHA-256. The same token works as
  the ``jxe_staff`` cookie (with the paired CSRF token) and as ``Authorization: Bearer``.
* Lock-out: more than ``settings.staff_lockout_failures`` failures for one username, or
  ``settings.staff_lockout_ip_failures`` from one address, within ``settings.staff_lockout_minutes`` lock that
  username / address for that long. A locked login is refused before the password is checked, so guessing
  cannot go on. Counters live in the database (every replica sees them).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select

from assistant.db.base import utcnow
from assistant.db.session import Database
from assistant.db.staff import StaffAccount, StaffLoginFailure, StaffSession
from assistant.settings import Settings
from assistant.staff.identity import LEVELS, ROLES, StaffUser

USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{2,64}$"
MIN_PASSWORD_CHARS = 10

#: argon2id with the library's RFC 9106 "low memory" profile (64 MiB, 3 passes).
_HASHER = PasswordHasher()
#: A hash to verify against when the username is unknown (the answer takes as long as for a real user).
_DUMMY_HASH = _HASHER.hash("not-a-real-password-" + secrets.token_hex(8))


class AccountError(ValueError):
    """A bad account operation (unknown user, duplicate, weak password, bad level …); ``code`` says which."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class LoginRefused(Exception):
    """A login that did not succeed.

    Attributes:
        code: ``bad_credentials`` or ``locked``.
        retry_after: seconds until a locked login may be tried again (``locked`` only).
    """

    def __init__(self, code: str, retry_after: int = 0):
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginResult:
    """A successful login: the token (cookie / Bearer), its CSRF pair, expiry and the user."""

    token: str
    csrf: str
    expires_at: datetime
    user: StaffUser


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(dt: datetime | None) -> datetime | None:
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt


def _user(a: StaffAccount) -> StaffUser:
    return StaffUser(username=a.username, level=a.level, place=a.place, role=a.role)  # type: ignore[arg-type]


def check_password_strength(password: str) -> None:
    """Raise :class:`AccountError` ``weak_password`` for a password too short or of one kind of character."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError("weak_password", f"密码至少 {MIN_PASSWORD_CHARS} 位。/ the password needs at least "
                                            f"{MIN_PASSWORD_CHARS} characters")
    kinds = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]"))
    if kinds < 2:
        raise AccountError("weak_password", "密码需混合字母、数字或符号。/ mix letters, digits or symbols")


class Accounts:
    """Staff accounts and sessions in the app database.

    Args:
        db: the app database.
        settings: the settings (session length, lock-out thresholds).
    """

    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings

    # --- accounts ------------------------------------------------------------------------------------------------

    def add(self, username: str, password: str, level: str, place: str | None = None,
            role: str = "agent") -> StaffUser:
        """Create an account.

        Raises:
            AccountError: ``bad_username``, ``bad_level``, ``bad_role``, ``place_required`` (street/community
                level without a place), ``weak_password``, ``exists``.
        """
        if not re.match(USERNAME_PATTERN, username or ""):
            raise AccountError("bad_username", "用户名为2到64位字母、数字或 _.@- / username: 2-64 of [A-Za-z0-9_.@-]")
        if level not in LEVELS:
            raise AccountError("bad_level", f"层级应为 {'/'.join(LEVELS)} / level must be one of {', '.join(LEVELS)}")
        if role not in ROLES:
            raise AccountError("bad_role", f"角色应为 {'/'.join(ROLES)} / role must be one of {', '.join(ROLES)}")
        place = (place or "").strip() or None
        if level != "district" and not place:
            raise AccountError("place_required", "街道、社区层级需要 --place（街道或社区名称）。"
                                                 "/ street and community accounts need --place")
        check_password_strength(password)
        with self.db.session() as s:
            if s.scalars(select(StaffAccount).where(StaffAccount.username == username)).first() is not None:
                raise AccountError("exists", f"用户 {username} 已存在。/ user {username} exists")
            a = StaffAccount(username=username, password_hash=_HASHER.hash(password), level=level, place=place,
                             role=role, active=True)
            s.add(a)
            s.flush()
            return _user(a)

    def list(self) -> list[dict]:
        """Every account: ``username, level, place, role, active, created_at``."""
        with self.db.session() as s:
            return [{"username": a.username, "level": a.level, "place": a.place, "role": a.role,
                     "active": a.active, "created_at": _aware(a.created_at).isoformat()}
                    for a in s.scalars(select(StaffAccount).order_by(StaffAccount.username))]

    def get(self, username: str) -> StaffUser | None:
        """The active account ``username`` as a :class:`StaffUser`, or ``None``."""
        with self.db.session() as s:
            a = s.scalars(select(StaffAccount).where(StaffAccount.username == username,
                                                     StaffAccount.active.is_(True))).first()
            return _user(a) if a else None

    def any_active(self) -> bool:
        """Whether at least one account can log in."""
        with self.db.session() as s:
            return s.scalars(select(StaffAccount.id).where(StaffAccount.active.is_(True)).limit(1)).first() is not None

    def _account(self, s, username: str) -> StaffAccount:
        a = s.scalars(select(StaffAccount).where(StaffAccount.username == username)).first()
        if a is None:
            raise AccountError("unknown_user", f"没有用户 {username}。/ no user {username}")
        return a

    def disable(self, username: str) -> None:
        """Disable an account and end its sessions.

        Raises:
            AccountError: ``unknown_user``.
        """
        with self.db.session() as s:
            self._account(s, username).active = False
            s.execute(delete(StaffSession).where(StaffSession.username == username))

    def reset_password(self, username: str, password: str) -> None:
        """Set a new password, re-enable the account, clear its lock and end its sessions.

        Raises:
            AccountError: ``unknown_user``, ``weak_password``.
        """
        check_password_strength(password)
        with self.db.session() as s:
            a = self._account(s, username)
            a.password_hash, a.password_changed_at, a.active = _HASHER.hash(password), utcnow(), True
            s.execute(delete(StaffSession).where(StaffSession.username == username))
            s.execute(delete(StaffLoginFailure).where(StaffLoginFailure.key == f"user:{username}"))

    # --- login ---------------------------------------------------------------------------------------------------

    def _locked(self, s, key: str, now: datetime) -> int:
        row = s.get(StaffLoginFailure, key)
        if row is not None and row.locked_until is not None and _aware(row.locked_until) > now:
            return max(1, int((_aware(row.locked_until) - now).total_seconds()))
        return 0

    def _fail(self, s, key: str, limit: int, now: datetime) -> None:
        window = timedelta(minutes=self.settings.staff_lockout_minutes)
        row = s.get(StaffLoginFailure, key)
        if row is None:
            row = StaffLoginFailure(key=key, failures=0, window_start=now)
            s.add(row)
        if now - _aware(row.window_start) > window:
            row.failures, row.window_start, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + window

    def login(self, username: str, password: str, ip: str) -> LoginResult:
        """Check a username and password and open a session.

        Args:
            username: the login name.
            password: the password.
            ip: the client address (for the per-address lock-out).

        Raises:
            LoginRefused: ``locked`` (with ``retry_after``) or ``bad_credentials``.
        """
        now = utcnow()
        ukey, ikey = f"user:{username[:64]}", f"ip:{ip[:64]}"
        with self.db.session() as s:
            wait = max(self._locked(s, ukey, now), self._locked(s, ikey, now))
            if wait:
                raise LoginRefused("locked", wait)
            a = s.scalars(select(StaffAccount).where(StaffAccount.username == username)).first()
        ok = False
        try:
            ok = _HASHER.verify(a.password_hash if a is not None else _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if a is None or not a.active or not ok:
            with self.db.session() as s:
                self._fail(s, ukey, self.settings.staff_lockout_failures, now)
                self._fail(s, ikey, self.settings.staff_lockout_ip_failures, now)
            raise LoginRefused("bad_credentials")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = now + timedelta(hours=self.settings.staff_session_hours)
        with self.db.session() as s:
            if _HASHER.check_needs_rehash(a.password_hash):
                self._account(s, username).password_hash = _HASHER.hash(password)
            s.add(StaffSession(token_hash=_digest(token), username=a.username, csrf=csrf, expires_at=expires))
            s.execute(delete(StaffLoginFailure).where(StaffLoginFailure.key == ukey))
            s.execute(delete(StaffSession).where(StaffSession.expires_at < now))
        return LoginResult(token=token, csrf=csrf, expires_at=expires, user=_user(a))

    def session_user(self, token: str) -> tuple[StaffUser, str] | None:
        """The user and CSRF token of a live session token, or ``None`` (unknown, expired, account disabled)."""
        if not token or len(token) > 256:
            return None
        now = utcnow()
        with self.db.session() as s:
            sess = s.get(StaffSession, _digest(token))
            if sess is None or _aware(sess.expires_at) <= now:
                return None
            a = s.scalars(select(StaffAccount).where(StaffAccount.username == sess.username,
                                                     StaffAccount.active.is_(True))).first()
            return (_user(a), sess.csrf) if a else None

    def logout(self, token: str) -> None:
        """End the session of ``token`` (no error when there is none)."""
        with self.db.session() as s:
            s.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))
