"""Fixed-window rate limits counted in Django's cache, with the seed's headers and 429 envelope.

Usage and the choice of cache: docs/security.md.
"""

import base64
import functools
import hashlib
import ipaddress
import logging
import math
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, models, router, transaction
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils.timezone import now as tz_now

from portal.request_id import get_request_id

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Scope = str | Callable[[HttpRequest], str]

# The time windows are counted in (Unix seconds), read at each count: tests set a steady one
# (`monkeypatch.setattr(ratelimit, "CLOCK", ...)`), so that a count never straddles a window's
# end because the wall clock passed an hour boundary mid-test.
CLOCK: Clock = time.time


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_epoch: int  # when the current window ends, in Unix seconds
    retry_after: int  # seconds until the next window when limited, else 0
    window: int = 0

    @property
    def limited(self) -> bool:
        return self.retry_after > 0

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_epoch),
        }
        if self.limited:
            headers["X-RateLimit-RetryAfter"] = str(self.retry_after)
            headers["Retry-After"] = str(self.retry_after)
        return headers


def hit(key: str, limit: int, window_seconds: int, *, clock: Clock | None = None) -> RateLimitState:
    """Count one request against `key` in the current fixed window (windows are aligned to
    multiples of `window_seconds` since the epoch) and say whether it is over `limit`. The
    time is `clock()`, by default CLOCK's."""
    if limit < 1 or window_seconds < 1:
        raise ValueError("limit and window_seconds must be positive")
    now = (clock or CLOCK)()
    start = int(now // window_seconds) * window_seconds
    reset = start + window_seconds
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    cache_key = f"ratelimit:{window_seconds}:{start}:{digest}"
    cache = caches[settings.RATE_LIMIT_CACHE]
    # The entry outlives its window a little, so that an incr at the window's very end never
    # finds it gone; a later window uses another key.
    timeout = math.ceil(reset - now) + 60
    while True:
        if cache.add(cache_key, 1, timeout=timeout):
            count = 1
            break
        try:
            count = cache.incr(cache_key)
            break
        except ValueError:  # expired between add and incr: add it again
            continue
    if count > limit:
        return RateLimitState(limit, 0, reset, max(1, math.ceil(reset - now)), window_seconds)
    return RateLimitState(limit, limit - count, reset, 0, window_seconds)


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR; behind settings.TRUSTED_PROXY_COUNT = N > 0 proxies, the N-th address from
    the right of X-Forwarded-For (each trusted proxy appends the address it saw, so everything
    left of that may be forged). A header too short or not an address falls back to REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(hops) < trusted:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-trusted]))
    except ValueError:
        return remote


def ip_scope(request: HttpRequest) -> str:
    return f"ip:{client_ip(request)}"


def session_scope(request: HttpRequest) -> str:
    """The Django session; a client without one yet is counted by its IP instead, so that
    dropping the cookie never buys a fresh allowance."""
    session = getattr(request, "session", None)
    key = session.session_key if session is not None else None
    return f"session:{key}" if key else ip_scope(request)


SCOPES: dict[str, Callable[[HttpRequest], str]] = {"ip": ip_scope, "session": session_scope}


def error_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: str,
    details: Any = None,
    retry_after: int | None = None,
) -> JsonResponse:
    """The seed's Standard Error Response: {"error": {code, message, details?, timestamp,
    requestId, retryAfter?}}."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    error["timestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    error["requestId"] = get_request_id(request)
    if retry_after is not None:
        error["retryAfter"] = retry_after
    return JsonResponse({"error": error}, status=status)


def limited_response(request: HttpRequest, state: RateLimitState) -> JsonResponse:
    response = error_response(
        request,
        status=429,
        code="RATE_LIMIT_EXCEEDED",
        message=f"Too many requests: at most {state.limit} every {state.window} seconds.",
        details={"limit": state.limit, "window": state.window},
        retry_after=state.retry_after,
    )
    for header, value in state.headers().items():
        response.headers[header] = value
    return response


def check(
    request: HttpRequest, scope: Scope, limit: int, window: int, *, name: str
) -> RateLimitState:
    """Count this request under `name` (the limited endpoint) and `scope` ("ip", "session" or a
    function of the request), and remember the state for the response headers."""
    try:
        scope_key = SCOPES[scope](request) if isinstance(scope, str) else scope(request)
        state = hit(f"{name}|{scope_key}", limit, window)
    except Exception:  # noqa: BLE001 - counting must never take the site down with the cache
        logger.warning("rate limit %s not counted: the cache is unavailable", name, exc_info=True)
        state = RateLimitState(limit, limit, int(CLOCK()) + window, 0, window)
    request.rate_limit = state
    return state


def rate_limit(scope: Scope, limit: int, window: int, *, name: str | None = None):
    """Decorate a view or a Ninja operation (sync): over the limit it answers the seed's 429
    RATE_LIMIT_EXCEEDED envelope; otherwise it runs the view, and the X-RateLimit-* headers go
    on its response (RateLimitHeadersMiddleware adds them to a Ninja operation's response)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        counter = name or f"{view.__module__}.{view.__qualname__}"

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            state = check(request, scope, limit, window, name=counter)
            if state.limited:
                return limited_response(request, state)
            result = view(request, *args, **kwargs)
            if isinstance(result, HttpResponseBase):
                apply_headers(request, result)
            return result

        return wrapper

    return decorator


def apply_headers(request: HttpRequest, response: HttpResponseBase) -> None:
    state: RateLimitState | None = getattr(request, "rate_limit", None)
    if state is not None:
        for header, value in state.headers().items():
            response.headers.setdefault(header, value)


class AtomicDatabaseCache(DatabaseCache):
    """Django's DatabaseCache with an atomic incr(): the stock one is a get() then a set(), which
    loses counts between workers and resets the entry's expiry. This one locks the row with a
    no-op UPDATE (a row lock on PostgreSQL, the write lock on SQLite) and keeps its expiry."""

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        made = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        name = connection.ops.quote_name
        table, cache_key = name(self._table), name("cache_key")
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {cache_key} = {cache_key} WHERE {cache_key} = %s", [made]
            )
            if cursor.rowcount:
                cursor.execute(
                    f"SELECT {name('value')}, {name('expires')} FROM {table}"
                    f" WHERE {cache_key} = %s",
                    [made],
                )
                row = cursor.fetchone()
            else:
                row = None
            if row is not None:
                expires = row[1]
                expression = models.Expression(output_field=models.DateTimeField())
                for converter in connection.ops.get_db_converters(
                    expression
                ) + expression.get_db_converters(connection):
                    expires = converter(expires, expression, connection)
            if row is None or expires < tz_now():
                raise ValueError(f"Key '{key}' not found.")
            raw = connection.ops.process_clob(row[0])
            value = pickle.loads(base64.b64decode(raw.encode(), validate=True)) + delta
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {name('value')} = %s WHERE {cache_key} = %s", [encoded, made]
            )
        return value
