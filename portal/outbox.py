"""Staff operations on the outbox (integrations.deliveries), each written to the audit log.

The console's deliveries, roleplay results and scorecard leads pages all call these.
"""

from django.db import transaction
from django.db.models import QuerySet

from integrations import deliveries
from integrations.models import Delivery
from portal import audit

AUDITED_FIELDS = ("status", "attempt_count", "next_attempt_at")


def _label(delivery: Delivery) -> str:
    return f"{delivery.kind} #{delivery.pk}"


def delivery_send_now(*, delivery: Delivery, actor) -> bool:
    """Send now: a pending delivery (also one waiting to retry) at once, a delivered or dead one
    again. False when a worker is sending it at this moment (nothing changes)."""
    before = audit.snapshot(delivery, AUDITED_FIELDS)
    with transaction.atomic():
        sent = deliveries.send_now(delivery)
        if sent:
            audit.record(
                actor=actor,
                action="delivery.send_now",
                target=delivery,
                target_label=_label(delivery),
                before=before,
                after=audit.snapshot(delivery, AUDITED_FIELDS),
            )
    return sent


def delivery_replay(*, delivery: Delivery, actor) -> bool:
    """Replay a delivered or dead delivery (same webhook-id and body, a fresh series of
    attempts); False for one still pending."""
    before = audit.snapshot(delivery, AUDITED_FIELDS)
    with transaction.atomic():
        replayed = deliveries.replay_delivery(delivery)
        if replayed:
            audit.record(
                actor=actor,
                action="delivery.replay",
                target=delivery,
                target_label=_label(delivery),
                before=before,
                after=audit.snapshot(delivery, AUDITED_FIELDS),
            )
    return replayed


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
