"""The autosave's shortcut (api/shortcuts.py, answer_shortcut) answers exactly as the API operation
does: the same body, status and headers whether the common case is saved by the shortcut or a
less common body goes on to the operation; and everything it can't save goes on."""

import pytest

from portal.exams.models import AnswerSave
from tests.factories import CALLBACK

pytestmark = pytest.mark.django_db


@pytest.fixture
def launched(client, exam, token):
    body = {"student_uuid": "stu-1", "eurl": exam.pk, "callback_url": CALLBACK}
    response = client.post(
        "/api/integration/exams/launch/",
        body,
        content_type="application/json",
        HTTP_X_CLIENT_TOKEN=token,
    )
    launch_id = response.json()["launch_id"]
    detail = client.get(f"/api/launch/{launch_id}/", HTTP_X_CLIENT_TOKEN=token).json()
    return launch_id, [q["id"] for q in detail["questions"]]


def post(client, launch_id, body, **headers):
    return client.post(
        f"/api/launch/{launch_id}/answer/", body, content_type="application/json", **headers
    )


@pytest.mark.parametrize("language", ["fa", "en"])
def test_the_shortcut_and_the_operation_answer_alike(client, token, launched, language):
    launch_id, questions = launched
    headers = {"HTTP_X_CLIENT_TOKEN": token, "HTTP_ACCEPT_LANGUAGE": language}
    common = post(client, launch_id, {"question_id": questions[0], "answer": "2"}, **headers)
    # Persian digits are valid, but left to the operation to read.
    persian = post(client, launch_id, {"question_id": questions[1], "answer": "۳"}, **headers)
    assert common.status_code == persian.status_code == 200
    assert common.content == persian.content
    assert common["Content-Type"] == persian["Content-Type"]
    assert AnswerSave.objects.count() == 2


def test_both_token_headers_are_taken(client, token, launched):
    launch_id, questions = launched
    by_header = post(
        client, launch_id, {"question_id": questions[0], "answer": 1}, HTTP_X_CLIENT_TOKEN=token
    )
    by_authorization = post(
        client,
        launch_id,
        {"question_id": questions[1], "answer": 1},
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert by_header.status_code == by_authorization.status_code == 200


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"question_id": True, "answer": "1"}, 400, "invalid_request"),
        ({"question_id": 999999, "answer": "1"}, 400, "unknown_question"),
        ({"question_id": "first", "answer": "5"}, 400, "invalid_answer"),
    ],
)
def test_what_the_shortcut_cannot_save_gets_the_operations_answer(
    client, token, launched, body, status, code
):
    launch_id, questions = launched
    if body["question_id"] == "first":
        body = body | {"question_id": questions[0]}
    response = post(client, launch_id, body, HTTP_X_CLIENT_TOKEN=token)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not AnswerSave.objects.exists()


def test_a_wrong_token_is_401_and_a_get_is_405(client, launched):
    launch_id, questions = launched
    wrong = post(
        client,
        launch_id,
        {"question_id": questions[0], "answer": "1"},
        HTTP_X_CLIENT_TOKEN="0f3c2f9e-6b5e-4c1e-9d1a-0123456789ab",
    )
    assert wrong.status_code == 401
    assert client.get(f"/api/launch/{launch_id}/answer/").status_code == 405
