"""What every transport is: one attempt in, an AttemptResult or a TransportError out.

A transport knows how one kind of delivery leaves the portal (a signed webhook, a HubSpot
sync, an e-mail); the outbox (integrations.deliveries) knows when: claims, attempts, the
schedule and replay are the same for all and live there. A transport with several steps keeps
its progress in `Delivery.state` and records it with `save_state()` as soon as a step is done,
so a retry skips what is already done.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from django.utils import timezone

from integrations.models import Delivery, DeliveryAttempt, JSONObject

# The most of a reply an attempt keeps (DeliveryAttempt.response_excerpt).
EXCERPT_CHARS = 2048
MAX_RETRY_AFTER = timedelta(hours=24)

Outcome = DeliveryAttempt.Outcome


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt came to, in plain data."""

    outcome: str  # Outcome.DELIVERED, FAILED or REFUSED (permanent)
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    retry_after: timedelta | None = None
    # Where the attempt went, when the transport decided it at sending (a routed webhook).
    target_url: str = ""


class TransportError(Exception):
    """An attempt failed: retried on the schedule, or the delivery is dead if `permanent`."""

    def __init__(
        self,
        message: str,
        permanent: bool = False,
        *,
        status_code: int | None = None,
        excerpt: str = "",
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status_code = status_code
        self.excerpt = excerpt
        self.retry_after = retry_after

    def result(self) -> AttemptResult:
        return AttemptResult(
            Outcome.REFUSED if self.permanent else Outcome.FAILED,
            status_code=self.status_code,
            excerpt=self.excerpt[:EXCERPT_CHARS],
            error=self.message,
            retry_after=self.retry_after,
        )


class Transport:
    """How one kind of delivery leaves the portal. `send()` makes one attempt."""

    # What a delivered delivery of this transport is called in the portal's own statuses.
    done_status = "delivered"

    def send(self, delivery: Delivery) -> AttemptResult:
        """One attempt: return its result, or raise TransportError."""
        raise NotImplementedError

    def replay_state(self, state: JSONObject) -> JSONObject:
        """The progress a replay starts from (by default all of it: nothing is done twice)."""
        return state


def save_state(delivery: Delivery) -> None:
    """Record a transport's progress now, before its next step, while this worker holds the
    claim: a worker dying after a step that must not be repeated then loses nothing."""
    Delivery.objects.filter(pk=delivery.pk, locked_until=delivery.locked_until).update(
        state=delivery.state
    )


def retry_after_delay(value: str | None, now: datetime | None = None) -> timedelta | None:
    """A Retry-After header (delay-seconds or HTTP-date) as a delay, capped at 24 hours."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        delay = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        delay = when - (now or timezone.now())
    return min(max(delay, timedelta(0)), MAX_RETRY_AFTER)
