"""In Chromium: an author adds a question in the console's editor and a new launch shows it,
while an attempt launched before keeps the page it had; the editor without JavaScript; the
preview of the candidate's page in Persian."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from portal.customers.models import ClientToken
from portal.exams.models import Question, Quiz, Student
from tests.browser.test_csp import REPORT_VIOLATIONS
from tests.factories import CALLBACK, make_exam, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

NEW_QUESTION = "Which planet is known as the red planet?"


def launch(portal, token: str, eurl: int, student: str) -> dict:
    """A launch as the customer's server makes it: over HTTP, with its client token."""
    response = httpx.post(
        f"{portal.url}/api/integration/exams/launch/",
        json={"student_uuid": student, "eurl": eurl, "callback_url": CALLBACK},
        headers={"X-Client-Token": token},
    )
    assert response.status_code == 201, response.text
    return response.json()


def launch_detail(portal, token: str, launch_id: str) -> dict:
    response = httpx.get(f"{portal.url}/api/launch/{launch_id}/", headers={"X-Client-Token": token})
    assert response.status_code == 200, response.text
    return response.json()


def without_evaluation(detail: dict) -> dict:
    return {key: value for key, value in detail.items() if key != "evaluation"}


def shown_questions(page) -> list[str]:
    return [text.strip() for text in page.locator("fieldset.question .qtext").all_inner_texts()]


def test_an_added_question_reaches_new_launches_only(staff_page, browser_context, portal, author):
    exam = make_exam(author_customer(), questions=3)
    _, token = ClientToken.issue(customer=exam.customer, label="lms")

    # A student starts before the change, in their own browser tab.
    earlier = launch(portal, token, exam.pk, "early-bird")
    candidate = browser_context.new_page()
    candidate.goto(earlier["exam_url"])
    candidate.get_by_role("button", name="Start", exact=True).click()  # the start page
    expect(candidate.locator("fieldset.question")).to_have_count(3)
    seen_before = sorted(shown_questions(candidate))
    detail_before = launch_detail(portal, token, earlier["launch_id"])

    # The author adds a question in the editor (htmx) and draws four per quiz from now on.
    page = staff_page(author)
    page.goto(f"{portal.url}/staff/exams/{exam.pk}/")
    add = page.locator("#add-question")
    add.get_by_label("Question", exact=True).fill(NEW_QUESTION)
    add.get_by_label("Choice 1", exact=True).fill("Venus")
    add.get_by_label("Choice 2", exact=True).fill("Mars")
    add.get_by_label("Choice 3", exact=True).fill("Jupiter")
    add.get_by_label("Choice 4", exact=True).fill("Saturn")
    add.get_by_label("Choice 2 is correct").check()
    add.get_by_role("button", name="Add question").click()
    expect(page.locator("#messages")).to_contain_text("Question 4 added.")
    expect(page.locator("#bank .question-card")).to_have_count(4)
    expect(page.locator("#bank .question-card").last).to_contain_text(NEW_QUESTION)
    assert page.url == f"{portal.url}/staff/exams/{exam.pk}/"  # swapped in place, no reload
    expect(page.locator("#add-question textarea").first).to_have_value("")

    settings = page.locator("#settings")
    settings.get_by_label("Questions per quiz").fill("4")
    settings.get_by_role("button", name="Save settings").click()
    expect(page.locator("#messages")).to_contain_text("Settings saved.")
    expect(page.locator("#summary")).to_contain_text("each quiz draws 4 of the 4 in the bank")

    added = Question.objects.get(description=NEW_QUESTION)
    assert (added.correct, added.c2) == (2, "Mars")

    # A new launch draws it; the earlier attempt keeps its three questions, unchanged.
    later = launch(portal, token, exam.pk, "late-comer")
    detail_later = launch_detail(portal, token, later["launch_id"])
    assert NEW_QUESTION in [q["description"] for q in detail_later["questions"]]
    assert len(detail_later["questions"]) == 4
    fresh = browser_context.new_page()
    fresh.goto(later["exam_url"])
    fresh.get_by_role("button", name="Start", exact=True).click()  # the start page
    expect(fresh.locator("fieldset.question")).to_have_count(4)
    assert NEW_QUESTION in shown_questions(fresh)

    # What the earlier attempt drew, its deadline and state are as they were. (Its
    # "evaluation" echoes the exam's current settings, so it is left out of the comparison.)
    detail_after = launch_detail(portal, token, earlier["launch_id"])
    assert without_evaluation(detail_after) == without_evaluation(detail_before)
    candidate.reload()
    expect(candidate.locator("fieldset.question")).to_have_count(3)
    assert sorted(shown_questions(candidate)) == seen_before
    assert NEW_QUESTION not in candidate.content()
    early = Quiz.objects.get(student__uuid="early-bird")
    assert early.total_questions == 3


def author_customer():
    from portal.customers.models import Customer

    return Customer.objects.create(name="Acme Academy")


def test_editing_and_reordering_without_javascript(no_js_page, portal, author):
    exam = make_exam(author_customer(), questions=3)
    first, second, _third = Question.objects.filter(exam=exam).order_by("position")
    page = sign_in(no_js_page, portal, author)

    # "Edit" opens the question's own page; saving posts it and comes back to the editor.
    page.goto(f"{portal.url}/staff/exams/{exam.pk}/")
    page.locator(f"#question-{first.pk}").get_by_role("link", name="Edit").click()
    page.wait_for_url(re.compile(rf"/staff/exams/{exam.pk}/questions/{first.pk}/$"))
    page.locator("input[name=weight]").fill("-2")
    page.get_by_role("button", name="Save question").click()
    expect(page.locator(".q-error")).to_contain_text("Must be a number from 0 to 1000.")
    page.locator("input[name=weight]").fill("2")
    page.locator("textarea[name=description]").fill("Question 1, reworded?")
    page.get_by_label("Choice 3 is correct").check()
    page.get_by_role("button", name="Save question").click()
    page.wait_for_url(re.compile(rf"/staff/exams/{exam.pk}/#question-{first.pk}$"))
    expect(page.locator("#messages")).to_contain_text("Question 1 saved.")
    card = page.locator(f"#question-{first.pk}")
    expect(card).to_contain_text("Question 1, reworded?")
    expect(card.locator("li.correct")).to_contain_text("q1 choice three")
    first.refresh_from_db()
    assert (first.weight, first.correct) == (2.0, 3)

    # Moving down is a form post: the page comes back with the new order.
    card.get_by_role("button", name="Move question 1 down").click()
    expect(page.locator("#messages")).to_contain_text("Question 1 is now number 2.")
    cards = page.locator("#bank .question-card")
    expect(cards.nth(0)).to_have_attribute("id", f"question-{second.pk}")
    expect(cards.nth(1)).to_have_attribute("id", f"question-{first.pk}")
    assert not Student.objects.exists()


def test_persian_preview_of_the_candidate_page(staff_page, browser_context, portal, author):
    violations = []
    browser_context.expose_binding(
        "reportCspViolation", lambda source, text: violations.append(text)
    )
    browser_context.add_init_script(REPORT_VIOLATIONS)
    exam = make_exam(author_customer(), questions=4, number_of_question=2)
    page = staff_page(author)
    page.goto(f"{portal.url}/staff/exams/{exam.pk}/")
    page.get_by_role("link", name="Preview in فارسی").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator(".preview-banner")).to_be_visible()
    expect(page.locator("#progress-text")).to_have_text("۰ از ۲ پاسخ داده شده")
    # The candidate's script runs: one question at a time, and a choice "saves" to nowhere.
    expect(page.locator("fieldset.question:visible")).to_have_count(1)
    page.locator("fieldset.question:visible input[type=radio]").first.check()
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    expect(page.locator("#progress-text")).to_have_text("۱ از ۲ پاسخ داده شده")
    expect(page.locator("#finish")).to_be_disabled()
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.locator("#progress-text")).to_have_text("0 of 2 answered")
    assert not Quiz.objects.exists() and not Student.objects.exists()
    assert violations == []
