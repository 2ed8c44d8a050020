"""A student launched through the sandbox takes an exam in a real browser."""

import json
import re
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from portal.exams.models import Exam, Launch, QuizQuestion
from portal.localize import digits, number
from tests.factories import written_items

pytestmark = pytest.mark.django_db(transaction=True)


def seed_demo() -> dict:
    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def exam_in(demo: dict, language: str) -> Exam:
    eurl = next(e["eurl"] for e in demo["exams"] if e["language"] == language)
    return Exam.objects.get(pk=eurl)


def right_choice(item: QuizQuestion) -> int:
    """The number the candidate must click, as shown in this quiz's (shuffled) order."""
    return item.order.index(item.question.correct) + 1


def wrong_choice(item: QuizQuestion) -> int:
    return right_choice(item) % 4 + 1


START = {"en": "Start", "fa": "شروع"}


def launch_through_sandbox(page, portal, exam: Exam) -> Launch:
    """The sandbox's intro, its "Start exam" (the customer's launch), then our start page and
    its Start button; returns the launch, now held by this browser."""
    page.goto(f"{portal.url}/sandbox/exams/{exam.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(exam.title)
    page.get_by_role("button", name="Start exam").click()
    page.wait_for_url(re.compile(r"/exam/\?launch="))
    launch_id = parse_qs(urlsplit(page.url).query)["launch"][0]
    # exam_url shows the start page first: no question yet, and nothing claimed.
    expect(page.get_by_role("heading", level=1)).to_have_text(exam.title)
    shown = digits(exam.number_of_question, exam.language)  # Persian digits on a Persian page
    expect(page.locator("#start-questions")).to_have_text(shown)
    expect(page.locator("fieldset.question")).to_have_count(0)
    assert Launch.objects.get(pk=launch_id).claimed_at is None
    page.get_by_role("button", name=START[exam.language], exact=True).click()
    expect(page.locator("fieldset.question").first).to_be_attached()
    assert Launch.objects.get(pk=launch_id).claimed_at is not None
    return Launch.objects.select_related("quiz").get(pk=launch_id)


def items_of(launch: Launch) -> list[QuizQuestion]:
    return list(written_items(launch.quiz).select_related("question").order_by("position"))


def test_persian_exam_with_reload_and_lost_connection(page, browser_context, chromium, portal):
    exam = exam_in(seed_demo(), "fa")
    launch = launch_through_sandbox(page, portal, exam)
    items = items_of(launch)
    assert len(items) == 20

    # Started here, the link is this browser's: another device gets a refusal, in Persian.
    other = chromium.new_context(locale="fa-IR")
    try:
        elsewhere = other.new_page()
        elsewhere.goto(page.url)
        expect(elsewhere.locator("html")).to_have_attribute("dir", "rtl")
        expect(elsewhere.locator("#other-browser")).to_be_visible()
        expect(elsewhere.locator("fieldset.question")).to_have_count(0)
    finally:
        other.close()

    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "fa")
    save_state = page.locator("#save-state")
    progress = page.locator("#progress-text")
    expect(page.locator("#timer-value")).to_have_text(re.compile(r"^۲[۴۵]:[۰-۹]{2}$"))

    # Right answers to the first 12, wrong to 13..16; the page shows one question at a time.
    # No going back: each choice is confirmed ("Confirm and next"), which opens the next one.
    plan = {item.question_id: right_choice(item) for item in items[:12]}
    plan |= {item.question_id: wrong_choice(item) for item in items[12:16]}
    for item in items[:10]:
        fieldset = page.locator(f"#q-{item.question_id}")
        expect(fieldset).to_be_visible()
        fieldset.locator(f"input[value='{plan[item.question_id]}']").check()
        fieldset.get_by_role("button", name="تأیید و بعدی").click()
        expect(save_state).to_have_attribute("data-state", "saved")
    expect(progress).to_have_text("۱۰ از ۲۰ پاسخ داده شده")

    # Mid-way reload: nothing is lost, and the page resumes at the first open question.
    page.reload()
    expect(progress).to_have_text("۱۰ از ۲۰ پاسخ داده شده")
    for item in items[:10]:
        assert page.locator(
            f"#q-{item.question_id} input[value='{plan[item.question_id]}']"
        ).is_checked()
    expect(page.locator(f"#q-{items[10].question_id}")).to_be_visible()

    # The network drops: the answer (confirmed) is kept in the page and sent when it returns.
    browser_context.set_offline(True)
    item = items[10]
    page.locator(f"#q-{item.question_id} input[value='{plan[item.question_id]}']").check()
    expect(save_state).to_have_attribute("data-state", "offline")
    page.locator(f"#q-{item.question_id}").get_by_role("button", name="تأیید و بعدی").click()
    assert QuizQuestion.objects.get(pk=item.pk).answer is None
    browser_context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(save_state).to_have_attribute("data-state", "saved")
    saved = QuizQuestion.objects.get(pk=item.pk)
    assert (saved.shown_answer, saved.done) == (plan[item.question_id], "completed")

    # can_back is false: a confirmed question is locked in the page.
    assert page.locator(f"#q-{item.question_id} input:not(:checked)").first.is_disabled()

    for item in items[11:16]:
        fieldset = page.locator(f"#q-{item.question_id}")
        fieldset.locator(f"input[value='{plan[item.question_id]}']").check()
        fieldset.get_by_role("button", name="تأیید و بعدی").click()
        expect(save_state).to_have_attribute("data-state", "saved")

    # Finish: the review first (4 unanswered), its confirmation, then the result, then the
    # sandbox callback.
    page.get_by_role("button", name="پایان آزمون…").click()
    page.wait_for_url(re.compile(r"/finish/$"))
    expect(page.locator(".confirm").first).to_contain_text("به ۱۶ سوال از ۲۰ سوال پاسخ داده‌اید.")
    page.get_by_role("button", name="پایان آزمون و دیدن نتیجه").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="پایان آزمون").click()

    page.wait_for_url(re.compile(r"/result/$"))
    launch.quiz.refresh_from_db()
    weights = {item.question_id: item.question.weight for item in items}
    earned = sum(weights[qid] for qid in list(plan)[:12])
    expected = round(earned / sum(weights.values()) * 100, 2)
    assert launch.quiz.percentage == expected
    assert launch.quiz.correct_answers == 12 and launch.quiz.wrong_answers == 4
    expect(page.locator(".verdict")).to_have_text("قبول" if expected >= 60 else "مردود")
    expect(page.locator("#result-percentage")).to_have_text(number(expected, 2, "fa"))

    page.get_by_role("link", name="ادامه").click()
    page.wait_for_url(re.compile(r"/sandbox/exams/callback/\?"))
    expect(page.locator("#signature-status")).to_have_attribute("data-valid", "true")
    expect(page.locator("td[data-param='percentage']")).to_have_text(f"{expected:g}")
    expect(page.locator("td[data-param='launch_id']")).to_have_text(str(launch.launch_id))
    expect(page.locator("td[data-param='state']")).to_have_text("completed")


def test_english_exam_without_javascript(chromium, portal):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        exam = exam_in(seed_demo(), "en")
        launch = launch_through_sandbox(page, portal, exam)
        items = items_of(launch)
        expect(page.locator("html")).to_have_attribute("dir", "ltr")
        # Without JS every question is on the page, a plain form.
        expect(page.locator("fieldset.question")).to_have_count(len(items))
        for item in items[:3]:
            page.get_by_role("radio", name=item.question.choice(item.question.correct)).check()
        page.get_by_role("button", name="Save answers").click()
        expect(
            page.get_by_role("status").filter(has_text="Your answers are saved.")
        ).to_be_visible()
        expect(page.locator("#progress-text")).to_have_text(f"3 of {len(items)} answered")

        page.get_by_role("button", name="Finish exam…").click()
        expect(page.get_by_role("heading", name="Finish the exam?")).to_be_visible()
        page.get_by_role("button", name="Finish and see my result").click()
        expect(page.locator(".verdict")).to_have_text("Not passed")
        launch.quiz.refresh_from_db()
        assert launch.quiz.correct_answers == 3
        page.get_by_role("link", name="Continue").click()
        expect(page.locator("#signature-status")).to_have_attribute("data-valid", "true")
    finally:
        context.close()


def test_keyboard_only_answering(page, portal):
    exam = exam_in(seed_demo(), "en")
    launch = launch_through_sandbox(page, portal, exam)
    first = items_of(launch)[0]
    radios = page.locator(f"#q-{first.question_id}").get_by_role("radio")
    expect(radios).to_have_count(4)
    radios.first.focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    first.refresh_from_db()
    assert first.shown_answer == 2


def test_a_choice_made_before_the_script_runs_is_saved(page, portal):
    """On a slow connection the questions show before exam.js has run: a choice made then is
    saved once it does, not lost because no one was listening."""
    held = []
    page.route("**/exam/exam*.js", lambda route: held.append(route))
    exam = exam_in(seed_demo(), "en")
    launch = launch_through_sandbox(page, portal, exam)
    first = items_of(launch)[0]
    radios = page.locator(f"#q-{first.question_id}").get_by_role("radio")
    radios.nth(2).press("Space")  # now, not after the load event
    expect(radios.nth(2)).to_be_checked()
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(25)
    assert held, "the page never asked for exam.js"
    expect(page.locator("#save-state")).not_to_have_attribute("data-state", "saved")
    for route in held:
        route.continue_()
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    first.refresh_from_db()
    assert first.shown_answer == 3


def test_back_on_the_page_shows_the_answer_saved_since_not_the_one_chosen_here(page, portal):
    """The candidate changed the answer on another device: this page, opened again with the
    browser's Back, shows that one; neither the browser (which restores a form's choices on
    Back) nor exam.js puts back, and saves, the choice made here before."""
    exam = exam_in(seed_demo(), "en")
    launch = launch_through_sandbox(page, portal, exam)
    first = items_of(launch)[0]
    page.locator(f"#q-{first.question_id} input[value='2']").check()
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    first.refresh_from_db()
    elsewhere = first.order[2]  # shown here as choice 3
    QuizQuestion.objects.filter(pk=first.pk).update(answer=elsewhere)
    page.goto(f"{portal.url}/healthz")
    page.go_back()
    radios = page.locator(f"#q-{first.question_id} input[type=radio]")
    expect(radios.nth(2)).to_be_checked()
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    page.wait_for_timeout(300)  # a save would have been sent by now
    first.refresh_from_db()
    assert first.answer == elsewhere


def test_without_going_back_a_skipped_question_stays_reachable(page, portal):
    exam = exam_in(seed_demo(), "fa")  # can_back is false
    launch = launch_through_sandbox(page, portal, exam)
    first, second, third = items_of(launch)[:3]
    page.locator(f"#q-{first.question_id} input[value='{right_choice(first)}']").check()
    page.get_by_role("button", name="تأیید و بعدی").click()  # final, on to the second
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    page.get_by_role("button", name="بعداً پاسخ می‌دهم").click()  # skip it, to the third
    expect(page.locator(f"#q-{third.question_id}")).to_be_visible()
    page.get_by_role("button", name="قبلی").click()
    expect(page.locator(f"#q-{second.question_id}")).to_be_visible()  # not the answered first
    expect(page.get_by_role("button", name="قبلی")).to_be_disabled()
    expect(page.get_by_role("button", name="سوال ۱، پاسخ داده شده")).to_be_disabled()
