"""The audit log: one row per change a staff member makes (who, when, what, before → after)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The actor's name as it was: the row stays readable after the user is renamed or deleted.
    actor_label = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # "<area>.<verb>", e.g. "partner.rotate_webhook_secret": each service names its own.
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=32, blank=True, db_index=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    # {"field": [before, after]}; a secret's values are never stored, only that it changed.
    changes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"
