"""A roleplay partner (e.g. Q3): how we verify its launches and where we send its webhooks."""

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import timezone

from integrations import routes
from integrations.signing import new_webhook_secret
from portal.customers.validators import validate_callback_hosts
from portal.db import Columns, hot_cursor
from portal.text import validate_shown

RESULTS_PATH = "/api/receive-assessment-results"
METADATA_PATH = "/api/receive-cluster-metadata"

# What a partner's delivery is sent to (the last part of its route, "partner:<id>:<target>"):
# its metadata URL, its default results URL, or the URL stored on the delivery (a results_url
# the launch named explicitly).
ROUTE_METADATA = "metadata"
ROUTE_RESULTS = "results"
ROUTE_URL = "url"


def validate_jwt_secret(secret: str) -> None:
    """The one rule for an HS256 launch secret: long enough not to be guessed offline."""
    size, minimum = len(secret.encode()), settings.MIN_JWT_SECRET_BYTES
    if size < minimum:
        raise ValidationError(
            f"Too short: {size} bytes. HS256 secrets need at least {minimum} to be unguessable.",
            code="jwt_secret_too_short",
        )


def _grace_end(previous: str, expires_at: datetime | None) -> datetime | None:
    """When a previous secret stops working: its expiry while still ahead, else None."""
    if previous and expires_at is not None and expires_at > timezone.now():
        return expires_at
    return None


def _with_previous(current: str, previous: str, grace_ends_at: datetime | None) -> tuple[str, ...]:
    """The current secret (when set), then the previous one while its grace period lasts."""
    secrets = (current,) if current else ()
    if grace_ends_at and previous not in secrets:
        return (*secrets, previous)
    return secrets


class Partner(models.Model):
    name = models.CharField(max_length=200, unique=True, validators=[validate_shown])
    jwt_secret = models.CharField(
        max_length=200,
        blank=True,
        help_text="HS256 shared secret of launch tokens; empty uses Q3_INTEGRATION_SECRET.",
    )
    webhook_secret = models.CharField(
        max_length=100,
        default=new_webhook_secret,
        help_text="whsec_ secret of the Standard Webhooks signature on what we send.",
    )
    # The secrets before the last rotation, still good until their expiry (the grace period),
    # so the partner can switch over without losing a launch or a webhook.
    previous_jwt_secret = models.CharField(max_length=200, blank=True, editable=False)
    previous_jwt_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    previous_webhook_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_webhook_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    base_url = models.URLField(help_text="The partner's Q3_BASE_URL, e.g. https://q3.example.com")
    aio_callback_url = models.URLField(
        blank=True, help_text="AIO_CALLBACK_URL: results target when a launch gives none."
    )
    allowed_hosts = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Comma-separated hosts return_url and results_url may use; "
        "the base URL's host is always allowed.",
        validators=[validate_callback_hosts],
    )
    clusters = models.ManyToManyField("roleplays.Cluster", blank=True, related_name="partners")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """A short HS256 secret can be guessed offline from one token: refuse it here (admin
        forms), as the system check refuses it at start-up."""
        if self.jwt_secret:
            try:
                validate_jwt_secret(self.jwt_secret)
            except ValidationError as error:
                raise ValidationError({"jwt_secret": error.messages}) from None

    @property
    def effective_jwt_secret(self) -> str:
        return self.jwt_secret or settings.Q3_INTEGRATION_SECRET

    @property
    def jwt_secrets(self) -> tuple[str, ...]:
        """The secrets a launch token may be signed with: the current one, and the previous
        one while its grace period lasts."""
        return _with_previous(
            self.effective_jwt_secret, self.previous_jwt_secret, self.jwt_grace_ends_at
        )

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """The secrets our webhooks are signed with: the current one, and the previous one
        while its grace period lasts (each gives one signature in the header)."""
        return _with_previous(
            self.webhook_secret, self.previous_webhook_secret, self.webhook_grace_ends_at
        )

    @property
    def webhook_grace_ends_at(self) -> datetime | None:
        """When the previous webhook secret stops signing; None when it already has."""
        return _grace_end(self.previous_webhook_secret, self.previous_webhook_secret_expires_at)

    @property
    def jwt_grace_ends_at(self) -> datetime | None:
        """When the previous JWT secret stops being accepted; None when it already has."""
        return _grace_end(self.previous_jwt_secret, self.previous_jwt_secret_expires_at)

    @property
    def hosts(self) -> list[str]:
        """Hosts our requests for this partner may go to: the listed ones, and the hosts of its
        own base URL and AIO_CALLBACK_URL (results go there when a launch names no target)."""
        hosts = [h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()]
        own = [
            (urlsplit(url).hostname or "").lower() for url in (self.base_url, self.aio_callback_url)
        ]
        return list(dict.fromkeys([host for host in own if host] + hosts))

    def default_results_url(self) -> str:
        """Where results go when a launch gave no results_url (the seed's fallback).

        AIO_CALLBACK_URL when the partner configured one (that is what it is for), otherwise
        Q3_BASE_URL + /api/receive-assessment-results.
        """
        return self.aio_callback_url or self.base_url.rstrip("/") + RESULTS_PATH

    def metadata_url(self) -> str:
        return self.base_url.rstrip("/") + METADATA_PATH

    def route(self, target: str) -> str:
        """The delivery route of one of this partner's targets (ROUTE_METADATA, ...)."""
        if target not in (ROUTE_METADATA, ROUTE_RESULTS, ROUTE_URL):
            raise ValueError(f"Unknown partner route target {target!r}")
        return routes.make("partner", self.pk, target)


# What a delivery's route takes from its partner (resolve_route): every field that
# metadata_url(), default_results_url(), hosts and webhook_secrets read, since the values read
# are what the per-process cache is keyed by.
ROUTE_FIELDS = (
    "base_url",
    "aio_callback_url",
    "allowed_hosts",
    "webhook_secret",
    "previous_webhook_secret",
    "previous_webhook_secret_expires_at",
)


def resolve_route(owner_id: str, target: str, delivery) -> routes.Route | None:
    """A partner delivery's target, secrets and hosts from the partner's settings now (the
    resolver registered for "partner:" routes); None when the partner is gone.

    Every attempt asks this, so it is cheap: one prepared statement reads the partner's
    ROUTE_FIELDS (the ORM built that query anew each time, at more cost than the HTTP request
    it served) — on PostgreSQL the attempt's claim has read them already (route_owner_row) —
    and what they make (URLs, hosts, secrets) is kept per process keyed by the values read.
    The row read is the cache's version: a URL fixed or a secret rotated in any process (the
    console, the admin, a bulk update) applies to the very next attempt, and there is nothing
    to invalidate.
    """
    key = routes.owner_key(owner_id)
    if key is None:
        return None
    row: Any = getattr(delivery, "owner_row", _UNREAD)
    if row is _UNREAD:
        with hot_cursor() as cursor:
            cursor.execute(_route_sql(connection.vendor)[0], [key])
            row = cursor.fetchone()
    if row is None:
        return None
    parts = _route_parts(tuple(row))
    if target == ROUTE_METADATA:
        url = parts.metadata_url
    elif target == ROUTE_RESULTS:
        url = parts.results_url
    else:  # ROUTE_URL: the URL the launch named stays; hosts and secrets are the partner's
        url = delivery.target_url
    # The secrets are picked now: the previous one signs only while its grace period lasts.
    return routes.Route(
        target_url=url, secrets=parts.partner.webhook_secrets, allowed_hosts=parts.hosts
    )


@dataclass(frozen=True)
class _RouteParts:
    """What a partner's routes take from one version of its row (the partner as read, only
    its ROUTE_FIELDS loaded: never saved, nor read further)."""

    partner: "Partner"
    metadata_url: str
    results_url: str
    hosts: tuple[str, ...]


_UNREAD = object()  # a delivery whose claim did not read its partner's row


def route_owner_row() -> routes.OwnerRow:
    """The partner's row as resolve_route reads it, for an attempt's claim to read instead."""
    return routes.OwnerRow(
        table=Partner._meta.db_table,
        key=cast(str, Partner._meta.pk.column),
        columns=tuple(_route_sql(connection.vendor)[1].column_names),
    )


@functools.cache
def _route_sql(vendor: str) -> tuple[str, Columns[Partner]]:
    """The route read for the connection's database, written once per process."""
    columns = Columns(Partner, None, connection, only=ROUTE_FIELDS)
    table = connection.ops.quote_name(Partner._meta.db_table)
    pk = connection.ops.quote_name(cast(str, Partner._meta.pk.column))
    return f"SELECT {columns.sql} FROM {table} WHERE {pk} = %s", columns


@functools.lru_cache(maxsize=256)
def _route_parts(row: tuple) -> _RouteParts:
    """The partner's routes as its row (as read by _route_sql) makes them, through the model's
    own methods: one rule for a partner's URLs, hosts and secrets."""
    partner = _route_sql(connection.vendor)[1].build(connection, row)
    return _RouteParts(
        partner=partner,
        metadata_url=partner.metadata_url(),
        results_url=partner.default_results_url(),
        hosts=tuple(partner.hosts),
    )
