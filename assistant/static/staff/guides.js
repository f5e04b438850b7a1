// /staff/guides: search and open any matter, edit its guide (admins), verify, revert, import/export a matter list.
// Built with createElement/textContent only; talks to /api/v1/guides (see assistant/api/guides.py).
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var state = {code: null, detail: null, choices: null, canEdit: false};
  var REQ = {required: "必需", conditional: "视情况"};
  var ACTIONS = {edit: "修改", verify: "核实", revert: "恢复", "import": "导入"};

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  }
  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }
  function csrf() {
    var m = document.cookie.match(/(?:^|; )jxe_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function when(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    var p = function (x) { return (x < 10 ? "0" : "") + x; };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  // like jxe.api, but an HTTP error resolves with its body (the editor shows the checks' issues)
  function request(method, path, body, form) {
    var headers = {"Accept": "application/json"};
    if (method !== "GET") headers["X-CSRF-Token"] = csrf();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {method: method, headers: headers, credentials: "same-origin",
                        body: form || (body !== undefined ? JSON.stringify(body) : undefined)})
      .then(function (res) {
        return res.text().then(function (t) {
          var data = null;
          try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
          if (res.status === 401) window.location.assign("/staff/login?next=" + encodeURIComponent(location.pathname + location.hash));
          return {status: res.status, ok: res.ok, data: data || {}};
        });
      });
  }

  // --- search ---------------------------------------------------------------------------------------------------
  function search(q) {
    return request("GET", "/api/v1/guides?limit=50&q=" + encodeURIComponent(q || "")).then(function (r) {
      var list = $("results");
      clear(list);
      if (!r.ok) { list.appendChild(el("li", "error", r.data.message || "查找失败")); return; }
      state.choices = r.data.choices;
      setCanEdit(r.data.can_edit);
      if (!r.data.matters.length) list.appendChild(el("li", "empty", "没有找到。换个说法试试。"));
      r.data.matters.forEach(function (m) {
        var li = el("li");
        var b = el("button", null, m.name);
        b.type = "button";
        b.dataset.code = m.code;
        if (m.code === state.code) b.setAttribute("aria-current", "true");
        if (m.verified) b.appendChild(el("span", "tag", "已核实"));
        if (m.edited) b.appendChild(el("span", "tag edited", "已修改"));
        b.appendChild(el("span", "code", m.code + (m.department ? " · " + m.department : "")));
        b.addEventListener("click", function () { open(m.code); });
        li.appendChild(b);
        list.appendChild(li);
      });
    });
  }

  function setCanEdit(can) {
    state.canEdit = !!can;
    document.body.classList.toggle("readonly", !state.canEdit);
    $("readonly-note").classList.toggle("hidden", state.canEdit);
  }

  // --- the editor -----------------------------------------------------------------------------------------------
  function input(value, field, type) {
    var i = el("input");
    i.type = type || "text";
    i.value = value === undefined || value === null ? "" : value;
    i.dataset.field = field;
    i.disabled = !state.canEdit;
    return i;
  }
  function select(options, value, field, labels) {
    var s = el("select");
    options.forEach(function (o) {
      var opt = el("option", null, labels ? labels[o] || o : o);
      opt.value = o;
      if (o === value) opt.selected = true;
      s.appendChild(opt);
    });
    s.dataset.field = field;
    s.disabled = !state.canEdit;
    return s;
  }
  function removeButton(tr, what) {
    var b = el("button", "danger admin-only", "删");
    b.type = "button";
    b.setAttribute("aria-label", "删除这一" + what);
    b.addEventListener("click", function () { tr.parentNode.removeChild(tr); renumber(); });
    return b;
  }
  function cell(tr, node, label) {
    var td = el("td");
    if (label) node.setAttribute("aria-label", label);
    td.appendChild(node);
    tr.appendChild(td);
  }

  function materialRow(m) {
    var tr = el("tr");
    tr.dataset.aliases = JSON.stringify(m.aliases || []);
    cell(tr, input(m.name, "name"), "材料名称");
    cell(tr, select(state.choices.form, m.form || "原件", "form"), "形式");
    var c = input(m.copies === undefined ? 1 : m.copies, "copies", "number");
    c.min = "0";
    cell(tr, c, "份数");
    cell(tr, select(state.choices.requirement, m.requirement || "required", "requirement", REQ), "要求");
    cell(tr, input(m.note, "note"), "说明");
    cell(tr, removeButton(tr, "项材料"));
    return tr;
  }
  function placeRow(p) {
    var tr = el("tr");
    cell(tr, input(p.name, "name"), "地点");
    cell(tr, select(state.choices.level, p.level || "区政务大厅", "level"), "层级");
    cell(tr, input(p.address, "address"), "地址");
    cell(tr, input(p.hours, "hours"), "办理时间");
    cell(tr, input(p.phone, "phone"), "电话");
    cell(tr, input(p.window, "window"), "窗口");
    cell(tr, removeButton(tr, "个地点"));
    return tr;
  }
  // data-path = "materials.<i>.<field>" so an issue's field can be pointed at
  function renumber() {
    ["materials", "places"].forEach(function (key) {
      var rows = $(key).tBodies[0].rows;
      for (var i = 0; i < rows.length; i++) {
        rows[i].querySelectorAll("[data-field]").forEach(function (n) { n.dataset.path = key + "." + i + "." + n.dataset.field; });
      }
    });
  }

  function fill(d) {
    state.detail = d;
    state.code = d.matter.code;
    state.choices = d.choices;
    setCanEdit(d.can_edit);
    var m = d.matter;
    $("empty").classList.add("hidden");
    $("editor").classList.remove("hidden");
    $("ed-title").textContent = m.name;
    $("ed-code").textContent = m.code;
    $("ed-dept").textContent = m.department || "—";
    $("ed-version").textContent = d.version ? "v" + d.version : "指南文件版";
    $("ed-edited").classList.toggle("hidden", !d.edited);
    var v = $("ed-verified");
    if (d.verification) {
      v.className = "verified yes";
      v.textContent = "✔ 已核实" + (d.verification.by ? "：" + d.verification.by + "，" + when(d.verification.at) : "（指南文件）") +
        "；依据：" + (d.verification.source || "");
    } else {
      v.className = "verified no";
      v.textContent = "未核实（群众看到「仅供参考」）";
    }
    ["name", "fee", "legal_time_limit", "promised_time_limit", "online_link", "consult_phone"].forEach(function (f) {
      var i = $("f-" + f);
      i.value = m[f] || "";
      i.disabled = !state.canEdit;
      i.dataset.path = f;
    });
    ["conditions", "related"].forEach(function (f) {
      var t = $("f-" + f);
      t.value = (m[f] || []).join("\n");
      t.disabled = !state.canEdit;
      t.dataset.path = f;
    });
    var mb = $("materials").tBodies[0], pb = $("places").tBodies[0];
    clear(mb); clear(pb);
    m.materials.forEach(function (x) { mb.appendChild(materialRow(x)); });
    m.places.forEach(function (x) { pb.appendChild(placeRow(x)); });
    renumber();
    var h = $("history");
    clear(h);
    if (!d.history.length) h.appendChild(el("li", null, "还没有在工作台修改过（现为指南文件 / 目录版本）。"));
    d.history.forEach(function (ver, idx) {
      var li = el("li");
      var what = ACTIONS[ver.action] || ver.action;
      if (ver.action === "revert") what += "到 " + (ver.reverted_to ? "v" + ver.reverted_to : "指南文件版");
      li.appendChild(el("span", null, "v" + ver.id + " · " + when(ver.at) + " · " + ver.actor + " · " + what +
        (ver.action === "verify" ? "（" + ver.note + "）" : "")));
      if (idx > 0 && state.canEdit) {
        var b = el("button", "admin-only", "恢复此版本");
        b.type = "button";
        b.addEventListener("click", function () { revert(ver.id); });
        li.appendChild(b);
      }
      h.appendChild(li);
    });
    if (d.history.length && d.edited && state.canEdit) {
      var li0 = el("li");
      li0.appendChild(el("span", null, "指南文件 / 目录版本"));
      var b0 = el("button", "admin-only", "恢复为指南文件版本");
      b0.type = "button";
      b0.addEventListener("click", function () { revert(0); });
      li0.appendChild(b0);
      h.appendChild(li0);
    }
    document.querySelectorAll(".results button").forEach(function (b) {
      if (b.dataset.code === state.code) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
    });
  }

  function open(code) {
    hideMessages();
    return request("GET", "/api/v1/guides/" + encodeURIComponent(code)).then(function (r) {
      if (!r.ok) { showErrors(r.data.message || "打不开这个事项", []); return; }
      if (location.hash !== "#" + code) history.replaceState(null, "", "#" + code);
      fill(r.data);
    });
  }

  function lines(t) { return t.value.split("\n").map(function (x) { return x.trim(); }).filter(Boolean); }
  function rowValues(tr) {
    var o = {};
    tr.querySelectorAll("[data-field]").forEach(function (n) { o[n.dataset.field] = n.value.trim(); });
    return o;
  }
  function collect() {
    var g = {};
    ["name", "fee", "legal_time_limit", "promised_time_limit", "online_link", "consult_phone"].forEach(function (f) {
      g[f] = $("f-" + f).value.trim();
    });
    g.conditions = lines($("f-conditions"));
    g.related = lines($("f-related"));
    g.materials = Array.prototype.map.call($("materials").tBodies[0].rows, function (tr) {
      var o = rowValues(tr);
      var n = Number(o.copies);
      o.copies = o.copies === "" ? 1 : (Number.isInteger(n) ? n : o.copies);  // a bad number is the checks' to report
      o.aliases = JSON.parse(tr.dataset.aliases || "[]");
      return o;
    });
    g.places = Array.prototype.map.call($("places").tBodies[0].rows, rowValues);
    return g;
  }

  function hideMessages() {
    $("errors").classList.add("hidden");
    $("saved").classList.add("hidden");
    document.querySelectorAll(".invalid").forEach(function (n) { n.classList.remove("invalid"); n.removeAttribute("aria-invalid"); });
  }
  function showErrors(message, issues) {
    var box = $("errors");
    clear(box);
    box.appendChild(el("strong", null, message));
    var ul = el("ul");
    (issues || []).forEach(function (i) {
      ul.appendChild(el("li", i.severity === "warning" ? "warning" : null, label(i.field) + "：" + i.message));
      var n = document.querySelector('[data-path="' + i.field + '"]') || document.querySelector('[data-path="' + i.field.split(".")[0] + '"]');
      if (n && i.severity !== "warning") { n.classList.add("invalid"); n.setAttribute("aria-invalid", "true"); }
    });
    box.appendChild(ul);
    box.classList.remove("hidden");
    box.focus();
  }
  var LABELS = {name: "名称", fee: "收费", conditions: "办理条件", materials: "申请材料", places: "办理地点",
                related: "相关事项", form: "形式", copies: "份数", requirement: "要求", note: "说明", level: "层级",
                legal_time_limit: "法定时限", promised_time_limit: "承诺时限", online_link: "网上办理链接",
                consult_phone: "咨询电话", verified: "核实", source_ref: "核实依据", address: "地址", hours: "办理时间"};
  function label(field) {
    return field.split(".").map(function (p) { return /^\d+$/.test(p) ? "第" + (Number(p) + 1) + "项" : (LABELS[p] || p); }).join(" ");
  }
  function done(r, what) {
    if (r.ok) {
      fill(r.data.guide);
      var s = $("saved");
      var text = r.data.changed ? what + "（v" + r.data.version + "），已生效。" : "没有改动。";
      if (r.data.unverified) text += " 内容已变，核实标记已取消，请重新核实。";
      if (r.data.warnings && r.data.warnings.length) text += " 提示：" + r.data.warnings.map(function (w) { return label(w.field) + "：" + w.message; }).join("；");
      s.textContent = text;
      s.classList.remove("hidden");
      search($("q").value);
    } else {
      showErrors(r.data.message || ("失败（" + r.status + "）"), r.data.issues || []);
    }
  }
  function save(ev) {
    ev.preventDefault();
    if (!state.canEdit || !state.code) return;
    hideMessages();
    request("PUT", "/api/v1/guides/" + encodeURIComponent(state.code),
            {guide: collect(), base_version: state.detail.version}).then(function (r) { done(r, "已保存"); });
  }
  function verify() {
    hideMessages();
    request("POST", "/api/v1/guides/" + encodeURIComponent(state.code) + "/verify",
            {source_ref: $("verify-source").value.trim(), base_version: state.detail.version})
      .then(function (r) { if (r.ok) $("verify-source").value = ""; done(r, "已标记为已核实"); });
  }
  function revert(version) {
    hideMessages();
    request("POST", "/api/v1/guides/" + encodeURIComponent(state.code) + "/revert",
            {version: version, base_version: state.detail.version}).then(function (r) { done(r, "已恢复"); });
  }

  function importFile(ev) {
    ev.preventDefault();
    var f = $("import-file").files[0];
    var out = $("import-report");
    clear(out);
    if (!f) { out.appendChild(el("p", "error", "请先选择文件。")); return; }
    var form = new FormData();
    form.append("file", f);
    request("POST", "/api/v1/guides/import", undefined, form).then(function (r) {
      if (!r.ok) { out.appendChild(el("p", "error", r.data.message || "导入失败")); return; }
      out.appendChild(el("p", null, "共 " + r.data.total + " 行：导入 " + r.data.imported + "，未改变 " + r.data.unchanged +
                                      "，出错 " + r.data.failed + "。"));
      var ol = el("ol");
      r.data.rows.forEach(function (row) {
        var li = el("li", row.status === "error" ? "error" : "ok",
                    "第" + row.row + "行 " + (row.code || "") + "：" + (row.status === "error" ? row.message : (row.status === "ok" ? "已导入" : "未改变") +
                    (row.status === "ok" && row.message !== "ok" ? "（" + row.message + "）" : "")));
        li.dataset.row = row.row;
        ol.appendChild(li);
      });
      out.appendChild(ol);
      search($("q").value);
      if (state.code) open(state.code);
    });
  }

  function init() {
    if (window.jxe && window.jxe.nav) window.jxe.nav("guides");
    $("search-form").addEventListener("submit", function (e) { e.preventDefault(); search($("q").value); });
    $("editor").addEventListener("submit", save);
    $("reset").addEventListener("click", function () { if (state.detail) { hideMessages(); fill(state.detail); } });
    $("verify-btn").addEventListener("click", verify);
    $("import-form").addEventListener("submit", importFile);
    $("add-material").addEventListener("click", function () {
      var tr = materialRow({});
      $("materials").tBodies[0].appendChild(tr);
      renumber();
      tr.querySelector("input").focus();
    });
    $("add-place").addEventListener("click", function () {
      var tr = placeRow({});
      $("places").tBodies[0].appendChild(tr);
      renumber();
      tr.querySelector("input").focus();
    });
    window.addEventListener("hashchange", function () {
      var code = decodeURIComponent(location.hash.slice(1));
      if (code && code !== state.code) open(code);
    });
    search("").then(function () {
      var code = decodeURIComponent(location.hash.slice(1));
      if (code) open(code);
    });
  }
  document.addEventListener("DOMContentLoaded", init);
})();
