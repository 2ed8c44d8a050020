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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import defaults

from portal import ratelimit

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
RETRY_AFTER_SECONDS = 5


def exam_language(request: HttpRequest) -> str:
    """Persian, the exam contract's language, unless the caller prefers English."""
    accept = request.headers.get("Accept-Language", "").strip().lower()
    return "en" if accept.startswith("en") else "fa"


def _json(body: dict[str, Any], status: int) -> HttpResponse:
    return JsonResponse(
        body,
        status=status,
        content_type=JSON_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False, "default": str},
    )


def _joined(problems: list[tuple[str, str]]) -> str:
    return "; ".join(f"{field}: {reason}" for field, reason in problems)


Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class Failure:
    """One error as a contract's envelope writes it: the message already in its language."""

    status: int
    code: str
    message: str
    details: Any = None
    retry_after: int | None = None


class Contract:
    """How one family of paths answers its errors: an API contract's JSON envelope, or the
    pages' HTML. This base is Django Ninja's own `{"detail": ...}`, for an /api/ path of no
    contract; each contract is a subclass that overrides what its seed says differently, so a
    new contract is a new subclass and a line in `_PATHS`, and nothing else branches on it.

    Each api/ router names its own (api/exams.py, api/roleplays.py, api/scorecards.py) for its
    domain errors; an error of no router (bad input, 404, 405, 413, 500) finds its contract by
    path (`contract_of`). `code` is written as the roleplay and scorecard contracts write
    theirs (`INVALID_REQUEST`); the exam contract's are the same in lower case."""

    name = "api"

    def __repr__(self) -> str:
        return f"<Contract {self.name}>"

    def language(self, request: HttpRequest) -> str:
        """The language of this contract's error messages: English, as the seeds are."""
        return "en"

    def text(self, request: HttpRequest, message: Any, **params: Any) -> str:
        """`message` (lazy, with `%(name)s` params) in this contract's language."""
        with translation.override(self.language(request)):
            return str(message) % params if params else str(message)

    def envelope(self, request: HttpRequest, failure: Failure) -> HttpResponse:
        """The body of one error (Contract.error adds the Retry-After header)."""
        return _json({"detail": failure.message}, failure.status)

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
        """One error in this contract's envelope; a lazy `message` is translated into the
        contract's language."""
        failure = Failure(status, code, self.text(request, message), details, retry_after)
        response = self.envelope(request, failure)
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
        return response

    def bad_input(self, request: HttpRequest, problems: Problems) -> HttpResponse:
        """A request whose data is refused, each problem `(field, reason)`."""
        message = f"Invalid request: {_joined(problems)}"
        return self.error(request, status=400, code="INVALID_REQUEST", message=message)

    def bad_request(self, request: HttpRequest, exception: Exception) -> HttpResponse:
        """A request Django itself refused (a bad Host...). The reason may name our settings
        (ALLOWED_HOSTS): not for the client."""
        return self.bad_input(request, [("request", "the request could not be read")])

    def too_large(self, request: HttpRequest) -> HttpResponse:
        """A body over DATA_UPLOAD_MAX_MEMORY_SIZE (or with more fields than Django reads)."""
        message = self._too_large_message(request)
        return self.error(request, status=413, code="REQUEST_TOO_LARGE", message=message)

    def _too_large_message(self, request: HttpRequest) -> str:
        return self.text(
            request,
            _("The request is too large: at most %(limit)s bytes of data are accepted."),
            limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        )

    def unauthorized(self, request: HttpRequest) -> HttpResponse:
        """A request without the credentials an operation needs."""
        return self.error(request, status=401, code="UNAUTHORIZED", message="Unauthorized")

    def not_found(self, request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        """A path that names nothing."""
        return self.error(request, status=404, code="NOT_FOUND", message=_("Not found."))

    def method_not_allowed(
        self, request: HttpRequest, refused: HttpResponseNotAllowed
    ) -> HttpResponse:
        """A method the path does not take, in place of Django's bare 405 `refused`."""
        allowed = refused.get("Allow", "")
        message = self.text(
            request,
            _("The method %(method)s is not allowed here; allowed: %(allowed)s."),
            method=request.method,
            allowed=allowed,
        )
        response = self.error(request, status=405, code="METHOD_NOT_ALLOWED", message=message)
        response["Allow"] = allowed
        return response

    def failure(self, request: HttpRequest, exc: BaseException | None) -> HttpResponse:
        """A failure on our side: the database (retryable) or anything else."""
        if isinstance(exc, DatabaseError):
            return self.error(
                request,
                status=503,
                code="SERVICE_UNAVAILABLE",
                message=_("The service is briefly unavailable; please try again."),
                retry_after=RETRY_AFTER_SECONDS,
            )
        return self.error(
            request,
            status=500,
            code="INTERNAL_ERROR",
            message=_("Something went wrong on our side."),
        )


class ExamContract(Contract):
    """Seed 001: `{"error", "code"}`, codes in lower case, Persian unless the caller asks for
    English; bad input is a 400 that names each field (`details: [{loc, msg}]`)."""

    name = "exams"

    def language(self, request: HttpRequest) -> str:
        return exam_language(request)

    def envelope(self, request: HttpRequest, failure: Failure) -> HttpResponse:
        body: dict[str, Any] = {"error": failure.message, "code": failure.code.lower()}
        if failure.details is not None:
            body["details"] = failure.details
        return _json(body, failure.status)

    def bad_input(self, request: HttpRequest, problems: Problems) -> HttpResponse:
        message = self.text(request, _("Invalid request: %(errors)s"), errors=_joined(problems))
        details = [{"loc": field.split("."), "msg": reason} for field, reason in problems]
        return self.error(
            request, status=400, code="INVALID_REQUEST", message=message, details=details
        )

    def unauthorized(self, request: HttpRequest) -> HttpResponse:
        message = _("A valid client token is required in X-Client-Token or Authorization: Token.")
        return self.error(request, status=401, code="INVALID_TOKEN", message=message)


class RoleplayContract(Contract):
    """Seed 000 (DESIGN §4): `{"success": false, "error_code", "detail"}`; bad input is 422."""

    name = "roleplays"

    def envelope(self, request: HttpRequest, failure: Failure) -> HttpResponse:
        body = {"success": False, "error_code": failure.code, "detail": failure.message}
        return _json(body, failure.status)

    def bad_input(self, request: HttpRequest, problems: Problems) -> HttpResponse:
        message = f"Invalid request: {_joined(problems)}"
        return self.error(request, status=422, code="INVALID_REQUEST", message=message)


class ScorecardContract(Contract):
    """Seed 002: `{"error": {code, message, details, timestamp, requestId, retryAfter}}` (the
    envelope of its 429 too, portal.ratelimit); bad input is 422 VALIDATION_ERROR with
    `details: [{field, reason}]`, a database failure its own 500 DATABASE_ERROR."""

    name = "scorecard"

    def envelope(self, request: HttpRequest, failure: Failure) -> HttpResponse:
        # The seed's envelope carries retryAfter in its body as well as in the header.
        return ratelimit.error_response(
            request,
            status=failure.status,
            code=failure.code,
            message=failure.message,
            details=failure.details,
            retry_after=failure.retry_after,
        )

    def bad_input(self, request: HttpRequest, problems: Problems) -> HttpResponse:
        details = [{"field": field, "reason": reason} for field, reason in problems]
        return self.error(
            request,
            status=422,
            code="VALIDATION_ERROR",
            message="Request data validation failed",
            details=details,
        )

    def too_large(self, request: HttpRequest) -> HttpResponse:
        return self.error(
            request,
            status=413,
            code="PAYLOAD_TOO_LARGE",
            message=self._too_large_message(request),
            details={"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
        )

    def failure(self, request: HttpRequest, exc: BaseException | None) -> HttpResponse:
        if isinstance(exc, DatabaseError):
            return self.error(
                request,
                status=500,
                code="DATABASE_ERROR",
                message="A database operation failed; please try again.",
                retry_after=RETRY_AFTER_SECONDS,
            )
        return super().failure(request, exc)


def own_referer(request: HttpRequest) -> str:
    """The page the request came from, when it is one of ours (a way back), else ""."""
    back = request.headers.get("Referer", "")
    try:
        own = url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    except DisallowedHost:
        own = False
    return back if own else ""


class Pages(Contract):
    """The pages answer people, not programs: an HTML page in the visitor's own language
    (templates/400.html with a way back, Django's 404 and 500 pages); a 405 stays Django's."""

    name = "pages"

    def language(self, request: HttpRequest) -> str:
        return translation.get_language_from_request(request)

    def envelope(self, request: HttpRequest, failure: Failure) -> HttpResponse:
        return self.page(request, status=failure.status, message=failure.message)

    def page(self, request: HttpRequest, *, status: int, message: str) -> HttpResponse:
        """The page of a refused form or request (templates/400.html), with a way back."""
        with translation.override(self.language(request)):
            return render(
                request,
                "400.html",
                {"message": message, "back": own_referer(request)},
                status=status,
            )

    def bad_input(self, request: HttpRequest, problems: Problems) -> HttpResponse:
        return self.page(request, status=400, message=_joined(problems))

    def bad_request(self, request: HttpRequest, exception: Exception) -> HttpResponse:
        return defaults.bad_request(request, exception)

    def not_found(self, request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        with translation.override(self.language(request)):
            return defaults.page_not_found(request, exception or Http404())

    def method_not_allowed(
        self, request: HttpRequest, refused: HttpResponseNotAllowed
    ) -> HttpResponse:
        return refused

    def failure(self, request: HttpRequest, exc: BaseException | None) -> HttpResponse:
        return defaults.server_error(request)


class RoleplayStart(Pages):
    """The roleplay start URL (seed 000's assessment-start) is a browser's door under /api/:
    it answers pages, and its refusals the page that asks to launch again from the partner's
    site (templates/roleplay/launch_error.html)."""

    name = "roleplay-start"

    def _launch_error(self, request: HttpRequest, reason: str, status: int) -> HttpResponse:
        response = render(request, "roleplay/launch_error.html", {"reason": reason}, status=status)
        add_never_cache_headers(response)
        return response

    def page(self, request: HttpRequest, *, status: int, message: str) -> HttpResponse:
        return self._launch_error(request, "invalid", status)

    def method_not_allowed(
        self, request: HttpRequest, refused: HttpResponseNotAllowed
    ) -> HttpResponse:
        # A browser that opens the start URL itself (a bookmark, a reload after the POST).
        response = self._launch_error(request, "get", 405)
        response["Allow"] = refused.get("Allow", "")
        return response


EXAM_CONTRACT = ExamContract()
ROLEPLAY_CONTRACT = RoleplayContract()
SCORECARD_CONTRACT = ScorecardContract()
OTHER_API_CONTRACT = Contract()
ROLEPLAY_START = RoleplayStart()
PAGES = Pages()

# Which contract a path speaks: a path ending in "/" is a prefix; any other names itself and
# what lies below it. First match wins; paths outside /api/ are pages.
_PATHS: tuple[tuple[str, Contract], ...] = (
    ("/api/integration/exams/", EXAM_CONTRACT),
    ("/api/launch/", EXAM_CONTRACT),
    ("/api/integration/assessment-launch", ROLEPLAY_CONTRACT),
    ("/api/integration/assessment-start", ROLEPLAY_START),
    ("/api/assessment/", SCORECARD_CONTRACT),
    ("/api/health", SCORECARD_CONTRACT),
    ("/api/test/", SCORECARD_CONTRACT),
    ("/api/", OTHER_API_CONTRACT),
)


def contract_of(path: str) -> Contract:
    """The contract whose errors `path` answers in (PAGES for a page)."""
    for prefix, contract in _PATHS:
        if prefix.endswith("/"):
            if path.startswith(prefix) or path == prefix[:-1]:
                return contract
        elif path == prefix or path.startswith(prefix + "/"):
            return contract
    return PAGES


# --- each error, in the contract of the request's path ----------------------------------------


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
    return contract_of(request.path).error(
        request,
        status=status,
        code=code,
        message=message,
        details=details,
        retry_after=retry_after,
    )


def bad_input(request: HttpRequest, problems: Iterable[tuple[str, str]]) -> HttpResponse:
    """A request whose data is refused, each problem `(field, reason)`: exam 400
    `invalid_request`, roleplay 422 `INVALID_REQUEST`, scorecard 422 `VALIDATION_ERROR` with
    `details: [{field, reason}]`, a page 400 saying what was wrong."""
    return contract_of(request.path).bad_input(request, list(problems))


def too_large(request: HttpRequest) -> HttpResponse:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE (or with more fields than Django reads): 413."""
    return contract_of(request.path).too_large(request)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A path that names nothing: JSON under /api/, templates/404.html for a page."""
    return contract_of(request.path).not_found(request, exception)


def method_not_allowed(request: HttpRequest, refused: HttpResponseNotAllowed) -> HttpResponse:
    """Django's bare 405 `refused`, answered in the path's contract (a page keeps it)."""
    return contract_of(request.path).method_not_allowed(request, refused)


def unauthorized(request: HttpRequest) -> HttpResponse:
    """A request without the credentials its operation needs: 401."""
    return contract_of(request.path).unauthorized(request)


def server_error(request: HttpRequest, exc: BaseException | None, *, log: bool) -> HttpResponse:
    """A request that failed on our side: the database (exam and roleplay 503, retryable; the
    scorecard's own 500 DATABASE_ERROR) or anything else (500); a page gets templates/500.html.
    `log` when Django has not logged the exception already."""
    if log:
        what = "database error" if isinstance(exc, DatabaseError) else "unexpected error"
        logger.error("%s on %s", what, request.path, exc_info=exc)
    return contract_of(request.path).failure(request, exc)


# --- Django's error handlers (portal/urls.py) -------------------------------------------------


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A request Django itself refused (SuspiciousOperation: a body too large, a bad Host...)."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(request)
    return contract_of(request.path).bad_request(request, exception)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    return not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form posted without the cookie its token pairs with (cookies
    cleared, blocked, or a page left open past their life). A page in the visitor's language
    that says to reload, where Django's was English and bare; htmx, which ignores a 403 (a
    press did nothing at all), reloads the page instead (HX-Refresh)."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=403)
        response["HX-Refresh"] = "true"
        return response
    with translation.override(Pages().language(request)):
        response = render(request, "403_csrf.html", {"back": own_referer(request)}, status=403)
    add_never_cache_headers(response)
    return response


def handler500(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception (and has logged it), so it is still the
    # current one.
    return server_error(request, sys.exc_info()[1], log=False)
