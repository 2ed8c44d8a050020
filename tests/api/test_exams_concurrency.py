"""Parallel calls of the exam contract over real HTTP, against the live server.

The test database is a file on SQLite (see settings), so each request thread of the live
server has its own connection, as in production; the PostgreSQL run exercises real row locks
and unique constraints.
"""

import threading
import time

import httpx
import pytest
from django.db import connection, transaction

from portal.exams.models import AnswerSave, Exam, Launch, Quiz, QuizQuestion, Student
from tests.factories import CALLBACK, make_exam, on_postgres, written_items

pytestmark = pytest.mark.django_db(transaction=True)

LAUNCHES = 8
SUBMITS = 6


@pytest.fixture
def live(live_server, settings) -> str:
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server.url


@pytest.mark.parametrize("known_student", [False, True], ids=["new-student", "known-student"])
def test_parallel_launches_of_one_student_share_one_quiz(
    live, token, exam, known_student, together
):
    if known_student:
        Student.objects.create(customer=exam.customer, uuid="stu-race", mobile="09120000000")
    body = {
        "student_uuid": "stu-race",
        "mobile": "09120000000",
        "eurl": exam.pk,
        "callback_url": CALLBACK,
    }

    def launch(_: int) -> httpx.Response:
        return httpx.post(
            f"{live}/api/integration/exams/launch/",
            json=body,
            headers={"X-Client-Token": token},
            timeout=30,
        )

    responses = together(LAUNCHES, launch)
    assert [r.status_code for r in responses] == [201] * LAUNCHES, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    assert len({b["quiz_id"] for b in bodies}) == 1
    assert len({b["launch_id"] for b in bodies}) == LAUNCHES
    assert sorted(b["is_existing_quiz"] for b in bodies) == [False] + [True] * (LAUNCHES - 1)
    for b in bodies:
        assert b["exam_url"] == f"{live}/exam/?launch={b['launch_id']}"
        assert b["student"] == {"uuid": "stu-race", "mobile": "09120000000"}

    assert Student.objects.count() == 1
    quiz = Quiz.objects.get()
    assert quiz.pk == bodies[0]["quiz_id"]
    assert written_items(quiz).count() == exam.number_of_question
    assert Launch.objects.filter(quiz=quiz).count() == LAUNCHES


def test_parallel_launches_of_many_students_each_get_one_whole_quiz(live, token, exam, together):
    """The launch's one-statement insert of quiz, items and launch (PostgreSQL) under a storm:
    pairs of launches for each student at the same moment, every one answered, each student
    with exactly one quiz holding all its items and one launch per call."""
    students = 6

    def launch(index: int) -> httpx.Response:
        body = {
            "student_uuid": f"stu-{index % students}",
            "mobile": "",
            "eurl": exam.pk,
            "callback_url": CALLBACK,
        }
        return httpx.post(
            f"{live}/api/integration/exams/launch/",
            json=body,
            headers={"X-Client-Token": token},
            timeout=30,
        )

    responses = together(2 * students, launch)
    assert [r.status_code for r in responses] == [201] * 2 * students, [r.text for r in responses]
    quiz_of = {}
    for r in responses:
        body = r.json()
        assert quiz_of.setdefault(body["student"]["uuid"], body["quiz_id"]) == body["quiz_id"]
    assert (
        sorted(r.json()["is_existing_quiz"] for r in responses)
        == [False] * students + [True] * students
    )
    assert Student.objects.count() == Quiz.objects.count() == students
    for quiz in Quiz.objects.all():
        assert written_items(quiz).count() == quiz.total_questions == exam.number_of_question
        assert sorted(written_items(quiz).values_list("position", flat=True)) == list(
            range(1, exam.number_of_question + 1)
        )
        assert Launch.objects.filter(quiz=quiz).count() == 2


def test_parallel_submits_finish_the_quiz_once(live, token, customer, together):
    exam = make_exam(customer, questions=8)
    headers = {"X-Client-Token": token, "Accept-Language": "en"}
    body = {"student_uuid": "s", "mobile": "", "eurl": exam.pk, "callback_url": CALLBACK}
    launch = httpx.post(f"{live}/api/integration/exams/launch/", json=body, headers=headers)
    launch_id = launch.json()["launch_id"]
    questions = httpx.get(f"{live}/api/launch/{launch_id}/", headers=headers).json()["questions"]

    # Every thread answers every question with its own choice: whatever is stored must be
    # exactly one submitter's answers, graded once, and that submitter is the one told 200.
    def submit(index: int) -> httpx.Response:
        choice = str(index % 4 + 1)
        responses = [{"question_id": q["id"], "answer": choice} for q in questions]
        return httpx.post(
            f"{live}/api/launch/{launch_id}/submit/",
            json={"responses": responses},
            headers=headers,
            timeout=30,
        )

    responses = together(SUBMITS, submit)
    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [200] + [400] * (SUBMITS - 1), [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 400} == {"quiz_finished"}
    winner = statuses.index(200)
    result = responses[winner].json()["result"]
    choice = winner % 4 + 1

    assert {r["answer"] for r in result["responses"]} == {str(choice)}
    assert set(QuizQuestion.objects.values_list("answer", flat=True)) == {choice}
    # make_exam: the right answer to question n is ((n - 1) % 4) + 1, so 2 of 8 per choice.
    assert result["correct_answers"] == 2
    assert result["percentage"] == 25.0
    quiz = Quiz.objects.get()
    assert quiz.state == Quiz.State.COMPLETED
    assert (quiz.correct_answers, quiz.wrong_answers, quiz.percentage) == (2, 6, 25.0)


@pytest.mark.skipif(not on_postgres(), reason="SQLite runs one writer at a time anyway")
def test_saving_an_answer_does_not_wait_for_a_lock_on_the_exam(live, token, exam):
    """Staff saving the exam (a row lock on it) must not hold up candidates' answers."""
    headers = {"X-Client-Token": token}
    body = {"student_uuid": "s", "mobile": "", "eurl": exam.pk, "callback_url": CALLBACK}
    launch_id = httpx.post(
        f"{live}/api/integration/exams/launch/", json=body, headers=headers
    ).json()["launch_id"]
    question = httpx.get(f"{live}/api/launch/{launch_id}/", headers=headers).json()["questions"][0]
    locked, release = threading.Event(), threading.Event()

    def hold_exam_lock() -> None:
        try:
            with transaction.atomic():
                Exam.objects.select_for_update().get(pk=exam.pk)
                locked.set()
                release.wait(timeout=15)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_exam_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        started = time.monotonic()
        response = httpx.post(
            f"{live}/api/launch/{launch_id}/answer/",
            json={"question_id": question["id"], "answer": "1"},
            headers=headers,
            timeout=10,
        )
        elapsed = time.monotonic() - started
    finally:
        release.set()
        holder.join(timeout=20)
    assert response.status_code == 200
    assert elapsed < 3


def test_parallel_autosaves_all_land_once_and_a_racing_submit_grades_what_was_saved(
    live, token, customer, together
):
    """The autosave's fast path (api/exams.py): saves of different questions at once all land,
    each with one history row; saves racing a submit either land before the grading (and
    count in its result) or are refused."""
    exam = make_exam(customer, questions=8)
    headers = {"X-Client-Token": token, "Accept-Language": "en"}
    body = {"student_uuid": "s", "mobile": "", "eurl": exam.pk, "callback_url": CALLBACK}
    launch_id = httpx.post(
        f"{live}/api/integration/exams/launch/", json=body, headers=headers
    ).json()["launch_id"]
    shown = httpx.get(f"{live}/api/launch/{launch_id}/", headers=headers).json()["questions"]
    first, rest = shown[:4], shown[4:]

    def save(question: dict, choice: str) -> httpx.Response:
        return httpx.post(
            f"{live}/api/launch/{launch_id}/answer/",
            json={"question_id": question["id"], "answer": choice},
            headers=headers,
            timeout=30,
        )

    responses = together(len(first), lambda i: save(first[i], "1"))
    assert [r.status_code for r in responses] == [200] * len(first), [r.text for r in responses]
    saved = QuizQuestion.objects.filter(question_id__in=[q["id"] for q in first])
    assert all(item.shown_answer == 1 for item in saved)
    assert AnswerSave.objects.count() == len(first)

    def save_or_submit(index: int) -> httpx.Response:
        if index == len(rest):
            return httpx.post(
                f"{live}/api/launch/{launch_id}/submit/",
                json={"responses": []},
                headers=headers,
                timeout=30,
            )
        return save(rest[index], "2")

    responses = together(len(rest) + 1, save_or_submit)
    submitted = responses[-1]
    assert submitted.status_code == 200, submitted.text
    graded = {r["question"]: r["answer"] for r in submitted.json()["result"]["responses"]}
    for question, response in zip(rest, responses[:-1], strict=True):
        if response.status_code == 200:
            assert graded[question["id"]] == "2"
        else:
            assert response.json()["code"] == "quiz_finished", response.text
            assert graded[question["id"]] is None
    assert {graded[q["id"]] for q in first} == {"1"}
