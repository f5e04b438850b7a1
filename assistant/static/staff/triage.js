/* 待学习 (/staff/triage): groups of questions 金小二 got wrong or was unsure of; a helper teaches each one a matter,
   an intent, or "not a government matter". Uses window.jxe from common.js. No inline script (CSP). */
(function () {
  "use strict";
  var list = document.getElementById("triage-list");
  var tpl = document.getElementById("triage-item");
  var status = document.getElementById("triage-status");
  var summary = document.getElementById("triage-summary");
  var sortSel = document.getElementById("triage-sort");
  var intents = [];
  var reasons = {};

  function say(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  function when(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString("zh-CN", {hour12: false});
  }

  function teach(group, body, li) {
    var buttons = li.querySelectorAll("button, select, input");
    buttons.forEach(function (b) { b.disabled = true; });
    say("正在检查并上线…");
    return jxe.api("POST", "/api/v1/triage/" + group.id + "/resolve", body).then(function (out) {
      say("已学会：「" + group.text + "」等 " + out.items + " 条 → " + out.label_name +
          "（留出集 " + out.check.candidate + "/" + out.check.total + " 正确，约一分钟内各服务生效）", "ok");
      li.remove();
      load(false);
    }).catch(function (err) {
      buttons.forEach(function (b) { b.disabled = false; });
      var msg = (err && err.body && err.body.message) || (err && err.message) || "出错了";
      say(msg, "error");
      if (err && err.status === 409) { load(false); }
    });
  }

  function matterSearch(group, li) {
    var input = li.querySelector(".matter-search");
    var box = li.querySelector(".matter-options");
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (!q) { box.textContent = ""; return; }
        jxe.api("GET", "/api/v1/triage/options?q=" + encodeURIComponent(q)).then(function (out) {
          box.textContent = "";
          out.matters.forEach(function (m) {
            var b = document.createElement("button");
            b.type = "button";
            b.className = "matter-option";
            b.setAttribute("role", "option");
            b.dataset.code = m.code;
            b.textContent = m.name + "（" + m.code + "）";
            b.addEventListener("click", function () {
              box.textContent = "";
              teach(group, {matter_code: m.code}, li);
            });
            box.appendChild(b);
          });
        }).catch(function (err) { say(err.message || "搜索失败", "error"); });
      }, 250);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && box.firstChild) { e.preventDefault(); box.firstChild.focus(); }
      if (e.key === "Escape") { box.textContent = ""; }
    });
  }

  function render(group) {
    var li = tpl.content.firstElementChild.cloneNode(true);
    li.dataset.groupId = group.id;
    li.querySelector(".triage-count").textContent = group.count;
    li.querySelector(".triage-text").textContent = group.text;
    var rs = li.querySelector(".triage-reasons");
    Object.keys(group.reasons).forEach(function (r) {
      var s = document.createElement("span");
      s.textContent = (reasons[r] || r) + (group.reasons[r] > 1 ? " ×" + group.reasons[r] : "");
      rs.appendChild(s);
    });
    var pred = li.querySelector(".triage-predicted");
    var predicted = li.querySelector(".resolve-predicted");
    if (group.predicted_matter) {
      pred.textContent = "金小二猜的：" + group.predicted_matter.name + "（" + group.predicted_matter.code + "）";
      predicted.textContent = "就是「" + group.predicted_matter.name + "」";
      predicted.addEventListener("click", function () {
        teach(group, {matter_code: group.predicted_matter.code}, li);
      });
    } else {
      pred.textContent = "金小二没找到事项";
      predicted.hidden = true;
    }
    li.querySelector(".triage-seen").textContent = "最近：" + when(group.last_seen);
    var ul = li.querySelector(".triage-examples ul");
    group.examples.forEach(function (t) {
      var e = document.createElement("li");
      e.textContent = t;
      ul.appendChild(e);
    });
    if (group.status === "held") {
      li.classList.add("held");
      var h = li.querySelector(".triage-held");
      h.hidden = false;
      h.textContent = group.message;
    }
    var sel = li.querySelector(".intent-select");
    intents.forEach(function (i) {
      var o = document.createElement("option");
      o.value = i;
      o.textContent = i;
      sel.appendChild(o);
    });
    li.querySelector(".resolve-intent").addEventListener("click", function () {
      if (!sel.value) { say("请先选一个意图", "error"); sel.focus(); return; }
      teach(group, {intent: sel.value}, li);
    });
    li.querySelector(".resolve-oos").addEventListener("click", function () {
      teach(group, {out_of_scope: true}, li);
    });
    matterSearch(group, li);
    return li;
  }

  function load(clear) {
    if (clear) { say(""); }
    return jxe.api("GET", "/api/v1/triage?sort=" + sortSel.value).then(function (out) {
      reasons = out.reasons || {};
      list.textContent = "";
      out.items.forEach(function (g) { list.appendChild(render(g)); });
      summary.textContent = out.total ? "共 " + out.total + " 组、" + out.open_items + " 条待学习" : "没有待学习的问题 🎉";
      document.body.dataset.loaded = "1";
    }).catch(function (err) { say(err.message || "加载失败", "error"); });
  }

  sortSel.addEventListener("change", function () { load(true); });
  document.getElementById("triage-reload").addEventListener("click", function () { load(true); });
  jxe.nav("triage");
  jxe.api("GET", "/api/v1/triage/options").then(function (out) { intents = out.intents; }).finally(function () {
    load(true);
  });
})();
