"""Portal-wide middleware: a request id on every request, the seed's security headers on every
response, and the rate-limit headers of a view that counted its requests (portal.ratelimit)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from portal import ratelimit
from portal.request_id import HEADER, current_request_id, request_id_for

GetResponse = Callable[[HttpRequest], HttpResponseBase]


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that every log record made while serving, including Django's own
    "Not Found" and "Internal Server Error" records, carries the id."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.request_id = request_id_for(request)
        token = current_request_id.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response.headers.setdefault(HEADER, request.request_id)
        return response


class SecurityHeadersMiddleware:
    """The seed's headers that Django does not set itself (X-XSS-Protection). Placed above
    WhiteNoise so static files get them too; Django's SecurityMiddleware, XFrameOptionsMiddleware
    and ContentSecurityPolicyMiddleware (also above WhiteNoise) set the others."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        for header, value in settings.SECURITY_EXTRA_HEADERS.items():
            response.headers.setdefault(header, value)
        return response


class RateLimitHeadersMiddleware:
    """X-RateLimit-* headers for a view that counted its request with portal.ratelimit: a Ninja
    endpoint returns data, not a response, so the headers are added here on the way out."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        ratelimit.apply_headers(request, response)
        return response
