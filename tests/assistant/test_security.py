"""HTTP hardening: security headers on the real pages, no inline script or style in them, the public health
answer, the API docs closed in production, and the request-body cap for declared and chunked bodies."""

from __future__ import annotations

import re
import socket
import time

import pytest
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.channels.web import STATIC_DIR
from assistant.security import CSP, DOCS_CSP, MAX_CHAT_BODY_BYTES
from tests.citizen import citizen_client
from tests.conftest import free_port
from tests.live_stack import _Uvicorn

STAFF = {"Authorization": "Bearer test-staff-token"}
#: path → its status in ``app_client`` (no NLU, Rasa down: /healthz says 503)
PAGES = {"/": 200, "/kiosk": 200, "/widget/demo": 200, "/widget.js": 200, "/static/chat.js": 200,
         "/static/chat.css": 200, "/healthz": 503, "/no-such-page": 404}


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("path,status", PAGES.items())
def test_every_response_carries_the_security_headers(app_client, path, status):
    r = app_client.get(path)
    assert r.status_code == status, r.text
    h = r.headers
    assert h["content-security-policy"] == CSP
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in h  # not behind TLS unless the settings say so
    d = _directives(h["content-security-policy"])
    assert d["script-src"] == ["'self'"] and d["style-src"] == ["'self'"]  # nothing inline
    assert d["frame-ancestors"] == ["'none'"] and d["object-src"] == ["'none'"]
    assert not any("unsafe" in v for values in d.values() for v in values)


def test_hsts_only_behind_tls(make_settings, kb):
    app = create_app(make_settings(behind_tls=True), kb=kb, load_models=False)
    with TestClient(app) as c:
        for path in ("/", "/healthz", "/api/v1/chat/x/messages"):
            assert c.get(path).headers["strict-transport-security"] == "max-age=31536000"


def test_a_header_the_route_sets_is_kept(app_client):
    # the widget script sets its own cache header; the middleware only adds what is missing
    r = app_client.get("/widget.js")
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["content-type"].startswith("application/javascript")


@pytest.mark.parametrize("page", sorted(p.name for p in STATIC_DIR.glob("*.html")))
def test_pages_have_no_inline_script_style_or_handlers(page):
    html = (STATIC_DIR / page).read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S | re.I)
    assert scripts, "every page loads its script from a file"
    for attrs, body in scripts:
        assert "src=" in attrs and not body.strip(), f"inline <script> in {page}"
    assert not re.search(r"<style\b", html, flags=re.I), f"inline <style> in {page}"
    assert not re.search(r"\sstyle\s*=", html, flags=re.I), f"style attribute in {page}"
    assert not re.search(r"\son[a-z]+\s*=", html, flags=re.I), f"inline event handler in {page}"
    assert "javascript:" not in html.lower()


def test_pages_reference_only_files_that_exist(app_client):
    for page in ("/", "/kiosk", "/widget/demo"):
        html = app_client.get(page).text
        for ref in re.findall(r'(?:src|href)="(/[^"]+)"', html):
            assert app_client.get(ref).status_code == 200, f"{page} → {ref}"


def test_public_healthz_says_only_the_status(app_client):
    r = app_client.get("/healthz")
    assert r.status_code == 503 and r.json() == {"status": "unavailable"}
    assert "127.0.0.1" not in r.text and "error" not in r.text
    assert app_client.get("/api/v1/health").status_code == 401
    assert app_client.get("/api/v1/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    detail = app_client.get("/api/v1/health", headers=STAFF).json()
    assert set(detail) == {"status", "missing", "checks"} and "rasa" in detail["missing"]


def test_health_detail_is_closed_without_a_staff_token(make_settings, kb):
    app = create_app(make_settings(staff_token=None), kb=kb, load_models=False)
    with TestClient(app) as c:
        assert c.get("/api/v1/health").status_code == 403


def test_api_docs_are_closed_in_production(make_settings, kb):
    strong = "Kq7-vR2xWm9pLz4Ns8Tb3Yc6"
    app = create_app(make_settings(environment="production", staff_token=strong), kb=kb, load_models=False)
    with TestClient(app) as c:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert c.get(path).status_code == 404, path
        assert c.get("/").status_code == 200
    dev = create_app(make_settings(), kb=kb, load_models=False)
    with TestClient(dev) as c:
        assert c.get("/openapi.json").status_code == 200
        # outside production the docs pages work: their CDN scripts and inline start-up are allowed there only
        docs = c.get("/docs")
        assert docs.status_code == 200 and docs.headers["content-security-policy"] == DOCS_CSP
        assert "https://cdn.jsdelivr.net" in DOCS_CSP and c.get("/").headers["content-security-policy"] == CSP


# --- request body cap ----------------------------------------------------------------------------------------------

def test_declared_oversized_body_is_refused_with_a_bilingual_413(app_client):
    r = app_client.post("/api/v1/chat", content=b"x" * (MAX_CHAT_BODY_BYTES + 1),
                        headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"
    assert "太大" in r.json()["message"] and "too large" in r.json()["message"]
    assert r.headers["content-security-policy"] == CSP  # the refusal carries the headers too


def test_chunked_oversized_body_is_refused(app_client):
    seen = []

    def chunks():  # no Content-Length: the body arrives chunked
        for _ in range(40):
            seen.append(1)
            yield b"x" * 16 * 1024

    r = app_client.post("/api/v1/chat", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"
    # an ordinary body right after is still answered
    ok = app_client.post("/api/v1/chat", json={"session_id": "cap-1", "text": "你好"})
    assert ok.status_code == 200


def test_other_paths_use_the_default_cap(make_settings, kb):
    app = create_app(make_settings(max_body_bytes=1000), kb=kb, load_models=False)
    with citizen_client(app) as c:
        r = c.post("/api/v1/feedback", content=(b"y" for _ in range(2000)), headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["limit_bytes"] == 1000
        assert c.post("/api/v1/chat", json={"session_id": "f-1", "text": "你好"}).status_code == 200
        small = c.post("/api/v1/feedback", json={"session_id": "f-1", "message_ref": "1", "rating": "up"})
        assert small.status_code == 201


@pytest.fixture
def served_app(make_settings, kb):
    """The app under a real uvicorn server on a free port (for raw-socket requests)."""
    port = free_port()
    server = _Uvicorn(create_app(make_settings(port=port), kb=kb, load_models=False, rasa=None), port)
    server.start()
    deadline = time.monotonic() + 30
    while not server.server.started:
        assert time.monotonic() < deadline and server.is_alive(), "the app did not start"
        time.sleep(0.05)
    yield port
    server.stop()


def test_chunked_body_is_refused_before_it_is_all_sent(served_app):
    """Over a real socket: the 413 comes back while the client is still sending, so the server never reads
    (or buffers) the rest of an endless chunked body."""
    with socket.create_connection(("127.0.0.1", served_app), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (32 * 1024, b"z" * 32 * 1024)
        sent = 0
        response = b""
        sock.settimeout(0.2)
        for _ in range(200):  # up to 6.4 MB; the cap is 256 KiB
            try:
                sock.sendall(chunk)
                sent += 32 * 1024
            except OSError:  # the server closed the connection after answering
                break
            try:
                response += sock.recv(65536)
            except (socket.timeout, BlockingIOError):
                continue
            except OSError:
                break
            if b"\r\n\r\n" in response:
                break
        sock.settimeout(5)
        while b"body_too_large" not in response:
            try:
                more = sock.recv(65536)
            except OSError:
                break
            if not more:
                break
            response += more
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert b"body_too_large" in response
    assert sent < 200 * 32 * 1024  # the body was never sent to its end (no final 0-length chunk either)
