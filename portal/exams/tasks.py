"""Huey tasks of the exam product."""

from huey import crontab

from portal.exams import services
from portal.queue import routine


@routine(crontab(minute="*"), did="quizzes past their deadline finished: %d")
def finish_expired_quizzes() -> int:
    """Complete quizzes whose deadline passed, so their result can still reach the customer."""
    return services.finish_expired_quizzes()
