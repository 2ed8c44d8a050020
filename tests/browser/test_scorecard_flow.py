"""A visitor takes the AI Reality Check in headless Chromium: with htmx, leaving half-way and
coming back, and again with JavaScript off; no page breaks the CSP (default-src 'self')."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.scorecards.content import load_scorecard
from portal.scorecards.models import Scorecard, Visit
from tests.factories import qids

pytestmark = pytest.mark.django_db(transaction=True)
FIXTURE = Path(__file__).resolve().parents[2] / "portal/scorecards/fixtures/scorecard_v1.json"

# Runs before any page script and is not itself subject to the page's CSP.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname}`
  );
});
"""


@pytest.fixture
def scorecard() -> Scorecard:
    return load_scorecard(json.loads(FIXTURE.read_text(encoding="utf-8")))


def watch(context, violations: list[str]) -> None:
    """Record CSP violations of every page of the context, from events and the console."""
    context.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )


def watched_context(chromium, *, javascript: bool, **options):
    """A browser context whose CSP violations are recorded (`options` go to new_context)."""
    violations: list[str] = []
    context = chromium.new_context(**{"locale": "en-GB", **options}, java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    if javascript:
        context.expose_binding("reportCspViolation", lambda source, text: violations.append(text))
        context.add_init_script(REPORT_VIOLATIONS)
    watch(context, violations)
    return context, violations


def answer(page, ids: list[str], letter: str) -> None:
    for qid in ids:
        page.locator(f"#{qid}-{letter}").check()


def test_visitor_leaves_half_way_resumes_and_sees_results(chromium, portal, scorecard):
    context, violations = watched_context(chromium, javascript=True)
    steps = qids(scorecard)
    page = context.new_page()
    page.goto(f"{portal.url}/assessment/")
    expect(page.get_by_role("heading", level=1)).to_have_text(scorecard.title)
    page.get_by_label("E-mail (optional)").fill("ceo@acme.test")
    page.get_by_label("Company (optional)").fill("Acme Corp")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r"/assessment/step/1/$"))
    expect(page.locator("#progress-text")).to_contain_text("Step 1 of 4")

    # Three of four, then Next: htmx re-renders the step with a message by the gap.
    answer(page, steps[0][:3], "D")
    page.evaluate("window.stillThisPage = true")
    page.get_by_role("button", name="Next").click()
    missing = page.locator(f"#q-{steps[0][3]} .q-error")
    expect(missing).to_have_text("Please choose an answer")
    assert page.evaluate("window.stillThisPage") is True  # swapped by htmx, not reloaded
    expect(page.locator(".q-error")).to_have_count(1)
    assert page.url.endswith("/assessment/step/1/")
    expect(page.locator(f"#{steps[0][0]}-D")).to_be_checked()
    expect(page.locator("#progress-text")).to_contain_text("3 of 16 questions answered")
    page.locator(f"#{steps[0][3]}-D").check()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/assessment/step/2/$"))
    answer(page, steps[1], "C")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/assessment/step/3/$"))
    page.close()

    # Back later in the same browser: the cookie brings the visitor to step 3.
    page = context.new_page()
    page.goto(f"{portal.url}/assessment/")
    page.get_by_role("link", name="Continue where you left off").click()
    page.wait_for_url(re.compile(r"/assessment/step/3/$"))
    expect(page.locator("#progress-text")).to_contain_text("8 of 16 questions answered")
    page.get_by_role("button", name="Back").click()
    page.wait_for_url(re.compile(r"/assessment/step/2/$"))
    for qid in steps[1]:
        expect(page.locator(f"#{qid}-C")).to_be_checked()
    page.goto(f"{portal.url}/assessment/step/1/")
    for qid in steps[0]:
        expect(page.locator(f"#{qid}-D")).to_be_checked()
    page.goto(f"{portal.url}/assessment/step/3/")
    answer(page, steps[2], "B")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/assessment/step/4/$"))
    answer(page, steps[3], "A")
    page.get_by_role("button", name="Next: your details").click()
    page.wait_for_url(re.compile(r"/assessment/contact/$"))
    expect(page.get_by_label("E-mail")).to_have_value("ceo@acme.test")
    page.get_by_label("First name").fill("Jane")
    page.get_by_label("Last name").fill("Doe")
    page.get_by_label("Phone").fill("+1-555-123-4567")
    page.get_by_role("button", name="See my results").click()
    page.wait_for_url(re.compile(r"/assessment/results/assess_[\w-]+/$"))

    visit = Visit.objects.get()
    assert visit.is_completed and visit.contact_info["firstName"] == "Jane"
    expect(page.locator("#total-score")).to_have_text(str(visit.total_score))
    chart = page.get_by_role("img", name="Score by area, out of 100")
    expect(chart.locator("rect.sc-bar")).to_have_count(4)
    expect(page.get_by_role("heading", name="Recommendations")).to_be_visible()
    expect(page.locator(".sc-rec").first).to_be_visible()

    # Sharing with recommendations, through htmx.
    page.get_by_label("Also show my recommendations on the shared page").check()
    page.get_by_role("button", name="Save sharing choice").click()
    expect(page.get_by_text("Your sharing choice is saved.")).to_be_visible()
    share_url = page.locator("#share-url").input_value()
    assert share_url.endswith(f"/assessment/shared/{visit.share_token}/")
    page.goto(share_url)
    expect(page.get_by_role("heading", name="Recommendations")).to_be_visible()
    expect(page.get_by_text("ceo@acme.test")).to_have_count(0)

    assert violations == []
    context.close()


def test_the_whole_check_works_with_javascript_off(chromium, portal, scorecard):
    context, violations = watched_context(chromium, javascript=False)
    steps = qids(scorecard)
    page = context.new_page()
    page.goto(f"{portal.url}/assessment/")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r"/assessment/step/1/$"))

    # A plain post of an incomplete step: saved, and shown again with the messages.
    answer(page, steps[0][:2], "E")
    page.get_by_role("button", name="Next").click()
    page.wait_for_load_state()
    expect(page.locator(".q-error")).to_have_count(2)
    expect(page.locator(f"#{steps[0][0]}-E")).to_be_checked()
    for number, ids in enumerate(steps, start=1):
        answer(page, ids, "E")
        page.get_by_role("button", name=re.compile("^Next")).click()
        following = f"step/{number + 1}/" if number < 4 else "contact/"
        page.wait_for_url(re.compile(f"/assessment/{following}$"))
    page.get_by_role("button", name="See my results").click()
    page.wait_for_url(re.compile(r"/assessment/results/assess_[\w-]+/$"))
    expect(page.locator("#score-chart rect.sc-bar")).to_have_count(4)
    expect(page.locator("#score-table tbody tr")).to_have_count(4)
    expect(page.locator("#total-score")).to_have_text(str(Visit.objects.get().total_score))

    page.get_by_label("Also show my recommendations on the shared page").check()
    page.get_by_role("button", name="Save sharing choice").click()
    page.wait_for_url(re.compile(r"\?shared=1#share$"))
    expect(page.get_by_text("Your sharing choice is saved.")).to_be_visible()
    assert Visit.objects.get().share_recommendations is True

    assert violations == []
    context.close()
