"""Start, save-progress and submit render their answers themselves (api/scorecards.py: Ninja's
validation of the dict just built cost more than the rest of a save). Their schemas still
document them exactly: each answer is its schema's dump, field for field and in order, with
the JSON Content-Type Ninja sends."""

import json

import pytest
from django.test import Client

from api.scorecards import SaveOut, StartOut, SubmitOut
from portal.scorecards.content import load_scorecard

pytestmark = pytest.mark.django_db
JSON = "application/json"


def follows(response, schema) -> dict:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response.content)
    dumped = schema.model_validate(body).model_dump(exclude_unset=True)
    assert list(dumped.items()) == list(body.items())  # the same fields, values and order
    return body


def test_the_flows_answers_are_their_schemas_dumps(document):
    scorecard = load_scorecard(document)
    steps = [[q.qid for q in s.questions.all()] for s in scorecard.sections.order_by("step")]
    visitor = Client()
    body = {"email": "ada@example.com", "company": "Acme"}
    started = follows(visitor.post("/api/assessment/start", body, content_type=JSON), StartOut)
    assert started["totalSteps"] == 4 and visitor.cookies["assessment-session"].value

    incomplete = {"step": 0, "responses": {steps[0][0]: "B"}, "timeSpent": 5}
    saved = visitor.post("/api/assessment/save-progress", incomplete, content_type=JSON)
    assert follows(saved, SaveOut)["validationErrors"]
    for step, ids in enumerate(steps):
        body = {"step": step, "responses": dict.fromkeys(ids, "C")}
        saved = visitor.post("/api/assessment/save-progress", body, content_type=JSON)
        assert "validationErrors" not in follows(saved, SaveOut)

    body = {"completionTime": 60, "contactInfo": {"firstName": "Ada"}}
    submitted = visitor.post("/api/assessment/submit", body, content_type=JSON)
    first = follows(submitted, SubmitOut)
    assert first["recommendations"] and first["completed"] is True
    again = visitor.post("/api/assessment/submit", {"completionTime": 61}, content_type=JSON)
    assert follows(again, SubmitOut) == first  # a double click: the same stored result
