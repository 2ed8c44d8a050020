// Roleplay page: a countdown synced to the server's deadline, with a polite word at 5 minutes
// and at 1 minute left (spoken once each, and shown), and at zero a notice that the roleplay
// has ended, the form closed: the server would not count an answer sent after it. And focus
// after each htmx swap: on a refusal its message, otherwise the newest message to answer (or
// the ratings' heading), so keyboard and screen-reader users carry on where the conversation is.
(function () {
  "use strict";
  var box = document.getElementById("timer");
  if (box) {
    var d = box.dataset;
    var announcer = document.getElementById("time-announcer");
    var warning = document.getElementById("time-warning");
    var warningLeft = document.getElementById("time-warning-left");
    var firstLeft = Number(d.remaining);
    // Spoken once each (countdown.js), and shown in the box from 5 minutes left.
    var marks = window.portalTimeMarks(announcer,
      [{ at: 60, text: d.msgOneMinute }, { at: 300, text: d.msgFiveMinutes }], firstLeft);
    var over = false;
    var warn = function (left) {
      var text = marks(left);
      if (!text) return;
      if (warningLeft.textContent !== text) warningLeft.textContent = text;
      warning.hidden = false;
    };
    var timeUp = function () {
      over = true;
      countdown.stop();
      var ended = document.getElementById("time-warning-over");
      warningLeft.textContent = d.msgTimeup;
      ended.hidden = false;
      warning.hidden = false;
      announcer.textContent = d.msgTimeup + ". " + ended.textContent.trim();
      // Nothing more can be sent in time: close the form rather than let an answer be refused.
      document.querySelectorAll("#stage input, #stage button").forEach(function (el) {
        el.disabled = true;
      });
    };
    var countdown = window.portalCountdown(box, document.getElementById("timer-value"), firstLeft,
      function (left) {
        if (over) return;
        if (left === 0) timeUp(); else warn(left);
      });
    countdown.start();
    // A stage swapped in after the end (an answer sent just before it) stays closed.
    document.body.addEventListener("htmx:load", function (event) {
      if (over && event.target.id === "stage") {
        event.target.querySelectorAll("input, button").forEach(function (el) { el.disabled = true; });
      }
    });
  }
  // htmx:load, not afterSwap: the form that asked is swapped out with the old stage, so
  // events it fires no longer reach the body; the new stage's load does.
  document.body.addEventListener("htmx:load", function (event) {
    if (event.target.id !== "stage") return;
    var error = document.getElementById("stage-error");
    if (error) {
      // An alert is not focusable by itself; the first choice of the form that follows is.
      var first = document.querySelector("#stage input:not([disabled])");
      if (first) first.focus();
      return;
    }
    // A data attribute, not a class: htmx keeps an old element's classes on its namesake for
    // the settle delay, so a class would still mark the message just answered.
    var current = document.querySelector("#stage [data-current]");
    if (current) current.focus();
  });
})();
