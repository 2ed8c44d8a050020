"""Huey tasks of the outbox: send one delivery, and sweep up those whose task was lost."""

from huey import crontab

from integrations import deliveries
from portal.queue import db_task, routine


@db_task(logs_itself=True)
def deliver(delivery_id: int) -> None:
    """Send one attempt of a delivery, if it is due and no other worker holds it.

    One task per attempt: portal.queue's db_task, which spares each the connection health
    check and runs it once more if its connection was broken (safe: the attempt's first
    statement claims the delivery, so a second run never sends what the first one sent). Each
    attempt logs its own line, so Huey's two lines per run are left out."""
    deliveries.attempt_delivery(delivery_id)


@routine(crontab(minute="*"), did="due deliveries whose task was lost, queued again: %d")
def sweep_deliveries() -> int:
    """Enqueue every due, unclaimed delivery whose task was lost: Huey runs a task at most
    once, and a task can be lost (Redis down when enqueued, a consumer killed mid-task); the
    database can't. One still waiting on the queue is left alone (Delivery.queued_at)."""
    return deliveries.sweep_deliveries()
