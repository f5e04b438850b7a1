"""Staff login: ``/staff/login`` (the page), ``POST /api/v1/auth/login``, ``POST /api/v1/auth/logout``,
``GET /api/v1/auth/me``.

A login answers ``{"token", "expires_at", "user": {username, level, place, role}}`` and sets the session cookie
``jxe_staff`` (HttpOnly, SameSite=Strict, Secure behind TLS) and the readable CSRF cookie ``jxe_csrf``: pages
send it back as ``X-CSRF-Token`` on unsafe methods (double submit). API clients use the token as
``Authorization: Bearer`` and need no CSRF token. Repeated failures lock the username and the client address
(see :mod:`assistant.staff.accounts`).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import CSRF_COOKIE, SESSION_COOKIE, STAFF_STATIC_DIR, ApiError, accounts, require_staff
from assistant.api.limits import RateLimiter
from assistant.logging import get_logger, log_event
from assistant.staff.accounts import LoginRefused
from assistant.staff.identity import StaffUser

log = get_logger(__name__)
router = APIRouter(tags=["staff auth"])


class LoginRequest(BaseModel):
    """Username and password."""

    model_config = ConfigDict(extra="ignore")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserView(BaseModel):
    """Who is logged in."""

    username: str
    level: str
    place: str | None
    role: str


class LoginResponse(BaseModel):
    """A successful login."""

    token: str
    expires_at: datetime
    user: UserView


def user_view(user: StaffUser) -> UserView:
    """The JSON shape of a :class:`StaffUser`."""
    return UserView(username=user.username, level=user.level, place=user.place, role=user.role)


@router.get("/staff/login", include_in_schema=False)
def login_page() -> FileResponse:
    """The login page."""
    return FileResponse(STAFF_STATIC_DIR / "login.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-store"})


@router.post("/api/v1/auth/login", response_model=LoginResponse)
async def login(body: LoginRequest, request: Request) -> JSONResponse:
    """Log in; 401 ``bad_credentials`` for a wrong username or password, 429 ``locked`` (with ``Retry-After``)
    after too many failures for the username or the client address."""
    services = request.app.state.services
    settings = services.settings
    ip = (services.limiter or RateLimiter(settings)).client_ip(request)
    try:
        result = await run_in_threadpool(accounts(request).login, body.username, body.password, ip)
    except LoginRefused as exc:
        log_event(log, "staff.login.refused", user=body.username[:64], ip=ip, reason=exc.code)
        if exc.code == "locked":
            minutes = max(1, round(exc.retry_after / 60))
            raise ApiError(429, "locked", f"登录失败次数过多，请 {minutes} 分钟后再试。/ too many failed logins, "
                                          f"try again in {minutes} min",
                           headers={"Retry-After": str(exc.retry_after)}) from None
        raise ApiError(401, "bad_credentials", "用户名或密码不正确。/ wrong username or password") from None
    log_event(log, "staff.login", user=result.user.username, ip=ip)
    body_out = LoginResponse(token=result.token, expires_at=result.expires_at, user=user_view(result.user))
    resp = JSONResponse(body_out.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
    max_age = int(settings.staff_session_hours * 3600)
    resp.set_cookie(SESSION_COOKIE, result.token, max_age=max_age, path="/", httponly=True, samesite="strict",
                    secure=settings.behind_tls)
    resp.set_cookie(CSRF_COOKIE, result.csrf, max_age=max_age, path="/", httponly=False, samesite="strict",
                    secure=settings.behind_tls)
    return resp


@router.post("/api/v1/auth/logout")
async def logout(request: Request, user: StaffUser = Depends(require_staff)) -> Response:
    """End this login (the cookie's session, or the Bearer token's); the cookies are cleared."""
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2].strip() if header else request.cookies.get(SESSION_COOKIE, "")
    if token:
        await run_in_threadpool(accounts(request).logout, token)
    log_event(log, "staff.logout", user=user.username)
    resp = JSONResponse({"ok": True})
    resp.delete_cookie(SESSION_COOKIE, path="/")
    resp.delete_cookie(CSRF_COOKIE, path="/")
    return resp


@router.get("/api/v1/auth/me", response_model=UserView)
def me(user: StaffUser = Depends(require_staff)) -> UserView:
    """Who is logged in."""
    return user_view(user)
