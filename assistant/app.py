"""The FastAPI app: ``create_app(settings)``.

Startup (lifespan): migrate the database (``alembic upgrade heads``), load the KB and build the NLU in a worker
thread (``/healthz`` answers 503 meanwhile), start the supervised Rasa server when ``settings.rasa_manage``, and the daily retention purge (leader only).
Every router is included explicitly below, one line each.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant import security
from assistant.api.limits import RateLimiter
from assistant.container import Services, build_services, load_kb, load_nlu
from assistant.db.retention import RetentionJob
from assistant.logging import configure_logging, get_logger, log_event, set_pseudonym_key
from assistant.chat import maybe_await
from assistant.settings import Settings
from assistant.teach.sync import sync_loop

log = get_logger(__name__)

async def _load_models(services: Services) -> None:
    s = services.settings
    try:
        if services.kb is None:
            t0 = time.perf_counter()
            services.kb = await asyncio.to_thread(load_kb, s)
            log_event(log, "app.kb.loaded", matters=len(services.kb), s=round(time.perf_counter() - t0, 2))
        if len(services.kb) == 0:
            raise ValueError(f"the knowledge base in {s.kb_dir} has no matters")
        services.status["kb"] = "ready"
    except Exception as exc:
        services.status["kb"] = f"error: {type(exc).__name__}: {str(exc)[:300]}"
        services.status["nlu"] = "error: the knowledge base did not load"
        log.exception("app.kb.failed")
        return
    try:
        if services.nlu is None:
            t0 = time.perf_counter()
            services.nlu = await asyncio.to_thread(load_nlu, s, services.kb)
            log_event(log, "app.nlu.loaded", s=round(time.perf_counter() - t0, 2))
        services.status["nlu"] = "ready"
    except Exception as exc:
        services.status["nlu"] = f"error: {type(exc).__name__}: {str(exc)[:300]}"
        log.exception("app.nlu.failed")
        return
    if s.wechat_token:
        # WeChat voice messages without WeChat's own recognition need the speech engine from the first message on
        # (the kiosk page warms it itself when it is opened)
        from assistant.speech import warm_voice

        warm_voice(services)


async def _start_rasa(services: Services) -> None:
    try:
        from assistant.rasa.supervisor import RasaSupervisor
    except ImportError as exc:
        services.status["rasa_supervisor"] = f"error: {exc}"
        return
    try:
        services.supervisor = RasaSupervisor(services.settings)
        await asyncio.to_thread(services.supervisor.start)
    except Exception as exc:
        services.status["rasa_supervisor"] = f"error: {type(exc).__name__}: {str(exc)[:300]}"
        log.exception("app.rasa.start_failed")


def _error(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status)


_FIELD_MESSAGES = {
    "session_id": "session_id 必须是1到128位的字母、数字或 _.:@- / session_id must be 1-128 chars of [A-Za-z0-9_.:@-]",
    "text": "text 必须是字符串 / text must be a string",
}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") in {"json_invalid", "json_type"} for e in errors):
            return _error(400, "invalid_json", "请求体不是有效的 JSON。/ the request body is not valid JSON")
        details = []
        for e in errors:
            loc = [str(x) for x in e.get("loc", []) if x != "body"]
            field = loc[-1] if loc else "body"
            if e.get("type") == "missing" and not loc:
                msg = "缺少请求体，应为 JSON 对象。/ a JSON object body is required"
            elif e.get("type") == "missing":
                msg = f"缺少字段 {field}。/ field '{field}' is required"
            elif e.get("type") == "string_too_long":
                msg = "消息太长，请分几次发送。/ the text is too long"
            elif e.get("type") in {"model_attributes_type", "dict_type"} and not loc:
                msg = "请求体应为 JSON 对象。/ the body must be a JSON object"
            else:
                msg = _FIELD_MESSAGES.get(field) or f"字段 {field} 的值不对：{e.get('msg')} / invalid value for '{field}'"
            details.append({"field": ".".join(loc) or "body", "message": msg, "type": e.get("type")})
        status = 413 if any(d["type"] == "string_too_long" for d in details) else 422
        return _error(status, "invalid_request", details[0]["message"] if details else "请求无效 / invalid request",
                      details=jsonable_encoder(details))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict) and "error" in exc.detail:
            return JSONResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
        messages = {404: "找不到这个地址。/ not found", 405: "不支持这个请求方法。/ method not allowed"}
        return JSONResponse({"error": "http_error", "message": messages.get(exc.status_code, str(exc.detail))},
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - last resort
        log.exception("app.request.failed")
        return _error(500, "internal_error", "系统出了点问题，请稍后再试或转人工。/ internal error")


def create_app(settings: Settings, *, kb: Any = None, nlu: Any = None, rasa: Any = "auto",
               load_models: bool = True) -> FastAPI:
    """Build the 金小二 app.

    Args:
        settings: the typed settings.
        kb: an already loaded KnowledgeBase (tests share one); loaded at startup when ``None``.
        nlu: an already built NLU (tests share one); built at startup when ``None``.
        rasa: a Rasa client; ``"auto"`` = one for ``settings.rasa_url``; ``None`` = no Rasa (fallback answers).
        load_models: load the KB/NLU that were not given at startup (tests that need neither pass ``False``).

    Returns:
        The FastAPI app; ``app.state.services`` holds the :class:`Services`.
    """
    configure_logging(settings.log_level)
    set_pseudonym_key(settings.pseudonym_key)  # session ids in the logs, client addresses in the daily caps
    services = build_services(settings, kb=kb, nlu=nlu, rasa=rasa)
    services.limiter = RateLimiter(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        tasks: list[asyncio.Task] = []
        try:
            await asyncio.to_thread(services.db.upgrade)
            services.status["db"] = "ready"
        except Exception as exc:
            services.status["db"] = f"error: {type(exc).__name__}: {str(exc)[:300]}"
            log.exception("app.db.migrate_failed")
        if load_models:
            tasks.append(asyncio.create_task(_load_models(services)))
        tasks.append(asyncio.create_task(sync_loop(services)))  # learned examples, on every replica
        if settings.rasa_manage:
            tasks.append(asyncio.create_task(_start_rasa(services)))
        retention = RetentionJob(services.db, settings.retention_days)
        retention.start()
        log_event(log, "app.started", environment=settings.environment, db=services.db.engine.url.get_backend_name(),
                  rasa_url=settings.rasa_url, rasa_manage=settings.rasa_manage)
        try:
            yield
        finally:
            await retention.stop()
            for t in tasks:
                t.cancel()
            for t in tasks:
                try:
                    await t
                except BaseException:
                    pass
            if services.supervisor is not None:
                try:
                    await services.supervisor.astop()
                except Exception:
                    log.exception("app.rasa.stop_failed")
            close = getattr(services.rasa, "aclose", None) or getattr(services.rasa, "close", None)
            if close is not None:
                try:
                    await maybe_await(close())
                except Exception:
                    pass
            try:
                await services.ticket_events.aclose()
            except Exception:
                log.exception("app.ticket_events.close_failed")
            services.db.dispose()
            log_event(log, "app.stopped")

    docs = settings.environment != "production"  # no /docs, /redoc or /openapi.json in production
    app = FastAPI(title="金小二 — 金牛区政务服务智能导办", version="0.1.0", lifespan=lifespan,
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
                  openapi_url="/openapi.json" if docs else None)
    app.state.services = services
    app.state.settings = settings
    _install_error_handlers(app)

    # every router, explicitly (one line each)
    from assistant.api.auth import router as auth_router
    from assistant.api.dashboard import router as dashboard_router
    from assistant.api.desk import router as desk_router
    from assistant.api.guides import router as guides_router
    from assistant.api.health import router as health_router
    from assistant.api.metrics import router as metrics_router
    from assistant.api.preservice import router as preservice_router
    from assistant.api.staff import router as staff_router
    from assistant.api.triage import router as triage_router
    from assistant.api.workbench import router as workbench_router
    from assistant.channels import kiosk, miniprogram, widget

    widget.install_cors(app, settings)  # the widget's host pages (settings.cors_origins)
    security.install(app, settings)  # body cap + security headers, outside CORS (preflights get the headers)
    from assistant.channels.wechat import mp as wechat_mp
    from assistant.channels.web import STATIC_DIR, router as web_router
    from assistant.rasa.action_server import router as actions_router
    from assistant.rasa.nlu_endpoint import router as nlu_router

    wechat_mp.register_outbox(services)

    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(metrics_router)
    app.include_router(web_router)
    app.include_router(staff_router)
    app.include_router(workbench_router)
    app.include_router(nlu_router)
    app.include_router(actions_router)
    app.include_router(kiosk.router)
    app.include_router(wechat_mp.router)
    app.include_router(miniprogram.push_router)
    app.include_router(miniprogram.router)
    app.include_router(widget.router)
    app.include_router(preservice_router)
    app.include_router(triage_router)
    app.include_router(dashboard_router)
    app.include_router(desk_router)
    app.include_router(guides_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
