"""Huey tasks of the roleplay product."""

from huey import crontab

from portal.queue import routine
from portal.roleplays import launch, services


@routine(crontab(minute="*"), did="overdue roleplays closed: %d")
def finish_overdue_roleplays() -> int:
    """Close roleplays past their time limit, so a candidate who walked away still gets
    results sent to the partner once the last roleplay closes."""
    return services.finish_overdue_roleplays()


@routine(crontab(minute="17"), did="expired launch tokens and tickets forgotten: %d")
def forget_expired_launch_records() -> int:
    """Hourly: used launch tokens and old tickets are only needed until they expire."""
    return launch.forget_expired_launch_records()


@routine(crontab(minute="*/15"), did="abandoned assessments completed: %d")
def complete_abandoned_assessments() -> int:
    """A candidate who stops between roleplays still gets results sent, a day later."""
    return services.complete_abandoned_assessments()
