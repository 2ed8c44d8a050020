"""The transports, by `Delivery.transport`: the one place a kind of sending is declared.

A new kind of receiver is a module here with a Transport (see base.py), a choice in
`Delivery.Transport` and a line in TRANSPORTS. The outbox (integrations.deliveries) sends
through this table and knows none of them by name; no transport imports the outbox.
"""

from collections.abc import Mapping
from types import MappingProxyType

from integrations.models import Delivery
from integrations.transports.base import AttemptResult, Transport, TransportError
from integrations.transports.email import EmailTransport
from integrations.transports.hubspot import HubSpotTransport
from integrations.transports.webhook import WebhookTransport

__all__ = ["TRANSPORTS", "AttemptResult", "Transport", "TransportError", "transport_for"]

# Made once per process: a transport keeps no state of its own between attempts.
TRANSPORTS: Mapping[str, Transport] = MappingProxyType(
    {
        Delivery.Transport.WEBHOOK: WebhookTransport(),
        Delivery.Transport.HUBSPOT: HubSpotTransport(),
        Delivery.Transport.EMAIL: EmailTransport(),
    }
)


def transport_for(delivery: Delivery) -> Transport:
    """The delivery's transport; an unknown one is a permanent TransportError."""
    try:
        return TRANSPORTS[delivery.transport]
    except KeyError:
        raise TransportError(f"Unknown transport {delivery.transport!r}", permanent=True) from None
