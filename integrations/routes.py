"""Where a delivery goes and what signs it, decided when it is sent, not when it was queued.

A delivery's `route` names its owner and what it is sent to, as "<prefix>:<id>:<target>"
(e.g. "partner:7:results"). The app that owns the prefix registers a resolver at start-up
(`register("partner", resolver)` in its AppConfig.ready()), so this package never imports a
portal model. `resolve()` asks that resolver at each attempt: a partner that fixed its URL or
rotated its secret is followed by deliveries already queued and by replays. Without a route,
with an unknown prefix, or when the owner is gone, the delivery's stored values are used.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from integrations.models import Delivery

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    """Where one attempt goes, the secrets that sign it (one signature each; empty: unsigned),
    and the hosts its URL may be on (empty: any public host)."""

    target_url: str
    secrets: tuple[str, ...]
    allowed_hosts: tuple[str, ...]


# A resolver gets the route's parts after the prefix ("7", "results") and the delivery; it
# returns the Route, or None when the owner no longer exists (the stored values apply).
Resolver = Callable[[str, str, Delivery], Route | None]

_resolvers: dict[str, Resolver] = {}


def register(prefix: str, resolver: Resolver) -> None:
    """Let `resolver` decide the route of deliveries whose route starts with "<prefix>:"."""
    if ":" in prefix or not prefix:
        raise ValueError(f"A route prefix is a non-empty word without ':', not {prefix!r}")
    _resolvers[prefix] = resolver


def make(prefix: str, owner_id: object, target: str) -> str:
    """The route string of an owner's target, e.g. make("partner", 7, "results")."""
    return f"{prefix}:{owner_id}:{target}"


def stored(delivery: Delivery) -> Route:
    """The route as recorded on the delivery when it was queued."""
    secret = delivery.signing_secret
    return Route(
        target_url=delivery.target_url,
        secrets=(secret,) if secret else (),
        allowed_hosts=tuple(delivery.allowed_hosts or ()),
    )


def resolve(delivery: Delivery) -> Route:
    """Where the delivery goes now, and what signs it (see the module docstring)."""
    if not delivery.route:
        return stored(delivery)
    prefix, owner_id, target = (delivery.route.split(":", 2) + ["", ""])[:3]
    resolver = _resolvers.get(prefix)
    if resolver is None:
        logger.warning("Delivery %s: no resolver for route %r", delivery.pk, delivery.route)
        return stored(delivery)
    route = resolver(owner_id, target, delivery)
    return stored(delivery) if route is None else route
