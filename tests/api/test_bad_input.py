"""Bad input answered in each contract's own format, identically on SQLite and PostgreSQL:
control characters anywhere, bodies over the upload limit, wrong methods and unknown paths,
booleans for numbers, database failures; and the portal's own 404 and 500 pages."""

import json
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory

from portal import errors
from portal.exams.models import Quiz, Student
from portal.roleplays.models import Assessment
from portal.scorecards.content import load_scorecard
from portal.scorecards.models import Visit, VisitorSession
from tests.factories import CALLBACK

pytestmark = pytest.mark.django_db

JSON = "application/json"
LAUNCH = "/api/integration/exams/launch/"
ROLEPLAY_LAUNCH = "/api/integration/assessment-launch"
SCORECARD_FILE = (
    Path(__file__).resolve().parents[2] / "portal/scorecards/fixtures/scorecard_v1.json"
)
NUL = "\x00"


@pytest.fixture
def scorecard(db):
    return load_scorecard(json.loads(SCORECARD_FILE.read_text(encoding="utf-8")))


@pytest.fixture
def visitor(scorecard) -> Client:
    return Client(REMOTE_ADDR="203.0.113.9")


def exam_post(client, path: str, token: str, body, **headers):
    return client.post(
        path,
        body,
        content_type=JSON,
        headers={"X-Client-Token": token, "Accept-Language": "en", **headers},
    )


def launch_body(eurl: int, **fields) -> dict:
    return {
        "student_uuid": "stu-1",
        "mobile": "09120000000",
        "eurl": eurl,
        "callback_url": CALLBACK,
    } | fields


def launched(client, token: str, eurl: int) -> str:
    response = exam_post(client, LAUNCH, token, launch_body(eurl))
    assert response.status_code == 201, response.content
    return response.json()["launch_id"]


def roleplay_body(cluster, **fields) -> dict:
    """A roleplay launch's body, refused at its token at the latest."""
    return {
        "user_id": "EMP_789",
        "user_name": "johndoe",
        "assessment_cluster_id": cluster.cluster_id,
        "auth_token": "x.y.z",
        "return_url": "https://q3.example.com/dashboard",
    } | fields


def assert_exam_invalid(response, field: str) -> dict:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith(JSON)
    body = response.json()
    assert body["code"] == "invalid_request"
    assert body["error"].startswith("Invalid request: ") and field in body["error"]
    return body


def assert_roleplay_invalid(response, field: str) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["success"] is False and body["error_code"] == "INVALID_REQUEST"
    assert field in body["detail"]


def assert_scorecard_invalid(response, field: str) -> None:
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"] == "Request data validation failed"
    assert field in [detail["field"] for detail in error["details"]], error["details"]
    assert error["requestId"] == response["X-Request-ID"]


# --- control characters -----------------------------------------------------------------------


@pytest.mark.parametrize("char", [NUL, "\x01", "\x1b", "\x7f", "\x85", "\n", "\t"])
def test_exam_launch_refuses_a_control_character_in_a_field(client, token, exam, char):
    response = exam_post(client, LAUNCH, token, launch_body(exam.pk, student_uuid=f"s{char}1"))
    body = assert_exam_invalid(response, "student_uuid")
    [detail] = body["details"]
    assert detail["loc"] == ["student_uuid"] and "control characters" in detail["msg"]
    assert not Student.objects.exists() and not Quiz.objects.exists()


@pytest.mark.parametrize("char", ["\ufffe", "\uffff"])
def test_exam_launch_refuses_a_noncharacter_in_a_field(client, token, exam, char):
    # Stored, it made every XLSX export of the results, students and audit a damaged file.
    response = exam_post(client, LAUNCH, token, launch_body(exam.pk, student_uuid=f"s{char}1"))
    [detail] = assert_exam_invalid(response, "student_uuid")["details"]
    assert f"must not contain noncharacters (U+{ord(char):04X})" in detail["msg"]
    assert not Student.objects.exists()


def test_exam_messages_are_persian_unless_english_is_asked_for(client, token, exam):
    response = client.post(
        LAUNCH,
        launch_body(exam.pk, mobile=NUL),
        content_type=JSON,
        headers={"X-Client-Token": token},
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("درخواست نامعتبر")


def test_exam_answer_and_path_refuse_control_characters(client, token, exam):
    launch_id = launched(client, token, exam.pk)
    answer = exam_post(
        client,
        f"/api/launch/{launch_id}/answer/",
        token,
        {"question_id": 1, "answer": "1", "done": f"in{NUL}progress"},
    )
    assert_exam_invalid(answer, "done")
    english = {"X-Client-Token": token, "Accept-Language": "en"}
    path = client.get("/api/launch/%00/", headers=english)
    assert_exam_invalid(path, "path")
    query = client.get(f"/api/integration/exams/{exam.pk}/?lang=%01", headers=english)
    assert_exam_invalid(query, "query parameter lang")


def test_persian_text_passes_where_control_characters_do_not(client, token, exam):
    student = "دانشجو\u200c۱۲"  # with a zero-width non-joiner, as Persian is written
    response = exam_post(client, LAUNCH, token, launch_body(exam.pk, student_uuid=student))
    assert response.status_code == 201, response.content
    assert Student.objects.get().uuid == student


def test_roleplay_launch_refuses_a_control_character_in_a_field(client, cluster):
    body = {
        "user_id": f"EMP{NUL}789",
        "user_name": "johndoe",
        "assessment_cluster_id": cluster.cluster_id,
        "auth_token": "x.y.z",
        "return_url": "https://q3.example.com/dashboard",
    }
    assert_roleplay_invalid(client.post(ROLEPLAY_LAUNCH, body, content_type=JSON), "user_id")
    assert not Assessment.objects.exists()


def test_roleplay_start_answers_a_control_character_with_its_page(client):
    response = client.post(
        "/api/integration/assessment-start?ticket=t%00",
        {"assessment_cluster_id": "b4bf406c-4f9"},
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "This assessment link can" in response.text


def test_scorecard_refuses_control_characters_in_body_path_cookie_and_header(visitor):
    started = visitor.post("/api/assessment/start", {"company": f"Acme{NUL}"}, content_type=JSON)
    assert_scorecard_invalid(started, "company")
    assert not VisitorSession.objects.exists()

    assert_scorecard_invalid(visitor.get("/api/assessment/results/%00"), "path")

    visitor.cookies["assessment-session"] = f"sess_{NUL}"
    assert_scorecard_invalid(visitor.get("/api/assessment/resume"), "cookie assessment-session")
    del visitor.cookies["assessment-session"]

    # The User-Agent is stored with the session: refused before anything is.
    agent = visitor.post(
        "/api/assessment/start", {}, content_type=JSON, headers={"User-Agent": "bot\x00/1"}
    )
    assert_scorecard_invalid(agent, "header User-Agent")
    assert not VisitorSession.objects.exists()


def test_scorecard_free_text_keeps_line_breaks_single_lines_refuse_them(visitor, scorecard):
    tabbed = visitor.post("/api/assessment/start", {"company": "Acme\tCorp"}, content_type=JSON)
    assert_scorecard_invalid(tabbed, "company")
    assert visitor.post("/api/assessment/start", {}, content_type=JSON).status_code == 200
    for step, section in enumerate(scorecard.sections.all()):
        answers = {q.qid: "B" for q in section.questions.all()}
        saved = visitor.post(
            "/api/assessment/save-progress",
            {"step": step, "responses": answers},
            content_type=JSON,
        )
        assert saved.status_code == 200, saved.content
    feedback = "Line one,\r\nline two.\tTabbed — و فارسی"
    submitted = visitor.post(
        "/api/assessment/submit",
        {"completionTime": 60, "feedback": feedback},
        content_type=JSON,
    )
    assert submitted.status_code == 200, submitted.content
    assert Visit.objects.get().feedback == feedback


def test_a_page_form_with_a_control_character_gets_a_form_error_page(client, scorecard):
    response = client.post(
        "/assessment/start/",
        {"email": "", "company": "Acme\x01Corp"},
        headers={"Referer": "http://testserver/assessment/"},
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "This request can" in response.text and "form field company" in response.text
    assert 'href="http://testserver/assessment/"' in response.text  # the way back
    assert not VisitorSession.objects.exists()


def test_a_session_cookie_with_a_control_character_never_reaches_the_database(client):
    client.cookies["sessionid"] = f"abcdefgh{NUL}ijklmnop"
    response = client.get("/staff/")
    assert response.status_code == 400
    assert "cookie sessionid" in response.text


# --- bodies over the upload limit -------------------------------------------------------------


@pytest.fixture
def small_uploads(settings) -> int:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    return 1000


def test_an_exam_body_over_the_limit_is_413_in_the_exam_format(client, token, small_uploads):
    response = exam_post(client, LAUNCH, token, {"student_uuid": "x" * 2000})
    assert response.status_code == 413
    assert response.json() == {
        "error": "The request is too large: at most 1000 bytes of data are accepted.",
        "code": "request_too_large",
    }


def test_a_roleplay_body_over_the_limit_is_413_in_the_roleplay_format(client, small_uploads):
    response = client.post(ROLEPLAY_LAUNCH, {"user_id": "x" * 2000}, content_type=JSON)
    assert response.status_code == 413
    body = response.json()
    assert body["success"] is False and body["error_code"] == "REQUEST_TOO_LARGE"


def test_a_scorecard_body_over_the_limit_is_413_in_the_seeds_envelope(visitor, small_uploads):
    response = visitor.post("/api/assessment/start", {"company": "x" * 2000}, content_type=JSON)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "PAYLOAD_TOO_LARGE" and error["details"] == {"limit": 1000}


def test_a_page_form_over_the_limit_is_a_413_page(client, small_uploads):
    response = client.post("/assessment/start/", {"company": "x" * 2000})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "at most 1000 bytes" in response.text


# --- wrong methods and unknown paths ----------------------------------------------------------


def test_a_wrong_method_is_405_in_each_contracts_format(client, token, exam):
    launch_id = launched(client, token, exam.pk)
    exam_405 = client.delete(
        f"/api/launch/{launch_id}/answer/",
        headers={"X-Client-Token": token, "Accept-Language": "en"},
    )
    assert exam_405.status_code == 405 and exam_405["Allow"] == "POST"
    assert exam_405.json()["code"] == "method_not_allowed"

    roleplay_405 = client.get(ROLEPLAY_LAUNCH)
    assert roleplay_405.status_code == 405 and roleplay_405["Allow"] == "POST"
    assert roleplay_405.json()["error_code"] == "METHOD_NOT_ALLOWED"

    scorecard_405 = client.get("/api/assessment/start")
    assert scorecard_405.status_code == 405 and scorecard_405["Allow"] == "POST"
    assert scorecard_405.json()["error"]["code"] == "METHOD_NOT_ALLOWED"

    # The start URL is a browser's: a page, whatever the method.
    start_405 = client.put("/api/integration/assessment-start")
    assert start_405.status_code == 405 and start_405["Allow"] == "POST"
    assert "This assessment link can" in start_405.text


def test_an_unknown_api_path_is_404_json(client, token):
    exam_404 = client.get("/api/launch/x/nothing/", headers={"Accept-Language": "en"})
    assert exam_404.status_code == 404
    assert exam_404.json() == {"error": "Not found.", "code": "not_found"}

    scorecard_404 = client.get("/api/assessment/nothing")
    assert scorecard_404.status_code == 404
    assert scorecard_404.json()["error"]["code"] == "NOT_FOUND"

    other_404 = client.get("/api/nothing/here")
    assert other_404.status_code == 404 and other_404.json() == {"detail": "Not found."}


# --- numbers are numbers ----------------------------------------------------------------------


@pytest.mark.parametrize("eurl", [True, False, "1"], ids=["true", "false", "text"])
def test_eurl_must_be_a_number(client, token, exam, eurl):
    # `true` was taken for 1: it launched exam 1.
    response = exam_post(client, LAUNCH, token, launch_body(eurl))
    assert_exam_invalid(response, "eurl")
    assert not Quiz.objects.exists()


def test_a_json_integer_written_with_a_fraction_of_zero_is_a_number(client, token, exam):
    response = exam_post(client, LAUNCH, token, launch_body(float(exam.pk)))
    assert response.status_code == 201, response.content


def test_question_id_and_step_must_be_numbers(client, token, exam, visitor):
    launch_id = launched(client, token, exam.pk)
    answer = exam_post(
        client, f"/api/launch/{launch_id}/answer/", token, {"question_id": True, "answer": "1"}
    )
    assert_exam_invalid(answer, "question_id")
    assert visitor.post("/api/assessment/start", {}, content_type=JSON).status_code == 200
    step = visitor.post(
        "/api/assessment/save-progress", {"step": True, "responses": {}}, content_type=JSON
    )
    assert_scorecard_invalid(step, "step")


# --- the exam submit body ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["null", "[1, 2, 3]", '"x"', "{}", '{"responses": null}', '{"answers": []}']
)
def test_exam_submit_takes_an_object_with_responses_only(client, token, exam, body):
    launch_id = launched(client, token, exam.pk)
    response = client.post(
        f"/api/launch/{launch_id}/submit/",
        body,
        content_type=JSON,
        headers={"X-Client-Token": token, "Accept-Language": "en"},
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_request"
    assert Quiz.objects.get().state != "completed"


def test_exam_submit_with_an_empty_list_finishes_with_the_saved_answers(client, token, exam):
    launch_id = launched(client, token, exam.pk)
    response = exam_post(client, f"/api/launch/{launch_id}/submit/", token, {"responses": []})
    assert response.status_code == 200, response.content
    assert response.json()["result"]["state"] == "completed"


# --- failures on our side ---------------------------------------------------------------------


@pytest.fixture
def server_errors(client) -> Client:
    """The test client answering as a server does when a view fails, instead of raising."""
    client.raise_request_exception = False
    return client


def test_a_database_failure_on_the_exam_api_is_a_503_in_its_format(server_errors, token, exam):
    with mock.patch("portal.exams.services.get_exam", side_effect=OperationalError("locked")):
        response = server_errors.get(
            f"/api/integration/exams/{exam.pk}/",
            headers={"X-Client-Token": token, "Accept-Language": "en"},
        )
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == {
        "error": "The service is briefly unavailable; please try again.",
        "code": "service_unavailable",
    }


def test_any_other_failure_on_the_exam_api_is_a_500_in_its_format(server_errors, token, exam):
    with mock.patch("portal.exams.services.get_exam", side_effect=RuntimeError("bug")):
        response = server_errors.get(
            f"/api/integration/exams/{exam.pk}/",
            headers={"X-Client-Token": token, "Accept-Language": "en"},
        )
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"


def test_a_database_failure_on_the_roleplay_api_is_a_503_in_its_format(server_errors, cluster):
    body = roleplay_body(cluster)
    with mock.patch(
        "portal.roleplays.launch.assessment_launch", side_effect=OperationalError("gone")
    ):
        response = server_errors.post(ROLEPLAY_LAUNCH, body, content_type=JSON)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == {
        "success": False,
        "error_code": "SERVICE_UNAVAILABLE",
        "detail": "The service is briefly unavailable; please try again.",
    }


def test_a_failure_outside_the_api_views_is_answered_by_path():
    """Django's handler500 (a failure in a middleware, say): JSON under /api/, a page else."""
    factory = RequestFactory()
    api_request = factory.get("/api/assessment/resume")
    try:
        raise OperationalError("the database went away")
    except OperationalError:
        api_response = errors.handler500(api_request)
        page_response = errors.handler500(factory.get("/assessment/"))
    assert api_response.status_code == 500
    assert json.loads(api_response.content)["error"]["code"] == "DATABASE_ERROR"
    assert page_response.status_code == 500
    assert "Something went wrong on our side" in page_response.content.decode()


# --- the portal's own error pages -------------------------------------------------------------


def test_an_unknown_page_gets_the_portals_404_page(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "<h1" in response.text and "Page not found" in response.text
    assert "/static/css/portal.css" in response.text  # our layout (templates/base.html)


def test_the_404_page_speaks_persian_to_a_persian_browser(client):
    response = client.get("/no/such/page/", headers={"Accept-Language": "fa"})
    assert response.status_code == 404
    assert 'dir="rtl"' in response.text


def test_the_500_page_is_ours_and_needs_nothing_but_the_template():
    response = errors.handler500(RequestFactory().get("/exam/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html and "/static/css/portal.css" in html


# --- JSON too deep or too long to read ----------------------------------------------------------

DEEP = '{"question_id": 1, "answer": "1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
LONG_NUMBER = '{"question_id": 1, "answer": "1", "x": ' + "7" * 5000 + "}"


@pytest.mark.parametrize("text", [DEEP, LONG_NUMBER], ids=["deep", "long-number"])
def test_json_python_cannot_read_is_bad_input_in_each_contract(client, token, exam, visitor, text):
    """Nested deeper than Python's parser follows, or a number of more digits than it converts:
    refused as any unreadable body (the answer's and the launch's shortcuts read it first)."""
    launch = launched(client, token, exam.pk)
    for path in (LAUNCH, f"/api/launch/{launch}/answer/", f"/api/launch/{launch}/submit/"):
        assert_exam_invalid(exam_post(client, path, token, text), "Cannot parse request body")
    assert_roleplay_invalid(
        client.post(ROLEPLAY_LAUNCH, text, content_type=JSON), "Cannot parse request body"
    )
    assert_scorecard_invalid(
        visitor.post("/api/assessment/save-progress", text, content_type=JSON), "body"
    )


@pytest.mark.parametrize("path", ["submit", "answer"])
def test_an_api_path_without_its_slash_is_the_contracts_404_not_a_redirect(
    client, token, exam, path, settings
):
    """Django would redirect a page to its slashed path; a POST would not survive the redirect
    (and with DEBUG Django refuses it with an error), so an API path is simply not found."""
    launch = launched(client, token, exam.pk)
    for debug in (False, True):
        settings.DEBUG = debug
        response = exam_post(client, f"/api/launch/{launch}/{path}", token, {})
        assert response.status_code == 404, response.content
        assert response.json() == {"error": "Not found.", "code": "not_found"}
    response = client.post(f"{ROLEPLAY_LAUNCH}/x", {}, content_type=JSON)
    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"
    response = client.get("/api/assessment/nothing")  # with DEBUG still on
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


def test_a_page_without_its_slash_is_still_redirected_to_it(client):
    response = client.get("/assessment")
    assert response.status_code == 301 and response["Location"] == "/assessment/"


def test_a_text_or_number_field_too_long_is_counted_in_characters(client, token, exam):
    body = launch_body(exam.pk, student_uuid="s" * 129)
    error = assert_exam_invalid(exam_post(client, LAUNCH, token, body), "student_uuid")["error"]
    assert "at most 128 characters" in error, error


# Every length-bounded text field of the three contracts, one character over its most: the
# error counts characters ("at most 2000 characters"), never "items after validation" (a
# length checked after the one-line rule was pydantic's generic one). (contract, path, body,
# field, most)
LONG = "https://q3.example.com/" + "x" * 2000
TOO_LONG = {
    "exam callback_url": ("exam", LAUNCH, {"callback_url": LONG[:2001]}, "callback_url", 2000),
    "exam mobile": ("exam", LAUNCH, {"mobile": "0" * 33}, "mobile", 32),
    "exam answer done": ("exam", "answer", {"done": "d" * 33}, "done", 32),
    "exam answer": ("exam", "answer", {"answer": "1" * 33}, "answer", 32),
    "roleplay user_id": ("roleplay", ROLEPLAY_LAUNCH, {"user_id": "u" * 129}, "user_id", 128),
    "roleplay user_name": ("roleplay", ROLEPLAY_LAUNCH, {"user_name": "n" * 201}, "user_name", 200),
    "roleplay cluster": (
        "roleplay",
        ROLEPLAY_LAUNCH,
        {"assessment_cluster_id": "c" * 65},
        "assessment_cluster_id",
        64,
    ),
    "roleplay auth_token": (
        "roleplay",
        ROLEPLAY_LAUNCH,
        {"auth_token": "t" * 4097},
        "auth_token",
        4096,
    ),
    "roleplay return_url": (
        "roleplay",
        ROLEPLAY_LAUNCH,
        {"return_url": LONG[:2001]},
        "return_url",
        2000,
    ),
    "roleplay results_url": (
        "roleplay",
        ROLEPLAY_LAUNCH,
        {"results_url": LONG[:2001]},
        "results_url",
        2000,
    ),
    "scorecard start email": (
        "scorecard",
        "/api/assessment/start",
        {"email": "a" * 243 + "@example.com"},
        "email",
        254,
    ),
    "scorecard start company": (
        "scorecard",
        "/api/assessment/start",
        {"company": "c" * 201},
        "company",
        200,
    ),
    "scorecard start referrer": (
        "scorecard",
        "/api/assessment/start",
        {"referrer": LONG[:2001]},
        "referrer",
        2000,
    ),
    "scorecard start userAgent": (
        "scorecard",
        "/api/assessment/start",
        {"browserInfo": {"userAgent": "a" * 501}},
        "userAgent",
        500,
    ),
    "scorecard save email": (
        "scorecard",
        "/api/assessment/save-progress",
        {"step": 0, "responses": {}, "email": "a" * 243 + "@example.com"},
        "email",
        254,
    ),
    "scorecard save question id": (
        "scorecard",
        "/api/assessment/save-progress",
        {"step": 0, "responses": {"q" * 65: "A"}},
        "responses",
        64,
    ),
    "scorecard save choice": (
        "scorecard",
        "/api/assessment/save-progress",
        {"step": 0, "responses": {"value_assurance_1": "A" * 9}},
        "responses",
        8,
    ),
    "scorecard submit firstName": (
        "scorecard",
        "/api/assessment/submit",
        {"completionTime": 60, "contactInfo": {"firstName": "f" * 101}},
        "firstName",
        100,
    ),
    "scorecard submit phone": (
        "scorecard",
        "/api/assessment/submit",
        {"completionTime": 60, "contactInfo": {"phone": "1" * 51}},
        "phone",
        50,
    ),
    "scorecard submit feedback": (
        "scorecard",
        "/api/assessment/submit",
        {"completionTime": 60, "feedback": "f" * 5001},
        "feedback",
        5000,
    ),
}


@pytest.mark.parametrize(
    ("contract", "path", "fields", "field", "most"), TOO_LONG.values(), ids=TOO_LONG.keys()
)
def test_every_text_field_too_long_is_counted_in_characters(
    client, token, exam, cluster, visitor, contract, path, fields, field, most
):
    said = f"at most {most} characters"
    if contract == "exam":
        if path == "answer":
            path = f"/api/launch/{launched(client, token, exam.pk)}/answer/"
            body = {"question_id": 1, "answer": "1"} | fields
        else:
            body = launch_body(exam.pk, **fields)
        error = assert_exam_invalid(exam_post(client, path, token, body), field)["error"]
        assert said in error and "items" not in error, error
    elif contract == "roleplay":
        body = roleplay_body(cluster, **fields)
        response = client.post(ROLEPLAY_LAUNCH, body, content_type=JSON)
        assert_roleplay_invalid(response, field)
        detail = response.json()["detail"]
        assert said in detail and "items" not in detail, detail
    else:
        if path != "/api/assessment/start":
            started = visitor.post("/api/assessment/start", {}, content_type=JSON)
            assert started.status_code == 200, started.content
        response = visitor.post(path, fields, content_type=JSON)
        assert response.status_code == 422, response.content
        details = response.json()["error"]["details"]
        mine = [d for d in details if field in d["field"]]
        assert mine and all(said in d["reason"] and "items" not in d["reason"] for d in mine), (
            details
        )
