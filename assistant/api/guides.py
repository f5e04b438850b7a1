"""The guidebook admin of the staff workbench: ``/staff/guides`` and its API.

- ``GET  /api/v1/guides?q=`` — search matters (code, name, alias, then the NLU's matches);
- ``GET  /api/v1/guides/{code}`` — a matter as served, its version history and verification;
- ``PUT  /api/v1/guides/{code}`` — edit (``{"guide": {field: value}, "base_version": n}``), checked like
  ``jinxiaoer kb validate``; errors → 422 with every issue and nothing saved;
- ``POST /api/v1/guides/{code}/verify`` — ``{"source_ref": "…"}``: verified by whom, when, against what;
- ``POST /api/v1/guides/{code}/revert`` — ``{"version": n}`` (0: the guide file's own version);
- ``GET  /api/v1/guides/export?format=csv|xlsx[&codes=a,b][&scope=guides|all]`` — a matter list;
- ``POST /api/v1/guides/import`` — a CSV/xlsx matter list (multipart ``file``): one report line per row.

Reading needs a staff member; changes need an admin and go to the audit log. A change is live at once in this
process and within ``JXE_GUIDE_SYNC_S`` seconds in every other (:mod:`assistant.guidebook`).
"""

from __future__ import annotations

import typing
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import ApiError, get_services, require_admin, require_staff, staff_page
from assistant.container import Services
from assistant.guidebook import Conflict, Invalid, NotFound, Saved, get_guidebook, issue_dicts
from assistant.logging import get_logger
from assistant.staff.identity import StaffUser
from assistant.tables import MAX_BYTES, UploadError
from knowledge.schema import Material, Place

log = get_logger(__name__)


@asynccontextmanager
async def lifespan(app: Any):
    """Keep this process's guidebook in step with the database (every ``guide_sync_s`` seconds)."""
    import asyncio

    task = asyncio.create_task(get_guidebook(app.state.services).run())
    try:
        yield
    finally:
        task.cancel()
        try:
            await task
        except BaseException:
            pass


router = APIRouter(tags=["guides"], lifespan=lifespan)


def _choices() -> dict[str, list[str]]:
    """The allowed values of the editor's select boxes, read from the schema (one place)."""
    def args(model: Any, name: str) -> list[str]:
        return list(typing.get_args(model.model_fields[name].annotation))

    return {"form": args(Material, "form"), "requirement": args(Material, "requirement"),
            "level": args(Place, "level")}


def _not_found(code: str) -> ApiError:
    return ApiError(404, "not_found", f"没有编码为 {code} 的事项。/ no matter {code}")


def _saved(gb: Any, s: Saved) -> dict[str, Any]:
    return {"code": s.code, "version": s.version, "changed": s.version is not None,
            "unverified": s.unverified, "warnings": issue_dicts(s.warnings),
            "guide": {**gb.detail(s.code), "choices": _choices(), "can_edit": True}}  # only admins change guides


def _kb_ready(services: Services) -> None:
    if services.kb is None:
        raise ApiError(503, "kb_loading", "办事指南正在加载，请稍候。/ the guidebook is still loading")


# --- page -----------------------------------------------------------------------------------------------------
@router.get("/staff/guides", include_in_schema=False)
def page(request: Request) -> Response:
    """The guidebook admin page (anonymous visitors go to the login page; agents read, admins edit)."""
    return staff_page(request, "guides.html")


# --- reading --------------------------------------------------------------------------------------------------
@router.get("/api/v1/guides")
def search(q: str = Query("", max_length=100), limit: int = Query(20, ge=1, le=100),
           services: Services = Depends(get_services), user: StaffUser = Depends(require_staff)) -> dict[str, Any]:
    """Matters matching ``q`` (empty: the authored guides)."""
    _kb_ready(services)
    gb = get_guidebook(services)
    return {"matters": [{"code": m.code, "name": m.name, "department": m.department, "source": m.source,
                         "verified": m.verified, "edited": m.code in gb.applied}
                        for m in gb.search(q, limit)], "choices": _choices(), "can_edit": user.is_admin}


@router.get("/api/v1/guides/export")
def export(format: Literal["csv", "xlsx"] = "xlsx", codes: str = Query("", max_length=20000),
           scope: Literal["guides", "all"] = "guides", services: Services = Depends(get_services),
           user: StaffUser = Depends(require_staff)) -> Response:
    """The matter list as a spreadsheet (the format the import reads)."""
    _kb_ready(services)
    gb = get_guidebook(services)
    rows = gb.export_rows([c.strip() for c in codes.split(",") if c.strip()] or None, scope)
    if format == "csv":
        return Response(gb.export_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="guides.csv"'})
    return Response(gb.export_xlsx(rows),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="guides.xlsx"'})


@router.get("/api/v1/guides/{code}")
def detail(code: str, services: Services = Depends(get_services),
           user: StaffUser = Depends(require_staff)) -> dict[str, Any]:
    """One matter as served, with its versions and verification."""
    _kb_ready(services)
    try:
        out = get_guidebook(services).detail(code)
    except NotFound:
        raise _not_found(code) from None
    return {**out, "choices": _choices(), "can_edit": user.is_admin}


# --- changing -------------------------------------------------------------------------------------------------
class EditRequest(BaseModel):
    """New values of some editable fields of a guide."""

    guide: dict[str, Any] = Field(description="field → new value (name, conditions, materials, places, fee …)")
    base_version: int | None = Field(default=None, ge=0, description="the version the editor started from")


class VerifyRequest(BaseModel):
    source_ref: str = Field(min_length=1, max_length=500, description="the official page checked against, and when")
    base_version: int | None = Field(default=None, ge=0)


class RevertRequest(BaseModel):
    version: int = Field(ge=0, description="the version to serve again; 0 = the guide file's own")
    base_version: int | None = Field(default=None, ge=0)


def _change(services: Services, fn_name: str, *args: Any) -> dict[str, Any]:
    """Run a guidebook change and answer with the guide after it (or the error, with every issue)."""
    _kb_ready(services)
    gb = get_guidebook(services)
    try:
        saved = getattr(gb, fn_name)(*args)
    except NotFound as exc:
        raise ApiError(404, "not_found", f"没有这个事项或版本：{exc} / no such matter or version") from None
    except Invalid as exc:
        err = ApiError(422, "invalid_guide", "指南没有通过校验，未保存。/ the guide did not pass the checks; "
                                             "nothing was saved")
        err.detail["issues"] = issue_dicts(exc.issues)
        raise err from None
    except Conflict as exc:
        raise ApiError(409, "conflict", f"这份指南已被他人修改（当前版本 {exc.current}），请刷新后再改。"
                                        f"/ changed meanwhile (now version {exc.current})") from None
    return _saved(gb, saved)


@router.put("/api/v1/guides/{code}")
def edit(code: str, body: EditRequest, services: Services = Depends(get_services),
         user: StaffUser = Depends(require_admin)) -> dict[str, Any]:
    """Change a guide (admins)."""
    return _change(services, "edit", user, code, body.guide, body.base_version)


@router.post("/api/v1/guides/{code}/verify")
def verify(code: str, body: VerifyRequest, services: Services = Depends(get_services),
           user: StaffUser = Depends(require_admin)) -> dict[str, Any]:
    """Mark a guide verified against a source (admins)."""
    return _change(services, "verify", user, code, body.source_ref, body.base_version)


@router.post("/api/v1/guides/{code}/revert")
def revert(code: str, body: RevertRequest, services: Services = Depends(get_services),
           user: StaffUser = Depends(require_admin)) -> dict[str, Any]:
    """Serve an earlier version of a guide again (admins)."""
    return _change(services, "revert", user, code, body.version, body.base_version)


@router.post("/api/v1/guides/import")
async def import_guides(file: UploadFile = File(...), services: Services = Depends(get_services),
                        user: StaffUser = Depends(require_admin)) -> dict[str, Any]:
    """Import a matter list (CSV/xlsx); every row gets a line in the report (admins)."""
    _kb_ready(services)
    content = await file.read(MAX_BYTES + 1)
    try:
        report = await run_in_threadpool(get_guidebook(services).import_table, user, file.filename or "", content)
    except UploadError as exc:
        raise ApiError(400, "bad_file", str(exc)) from None
    return report.as_dict()
