"""Issue 12: flag for review, the review page before submitting (as Moodle's quiz summary) and
its confirmation focused on the safe button; an h1 on every exam page, a skip link to the
current question and the palette after it. Real Chromium, JavaScript on and off."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from portal.exams.models import QuizQuestion
from tests.browser.test_exam_answering import (
    CONFIRM,
    SKIP,
    candidate,
    eventually,
    focused,
    items_of,
    launched,
    stored,
    tab_to,
)

pytestmark = pytest.mark.django_db(transaction=True)

FLAG = {"en": "Flag for review", "fa": "علامت‌گذاری برای بازبینی"}


def flagged(item) -> bool:
    item.refresh_from_db()
    return item.flagged


def test_a_flag_is_kept_on_the_server_and_shown_in_the_palette(new_context, portal):
    page = candidate(new_context, "en")
    launch = launched(page, portal, "en")
    first, second = items_of(launch)[:2]
    page.locator(f"#q-{first.question_id} label.choice").nth(1).click()
    page.get_by_role("button", name="Next").click()
    toggle = page.locator(f"#q-{second.question_id}").get_by_role("button", name=FLAG["en"])
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    eventually(lambda: flagged(second))
    palette_button = page.locator('#palette [data-goto="1"]')
    expect(palette_button).to_have_class(re.compile(r"\bflagged\b"))
    expect(palette_button).to_have_attribute("aria-label", "Question 2, flagged")
    expect(page.locator('#palette [data-goto="0"]')).to_have_attribute(
        "aria-label", "Question 1, answered"
    )

    page.reload()
    expect(page.locator('#palette [data-goto="1"]')).to_have_attribute(
        "aria-label", "Question 2, flagged"
    )
    page.locator('#palette [data-goto="1"]').click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()  # and off again
    expect(toggle).to_have_attribute("aria-pressed", "false")
    eventually(lambda: not flagged(second))
    expect(page.locator('#palette [data-goto="1"]')).not_to_have_class(re.compile("flagged"))


def test_a_flag_without_javascript(new_context, portal):
    page = candidate(new_context, "fa", javascript=False)
    launch = launched(page, portal, "fa")
    third = items_of(launch)[2]
    q3 = page.locator(f"#q-{third.question_id}")
    q3.locator("input[value='2']").check()
    with page.expect_navigation():
        q3.get_by_role("button", name=FLAG["fa"]).click()
    assert urlsplit(page.url).fragment == f"q-{third.question_id}"
    assert flagged(third) and stored(third) == (2, "draft")  # the choice kept, not final
    expect(q3.get_by_role("button", name=FLAG["fa"])).to_have_attribute("aria-pressed", "true")


def review_table(page) -> list[tuple[str, bool, str]]:
    """(question, is a link, state) per row of the review page."""
    rows = page.locator("#review-table tbody tr").evaluate_all(
        """rows => rows.map(row => [
             row.querySelector("th").innerText.trim(),
             !!row.querySelector("th a"),
             row.querySelector("td").innerText.trim(),
           ])"""
    )
    return [tuple(row) for row in rows]


def test_the_review_page_leads_back_and_the_dialog_focuses_the_safe_button(new_context, portal):
    page = candidate(new_context, "fa")
    launch = launched(page, portal, "fa")
    first, second, third = items_of(launch)[:3]
    # The first confirmed (final), the second chosen and skipped (a draft), the third flagged.
    q1 = page.locator(f"#q-{first.question_id}")
    q1.locator("label.choice").nth(0).click()
    q1.get_by_role("button", name=CONFIRM["fa"]).click()
    page.locator(f"#q-{second.question_id} label.choice").nth(2).click()
    page.get_by_role("button", name=SKIP["fa"]).click()
    page.locator(f"#q-{third.question_id}").get_by_role("button", name=FLAG["fa"]).click()
    eventually(lambda: flagged(third) and stored(second) == (3, "draft"))

    page.get_by_role("button", name="پایان آزمون…").click()
    page.wait_for_url(re.compile(r"/finish/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("مرور پاسخ‌ها")
    rows = review_table(page)
    assert len(rows) == 20
    assert rows[:4] == [
        ("سوال ۱", False, "پاسخ داده شده"),  # final: no way back in this exam
        ("سوال ۲", True, "انتخاب شده، تأیید نشده"),
        ("سوال ۳", True, "بی‌پاسخ علامت‌دار"),
        ("سوال ۴", True, "بی‌پاسخ"),
    ]
    expect(page.locator("#review-summary")).to_have_text(
        "به ۲ سوال از ۲۰ سوال پاسخ داده‌اید. ۱ سوال برای بازبینی علامت‌گذاری شده است."
    )

    # A link opens that question on the exam page, its draft still chosen.
    page.get_by_role("link", name="سوال ۲", exact=True).click()
    q2 = page.locator(f"#q-{second.question_id}")
    expect(q2).to_be_visible()
    expect(q2).to_be_focused()
    expect(q2.locator("input[value='3']")).to_be_checked()

    # Finish: the review, then a dialog whose focus starts on going back.
    page.get_by_role("button", name="پایان آزمون…").click()
    page.wait_for_url(re.compile(r"/finish/$"))
    page.get_by_role("button", name="پایان آزمون و دیدن نتیجه").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="بازگشت به مرور")).to_be_focused()
    page.keyboard.press("Enter")  # the safe choice: nothing is submitted
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="پایان آزمون و دیدن نتیجه")).to_be_focused()
    launch.quiz.refresh_from_db()
    assert not launch.quiz.is_finished

    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="بازگشت به مرور")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="پایان آزمون و دیدن نتیجه").click()
    dialog.get_by_role("button", name="پایان آزمون").click()
    page.wait_for_url(re.compile(r"/result/$"))
    launch.quiz.refresh_from_db()
    assert launch.quiz.is_finished and launch.quiz.correct_answers + launch.quiz.wrong_answers == 2


def test_with_going_back_the_review_links_every_question(new_context, portal):
    page = candidate(new_context, "en", javascript=False)
    launch = launched(page, portal, "en")
    first = items_of(launch)[0]
    page.locator(f"#q-{first.question_id} input[value='1']").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Finish exam…").click()
    rows = review_table(page)
    assert rows[0] == ("Question 1", True, "Answered") and all(link for _q, link, _s in rows)
    page.get_by_role("link", name="Question 1", exact=True).click()
    assert urlsplit(page.url).fragment == f"q-{first.question_id}"
    expect(page.locator(f"#q-{first.question_id} input[value='1']")).to_be_checked()
    # Without JavaScript the review page's button is the confirmation.
    with page.expect_navigation():
        page.get_by_role("button", name="Finish exam…").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Finish and see my result").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your result")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_every_exam_page_has_an_h1(new_context, portal, javascript):
    page = candidate(new_context, "en", javascript=javascript)
    launch = launched(page, portal, "en")
    title = launch.quiz.exam.title
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    page.goto(f"{portal.url}/exam/{launch.launch_id}/finish/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your answers")
    page.get_by_role("button", name="Finish and see my result").click()
    if javascript:
        page.get_by_role("button", name="Finish now").click()
    page.wait_for_url(re.compile(r"/result/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your result")
    # The demo's questions weigh 1 or 2: the result says so.
    expect(page.locator("#score-explained")).to_contain_text(
        "Questions in this exam carry different weights, from 1 to 2"
    )


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_skip_link_leads_to_the_current_question_before_the_palette(
    new_context, portal, javascript
):
    page = candidate(new_context, "fa", javascript=javascript, phone=True)
    launch = launched(page, portal, "fa")
    items = items_of(launch)
    # Three answered for good: the current question is the fourth.
    QuizQuestion.objects.filter(pk__in=[item.pk for item in items[:3]]).update(
        answer=1, done="completed"
    )
    page.reload()
    current = page.locator(f"#q-{items[3].question_id}")

    assert tab_to(page, "a.skip-link[href='#main']") == 1
    assert tab_to(page, "#skip-to-question") == 1
    expect(page.locator("#skip-to-question")).to_have_attribute(
        "href", f"#q-{items[3].question_id}"
    )
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.type") == "radio"
    assert current.locator("input").evaluate_all(
        "inputs => inputs.includes(document.activeElement)"
    )
    # From the top, the current question's first choice comes before any palette button.
    page.goto(page.url.split("#")[0])
    presses = tab_to(page, f"#q-{items[3].question_id} input[type=radio]")
    if javascript:
        assert presses <= 3, presses  # the two skip links, then the question
    assert page.locator("#palette button:focus").count() == 0
    order = page.evaluate(
        """() => [...document.querySelectorAll('fieldset.question, #palette')]
               .map(e => e.id === 'palette' ? 'palette' : 'question')"""
    )
    assert order.index("palette") == len(order) - 1
    assert focused(page) == f"input[q{items[3].question_id}]"
