"""Issue 12, the exam's header in Chromium: it says what the server holds and nothing more,
with JavaScript and without; without JavaScript it states the deadline, in a named zone, and
what happens at time-up; with it the deadline is the candidate's local time. Answers queued
offline at time-up are tried, and the ones the server refused are named on the result. On a
phone the status bar stays in view; a screen reader hears 5 minutes and 1 minute left, once
each."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal import localize
from portal.customers.models import ClientToken
from portal.exams import services
from portal.exams import views as exam_views
from portal.exams.models import Launch, Question, Quiz, QuizQuestion
from tests.factories import CALLBACK, make_exam, written_items

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 740}


def launched(customer, **fields) -> Launch:
    exam = make_exam(customer, **({"questions": 3, "duration": 30} | fields))
    token, _ = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid="stu-1", mobile="", eurl=exam.pk, callback_url=CALLBACK
    )
    return launch


def open_exam(context, portal, launch: Launch, *, seconds_left: float | None = None):
    """A new page in `context`: the exam_url, then Start (the start page's button, in either
    language); with `seconds_left`, the deadline is then brought that close and the page
    reloaded. Returns the page."""
    page = context.new_page()
    page.goto(f"{portal.url}{services.exam_path(launch)}")
    page.locator("#start").click()
    expect(page.locator("fieldset.question").first).to_be_attached()
    # The page's scripts are deferred: under load a choice made before they ran was never sent.
    page.wait_for_load_state("load")
    if seconds_left is not None:
        set_deadline(launch, seconds_left)
        page.reload()
    return page


def set_deadline(launch: Launch, seconds: float) -> None:
    deadline = timezone.now() + timedelta(seconds=seconds)
    Quiz.objects.filter(pk=launch.quiz_id).update(deadline_at=deadline)


def deadline_shown(deadline, language: str) -> str:
    """The no-JavaScript header's deadline as the page shows it (localize.local_time's "time"):
    the time, and its day too when that is not today in the page's zone — a run within half an
    hour of midnight there."""
    zone = localize.display_zone(language)
    same_day = deadline.astimezone(zone).date() == timezone.now().astimezone(zone).date()
    return (localize.format_time if same_day else localize.format_datetime)(deadline, language)


def items_of(launch: Launch) -> list[QuizQuestion]:
    return list(written_items(launch.quiz_id).order_by("position"))


def choose(page, item: QuizQuestion, shown: int = 1) -> None:
    page.locator(f"#q-{item.question_id} input[value='{shown}']").check()


def test_without_javascript_the_page_says_what_is_saved_when_it_ends_and_what_then(
    context_in, portal, customer
):
    launch = launched(customer)
    first, second, third = items_of(launch)
    page = open_exam(context_in(javascript=False), portal, launch)
    deadline = Quiz.objects.get(pk=launch.quiz_id).deadline_at
    state = page.locator("#save-state")

    # Nothing is saved yet, and the header says so.
    expect(state).to_have_text("No answers saved yet")
    expect(state).to_have_attribute("data-state", "empty")
    expect(page.get_by_text("All answers saved")).to_have_count(0)
    # No clock ticks: the header says when the exam ends, in a named zone (UTC for English).
    expect(page.locator("#timer-label")).to_have_text("Ends at")
    expect(page.locator("#timer-value")).to_have_text(f"{deadline_shown(deadline, 'en')} (UTC)")
    expect(page.locator("#deadline-note")).to_have_text(
        f"The exam ends at {localize.format_datetime(deadline, 'en')} (UTC).", use_inner_text=True
    )
    rule = page.locator("#timeup-rule-nojs")
    expect(rule).to_be_visible()
    expect(rule).to_contain_text("when this page was loaded, 30 minutes were left")
    expect(rule).to_contain_text("answers not saved when the time is up are not counted")

    choose(page, first, 1)
    choose(page, second, 2)
    page.locator("#save-all").click()
    expect(state).to_have_text("2 answers saved")
    expect(state).to_have_attribute("data-state", "saved")

    # The time runs out while a third answer is chosen: the form's save comes too late, and
    # the result says which answer was not counted.
    page.locator(f"#q-{third.question_id} input[value='3']").check()
    set_deadline(launch, -1)
    page.locator("#save-all").click()
    page.wait_for_url(re.compile(r"/result/\?late=3$"))
    late = page.locator("#late-answers")
    expect(late).to_contain_text("did not reach the server before the exam ended")
    expect(late.get_by_role("listitem")).to_have_text(["Question 3"])
    assert QuizQuestion.objects.get(pk=third.pk).answer is None
    assert QuizQuestion.objects.get(pk=second.pk).shown_answer == 2
    # Time to read it: no countdown away from the page.
    expect(page.locator("#continue-text")).to_have_text("")


def test_with_javascript_the_state_counts_what_the_server_holds_and_what_waits(
    context_in, portal, customer
):
    launch = launched(customer)
    first, second, third = items_of(launch)
    context = context_in("America/New_York")
    page = open_exam(context, portal, launch)
    deadline = Quiz.objects.get(pk=launch.quiz_id).deadline_at
    state = page.locator("#save-state")

    expect(state).to_have_text("No answers saved yet")
    expect(state).to_have_attribute("data-state", "empty")
    expect(page.locator("#timer-label")).to_have_text("Time left")
    expect(page.locator("#timer-value")).to_have_text(re.compile(r"^(29|30):\d\d$"))
    # The deadline in the browser's own zone, and so without a zone's name.
    local = localize.format_datetime(deadline, "en", ZoneInfo("America/New_York"))
    expect(page.locator("#deadline-note")).to_contain_text(f"The exam ends at {local}.")
    expect(page.locator("#deadline-note .zone")).to_have_count(0)
    expect(page.locator("#timeup-rule")).to_contain_text(
        "when the time is up, the exam is finished with the answers saved by then"
    )

    choose(page, first)
    expect(state).to_have_text("1 answer saved")
    expect(state).to_have_attribute("data-state", "saved")
    page.locator("#next").click()
    choose(page, second)
    expect(state).to_have_text("2 answers saved")

    context.set_offline(True)
    page.locator("#next").click()
    choose(page, third)
    expect(state).to_have_text("Offline: 1 answer waiting to be sent")
    expect(state).to_have_attribute("data-state", "offline")
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(state).to_have_text("3 answers saved")
    assert QuizQuestion.objects.get(pk=third.pk).shown_answer == 1


def test_an_answer_queued_offline_at_time_up_is_named_when_the_server_refuses_it(
    context_in, portal, customer
):
    launch = launched(customer)
    first, second, _third = items_of(launch)
    context = context_in()
    page = open_exam(context, portal, launch, seconds_left=9)
    choose(page, first)
    expect(page.locator("#save-state")).to_have_text("1 answer saved")

    context.set_offline(True)
    page.locator("#next").click()
    choose(page, second, 4)
    expect(page.locator("#save-state")).to_have_attribute("data-state", "offline")
    # Time is up while offline: the answer is kept (on the page and in the browser's storage)
    # and the page says it has not reached the server.
    box = page.locator("#timeup-box")
    expect(box).to_be_visible(timeout=20_000)
    expect(box).to_have_text(
        "Time is up, and this page is offline: your answers to Question 2 have not reached the"
        " server. The page keeps trying to send them, but answers that arrive after the time is"
        " up are not counted."
    )
    expect(page.locator("#save-state")).to_have_text("Time is up")
    assert page.evaluate(f"localStorage.getItem('exam-pending-{launch.launch_id}')") is not None

    # The connection returns after the server's deadline: the page sends the answer, the
    # server refuses it (too late), and the result names it.
    set_deadline(launch, -1)
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_url(re.compile(r"/result/\?late=2$"))
    expect(page.locator("#late-answers li")).to_have_text(["Question 2"])
    assert QuizQuestion.objects.get(pk=second.pk).answer is None
    assert Quiz.objects.get(pk=launch.quiz_id).correct_answers == 1


def test_an_answer_queued_offline_at_time_up_counts_if_the_server_still_takes_it(
    context_in, portal, customer
):
    """The page's clock ran out offline, but staff had given extra time: the queued answer is
    sent when the connection returns, and the exam goes on."""
    launch = launched(customer)
    first, second, _third = items_of(launch)
    context = context_in()
    page = open_exam(context, portal, launch, seconds_left=6)
    context.set_offline(True)
    choose(page, first, 3)
    set_deadline(launch, 120)  # staff add time; the offline page cannot know
    expect(page.locator("#timeup-box")).to_contain_text("Question 1", timeout=20_000)

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#timeup-box")).to_be_hidden()
    expect(page.locator("#save-state")).to_have_text("1 answer saved")
    expect(page.locator("#timer-value")).to_have_text(re.compile(r"^(1|2):\d\d$"))
    assert QuizQuestion.objects.get(pk=first.pk).shown_answer == 3
    page.locator("#next").click()
    choose(page, second)
    expect(page.locator("#save-state")).to_have_text("2 answers saved")


def test_answers_this_browser_never_sent_are_named_on_the_result(context_in, portal, customer):
    """The page was closed offline with an answer queued, and the exam ended: the result page
    says this browser holds an answer that did not count."""
    launch = launched(customer)
    first, _second, _third = items_of(launch)
    context = context_in()
    page = open_exam(context, portal, launch)
    context.set_offline(True)
    choose(page, first, 2)
    expect(page.locator("#save-state")).to_have_attribute("data-state", "offline")
    page.wait_for_timeout(500)  # the renderer hands localStorage writes on asynchronously
    # A closed page sends nothing. This one, while Chromium closed it (or left it for another
    # page), sent its queue: the answer was saved, twice in full runs and every time when left
    # for about:blank — a request Playwright neither saw nor held offline. So its fetch stops
    # first: whatever it is told on its way out, nothing leaves it.
    page.evaluate("() => { window.fetch = () => new Promise(() => {}); }")
    page.close()
    context.set_offline(False)
    set_deadline(launch, -1)

    page = context.new_page()
    page.goto(f"{portal.url}{services.exam_path(launch)}")
    page.wait_for_url(re.compile(r"/result/$"))
    unsent = page.locator("#unsent-answers")
    expect(unsent).to_have_text(
        "1 answer chosen in this browser did not reach the server before the exam ended, so it"
        " is not counted."
    )
    expect(page.locator("#continue-text")).to_have_text("")  # no countdown away from it
    assert page.evaluate(f"localStorage.getItem('exam-pending-{launch.launch_id}')") is None
    assert QuizQuestion.objects.get(pk=first.pk).answer is None


@pytest.mark.parametrize("javascript", [True, False])
def test_on_a_phone_the_status_bar_stays_in_view(context_in, portal, customer, javascript):
    launch = launched(customer, questions=12)
    items = items_of(launch)
    # A question long enough to scroll on a phone, as a case study would be.
    Question.objects.filter(exam_id=launch.quiz.exam_id).update(description="A long case. " * 80)
    context = context_in(javascript=javascript, viewport=PHONE, has_touch=True, is_mobile=True)
    page = open_exam(context, portal, launch)
    header = page.locator(".site-header")

    def in_view(locator) -> bool:
        box = locator.bounding_box()
        return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]

    box = header.bounding_box()
    assert box["height"] <= 110, box  # compact: most of the screen is the question
    page.locator("#finish").scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 200  # the page did scroll
    assert header.bounding_box()["y"] == 0
    for part in ("#timer", "#save-state", "#progress-text"):
        assert in_view(page.locator(part)), part
    if javascript:
        # The connection drops: the offline state is in view wherever the candidate is.
        context.set_offline(True)
        page.locator(f"#q-{items[0].question_id} input[value='1']").check()
        page.locator("#finish").scroll_into_view_if_needed()
        state = page.locator("#save-state")
        expect(state).to_have_text("Offline: 1 answer waiting to be sent")
        assert in_view(state)
        context.set_offline(False)


def test_a_screen_reader_hears_5_minutes_and_1_minute_left_once_each(
    context_in, portal, customer, monkeypatch
):
    monkeypatch.setattr(exam_views, "TIME_SYNC_SECONDS", 1)
    launch = launched(customer)
    page = open_exam(context_in(), portal, launch, seconds_left=303)
    announcer = page.locator("#time-announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(page.locator("#timer-value")).to_have_attribute("aria-live", "off")
    # Everything the live region is told, in order.
    page.evaluate(
        """() => {
        window.spoken = [];
        new MutationObserver(() => window.spoken.push(
          document.getElementById("time-announcer").textContent
        )).observe(document.getElementById("time-announcer"),
                   {childList: true, characterData: true, subtree: true});
    }"""
    )
    expect(announcer).to_have_text("5 minutes left", timeout=10_000)
    page.wait_for_timeout(2_500)  # a few more ticks and syncs: said once
    assert page.evaluate("window.spoken") == ["5 minutes left"]

    set_deadline(launch, 63)  # e.g. staff corrected the deadline: the page follows it
    expect(announcer).to_have_text("1 minute left", timeout=10_000)
    page.wait_for_timeout(2_500)
    assert page.evaluate("window.spoken") == ["5 minutes left", "1 minute left"]
