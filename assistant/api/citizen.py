"""Citizen session credentials: who may read or continue a conversation.

The first chat turn of a new ``session_id`` (web page, widget, kiosk, mini-program login) starts the conversation
and returns a **session token** (``ChatResponse.session_token``; 192 random bits, :func:`new_session_token`). Only
its SHA-256 is stored, in ``conversations.token_hash``. Every later request for that conversation — chat turns,
staff-message polling, feedback, the mini-program API, the kiosk WebSocket — presents the token in the body field
``session_token`` or the header ``X-Session-Token``; :func:`check_session` is the one place that checks it:

* no token → 401 ``session_token_required``;
* a wrong token, or a conversation that has no token (WeChat official-account conversations, bound to the OpenID;
  conversations started before tokens existed) or does not exist → 403 ``session_token_invalid``, the same answer
  whichever it is (the API does not tell which session ids exist).

A client that gets either answer starts a new conversation (a new ``session_id``). One exception: the first turn
carried a ``message_id`` and its answer (with the token) never reached the client — a replica died under it, the
connection was cut — so the client sends the same message again, with the same ``message_id`` and no token. Within
:data:`REISSUE_WINDOW_S` of the start that retry gets a new token (the old one stops working) and the stored answer,
instead of a conversation nobody can continue. Routes that have the session id
in the path use the dependency :func:`require_session_token`; routes that take it in the body call
:func:`check_session` (or :func:`open_or_check` for a turn, which may start the conversation).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header, Path, Request
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import ApiError, get_services
from assistant.db.base import utcnow
from assistant.logging import get_logger, log_event

__all__ = ["TOKEN_HEADER", "new_session_token", "hash_token", "presented_token", "check_session",
           "open_or_check", "session_for_turn", "require_session_token", "verify_token"]

log = get_logger(__name__)

#: The request header that carries a session token.
TOKEN_HEADER = "X-Session-Token"
#: Random bytes in a token (192 bits; ``secrets.token_urlsafe`` makes 32 characters of them).
TOKEN_BYTES = 24
#: How long after a conversation started a retry of its first message (same ``message_id``, no token) gets a new
#: token: a client retries within seconds; beyond this the opening message id is no longer a credential.
REISSUE_WINDOW_S = 300
#: Longest token accepted at all (a body field or header longer than this is refused without hashing it).
MAX_TOKEN_CHARS = 128

MISSING = ("session_token_required", "这个对话需要会话凭证，请重新开始对话。/ this conversation needs its session_token "
           "(body field session_token or header X-Session-Token)")
INVALID = ("session_token_invalid", "会话凭证不对或已失效，请重新开始对话。/ the session_token is not valid for this "
           "conversation")


def new_session_token() -> str:
    """A fresh session token (URL-safe, 32 characters, 192 random bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """What is stored of a token: SHA-256, hex (a 192-bit random token needs no salt or slow hash)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def presented_token(headers: Any, body_token: str | None = None) -> str | None:
    """The token a request presents: the body field ``session_token``, else the ``X-Session-Token`` header."""
    return body_token or headers.get(TOKEN_HEADER) or None


def verify_token(stored: tuple[bool, str | None], presented: str | None) -> str | None:
    """Why ``presented`` does not open a conversation whose stored state is ``stored``; ``None`` when it does.

    Args:
        stored: ``(exists, token_hash)`` as :meth:`ConversationStore.token_hash` returns it.
        presented: the token the client sent, if any.

    Returns:
        ``"missing"``, ``"invalid"`` or ``None`` (the token is right; compared in constant time).
    """
    if not presented:
        return "missing"
    exists, expected = stored
    if not exists or not expected or len(presented) > MAX_TOKEN_CHARS:
        return "invalid"
    return None if hmac.compare_digest(hash_token(presented), expected) else "invalid"


def _refuse(reason: str, session_id: str) -> ApiError:
    log_event(log, "citizen.session.refused", reason=reason, session=session_id)
    return ApiError(401, *MISSING) if reason == "missing" else ApiError(403, *INVALID)


async def check_session(services: Any, session_id: str, presented: str | None) -> None:
    """Check that ``presented`` is the session token of the conversation ``session_id`` — the one check every
    citizen endpoint makes.

    Args:
        services: the app's services (``conversations``).
        session_id: the conversation.
        presented: the token from the request (:func:`presented_token`).

    Raises:
        ApiError: 401 ``session_token_required`` without a token; 403 ``session_token_invalid`` for a wrong one or
            a conversation that has none or does not exist.
    """
    if not presented:
        raise _refuse("missing", session_id)
    reason = verify_token(await run_in_threadpool(services.conversations.token_hash, session_id), presented)
    if reason:
        raise _refuse(reason, session_id)


async def open_or_check(services: Any, session_id: str, channel: str, presented: str | None,
                        message_id: str | None = None) -> str | None:
    """For a chat turn: start the conversation when ``session_id`` is new, else :func:`check_session`.

    Args:
        services: the app's services.
        session_id: the conversation.
        channel: the channel that starts it (stored with it).
        presented: the token from the request (ignored for a new conversation).
        message_id: the client's id of this message: remembered (hashed) when it opens the conversation; a retry
            of that opening message without a token gets a new token (see the module doc).

    Returns:
        The conversation's new session token (the client must keep it), or ``None`` for an existing one.

    Raises:
        ApiError: as :func:`check_session`, for an existing conversation.
    """
    conversations = services.conversations
    opened_by = hash_token(message_id) if message_id else None
    stored = await run_in_threadpool(conversations.token_hash, session_id)
    if not stored[0]:
        token = new_session_token()
        if await run_in_threadpool(conversations.open, session_id, channel, hash_token(token), opened_by):
            log_event(log, "citizen.session.opened", session=session_id, channel=channel)
            return token
        # started by another request at the same moment: that one's client holds the token
        stored = await run_in_threadpool(conversations.token_hash, session_id)
    reason = verify_token(stored, presented)
    if reason == "missing" and opened_by:
        token = new_session_token()
        since = utcnow() - timedelta(seconds=REISSUE_WINDOW_S)
        if await run_in_threadpool(conversations.reissue_token, session_id, opened_by, hash_token(token), since):
            log_event(log, "citizen.session.reissued", session=session_id, channel=channel)
            return token
    if reason:
        raise _refuse(reason, session_id)
    return None


async def session_for_turn(services: Any, session_id: str, channel: str,
                           presented: str | None, message_id: str | None = None) -> tuple[str, str | None]:
    """:func:`open_or_check` for a chat route, keeping the promise that a turn is answered even when the database
    is down: the turn then runs in a throwaway conversation, so nothing of ``session_id`` is read or continued
    without its token having been checked.

    Returns:
        ``(the session id the turn runs in, the new conversation's token or None)``.

    Raises:
        ApiError: as :func:`check_session` (a token that is missing or wrong).
    """
    try:
        return session_id, await open_or_check(services, session_id, channel, presented, message_id)
    except ApiError:
        raise
    except Exception:  # the database cannot be read: answer, but not in that conversation
        log.exception("citizen.session.check_failed")
        return f"unverified-{secrets.token_hex(12)}", None


async def require_session_token(
        request: Request,
        session_id: Annotated[str, Path(description="the conversation id")],
        x_session_token: Annotated[str | None, Header(alias=TOKEN_HEADER,
                                                      description="the conversation's session token")] = None,
) -> str:
    """FastAPI dependency for routes with ``{session_id}`` in the path: the ``X-Session-Token`` header must be
    that conversation's token (:func:`check_session`).

    Returns:
        The session id.
    """
    await check_session(get_services(request), session_id, x_session_token)
    return session_id
