"""A roleplay partner (e.g. Q3): how we verify its launches and where we send its webhooks."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from integrations.signing import new_webhook_secret

RESULTS_PATH = "/api/receive-assessment-results"
METADATA_PATH = "/api/receive-cluster-metadata"


class Partner(models.Model):
    name = models.CharField(max_length=200, unique=True)
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
    base_url = models.URLField(help_text="The partner's Q3_BASE_URL, e.g. https://q3.example.com")
    aio_callback_url = models.URLField(
        blank=True, help_text="AIO_CALLBACK_URL: results target when a launch gives none."
    )
    allowed_hosts = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Comma-separated hosts return_url and results_url may use; "
        "the base URL's host is always allowed.",
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
        if self.jwt_secret and len(self.jwt_secret.encode()) < settings.MIN_JWT_SECRET_BYTES:
            raise ValidationError(
                {"jwt_secret": f"Use at least {settings.MIN_JWT_SECRET_BYTES} bytes."}
            )

    @property
    def effective_jwt_secret(self) -> str:
        return self.jwt_secret or settings.Q3_INTEGRATION_SECRET

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
