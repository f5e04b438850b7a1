// 金帮办 workbench shared client — MINIMAL STAND-IN written by staff-dash until staff-core's common.js is merged
// (the workbench contract: window.jxe = {api(method, path, body), user(), nav(active)}); replace with staff-core's.
(function () {
  "use strict";
  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].split("=");
      if (kv[0] === name) return decodeURIComponent(kv.slice(1).join("="));
    }
    return "";
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
            if (res.status === 401) window.location.assign("/staff/login");
            throw err;
          }
          return data;
        });
      });
  }
  var userPromise = null;
  function user() {
    if (!userPromise) userPromise = api("GET", "/api/v1/auth/me");
    return userPromise;
  }
  var LINKS = [["tickets", "/staff", "工单"], ["triage", "/staff/triage", "待学习"], ["guides", "/staff/guides", "办事指南"],
               ["dashboard", "/staff/dashboard", "数据看板"], ["desk", "/staff/desk", "预服务"]];
  function nav(active) {
    var bar = document.createElement("header");
    bar.className = "jxe-nav";
    var brand = document.createElement("span");
    brand.className = "brand";
    brand.textContent = "金帮办工作台";
    bar.appendChild(brand);
    var links = document.createElement("nav");
    links.className = "links";
    LINKS.forEach(function (l) {
      var a = document.createElement("a");
      a.href = l[1];
      a.textContent = l[2];
      if (l[0] === active) { a.className = "active"; a.setAttribute("aria-current", "page"); }
      links.appendChild(a);
    });
    bar.appendChild(links);
    var out = document.createElement("a");
    out.className = "logout";
    out.href = "/staff/login";
    out.textContent = "退出";
    bar.appendChild(out);
    document.body.insertBefore(bar, document.body.firstChild);
    return bar;
  }
  window.jxe = {api: api, user: user, nav: nav};
})();
