"""The scorecard's save-progress shortcut (api/shortcuts.py, save_progress_shortcut) answers
exactly as the API operation does: the same status, body and headers whether a save is made by
the shortcut or goes on to the operation; every request is counted once by the rate limit,
whichever of the two answers it."""

import pytest
from django.test import Client

from api import shortcuts
from portal.scorecards.models import Visit
from tests.factories import qids

pytestmark = pytest.mark.django_db
JSON = "application/json"
# What differs between any two answers, whoever makes them.
OWN = {"X-Request-ID", "Date", "X-RateLimit-Reset"}


def started(address: str) -> Client:
    visitor = Client(REMOTE_ADDR=address)
    assert visitor.post("/api/assessment/start", {}, content_type=JSON).status_code == 200
    return visitor


def save(visitor: Client, body: object, **headers: str):
    return visitor.post("/api/assessment/save-progress", body, content_type=JSON, **headers)


def unreadable(text: object) -> object:
    raise ValueError("the shortcut leaves this body to the operation")


def answer(response) -> tuple:
    headers = {name: value for name, value in response.items() if name not in OWN}
    return response.status_code, response.content, headers


@pytest.mark.parametrize("complete", [True, False])
def test_the_shortcut_and_the_operation_answer_alike(scorecard, monkeypatch, complete):
    ids = qids(scorecard)[1]
    answers = dict.fromkeys(ids if complete else ids[:-1], "B")
    body = {"step": 1, "responses": answers, "timeSpent": 40}
    by_shortcut = save(started("198.51.100.21"), body)
    monkeypatch.setattr(shortcuts, "read_json", unreadable)
    by_operation = save(started("198.51.100.22"), body)
    assert by_shortcut.status_code == 200
    assert answer(by_shortcut) == answer(by_operation)
    assert [visit.responses for visit in Visit.objects.all()] == [answers, answers]


@pytest.mark.parametrize(
    ("body", "headers", "status", "counted"),
    [
        # Refused before the rate limit counts, by the operation as always: its schema, the
        # body's JSON, the same-site check.
        ({"step": 7, "responses": {}}, {}, 422, 0),
        ("not json", {}, 422, 0),
        ({"step": 0, "responses": {}}, {"HTTP_ORIGIN": "https://elsewhere.example"}, 403, 0),
        # Counted, then refused by the service, here.
        ({"step": 0, "responses": {"no_such_question": "A"}}, {}, 422, 1),
    ],
)
def test_each_refusal_is_the_operations_and_counted_once(scorecard, body, headers, status, counted):
    visitor = started("198.51.100.23")
    first = save(visitor, {"step": 0, "responses": {}})
    remaining = int(first["X-RateLimit-Remaining"])
    refused = save(visitor, body, **headers)
    assert refused.status_code == status
    assert "code" in refused.json()["error"]
    again = save(visitor, {"step": 0, "responses": {}})
    assert again.status_code == 200
    assert int(again["X-RateLimit-Remaining"]) == remaining - counted - 1


def test_over_the_limit_the_shortcut_answers_the_contracts_429(scorecard, settings):
    visitor = started("198.51.100.24")
    for _ in range(100):
        assert save(visitor, {"step": 0, "responses": {}}).status_code == 200
    refused = save(visitor, {"step": 0, "responses": {"value_assurance_1": "A"}})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert refused["X-RateLimit-Remaining"] == "0" and int(refused["Retry-After"]) > 0
    assert "value_assurance_1" not in Visit.objects.get().responses


def test_an_expired_session_is_the_contracts_401(scorecard):
    visitor = Client(REMOTE_ADDR="198.51.100.25")
    visitor.cookies["assessment-session"] = "sess_made_up"
    refused = save(visitor, {"step": 0, "responses": {}})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "SESSION_EXPIRED"


def test_the_common_save_is_made_in_front_of_django_ninja(scorecard, monkeypatch):
    visitor = started("198.51.100.26")

    def operation(pattern: str):
        raise AssertionError(f"{pattern} went on to the operation")

    monkeypatch.setattr(shortcuts, "_operation", operation)
    saved = save(visitor, {"step": 0, "responses": {"value_assurance_1": "D"}, "timeSpent": 5})
    assert saved.status_code == 200 and saved.json()["saved"] is True
    assert Visit.objects.get().responses == {"value_assurance_1": "D"}
