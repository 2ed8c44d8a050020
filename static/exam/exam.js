// Exam page enhancement: autosave with an offline queue, one question at a time,
// a countdown synced to the server's deadline (which staff may move), and a confirmation
// before finishing.
// Without this script the page is a plain form that still saves and finishes.
(function () {
  "use strict";
  var form = document.getElementById("exam-form");
  if (!form) return;
  var d = form.dataset;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var canBack = d.canBack === "true";
  var storeKey = "exam-pending-" + d.launch;
  var questions = Array.prototype.slice.call(form.querySelectorAll("fieldset.question"));
  var stateEl = document.getElementById("save-state");
  var palette = document.getElementById("palette");
  var prevButton = document.getElementById("prev");
  var nextButton = document.getElementById("next");
  var dialog = document.getElementById("confirm-dialog");
  var pending = load(); // question id -> answer not yet acknowledged by the server
  var inflight = false;
  var offline = false;
  var failing = false;
  var over = false;
  var current = 0;

  function load() {
    try { return JSON.parse(window.localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function store() {
    try { window.localStorage.setItem(storeKey, JSON.stringify(pending)); } catch (e) { /* private mode */ }
  }
  function hasPending() { return Object.keys(pending).length > 0; }

  function setState(state, text) {
    if (stateEl.dataset.state === state && stateEl.textContent === text) return;
    stateEl.dataset.state = state;
    stateEl.textContent = text;
  }
  function showState() {
    if (over) setState("timeup", d.msgTimeup);
    else if (!hasPending()) setState("saved", d.msgSaved);
    else if (offline) setState("offline", d.msgOffline);
    else if (failing) setState("retrying", d.msgRetrying);
    else setState("saving", d.msgSaving);
  }

  function checked(fieldset) { return fieldset.querySelector("input[type=radio]:checked"); }
  function updateProgress() {
    var answered = questions.filter(checked).length;
    document.getElementById("progress-text").textContent = d.msgProgress
      .replace("%(answered)s", answered).replace("%(total)s", questions.length);
    document.getElementById("progress-bar").value = answered;
    questions.forEach(function (q, i) {
      var button = palette.querySelector('[data-goto="' + i + '"]');
      if (!button) return;
      var answered = !!checked(q);
      button.classList.toggle("answered", answered);
      button.setAttribute("aria-label", button.dataset.label + (answered ? d.msgAnswered : ""));
    });
  }
  function questionError(questionId, message) {
    var fieldset = document.getElementById("q-" + questionId);
    if (!fieldset) return;
    var box = fieldset.querySelector(".q-error");
    box.textContent = message || "";
    box.hidden = !message;
  }
  function lock(fieldset) {
    if (canBack) return;
    fieldset.querySelectorAll("input[type=radio]").forEach(function (input) {
      input.disabled = !input.checked;
    });
  }
  function unlock(fieldset) {
    if (!fieldset || canBack) return;
    fieldset.querySelectorAll("input[type=radio]").forEach(function (input) {
      input.disabled = false;
    });
  }

  function goToResult() {
    over = true;
    window.localStorage.removeItem(storeKey);
    window.location.assign(d.resultUrl);
  }

  // Send queued answers one by one; keep each in the queue until the server has it.
  function flush() {
    if (inflight || !hasPending()) { showState(); return Promise.resolve(); }
    inflight = true;
    showState();
    var questionId = Object.keys(pending)[0];
    var answer = pending[questionId];
    var body = new URLSearchParams({ question_id: questionId, answer: answer });
    return window.fetch(d.answerUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (response) {
      offline = false;
      if (response.status >= 500 || response.status === 429) { failing = true; return false; }
      failing = false;
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (pending[questionId] === answer) { delete pending[questionId]; store(); }
        if (response.ok) {
          questionError(questionId, "");
          syncTimer(data.remaining_seconds);
        } else if (data.code === "time_up" || data.code === "quiz_finished") {
          goToResult();
          return false;
        } else if (!data.code) {
          // Not the exam's own refusal (a proxy page, an expired CSRF cookie): keep it queued.
          pending[questionId] = answer;
          store();
          failing = true;
          return false;
        } else {
          // Refused for good (e.g. locked): the page must not pretend it was saved.
          var refused = form.querySelector('input[name="q' + questionId + '"][value="' + answer + '"]');
          if (refused) refused.checked = false;
          unlock(document.getElementById("q-" + questionId));
          updateProgress();
          questionError(questionId, data.error || response.statusText);
          var index = questions.indexOf(document.getElementById("q-" + questionId));
          if (index !== -1 && index !== current) show(index);
        }
        return true;
      });
    }, function () {
      offline = true; // network down: the answer stays queued (and in localStorage)
      return false;
    }).then(function (goOn) {
      inflight = false;
      showState();
      if (goOn && hasPending()) return flush();
    });
  }

  function waitUntilSaved(timeoutMs) {
    var started = Date.now();
    offline = false; // try now, whatever the last attempt found
    return new Promise(function (resolve) {
      (function check() {
        if (!hasPending()) return resolve(true);
        if (Date.now() - started > timeoutMs) return resolve(false);
        flush().then(function () {
          if (hasPending() && offline) return resolve(false);
          window.setTimeout(check, 200);
        });
      })();
    });
  }

  // --- one question at a time ------------------------------------------------------------
  // Without going back, an answered question is closed, but a skipped one stays reachable.
  function reachable(i) { return canBack || i === current || !checked(questions[i]); }
  function previous() {
    for (var i = current - 1; i >= 0; i--) if (reachable(i)) return i;
    return -1;
  }
  function show(index) {
    current = Math.max(0, Math.min(index, questions.length - 1));
    questions.forEach(function (q, i) { q.hidden = i !== current; });
    prevButton.disabled = previous() === -1;
    nextButton.disabled = current === questions.length - 1;
    palette.querySelectorAll("[data-goto]").forEach(function (button) {
      var i = Number(button.dataset.goto);
      button.disabled = !reachable(i);
      if (i === current) button.setAttribute("aria-current", "step");
      else button.removeAttribute("aria-current");
    });
  }
  function move(index) {
    show(index);
    var fieldset = questions[current];
    fieldset.setAttribute("tabindex", "-1");
    fieldset.focus();
  }

  // --- countdown -------------------------------------------------------------------------
  var timerValue = document.getElementById("timer-value");
  var timerBox = document.getElementById("timer");
  var endsAt = performance.now() + Number(timerBox.dataset.remaining) * 1000;
  function syncTimer(seconds) {
    if (typeof seconds === "number") endsAt = performance.now() + seconds * 1000;
  }
  // Staff may move the deadline (extra time): ask the server for the time left now and then,
  // so the countdown follows without a reload. Resolves to {remaining_seconds, finished}.
  function fetchTimeLeft() {
    return window.fetch(d.timeUrl, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).catch(function () { return null; });
  }
  function followDeadline() {
    if (over) return;
    fetchTimeLeft().then(function (data) {
      if (!data || over) return;
      if (data.finished) goToResult();
      else syncTimer(data.remaining_seconds);
    });
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function timeUp() {
    over = true;
    showState();
    var disabled = [];
    form.querySelectorAll("input, button").forEach(function (el) {
      if (!el.disabled) { el.disabled = true; disabled.push(el); }
    });
    // Time given a moment ago may not have reached this page yet: ask before leaving.
    fetchTimeLeft().then(function (data) {
      if (data && !data.finished && data.remaining_seconds > 0) {
        disabled.forEach(function (el) { el.disabled = false; });
        over = false;
        syncTimer(data.remaining_seconds);
        showState();
        return;
      }
      window.setTimeout(goToResult, 1500);
    });
  }
  function tick() {
    var left = Math.max(0, Math.round((endsAt - performance.now()) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    timerValue.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s);
    timerBox.classList.toggle("low", left <= 60);
    if (left === 0 && !over) timeUp();
  }

  // --- wiring ----------------------------------------------------------------------------
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type !== "radio" || over) return;
    var fieldset = input.closest("fieldset.question");
    pending[fieldset.dataset.question] = input.value;
    store();
    updateProgress();
    lock(fieldset);
    flush();
  });

  document.getElementById("finish").addEventListener("click", function (event) {
    event.preventDefault();
    waitUntilSaved(10000).then(function (saved) {
      if (!saved) { showState(); stateEl.focus(); return; }
      if (!window.htmx || !dialog.showModal) { window.location.assign(d.finishUrl); return; }
      window.htmx.ajax("GET", d.finishUrl, { target: "#confirm-body", swap: "innerHTML" })
        .then(function () { dialog.showModal(); });
    });
  });
  dialog.addEventListener("click", function (event) {
    if (event.target.closest("[data-close-dialog]")) { event.preventDefault(); dialog.close(); }
  });

  palette.addEventListener("click", function (event) {
    var button = event.target.closest("[data-goto]");
    if (button) move(Number(button.dataset.goto));
  });
  prevButton.addEventListener("click", function () { move(previous()); });
  nextButton.addEventListener("click", function () { move(current + 1); });
  window.addEventListener("online", function () { offline = false; flush(); });
  window.setInterval(function () { if (hasPending()) flush(); }, 5000);
  window.setInterval(tick, 1000);
  window.setInterval(followDeadline, Math.max(1, Number(d.timeSync) || 20) * 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) followDeadline();
  });

  // Start: restore answers chosen but not yet saved (e.g. before a reload while offline).
  Object.keys(pending).forEach(function (questionId) {
    var input = form.querySelector('input[name="q' + questionId + '"][value="' + pending[questionId] + '"]');
    if (input && !input.disabled) input.checked = true;
    else delete pending[questionId];
  });
  store();
  document.getElementById("save-all").hidden = true;
  document.getElementById("exam-nav").hidden = false;
  palette.hidden = false;
  var firstOpen = questions.findIndex(function (q) { return !checked(q); });
  show(firstOpen === -1 ? 0 : firstOpen);
  updateProgress();
  tick();
  flush();
})();
