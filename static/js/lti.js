// LTI pages (integrations.lti_views): no inline script (the CSP forbids it).
// - the cookie check before a launch: a test cookie set in this frame comes back, or the page
//   offers to open the activity in a new window (a browser that blocks cookies in frames);
// - the deep-linking answer: the signed form posts itself back to the LMS;
// - Dynamic Registration: tell the LMS's page that registration is over.
(function () {
  "use strict";
  function cookiesWork() {
    var name = "kafaat_lti_check";
    var secure = window.location.protocol === "https:" ? "; Secure; SameSite=None" : "";
    document.cookie = name + "=1; path=/" + secure;
    var ok = document.cookie.indexOf(name + "=1") !== -1;
    document.cookie = name + "=; path=/; max-age=0" + secure;
    return ok;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var check = document.getElementById("lti-cookie-check");
    if (check) {
      if (cookiesWork()) {
        // A navigation, not a form post: the login answers with a redirect to the LMS, which
        // the page's form-action would not follow.
        var form = document.getElementById("lti-continue");
        var query = new URLSearchParams(new FormData(form)).toString();
        window.location.replace(window.location.pathname + "?" + query);
      } else {
        document.getElementById("lti-checking").hidden = true;
        document.getElementById("lti-blocked").hidden = false;
      }
    }
    var answer = document.getElementById("lti-deep-link-answer");
    if (answer) {
      answer.submit();
    }
    var done = document.getElementById("lti-registered");
    if (done && window.parent !== window) {
      var close = function () {
        window.parent.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
      };
      var button = document.getElementById("lti-registered-close");
      if (button) {
        button.addEventListener("click", close);
      }
      if (done.dataset.auto === "1") {
        close();
      }
    }
  });
})();
