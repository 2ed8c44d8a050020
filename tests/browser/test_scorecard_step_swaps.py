"""A step of the AI Reality Check swapped in by htmx, on a phone, in English and Persian: no
inline style reaches the page (the CSP, default-src 'self', would refuse it), and the address
bar names the page shown."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_scorecard_flow import qids, scorecard, watched_context

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["scorecard"]  # the fixture, used by name
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

# What a browser extension or a full-page screenshot leaves on a form's inputs: a style set
# and taken off again through the CSSOM (which the CSP allows), an empty style attribute.
LEAVE_EMPTY_STYLES = """() => document.querySelectorAll("#step input").forEach((input) => {
  input.style.setProperty("caret-color", "transparent");
  input.style.removeProperty("caret-color");
})"""


def start(chromium, portal, language: str):
    context, violations = watched_context(chromium, javascript=True, **PHONE)
    page = context.new_page()
    page.goto(f"{portal.url}/assessment/{'?lang=fa' if language == 'fa' else ''}")
    page.locator("#start").click()
    page.wait_for_url(f"{portal.url}/assessment/step/1/")
    return context, page, violations


def click_choices(page, ids: list[str], letter: str) -> None:
    """Answer as a visitor does, by the choice's label (the whole box is the target)."""
    for qid in ids:
        page.locator(f"label[for='{qid}-{letter}']").click()


@pytest.mark.parametrize("language", ["en", "fa"])
def test_next_with_a_question_unanswered_breaks_no_csp_rule(chromium, portal, scorecard, language):
    context, page, violations = start(chromium, portal, language)
    first, second, *_ = qids(scorecard)
    click_choices(page, first, "B")
    page.locator("#next").click()
    page.wait_for_url(f"{portal.url}/assessment/step/2/")
    expect(page.locator(f"#q-{second[0]}")).to_be_visible()
    click_choices(page, second[:-1], "C")
    page.evaluate(LEAVE_EMPTY_STYLES)
    assert page.locator("#step input[type=radio][style]").count() == 20

    page.locator("#next").click()  # the last question unanswered: the step comes back
    expect(page.locator("#step-errors")).to_be_focused()
    expect(page.locator(f"#{second[0]}-C")).to_be_checked()
    page.wait_for_timeout(300)  # htmx's settle (20 ms) has run
    assert page.locator("#step [style]").count() == 0
    assert violations == []
    context.close()


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_address_bar_follows_each_step_to_the_contact_form(
    chromium, portal, scorecard, language
):
    context, page, violations = start(chromium, portal, language)
    for number, ids in enumerate(qids(scorecard), start=1):
        expect(page.locator(f"#q-{ids[0]}")).to_be_visible()
        assert page.evaluate("location.pathname") == f"/assessment/step/{number}/"
        click_choices(page, ids, "B")
        page.locator("#next").click()
    # Step 4's Next leads to the contact form by a whole navigation (HX-Redirect), so the
    # address bar, history and a reload name it.
    page.wait_for_url(f"{portal.url}/assessment/contact/")
    expect(page.locator("input[name=first_name]")).to_be_visible()
    assert page.evaluate("location.pathname") == "/assessment/contact/"
    page.reload()
    expect(page.locator("input[name=first_name]")).to_be_visible()
    page.go_back()
    page.wait_for_url(f"{portal.url}/assessment/step/4/")
    assert violations == []
    context.close()
