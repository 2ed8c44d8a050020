"""The webhook transport: a Standard Webhooks POST of a delivery's payload, and its reply judged.

Success: an HTTP 2xx reply and, when the delivery requires it (the seed-000 contracts do), a
JSON object body with `"success": true`. Anything else is a failure; redirects are not
followed (a 3xx is a failure), 410 Gone and a refused URL (see integrations.http) stop at once;
a 429 or 503 with Retry-After waits at least that long.

The target, the signing secrets and the allowed hosts are resolved at each attempt
(integrations.routes), so a partner's fixed URL or rotated secret applies to queued
deliveries, retries and replays; the result says where the attempt went.
"""

from dataclasses import replace
from functools import partial

import httpx
from django.conf import settings

from integrations import http, routes, signing
from integrations.models import Delivery
from integrations.transports.base import (
    EXCERPT_CHARS,
    AttemptResult,
    Outcome,
    Transport,
    retry_after_delay,
)
from portal.text import read_json

USER_AGENT = "AssessmentPortal-Webhooks/1.0 (+https://www.standardwebhooks.com)"


class WebhookTransport(Transport):
    """A Standard Webhooks POST of the payload to the delivery's target URL."""

    def send(self, delivery: Delivery) -> AttemptResult:
        return send(delivery)


def send(delivery: Delivery) -> AttemptResult:
    """POST the delivery's payload once, signed, and judge the reply."""
    route = routes.resolve(delivery)
    result = partial(AttemptResult, target_url=route.target_url)
    body = delivery.body
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signing.webhook_headers(
            webhook_id=str(delivery.webhook_id), body=body, secrets=route.secrets
        ),
    }
    try:
        response = http.post(
            route.target_url,
            content=body,
            headers=headers,
            allowed_hosts=route.allowed_hosts,
        )
    except http.UnsafeURL as error:
        if error.permanent:
            return result(Outcome.REFUSED, error=f"Refused: {error.message}")
        return result(Outcome.FAILED, error=error.message)
    except httpx.TimeoutException as error:
        return result(
            Outcome.FAILED,
            error=f"Timed out ({type(error).__name__}, {settings.HTTP_TIMEOUT_SECONDS:g} s)",
        )
    except httpx.HTTPError as error:
        return result(Outcome.FAILED, error=f"{type(error).__name__}: {error}")
    judged = judge(response, require_success_flag=delivery.require_success_flag)
    return replace(judged, target_url=route.target_url)


def judge(response: http.Response, *, require_success_flag: bool) -> AttemptResult:
    """Classify a reply: delivered, failed (retry) or refused (stop)."""
    code = response.status_code
    excerpt = response.body[:EXCERPT_CHARS].decode("utf-8", "replace")[:EXCERPT_CHARS]
    result = partial(AttemptResult, status_code=code, excerpt=excerpt)
    if 200 <= code < 300:
        if not require_success_flag or _success_flag(response.body):
            return result(Outcome.DELIVERED)
        return result(Outcome.FAILED, error=f'HTTP {code} without "success": true in a JSON body')
    if code == 410:
        return result(Outcome.REFUSED, error="HTTP 410 Gone: the receiver asked us to stop")
    if 300 <= code < 400:
        location = response.headers.get("location", "")
        return result(
            Outcome.FAILED,
            error=f"HTTP {code} redirect to {location!r}; redirects are not followed",
        )
    retry_after = None
    if code in (429, 503):
        retry_after = retry_after_delay(response.headers.get("retry-after"))
    return result(Outcome.FAILED, error=f"HTTP {code}", retry_after=retry_after)


def _success_flag(body: bytes) -> bool:
    try:
        reply = read_json(body)
    except ValueError:
        return False
    return isinstance(reply, dict) and reply.get("success") is True
