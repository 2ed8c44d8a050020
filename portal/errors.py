"""Every error the portal answers by itself, in the format of the contract its path belongs to.

The exam API (seed 001) answers `{"error", "code"}` (Persian unless `Accept-Language: en`), the
roleplay launch (seed 000) `{"success": false, "error_code", "detail"}`, the scorecard API (seed
002) its `{"error": {code, message, ...}}` envelope and any other `/api/` path Django Ninja's
`{"detail": ...}`; the roleplay start URL (a browser's door) and the pages answer an HTML page.
The API's exception handlers (api/main.py), BadInputMiddleware (portal/middleware.py) and
Django's handler400/404/500 (portal/urls.py) all answer through here. docs/security.md.
"""

import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import defaults

from portal import ratelimit

logger = logging.getLogger(__name__)

EXAMS = "exams"
ROLEPLAYS = "roleplays"
ROLEPLAY_START = "roleplay-start"
SCORECARD = "scorecard"
OTHER_API = "api"

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
RETRY_AFTER_SECONDS = 5


def exam_language(request: HttpRequest) -> str:
    """Persian, the exam contract's language, unless the caller prefers English."""
    accept = request.headers.get("Accept-Language", "").strip().lower()
    return "en" if accept.startswith("en") else "fa"


def _english(request: HttpRequest) -> str:
    return "en"


def _json(body: dict[str, Any], status: int) -> HttpResponse:
    return JsonResponse(
        body,
        status=status,
        content_type=JSON_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False, "default": str},
    )


def _exam_envelope(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    details: Any,
    retry_after: int | None,
) -> HttpResponse:
    body: dict[str, Any] = {"error": message, "code": code.lower()}
    if details is not None:
        body["details"] = details
    return _json(body, status)


def _roleplay_envelope(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    details: Any,
    retry_after: int | None,
) -> HttpResponse:
    return _json({"success": False, "error_code": code, "detail": message}, status)


def _scorecard_envelope(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    details: Any,
    retry_after: int | None,
) -> HttpResponse:
    # The seed's envelope carries retryAfter in its body as well as in the header.
    return ratelimit.error_response(
        request,
        status=status,
        code=code,
        message=message,
        details=details,
        retry_after=retry_after,
    )


def _ninja_envelope(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    details: Any,
    retry_after: int | None,
) -> HttpResponse:
    return _json({"detail": message}, status)


# (request, status, code, message, details, retry_after) → the response; Contract.error adds
# the Retry-After header.
Envelope = Callable[[HttpRequest, int, str, str, Any, int | None], HttpResponse]


@dataclass(frozen=True)
class Contract:
    """One wire contract an API router speaks: its name, the language of its error messages
    and its error envelope (the body of one error). Each api/ router names its own
    (api/exams.py, api/roleplays.py, api/scorecards.py); a path that no router answered (404,
    405, 413, 500) finds its contract by path (`contract_of`)."""

    name: str
    language: Callable[[HttpRequest], str]
    envelope: Envelope

    def error(
        self,
        request: HttpRequest,
        *,
        status: int,
        code: str,
        message: Any,
        details: Any = None,
        retry_after: int | None = None,
    ) -> HttpResponse:
        """One error in this contract's envelope. `code` is written as the roleplay and
        scorecard contracts write theirs (`INVALID_REQUEST`); the exam contract's are the same
        in lower case. A lazy `message` is translated into the contract's language."""
        with translation.override(self.language(request)):
            message = str(message)
        response = self.envelope(request, status, code, message, details, retry_after)
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
        return response


EXAM_CONTRACT = Contract(EXAMS, exam_language, _exam_envelope)
ROLEPLAY_CONTRACT = Contract(ROLEPLAYS, _english, _roleplay_envelope)
SCORECARD_CONTRACT = Contract(SCORECARD, _english, _scorecard_envelope)
OTHER_API_CONTRACT = Contract(OTHER_API, _english, _ninja_envelope)

# Which contract a path speaks: a path ending in "/" is a prefix; any other names itself and
# what lies below it. First match wins; paths outside /api/ are pages. The roleplay start URL
# (ROLEPLAY_START) is a browser's door: it answers pages, as the pages do.
_PATHS: tuple[tuple[str, Contract | str], ...] = (
    ("/api/integration/exams/", EXAM_CONTRACT),
    ("/api/launch/", EXAM_CONTRACT),
    ("/api/integration/assessment-launch", ROLEPLAY_CONTRACT),
    ("/api/integration/assessment-start", ROLEPLAY_START),
    ("/api/assessment/", SCORECARD_CONTRACT),
    ("/api/health", SCORECARD_CONTRACT),
    ("/api/test/", SCORECARD_CONTRACT),
    ("/api/", OTHER_API_CONTRACT),
)
# These answer people, not programs: an HTML page.
PAGE_CONTRACTS = frozenset({None, ROLEPLAY_START})


def _match(path: str) -> Contract | str | None:
    for prefix, contract in _PATHS:
        if prefix.endswith("/"):
            if path.startswith(prefix) or path == prefix[:-1]:
                return contract
        elif path == prefix or path.startswith(prefix + "/"):
            return contract
    return None


def contract_of(path: str) -> Contract | None:
    """The API contract whose error envelope `path` answers in; None for the pages (and the
    roleplay start URL, which answers pages)."""
    contract = _match(path)
    return contract if isinstance(contract, Contract) else None


def contract_for(path: str) -> str | None:
    """The name of the contract whose error format `path` answers in; None for the pages."""
    contract = _match(path)
    return contract.name if isinstance(contract, Contract) else contract


def language_of(request: HttpRequest) -> str:
    """The language of this request's error messages: the exam contract's, English for the
    other two contracts (their seeds are English), the visitor's own for a page."""
    contract = contract_of(request.path)
    if contract is None:
        return translation.get_language_from_request(request)
    return contract.language(request)


# --- JSON answers -----------------------------------------------------------------------------


def api_error(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: Any,
    details: Any = None,
    retry_after: int | None = None,
) -> HttpResponse:
    """One error in the envelope of the contract `request.path` speaks (Contract.error), a
    page for the pages."""
    contract = contract_of(request.path)
    if contract is None:
        with translation.override(language_of(request)):
            message = str(message)
        return error_page(request, status=status, message=message)
    return contract.error(
        request,
        status=status,
        code=code,
        message=message,
        details=details,
        retry_after=retry_after,
    )


def _joined(problems: list[tuple[str, str]]) -> str:
    return "; ".join(f"{field}: {reason}" for field, reason in problems)


def bad_input(request: HttpRequest, problems: Iterable[tuple[str, str]]) -> HttpResponse:
    """A request whose data is refused, each problem `(field, reason)`: exam 400
    `invalid_request`, roleplay 422 `INVALID_REQUEST`, scorecard 422 `VALIDATION_ERROR` with
    `details: [{field, reason}]`, a page 400 saying what was wrong."""
    problems = list(problems)
    contract = contract_for(request.path)
    if contract in PAGE_CONTRACTS:
        return error_page(request, status=400, message=_joined(problems))
    if contract == SCORECARD:
        details = [{"field": field, "reason": reason} for field, reason in problems]
        return api_error(
            request,
            status=422,
            code="VALIDATION_ERROR",
            message="Request data validation failed",
            details=details,
        )
    if contract == EXAMS:
        with translation.override(language_of(request)):
            message = _("Invalid request: %(errors)s") % {"errors": _joined(problems)}
        details = [{"loc": field.split("."), "msg": reason} for field, reason in problems]
        return api_error(
            request, status=400, code="INVALID_REQUEST", message=message, details=details
        )
    status = 422 if contract == ROLEPLAYS else 400
    message = f"Invalid request: {_joined(problems)}"
    return api_error(request, status=status, code="INVALID_REQUEST", message=message)


def too_large(request: HttpRequest) -> HttpResponse:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE (or with more fields than Django reads): 413."""
    with translation.override(language_of(request)):
        message = _("The request is too large: at most %(limit)s bytes of data are accepted.") % {
            "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        }
    details = {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    if contract_for(request.path) == SCORECARD:
        return api_error(
            request, status=413, code="PAYLOAD_TOO_LARGE", message=message, details=details
        )
    return api_error(request, status=413, code="REQUEST_TOO_LARGE", message=message)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A path that names nothing: JSON under /api/, templates/404.html for a page."""
    if contract_for(request.path) in PAGE_CONTRACTS:
        with translation.override(language_of(request)):
            return defaults.page_not_found(request, exception or Http404())
    return api_error(request, status=404, code="NOT_FOUND", message=_("Not found."))


def method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    """A method the path does not take; `allowed` is the Allow header's value."""
    if contract_for(request.path) == ROLEPLAY_START:
        # A browser that opens the start URL itself (a bookmark, a reload after the POST)
        # gets the page that asks to launch again from the partner's site.
        response = render(request, "roleplay/launch_error.html", {"reason": "get"}, status=405)
        add_never_cache_headers(response)
    else:
        with translation.override(language_of(request)):
            message = _("The method %(method)s is not allowed here; allowed: %(allowed)s.") % {
                "method": request.method,
                "allowed": allowed,
            }
        response = api_error(request, status=405, code="METHOD_NOT_ALLOWED", message=message)
    response["Allow"] = allowed
    return response


def server_error(request: HttpRequest, exc: BaseException | None, *, log: bool) -> HttpResponse:
    """An /api/ request that failed on our side: the database (exam and roleplay 503,
    retryable; the scorecard's own 500 DATABASE_ERROR) or anything else (500). `log` when
    Django has not logged the exception already. A page gets templates/500.html."""
    contract = contract_for(request.path)
    if contract in PAGE_CONTRACTS:
        if log:
            logger.error("unexpected error on %s", request.path, exc_info=exc)
        return defaults.server_error(request)
    if isinstance(exc, DatabaseError):
        if log:
            logger.error("database error on %s", request.path, exc_info=exc)
        if contract == SCORECARD:
            return api_error(
                request,
                status=500,
                code="DATABASE_ERROR",
                message="A database operation failed; please try again.",
                retry_after=RETRY_AFTER_SECONDS,
            )
        return api_error(
            request,
            status=503,
            code="SERVICE_UNAVAILABLE",
            message=_("The service is briefly unavailable; please try again."),
            retry_after=RETRY_AFTER_SECONDS,
        )
    if log:
        logger.error("unexpected error on %s", request.path, exc_info=exc)
    return api_error(
        request, status=500, code="INTERNAL_ERROR", message=_("Something went wrong on our side.")
    )


# --- HTML pages -------------------------------------------------------------------------------


def error_page(request: HttpRequest, *, status: int, message: str) -> HttpResponse:
    """The page of a refused form or request (templates/400.html), with a way back."""
    if contract_for(request.path) == ROLEPLAY_START:
        response = render(
            request, "roleplay/launch_error.html", {"reason": "invalid"}, status=status
        )
        add_never_cache_headers(response)
        return response
    back = request.headers.get("Referer", "")
    try:
        own = url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    except DisallowedHost:
        own = False
    with translation.override(language_of(request)):
        return render(
            request, "400.html", {"message": message, "back": back if own else ""}, status=status
        )


# --- Django's error handlers (portal/urls.py) -------------------------------------------------


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A request Django itself refused (SuspiciousOperation: a body too large, a bad Host...)."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(request)
    if contract_for(request.path) in PAGE_CONTRACTS:
        return defaults.bad_request(request, exception)
    # The reason may name our settings (ALLOWED_HOSTS): not for the client.
    return bad_input(request, [("request", "the request could not be read")])


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    return not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception (and has logged it), so it is still the
    # current one.
    return server_error(request, sys.exc_info()[1], log=False)
