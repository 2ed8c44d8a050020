"""Issue 12 on the server: without going back, choosing (a draft) is not committing; flags for
review kept on the quiz item; the review page before submitting; the result that explains its
score; a heading and a skip link on the exam page. Browser tests of the same:
tests/browser/test_exam_answering.py, test_exam_review.py, test_exam_keyboard.py."""

import re

import pytest
from django.test import Client

from portal.customers.models import ClientToken
from portal.exams import services
from portal.exams.models import Exam, QuizQuestion
from tests.factories import CALLBACK, make_exam, written_items

pytestmark = pytest.mark.django_db


def started(client: Client, customer, **fields):
    """A launch of a new five-question exam, started in `client` as the student does."""
    exam = make_exam(customer, **fields)
    token, _ = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid=f"s-{exam.pk}", mobile="", eurl=exam.pk, callback_url=CALLBACK
    )
    client.get(f"/exam/?launch={launch.launch_id}")
    client.post(f"/exam/{launch.launch_id}/start/")
    return launch


def items(launch) -> list[QuizQuestion]:
    return list(written_items(launch.quiz).select_related("question").order_by("position"))


def stored(item: QuizQuestion) -> tuple[int | None, str]:
    item.refresh_from_db()
    return item.shown_answer, item.done


# --- choosing is not committing (services._apply: the rule, whichever front door) -------------


def test_without_going_back_a_draft_changes_until_confirmed_then_is_final(client, customer):
    launch = started(client, customer, can_back=False)
    first = items(launch)[0]
    url = f"/exam/{launch.launch_id}/answer/"

    def post(answer: str, done: str):
        return client.post(url, {"question_id": first.question_id, "answer": answer, "done": done})

    # Arrowing through the choices saves each as a draft: nothing is locked.
    for answer in ("1", "2", "3"):
        assert post(answer, "draft").status_code == 200
        assert stored(first) == (int(answer), "draft")
    # Confirm: the same choice, now final.
    assert post("3", "completed").status_code == 200
    assert stored(first) == (3, "completed")
    changed = post("4", "draft")
    assert changed.status_code == 400 and changed.json()["code"] == "answer_locked"
    confirmed_again = post("4", "completed")
    assert confirmed_again.status_code == 400
    # A draft of the final answer (a late autosave) never reopens it.
    assert post("3", "draft").status_code == 200
    assert stored(first) == (3, "completed")
    assert post("2", "draft").status_code == 400
    assert stored(first) == (3, "completed")


def test_the_full_path_keeps_the_same_rule(client, customer):
    """services.save_answer (the API's /answer/ and the page's refusals) as the fast path."""
    launch = started(client, customer, can_back=False)
    launch = services.get_launch(launch_id=launch.launch_id)
    first, second = items(launch)[:2]
    services.save_answer(launch=launch, question_id=first.question_id, answer=1, done="draft")
    services.save_answer(launch=launch, question_id=first.question_id, answer=2, done="draft")
    services.save_answer(launch=launch, question_id=first.question_id, answer=2, done="completed")
    with pytest.raises(services.ExamError) as locked:
        services.save_answer(launch=launch, question_id=first.question_id, answer=4, done="draft")
    assert locked.value.code == "answer_locked"
    services.save_answer(launch=launch, question_id=first.question_id, answer=2, done="draft")
    assert stored(first) == (2, "completed")
    # The seed's in_progress is final at once, as it always was for the API's clients.
    services.save_answer(launch=launch, question_id=second.question_id, answer=1)
    with pytest.raises(services.ExamError):
        services.save_answer(launch=launch, question_id=second.question_id, answer=3)


def test_with_going_back_choosing_is_saving_and_changes_freely(client, customer):
    launch = started(client, customer, can_back=True)
    first = items(launch)[0]
    url = f"/exam/{launch.launch_id}/answer/"
    for answer in ("2", "4", "1"):
        saved = client.post(url, {"question_id": first.question_id, "answer": answer})
        assert saved.status_code == 200
    assert stored(first) == (1, "in_progress")
    page = client.get(f"/exam/?launch={launch.launch_id}")
    assert "Confirm and next" not in page.text and 'name="confirm"' not in page.text


def test_a_draft_left_at_the_end_counts_as_it_stands(client, customer):
    launch = started(client, customer, can_back=False)
    first, second = items(launch)[:2]
    url = f"/exam/{launch.launch_id}/answer/"
    right = {"question_id": first.question_id, "answer": str(first.question.correct)}
    client.post(url, right | {"done": "draft"})
    client.post(url, {"question_id": second.question_id, "answer": "4", "done": "draft"})
    done = client.post(f"/exam/{launch.launch_id}/finish/")
    assert done["Location"] == f"/exam/{launch.launch_id}/result/"
    launch.quiz.refresh_from_db()
    assert (launch.quiz.correct_answers, launch.quiz.wrong_answers) == (1, 1)


def test_without_javascript_the_form_saves_drafts_and_its_button_confirms(client, customer):
    launch = started(client, customer, can_back=False)
    first, second, third = items(launch)[:3]
    save = f"/exam/{launch.launch_id}/save/"
    drafts = client.post(save, {f"q{first.question_id}": "2", f"q{second.question_id}": "3"})
    assert drafts.status_code == 302
    assert stored(first) == (2, "draft") and stored(second) == (3, "draft")
    page = client.get(f"/exam/?launch={launch.launch_id}")
    fieldset = page.text.split(f'id="q-{first.question_id}"')[1].split("</fieldset>")[0]
    assert "disabled" not in fieldset and 'name="confirm"' in fieldset

    # The first question's "Confirm and next": it is final; on to the next one still open.
    confirmed = client.post(
        save,
        {
            f"q{first.question_id}": "4",
            f"q{second.question_id}": "3",
            "confirm": str(first.question_id),
        },
    )
    assert confirmed.status_code == 302
    assert confirmed["Location"].endswith(f"#q-{second.question_id}")
    assert stored(first) == (4, "completed") and stored(second) == (3, "draft")
    page = client.get(f"/exam/?launch={launch.launch_id}")
    fieldset = page.text.split(f'id="q-{first.question_id}"')[1].split("</fieldset>")[0]
    assert fieldset.count("disabled") == 4 and 'name="confirm"' not in fieldset
    # The skip link leads to the first question still open: the draft.
    assert f'href="#q-{second.question_id}">Skip to the current question</a>' in page.text

    # Confirming with nothing chosen: a clear refusal, the other choices kept as drafts.
    empty = client.post(save, {f"q{second.question_id}": "1", "confirm": str(third.question_id)})
    assert empty.status_code == 400
    assert "Choose an answer to question 3 before you confirm it." in empty.text
    assert stored(second) == (1, "draft") and stored(third) == (None, "")
    # Said under the question's legend too, focused and tied to its choices: it was only at
    # the top of the page, far from the question (the page's script already did this).
    fieldset = empty.text.split(f'id="q-{third.question_id}"')[1].split("</fieldset>")[0]
    assert f'aria-describedby="q-{third.question_id}-error"' in fieldset.split(">")[0]
    assert (
        f'<p class="q-error" id="q-{third.question_id}-error" role="alert" tabindex="-1"'
        " autofocus>Choose an answer to question 3 before you confirm it.</p>"
    ) in fieldset
    assert fieldset.count('aria-invalid="true"') == 4
    assert empty.text.count("autofocus") == 1 and empty.text.count('aria-invalid="true"') == 4
    assert "<title>Question 3 of" in empty.text
    locked = client.post(save, {f"q{first.question_id}": "1"})
    assert locked.status_code == 400 and "does not allow changing" in locked.text


# --- flag for review --------------------------------------------------------------------------


def test_flags_are_kept_on_the_server_with_and_without_javascript(client, customer):
    launch = started(client, customer)
    first, second = items(launch)[:2]
    flag = f"/exam/{launch.launch_id}/flag/"
    on = client.post(flag, {"question_id": second.question_id, "flagged": "1"})
    assert on.status_code == 200 and on.json() == {"flagged": True}
    second.refresh_from_db()
    assert second.flagged

    # Without JavaScript the toggle is a submit button: it saves the answers, then flags.
    toggled = client.post(
        f"/exam/{launch.launch_id}/save/",
        {f"q{first.question_id}": "2", "flag": f"{first.question_id}:1"},
    )
    assert toggled["Location"].endswith(f"#q-{first.question_id}")
    first.refresh_from_db()
    assert first.flagged and first.shown_answer == 2
    page = client.get(f"/exam/?launch={launch.launch_id}")
    assert f'value="{first.question_id}:0" class="flag" aria-pressed="true"' in page.text
    assert 'class="answered flagged"' in page.text  # the palette's first button
    assert 'data-goto="1" class="flagged"' in page.text

    off = client.post(flag, {"question_id": second.question_id, "flagged": "0"})
    assert off.json() == {"flagged": False}
    second.refresh_from_db()
    assert not second.flagged


def test_a_flag_is_refused_clearly(client, customer):
    launch = started(client, customer)
    flag = f"/exam/{launch.launch_id}/flag/"
    assert client.post(flag, {"question_id": "x", "flagged": "1"}).status_code == 400
    assert client.post(flag, {"question_id": "1", "flagged": "yes"}).status_code == 400
    unknown = client.post(flag, {"question_id": "999999", "flagged": "1"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_question"
    # Another browser is not the candidate's.
    question_id = items(launch)[0].question_id
    assert Client().post(flag, {"question_id": question_id, "flagged": "1"}).status_code == 404
    client.post(f"/exam/{launch.launch_id}/finish/")
    late = client.post(flag, {"question_id": question_id, "flagged": "1"})
    assert late.status_code == 400 and late.json()["code"] == "quiz_finished"


# --- the review page --------------------------------------------------------------------------


def review_rows(html: str) -> list[tuple[str, str]]:
    """(question cell, state cell) per row of the review table, tags stripped but links kept
    as [text](href)."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    rows = []
    for row in re.findall(r"<tr.*?</tr>", body, re.S):
        head, state = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        head = re.sub(r'<a href="([^"]+)">(.*?)</a>', r"[\2](\1)", head)
        rows.append((head, re.sub(r"<[^>]+>", "", state)))
    return rows


def test_the_review_lists_every_question_with_its_state_and_a_way_back(client, customer):
    launch = started(client, customer, can_back=False)
    first, second, third, fourth, fifth = items(launch)
    answer = f"/exam/{launch.launch_id}/answer/"
    client.post(answer, {"question_id": first.question_id, "answer": "1", "done": "completed"})
    client.post(answer, {"question_id": second.question_id, "answer": "2", "done": "draft"})
    client.post(
        f"/exam/{launch.launch_id}/flag/", {"question_id": third.question_id, "flagged": "1"}
    )
    to_review = client.post(f"/exam/{launch.launch_id}/save/", {"finish": ""})
    review = client.get(to_review["Location"])
    assert review.status_code == 200
    assert "<h1" in review.text and "Review your answers" in review.text
    path = f"/exam/?launch={launch.launch_id}"
    assert review_rows(review.text) == [
        ("Question 1", "Answered"),  # final: no way back without going back
        (f"[Question 2]({path}#q-{second.question_id})", "Chosen, not confirmed"),
        (f"[Question 3]({path}#q-{third.question_id})", "Not answered Flagged"),
        (f"[Question 4]({path}#q-{fourth.question_id})", "Not answered"),
        (f"[Question 5]({path}#q-{fifth.question_id})", "Not answered"),
    ]
    assert "You answered 2 of 5 questions. 1 question is flagged for review." in review.text
    assert "1 answer is chosen but not confirmed" in review.text
    assert "3 questions are unanswered and will count as not correct." in review.text
    # The dialog's focus starts on the safe button.
    assert 'id="dialog-back" autofocus' in review.text
    assert 'id="dialog-finish" form="finish-form"' in review.text


def test_with_going_back_every_question_is_a_link(client, customer):
    launch = started(client, customer, can_back=True)
    first = items(launch)[0]
    client.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": first.question_id, "answer": "3"}
    )
    rows = review_rows(client.get(f"/exam/{launch.launch_id}/finish/").text)
    assert rows[0] == (
        f"[Question 1](/exam/?launch={launch.launch_id}#q-{first.question_id})",
        "Answered",
    )
    assert all(head.startswith("[Question") for head, _state in rows)


# --- the exam page's structure, and the result that explains its score ----------------------


def test_the_exam_page_has_a_heading_and_the_palette_after_the_questions(client, customer):
    launch = started(client, customer, title="Safety basics")
    page = client.get(f"/exam/?launch={launch.launch_id}").text
    assert '<h1 class="exam-title">Safety basics</h1>' in page
    first = items(launch)[0]
    assert f'<a class="skip-link" id="skip-to-question" href="#q-{first.question_id}">' in page
    assert page.index('id="q-') < page.index('id="exam-nav"') < page.index('id="palette"')
    assert page.index('class="default-button"') < page.index('class="flag"')


def test_the_result_explains_the_weights_the_earned_score_and_the_pass_mark(client, customer):
    launch = started(client, customer, questions=4, accept_score=50)
    weights = {1: 1.0, 2: 2.0, 3: 1.0, 4: 0.5}
    for question in launch.quiz.exam.questions.all():
        question.weight = weights[question.position]
        question.save()
    # A later edit of the exam's pass mark does not change the one the quiz is graded against.
    Exam.objects.filter(pk=launch.quiz.exam_id).update(accept_score=90)
    first, second = items(launch)[:2]
    client.post(
        f"/exam/{launch.launch_id}/finish/",
        {f"q{first.question_id}": str(first.question.correct), f"q{second.question_id}": "4"},
    )
    result = client.get(f"/exam/{launch.launch_id}/result/").text
    assert '<dd id="result-score">1 of 4.5</dd>' in result
    assert '<dd id="result-pass-mark">50%</dd>' in result
    assert "carry different weights, from 0.5 to 2" in result
    assert "You earned 1 of the 4.5 there were to earn." in result
    assert (
        '<span class="formula" dir="ltr" id="score-formula">1 ÷ 4.5 × 100 = 22.22%</span>' in result
    )
    assert "The pass mark is 50%: you did not reach it, so you did not pass." in result


def test_the_result_of_equal_weights_in_persian(client, customer):
    launch = started(client, customer, questions=2, language="fa", accept_score=50)
    first = items(launch)[0]
    client.post(
        f"/exam/{launch.launch_id}/finish/", {f"q{first.question_id}": str(first.question.correct)}
    )
    result = client.get(f"/exam/{launch.launch_id}/result/").text
    assert '<span class="formula" dir="ltr" id="score-formula">۱ ÷ ۲ × ۱۰۰ = ۵۰٪</span>' in result
    assert "(۱)" in result  # the one weight every question has
    assert "۵۰٪" in result.split('id="result-pass-mark">')[1].split("</dd>")[0]
