// Result page: count down, then continue to the customer's site; "Stay" cancels.
(function () {
  "use strict";
  var box = document.getElementById("continue-box");
  if (!box) return;
  var left = Number(box.dataset.seconds);
  var text = document.getElementById("continue-text");
  var template = document.getElementById("continue-template").innerHTML;
  var link = document.getElementById("continue");
  var stay = document.getElementById("stay");
  stay.hidden = false;
  text.textContent = template.replace("%(seconds)s", left);
  var timer = window.setInterval(function () {
    left -= 1;
    if (left <= 0) {
      window.clearInterval(timer);
      window.location.assign(link.href);
      return;
    }
    if (left % 5 === 0 || left <= 3) text.textContent = template.replace("%(seconds)s", left);
  }, 1000);
  stay.addEventListener("click", function () {
    window.clearInterval(timer);
    stay.hidden = true;
    text.textContent = "";
  });
})();
