// Roleplay page: a countdown synced to the server's deadline (the page reloads at zero and
// the server closes the roleplay), and focus after each htmx swap: on a refusal its message,
// otherwise the newest message to answer (or the ratings' heading), so keyboard and
// screen-reader users carry on where the conversation is.
(function () {
  "use strict";
  var box = document.getElementById("timer");
  if (box) {
    var countdown = window.portalCountdown(
      box, document.getElementById("timer-value"), Number(box.dataset.remaining),
      function (left) { if (left === 0) { countdown.stop(); window.location.reload(); } });
    countdown.start();
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
