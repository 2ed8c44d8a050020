"""The AI Reality Check API as a visitor's browser uses it (seed 002)."""

import pytest
from django.db import OperationalError, connection
from django.test import Client

from portal.scorecards.models import Visit
from tests.factories import broken_database, qids

pytestmark = pytest.mark.django_db
JSON = "application/json"


def start(client, **body):
    return client.post("/api/assessment/start", body, content_type=JSON)


def answer_all(client, scorecard, letter="E"):
    for step, ids in enumerate(qids(scorecard)):
        response = client.post(
            "/api/assessment/save-progress",
            {"step": step, "responses": dict.fromkeys(ids, letter)},
            content_type=JSON,
        )
        assert response.status_code == 200, response.content


def test_a_start_that_resumes_a_fully_answered_visit_points_at_its_last_step(visitor, scorecard):
    """A second start (another tab, a double click) answers the open visit: its currentStep and
    resumeUrl name the same step, within 0-3, as resume's do."""
    start(visitor)
    answer_all(visitor, scorecard)
    again = start(visitor).json()
    resumed = visitor.get("/api/assessment/resume").json()["assessment"]
    assert (again["currentStep"], again["resumeUrl"]) == (3, "/assessment/step/4")
    assert (resumed["currentStep"], resumed["resumeUrl"]) == (3, "/assessment/step/4")


def test_start_sets_the_session_cookie_and_answers_as_the_seed(visitor, settings):
    settings.SCORECARD_COOKIE_SECURE = True  # behind https (over http: test_scorecard_cookie.py)
    response = start(visitor, email="ceo@company.com", company="Acme Corp")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "sessionId",
        "assessmentId",
        "currentStep",
        "totalSteps",
        "expiresAt",
        "resumeUrl",
    }
    assert body["sessionId"].startswith("sess_") and body["assessmentId"].startswith("assess_")
    assert (body["currentStep"], body["totalSteps"], body["resumeUrl"]) == (
        0,
        4,
        "/assessment/step/1",
    )
    cookie = response.cookies["assessment-session"]
    assert cookie.value == body["sessionId"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["secure"]
    assert int(cookie["max-age"]) == 24 * 3600
    # A double click resumes the same assessment.
    assert start(visitor).json()["assessmentId"] == body["assessmentId"]
    assert response["X-RateLimit-Limit"] == "10" and response["X-RateLimit-Remaining"] == "9"


def test_save_progress_validates_and_never_loses_an_answer(visitor, scorecard):
    start(visitor)
    first = qids(scorecard)[0]
    partial = visitor.post(
        "/api/assessment/save-progress",
        {"step": 0, "responses": {first[0]: "A"}, "timeSpent": 12},
        content_type=JSON,
    ).json()
    assert partial["saved"] and not partial["canProceed"]
    assert partial["validationErrors"] and first[1] in partial["validationErrors"][0]
    bad = visitor.post(
        "/api/assessment/save-progress",
        {"step": 0, "responses": {first[1]: "X"}},
        content_type=JSON,
    )
    assert bad.status_code == 422
    err = bad.json()["error"]
    assert err["code"] == "VALIDATION_ERROR"
    assert err["details"] == {
        "field": f"responses.{first[1]}",
        "reason": "Answer choice 'X' is not valid",
        "validChoices": ["A", "B", "C", "D", "E"],
    }
    assert err["requestId"] == bad["X-Request-ID"]
    done = visitor.post(
        "/api/assessment/save-progress",
        {"step": 0, "responses": dict.fromkeys(first[1:], "B")},
        content_type=JSON,
    ).json()
    assert done["canProceed"] and done["nextStep"] == 1
    assert done["progress"] == {"completed": 1, "total": 4, "percentage": 25}
    assert Visit.objects.get().responses[first[0]] == "A"
    wrong_step = visitor.post(
        "/api/assessment/save-progress", {"step": 7, "responses": {}}, content_type=JSON
    )
    # The schema's range (0..3), so the seed's VALIDATION_ERROR status.
    assert wrong_step.status_code == 422


def test_without_a_session_saving_is_session_expired(scorecard):
    response = Client().post(
        "/api/assessment/save-progress", {"step": 0, "responses": {}}, content_type=JSON
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "SESSION_EXPIRED"


def test_submit_scores_once_and_reports_the_lead_truthfully(visitor, scorecard, settings):
    settings.HUBSPOT_ACCESS_TOKEN = ""
    start(visitor, email="ceo@company.com", company="Acme Corp")
    early = visitor.post("/api/assessment/submit", {"completionTime": 5}, content_type=JSON)
    assert early.status_code == 400
    assert early.json()["error"]["code"] == "ASSESSMENT_INCOMPLETE"
    answer_all(visitor, scorecard, "E")
    body = {
        "completionTime": 480,
        "contactInfo": {"firstName": "John", "lastName": "Doe", "phone": "+1-555-123-4567"},
    }
    response = visitor.post("/api/assessment/submit", body, content_type=JSON)
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["totalScore"] == 100 and result["scoreCategory"] == "champion"
    assert result["scoreBreakdown"] == {
        "valueAssurance": 100,
        "customerSafe": 100,
        "riskCompliance": 100,
        "governance": 100,
    }
    assert result["hubspotSyncStatus"] == "skipped", "no HubSpot token configured"
    assert result["emailDeliveryStatus"] == "pending"
    assert result["resultsUrl"] == f"/assessment/results/{result['assessmentId']}"
    again = visitor.post("/api/assessment/submit", body, content_type=JSON).json()
    assert again["assessmentId"] == result["assessmentId"]
    assert Visit.objects.filter(completed_at__isnull=False).count() == 1


def test_results_are_the_owners_only(visitor, scorecard):
    start(visitor)
    answer_all(visitor, scorecard, "A")
    submitted = visitor.post(
        "/api/assessment/submit", {"completionTime": 60}, content_type=JSON
    ).json()
    url = f"/api/assessment/results/{submitted['assessmentId']}"
    mine = visitor.get(url)
    assert mine.status_code == 200
    data = mine.json()
    assert data["totalScore"] == 0 and data["scoreCategory"] == "crisis"
    section = data["scoreBreakdown"]["customerSafe"]
    assert section["weight"] == 0.35 and section["questions"][0]["answer"] == "A"
    assert section["questions"][0]["points"] == 0 and section["questions"][0]["maxPoints"] > 0
    assert data["recommendations"][0]["priority"] == "high"
    assert {"estimatedImpact", "timeToImplement"} <= set(data["recommendations"][0])
    assert data["benchmarks"] == {"similarCompanies": 1}, "too few to show an average"
    assert data["nextSteps"]["resources"]

    stranger = Client()
    start(stranger)
    assert stranger.get(url).status_code == 403
    assert Client().get(url).status_code == 401
    assert visitor.get("/api/assessment/results/assess_nope").status_code == 404


def test_resume_gives_back_the_saved_answers(visitor, scorecard):
    assert Client().get("/api/assessment/resume").json() == {"hasActiveAssessment": False}
    start(visitor, email="ceo@company.com")
    ids = qids(scorecard)
    visitor.post(
        "/api/assessment/save-progress",
        {"step": 0, "responses": dict.fromkeys(ids[0], "C")},
        content_type=JSON,
    )
    state = visitor.get("/api/assessment/resume").json()
    assert state["hasActiveAssessment"]
    assessment = state["assessment"]
    assert assessment["currentStep"] == 1 and assessment["resumeUrl"] == "/assessment/step/2"
    assert assessment["responses"] == dict.fromkeys(ids[0], "C")
    assert assessment["email"] == "ceo@company.com"
    assert 0 < assessment["timeRemaining"] <= 24 * 3600


def test_the_start_limit_is_ten_an_hour_per_ip(scorecard):
    for n in range(10):
        assert start(Client(REMOTE_ADDR="198.51.100.9")).status_code == 200, n
    refused = start(Client(REMOTE_ADDR="198.51.100.9"))
    assert refused.status_code == 429
    err = refused.json()["error"]
    assert err["code"] == "RATE_LIMIT_EXCEEDED" and 0 < err["retryAfter"] <= 3600
    assert refused["Retry-After"] == str(err["retryAfter"])
    assert refused["X-RateLimit-Remaining"] == "0"
    assert start(Client(REMOTE_ADDR="198.51.100.10")).status_code == 200


def test_health_reports_real_checks_and_figures(client, scorecard):
    client.get("/api/assessment/resume")
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in {"healthy", "degraded"}
    assert body["services"]["database"] == "up"
    assert body["services"]["hubspot"] in {"up", "down", "rate_limited"}
    assert body["performance"]["requestsPerMinute"] > 0
    assert set(body["performance"]) == {"avgResponseTime", "requestsPerMinute", "errorRate"}


def test_development_endpoints_are_absent_unless_debug(client, scorecard):
    # The suite's URL map is production's: the API was built with DEBUG off.
    missing = client.get("/api/test/sample-assessment")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.urls("tests.development_urls")
def test_development_endpoints_answer_under_debug(client, scorecard):
    sample = client.get("/api/test/sample-assessment")
    assert sample.status_code == 200 and 0 <= sample.json()["totalScore"] <= 100


def test_security_headers_on_the_api(client, scorecard):
    response = client.get("/api/assessment/resume")
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_a_session_lasts_24_hours_and_activity_extends_it(visitor):
    from datetime import timedelta

    from django.utils import timezone

    from portal.scorecards.models import VisitorSession

    start(visitor)
    session = VisitorSession.objects.get()
    VisitorSession.objects.filter(pk=session.pk).update(
        expires_at=timezone.now() + timedelta(minutes=5)
    )
    assert visitor.get("/api/assessment/resume").json()["hasActiveAssessment"]
    session.refresh_from_db()
    assert session.expires_at > timezone.now() + timedelta(hours=23, minutes=59)
    VisitorSession.objects.filter(pk=session.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = visitor.get("/api/assessment/resume")
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "SESSION_EXPIRED"


def test_without_scorecard_content_start_is_service_unavailable(client, db):
    response = start(client)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


def failing_on_visits(error: Exception):
    """While in use, every statement on the visits table raises `error`."""

    def fail(execute, sql, params, many, context):
        if "scorecards_visit" in sql:
            raise error
        return execute(sql, params, many, context)

    return connection.execute_wrapper(fail)


def test_a_database_failure_is_the_seeds_database_error(visitor, scorecard):
    start(visitor)
    with failing_on_visits(OperationalError("database is locked")):
        response = visitor.post(
            "/api/assessment/save-progress", {"step": 0, "responses": {}}, content_type=JSON
        )
    assert response.status_code == 500
    body = response.json()["error"]
    assert body["code"] == "DATABASE_ERROR" and body["retryAfter"] == 5
    assert body["requestId"] == response["X-Request-ID"]


def test_the_results_email_is_queued_with_text_and_html(visitor, scorecard):
    import json as jsonlib

    from integrations.models import Delivery

    start(visitor, email="ceo@company.com", company="Acme Corp")
    answer_all(visitor, scorecard, "C")
    visitor.post("/api/assessment/submit", {"completionTime": 300}, content_type=JSON)
    mail = jsonlib.loads(Delivery.objects.get(transport="email").payload)
    assert mail["to"] == ["ceo@company.com"]
    assert "- Customer-Safe AI: " in mail["text"] and "Risk &amp; Compliance" in mail["html"]
    assert "/assessment/shared/" in mail["text"] and "<table" in mail["html"]


@pytest.mark.urls("tests.development_urls")
def test_a_failed_hubspot_sync_is_a_200_with_the_seeds_warning(visitor, scorecard, settings):
    settings.HUBSPOT_ACCESS_TOKEN = "pat-test"
    start(visitor, email="ceo@company.com", company="Acme Corp")
    answer_all(visitor, scorecard, "B")
    first = visitor.post("/api/assessment/submit", {"completionTime": 90}, content_type=JSON)
    assert first.json()["hubspotSyncStatus"] == "pending" and "warnings" not in first.json()
    # An unsafe call sends JSON (portal.scorecards.origin), even with nothing to say.
    simulated = visitor.post("/api/test/simulate-hubspot-failure", content_type=JSON)
    assert simulated.json()["simulated"]
    again = visitor.post("/api/assessment/submit", {"completionTime": 90}, content_type=JSON)
    assert again.status_code == 200
    assert again.json()["hubspotSyncStatus"] == "failed"
    assert again.json()["warnings"][0]["code"] == "HUBSPOT_SYNC_FAILED"


def test_health_is_degraded_not_down_when_only_the_queue_is_down(client, scorecard, monkeypatch):
    from huey.contrib.djhuey import HUEY
    from huey.storage import RedisStorage

    monkeypatch.setattr(HUEY, "storage", RedisStorage("down", url="redis://127.0.0.1:1/0"))
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert "down" in {body["services"].get("queue"), body["services"].get("redis")}


def test_health_is_503_unhealthy_when_the_database_is_down(client, scorecard, monkeypatch):
    from portal import health

    monkeypatch.setattr(health, "connection", broken_database())
    response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert response.json()["services"]["database"] == "down"


def test_an_address_that_is_not_one_email_is_a_422_not_a_500(visitor, scorecard):
    for bad in ("ceo-at-company.com", "a@b.c, x@victim.test", "a@b.com\r\nBcc: x@y.z"):
        response = start(visitor, email=bad)
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_activity_sends_the_cookie_again_so_the_browser_keeps_it(visitor, scorecard):
    start(visitor)
    response = visitor.get("/api/assessment/resume")
    assert int(response.cookies["assessment-session"]["max-age"]) == 24 * 3600


def test_made_up_session_cookies_are_counted_per_ip(scorecard):
    for n in range(3):
        anonymous = Client(REMOTE_ADDR="192.0.2.44")
        anonymous.cookies["assessment-session"] = f"sess_made_up_{n}"
        response = anonymous.post(
            "/api/assessment/save-progress", {"step": 0, "responses": {}}, content_type=JSON
        )
        assert response.status_code == 401
        assert response["X-RateLimit-Remaining"] == str(100 - n - 1)


def test_save_progress_leaves_out_validation_errors_when_there_are_none(visitor, scorecard):
    start(visitor)
    ids = qids(scorecard)[0]
    body = visitor.post(
        "/api/assessment/save-progress",
        {"step": 0, "responses": dict.fromkeys(ids, "A")},
        content_type=JSON,
    ).json()
    assert "validationErrors" not in body and body["nextStep"] == 1


def test_an_unexpected_failure_still_answers_the_seeds_envelope(visitor, scorecard):
    start(visitor)
    with failing_on_visits(RuntimeError("boom")):
        response = visitor.get("/api/assessment/resume")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    assert "boom" not in response.text


def test_health_answers_head_with_its_status_and_no_body(client, scorecard):
    """Uptime monitors and link checkers ask with HEAD; the OpenAPI document keeps GET only."""
    from api.main import api

    response = client.head("/api/health")
    assert response.status_code == 200 and response.content == b""
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "X-RateLimit-Limit" in response
    assert set(api.get_openapi_schema()["paths"]["/api/health"]) == {"get"}
    refused = client.post("/api/health", {}, content_type=JSON)
    assert refused.status_code == 405
