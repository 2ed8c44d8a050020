"""The exam pages' QA round in Chromium: the result's countdown gives time to stay (WCAG 2.2.1),
focus rings and fields hold 3:1 (WCAG 1.4.11), Enter on a choice without JavaScript comes back
to that question, "Confirm and next" with nothing chosen says so where it is seen and tied to
the group, and the title names the current question. (Two Starts of one browser at once:
tests/portal/test_exam_pages.py, over real concurrent HTTP: a double click driven through
Playwright did not reproduce the refusal in Chromium.)"""

import re

import pytest
from playwright.sync_api import expect

from portal.exams import services
from portal.exams.models import Launch, Question
from tests.browser.test_exam_persian import persian_exam
from tests.browser.test_exam_saving_state import choose, items_of, launched, open_exam

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """WCAG's contrast ratio of two sRGB colours (0-255 channels)."""

    def luminance(rgb):
        def channel(c):
            c = c / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(c) for c in rgb[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rgb(css: str) -> tuple[float, ...]:
    """A computed colour, "rgb(1, 2, 3)" or "rgba(1, 2, 3, 1)", as channels; opaque only."""
    parts = [float(x) for x in re.findall(r"[\d.]+", css)]
    assert len(parts) == 3 or parts[3] == 1, css
    return tuple(parts[:3])


BACKGROUNDS = {"white": (255, 255, 255), "page": (246, 247, 251), "chosen": (238, 242, 253)}


def at_the_result(context, portal, launch: Launch):
    page = open_exam(context, portal, launch)
    services.submit_quiz(launch=launch)
    page.goto(f"{portal.url}/exam/{launch.launch_id}/result/")
    return page


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_result_waits_30_seconds_speaks_rarely_and_stay_has_the_focus(
    context_in, portal, customer, language
):
    launch = persian_exam(customer, questions=3) if language == "fa" else launched(customer)
    context = context_in(locale="fa-IR" if language == "fa" else "en-GB")
    # The way back (302 to the customer's site, whose host does not resolve here) answers
    # itself: the test needs only to see the page go there.
    context.route("**/continue/", lambda route: route.fulfill(body="on the way back"))
    page = context.new_page()
    page.clock.install()
    # The start page and Start, by hand: open_exam's page would not have the clock.
    page.goto(f"{portal.url}{services.exam_path(launch)}")
    page.locator("#start").click()
    expect(page.locator("fieldset.question").first).to_be_attached()
    services.submit_quiz(launch=launch)
    page.goto(f"{portal.url}/exam/{launch.launch_id}/result/")
    page.wait_for_load_state("load")
    stay, text = page.locator("#stay"), page.locator("#continue-text")
    announcer = page.locator("#continue-announcer")
    # "Stay on this page" has the focus on arrival, and the countdown as its description.
    expect(stay).to_be_focused()
    expect(stay).to_have_accessible_description(re.compile(r"30|۳۰"))
    # Stay comes before Continue, in the tab order too.
    page.keyboard.press("Tab")
    expect(page.locator("#continue")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(stay).to_be_focused()
    # The shown countdown is no live region; the live one says nothing until 20 seconds left
    # (20 seconds to press "Stay" for whoever missed it on arrival), then nothing more.
    assert text.get_attribute("role") is None and text.get_attribute("aria-live") is None
    spoken = []
    page.expose_function("heard", lambda words: spoken.append(words))
    page.evaluate(
        """() => new MutationObserver(() => window.heard(
             document.getElementById("continue-announcer").textContent))
           .observe(document.getElementById("continue-announcer"),
                    {childList: true, characterData: true, subtree: true})"""
    )
    page.clock.run_for(9_000)
    expect(announcer).to_have_text("")
    page.clock.run_for(1_500)  # 20 seconds left
    expect(announcer).to_have_text(re.compile(r"\b20\b|۲۰"))
    page.clock.run_for(18_000)
    assert page.url.endswith("/result/")  # still here at 28.5 seconds
    assert len(spoken) == 1, spoken
    page.clock.run_for(3_000)
    page.wait_for_url(f"{portal.url}/exam/{launch.launch_id}/continue/")


def test_stay_keeps_the_page_and_the_focus_goes_to_continue(context_in, portal, customer):
    page = at_the_result(context_in(), portal, launched(customer))
    expect(page.locator("#stay")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#stay")).to_be_hidden()
    expect(page.locator("#continue")).to_be_focused()
    expect(page.locator("#continue-text")).to_have_text("")


def test_the_focus_ring_and_the_fields_borders_hold_3_to_1(context_in, portal, customer):
    launch = launched(customer)
    page = open_exam(context_in(), portal, launch)
    first = items_of(launch)[0]
    radio = page.locator(f"#q-{first.question_id} input[value='1']")
    radio.focus()
    page.keyboard.press("ArrowDown")  # the keyboard: :focus-visible
    focused = page.locator(f"#q-{first.question_id} input:focus-visible")
    expect(focused).to_have_count(1)
    style = focused.evaluate(
        "el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth, "
        "s.outlineColor]; }"
    )
    assert style[0] == "solid" and float(style[1].rstrip("px")) >= 2, style
    for name, background in BACKGROUNDS.items():
        ratio = contrast(rgb(style[2]), background)
        assert ratio >= 3, f"focus ring on {name}: {ratio:.2f}"
    # Fields to type in: their border against white and the page.
    borders = page.evaluate(
        """() => ["text", "tel", "email"].map((type) => {
             const input = document.createElement("input"); input.type = type;
             document.querySelector("main").append(input);
             return getComputedStyle(input).borderTopColor; })
           .concat([(() => { const area = document.createElement("textarea");
             document.querySelector("main").append(area);
             return getComputedStyle(area).borderTopColor; })()])"""
    )
    for border in borders:
        for name, background in BACKGROUNDS.items():
            ratio = contrast(rgb(border), background)
            assert ratio >= 3, f"field border {border} on {name}: {ratio:.2f}"


def test_enter_on_a_choice_without_javascript_comes_back_to_that_question(
    context_in, portal, customer
):
    launch = launched(customer, questions=20)
    items = items_of(launch)
    page = open_exam(context_in(javascript=False), portal, launch)
    choose(page, items[0], 2)
    twelfth = items[11]
    radio = page.locator(f"#q-{twelfth.question_id} input[value='3']")
    radio.check()
    radio.press("Enter")  # the form's default button: "Save answers"
    page.wait_for_url(re.compile(rf"saved=1.*#q-{twelfth.question_id}$"))
    question = page.locator(f"#q-{twelfth.question_id}")
    expect(question).to_be_in_viewport()
    expect(question).to_be_focused()
    expect(question.locator("input[value='3']")).to_be_checked()
    assert page.evaluate("window.scrollY") > 0
    expect(page).to_have_title("Question 12 of 20 · Sample exam")


def test_confirm_with_nothing_chosen_says_so_under_the_legend_in_view_and_tied_to_the_group(
    context_in, portal, customer
):
    """The Persian exam without going back, on a phone, with four long choices."""
    launch = persian_exam(customer, questions=3, can_back=False)
    long = "گزینه‌ای بسیار طولانی که چند خط را روی صفحهٔ تلفن پر می‌کند " * 6
    Question.objects.filter(exam_id=launch.quiz.exam_id).update(c1=long, c2=long, c3=long, c4=long)
    page = open_exam(context_in(locale="fa-IR", viewport=PHONE, has_touch=True), portal, launch)
    first = items_of(launch)[0]
    fieldset = page.locator(f"#q-{first.question_id}")
    confirm = fieldset.get_by_role("button", name="تأیید و بعدی")
    confirm.scroll_into_view_if_needed()
    confirm.click()
    error = fieldset.locator(".q-error")
    expect(error).to_be_visible()
    expect(error).to_be_focused()
    expect(error).to_be_in_viewport(ratio=1)
    expect(error).to_have_id(f"q-{first.question_id}-error")
    expect(fieldset).to_have_attribute("aria-describedby", f"q-{first.question_id}-error")
    expect(fieldset.locator("input[aria-invalid=true]")).to_have_count(4)
    # Near the legend: above the choices, below the question's text.
    top = error.bounding_box()["y"]
    assert fieldset.locator(".qtext").bounding_box()["y"] < top
    assert top < fieldset.locator(".choice").first.bounding_box()["y"]
    # The next Tab goes to the choices; a choice made clears it all.
    page.keyboard.press("Tab")
    expect(fieldset.locator("input[type=radio]").first).to_be_focused()
    choose(page, first, 2)
    expect(error).to_be_hidden()
    expect(fieldset.locator("input[aria-invalid]")).to_have_count(0)
    assert fieldset.get_attribute("aria-describedby") is None


@pytest.mark.parametrize(
    "language, first, second",
    [
        ("en", "Question 1 of 3 · Sample exam", "Question 2 of 3 · Sample exam"),
        ("fa", "سوال ۱ از ۳ · آزمون نمونه", "سوال ۲ از ۳ · آزمون نمونه"),
    ],
)
def test_the_title_names_the_question_shown(context_in, portal, customer, language, first, second):
    launch = persian_exam(customer, questions=3) if language == "fa" else launched(customer)
    page = open_exam(context_in(locale="fa-IR" if language == "fa" else "en-GB"), portal, launch)
    expect(page).to_have_title(first)
    page.locator("#next").click()
    expect(page).to_have_title(second)
    page.locator("#palette [data-goto='0']").click()
    expect(page).to_have_title(first)
