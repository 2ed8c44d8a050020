"""Issue 12, Persian throughout, in Chromium: a Persian exam's start page, header, palette,
questions' numbers, progress, confirmation, result and countdown use Persian digits and the
Persian percent sign, and its dates the Solar Hijri calendar, with JavaScript and without;
the browser writes the deadline in its own zone exactly as the server writes it in Tehran's.
English pages keep Latin digits and the Gregorian calendar."""

import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from portal import localize
from portal.exams.models import Question, Quiz
from tests.browser.test_exam_saving_state import (
    choose,
    deadline_shown,
    items_of,
    launched,
    open_exam,
)

pytestmark = pytest.mark.django_db(transaction=True)

LATIN_DIGIT = re.compile(r"[0-9]")
PERSIAN_DIGIT = re.compile(r"[۰-۹]")


def persian_exam(customer, **fields):
    """A Persian exam whose texts hold no digit, so that every digit on its pages is the
    page's own."""
    launch = launched(customer, language="fa", title="آزمون نمونه", **fields)
    for question in Question.objects.filter(exam_id=launch.quiz.exam_id):
        question.description = "کدام گزینه درست است؟"
        question.c1, question.c2, question.c3, question.c4 = ("الف", "ب", "پ", "ت")
        question.save()
    return launch


def visible_text(page, selector: str = "body") -> str:
    return page.locator(selector).inner_text()


def test_a_persian_exam_with_javascript_writes_persian_digits_and_jalali_dates(
    context_in, portal, customer
):
    launch = persian_exam(customer, questions=3, duration=25)
    first = items_of(launch)[0]
    deadline = Quiz.objects.get(pk=launch.quiz_id).deadline_at
    page = context_in("Asia/Tehran", locale="fa-IR").new_page()

    # The start page.
    page.goto(f"{portal.url}/exam/?launch={launch.launch_id}")
    expect(page.locator("#start-questions")).to_have_text("۳")
    expect(page.locator("#start-duration")).to_have_text("۲۵ دقیقه")
    expect(page.locator("#start-time-left")).to_have_text(re.compile(r"^[۲][۴۵] دقیقه$"))
    # Solar Hijri, Persian month names; in Tehran the browser writes what the server wrote.
    jalali = localize.format_datetime(deadline, "fa")
    assert re.fullmatch(r"[۰-۹]{1,2} \S+ ۱۴[۰-۹]{2} ساعت [۰-۹]{2}:[۰-۹]{2}", jalali), jalali
    expect(page.locator("#start-deadline")).to_have_text(jalali)
    assert not LATIN_DIGIT.search(visible_text(page, "main"))

    page.locator("#start").click()
    expect(page.locator("fieldset.question").first).to_be_visible()
    page.wait_for_load_state("load")  # its deferred scripts ran: a choice is sent
    header = page.locator(".site-header")
    expect(page.locator("#timer-value")).to_have_text(re.compile(r"^[۰-۹]{1,2}:[۰-۹]{2}$"))
    expect(page.locator("#progress-text")).to_have_text("۰ از ۳ پاسخ داده شده")
    expect(page.locator("#save-state")).to_have_text("هنوز پاسخی ذخیره نشده است")
    expect(page.locator(f"#q-{first.question_id} .qnum")).to_have_text("سوال ۱ از ۳")
    expect(page.locator("#palette button")).to_have_text(["۱", "۲", "۳"])
    expect(page.locator("#deadline-note")).to_contain_text(f"آزمون در {jalali} به پایان می‌رسد.")

    choose(page, first)
    expect(page.locator("#save-state")).to_have_text("۱ پاسخ ذخیره شده")
    expect(page.locator("#progress-text")).to_have_text("۱ از ۳ پاسخ داده شده")
    expect(page.locator("#palette button").first).to_have_attribute(
        "aria-label", re.compile(r"^سوال ۱، پاسخ داده شده")
    )
    assert not LATIN_DIGIT.search(visible_text(page, ".site-header"))
    assert PERSIAN_DIGIT.search(header.inner_text())
    assert not LATIN_DIGIT.search(visible_text(page, "main"))

    # The review and the confirmation, then the result: 1 of 3 right is 33.33 %.
    page.locator("#finish").click()
    confirm = page.get_by_role("button", name="پایان آزمون و دیدن نتیجه")
    expect(confirm).to_be_visible()
    review = visible_text(page, "main")
    assert "۱" in review and "۳" in review and not LATIN_DIGIT.search(review)
    confirm.click()
    page.locator("#dialog-finish").click()
    page.wait_for_url(re.compile(r"/result/$"))
    expect(page.locator(".score")).to_have_text("۳۳٫۳۳٪")
    expect(page.locator("#result-correct")).to_have_text("۱")
    expect(page.locator(".figures")).to_contain_text("۶۰٪")  # the pass mark
    expect(page.locator("#continue-text")).to_have_text(re.compile(r"[۰-۹]"))
    page.get_by_role("button", name="ماندن در این صفحه").click()
    assert not LATIN_DIGIT.search(visible_text(page, "main"))


def test_a_persian_exam_without_javascript_states_the_deadline_in_tehran_time(
    context_in, portal, customer
):
    launch = persian_exam(customer, questions=2)
    first, _second = items_of(launch)
    page = open_exam(context_in("Europe/Berlin", javascript=False, locale="fa-IR"), portal, launch)
    deadline = Quiz.objects.get(pk=launch.quiz_id).deadline_at

    # Without a script nothing knows the candidate's zone: Tehran's, named.
    expect(page.locator("#timer-label")).to_have_text("زمان پایان")
    shown = deadline_shown(deadline, "fa")
    expect(page.locator("#timer-value")).to_have_text(f"{shown} (به وقت تهران)")
    expect(page.locator("#deadline-note")).to_have_text(
        f"آزمون در {localize.format_datetime(deadline, 'fa')} (به وقت تهران) به پایان می‌رسد.",
        use_inner_text=True,
    )
    expect(page.locator("#timeup-rule-nojs")).to_contain_text("۳۰ دقیقه باقی مانده بود")
    expect(page.locator("#save-state")).to_have_text("هنوز پاسخی ذخیره نشده است")
    page.locator(f"#q-{first.question_id} input[value='2']").check()
    page.locator("#save-all").click()
    expect(page.locator("#save-state")).to_have_text("۱ پاسخ ذخیره شده")
    expect(page.locator("#progress-text")).to_have_text("۱ از ۲ پاسخ داده شده")
    assert not LATIN_DIGIT.search(visible_text(page, ".site-header"))
    assert not LATIN_DIGIT.search(visible_text(page, "main"))


def test_the_browser_writes_the_deadline_in_its_own_zone_in_the_jalali_calendar(
    context_in, portal, customer
):
    launch = persian_exam(customer, questions=2)
    page = open_exam(context_in("America/Los_Angeles", locale="fa-IR"), portal, launch)
    deadline = Quiz.objects.get(pk=launch.quiz_id).deadline_at
    # Python (jdatetime) and the browser (Intl's Persian calendar) agree, in any zone.
    local = localize.format_datetime(deadline, "fa", ZoneInfo("America/Los_Angeles"))
    expect(page.locator("#deadline-note time")).to_have_text(local)
    expect(page.locator("#deadline-note")).not_to_contain_text("تهران")


def test_english_pages_keep_latin_digits_and_the_gregorian_calendar(context_in, portal, customer):
    launch = launched(customer, questions=2)
    first, _second = items_of(launch)
    deadline = Quiz.objects.get(pk=launch.quiz_id).deadline_at
    page = context_in("Europe/London").new_page()
    page.goto(f"{portal.url}/exam/?launch={launch.launch_id}")
    london = localize.format_datetime(deadline, "en", ZoneInfo("Europe/London"))
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ 20\d\d at \d\d:\d\d", london), london
    expect(page.locator("#start-deadline")).to_have_text(london)
    page.locator("#start").click()
    expect(page.locator("fieldset.question").first).to_be_attached()
    page.wait_for_load_state("load")  # its deferred scripts ran: a choice is sent
    choose(page, first)
    expect(page.locator("#save-state")).to_have_text("1 answer saved")
    expect(page.locator("#progress-text")).to_have_text("1 of 2 answered")
    expect(page.locator("#timer-value")).to_have_text(re.compile(r"^\d{1,2}:\d\d$"))
    assert not PERSIAN_DIGIT.search(visible_text(page))
