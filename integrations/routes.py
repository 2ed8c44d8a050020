"""Where a delivery goes and what signs it, decided when it is sent, not when it was queued.

A delivery's `route` names its owner and what it is sent to, as "<prefix>:<id>:<target>"
(e.g. "partner:7:results"). The app that owns the prefix registers a resolver at start-up
(`register("partner", resolver)` in its AppConfig.ready()), so this package never imports a
portal model. `resolve()` asks that resolver at each attempt: a partner that fixed its URL or
rotated its secret is followed by deliveries already queued and by replays. Without a route,
with an unknown prefix, or when the owner is gone, the delivery's stored values are used.

A resolver may also name its owner's row (`OwnerRow`): on PostgreSQL the attempt's claim then
reads that row in its own statement and hands it to the resolver on the delivery
(`Delivery.owner_row`), one round trip less per attempt; elsewhere the resolver reads it itself.
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


@dataclass(frozen=True)
class OwnerRow:
    """The row a resolver reads of a route's owner: `table`, keyed by its integer column `key`
    (the route's owner id), and the `columns` it reads, in order. An attempt's claim that reads
    it sets Delivery.owner_row to those values, or to None when no row has that key."""

    table: str
    key: str
    columns: tuple[str, ...]


_resolvers: dict[str, Resolver] = {}
_owner_rows: dict[str, OwnerRow] = {}


def register(prefix: str, resolver: Resolver, *, owner_row: OwnerRow | None = None) -> None:
    """Let `resolver` decide the route of deliveries whose route starts with "<prefix>:"; with
    `owner_row`, the attempt may read the owner's row for it (the module docstring)."""
    if ":" in prefix or not prefix:
        raise ValueError(f"A route prefix is a non-empty word without ':', not {prefix!r}")
    _resolvers[prefix] = resolver
    if owner_row is not None:
        _owner_rows[prefix] = owner_row


def owner_rows() -> dict[str, OwnerRow]:
    """The owner rows the resolvers registered, by route prefix."""
    return dict(_owner_rows)


# An owner id that can be an integer key: 1 to 18 ASCII digits (a bigint holds them all).
OWNER_KEY_DIGITS = 18


def owner_key(owner_id: str) -> int | None:
    """The route's owner id as an integer key; None when it can't be one (no owner has it)."""
    if owner_id.isascii() and owner_id.isdigit() and len(owner_id) <= OWNER_KEY_DIGITS:
        return int(owner_id)
    return None


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
