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
  var announcer = document.getElementById("continue-announcer");
  var template = document.getElementById("continue-template").innerHTML;
  var link = document.getElementById("continue");
  var stay = document.getElementById("stay");
  // Spoken once more with 20 seconds left: whoever did not hear it on arrival still has the 20
  // seconds WCAG 2.2.1 asks for to press "Stay".
  var LAST_CALL = 20;
  function words() { return template.replace("%(seconds)s", L.digits(left)); }
  // What the countdown shows: every 5 seconds, then each of the last 5. Not a live region: a
  // screen reader hears it with "Stay" as that gets the focus, and once more at LAST_CALL.
  function show() { text.textContent = words(); }
  stay.hidden = false;
  show();
  // "Stay" first, and focused on arrival: one press (Enter, Space, a switch) keeps the page.
  stay.focus({ preventScroll: true });
  var timer = window.setInterval(function () {
    left -= 1;
    if (left <= 0) {
      window.clearInterval(timer);
      window.location.assign(link.href);
      return;
    }
    if (left % 5 === 0 || left <= 5) show();
    if (left === LAST_CALL && announcer) announcer.textContent = words();
  }, 1000);
  stay.addEventListener("click", function () {
    window.clearInterval(timer);
    stay.hidden = true;
    text.textContent = "";
    if (announcer) announcer.textContent = "";
    link.focus(); // the focus stays on the way back, for when the candidate is ready
  });
})();
