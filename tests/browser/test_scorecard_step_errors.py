"""An incomplete step in Chromium: the error summary takes the focus (with JavaScript, after
htmx's swap; without, on the reloaded page) and links to each question still to answer."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_scorecard_flow import answer, qids, scorecard, watched_context

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["scorecard"]  # the fixture, used by name


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_error_summary_takes_the_focus_and_links_to_each_gap(
    chromium, portal, scorecard, javascript
):
    context, violations = watched_context(chromium, javascript=javascript)
    page = context.new_page()
    page.goto(f"{portal.url}/assessment/")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(f"{portal.url}/assessment/step/1/")
    first_step = qids(scorecard)[0]
    answer(page, first_step[1:], "B")  # all but the first question
    page.locator("#next").click()

    summary = page.locator("#step-errors")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).to_have_count(1)
    links.first.click()
    assert page.url.endswith(f"#q-{first_step[0]}")
    # What was chosen is still chosen: nothing is lost.
    expect(page.locator(f"#{first_step[1]}-B")).to_be_checked()
    assert violations == []
    context.close()
