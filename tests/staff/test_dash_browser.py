"""The dashboard and the pre-service desk in real headless Chromium against a live app: the charts ECharts draws
carry exactly the numbers of ``GET /api/v1/stats`` (read back with ``echarts.getInstanceByDom(...).getOption()``);
a street helper confirms, reschedules and completes a visit and acknowledges a new firm with the keyboard/mouse;
no Content-Security-Policy violation. Screenshots (1366×768) go to docs/img/ for docs/staff.md."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT, free_port
from tests.staff.dash_data import NOW, PHONE, STREET_A, seed

pytestmark = pytest.mark.browser
TOKEN = "dash-browser-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DOC_IMG = REPO_ROOT / "docs" / "img"


class _Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def dash_app(make_settings, kb):
    import uvicorn

    from assistant.app import create_app
    from assistant.preservice.runtime import set_clock

    port = free_port()
    app = create_app(make_settings(port=port, staff_token=TOKEN), kb=kb, load_models=False)
    services = app.state.services
    services.preservice_scheduler = False
    set_clock(services, _Clock(NOW))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.05)
    seed(services, kb)
    yield f"http://127.0.0.1:{port}", services, app
    server.should_exit = True
    thread.join(timeout=20)


#: Every chart's option as drawn: ``{chart id: {"x": first x-axis data, "y": first y-axis data, "series":
#: [{"id", "data"}]}}``.
READ_CHARTS = """() => {
  const out = {};
  for (const node of document.querySelectorAll('.chart')) {
    const inst = echarts.getInstanceByDom(node);
    if (!inst) { out[node.id] = null; continue; }
    const o = inst.getOption();
    out[node.id] = {
      x: o.xAxis && o.xAxis[0] ? o.xAxis[0].data || null : null,
      y: o.yAxis && o.yAxis[0] ? o.yAxis[0].data || null : null,
      series: o.series.map(s => ({id: s.id, data: s.data.map(
        d => (d !== null && typeof d === 'object') ? {id: d.id, value: d.value} : d)})),
    };
  }
  return out;
}"""


def _days(stats: dict) -> list[str]:
    from datetime import date, timedelta

    d, end, out = date.fromisoformat(stats["from"]), date.fromisoformat(stats["to"]), []
    while d <= end:
        out.append(d.isoformat())
        d += timedelta(days=1)
    return out


def _check_charts_match(charts: dict, stats: dict) -> None:
    days = _days(stats)
    for chart_id, field in (("chart-turns", "turns"), ("chart-conversations", "conversations")):
        c = charts[chart_id]
        assert c["x"] == [d[5:] for d in days]
        assert [s["id"] for s in c["series"]] == stats["channels"]
        for s in c["series"]:
            want = {r["day"]: r[field] for r in stats["per_day"] if r["channel"] == s["id"]}
            assert s["data"] == [want.get(d, 0) for d in days], (chart_id, s["id"])
        assert sum(sum(s["data"]) for s in c["series"]) == (stats["turns"] if field == "turns" else
                                                           sum(r["conversations"] for r in stats["per_day"]))
    pie = charts["chart-outcomes"]["series"][0]["data"]
    assert {p["id"]: p["value"] for p in pie} == stats["outcomes"]
    matters = charts["chart-matters"]
    assert matters["series"][0]["data"] == [m["turns"] for m in reversed(stats["top_matters"])]
    assert len(matters["y"]) == len(stats["top_matters"])
    assert charts["chart-ratings"]["series"][0]["data"] == [stats["satisfaction"]["distribution"][k] for k in "12345"]
    pre = stats["preservice"]
    visits = {s["id"]: s["data"] for s in charts["chart-visits"]["series"]}
    assert visits == {"booked": [v["booked"] for v in pre["visits_by_street"]],
                      "done": [v["done"] for v in pre["visits_by_street"]]}
    firms = {s["id"]: s["data"] for s in charts["chart-firms"]["series"]}
    assert firms == {k: [f[k] for f in pre["firms_by_street"]] for k in ("pushed", "acknowledged", "escalated")}


def _kpis(page) -> dict[str, str]:
    return page.eval_on_selector_all("[data-kpi]",
                                     "ns => Object.fromEntries(ns.map(n => [n.dataset.kpi, n.dataset.value]))")


def test_dashboard_draws_the_numbers_of_the_stats_api(dash_app, page_factory, staff_user, staff_browser_login):
    base, _, app = dash_app
    page = page_factory(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    staff_browser_login(page, base, staff_user("district", None, "agent", target=app, username="li"),
                        "/staff/dashboard")
    page.wait_for_selector("#dash[aria-busy=false][data-days='7']")
    stats = httpx.get(base + "/api/v1/stats?days=7", headers=AUTH).json()
    assert stats["turns"] == 7  # the seeded week, not an empty page
    charts = page.evaluate(READ_CHARTS)
    assert all(charts.values()), charts
    _check_charts_match(charts, stats)
    k = _kpis(page)
    assert int(k["turns"]) == stats["turns"] and int(k["sessions"]) == stats["sessions"]
    assert float(k["fallback_rate"]) == stats["fallback_rate"] and float(k["handoff_rate"]) == stats["handoff_rate"]
    assert float(k["matter_rate"]) == stats["matter_rate"]
    assert float(k["waiting_avg_s"]) == stats["waiting"]["avg_s"]
    assert float(k["avg_rating"]) == stats["satisfaction"]["avg_rating"]
    assert int(k["firms_pushed"]) == stats["preservice"]["firms_pushed"]
    items = page.eval_on_selector_all("#unanswered li",
                                      "ns => ns.map(n => [n.firstChild.textContent, +n.dataset.count])")
    assert items == [[u["text"], u["count"]] for u in stats["top_unanswered"]]
    assert PHONE not in page.content()
    DOC_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOC_IMG / "staff-dashboard.png"))

    # another range: the page asks again and redraws with the new numbers; the CSV link follows
    page.select_option("#days", "30")
    page.wait_for_selector("#dash[aria-busy=false][data-days='30']")
    stats30 = httpx.get(base + "/api/v1/stats?days=30", headers=AUTH).json()
    assert stats30["turns"] == 8
    _check_charts_match(page.evaluate(READ_CHARTS), stats30)
    assert int(_kpis(page)["turns"]) == 8
    assert page.get_attribute("#csv", "href") == "/api/v1/stats.csv?days=30"
    assert errors == [] and page.evaluate("window.__csp") == []


def test_desk_in_the_browser_confirm_reschedule_done_acknowledge(dash_app, page_factory, staff_user,
                                                                 staff_browser_login):
    base, services, app = dash_app
    # a street helper of 西安路街道 logs in through the login page
    page = page_factory(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    staff_browser_login(page, base, staff_user("street", STREET_A, "agent", target=app, username="wang"),
                        "/staff/desk")
    page.wait_for_selector("#desk[aria-busy=false]")
    row = page.locator("#bookings tr[data-number='SM2611300000']")
    assert "张**" in row.inner_text() and PHONE not in page.content()
    assert page.locator("#bookings tbody tr").count() == 1  # only this street's open booking
    DOC_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOC_IMG / "staff-desk.png"))

    row.locator("button.confirm").click()
    page.wait_for_selector("#bookings tr[data-number='SM2611300000'] [data-status='confirmed']")
    row.locator("button.reschedule-open").click()
    row.locator("input[type=date]").fill("2026-12-07")
    row.locator("select").select_option("下午")
    row.locator("button.save").press("Enter")  # keyboard works
    page.wait_for_selector("#bookings tr[data-number='SM2611300000'] .when:text-is('2026-12-07 下午')")
    row.locator("button.contact-open").click()
    page.wait_for_selector("#bookings tr[data-number='SM2611300000'] .contact")
    assert PHONE in row.inner_text()
    row.locator("button.done").click()
    row.wait_for(state="detached")
    assert services.preservice.bookings.get("SM2611300000", any_session=True).status == "done"

    firm = page.locator("#firms tr", has_text="西安路小超市")
    assert "逾期，已上报区级" in firm.inner_text()
    firm.locator("button.ack").click()
    firm.locator(".badge.ok").wait_for()
    assert "已报到" in firm.inner_text() and "曾逾期上报" in firm.inner_text()
    assert errors == [] and page.evaluate("window.__csp") == []


def test_anonymous_visit_goes_to_login(dash_app, page_factory):
    base, _, _ = dash_app
    page = page_factory(viewport={"width": 1366, "height": 768})
    for path in ("/staff/dashboard", "/staff/desk"):
        r = httpx.get(base + path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/staff/login")
        page.goto(base + path)
        assert Path(page.url.split("?")[0]).name == "login"
        assert r.headers["location"] == "/staff/login?next=" + path.replace("/", "%2F") or \
            r.headers["location"] == "/staff/login?next=" + path
