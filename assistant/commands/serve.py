"""``jinxiaoer serve [--host H] [--port P]``: the app (uvicorn) with its supervised Rasa server."""

from __future__ import annotations

import argparse
import sys

from assistant.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``serve`` to the ``jinxiaoer`` parser.

    Args:
        subparsers: the dispatcher's sub-parser collection.
    """
    p = subparsers.add_parser("serve", help="start the app and the Rasa server it supervises",
                              description="Start 金小二: the web chat page, the API and (unless "
                                          "JXE_RASA_MANAGE=false) a supervised Rasa server.")
    p.add_argument("--host", default=None, help="interface to listen on (default: the host setting, 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default: the port setting, 8000)")
    p.set_defaults(func=_serve)


def settings_for(settings: Settings, host: str | None, port: int | None) -> Settings:
    """``settings`` with ``host``/``port`` applied (and the derived internal URL following the port).

    Args:
        settings: the loaded settings.
        host: ``--host`` or ``None``.
        port: ``--port`` or ``None``.
    """
    update: dict = {}
    if host:
        update["host"] = host
    if port:
        update["port"] = port
        if settings.app_internal_url == f"http://127.0.0.1:{settings.port}":
            update["app_internal_url"] = f"http://127.0.0.1:{port}"
    return settings.model_copy(update=update) if update else settings


def page_url(settings: Settings) -> str:
    """The address of the web chat page for ``settings``' host and port."""
    host = "127.0.0.1" if settings.host in {"0.0.0.0", "::", ""} else settings.host
    return f"http://{host}:{settings.port}/"


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from assistant.app import create_app

    settings = settings_for(settings, args.host, args.port)
    app = create_app(settings)
    print(f"金小二 web chat: {page_url(settings)}", flush=True)
    rasa = ("is started and supervised by this process" if settings.rasa_manage
            else f"expected at {settings.rasa_url}")
    print(f"  readiness: {page_url(settings)}healthz   (Rasa {rasa})", file=sys.stderr, flush=True)
    # proxy_headers off: the client address is taken from X-Forwarded-For only by the app, and only behind the
    # proxies of JXE_TRUSTED_PROXIES (assistant/api/limits.py); no "server: uvicorn" header either
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False,
                timeout_graceful_shutdown=15, proxy_headers=False, server_header=False)
    return 0
