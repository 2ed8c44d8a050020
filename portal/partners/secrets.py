"""Rotating a partner's secrets, with a grace period in which the old one still works.

Webhooks: during the grace period every delivery carries two signatures (new, then old), so
the partner verifies with either while it switches; queued deliveries and replays are signed
with the secrets of the moment they are sent (integrations.routes). JWT: launch tokens signed
with the previous secret are accepted until the grace period ends. Each change is written to
the audit log in its transaction; the log never holds a secret's value.
"""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.signing import new_webhook_secret
from portal import audit
from portal.partners.models import Partner, validate_jwt_secret

WEBHOOK_GRACE = timedelta(hours=24)
JWT_GRACE = timedelta(hours=24)
# The grace periods staff may choose (the console's select): none stops the old secret at once.
GRACE_CHOICES = (
    (timedelta(0), _("none: the old secret stops now")),
    (timedelta(hours=1), _("1 hour")),
    (timedelta(hours=24), _("24 hours")),
    (timedelta(days=7), _("7 days")),
)
# Bytes of randomness in a generated JWT secret (64 URL-safe characters).
JWT_SECRET_BYTES = 48

_FIELDS = (
    "webhook_secret",
    "previous_webhook_secret",
    "jwt_secret",
    "previous_jwt_secret",
)


def _state(partner: Partner) -> dict:
    """What the audit log keeps of a partner's secrets: which changed (masked by name) and
    until when the previous ones are accepted (named so they are not masked)."""
    return audit.snapshot(partner, _FIELDS) | {
        "webhook_grace_ends_at": audit.plain(partner.webhook_grace_ends_at),
        "jwt_grace_ends_at": audit.plain(partner.jwt_grace_ends_at),
    }


def _check_grace(grace: timedelta) -> None:
    if grace < timedelta(0):
        raise ValueError("A grace period cannot be negative.")


def _locked(partner: Partner) -> Partner:
    """The partner's row, locked for this transaction, so two rotations do not interleave."""
    return Partner.objects.select_for_update().get(pk=partner.pk)


def _refresh(partner: Partner, locked: Partner) -> None:
    for name in (*_FIELDS, "previous_webhook_secret_expires_at", "previous_jwt_secret_expires_at"):
        setattr(partner, name, getattr(locked, name))


def partner_rotate_webhook_secret(
    *, partner: Partner, actor, grace: timedelta = WEBHOOK_GRACE
) -> str:
    """Give the partner a new webhook secret and return it (shown to staff once).

    The old secret keeps signing beside the new one for `grace`; with a grace of 0 it stops at
    once. A previous secret still in its grace period is dropped: only one old secret signs.
    """
    _check_grace(grace)
    new = new_webhook_secret()
    with transaction.atomic():
        locked = _locked(partner)
        before = _state(locked)
        if grace > timedelta(0):
            locked.previous_webhook_secret = locked.webhook_secret
            locked.previous_webhook_secret_expires_at = timezone.now() + grace
        else:
            locked.previous_webhook_secret = ""
            locked.previous_webhook_secret_expires_at = None
        locked.webhook_secret = new
        locked.save(
            update_fields=[
                "webhook_secret",
                "previous_webhook_secret",
                "previous_webhook_secret_expires_at",
            ]
        )
        audit.record(
            actor=actor,
            action="partner.rotate_webhook_secret",
            target=locked,
            before=before,
            after=_state(locked),
        )
    _refresh(partner, locked)
    return new


def partner_set_jwt_secret(
    *, partner: Partner, actor, secret: str = "", grace: timedelta = JWT_GRACE
) -> str:
    """Set the partner's HS256 launch secret (a strong one is generated when `secret` is empty)
    and return it (shown to staff once).

    A secret too short is refused with the ValidationError of Partner.clean. Tokens signed with
    the secret it had (its own, or Q3_INTEGRATION_SECRET it used) are accepted for `grace`.
    """
    _check_grace(grace)
    if secret:
        validate_jwt_secret(secret)
    else:
        secret = secrets.token_urlsafe(JWT_SECRET_BYTES)
    with transaction.atomic():
        locked = _locked(partner)
        before = _state(locked)
        old = locked.effective_jwt_secret
        if grace > timedelta(0) and old and old != secret:
            locked.previous_jwt_secret = old
            locked.previous_jwt_secret_expires_at = timezone.now() + grace
        else:
            locked.previous_jwt_secret = ""
            locked.previous_jwt_secret_expires_at = None
        locked.jwt_secret = secret
        locked.save(
            update_fields=["jwt_secret", "previous_jwt_secret", "previous_jwt_secret_expires_at"]
        )
        audit.record(
            actor=actor,
            action="partner.set_jwt_secret",
            target=locked,
            before=before,
            after=_state(locked),
        )
    _refresh(partner, locked)
    return secret


def partner_end_grace(*, partner: Partner, actor) -> None:
    """Stop the previous webhook and JWT secrets now (e.g. once the partner has switched)."""
    with transaction.atomic():
        locked = _locked(partner)
        if not (locked.previous_webhook_secret or locked.previous_jwt_secret):
            return
        before = _state(locked)
        locked.previous_webhook_secret = locked.previous_jwt_secret = ""
        locked.previous_webhook_secret_expires_at = locked.previous_jwt_secret_expires_at = None
        locked.save(
            update_fields=[
                "previous_webhook_secret",
                "previous_webhook_secret_expires_at",
                "previous_jwt_secret",
                "previous_jwt_secret_expires_at",
            ]
        )
        audit.record(
            actor=actor,
            action="partner.end_grace",
            target=locked,
            before=before,
            after=_state(locked),
        )
    _refresh(partner, locked)
