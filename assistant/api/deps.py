"""Shared FastAPI dependencies: the app's services and the staff bearer-token check."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from assistant.container import Services
from assistant.staff.identity import SERVICE_USER, StaffUser


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


def require_staff(request: Request) -> StaffUser:
    """Check ``Authorization: Bearer <settings.staff_token>`` (constant-time).

    Returns:
        The acting :class:`StaffUser` (:data:`SERVICE_USER` for the service credential).

    Raises:
        ApiError: 403 when no staff token is configured (staff endpoints closed); 401 when the header is missing
            or the token is wrong.
    """
    token = request.app.state.services.settings.staff_token
    if not token:
        raise ApiError(403, "staff_closed", "工作人员接口未开放（未设置 JXE_STAFF_TOKEN）。"
                                            "/ staff endpoints are closed: no staff token is configured")
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(401, "unauthorized", "需要工作人员令牌。/ missing bearer token",
                       headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8")):
        raise ApiError(401, "unauthorized", "工作人员令牌不正确。/ invalid bearer token",
                       headers={"WWW-Authenticate": "Bearer"})
    return SERVICE_USER


def require_admin(request: Request) -> StaffUser:
    """Like :func:`require_staff`, and the user must have the ``admin`` role.

    Raises:
        ApiError: as :func:`require_staff`; 403 for a staff member who is not an admin.
    """
    user = require_staff(request)
    if not user.is_admin:
        raise ApiError(403, "forbidden", "需要管理员权限。/ admin role required")
    return user
