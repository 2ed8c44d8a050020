// Result page: count down, then continue to the customer's site; "Stay" cancels. When answers
// went uncounted (named by the server, or still held unsent by this browser) the page says so
// and waits for the candidate instead.
(function () {
  "use strict";
  var box = document.getElementById("continue-box");
  if (!box) return;
  var L = window.portalLocalize || {
    digits: String, plural: function (n, one, other) { return n === 1 ? one : other; }
  };

  // Answers the exam page queued but never got saved (it was closed while offline, say): they
  // are not counted, and this browser is the only one that knows.
  var unsent = document.getElementById("unsent-answers");
  if (unsent) {
    var held = {};
    try { held = JSON.parse(window.localStorage.getItem(unsent.dataset.store)) || {}; } catch (e) { held = {}; }
    var count = Object.keys(held).length;
    if (count) {
      var message = L.plural(count,
        document.getElementById("unsent-one").innerHTML,
        document.getElementById("unsent-other").innerHTML);
      unsent.textContent = message.replace("%(n)s", L.digits(count));
      unsent.hidden = false;
    }
    try { window.localStorage.removeItem(unsent.dataset.store); } catch (e) { /* private mode */ }
  }
  var lost = document.getElementById("late-answers") || (unsent && !unsent.hidden);
  if (lost) return; // time to read it: the Continue button is there

  var left = Number(box.dataset.seconds);
  var text = document.getElementById("continue-text");
  var template = document.getElementById("continue-template").innerHTML;
  var link = document.getElementById("continue");
  var stay = document.getElementById("stay");
  function say() { text.textContent = template.replace("%(seconds)s", L.digits(left)); }
  stay.hidden = false;
  say();
  var timer = window.setInterval(function () {
    left -= 1;
    if (left <= 0) {
      window.clearInterval(timer);
      window.location.assign(link.href);
      return;
    }
    if (left % 5 === 0 || left <= 3) say();
  }, 1000);
  stay.addEventListener("click", function () {
    window.clearInterval(timer);
    stay.hidden = true;
    text.textContent = "";
  });
})();
