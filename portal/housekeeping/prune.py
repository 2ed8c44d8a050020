"""Deleting what has served its time (docs/operations.md, "Housekeeping").

Run daily by the scheduler (portal/housekeeping/tasks.py) and on demand with `manage.py prune`.
Only finished things go: a pending delivery, a live session, a rate-limit window still counting
or a ticket still usable is never touched. Each retention is a setting (in days).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from integrations.models import Delivery, DeliveryAttempt
from portal import ratelimit
from portal.roleplays import launch
from portal.sandbox.models import ReceivedWebhook

FINISHED = (Delivery.Status.DELIVERED, Delivery.Status.DEAD, Delivery.Status.SUPERSEDED)


def _before(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


def finished_deliveries(days: int | None = None) -> int:
    """Delivered, dead and superseded deliveries created more than `days` ago, with their
    attempts. Their dedupe keys go with them: keep this far longer than any partner retries."""
    days = settings.DELIVERY_RETENTION_DAYS if days is None else days
    old = Delivery.objects.filter(status__in=FINISHED, created_at__lt=_before(days))
    return old.delete()[1].get(Delivery._meta.label, 0)


def old_attempts(days: int | None = None) -> int:
    """Attempts older than `days` of deliveries that are finished (the delivery row and its
    attempt_count stay; a pending delivery keeps its whole history)."""
    days = settings.DELIVERY_ATTEMPT_RETENTION_DAYS if days is None else days
    old = DeliveryAttempt.objects.filter(
        started_at__lt=_before(days), delivery__status__in=FINISHED
    )
    return old.delete()[0]


def received_webhooks(days: int | None = None) -> int:
    """What the sandbox's fake partner received, after `days`."""
    days = settings.RECEIVED_WEBHOOK_RETENTION_DAYS if days is None else days
    return ReceivedWebhook.objects.filter(received_at__lt=_before(days)).delete()[0]


def expired_sessions() -> int:
    """Django sessions past their expiry (what `manage.py clearsessions` does)."""
    return Session.objects.filter(expire_date__lt=timezone.now()).delete()[0]


def expired_counters() -> int:
    """Rate-limit and figure windows that are over (database counters; Redis expires its own)."""
    return ratelimit.prune_expired()


STEPS = {
    "finished deliveries": finished_deliveries,
    "old delivery attempts": old_attempts,
    "received webhooks (sandbox)": received_webhooks,
    "expired sessions": expired_sessions,
    # Also hourly by the roleplays' own periodic task; here so that `prune` does everything.
    "expired roleplay launch records": launch.forget_expired_launch_records,
    "expired rate-limit counters": expired_counters,
}


def prune_all() -> dict[str, int]:
    """Run every step; {step: rows deleted}."""
    return {name: step() for name, step in STEPS.items()}
