"""Rolling request figures for /api/health: per-minute buckets in the shared cache, so every
web worker adds to (and reads) the same numbers."""

import time
from collections.abc import Callable
from contextlib import suppress

from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase

BUCKET_SECONDS = 60
KEEP_BUCKETS = 6
WINDOW_MINUTES = 5  # the figures cover the last five complete-or-current minutes


def _bump(key: str, amount: int) -> None:
    cache.add(key, 0, timeout=BUCKET_SECONDS * KEEP_BUCKETS)
    try:
        cache.incr(key, amount)
    except ValueError:  # evicted between add and incr
        cache.set(key, amount, timeout=BUCKET_SECONDS * KEEP_BUCKETS)


def record(duration_ms: float, *, error: bool, now: float | None = None) -> None:
    bucket = int((now or time.time()) // BUCKET_SECONDS)
    _bump(f"metrics:{bucket}:count", 1)
    _bump(f"metrics:{bucket}:ms", round(duration_ms))
    if error:
        _bump(f"metrics:{bucket}:errors", 1)


def figures(now: float | None = None) -> dict[str, float]:
    """avgResponseTime (ms), requestsPerMinute and errorRate (%) over the last minutes."""
    current = int((now or time.time()) // BUCKET_SECONDS)
    keys = [
        f"metrics:{bucket}:{name}"
        for bucket in range(current - WINDOW_MINUTES + 1, current + 1)
        for name in ("count", "ms", "errors")
    ]
    try:
        values = cache.get_many(keys)
    except Exception:  # noqa: BLE001 - the health check reports the cache, it doesn't crash
        values = {}
    count = sum(v for k, v in values.items() if k.endswith(":count"))
    total_ms = sum(v for k, v in values.items() if k.endswith(":ms"))
    errors = sum(v for k, v in values.items() if k.endswith(":errors"))
    return {
        "avgResponseTime": round(total_ms / count) if count else 0,
        "requestsPerMinute": round(count / WINDOW_MINUTES, 1),
        "errorRate": round(errors / count * 100, 2) if count else 0.0,
    }


# The API whose figures /api/health reports (seed 002): its endpoints and the health check.
MEASURED_PREFIXES = ("/api/assessment/", "/api/health")


class MetricsMiddleware:
    """Times each request of the measured API and counts its server errors (5xx)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(MEASURED_PREFIXES):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        # Figures must never break a request (e.g. the cache being down).
        with suppress(Exception):
            record((time.perf_counter() - started) * 1000, error=response.status_code >= 500)
        return response
