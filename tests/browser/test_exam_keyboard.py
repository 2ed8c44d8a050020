"""Issue 12: an exam finished by keyboard alone (Tab, Space, the arrows and Enter; no click), on
a phone (360×740), in English (going back allowed) and Persian (no going back: "Confirm and
next"), with JavaScript on and off. From the customer's "Start exam" to the result."""

import re

import pytest
from playwright.sync_api import expect

from portal.exams.models import Launch
from tests.browser.test_exam_answering import candidate, focused, items_of, tab_to
from tests.browser.test_exam_flow import exam_in, right_choice, seed_demo, wrong_choice

pytestmark = pytest.mark.django_db(transaction=True)


def press(page, key: str, *, navigates: bool) -> None:
    if navigates:
        with page.expect_navigation():
            page.keyboard.press(key)
    else:
        page.keyboard.press(key)


def choose(page, number: int) -> None:
    """On the first choice of a question none of whose choices is chosen: choose `number`."""
    assert page.evaluate("() => document.activeElement.type") == "radio"
    page.keyboard.press("Space")
    for _ in range(number - 1):
        page.keyboard.press("ArrowDown")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("language", ["en", "fa"])
def test_an_exam_finished_by_keyboard_alone_on_a_phone(new_context, portal, language, javascript):
    exam = exam_in(seed_demo(), language)
    page = candidate(new_context, language, javascript=javascript, phone=True)
    page.goto(f"{portal.url}/sandbox/exams/{exam.pk}/")
    tab_to(page, "#start-exam")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/exam/\?launch="))
    tab_to(page, "#start")
    press(page, "Enter", navigates=True)
    page.wait_for_load_state("load")
    launch = Launch.objects.select_related("quiz").get(
        pk=re.search(r"launch=([\w-]+)", page.url).group(1)
    )
    items = items_of(launch)
    plan = [right_choice(i) if n % 3 else wrong_choice(i) for n, i in enumerate(items)]

    # The skip link leads to the current question, the first.
    tab_to(page, "#skip-to-question", limit=3)
    page.keyboard.press("Enter")
    for n, (item, number) in enumerate(zip(items, plan, strict=True)):
        radios = f"#q-{item.question_id} input[type=radio]"
        # Each question is a Tab or two away: from the last one's button, or the top of
        # the page the confirmation reloaded at its anchor.
        assert tab_to(page, radios, limit=4) <= (4 if javascript else 3)
        choose(page, number)
        last = n == len(items) - 1
        if language == "fa":  # no going back: confirm each
            tab_to(page, f"#q-{item.question_id} button.confirm", limit=3)
            press(page, "Enter", navigates=not javascript)
        elif javascript and not last:
            tab_to(page, "#next", limit=4)
            page.keyboard.press("Enter")
            expect(page.locator(f"#q-{items[n + 1].question_id}")).to_be_visible()

    # The review, then the confirmation: its focus on the safe button, one Tab to finish.
    if focused(page) != "#finish":
        tab_to(page, "#finish")
    press(page, "Enter", navigates=True)
    page.wait_for_url(re.compile(r"/finish/$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    tab_to(page, "#confirm-finish")
    if javascript:
        page.keyboard.press("Enter")
        expect(page.locator("#confirm-dialog")).to_be_visible()
        assert focused(page) == "#dialog-back"
        tab_to(page, "#dialog-finish", limit=2)
    press(page, "Enter", navigates=True)
    page.wait_for_url(re.compile(r"/result/$"))
    expect(page.locator("#score-explained")).to_be_visible()

    launch.quiz.refresh_from_db()
    right = sum(1 for number, item in zip(plan, items, strict=True) if number == right_choice(item))
    assert launch.quiz.is_finished
    assert (launch.quiz.correct_answers, launch.quiz.wrong_answers) == (right, 20 - right)
    # Everything was answered and confirmed: nothing is left a draft.
    assert all(item.done in {"in_progress", "completed"} for item in items_of(launch))
