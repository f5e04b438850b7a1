"""Shared FastAPI dependencies: the app's services, the staff authentication (session cookie + CSRF, login
Bearer tokens, the service credential) and the workbench page guard."""

from __future__ import annotations

import hmac
from pathlib import Path
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from assistant.container import Services
from assistant.staff.accounts import Accounts
from assistant.staff.identity import SERVICE_USER, StaffUser

#: The workbench's static files (pages, ``common.js``, ``staff.css``).
STAFF_STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "staff"


class ApiError(HTTPException):
    """An HTTP error whose body is ``{"error": code, "message": "中文 / English"}``.

    Args:
        status_code: the HTTP status.
        error: a short machine-readable code (``staff_closed``, ``not_found`` …).
        message: the human-readable message, Chinese then English.
        headers: extra response headers.
    """

    def __init__(self, status_code: int, error: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(status_code=status_code, detail={"error": error, "message": message}, headers=headers)


def get_services(request: Request) -> Services:
    """The app's :class:`Services` (``request.app.state.services``)."""
    return request.app.state.services


def require_internal(request: Request, presented: str | None) -> None:
    """Check the token Rasa presents on the app's internal endpoints (NLU parse, custom actions).

    Args:
        request: the incoming request (the settings hold the expected ``internal_token``).
        presented: the token Rasa sent (the NLU body's ``token``, the action call's ``?token=``).

    Raises:
        ApiError: 401 when the token is missing or wrong.
    """
    expected = request.app.state.services.settings.internal_token
    given = (presented or "").encode("utf-8")
    if not hmac.compare_digest(given, expected.encode("utf-8")):
        raise ApiError(401, "unauthorized", "内部接口需要令牌。/ internal endpoint: missing or invalid token")


#: The session cookie (HttpOnly, SameSite=Strict) and the readable CSRF cookie of a logged-in helper.
SESSION_COOKIE = "jxe_staff"
CSRF_COOKIE = "jxe_csrf"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def accounts(request: Request) -> Accounts:
    """The staff accounts of the app (:class:`assistant.staff.accounts.Accounts`)."""
    services = request.app.state.services
    return Accounts(services.db, services.settings)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def authenticate(request: Request) -> StaffUser | None:
    """Who presents this request: the service credential, a login Bearer token or the session cookie.

    Returns:
        The :class:`StaffUser`, or ``None`` when the request carries no credential at all.

    Raises:
        ApiError: 401 for a wrong or expired credential; 403 ``csrf_failed`` for an unsafe method sent with
            the cookie but without the matching ``X-CSRF-Token`` header.
    """
    settings = request.app.state.services.settings
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, given = header.partition(" ")
        given = given.strip()
        if scheme.lower() != "bearer" or not given:
            raise _unauthorized("需要工作人员令牌。/ missing bearer token")
        token = settings.staff_token
        if token and hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            return SERVICE_USER
        found = accounts(request).session_user(given)
        if found is None:
            raise _unauthorized("工作人员令牌不正确或已过期。/ invalid or expired bearer token")
        return found[0]
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = accounts(request).session_user(cookie)
    if found is None:
        raise _unauthorized("登录已过期，请重新登录。/ the login has expired, please log in again")
    user, csrf = found
    if request.method.upper() not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent.encode("utf-8"), csrf.encode("utf-8")):
            raise ApiError(403, "csrf_failed", "请求缺少有效的 CSRF 令牌，请刷新页面。/ missing or wrong X-CSRF-Token")
    return user


def require_staff(request: Request) -> StaffUser:
    """The staff member acting: the ``jxe_staff`` session cookie (with ``X-CSRF-Token`` on unsafe methods), a
    Bearer token from ``POST /api/v1/auth/login``, or the service credential ``JXE_STAFF_TOKEN``.

    Returns:
        The acting :class:`StaffUser` (:data:`SERVICE_USER` for the service credential).

    Raises:
        ApiError: 403 when no credential is presented and nobody could log in anyway (no staff token and no
            staff account: staff endpoints closed); 401 when the credential is missing, wrong or expired;
            403 ``csrf_failed`` (see :func:`authenticate`).
    """
    try:
        user = authenticate(request)
    except ApiError as exc:
        if exc.status_code == 401 and _closed(request):
            raise _closed_error() from None
        raise
    if user is not None:
        request.state.staff_user = user
        return user
    if _closed(request):
        raise _closed_error()
    raise _unauthorized("需要登录或工作人员令牌。/ log in or send a bearer token")


def _closed(request: Request) -> bool:
    """Nobody could be let in: no service credential configured and no active staff account."""
    return not request.app.state.services.settings.staff_token and not accounts(request).any_active()


def _closed_error() -> ApiError:
    return ApiError(403, "staff_closed", "工作人员接口未开放（未设置 JXE_STAFF_TOKEN，也没有工作人员账号）。"
                                         "/ staff endpoints are closed: no staff token and no staff account")


def require_admin(request: Request) -> StaffUser:
    """Like :func:`require_staff`, and the user must have the ``admin`` role.

    Raises:
        ApiError: as :func:`require_staff`; 403 for a staff member who is not an admin.
    """
    user = require_staff(request)
    if not user.is_admin:
        raise ApiError(403, "forbidden", "需要管理员权限。/ admin role required")
    return user


def staff_page(request: Request, filename: str, *, admin: bool = False) -> Response:
    """Serve a workbench page (``assistant/static/staff/<filename>``) to a logged-in helper; anybody else is
    redirected to ``/staff/login`` (an agent asking for an admin page gets 403).

    Args:
        request: the page request (the session cookie is read; pages are GETs, so no CSRF).
        filename: the HTML file under ``assistant/static/staff/``.
        admin: the page is for admins only.
    """
    try:
        user = authenticate(request)
    except ApiError:
        user = None
    if user is None:
        return RedirectResponse("/staff/login?next=" + quote(request.url.path), status_code=303)
    if admin and not user.is_admin:
        raise ApiError(403, "forbidden", "需要管理员权限。/ admin role required")
    return FileResponse(STAFF_STATIC_DIR / filename, media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-store"})
