// The AI Reality Check pages with JavaScript: each choice of a step is saved as it is made
// (htmx posts the step's form to its choice endpoint on every change, see step.html), so the
// texts that say when answers are saved change to say so; the progress counts this step's
// choices as they are made; a choice that could not be saved is said plainly (Next or Back
// will save it). Without this script the pages are plain forms that save on Next or Back, and
// say that.
(function () {
  "use strict";
  // Persian digits on a Persian page: static/js/localize.js, loaded before this script.
  var digits = window.portalLocalize ? window.portalLocalize.digits : String;

  // Texts true only with this script running ("saved as soon as you choose").
  function swapTexts(root) {
    if (root.matches && root.matches("[data-js-text]")) root.textContent = root.dataset.jsText;
    root.querySelectorAll("[data-js-text]").forEach(function (element) {
      element.textContent = element.dataset.jsText;
    });
  }

  // The answers of the other steps (saved) and this step's chosen ones (saved or on their way).
  function liveProgress() {
    var form = document.getElementById("step-form");
    var box = document.getElementById("progress");
    if (!form || !box) return;
    var chosen = form.querySelectorAll("fieldset.question input[type=radio]:checked").length;
    var answered = Number(box.dataset.elsewhere) + chosen;
    var count = document.getElementById("progress-count");
    count.textContent = count.dataset.template.replace("__N__", digits(answered));
    document.getElementById("progress-bar").value = answered;
  }

  function notSaved(event) {
    var asked = event.detail && event.detail.elt;
    if (!asked || !asked.matches || !asked.matches("fieldset.question")) return;
    var form = document.getElementById("step-form");
    var state = document.getElementById("save-state");
    if (!form || !state) return;
    state.dataset.state = "failed";
    state.textContent = form.dataset.msgFailed;
  }

  swapTexts(document);
  liveProgress();
  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("#step-form")) liveProgress();
  });
  document.body.addEventListener("htmx:responseError", notSaved);
  document.body.addEventListener("htmx:sendError", notSaved);
  document.body.addEventListener("htmx:load", function (event) {
    swapTexts(event.target);
    // A save's answer replaces the progress with what was saved; choices made since are
    // counted again.
    liveProgress();
  });
  document.body.addEventListener("htmx:oobAfterSwap", function (event) {
    var state = document.getElementById("save-state");
    if (state && event.detail.target === state) delete state.dataset.state;
  });
})();
