"""System check: no active partner may sign launch tokens with a guessable (short) secret."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.db import DatabaseError


def check_partner_jwt_secrets(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Iterable[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """An error for each active partner whose own jwt_secret is shorter than the minimum.

    Q3_INTEGRATION_SECRET, the default, is refused by the settings already. A database that
    is not there yet (before the first migrate) is not this check's business.
    """
    from portal.partners.models import Partner

    minimum = settings.MIN_JWT_SECRET_BYTES
    try:
        partners = list(
            Partner.objects.filter(is_active=True).exclude(jwt_secret="").only("name", "jwt_secret")
        )
    except DatabaseError:
        return []
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
