// 预服务工作台: a street's home-visit bookings, new firms (吹哨报到) and licences due (GET /api/v1/desk).
(function () {
  "use strict";
  var STATUS = {booked: "待确认", confirmed: "已确认", done: "已上门", cancelled: "已取消"};
  var REM = {sent: "已送达", pending: "需电话", failed: "发送失败", skipped: "已跳过", claimed: "发送中"};
  var state = {data: null};
  var el = function (tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  };

  function fmt(iso) {
    if (!iso) return "";
    return window.jxe && jxe.fmtTime ? jxe.fmtTime(iso) : iso.replace("T", " ").slice(0, 16);
  }

  function showError(e) {
    var err = document.getElementById("error");
    err.textContent = e ? (e.message || String(e)) : "";
    err.classList.toggle("hidden", !e);
  }

  function button(text, cls, onClick) {
    var b = el("button", cls, text);
    b.type = "button";
    b.addEventListener("click", function () {
      b.disabled = true;
      Promise.resolve(onClick()).catch(showError).then(function () { b.disabled = false; });
    });
    return b;
  }

  function body(id) {
    var tb = document.querySelector("#" + id + " tbody");
    while (tb.firstChild) tb.removeChild(tb.firstChild);
    return tb;
  }

  function td(tr, text, cls) { var c = el("td", cls, text); tr.appendChild(c); return c; }

  function act(path, payload) {
    return jxe.api("POST", path, payload).then(function () { showError(null); return load(); });
  }

  function bookingRow(b) {
    var tr = el("tr");
    tr.setAttribute("data-number", b.number);
    td(tr, b.number);
    td(tr, b.person_name + (b.person_note ? "（" + b.person_note + "）" : ""));
    td(tr, b.matter_name);
    td(tr, b.visit_date + " " + b.half_day, "when");
    var where = td(tr, b.address + " · " + b.phone, "where");
    var st = td(tr, "");
    st.appendChild(el("span", "badge " + (b.status === "done" ? "ok" : b.status === "booked" ? "warn" : ""),
                      STATUS[b.status] || b.status));
    st.setAttribute("data-status", b.status);
    td(tr, b.staff_note || "");
    var a = td(tr, "", "actions");
    var path = "/api/v1/desk/bookings/" + encodeURIComponent(b.number);
    var open = b.status === "booked" || b.status === "confirmed";
    if (b.status === "booked") a.appendChild(button("确认", "primary confirm", function () { return act(path + "/confirm"); }));
    if (open) {
      var form = el("span", "reschedule hidden");
      var date = el("input");
      date.type = "date";
      date.setAttribute("aria-label", "新的上门日期");
      date.value = b.visit_date;
      var half = el("select");
      half.setAttribute("aria-label", "上午或下午");
      ["上午", "下午"].forEach(function (h) { var o = el("option", null, h); o.value = h; half.appendChild(o); });
      half.value = b.half_day;
      form.appendChild(date);
      form.appendChild(half);
      form.appendChild(button("保存", "primary save", function () {
        return act(path + "/reschedule", {visit_date: date.value, half_day: half.value});
      }));
      a.appendChild(button("改期", "reschedule-open", function () { form.classList.toggle("hidden"); date.focus(); }));
      a.appendChild(button("已上门", "done", function () { return act(path + "/done"); }));
      a.appendChild(form);
    }
    a.appendChild(button("联系方式", "contact-open", function () {
      return jxe.api("GET", path + "/contact").then(function (c) {
        where.textContent = "";
        where.appendChild(el("span", "contact", c.person_name + " · " + c.address + " · " + c.phone));
      });
    }));
    return tr;
  }

  function firmRow(f) {
    var tr = el("tr");
    tr.setAttribute("data-firm", String(f.id));
    td(tr, f.name + (f.street ? "" : "（未匹配街道）"));
    td(tr, f.industry);
    td(tr, f.address);
    td(tr, fmt(f.pushed_at));
    td(tr, fmt(f.ack_deadline));
    var st = td(tr, "");
    var badge;
    if (f.acknowledged_at) badge = el("span", "badge ok", "已报到 " + fmt(f.acknowledged_at) + (f.acknowledged_by ? " · " + f.acknowledged_by : ""));
    else if (f.escalated_at) badge = el("span", "badge late", "逾期，已上报区级");
    else if (f.overdue) badge = el("span", "badge late", "已逾期");
    else badge = el("span", "badge warn", "待报到");
    st.appendChild(badge);
    if (f.acknowledged_at && f.escalated_at) st.appendChild(el("span", "badge late", "曾逾期上报"));
    var a = td(tr, "", "actions");
    if (!f.acknowledged_at) {
      a.appendChild(button("报到", "primary ack", function () { return act("/api/v1/desk/firms/" + f.id + "/acknowledge"); }));
    }
    return tr;
  }

  function licenceRow(l) {
    var tr = el("tr");
    td(tr, l.licence_name);
    td(tr, l.number);
    td(tr, l.holder);
    td(tr, l.expiry_date);
    td(tr, l.days_left + " 天");
    var r = td(tr, "");
    if (l.to_phone) r.appendChild(el("span", "badge late", "需电话"));
    l.reminders.forEach(function (x) {
      r.appendChild(el("span", "badge", "提前" + x.offset_days + "天 " + (REM[x.status] || x.status)));
    });
    td(tr, l.contact || "");
    return tr;
  }

  function fill(id, rows, make, empty) {
    var tb = body(id);
    document.getElementById("n-" + id).textContent = rows.length + " 条";
    if (!rows.length) {
      var tr = el("tr"), c = el("td", "empty", empty);
      c.colSpan = document.querySelectorAll("#" + id + " thead th").length;
      tr.appendChild(c);
      tb.appendChild(tr);
    }
    rows.forEach(function (r) { tb.appendChild(make(r)); });
  }

  function load() {
    var main = document.getElementById("desk");
    var sel = document.getElementById("street");
    var q = [];
    if (sel.value) q.push("street=" + encodeURIComponent(sel.value));
    if (document.getElementById("closed").checked) q.push("include_closed=true");
    main.setAttribute("aria-busy", "true");
    return jxe.api("GET", "/api/v1/desk" + (q.length ? "?" + q.join("&") : "")).then(function (d) {
      state.data = d;
      if (d.user.level === "district" && sel.options.length === 0) {
        var all = el("option", null, "全部街道");
        all.value = "";
        sel.appendChild(all);
        d.streets.forEach(function (s) { var o = el("option", null, s); o.value = s; sel.appendChild(o); });
        sel.classList.remove("hidden");
        document.getElementById("street-label").classList.remove("hidden");
      }
      document.getElementById("where").textContent = (d.street || "全区") + " · 今天 " + d.today +
        " · 新设企业须在推送后 " + d.ack_hours + " 小时内报到";
      fill("bookings", d.bookings, bookingRow, "没有待办的上门服务预约");
      fill("firms", d.firms, firmRow, "没有待报到的新设企业");
      fill("licences", d.licences, licenceRow, "60 天内没有到期的证照");
      main.setAttribute("aria-busy", "false");
    }).catch(function (e) { showError(e); main.setAttribute("aria-busy", "false"); });
  }

  jxe.nav("desk");
  document.getElementById("street").addEventListener("change", load);
  document.getElementById("closed").addEventListener("change", load);
  load();
})();
