// The countdown of a timed page (an exam, a roleplay): the time left to a deadline the server
// states in seconds, shown as [h:]m:ss and counted on the monotonic clock, so a changed system
// clock moves nothing. The box gets "soon" at 5 minutes and "low" at 1 minute left.
// portalCountdown(box, value, seconds, onTick) -> {start(), sync(seconds), stop()}: start()
// shows the time and ticks every second, calling onTick(secondsLeft) each time; sync() sets
// the time left again (the server moved the deadline); stop() ends the ticking.
// portalTimeMarks(announcer, marks, secondsLeft) -> function (secondsLeft): the spoken word as
// the time runs low, for onTick to call. `marks` ([{at: seconds, text}], the lowest first) are
// each spoken once into the polite `announcer` as the clock reaches them: not one the page
// opened past, and again only if extra time takes the clock well back above it (not by the
// second or two a sync corrects). It returns the text of the mark the clock is under ("" above
// them all), for a page that also shows it.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  window.portalCountdown = function (box, value, seconds, onTick) {
    var endsAt = performance.now() + seconds * 1000;
    var digits = (window.portalLocalize && window.portalLocalize.digits) || String;
    var timer = null;
    function tick() {
      var left = Math.max(0, Math.round((endsAt - performance.now()) / 1000));
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      value.textContent = digits((h ? h + ":" + pad(m) : m) + ":" + pad(s));
      box.classList.toggle("low", left <= 60);
      box.classList.toggle("soon", left <= 300);
      if (onTick) onTick(left);
    }
    return {
      start: function () { timer = window.setInterval(tick, 1000); tick(); },
      sync: function (secondsLeft) { endsAt = performance.now() + secondsLeft * 1000; },
      stop: function () { window.clearInterval(timer); }
    };
  };
  window.portalTimeMarks = function (announcer, marks, firstLeft) {
    marks.forEach(function (mark) { mark.armed = firstLeft > mark.at; });
    return function (left) {
      marks.forEach(function (mark) { if (left > mark.at + 30) mark.armed = true; });
      for (var i = 0; i < marks.length; i++) {
        var mark = marks[i];
        if (left > mark.at) continue;
        if (mark.armed && left > 0) { // at 0 the page says "Time is up" its own way
          marks.forEach(function (other) { if (other.at >= mark.at) other.armed = false; });
          announcer.textContent = mark.text;
        }
        return mark.text;
      }
      return "";
    };
  };
})();
