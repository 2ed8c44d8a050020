"""Staff actions on exam attempts (extra time, re-opening, accommodations) and what the exam
services now record: each answer save, the browser's claim, the pass mark at launch."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.audit.models import AuditEntry
from portal.customers.models import ClientToken
from portal.exams import services, staff_services
from portal.exams.models import AnswerSave, Launch, Question, Quiz, QuizQuestion, Student
from portal.exams.services import ExamError
from tests.factories import CALLBACK, make_exam, written_items

pytestmark = pytest.mark.django_db


def api(token: str) -> dict:
    return {"X-Client-Token": token, "Accept-Language": "en"}


def api_launch(client, token: str, exam, student: str = "stu-1") -> dict:
    body = {"student_uuid": student, "mobile": "0912", "eurl": exam.pk, "callback_url": CALLBACK}
    response = client.post(
        "/api/integration/exams/launch/", body, content_type="application/json", headers=api(token)
    )
    assert response.status_code == 201, response.content
    return response.json()


def api_answer(client, token: str, launch_id: str, question_id: int, answer: str):
    return client.post(
        f"/api/launch/{launch_id}/answer/",
        {"question_id": question_id, "answer": answer},
        content_type="application/json",
        headers=api(token),
    )


def api_submit(client, token: str, launch_id: str, responses: list | None = None):
    return client.post(
        f"/api/launch/{launch_id}/submit/",
        {"responses": responses or []},
        content_type="application/json",
        headers=api(token),
    )


def api_detail(client, token: str, launch_id: str) -> dict:
    response = client.get(f"/api/launch/{launch_id}/", headers=api(token))
    assert response.status_code == 200
    return response.json()


def quiz_of(launch: dict) -> Quiz:
    return Quiz.objects.select_related("exam", "student").get(pk=launch["quiz_id"])


def right_shown(item: QuizQuestion) -> str:
    return str(item.order.index(item.question.correct) + 1)


def wrong_shown(item: QuizQuestion) -> str:
    return str(int(right_shown(item)) % 4 + 1)


def expire(quiz: Quiz, minutes: int = 1) -> None:
    """Move the deadline into the past, as if the time had run out (not yet completed)."""
    Quiz.objects.filter(pk=quiz.pk).update(deadline_at=timezone.now() - timedelta(minutes=minutes))
    quiz.refresh_from_db()


def service_launch(customer, exam, student: str = "stu-1") -> Launch:
    token, _raw = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid=student, mobile="", eurl=exam.pk, callback_url=CALLBACK
    )
    return launch


# --- extra time -------------------------------------------------------------------------------


def test_extra_time_moves_the_deadline_and_the_api_and_page_follow(client, token, exam, operator):
    launch = api_launch(client, token, exam)
    quiz = quiz_of(launch)
    before = quiz.deadline_at
    staff_services.quiz_extend(quiz=quiz, minutes=10, actor=operator)

    quiz.refresh_from_db()
    assert quiz.deadline_at == before + timedelta(minutes=10)
    assert quiz.extra_minutes == 10
    shown = api_detail(client, token, launch["launch_id"])
    api_deadline = datetime.fromisoformat(shown["deadline_at"].replace("Z", "+00:00"))
    assert abs(api_deadline - quiz.deadline_at) < timedelta(milliseconds=1)
    assert shown["state"] == "started" and shown["end_at"] is None

    # The candidate's page learns the remaining time without a reload.
    browser = client
    assert browser.get(f"/exam/?launch={launch['launch_id']}").status_code == 200
    assert browser.post(f"/exam/{launch['launch_id']}/start/").status_code == 302
    synced = browser.get(f"/exam/{launch['launch_id']}/time/")
    assert synced.status_code == 200
    assert synced["Cache-Control"].startswith("max-age=0")
    assert 39 * 60 < synced.json()["remaining_seconds"] <= 40 * 60
    assert synced.json()["finished"] is False


def test_a_late_answer_within_extra_time_is_accepted(client, token, exam, operator):
    launch = api_launch(client, token, exam)
    quiz = quiz_of(launch)
    item = written_items(quiz).select_related("question").first()
    # Time ran out a minute ago and nobody completed the quiz yet: staff give 10 minutes.
    expire(quiz)
    staff_services.quiz_extend(quiz=quiz, minutes=10, actor=operator)
    response = api_answer(client, token, launch["launch_id"], item.question_id, right_shown(item))
    assert response.status_code == 200, response.content
    item.refresh_from_db()
    assert item.answer == item.question.correct
    quiz.refresh_from_db()
    assert quiz.state == "started"
    assert 8 * 60 < (quiz.deadline_at - timezone.now()).total_seconds() <= 9 * 60


def test_without_extra_time_the_same_late_answer_is_refused(client, token, exam):
    launch = api_launch(client, token, exam)
    quiz = quiz_of(launch)
    item = written_items(quiz).first()
    expire(quiz)
    response = api_answer(client, token, launch["launch_id"], item.question_id, "1")
    assert response.status_code == 400 and response.json()["code"] == "time_up"


def test_a_deadline_finish_that_raced_an_extension_leaves_the_quiz_open(customer, exam, operator):
    launch = service_launch(customer, exam)
    quiz = launch.quiz
    expire(quiz)
    staff_services.quiz_extend(quiz=quiz, minutes=5, actor=operator)
    # A caller that read the old deadline asks to finish by the deadline: not any more.
    assert services.finish_quiz(quiz.pk, finished_by=Quiz.FinishedBy.DEADLINE) is None
    assert services.finish_expired_quizzes() == 0
    quiz.refresh_from_db()
    assert quiz.state == "started"
    # A new launch resumes it rather than closing it.
    again, existing = services.launch_quiz(
        token=ClientToken.issue(customer=customer)[0],
        student_uuid="stu-1",
        mobile="",
        eurl=exam.pk,
        callback_url=CALLBACK,
    )
    assert existing and again.quiz.pk == quiz.pk


def test_extra_time_is_refused_for_a_completed_quiz(client, token, exam, operator):
    launch = api_launch(client, token, exam)
    api_submit(client, token, launch["launch_id"])
    quiz = quiz_of(launch)
    with pytest.raises(ExamError) as refused:
        staff_services.quiz_extend(quiz=quiz, minutes=10, actor=operator)
    assert refused.value.code == "quiz_finished"
    assert "submitted" in str(refused.value.message)
    assert not AuditEntry.objects.filter(action="quiz.extend").exists()

    other = quiz_of(api_launch(client, token, exam, student="stu-2"))
    expire(other)
    services.finish_expired_quizzes()
    with pytest.raises(ExamError) as by_deadline:
        staff_services.quiz_extend(quiz=other, minutes=10, actor=operator)
    assert "Re-open it instead" in str(by_deadline.value.message)


@pytest.mark.parametrize("minutes", [0, -5, 601])
def test_extra_time_is_bounded(customer, exam, operator, minutes):
    quiz = service_launch(customer, exam).quiz
    before = quiz.deadline_at
    with pytest.raises(ExamError) as refused:
        staff_services.quiz_extend(quiz=quiz, minutes=minutes, actor=operator)
    assert refused.value.code == "invalid_minutes"
    quiz.refresh_from_db()
    assert quiz.deadline_at == before


def test_extra_time_at_the_largest_bounds_is_given(customer, operator):
    """The longest exam (a week) for the student with the most time, extended by the most staff
    may give at once: a deadline 29 days and 10 hours ahead, never near the year 9999."""
    exam = make_exam(customer, duration=10080)
    staff_services.student_set_accommodation(
        student=Student.objects.create(customer=customer, uuid="stu-1"),
        extra_minutes=1440,
        time_factor=4,
        actor=operator,
    )
    quiz = service_launch(customer, exam).quiz
    staff_services.quiz_extend(quiz=quiz, minutes=600, actor=operator)
    quiz.refresh_from_db()
    assert quiz.deadline_at - quiz.start_at == timedelta(minutes=10080 * 4 + 1440 + 600)


def test_extra_time_past_the_year_9999_is_refused_not_a_500(customer, exam, operator):
    """A deadline already at the end of what a date holds (a quiz of an exam stored before the
    format bounded its duration, or extended a million times): refused, nothing changed."""
    quiz = service_launch(customer, exam).quiz
    last = datetime.max.replace(tzinfo=UTC) - timedelta(minutes=5)
    Quiz.objects.filter(pk=quiz.pk).update(deadline_at=last)
    with pytest.raises(ExamError) as refused:
        staff_services.quiz_extend(quiz=quiz, minutes=10, actor=operator)
    assert refused.value.code == "deadline_out_of_range"
    quiz.refresh_from_db()
    assert (quiz.deadline_at, quiz.extra_minutes) == (last, 0)
    assert not AuditEntry.objects.filter(action="quiz.extend").exists()


def test_extra_time_is_audited(customer, exam, operator):
    quiz = service_launch(customer, exam).quiz
    before = quiz.deadline_at
    staff_services.quiz_extend(quiz=quiz, minutes=15, actor=operator)
    entry = AuditEntry.objects.get(action="quiz.extend")
    assert entry.actor == operator and entry.target_id == str(quiz.pk)
    assert entry.changes["extra_minutes"] == [0, 15]
    assert entry.changes["deadline_at"] == [
        before.isoformat(),
        (before + timedelta(minutes=15)).isoformat(),
    ]


# --- re-opening -------------------------------------------------------------------------------


def test_reopen_a_quiz_the_deadline_closed(client, token, exam, operator):
    launch = api_launch(client, token, exam)
    quiz = quiz_of(launch)
    items = list(written_items(quiz).select_related("question"))
    first = api_answer(
        client, token, launch["launch_id"], items[0].question_id, right_shown(items[0])
    )
    assert first.status_code == 200
    expire(quiz)
    services.finish_expired_quizzes()
    quiz.refresh_from_db()
    assert quiz.finished_by == "deadline" and quiz.percentage == 20

    staff_services.quiz_reopen(quiz=quiz, minutes=20, actor=operator)
    quiz.refresh_from_db()
    assert quiz.state == "started" and quiz.finished_by == "" and quiz.end_at is None
    assert quiz.percentage is None and quiz.is_accept is None and quiz.correct_answers is None
    assert quiz.reopened_at is not None and quiz.extra_minutes == 20
    assert 19 * 60 < (quiz.deadline_at - timezone.now()).total_seconds() <= 20 * 60
    # The answers saved before are still there; the candidate goes on and finishes.
    detail = api_detail(client, token, launch["launch_id"])
    assert detail["state"] == "started"
    assert detail["questions"][0]["current_answer"] == right_shown(items[0])
    for item in items[1:3]:
        ok = api_answer(client, token, launch["launch_id"], item.question_id, right_shown(item))
        assert ok.status_code == 200
    submitted = api_submit(client, token, launch["launch_id"])
    assert submitted.status_code == 200
    assert submitted.json()["result"]["percentage"] == 60
    entry = AuditEntry.objects.get(action="quiz.reopen")
    assert entry.actor == operator
    assert entry.changes["state"] == ["completed", "started"]
    assert entry.changes["finished_by"] == ["deadline", ""]


def test_reopen_refuses_a_quiz_the_candidate_submitted(client, token, exam, operator):
    launch = api_launch(client, token, exam)
    api_submit(client, token, launch["launch_id"])
    quiz = quiz_of(launch)
    with pytest.raises(ExamError) as refused:
        staff_services.quiz_reopen(quiz=quiz, minutes=10, actor=operator)
    assert refused.value.code == "quiz_submitted"
    quiz.refresh_from_db()
    assert quiz.state == "completed" and quiz.reopened_at is None


def test_reopen_refuses_a_quiz_still_open(customer, exam, operator):
    quiz = service_launch(customer, exam).quiz
    with pytest.raises(ExamError) as refused:
        staff_services.quiz_reopen(quiz=quiz, minutes=10, actor=operator)
    assert refused.value.code == "quiz_open"


def test_reopen_refuses_while_another_quiz_of_the_exam_is_open(client, token, exam, operator):
    first = quiz_of(api_launch(client, token, exam))
    expire(first)
    # Launching again completes the expired quiz and starts another one.
    second = quiz_of(api_launch(client, token, exam))
    first.refresh_from_db()
    assert first.finished_by == "deadline" and second.pk != first.pk
    with pytest.raises(ExamError) as refused:
        staff_services.quiz_reopen(quiz=first, minutes=10, actor=operator)
    assert refused.value.code == "another_quiz_open"
    assert str(second.pk) in str(refused.value.message)
    first.refresh_from_db()
    assert first.state == "completed"
    assert not AuditEntry.objects.filter(action="quiz.reopen").exists()


# --- accommodations ---------------------------------------------------------------------------


def test_an_accommodation_applies_to_new_launches_only(client, token, exam, operator):
    started = quiz_of(api_launch(client, token, exam))
    deadline = started.deadline_at
    student = started.student
    assert staff_services.student_set_accommodation(
        student=student, extra_minutes=10, time_factor=Decimal("1.5"), actor=operator
    )
    # The quiz already started keeps its deadline, also when launched again (resumed).
    resumed = quiz_of(api_launch(client, token, exam))
    assert resumed.pk == started.pk and resumed.deadline_at == deadline
    expire(resumed)
    fresh = quiz_of(api_launch(client, token, exam))
    assert fresh.pk != started.pk
    # 30 min × 1.5 + 10 min
    assert fresh.deadline_at - fresh.start_at == timedelta(minutes=55)
    assert fresh.extra_minutes == 0  # staff time only; the accommodation is kept apart
    assert (fresh.accommodation_factor, fresh.accommodation_minutes) == (Decimal("1.5"), 10)
    review = staff_services.attempt_review(fresh.pk)
    assert review.accommodation["added_minutes"] == 25
    # Students without one have none on their quizzes.
    plain = quiz_of(api_launch(client, token, exam, student="plain"))
    assert staff_services.attempt_review(plain.pk).accommodation is None


def test_an_accommodation_lengthens_the_page_countdown_and_the_key_cookie(customer, client):
    exam = make_exam(customer, duration=60)
    Student.objects.create(customer=customer, uuid="stu-1", extra_minutes=30, time_factor=2)
    launch = service_launch(customer, exam)
    # The start page says how long is left; Start sets the cookie, as long as the exam lasts.
    intro = client.get(f"/exam/?launch={launch.launch_id}")
    assert intro.context["remaining_minutes"] == 150
    started = client.post(f"/exam/{launch.launch_id}/start/")
    response = client.get(f"/exam/?launch={launch.launch_id}")
    assert response.context["remaining_seconds"] > 149 * 60
    cookie = started.cookies[f"exam-{launch.launch_id}"]
    assert int(cookie["max-age"]) > 150 * 60 + 24 * 3600 - 5


@pytest.mark.parametrize(
    ("extra", "factor", "field", "message"),
    [
        (0, "4.5", "time_factor", "Ensure this value is less than or equal to 4."),
        (0, "0.5", "time_factor", "Ensure this value is greater than or equal to 1."),
        (0, "1.255", "time_factor", "Ensure that there are no more than 3 digits in total."),
        (2000, "1", "extra_minutes", "Ensure this value is less than or equal to 1440."),
        (-1, "1", "extra_minutes", "Ensure this value is greater than or equal to 0."),
    ],
)
def test_an_accommodation_is_checked_by_the_model_fields(
    customer, operator, extra, factor, field, message
):
    student = Student.objects.create(customer=customer, uuid="s")
    with pytest.raises(ValidationError) as refused:
        staff_services.student_set_accommodation(
            student=student, extra_minutes=extra, time_factor=factor, actor=operator
        )
    assert refused.value.message_dict[field] == [message]
    # The admin's form (a ModelForm on the same fields) refuses it with the same words.
    from django.forms import modelform_factory

    form = modelform_factory(Student, fields=["extra_minutes", "time_factor"])(
        {"extra_minutes": extra, "time_factor": factor}, instance=student
    )
    assert not form.is_valid() and message in form.errors[field]
    student.refresh_from_db()
    assert student.extra_minutes == 0 and student.time_factor == 1


def test_an_accommodation_change_is_audited_and_a_no_change_is_not(customer, operator):
    student = Student.objects.create(customer=customer, uuid="s")
    assert staff_services.student_set_accommodation(
        student=student, extra_minutes=15, time_factor="1.25", actor=operator
    )
    entry = AuditEntry.objects.get(action="student.accommodation")
    assert entry.actor == operator
    assert entry.changes == {"extra_minutes": [0, 15], "time_factor": ["1.00", "1.25"]}
    assert not staff_services.student_set_accommodation(
        student=student, extra_minutes=15, time_factor=Decimal("1.25"), actor=operator
    )
    assert AuditEntry.objects.filter(action="student.accommodation").count() == 1


# --- each save, the browser's claim -----------------------------------------------------------


def test_each_answer_save_is_recorded(client, token, exam):
    launch = api_launch(client, token, exam)
    quiz = quiz_of(launch)
    first, second, third, fourth = list(written_items(quiz).select_related("question"))[:4]
    lid = launch["launch_id"]
    api_answer(client, token, lid, first.question_id, "1")
    api_answer(client, token, lid, first.question_id, "1")  # the same again: not a change
    api_answer(client, token, lid, first.question_id, "3")
    saves = list(AnswerSave.objects.filter(item=first))
    assert [s.answer for s in saves] == [first.order[0], first.order[2]]
    first.refresh_from_db()
    assert saves[-1].saved_at == first.answered_at and saves[-1].done == "in_progress"

    # The submit-all path records each changed answer in the same transaction.
    responses = [
        {"question_id": second.question_id, "answer": "2"},
        {"question_id": third.question_id, "answer": "4", "done": "completed"},
        {"question_id": first.question_id, "answer": "3"},  # unchanged
    ]
    api_submit(client, token, lid, responses)
    assert AnswerSave.objects.filter(item__quiz=quiz).count() == 4
    third_save = AnswerSave.objects.get(item=third)
    assert third_save.answer == third.order[3] and third_save.done == "completed"
    assert not AnswerSave.objects.filter(item=fourth).exists()


def test_a_refused_submit_records_no_save(client, token, exam):
    launch = api_launch(client, token, exam)
    items = list(written_items(quiz_of(launch)).all())
    responses = [
        {"question_id": items[0].question_id, "answer": "2"},
        {"question_id": items[1].question_id, "answer": "9"},
    ]
    response = api_submit(client, token, launch["launch_id"], responses)
    assert response.status_code == 400
    assert not AnswerSave.objects.exists()


def test_the_page_form_and_autosave_record_saves(customer, exam, client):
    launch = service_launch(customer, exam)
    assert Launch.objects.get(pk=launch.pk).claimed_at is None
    before = timezone.now()
    client.get(f"/exam/?launch={launch.launch_id}")  # the start page claims nothing
    assert Launch.objects.get(pk=launch.pk).claimed_at is None
    client.post(f"/exam/{launch.launch_id}/start/")
    claimed = Launch.objects.get(pk=launch.pk).claimed_at
    assert claimed is not None and before <= claimed <= timezone.now()
    # Opening it again in the same browser doesn't move the claim.
    client.get(f"/exam/?launch={launch.launch_id}")
    client.post(f"/exam/{launch.launch_id}/start/")
    assert Launch.objects.get(pk=launch.pk).claimed_at == claimed

    items = list(written_items(launch.quiz).all())
    client.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": items[0].question_id, "answer": "2"}
    )
    client.post(
        f"/exam/{launch.launch_id}/save/",
        {f"q{items[1].question_id}": "1", f"q{items[2].question_id}": "4", "save": ""},
    )
    assert AnswerSave.objects.filter(item__quiz=launch.quiz).count() == 3


def test_the_time_left_endpoint_is_the_candidates_only(customer, exam, client):
    from django.test import Client

    launch = service_launch(customer, exam)
    client.post(f"/exam/{launch.launch_id}/start/")
    assert Client().get(f"/exam/{launch.launch_id}/time/").status_code == 404
    assert client.post(f"/exam/{launch.launch_id}/time/").status_code == 405
    expire(launch.quiz)
    done = client.get(f"/exam/{launch.launch_id}/time/").json()
    assert done == {"remaining_seconds": 0, "finished": True}


def test_the_time_left_endpoint_takes_few_queries(
    customer, exam, client, django_assert_max_num_queries
):
    launch = service_launch(customer, exam)
    client.post(f"/exam/{launch.launch_id}/start/")
    with django_assert_max_num_queries(1):
        assert client.get(f"/exam/{launch.launch_id}/time/").status_code == 200


# --- the pass mark and the live bank ----------------------------------------------------------


def test_the_verdict_never_changes_when_the_exam_pass_mark_does(client, token, exam, operator):
    launch = api_launch(client, token, exam)
    quiz = quiz_of(launch)
    assert quiz.accept_score == 60
    items = list(written_items(quiz).select_related("question"))
    responses = [
        {
            "question_id": item.question_id,
            "answer": right_shown(item) if i < 3 else wrong_shown(item),
        }
        for i, item in enumerate(items)
    ]
    lid = launch["launch_id"]
    # Save first, then raise the exam's pass mark while the quiz is open, then submit.
    for response in responses:
        api_answer(client, token, lid, response["question_id"], response["answer"])
    exam.accept_score = 80
    exam.save()
    submitted = api_submit(client, token, lid)
    assert submitted.json()["result"]["percentage"] == 60
    assert submitted.json()["result"]["is_accept"] is True
    quiz.refresh_from_db()
    assert quiz.is_accept is True
    # A new launch gets the new pass mark.
    assert quiz_of(api_launch(client, token, exam, student="stu-2")).accept_score == 80


def test_a_quiz_without_a_recorded_pass_mark_uses_the_exams(customer, exam):
    quiz = service_launch(customer, exam).quiz
    Quiz.objects.filter(pk=quiz.pk).update(accept_score=None)
    quiz.refresh_from_db()
    assert services.pass_mark(quiz) == exam.accept_score


def test_retired_questions_are_never_drawn(customer):
    exam = make_exam(customer, questions=6, number_of_question=4)
    retired = list(exam.questions.order_by("position")[:2])
    Question.objects.filter(pk__in=[q.pk for q in retired]).update(retired_at=timezone.now())
    for n in range(5):
        quiz = service_launch(customer, exam, student=f"s{n}").quiz
        drawn = set(written_items(quiz).values_list("question_id", flat=True))
        assert len(drawn) == 4 and not drawn & {q.pk for q in retired}
