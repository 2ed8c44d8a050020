"""Staff operations on the outbox (integrations.deliveries), each written to the audit log.

The console's deliveries, roleplay results and scorecard leads pages all call these.
"""

from django.db import transaction
from django.db.models import QuerySet

from integrations import deliveries
from integrations.models import Delivery
from portal.audit import log

AUDITED_FIELDS = ("status", "attempt_count", "next_attempt_at")


def _label(delivery: Delivery) -> str:
    return f"{delivery.kind} #{delivery.pk}"


def _audited(action: str, operation, delivery: Delivery, actor) -> bool:
    """Run `operation(delivery)`; when it did something, write its audit row (same transaction)."""
    before = log.snapshot(delivery, AUDITED_FIELDS)
    with transaction.atomic():
        done = operation(delivery)
        if done:
            log.record(
                actor=actor,
                action=action,
                target=delivery,
                target_label=_label(delivery),
                before=before,
                after=log.snapshot(delivery, AUDITED_FIELDS),
            )
    return done


def delivery_send_now(*, delivery: Delivery, actor) -> bool:
    """Send now: a pending delivery (also one waiting to retry) at once, a delivered or dead one
    again. False when a worker is sending it at this moment (nothing changes)."""
    return _audited("delivery.send_now", deliveries.send_now, delivery, actor)


def delivery_replay(*, delivery: Delivery, actor) -> bool:
    """Replay a delivered or dead delivery (same webhook-id and body, a fresh series of
    attempts); False for one still pending."""
    return _audited("delivery.replay", deliveries.replay_delivery, delivery, actor)


def deliveries_replay(*, queryset: QuerySet[Delivery], actor) -> tuple[int, int]:
    """Replay every delivered or dead delivery of a (filtered) set; pending ones are left alone.
    Returns (replayed, left alone). One audit row per replayed delivery."""
    replayed = skipped = 0
    for delivery in queryset.iterator(chunk_size=500):
        if delivery_replay(delivery=delivery, actor=actor):
            replayed += 1
        else:
            skipped += 1
    return replayed, skipped
