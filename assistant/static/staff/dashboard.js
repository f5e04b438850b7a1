// 数据看板: the figures of GET /api/v1/stats drawn with the vendored ECharts (no inline script; CSP-clean).
// Each chart's series carry an `id` (a channel, an outcome, a street …) so the numbers can be read back with
// echarts.getInstanceByDom(...).getOption() and compared with the API.
(function () {
  "use strict";
  var CHANNELS = {web: "网页", widget: "网站组件", kiosk: "自助终端", wechat_mp: "微信公众号", wechat: "微信",
                  miniprogram: "小程序"};
  var OUTCOMES = {matter: "给出事项", clarify: "请其选择", fallback: "未能理解", handoff: "转人工", other: "其他",
                  unknown: "未记录"};
  var COLORS = ["#2468f2", "#c0392b", "#0b8a5f", "#e6a23c", "#8e44ad", "#16a2b8", "#7f8c8d"];
  var charts = {};
  var el = function (tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  };

  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, {renderer: "canvas"});
    return charts[id];
  }

  function dayList(from, to) {
    var out = [], d = new Date(from + "T00:00:00Z"), end = new Date(to + "T00:00:00Z");
    while (d <= end) { out.push(d.toISOString().slice(0, 10)); d.setUTCDate(d.getUTCDate() + 1); }
    return out;
  }

  function pct(x) { return (Math.round(x * 1000) / 10) + "%"; }
  function secs(s) { return s === null || s === undefined ? "—" : (window.jxe && jxe.fmtWait ? jxe.fmtWait(s) : Math.round(s) + "秒"); }

  function kpi(box, key, label, value, shown, sub) {
    var k = el("div", "kpi");
    k.setAttribute("data-kpi", key);
    k.setAttribute("data-value", value === null || value === undefined ? "" : String(value));
    k.appendChild(el("div", "label", label));
    k.appendChild(el("div", "value", shown));
    if (sub) k.appendChild(el("div", "sub", sub));
    box.appendChild(k);
  }

  function base(extra) {
    var o = {color: COLORS, animation: false, tooltip: {trigger: "axis", renderMode: "richText"},
             grid: {left: 40, right: 12, top: 30, bottom: 28, containLabel: true},
             legend: {top: 0, type: "scroll"}};
    for (var k in extra) o[k] = extra[k];
    return o;
  }

  function perDay(stats, field) {
    var days = dayList(stats.from, stats.to);
    var series = stats.channels.map(function (ch) {
      var byDay = {};
      stats.per_day.forEach(function (r) { if (r.channel === ch) byDay[r.day] = r[field]; });
      return {id: ch, name: CHANNELS[ch] || ch, type: "bar", stack: "all",
              data: days.map(function (d) { return byDay[d] || 0; })};
    });
    return base({xAxis: {type: "category", data: days.map(function (d) { return d.slice(5); })},
                 yAxis: {type: "value", minInterval: 1}, series: series});
  }

  function draw(stats) {
    document.getElementById("range").textContent = stats.from + " 至 " + stats.to;
    var box = document.getElementById("kpis");
    while (box.firstChild) box.removeChild(box.firstChild);
    var sat = stats.satisfaction, pre = stats.preservice;
    kpi(box, "sessions", "会话数", stats.sessions, stats.sessions);
    kpi(box, "turns", "提问轮次", stats.turns, stats.turns);
    kpi(box, "matter_rate", "给出事项的比例", stats.matter_rate, pct(stats.matter_rate), stats.answered_with_matter + " 轮");
    kpi(box, "fallback_rate", "未能理解率", stats.fallback_rate, pct(stats.fallback_rate), stats.fallbacks + " 轮");
    kpi(box, "handoff_rate", "转人工率", stats.handoff_rate, pct(stats.handoff_rate), stats.handoffs + " 张工单");
    kpi(box, "waiting_avg_s", "平均等待（至首次回复）", stats.waiting.avg_s, secs(stats.waiting.avg_s),
        "当前未回复 " + stats.waiting.unanswered_now);
    kpi(box, "handling_avg_s", "平均处理时长", stats.handling.avg_s, secs(stats.handling.avg_s), stats.handling.closed + " 张已结");
    kpi(box, "avg_rating", "满意度（1–5）", sat.avg_rating, sat.avg_rating === null ? "—" : sat.avg_rating,
        "👍 " + sat.thumbs_up + " · 👎 " + sat.thumbs_down);
    kpi(box, "reminders_sent", "证照提醒已发送", pre.reminders_sent, pre.reminders_sent, "待电话 " + pre.reminders_to_phone);
    kpi(box, "visits_booked", "上门服务预约", pre.visits_booked, pre.visits_booked);
    kpi(box, "firms_pushed", "新设企业推送", pre.firms_pushed, pre.firms_pushed,
        "已报到 " + pre.firms_acknowledged + " · 上报区级 " + pre.firms_escalated);

    chart("chart-conversations").setOption(perDay(stats, "conversations"), true);
    chart("chart-turns").setOption(perDay(stats, "turns"), true);

    var outcomes = Object.keys(stats.outcomes).map(function (k) {
      return {id: k, name: OUTCOMES[k] || k, value: stats.outcomes[k]};
    });
    chart("chart-outcomes").setOption({color: COLORS, animation: false, tooltip: {trigger: "item", renderMode: "richText"},
      legend: {top: 0, type: "scroll"},
      series: [{id: "outcomes", type: "pie", radius: ["35%", "65%"], top: 24, data: outcomes,
                label: {formatter: "{b}: {c}"}}]}, true);

    var matters = stats.top_matters.slice().reverse();
    chart("chart-matters").setOption(base({legend: {show: false}, grid: {left: 8, right: 24, top: 8, bottom: 8, containLabel: true},
      xAxis: {type: "value", minInterval: 1},
      yAxis: {type: "category", data: matters.map(function (m) { return m.name.length > 14 ? m.name.slice(0, 14) + "…" : m.name; })},
      series: [{id: "top_matters", name: "轮次", type: "bar", data: matters.map(function (m) { return m.turns; })}]}), true);

    chart("chart-ratings").setOption(base({legend: {show: false},
      xAxis: {type: "category", data: ["1", "2", "3", "4", "5"].map(function (k) { return k + "分"; })},
      yAxis: {type: "value", minInterval: 1},
      series: [{id: "ratings", name: "评分数", type: "bar",
                data: ["1", "2", "3", "4", "5"].map(function (k) { return sat.distribution[k]; })}]}), true);

    var visits = pre.visits_by_street;
    chart("chart-visits").setOption(base({
      xAxis: {type: "category", data: visits.map(function (v) { return v.street.replace("街道", ""); })},
      yAxis: {type: "value", minInterval: 1},
      series: [{id: "booked", name: "预约", type: "bar", data: visits.map(function (v) { return v.booked; })},
               {id: "done", name: "已上门", type: "bar", data: visits.map(function (v) { return v.done; })}]}), true);

    var firms = pre.firms_by_street;
    chart("chart-firms").setOption(base({
      xAxis: {type: "category", data: firms.map(function (f) { return f.street ? f.street.replace("街道", "") : "未匹配"; })},
      yAxis: {type: "value", minInterval: 1},
      series: [{id: "pushed", name: "推送", type: "bar", data: firms.map(function (f) { return f.pushed; })},
               {id: "acknowledged", name: "已报到", type: "bar", data: firms.map(function (f) { return f.acknowledged; })},
               {id: "escalated", name: "逾期上报", type: "bar", data: firms.map(function (f) { return f.escalated; })}]}), true);

    var list = document.getElementById("unanswered");
    while (list.firstChild) list.removeChild(list.firstChild);
    if (!stats.top_unanswered.length) list.appendChild(el("li", "empty", "没有未能回答的问题"));
    stats.top_unanswered.forEach(function (u) {
      var li = el("li", null, u.text);
      li.setAttribute("data-count", String(u.count));
      li.appendChild(el("span", "count", "×" + u.count));
      list.appendChild(li);
    });
  }

  function load() {
    var days = document.getElementById("days").value;
    document.getElementById("csv").href = "/api/v1/stats.csv?days=" + encodeURIComponent(days);
    var main = document.getElementById("dash"), err = document.getElementById("error");
    main.setAttribute("aria-busy", "true");
    return jxe.api("GET", "/api/v1/stats?days=" + encodeURIComponent(days)).then(function (stats) {
      err.classList.add("hidden");
      draw(stats);
      main.setAttribute("data-days", days);
      main.setAttribute("aria-busy", "false");
    }).catch(function (e) {
      err.textContent = "数据加载失败：" + e.message;
      err.classList.remove("hidden");
      main.setAttribute("aria-busy", "false");
    });
  }

  jxe.nav("dashboard");
  document.getElementById("days").addEventListener("change", load);
  window.addEventListener("resize", function () { for (var k in charts) charts[k].resize(); });
  load();
})();
