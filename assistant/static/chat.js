// 金小二 web chat. Vanilla JS, no build step. Everything shown is built with createElement/textContent
// (never innerHTML), so text from the server, the KB or a staff member can never inject markup.
// The conversation is this browser's: its id and the session token its first answer returned are kept in
// localStorage and the token goes with every request (X-Session-Token). When the server no longer accepts them
// (401/403 session_token_*: a conversation from before tokens, or one that was erased) a new one is started.
(function () {
  "use strict";
  var API = "/api/v1/chat";
  var SESSION_KEY = "jxe_session", TOKEN_KEY = "jxe_session_token";
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("input");
  var sendBtn = document.getElementById("send");
  var statusEl = document.getElementById("status");
  var sessionId = loadSession();
  var sessionToken = load(TOKEN_KEY);
  var lastId = 0;
  var started = false;
  var handoffActive = false;
  var seen = {};
  var pollTimer = null;
  var busy = false;

  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; /* private mode */ }
  }

  function keep(key, value) {
    try {
      if (value) { window.localStorage.setItem(key, value); } else { window.localStorage.removeItem(key); }
    } catch (e) { /* private mode: kept in memory only */ }
  }

  function newSessionId() {
    var rnd = (window.crypto && window.crypto.getRandomValues)
      ? Array.prototype.map.call(window.crypto.getRandomValues(new Uint8Array(12)), function (b) {
          return ("0" + b.toString(16)).slice(-2); }).join("")
      : String(Math.random()).slice(2) + String(Date.now());
    return "web-" + rnd;
  }

  function loadSession() {
    var sid = load(SESSION_KEY);
    if (!sid || !/^[A-Za-z0-9_.:@-]{1,128}$/.test(sid)) {
      sid = newSessionId();
      keep(SESSION_KEY, sid);
      keep(TOKEN_KEY, null);
    }
    return sid;
  }

  // the server does not accept this conversation any more: start a new one
  function restart() {
    sessionId = newSessionId();
    sessionToken = null;
    keep(SESSION_KEY, sessionId);
    keep(TOKEN_KEY, null);
    lastId = 0; started = false; handoffActive = false; seen = {};
    if (pollTimer) { window.clearTimeout(pollTimer); pollTimer = null; }
  }

  function refused(res, body) {
    return (res.status === 401 || res.status === 403) && !!body && /^session_token_/.test(body.error || "");
  }

  function headers(json) {
    var h = json ? {"Content-Type": "application/json"} : {};
    if (sessionToken) h["X-Session-Token"] = sessionToken;
    return h;
  }

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  }

  function row(role) {
    var r = el("div", "row " + role);
    log.appendChild(r);
    return r;
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function setStatus(text) {
    statusEl.hidden = !text;
    statusEl.textContent = text || "";
  }

  function safeLink(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  function renderCard(m) {
    var card = el("section", "card");
    card.setAttribute("aria-label", "事项：" + (m.name || ""));
    var h = el("h2", null, m.name || "");
    if (m.matter_type) h.appendChild(el("span", "tag", m.matter_type));
    if (!m.verified) h.appendChild(el("span", "tag", "仅供参考"));
    card.appendChild(h);
    var dl = el("dl");
    var fields = [["办理部门", m.department], ["办理地点", [m.place, m.address].filter(Boolean).join(" ")],
      ["办公时间", m.hours], ["承诺时限", m.promised_time_limit], ["法定时限", m.legal_time_limit],
      ["收费", m.fee], ["咨询电话", m.consult_phone], ["办理层级", m.level]];
    fields.forEach(function (f) {
      if (!f[1]) return;
      dl.appendChild(el("dt", null, f[0]));
      dl.appendChild(el("dd", null, f[1]));
    });
    var link = safeLink(m.online_link);
    if (link) {
      dl.appendChild(el("dt", null, "网上办理"));
      var dd = el("dd");
      var a = el("a", null, "去政务服务网办理");
      a.href = link; a.target = "_blank"; a.rel = "noopener noreferrer";
      dd.appendChild(a);
      dl.appendChild(dd);
    }
    card.appendChild(dl);
    return card;
  }

  function renderChecklist(part) {
    var card = el("section", "card checklist");
    var name = (part.matter && part.matter.name) || "";
    card.setAttribute("aria-label", "材料清单：" + name);
    card.appendChild(el("h2", null, "材料清单 · " + name));
    var ol = el("ol");
    (part.items || []).forEach(function (it) {
      var li = el("li");
      li.appendChild(el("span", null, it.name || ""));
      var meta = [it.form, it.copies ? it.copies + "份" : ""].filter(Boolean).join("，");
      if (meta) li.appendChild(el("span", "tag", "（" + meta + "）"));
      if (it.requirement === "conditional") li.appendChild(el("span", "cond", "视情况"));
      if (it.note) li.appendChild(el("span", "note", it.note));
      ol.appendChild(li);
    });
    card.appendChild(ol);
    return card;
  }

  function renderButtons(part) {
    var box = el("div", "buttons");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "可选操作");
    (part.buttons || []).forEach(function (b) {
      var btn = el("button", null, b.title || "");
      btn.type = "button";
      btn.addEventListener("click", function () { send(String(b.payload || b.title || ""), b.title || ""); });
      box.appendChild(btn);
    });
    return box;
  }

  function renderHandoff(ticket) {
    handoffActive = ticket && ticket.status !== "closed";
    var text = "已转人工 · 工单号 " + (ticket.id || "") + " · " + (ticket.level || "") +
      " · 状态：" + ({open: "等待专员", answered: "专员已回复", closed: "已结束"}[ticket.status] || ticket.status || "");
    var box = el("div", "handoff", text);
    if (ticket.callback) box.appendChild(renderCallback());
    return box;
  }

  // nobody can answer right now: the citizen may leave a phone number for a call-back
  function renderCallback() {
    var f = el("form", "callback");
    var label = el("label", null, "留个电话，专员回电：");
    var inp = el("input");
    inp.type = "tel"; inp.maxLength = 20; inp.placeholder = "手机号码"; inp.autocomplete = "tel";
    label.appendChild(inp);
    f.appendChild(label);
    var b = el("button", null, "请回电");
    b.type = "submit";
    f.appendChild(b);
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!inp.value.trim()) { inp.focus(); return; }
      b.disabled = true;
      fetch(API + "/" + encodeURIComponent(sessionId) + "/callback", {method: "POST",
        headers: headers(true), body: JSON.stringify({phone: inp.value.trim()})})
        .then(function (res) { return res.json().then(function (body) { return [res, body]; }); })
        .then(function (rb) {
          renderParts([{type: rb[0].ok ? "text" : "notice", text: (rb[1] && rb[1].message) || "提交失败"}]);
          if (rb[0].ok) f.remove(); else b.disabled = false;
        })
        .catch(function () { b.disabled = false; });
    });
    return f;
  }

  // after a helper closed the ticket: 1-5 stars, once
  var ratingAsked = {};
  function renderRating(ticketId) {
    if (ratingAsked[ticketId]) return;
    ratingAsked[ticketId] = true;
    var r = row("bot");
    var box = el("div", "rating");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "为本次人工服务评分");
    box.appendChild(el("span", null, "请为本次人工服务打分："));
    [1, 2, 3, 4, 5].forEach(function (n) {
      var b = el("button", null, n + "分");
      b.type = "button";
      b.addEventListener("click", function () {
        Array.prototype.forEach.call(box.querySelectorAll("button"), function (x) { x.disabled = true; });
        fetch(API + "/" + encodeURIComponent(sessionId) + "/rating", {method: "POST",
          headers: headers(true), body: JSON.stringify({ticket_id: ticketId, rating: n})})
          .then(function (res) { return res.json(); })
          .then(function (body) { box.replaceWith(el("div", "notice", (body && body.message) || "感谢您的评价！")); })
          .catch(function () { /* ignore */ });
      });
      box.appendChild(b);
    });
    r.appendChild(box);
    scroll();
  }

  function renderStaff(text, who) {
    var b = el("div", "bubble staff");
    b.appendChild(el("span", "who", (who || "金帮办专员") + "（人工）"));
    b.appendChild(document.createTextNode(String(text || "")));
    return b;
  }

  function renderParts(parts) {
    var r = row("bot");
    (parts || []).forEach(function (p) {
      if (!p || typeof p !== "object") return;
      switch (p.type) {
        case "text": r.appendChild(el("div", "bubble", p.text)); break;
        case "notice": r.appendChild(el("div", "notice", p.text)); break;
        case "matter_card": if (p.matter) r.appendChild(renderCard(p.matter)); break;
        case "checklist": r.appendChild(renderChecklist(p)); break;
        case "buttons": r.appendChild(renderButtons(p)); break;
        case "handoff": if (p.ticket) r.appendChild(renderHandoff(p.ticket)); break;
        case "staff": r.appendChild(renderStaff(p.text, p.staff_name)); break;
        default: break;
      }
    });
    scroll();
  }

  function errorMessage(res, body) {
    if (body && body.message) return body.message;
    return "网络或服务出错了（" + res.status + "），请稍后再试。";
  }

  function newMessageId() {
    var a = new Uint8Array(12);
    window.crypto.getRandomValues(a);
    return "m-" + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function send(text, shown) {
    if (busy) return;
    var trimmed = (text || "").trim();
    if (!trimmed) { input.focus(); return; }
    busy = true; sendBtn.disabled = true;
    row("user").appendChild(el("div", "bubble", shown || trimmed));
    scroll();
    setStatus("金小二正在查询…");
    turn(trimmed)
      .then(function (r) {
        if (!refused(r.res, r.body)) return r;
        restart();
        renderParts([{type: "notice", text: "之前的对话已经结束，已为您开始新的对话。"}]);
        return turn(trimmed);
      })
      .then(function (r) {
        var res = r.res, body = r.body;
        if (!res.ok) { renderParts([{type: "notice", text: errorMessage(res, body)}]); return; }
        if (body.session_token) { sessionToken = body.session_token; keep(TOKEN_KEY, sessionToken); }
        started = true;
        if (body.message_id && body.message_id > lastId) lastId = body.message_id;
        renderParts(body.replies);
        if (body.handoff) {
          handoffActive = body.handoff.status !== "closed";
          // a helper is coming: look for their reply every few seconds from now on
          if (handoffActive && pollTimer) { window.clearTimeout(pollTimer); pollTimer = null; }
        }
        schedulePoll();
      })
      .catch(function () {
        renderParts([{type: "notice", text: "网络连接失败，请检查网络后重试。"}]);
      })
      .then(function () { busy = false; sendBtn.disabled = false; setStatus(""); input.focus(); });
  }

  // one chat turn → {res, body}; one id per message: if the network drops the answer, the retry gets the same
  // answer, not a second turn
  function turn(text) {
    var body = JSON.stringify({session_id: sessionId, text: text, message_id: newMessageId()});
    var post = function () { return fetch(API, {method: "POST", headers: headers(true), body: body}); };
    return post()
      .catch(function () { return new Promise(function (ok) { window.setTimeout(ok, 1000); }).then(post); })
      .then(function (res) {
        return res.json().catch(function () { return null; }).then(function (b) { return {res: res, body: b}; });
      });
  }

  // while a helper is on the case the page asks every 1.5 s (staff replies show within ~2 s)
  function poll(first) {
    pollTimer = null;
    if ((!started && !first) || !sessionToken) return;  // no conversation of this browser yet
    fetch(API + "/" + encodeURIComponent(sessionId) + "/messages?after=" + lastId, {headers: headers(false)})
      .then(function (res) {
        if (res.ok) return res.json();
        if (res.status === 401 || res.status === 403) restart();  // the conversation is gone
        return null;
      })
      .then(function (body) {
        if (!body) return;
        started = true;  // a conversation exists (also after a page reload)
        (body.messages || []).forEach(function (m) {
          if (seen[m.id]) return;
          seen[m.id] = true;
          var r = row("bot");
          r.appendChild(renderStaff(m.text, m.staff_name));
          if (m.id > lastId) lastId = m.id;
        });
        if (body.messages && body.messages.length) scroll();
        var wasActive = handoffActive;
        handoffActive = !!(body.handoff && body.handoff.status !== "closed");
        if (wasActive && !handoffActive) {
          renderParts([{type: "notice", text: "本次人工服务已结束。还有问题可以继续问金小二，或再次转人工。"}]);
        }
        if (body.rating_request) renderRating(body.rating_request.ticket_id);
      })
      .catch(function () { /* try again later */ })
      .then(schedulePoll);
  }

  function schedulePoll() {
    if (pollTimer || !started) return;
    pollTimer = window.setTimeout(poll, handoffActive ? 1500 : 15000);
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var t = input.value;
    if (!t.trim()) { input.focus(); return; }
    input.value = "";
    send(t);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", {cancelable: true}));
    }
  });

  renderParts([{type: "text", text: "您好！我是金小二，金牛区政务服务智能导办。请问您想办理什么事？"},
    {type: "buttons", buttons: [{title: "个体户营业执照怎么办", payload: "个体户营业执照怎么办"},
      {title: "社保卡补办", payload: "社保卡补办"}, {title: "转人工", payload: "/request_human"}]}]);
  input.focus();
  poll(true);  // after a reload: pick up staff messages of this browser's conversation
})();
