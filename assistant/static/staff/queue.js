// /staff: the live queue. Tickets arrive through Server-Sent Events (GET /api/v1/tickets/stream); the page never
// needs a reload. Everything is built with createElement/textContent.
(function () {
  "use strict";
  var jxe = window.jxe, el = jxe.el;
  var listEl = document.getElementById("tickets");
  var detailEl = document.getElementById("detail");
  var liveEl = document.getElementById("live");
  var countEl = document.getElementById("count");
  var onlineEl = document.getElementById("online");
  var showClosed = document.getElementById("show-closed");
  var toastEl = document.getElementById("toast");
  var tickets = [], warnAfter = 180, loadedAt = Date.now(), selected = null, current = null;
  var canned = [], places = null, me = null, loadTimer = null;
  var STATUS = {open: "等待回复", answered: "已回复", closed: "已结束"};
  var CHANNELS = {web: "网页", widget: "网站挂件", kiosk: "自助终端", wechat_mp: "微信公众号", miniprogram: "小程序"};
  var PRE = {have: "已有", partial: "差一点", missing: "还差", conditional: "视情况"};

  jxe.nav("tickets");

  function toast(text) {
    toastEl.textContent = text; toastEl.hidden = false;
    window.clearTimeout(toast.t); toast.t = window.setTimeout(function () { toastEl.hidden = true; }, 3000);
  }
  function fail(e) { toast((e && e.message) || "操作失败"); }

  function waitOf(t) {
    var extra = t.status === "open" && t.waiting_s !== undefined ? (Date.now() - loadedAt) / 1000 : 0;
    return (t.waiting_s || 0) + extra;
  }

  // --- the list --------------------------------------------------------------------------------------------
  function load() {
    loadTimer = null;
    return jxe.api("GET", "/api/v1/tickets" + (showClosed.checked ? "?closed=true" : "")).then(function (body) {
      tickets = body.tickets || []; warnAfter = body.warn_after_s || warnAfter; loadedAt = Date.now();
      onlineEl.textContent = "在线专员 " + (body.online || []).length + " 人";
      renderList();
    }).catch(fail);
  }
  function scheduleLoad() { if (!loadTimer) loadTimer = window.setTimeout(load, 50); }

  function renderList() {
    while (listEl.firstChild) listEl.removeChild(listEl.firstChild);
    var waiting = tickets.filter(function (t) { return t.status !== "closed"; }).length;
    countEl.textContent = String(waiting);
    if (!tickets.length) { listEl.appendChild(el("li", "empty", "暂时没有等待中的对话。")); return; }
    var groups = [[0, "我的层级和辖区"], [1, "本层级其他辖区"], [2, "其他层级"]];
    groups.forEach(function (g) {
      var items = tickets.filter(function (t) { return t.priority === g[0]; });
      if (!items.length) return;
      listEl.appendChild(el("li", "group", g[1] + "（" + items.length + "）"));
      items.forEach(function (t) { listEl.appendChild(renderItem(t)); });
    });
  }

  function renderItem(t) {
    var li = el("li", "ticket");
    li.tabIndex = 0;
    li.dataset.id = String(t.id);
    li.setAttribute("role", "button");
    li.setAttribute("aria-label", "工单 " + t.id);
    var late = t.status === "open" && waitOf(t) >= warnAfter;
    if (late) li.classList.add("late");
    if (t.id === selected) li.classList.add("selected");
    var l1 = el("div", "line1");
    l1.appendChild(el("span", "tid", "#" + t.id));
    l1.appendChild(el("span", "matter", (t.matter && t.matter.name) || "（未识别事项）"));
    l1.appendChild(el("span", "badge " + t.status, STATUS[t.status] || t.status));
    li.appendChild(l1);
    var l2 = el("div", "line2");
    l2.appendChild(el("span", null, CHANNELS[t.channel] || t.channel));
    l2.appendChild(el("span", null, t.level + (t.place ? " · " + t.place : "")));
    var w = el("span", "wait", (t.status === "open" ? "已等 " : "等待 ") + jxe.fmtWait(waitOf(t)));
    w.dataset.id = String(t.id);
    l2.appendChild(w);
    if (t.claimed_by) l2.appendChild(el("span", null, "接单：" + t.claimed_by));
    if (t.callback) l2.appendChild(el("span", "badge callback", "待回电"));
    (t.labels || []).forEach(function (x) { l2.appendChild(el("span", "badge", x)); });
    li.appendChild(l2);
    li.addEventListener("click", function () { select(t.id); });
    li.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(t.id); } });
    return li;
  }

  // waiting times tick every second; past the threshold the ticket turns red
  window.setInterval(function () {
    Array.prototype.forEach.call(listEl.querySelectorAll(".wait"), function (w) {
      var t = tickets.find(function (x) { return String(x.id) === w.dataset.id; });
      if (!t || t.status !== "open") return;
      w.textContent = "已等 " + jxe.fmtWait(waitOf(t));
      var li = w.closest(".ticket");
      if (li) li.classList.toggle("late", waitOf(t) >= warnAfter);
    });
  }, 1000);

  // --- live updates ----------------------------------------------------------------------------------------
  function connect() {
    var es = new EventSource("/api/v1/tickets/stream");
    es.addEventListener("hello", function () { liveEl.textContent = "● 实时"; liveEl.classList.add("on"); load(); });
    es.addEventListener("ticket", function (ev) {
      var e = {};
      try { e = JSON.parse(ev.data); } catch (x) { return; }
      scheduleLoad();
      if (e.ticket_id === selected) loadDetail(selected, true);
      if (e.kind === "created") toast("新的求助：工单 #" + e.ticket_id);
    });
    es.onerror = function () { liveEl.textContent = "重新连接中…"; liveEl.classList.remove("on"); };
  }

  // presence: the open page says so every 20 seconds (the stream does too)
  function beat() { jxe.api("POST", "/api/v1/staff/heartbeat").catch(function () { return null; }); }
  window.setInterval(beat, 20000);

  // --- the detail ------------------------------------------------------------------------------------------
  function select(id) {
    selected = id;
    Array.prototype.forEach.call(listEl.querySelectorAll(".ticket"), function (li) {
      li.classList.toggle("selected", li.dataset.id === String(id));
    });
    loadDetail(id, false);
  }

  // what the helper is typing survives the re-renders that live updates cause
  var DRAFTS = ["reply-text", "note-text", "close-summary", "label-input"];
  function loadDetail(id, keepDraft) {
    return jxe.api("GET", "/api/v1/tickets/" + id).then(function (d) {
      if (id !== selected) return;
      var drafts = {}, focused = document.activeElement && document.activeElement.id;
      if (keepDraft) {
        DRAFTS.forEach(function (k) { var e = document.getElementById(k); if (e && e.value) drafts[k] = e.value; });
      }
      current = d;
      renderDetail(d);
      Object.keys(drafts).forEach(function (k) { var e = document.getElementById(k); if (e) e.value = drafts[k]; });
      if (keepDraft && focused && DRAFTS.indexOf(focused) >= 0 && document.getElementById(focused)) {
        document.getElementById(focused).focus();
      }
    }).catch(fail);
  }

  function clearDraft(id) { var e = document.getElementById(id); if (e) e.value = ""; }

  // a button the citizen pressed is stored as its payload ("/request_human{…}"): show what the button said
  var PAYLOADS = {request_human: "转人工", ask_materials: "材料清单", ask_location: "办理地点", ask_time: "办理时限",
                  ask_fee: "收费标准", ask_matter: "选择事项", affirm: "是", deny: "不是"};
  function shown(text) {
    var m = /^\/([a-z_]+)/.exec(text || "");
    return m ? "［按钮］" + (PAYLOADS[m[1]] || m[1]) : text;
  }

  function panel(title) {
    var p = el("section", "panel");
    p.appendChild(el("h3", null, title));
    return p;
  }

  function button(text, cls, fn) {
    var b = el("button", cls, text);
    b.type = "button";
    b.addEventListener("click", function () {
      b.disabled = true;
      Promise.resolve().then(fn).catch(fail).then(function () { b.disabled = false; });
    });
    return b;
  }

  function act(method, path, body, done, draft) {
    return jxe.api(method, "/api/v1/tickets/" + selected + path, body).then(function (r) {
      if (done) toast(done);
      scheduleLoad();
      clearDraft(draft);
      return loadDetail(selected, true).then(function () { clearDraft(draft); return r; });
    });
  }

  function renderDetail(d) {
    var t = d.ticket;
    while (detailEl.firstChild) detailEl.removeChild(detailEl.firstChild);
    var h = el("h2", null, "工单 #" + t.id + " · " + ((t.matter && t.matter.name) || "未识别事项"));
    h.appendChild(document.createTextNode(" "));
    h.appendChild(el("span", "badge " + t.status, STATUS[t.status] || t.status));
    detailEl.appendChild(h);
    var meta = el("div", "meta");
    [CHANNELS[t.channel] || t.channel, t.level + (t.place ? " · " + t.place : ""), "发起 " + jxe.fmtTime(t.created_at),
     (t.first_reply_at ? "首次回复前等待 " : "已等待 ") + jxe.fmtWait(d.waiting_s),
     t.claimed_by ? "接单：" + t.claimed_by : "未接单", t.reason ? "原因：" + t.reason : ""]
      .forEach(function (x) { if (x) meta.appendChild(el("span", null, x)); });
    detailEl.appendChild(meta);

    var closed = t.status === "closed";
    var actions = el("div", "actions");
    if (!closed && t.claimed_by !== (me && me.username)) {
      actions.appendChild(button(t.claimed_by ? "接手" : "接单", "primary", function () {
        return act("POST", "/claim", {force: !!t.claimed_by}, "已接单");
      }));
    }
    if (!closed) {
      var lv = el("select"); lv.id = "transfer-level"; lv.setAttribute("aria-label", "转办层级");
      [["district", "区政务大厅"], ["street", "街道便民服务中心"], ["community", "社区便民服务站"]].forEach(function (o) {
        var op = el("option", null, o[1]); op.value = o[0]; lv.appendChild(op);
      });
      var pl = el("select"); pl.id = "transfer-place"; pl.setAttribute("aria-label", "转办街道或社区");
      function fillPlaces() {
        while (pl.firstChild) pl.removeChild(pl.firstChild);
        var none = el("option", null, "（不限辖区）"); none.value = ""; pl.appendChild(none);
        if (!places || lv.value === "district") return;
        Object.keys(places.streets).forEach(function (s) {
          if (lv.value === "street") { var o = el("option", null, s); o.value = s; pl.appendChild(o); return; }
          places.streets[s].forEach(function (c) { var o = el("option", null, s + " · " + c); o.value = c; pl.appendChild(o); });
        });
      }
      lv.addEventListener("change", fillPlaces); fillPlaces();
      actions.appendChild(lv); actions.appendChild(pl);
      actions.appendChild(button("转办", null, function () {
        return act("POST", "/transfer", {level: lv.value, place: pl.value || null}, "已转办");
      }));
    }
    detailEl.appendChild(actions);

    var cols = el("div", "cols");
    var left = el("div"), right = el("div");
    cols.appendChild(left); cols.appendChild(right);
    detailEl.appendChild(cols);

    // transcript (masked) + reply
    var tp = panel("对话记录（已脱敏）");
    var tr = el("div", "transcript"); tr.setAttribute("role", "log");
    (t.transcript || []).forEach(function (ln) {
      var m = el("div", "msg " + ln.role);
      m.appendChild(el("span", "who", {user: "群众", bot: "金小二", staff: "专员"}[ln.role] || ln.role));
      m.appendChild(document.createTextNode(shown(ln.text)));
      tr.appendChild(m);
    });
    tp.appendChild(tr);
    left.appendChild(tp);
    window.setTimeout(function () { tr.scrollTop = tr.scrollHeight; }, 0);

    if (!closed) {
      var rp = panel("回复群众");
      rp.classList.add("reply");
      var lab = el("label", "sr-only", "回复内容"); lab.htmlFor = "reply-text";
      var ta = el("textarea"); ta.id = "reply-text"; ta.rows = 3; ta.maxLength = 2000;
      ta.placeholder = "输入回复，Ctrl+Enter 发送";
      rp.appendChild(lab); rp.appendChild(ta);
      var row = el("div", "row");
      var cs = el("select"); cs.setAttribute("aria-label", "快捷回复");
      var c0 = el("option", null, "快捷回复…"); c0.value = ""; cs.appendChild(c0);
      canned.forEach(function (c) { var o = el("option", null, c.title); o.value = String(c.id); cs.appendChild(o); });
      cs.addEventListener("change", function () {
        var c = canned.find(function (x) { return String(x.id) === cs.value; });
        if (c) { ta.value = ta.value ? ta.value + "\n" + c.text : c.text; ta.focus(); }
        cs.value = "";
      });
      row.appendChild(cs);
      var send = button("发送回复", "primary", function () {
        var text = ta.value.trim();
        if (!text) { ta.focus(); return null; }
        return act("POST", "/reply", {text: text}, "已发送", "reply-text").then(function () {
          var again = document.getElementById("reply-text"); if (again) again.focus();
        });
      });
      row.appendChild(send);
      if (me && me.role === "admin") {
        row.appendChild(button("编辑快捷回复", null, function () { renderCannedEditor(rp); }));
      }
      rp.appendChild(row);
      ta.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); send.click(); } });
      left.appendChild(rp);

      var cp = panel("结束服务");
      var sl = el("label", "sr-only", "结束小结"); sl.htmlFor = "close-summary";
      var sm = el("textarea"); sm.id = "close-summary"; sm.rows = 2; sm.maxLength = 2000; sm.placeholder = "小结：办了什么、结果如何（必填）";
      cp.appendChild(sl); cp.appendChild(sm);
      var crow = el("div", "actions");
      crow.appendChild(button("结束工单", "danger", function () {
        if (!sm.value.trim()) { sm.focus(); toast("请先写小结"); return null; }
        return act("POST", "/close", {summary: sm.value.trim()}, "工单已结束，已邀请群众评价", "close-summary");
      }));
      cp.appendChild(crow);
      left.appendChild(cp);
    } else {
      var sp = panel("服务小结");
      sp.appendChild(el("p", null, t.summary || "（无）"));
      sp.appendChild(el("p", null, t.rating ? "群众评价：" + "★".repeat(t.rating) + "（" + t.rating + "分）" : "群众尚未评价"));
      left.appendChild(sp);
    }

    // matter card + pre-check
    if (d.matter_card) {
      var mc = panel("事项卡片");
      mc.classList.add("card");
      var dl = el("dl");
      [["事项", d.matter_card.name], ["部门", d.matter_card.department], ["地点", d.matter_card.place],
       ["地址", d.matter_card.address], ["时间", d.matter_card.hours], ["时限", d.matter_card.promised_time_limit],
       ["收费", d.matter_card.fee], ["电话", d.matter_card.consult_phone], ["层级", d.matter_card.level]]
        .forEach(function (f) { if (!f[1]) return; dl.appendChild(el("dt", null, f[0])); dl.appendChild(el("dd", null, f[1])); });
      mc.appendChild(dl);
      right.appendChild(mc);
    }
    if (d.precheck && d.precheck.length) {
      var pc = panel("材料预审（按群众所说）");
      var ul = el("ul", "checks");
      d.precheck.forEach(function (i) {
        var li = el("li");
        li.appendChild(el("span", "st " + i.status, PRE[i.status] || i.status));
        li.appendChild(document.createTextNode(i.name + (i.hint ? " — " + i.hint : "")));
        ul.appendChild(li);
      });
      pc.appendChild(ul);
      right.appendChild(pc);
    }

    // call-backs
    if (d.callbacks && d.callbacks.length) {
      var cb = panel("回电请求");
      d.callbacks.forEach(function (c) {
        var row = el("div", "actions");
        var num = el("span", null, c.phone);
        row.appendChild(num);
        row.appendChild(el("span", "live", jxe.fmtTime(c.at) + (c.done_by ? " · 已回电（" + c.done_by + "）" : "")));
        row.appendChild(button("显示完整号码", null, function () {
          return jxe.api("POST", "/api/v1/tickets/" + t.id + "/callbacks/" + c.id + "/reveal").then(function (r) { num.textContent = r.phone; });
        }));
        if (!c.done_by) row.appendChild(button("标记已回电", null, function () {
          return jxe.api("POST", "/api/v1/tickets/" + t.id + "/callbacks/" + c.id + "/reveal?done=true").then(function () { return loadDetail(t.id, true); });
        }));
        cb.appendChild(row);
      });
      right.appendChild(cb);
    }

    // labels
    var lp = panel("标签");
    var chips = el("div", "labels");
    (t.labels || []).forEach(function (x) {
      var b = button(x + " ×", "badge", function () {
        return act("PUT", "/labels", {labels: t.labels.filter(function (y) { return y !== x; })});
      });
      b.setAttribute("aria-label", "去掉标签 " + x);
      chips.appendChild(b);
    });
    lp.appendChild(chips);
    var li2 = el("input"); li2.id = "label-input"; li2.maxLength = 20; li2.placeholder = "新标签，回车添加";
    li2.setAttribute("aria-label", "新标签");
    li2.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter" || !li2.value.trim()) return;
      ev.preventDefault();
      act("PUT", "/labels", {labels: (t.labels || []).concat([li2.value.trim()])}, null, "label-input").catch(fail);
    });
    lp.appendChild(li2);
    right.appendChild(lp);

    // notes
    var np = panel("内部备注（群众看不到）");
    var nl = el("ul", "notes");
    (d.notes || []).forEach(function (n) { nl.appendChild(el("li", null, jxe.fmtTime(n.at) + " " + n.author + "：" + n.text)); });
    np.appendChild(nl);
    var nl2 = el("label", "sr-only", "备注内容"); nl2.htmlFor = "note-text";
    var nt = el("textarea"); nt.id = "note-text"; nt.rows = 2; nt.maxLength = 2000;
    np.appendChild(nl2); np.appendChild(nt);
    np.appendChild(button("添加备注", null, function () {
      if (!nt.value.trim()) { nt.focus(); return null; }
      return act("POST", "/notes", {text: nt.value.trim()}, "已添加备注", "note-text");
    }));
    right.appendChild(np);
  }

  // admins: add, change and remove canned replies (the list every helper picks from)
  function loadCanned() {
    return jxe.api("GET", "/api/v1/canned").then(function (b) { canned = b.canned || []; });
  }
  function renderCannedEditor(host) {
    var old = document.getElementById("canned-editor");
    if (old) { old.remove(); return; }
    var box = el("div", "panel");
    box.id = "canned-editor";
    box.appendChild(el("h3", null, "快捷回复（管理员）"));
    function field(value, label, rows) {
      var t = el(rows ? "textarea" : "input");
      if (rows) t.rows = rows;
      t.value = value || "";
      t.setAttribute("aria-label", label);
      return t;
    }
    function redraw() {
      while (box.childNodes.length > 1) box.removeChild(box.lastChild);
      canned.forEach(function (c) {
        var r = el("div", "actions");
        var ti = field(c.title, "标题 " + c.title), tx = field(c.text, "内容 " + c.title, 2);
        r.appendChild(ti); r.appendChild(tx);
        r.appendChild(button("保存", null, function () {
          return jxe.api("PUT", "/api/v1/canned/" + c.id, {title: ti.value, text: tx.value})
            .then(loadCanned).then(function () { toast("已保存"); redraw(); });
        }));
        r.appendChild(button("删除", "danger", function () {
          return jxe.api("DELETE", "/api/v1/canned/" + c.id).then(loadCanned).then(redraw);
        }));
        box.appendChild(r);
      });
      var r = el("div", "actions");
      var ti = field("", "新快捷回复标题"), tx = field("", "新快捷回复内容", 2);
      ti.placeholder = "标题"; tx.placeholder = "内容";
      r.appendChild(ti); r.appendChild(tx);
      r.appendChild(button("添加", "primary", function () {
        if (!ti.value.trim() || !tx.value.trim()) { ti.focus(); return null; }
        return jxe.api("POST", "/api/v1/canned", {title: ti.value, text: tx.value}).then(loadCanned).then(redraw);
      }));
      box.appendChild(r);
    }
    redraw();
    host.appendChild(box);
  }

  showClosed.addEventListener("change", load);
  jxe.user().then(function (u) { me = u; });
  loadCanned().catch(function () { return null; });
  jxe.api("GET", "/api/v1/staff/places").then(function (b) { places = b; }).catch(function () { return null; });
  beat();
  load();
  connect();
})();
