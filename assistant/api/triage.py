"""The triage inbox (待学习, teach the assistant): ``/staff/triage`` and ``/api/v1/triage…``.

* ``GET /api/v1/triage`` — open groups of near-duplicate messages the assistant got wrong or was unsure of
  (``id``, ``text``, ``count``, ``predicted_matter``, ``reasons``, ``examples``, ``last_seen`` …), most frequent
  first (``?sort=newest``: most recently seen first). Any staff member; the view is audited.
* ``POST /api/v1/triage/{id}/resolve`` — ``{"matter_code": …}`` / ``{"intent": …}`` / ``{"out_of_scope": true}``:
  the group's texts become learned examples after the regression check (409 ``regression`` when it fails). Only
  teachers: an admin, or a district-level helper. Audited.
* ``GET /api/v1/triage/options?q=`` — what a group can be resolved to (intents; matters matching ``q``).
* ``GET /api/v1/triage/learned`` — the learned examples (live and held).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import ApiError, get_services, require_staff, staff_page
from assistant.container import Services
from assistant.db.audit import record
from assistant.db.triage import LearnedExampleRow
from assistant.staff.identity import StaffUser
from assistant.teach import groups as grouping
from assistant.teach.collect import REASONS
from assistant.teach.resolve import ResolveError, current_groups, resolve, teachable_intents

router = APIRouter(tags=["triage"])

def require_teacher(request: Request) -> StaffUser:
    """A staff member who may teach the assistant: an admin, or a helper at district level.

    Raises:
        ApiError: as :func:`require_staff`; 403 for a street or community agent.
    """
    user = require_staff(request)
    if not (user.is_admin or user.level == "district"):
        raise ApiError(403, "forbidden", "只有区级专员或管理员可以教金小二。/ only district-level staff or admins "
                                         "may teach the assistant")
    return user


class ResolveRequest(BaseModel):
    """Exactly one of: a matter, an intent, out of scope."""

    model_config = ConfigDict(extra="forbid")
    matter_code: str | None = Field(default=None, min_length=1, max_length=64)
    intent: str | None = Field(default=None, min_length=1, max_length=64)
    out_of_scope: bool | None = None

    @model_validator(mode="after")
    def _one(self) -> "ResolveRequest":
        given = [self.matter_code is not None, self.intent is not None, bool(self.out_of_scope)]
        if sum(given) != 1:
            raise ValueError("give exactly one of matter_code, intent, out_of_scope=true")
        return self


@router.get("/api/v1/triage")
def list_groups(sort: Literal["count", "newest"] = "count",
                limit: int = Query(50, ge=1, le=500), services: Services = Depends(get_services),
                user: StaffUser = Depends(require_staff)) -> dict:
    """Open groups, most frequent (or newest) first."""
    groups = grouping.ordered(current_groups(services), sort)
    record(services.db, user.username, "triage.view", "triage", {"groups": min(limit, len(groups))})
    return {"items": [g.view() for g in groups[:limit]], "total": len(groups),
            "open_items": sum(g.count for g in groups), "reasons": REASONS,
            "learned_version": getattr(getattr(services.nlu, "learned", None), "version", "")}


@router.post("/api/v1/triage/{group_id}/resolve")
async def resolve_group(group_id: int, body: ResolveRequest, services: Services = Depends(get_services),
                        user: StaffUser = Depends(require_teacher)) -> dict:
    """Teach a group (see the module's description)."""
    kind = "matter" if body.matter_code else "intent" if body.intent else "out_of_scope"
    label = body.matter_code or body.intent or ""
    try:
        out = await run_in_threadpool(resolve, services, group_id, kind, label, user.username)
    except ResolveError as exc:
        err = ApiError(exc.status, exc.code, exc.message)
        if exc.check is not None:  # held back by the regression check: say what it would have broken
            err.detail = {**err.detail, "check": exc.check}
            await run_in_threadpool(record, services.db, user.username, "triage.held", f"triage:{group_id}",
                                    {"kind": kind, "label": label, "baseline": exc.check["baseline"],
                                     "candidate": exc.check["candidate"], "total": exc.check["total"]})
        raise err from None
    await run_in_threadpool(record, services.db, user.username, "triage.resolve", f"triage:{group_id}",
                            {"kind": kind, "label": label, "batch": out["batch"], "items": out["items"]})
    return out


@router.get("/api/v1/triage/options")
def options(q: str = Query("", max_length=100), services: Services = Depends(get_services),
            user: StaffUser = Depends(require_staff)) -> dict:
    """The intents a group can be taught as, and the matters matching ``q`` (name or code)."""
    matters = []
    kb, nlu = services.kb, services.nlu
    q = q.strip()
    if q and kb is not None:
        exact = kb.get(q)
        if exact is not None:
            matters.append({"code": exact.code, "name": exact.name})
        if nlu is not None:
            matters += [{"code": h.code, "name": h.name} for h in nlu.search(q, 8) if h.code != q]
    return {"intents": teachable_intents(services) if nlu is not None else [], "matters": matters[:8]}


@router.get("/api/v1/triage/learned")
def learned(limit: int = Query(100, ge=1, le=1000), services: Services = Depends(get_services),
            user: StaffUser = Depends(require_staff)) -> dict:
    """The learned examples, newest first (``status``: ``live`` or ``held``)."""
    with services.db.session() as s:
        rows = s.scalars(select(LearnedExampleRow).order_by(LearnedExampleRow.id.desc()).limit(limit)).all()
        return {"items": [{"id": r.id, "text": r.text, "kind": r.kind, "label": r.label, "status": r.status,
                           "batch": r.batch, "created_by": r.created_by, "created_at": r.created_at.isoformat()}
                          for r in rows]}


@router.get("/staff/triage", include_in_schema=False)
def page(request: Request):
    """The inbox page; anonymous visitors go to the login page."""
    return staff_page(request, "triage.html")
