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
