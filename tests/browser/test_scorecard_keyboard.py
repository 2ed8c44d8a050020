"""Issue 12, "Done when": the scorecard can be finished by keyboard alone, in English and in
Persian, on a phone, with JavaScript on and off: Tab to each control, Space and the arrow keys
to choose, Enter to go on; no click anywhere. It ends on the results."""

import re

import pytest
from playwright.sync_api import expect

from portal.scorecards.models import Visit
from tests.browser.test_scorecard_flow import qids, scorecard, watched_context

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["scorecard"]  # the fixture, used by name

PHONE = {"width": 360, "height": 740}
FOCUSED = "selector => !!document.activeElement && document.activeElement.matches(selector)"


def phone_context(chromium, *, language: str, javascript: bool):
    """A phone-sized window in the visitor's language, its CSP violations recorded."""
    return watched_context(
        chromium,
        javascript=javascript,
        locale="fa-IR" if language == "fa" else "en-GB",
        viewport=PHONE,
    )


def tab_to(page, selector: str, *, most: int = 40) -> None:
    """Press Tab until the focus is on `selector` (as a keyboard user moves), or fail."""
    for _ in range(most):
        if page.evaluate(FOCUSED, selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reached with {most} Tabs on {page.url}")


def choose(page, qid: str, downs: int) -> None:
    """Tab into a question's radio group, Space to choose its focused (first) answer, then
    ArrowDown to move the choice `downs` answers on."""
    tab_to(page, f"#q-{qid} input[type=radio]")
    page.keyboard.press("Space")
    for _ in range(downs):
        page.keyboard.press("ArrowDown")
    expect(page.locator(f"#q-{qid} input[type=radio]:checked")).to_have_count(1)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_scorecard_by_keyboard_alone_on_a_phone(
    chromium, portal, scorecard, language, javascript
):
    context, violations = phone_context(chromium, language=language, javascript=javascript)
    page = context.new_page()
    page.goto(f"{portal.url}/assessment/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "fa" else "ltr")

    tab_to(page, "#start")
    page.keyboard.press("Enter")
    steps = qids(scorecard)
    for number, ids in enumerate(steps, start=1):
        page.wait_for_url(f"{portal.url}/assessment/step/{number}/")
        for position, qid in enumerate(ids):
            choose(page, qid, downs=(number + position) % 5)
        if javascript:  # each choice saved as made: all of the step before Next
            expect(page.locator("#save-state")).not_to_be_empty()
        tab_to(page, "#next")
        page.keyboard.press("Enter")

    page.wait_for_url(f"{portal.url}/assessment/contact/")
    tab_to(page, "#id_first_name")
    page.keyboard.type("Ada")
    tab_to(page, "#see-results")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/assessment/results/assess_[\w-]+/$"))

    visit = Visit.objects.get()
    assert visit.is_completed and visit.contact_info == {"firstName": "Ada"}
    expected = {
        qid: "ABCDE"[(number + position) % 5]
        for number, ids in enumerate(steps, start=1)
        for position, qid in enumerate(ids)
    }
    assert visit.responses == expected
    total = str(visit.total_score)
    if language == "fa":
        total = total.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    expect(page.locator("#total-score")).to_have_text(total)
    expect(page.locator("#band-scale")).to_be_visible()
    assert violations == []
    context.close()
