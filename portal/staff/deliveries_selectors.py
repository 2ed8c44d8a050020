"""Reading the outbox for the console's deliveries pages: states, partner names, routes."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from integrations import routes
from integrations.deliveries import replayable_q
from integrations.models import Delivery, DeliveryAttempt
from portal.partners.models import Partner

Status = Delivery.Status
RETRYING = "retrying"
# The console's states of a delivery: the stored ones, and "retrying" (pending after a failed
# attempt: it waits for the next one on the schedule). "superseded": a newer delivery of its
# group (e.g. newer cluster metadata for the same partner) replaced it before it was sent.
STATES = (Status.PENDING, RETRYING, Status.DEAD, Status.DELIVERED, Status.SUPERSEDED)
PARTNER_ROUTE = "partner:"
# The columns a list never reads: the body can be large, the secret is never shown.
LIST_DEFERRED = ("payload", "signing_secret", "state", "allowed_hosts")


def retrying_q() -> Q:
    """Pending deliveries with at least one attempt made ("failing"): none of them succeeded,
    or the delivery would not be pending. A replay starts a new series from zero."""
    return Q(status=Status.PENDING, attempt_count__gt=0)


def with_state(queryset: QuerySet[Delivery], state: str) -> QuerySet[Delivery]:
    """The deliveries in one console state ("pending" is every pending one, failing or not)."""
    if state == RETRYING:
        return queryset.filter(retrying_q())
    return queryset.filter(status=state)


def state_of(delivery: Delivery) -> str:
    """The console's state of one delivery (its badge)."""
    if delivery.status == Status.PENDING and delivery.attempt_count > 0:
        return RETRYING
    return delivery.status


def deliveries_for_list() -> QuerySet[Delivery]:
    return Delivery.objects.defer(*LIST_DEFERRED)


def of_partner(queryset: QuerySet[Delivery], partner_id: int) -> QuerySet[Delivery]:
    return queryset.filter(route__startswith=f"{PARTNER_ROUTE}{partner_id}:")


def partner_id_of(delivery: Delivery) -> int | None:
    """The partner a delivery is routed to ("partner:<id>:<target>"), if any."""
    route = delivery.route
    if not route.startswith(PARTNER_ROUTE):
        return None
    owner = route.split(":")[1]
    return int(owner) if owner.isdigit() else None


def partner_of(delivery: Delivery) -> Partner | None:
    """The partner a delivery is routed to (None if none, or deleted since)."""
    partner_id = partner_id_of(delivery)
    return Partner.objects.filter(pk=partner_id).first() if partner_id is not None else None


def partner_names(deliveries: Iterable[Delivery]) -> dict[int, str]:
    """The names of the partners these deliveries are routed to, in one query."""
    ids = {pk for pk in map(partner_id_of, deliveries) if pk is not None}
    if not ids:
        return {}
    return dict(Partner.objects.filter(pk__in=ids).values_list("pk", "name"))


def all_partner_names() -> dict[int, str]:
    """Every partner's name by id (a short table), for an export of any length."""
    return dict(Partner.objects.values_list("pk", "name"))


def known_kinds() -> list[str]:
    """The event kinds in the outbox, for the kind filter's suggestions."""
    return list(Delivery.objects.order_by("kind").values_list("kind", flat=True).distinct())


def delivery_detail(pk: int) -> Delivery:
    """One delivery with every attempt (oldest first), or 404."""
    attempts = Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("started_at", "pk"))
    return get_object_or_404(Delivery.objects.prefetch_related(attempts), pk=pk)


@dataclass(frozen=True)
class Destination:
    """Where a delivery would go if it were sent now. Never the secrets themselves."""

    target_url: str
    signatures: int
    allowed_hosts: tuple[str, ...]

    @property
    def signed(self) -> bool:
        return self.signatures > 0


def destination(delivery: Delivery) -> Destination:
    """The delivery's route resolved from its owner's current settings (the stored target and
    secret when it has no route, or its owner is gone)."""
    route = routes.resolve(delivery)
    return Destination(
        target_url=route.target_url,
        signatures=len(route.secrets),
        allowed_hosts=tuple(route.allowed_hosts),
    )


def is_replayable(delivery: Delivery) -> bool:
    """Delivered or dead, and no newer delivery of its group replaced it."""
    return delivery.status in (Status.DELIVERED, Status.DEAD) and delivery.superseded_by_id is None


def superseded_q() -> Q:
    """Deliveries a newer one of their group replaced: never sent (again)."""
    return Q(status=Status.SUPERSEDED) | Q(superseded_by__isnull=False)


def replay_counts(queryset: QuerySet[Delivery]) -> tuple[int, int, int]:
    """How many of a (filtered) set a bulk replay would send again, how many pending ones it
    would leave alone, and how many superseded ones (a newer one of their group replaced
    them) it leaves alone too."""
    counts = queryset.order_by().aggregate(
        replayable=Count("pk", filter=replayable_q()),
        pending=Count("pk", filter=Q(status=Status.PENDING)),
        superseded=Count("pk", filter=superseded_q() & ~Q(status=Status.PENDING)),
    )
    return counts["replayable"], counts["pending"], counts["superseded"]
