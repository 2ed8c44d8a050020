"""Periodic upkeep, enqueued by the scheduler role only (Procfile; `run_huey --no-periodic`
elsewhere): a heartbeat every minute, pruning once a day."""

import logging

from huey import crontab

from portal import health
from portal.housekeeping import prune
from portal.queue import routine

logger = logging.getLogger(__name__)


@routine(crontab(minute="*"), uses_db=False)
def heartbeat() -> None:
    """A consumer is alive and the scheduler enqueues: /readyz and /metrics report its age."""
    health.beat()


@routine(crontab(minute="17", hour="3"))
def prune_daily() -> dict[str, int]:
    """Delete what has served its time (portal/housekeeping/prune.py)."""
    deleted = prune.prune_all()
    logger.info("pruned: %s", ", ".join(f"{n} {name}" for name, n in deleted.items()))
    return deleted
