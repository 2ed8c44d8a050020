"""`/metrics` in Prometheus's text format, for operators (docs/operations.md, "Metrics").

Off unless METRICS_ENABLED. With METRICS_TOKEN set a scrape must send
`Authorization: Bearer <token>`; without one only a loopback address may scrape (a sidecar or a
local agent). Two kinds of figures:
- counted as requests are served: requests and their latency by route, method and status. Under
  gunicorn every worker writes its counts to PROMETHEUS_MULTIPROC_DIR (scripts/serve sets it) and
  a scrape, whichever worker answers it, adds up all of them;
- read at each scrape from the database and the queue: deliveries by state and kind, the age of
  the oldest pending delivery, the queue's depth, quizzes in progress, the consumer's heartbeat.
"""

import hmac
import ipaddress
import os
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from integrations.models import Delivery
from portal import health
from portal.exams.models import Quiz

# Counted per process; in multiprocess mode the values live in files, not in this registry.
REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "portal_requests",
    "HTTP requests served, by route pattern, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "portal_request_duration_seconds",
    "Time to serve a request, by route pattern and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)


def observe(*, route: str, method: str, status: int, seconds: float) -> None:
    """Count one served request (portal.logs.RequestLogMiddleware calls this when enabled)."""
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route, method).observe(seconds)


class StateCollector(Collector):
    """Gauges read at scrape time, so that every scrape (from any worker) sees the same state."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        deliveries = GaugeMetricFamily(
            "portal_deliveries",
            "Deliveries in the outbox, by status and kind.",
            labels=["status", "kind"],
        )
        rows = Delivery.objects.values("status", "kind").annotate(n=Count("id")).order_by()
        for row in rows:
            deliveries.add_metric([row["status"], row["kind"]], row["n"])
        yield deliveries

        oldest = Delivery.objects.filter(status=Delivery.Status.PENDING).aggregate(
            at=Min("created_at")
        )["at"]
        age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "portal_oldest_pending_delivery_seconds",
            "Age of the oldest delivery not yet delivered nor dead (0 when none).",
            value=max(0.0, age),
        )
        due = Delivery.objects.filter(
            status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        ).aggregate(at=Min("next_attempt_at"))["at"]
        yield GaugeMetricFamily(
            "portal_oldest_due_delivery_seconds",
            "How long the most overdue delivery has waited for its attempt (0 when none is due):"
            " above a minute or two, the consumers are down or can't keep up.",
            value=max(0.0, (timezone.now() - due).total_seconds()) if due else 0.0,
        )
        yield GaugeMetricFamily(
            "portal_quizzes_in_progress",
            "Exam quizzes started and not finished.",
            value=Quiz.objects.filter(state=Quiz.State.STARTED).count(),
        )

        from huey.contrib.djhuey import HUEY

        try:
            depth, scheduled = HUEY.storage.queue_size(), HUEY.storage.schedule_size()
        except Exception:
            depth = scheduled = float("nan")
        yield GaugeMetricFamily(
            "portal_queue_depth", "Tasks waiting in the Huey queue.", value=depth
        )
        yield GaugeMetricFamily(
            "portal_queue_scheduled", "Tasks scheduled for later (retries).", value=scheduled
        )
        heartbeat = health.heartbeat_age()
        yield GaugeMetricFamily(
            "portal_consumer_heartbeat_age_seconds",
            "Seconds since a consumer last reported alive (NaN when none ever did).",
            value=float("nan") if heartbeat is None else heartbeat,
        )


def scrape() -> bytes:
    """The exposition text: the request counts of every worker, then the state gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(StateCollector())
    return generate_latest(registry)


class _Forward(Collector):
    """The process's own registry, inside the scrape's registry (single-process servers)."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        return self.source.collect()


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: 404 unless METRICS_ENABLED; 403 without the token (or off loopback)."""
    if not settings.METRICS_ENABLED:
        return HttpResponseNotFound("Not found", content_type="text/plain")
    if not _allowed(request):
        return HttpResponseForbidden("Forbidden", content_type="text/plain")
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
