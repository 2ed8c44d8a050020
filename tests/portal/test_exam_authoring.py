"""Authoring an exam: audited services, and versions — an edit never changes what an earlier
attempt saw or how it was scored, while new launches get the new bank."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.audit.models import AuditEntry
from portal.exams import authoring, services
from portal.exams.authoring import AuthoringError
from portal.exams.models import Exam, Question, Quiz
from portal.exams.transfer import export_exam, import_exam
from tests.factories import CALLBACK, at_once, drawn_ids, make_exam

LAUNCH_PATH = "/api/integration/exams/launch/"
QUESTION = {
    "description": "Which is a prime?",
    "c1": "4",
    "c2": "6",
    "c3": "7",
    "c4": "9",
    "correct": 3,
    "weight": 2.0,
}


def api_headers(token: str) -> dict:
    return {"X-Client-Token": token, "Accept-Language": "en"}


def launch(client, token: str, exam: Exam, student: str = "stu-1") -> dict:
    body = {"student_uuid": student, "mobile": "", "eurl": exam.pk, "callback_url": CALLBACK}
    response = client.post(
        LAUNCH_PATH, body, content_type="application/json", headers=api_headers(token)
    )
    assert response.status_code == 201, response.content
    return response.json()


def seen(client, token: str, launched: dict) -> list[dict]:
    """The questions as the candidate's API shows them."""
    response = client.get(f"/api/launch/{launched['launch_id']}/", headers=api_headers(token))
    assert response.status_code == 200, response.content
    return response.json()["questions"]


def right_answer(question: dict) -> str:
    """The shown number of the right choice, from the bank (make_exam's "q<n> choice ...")."""
    bank = Question.objects.get(pk=question["id"])
    text = bank.choice(bank.correct)
    return next(str(i) for i in range(1, 5) if question[f"c{i}"] == text)


def submit_all_right(client, token: str, launched: dict) -> dict:
    responses = [
        {"question_id": q["id"], "answer": right_answer(q), "done": "completed"}
        for q in seen(client, token, launched)
    ]
    response = client.post(
        f"/api/launch/{launched['launch_id']}/submit/",
        {"responses": responses},
        content_type="application/json",
        headers=api_headers(token),
    )
    assert response.status_code == 200, response.content
    return response.json()


def actions(exam: Exam) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_type="exam", target_id=str(exam.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


def live_texts(exam: Exam) -> list[str]:
    return [q["description"] for q in export_exam(exam)["exam"]["questions"]]


@pytest.fixture
def exam(customer) -> Exam:
    """Five questions, each quiz draws three."""
    return make_exam(customer, questions=5, number_of_question=3)


# --- exams ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_validates_and_audits(customer, author):
    data = {
        "title": "Primes",
        "language": "fa",
        "number_of_question": 1,
        "duration": 10,
        "questions": [QUESTION],
    }

    exam = authoring.exam_create(customer=customer, data=data, actor=author)

    assert exam.customer == customer and exam.language == "fa" and exam.accept_score == 60
    assert live_texts(exam) == ["Which is a prime?"]
    entry = AuditEntry.objects.get(action="exam.create")
    assert entry.actor == author
    assert entry.changes["title"] == [None, "Primes"]
    assert entry.changes["questions"] == [None, 1]


@pytest.mark.django_db
def test_create_refuses_a_bank_smaller_than_the_draw(customer, author):
    data = {"title": "P", "language": "en", "number_of_question": 2, "duration": 10}

    with pytest.raises(AuthoringError) as error:
        authoring.exam_create(
            customer=customer, data={**data, "questions": [QUESTION]}, actor=author
        )

    assert error.value.messages == {
        "number_of_question": [
            "Each quiz draws 2 questions, but the bank has only 1 question: add questions or "
            "draw fewer."
        ]
    }
    assert not Exam.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_a_question_error_is_keyed_by_its_place_in_the_bank(customer, author):
    data = {"title": "P", "language": "en", "number_of_question": 1, "duration": 10}
    bad = {**QUESTION, "correct": 7}

    with pytest.raises(AuthoringError) as error:
        authoring.exam_create(
            customer=customer, data={**data, "questions": [QUESTION, bad]}, actor=author
        )

    assert error.value.messages == {"questions[1].correct": ["Must be a whole number from 1 to 4."]}
    assert error.value.message == (
        "questions[1].correct (question 2): Must be a whole number from 1 to 4. Got: 7"
    )


@pytest.mark.django_db
def test_settings_update_keeps_what_it_is_not_given_and_audits(exam, author):
    exam.is_active = False
    exam.save()

    authoring.exam_update_settings(
        exam=exam,
        data={"title": "Renamed", "language": "en", "number_of_question": 4, "duration": 45},
        actor=author,
    )

    exam.refresh_from_db()
    assert (exam.title, exam.number_of_question, exam.duration) == ("Renamed", 4, 45)
    assert exam.is_active is False, "a form without is_active doesn't reactivate the exam"
    assert exam.accept_score == 60
    entry = AuditEntry.objects.get(action="exam.update")
    assert entry.changes == {
        "title": ["Sample exam", "Renamed"],
        "number_of_question": [3, 4],
        "duration": [30, 45],
    }


@pytest.mark.django_db
def test_settings_refuse_to_draw_more_than_the_live_bank(exam, author):
    with pytest.raises(AuthoringError) as error:
        authoring.exam_update_settings(
            exam=exam,
            data={"title": "T", "language": "en", "number_of_question": 6, "duration": 5},
            actor=author,
        )

    assert list(error.value.messages) == ["number_of_question"]
    assert "the bank has only 5 questions" in error.value.messages["number_of_question"][0]
    exam.refresh_from_db()
    assert exam.number_of_question == 3


@pytest.mark.django_db
def test_set_active_audits_only_a_change(exam, author):
    authoring.exam_set_active(exam=exam, active=False, actor=author)
    authoring.exam_set_active(exam=exam, active=False, actor=author)
    authoring.exam_set_active(exam=exam, active=True, actor=author)

    assert actions(exam) == ["exam.deactivate", "exam.activate"]
    exam.refresh_from_db()
    assert exam.is_active is True


@pytest.mark.django_db
def test_set_active_wants_a_boolean(exam, author):
    with pytest.raises(TypeError):
        authoring.exam_set_active(exam=exam, active="false", actor=author)


# --- questions --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_add_appends_at_the_end(exam, author):
    question = authoring.question_add(exam=exam, data=QUESTION, actor=author)

    assert live_texts(exam)[-1] == "Which is a prime?"
    assert question.position == 6
    entry = AuditEntry.objects.get(action="exam.question_add")
    assert entry.target_id == str(exam.pk)
    assert entry.changes["description"] == [None, "Which is a prime?"]


@pytest.mark.django_db
def test_an_undrawn_question_is_edited_in_place(exam, author):
    question = exam.questions.all()[1]

    live = authoring.question_update(question=question, data=QUESTION, actor=author)

    assert live.pk == question.pk
    assert Question.objects.count() == 5
    assert live_texts(exam)[1] == "Which is a prime?"
    entry = AuditEntry.objects.get(action="exam.question_update")
    assert entry.changes["description"] == ["Question 2?", "Which is a prime?"]
    assert entry.changes["correct"] == [2, 3]


@pytest.mark.django_db
def test_saving_the_same_content_changes_nothing(exam, author):
    question = exam.questions.all()[0]
    same = {name: getattr(question, name) for name in authoring.QuestionIn.model_fields}

    assert authoring.question_update(question=question, data=same, actor=author) == question
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_a_drawn_question_gets_a_new_version(client, token, customer, author):
    exam = make_exam(customer, questions=3)
    before = launch(client, token, exam, "early")
    shown_before = seen(client, token, before)
    question = exam.questions.get(description="Question 2?")

    live = authoring.question_update(
        question=question, data={**QUESTION, "c1": "Two"}, actor=author
    )

    assert live.pk != question.pk
    question.refresh_from_db()
    assert question.retired_at is not None and question.replaced_by == live
    assert question.description == "Question 2?", "the old version is kept as it was"
    assert live.position == question.position
    assert live_texts(exam) == ["Question 1?", "Which is a prime?", "Question 3?"]
    # The earlier quiz still shows exactly what it showed: text and choices.
    assert seen(client, token, before) == shown_before
    # A new launch draws the new version.
    after = launch(client, token, exam, "late")
    texts = {q["description"] for q in seen(client, token, after)}
    assert texts == {"Question 1?", "Which is a prime?", "Question 3?"}
    assert "new version" in AuditEntry.objects.get(action="exam.question_update").note


@pytest.mark.django_db
def test_an_attempt_is_scored_on_the_version_it_drew(client, token, customer, author):
    exam = make_exam(customer, questions=3)
    finished = launch(client, token, exam, "finished")
    result = submit_all_right(client, token, finished)
    open_one = launch(client, token, exam, "answering")
    answers = {q["id"]: right_answer(q) for q in seen(client, token, open_one)}
    # Every question's right answer moves to another choice.
    for question in list(exam.questions.all()):
        authoring.question_update(
            question=question,
            data={
                **{n: getattr(question, n) for n in authoring.QuestionIn.model_fields},
                "correct": question.correct % 4 + 1,
            },
            actor=author,
        )

    finished_quiz = Quiz.objects.get(pk=finished["quiz_id"])
    assert finished_quiz.percentage == 100 == result["result"]["percentage"]
    # Results are graded again when read (the API's result, the console): still 100.
    regraded = services.grade(finished_quiz, services.quiz_items(finished_quiz))
    assert regraded.percentage == 100 and regraded.is_accept
    response = client.post(
        f"/api/launch/{open_one['launch_id']}/submit/",
        {"responses": [{"question_id": k, "answer": v} for k, v in answers.items()]},
        content_type="application/json",
        headers=api_headers(token),
    )
    assert response.status_code == 200, response.content
    assert Quiz.objects.get(pk=open_one["quiz_id"]).percentage == 100
    assert Quiz.objects.get(pk=finished["quiz_id"]).percentage == 100


@pytest.mark.django_db
def test_a_retired_question_cannot_be_edited_again(client, token, exam, author):
    launch(client, token, exam)
    drawn = Question.objects.get(pk=drawn_ids()[0])
    authoring.question_update(question=drawn, data=QUESTION, actor=author)

    with pytest.raises(AuthoringError) as error:
        authoring.question_update(question=drawn, data={**QUESTION, "c1": "x"}, actor=author)

    assert "changed or removed meanwhile" in error.value.messages["__all__"][0]


@pytest.mark.django_db
def test_remove_deletes_an_undrawn_question_and_retires_a_drawn_one(client, token, exam, author):
    launched = launch(client, token, exam)
    drawn_set = set(drawn_ids())
    drawn = Question.objects.filter(pk__in=drawn_set).first()
    undrawn = Question.objects.exclude(pk__in=drawn_set).first()
    shown = seen(client, token, launched)

    authoring.question_remove(question=undrawn, actor=author)
    authoring.question_remove(question=drawn, actor=author)

    assert not Question.objects.filter(pk=undrawn.pk).exists()
    drawn.refresh_from_db()
    assert drawn.retired_at is not None and drawn.replaced_by is None
    assert len(live_texts(exam)) == 3
    assert seen(client, token, launched) == shown
    assert actions(exam).count("exam.question_remove") == 2


@pytest.mark.django_db
def test_remove_refuses_to_go_below_the_draw(exam, author):
    authoring.question_remove(question=exam.questions.all()[0], actor=author)
    authoring.question_remove(question=exam.questions.all()[0], actor=author)

    with pytest.raises(AuthoringError) as error:
        authoring.question_remove(question=exam.questions.all()[0], actor=author)

    assert error.value.messages == {
        "__all__": [
            "Each quiz draws 3 questions and the bank has 3 questions: add a question or draw "
            "fewer before removing one."
        ]
    }
    assert exam.questions.count() == 3


@pytest.mark.django_db
def test_reorder_takes_a_permutation_of_the_live_bank(exam, author):
    ids = list(exam.questions.values_list("pk", flat=True))
    order = [ids[4], ids[0], ids[3], ids[1], ids[2]]

    authoring.questions_reorder(exam=exam, order=order, actor=author)

    assert live_texts(exam) == [f"Question {n}?" for n in (5, 1, 4, 2, 3)]
    assert AuditEntry.objects.get(action="exam.questions_reorder").changes == {
        "order": [ids, order]
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "order",
    [
        pytest.param(lambda ids: ids[:-1], id="incomplete"),
        pytest.param(lambda ids: [*ids[:-1], ids[0]], id="duplicate"),
        pytest.param(lambda ids: [*ids, 999999], id="unknown id"),
        pytest.param(lambda ids: [], id="empty"),
    ],
)
def test_reorder_refuses_anything_else(exam, author, order):
    ids = list(exam.questions.values_list("pk", flat=True))

    with pytest.raises(AuthoringError) as error:
        authoring.questions_reorder(exam=exam, order=order(ids), actor=author)

    assert "every question of the bank once" in error.value.messages["__all__"][0]
    assert list(exam.questions.values_list("pk", flat=True)) == ids


@pytest.mark.django_db
def test_reorder_refuses_a_retired_question(client, token, exam, author):
    launch(client, token, exam)
    drawn = Question.objects.get(pk=drawn_ids()[0])
    live = authoring.question_update(question=drawn, data=QUESTION, actor=author)
    ids = list(exam.questions.live().values_list("pk", flat=True))

    with pytest.raises(AuthoringError):
        authoring.questions_reorder(
            exam=exam, order=[drawn.pk if pk == live.pk else pk for pk in ids], actor=author
        )
    authoring.questions_reorder(exam=exam, order=ids[::-1], actor=author)
    assert live_texts(exam)[0] == "Question 5?"


# --- files ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_over_a_quizzed_exam_keeps_its_eurl_and_old_attempts(
    client, token, customer, author
):
    exam = make_exam(customer, questions=3)
    finished = launch(client, token, exam, "finished")
    submit_all_right(client, token, finished)
    shown = seen(client, token, finished)
    document = export_exam(exam)
    kept = exam.questions.get(description="Question 1?")
    document["exam"]["questions"][1]["description"] = "Reworded 2?"
    document["exam"]["questions"][2:] = [
        {**document["exam"]["questions"][0], "description": f"New {n}?"} for n in (3, 4)
    ]
    document["exam"]["number_of_question"] = 4

    same = authoring.exam_import(customer=customer, document=document, actor=author, exam=exam)

    assert same.pk == exam.pk and Exam.objects.count() == 1
    assert export_exam(exam) == document
    assert exam.questions.live().get(position=1).pk == kept.pk, "an unchanged question stays"
    assert seen(client, token, finished) == shown
    assert Quiz.objects.get(pk=finished["quiz_id"]).percentage == 100
    assert Question.objects.filter(retired_at__isnull=False).count() == 2
    entry = AuditEntry.objects.get(action="exam.import")
    assert entry.actor == author
    assert entry.note == "Bank replaced: 1 kept, 3 added, 2 retired, 0 deleted."
    assert entry.changes["number_of_question"] == [3, 4]
    later = launch(client, token, exam, "later")
    assert {q["description"] for q in seen(client, token, later)} == {
        "Question 1?",
        "Reworded 2?",
        "New 3?",
        "New 4?",
    }


@pytest.mark.django_db
def test_import_of_another_customers_exam_is_refused(customer, other_customer, author):
    theirs = make_exam(other_customer, questions=3)

    with pytest.raises(AuthoringError, match="does not belong to customer"):
        authoring.exam_import(
            customer=customer,
            document=export_exam(theirs),
            actor=author,
            exam=theirs,
        )


@pytest.mark.django_db
def test_the_command_import_is_audited_as_the_system(customer):
    exam = make_exam(customer, questions=2)

    created = import_exam(export_exam(exam), customer=customer)

    entry = AuditEntry.objects.get(action="exam.import")
    assert entry.actor is None and entry.actor_label == "system"
    assert entry.target_id == str(created.pk)


@pytest.mark.django_db
def test_export_has_the_live_bank_in_order(client, token, exam, author):
    launch(client, token, exam)
    drawn = Question.objects.get(pk=drawn_ids()[0])
    authoring.question_update(question=drawn, data=QUESTION, actor=author)
    ids = list(exam.questions.live().values_list("pk", flat=True))
    authoring.questions_reorder(exam=exam, order=ids[::-1], actor=author)

    texts = live_texts(exam)

    assert len(texts) == 5 and drawn.description not in texts
    assert "Which is a prime?" in texts
    assert texts == [q.description for q in exam.questions.live().order_by("position")]


# --- two authors at once ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_authors_adding_at_once_lose_nothing(customer, author):
    exam = make_exam(customer, questions=2)
    count = 6

    def add(n: int) -> None:
        authoring.question_add(
            exam=exam, data={**QUESTION, "description": f"Added {n}?"}, actor=author
        )

    errors = [result for result in at_once(count, add) if isinstance(result, BaseException)]
    assert not errors
    live = list(exam.questions.live().order_by("position"))
    assert len(live) == count + 2
    assert sorted(q.description for q in live[2:]) == sorted(f"Added {n}?" for n in range(count))
    assert [q.position for q in live] == list(range(1, count + 3)), "no two at one place"
    assert AuditEntry.objects.filter(action="exam.question_add").count() == count


@pytest.mark.django_db(transaction=True)
def test_two_authors_editing_one_drawn_question_make_one_version(client, token, customer, author):
    exam = make_exam(customer, questions=2)
    launch(client, token, exam)
    drawn = exam.questions.all()[0]
    count = 4

    def edit(n: int) -> str:
        try:
            authoring.question_update(
                question=drawn, data={**QUESTION, "description": f"Edit {n}?"}, actor=author
            )
        except AuthoringError:
            return "refused"
        return "saved"

    outcomes = at_once(count, edit)
    assert sorted(outcomes) == ["refused"] * (count - 1) + ["saved"]
    assert exam.questions.live().count() == 2
    assert Question.objects.filter(exam=exam).count() == 3


@pytest.mark.django_db
def test_an_earlier_attempt_keeps_its_pass_mark_and_question_count_in_the_api(
    client, token, exam, author
):
    before = launch(client, token, exam)
    authoring.question_add(exam=exam, data=QUESTION | {"description": "A fourth?"}, actor=author)
    authoring.exam_update_settings(
        exam=exam,
        data={
            "title": exam.title,
            "language": "en",
            "number_of_question": 4,
            "duration": 30,
            "accept_score": 90,
        },
        actor=author,
    )
    url = f"/api/launch/{before['launch_id']}/"
    evaluation = client.get(url, headers=api_headers(token)).json()["evaluation"]
    assert (evaluation["number_of_question"], evaluation["accept_score"]) == (3, 60)
    after = launch(client, token, exam, student="stu-2")
    url = f"/api/launch/{after['launch_id']}/"
    evaluation = client.get(url, headers=api_headers(token)).json()["evaluation"]
    assert (evaluation["number_of_question"], evaluation["accept_score"]) == (4, 90)


def test_every_change_to_the_questions_moves_the_exams_updated_time(exam, author):
    """The console's exams list sorts by "Updated": a question added, edited, reordered or
    removed is a change to the exam (it kept the time of its settings' last change)."""
    long_ago = timezone.now() - timedelta(days=30)

    def updated_after(change) -> bool:
        Exam.objects.filter(pk=exam.pk).update(updated_at=long_ago)
        change()
        return Exam.objects.get(pk=exam.pk).updated_at > long_ago

    first, second = list(exam.questions.live().order_by("position"))[:2]
    assert updated_after(lambda: authoring.question_add(exam=exam, data=QUESTION, actor=author))
    edited = {**QUESTION, "description": "Reworded?"}
    assert updated_after(
        lambda: authoring.question_update(question=first, data=edited, actor=author)
    )
    order = list(exam.questions.live().order_by("-position").values_list("pk", flat=True))
    assert updated_after(lambda: authoring.questions_reorder(exam=exam, order=order, actor=author))
    assert updated_after(lambda: authoring.question_remove(question=second, actor=author))
