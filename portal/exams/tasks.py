"""Huey tasks of the exam product."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from portal.exams import services


@db_periodic_task(crontab(minute="*"))
def finish_expired_quizzes() -> int:
    """Complete quizzes whose deadline passed, so their result can still reach the customer."""
    return services.finish_expired_quizzes()
