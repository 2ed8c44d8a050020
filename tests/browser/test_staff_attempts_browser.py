"""Extra time in Chromium: an operator gives 10 minutes on the attempt's page and the
candidate's open exam page counts down from the new deadline without a reload; and the
attempt's actions without JavaScript (re-open, the signed callback link)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.customers.models import ClientToken
from portal.exams import services
from portal.exams import views as exam_views
from portal.exams.models import Quiz
from tests.factories import make_exam, sign_in_without_javascript, written_items

pytestmark = pytest.mark.django_db(transaction=True)


def launch_for(customer, exam, callback: str):
    token, _ = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid="stu-1", mobile="0912", eurl=exam.pk, callback_url=callback
    )
    return launch


def seconds_left(page) -> int:
    text = page.locator("#timer-value").inner_text()
    parts = [int(n) for n in text.split(":")]
    return (parts[0] * 3600 if len(parts) == 3 else 0) + parts[-2] * 60 + parts[-1]


def csp_watch(page, violations: list[str]):
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )
    return page


def test_an_operator_gives_10_minutes_and_the_candidates_countdown_grows(
    new_context, staff_page, portal, operator, customer, monkeypatch
):
    # The page asks for the time left every 20 s; here every second, to keep the test short.
    monkeypatch.setattr(exam_views, "TIME_SYNC_SECONDS", 1)
    exam = make_exam(customer, questions=3, duration=30)
    launch = launch_for(customer, exam, f"{portal.url}/sandbox/exams/callback/")
    violations: list[str] = []

    # The candidate's own browser (the operator signs in in another one).
    candidate = csp_watch(new_context(locale="en-US").new_page(), violations)
    candidate.goto(f"{portal.url}{services.exam_path(launch)}")
    candidate.get_by_role("button", name="Start", exact=True).click()  # the start page
    expect(candidate.locator("#timer-value")).to_have_text(re.compile(r"^(29|30):\d\d$"))
    before = seconds_left(candidate)
    # A mark in the page's own window: a reload would lose it.
    candidate.evaluate("window.notReloaded = true")

    console = csp_watch(staff_page(operator), violations)
    console.goto(f"{portal.url}/staff/attempts/{launch.quiz.pk}/")
    expect(console.locator("#attempt-extra")).to_have_text("0")
    console.locator("#extend-form input[name=minutes]").fill("10")
    with console.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        console.get_by_role("button", name="Add time").click()
    expect(console.locator("#messages")).to_contain_text("10 minutes added")
    expect(console.locator("#attempt-extra")).to_have_text("10")

    # The candidate's countdown follows, by itself: about ten minutes more than before.
    expect(candidate.locator("#timer-value")).to_have_text(re.compile(r"^(39|40):\d\d$"))
    after = seconds_left(candidate)
    assert 9 * 60 < after - before <= 10 * 60 + 2
    assert candidate.evaluate("window.notReloaded") is True
    quiz = Quiz.objects.get(pk=launch.quiz.pk)
    server_left = (quiz.deadline_at - timezone.now()).total_seconds()
    assert abs(server_left - seconds_left(candidate)) < 5

    # The candidate still answers and the page says it is saved.
    item = written_items(launch.quiz).order_by("position").first()
    candidate.locator(f"#q-{item.question_id} input[value='2']").check()
    expect(candidate.locator("#save-state")).to_have_attribute("data-state", "saved")
    assert violations == []


def test_reopen_and_the_callback_link_without_javascript(chromium, portal, operator, customer):
    exam = make_exam(customer, questions=3, duration=30)
    launch = launch_for(customer, exam, "https://lms.example.org/back")
    # The candidate's connection died; the deadline closed the attempt.
    Quiz.objects.filter(pk=launch.quiz.pk).update(deadline_at=timezone.now() - timedelta(minutes=1))
    services.finish_expired_quizzes()

    context, page = sign_in_without_javascript(chromium, portal, operator)
    try:
        attempt_url = f"{portal.url}/staff/attempts/{launch.quiz.pk}/"
        page.goto(f"{portal.url}/staff/students/?accommodation=&q=stu-1")
        page.get_by_role("link", name="stu-1").click()
        page.get_by_role("link", name=f"Attempt {launch.quiz.pk}").click()
        page.wait_for_url(attempt_url)
        expect(page.locator("#attempt-state")).to_have_text("completed")

        # The signed link: a read-only field to copy from by hand (the copy button needs JS).
        page.get_by_role("button", name="Signed callback link").click()
        page.wait_for_url(f"{attempt_url}#callback")
        link = page.locator("#callback-link")
        expect(link).to_have_value(re.compile(r"^https://lms\.example\.org/back\?.*signature="))
        assert link.get_attribute("readonly") is not None
        expect(page.locator("button[data-copy]")).to_be_hidden()
        launch.quiz.refresh_from_db()
        assert link.input_value() == services.redirect_url(launch)

        # Re-open: the plain form posts and the page comes back with the message.
        page.locator("#reopen-form input[name=minutes]").fill("15")
        page.get_by_role("button", name="Re-open", exact=True).click()
        page.wait_for_url(attempt_url)
        expect(page.locator("#messages")).to_contain_text("The attempt is open again until")
        expect(page.locator("#attempt-state")).to_have_text("started")
        expect(page.locator("#extend-form")).to_be_visible()
        quiz = Quiz.objects.get(pk=launch.quiz.pk)
        assert quiz.state == "started" and quiz.reopened_at is not None
    finally:
        context.close()
