"""The scorecard API refuses what another site's page can send without a CORS preflight: an
unsafe request with a foreign Origin (or Sec-Fetch-Site: cross-site), or a body that is not
JSON (a `text/plain` form). Each refusal is the seed's error envelope."""

import json

import pytest
from django.test import Client

from portal.scorecards.models import Visit

pytestmark = pytest.mark.django_db
JSON = "application/json"
EVIL = "https://evil.example"


@pytest.fixture
def visitor(scorecard) -> Client:
    client = Client(REMOTE_ADDR="203.0.113.40")
    assert client.post("/api/assessment/start", {}, content_type=JSON).status_code == 200
    return client


def step_zero(scorecard) -> dict:
    section = scorecard.sections.get(step=0)
    return {"step": 0, "responses": {q.qid: "E" for q in section.questions.all()}}


def envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["requestId"] == response["X-Request-ID"]
    return error


def test_a_cross_site_text_plain_post_is_refused_and_changes_nothing(visitor, scorecard):
    body = json.dumps(step_zero(scorecard))
    response = visitor.post(
        "/api/assessment/save-progress", body, content_type="text/plain", HTTP_ORIGIN=EVIL
    )
    error = envelope(response, 403, "FORBIDDEN")
    assert error["details"]["origin"] == EVIL
    assert Visit.objects.get().responses == {}
    start = Client().post(
        "/api/assessment/start", "{}", content_type="text/plain", HTTP_ORIGIN=EVIL
    )
    envelope(start, 403, "FORBIDDEN")
    assert Visit.objects.count() == 1


def test_a_foreign_origin_is_refused_even_with_json(visitor, scorecard):
    for origin in (EVIL, "null", "http://testserver.evil.example"):
        response = visitor.post(
            "/api/assessment/save-progress",
            step_zero(scorecard),
            content_type=JSON,
            HTTP_ORIGIN=origin,
        )
        envelope(response, 403, "FORBIDDEN")
    submit = visitor.post(
        "/api/assessment/submit", {"completionTime": 5}, content_type=JSON, HTTP_ORIGIN=EVIL
    )
    envelope(submit, 403, "FORBIDDEN")
    assert Visit.objects.get().responses == {}


def test_without_origin_a_cross_site_fetch_is_refused(visitor, scorecard):
    response = visitor.post(
        "/api/assessment/save-progress",
        step_zero(scorecard),
        content_type=JSON,
        HTTP_SEC_FETCH_SITE="cross-site",
    )
    envelope(response, 403, "FORBIDDEN")


def test_a_body_that_is_not_json_is_refused_from_this_site_too(visitor, scorecard):
    body = json.dumps(step_zero(scorecard))
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = visitor.post(
            "/api/assessment/save-progress",
            body,
            content_type=content_type,
            HTTP_ORIGIN="http://testserver",
        )
        error = envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
        assert error["details"] == {"contentType": content_type}
    assert Visit.objects.get().responses == {}


def test_this_sites_own_origins_pass(visitor, scorecard, settings):
    url = "/api/assessment/save-progress"
    body = step_zero(scorecard)
    ok = {
        "HTTP_ORIGIN": "http://testserver",  # the request's own host (ALLOWED_HOSTS)
        "HTTP_SEC_FETCH_SITE": "same-origin",
    }
    assert visitor.post(url, body, content_type=JSON, **ok).status_code == 200
    settings.PUBLIC_BASE_URL = "https://aireadycheck.com"
    settings.CSRF_TRUSTED_ORIGINS = ["https://www.aireadycheck.com", "https://*.partner.example"]
    for origin in (
        "https://aireadycheck.com",
        "https://www.aireadycheck.com",
        "https://quiz.partner.example",
    ):
        response = visitor.post(url, body, content_type=JSON, HTTP_ORIGIN=origin)
        assert response.status_code == 200, origin
    # A server (or curl) sends neither header and carries no visitor's cookie: it passes.
    assert visitor.post(url, body, content_type=JSON).status_code == 200
    # JSON with a charset is JSON.
    charset = visitor.post(url, json.dumps(body), content_type="application/json; charset=utf-8")
    assert charset.status_code == 200


def test_reads_are_not_affected(visitor):
    response = visitor.get("/api/assessment/resume", HTTP_ORIGIN=EVIL)
    assert response.status_code == 200 and response.json()["hasActiveAssessment"]


def test_the_openapi_document_declares_the_refusals(client, db):
    operation = client.get("/api/openapi.json").json()["paths"]["/api/assessment/save-progress"]
    assert {"403", "415"} <= set(operation["post"]["responses"])
