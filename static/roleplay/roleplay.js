// Roleplay page: a countdown synced to the server's deadline (the page reloads at zero and
// the server closes the roleplay), and focus on the newest message after each htmx swap.
(function () {
  "use strict";
  var box = document.getElementById("timer");
  if (box) {
    var value = document.getElementById("timer-value");
    var endsAt = performance.now() + Number(box.dataset.remaining) * 1000;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var tick = function () {
      var left = Math.max(0, Math.round((endsAt - performance.now()) / 1000));
      value.textContent = Math.floor(left / 60) + ":" + pad(left % 60);
      box.classList.toggle("low", left <= 60);
      if (left === 0) { window.clearInterval(timer); window.location.reload(); }
    };
    var timer = window.setInterval(tick, 1000);
    tick();
  }
  document.body.addEventListener("htmx:afterSwap", function () {
    var current = document.getElementById("current-message");
    if (current) current.focus();
  });
})();
