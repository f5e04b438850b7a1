"""The guidebook admin API (/api/v1/guides): edits checked like ``kb validate``, versions with who/when, revert,
verification, import/export with a per-row report, live application without restart on every replica, roles."""

from __future__ import annotations

import time

import pytest

from tests.live_stack import parts

CODE = "JN-GJJ-002"  # 住房公积金提取（租房）
QUESTION = "租房提取公积金要带啥子材料"
TOKEN = "guides-test-token"
H = {"Authorization": f"Bearer {TOKEN}"}
NEW_MATERIAL = {"name": "社保缴费证明（近6个月）", "form": "复印件", "copies": 2, "requirement": "required",
                "note": "", "aliases": []}


def _client(app):
    from tests.citizen import citizen_client

    return citizen_client(app, raise_server_exceptions=False)


@pytest.fixture
def guide_app(make_settings, kb, nlu, db_url):
    """The app with the real KB and NLU on a fresh database (SQLite, and PostgreSQL when configured)."""
    from assistant.app import create_app

    app = create_app(make_settings(staff_token=TOKEN, database_url=db_url, guide_sync_s=0.2), kb=kb, nlu=nlu)
    with _client(app) as c:
        yield app, c


def _checklist(client, session: str) -> list[str]:
    r = client.post("/api/v1/chat", json={"session_id": session, "text": QUESTION})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["matter"]["code"] == CODE, body
    lists = parts(body, "checklist")
    assert lists, body
    return [i["name"] for i in lists[0]["items"]]


def test_an_edit_is_in_the_next_answer_and_a_revert_restores_it(guide_app, kb, nlu):
    app, c = guide_app
    before = _checklist(c, "guides-1")
    assert NEW_MATERIAL["name"] not in before
    d = c.get(f"/api/v1/guides/{CODE}", headers=H).json()
    assert d["version"] == 0 and d["history"] == [] and not d["edited"]

    mats = d["matter"]["materials"] + [NEW_MATERIAL]
    r = c.put(f"/api/v1/guides/{CODE}", headers=H, json={"guide": {"materials": mats}, "base_version": 0})
    assert r.status_code == 200, r.text
    v1 = r.json()["version"]
    assert r.json()["guide"]["edited"] and r.json()["guide"]["history"][0]["actor"] == "service"
    assert _checklist(c, "guides-2") == before + [NEW_MATERIAL["name"]]
    # the shared KB the app was started with is untouched: the app serves a new one
    assert NEW_MATERIAL["name"] not in [m.name for m in kb.get(CODE).materials]

    # an edit made from an old version is refused (someone changed it meanwhile)
    r = c.put(f"/api/v1/guides/{CODE}", headers=H, json={"guide": {"fee": "免费"}, "base_version": 0})
    assert r.status_code == 409 and r.json()["error"] == "conflict"

    r = c.post(f"/api/v1/guides/{CODE}/revert", headers=H, json={"version": 0, "base_version": v1})
    assert r.status_code == 200, r.text
    assert _checklist(c, "guides-3") == before
    hist = r.json()["guide"]["history"]
    assert [h["action"] for h in hist] == ["revert", "edit"] and hist[0]["reverted_to"] == 0

    # reverting to v1 brings the edit back (a revert is itself a version)
    r = c.post(f"/api/v1/guides/{CODE}/revert", headers=H, json={"version": v1})
    assert r.status_code == 200
    assert _checklist(c, "guides-4") == before + [NEW_MATERIAL["name"]]

    from assistant.db import audit

    actions = [e["action"] for e in audit.entries(app.state.services.db)]
    assert actions[:3] == ["guide.revert", "guide.revert", "guide.edit"]


def test_new_phrasing_is_searchable_at_once(guide_app):
    """A colloquial phrase added to a guide is in the NLU's search entries of that matter without a restart."""
    app, c = guide_app
    phrase = "公积金拿来交房租咋个弄"
    nlu_before = app.state.services.nlu
    d = c.get(f"/api/v1/guides/{CODE}", headers=H).json()
    r = c.put(f"/api/v1/guides/{CODE}", headers=H,
              json={"guide": {"colloquial": d["matter"]["colloquial"] + [phrase]}})
    assert r.status_code == 200, r.text
    nlu = app.state.services.nlu
    assert nlu is not nlu_before
    rows = [t for t, m in zip(nlu.index.row_texts, nlu.index.row_matter) if nlu.index.codes[m] == CODE]
    assert any("交房租" in t for t in rows)
    assert nlu.search(phrase, 1)[0].code == CODE
    assert app.state.services.guidebook.refreshed == [CODE]


def test_invalid_edits_are_refused_with_every_issue_and_nothing_is_saved(guide_app):
    app, c = guide_app
    d = c.get(f"/api/v1/guides/{CODE}", headers=H).json()
    mats = d["matter"]["materials"]
    bad = [dict(mats[0], form="扫描件"), dict(mats[1], copies=-1), *mats[2:]]
    r = c.put(f"/api/v1/guides/{CODE}", headers=H, json={"guide": {"materials": bad}})
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_guide"
    assert {i["field"] for i in r.json()["issues"]} == {"materials.0.form", "materials.1.copies"}
    r = c.put(f"/api/v1/guides/{CODE}", headers=H, json={"guide": {"related": ["NO-SUCH-CODE"]}})
    assert r.status_code == 422 and r.json()["issues"][0]["field"] == "related.0"
    r = c.put(f"/api/v1/guides/{CODE}", headers=H, json={"guide": {"source": "sichuan-catalog"}})
    assert r.status_code == 422 and r.json()["issues"][0]["field"] == "source"
    d2 = c.get(f"/api/v1/guides/{CODE}", headers=H).json()
    assert d2["history"] == [] and d2["matter"] == d["matter"]
    assert app.state.services.guidebook.store.revision() == 0


def test_verify_records_who_when_and_source_and_a_content_edit_clears_it(guide_app):
    app, c = guide_app
    r = c.post(f"/api/v1/guides/{CODE}/verify", headers=H, json={"source_ref": "  "})
    assert r.status_code == 422
    src = "四川政务服务网 https://www.sczwfw.gov.cn/ 2026-11-30 核对"
    r = c.post(f"/api/v1/guides/{CODE}/verify", headers=H, json={"source_ref": src})
    assert r.status_code == 200, r.text
    ver = r.json()["guide"]["verification"]
    assert ver["by"] == "service" and ver["source"] == src and ver["at"]
    assert app.state.services.kb.get(CODE).verified
    # the citizen's card no longer says 仅供参考
    body = c.post("/api/v1/chat", json={"session_id": "guides-v", "text": "租房提取公积金"}).json()
    assert [p["matter"]["verified"] for p in parts(body, "matter_card")] == [True], body
    # a new phrasing keeps the verification; a changed fee does not (what was checked is no longer served)
    m = r.json()["guide"]["matter"]
    r = c.put(f"/api/v1/guides/{CODE}", headers=H, json={"guide": {"examples": m["examples"] + ["租房能取公积金吗"]}})
    assert r.status_code == 200 and r.json()["guide"]["verification"]["by"] == "service"
    r = c.put(f"/api/v1/guides/{CODE}", headers=H, json={"guide": {"fee": "不收取费用"}})
    assert r.status_code == 200 and r.json()["unverified"] and r.json()["guide"]["verification"] is None


def test_export_then_import_with_a_bad_row_imports_the_rest(guide_app):
    import openpyxl
    import io

    app, c = guide_app
    r = c.get("/api/v1/guides/export?format=xlsx&codes=JN-GJJ-001,JN-GJJ-002,JN-GJJ-003", headers=H)
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header[:2] == ["事项编码", "事项名称"] and ws.max_row == 4
    col = {h: i + 1 for i, h in enumerate(header)}
    ws.cell(2, col["收费"], "免费（测试导入）")
    ws.cell(3, col["申请材料"], "居民身份证｜原件｜一份")  # 份数 is not a number → row 3 fails
    ws.cell(4, col["相关事项"] if "相关事项" in col else col["核实来源"], "")
    ws.append(["NO-SUCH-CODE", "不存在的事项"])
    buf = io.BytesIO()
    wb.save(buf)
    r = c.post("/api/v1/guides/import", headers=H,
               files={"file": ("guides.xlsx", buf.getvalue(), "application/octet-stream")})
    assert r.status_code == 200, r.text
    rep = r.json()
    by_row = {row["row"]: row for row in rep["rows"]}
    assert by_row[2]["status"] == "ok"
    assert by_row[3]["status"] == "error" and "份数" in by_row[3]["message"]
    assert by_row[5]["status"] == "error" and "NO-SUCH-CODE" in by_row[5]["message"]
    assert rep["imported"] >= 1 and rep["failed"] == 2
    kb = app.state.services.kb
    assert kb.get("JN-GJJ-001").fee == "免费（测试导入）"
    assert kb.get("JN-GJJ-002").materials[0].copies == 1  # the bad row changed nothing
    # CSV too; a file without the code column is refused as a whole
    r = c.get("/api/v1/guides/export?format=csv&codes=JN-GJJ-001", headers=H)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    assert "免费（测试导入）" in r.content.decode("utf-8-sig")
    r = c.post("/api/v1/guides/import", headers=H, files={"file": ("x.csv", "名称,收费\n甲,1\n".encode(), "text/csv")})
    assert r.status_code == 400 and r.json()["error"] == "bad_file"


def _bearer(c, login) -> dict:
    r = c.post("/api/v1/auth/login", json={"username": login.username, "password": login.password})
    assert r.status_code == 200, r.text
    c.cookies.clear()  # the Bearer token only (the login also set the session cookie)
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_anonymous_and_agents_cannot_edit(guide_app, staff_user):
    app, c = guide_app
    assert c.get("/api/v1/guides?q=公积金").status_code == 401
    assert c.put(f"/api/v1/guides/{CODE}", json={"guide": {"fee": "x"}}).status_code == 401
    assert c.post(f"/api/v1/guides/{CODE}/revert", json={"version": 0}).status_code == 401
    assert c.post("/api/v1/guides/import", files={"file": ("a.csv", b"a", "text/csv")}).status_code == 401
    assert c.get("/staff/guides", follow_redirects=False).headers["location"].startswith("/staff/login")
    agent = _bearer(c, staff_user(level="street", place="荷花池街道", role="agent", target=app))
    admin_login = staff_user(level="district", role="admin", target=app)
    admin = _bearer(c, admin_login)
    # an agent reads, but every change is refused
    r = c.get(f"/api/v1/guides/{CODE}", headers=agent)
    assert r.status_code == 200 and r.json()["can_edit"] is False
    assert c.get("/api/v1/guides/export?format=csv", headers=agent).status_code == 200
    for method, path, kw in (("put", f"/api/v1/guides/{CODE}", {"json": {"guide": {"fee": "x"}}}),
                             ("post", f"/api/v1/guides/{CODE}/verify", {"json": {"source_ref": "x"}}),
                             ("post", f"/api/v1/guides/{CODE}/revert", {"json": {"version": 0}}),
                             ("post", "/api/v1/guides/import", {"files": {"file": ("a.csv", b"a", "text/csv")}})):
        r = getattr(c, method)(path, headers=agent, **kw)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", (path, r.text)
    assert app.state.services.guidebook.store.revision() == 0
    # an admin account edits, and the version and the audit log name that admin
    r = c.put(f"/api/v1/guides/{CODE}", headers=admin, json={"guide": {"fee": "不收费（管理员）"}})
    assert r.status_code == 200 and r.json()["guide"]["history"][0]["actor"] == admin_login.username
    from assistant.db import audit

    entry = audit.entries(app.state.services.db, actor=admin_login.username)[0]
    assert entry["action"] == "guide.edit" and entry["target"] == f"matter:{CODE}"
    r = c.get("/api/v1/guides?q=租房提取公积金", headers=H)
    assert r.status_code == 200 and r.json()["matters"][0]["code"] == CODE


def test_a_change_reaches_another_replica_without_restart(make_settings, kb, nlu, db_url):
    """Two app processes on one database: an edit on one is served by the other within its sync interval."""
    from assistant.app import create_app

    a = create_app(make_settings(staff_token=TOKEN, database_url=db_url, guide_sync_s=0.2), kb=kb, nlu=nlu)
    b = create_app(make_settings(staff_token=TOKEN, database_url=db_url, guide_sync_s=0.2), kb=kb, nlu=nlu)
    with _client(a) as ca, _client(b) as cb:
        before = _checklist(cb, "replica-1")
        d = ca.get(f"/api/v1/guides/{CODE}", headers=H).json()
        r = ca.put(f"/api/v1/guides/{CODE}", headers=H,
                   json={"guide": {"materials": d["matter"]["materials"] + [NEW_MATERIAL]}})
        assert r.status_code == 200
        deadline = time.monotonic() + 30
        while b.state.services.guidebook.revision != 1:
            assert time.monotonic() < deadline, "replica b never applied the change"
            time.sleep(0.1)
        assert _checklist(cb, "replica-2") == before + [NEW_MATERIAL["name"]]
