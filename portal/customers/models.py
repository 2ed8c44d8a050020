"""A customer is a partner company; its servers call the API with a client token."""

import functools
import secrets
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import connection, models
from django.utils import timezone

from portal.customers.validators import validate_callback_hosts
from portal.db import Columns, hot_rows
from portal.hashing import sha256_hex as hash_token
from portal.text import validate_shown

# last_used_at is written at most this often per token, so that a busy token does not turn
# every API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def new_signing_secret() -> str:
    return secrets.token_urlsafe(32)


def parse_client_token(raw: str | None) -> str | None:
    """Return the canonical form of a client token UUID, or None when it is not one."""
    if not raw:
        return None
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        return None


class Customer(models.Model):
    name = models.CharField(max_length=200, unique=True, validators=[validate_shown])
    # Signs the result parameters we append to callback URLs (HMAC-SHA256), so the customer
    # can tell a real result from a forged query string. It must stay usable, so not hashed.
    signing_secret = models.CharField(max_length=100, default=new_signing_secret)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def token_sql_parts() -> tuple[str, str, str]:
    """ClientToken.objects.usable() by hash (the named parameter %(token)s) with its customer,
    as the (columns, FROM, WHERE) of a SELECT: the token aliased t, its customer c, the columns
    those of ClientToken.from_row(). A statement that reads more with the token (the launch's
    exam, portal.exams.services) joins onto them."""
    token, customer = _token_columns(connection.vendor)
    # The token by its unique hash first, whatever a fresh database's statistics say.
    return (
        f"{token.sql}, {customer.sql}",
        f"(SELECT * FROM {ClientToken._meta.db_table} WHERE token_hash = %(token)s LIMIT 1) t"
        f" JOIN {Customer._meta.db_table} c ON c.id = t.customer_id",
        "t.revoked_at IS NULL AND c.is_active",
    )


@functools.cache
def _token_columns(vendor: str) -> tuple["Columns[ClientToken]", Columns[Customer]]:
    """The token's and its customer's columns, read by hand as the ORM reads them."""
    return Columns(ClientToken, "t", connection), Columns(Customer, "c", connection)


@functools.cache
def _token_sql() -> str:
    columns, source, where = token_sql_parts()
    return f"SELECT {columns} FROM {source} WHERE {where}"


class ClientTokenQuerySet(models.QuerySet):
    def usable(self) -> "ClientTokenQuerySet":
        return self.filter(revoked_at__isnull=True, customer__is_active=True)


class ClientToken(models.Model):
    """A customer's API credential. Only a SHA-256 of the token is stored."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tokens")
    label = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="First characters, to recognise a token."
    )
    allowed_callback_hosts = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Comma-separated host names callback_url may use; empty allows any host.",
        validators=[validate_callback_hosts],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ClientTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.customer} · {self.prefix}…"

    @classmethod
    def issue(
        cls, *, customer: Customer, label: str = "", allowed_callback_hosts: str = ""
    ) -> tuple["ClientToken", str]:
        """Create a token; return it with its plain value, which is never stored."""
        raw = str(uuid.uuid4())
        token = cls.objects.create(
            customer=customer,
            label=label,
            allowed_callback_hosts=allowed_callback_hosts,
            token_hash=hash_token(raw),
            prefix=raw[:8],
        )
        return token, raw

    @classmethod
    def authenticate(cls, raw: str | None) -> "ClientToken | None":
        canonical = parse_client_token(raw)
        if canonical is None:
            return None
        token = cls._usable_by_hash(hash_token(canonical))
        if token is not None:
            token.touch()
        return token

    @classmethod
    def _usable_by_hash(cls, token_hash: str) -> "ClientToken | None":
        """The usable token with this hash and its customer: one statement written once, every
        API request reads it (the ORM built it anew each time, more than the query took)."""
        rows = hot_rows(_token_sql(), {"token": token_hash})
        return cls.from_row(rows[0]) if rows else None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> "ClientToken":
        """The token with its customer from the first row_length() columns of a row read with
        token_sql_parts(), as the ORM would give them."""
        token_columns, customer_columns = _token_columns(connection.vendor)
        split = token_columns.count
        token = token_columns.build(connection, row[:split])
        token.customer = customer_columns.build(connection, row[split : cls.row_length()])
        return token

    @staticmethod
    def row_length() -> int:
        """How many columns of a row from_row() takes (token_sql_parts' columns)."""
        token_columns, customer_columns = _token_columns(connection.vendor)
        return token_columns.count + customer_columns.count

    def touch(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at > LAST_USED_RESOLUTION:
            hot_rows(
                f"UPDATE {ClientToken._meta.db_table} SET last_used_at = %(now)s WHERE id = %(id)s",
                {"now": connection.ops.adapt_datetimefield_value(now), "id": self.pk},
            )
            self.last_used_at = now

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    @property
    def allowed_hosts(self) -> list[str]:
        return [h.strip().lower() for h in self.allowed_callback_hosts.split(",") if h.strip()]

    def allows_callback(self, url: str) -> bool:
        hosts = self.allowed_hosts
        return not hosts or (urlsplit(url).hostname or "").lower() in hosts
