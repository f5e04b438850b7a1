// 金帮办 workbench: the shared client of every /staff page (no build step, no inline script).
// window.jxe = {api(method, path, body) -> Promise<json> (throws Error with .status, .code),
//               user() -> Promise<StaffUser>, nav(active), el(tag, cls, text), fmtTime(iso), fmtWait(seconds)}.
// Everything shown is built with createElement/textContent, never innerHTML.
(function () {
  "use strict";
  var userPromise = null;

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].split("=");
      if (kv[0] === name) return decodeURIComponent(kv.slice(1).join("="));
    }
    return "";
  }

  function toLogin() {
    var next = window.location.pathname + window.location.search;
    window.location.assign("/staff/login?next=" + encodeURIComponent(next));
  }

  function api(method, path, body) {
    method = (method || "GET").toUpperCase();
    var headers = {"Accept": "application/json"};
    if (body !== undefined && body !== null) headers["Content-Type"] = "application/json";
    if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = cookie("jxe_csrf");
    return fetch(path, {method: method, headers: headers, credentials: "same-origin",
                        body: body !== undefined && body !== null ? JSON.stringify(body) : undefined})
      .then(function (res) {
        return res.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (!res.ok) {
            var err = new Error((data && data.message) || ("HTTP " + res.status));
            err.status = res.status;
            err.code = data && data.error;
            if (res.status === 401) toLogin();
            throw err;
          }
          return data;
        });
      });
  }

  function user() {
    if (!userPromise) userPromise = api("GET", "/api/v1/auth/me");
    return userPromise;
  }

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  }

  var LEVEL_NAMES = {district: "区政务大厅", street: "街道便民服务中心", community: "社区便民服务站"};
  var ROLE_NAMES = {agent: "专员", admin: "管理员"};
  var LINKS = [["tickets", "/staff", "工单"], ["triage", "/staff/triage", "待学习"],
               ["guides", "/staff/guides", "办事指南"], ["dashboard", "/staff/dashboard", "数据看板"],
               ["desk", "/staff/desk", "预服务"]];

  function nav(active) {
    var bar = document.getElementById("jxe-nav");
    if (!bar) {
      bar = el("header", "jxe-nav");
      bar.id = "jxe-nav";
      document.body.insertBefore(bar, document.body.firstChild);
    }
    while (bar.firstChild) bar.removeChild(bar.firstChild);
    bar.appendChild(el("span", "brand", "金帮办工作台"));
    var links = el("nav", "links");
    links.setAttribute("aria-label", "工作台导航");
    LINKS.forEach(function (l) {
      var a = el("a", l[0] === active ? "active" : null, l[2]);
      a.href = l[1];
      if (l[0] === active) a.setAttribute("aria-current", "page");
      links.appendChild(a);
    });
    bar.appendChild(links);
    var who = el("span", "who");
    bar.appendChild(who);
    var out = el("button", "logout", "退出");
    out.type = "button";
    out.addEventListener("click", function () {
      api("POST", "/api/v1/auth/logout").catch(function () { return null; })
        .then(function () { window.location.assign("/staff/login"); });
    });
    bar.appendChild(out);
    user().then(function (u) {
      who.textContent = u.username + " · " + (LEVEL_NAMES[u.level] || u.level) +
        (u.place ? " · " + u.place : "") + " · " + (ROLE_NAMES[u.role] || u.role);
    }).catch(function () { /* 401 already redirects */ });
    return bar;
  }

  function fmtTime(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return (d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  function fmtWait(seconds) {
    seconds = Math.max(0, Math.floor(seconds || 0));
    if (seconds < 60) return seconds + "秒";
    if (seconds < 3600) return Math.floor(seconds / 60) + "分" + (seconds % 60) + "秒";
    return Math.floor(seconds / 3600) + "小时" + Math.floor((seconds % 3600) / 60) + "分";
  }

  window.jxe = {api: api, user: user, nav: nav, el: el, cookie: cookie, fmtTime: fmtTime, fmtWait: fmtWait,
                LEVEL_NAMES: LEVEL_NAMES};
})();
