"""Huey tasks of the roleplay product."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from portal.roleplays import launch, services


@db_periodic_task(crontab(minute="*"))
def finish_overdue_roleplays() -> int:
    """Close roleplays past their time limit, so a candidate who walked away still gets
    results sent to the partner once the last roleplay closes."""
    return services.finish_overdue_roleplays()


@db_periodic_task(crontab(minute="17"))
def forget_expired_launch_records() -> int:
    """Hourly: used launch tokens and old tickets are only needed until they expire."""
    return launch.forget_expired_launch_records()


@db_periodic_task(crontab(minute="*/15"))
def complete_abandoned_assessments() -> int:
    """A candidate who stops between roleplays still gets results sent, a day later."""
    return services.complete_abandoned_assessments()
