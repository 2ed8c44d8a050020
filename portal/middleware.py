"""Portal-wide middleware: a request id on every request, the seed's security headers on every
response, bad input refused before anything reads it, and the rate-limit headers of a view that
counted its requests (portal.ratelimit), and the scorecard's session cookie sent again after
activity (portal.scorecards)."""

from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.http.multipartparser import MultiPartParserError

from portal import errors, ratelimit
from portal.http import PortalRequest
from portal.request_id import HEADER, current_request_id, request_id_for
from portal.scorecards.services import COOKIE as SCORECARD_COOKIE
from portal.scorecards.services import set_cookie as set_scorecard_cookie
from portal.text import (
    control_character_reason,
    forbidden_character,
    forbidden_header_character,
)

GetResponse = Callable[[HttpRequest], HttpResponseBase]


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that every log record made while serving, including Django's own
    "Not Found" and "Internal Server Error" records, carries the id."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: PortalRequest) -> HttpResponseBase:
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


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _named(kind: str, name: str) -> str:
    # A name that itself holds a control character is not echoed back.
    return f"{kind} {name}" if forbidden_character(name) is None else kind


def _refused_characters(request: HttpRequest) -> Iterator[tuple[str, str]]:
    """(field, reason) for each place of the request that holds a character it may not: the
    path, query string, cookies and headers are one line each; a form field may hold tabs and
    line breaks (a textarea), its name may not. JSON bodies are the API schemas' to check
    (api/fields.py), so that a field the schema ignores is not refused either."""

    def check(field: str, value: str, *, multiline: bool = False) -> Iterator[tuple[str, str]]:
        char = forbidden_character(value, multiline=multiline)
        if char is not None:
            yield field, control_character_reason(char)

    yield from check("path", request.path)
    for name, values in request.GET.lists():
        yield from check("query parameter name", name)
        for value in values:
            yield from check(_named("query parameter", name), value)
    for name, value in request.COOKIES.items():
        yield from check("cookie name", name)
        yield from check(_named("cookie", name), value)
    for key, value in request.META.items():
        if key.startswith("HTTP_") and key != "HTTP_COOKIE":
            char = forbidden_header_character(value)
            if char is not None:
                header = "header " + key[5:].replace("_", "-").title()
                yield header, control_character_reason(char)
    if request.method == "POST" and request.content_type in FORM_TYPES:
        for name, values in request.POST.lists():
            yield from check("form field name", name)
            for value in values:
                yield from check(_named("form field", name), value, multiline=True)


class BadInputMiddleware:
    """Refuses a request holding a control character (portal.text) or a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE before any view or database sees it, and answers an /api/
    path's 405 in its contract's format too (portal.errors: exam 400, roleplay and scorecard
    422, a page 400; 413 for the body). Placed before the session middleware, so that a bad
    cookie never reaches a session lookup."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            self._read_body(request)
            problems = list(_refused_characters(request))
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
            return errors.too_large(request)
        except MultiPartParserError:
            return errors.bad_input(request, [("body", "the form data could not be read")])
        if problems:
            return errors.bad_input(request, problems)
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed):
            return errors.method_not_allowed(request, response)
        return response

    @staticmethod
    def _read_body(request: HttpRequest) -> None:
        """Read a non-form body now, so that one over the limit is refused here, in the
        contract's format, rather than deep inside a view. A form body is read (with its own
        limits, uploaded files apart) when its fields are checked."""
        if request.content_type in FORM_TYPES:
            return
        if "HTTP_TRANSFER_ENCODING" in request.META or request.META.get("CONTENT_LENGTH"):
            request.body  # noqa: B018 - reading it is the check


class ScorecardCookieMiddleware:
    """Activity extends the scorecard session by 24 hours on the server
    (portal.scorecards.services); this sends the browser the cookie again so that its own
    expiry moves too."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        session_id = getattr(request, "scorecard_session_id", None)
        if session_id and SCORECARD_COOKIE not in response.cookies:
            set_scorecard_cookie(response, session_id)
        return response
