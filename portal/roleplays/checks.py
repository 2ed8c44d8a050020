"""System check: no active partner may sign launch tokens with a guessable (short) secret."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.db import DatabaseError, connections, router

from portal.partners.models import Partner  # loaded from RoleplaysConfig.ready()


def _active_partners() -> list[Partner] | None:
    """The active partners' names and secrets; None before the first migrate.

    System checks run at the start of every management command, run_huey's included: the
    connection a check opens is closed again, or the consumer's main thread would keep it for
    its whole life, idle (and Huey's process workers, forked from it, would share it).
    """
    connection = connections[router.db_for_read(Partner)]
    opened = connection.connection is None
    try:
        return list(Partner.objects.filter(is_active=True).only("name", "jwt_secret"))
    except DatabaseError:
        return None
    finally:
        if opened and not connection.in_atomic_block:
            connection.close()


def check_partner_jwt_secrets(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Iterable[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """An error for each active partner whose own jwt_secret is shorter than the minimum.

    Q3_INTEGRATION_SECRET, the default, is refused by the settings already. A database that
    is not there yet (before the first migrate) is not this check's business.
    """
    minimum = settings.MIN_JWT_SECRET_BYTES
    partners = [partner for partner in _active_partners() or () if partner.jwt_secret]
    return [
        Error(
            f"Partner {partner.name!r} has a jwt_secret of {len(partner.jwt_secret.encode())} "
            f"bytes; HS256 launch tokens need at least {minimum}.",
            hint="Set a longer jwt_secret (e.g. secrets.token_urlsafe(48)), or deactivate "
            "the partner.",
            obj=partner,
            id="roleplays.E001",
        )
        for partner in partners
        if len(partner.jwt_secret.encode()) < minimum
    ]


def check_partner_secrets_are_distinct(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Iterable[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """The request names no partner: the secret that verifies a token says who sent it. Two
    active partners signing with one secret could launch as each other."""
    by_secret: dict[str, list[str]] = {}
    for partner in _active_partners() or ():
        if partner.effective_jwt_secret:
            by_secret.setdefault(partner.effective_jwt_secret, []).append(partner.name)
    return [
        Error(
            f"Partners {', '.join(sorted(names))} sign launch tokens with the same secret, so "
            "a token cannot tell them apart.",
            hint="Give each partner its own jwt_secret (Q3_INTEGRATION_SECRET serves one).",
            id="roleplays.E002",
        )
        for names in by_secret.values()
        if len(names) > 1
    ]


def check_outbound_loopback(app_configs=None, **kwargs: Any) -> list[CheckMessage]:
    """`check --deploy`: webhooks to 127.0.0.1 are for the sandbox and development only."""
    if settings.OUTBOUND_ALLOW_LOOPBACK and not settings.DEBUG:
        return [
            Warning(
                "OUTBOUND_ALLOW_LOOPBACK is on: a partner whose host resolves to 127.0.0.1 could "
                "make the portal post to its own local services.",
                hint="Set OUTBOUND_ALLOW_LOOPBACK=false in production.",
                id="roleplays.W001",
            )
        ]
    return []
