"""Fixed-window rate limits with the seed's headers and 429 envelope, and the shared counters
they (and portal.metrics) count in: one atomic step per count, never a write transaction.

Usage and the choice of store: docs/security.md.
"""

import functools
import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponseBase, JsonResponse

from portal.db import hot_cursor
from portal.http import PortalRequest
from portal.request_id import get_request_id

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Scope = str | Callable[[HttpRequest], str]

# The time windows are counted in (Unix seconds), read at each count: tests set a steady one
# (`monkeypatch.setattr(ratelimit, "CLOCK", ...)`), so that a count never straddles a window's
# end because the wall clock passed an hour boundary mid-test.
CLOCK: Clock = time.time
# A counter outlives its window by this much, so that a count at the window's very end never
# finds it gone; a later window uses another key.
GRACE_SECONDS = 60


# ---------------------------------------------------------------------------------------------
# Counters: Redis when the rate-limit cache is Redis (INCRBY + EXPIRE, pipelined: one round
# trip), else the database table portal_counter (one INSERT … ON CONFLICT DO UPDATE … RETURNING,
# which SQLite ≥ 3.35 and PostgreSQL both have). Each count is a single atomic step: no lost
# counts between workers, no write transaction of its own.


def _redis() -> RedisCache | None:
    cache = caches[settings.RATE_LIMIT_CACHE]
    return cache if isinstance(cache, RedisCache) else None


# The table of the database counters (key, count, expires) is an app's model, given when
# Django starts (portal.scorecards.apps): this module, below every app, imports none of them.
_counter_model: type[Model] | None = None


def use_counter_model(model: type[Model]) -> None:
    """Count in `model`'s table when no Redis is configured."""
    global _counter_model
    _counter_model = model
    _UPSERTS.clear()


def _counter_table() -> type[Model]:
    if _counter_model is None:
        raise ImproperlyConfigured("No counter model: portal.scorecards is not installed.")
    return _counter_model


_UPSERTS: dict[tuple[str, int, bool], str] = {}


def _upsert_sql(connection, rows: int, returning: bool) -> str:
    """The upsert of `rows` counters, written once per process (it runs with every request)."""
    sql = _UPSERTS.get((connection.alias, rows, returning))
    if sql is None:
        name = connection.ops.quote_name
        table, count = name(_counter_table()._meta.db_table), name("count")
        values = ", ".join(["(%s, %s, %s)"] * rows)
        sql = (
            f"INSERT INTO {table} ({name('key')}, {count}, {name('expires')}) VALUES {values} "
            f"ON CONFLICT ({name('key')}) DO UPDATE SET {count} = {table}.{count} + "
            f"EXCLUDED.{count}"
        )
        if returning:
            sql += f" RETURNING {count}"
        _UPSERTS[(connection.alias, rows, returning)] = sql
    return sql


def _upsert(items: list[tuple[str, int, int]], *, returning: bool) -> list[int]:
    alias = router.db_for_write(_counter_table())
    connection = connections[alias]
    sql = _upsert_sql(connection, len(items), returning)
    params = [value for item in items for value in item]
    # Outside a transaction (a web request) the statement is its own; inside one (a test, a
    # caller's atomic block) a savepoint keeps a failed count from breaking the caller's.
    guard = transaction.atomic(using=alias) if connection.in_atomic_block else nullcontext()
    # On PostgreSQL the hit's upsert is prepared once per connection (portal.db).
    prepared = connection.vendor == "postgresql" and alias == DEFAULT_DB_ALIAS
    with guard, hot_cursor() if prepared else connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()] if returning else []


def incr(key: str, amount: int, *, expires: float, now: float) -> int:
    """Add `amount` to the counter `key` (made at 0 if missing) and return its new value. It
    lives until `expires` (Unix seconds, on the clock `now` is read from)."""
    redis = _redis()
    if redis is None:
        return _upsert([(key, amount, math.ceil(expires))], returning=True)[0]
    made = redis.make_and_validate_key(key)
    client = redis._cache.get_client(made, write=True)
    pipe = client.pipeline(transaction=False)
    pipe.incrby(made, amount)
    pipe.expire(made, max(1, math.ceil(expires - now)))
    return int(pipe.execute()[0])


def incr_many(items: Iterable[tuple[str, int, float]], *, now: float) -> None:
    """incr() for several (key, amount, expires) at once: one statement or one round trip."""
    rows = [(key, amount, math.ceil(expires)) for key, amount, expires in items]
    if not rows:
        return
    redis = _redis()
    if redis is None:
        _upsert(rows, returning=False)
        return
    client = redis._cache.get_client(None, write=True)
    pipe = client.pipeline(transaction=False)
    for key, amount, expires in rows:
        made = redis.make_and_validate_key(key)
        pipe.incrby(made, amount)
        pipe.expire(made, max(1, expires - math.floor(now)))
    pipe.execute()


def counts(keys: list[str]) -> dict[str, int]:
    """The counters among `keys` that exist, by key."""
    if not keys:
        return {}
    redis = _redis()
    if redis is not None:
        made = [redis.make_and_validate_key(key) for key in keys]
        values = redis._cache.get_client(None).mget(made)
        return {key: int(value) for key, value in zip(keys, values, strict=True) if value}
    rows = _counter_table()._default_manager.filter(key__in=keys)
    return dict(rows.values_list("key", "count"))


def prune_expired(now: float | None = None) -> int:
    """Delete the database counters whose time is over (Redis expires its own); the number
    deleted. Safe at any time: a live window's counter is never past its `expires`."""
    if _redis() is not None:
        return 0
    moment = CLOCK() if now is None else now
    deleted, _ = _counter_table()._default_manager.filter(expires__lt=moment).delete()
    return deleted


# ---------------------------------------------------------------------------------------------
# Rate limits


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
    count = incr(f"rl:{window_seconds}:{start}:{digest}", 1, expires=reset + GRACE_SECONDS, now=now)
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
    request: PortalRequest, scope: Scope, limit: int, window: int, *, name: str
) -> RateLimitState:
    """Count this request under `name` (the limited endpoint) and `scope` ("ip", "session" or a
    function of the request), and remember the state for the response headers."""
    try:
        scope_key = SCOPES[scope](request) if isinstance(scope, str) else scope(request)
        state = hit(f"{name}|{scope_key}", limit, window)
    except Exception:
        logger.warning(
            "rate limit %s not counted: the counter store is unavailable", name, exc_info=True
        )
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
        def wrapper(request: PortalRequest, *args: Any, **kwargs: Any) -> Any:
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
