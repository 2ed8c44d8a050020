"""Huey tasks of the outbox: send one delivery, and sweep up those whose task was lost."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from integrations import deliveries


@db_task()
def deliver(delivery_id: int) -> None:
    """Send one attempt of a delivery, if it is due and no other worker holds it."""
    deliveries.attempt_delivery(delivery_id)


@db_periodic_task(crontab(minute="*"))
def sweep_deliveries() -> int:
    """Re-enqueue every due, unclaimed delivery: Huey runs a task at most once, and a task can
    be lost (Redis down when enqueued, a consumer killed mid-task); the database can't."""
    return deliveries.sweep_deliveries()
