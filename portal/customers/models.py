"""A customer is a partner company; its servers call the API with a client token."""

import hashlib
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.db import models
from django.utils import timezone

from portal.customers.validators import validate_callback_hosts

# last_used_at is written at most this often per token, so that a busy token does not turn
# every API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def new_signing_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_client_token(raw: str | None) -> str | None:
    """Return the canonical form of a client token UUID, or None when it is not one."""
    if not raw:
        return None
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        return None


class Customer(models.Model):
    name = models.CharField(max_length=200, unique=True)
    # Signs the result parameters we append to callback URLs (HMAC-SHA256), so the customer
    # can tell a real result from a forged query string. It must stay usable, so not hashed.
    signing_secret = models.CharField(max_length=100, default=new_signing_secret)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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
        token = (
            cls.objects.usable()
            .select_related("customer")
            .filter(token_hash=hash_token(canonical))
            .first()
        )
        if token is not None:
            token.touch()
        return token

    def touch(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at > LAST_USED_RESOLUTION:
            ClientToken.objects.filter(pk=self.pk).update(last_used_at=now)
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
