// The review page before submitting: "Finish and see my result" asks once more in a dialog
// whose focus starts on the safe button (back to the review), not on the one that can't be
// undone. Without this script the review page's own button submits: the page is the question.
(function () {
  "use strict";
  var form = document.getElementById("finish-form");
  var dialog = document.getElementById("confirm-dialog");
  if (!form || !dialog || !dialog.showModal) return;
  var opener = document.getElementById("confirm-finish");
  form.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter.id === "dialog-finish") return; // confirmed
    event.preventDefault();
    dialog.showModal();
    // The safe choice has the focus, whatever the browser's autofocus did.
    document.getElementById("dialog-back").focus();
  });
  document.getElementById("dialog-back").addEventListener("click", function () {
    dialog.close();
  });
  dialog.addEventListener("close", function () { if (opener) opener.focus(); });
})();
