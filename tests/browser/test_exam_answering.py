"""Issue 12: in an exam without going back choosing is not committing, and the radios keep
their size on a phone. Real Chromium, with JavaScript on and off. (The helpers here serve
test_exam_review.py and test_exam_keyboard.py too.)"""

import re
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from portal.exams.models import Launch, Question, QuizQuestion
from tests.browser.test_exam_flow import exam_in, right_choice, seed_demo
from tests.factories import written_items

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 740}
CONFIRM = {"en": "Confirm and next", "fa": "تأیید و بعدی"}
SKIP = {"en": "Next", "fa": "بعداً پاسخ می‌دهم"}


def candidate(new_context, language: str, *, javascript: bool = True, phone: bool = False):
    """A page in a browser context as the candidate's: their locale, JavaScript on or off."""
    return new_context(
        locale="fa-IR" if language == "fa" else "en-GB",
        java_script_enabled=javascript,
        **({"viewport": PHONE} if phone else {}),
    ).new_page()


def launched(page, portal, language: str) -> Launch:
    """The demo exam in `language` (fa: no going back), launched from the sandbox's intro and
    started here; returns the launch."""
    exam = exam_in(seed_demo(), language)
    page.goto(f"{portal.url}/sandbox/exams/{exam.pk}/")
    page.locator("#start-exam").click()
    page.wait_for_url(re.compile(r"/exam/\?launch="))
    page.locator("#start").click()
    expect(page.locator("fieldset.question").first).to_be_attached()
    page.wait_for_load_state("load")
    launch_id = parse_qs(urlsplit(page.url).query)["launch"][0]
    return Launch.objects.select_related("quiz__exam").get(pk=launch_id)


def items_of(launch: Launch) -> list[QuizQuestion]:
    return list(written_items(launch.quiz).select_related("question").order_by("position"))


def stored(item: QuizQuestion) -> tuple[int | None, str]:
    """The answer the server holds (as the candidate numbers the choices) and its `done`."""
    item.refresh_from_db()
    return item.shown_answer, item.done


def eventually(check: Callable[[], object], timeout: float = 10) -> None:
    """Wait until the server holds what the page sent (the saves are asynchronous)."""
    ends = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < ends, "the server never got there"
        time.sleep(0.1)


def tab_to(page, selector: str, *, limit: int = 60, back: bool = False) -> int:
    """Press Tab (Shift+Tab with `back`) until the focused element matches `selector`; return
    how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate("s => !!document.activeElement?.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} never got the focus in {limit} Tabs")


def focused(page) -> str:
    """The focused element, as a short description for assertions."""
    return page.evaluate(
        "() => { const e = document.activeElement; return e.id ? '#' + e.id"
        " : e.tagName.toLowerCase() + (e.name ? '[' + e.name + ']' : ''); }"
    )


def test_without_going_back_choosing_is_free_and_confirm_commits(new_context, portal):
    page = candidate(new_context, "fa")
    launch = launched(page, portal, "fa")
    first, second, third, fourth, fifth = items_of(launch)[:5]
    q1 = page.locator(f"#q-{first.question_id}")

    # Arrowing through the choices (keyboard): each is kept as a draft, nothing locks.
    q1.locator("input[type=radio]").first.focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    eventually(lambda: stored(first) == (3, "draft"))
    expect(q1.locator("input:disabled")).to_have_count(0)
    page.keyboard.press("ArrowUp")
    eventually(lambda: stored(first) == (2, "draft"))
    expect(q1.locator("input[value='2']")).to_be_checked()

    # "Confirm and next" by keyboard: final, and the next question opens.
    tab_to(page, f"#q-{first.question_id} button.confirm")
    page.keyboard.press("Enter")
    expect(page.locator(f"#q-{second.question_id}")).to_be_visible()
    expect(q1).to_be_hidden()
    eventually(lambda: stored(first) == (2, "completed"))
    expect(page.locator('#palette [data-goto="0"]')).to_be_disabled()
    expect(page.get_by_role("button", name="قبلی")).to_be_disabled()

    # By mouse: a mis-click is put right, then the button commits.
    q2 = page.locator(f"#q-{second.question_id}")
    q2.locator("label.choice").nth(0).click()
    q2.locator("label.choice").nth(3).click()
    eventually(lambda: stored(second) == (4, "draft"))
    expect(q2.locator("input:disabled")).to_have_count(0)
    q2.get_by_role("button", name=CONFIRM["fa"]).click()
    expect(page.locator(f"#q-{third.question_id}")).to_be_visible()
    eventually(lambda: stored(second) == (4, "completed"))

    # Enter on a choice is the question's own button: confirm and next.
    q3 = page.locator(f"#q-{third.question_id}")
    q3.locator(f"input[value='{right_choice(third)}']").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(page.locator(f"#q-{fourth.question_id}")).to_be_visible()
    eventually(lambda: stored(third) == (right_choice(third), "completed"))

    # Confirming nothing says so; skipping leaves the question open.
    q4 = page.locator(f"#q-{fourth.question_id}")
    q4.get_by_role("button", name=CONFIRM["fa"]).click()
    expect(q4.get_by_role("alert")).to_have_text(
        "اول یک گزینه انتخاب کنید، یا فعلاً از این سوال بگذرید."
    )
    expect(q4).to_be_visible()
    q4.locator("label.choice").nth(1).click()  # a draft, then skipped
    page.get_by_role("button", name=SKIP["fa"]).click()
    expect(page.locator(f"#q-{fifth.question_id}")).to_be_visible()
    expect(page.locator('#palette [data-goto="3"]')).to_be_enabled()
    eventually(lambda: stored(fourth) == (2, "draft"))

    # A reload resumes at the first question still open (the draft), the others locked.
    page.reload()
    expect(q4).to_be_visible()
    expect(q4.locator("input[value='2']")).to_be_checked()
    expect(q4.locator("input:disabled")).to_have_count(0)
    assert page.locator(f"#q-{first.question_id} input:disabled").count() == 4
    assert stored(first) == (2, "completed") and stored(fourth) == (2, "draft")


def test_with_going_back_choosing_is_saving(new_context, portal):
    page = candidate(new_context, "en")
    launch = launched(page, portal, "en")
    first = items_of(launch)[0]
    q1 = page.locator(f"#q-{first.question_id}")
    expect(q1.get_by_role("button", name=CONFIRM["en"])).to_have_count(0)
    q1.locator("label.choice").nth(2).click()
    eventually(lambda: stored(first) == (3, "in_progress"))
    q1.locator("label.choice").nth(0).click()
    eventually(lambda: stored(first) == (1, "in_progress"))
    expect(q1.locator("input:disabled")).to_have_count(0)
    # Enter on a choice goes on to the next question (nothing to confirm here).
    q1.locator("input[value='1']").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#q-{items_of(launch)[1].question_id}")).to_be_visible()
    expect(q1).to_be_hidden()


def test_without_javascript_the_forms_button_commits(new_context, portal):
    page = candidate(new_context, "fa", javascript=False)
    launch = launched(page, portal, "fa")
    first, second = items_of(launch)[:2]
    q1, q2 = page.locator(f"#q-{first.question_id}"), page.locator(f"#q-{second.question_id}")
    q1.locator("input[value='3']").check()
    q2.locator("input[value='1']").check()
    with page.expect_navigation():
        q1.get_by_role("button", name=CONFIRM["fa"]).click()
    # Back on the page at the next question still open, the confirmed one locked.
    assert urlsplit(page.url).fragment == f"q-{second.question_id}"
    assert stored(first) == (3, "completed") and stored(second) == (1, "draft")
    expect(q1.locator("input:disabled")).to_have_count(4)
    expect(q1.get_by_role("button", name=CONFIRM["fa"])).to_have_count(0)
    expect(q2.locator("input[value='1']")).to_be_checked()

    # Enter on a choice presses the form's default button, "Save answers": drafts only.
    q2.locator("input[value='4']").check()
    q2.locator("input[value='4']").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="پاسخ‌هایتان ذخیره شد.")).to_be_visible()
    assert stored(second) == (4, "draft")
    expect(q2.locator("input:disabled")).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "fa"])
def test_radio_buttons_keep_their_size_when_a_label_wraps(new_context, portal, language):
    exam = exam_in(seed_demo(), language)
    long_label = {
        "en": "A choice whose words go on and on, much longer than a phone's line, to wrap",
        "fa": "گزینه‌ای که متنش بسیار بلندتر از یک سطر صفحه گوشی است و چند سطر می‌شود",
    }[language]
    Question.objects.filter(exam=exam).update(c1=long_label * 2, c2="Yes", c3="No", c4="Maybe")
    page = candidate(new_context, language, phone=True)
    launch = launched(page, portal, language)
    # The first choice shown is the bank's c1 only where choices are not shuffled: measure
    # whichever choice holds the long label against the others.
    fieldset = page.locator(f"#q-{items_of(launch)[0].question_id}")
    boxes = fieldset.locator("label.choice").evaluate_all(
        """labels => labels.map(l => {
             const r = l.querySelector("input").getBoundingClientRect();
             return {text: l.innerText.length, height: l.getBoundingClientRect().height,
                     width: r.width, radioHeight: r.height};
           })"""
    )
    longest = max(boxes, key=lambda box: box["text"])
    shortest = min(boxes, key=lambda box: box["text"])
    assert longest["height"] > 2.5 * shortest["height"]  # it wraps onto several lines
    assert longest["width"] == shortest["width"] and longest["width"] >= 17
    assert longest["radioHeight"] == shortest["radioHeight"]
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
