"""Pruning deletes what has served its time, and only that."""

import io
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from integrations.models import Delivery, DeliveryAttempt
from portal import ratelimit
from portal.roleplays.models import LaunchTicket, UsedToken
from portal.sandbox.models import ReceivedWebhook
from tests.factories import make_assessment, make_cluster

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def delivery(status: str, age: timedelta, *, attempts: int = 0) -> Delivery:
    created = timezone.now() - age
    made = Delivery.objects.create(
        kind="results_submission",
        target_url="https://partner.example.com/hook",
        payload="{}",
        status=status,
        created_at=created,
        next_attempt_at=created if status == Delivery.Status.PENDING else None,
        attempt_count=attempts,
    )
    for _ in range(attempts):
        DeliveryAttempt.objects.create(
            delivery=made, started_at=created, outcome=DeliveryAttempt.Outcome.FAILED
        )
    return made


def test_finished_deliveries_past_retention_go_with_their_attempts(settings):
    settings.DELIVERY_RETENTION_DAYS = 90
    old_delivered = delivery(Delivery.Status.DELIVERED, 100 * DAY, attempts=2)
    old_dead = delivery(Delivery.Status.DEAD, 100 * DAY, attempts=1)
    old_pending = delivery(Delivery.Status.PENDING, 100 * DAY, attempts=3)
    recent = delivery(Delivery.Status.DELIVERED, 10 * DAY, attempts=1)
    out = io.StringIO()
    call_command("prune", stdout=out)
    kept = set(Delivery.objects.values_list("pk", flat=True))
    assert kept == {old_pending.pk, recent.pk}
    assert not DeliveryAttempt.objects.filter(delivery_id__in=[old_delivered.pk, old_dead.pk])
    assert "finished deliveries: 2 deleted" in out.getvalue()


def test_old_attempts_of_finished_deliveries_are_trimmed_not_of_pending_ones(settings):
    settings.DELIVERY_RETENTION_DAYS = 365
    settings.DELIVERY_ATTEMPT_RETENTION_DAYS = 30
    finished = delivery(Delivery.Status.DEAD, 40 * DAY, attempts=4)
    pending = delivery(Delivery.Status.PENDING, 40 * DAY, attempts=2)
    call_command("prune", stdout=io.StringIO())
    finished.refresh_from_db()
    assert finished.attempt_count == 4  # the count stays with the delivery
    assert not finished.attempts.exists()
    assert pending.attempts.count() == 2


def test_sessions_webhooks_and_launch_records_are_pruned_when_expired(settings):
    settings.RECEIVED_WEBHOOK_RETENTION_DAYS = 30
    live = SessionStore()
    live["x"] = 1
    live.create()
    expired = SessionStore()
    expired["x"] = 1
    expired.create()
    Session.objects.filter(pk=expired.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    old_hook = ReceivedWebhook.objects.create(kind="results_submission", payload={})
    ReceivedWebhook.objects.filter(pk=old_hook.pk).update(received_at=timezone.now() - 31 * DAY)
    new_hook = ReceivedWebhook.objects.create(kind="results_submission", webhook_id="b", payload={})
    cluster, partner, _ = make_cluster()
    assessment = make_assessment(cluster, partner)
    now = timezone.now()
    LaunchTicket.objects.create(
        assessment=assessment, ticket_hash="a" * 64, expires_at=now - 2 * DAY
    )
    usable = LaunchTicket.objects.create(
        assessment=assessment, ticket_hash="b" * 64, expires_at=now + DAY
    )
    UsedToken.objects.create(token_hash="c" * 64, expires_at=now - DAY)
    guarding = UsedToken.objects.create(token_hash="d" * 64, expires_at=now + DAY)

    call_command("prune", stdout=io.StringIO())

    assert list(Session.objects.values_list("pk", flat=True)) == [live.session_key]
    assert list(ReceivedWebhook.objects.values_list("pk", flat=True)) == [new_hook.pk]
    assert list(LaunchTicket.objects.values_list("pk", flat=True)) == [usable.pk]
    assert list(UsedToken.objects.values_list("pk", flat=True)) == [guarding.pk]


def test_rate_limit_windows_that_are_over_are_pruned_and_live_ones_kept(settings):
    window = 60
    ratelimit.hit("prune-test|ip:1", 5, window, clock=lambda: 1_000_000.0)  # long over
    live = ratelimit.hit("prune-test|ip:1", 5, window)
    out = io.StringIO()
    call_command("prune", stdout=out)
    # In the database the window that is over is deleted; Redis expires its own keys.
    pruned = 0 if settings.REDIS_URL else 1
    assert f"expired rate-limit counters: {pruned} deleted" in out.getvalue()
    # The live window keeps counting from where it was.
    assert ratelimit.hit("prune-test|ip:1", 5, window).remaining == live.remaining - 1
