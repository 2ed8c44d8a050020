"""What the sandbox customer keeps on its own side: its client token and signing secret."""

from django.db import models


class ExamCustomerAccount(models.Model):
    """The sandbox's credentials with the exam API, as an outside customer would store them.

    One row (pk=1), written by `seed_demo`. The token is kept in plain text here because this
    is the customer's copy; the portal itself only stores its hash.
    """

    customer_name = models.CharField(max_length=200)
    client_token = models.CharField(max_length=64)
    signing_secret = models.CharField(max_length=100)
    exam_eurls = models.JSONField(default=list, help_text="Exams shown on the sandbox page.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Sandbox account of {self.customer_name}"

    @classmethod
    def current(cls) -> "ExamCustomerAccount | None":
        return cls.objects.filter(pk=1).first()


class Q3Account(models.Model):
    """The sandbox Q3's own settings: its JWT secret and the webhook secret it verifies with.

    One row (pk=1), written by `seed_demo`; plain text because this is the partner's copy.
    """

    partner_name = models.CharField(max_length=200)
    jwt_secret = models.CharField(max_length=200)
    webhook_secret = models.CharField(max_length=100)
    cluster_ids = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Sandbox Q3 account of {self.partner_name}"

    @classmethod
    def current(cls) -> "Q3Account | None":
        return cls.objects.filter(pk=1).first()


class ReceivedWebhook(models.Model):
    """What the sandbox Q3 received on its two endpoints, as it received it."""

    kind = models.CharField(max_length=40)  # cluster_metadata_sync / results_submission
    webhook_id = models.CharField(max_length=100, blank=True)
    payload = models.JSONField(null=True)
    signature_valid = models.BooleanField(default=False)
    schema_error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # Standard Webhooks: a retry carries the same webhook-id; process it once.
            models.UniqueConstraint(
                fields=["kind", "webhook_id"],
                condition=~models.Q(webhook_id=""),
                name="sandbox_webhook_once",
            )
        ]
