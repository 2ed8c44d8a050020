// Copy buttons in the staff console: a button with data-copy="<selector of a read-only input>"
// copies the input's value. Without this script the button stays hidden and the input can be
// selected and copied by hand.
(function () {
  "use strict";
  function reveal(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) { button.hidden = false; });
  }
  function copied(button) {
    var label = button.textContent;
    button.textContent = button.dataset.copied || label;
    window.setTimeout(function () { button.textContent = label; }, 2000);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var input = document.querySelector(button.dataset.copy);
    if (!input) return;
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { copied(button); },
        function () { if (document.execCommand("copy")) copied(button); });
    } else if (document.execCommand("copy")) {
      copied(button);
    }
  });
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  // Parts swapped in by htmx (e.g. the callback link) bring their own buttons.
  document.addEventListener("htmx:afterSettle", function (event) { reveal(event.target); });
})();
