"""The candidate's exam pages over Django's test client: keys, errors, forms without JS."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from portal.customers.models import ClientToken
from portal.exams import services
from portal.exams.models import Quiz
from tests.factories import CALLBACK, make_exam


@pytest.fixture
def launch(customer, exam):
    token, _ = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid="stu-1", mobile="0912", eurl=exam.pk, callback_url=CALLBACK
    )
    return launch


@pytest.fixture
def candidate(client, launch):
    """The student's browser, after opening exam_url once."""
    response = client.get(f"/exam/?launch={launch.launch_id}")
    assert response.status_code == 200
    return client


def page_url(launch) -> str:
    return f"/exam/?launch={launch.launch_id}"


def items(launch):
    return list(launch.quiz.items.select_related("question"))


@pytest.mark.django_db
def test_exam_url_opens_the_exam_and_sets_the_browser_key(client, launch, exam):
    response = client.get(page_url(launch))
    assert response.status_code == 200
    assert exam.title in response.text
    cookie = response.cookies[f"exam-{launch.launch_id}"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert "q1 choice one" in response.text
    # The right answers are not in the page.
    assert "correct" not in response.text.lower()


@pytest.mark.django_db
def test_another_browser_cannot_open_a_claimed_launch(candidate, launch):
    intruder = Client()
    response = intruder.get(page_url(launch))
    assert response.status_code == 403
    assert "another browser" in response.text
    item = items(launch)[0]
    answer = intruder.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": item.question_id, "answer": "1"}
    )
    assert answer.status_code == 404
    item.refresh_from_db()
    assert item.answer is None


@pytest.mark.django_db
def test_a_new_launch_lets_the_student_continue_in_another_browser(candidate, launch, customer):
    first = items(launch)[0]
    candidate.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": first.question_id, "answer": "1"}
    )
    token, _ = ClientToken.issue(customer=customer)
    again, existing = services.launch_quiz(
        token=token,
        student_uuid="stu-1",
        mobile="0912",
        eurl=launch.quiz.exam_id,
        callback_url=CALLBACK,
    )
    assert existing and again.quiz_id == launch.quiz_id
    other_device = Client()
    response = other_device.get(page_url(again))
    assert response.status_code == 200
    assert response.context["answered"] == 1


@pytest.mark.django_db
def test_unknown_or_malformed_launch_is_a_clear_404(client):
    assert client.get("/exam/?launch=nope").status_code == 404
    response = client.get("/exam/?launch=00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert "not valid" in response.text


@pytest.mark.django_db
def test_autosave_returns_progress_and_refuses_bad_answers(candidate, launch):
    item = items(launch)[0]
    url = f"/exam/{launch.launch_id}/answer/"
    ok = candidate.post(url, {"question_id": item.question_id, "answer": "۳"})
    assert ok.status_code == 200
    assert ok.json()["answered"] == 1 and ok.json()["total"] == 5
    assert 0 < ok.json()["remaining_seconds"] <= 30 * 60
    bad = candidate.post(url, {"question_id": item.question_id, "answer": "7"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_answer"
    missing = candidate.post(url, {"answer": "1"})
    assert missing.status_code == 400
    item.refresh_from_db()
    assert item.shown_answer == 3


@pytest.mark.django_db
def test_autosave_needs_the_csrf_token(launch):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(page_url(launch))
    item = items(launch)[0]
    url = f"/exam/{launch.launch_id}/answer/"
    refused = browser.post(url, {"question_id": item.question_id, "answer": "1"})
    assert refused.status_code == 403
    token = page.context["csrf_token"]
    accepted = browser.post(
        url, {"question_id": item.question_id, "answer": "1"}, HTTP_X_CSRFTOKEN=str(token)
    )
    assert accepted.status_code == 200


@pytest.mark.django_db
def test_without_javascript_the_form_saves_all_answers_then_finishes(candidate, launch):
    first, second = items(launch)[:2]
    saved = candidate.post(
        f"/exam/{launch.launch_id}/save/",
        {f"q{first.question_id}": "1", f"q{second.question_id}": "2", "save": ""},
    )
    assert saved.status_code == 302
    page = candidate.get(saved["Location"])
    assert "Your answers are saved." in page.text
    assert page.context["answered"] == 2

    to_confirm = candidate.post(f"/exam/{launch.launch_id}/save/", {"finish": ""})
    assert to_confirm["Location"] == f"/exam/{launch.launch_id}/finish/"
    confirm = candidate.get(to_confirm["Location"])
    assert "You answered 2 of 5 questions." in confirm.text
    assert "3 questions are unanswered" in confirm.text

    done = candidate.post(f"/exam/{launch.launch_id}/finish/")
    assert done["Location"] == f"/exam/{launch.launch_id}/result/"
    result = candidate.get(done["Location"])
    assert "Not passed" in result.text
    launch.quiz.refresh_from_db()
    assert launch.quiz.correct_answers == 2 and launch.quiz.unanswered == 3

    onward = candidate.get(f"/exam/{launch.launch_id}/continue/")
    target = urlsplit(onward["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == CALLBACK
    params = {k: v[0] for k, v in parse_qs(target.query, keep_blank_values=True).items()}
    assert params["percentage"] == "40" and params["state"] == "completed"
    signature = params.pop("signature")
    assert signature == services.sign_params(params, launch.quiz.student.customer.signing_secret)


@pytest.mark.django_db
def test_htmx_confirmation_is_a_partial_and_submit_redirects_with_hx_redirect(candidate, launch):
    partial = candidate.get(f"/exam/{launch.launch_id}/finish/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "<html" not in partial.text and "Finish the exam?" in partial.text
    done = candidate.post(f"/exam/{launch.launch_id}/finish/", HTTP_HX_REQUEST="true")
    assert done["HX-Redirect"] == f"/exam/{launch.launch_id}/result/"


@pytest.mark.django_db
def test_can_back_false_locks_answered_questions_in_the_form(client, customer):
    exam = make_exam(customer, questions=3, can_back=False)
    token, _ = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid="s", mobile="", eurl=exam.pk, callback_url=CALLBACK
    )
    client.get(page_url(launch))
    item = items(launch)[0]
    client.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": item.question_id, "answer": "2"}
    )
    changed = client.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": item.question_id, "answer": "3"}
    )
    assert changed.status_code == 400 and changed.json()["code"] == "answer_locked"
    page = client.get(page_url(launch))
    radios = page.text.split(f'id="q-{item.question_id}"')[1].split("</fieldset>")[0]
    assert radios.count("disabled") == 4
    no_js = client.post(f"/exam/{launch.launch_id}/save/", {f"q{item.question_id}": "4"})
    assert no_js.status_code == 400
    assert "does not allow changing" in no_js.text


@pytest.mark.django_db
def test_past_the_deadline_the_page_shows_the_result_of_saved_answers(candidate, launch):
    item = items(launch)[0]
    candidate.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": item.question_id, "answer": "1"}
    )
    Quiz.objects.filter(pk=launch.quiz_id).update(deadline_at=timezone.now() - timedelta(seconds=1))
    late = candidate.post(
        f"/exam/{launch.launch_id}/answer/",
        {"question_id": items(launch)[1].question_id, "answer": "2"},
    )
    assert late.status_code == 400 and late.json()["code"] == "time_up"
    page = candidate.get(page_url(launch))
    assert page["Location"] == f"/exam/{launch.launch_id}/result/"
    result = candidate.get(page["Location"])
    assert "Time ran out" in result.text
    launch.quiz.refresh_from_db()
    assert launch.quiz.finished_by == "deadline" and launch.quiz.correct_answers == 1


@pytest.mark.django_db
def test_persian_exam_page_is_right_to_left_and_translated(client, customer):
    exam = make_exam(customer, questions=2, language="fa")
    token, _ = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid="s", mobile="", eurl=exam.pk, callback_url=CALLBACK
    )
    page = client.get(page_url(launch))
    assert '<html lang="fa" dir="rtl">' in page.text
    assert "زمان باقی‌مانده" in page.text
    english = make_exam(customer, questions=2, language="en")
    launch2, _ = services.launch_quiz(
        token=token, student_uuid="s", mobile="", eurl=english.pk, callback_url=CALLBACK
    )
    assert '<html lang="en" dir="ltr">' in client.get(page_url(launch2)).text


@pytest.mark.django_db
def test_odd_field_names_and_ids_from_a_browser_are_not_500(candidate, launch):
    huge = candidate.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": "99999999999999999999", "answer": "1"}
    )
    assert huge.status_code == 400
    superscript = candidate.post(f"/exam/{launch.launch_id}/save/", {"q²": "1", "save": ""})
    assert superscript.status_code == 302


@pytest.mark.django_db
def test_the_browser_key_cookie_is_scoped_to_the_exam_pages(client, launch):
    cookie = client.get(f"/exam/?launch={launch.launch_id}").cookies[f"exam-{launch.launch_id}"]
    assert cookie["path"] == "/exam/"
    assert int(cookie["max-age"]) == 30 * 60 + 24 * 3600
