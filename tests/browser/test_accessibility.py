"""Issue 12, "Everywhere": axe-core over every candidate page, and the sandbox's Q3 table on a
phone. Real Chromium; axe (tests/fixtures/axe, vendored from the npm registry) goes in through
the DevTools protocol, since the pages' CSP (default-src 'self') refuses injected scripts."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from portal.roleplays.models import Cluster
from portal.roleplays.views import SESSION_KEY
from portal.sandbox.models import Q3Account, ReceivedWebhook
from portal.scorecards.content import load_scorecard
from tests.browser.test_exam_flow import seed_demo
from tests.factories import (
    make_assessment,
    make_cluster,
    on_postgres,
    results_payload,
    roleplay_result,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
AXE = (ROOT / "tests/fixtures/axe/axe.min.js").read_text(encoding="utf-8")
SCORECARD = ROOT / "portal/scorecards/fixtures/scorecard_v1.json"
WCAG_22_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN_AXE = f"""
axe.run(document, {{runOnly: {{type: "tag", values: {json.dumps(WCAG_22_A_AA)}}}}}).then(
  results => results.violations.map(v => ({{
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(" ")),
  }}))
)
"""
# With JavaScript off, Chromium runs what the DevTools protocol evaluates, promises included,
# but fires no timers, and axe waits on setTimeout between its checks: run them as microtasks.
TIMERS_AS_MICROTASKS = """
(() => {
  const soon = (callback, ...args) => {
    Promise.resolve().then(() => callback(...args));
    return 1;
  };
  window.setTimeout = (callback, delay, ...args) => soon(callback, ...args);
  window.clearTimeout = () => {};
  window.requestAnimationFrame = callback => soon(callback, performance.now());
  window.requestIdleCallback = callback =>
    soon(callback, {didTimeout: false, timeRemaining: () => 50});
})();
"""

PHONE = {"width": 360, "height": 740}

# Several roleplays and competencies with long names: a table to lay out on a phone.
RESULTS = results_payload(
    [
        roleplay_result(
            [
                {
                    "competency_code": code,
                    "competency_name": name,
                    "max_marks": 10,
                    "marks_obtained": 7,
                }
                for code, name in (
                    ("CUST_FOCUS", "Customer Focus"),
                    ("COMMUNICATION", "Communication and Persuasiveness"),
                    ("ACCOUNTABILITY", "Accountability"),
                )
            ]
        ),
        {
            "roleplay_id": "rp-2",
            "roleplay_name": "Underperforming Team Member",
            "stakeholders": "01",
            "max_time": 15,
            "time_taken": 14,
            "competencies": [
                {
                    "competency_code": "COACHING",
                    "competency_name": "Coaching and Developing Others",
                    "max_marks": 10,
                    "marks_obtained": 6,
                }
            ],
        },
    ]
)

# Every word of the cells, as the browser lays it out: a word whose boxes sit on more than one
# line was broken in half.
SPLIT_WORDS = """
selector => {
  const split = [];
  for (const cell of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set(
          [...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))
        );
        if (lines.size > 1) split.push(word[0]);
      }
    }
  }
  return split;
}
"""


def q3_with_results() -> None:
    Q3Account.objects.create(
        pk=1,
        partner_name="Demo Q3",
        jwt_secret="j" * 48,
        webhook_secret="whsec_" + "a" * 32,
        cluster_ids=[RESULTS["cluster_id"]],
    )
    ReceivedWebhook.objects.create(
        kind="results_submission", webhook_id="msg_1", payload=RESULTS, signature_valid=True
    )


def test_the_q3_results_table_breaks_no_word_on_a_phone(chromium, portal):
    q3_with_results()
    context = chromium.new_context(viewport=PHONE, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(f"{portal.url}/sandbox/q3/")
        cells = "#results table th, #results table td"
        assert page.locator(cells).count() == 12
        assert page.evaluate(SPLIT_WORDS, cells) == []
        # A table wider than the phone scrolls in its own box; the page itself does not.
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    finally:
        context.close()


# --- axe-core over every candidate page -------------------------------------------------------


def axe_violations(page, *, javascript: bool) -> list[dict]:
    """axe's WCAG 2.2 A/AA violations of the page as it stands, injected through the DevTools
    protocol (Runtime.evaluate is not subject to the page's CSP)."""
    cdp = page.context.new_cdp_session(page)
    try:
        loaded = cdp.send(
            "Runtime.evaluate",
            {"expression": ("" if javascript else TIMERS_AS_MICROTASKS) + AXE + ";axe.version"},
        )
        assert "exceptionDetails" not in loaded, loaded
        ran = cdp.send(
            "Runtime.evaluate",
            {"expression": RUN_AXE, "awaitPromise": True, "returnByValue": True, "timeout": 60_000},
        )
    finally:
        cdp.detach()
    assert "exceptionDetails" not in ran, ran
    return ran["result"]["value"]


def report(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["targets"])
        for v in violations
    )


def submit(page, selector: str, *, javascript: bool, url: str | None = None) -> None:
    """Click a button that leads to another page (a form post, or htmx's redirect)."""
    if url:
        page.locator(selector).click()
        page.wait_for_url(re.compile(url))
    elif javascript:
        page.locator(selector).click()
    else:
        with page.expect_navigation():
            page.locator(selector).click()
    page.wait_for_load_state("load")


def exam_to(page, portal, step: str, language: str, javascript: bool) -> None:
    """The exam as a candidate reaches it: the customer's intro, the start page, the questions,
    the review before submitting, its confirmation dialog (with JavaScript), the result."""
    demo = seed_demo()
    eurl = next(e["eurl"] for e in demo["exams"] if e["language"] == language)
    page.goto(f"{portal.url}/sandbox/exams/{eurl}/")
    submit(page, "#start-exam", javascript=javascript, url=r"/exam/\?launch=")
    expect(page.locator("html")).to_have_attribute("lang", language)
    if step == "start":
        return
    page.locator("#start").click()
    expect(page.locator("fieldset.question").first).to_be_visible()
    page.wait_for_load_state("load")
    if step == "page":
        return
    page.locator("fieldset.question input[type=radio]").first.check()
    page.locator("#finish").click()
    page.wait_for_url(re.compile(r"/exam/[\w-]+/finish/$"))
    page.wait_for_load_state("load")
    if step == "review":
        return
    if javascript:  # the review's button asks once more, in a dialog
        page.locator("#confirm-finish").click()
        expect(page.locator("#confirm-dialog")).to_be_visible()
        if step == "confirm":
            return
    elif step == "confirm":
        return  # without JavaScript the review page is the confirmation
    finish = "#dialog-finish" if javascript else "#confirm-finish"
    submit(page, finish, javascript=javascript, url=r"/exam/[\w-]+/result/")


def play_through(page, portal, roleplay_id: str, *, javascript: bool) -> None:
    """Start a roleplay and take the first option at every turn, then rate any statements."""
    page.goto(f"{portal.url}/roleplay/{roleplay_id}/")
    submit(page, "#start-roleplay", javascript=False)
    while not page.url.endswith("/roleplay/"):
        if page.locator("form.likert").count():
            for item in page.locator("fieldset.likert-item").all():
                item.locator("input").first.check()
            submit(page, "#submit-ratings", javascript=javascript, url=r"/roleplay/$")
            return
        said = page.locator(".bubble.you").count()
        page.locator("form.reply input[name=option]").first.check()
        if javascript:
            page.locator("#send-reply").click()
            page.wait_for_function(
                "n => document.querySelectorAll('.bubble.you').length > n"
                " || location.pathname === '/roleplay/'",
                arg=said,
            )
            page.wait_for_load_state("load")
        else:
            submit(page, "#send-reply", javascript=False)


def roleplay_to(page, portal, step: str, language: str, javascript: bool) -> None:
    """The roleplay pages of a launched candidate (the session holds the assessment)."""
    cluster, partner, _options = make_cluster()
    Cluster.objects.filter(pk=cluster.pk).update(language=language)
    session = SessionStore()
    session[SESSION_KEY] = make_assessment(cluster, partner).pk
    session.create()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": portal.url}]
    )
    if step == "overview":
        page.goto(f"{portal.url}/roleplay/")
    elif step == "play":
        page.goto(f"{portal.url}/roleplay/rp-complaint/")
        submit(page, "#start-roleplay", javascript=False)
        expect(page.locator("form.reply")).to_be_visible()
    elif step == "ratings":  # the second roleplay: the first is taken before it
        play_through(page, portal, "rp-complaint", javascript=javascript)
        page.goto(f"{portal.url}/roleplay/rp-conflict/")
        submit(page, "#start-roleplay", javascript=False)
        page.locator("form.reply input[name=option]").first.check()
        submit(page, "#send-reply", javascript=javascript)
        expect(page.locator("form.likert")).to_be_visible()
    elif step == "thanks":
        play_through(page, portal, "rp-complaint", javascript=javascript)
        play_through(page, portal, "rp-conflict", javascript=javascript)
        submit(page, "#finish-assessment", javascript=javascript, url=r"/roleplay/done/$")
    expect(page.locator("html")).to_have_attribute("lang", language)


def scorecard_to(page, portal, step: str, language: str, javascript: bool) -> None:
    """The AI Reality Check: landing, a step, the contact form, the results."""
    scorecard = load_scorecard(json.loads(SCORECARD.read_text(encoding="utf-8")))
    page.goto(f"{portal.url}/assessment/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    if step == "landing":
        return
    submit(page, "#start", javascript=javascript, url=r"/assessment/step/1/$")
    if step == "step":
        return
    sections = scorecard.sections.order_by("step")
    for number, section in enumerate(sections, start=1):
        for question in section.questions.all():
            page.locator(f"#{question.qid}-A").check()
        after = r"/assessment/contact/$" if number == len(sections) else rf"/step/{number + 1}/$"
        submit(page, "#next", javascript=javascript, url=after)
    if step == "contact":
        return
    submit(page, "#see-results", javascript=javascript, url=r"/assessment/results/[\w-]+/$")


def sandbox_to(page, portal, step: str, language: str, javascript: bool) -> None:
    """The sandbox's own pages: the customer's index, an exam's intro, its callback, the Q3."""
    demo = seed_demo()
    if step == "index":
        page.goto(f"{portal.url}/sandbox/")
    elif step == "exam-intro":
        page.goto(f"{portal.url}/sandbox/exams/{demo['exams'][0]['eurl']}/")
    elif step == "callback":
        page.goto(f"{portal.url}/sandbox/exams/callback/?student_uuid=stu-1&percentage=85")
    elif step == "q3":
        ReceivedWebhook.objects.create(
            kind="results_submission", webhook_id="msg_1", payload=RESULTS, signature_valid=True
        )
        page.goto(f"{portal.url}/sandbox/q3/")


FLOWS = {"exam": exam_to, "roleplay": roleplay_to, "scorecard": scorecard_to, "sandbox": sandbox_to}
# The sandbox is in English only (no language switch), so once each. The scorecard speaks the
# browser's language (the fa-IR context asks for Persian).
PAGES = [
    *(
        ("exam", step, lang)
        for step in ("start", "page", "review", "confirm", "result")
        for lang in ("en", "fa")
    ),
    *(
        ("roleplay", step, lang)
        for step in ("overview", "play", "ratings", "thanks")
        for lang in ("en", "fa")
    ),
    *(
        ("scorecard", step, lang)
        for step in ("landing", "step", "contact", "results")
        for lang in ("en", "fa")
    ),
    *(("sandbox", step, "en") for step in ("index", "exam-intro", "callback", "q3")),
]
# What axe still finds on pages this change does not own (the exam's and the scorecard's):
# documented here so a fix shows up as an XPASS, which fails until its mark is removed.
# Violations known and not fixed yet, marked xfail (strict: fixing one fails its case until
# the mark goes). None today.
KNOWN: dict[tuple[str, str, str, bool], str] = {}


def cases() -> list:
    """Each page with JavaScript on and off, the known violations marked strictly."""
    params = []
    for flow, step, language in PAGES:
        for javascript in (True, False):
            key = (flow, step, language, javascript)
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN[key])] if key in KNOWN else []
            name = f"{flow}-{step}-{language}-{'js' if javascript else 'nojs'}"
            params.append(pytest.param(flow, step, language, javascript, id=name, marks=marks))
    return params


# The pages are the same whatever the database: axe runs once, in the SQLite run of the suite.
@pytest.mark.skipif(on_postgres(), reason="the same pages as the SQLite run; axe runs there")
@pytest.mark.parametrize(("flow", "step", "language", "javascript"), cases())
def test_axe_finds_no_wcag_22_violation(chromium, portal, flow, step, language, javascript):
    context = chromium.new_context(
        locale="fa-IR" if language == "fa" else "en-GB", java_script_enabled=javascript
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        FLOWS[flow](page, portal, step, language, javascript)
        violations = axe_violations(page, javascript=javascript)
        assert violations == [], f"{page.url}\n{report(violations)}"
    finally:
        context.close()
