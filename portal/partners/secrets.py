"""Rotating a partner's secrets, with a grace period in which the old one still works.

Webhooks: during the grace period every delivery carries two signatures (new, then old), so
the partner verifies with either while it switches; queued deliveries and replays are signed
with the secrets of the moment they are sent (integrations.routes). JWT: launch tokens signed
with the previous secret are accepted until the grace period ends. Each change is written to
the audit log in its transaction; the log never holds a secret's value.
"""

import secrets
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.signing import new_webhook_secret
from portal.audit import log
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
    return log.snapshot(partner, _FIELDS) | {
        "webhook_grace_ends_at": log.plain(partner.webhook_grace_ends_at),
        "jwt_grace_ends_at": log.plain(partner.jwt_grace_ends_at),
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


def _save_locked(
    partner: Partner, *, actor, action: str, change: Callable[[Partner], list[str]]
) -> None:
    """Apply `change` to the partner's row locked for this transaction, save the fields it
    returns and write the audit row; `partner` then shows the result. No fields: nothing
    changed, nothing is written."""
    with transaction.atomic():
        locked = _locked(partner)
        before = _state(locked)
        fields = change(locked)
        if not fields:
            return
        locked.save(update_fields=fields)
        log.record(actor=actor, action=action, target=locked, before=before, after=_state(locked))
    _refresh(partner, locked)


def _keep_previous(partner: Partner, kind: str, old: str, grace: timedelta) -> list[str]:
    """Keep `old` as the previous `kind` ("webhook", "jwt") secret for `grace`, or none at all
    (no grace, or nothing to keep); the fields it set."""
    fields = [f"previous_{kind}_secret", f"previous_{kind}_secret_expires_at"]
    kept = grace > timedelta(0) and bool(old)
    setattr(partner, fields[0], old if kept else "")
    setattr(partner, fields[1], timezone.now() + grace if kept else None)
    return fields


def partner_rotate_webhook_secret(
    *, partner: Partner, actor, grace: timedelta = WEBHOOK_GRACE
) -> str:
    """Give the partner a new webhook secret and return it (shown to staff once).

    The old secret keeps signing beside the new one for `grace`; with a grace of 0 it stops at
    once. A previous secret still in its grace period is dropped: only one old secret signs.
    """
    _check_grace(grace)
    new = new_webhook_secret()

    def rotate(locked: Partner) -> list[str]:
        kept = _keep_previous(locked, "webhook", locked.webhook_secret, grace)
        locked.webhook_secret = new
        return ["webhook_secret", *kept]

    _save_locked(partner, actor=actor, action="partner.rotate_webhook_secret", change=rotate)
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

    def replace(locked: Partner) -> list[str]:
        old = locked.effective_jwt_secret
        kept = _keep_previous(locked, "jwt", old if old != secret else "", grace)
        locked.jwt_secret = secret
        return ["jwt_secret", *kept]

    _save_locked(partner, actor=actor, action="partner.set_jwt_secret", change=replace)
    return secret


def partner_end_grace(*, partner: Partner, actor) -> None:
    """Stop the previous webhook and JWT secrets now (e.g. once the partner has switched)."""

    def end(locked: Partner) -> list[str]:
        if not (locked.previous_webhook_secret or locked.previous_jwt_secret):
            return []
        locked.previous_webhook_secret = locked.previous_jwt_secret = ""
        locked.previous_webhook_secret_expires_at = locked.previous_jwt_secret_expires_at = None
        return [
            "previous_webhook_secret",
            "previous_webhook_secret_expires_at",
            "previous_jwt_secret",
            "previous_jwt_secret_expires_at",
        ]

    _save_locked(partner, actor=actor, action="partner.end_grace", change=end)
