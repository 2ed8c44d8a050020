"""Changes to customers and their client tokens; each one writes its audit row in its transaction.

The staff console and the management commands call these, so a change made either way is
checked by the same rules and leaves the same trace. Plain secrets (a new client token, a new
signing secret) are returned to the caller to show once; the audit log only says they changed.
"""

from django.db import transaction
from django.utils import timezone

from portal.audit import log
from portal.customers.models import ClientToken, Customer, new_signing_secret
from portal.customers.validators import normalise_callback_hosts
from portal.db import unique_or_invalid

CUSTOMER_FIELDS = ("name", "is_active", "signing_secret")
TOKEN_FIELDS = ("prefix", "label", "allowed_callback_hosts", "revoked_at")


def customer_create(*, name: str, actor, note: str = "") -> Customer:
    """A new, active customer with a fresh callback signing secret (read it from the result to
    show it once). ValidationError when another customer took the name meanwhile."""
    name = name.strip()
    with unique_or_invalid(Customer, "name", name), transaction.atomic():
        customer = Customer.objects.create(name=name)
        log.record(
            actor=actor,
            action="customer.create",
            target=customer,
            after=log.snapshot(customer, CUSTOMER_FIELDS),
            note=note,
        )
    return customer


def customer_set_active(*, customer: Customer, is_active: bool, actor) -> bool:
    """Activate or deactivate a customer (a deactivated customer's tokens stop
    authenticating). False when it already was so (nothing written)."""
    with transaction.atomic():
        changed = Customer.objects.filter(pk=customer.pk).exclude(is_active=is_active)
        if not changed.update(is_active=is_active):
            return False
        before = {"is_active": customer.is_active}
        customer.is_active = is_active
        log.record(
            actor=actor,
            action="customer.activate" if is_active else "customer.deactivate",
            target=customer,
            before=before,
            after={"is_active": is_active},
        )
    return True


def customer_rotate_signing_secret(*, customer: Customer, actor) -> str:
    """Replace the secret that signs callback results; return the new one (to show once).

    Callbacks signed from now on use it; the customer must update its check at the same time.
    """
    secret = new_signing_secret()
    with transaction.atomic():
        before = log.snapshot(customer, ("signing_secret",))
        Customer.objects.filter(pk=customer.pk).update(signing_secret=secret)
        customer.signing_secret = secret
        log.record(
            actor=actor,
            action="customer.rotate_signing_secret",
            target=customer,
            before=before,
            after={"signing_secret": secret},
        )
    return secret


def client_token_issue(
    *, customer: Customer, label: str, allowed_callback_hosts: str, actor, note: str = ""
) -> tuple[ClientToken, str]:
    """Issue a client token; return it with its plain value, which is never stored (show it
    once). Raises ValidationError for allowed hosts that are not host names."""
    hosts = normalise_callback_hosts(allowed_callback_hosts)
    with transaction.atomic():
        token, raw = ClientToken.issue(
            customer=customer, label=label.strip(), allowed_callback_hosts=hosts
        )
        log.record(
            actor=actor,
            action="client_token.issue",
            target=token,
            after=log.snapshot(token, TOKEN_FIELDS),
            note=note,
        )
    return token, raw


def client_token_update(
    *, token: ClientToken, label: str, allowed_callback_hosts: str, actor
) -> ClientToken:
    """Change a token's label and allowed callback hosts (its value never changes)."""
    hosts = normalise_callback_hosts(allowed_callback_hosts)
    with transaction.atomic():
        before = log.snapshot(token, TOKEN_FIELDS)
        token.label = label.strip()
        token.allowed_callback_hosts = hosts
        token.save(update_fields=["label", "allowed_callback_hosts"])
        after = log.snapshot(token, TOKEN_FIELDS)
        if before != after:
            log.record(
                actor=actor, action="client_token.update", target=token, before=before, after=after
            )
    return token


def client_token_revoke(*, token: ClientToken, actor, note: str = "") -> bool:
    """Revoke a token: it stops authenticating at once. False when it already was revoked."""
    now = timezone.now()
    with transaction.atomic():
        before = log.snapshot(token, TOKEN_FIELDS)
        revoked = ClientToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if not revoked:
            token.refresh_from_db(fields=["revoked_at"])
            return False
        token.revoked_at = now
        log.record(
            actor=actor,
            action="client_token.revoke",
            target=token,
            before=before,
            after=log.snapshot(token, TOKEN_FIELDS),
            note=note,
        )
    return True
