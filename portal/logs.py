"""What the portal writes to its logs: one line per request.

Every line carries the request id (portal.request_id): the served request's, or in a Huey task
the id of the request that enqueued it (portal.queue). `LOG_FORMAT=json` writes one JSON object
per line (portal.logformat; docs/operations.md, "Logs").
"""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from portal import prometheus

request_logger = logging.getLogger("portal.request")


def route_of(request: HttpRequest) -> str:
    """The URL pattern that served the request ("api/launch/<launch_id>/answer/"), never the
    path: paths hold launch ids and tokens a log reader must not get. "-" when none matched."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "static" if request.path.startswith("/static/") else "-"
    return match.route or match.view_name or "-"


class RequestLogMiddleware:
    """One INFO line per request: method, route, status and duration (the request id is on every
    record already). Placed right after RequestIdMiddleware, so it times everything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = route_of(request)
        if settings.METRICS_ENABLED:
            prometheus.observe(
                route=route,
                method=request.method or "",
                status=response.status_code,
                seconds=seconds,
            )
        if request_logger.isEnabledFor(logging.INFO):
            duration_ms = round(seconds * 1000, 1)
            request_logger.info(
                "%s %s %s %.1fms",
                request.method,
                route,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
        return response
