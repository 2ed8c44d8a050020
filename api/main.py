"""The one NinjaAPI, its routers and the error handlers that speak each contract's format."""

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api import exams, roleplays, scorecards
from portal import ratelimit
from portal.exams.services import ExamError
from portal.roleplays.launch import LaunchError

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Assessment Portal API",
    version="1.0",
    description=(
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
        '`{"error": {"code", "message", "details", "timestamp", "requestId", "retryAfter"}}`.'
    ),
    urls_namespace="api",
)
api.add_router("/", exams.router)
api.add_router("/", roleplays.router)
api.add_router("/", scorecards.router)


def _field_errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors:
        location = [str(p) for p in error.get("loc", ()) if p not in ("body", "payload")]
        parts.append(f"{'.'.join(location) or 'body'}: {error.get('msg', '')}")
    return "; ".join(parts)


@api.exception_handler(ExamError)
def exam_error(request: HttpRequest, exc: ExamError) -> HttpResponse:
    return api.create_response(
        request, {"error": str(exc.message), "code": exc.code}, status=exc.status
    )


@api.exception_handler(LaunchError)
def launch_error(request: HttpRequest, exc: LaunchError) -> HttpResponse:
    return api.create_response(
        request, roleplays.error_body(exc.code, exc.detail), status=exc.status
    )


def scorecard_error(request: HttpRequest, status: int, message: str, details=None):
    """The seed-002 envelope, {"error": {code, message, details, timestamp, requestId}}."""
    return ratelimit.error_response(
        request, status=status, code="VALIDATION_ERROR", message=message, details=details
    )


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    if getattr(request, "contract", None) == scorecards.CONTRACT:
        details = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "payload")),
                "reason": e.get("msg", ""),
            }
            for e in exc.errors
        ]
        return scorecard_error(request, 422, "Request data validation failed", details)
    if getattr(request, "contract", None) == roleplays.CONTRACT:
        body = roleplays.error_body("INVALID_REQUEST", f"Invalid request: {_field_errors(exc)}")
        return api.create_response(request, body, status=422)
    if getattr(request, "contract", None) == exams.CONTRACT:
        message = _("Invalid request: %(errors)s") % {"errors": _field_errors(exc)}
        return api.create_response(
            request,
            {"error": message, "code": "invalid_request", "details": exc.errors},
            status=400,
        )
    return api.create_response(request, {"detail": exc.errors}, status=422)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    if getattr(request, "contract", None) == exams.CONTRACT:
        message = _("A valid client token is required in X-Client-Token or Authorization: Token.")
        return api.create_response(request, {"error": message, "code": "invalid_token"}, status=401)
    return api.create_response(request, {"detail": "Unauthorized"}, status=401)


@api.exception_handler(DatabaseError)
def database_error(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    """The scorecard contract names this failure (DATABASE_ERROR, 500, retryable); the other
    contracts keep Django's own 500 handling."""
    if getattr(request, "contract", None) != scorecards.CONTRACT:
        raise exc
    logger.exception("database error on %s", request.path)
    return ratelimit.error_response(
        request,
        status=500,
        code="DATABASE_ERROR",
        message="A database operation failed; please try again.",
        retry_after=5,
    )


@api.exception_handler(Exception)
def unexpected_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Seed 002 promises its envelope even for a server error; other contracts keep Django's
    own 500 handling (and its error report)."""
    if getattr(request, "contract", None) != scorecards.CONTRACT:
        raise exc
    logger.exception("unexpected error on %s", request.path)
    return ratelimit.error_response(
        request, status=500, code="INTERNAL_ERROR", message="Something went wrong on our side."
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja raises HttpError(400) for a body that is not JSON; the contract's customers expect
    # the same error format as for any other invalid request.
    if getattr(request, "contract", None) == exams.CONTRACT:
        if exc.status_code == 400:
            message = _("Invalid request: %(errors)s") % {"errors": exc.message}
            code = "invalid_request"
        else:
            message, code = exc.message, f"http_{exc.status_code}"
        return api.create_response(
            request, {"error": message, "code": code}, status=exc.status_code
        )
    if getattr(request, "contract", None) == scorecards.CONTRACT:
        return scorecard_error(request, exc.status_code, f"Invalid request data: {exc.message}")
    if getattr(request, "contract", None) == roleplays.CONTRACT:
        # The roleplay contract answers 422 INVALID_REQUEST to any request it cannot read.
        if exc.status_code == 400:
            body = roleplays.error_body("INVALID_REQUEST", f"Invalid request: {exc.message}")
            return api.create_response(request, body, status=422)
        body = roleplays.error_body(f"HTTP_{exc.status_code}", str(exc.message))
        return api.create_response(request, body, status=exc.status_code)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
