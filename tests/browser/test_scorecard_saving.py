"""Issue 12, scorecard: "saved as you go" is true. With JavaScript each choice is saved as it is
made (a tab closed before Next loses nothing) and the progress counts this step's choices as
they are made; a choice that could not be saved is said plainly. Without JavaScript the page
claims no more than is true: Next or Back saves, and the progress counts what is saved."""

import re
import time

import pytest
from playwright.sync_api import expect

from portal.scorecards import limits
from portal.scorecards.models import Visit
from tests.browser.test_scorecard_flow import qids, scorecard, watched_context

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["scorecard"]  # the fixture, used by name


def started(context, portal):
    page = context.new_page()
    page.goto(f"{portal.url}/assessment/")
    page.locator("#start").click()
    page.wait_for_url(f"{portal.url}/assessment/step/1/")
    return page


def settled(condition, seconds: float = 10) -> None:
    """Wait for the saves still queued in the page to reach the database."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the saves did not settle"
        time.sleep(0.05)


def saved_answers() -> dict[str, str]:
    visit = Visit.objects.first()
    return visit.responses if visit else {}


def test_each_choice_is_saved_as_it_is_made_and_survives_a_closed_tab(chromium, portal, scorecard):
    context, violations = watched_context(chromium, javascript=True)
    first = qids(scorecard)[0]
    page = started(context, portal)
    expect(page.locator("#save-note")).to_have_text("Each choice is saved as soon as you make it.")

    page.locator(f"#{first[0]}-B").check()
    # Counted at once, and said saved once the server has it.
    expect(page.locator("#progress-count")).to_have_text("1 of 16 questions answered")
    expect(page.locator("#save-state")).to_have_text("Saved: 1 of 16 questions answered.")
    page.locator(f"#{first[2]}-D").check()
    expect(page.locator("#save-state")).to_have_text("Saved: 2 of 16 questions answered.")
    expect(page.locator("#progress-bar")).to_have_attribute("value", "2")
    assert saved_answers() == {first[0]: "B", first[2]: "D"}

    # The visitor changes their mind quickly, several times: the last choice is the one kept.
    for letter in "ACEBD":
        page.locator(f"#{first[0]}-{letter}").check()
    settled(lambda: saved_answers() == {first[0]: "D", first[2]: "D"})

    # The tab is closed before Next: nothing is lost.
    page.close()
    page = context.new_page()
    page.goto(f"{portal.url}/assessment/step/1/")
    expect(page.locator(f"#{first[0]}-D")).to_be_checked()
    expect(page.locator(f"#{first[2]}-D")).to_be_checked()
    expect(page.locator("#progress-count")).to_have_text("2 of 16 questions answered")
    assert violations == []
    context.close()


def test_a_choice_not_saved_is_said_and_next_saves_it(chromium, portal, scorecard, monkeypatch):
    context, violations = watched_context(chromium, javascript=True)
    first = qids(scorecard)[0]
    page = started(context, portal)
    monkeypatch.setattr(limits, "CHOICE", limits.Limit(limits.visitor_scope, 1, 3600, "one"))
    page.locator(f"#{first[0]}-A").check()
    expect(page.locator("#save-state")).to_have_text("Saved: 1 of 16 questions answered.")
    page.locator(f"#{first[1]}-E").check()  # refused: over this visitor's allowance
    expect(page.locator("#save-state")).to_have_text(
        "Your last choice is not saved yet: it will be saved when you press Next or Back."
    )
    # Still counted as chosen on the page, and saved by Next (with a message by the gaps).
    expect(page.locator("#progress-count")).to_have_text("2 of 16 questions answered")
    assert saved_answers() == {first[0]: "A"}
    page.locator("#next").click()
    expect(page.locator("#step-errors")).to_be_visible()
    assert saved_answers() == {first[0]: "A", first[1]: "E"}
    # The step swapped in by htmx says, again, how it saves.
    note = "Each choice is saved as soon as you make it."
    expect(page.locator("#save-note")).to_have_text(note)
    assert violations == []
    context.close()


def test_without_javascript_the_page_claims_no_saving_before_next(chromium, portal, scorecard):
    context, violations = watched_context(chromium, javascript=False)
    first = qids(scorecard)[0]
    page = started(context, portal)
    note = "Your answers on this page are saved when you press Next or Back."
    expect(page.locator("#save-note")).to_have_text(note)
    expect(page.get_by_text(re.compile("saved as soon as"))).to_have_count(0)
    landing_fact = "Your answers are saved each time you press Next or Back"
    page.locator(f"#{first[0]}-C").check()
    page.locator(f"#{first[1]}-C").check()
    # Nothing posts on a change: nothing is saved, and the progress says what is saved.
    expect(page.locator("#progress-count")).to_have_text("0 of 16 questions answered")
    assert saved_answers() == {}
    page.locator("#next").click()
    page.wait_for_load_state()
    expect(page.locator("#progress-count")).to_have_text("2 of 16 questions answered")
    assert saved_answers() == {first[0]: "C", first[1]: "C"}
    page.goto(f"{portal.url}/assessment/")
    expect(page.get_by_text(landing_fact)).to_be_visible()
    assert violations == []
    context.close()


def test_with_javascript_the_landing_says_answers_are_saved_as_chosen(chromium, portal, scorecard):
    context, violations = watched_context(chromium, javascript=True)
    page = context.new_page()
    page.goto(f"{portal.url}/assessment/")
    expect(
        page.get_by_text("Each answer is saved as soon as you choose it", exact=False)
    ).to_be_visible()
    expect(page.get_by_text("each time you press Next or Back", exact=False)).to_have_count(0)
    assert violations == []
    context.close()


def test_back_on_a_step_shows_the_answers_saved_since_and_next_keeps_them(
    chromium, portal, scorecard
):
    """The visitor changed an answer in another tab: this tab, opened again with the browser's
    Back, shows that one, and its Next does not save the choice made here before."""
    context, violations = watched_context(chromium, javascript=True)
    first = qids(scorecard)[0]
    page = started(context, portal)
    page.locator(f"#{first[0]}-B").check()
    settled(lambda: saved_answers() == {first[0]: "B"})
    visit = Visit.objects.get()
    Visit.objects.filter(pk=visit.pk).update(responses={first[0]: "E"})
    page.goto(f"{portal.url}/healthz")
    page.go_back()
    expect(page.locator(f"#{first[0]}-E")).to_be_checked()
    expect(page.locator(f"#{first[0]}-B")).not_to_be_checked()
    for qid in first[1:]:
        page.locator(f"#{qid}-C").check()
    settled(lambda: len(saved_answers()) == len(first))
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(f"{portal.url}/assessment/step/2/")
    assert saved_answers()[first[0]] == "E"
    assert violations == []
