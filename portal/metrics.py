"""Rolling request figures for /api/health: per-minute buckets in the shared counters
(portal.ratelimit: Redis, or the database's portal_counter), so every web worker adds to (and
reads) the same numbers.

A request only adds to this process's tally, in memory; the tally goes to the shared counters
at most every FLUSH_SECONDS (one statement or one Redis round trip for all its buckets), and
before this process reads the figures. So the figures of other workers lag by at most
FLUSH_SECONDS, and a worker that stops loses at most that much of its tally.
"""

import logging
import threading
import time
from collections.abc import Callable
from contextlib import suppress

from django.http import HttpRequest, HttpResponseBase

from portal import ratelimit

logger = logging.getLogger(__name__)

BUCKET_SECONDS = 60
KEEP_BUCKETS = 6
WINDOW_MINUTES = 5  # the figures cover the last five complete-or-current minutes
FLUSH_SECONDS = 5.0

_lock = threading.Lock()
_tally: dict[tuple[str, int], int] = {}  # (counter key, bucket) → amount not flushed yet
_flushed_at = float("-inf")  # time.monotonic() of the last flush


def _key(bucket: int, name: str) -> str:
    return f"metrics:{bucket}:{name}"


def record(duration_ms: float, *, error: bool, now: float | None = None) -> None:
    """Add one request to this process's tally; flush it when FLUSH_SECONDS have passed."""
    bucket = int((now or time.time()) // BUCKET_SECONDS)
    with _lock:
        for name, amount in (("count", 1), ("ms", round(duration_ms)), ("errors", int(error))):
            if amount:
                key = (_key(bucket, name), bucket)
                _tally[key] = _tally.get(key, 0) + amount
        due = time.monotonic() - _flushed_at >= FLUSH_SECONDS
    if due:
        flush()


def flush() -> None:
    """Add this process's tally to the shared counters. On a failure it is dropped and logged:
    figures must never break a request."""
    global _flushed_at
    with _lock:
        items = [
            (key, amount, (bucket + KEEP_BUCKETS) * BUCKET_SECONDS)
            for (key, bucket), amount in _tally.items()
        ]
        _tally.clear()
        _flushed_at = time.monotonic()
    try:
        ratelimit.incr_many(items, now=time.time())
    except Exception:
        logger.warning("request figures not counted: the counter store is unavailable")


def figures(now: float | None = None) -> dict[str, float]:
    """avgResponseTime (ms), requestsPerMinute and errorRate (%) over the last minutes."""
    flush()
    current = int((now or time.time()) // BUCKET_SECONDS)
    keys = [
        _key(bucket, name)
        for bucket in range(current - WINDOW_MINUTES + 1, current + 1)
        for name in ("count", "ms", "errors")
    ]
    try:
        values = ratelimit.counts(keys)
    except Exception:
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
        # Figures must never break a request (e.g. the counter store being down).
        with suppress(Exception):
            record((time.perf_counter() - started) * 1000, error=response.status_code >= 500)
        return response
