"""/metrics: off by default, guarded, and its figures follow the work the portal did."""

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from integrations.models import Delivery
from portal import health

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = ""
    return settings


def test_metrics_are_off_unless_enabled(client, settings):
    settings.METRICS_ENABLED = False
    assert client.get("/metrics").status_code == 404


def test_without_a_token_only_loopback_may_scrape(client, metrics_on):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 403


def test_with_a_token_a_scrape_must_send_it(client, metrics_on):
    metrics_on.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    ok = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", REMOTE_ADDR="203.0.113.7"
    )
    assert ok.status_code == 200


def test_requests_are_counted_by_route_method_and_status(client, metrics_on):
    key = ("portal_requests_total", (("method", "GET"), ("route", "healthz"), ("status", "200")))
    before = scrape(client).get(key, 0)
    for _ in range(3):
        client.get("/healthz")
    client.post("/healthz")
    after = scrape(client)
    assert after[key] == before + 3
    refused = (
        "portal_requests_total",
        (("method", "POST"), ("route", "healthz"), ("status", "405")),
    )
    assert after[refused] >= 1
    count = ("portal_request_duration_seconds_count", (("method", "GET"), ("route", "healthz")))
    assert after[count] >= 3


def test_state_gauges_follow_the_database_and_the_consumer(client, metrics_on, exam, token):
    launched = client.post(
        "/api/integration/exams/launch/",
        {"student_uuid": "s-1", "eurl": exam.pk, "callback_url": "https://client.example.com/cb"},
        content_type="application/json",
        HTTP_X_CLIENT_TOKEN=token,
    )
    assert launched.status_code == 201
    an_hour_ago = timezone.now() - timezone.timedelta(hours=1)
    Delivery.objects.create(
        kind="results_submission",
        target_url="https://partner.example.com/hook",
        payload="{}",
        created_at=an_hour_ago,
        next_attempt_at=an_hour_ago,
    )
    Delivery.objects.create(
        kind="results_submission",
        target_url="https://partner.example.com/hook",
        payload="{}",
        status=Delivery.Status.DELIVERED,
        next_attempt_at=None,
    )
    health.beat()
    figures = scrape(client)
    pending = ("portal_deliveries", (("kind", "results_submission"), ("status", "pending")))
    delivered = ("portal_deliveries", (("kind", "results_submission"), ("status", "delivered")))
    assert figures[pending] == 1
    assert figures[delivered] == 1
    assert 3500 < figures[("portal_oldest_pending_delivery_seconds", ())] < 3700
    assert 3500 < figures[("portal_oldest_due_delivery_seconds", ())] < 3700
    assert figures[("portal_quizzes_in_progress", ())] == 1
    assert figures[("portal_consumer_heartbeat_age_seconds", ())] < 60
    assert figures[("portal_queue_depth", ())] >= 0
