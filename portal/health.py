"""Probes for load balancers and orchestrators: `/healthz` (liveness) and `/readyz` (readiness).

`/healthz` says only that this process answers: restart it when it doesn't. `/readyz` says
whether it can do its work now — the database answers, every migration is applied, the task
queue answers — and sends traffic elsewhere while it can't. Neither is rate-limited (a probe
every second must never be refused), neither names a host, a secret or an error text, and
neither is cached. The consumer's heartbeat is reported, not required: a web instance serves
candidates while the consumers restart. The seed's `/api/health` is another thing: a status
page with figures, in the seed's format, built by `status_report()` below and answered by
api/scorecards.py.
"""

import logging
import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from integrations import hubspot
from integrations.models import Delivery
from portal import metrics

logger = logging.getLogger(__name__)

# Consumers write their heartbeat this often (portal/tasks.py); older than STALE is "stale".
HEARTBEAT_SECONDS = 60
HEARTBEAT_STALE_SECONDS = 3 * HEARTBEAT_SECONDS
HEARTBEAT_KEY = "consumer:heartbeat"

# The process's start, for the status page's uptime.
STARTED = time.time()
# A database slower than this to answer `SELECT 1` is "slow" on the status page.
SLOW_DATABASE_SECONDS = 0.5

# Once every migration is applied it stays so for this process's life: checked until then.
_migrated = False


def database_state(db: BaseDatabaseWrapper | None = None) -> str:
    """ "up" when a trivial query answers, else "down"."""
    db = db or connection
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure is "down"; the reason goes to the log only
        logger.warning("health check: the database does not answer", exc_info=True)
        return "down"
    return "up"


def migrations_state(db: BaseDatabaseWrapper | None = None) -> str:
    """ "applied", "pending" (a deploy ran the code before `migrate`) or "unknown"."""
    global _migrated
    if _migrated:
        return "applied"
    db = db or connection
    try:
        executor = MigrationExecutor(db)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return "unknown"
    if pending:
        return "pending"
    _migrated = db is connection
    return "applied"


def _queue(huey: Any = None) -> Any:
    """`huey`, or the portal's own queue (djhuey's, read when first asked for)."""
    if huey is None:
        from huey.contrib.djhuey import HUEY

        return HUEY
    return huey


def queue_state(huey: Any = None) -> str:
    """ "up" when the task queue's storage answers, else "down"."""
    huey = _queue(huey)
    try:
        huey.storage.queue_size()
    except Exception:
        logger.warning("health check: the task queue does not answer", exc_info=True)
        return "down"
    return "up"


def beat(huey: Any = None) -> None:
    """Record that a consumer is alive (run periodically by every consumer)."""
    huey = _queue(huey)
    huey.put(HEARTBEAT_KEY, time.time())


def heartbeat_age(huey: Any = None) -> float | None:
    """Seconds since a consumer last beat, or None when none has (or the queue is down)."""
    huey = _queue(huey)
    try:
        stamp = huey.get(HEARTBEAT_KEY, peek=True)  # peek: a plain get() would consume it
    except Exception:
        return None
    if not isinstance(stamp, int | float):
        return None
    return max(0.0, time.time() - stamp)


def consumer_state(huey=None) -> str:
    age = heartbeat_age(huey)
    if age is None:
        return "unknown"
    return "up" if age <= HEARTBEAT_STALE_SECONDS else "stale"


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 whenever the process answers (GET or HEAD); checks nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database, the migrations and the queue are ready, else 503."""
    checks = {"database": database_state()}
    checks["migrations"] = migrations_state() if checks["database"] == "up" else "unknown"
    checks["queue"] = queue_state()
    ready = checks == {"database": "up", "migrations": "applied", "queue": "up"}
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    body["consumer"] = consumer_state()
    return JsonResponse(body, status=200 if ready else 503)


# --- the seed's status page (/api/health) ----------------------------------------------------


def _last_attempted(transport: str) -> Delivery | None:
    return (
        Delivery.objects.filter(transport=transport)
        .exclude(attempt_count=0)
        .order_by("-id")
        .first()
    )


def status_report(*, version: str) -> dict:
    """The seed's HealthResponse: real checks (database, queue, HubSpot, e-mail) and rolling
    figures. `unhealthy` when the database is down, `degraded` when the queue, HubSpot (once
    configured) or e-mail is; the caller answers 503 for `unhealthy`."""
    services_state: dict[str, str] = {}
    started = time.perf_counter()
    database = database_state()
    if database == "up" and time.perf_counter() - started > SLOW_DATABASE_SECONDS:
        database = "slow"
    services_state["database"] = database
    services_state["redis" if settings.REDIS_URL else "queue"] = queue_state()

    database_up = database != "down"
    hubspot_configured = hubspot.hubspot_configured()
    if not hubspot_configured:
        services_state["hubspot"] = "down"
    else:
        latest = _last_attempted(Delivery.Transport.HUBSPOT) if database_up else None
        services_state["hubspot"] = (
            "rate_limited"
            if latest is not None and "429" in latest.last_error
            else "down"
            if latest is not None and latest.status == "dead"
            else "up"
        )
    latest_mail = _last_attempted(Delivery.Transport.EMAIL) if database_up else None
    services_state["email"] = (
        "degraded" if latest_mail is not None and latest_mail.last_error else "up"
    )
    # Only the database makes the portal unusable: with the queue or HubSpot down, visitors
    # still take and submit the scorecard (leads wait in the outbox), so that is "degraded".
    if not database_up:
        status = "unhealthy"
    elif any(v not in {"up"} for k, v in services_state.items() if k != "hubspot") or (
        hubspot_configured and services_state["hubspot"] != "up"
    ):
        status = "degraded"
    else:
        status = "healthy"
    return {
        "status": status,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "version": version,
        "uptime": int(time.time() - STARTED),
        "services": services_state,
        "performance": metrics.figures(),
    }
