// Numbers, dates and times as the page's language writes them: the browser's half of
// portal/localize.py, by the same rule. A Persian page (<html lang="fa">) gets Persian digits
// and the Solar Hijri calendar; every other page Latin digits and the Gregorian calendar.
// It also rewrites the server's times ({% local_time %}: shown in a named zone, as the server
// cannot know the reader's) to the browser's own zone. Load it before the scripts that use it
// (window.portalLocalize).
(function () {
  "use strict";
  var lang = (document.documentElement.lang || "en").split("-")[0];
  var persian = lang === "fa";
  var PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹";
  // Intl's names for the same formats as the server's: "21 March 2026 at 09:05",
  // "۱ فروردین ۱۴۰۵ ساعت ۰۹:۰۵".
  var locale = persian ? "fa-IR-u-ca-persian-nu-arabext" : (lang === "en" ? "en-GB" : lang);
  var TIME = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  var DATE = { year: "numeric", month: "long", day: "numeric" };
  var STYLES = {
    time: TIME,
    date: DATE,
    datetime: Object.assign({}, DATE, TIME)
  };

  function digits(value) {
    var text = String(value);
    if (!persian) return text;
    return text.replace(/[0-9]/g, function (d) { return PERSIAN_DIGITS[d]; });
  }

  // The form of a message for n: "one" or "other", as gettext's catalogue gives them.
  function plural(n, one, other) {
    var form = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang).select(n) : (n === 1 ? "one" : "other");
    return form === "one" ? one : other;
  }

  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }

  // A moment in the browser's zone. style "time" shows the day too when it is not today.
  function format(date, style) {
    if (style === "time" && !sameDay(date, new Date())) style = "datetime";
    try {
      return new Intl.DateTimeFormat(locale, STYLES[style] || STYLES.datetime).format(date);
    } catch (e) {
      return null; // no Intl for this locale: the server's text stays
    }
  }

  // Every <span data-local-time> (from {% local_time %}): its <time> in the browser's zone,
  // and no zone name, as the reader's own clock needs none.
  function localizeTimes(root) {
    (root || document).querySelectorAll("[data-local-time]").forEach(function (box) {
      var time = box.querySelector("time");
      var when = time && new Date(time.getAttribute("datetime"));
      if (!when || isNaN(when.getTime())) return;
      var text = format(when, box.dataset.localTime);
      if (text === null) return;
      time.textContent = text;
      box.replaceChildren(time);
      box.dataset.localized = "true";
    });
  }

  window.portalLocalize = {
    persian: persian,
    digits: digits,
    plural: plural,
    format: format,
    localizeTimes: localizeTimes
  };
  localizeTimes(document);
})();
