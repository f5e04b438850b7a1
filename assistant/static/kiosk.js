/* 金小二 voice kiosk.
 * Microphone (Web Audio, 16 kHz where the browser allows it) → 16-bit PCM frames → WebSocket /ws/kiosk
 * (vosk-server protocol + the assistant's reply) → partial transcript, answer card, spoken answer.
 * 按住说话: hold, speak, release (the release sends {"eof" : 1}; a pause while holding ends nothing: the config says
 * hands_free: false). 点击说话 (hands-free): a short tap starts (and sends {"hands_free": true}); the server's voice
 * activity detector ends the utterance when the visitor stops speaking (or tap again). When the
 * server is unsure what was meant it sends {"confirm": true, "heard", "alternatives"}: the page shows what it
 * heard and the matters as big buttons («您是想问…吗？») with 都不是，重说 / 找工作人员.
 * After 60 s without activity everything is cleared, the visitor's session token too: the first answer of a
 * visitor's conversation carries it (reply.session_token); later WebSockets send it in their first control frame
 * and the buttons' chat requests in X-Session-Token. A kiosk outside the app's origin is given the device key in
 * its start URL (/kiosk?device_key=…), sent on every WebSocket and request. */
(function () {
  "use strict";

  var IDLE_MS = 60000;
  var idleParam = Number(new URLSearchParams(location.search).get("idle_ms"));  // for tests and demos
  if (idleParam >= 1000 && idleParam < IDLE_MS) { IDLE_MS = idleParam; }
  var HOLD_MS = 400;          // a press longer than this is push-to-talk
  var MAX_RECORD_MS = 20000;  // safety stop for tap mode
  var maxParam = Number(new URLSearchParams(location.search).get("max_record_ms"));  // tests on a loaded machine
  if (maxParam >= 5000 && maxParam <= 120000) { MAX_RECORD_MS = maxParam; }

  var $ = function (id) { return document.getElementById(id); };
  var talk = $("talk"), talkLabel = $("talk-label"), statusEl = $("status"), heard = $("heard"),
      partialEl = $("partial"), answer = $("answer");

  var DEVICE_KEY = new URLSearchParams(location.search).get("device_key") || "";

  var state = {
    sessionId: newSessionId(), sessionToken: null, ws: null, recording: false, mode: null, pressAt: 0, stream: null, ctx: null,
    source: null, node: null, pending: [], answered: false, idleTimer: null, maxTimer: null,
    capturedMs: 0,  // microphone audio captured in this utterance (tests hold the button until it is all in)
    events: []   // for tests and debugging: what happened, in order (no audio, no personal data)
  };
  window.__kiosk = state;

  function newSessionId() {
    var rnd = (window.crypto && crypto.getRandomValues) ?
      Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(8)), function (b) {
        return ("0" + b.toString(16)).slice(-2); }).join("") : String(Math.random()).slice(2, 18);
    return "kiosk-" + rnd;
  }

  function newSession() {
    state.sessionId = newSessionId();
    state.sessionToken = null;
  }

  function keepToken(reply) {
    if (reply && reply.session_token) { state.sessionToken = reply.session_token; }
  }

  function setStatus(text, warn) {
    statusEl.textContent = text;
    statusEl.classList.toggle("warn", !!warn);
  }

  function log(kind, data) { state.events.push({ kind: kind, data: data || null, t: Date.now() }); }

  // ---------------------------------------------------------------- idle reset (privacy)
  function touch() {
    clearTimeout(state.idleTimer);
    state.idleTimer = setTimeout(resetAll, IDLE_MS);
  }

  function resetAll() {
    stopCapture();
    closeSocket();
    if (window.speechSynthesis) { speechSynthesis.cancel(); }
    partialEl.textContent = "";
    heard.hidden = true;
    answer.innerHTML = "";
    answer.hidden = true;
    stopStaff();
    newSession();
    state.answered = false;
    setTalk("idle");
    setStatus("请按住下面的大按钮说话，说完松开；也可以点一下再说。");
    log("reset");
  }

  // ---------------------------------------------------------------- speech output
  function speak(text) {
    if (!text || !window.speechSynthesis || !window.SpeechSynthesisUtterance) { return; }
    try {
      speechSynthesis.cancel();
      var u = new SpeechSynthesisUtterance(text);
      u.lang = "zh-CN";
      u.rate = 0.9;
      var voices = speechSynthesis.getVoices() || [];
      for (var i = 0; i < voices.length; i++) {
        if (/^zh(-|_)?CN/i.test(voices[i].lang)) { u.voice = voices[i]; break; }
      }
      speechSynthesis.speak(u);
    } catch (e) { /* no speech output on this kiosk: the text stays on screen */ }
  }

  // ---------------------------------------------------------------- talk button
  function setTalk(mode) {
    talk.classList.toggle("recording", mode === "recording");
    talk.classList.toggle("busy", mode === "busy");
    talkLabel.textContent = mode === "recording" ? (state.mode === "tap" ? "正在听…点一下结束" : "正在听…松开结束")
      : mode === "busy" ? "正在查询…" : "按住说话";
  }

  talk.addEventListener("pointerdown", function (ev) {
    ev.preventDefault();
    touch();
    if (state.recording) {           // a tap while recording in tap mode ends the utterance
      if (state.mode === "tap") { finishUtterance(); }
      return;
    }
    state.pressAt = Date.now();
    state.mode = "hold";
    startUtterance();
  });
  function release(ev) {
    if (!state.recording || state.mode !== "hold") { return; }
    if (Date.now() - state.pressAt < HOLD_MS) {
      state.mode = "tap";            // a short tap: keep listening until the server hears the end
      send(JSON.stringify({ hands_free: true }));
      setTalk("recording");
      setStatus("请说话，说完停一下就好。");
      return;
    }
    finishUtterance();
  }
  talk.addEventListener("pointerup", release);
  talk.addEventListener("pointercancel", release);
  talk.addEventListener("contextmenu", function (ev) { ev.preventDefault(); });
  talk.addEventListener("keydown", function (ev) {      // keyboard: Enter/Space = tap mode
    if ((ev.key === "Enter" || ev.key === " ") && !state.recording) {
      ev.preventDefault(); touch(); state.mode = "tap"; startUtterance();
    }
  });

  // ---------------------------------------------------------------- capture + socket
  function wsUrl() {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + "/ws/kiosk?session=" + encodeURIComponent(state.sessionId) +
      (DEVICE_KEY ? "&device_key=" + encodeURIComponent(DEVICE_KEY) : "");
  }

  function startUtterance() {
    if (window.speechSynthesis) { speechSynthesis.cancel(); }
    state.recording = true;
    state.answered = false;
    state.pending = [];
    state.capturedMs = 0;
    partialEl.textContent = "";
    heard.hidden = false;
    setTalk("recording");
    setStatus("正在听，请说话…");
    log("start", { mode: state.mode });
    var ws = new WebSocket(wsUrl());
    ws.binaryType = "arraybuffer";
    state.ws = ws;
    ws.onopen = function () { flush(); };
    ws.onmessage = function (ev) { onMessage(ev.data); };
    ws.onclose = function (ev) {
      log("close", { code: ev.code, reason: ev.reason });
      if (state.ws === ws) { state.ws = null; }
      if (state.recording) { stopCapture(); }
      if (ev.code === 4401 || ev.code === 4403) { newSession(); }  // the server no longer knows this visitor
      if (ev.code !== 1000 && ev.code !== 1005 && !state.answered) {
        setStatus(ev.code === 1013 ? "语音识别暂时不可用，请到窗口咨询或点“找工作人员帮忙”。" :
          "连接中断了，请再按一次按钮说话。", true);
      }
      setTalk("idle");
    };
    ws.onerror = function () { log("error"); };
    var constraints = { audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } };
    navigator.mediaDevices.getUserMedia(constraints).then(function (stream) {
      if (!state.recording) { stream.getTracks().forEach(function (t) { t.stop(); }); return; }
      state.stream = stream;
      var AC = window.AudioContext || window.webkitAudioContext;
      var ctx;
      try { ctx = new AC({ sampleRate: 16000 }); } catch (e) { ctx = new AC(); }
      state.ctx = ctx;
      // the session token (once the visitor has one) goes first, with the config, before any audio
      // (push-to-talk: only the release ends the utterance, a pause while holding does not)
      var config = { sample_rate: ctx.sampleRate, hands_free: state.mode !== "hold" };
      state.pending.unshift(JSON.stringify({ config: config, session_token: state.sessionToken || undefined }));
      var source = ctx.createMediaStreamSource(stream);
      var node = ctx.createScriptProcessor(4096, 1, 1);
      node.onaudioprocess = function (e) {
        if (!state.recording) { return; }
        var f = e.inputBuffer.getChannelData(0);
        state.capturedMs += 1000 * f.length / e.inputBuffer.sampleRate;
        var pcm = new Int16Array(f.length);
        for (var i = 0; i < f.length; i++) {
          var s = Math.max(-1, Math.min(1, f[i]));
          pcm[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
        }
        send(pcm.buffer);
      };
      source.connect(node);
      node.connect(ctx.destination);
      state.source = source;
      state.node = node;
      flush();
      clearTimeout(state.maxTimer);
      state.maxTimer = setTimeout(function () { if (state.recording) { finishUtterance(); } }, MAX_RECORD_MS);
    }).catch(function (err) {
      log("mic_error", { name: err && err.name });
      state.recording = false;
      closeSocket();
      setTalk("idle");
      setStatus("无法使用麦克风，请点“找工作人员帮忙”。", true);
    });
  }

  function send(data) {
    var ws = state.ws;
    if (ws && ws.readyState === WebSocket.OPEN && state.pending.length === 0) { ws.send(data); }
    else { state.pending.push(data); }
  }

  function flush() {
    var ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) { return; }
    // the config frame must go first: wait until the microphone told us its rate
    if (state.pending.length && typeof state.pending[0] !== "string" && !state.ctx) { return; }
    while (state.pending.length) { ws.send(state.pending.shift()); }
  }

  function stopCapture() {
    state.recording = false;
    clearTimeout(state.maxTimer);
    if (state.node) { try { state.node.disconnect(); } catch (e) {} state.node.onaudioprocess = null; }
    if (state.source) { try { state.source.disconnect(); } catch (e) {} }
    if (state.stream) { state.stream.getTracks().forEach(function (t) { t.stop(); }); }
    if (state.ctx) { try { state.ctx.close(); } catch (e) {} }
    state.node = state.source = state.stream = state.ctx = null;
  }

  function finishUtterance() {
    if (!state.recording) { return; }
    stopCapture();
    setTalk("busy");
    setStatus("正在识别和查询，请稍候…");
    send(JSON.stringify({ eof: 1 }));
    flush();
    log("eof");
  }

  function closeSocket() {
    if (state.ws) { try { state.ws.close(1000); } catch (e) {} state.ws = null; }
  }

  // ---------------------------------------------------------------- server messages
  function onMessage(raw) {
    var msg;
    try { msg = JSON.parse(raw); } catch (e) { return; }
    touch();
    if (typeof msg.partial === "string") {
      if (msg.partial) { partialEl.textContent = msg.partial; log("partial", { text: msg.partial }); }
      return;
    }
    if (msg.error) { log("server_error", msg); return; }
    if (typeof msg.text === "string" && Array.isArray(msg.result)) {
      var shown = msg.corrected || msg.text;
      if (shown) { partialEl.textContent = shown; }
      log("final", { text: msg.text, corrected: msg.corrected });
      if (state.recording) { stopCapture(); }      // tap mode: the server heard the end
      setTalk("busy");
      return;
    }
    if (msg.unclear) {
      log("unclear", { tries: msg.tries });
      setStatus(msg.message, true);
      speak(msg.message);
      if (msg.tries < 2) { finishRound(); }
      return;
    }
    if (msg.confirm) {              // not sure what was meant: show what was heard and ask
      state.answered = true;
      log("confirm", { heard: msg.heard, confidence: msg.confidence,
                       codes: (msg.alternatives || []).map(function (a) { return a.code; }) });
      renderConfirm(msg);
      finishRound();
      return;
    }
    if (msg.reply) {
      state.answered = true;
      keepToken(msg.reply);
      log("reply", { intent: msg.reply.intent, matter: msg.reply.matter, degraded: !!msg.reply.degraded,
                     latency_ms: msg.latency_ms });
      render(msg.reply);
      finishRound();
    }
  }

  function finishRound() {
    setTalk("idle");
    closeSocket();
  }

  // ---------------------------------------------------------------- answer card
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function render(reply) {
    answer.innerHTML = "";
    answer.hidden = false;
    // the matter the answer is about, whichever parts show it (a card, a checklist, where, how long, what it costs)
    answer.setAttribute("data-matter", reply.matter ? reply.matter.code : "");
    var spoken = [];
    var parts = reply.replies || [];
    parts.forEach(function (p) {
      if (p.type === "text" || p.type === "staff") {
        answer.appendChild(el("p", "reply-text", (p.staff_name ? p.staff_name + "：" : "") + p.text));
        spoken.push(p.text);
      } else if (p.type === "notice") {
        answer.appendChild(el("p", "notice", p.text));
      } else if (p.type === "matter_card" && p.matter) {
        var m = p.matter;
        var card = el("div", "matter-card");
        card.setAttribute("data-code", m.code || "");
        card.appendChild(el("h2", "matter-name", m.name));
        var dl = el("dl");
        [["办理部门", m.department], ["办理地点", [m.place, m.address].filter(Boolean).join(" ")],
         ["办公时间", m.hours], ["办理时限", m.promised_time_limit || m.legal_time_limit], ["收费", m.fee],
         ["咨询电话", m.consult_phone]].forEach(function (row) {
          if (row[1]) { dl.appendChild(el("dt", null, row[0])); dl.appendChild(el("dd", null, row[1])); }
        });
        card.appendChild(dl);
        if (!m.verified) { card.appendChild(el("p", "notice", "以上信息仅供参考，请以窗口要求为准。")); }
        answer.appendChild(card);
        spoken.push("您要办的是：" + m.name + "。" + (m.place ? "办理地点：" + m.place + "。" : ""));
      } else if (p.type === "checklist") {
        var pm = p.matter || {};
        answer.appendChild(el("h3", null, pm.name ? "办理「" + pm.name + "」要带的材料" : "要带的材料"));
        var ol = el("ol", "checklist");
        (p.items || []).forEach(function (it) {
          var extra = [it.form, it.copies > 1 ? it.copies + "份" : "", it.requirement === "conditional" ? "视情况" : ""]
            .filter(Boolean).join("，");
          ol.appendChild(el("li", null, it.name + (extra ? "（" + extra + "）" : "") + (it.note ? " — " + it.note : "")));
        });
        answer.appendChild(ol);
        var names = (p.items || []).slice(0, 5).map(function (it) { return it.name; });
        if (names.length) { spoken.push((pm.name ? "办理" + pm.name : "") + "需要带：" + names.join("、") + "。"); }
      } else if (p.type === "buttons") {
        var box = el("div", "choices");
        (p.buttons || []).forEach(function (b) {
          var btn = el("button", null, b.title);
          btn.type = "button";
          btn.setAttribute("data-payload", b.payload);
          btn.addEventListener("click", function () { touch(); sendText(b.payload); });
          box.appendChild(btn);
        });
        answer.appendChild(box);
      } else if (p.type === "handoff" && p.ticket) {
        answer.appendChild(el("div", "handoff", "已为您联系金帮办工作人员（" + (p.ticket.level || "") + "），工单号 " +
          p.ticket.id + "，请在这里稍候。"));
        watchStaff();
        spoken.push("已为您联系工作人员，请稍候。");
      }
    });
    setStatus(reply.matter ? "为您找到：" + reply.matter.name : "请看下面的回答。");
    speak(spoken.join(""));
  }

  // ---------------------------------------------------------------- «您是想问…吗？»
  function renderConfirm(msg) {
    if (msg.heard) { partialEl.textContent = msg.heard; heard.hidden = false; }
    answer.innerHTML = "";
    answer.removeAttribute("data-matter");
    answer.hidden = false;
    var box = el("div", "confirm");
    box.appendChild(el("p", "confirm-q", msg.message || "您是想问下面哪一项吗？"));
    var list = el("div", "confirm-choices");
    (msg.alternatives || []).forEach(function (a) {
      var btn = el("button", "confirm-choice", a.name);
      btn.type = "button";
      btn.setAttribute("data-code", a.code);
      btn.addEventListener("click", function () {
        touch();
        log("choose", { code: a.code });
        sendText(a.payload || a.text);
      });
      list.appendChild(btn);
    });
    box.appendChild(list);
    var row = el("div", "confirm-actions");
    var again = el("button", "confirm-again", "都不是，重说");
    again.type = "button";
    again.addEventListener("click", function () {
      touch(); log("retry"); answer.hidden = true; answer.innerHTML = ""; state.mode = "tap"; startUtterance();
    });
    var staff = el("button", "confirm-staff", "找工作人员");
    staff.type = "button";
    staff.addEventListener("click", function () { touch(); log("staff"); sendText("/request_human"); });
    row.appendChild(again);
    row.appendChild(staff);
    box.appendChild(row);
    answer.appendChild(box);
    var names = (msg.alternatives || []).map(function (a) { return a.name; });
    setStatus("没太听清，请点一下您要办的事。");
    speak("您是想问" + names.join("，还是") + "吗？请点一下，或者重说。");
  }

  // ---------------------------------------------------------------- a helper's replies
  // while a ticket is open the kiosk asks for the helper's messages every 2 s, shows and speaks them
  var staffTimer = null, staffAfter = 0, staffSession = null;
  function watchStaff() {
    if (staffTimer && staffSession === state.sessionId) { return; }
    stopStaff();
    staffSession = state.sessionId;
    staffTimer = setInterval(pollStaff, 2000);
  }
  function stopStaff() {
    if (staffTimer) { clearInterval(staffTimer); }
    staffTimer = null; staffAfter = 0; staffSession = null;
  }
  function pollStaff() {
    var sid = staffSession;
    fetch("/api/v1/chat/" + encodeURIComponent(sid) + "/messages?after=" + staffAfter, { headers: apiHeaders(false) })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || sid !== staffSession) { return; }
        (data.messages || []).forEach(function (m) {
          if (m.id <= staffAfter) { return; }
          staffAfter = m.id;
          answer.hidden = false;
          answer.appendChild(el("p", "reply-text staff", (m.staff_name || "工作人员") + "：" + m.text));
          speak(m.text);
          touch();
        });
        if (!data.handoff) { stopStaff(); }
      }, function () { /* offline: next tick */ });
  }

  // the conversation's token (and the kiosk's device key) go with every request of this visitor
  function apiHeaders(json) {
    var h = json ? { "Content-Type": "application/json" } : {};
    if (state.sessionToken) { h["X-Session-Token"] = state.sessionToken; }
    if (DEVICE_KEY) { h["X-Kiosk-Key"] = DEVICE_KEY; }
    return h;
  }

  function chat(text) {
    return fetch("/api/v1/chat", {
      method: "POST", headers: apiHeaders(true),
      body: JSON.stringify({ session_id: state.sessionId, text: text, metadata: { channel: "kiosk" } })
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (b) { return { res: r, body: b }; });
    });
  }

  function sendText(text) {
    setStatus("正在查询，请稍候…");
    chat(text).then(function (r) {
      if ((r.res.status === 401 || r.res.status === 403) && r.body && /^session_token_/.test(r.body.error || "")) {
        newSession();               // the server no longer knows this visitor: ask in a new conversation
        return chat(text);
      }
      return r;
    }).then(function (r) {
      var reply = r.body;
      keepToken(reply);
      if (r.res.ok && reply && reply.replies) { render(reply); } else { setStatus("查询失败，请再试一次。", true); }
    }).catch(function () { setStatus("网络不通，请到窗口咨询。", true); });
  }

  $("visit").addEventListener("click", function () { touch(); sendText("家里老人行动不便，想预约上门办"); });
  $("helper").addEventListener("click", function () { touch(); sendText("/request_human"); });
  $("restart").addEventListener("click", resetAll);
  document.addEventListener("pointerdown", touch);
  touch();
})();
