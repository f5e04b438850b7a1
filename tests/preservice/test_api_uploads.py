"""Staff API (Bearer JXE_STAFF_TOKEN) and CSV/xlsx uploads with per-row reports."""

from __future__ import annotations

import csv
import io
import logging
from datetime import date, datetime, timedelta

import pytest

from assistant.preservice.uploads import credit_code_check_char, valid_credit_code
from tests.citizen import citizen_client

TOKEN = "ps-staff-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(make_settings, kb, clock):
    from assistant.app import create_app
    from assistant.preservice.runtime import set_clock

    app = create_app(make_settings(staff_token=TOKEN), kb=kb, nlu=None, rasa=None, load_models=False)
    app.state.services.preservice_scheduler = False
    set_clock(app.state.services, clock)
    with citizen_client(app, raise_server_exceptions=False) as c:
        c.services = app.state.services
        yield c


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def _credit_code(i: int) -> str:
    first = f"92510106MA{i:07d}"  # 个体工商户, 成都金牛 region code
    first = first.replace("I", "1")[:17]
    return first + credit_code_check_char(first)


# --- auth -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("get", "/api/v1/reminders?session_id=a"), ("get", "/api/v1/bookings/SM261201ABCD"),
    ("get", "/api/v1/street-queue/营门口街道"), ("post", "/api/v1/reminders/run"),
])
def test_staff_endpoints_need_the_bearer_token(client, method, path):
    r = getattr(client, method)(path)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = getattr(client, method)(path, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401


# --- licence uploads --------------------------------------------------------------------------------------------

HEADER = ["证照类型", "证照编号", "持证人", "有效期至", "提醒渠道", "联系电话"]


def _licence_rows(n: int = 1000) -> tuple[list[list[str]], dict[int, str]]:
    """n rows, with known bad rows (spreadsheet row number → expected reason) and duplicates."""
    rows, bad = [HEADER], {}
    for i in range(n):
        rownum = i + 2
        exp = (date(2027, 1, 1) + timedelta(days=i % 700)).isoformat()
        row = ["食品经营许可证", f"JY1510106{i:07d}", f"商户{i}", exp, "网页", ""]
        if i % 97 == 5:
            row[3] = "2027年2月30日"
            bad[rownum] = "没有30日"
        elif i % 97 == 11:
            row[3] = "2025-06-01"
            bad[rownum] = "已经到期"
        elif i % 97 == 17:
            row[0] = "驾驶证"
            bad[rownum] = "不在金牛区许可延续提示清单里"
        elif i % 97 == 23:
            row[1] = "JY12"
            bad[rownum] = "编号格式不对"
        elif i % 97 == 29:
            row[2] = ""
            bad[rownum] = "持证人为空"
        elif i % 97 == 31:
            row[5] = "12345"
            bad[rownum] = "联系电话"
        elif i % 97 == 37:
            row[0], row[1] = "烟草证", f"510106{i:06d}"
        rows.append(row)
    return rows, bad


def test_licence_upload_of_1000_rows_keeps_good_rows_and_reports_bad_ones(client):
    rows, bad = _licence_rows(1000)
    rows.append(rows[10][:])            # duplicates of rows 11 and 21 within the file
    rows.append(rows[20][:])
    r = client.post("/api/v1/uploads/licences", headers=AUTH,
                    files={"file": ("licences.csv", _csv(rows), "text/csv")})
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["total"] == 1002
    failed = {f["row"]: " ".join(f["errors"]) for f in rep["failed"]}
    assert set(failed) == set(bad)
    for rownum, needle in bad.items():
        assert needle in failed[rownum], (rownum, failed[rownum])
    assert [d["row"] for d in rep["duplicates"]] == [1002, 1003]
    assert "第 11 行" in rep["duplicates"][0]["errors"][0]
    assert rep["imported"] == 1000 - len(bad)
    # uploading the same file again: every good row is a duplicate now, nothing is lost or doubled
    r2 = client.post("/api/v1/uploads/licences", headers=AUTH,
                     files={"file": ("licences.csv", _csv(rows), "text/csv")})
    rep2 = r2.json()
    assert rep2["imported"] == 0 and rep2["duplicate_count"] == 1000 - len(bad) + 2


def test_licence_upload_xlsx_with_real_date_cells(client):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["许可证类型", "许可证编号", "持证单位", "到期日期"])
    ws.append(["烟草专卖零售许可证", "510106107788", "金牛便利店", datetime(2027, 5, 1)])
    ws.append(["公共场所卫生许可证", "川卫公证字[2023]第510106000123号", "好好洗浴", date(2027, 3, 3)])
    ws.append(["护士证", "2019510012", "李护士", datetime(2027, 2, 1)])       # too short for the format
    ws.append([None, None, None, None])                                        # blank row: ignored
    buf = io.BytesIO()
    wb.save(buf)
    r = client.post("/api/v1/uploads/licences?session_id=firm-42", headers=AUTH,
                    files={"file": ("list.xlsx", buf.getvalue(),
                                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    rep = r.json()
    assert rep["total"] == 3 and rep["imported"] == 2
    assert [f["row"] for f in rep["failed"]] == [4]
    assert "护士执业证书的编号格式不对" in rep["failed"][0]["errors"][0]
    listed = client.get("/api/v1/reminders?session_id=firm-42", headers=AUTH).json()
    assert [x["licence_type"] for x in listed["licences"]] == ["public_place_hygiene", "tobacco_retail"]
    sched = listed["licences"][0]["scheduled"]
    assert [s["offset_days"] for s in sched] == [60, 30, 7] and sched[0]["due_date"] == "2027-01-02"


@pytest.mark.parametrize("name,data,needle", [
    ("a.txt", b"x", "只支持 .csv 和 .xlsx"),
    ("a.csv", b"", "文件是空的"),
    ("a.csv", "证照类型,编号\n食品经营许可证,JY1\n".encode(), "缺少列"),
    ("a.xlsx", b"not a zip", "xlsx 文件打不开"),
])
def test_unusable_files_are_a_clear_400(client, name, data, needle):
    r = client.post("/api/v1/uploads/licences", headers=AUTH, files={"file": (name, data, "application/octet-stream")})
    assert r.status_code == 400 and needle in r.json()["message"]


def test_gbk_csv_from_excel(client):
    text = "证照类型,证照编号,持证人,有效期至\n娱乐经营许可证,510106ABC001,欢唱KTV,2027/08/08\n"
    r = client.post("/api/v1/uploads/licences", headers=AUTH, files={"file": ("k.csv", text.encode("gbk"), "text/csv")})
    assert r.json()["imported"] == 1


# --- new firms ------------------------------------------------------------------------------------------------

def test_credit_code_check_character():
    code = _credit_code(1)
    assert valid_credit_code(code)
    assert not valid_credit_code(code[:17] + ("0" if code[17] != "0" else "1"))


def test_new_firms_are_matched_to_streets_queued_and_welcomed(client):
    addrs = ["金牛区营康西路12号", "抚琴西南路5号", "九里堤中路1号", "蜀汉路88号", "武侯区人民南路1号", "交大路183号"]
    rows = [["企业名称", "统一社会信用代码", "住所", "行业", "成立日期", "会话"]]
    for i, a in enumerate(addrs):
        rows.append([f"测试商贸{i}有限公司", _credit_code(i), a, "零售", "2026-11-20", "firm-chat-1" if i == 0 else ""])
    rows.append(["坏代码公司", "91510106XXXXXXXXXX", "营门口路1号", "餐饮", "2026-11-20", ""])
    rows.append(["未来公司", _credit_code(50), "营门口路2号", "餐饮", "2027-11-20", ""])
    rows.append(["重复公司", _credit_code(2), "九里堤北路3号", "餐饮", "2026-11-20", ""])
    assert client.post("/api/v1/chat", json={"session_id": "firm-chat-1", "text": "你好"}).status_code == 200
    r = client.post("/api/v1/uploads/new-firms", headers=AUTH, files={"file": ("firms.csv", _csv(rows), "text/csv")})
    rep = r.json()
    assert rep["imported"] == 5
    failed = {f["row"]: " ".join(f["errors"]) for f in rep["failed"]}
    assert "不属于金牛区" in failed[6] and "信用代码" in failed[8] and "在今天之后" in failed[9]
    assert rep["duplicates"] == [{"row": 10, "errors": ["与第 4 行重复（同一信用代码）"]}]
    assert rep["by_street"] == {"营门口街道": 1, "抚琴街道": 1, "九里堤街道": 2, "未匹配（区政务大厅）": 1}
    assert rep["unmatched_rows"] == [5] and rep["welcomed"] == 1
    q = client.get("/api/v1/street-queue/九里堤", headers=AUTH).json()
    assert q["street"] == "九里堤街道" and [f["name"] for f in q["firms"]] == ["测试商贸2有限公司", "测试商贸5有限公司"]
    # the firm with a known conversation got a welcome naming its street's service centre
    msgs = client.get("/api/v1/chat/firm-chat-1/messages").json()["messages"]
    assert len(msgs) == 1 and "营门口街道便民服务中心" in msgs[0]["text"]
    fid = q["firms"][0]["id"]
    r = client.patch(f"/api/v1/new-firms/{fid}", headers=AUTH, json={"queue_status": "done", "staff_note": "已对接"})
    assert r.json()["queue_status"] == "done"
    assert len(client.get("/api/v1/street-queue/九里堤街道", headers=AUTH).json()["firms"]) == 1
    assert client.patch("/api/v1/new-firms/99999", headers=AUTH, json={"queue_status": "done"}).status_code == 404


# --- bookings and the street queue ----------------------------------------------------------------------------

def _book(client, street="营门口街道", phone="13812345678"):
    from assistant.preservice.runtime import get_preservice

    pre = get_preservice(client.services)
    return pre.bookings.create(person_name="王秀英（82岁，腿脚不便）", phone=phone, address="营康西路12号3栋2单元501",
                               street=street, matter_name="养老保险定期待遇领取资格认证", matter_code="51201400600004",
                               visit_date=date(2026, 12, 3), half_day="上午", session_id="bk-1")


def test_booking_get_patch_and_street_queue(client, caplog):
    with caplog.at_level(logging.INFO):
        b = _book(client)
    assert "13812345678" not in caplog.text and "3栋2单元501" not in caplog.text   # PII masked in logs
    assert b.phone != "13812345678"                                            # and in the citizen-side view
    r = client.get(f"/api/v1/bookings/{b.number.lower()}", headers=AUTH)
    assert r.status_code == 200 and r.json()["phone"] == "13812345678" and r.json()["status"] == "booked"
    r = client.patch(f"/api/v1/bookings/{b.number}", headers=AUTH, json={"status": "confirmed", "staff_note": "已电话确认"})
    assert r.json()["status"] == "confirmed"
    r = client.patch(f"/api/v1/bookings/{b.number}", headers=AUTH, json={"when": "下周一下午"})
    assert r.json()["visit_date"] == "2026-12-07" and r.json()["half_day"] == "下午"
    assert client.patch(f"/api/v1/bookings/{b.number}", headers=AUTH, json={"when": "周六上午"}).status_code == 422
    assert client.patch(f"/api/v1/bookings/{b.number}", headers=AUTH, json={"status": "lost"}).status_code == 422
    assert client.patch(f"/api/v1/bookings/{b.number}", headers=AUTH,
                        json={"visit_date": "2020-01-01"}).status_code == 422
    q = client.get("/api/v1/street-queue/营门口街道", headers=AUTH).json()
    assert [x["number"] for x in q["bookings"]] == [b.number] and q["service_centre"] == "营门口街道便民服务中心"
    assert client.get("/api/v1/street-queue/西华街道", headers=AUTH).json()["bookings"] == []
    r = client.patch(f"/api/v1/bookings/{b.number}", headers=AUTH, json={"status": "cancelled"})
    assert r.json()["status"] == "cancelled"
    assert client.get("/api/v1/street-queue/营门口街道", headers=AUTH).json()["bookings"] == []
    r = client.patch(f"/api/v1/bookings/{b.number}", headers=AUTH, json={"when": "下周二上午"})
    assert r.status_code == 409
    assert client.get("/api/v1/bookings/SM000000XXXX", headers=AUTH).status_code == 404
    r = client.get("/api/v1/street-queue/春熙路街道", headers=AUTH)
    assert r.status_code == 404 and "营门口街道" in r.json()["message"]


def test_reminders_api_lists_sent_and_scheduled(client, clock):
    from assistant.preservice.runtime import get_preservice

    pre = get_preservice(client.services)
    lt = pre.catalogue.get("entertainment")
    pre.licences.register(licence_type=lt.key, licence_name=lt.name, number="510106ENT001", holder="欢唱KTV",
                          expiry_date=date(2027, 1, 10), session_id="rem-1")
    assert client.post("/api/v1/reminders/run", headers=AUTH).json()["sent"] == 1   # 40 days out: the 60-day one
    body = client.get("/api/v1/reminders?session_id=rem-1", headers=AUTH).json()
    [lic] = body["licences"]
    assert [(x["offset_days"], x["status"]) for x in lic["reminders"]] == [(60, "sent")]
    assert [(x["offset_days"], x["due_date"]) for x in lic["scheduled"]] == [(30, "2026-12-11"), (7, "2027-01-03")]
    assert client.get("/api/v1/reminders?session_id=bad id", headers=AUTH).status_code == 422


def test_phone_call_reminders_are_listed_for_staff(client):
    from assistant.preservice.runtime import get_preservice

    pre = get_preservice(client.services)
    lt = pre.catalogue.get("gas_business")
    pre.licences.register(licence_type=lt.key, licence_name=lt.name, number="川燃经2023001", holder="蓉城燃气",
                          expiry_date=date(2026, 12, 6), channel="none", contact="13912345678")
    assert client.get("/api/v1/reminders/pending", headers=AUTH).json()["count"] == 0
    assert client.post("/api/v1/reminders/run", headers=AUTH).json()["pending"] == 1
    body = client.get("/api/v1/reminders/pending", headers=AUTH).json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["licence"]["contact"] == "13912345678" and item["licence"]["holder"] == "蓉城燃气"
    assert item["reminder"]["offset_days"] == 7 and item["reminder"]["status"] == "pending"
    assert client.get("/api/v1/reminders/pending").status_code == 401


# --- authentication before the body ------------------------------------------------------------------------------

def test_the_staff_token_is_checked_before_an_upload_body_is_read(make_settings, kb):
    """Finding: FastAPI read (and spooled) a multipart upload before the staff check ran, so anyone could make the
    server take in 6 MB per request. Over a real socket: the 401 comes back while the body is still unsent."""
    import socket
    import time as _time

    from assistant.app import create_app
    from tests.conftest import free_port
    from tests.live_stack import _Uvicorn

    port = free_port()
    server = _Uvicorn(create_app(make_settings(port=port, staff_token=TOKEN), kb=kb, load_models=False, rasa=None),
                      port)
    server.start()
    try:
        deadline = _time.monotonic() + 30
        while not server.server.started:
            assert _time.monotonic() < deadline and server.is_alive(), "the app did not start"
            _time.sleep(0.05)
        for auth in (b"", b"Authorization: Bearer wrong\r\n"):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"POST /api/v1/uploads/licences HTTP/1.1\r\nHost: x\r\n" + auth +
                             b"Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 5000000\r\n\r\n"
                             b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n")
                sock.settimeout(5)
                response = sock.recv(65536)  # today's code waited here for the 5 MB that never come
            assert response.startswith(b"HTTP/1.1 401"), response[:200]
    finally:
        server.stop()


def test_an_upload_without_a_file_field_is_a_clear_error(client):
    r = client.post("/api/v1/uploads/licences", headers=AUTH, files={"other": ("a.csv", b"x", "text/csv")})
    assert r.status_code == 422 and "file" in r.json()["message"]
    r = client.post("/api/v1/uploads/new-firms", headers={**AUTH, "Content-Type": "application/json"}, content=b"{}")
    assert r.status_code == 422 and "file" in r.json()["message"]
    broken = {**AUTH, "Content-Type": "multipart/form-data; boundary=XyZ"}
    r = client.post("/api/v1/uploads/new-firms", headers=broken, content=b"--XyZ\r\nnot a part header")
    assert r.status_code == 400 and r.json()["error"] == "bad_upload"
    spec = client.get("/openapi.json").json()["paths"]["/api/v1/uploads/licences"]["post"]
    assert "file" in spec["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
