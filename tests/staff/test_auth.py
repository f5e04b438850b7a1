"""Staff accounts and login: argon2 hashes, the session cookie + CSRF, Bearer tokens, the service credential,
lock-out, roles, the CLI."""

from __future__ import annotations

import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.staff.conftest import STAFF_TOKEN


@pytest.fixture
def client(make_settings, kb):
    from assistant.app import create_app

    app = create_app(make_settings(staff_token=STAFF_TOKEN, staff_lockout_failures=3, staff_lockout_ip_failures=6),
                     kb=kb, load_models=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _login(c, login, password=None):
    return c.post("/api/v1/auth/login", json={"username": login.username, "password": password or login.password})


def test_password_is_stored_as_an_argon2_hash(client, staff_user):
    from assistant.db.staff import StaffAccount

    login = staff_user("street", "营门口街道", target=client.app)
    with client.app.state.services.db.session() as s:
        row = s.scalars(select(StaffAccount).where(StaffAccount.username == login.username)).one()
        assert row.password_hash.startswith("$argon2id$") and login.password not in row.password_hash


def test_login_sets_httponly_strict_cookie_and_returns_a_bearer_token(client, staff_user):
    login = staff_user("street", "营门口街道", target=client.app)
    r = _login(client, login)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"] == {"username": login.username, "level": "street", "place": "营门口街道", "role": "agent"}
    assert body["token"] and body["expires_at"]
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("jxe_staff="))
    csrf = next(c for c in cookies if c.startswith("jxe_csrf="))
    assert "HttpOnly" in session and "samesite=strict" in session.lower()
    assert "HttpOnly" not in csrf and "samesite=strict" in csrf.lower()
    # the Bearer token alone works (no cookie, no CSRF token needed)
    bare = TestClient(client.app)
    me = bare.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json()["username"] == login.username
    hb = bare.post("/api/v1/staff/heartbeat", headers={"Authorization": f"Bearer {body['token']}"})
    assert hb.status_code == 200


def test_cookie_needs_the_csrf_header_on_unsafe_methods(client, staff_user):
    login = staff_user(target=client.app)
    assert _login(client, login).status_code == 200  # the client keeps the cookies
    assert client.get("/api/v1/auth/me").status_code == 200
    no_csrf = client.post("/api/v1/staff/heartbeat")
    assert no_csrf.status_code == 403 and no_csrf.json()["error"] == "csrf_failed"
    wrong = client.post("/api/v1/staff/heartbeat", headers={"X-CSRF-Token": "not-it"})
    assert wrong.status_code == 403
    ok = client.post("/api/v1/staff/heartbeat", headers={"X-CSRF-Token": client.cookies["jxe_csrf"]})
    assert ok.status_code == 200


def test_anonymous_and_wrong_credentials_are_refused(client, staff_user):
    staff_user(target=client.app)
    bare = TestClient(client.app)
    assert bare.get("/api/v1/tickets").status_code == 401
    assert bare.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert bare.get("/api/v1/tickets", headers={"Authorization": f"Bearer {STAFF_TOKEN}"}).status_code == 200
    bare.cookies.set("jxe_staff", "forged")
    assert bare.get("/api/v1/tickets").status_code == 401
    page = TestClient(client.app, follow_redirects=False).get("/staff")
    assert page.status_code == 303 and page.headers["location"].startswith("/staff/login")
    assert TestClient(client.app).get("/staff/login").status_code == 200


def test_agents_cannot_use_admin_endpoints(client, staff_user):
    agent = staff_user(role="agent", target=client.app)
    admin = staff_user(role="admin", target=client.app)
    body = {"title": "问候", "text": "您好"}
    agent_token = _login(TestClient(client.app), agent).json()["token"]
    r = client.post("/api/v1/canned", json=body, headers={"Authorization": f"Bearer {agent_token}"})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    token = _login(TestClient(client.app), admin).json()["token"]
    r = client.post("/api/v1/canned", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["title"] == "问候"


def test_lockout_after_repeated_failures_even_with_the_right_password(client, staff_user):
    login = staff_user(target=client.app)
    for _ in range(3):
        r = _login(client, login, "wrong-password-1")
        assert r.status_code == 401 and r.json()["error"] == "bad_credentials"
    locked = _login(client, login)
    assert locked.status_code == 429 and locked.json()["error"] == "locked"
    assert int(locked.headers["retry-after"]) > 0
    # an admin's reset unlocks it
    from assistant.staff.accounts import Accounts

    services = client.app.state.services
    Accounts(services.db, services.settings).reset_password(login.username, "New-password-42")
    assert _login(client, login, "New-password-42").status_code == 200


def test_lockout_per_client_address_across_usernames(client, staff_user):
    real = staff_user(target=client.app)
    for i in range(6):
        r = client.post("/api/v1/auth/login", json={"username": f"guess{i}", "password": "whatever-123"})
        assert r.status_code == 401
    # this address is locked now, whoever it tries
    r = _login(client, real)
    assert r.status_code == 429


def test_logout_ends_the_token(client, staff_user):
    login = staff_user(target=client.app)
    token = _login(TestClient(client.app), login).json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/auth/logout", headers=h).status_code == 200
    assert client.get("/api/v1/auth/me", headers=h).status_code == 401


def test_disabled_account_cannot_log_in_and_its_sessions_end(client, staff_user):
    from assistant.staff.accounts import Accounts

    login = staff_user(target=client.app)
    token = _login(TestClient(client.app), login).json()["token"]
    services = client.app.state.services
    Accounts(services.db, services.settings).disable(login.username)
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert _login(TestClient(client.app), login).status_code == 401


def test_cli_add_list_disable_reset(tmp_path, monkeypatch, capsys):
    """``jinxiaoer staff …`` as typed (the CLI's own entry point, in this process: the password from stdin)."""
    import io
    from types import SimpleNamespace

    from assistant.cli import main

    for k, v in {"JXE_DATA_DIR": str(tmp_path), "JXE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
                 "JXE_SETTINGS_FILE": str(tmp_path / "none.yml"), "JXE_RASA_MANAGE": "false"}.items():
        monkeypatch.setenv(k, v)

    def _cli(args, stdin=""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["staff", *args])
        out = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)

    r = _cli(["add", "wang", "--level", "street", "--place", "营门口街道"], "Str0ng-password\n")
    assert r.returncode == 0, r.stderr
    assert "Str0ng-password" not in r.stdout + r.stderr
    r = _cli(["add", "li", "--level", "street"], "Str0ng-password\n")
    assert r.returncode == 1 and "--place" in r.stderr
    r = _cli(["add", "zhao", "--level", "district", "--role", "admin"], "short\n")
    assert r.returncode == 1 and "10" in r.stderr
    assert _cli(["add", "zhao", "--level", "district", "--role", "admin"], "Adm1n-password!\n").returncode == 0
    listing = _cli(["list"]).stdout
    assert "wang\tstreet\t营门口街道\tagent\tactive" in listing and "zhao\tdistrict\t-\tadmin\tactive" in listing
    assert _cli(["disable", "wang"]).returncode == 0
    assert "wang\tstreet\t营门口街道\tagent\tdisabled" in _cli(["list"]).stdout
    assert _cli(["reset-password", "wang"], "An0ther-password\n").returncode == 0
    assert "wang\tstreet\t营门口街道\tagent\tactive" in _cli(["list"]).stdout
    assert _cli(["disable", "nobody"]).returncode == 1
