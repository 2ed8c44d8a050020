"""Statements of the exam's hot paths, pinned (issue 10), and the autosave's fast path keeping
every rule of the full path.

A transaction counts two statements on either database here: BEGIN IMMEDIATE and COMMIT on
SQLite, and on PostgreSQL the SAVEPOINT and RELEASE it becomes inside the test's transaction
(outside a test, the driver's BEGIN and COMMIT are not counted). The autosave is one statement
on PostgreSQL (a data-modifying CTE) where SQLite needs a transaction of two.
"""

import json
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from portal.customers.models import ClientToken, Customer
from portal.exams import services
from portal.exams.models import AnswerSave, Exam, Launch, Question, Quiz, QuizQuestion, Student
from scoring import exams as exam_scoring
from scoring.exams import choice_order
from tests.factories import CALLBACK, make_exam, written_items

pytestmark = pytest.mark.django_db


def on(sqlite: int, postgresql: int) -> int:
    return {"sqlite": sqlite, "postgresql": postgresql}[connection.vendor]


def api_headers(token: str, **extra: str) -> dict:
    return {"X-Client-Token": token, "Accept-Language": "en", **extra}


def launch_body(eurl: int, student: str = "stu-1") -> dict:
    return {"student_uuid": student, "mobile": "0912", "eurl": eurl, "callback_url": CALLBACK}


def do_launch(client, token: str, eurl: int, student: str = "stu-1"):
    return client.post(
        "/api/integration/exams/launch/",
        launch_body(eurl, student),
        content_type="application/json",
        headers=api_headers(token),
    )


def answer(client, token: str, launch_id, question_id: int, choice, **headers):
    return client.post(
        f"/api/launch/{launch_id}/answer/",
        {"question_id": question_id, "answer": choice},
        content_type="application/json",
        headers=api_headers(token, **headers),
    )


@pytest.fixture
def launch(client, token, exam) -> dict:
    response = do_launch(client, token, exam.pk)
    assert response.status_code == 201
    return response.json()


def first_item(launch: dict) -> QuizQuestion:
    return written_items(launch["quiz_id"]).order_by("position").first()


def fresh_token(token_pair) -> None:
    """Used a moment ago, so that no last_used_at write is due."""
    ClientToken.objects.filter(pk=token_pair[0].pk).update(last_used_at=timezone.now())


# --- autosave ---------------------------------------------------------------------------------


def test_autosave_is_one_statement_with_its_history_row(
    client, token, token_pair, launch, django_assert_num_queries
):
    item = first_item(launch)
    fresh_token(token_pair)
    # On SQLite the history row is its trigger's (portal.exams.history).
    with django_assert_num_queries(1):
        response = answer(client, token, launch["launch_id"], item.question_id, "2")
    assert response.status_code == 200 and response.json() == {"message": "Saved."}
    item.refresh_from_db()
    assert (item.answer, item.done) == (item.order[1], "in_progress")
    assert list(AnswerSave.objects.filter(item=item).values_list("answer", "done")) == [
        (item.order[1], "in_progress")
    ]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's AUTOINCREMENT")
def test_on_sqlite_history_rows_take_ids_without_writing_a_sequence(
    client, token, token_pair, launch
):
    """The history table's id is SQLite's rowid (portal.db.RowidAutoField): AUTOINCREMENT
    would write sqlite_sequence with every save."""
    item = first_item(launch)
    fresh_token(token_pair)
    for choice in ("2", "3"):
        assert (
            answer(client, token, launch["launch_id"], item.question_id, choice).status_code == 200
        )
    ids = list(AnswerSave.objects.filter(item=item).values_list("pk", flat=True))
    assert len(ids) == 2 and ids[0] < ids[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_sequence WHERE name = %s", [AnswerSave._meta.db_table]
        )
        assert cursor.fetchone()[0] == 0


def test_the_first_save_writes_the_pending_items_then_saves_take_one_statement(
    client, token, token_pair, launch, django_assert_num_queries
):
    """A launch writes its quiz, not a row per question (Quiz.pending_items): the first save
    takes the full path, which writes them all, unanswered, in their order and choice orders;
    the next save is the one statement again."""
    quiz = Quiz.objects.get(pk=launch["quiz_id"])
    drawn = services.quiz_items(quiz)
    assert not QuizQuestion.objects.filter(quiz=quiz).exists()
    assert [item.question_id for item in drawn] == quiz.pending_question_ids
    first, second = drawn[0], drawn[1]
    fresh_token(token_pair)
    assert answer(client, token, launch["launch_id"], first.question_id, "2").status_code == 200
    rows = QuizQuestion.objects.filter(quiz=quiz).order_by("position")
    assert [(r.question_id, r.position, r.choice_order) for r in rows] == [
        (item.question_id, item.position, item.choice_order) for item in drawn
    ]
    assert [r.shown_answer for r in rows] == [2] + [None] * (len(drawn) - 1)
    assert Quiz.objects.get(pk=quiz.pk).pending_items == ""
    with django_assert_num_queries(1):
        response = answer(client, token, launch["launch_id"], second.question_id, "4")
    assert response.json() == {"message": "Saved."}
    assert AnswerSave.objects.filter(item__quiz=quiz).count() == 2


def test_a_launch_draws_again_when_a_question_it_drew_is_deleted_meanwhile(
    token_pair, customer, monkeypatch
):
    """The bank is read before the launch's transaction; an author may delete an undrawn
    question in between. The quiz is not written with it: the launch draws again."""
    exam = make_exam(customer, questions=4)
    exam.number_of_question = 2
    exam.save()
    read = services._exam_with_bank
    deleted = []

    def read_then_delete(*args):
        found, bank = read(*args)
        if not deleted:
            deleted.extend(bank)
            Question.objects.filter(pk__in=bank).delete()  # all of them: any draw loses one
            Question.objects.bulk_create(
                Question(exam=exam, position=n, description=f"New {n}?", c1="a", c2="b", correct=1)
                for n in range(1, 5)
            )
        return found, bank

    monkeypatch.setattr(services, "_exam_with_bank", read_then_delete)
    launch, existing = services.launch_quiz(
        token=token_pair[0], student_uuid="stu-race", mobile="", eurl=exam.pk, callback_url=CALLBACK
    )
    assert existing is False
    drawn = [item.question for item in services.quiz_items(launch.quiz)]
    assert len(drawn) == 2 and not {q.pk for q in drawn} & set(deleted)
    assert all(q.description.startswith("New") for q in drawn)
    assert Quiz.objects.count() == 1


def test_a_launch_whose_draws_keep_losing_questions_is_refused_with_409(
    client, token, customer, monkeypatch
):
    """Each draw loses a question to an author's edit, the first too (drawn from the bank read
    with the token on PostgreSQL, from the bank read after it on SQLite)."""
    exam = make_exam(customer, questions=3)
    draw = exam_scoring.draw_questions

    def draw_then_replace(seed, bank, count):
        drawn = draw(seed, bank, count)
        Question.objects.filter(pk__in=bank).delete()
        Question.objects.bulk_create(
            Question(exam=exam, position=n, description="?", c1="a", c2="b", correct=1)
            for n in range(1, 4)
        )
        return drawn

    monkeypatch.setattr(exam_scoring, "draw_questions", draw_then_replace)
    response = do_launch(client, token, exam.pk)
    assert response.status_code == 409
    assert response.json()["code"] == "exam_changed"
    assert not Quiz.objects.exists()


def test_the_same_answer_again_is_saved_without_a_write_or_a_history_row(
    client, token, token_pair, launch, django_assert_num_queries
):
    item = first_item(launch)
    assert answer(client, token, launch["launch_id"], item.question_id, "3").status_code == 200
    fresh_token(token_pair)
    with django_assert_num_queries(on(sqlite=2, postgresql=1)):
        response = answer(client, token, launch["launch_id"], item.question_id, "3")
    assert response.json() == {"message": "Saved."}
    assert AnswerSave.objects.filter(item=item).count() == 1
    assert answer(client, token, launch["launch_id"], item.question_id, "1").status_code == 200
    assert AnswerSave.objects.filter(item=item).count() == 2


def test_a_token_due_for_its_last_used_write_takes_the_full_path_and_is_touched(
    client, token, token_pair, launch, django_assert_num_queries
):
    item = first_item(launch)
    ClientToken.objects.filter(pk=token_pair[0].pk).update(
        last_used_at=timezone.now() - timedelta(minutes=5)
    )
    # The fast path finds nothing; then the token (and its touch), the launch, and the save
    # (its history row in the same statement on SQLite, by the trigger).
    with django_assert_num_queries(10):
        response = answer(client, token, launch["launch_id"], item.question_id, "2")
    assert response.status_code == 200
    token_pair[0].refresh_from_db()
    assert timezone.now() - token_pair[0].last_used_at < timedelta(seconds=30)
    assert AnswerSave.objects.filter(item=item).count() == 1


def test_both_token_headers_work_on_the_fast_path(client, token, token_pair, launch):
    item = first_item(launch)
    fresh_token(token_pair)
    response = client.post(
        f"/api/launch/{launch['launch_id']}/answer/",
        {"question_id": item.question_id, "answer": "4"},
        content_type="application/json",
        headers={"Authorization": f"Token {token}"},
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.answer == item.order[3]


@pytest.mark.parametrize("sent", ["revoked", "unknown", "other-customer"])
def test_the_fast_path_refuses_what_the_full_path_refuses(
    client, token, token_pair, other_token, launch, sent
):
    item = first_item(launch)
    fresh_token(token_pair)
    use = {"revoked": token, "unknown": str(uuid4()), "other-customer": other_token}[sent]
    if sent == "revoked":
        token_pair[0].revoke()
    response = answer(client, use, launch["launch_id"], item.question_id, "2")
    if sent == "other-customer":
        assert response.status_code == 404 and response.json()["code"] == "launch_not_found"
    else:
        assert response.status_code == 401 and response.json()["code"] == "invalid_token"
    assert not AnswerSave.objects.exists()
    item.refresh_from_db()
    assert item.answer is None


def test_an_unknown_token_with_a_bad_body_is_still_401(client, launch):
    response = client.post(
        f"/api/launch/{launch['launch_id']}/answer/",
        {"question_id": "x"},
        content_type="application/json",
        headers={"X-Client-Token": str(uuid4())},
    )
    assert response.status_code == 401 and response.json()["code"] == "invalid_token"


def test_past_the_deadline_the_fast_path_leaves_it_to_the_full_path(
    client, token, token_pair, launch
):
    item = first_item(launch)
    answer(client, token, launch["launch_id"], item.question_id, "2")
    Quiz.objects.filter(pk=launch["quiz_id"]).update(
        deadline_at=timezone.now() - timedelta(seconds=1)
    )
    fresh_token(token_pair)
    response = answer(client, token, launch["launch_id"], item.question_id, "3")
    assert response.status_code == 400 and response.json()["code"] == "time_up"
    quiz = Quiz.objects.get(pk=launch["quiz_id"])
    assert (quiz.state, quiz.finished_by) == (Quiz.State.COMPLETED, Quiz.FinishedBy.DEADLINE)
    item.refresh_from_db()
    assert item.answer == item.order[1]


def test_a_finished_quiz_or_an_unknown_question_is_refused(client, token, token_pair, launch):
    item = first_item(launch)
    fresh_token(token_pair)
    unknown = answer(client, token, launch["launch_id"], 10**6, "2")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_question"
    client.post(
        f"/api/launch/{launch['launch_id']}/submit/",
        {"responses": []},
        content_type="application/json",
        headers=api_headers(token),
    )
    finished = answer(client, token, launch["launch_id"], item.question_id, "2")
    assert finished.status_code == 400 and finished.json()["code"] == "quiz_finished"
    assert not AnswerSave.objects.exists()


def test_without_going_back_a_change_is_refused_and_the_same_answer_is_not(
    client, token, token_pair, customer
):
    exam = make_exam(customer, questions=3, can_back=False)
    launch = do_launch(client, token, exam.pk).json()
    item = first_item(launch)
    fresh_token(token_pair)
    assert answer(client, token, launch["launch_id"], item.question_id, "2").status_code == 200
    assert answer(client, token, launch["launch_id"], item.question_id, "2").status_code == 200
    locked = answer(client, token, launch["launch_id"], item.question_id, "3")
    assert locked.status_code == 400 and locked.json()["code"] == "answer_locked"
    item.refresh_from_db()
    assert item.answer == item.order[1]
    assert AnswerSave.objects.filter(item=item).count() == 1


def test_a_shuffled_choice_is_stored_as_the_banks_number(client, token, token_pair, customer):
    exam = make_exam(customer, questions=4)
    exam.questions.update(can_shuffle=True)
    launch = do_launch(client, token, exam.pk).json()
    fresh_token(token_pair)
    for item in written_items(launch["quiz_id"]):
        for shown in (1, 2, 3, 4):
            answer(client, token, launch["launch_id"], item.question_id, str(shown))
            item.refresh_from_db()
            assert item.answer == item.order[shown - 1]
            assert item.shown_answer == shown


# --- launch, submit, reading ------------------------------------------------------------------


def test_launch_new_and_resumed(client, token, token_pair, exam, django_assert_num_queries):
    fresh_token(token_pair)
    # Token with the exam and its bank, student upsert with its started quiz if any, quiz (its
    # items pending, no row each), launch (+ a transaction); PostgreSQL inserts the quiz and
    # the launch in one statement.
    with django_assert_num_queries(on(sqlite=6, postgresql=5)):
        first = do_launch(client, token, exam.pk)
    # Token with the exam and its bank, student upsert with its started quiz, launch (+ a
    # transaction).
    with django_assert_num_queries(on(sqlite=5, postgresql=5)):
        again = do_launch(client, token, exam.pk)
    assert first.status_code == again.status_code == 201
    assert first.json()["quiz_id"] == again.json()["quiz_id"]
    assert again.json()["is_existing_quiz"] is True


def test_the_launch_shortcut_answers_as_the_api_operation_does(rf, token, exam):
    """A plainly valid launch is made in front of Django Ninja (api/shortcuts.py, launch_shortcut):
    its 201 is the operation's, byte for byte but for the new launch's own values."""
    from api.shortcuts import _operation

    body = json.dumps(launch_body(exam.pk, "stu-same"))
    headers = {"HTTP_X_CLIENT_TOKEN": token, "HTTP_ACCEPT_LANGUAGE": "en"}
    url = "/api/integration/exams/launch/"
    by_operation = _operation("integration/exams/launch/")(
        rf.post(url, body, content_type="application/json", **headers)
    )
    by_shortcut = Client().post(url, body, content_type="application/json", **headers)
    assert by_operation.status_code == by_shortcut.status_code == 201
    assert by_operation["Content-Type"] == by_shortcut["Content-Type"]
    first, second = json.loads(by_operation.content), json.loads(by_shortcut.content)
    assert second["is_existing_quiz"] is True and second["quiz_id"] == first["quiz_id"]
    assert by_shortcut.content == by_operation.content.replace(
        first["launch_id"].encode(), second["launch_id"].encode()
    ).replace(b'"is_existing_quiz": false', b'"is_existing_quiz": true')


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"eurl": 10**9}, "exam_not_found"),
        ({"callback_url": "ftp://x"}, "invalid_callback_url"),
        ({"student_uuid": ["stu-1"]}, "invalid_request"),
    ],
)
def test_a_refused_launch_gets_the_operations_error(client, token, exam, body, code):
    response = client.post(
        "/api/integration/exams/launch/",
        launch_body(exam.pk) | body,
        content_type="application/json",
        headers=api_headers(token),
    )
    assert response.status_code in (400, 404) and response.json()["code"] == code
    assert not Quiz.objects.exists()


def test_the_token_read_by_hand_is_the_orms_token_with_its_customer(
    token, token_pair, customer, django_assert_num_queries
):
    fresh_token(token_pair)
    expected = ClientToken.objects.select_related("customer").get(pk=token_pair[0].pk)
    with django_assert_num_queries(1):
        found = ClientToken.authenticate(token)
        assert found.customer.signing_secret == customer.signing_secret
    fields = [f.attname for f in ClientToken._meta.concrete_fields]
    assert [getattr(found, f) for f in fields] == [getattr(expected, f) for f in fields]
    fields = [f.attname for f in Customer._meta.concrete_fields]
    assert [getattr(found.customer, f) for f in fields] == [
        getattr(expected.customer, f) for f in fields
    ]
    assert found.customer.is_active is True and found.created_at.tzinfo is not None


def test_the_launch_reads_its_token_with_the_exam_and_its_live_bank(
    token, token_pair, customer, django_assert_num_queries
):
    """The launch's first statement reads the token, its customer and the exam with its
    bank: the same objects as the token's and the exam's own reads (live questions only, in
    bank order, which is neither key order nor its reverse here)."""
    exam = make_exam(customer, questions=5)
    exam.questions.filter(position=2).update(retired_at=timezone.now())
    exam.questions.filter(position=4).update(position=0)  # bank order is not key order
    exam.questions.filter(position=1).update(position=9)
    fresh_token(token_pair)
    with django_assert_num_queries(1):
        found = services.authenticate_for_launch(token, exam.pk)
    assert found is not None
    read_token, exam_read = found
    assert read_token.pk == token_pair[0].pk and read_token.customer == customer
    assert exam_read is not None
    expected_exam, expected_bank = services._exam_with_bank(customer, exam.pk)
    read_exam, bank = exam_read
    fields = ("id", "customer_id", *services._LAUNCH_EXAM_FIELDS)
    assert [getattr(read_exam, f) for f in fields] == [getattr(expected_exam, f) for f in fields]
    live = exam.questions.filter(retired_at=None).order_by("position", "id")
    assert bank == expected_bank == list(live.values_list("id", flat=True))
    assert bank not in (sorted(bank), sorted(bank, reverse=True))
    assert len(bank) == 4
    # Another customer's exam, or none: the token alone (the launch then reads and refuses it).
    other = make_exam(Customer.objects.create(name="Other"), questions=2)
    assert services.authenticate_for_launch(token, other.pk) == (read_token, None)
    assert services.authenticate_for_launch(str(uuid4()), exam.pk) is None
    # An exam with no live question: an empty bank (the launch then refuses it as empty).
    exam.questions.update(retired_at=timezone.now())
    assert services.authenticate_for_launch(token, exam.pk)[1][1] == []  # type: ignore[index]
    assert services._exam_with_bank(customer, exam.pk)[1] == []


def test_a_launch_writes_what_the_orm_wrote(client, token, customer):
    """The launch's hand-written SQL: the live bank only, each item's choice order from the
    seed, the accommodation and pass mark at launch, and the objects returned as stored."""
    exam = make_exam(customer, questions=6, accept_score=70, duration=40)
    exam.questions.filter(position__in=[2, 3, 4]).update(can_shuffle=True)
    retired = exam.questions.get(position=5)
    retired.retired_at = timezone.now()
    retired.save()
    student = Student.objects.create(
        customer=customer, uuid="stu-acc", time_factor=Decimal("1.25"), extra_minutes=5
    )
    token_row = ClientToken.objects.get(customer=customer)
    before = timezone.now()
    launch, existing = services.launch_quiz(
        token=token_row,
        student_uuid=" stu-acc ",
        mobile="۰۹۱۲",
        eurl=exam.pk,
        callback_url=CALLBACK,
    )
    assert existing is False
    quiz = Quiz.objects.get(pk=launch.quiz_id)
    assert (quiz.student_id, quiz.exam_id, quiz.state) == (student.pk, exam.pk, "started")
    assert quiz.shuffle_seed == launch.quiz.shuffle_seed
    assert (quiz.accept_score, quiz.accommodation_factor, quiz.accommodation_minutes) == (
        70,
        Decimal("1.25"),
        5,
    )
    assert quiz.start_at == launch.quiz.start_at and before <= quiz.start_at <= timezone.now()
    # 40 × 1.25 + 5 minutes.
    assert quiz.deadline_at - quiz.start_at == timedelta(minutes=55)
    assert quiz.deadline_at == launch.quiz.deadline_at
    live = list(exam.questions.live().values_list("id", "can_shuffle"))
    items = list(
        written_items(quiz).order_by("position").values_list("question_id", "choice_order")
    )
    assert items == [
        (qid, "".join(map(str, choice_order(quiz.shuffle_seed, qid, shuffle))))
        for qid, shuffle in live
    ]
    assert retired.pk not in {qid for qid, _ in items} and quiz.total_questions == 5
    stored = Launch.objects.get(pk=launch.launch_id)
    assert (stored.callback_url, stored.created_at, stored.browser_key_hash) == (
        launch.callback_url,
        launch.created_at,
        "",
    )
    student.refresh_from_db()
    assert (launch.quiz.student.uuid, launch.quiz.student.mobile, student.mobile) == (
        "stu-acc",
        "0912",
        "0912",
    )
    assert (launch.quiz.exam.title, launch.quiz.exam.can_back) == (exam.title, exam.can_back)
    assert launch.quiz.exam.updated_at == Exam.objects.get(pk=exam.pk).updated_at
    again, existing = services.launch_quiz(
        token=token_row, student_uuid="stu-acc", mobile="", eurl=exam.pk, callback_url=CALLBACK
    )
    assert existing is True and again.quiz.pk == quiz.pk
    assert again.quiz.deadline_at == quiz.deadline_at
    assert Launch.objects.filter(quiz=quiz).count() == 2


def test_launch_keeps_a_stored_mobile_when_none_is_sent(client, token, exam):
    do_launch(client, token, exam.pk)
    body = launch_body(exam.pk) | {"mobile": ""}
    response = client.post(
        "/api/integration/exams/launch/",
        body,
        content_type="application/json",
        headers=api_headers(token),
    )
    assert response.json()["student"] == {"uuid": "stu-1", "mobile": "0912"}


@pytest.mark.parametrize("size", [10, 200])
def test_submit_and_reading_take_the_same_statements_at_any_size(
    client, token, token_pair, customer, size, django_assert_num_queries
):
    exam = make_exam(customer, questions=size)
    launch = do_launch(client, token, exam.pk).json()
    fresh_token(token_pair)
    # Token, launch, items (none written yet: the launch left them pending), their questions.
    with django_assert_num_queries(4):
        shown = client.get(f"/api/launch/{launch['launch_id']}/", headers=api_headers(token))
    questions = shown.json()["questions"]
    assert len(questions) == size
    body = {"responses": [{"question_id": q["id"], "answer": "2"} for q in questions]}
    # Token, launch, quiz locked, its items (none written yet), their questions, the items
    # written with their answers, their history rows, the quiz's items marked written, the
    # result (+ a transaction).
    with django_assert_num_queries(11):
        submitted = client.post(
            f"/api/launch/{launch['launch_id']}/submit/",
            body,
            content_type="application/json",
            headers=api_headers(token),
        )
    assert submitted.status_code == 200
    assert submitted.json()["result"]["total_questions"] == size
    assert AnswerSave.objects.filter(item__quiz_id=launch["quiz_id"]).count() == size
    rows = QuizQuestion.objects.filter(quiz_id=launch["quiz_id"]).order_by("position")
    assert [(r["id"], r["question"]) for r in submitted.json()["result"]["responses"]] == [
        (row.pk, row.question_id) for row in rows
    ]
    assert {row.shown_answer for row in rows} == {2}


@pytest.mark.parametrize("size", [10, 200])
def test_the_exam_page_takes_the_same_statements_at_any_size(
    customer, size, django_assert_num_queries
):
    exam = make_exam(customer, questions=size)
    token, _ = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid="stu-1", mobile="", eurl=exam.pk, callback_url=CALLBACK
    )
    browser = Client()
    browser.get(f"/exam/?launch={launch.launch_id}")
    browser.post(f"/exam/{launch.launch_id}/start/")
    # The launch (with quiz, student and exam), the items (none written yet: the launch left
    # them pending), their questions.
    with django_assert_num_queries(3):
        page = browser.get(f"/exam/?launch={launch.launch_id}")
    assert page.status_code == 200
    assert page.text.count('class="question"') == size
    first = services.quiz_items(launch.quiz)[0]
    services.save_answer(launch=launch, question_id=first.question_id, answer="1")
    # Once a save wrote them: the launch, then the items with their questions.
    with django_assert_num_queries(2):
        page = browser.get(f"/exam/?launch={launch.launch_id}")
    assert page.text.count('class="question"') == size
    assert page.text.count(" checked") == 1


# --- the exam page's own autosave ------------------------------------------------------------


@pytest.fixture
def page_launch(customer, exam):
    """A launch whose candidate pressed Start in `browser`; returns (browser, launch)."""
    token, _ = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid="stu-page", mobile="", eurl=exam.pk, callback_url=CALLBACK
    )
    browser = Client()
    browser.get(f"/exam/?launch={launch.launch_id}")
    assert browser.post(f"/exam/{launch.launch_id}/start/").status_code == 302
    return browser, launch


def page_answer(browser: Client, launch, question_id, choice=None):
    body = {"question_id": question_id} | ({} if choice is None else {"answer": choice})
    return browser.post(f"/exam/{launch.launch_id}/answer/", body)


def page_item(launch) -> QuizQuestion:
    return written_items(launch.quiz_id).order_by("position").first()


def test_the_pages_autosave_is_the_one_statement_save_and_a_progress_read(
    page_launch, django_assert_num_queries
):
    browser, launch = page_launch
    item = page_item(launch)
    # The save (checked against this browser's key in place of a client token), then the
    # answered count, total and deadline. The full path took 8: launch, quiz locked, item,
    # update, history row, count (+ a transaction).
    with django_assert_num_queries(2):
        response = page_answer(browser, launch, item.question_id, "۲")
    assert response.status_code == 200
    body = response.json()
    assert body | {"remaining_seconds": 0} == {
        "saved": True,
        "answered": 1,
        "total": 5,
        "remaining_seconds": 0,
    }
    assert 0 < body["remaining_seconds"] <= 30 * 60
    item.refresh_from_db()
    assert (item.answer, item.done) == (item.order[1], "in_progress")
    assert list(AnswerSave.objects.filter(item=item).values_list("answer", "done")) == [
        (item.order[1], "in_progress")
    ]
    with django_assert_num_queries(on(sqlite=3, postgresql=2)):
        again = page_answer(browser, launch, item.question_id, "2")
    assert again.json()["answered"] == 1
    assert AnswerSave.objects.filter(item=item).count() == 1


@pytest.mark.parametrize(
    "case",
    [
        "other browser",
        "no cookie",
        "unknown question",
        "bad question_id",
        "bad answer",
        "no answer",
        "locked",
        "time up",
        "finished",
    ],
)
def test_the_pages_fast_path_leaves_every_refusal_to_the_full_path(page_launch, customer, case):
    browser, launch = page_launch
    item = page_item(launch)
    cookie = f"exam-{launch.launch_id}"
    question_id, choice = item.question_id, "3"
    if case == "other browser":
        browser = Client()
        browser.cookies[cookie] = "someone-elses-key"
    elif case == "no cookie":
        del browser.cookies[cookie]
    elif case == "unknown question":
        question_id = 10**6
    elif case == "bad question_id":
        question_id = "x"
    elif case == "bad answer":
        choice = "7"
    elif case == "no answer":
        choice = None
    elif case == "locked":
        Exam.objects.filter(pk=launch.quiz.exam_id).update(can_back=False)
        assert page_answer(browser, launch, item.question_id, "2").status_code == 200
    elif case == "time up":
        Quiz.objects.filter(pk=launch.quiz_id).update(
            deadline_at=timezone.now() - timedelta(seconds=1)
        )
    elif case == "finished":
        services.submit_quiz(launch=launch)
    response = page_answer(browser, launch, question_id, choice)
    expected = {
        "other browser": (404, None),
        "no cookie": (404, None),
        "unknown question": (400, "unknown_question"),
        "bad question_id": (400, "invalid_request"),
        "bad answer": (400, "invalid_answer"),
        "no answer": (200, None),
        "locked": (400, "answer_locked"),
        "time up": (400, "time_up"),
        "finished": (400, "quiz_finished"),
    }[case]
    assert response.status_code == expected[0]
    if expected[1]:
        assert response.json()["code"] == expected[1]
    if case == "no answer":
        assert response.json()["saved"] is True and response.json()["answered"] == 0
    if case == "time up":
        quiz = Quiz.objects.get(pk=launch.quiz_id)
        assert (quiz.state, quiz.finished_by) == (Quiz.State.COMPLETED, Quiz.FinishedBy.DEADLINE)
    saves = AnswerSave.objects.filter(item__quiz_id=launch.quiz_id).count()
    assert saves == (1 if case == "locked" else 0)
