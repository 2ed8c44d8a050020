"""The exam contract (seed 001) through Django's test client, as a customer would see it."""

import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID, uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from ninja.responses import NinjaJSONEncoder

from api.exams import ExamSubmitOut
from portal.customers.models import ClientToken
from portal.exams import services
from portal.exams.models import AnswerSave, Exam, Launch, Question, Quiz, QuizQuestion, Student
from tests.factories import CALLBACK, make_exam, written_items

LAUNCH_PATH = "/api/integration/exams/launch/"
CALLBACK_PARAMS = {
    "student_uuid",
    "mobile",
    "eurl",
    "quiz_id",
    "percentage",
    "total_score",
    "is_accept",
    "state",
    "launch_id",
}
WORDS = ("one", "two", "three", "four")


# --- helpers ----------------------------------------------------------------------------------


def headers(token: str, **extra: str) -> dict:
    return {"X-Client-Token": token, "Accept-Language": "en", **extra}


def get(client, path: str, token: str, **extra: str):
    return client.get(path, headers=headers(token, **extra))


def post(client, path: str, token: str, body, **extra: str):
    return client.post(path, body, content_type="application/json", headers=headers(token, **extra))


def start(client, token: str, eurl: int, *, student: str = "stu-1", **fields):
    body = {
        "student_uuid": student,
        "mobile": "09120000000",
        "eurl": eurl,
        "callback_url": CALLBACK,
    }
    return post(client, LAUNCH_PATH, token, body | fields)


def launched(client, token: str, eurl: int, **fields) -> dict:
    response = start(client, token, eurl, **fields)
    assert response.status_code == 201, response.content
    return response.json()


def questions(client, token: str, launch_id: str) -> list[dict]:
    response = get(client, f"/api/launch/{launch_id}/", token)
    assert response.status_code == 200, response.content
    return response.json()["questions"]


def right_text(question: dict) -> str:
    """The text of the right choice, known from make_exam's rule, not from the API."""
    n = int(re.fullmatch(r"Question (\d+)\?", question["description"]).group(1))
    return f"q{n} choice {WORDS[(n - 1) % 4]}"


def right(question: dict) -> str:
    """The number, as shown, of the right choice."""
    return next(str(i) for i in range(1, 5) if question[f"c{i}"] == right_text(question))


def wrong(question: dict) -> str:
    return next(str(i) for i in range(1, 5) if str(i) != right(question))


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body["error"], str)
    assert body["error"]
    if code is not None:
        assert body["code"] == code
    return body


def assert_signed(url: str, secret: str) -> dict[str, str]:
    """The nine result parameters, checked against the documented signature rule."""
    params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    message = "&".join(f"{name}={params[name]}" for name in sorted(CALLBACK_PARAMS))
    expected = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(params["signature"], expected)
    return params


def keys_anywhere(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_anywhere(v)}
    return set()


def quiz_of(launch: dict) -> Quiz:
    return Quiz.objects.get(pk=launch["quiz_id"])


def expire(launch: dict) -> None:
    Quiz.objects.filter(pk=launch["quiz_id"]).update(
        deadline_at=timezone.now() - timedelta(minutes=1)
    )


@pytest.fixture
def launch(client, token, exam) -> dict:
    return launched(client, token, exam.pk)


# --- authentication ---------------------------------------------------------------------------


def endpoints(exam_id: int, launch_id: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", f"/api/integration/exams/{exam_id}/", None),
        (
            "post",
            LAUNCH_PATH,
            {"student_uuid": "s", "mobile": "", "eurl": exam_id, "callback_url": CALLBACK},
        ),
        ("get", f"/api/launch/{launch_id}/", None),
        ("post", f"/api/launch/{launch_id}/answer/", {"question_id": 1, "answer": "1"}),
        ("post", f"/api/launch/{launch_id}/submit/", {"responses": []}),
        ("get", f"/api/launch/{launch_id}/redirect/", None),
    ]


def call(client, method: str, path: str, body, request_headers: dict):
    if method == "get":
        return client.get(path, headers=request_headers)
    return client.post(path, body, content_type="application/json", headers=request_headers)


@pytest.mark.parametrize("style", ["x-client-token", "authorization"])
def test_both_token_headers_are_accepted(client, token, exam, style):
    request_headers = (
        {"X-Client-Token": token}
        if style == "x-client-token"
        else {"Authorization": f"Token {token}"}
    )
    response = client.get(f"/api/integration/exams/{exam.pk}/", headers=request_headers)
    assert response.status_code == 200
    assert response.json()["eurl"] == exam.pk

    body = {"student_uuid": "stu-9", "mobile": "", "eurl": exam.pk, "callback_url": CALLBACK}
    response = client.post(
        LAUNCH_PATH, body, content_type="application/json", headers=request_headers
    )
    assert response.status_code == 201
    launch_id = response.json()["launch_id"]
    assert client.get(f"/api/launch/{launch_id}/", headers=request_headers).status_code == 200


@pytest.mark.parametrize(
    "request_headers",
    [
        {},
        {"X-Client-Token": ""},
        {"X-Client-Token": "garbage"},
        {"X-Client-Token": str(uuid4())},
        {"Authorization": "Token garbage"},
        {"Authorization": f"Token {uuid4()}"},
        {"Authorization": "Bearer"},
    ],
    ids=["missing", "empty", "garbage", "unknown", "auth-garbage", "auth-unknown", "bearer"],
)
def test_missing_or_bad_token_is_401_on_every_endpoint(client, launch, exam, request_headers):
    for method, path, body in endpoints(exam.pk, launch["launch_id"]):
        response = call(client, method, path, body, request_headers | {"Accept-Language": "en"})
        body = assert_error(response, 401, "invalid_token")
        assert "token" in body["error"].lower(), path
    # Nothing happened on the way.
    assert Quiz.objects.get().state == Quiz.State.STARTED
    assert Launch.objects.count() == 1


def test_a_bearer_scheme_with_a_valid_token_is_not_accepted(client, token, exam):
    response = client.get(
        f"/api/integration/exams/{exam.pk}/", headers={"Authorization": f"Bearer {token}"}
    )
    assert_error(response, 401, "invalid_token")


def test_revoked_token_is_401(client, token_pair, launch, exam):
    token_object, raw = token_pair
    token_object.revoke()
    for method, path, body in endpoints(exam.pk, launch["launch_id"]):
        assert_error(call(client, method, path, body, headers(raw)), 401, "invalid_token")


def test_token_of_an_inactive_customer_is_401(client, token, customer, launch, exam):
    customer.is_active = False
    customer.save()
    for method, path, body in endpoints(exam.pk, launch["launch_id"]):
        assert_error(call(client, method, path, body, headers(token)), 401, "invalid_token")


def test_using_a_token_sets_last_used_at(client, token_pair, exam):
    token_object, raw = token_pair
    assert token_object.last_used_at is None
    before = timezone.now()
    assert get(client, f"/api/integration/exams/{exam.pk}/", raw).status_code == 200
    token_object.refresh_from_db()
    assert token_object.last_used_at is not None
    assert token_object.last_used_at >= before


def test_a_launch_sets_last_used_at(client, token_pair, exam):
    """The launch reads its token with the exam (in one statement on PostgreSQL): still used."""
    token_object, raw = token_pair
    before = timezone.now()
    assert start(client, raw, exam.pk).status_code == 201
    token_object.refresh_from_db()
    assert token_object.last_used_at is not None and token_object.last_used_at >= before


def test_a_failed_request_with_another_token_does_not_touch_this_one(client, token_pair, exam):
    token_object, _ = token_pair
    get(client, f"/api/integration/exams/{exam.pk}/", str(uuid4()))
    token_object.refresh_from_db()
    assert token_object.last_used_at is None


# --- tenant isolation -------------------------------------------------------------------------


def test_another_customer_cannot_see_or_launch_this_customers_exam(client, other_token, exam):
    assert_error(get(client, f"/api/integration/exams/{exam.pk}/", other_token), 404)
    assert_error(start(client, other_token, exam.pk), 404, "exam_not_found")
    assert not Quiz.objects.exists()
    assert not Student.objects.exists()


def test_another_customer_cannot_touch_this_customers_launch(client, token, other_token, launch):
    launch_id = launch["launch_id"]
    question_id = questions(client, token, launch_id)[0]["id"]
    assert_error(get(client, f"/api/launch/{launch_id}/", other_token), 404, "launch_not_found")
    answer = {"question_id": question_id, "answer": "1"}
    assert_error(
        post(client, f"/api/launch/{launch_id}/answer/", other_token, answer),
        404,
        "launch_not_found",
    )
    assert_error(
        post(client, f"/api/launch/{launch_id}/submit/", other_token, {"responses": [answer]}),
        404,
        "launch_not_found",
    )
    assert not QuizQuestion.objects.filter(answer__isnull=False).exists()
    assert quiz_of(launch).state == Quiz.State.STARTED

    # Even once finished, the result is the customer's own.
    assert (
        post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": []}).status_code
        == 200
    )
    assert quiz_of(launch).state == Quiz.State.COMPLETED
    assert_error(
        get(client, f"/api/launch/{launch_id}/redirect/", other_token), 404, "launch_not_found"
    )
    assert_error(get(client, f"/api/launch/{launch_id}/", other_token), 404, "launch_not_found")


def test_same_student_uuid_at_two_customers_are_two_students(
    client, token, other_token, exam, other_customer
):
    other_exam = make_exam(other_customer, questions=3)
    mine = launched(client, token, exam.pk, student="shared-id", mobile="09111111111")
    theirs = launched(client, other_token, other_exam.pk, student="shared-id", mobile="0922")
    assert mine["quiz_id"] != theirs["quiz_id"]
    assert mine["student"]["mobile"] == "09111111111"
    students = dict(Student.objects.filter(uuid="shared-id").values_list("customer", "mobile"))
    assert students == {exam.customer_id: "09111111111", other_customer.pk: "0922"}


# --- exam info --------------------------------------------------------------------------------


def test_exam_info(client, token, customer):
    exam = make_exam(
        customer,
        questions=7,
        title="آزمون نمونه",
        type=2,
        accept_score=55.5,
        number_of_question=6,
        duration=45,
        can_back=False,
    )
    response = get(client, f"/api/integration/exams/{exam.pk}/", token)
    assert response.status_code == 200
    assert response.json() == {
        "eurl": exam.pk,
        "title": "آزمون نمونه",
        "type": 2,
        "accept_score": 55.5,
        "number_of_question": 6,
        "duration": 45,
        "can_back": False,
        "is_active": True,
    }


def test_exam_info_of_an_inactive_exam_says_so(client, token, exam):
    Exam.objects.filter(pk=exam.pk).update(is_active=False)
    response = get(client, f"/api/integration/exams/{exam.pk}/", token)
    assert response.status_code == 200
    assert response.json()["is_active"] is False


@pytest.mark.parametrize("eurl", ["999999", "0", "-1", "abc", "12.5", "99999999999999999999999"])
def test_exam_info_of_an_unknown_exam_is_404(client, token, exam, eurl):
    assert_error(get(client, f"/api/integration/exams/{eurl}/", token), 404, "exam_not_found")


# --- launch -----------------------------------------------------------------------------------


def test_launch_creates_student_quiz_and_launch(client, token, exam, settings):
    settings.PUBLIC_BASE_URL = "https://exams.example.org"
    response = start(client, token, exam.pk, student="stu-uuid-123", mobile="09123456789")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"launch_id", "exam_url", "quiz_id", "eurl", "student", "is_existing_quiz"}
    launch_id = str(UUID(body["launch_id"]))
    assert body["exam_url"] == f"https://exams.example.org/exam/?launch={launch_id}"
    assert body["eurl"] == exam.pk
    assert body["student"] == {"uuid": "stu-uuid-123", "mobile": "09123456789"}
    assert body["is_existing_quiz"] is False

    student = Student.objects.get()
    assert (student.uuid, student.mobile, student.customer_id) == (
        "stu-uuid-123",
        "09123456789",
        exam.customer_id,
    )
    quiz = Quiz.objects.get()
    assert quiz.pk == body["quiz_id"]
    assert (quiz.student, quiz.exam, quiz.state) == (student, exam, Quiz.State.STARTED)
    assert written_items(quiz).count() == exam.number_of_question
    assert Launch.objects.get().callback_url == CALLBACK


def test_a_launch_with_the_longest_duration_and_accommodation_gets_its_whole_time(
    client, token, customer
):
    """The format's longest exam (a week) for the student with the most time (× 4, + 1440
    minutes): 29 days, where INT_MAX minutes were a 500 (the deadline past the year 9999)."""
    exam = make_exam(customer, duration=10080)
    student = Student(customer=customer, uuid="stu-1", time_factor=4, extra_minutes=1440)
    student.full_clean()  # the largest accommodation the model allows
    student.save()

    quiz = quiz_of(launched(client, token, exam.pk, student="stu-1"))

    assert quiz.deadline_at - quiz.start_at == timedelta(minutes=10080 * 4 + 1440)


def test_an_exam_too_long_for_a_deadline_is_refused_not_a_500(client, token, customer):
    """An exam stored before the format bounded its duration: its deadline would be past the
    year 9999 (INT_MAX minutes × 2: year 6109 × 2), which no date holds. The launch is refused
    in the contract's format."""
    exam = make_exam(customer, duration=2147483647)
    Student.objects.create(customer=customer, uuid="stu-1", time_factor=2)

    response = start(client, token, exam.pk)

    body = assert_error(response, 400, "deadline_out_of_range")
    assert body["error"] == (
        "The deadline would fall after the year 9999: that is more time than can be given."
    )
    assert not Quiz.objects.exists() and not Launch.objects.exists()
    body = {"student_uuid": "stu-1", "eurl": exam.pk, "callback_url": CALLBACK}
    persian = post(client, LAUNCH_PATH, token, body, **{"Accept-Language": "fa"})
    assert assert_error(persian, 400, "deadline_out_of_range")["error"].startswith("موعد پایان")


def test_launching_again_resumes_the_started_quiz(client, token, exam):
    first = launched(client, token, exam.pk)
    second = launched(client, token, exam.pk)
    assert second["is_existing_quiz"] is True
    assert second["quiz_id"] == first["quiz_id"]
    assert second["launch_id"] != first["launch_id"]
    assert Student.objects.count() == 1
    assert Quiz.objects.count() == 1
    # Both launches lead to the same quiz.
    for body in (first, second):
        detail = get(client, f"/api/launch/{body['launch_id']}/", token).json()
        assert detail["quiz_id"] == first["quiz_id"]


def test_another_student_gets_another_quiz(client, token, exam):
    first = launched(client, token, exam.pk, student="a")
    second = launched(client, token, exam.pk, student="b")
    assert second["is_existing_quiz"] is False
    assert second["quiz_id"] != first["quiz_id"]
    assert Student.objects.count() == 2


def test_persian_digits_in_mobile_are_stored_and_returned_as_ascii(client, token, exam):
    body = launched(client, token, exam.pk, mobile="۰۹۱۲۳۴۵۶۷۸۹")
    assert body["student"]["mobile"] == "09123456789"
    assert Student.objects.get().mobile == "09123456789"
    detail = get(client, f"/api/launch/{body['launch_id']}/", token).json()
    assert detail["student"]["mobile"] == "09123456789"


@pytest.mark.parametrize(
    "callback_url",
    [
        "javascript:alert(1)",
        "ftp://x",
        "not a url",
        "",
        "/relative/path",
        "https://",
        "data:text/html,hi",
        "https://evil.example.net\\@client.example.com/cb",
        "https://client.example.com/cb path",
    ],
)
def test_launch_refuses_a_callback_url_that_is_not_http(client, token, exam, callback_url):
    response = start(client, token, exam.pk, callback_url=callback_url)
    assert_error(response, 400, "invalid_callback_url")
    assert not Student.objects.exists()
    assert not Quiz.objects.exists()
    assert not Launch.objects.exists()


def test_token_with_allowed_callback_hosts(client, customer, exam):
    _, raw = ClientToken.issue(customer=customer, allowed_callback_hosts="client.example.com")
    for url in (
        "https://evil.example.net/cb",
        "https://client.example.com.evil.example.net/cb",
        "https://client.example.com@evil.example.net/cb",
        "https://evil.example.net\\@client.example.com/cb",
    ):
        assert_error(start(client, raw, exam.pk, callback_url=url), 400)
    body = assert_error(
        start(client, raw, exam.pk, callback_url="https://evil.example.net/cb"),
        400,
        "callback_host_not_allowed",
    )
    assert "evil.example.net" in body["error"]
    assert not Quiz.objects.exists()

    for url in ("https://client.example.com/exam/callback", "http://CLIENT.example.com:8443/cb"):
        response = start(client, raw, exam.pk, callback_url=url)
        assert response.status_code == 201, url


@pytest.mark.parametrize(
    "body",
    [
        {"mobile": "09120000000", "eurl": "EURL", "callback_url": CALLBACK},
        {"student_uuid": "s", "mobile": "09120000000", "callback_url": CALLBACK},
        {"student_uuid": "s", "mobile": "09120000000", "eurl": "EURL"},
        {"student_uuid": "s", "eurl": "abc", "callback_url": CALLBACK},
        {"student_uuid": "s", "eurl": [1], "callback_url": CALLBACK},
        {"student_uuid": "", "eurl": "EURL", "callback_url": CALLBACK},
        {"student_uuid": "s", "eurl": "EURL", "callback_url": None},
        [],
    ],
    ids=[
        "no-student",
        "no-eurl",
        "no-callback",
        "eurl-text",
        "eurl-list",
        "student-empty",
        "callback-null",
        "not-an-object",
    ],
)
def test_launch_with_a_bad_body_is_400_invalid_request(client, token, exam, body):
    if isinstance(body, dict):
        body = {k: exam.pk if v == "EURL" else v for k, v in body.items()}
    response = post(client, LAUNCH_PATH, token, body)
    assert_error(response, 400, "invalid_request")
    assert not Quiz.objects.exists()


def test_numeric_student_ids_and_mobiles_are_taken_as_text(client, token, exam):
    body = {"student_uuid": 12, "mobile": 9120000000, "eurl": exam.pk, "callback_url": CALLBACK}
    response = post(client, LAUNCH_PATH, token, body)
    assert response.status_code == 201
    assert response.json()["student"] == {"uuid": "12", "mobile": "9120000000"}


def test_a_student_id_is_kept_exactly_as_the_customer_sent_it(client, token, exam):
    body = {"student_uuid": " stu-۱۲۳ ", "eurl": exam.pk, "callback_url": CALLBACK}
    assert post(client, LAUNCH_PATH, token, body).json()["student"]["uuid"] == "stu-۱۲۳"


@pytest.mark.parametrize(
    "callback_url", ["http://[::1/cb", "http://client.example.com:99999/cb", "https://:80/x"]
)
def test_a_malformed_callback_url_is_400_not_500(client, token, exam, callback_url):
    body = {"student_uuid": "s", "eurl": exam.pk, "callback_url": callback_url}
    assert_error(post(client, LAUNCH_PATH, token, body), 400, "invalid_callback_url")


@pytest.mark.parametrize("raw", ["{not json", "", "null"])
def test_launch_with_a_body_that_is_not_json_is_400(client, token, exam, raw):
    response = client.post(
        LAUNCH_PATH, raw, content_type="application/json", headers=headers(token)
    )
    assert_error(response, 400, "invalid_request")


def test_launch_with_blank_student_uuid_is_400(client, token, exam):
    assert_error(start(client, token, exam.pk, student="   "), 400, "invalid_request")
    assert not Student.objects.exists()


def test_launch_of_an_inactive_exam_is_400(client, token, exam):
    Exam.objects.filter(pk=exam.pk).update(is_active=False)
    assert_error(start(client, token, exam.pk), 400, "exam_inactive")
    assert not Quiz.objects.exists()


@pytest.mark.parametrize("eurl", [999999, 99999999999999999999999])
def test_launch_of_an_unknown_exam_is_404(client, token, exam, eurl):
    assert_error(start(client, token, eurl), 404, "exam_not_found")


def test_launch_after_the_quiz_was_completed_starts_a_new_quiz(client, token, exam):
    first = launched(client, token, exam.pk)
    assert (
        post(
            client, f"/api/launch/{first['launch_id']}/submit/", token, {"responses": []}
        ).status_code
        == 200
    )
    second = launched(client, token, exam.pk)
    assert second["is_existing_quiz"] is False
    assert second["quiz_id"] != first["quiz_id"]
    assert quiz_of(first).state == Quiz.State.COMPLETED
    assert quiz_of(second).state == Quiz.State.STARTED
    assert Student.objects.count() == 1


def test_launch_after_the_deadline_completes_the_old_quiz_and_starts_a_new_one(client, token, exam):
    first = launched(client, token, exam.pk)
    question = questions(client, token, first["launch_id"])[0]
    answer = {"question_id": question["id"], "answer": right(question)}
    assert (
        post(client, f"/api/launch/{first['launch_id']}/answer/", token, answer).status_code == 200
    )
    expire(first)

    second = launched(client, token, exam.pk)
    assert second["is_existing_quiz"] is False
    assert second["quiz_id"] != first["quiz_id"]
    old = quiz_of(first)
    assert old.state == Quiz.State.COMPLETED
    assert old.finished_by == Quiz.FinishedBy.DEADLINE
    assert old.correct_answers == 1
    assert old.end_at == old.deadline_at
    assert quiz_of(second).state == Quiz.State.STARTED


def test_launch_draws_number_of_question_from_a_larger_bank(client, token, customer):
    exam = make_exam(customer, questions=12, number_of_question=4)
    body = launched(client, token, exam.pk)
    drawn = questions(client, token, body["launch_id"])
    assert len(drawn) == 4
    bank = list(exam.questions.values_list("id", flat=True))
    ids = [q["id"] for q in drawn]
    assert set(ids) <= set(bank)
    assert ids == sorted(ids, key=bank.index)


# --- the launch's questions -------------------------------------------------------------------


def test_launch_detail(client, token, exam, launch):
    response = get(client, f"/api/launch/{launch['launch_id']}/", token)
    assert response.status_code == 200
    body = response.json()
    seed_fields = {
        "launch_id",
        "quiz_id",
        "eurl",
        "student",
        "evaluation",
        "state",
        "start_at",
        "end_at",
        "questions",
    }
    assert seed_fields <= set(body)
    assert body["launch_id"] == launch["launch_id"]
    assert body["quiz_id"] == launch["quiz_id"]
    assert body["eurl"] == exam.pk
    assert body["student"] == {"uuid": "stu-1", "mobile": "09120000000"}
    assert body["evaluation"] == {
        "eurl": exam.pk,
        "title": exam.title,
        "accept_score": exam.accept_score,
        "duration": exam.duration,
        "can_back": exam.can_back,
        "number_of_question": exam.number_of_question,
    }
    assert body["state"] == "started"
    start_at = datetime.fromisoformat(body["start_at"].replace("Z", "+00:00"))
    assert abs(start_at - timezone.now()) < timedelta(minutes=1)
    assert body["end_at"] is None

    bank = list(exam.questions.all())
    assert [q["id"] for q in body["questions"]] == [q.pk for q in bank]
    for shown, question in zip(body["questions"], bank, strict=True):
        assert set(shown) == {
            "id",
            "description",
            "type",
            "c1",
            "c2",
            "c3",
            "c4",
            "weight",
            "can_shuffle",
            "current_answer",
            "done",
        }
        assert shown["description"] == question.description
        assert [shown[f"c{i}"] for i in range(1, 5)] == [question.choice(i) for i in range(1, 5)]
        assert shown["type"] is True
        assert shown["weight"] == question.weight
        assert shown["can_shuffle"] is False
        assert shown["current_answer"] is None
        assert shown["done"] is None


@pytest.mark.parametrize("finished", [False, True])
def test_launch_detail_never_reveals_the_right_answer(client, token, exam, launch, finished):
    launch_id = launch["launch_id"]
    if finished:
        assert (
            post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": []}).status_code
            == 200
        )
    response = get(client, f"/api/launch/{launch_id}/", token)
    assert response.status_code == 200
    assert not any("correct" in key.lower() for key in keys_anywhere(response.json()))
    assert not any("right" in key.lower() for key in keys_anywhere(response.json()))
    assert "correct" not in response.content.decode().lower()


def test_current_answer_and_done_reflect_saved_answers(client, token, launch):
    launch_id = launch["launch_id"]
    first, second, *_ = questions(client, token, launch_id)
    for question, answer in ((first, "3"), (second, "1")):
        response = post(
            client,
            f"/api/launch/{launch_id}/answer/",
            token,
            {"question_id": question["id"], "answer": answer, "done": "in_progress"},
        )
        assert response.status_code == 200
    shown = questions(client, token, launch_id)
    assert [(q["current_answer"], q["done"]) for q in shown[:3]] == [
        ("3", "in_progress"),
        ("1", "in_progress"),
        (None, None),
    ]


# A submit stores its answers in one statement whatever their number (on PostgreSQL each column
# sent as one array value): any text a `done` may hold is kept exactly as sent.
TRICKY_DONE = ['say "hi"', "back\\slash", "a,b", "{x}", "NULL", "  "]


@pytest.mark.parametrize("saved_before", [False, True], ids=["first-write", "items-written"])
def test_a_submit_keeps_any_done_text_as_sent(client, token, customer, saved_before):
    launch = launched(client, token, make_exam(customer, questions=9, shuffle=True).pk)
    launch_id = launch["launch_id"]
    shown = questions(client, token, launch_id)
    if saved_before:  # the items are written by a first save; the submit then updates them
        body = {"question_id": shown[-1]["id"], "answer": "1", "done": "in_progress"}
        assert post(client, f"/api/launch/{launch_id}/answer/", token, body).status_code == 200
    sent = [
        {"question_id": q["id"], "answer": right(q), "done": done}
        for q, done in zip(shown, TRICKY_DONE, strict=False)
    ]
    response = post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": sent})
    assert response.status_code == 200, response.content
    answered = {r["question"]: r for r in response.json()["result"]["responses"]}
    assert [answered[b["question_id"]]["done"] for b in sent] == TRICKY_DONE
    assert [answered[b["question_id"]]["answer"] for b in sent] == [b["answer"] for b in sent]
    rows = written_items(launch["quiz_id"]).order_by("position")
    kept = {row.question_id: row for row in rows}
    assert [kept[b["question_id"]].done for b in sent] == TRICKY_DONE
    # Those not sent stay unanswered (NULLs in the same statement), but the one saved before.
    unsent = [kept[q["id"]] for q in shown[len(sent) : -1]]
    assert unsent and all(row.answer is None and row.answered_at is None for row in unsent)
    history = AnswerSave.objects.filter(item__quiz_id=launch["quiz_id"])
    assert sorted(history.values_list("done", flat=True)) == sorted(
        TRICKY_DONE + (["in_progress"] if saved_before else [])
    )


@pytest.fixture
def shuffled_exam(customer) -> Exam:
    exam = make_exam(customer, questions=8)
    Question.objects.filter(exam=exam).update(can_shuffle=True)
    return exam


def test_shuffled_choices_are_stable_and_never_confuse_scoring(client, token, shuffled_exam):
    launch = launched(client, token, shuffled_exam.pk)
    launch_id = launch["launch_id"]
    first = questions(client, token, launch_id)
    again = questions(client, token, launch_id)
    choices = [[q[f"c{i}"] for i in range(1, 5)] for q in first]
    assert choices == [[q[f"c{i}"] for i in range(1, 5)] for q in again]
    assert all(q["can_shuffle"] is True for q in first)
    # Each question still offers its own four choices.
    bank = {q.pk: q for q in shuffled_exam.questions.all()}
    for question, shown in zip(first, choices, strict=True):
        assert sorted(shown) == sorted(bank[question["id"]].choice(i) for i in range(1, 5))
    # Eight questions shuffled by chance all in bank order would be a 1 in 24**8 event.
    assert any(
        shown != [bank[q["id"]].choice(i) for i in range(1, 5)]
        for q, shown in zip(first, choices, strict=True)
    )

    # Half answered through /answer/, half at submit: all by the shown number of the right text.
    for question in first[:4]:
        answer = {"question_id": question["id"], "answer": right(question)}
        assert post(client, f"/api/launch/{launch_id}/answer/", token, answer).status_code == 200
    shown_answers = [q["current_answer"] for q in questions(client, token, launch_id)]
    assert shown_answers == [right(q) for q in first[:4]] + [None] * 4
    responses = [{"question_id": q["id"], "answer": right(q)} for q in first[4:]]
    response = post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": responses})
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["correct_answers"] == 8
    assert result["wrong_answers"] == 0
    assert result["percentage"] == 100.0
    for item, question in zip(result["responses"], first, strict=True):
        assert item["answer"] == right(question)
        assert item["score"] == 1.0
        details = item["question_details"]
        assert [details[f"c{i}"] for i in range(1, 5)] == [question[f"c{i}"] for i in range(1, 5)]
        assert details["correct_answer"] == right(question)


def test_shuffled_wrong_answers_score_zero(client, token, shuffled_exam):
    launch = launched(client, token, shuffled_exam.pk)
    launch_id = launch["launch_id"]
    shown = questions(client, token, launch_id)
    responses = [{"question_id": q["id"], "answer": wrong(q)} for q in shown]
    result = post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": responses})
    assert result.json()["result"]["correct_answers"] == 0
    assert result.json()["result"]["wrong_answers"] == 8


@pytest.mark.parametrize("suffix", ["", "answer/", "submit/", "redirect/"])
@pytest.mark.parametrize("launch_id", ["UNKNOWN", "not-a-uuid", "12345"])
def test_unknown_or_malformed_launch_is_404(client, token, launch, suffix, launch_id):
    launch_id = str(uuid4()) if launch_id == "UNKNOWN" else launch_id
    path = f"/api/launch/{launch_id}/{suffix}"
    if suffix in ("answer/", "submit/"):
        response = post(client, path, token, {"question_id": 1, "answer": "1", "responses": []})
    else:
        response = get(client, path, token)
    assert_error(response, 404, "launch_not_found")


# --- answer -----------------------------------------------------------------------------------


def saved_answers(launch: dict) -> list[int | None]:
    return list(
        written_items(launch["quiz_id"]).order_by("position").values_list("answer", flat=True)
    )


def test_answer_is_saved(client, token, launch):
    launch_id = launch["launch_id"]
    question = questions(client, token, launch_id)[1]
    body = {"question_id": question["id"], "answer": "2", "done": "in_progress"}
    response = post(client, f"/api/launch/{launch_id}/answer/", token, body)
    assert response.status_code == 200
    assert response.json() == {"message": "Saved."}
    assert saved_answers(launch) == [None, 2, None, None, None]


@pytest.mark.parametrize(("answer", "saved"), [("۲", 2), ("٣", 3), (4, 4), (" 1 ", 1)])
def test_answer_accepts_persian_digits_and_numbers(client, token, launch, answer, saved):
    launch_id = launch["launch_id"]
    question = questions(client, token, launch_id)[0]
    body = {"question_id": question["id"], "answer": answer}
    assert post(client, f"/api/launch/{launch_id}/answer/", token, body).status_code == 200
    assert saved_answers(launch)[0] == saved
    assert questions(client, token, launch_id)[0]["current_answer"] == str(saved)


@pytest.mark.parametrize("answer", ["5", "0", "x", "۵", "12", "-1", 7, 1.5, 2.0, True, False])
def test_answer_out_of_range_is_400_invalid_answer(client, token, launch, answer):
    launch_id = launch["launch_id"]
    question = questions(client, token, launch_id)[0]
    body = {"question_id": question["id"], "answer": answer}
    response = post(client, f"/api/launch/{launch_id}/answer/", token, body)
    # A choice outside 1..4 is invalid_answer; a value that is no string or integer at all
    # (a float, a boolean) does not fit the request schema.
    expected = "invalid_answer" if type(answer) in (str, int) else "invalid_request"
    assert_error(response, 400, expected)
    assert saved_answers(launch) == [None] * 5


@pytest.mark.parametrize("body", [{"answer": "1"}, {"question_id": "x", "answer": "1"}, {}])
def test_answer_with_a_bad_body_is_400_invalid_request(client, token, launch, body):
    response = post(client, f"/api/launch/{launch['launch_id']}/answer/", token, body)
    assert_error(response, 400, "invalid_request")


def test_answer_to_a_question_outside_the_quiz_is_400(client, token, customer, launch):
    foreign = make_exam(customer, questions=1).questions.get()
    for question_id in (foreign.pk, 999999):
        body = {"question_id": question_id, "answer": "1"}
        response = post(client, f"/api/launch/{launch['launch_id']}/answer/", token, body)
        assert_error(response, 400, "unknown_question")
    assert saved_answers(launch) == [None] * 5


def test_answer_can_be_changed_when_the_exam_allows_going_back(client, token, launch):
    launch_id = launch["launch_id"]
    question = questions(client, token, launch_id)[0]
    for answer in ("1", "3"):
        body = {"question_id": question["id"], "answer": answer}
        assert post(client, f"/api/launch/{launch_id}/answer/", token, body).status_code == 200
    assert saved_answers(launch)[0] == 3


def test_answer_is_locked_when_the_exam_does_not_allow_going_back(client, token, customer):
    exam = make_exam(customer, questions=3, can_back=False)
    launch = launched(client, token, exam.pk)
    launch_id = launch["launch_id"]
    question = questions(client, token, launch_id)[0]
    path = f"/api/launch/{launch_id}/answer/"
    assert (
        post(client, path, token, {"question_id": question["id"], "answer": "1"}).status_code == 200
    )
    response = post(client, path, token, {"question_id": question["id"], "answer": "2"})
    assert_error(response, 400, "answer_locked")
    assert saved_answers(launch)[0] == 1
    # Sending the same answer again (e.g. a retry) is fine.
    response = post(
        client, path, token, {"question_id": question["id"], "answer": "1", "done": "completed"}
    )
    assert response.status_code == 200
    assert saved_answers(launch)[0] == 1
    # So is answering another question.
    other = questions(client, token, launch_id)[1]
    assert post(client, path, token, {"question_id": other["id"], "answer": "4"}).status_code == 200


def test_answer_after_the_deadline_is_time_up_and_completes_the_quiz(client, token, launch):
    launch_id = launch["launch_id"]
    shown = questions(client, token, launch_id)
    path = f"/api/launch/{launch_id}/answer/"
    post(client, path, token, {"question_id": shown[0]["id"], "answer": right(shown[0])})
    post(client, path, token, {"question_id": shown[1]["id"], "answer": wrong(shown[1])})
    expire(launch)

    response = post(client, path, token, {"question_id": shown[2]["id"], "answer": right(shown[2])})
    assert_error(response, 400, "time_up")
    quiz = quiz_of(launch)
    assert quiz.state == Quiz.State.COMPLETED
    assert quiz.finished_by == Quiz.FinishedBy.DEADLINE
    assert (quiz.correct_answers, quiz.wrong_answers, quiz.unanswered) == (1, 1, 3)
    assert quiz.percentage == 20.0
    assert saved_answers(launch)[2] is None
    # And it stays time_up, it does not become some other error on the next try.
    response = post(client, path, token, {"question_id": shown[3]["id"], "answer": "1"})
    assert_error(response, 400, "time_up")


@pytest.mark.parametrize("with_responses", [True, False])
def test_submit_after_the_deadline_is_time_up_and_keeps_saved_answers(
    client, token, launch, with_responses
):
    launch_id = launch["launch_id"]
    shown = questions(client, token, launch_id)
    path = f"/api/launch/{launch_id}/answer/"
    post(client, path, token, {"question_id": shown[0]["id"], "answer": right(shown[0])})
    expire(launch)
    responses = [{"question_id": q["id"], "answer": right(q)} for q in shown] * with_responses
    response = post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": responses})
    assert_error(response, 400, "time_up")
    quiz = quiz_of(launch)
    assert quiz.state == Quiz.State.COMPLETED
    assert quiz.finished_by == Quiz.FinishedBy.DEADLINE
    assert quiz.correct_answers == 1
    # The customer still gets the result.
    response = get(client, f"/api/launch/{launch_id}/redirect/", token)
    assert response.status_code == 302
    assert (
        assert_signed(response["Location"], quiz.student.customer.signing_secret)["percentage"]
        == "20"
    )


def test_answer_after_submit_is_400(client, token, launch):
    launch_id = launch["launch_id"]
    question = questions(client, token, launch_id)[0]
    assert (
        post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": []}).status_code
        == 200
    )
    body = {"question_id": question["id"], "answer": "1"}
    response = post(client, f"/api/launch/{launch_id}/answer/", token, body)
    assert_error(response, 400, "quiz_finished")
    assert saved_answers(launch)[0] is None


# --- submit -----------------------------------------------------------------------------------


def test_submit_grades_and_finishes(client, token, customer, exam, launch):
    launch_id = launch["launch_id"]
    shown = questions(client, token, launch_id)
    responses = [
        {"question_id": shown[0]["id"], "answer": right(shown[0]), "done": "completed"},
        {"question_id": shown[1]["id"], "answer": right(shown[1]), "done": "completed"},
        {"question_id": shown[2]["id"], "answer": right(shown[2]), "done": "completed"},
        {"question_id": shown[3]["id"], "answer": wrong(shown[3]), "done": "completed"},
    ]
    response = post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": responses})
    assert response.status_code == 200
    body = response.json()
    assert {"message", "result", "redirect_url"} <= set(body)
    assert body["message"]
    result = body["result"]
    assert {
        "quiz_id",
        "total_questions",
        "correct_answers",
        "wrong_answers",
        "percentage",
        "total_score",
        "is_accept",
        "state",
        "responses",
    } <= set(result)
    assert result["quiz_id"] == launch["quiz_id"]
    assert result["total_questions"] == 5
    assert result["correct_answers"] == 3
    assert result["wrong_answers"] == 1
    assert result["percentage"] == 60.0
    assert result["total_score"] == 3.0
    assert result["is_accept"] is True
    assert result["state"] == "completed"

    assert [r["question"] for r in result["responses"]] == [q["id"] for q in shown]
    expected_answers = [r["answer"] for r in responses] + [None]
    assert [r["answer"] for r in result["responses"]] == expected_answers
    assert [r["score"] for r in result["responses"]] == [1.0, 1.0, 1.0, 0.0, 0.0]
    for item, question in zip(result["responses"], shown, strict=True):
        assert {"id", "quiz", "question", "answer", "score", "done", "question_details"} <= set(
            item
        )
        assert item["quiz"] == launch["quiz_id"]
        assert item["question_details"]["description"] == question["description"]
    assert [r["done"] for r in result["responses"][:4]] == ["completed"] * 4
    ids = [r["id"] for r in result["responses"]]
    assert len(set(ids)) == 5

    quiz = quiz_of(launch)
    assert quiz.state == Quiz.State.COMPLETED
    assert quiz.finished_by == Quiz.FinishedBy.SUBMIT
    assert quiz.end_at is not None
    assert (quiz.percentage, quiz.total_score, quiz.is_accept) == (60.0, 3.0, True)
    detail = get(client, f"/api/launch/{launch_id}/", token).json()
    assert detail["state"] == "completed"
    assert detail["end_at"] is not None

    params = assert_signed(body["redirect_url"], customer.signing_secret)
    assert body["redirect_url"].startswith(CALLBACK + "?")
    assert set(params) == CALLBACK_PARAMS | {"signature"}
    assert params == params | {
        "student_uuid": "stu-1",
        "mobile": "09120000000",
        "eurl": str(exam.pk),
        "quiz_id": str(launch["quiz_id"]),
        "percentage": "60",
        "total_score": "3",
        "is_accept": "True",
        "state": "completed",
        "launch_id": launch_id,
    }


def test_a_forged_result_does_not_verify(client, token, customer, launch):
    response = post(client, f"/api/launch/{launch['launch_id']}/submit/", token, {"responses": []})
    url = response.json()["redirect_url"]
    assert assert_signed(url, customer.signing_secret)["percentage"] == "0"
    with pytest.raises(AssertionError):
        assert_signed(url.replace("percentage=0", "percentage=100"), customer.signing_secret)
    with pytest.raises(AssertionError):
        assert_signed(url, "another secret")


@pytest.mark.parametrize(("accept_score", "accepted"), [(70, True), (69.5, True), (70.5, False)])
def test_submit_with_weights(client, token, customer, accept_score, accepted):
    exam = make_exam(customer, questions=4, accept_score=accept_score)
    for position, weight in ((1, 3.0), (2, 1.0), (3, 0.5), (4, 0.5)):
        Question.objects.filter(exam=exam, position=position).update(weight=weight)
    launch = launched(client, token, exam.pk)
    shown = questions(client, token, launch["launch_id"])
    assert [q["weight"] for q in shown] == [3.0, 1.0, 0.5, 0.5]
    responses = [
        {"question_id": shown[0]["id"], "answer": right(shown[0])},
        {"question_id": shown[1]["id"], "answer": wrong(shown[1])},
        {"question_id": shown[2]["id"], "answer": right(shown[2])},
    ]
    response = post(
        client, f"/api/launch/{launch['launch_id']}/submit/", token, {"responses": responses}
    )
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["total_score"] == 3.5
    assert result["percentage"] == 70.0
    assert result["is_accept"] is accepted
    assert (result["correct_answers"], result["wrong_answers"]) == (2, 1)
    assert [r["score"] for r in result["responses"]] == [3.0, 0.0, 0.5, 0.0]
    params = assert_signed(response.json()["redirect_url"], customer.signing_secret)
    assert (params["percentage"], params["total_score"], params["is_accept"]) == (
        "70",
        "3.5",
        str(accepted),
    )
    assert quiz_of(launch).is_accept is accepted


@pytest.mark.parametrize("language", ["en", "fa"])
def test_submit_answers_exactly_what_ninja_would_send(client, token, customer, language):
    """The submit renders its answer itself (api/answers.py); the bytes are those Django Ninja
    sends for the same result validated against ExamSubmitOut: each field in the schema's order
    and type (a whole weight or score still written 2.0), Persian escaped the same way."""
    exam = make_exam(customer, questions=4, shuffle=True)
    Question.objects.filter(exam=exam, position=2).update(weight=2)
    launch_id = launched(client, token, exam.pk)["launch_id"]
    shown = questions(client, token, launch_id)
    responses = [
        {"question_id": shown[0]["id"], "answer": right(shown[0])},
        {"question_id": shown[1]["id"], "answer": right(shown[1])},
        {"question_id": shown[2]["id"], "answer": wrong(shown[2])},
    ]
    response = post(
        client,
        f"/api/launch/{launch_id}/submit/",
        token,
        {"responses": responses},
        **{"Accept-Language": language},
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    dumped = ExamSubmitOut.model_validate(json.loads(response.content)).model_dump()
    assert response.content.decode() == json.dumps(dumped, cls=NinjaJSONEncoder)
    assert 2.0 in {r["question_details"]["weight"] for r in dumped["result"]["responses"]}


def test_submitting_twice_is_400_and_never_counts_twice(client, token, launch):
    launch_id = launch["launch_id"]
    shown = questions(client, token, launch_id)
    path = f"/api/launch/{launch_id}/submit/"
    first = [{"question_id": q["id"], "answer": wrong(q)} for q in shown[:2]]
    assert post(client, path, token, {"responses": first}).status_code == 200
    stored = Quiz.objects.filter(pk=launch["quiz_id"]).values().get()
    answers = saved_answers(launch)

    all_right = [{"question_id": q["id"], "answer": right(q)} for q in shown]
    for body in ({"responses": all_right}, {"responses": []}):
        assert_error(post(client, path, token, body), 400, "quiz_finished")
    assert Quiz.objects.filter(pk=launch["quiz_id"]).values().get() == stored
    assert saved_answers(launch) == answers
    assert stored["correct_answers"] == 0


def test_submit_with_an_invalid_answer_saves_nothing(client, token, launch):
    launch_id = launch["launch_id"]
    shown = questions(client, token, launch_id)
    responses = [{"question_id": q["id"], "answer": right(q)} for q in shown[:3]]
    responses.append({"question_id": shown[3]["id"], "answer": "5"})
    response = post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": responses})
    assert_error(response, 400, "invalid_answer")
    assert saved_answers(launch) == [None] * 5
    assert quiz_of(launch).state == Quiz.State.STARTED


def test_submit_with_an_unknown_question_saves_nothing(client, token, launch):
    launch_id = launch["launch_id"]
    shown = questions(client, token, launch_id)
    responses = [{"question_id": q["id"], "answer": right(q)} for q in shown[:3]]
    responses.append({"question_id": 999999, "answer": "1"})
    response = post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": responses})
    assert_error(response, 400, "unknown_question")
    assert saved_answers(launch) == [None] * 5
    assert quiz_of(launch).state == Quiz.State.STARTED


def test_submit_that_changes_a_locked_answer_saves_nothing(client, token, customer):
    exam = make_exam(customer, questions=3, can_back=False)
    launch = launched(client, token, exam.pk)
    launch_id = launch["launch_id"]
    shown = questions(client, token, launch_id)
    post(
        client,
        f"/api/launch/{launch_id}/answer/",
        token,
        {"question_id": shown[0]["id"], "answer": "1"},
    )
    responses = [
        {"question_id": shown[1]["id"], "answer": "2"},
        {"question_id": shown[0]["id"], "answer": "3"},
    ]
    response = post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": responses})
    assert_error(response, 400, "answer_locked")
    assert saved_answers(launch) == [1, None, None]
    assert quiz_of(launch).state == Quiz.State.STARTED


def test_empty_submit_finishes_with_the_answers_saved_before(client, token, launch):
    launch_id = launch["launch_id"]
    shown = questions(client, token, launch_id)
    for question in shown[:2]:
        body = {"question_id": question["id"], "answer": right(question)}
        assert post(client, f"/api/launch/{launch_id}/answer/", token, body).status_code == 200
    response = post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": []})
    assert response.status_code == 200
    result = response.json()["result"]
    assert (result["correct_answers"], result["wrong_answers"], result["percentage"]) == (
        2,
        0,
        40.0,
    )
    assert result["is_accept"] is False
    assert quiz_of(launch).percentage == 40.0


def test_submit_with_a_bad_body_is_400_invalid_request(client, token, launch):
    path = f"/api/launch/{launch['launch_id']}/submit/"
    for body in ({"responses": "all"}, {"responses": [{"answer": "1"}]}):
        assert_error(post(client, path, token, body), 400, "invalid_request")
    assert quiz_of(launch).state == Quiz.State.STARTED


# --- redirect ---------------------------------------------------------------------------------


def test_redirect_after_finishing(client, token, customer, launch):
    launch_id = launch["launch_id"]
    submitted = post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": []}).json()
    response = get(client, f"/api/launch/{launch_id}/redirect/", token)
    assert response.status_code == 302
    location = response["Location"]
    assert location == submitted["redirect_url"]
    assert location.startswith(CALLBACK + "?")
    params = assert_signed(location, customer.signing_secret)
    assert set(params) == CALLBACK_PARAMS | {"signature"}
    assert params["launch_id"] == launch_id
    assert params["state"] == "completed"


def test_redirect_keeps_the_callbacks_own_query_and_our_values_win(client, token, customer, exam):
    callback = "https://client.example.com/cb?ref=abc&lang=fa&percentage=100#top"
    launch = launched(client, token, exam.pk, callback_url=callback)
    launch_id = launch["launch_id"]
    post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": []})
    location = get(client, f"/api/launch/{launch_id}/redirect/", token)["Location"]
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        "https",
        "client.example.com",
        "/cb",
        "top",
    )
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    assert ("ref", "abc") in pairs
    assert ("lang", "fa") in pairs
    assert [v for k, v in pairs if k == "percentage"] == ["0"]
    assert assert_signed(location, customer.signing_secret)["percentage"] == "0"


def test_each_launch_returns_to_its_own_callback(client, token, exam):
    first = launched(client, token, exam.pk, callback_url="https://client.example.com/first")
    second = launched(client, token, exam.pk, callback_url="https://client.example.com/second")
    post(client, f"/api/launch/{second['launch_id']}/submit/", token, {"responses": []})
    for body, path in ((first, "/first"), (second, "/second")):
        location = get(client, f"/api/launch/{body['launch_id']}/redirect/", token)["Location"]
        assert urlsplit(location).path == path
        assert dict(parse_qsl(urlsplit(location).query))["launch_id"] == body["launch_id"]


def test_redirect_before_finishing_is_400(client, token, launch):
    response = get(client, f"/api/launch/{launch['launch_id']}/redirect/", token)
    assert_error(response, 400, "quiz_not_finished")
    assert "Location" not in response


# --- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "message"),
    [({"Accept-Language": "en-US,en;q=0.9"}, "Saved."), ({}, "ذخیره شد")],
    ids=["english_on_request", "persian_by_default"],
)
def test_messages_speak_the_language_asked_for(client, token, launch, language, message):
    question = questions(client, token, launch["launch_id"])[0]
    response = client.post(
        f"/api/launch/{launch['launch_id']}/answer/",
        {"question_id": question["id"], "answer": "1"},
        content_type="application/json",
        headers={"X-Client-Token": token, **language},
    )
    assert response.status_code == 200
    assert response.json() == {"message": message}


# --- deadline ---------------------------------------------------------------------------------


def test_finish_expired_quizzes_completes_overdue_started_quizzes_once(client, token, exam):
    overdue = launched(client, token, exam.pk, student="overdue")
    running = launched(client, token, exam.pk, student="running")
    finished = launched(client, token, exam.pk, student="finished")
    question = questions(client, token, overdue["launch_id"])[0]
    body = {"question_id": question["id"], "answer": right(question)}
    assert (
        post(client, f"/api/launch/{overdue['launch_id']}/answer/", token, body).status_code == 200
    )
    post(client, f"/api/launch/{finished['launch_id']}/submit/", token, {"responses": []})
    expire(overdue)
    expire(finished)
    finished_before = Quiz.objects.filter(pk=finished["quiz_id"]).values().get()

    assert services.finish_expired_quizzes() == 1
    quiz = quiz_of(overdue)
    assert quiz.state == Quiz.State.COMPLETED
    assert quiz.finished_by == Quiz.FinishedBy.DEADLINE
    assert quiz.correct_answers == 1
    assert quiz.percentage == 20.0
    assert quiz.end_at == quiz.deadline_at
    assert quiz_of(running).state == Quiz.State.STARTED
    after = Quiz.objects.filter(pk=finished["quiz_id"]).values().get()
    assert after == finished_before | {"deadline_at": after["deadline_at"]}

    completed = Quiz.objects.filter(pk=overdue["quiz_id"]).values().get()
    assert services.finish_expired_quizzes() == 0
    assert Quiz.objects.filter(pk=overdue["quiz_id"]).values().get() == completed


@pytest.mark.django_db(transaction=True)
def test_the_periodic_huey_task_finishes_expired_quizzes(client, token, exam):
    from portal.exams.tasks import finish_expired_quizzes

    overdue = launched(client, token, exam.pk, student="overdue")
    running = launched(client, token, exam.pk, student="running")
    expire(overdue)
    assert finish_expired_quizzes.call_local() == 1
    assert quiz_of(overdue).state == Quiz.State.COMPLETED
    assert quiz_of(running).state == Quiz.State.STARTED
    assert finish_expired_quizzes.call_local() == 0


# --- query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [10, 200])
def test_reading_and_submitting_take_few_queries(
    client, token, customer, size, django_assert_max_num_queries
):
    exam = make_exam(customer, questions=size)
    launch = launched(client, token, exam.pk)
    launch_id = launch["launch_id"]
    with django_assert_max_num_queries(12):
        shown = questions(client, token, launch_id)
    responses = [{"question_id": q["id"], "answer": right(q)} for q in shown]
    with django_assert_max_num_queries(12):
        response = post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": responses})
    assert response.json()["result"]["correct_answers"] == size


def test_query_counts_do_not_grow_with_the_number_of_questions(client, token, customer):
    counts = {}
    for size in (10, 200):
        exam = make_exam(customer, questions=size)
        launch_id = launched(client, token, exam.pk, student=f"s{size}")["launch_id"]
        with CaptureQueriesContext(connection) as reading:
            shown = questions(client, token, launch_id)
        responses = [{"question_id": q["id"], "answer": right(q)} for q in shown]
        with CaptureQueriesContext(connection) as submitting:
            response = post(
                client, f"/api/launch/{launch_id}/submit/", token, {"responses": responses}
            )
        assert response.json()["result"]["correct_answers"] == size
        counts[size] = (len(reading.captured_queries), len(submitting.captured_queries))
    assert counts[10] == counts[200]


# --- OpenAPI ----------------------------------------------------------------------------------


def test_openapi_documents_every_endpoint(client, db):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    expected = {
        "/api/integration/exams/{eurl}/": "get",
        "/api/integration/exams/launch/": "post",
        "/api/launch/{launch_id}/": "get",
        "/api/launch/{launch_id}/answer/": "post",
        "/api/launch/{launch_id}/submit/": "post",
        "/api/launch/{launch_id}/redirect/": "get",
    }
    assert expected.keys() <= paths.keys()
    components = schema["components"]["schemas"]

    def resolve(ref_holder: dict) -> dict:
        ref = ref_holder["$ref"]
        return components[ref.rsplit("/", 1)[-1]]

    for path, method in expected.items():
        assert set(paths[path]) == {method}, path
        operation = paths[path][method]
        if method == "post":
            body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert resolve(body_schema)["properties"], path
        responses = operation["responses"]
        success = (
            {"201"} if path.endswith("/launch/") else {"302"} if "redirect" in path else {"200"}
        )
        assert success <= responses.keys(), path
        for status in ("400", "401", "404"):
            error_schema = resolve(responses[status]["content"]["application/json"]["schema"])
            assert {"error", "code"} <= set(error_schema["properties"]), (path, status)
            assert {"error", "code"} <= set(error_schema["required"])
        assert operation.get("security"), path

    launch_in = resolve(
        paths["/api/integration/exams/launch/"]["post"]["requestBody"]["content"][
            "application/json"
        ]["schema"]
    )
    assert {"student_uuid", "eurl", "callback_url"} <= set(launch_in["required"])
    assert {"student_uuid", "mobile", "eurl", "callback_url"} <= set(launch_in["properties"])
    schemes = schema["components"]["securitySchemes"]
    assert {s.get("name") for s in schemes.values()} >= {"X-Client-Token", "Authorization"}


def test_api_docs_page(client, db):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]
    assert b"openapi.json" in response.content


def test_a_huge_question_id_is_400_not_500(client, token, exam):
    launch_id = start(client, token, exam.pk).json()["launch_id"]
    response = post(
        client,
        f"/api/launch/{launch_id}/answer/",
        token,
        {"question_id": 99999999999999999999, "answer": "1"},
    )
    assert_error(response, 400, "invalid_request")
