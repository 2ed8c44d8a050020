"""The outbox: one row per outbound message, and one row per attempt to send it."""

import uuid
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

# A decoded JSON object (a payload, a transport's `state`): its values are whatever JSON holds.
type JSONObject = dict[str, Any]


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    def due(self, now: datetime | None = None) -> "DeliveryQuerySet":
        """Pending deliveries whose next attempt is due and that no worker holds."""
        now = now or timezone.now()
        return self.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now).filter(
            Q(locked_until__isnull=True) | Q(locked_until__lte=now)
        )


class Delivery(models.Model):
    """One outbound message (a webhook, a HubSpot sync, an e-mail), sent with retries until it
    succeeds or gives up."""

    # Not a column: the route owner's row as the attempt's claim read it (integrations.routes,
    # OwnerRow), None when the owner is gone; unset when the claim did not read it.
    owner_row: tuple[object, ...] | None

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DELIVERED = "delivered", "delivered"
        DEAD = "dead", "dead"
        # Replaced, before it was sent, by a newer delivery of its group: never sent.
        SUPERSEDED = "superseded", "superseded"

    class Transport(models.TextChoices):
        WEBHOOK = "webhook", "signed webhook"
        HUBSPOT = "hubspot", "HubSpot CRM"
        EMAIL = "email", "e-mail"

    # The Standard Webhooks `webhook-id`: the same on every attempt and replay, so a receiver
    # can drop duplicates.
    webhook_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=64, help_text="Event type, e.g. results_submission.")
    # How it is sent (integrations.deliveries.TRANSPORTS); the retry machinery is the same.
    transport = models.CharField(
        max_length=16, choices=Transport.choices, default=Transport.WEBHOOK
    )
    # Where the last attempt went (or will go): a routed delivery re-resolves it at each attempt.
    target_url = models.URLField(max_length=2048)
    # "<owner>:<id>:<target>", e.g. "partner:7:results": who decides the target URL and signing
    # secrets when the delivery is sent (integrations.routes); blank: the stored ones.
    route = models.CharField(max_length=200, blank=True, db_index=True)
    # The exact body bytes (UTF-8 JSON text), serialised once so every retry is identical.
    payload = models.TextField()
    # "whsec_<base64>"; blank for unsigned kinds. Kept in clear: it signs every attempt.
    signing_secret = models.CharField(max_length=200, blank=True)
    # Hosts the target may be on (case-insensitive, exact); empty means any public host.
    allowed_hosts = models.JSONField(default=list, blank=True)
    # The seed-000 contracts answer {"success": true, ...}: then success is 2xx *and* that flag.
    require_success_flag = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # A worker's claim: while it is in the future, nobody else sends this delivery.
    locked_until = models.DateTimeField(null=True, blank=True)
    # When the delivery's `deliver` task is ready on the queue: the time it was enqueued, or
    # the eta of a scheduled retry; empty when no task is known to be queued (a worker took
    # it, or enqueueing failed). The sweep re-enqueues a due delivery only when this is empty
    # or older than a lease: its task was lost, not merely waiting its turn.
    queued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Set by callers whose event must be sent once only (NULLs never collide).
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    # Deliveries of one kind, route and group key carry the state of one thing (e.g. a
    # cluster's metadata for one partner): a newer one supersedes the older ones, so a retry
    # never delivers stale data after fresh (integrations.deliveries). Blank: no group.
    group_key = models.CharField(max_length=200, blank=True, db_index=True)
    # The newer delivery of the group that replaced this one: a pending one was never sent
    # (status superseded), a delivered or dead one is never replayed.
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What a multi-step transport has done so far (e.g. the HubSpot contact and deal ids), so
    # a retry or a replay never does a non-idempotent step twice.
    state = models.JSONField(default=dict, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.target_url} ({self.status})"

    @property
    def body(self) -> bytes:
        return self.payload.encode()

    @property
    def is_signed(self) -> bool:
        return bool(self.signing_secret)


class DeliveryAttempt(models.Model):
    """One try at sending a delivery, with what came back."""

    class Outcome(models.TextChoices):
        SENDING = "sending", "sending"
        INTERRUPTED = "interrupted", "interrupted (the worker stopped)"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed"
        REFUSED = "refused", "failed permanently"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    started_at = models.DateTimeField(default=timezone.now)
    # Where this attempt went: a routed delivery follows its owner's settings of the moment.
    target_url = models.URLField(max_length=2048, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True, help_text="The first 2 KB of the response.")
    error = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SENDING)

    class Meta:
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.outcome}"
