"""The one NinjaAPI, its routers and the error handlers that speak each contract's format
(portal.errors). The development router (/api/test/*) is mounted only when DEBUG is on."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api import exams, roleplays, scorecards
from portal import errors
from portal.exams.services import ExamError
from portal.roleplays.launch import LaunchError
from portal.scorecards.services import ScorecardError

DESCRIPTION = (
    "Partner API of the assessment portal. **Exams (seed 001)**: authenticate with "
    "`X-Client-Token: <uuid>` or `Authorization: Token <uuid>`; errors are "
    '`{"error": "...", "code": "..."}`; messages are Persian unless you send '
    "`Accept-Language: en`. After an exam the browser returns to your `callback_url` with "
    "`student_uuid, mobile, eurl, quiz_id, percentage, total_score, is_accept, state, "
    "launch_id` and `signature` = hex HMAC-SHA256, keyed with your signing secret, of "
    "those nine parameters sorted by name and joined as `name=value` with `&` "
    "(values URL-decoded). **Roleplay clusters (seed 000)**: authenticated by the HS256 "
    "JWT in the body; errors are "
    '`{"success": false, "error_code": "...", "detail": "..."}`. **AI Reality Check '
    "(seed 002)**: anonymous, by the HttpOnly `assessment-session` cookie; errors are "
    '`{"error": {"code", "message", "details", "timestamp", "requestId", "retryAfter"}}`. '
    "Each contract's format also answers a wrong method (405), an unknown path (404), a "
    "body over 2.5 MB (413) and a failure on our side (500/503). Text fields hold no "
    "control characters (the `pattern` of each string); integers are JSON integers."
)


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    """(field, reason) of each of Ninja's validation errors, the field as a dotted path
    without Ninja's own `body`/`payload` levels."""
    problems = []
    for error in exc.errors:
        location = [str(p) for p in error.get("loc", ()) if p not in ("body", "payload")]
        reason = str(error.get("msg", "")).removeprefix("Value error, ")
        problems.append((".".join(location) or "body", reason))
    return problems


# One handler per exception type: each domain error belongs to one contract and is answered
# in that router's envelope. The errors of no router (validation, authentication, 404, 405,
# 413, 500) find their contract by path (portal.errors).


def exam_error(request: HttpRequest, exc: ExamError) -> HttpResponse:
    return exams.CONTRACT.error(request, status=exc.status, code=exc.code, message=exc.message)


def launch_error(request: HttpRequest, exc: LaunchError) -> HttpResponse:
    return roleplays.CONTRACT.error(request, status=exc.status, code=exc.code, message=exc.detail)


def scorecard_error(request: HttpRequest, exc: ScorecardError) -> HttpResponse:
    return scorecards.CONTRACT.error(
        request, status=exc.status, code=exc.code, message=exc.message, details=exc.details
    )


def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Exam 400 invalid_request, roleplay 422 INVALID_REQUEST, scorecard 422 VALIDATION_ERROR:
    the same answer as BadInputMiddleware's for a control character in a path or form."""
    return errors.bad_input(request, _problems(exc))


def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return errors.unauthorized(request)


def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return errors.not_found(request)


def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # BadInputMiddleware reads the body first and answers this itself; kept for a body read
    # only here (one that arrived without a length).
    return errors.too_large(request)


def unexpected_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A failure on our side, in the contract's format (never Django's HTML 500 page): the
    database (exam and roleplay 503, the scorecard's 500 DATABASE_ERROR, all retryable) or
    anything else (500). Logged with its traceback."""
    return errors.server_error(request, exc, log=True)


def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja raises HttpError(400) for a body that is not JSON: the same answer as for any
    # other invalid request.
    if exc.status_code == 400:
        return errors.bad_input(request, [("body", str(exc.message))])
    code = {405: "METHOD_NOT_ALLOWED", 429: "RATE_LIMIT_EXCEEDED"}.get(
        exc.status_code, f"HTTP_{exc.status_code}"
    )
    return errors.api_error(request, status=exc.status_code, code=code, message=str(exc.message))


# Ninja looks a handler up by the exception's class hierarchy: the order here is free.
HANDLERS: dict[type[Exception], Callable[[HttpRequest, Any], HttpResponse]] = {
    ExamError: exam_error,
    LaunchError: launch_error,
    ScorecardError: scorecard_error,
    ValidationError: validation_error,
    AuthenticationError: authentication_error,
    Http404: not_found,
    RequestDataTooBig: too_large,
    Exception: unexpected_error,
    HttpError: http_error,
}


def build_api(*, development: bool = False) -> NinjaAPI:
    """The API: a router per contract, and `development`'s /api/test/* for UI work (never in
    production, so never in its OpenAPI document either)."""
    api = NinjaAPI(
        title="Assessment Portal API",
        version="1.0",
        description=DESCRIPTION,
        urls_namespace="api",
    )
    api.add_router("/", exams.router)
    api.add_router("/", roleplays.router)
    api.add_router("/", scorecards.router)
    if development:
        api.add_router("/", scorecards.test_router)
    for exception, handler in HANDLERS.items():
        api.add_exception_handler(exception, handler)
    return api


api = build_api(development=settings.DEBUG)
