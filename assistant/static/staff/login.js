// The login page: POST /api/v1/auth/login, then go to ?next= (a /staff path only) or /staff.
(function () {
  "use strict";
  var form = document.getElementById("login-form");
  var err = document.getElementById("login-error");
  var btn = document.getElementById("login-submit");

  function nextPath() {
    var m = /[?&]next=([^&]*)/.exec(window.location.search);
    var p = m ? decodeURIComponent(m[1]) : "";
    return /^\/staff(\/[A-Za-z0-9_\/-]*)?$/.test(p) && p.indexOf("/staff/login") !== 0 ? p : "/staff";
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    err.hidden = true;
    btn.disabled = true;
    fetch("/api/v1/auth/login", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username: form.username.value.trim(), password: form.password.value})})
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (res.ok) { window.location.assign(nextPath()); return; }
          err.textContent = (body && body.message) || ("登录失败（" + res.status + "）");
          err.hidden = false;
          form.password.value = "";
          form.password.focus();
        });
      })
      .catch(function () { err.textContent = "网络连接失败，请重试。"; err.hidden = false; })
      .then(function () { btn.disabled = false; });
  });
})();
