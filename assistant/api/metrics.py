"""``GET /metrics``: the Prometheus metrics of this process (all workers' with ``PROMETHEUS_MULTIPROC_DIR``; see
:mod:`assistant.metrics`). Open outside production; in production it wants the staff token unless
``JXE_METRICS_PUBLIC=true`` (the cluster's balancer never passes ``/metrics`` on: scrape each replica's port)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import get_services, require_staff
from assistant.container import Services
from assistant.db.chat import HandoffTicket
from assistant.logging import get_logger
from assistant.metrics import exposition

__all__ = ["router", "handoffs_waiting"]

log = get_logger(__name__)
router = APIRouter(tags=["ops"])


def handoffs_waiting(services: Services) -> int | None:
    """Open tickets nobody has claimed (``None`` when the database cannot be read)."""
    try:
        with services.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(HandoffTicket).where(
                HandoffTicket.status == "open", HandoffTicket.claimed_by.is_(None))) or 0)
    except Exception:  # noqa: BLE001 - metrics must answer while the database is down
        log.exception("metrics.handoffs.failed")
        return None


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, services: Services = Depends(get_services)) -> Response:
    """The Prometheus text exposition."""
    s = services.settings
    if s.environment == "production" and not s.metrics_public:
        require_staff(request)
    body = exposition(await run_in_threadpool(handoffs_waiting, services))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
