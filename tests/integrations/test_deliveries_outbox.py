"""The transactional outbox: a delivery exists if and only if its transaction committed.

Its task is enqueued only after the commit, and the sweep sends what the queue lost.
"""

import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from huey.storage import RedisStorage

from integrations.deliveries import (
    TASK_LEASE,
    attempt_delivery,
    enqueue_delivery,
    sweep_deliveries,
)
from integrations.models import Delivery
from tests.factories import at_once

PAYLOAD = {"cluster_id": "b4bf406c-4f9", "user_id": "EMP_789", "score": 4.5}


def enqueue(url: str, **fields) -> Delivery:
    return enqueue_delivery(kind="results_submission", target_url=url, payload=PAYLOAD, **fields)


def lose_the_tasks(queue) -> None:
    """The queue lost every task, longer ago than the sweep's lease."""
    queue.flush()
    Delivery.objects.update(queued_at=timezone.now() - TASK_LEASE - timedelta(seconds=1))


@pytest.mark.django_db(transaction=True)
class TestTransactions:
    """Real commits and rollbacks (one test: each costs a database flush afterwards)."""

    def test_the_outbox_follows_the_callers_transaction(self, queue, partner, outbound):
        # Outside a transaction: refused, so nobody records a delivery apart from its cause.
        with pytest.raises(RuntimeError, match="inside transaction.atomic"):
            enqueue(partner.url("/ok"))
        assert not Delivery.objects.exists()

        # Rolled back: no delivery, nothing enqueued.
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            enqueue(partner.url("/ok"))
            raise ZeroDivisionError
        assert not Delivery.objects.exists()
        assert queue.pending_count() == 0

        # Committed: enqueued right after the commit, not before.
        with transaction.atomic():
            delivery = enqueue(partner.url("/ok"))
            assert queue.pending_count() == 0
        [task] = queue.pending()
        assert task.args == (delivery.pk,)

        # What the consumer does with it: the `deliver` task sends it.
        queue.execute(queue.dequeue())
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.DELIVERED
        assert len(partner.received()) == 1

    def test_two_workers_racing_for_one_delivery_send_it_once(self, partner, outbound):
        if connection.vendor != "postgresql":
            pytest.skip("needs concurrent connections: PostgreSQL")
        partner.slow_seconds = 0.5
        with transaction.atomic():
            delivery = enqueue(partner.url("/slow"))
        outcomes = at_once(4, lambda _: attempt_delivery(delivery.pk))
        assert sorted(outcomes) == ["delivered", "skipped", "skipped", "skipped"]
        assert len(partner.received()) == 1


@pytest.mark.django_db
class TestEnqueue:
    def test_a_rolled_back_savepoint_drops_its_delivery_only(
        self, queue, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            kept = enqueue("https://q3.example.com/a")
            with pytest.raises(ZeroDivisionError), transaction.atomic():
                enqueue("https://q3.example.com/b")
                raise ZeroDivisionError

        assert list(Delivery.objects.values_list("pk", flat=True)) == [kept.pk]
        assert [task.args for task in queue.pending()] == [(kept.pk,)]

    def test_when_the_queue_is_down_the_delivery_waits_for_the_sweep(
        self, queue, monkeypatch, partner, outbound, caplog, django_capture_on_commit_callbacks
    ):
        # Redis down: nothing listens on port 1, so enqueueing fails after the commit.
        working = queue.storage
        monkeypatch.setattr(queue, "storage", RedisStorage(queue.name, url="redis://127.0.0.1:1"))
        with (
            caplog.at_level(logging.WARNING, "integrations"),
            django_capture_on_commit_callbacks(execute=True) as committed,
        ):
            delivery = enqueue(partner.url("/ok"))

        assert len(committed) == 1  # the enqueue ran, failed, and was only logged
        assert "the sweep will send it" in caplog.text
        assert Delivery.objects.filter(pk=delivery.pk, status="pending").exists()

        monkeypatch.setattr(queue, "storage", working)  # Redis is back
        assert sweep_deliveries() == 1
        [task] = queue.pending()
        assert attempt_delivery(*task.args) == "delivered"
        assert len(partner.received()) == 1

    def test_the_payload_is_serialised_once_as_compact_utf8_json(self):
        with transaction.atomic():
            delivery = enqueue(
                "https://q3.example.com/hook",
                allowed_hosts=["Q3.Example.com", "q3.example.com"],
            )
        assert delivery.payload == '{"cluster_id":"b4bf406c-4f9","user_id":"EMP_789","score":4.5}'
        assert delivery.allowed_hosts == ["q3.example.com"]
        assert delivery.status == "pending" and delivery.next_attempt_at <= timezone.now()

    def test_an_event_with_a_dedupe_key_is_recorded_once(
        self, queue, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            first = enqueue("https://q3.example.com/hook", dedupe_key="results:42")
            again = enqueue("https://q3.example.com/hook", dedupe_key="results:42")
            other = enqueue("https://q3.example.com/hook", dedupe_key="results:43")

        assert again.pk == first.pk != other.pk
        assert [task.args for task in queue.pending()] == [(first.pk,), (other.pk,)]

    def test_a_blank_dedupe_key_dedupes_nothing(self):
        with transaction.atomic():
            first = enqueue("https://q3.example.com/hook", dedupe_key="")
            second = enqueue("https://q3.example.com/hook", dedupe_key="")
        assert first.pk != second.pk and first.dedupe_key is None

    def test_a_malformed_secret_is_refused_at_once(self):
        with pytest.raises(ValueError), transaction.atomic():
            enqueue("https://q3.example.com/hook", signing_secret="whsec_%%%")


@pytest.mark.django_db
class TestSweep:
    def test_the_sweep_enqueues_what_is_due_and_unclaimed_only(self, queue):
        now = timezone.now()
        with transaction.atomic():
            due, future, claimed, stale, done, dead = (
                enqueue(f"https://q3.example.com/{n}") for n in range(6)
            )
        Delivery.objects.filter(pk=future.pk).update(next_attempt_at=now + timedelta(minutes=5))
        Delivery.objects.filter(pk=claimed.pk).update(locked_until=now + timedelta(minutes=1))
        Delivery.objects.filter(pk=stale.pk).update(locked_until=now - timedelta(seconds=1))
        Delivery.objects.filter(pk=done.pk).update(status="delivered", next_attempt_at=None)
        Delivery.objects.filter(pk=dead.pk).update(status="dead", next_attempt_at=None)
        lose_the_tasks(queue)

        assert sweep_deliveries() == 2

        assert sorted(task.args for task in queue.pending()) == [(due.pk,), (stale.pk,)]

    def test_the_command_enqueues_like_the_periodic_task(self, queue):
        with transaction.atomic():
            delivery = enqueue("https://q3.example.com/hook")
        lose_the_tasks(queue)
        out = StringIO()

        call_command("sweep_deliveries", stdout=out)

        assert out.getvalue() == "Enqueued 1 due deliveries.\n"
        assert [task.args for task in queue.pending()] == [(delivery.pk,)]

    def test_the_command_can_send_in_process(self, queue, partner, outbound):
        with transaction.atomic():
            ok = enqueue(partner.url("/ok"))
            enqueue(partner.url("/error"))
        out = StringIO()

        call_command("sweep_deliveries", "--send", stdout=out)

        assert out.getvalue() == "Sent due deliveries: 1 delivered, 1 failed.\n"
        ok.refresh_from_db()
        assert ok.status == "delivered"

    def test_the_sweep_runs_every_minute_on_the_consumer(self, queue):
        from integrations.tasks import sweep_deliveries as periodic

        [sweep] = [t for t in queue._registry.periodic_tasks if isinstance(t, periodic.task_class)]
        minute = timezone.now().replace(second=0, microsecond=0, tzinfo=None)
        assert all(sweep.validate_datetime(minute + timedelta(minutes=n)) for n in range(60))
        assert "integrations.tasks.deliver" in queue._registry._registry
