/*!
 * 金小二 hall-website widget — one tag adds the chat bubble to any page:
 *
 *   <script src="https://<app>/widget.js" data-api="https://<app>" data-title="金小二 · 金牛政务服务"></script>
 *
 * Attributes (all optional):
 *   data-api      base URL of the 金小二 app (default: where widget.js was loaded from)
 *   data-title    the panel title (default "金小二 · 政务服务导办")
 *   data-greeting the first message shown
 *   data-poll-ms  how often to look for a human helper's reply after a handoff (default 3000)
 *   data-open     "true" to open the panel on load
 *
 * No framework, no globals besides window.JinXiaoErWidget; the UI lives in a shadow root (styles isolated both
 * ways); every text from the server or the user is inserted with textContent (never as HTML).
 *
 * The conversation id and the session token its first answer returned are kept in the host page's localStorage;
 * the token goes with every request (X-Session-Token). When the server refuses them (401/403 session_token_*)
 * the widget starts a new conversation.
 */
(function () {
  "use strict";
  if (window.JinXiaoErWidget) { return; }

  var script = document.currentScript || (function () {
    var all = document.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) {
      if (/widget\.js(\?|$)/.test(all[i].src)) { return all[i]; }
    }
    return null;
  })();
  var ds = (script && script.dataset) || {};
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var API = (ds.api || scriptOrigin).replace(/\/+$/, "");
  var TITLE = ds.title || "金小二 · 政务服务导办";
  var GREETING = ds.greeting || "您好！我是金牛区政务服务智能导办金小二。请问您想办理什么事？比如“开个小卖部要办啥证”。";
  var POLL_MS = Math.max(300, parseInt(ds.pollMs || "3000", 10) || 3000);
  var SESSION_KEY = "jxe-widget-session", TOKEN_KEY = "jxe-widget-token";

  function newSessionId() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return "w-" + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function keep(key, value) {
    try {
      if (value) { localStorage.setItem(key, value); } else { localStorage.removeItem(key); }
    } catch (e) { /* storage blocked: kept in memory only */ }
  }
  var sessionId = null, sessionToken = null;
  try {
    sessionId = localStorage.getItem(SESSION_KEY);
    sessionToken = localStorage.getItem(TOKEN_KEY);
  } catch (e) { /* storage blocked */ }
  if (!sessionId || !/^[A-Za-z0-9_.:@-]{1,128}$/.test(sessionId)) { restart(); }

  // a new conversation (first load, or the server no longer accepts the old one)
  function restart() {
    sessionId = newSessionId();
    sessionToken = null;
    keep(SESSION_KEY, sessionId);
    keep(TOKEN_KEY, null);
  }

  // ---- DOM helpers (text only) ---------------------------------------------------------------------------
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text !== undefined && text !== null) { n.textContent = String(text); }
    return n;
  }
  function safeUrl(u) {
    try {
      var url = new URL(String(u), location.href);
      return (url.protocol === "https:" || url.protocol === "http:") ? url.href : null;
    } catch (e) { return null; }
  }

  var CSS = [
    ":host{all:initial;font-family:-apple-system,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;",
    "  font-size:15px;line-height:1.5;color:#1f2329;}",
    "*{box-sizing:border-box;}",
    ".bubble{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;",
    "  border:none;background:#c8102e;color:#fff;font-size:15px;font-weight:600;cursor:pointer;",
    "  box-shadow:0 4px 14px rgba(0,0,0,.25);font-family:inherit;}",
    ".bubble:focus-visible,button:focus-visible,a:focus-visible,textarea:focus-visible{outline:3px solid #ffb300;",
    "  outline-offset:2px;}",
    ".bubble .dot{position:absolute;top:4px;right:4px;width:12px;height:12px;border-radius:50%;background:#ffb300;",
    "  display:none;}",
    ".bubble.unread .dot{display:block;}",
    ".panel{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:380px;max-width:calc(100vw - 16px);",
    "  height:600px;max-height:calc(100vh - 110px);background:#fff;border-radius:12px;display:flex;",
    "  flex-direction:column;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden;}",
    ".panel[hidden]{display:none;}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;max-height:100%;",
    "  border-radius:0;}.bubble{right:12px;bottom:12px;}}",
    "header{background:#c8102e;color:#fff;padding:10px 12px;display:flex;align-items:center;gap:8px;}",
    "header h2{flex:1;margin:0;font-size:16px;font-weight:600;}",
    "header button{background:transparent;border:none;color:#fff;font-size:22px;cursor:pointer;line-height:1;",
    "  padding:4px 8px;}",
    ".log{flex:1;overflow-y:auto;padding:12px;background:#f5f6f7;}",
    ".msg{margin:8px 0;display:flex;flex-direction:column;}",
    ".msg.user{align-items:flex-end;}",
    ".msg .b{max-width:88%;padding:8px 12px;border-radius:10px;white-space:pre-wrap;word-break:break-word;}",
    ".msg.user .b{background:#c8102e;color:#fff;}",
    ".msg.bot .b{background:#fff;border:1px solid #e4e6e8;}",
    ".msg.staff .b{background:#fff7e0;border:1px solid #f0c36d;}",
    ".who{font-size:12px;color:#8a6d1f;margin-bottom:2px;}",
    ".notice{background:#fff4e5;border:1px solid #ffd591;color:#7a4b00;}",
    ".card{background:#fff;border:1px solid #e4e6e8;border-radius:10px;padding:10px 12px;max-width:92%;}",
    ".card h3{margin:0 0 6px;font-size:15px;}",
    ".card dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:2px 8px;font-size:13px;}",
    ".card dt{color:#646a73;} .card dd{margin:0;word-break:break-word;}",
    ".badge{display:inline-block;font-size:11px;background:#fff4e5;color:#ad6800;border-radius:4px;padding:0 6px;",
    "  margin-left:6px;vertical-align:middle;}",
    ".card a{color:#1456f0;}",
    ".card ol{margin:4px 0 0;padding-left:22px;font-size:13px;}",
    ".card li{margin:3px 0;} .card .cond{color:#ad6800;} .card .note{color:#646a73;}",
    ".btns{display:flex;flex-wrap:wrap;gap:6px;max-width:92%;}",
    ".btns button{border:1px solid #c8102e;background:#fff;color:#c8102e;border-radius:16px;padding:4px 12px;",
    "  font-size:13px;cursor:pointer;font-family:inherit;}",
    ".fb{display:flex;gap:4px;margin-top:2px;font-size:12px;color:#8f959e;align-items:center;}",
    ".fb button{border:none;background:transparent;cursor:pointer;font-size:15px;padding:2px 4px;border-radius:4px;}",
    ".fb button[aria-pressed=true]{background:#e8f3ff;}",
    ".typing{padding:4px 14px;font-size:13px;color:#646a73;background:#f5f6f7;}",
    ".typing[hidden]{display:none;}",
    ".typing i{display:inline-block;width:6px;height:6px;margin:0 1px;border-radius:50%;background:#8f959e;",
    "  animation:jxeb 1s infinite;}",
    ".typing i:nth-child(2){animation-delay:.2s}.typing i:nth-child(3){animation-delay:.4s}",
    "@keyframes jxeb{0%,80%,100%{opacity:.3}40%{opacity:1}}",
    "form{display:flex;gap:8px;padding:8px;border-top:1px solid #e4e6e8;background:#fff;}",
    "textarea{flex:1;resize:none;height:40px;max-height:96px;border:1px solid #d0d3d6;border-radius:8px;",
    "  padding:8px;font:inherit;}",
    "form button{border:none;background:#c8102e;color:#fff;border-radius:8px;padding:0 16px;font:inherit;",
    "  cursor:pointer;}",
    "form button:disabled{opacity:.5;cursor:default;}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;}"
  ].join("\n");

  // ---- build the UI --------------------------------------------------------------------------------------
  var host = el("div");
  host.id = "jinxiaoer-widget";
  var root = host.attachShadow({ mode: "open" });
  // A constructed stylesheet is not an inline <style>: the widget keeps its look on host pages whose
  // Content-Security-Policy forbids inline styles (金小二's own pages do). Older browsers get the <style>.
  var sheet = null;
  try {
    if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    }
  } catch (e) { sheet = null; }
  if (!sheet) {
    var style = el("style");
    style.textContent = CSS;
    root.appendChild(style);
  }

  var bubble = el("button", "bubble", "咨询");
  bubble.type = "button";
  bubble.setAttribute("aria-label", "打开金小二在线咨询");
  bubble.setAttribute("aria-expanded", "false");
  bubble.setAttribute("aria-controls", "jxe-panel");
  bubble.appendChild(el("span", "dot"));

  var panel = el("section", "panel");
  panel.id = "jxe-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", TITLE);
  var header = el("header");
  var h2 = el("h2", null, TITLE);
  var closeBtn = el("button", "close", "×");
  closeBtn.type = "button";
  closeBtn.setAttribute("aria-label", "关闭咨询窗口");
  header.appendChild(h2);
  header.appendChild(closeBtn);
  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "对话记录");
  var typing = el("div", "typing");
  typing.hidden = true;
  typing.appendChild(el("span", null, "金小二正在输入"));
  typing.appendChild(el("i"));
  typing.appendChild(el("i"));
  typing.appendChild(el("i"));
  var form = el("form");
  var label = el("label", "sr", "输入您要咨询的问题");
  label.htmlFor = "jxe-input";
  var input = el("textarea");
  input.id = "jxe-input";
  input.placeholder = "请输入您要办的事，按回车发送";
  input.maxLength = 500;
  input.setAttribute("aria-label", "输入您要咨询的问题");
  var sendBtn = el("button", null, "发送");
  sendBtn.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(sendBtn);
  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  root.appendChild(bubble);
  root.appendChild(panel);

  // ---- behaviour -----------------------------------------------------------------------------------------
  var busy = false, greeted = false, turn = 0, lastStaffId = 0, pollTimer = null, handoffOpen = false;

  function scroll() { log.scrollTop = log.scrollHeight; }
  function add(node) { log.appendChild(node); scroll(); return node; }

  function open() {
    panel.hidden = false;
    bubble.setAttribute("aria-expanded", "true");
    bubble.classList.remove("unread");
    if (!greeted) {
      greeted = true;
      addBot([{ type: "text", text: GREETING }], null, true);
      poll();  // a handoff from before a page reload: show the helper's messages and keep listening
    }
    input.focus();
  }
  function close() {
    panel.hidden = true;
    bubble.setAttribute("aria-expanded", "false");
    bubble.focus();
  }
  bubble.addEventListener("click", function () { panel.hidden ? open() : close(); });
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.preventDefault(); close(); } });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });

  function submit() {
    var text = input.value.trim();
    if (!text || busy) { return; }
    input.value = "";
    send(text, text);
  }

  function addUser(text) {
    var m = el("div", "msg user");
    m.appendChild(el("div", "b", text));
    add(m);
  }

  function renderCard(mt) {
    var card = el("div", "card matter-card");
    var h = el("h3", null, mt.name || "办事事项");
    if (mt.verified === false) { h.appendChild(el("span", "badge", "仅供参考")); }
    card.appendChild(h);
    var dl = el("dl");
    var rows = [["办理部门", mt.department], ["事项类型", mt.matter_type], ["办理地点", mt.place],
                ["地址", mt.address], ["办公时间", mt.hours],
                ["办理时限", mt.promised_time_limit || mt.legal_time_limit], ["收费", mt.fee],
                ["咨询电话", mt.consult_phone]];
    rows.forEach(function (r) {
      if (r[1]) { dl.appendChild(el("dt", null, r[0])); dl.appendChild(el("dd", null, r[1])); }
    });
    var link = safeUrl(mt.online_link);
    if (link) {
      dl.appendChild(el("dt", null, "在线办理"));
      var dd = el("dd");
      var a = el("a", null, "前往政务服务网办理");
      a.href = link; a.target = "_blank"; a.rel = "noopener noreferrer";
      dd.appendChild(a);
      dl.appendChild(dd);
    }
    card.appendChild(dl);
    return card;
  }

  function renderChecklist(part) {
    var card = el("div", "card checklist");
    card.appendChild(el("h3", null, ((part.matter && part.matter.name) || "") + " · 材料清单"));
    var items = Array.isArray(part.items) ? part.items : [];
    if (!items.length) { card.appendChild(el("div", "note", "暂无详细材料清单，请咨询窗口或转人工。")); }
    var ol = el("ol");
    items.forEach(function (it) {
      if (!it || typeof it !== "object") { return; }
      var li = el("li");
      li.appendChild(el("span", "name", it.name || ""));
      var detail = [it.form, it.copies ? it.copies + "份" : ""].filter(Boolean).join("，");
      if (detail) { li.appendChild(el("span", null, "（" + detail + "）")); }
      if (it.requirement === "conditional") {
        li.appendChild(el("span", "cond", " 视情况：" + (it.note || "按实际情况提供")));
      } else if (it.note) {
        li.appendChild(el("span", "note", " " + it.note));
      }
      ol.appendChild(li);
    });
    card.appendChild(ol);
    return card;
  }

  function renderButtons(part) {
    var box = el("div", "btns");
    (part.buttons || []).forEach(function (b) {
      if (!b || !b.title) { return; }
      var btn = el("button", null, b.title);
      btn.type = "button";
      btn.addEventListener("click", function () { send(b.payload || b.title, b.title); });
      box.appendChild(btn);
    });
    return box;
  }

  function partText(p) {
    if (p.type === "text" || p.type === "notice" || p.type === "staff") { return p.text || ""; }
    if (p.type === "matter_card") { return "[事项] " + ((p.matter && p.matter.name) || ""); }
    if (p.type === "checklist") { return "[材料清单] " + ((p.matter && p.matter.name) || ""); }
    return "";
  }

  function addBot(parts, resp, noFeedback) {
    var m = el("div", "msg bot");
    var texts = [];
    (parts || []).forEach(function (p) {
      if (!p || typeof p !== "object") { return; }
      var t = partText(p);
      if (t) { texts.push(t); }
      if (p.type === "text") { m.appendChild(el("div", "b", p.text)); }
      else if (p.type === "notice") { m.appendChild(el("div", "b notice", p.text)); }
      else if (p.type === "matter_card" && p.matter) { m.appendChild(renderCard(p.matter)); }
      else if (p.type === "checklist") { m.appendChild(renderChecklist(p)); }
      else if (p.type === "buttons") { m.appendChild(renderButtons(p)); }
      else if (p.type === "handoff" && p.ticket) {
        m.appendChild(el("div", "b notice", "已转接金帮办专员（" + (p.ticket.level || "区政务大厅") + "），工单号 "
          + p.ticket.id + "。专员回复会显示在这里。"));
        startPolling();
      } else if (p.type === "staff") { addStaff(p.text, p.staff_name); }
    });
    if (!noFeedback) { m.appendChild(feedbackBar(resp, texts.join("\n"))); }
    add(m);
  }

  function feedbackBar(resp, answerText) {
    turn += 1;
    var ref = String((resp && resp.message_id) || ("t" + turn));
    var bar = el("div", "fb");
    bar.appendChild(el("span", null, "有帮助吗？"));
    var status = el("span", "sr");
    status.setAttribute("aria-live", "polite");
    [["up", "👍", "有帮助"], ["down", "👎", "没帮助"]].forEach(function (r) {
      var b = el("button", "fb-" + r[0], r[1]);
      b.type = "button";
      b.setAttribute("aria-label", r[2]);
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", function () {
        bar.querySelectorAll("button").forEach(function (x) { x.setAttribute("aria-pressed", "false"); });
        b.setAttribute("aria-pressed", "true");
        post("/api/v1/feedback", {
          session_id: sessionId, message_ref: ref, rating: r[0], answer_text: answerText.slice(0, 4000),
          matter_code: (resp && resp.matter && resp.matter.code) || null, channel: "widget"
        }).then(function () { status.textContent = "谢谢您的反馈"; },
                function () { status.textContent = "反馈提交失败"; });
      });
      bar.appendChild(b);
    });
    bar.appendChild(status);
    return bar;
  }

  function addStaff(text, name) {
    var m = el("div", "msg staff");
    m.appendChild(el("div", "who", name || "金帮办专员"));
    m.appendChild(el("div", "b", text));
    add(m);
    if (panel.hidden) { bubble.classList.add("unread"); }
  }

  // after a helper closed the ticket: 1-5 buttons, once per ticket
  var rated = {};
  function askRating(ticketId) {
    if (rated[ticketId]) { return; }
    rated[ticketId] = true;
    var m = el("div", "msg bot");
    m.appendChild(el("div", "b", "本次人工服务已结束，请为专员打分："));
    var box = el("div", "btns");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "为本次人工服务评分");
    [1, 2, 3, 4, 5].forEach(function (n) {
      var btn = el("button", null, n + "分");
      btn.type = "button";
      btn.addEventListener("click", function () {
        Array.prototype.forEach.call(box.querySelectorAll("button"), function (x) { x.disabled = true; });
        post("/api/v1/chat/" + encodeURIComponent(sessionId) + "/rating", { ticket_id: ticketId, rating: n })
          .then(function (r) { box.replaceWith(el("div", "b", (r && r.message) || "感谢您的评价！")); },
                function () { /* already rated or offline */ });
      });
      box.appendChild(btn);
    });
    m.appendChild(box);
    add(m);
  }

  function headers(json) {
    var h = json ? { "Content-Type": "application/json" } : {};
    if (sessionToken) { h["X-Session-Token"] = sessionToken; }
    return h;
  }

  // a conversation the server no longer accepts (401/403 session_token_*) is an error with .refused set
  function post(path, body) {
    return fetch(API + path, {
      method: "POST", headers: headers(true), body: JSON.stringify(body), credentials: "omit", mode: "cors"
    }).then(function (r) {
      if (r.ok) { return r.json(); }
      return r.json().catch(function () { return null; }).then(function (b) {
        var err = new Error("HTTP " + r.status);
        err.refused = (r.status === 401 || r.status === 403) && !!b && /^session_token_/.test(b.error || "");
        throw err;
      });
    });
  }

  function chat(payload) {
    return post("/api/v1/chat", { session_id: sessionId, text: payload, metadata: { channel: "widget" } })
      .then(function (resp) {
        if (resp.session_token) { sessionToken = resp.session_token; keep(TOKEN_KEY, sessionToken); }
        return resp;
      });
  }

  function send(payload, shown) {
    if (busy) { return; }
    busy = true;
    sendBtn.disabled = true;
    addUser(shown);
    typing.hidden = false;
    scroll();
    chat(payload)
      .catch(function (err) {
        if (!err.refused) { throw err; }
        restart();                  // the old conversation is gone: ask again in a new one
        stopPolling();
        return chat(payload);
      })
      .then(function (resp) {
        addBot(resp.replies || [], resp, false);
        if (resp.handoff) { startPolling(); }
      }, function () {
        addBot([{ type: "notice", text: "网络好像出了点问题，请稍后再试，或拨打政务服务热线 12345。" }], null, true);
      })
      .then(function () {
        busy = false; sendBtn.disabled = false; typing.hidden = true;
        if (!panel.hidden) { input.focus(); }
      });
  }

  function startPolling() {
    handoffOpen = true;
    if (pollTimer) { return; }
    pollTimer = setInterval(poll, POLL_MS);
  }
  function stopPolling() {
    handoffOpen = false;
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }
  function poll() {
    if (!sessionToken) { return; }  // no conversation of this page yet
    fetch(API + "/api/v1/chat/" + encodeURIComponent(sessionId) + "/messages?after=" + lastStaffId,
          { credentials: "omit", mode: "cors", headers: headers(false) })
      .then(function (r) {
        if (r.ok) { return r.json(); }
        if (r.status === 401 || r.status === 403) { stopPolling(); }  // the conversation is gone
        return null;
      })
      .then(function (data) {
        if (!data) { return; }
        var msgs = Array.isArray(data) ? data : (data.messages || []);
        msgs.forEach(function (msg) {
          if (typeof msg.id === "number" && msg.id <= lastStaffId) { return; }
          if (typeof msg.id === "number") { lastStaffId = msg.id; }
          addStaff(msg.text, msg.staff_name);
        });
        if (typeof data.last_id === "number") { lastStaffId = Math.max(lastStaffId, data.last_id); }
        if (!Array.isArray(data) && data.handoff && !pollTimer) { startPolling(); }
        if (!Array.isArray(data) && data.rating_request) { askRating(data.rating_request.ticket_id); }
        if (!Array.isArray(data) && data.handoff === null && !msgs.length && handoffOpen) {
          stopPolling();  // ticket closed
        }
      }, function () { /* offline: try again next tick */ });
  }

  function mount() {
    document.body.appendChild(host);
    if (ds.open === "true") { open(); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }

  window.JinXiaoErWidget = { open: open, close: close, sessionId: function () { return sessionId; } };
})();
