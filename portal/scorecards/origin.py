"""Cross-site protection of the scorecard's JSON API: an unsafe request must come from this site
and carry JSON, or it is refused in the seed's error envelope before anything is parsed.

The API is anonymous and known by a SameSite=Lax cookie, and a page on another site can still
post to it: a `text/plain` form or `fetch(..., {mode: "no-cors"})` needs no CORS preflight.
Browsers name the page that sent a request in `Origin` (and `Sec-Fetch-Site`); servers and
curl send neither, and carry no visitor's cookie, so they pass.
"""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.utils.http import is_same_domain

from portal import ratelimit

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
JSON = "application/json"
# Without an Origin to check, a browser's own word on where the request comes from.
SAME_SITE_FETCH = frozenset({"same-origin", "none"})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_allowed(request: HttpRequest, origin: str) -> bool:
    """This site's origins: the request's own host (ALLOWED_HOSTS), PUBLIC_BASE_URL's origin,
    and CSRF_TRUSTED_ORIGINS (with Django's `https://*.example.com` subdomain patterns)."""
    origin = origin.lower()
    try:
        scheme = "https" if request.is_secure() else "http"
        own = f"{scheme}://{request.get_host()}".lower()
    except DisallowedHost:
        own = ""
    exact = {own, _origin(settings.PUBLIC_BASE_URL)}
    exact |= {_origin(trusted) for trusted in settings.CSRF_TRUSTED_ORIGINS if "*" not in trusted}
    if origin in exact:
        return True
    parts = urlsplit(origin)
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        pattern = urlsplit(trusted)
        wildcard = "*" in trusted and pattern.scheme == parts.scheme
        if wildcard and is_same_domain(parts.netloc, pattern.netloc.lstrip("*")):
            return True
    return False


def _has_body(request: HttpRequest) -> bool:
    """From the headers only: reading the body here would bypass the API's own handling of an
    oversized one."""
    if "HTTP_TRANSFER_ENCODING" in request.META:
        return True
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return True


def refusal(request: HttpRequest) -> HttpResponse | None:
    """The seed's error for an unsafe request from another site (403 FORBIDDEN) or with a body
    that is not JSON (415 UNSUPPORTED_MEDIA_TYPE); None when the request may go on."""
    if request.method in SAFE_METHODS:
        return None
    origin = request.headers.get("Origin")
    fetch_site = request.headers.get("Sec-Fetch-Site", "")
    if origin is not None:
        foreign = origin == "null" or not origin_allowed(request, origin)
    else:
        foreign = bool(fetch_site) and fetch_site not in SAME_SITE_FETCH
    if foreign:
        return ratelimit.error_response(
            request,
            status=403,
            code="FORBIDDEN",
            message="Cross-site requests are refused: call this API from its own site.",
            details={"origin": origin, "secFetchSite": fetch_site or None},
        )
    if _has_body(request) and request.content_type != JSON:
        return ratelimit.error_response(
            request,
            status=415,
            code="UNSUPPORTED_MEDIA_TYPE",
            message=f"Send the request body as JSON, with Content-Type: {JSON}.",
            details={"contentType": request.content_type or None},
        )
    return None


def same_site_json(view: Callable) -> Callable:
    """A view decorator (a Ninja router's mode="view" one: it runs before the body is parsed)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        refused = refusal(request)
        return refused if refused is not None else view(request, *args, **kwargs)

    return wrapper
