// Exam page enhancement: autosave with an offline queue, one question at a time,
// a countdown synced to the server's deadline (which staff may move), flags for review, and
// without going back "Confirm and next" (choosing a draft, confirming makes it final).
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
  var skipLink = document.getElementById("skip-to-question");
  // Digits and plurals as the page's language writes them (static/js/localize.js, which the
  // page loads first).
  var L = window.portalLocalize;
  var pending = load(); // question id -> answer not yet acknowledged by the server
  var savedCount = Number(stateEl.dataset.saved) || 0; // answers the server holds
  var late = []; // numbers of questions whose answer reached the server after the time was up
  var stranded = false; // the time is up while answers wait for the connection
  var leaving = false;
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
  // A queued answer: "3" is the choice (a draft, in an exam without going back), "3!" the same
  // choice confirmed. Which `done` each is sent with is all the page decides: what a draft and
  // a final answer may do is the server's rule (services._apply).
  function choiceOf(value) { return String(value).replace("!", ""); }
  function doneOf(value) {
    if (canBack) return "in_progress";
    return String(value).slice(-1) === "!" ? "completed" : "draft";
  }

  function fill(message, values) {
    return message.replace(/%\((\w+)\)s/g, function (all, name) { return L.digits(values[name]); });
  }
  function setState(state, text) {
    if (stateEl.dataset.state === state && stateEl.textContent === text) return;
    stateEl.dataset.state = state;
    stateEl.textContent = text;
  }
  // Only what is true: how many answers the server holds, or what is still on its way.
  function showState() {
    var waiting = Object.keys(pending).length;
    if (over) setState("timeup", d.msgTimeup);
    else if (!waiting && savedCount) setState("saved", fill(L.plural(savedCount, d.msgSavedOne, d.msgSavedOther), { n: savedCount }));
    else if (!waiting) setState("empty", d.msgEmpty);
    else if (offline) setState("offline", fill(L.plural(waiting, d.msgWaitingOne, d.msgWaitingOther), { n: waiting }));
    else if (failing) setState("retrying", d.msgRetrying);
    else setState("saving", d.msgSaving);
  }

  function checked(fieldset) { return fieldset.querySelector("input[type=radio]:checked"); }
  function updateProgress() {
    var answered = questions.filter(checked).length;
    document.getElementById("progress-text").textContent = fill(d.msgProgress,
      { answered: answered, total: questions.length });
    document.getElementById("progress-bar").value = answered;
    questions.forEach(function (q, i) {
      var button = palette.querySelector('[data-goto="' + i + '"]');
      if (!button) return;
      var answered = !!checked(q);
      var flagged = q.dataset.flagged === "true";
      button.classList.toggle("answered", answered);
      button.classList.toggle("flagged", flagged);
      button.setAttribute("aria-label", button.dataset.label + (answered ? d.msgAnswered : "")
        + (flagged ? d.msgFlagged : ""));
    });
  }
  // A question's message, just below its legend and named by its group (aria-describedby);
  // `invalid` when it is about the choice (none made, or one refused): its radios say so.
  function questionError(questionId, message, invalid) {
    var fieldset = document.getElementById("q-" + questionId);
    if (!fieldset) return null;
    var box = fieldset.querySelector(".q-error");
    box.textContent = message || "";
    box.hidden = !message;
    if (message) fieldset.setAttribute("aria-describedby", box.id);
    else fieldset.removeAttribute("aria-describedby");
    fieldset.querySelectorAll("input[type=radio]").forEach(function (input) {
      if (message && invalid) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
    return box;
  }
  function lock(fieldset) {
    if (canBack) return;
    fieldset.querySelectorAll("input[type=radio]").forEach(function (input) {
      input.disabled = !input.checked;
    });
  }
  function unlock(fieldset) {
    if (!fieldset || canBack) return;
    delete fieldset.dataset.final;
    fieldset.querySelectorAll("input[type=radio]").forEach(function (input) {
      input.disabled = false;
    });
  }
  // Without going back: a confirmed answer is final here at once (the server has it when the
  // queue is sent; a refusal unlocks it again).
  function isFinal(fieldset) { return !canBack && fieldset.dataset.final === "true"; }
  function makeFinal(fieldset) {
    fieldset.dataset.final = "true";
    lock(fieldset);
  }

  // The question's number as the candidate sees it.
  function numberOf(questionId) {
    var fieldset = document.getElementById("q-" + questionId);
    return fieldset ? Number(fieldset.dataset.index) + 1 : null;
  }
  function markLate(questionId) {
    var n = numberOf(questionId);
    if (n && late.indexOf(n) === -1) late.push(n);
  }
  // The result page says which answers came too late to count (?late=3,7): none is dropped
  // without a word.
  function goToResult() {
    over = true;
    if (leaving) return;
    leaving = true;
    window.localStorage.removeItem(storeKey);
    var url = d.resultUrl;
    if (late.length) {
      late.sort(function (a, b) { return a - b; });
      url += (url.indexOf("?") === -1 ? "?" : "&") + "late=" + late.join(",");
    }
    window.location.assign(url);
  }
  // The server takes no more answers (its deadline passed, or the exam was finished): what is
  // still queued here was not counted.
  function closed() {
    Object.keys(pending).forEach(markLate);
    pending = {};
    goToResult();
  }

  // Send queued answers one by one; keep each in the queue until the server has it.
  function flush() {
    if (inflight || !hasPending()) { showState(); return Promise.resolve(); }
    inflight = true;
    showState();
    var questionId = Object.keys(pending)[0];
    var answer = pending[questionId];
    var body = new URLSearchParams({
      question_id: questionId, answer: choiceOf(answer), done: doneOf(answer)
    });
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
          // (The staff preview keeps nothing and counts nothing: what is chosen is "saved".)
          savedCount = typeof data.answered === "number" ? data.answered
            : questions.filter(checked).length - Object.keys(pending).length;
          syncTimer(data.remaining_seconds);
        } else if (data.code === "time_up" || data.code === "quiz_finished") {
          markLate(questionId);
          closed();
          return false;
        } else if (!data.code) {
          // Not the exam's own refusal (a proxy page, an expired CSRF cookie): keep it queued.
          pending[questionId] = answer;
          store();
          failing = true;
          return false;
        } else {
          // Refused for good (e.g. locked): the page must not pretend it was saved.
          var refused = form.querySelector('input[name="q' + questionId + '"][value="' + choiceOf(answer) + '"]');
          if (refused) refused.checked = false;
          unlock(document.getElementById("q-" + questionId));
          updateProgress();
          questionError(questionId, data.error || response.statusText, true);
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
  // Without going back, a question answered for good is closed, but one skipped or only
  // chosen (a draft) stays reachable.
  function reachable(i) { return canBack || i === current || !isFinal(questions[i]); }
  function previous() {
    for (var i = current - 1; i >= 0; i--) if (reachable(i)) return i;
    return -1;
  }
  function following() {
    for (var i = current + 1; i < questions.length; i++) if (reachable(i)) return i;
    return -1;
  }
  // After "Confirm and next": the next question still open, else an earlier one skipped.
  function nextOpen() {
    for (var step = 1; step < questions.length; step++) {
      var i = (current + step) % questions.length;
      if (!isFinal(questions[i])) return i;
    }
    return -1;
  }
  function show(index) {
    current = Math.max(0, Math.min(index, questions.length - 1));
    questions.forEach(function (q, i) { q.hidden = i !== current; });
    prevButton.disabled = previous() === -1;
    nextButton.disabled = following() === -1;
    if (skipLink) skipLink.setAttribute("href", "#" + questions[current].id);
    // The title names the question shown, as the server's page does: "Question 3 of 20 · Exam".
    document.title = fill(d.msgTitle, { n: current + 1, total: questions.length }) + " · " + d.examTitle;
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
  // "Confirm and next" (or Enter on a choice, without going back): the chosen answer is final.
  function confirmAnswer(fieldset) {
    var questionId = fieldset.dataset.question;
    var input = checked(fieldset);
    if (!input) {
      // As the scorecard's step page: the message gets the focus (seen, and read first), just
      // above the choices, where the next Tab goes.
      questionError(questionId, d.msgChooseFirst, true).focus();
      return;
    }
    questionError(questionId, "");
    pending[questionId] = input.value + "!";
    store();
    makeFinal(fieldset);
    flush();
    var next = nextOpen();
    if (next !== -1) { move(next); return; }
    show(current);
    document.getElementById("finish").focus(); // every answer is final: on to the review
  }
  // "Flag for review": shown at once, kept on the server; put back if it could not be saved.
  function toggleFlag(button) {
    var fieldset = button.closest("fieldset.question");
    var flagged = button.getAttribute("aria-pressed") !== "true";
    function set(on) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.value = fieldset.dataset.question + ":" + (on ? "0" : "1");
      if (on) fieldset.dataset.flagged = "true"; else delete fieldset.dataset.flagged;
      updateProgress();
    }
    set(flagged);
    questionError(fieldset.dataset.question, "");
    window.fetch(d.flagUrl, {
      method: "POST",
      body: new URLSearchParams({ question_id: fieldset.dataset.question, flagged: flagged ? "1" : "0" }),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok) return;
        if (data.code === "time_up" || data.code === "quiz_finished") { closed(); return; }
        set(!flagged);
        questionError(fieldset.dataset.question, data.error || d.msgFlagFailed);
      });
    }, function () {
      set(!flagged);
      questionError(fieldset.dataset.question, d.msgFlagFailed);
    });
  }

  // --- countdown -------------------------------------------------------------------------
  var timerValue = document.getElementById("timer-value");
  var timerBox = document.getElementById("timer");
  var countdown = window.portalCountdown(timerBox, timerValue, Number(timerBox.dataset.remaining),
    function (left) {
      announceTime(left);
      if (left === 0 && !over) timeUp();
    });
  var deadlineTime = document.querySelector("#deadline-note time");
  function syncTimer(seconds) {
    if (typeof seconds !== "number") return;
    countdown.sync(seconds);
    // Staff gave extra time: the deadline the page states moves with it.
    var at = new Date(Date.now() + seconds * 1000);
    var shown = deadlineTime && new Date(deadlineTime.getAttribute("datetime"));
    if (shown && Math.abs(at - shown) > 30000) {
      at.setMilliseconds(0);
      var text = L.format(at, "datetime");
      deadlineTime.setAttribute("datetime", at.toISOString());
      if (text) deadlineTime.textContent = text;
    }
  }
  // Spoken once as 5 minutes and then 1 minute are left (countdown.js).
  var announceTime = window.portalTimeMarks(document.getElementById("time-announcer"),
    [{ at: 60, text: d.msgOneMinute }, { at: 300, text: d.msgFiveMinutes }],
    Number(timerBox.dataset.remaining));
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
      if (data.finished) closed();
      else syncTimer(data.remaining_seconds);
    });
  }
  var frozen = null; // the controls time-up disabled, to give back if time was added
  function freeze() {
    if (frozen) return;
    frozen = [];
    form.querySelectorAll("input, button").forEach(function (el) {
      if (!el.disabled) { el.disabled = true; frozen.push(el); }
    });
  }
  function thaw() {
    (frozen || []).forEach(function (el) { el.disabled = false; });
    frozen = null;
  }
  var timeupBox = document.getElementById("timeup-box");
  function showTimeupBox(text) {
    if (timeupBox.textContent === text && timeupBox.hidden === !text) return;
    timeupBox.textContent = text;
    timeupBox.hidden = !text;
    if (text) timeupBox.scrollIntoView({ block: "center" });
  }
  var ending = false;
  function timeUp() {
    if (ending || leaving) return;
    ending = true;
    over = true;
    showState();
    freeze();
    // Answers still queued get a last try (the server's clock decides), then ask for the time
    // left: time given a moment ago may not have reached this page yet.
    offline = false;
    flush().then(fetchTimeLeft).then(function (data) {
      ending = false;
      if (data && !data.finished && data.remaining_seconds > 0) {
        stranded = false;
        showTimeupBox("");
        thaw();
        over = false;
        syncTimer(data.remaining_seconds);
        showState();
        flush();
        return;
      }
      if (data) {
        stranded = false;
        window.setTimeout(closed, 1500);
        return;
      }
      // No connection: keep what is queued, say so, and try again when it returns.
      stranded = true;
      var numbers = Object.keys(pending).map(numberOf).filter(Boolean).sort(function (a, b) { return a - b; });
      var names = numbers.map(function (n) { return fill(d.msgQuestion, { n: n }); });
      var list = window.Intl && Intl.ListFormat
        ? new Intl.ListFormat(document.documentElement.lang || "en").format(names) : names.join(", ");
      showTimeupBox(names.length ? d.msgStranded.replace("%(questions)s", list) : d.msgTimeupOffline);
    });
  }

  // --- wiring ----------------------------------------------------------------------------
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type !== "radio" || over) return;
    var fieldset = input.closest("fieldset.question");
    questionError(fieldset.dataset.question, ""); // a choice made: "choose first" is answered
    // Choosing is not committing: without going back the choice is a draft until confirmed.
    pending[fieldset.dataset.question] = input.value;
    store();
    updateProgress();
    flush();
  });
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button.flag, button.confirm");
    if (!button) return;
    event.preventDefault();
    if (over) return;
    if (button.classList.contains("flag")) toggleFlag(button);
    else confirmAnswer(button.closest("fieldset.question"));
  });
  // Enter on a choice presses the form's default button: here it goes on instead, as the
  // question's own button does (without going back, "Confirm and next").
  form.addEventListener("submit", function (event) {
    if (!event.submitter || !event.submitter.classList.contains("default-button")) return;
    event.preventDefault();
    var active = document.activeElement;
    var fieldset = active && active.type === "radio" && active.closest("fieldset.question");
    if (!fieldset || over) return;
    if (!canBack) confirmAnswer(fieldset);
    else if (following() !== -1) move(following());
  });

  document.getElementById("finish").addEventListener("click", function (event) {
    event.preventDefault();
    waitUntilSaved(10000).then(function (saved) {
      if (!saved) { showState(); stateEl.focus(); return; }
      window.location.assign(d.finishUrl); // the review page, then the confirmation
    });
  });

  palette.addEventListener("click", function (event) {
    var button = event.target.closest("[data-goto]");
    if (button) move(Number(button.dataset.goto));
  });
  prevButton.addEventListener("click", function () { move(previous()); });
  nextButton.addEventListener("click", function () { move(following()); });
  // The review page's links and the skip link: #q-<id> opens that question, if it can be.
  function openFromHash(event) {
    var target = window.location.hash && document.getElementById(window.location.hash.slice(1));
    var index = questions.indexOf(target);
    if (index === -1 || !reachable(index)) return false;
    // A hash of the question shown already (typed, or back in history): the browser's own
    // move to it is enough, and moving again would take back a focus the candidate has since
    // moved on. (The skip link makes no hash change: its click is handled below.)
    if (!event || index !== current) move(index);
    return true;
  }
  window.addEventListener("hashchange", openFromHash);
  // The skip link goes to the question shown, here and now: left to the browser, its hash
  // change could arrive after a quick Next and take the candidate back to that question.
  if (skipLink) skipLink.addEventListener("click", function (event) {
    event.preventDefault();
    move(current);
  });
  window.addEventListener("online", function () {
    offline = false;
    if (stranded) timeUp(); else flush();
  });
  window.setInterval(function () {
    if (stranded) timeUp(); else if (hasPending()) flush();
  }, 5000);
  window.setInterval(followDeadline, Math.max(1, Number(d.timeSync) || 20) * 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) followDeadline();
  });

  // Start: a choice made before this script ran (a slow connection, a quick candidate) is
  // queued like any other, after the answers an earlier visit left unsaved, which it outranks.
  var early = Array.prototype.filter.call(form.querySelectorAll("input[type=radio]"), function (input) {
    return input.checked && !input.defaultChecked && !input.disabled;
  });
  // Restore answers chosen but not yet saved (e.g. before a reload while offline).
  Object.keys(pending).forEach(function (questionId) {
    var input = form.querySelector('input[name="q' + questionId + '"][value="' + choiceOf(pending[questionId]) + '"]');
    if (input && !input.disabled) {
      input.checked = true;
      if (doneOf(pending[questionId]) === "completed") makeFinal(input.closest("fieldset.question"));
    } else delete pending[questionId];
  });
  early.forEach(function (input) {
    input.checked = true;
    pending[input.closest("fieldset.question").dataset.question] = input.value;
  });
  store();
  document.getElementById("save-all").hidden = true;
  document.getElementById("timer-label").textContent = d.msgTimeLeft;
  document.getElementById("timeup-rule").hidden = false;
  document.getElementById("exam-nav").hidden = false;
  palette.hidden = false;
  var firstOpen = questions.findIndex(function (q) { return canBack ? !checked(q) : !isFinal(q); });
  show(firstOpen === -1 ? 0 : firstOpen);
  openFromHash();
  updateProgress();
  countdown.start();
  flush();
})();
