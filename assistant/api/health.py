"""Readiness: the public ``GET /healthz`` (only ``{"status": "ok"|"unavailable"}``, 200/503: everything including
Rasa), ``GET /readyz`` (the same shape: this replica's own parts, the balancer's check) and the staff-only ``GET /api/v1/health`` with what is missing and why (database, KB, NLU, Rasa, supervisor).

The public answer carries no URLs, error texts or versions: what is broken, and where Rasa listens, is for the
operators (Bearer ``JXE_STAFF_TOKEN``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from assistant.api.deps import get_services, require_staff
from assistant.chat import maybe_await
from assistant.container import Services

__all__ = ["router", "rasa_ready", "health_checks", "LOCAL"]

router = APIRouter(tags=["ops"])

#: The parts that must be ready for ``status: ok``.
REQUIRED = ("db", "kb", "nlu", "rasa")


async def rasa_ready(services: Services, timeout: float = 2.0) -> tuple[bool, str]:
    """Whether the Rasa server answers with a model loaded.

    Returns:
        ``(ready, detail)``.
    """
    rasa = services.rasa
    settings = services.settings
    try:
        if rasa is not None and hasattr(rasa, "status"):
            st = await asyncio.wait_for(maybe_await(rasa.status()), timeout=timeout)
        else:
            async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
                r = await client.get(settings.rasa_url.rstrip("/") + "/status",
                                     params={"token": settings.rasa_auth_token})
                r.raise_for_status()
                st = r.json()
    except Exception as exc:
        return False, f"unreachable at {settings.rasa_url} ({type(exc).__name__})"
    if isinstance(st, bool):
        return st, "ready" if st else "not ready"
    if isinstance(st, dict):
        if st.get("ready") is False:
            return False, str(st.get("detail") or "not ready")
        if "model_file" in st and not st.get("model_file"):
            return False, "no model loaded"
        return True, "ready"
    return bool(st), "ready" if st else "not ready"


async def health_checks(services: Services) -> dict[str, Any]:
    """Every part's state: ``{"status", "missing": [...], "checks": {"db", "kb", "nlu", "rasa",
    "rasa_supervisor"?}}``."""
    checks: dict[str, Any] = {k: services.status.get(k, "missing") for k in ("db", "kb", "nlu")}
    ok_rasa, rasa_detail = await rasa_ready(services)
    checks["rasa"] = "ready" if ok_rasa else rasa_detail
    if services.supervisor is not None:
        checks["rasa_supervisor"] = services.supervisor.health()
    elif "rasa_supervisor" in services.status:
        checks["rasa_supervisor"] = services.status["rasa_supervisor"]
    missing = [k for k in REQUIRED if checks[k] != "ready"]
    return {"status": "ok" if not missing else "unavailable", "missing": missing, "checks": checks}


@router.get("/healthz")
async def healthz(services: Services = Depends(get_services)) -> JSONResponse:
    """200 ``{"status": "ok"}`` when the database, KB, NLU and Rasa are ready; 503 ``{"status": "unavailable"}``
    otherwise (details: ``GET /api/v1/health``, staff only)."""
    body = await health_checks(services)
    return JSONResponse({"status": body["status"]}, status_code=200 if body["status"] == "ok" else 503)


#: The parts a replica needs to answer at all (with Rasa down it answers through the degraded path).
LOCAL = ("db", "kb", "nlu")


@router.get("/readyz")
async def readyz(services: Services = Depends(get_services)) -> JSONResponse:
    """200 ``{"status": "ok"}`` when this replica's own parts (database migrated, KB, NLU) are ready, whatever the
    Rasa servers do; 503 ``{"status": "unavailable"}`` while it is still loading. The balancer's check: a replica
    that is starting gets no traffic (its NLU would answer every message with a fallback), and one whose Rasa pool
    is down still answers (degraded) instead of the balancer refusing everyone."""
    ok = all(services.status.get(k) == "ready" for k in LOCAL)
    return JSONResponse({"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)


@router.get("/api/v1/health", dependencies=[Depends(require_staff)])
async def health(services: Services = Depends(get_services)) -> JSONResponse:
    """Staff only: the same readiness with what is missing and why (200 or 503)."""
    body = await health_checks(services)
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
