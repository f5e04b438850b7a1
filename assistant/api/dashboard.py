"""The dashboard (数据看板): ``/staff/dashboard`` (page, charts drawn by the vendored ECharts) and its figures,
``GET /api/v1/stats?days=N`` (JSON) and ``GET /api/v1/stats.csv?days=N`` (the same figures as CSV).

Any staff member may read the figures (aggregates; the top unanswered questions are masked); each read is
written to the audit log.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import get_services, require_staff, staff_page
from assistant.container import Services
from assistant.db import audit
from assistant.preservice.runtime import get_preservice
from assistant.staff import stats
from assistant.staff.identity import StaffUser

router = APIRouter(tags=["staff"])

@router.get("/staff/dashboard", include_in_schema=False)
async def dashboard_page(request: Request) -> Response:
    """The dashboard page."""
    return staff_page(request, "dashboard.html")


async def _figures(days: int, user: StaffUser, services: Services, fmt: str) -> dict:
    kb = services.kb

    def name_of(code: str) -> str:
        m = kb.get(code) if kb is not None else None
        return m.name if m is not None else ""

    today = get_preservice(services).today()
    figures = await run_in_threadpool(stats.compute, services.db, days, today, name_of)
    await run_in_threadpool(audit.record, services.db, user.username, "stats.view", "stats",
                            {"days": days, "format": fmt})
    return figures


@router.get("/api/v1/stats")
async def get_stats(days: int = Query(7, ge=1, le=stats.MAX_DAYS), user: StaffUser = Depends(require_staff),
                    services: Services = Depends(get_services)) -> dict:
    """The service's figures over the last ``days`` local days (see docs/staff.md for every field)."""
    return await _figures(days, user, services, "json")


@router.get("/api/v1/stats.csv")
async def get_stats_csv(days: int = Query(7, ge=1, le=stats.MAX_DAYS), user: StaffUser = Depends(require_staff),
                        services: Services = Depends(get_services)) -> Response:
    """The same figures as a CSV download (``figure,day,key,value``)."""
    figures = await _figures(days, user, services, "csv")
    name = f"jinxiaoer-stats-{figures['from']}-{figures['to']}.csv"
    return Response(stats.to_csv(figures), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
