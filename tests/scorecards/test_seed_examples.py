"""The scorecard contract's own examples (seed 002, vendored in tests/fixtures/), replayed as a
client that follows them literally would send them, against the bundled content."""

import json
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

EXAMPLES = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures/seed_002_scorecard_examples.json").read_text(
        encoding="utf-8"
    )
)
ENUMS = EXAMPLES["enums"]
SEED_SESSION = "sess_abc123def456"
SEED_ASSESSMENT = "assess_789xyz012"
# Objects whose keys are data (question ids), not field names.
MAPS = (".responses",)


def same_shape(example, actual, where: str = "body") -> None:
    """`actual` has every field of `example`, each of the same JSON type, recursively (list
    items against the example's first item)."""
    if isinstance(example, dict) and where.endswith(MAPS):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for name, value in actual.items():  # the seed's [questionId: string]: string
            same_shape(next(iter(example.values())), value, f"{where}.{name}")
    elif isinstance(example, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for name, value in example.items():
            assert name in actual, f"{where}: field {name!r} is missing from {sorted(actual)}"
            same_shape(value, actual[name], f"{where}.{name}")
    elif isinstance(example, list):
        assert isinstance(actual, list), f"{where}: {actual!r} is not a list"
        if example:
            for index, item in enumerate(actual):
                same_shape(example[0], item, f"{where}[{index}]")
    elif isinstance(example, bool):
        assert isinstance(actual, bool), f"{where}: {actual!r} is not true/false"
    elif isinstance(example, int | float):  # TypeScript's `number`: 150 and 0.0 alike
        assert isinstance(actual, int | float) and not isinstance(actual, bool), (
            f"{where}: {actual!r} is not a number"
        )
    elif isinstance(example, str):
        assert isinstance(actual, str), f"{where}: {actual!r} is not a string"


def send(example: dict, session_id: str | None = None, *, path: str | None = None):
    """The example's request as written: its method, path, headers and JSON body; the seed's
    session and assessment ids are replaced by the ones the portal gave."""
    headers = {
        f"HTTP_{name.upper().replace('-', '_')}": value
        for name, value in example.get("headers", {}).items()
        if name != "Content-Type"
    }
    if session_id:  # resume has no example request: it sends the cookie as the others do
        cookie = headers.get("HTTP_COOKIE", f"assessment-session={SEED_SESSION}")
        headers["HTTP_COOKIE"] = cookie.replace(SEED_SESSION, session_id)
    client = Client(REMOTE_ADDR="203.0.113.20")  # no cookie jar: the example's Cookie header
    url = path or example["path"]
    if example["method"] == "GET":
        return client.get(url, **headers)
    body = json.dumps(example["request"])
    return client.post(url, body, content_type="application/json", **headers)


def answer_remaining_steps(session_id: str, scorecard) -> None:
    """Steps 1..3, which the seed has no example of: four answers each, as step 0's."""
    for section in scorecard.sections.order_by("step")[1:]:
        request = {
            "step": section.step,
            "responses": {q.qid: "D" for q in section.questions.all()},
        }
        example = {**EXAMPLES["save_progress"], "request": request}
        response = send(example, session_id)
        assert response.status_code == 200, response.content
        assert response.json()["canProceed"] is True


def test_the_seeds_examples_succeed_as_written(scorecard):
    started = send(EXAMPLES["start"])
    assert started.status_code == 200, started.content
    same_shape(EXAMPLES["start"]["response"], started.json())
    session_id = started.json()["sessionId"]
    assert {k: v for k, v in started.json().items() if k in ("currentStep", "totalSteps")} == {
        "currentStep": 0,
        "totalSteps": 4,
    }
    assert started.json()["resumeUrl"] == EXAMPLES["start"]["response"]["resumeUrl"]

    # Step 0 answered exactly as the seed answers it: four questions, and it may proceed.
    saved = send(EXAMPLES["save_progress"], session_id)
    assert saved.status_code == 200, saved.content
    assert saved.json() == EXAMPLES["save_progress"]["response"]

    resumed = send(EXAMPLES["resume"], session_id)
    same_shape(EXAMPLES["resume"]["response"], resumed.json())

    answer_remaining_steps(session_id, scorecard)
    submitted = send(EXAMPLES["submit"], session_id)
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    same_shape(EXAMPLES["submit"]["response"], body)
    assert set(body["scoreBreakdown"]) == set(EXAMPLES["submit"]["response"]["scoreBreakdown"])
    assert body["scoreCategory"] in ENUMS["scoreCategory"]
    assert {r["priority"] for r in body["recommendations"]} <= set(ENUMS["priority"])
    assert body["hubspotSyncStatus"] in ENUMS["hubspotSyncStatus"]
    assert body["emailDeliveryStatus"] in ENUMS["emailDeliveryStatus"]
    assert body["resultsUrl"] == f"/assessment/results/{body['assessmentId']}"
    assert 0 <= body["totalScore"] <= 100

    example = EXAMPLES["results"]
    path = example["path"].replace(SEED_ASSESSMENT, body["assessmentId"])
    results = send(example, session_id, path=path)
    assert results.status_code == 200, results.content
    same_shape(example["response"], results.json())
    for api_key, section in results.json()["scoreBreakdown"].items():
        assert len(section["questions"]) == 4, api_key
        for question in section["questions"]:
            # The seed: "points: Points earned (0-25)", "maxPoints: Maximum possible (25)".
            assert 0 <= question["points"] <= question["maxPoints"] == 25
    weights = {k: v["weight"] for k, v in results.json()["scoreBreakdown"].items()}
    assert weights == {k: v["weight"] for k, v in example["response"]["scoreBreakdown"].items()}
    assert {r["type"] for r in results.json()["nextSteps"]["resources"]} <= set(
        ENUMS["resourceType"]
    )


def test_the_seeds_validation_error_example(scorecard):
    started = send(EXAMPLES["start"])
    example = EXAMPLES["save_progress"]
    wrong = {**example["request"], "responses": {"value_assurance_1": "X"}}
    response = send({**example, "request": wrong}, started.json()["sessionId"])
    assert response.status_code == 422
    expected = EXAMPLES["error"]["response"]
    same_shape(expected, response.json())
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("VALIDATION_ERROR", "Invalid responses format")
    assert error["details"] == expected["error"]["details"]


def test_the_seeds_health_example(scorecard):
    response = send(EXAMPLES["health"])
    same_shape(EXAMPLES["health"]["response"], response.json())
    assert response.json()["status"] in ENUMS["healthStatus"]
