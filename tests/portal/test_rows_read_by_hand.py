"""The launch's and the page's own SQL (portal.db.from_db_rows) give the values the ORM gives:
on SQLite datetimes, booleans and decimals, not the text, 0/1 and numbers it stores."""

from decimal import Decimal

import pytest

from portal.customers.models import ClientToken
from portal.exams import services
from portal.exams.models import Question, Quiz, Student
from tests.factories import CALLBACK, make_exam

pytestmark = pytest.mark.django_db


def assert_as_stored(instance, names) -> None:
    stored = type(instance).objects.get(pk=instance.pk)
    for name in names:
        got, want = getattr(instance, name), getattr(stored, name)
        assert (type(got), repr(got)) == (type(want), repr(want)), name


def test_a_launch_and_its_resume_read_the_values_the_orm_reads(customer):
    exam = make_exam(customer, can_back=False)
    token, _ = ClientToken.issue(customer=customer)
    Student.objects.create(customer=customer, uuid="stu-1", time_factor=Decimal("1.5"))

    def launch():
        return services.launch_quiz(
            token=token, student_uuid="stu-1", mobile="", eurl=exam.pk, callback_url=CALLBACK
        )

    first, resumed = launch()
    again, resumed_again = launch()
    assert (resumed, resumed_again) == (False, True)
    for made in (first, again):
        quiz = made.quiz
        assert_as_stored(quiz, ["start_at", "deadline_at", "shuffle_seed", "total_questions"])
        assert_as_stored(quiz.exam, ["can_back", "is_active", "accept_score", "duration"])
        assert_as_stored(quiz.student, ["time_factor", "extra_minutes"])
        assert quiz.exam.can_back is False and quiz.student.time_factor == Decimal("1.50")


def test_a_never_opened_quiz_reads_its_questions_as_the_orm_does(customer):
    exam = make_exam(customer, questions=3, shuffle=True)
    token, _ = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid="stu-1", mobile="", eurl=exam.pk, callback_url=CALLBACK
    )
    quiz = Quiz.objects.get(pk=launch.quiz_id)
    assert quiz.pending_items, "the quiz's items are not written yet"
    read = quiz.pending_questions(("can_shuffle", "description", "weight"))
    questions = Question.objects.in_bulk([pk for pk, *_ in read])
    assert [(pk, rest) for pk, _, *rest in read] == [
        (pk, [True, questions[pk].description, questions[pk].weight]) for pk, *_ in read
    ]
    assert all(type(can_shuffle) is bool for _, _, can_shuffle, *_ in read)
