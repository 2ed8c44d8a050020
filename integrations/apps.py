"""The integrations app: the outbox of every message the portal sends to the outside world."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    label = "integrations"
    verbose_name = "Outbound deliveries"
