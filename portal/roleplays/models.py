"""Roleplay content (cluster → roleplays → competencies, stakeholders, turns, options, Likert
items) and what a candidate does with it (assessment → roleplay attempts → responses)."""

import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.jsonformat import INT_MAX


def new_cluster_id() -> str:
    """A short id in the seed's shape, e.g. "b4bf406c-4f9"."""
    raw = uuid.uuid4().hex
    return f"{raw[:8]}-{raw[8:11]}"


def new_roleplay_id() -> str:
    return f"rp-{secrets.token_hex(4)}"


class Cluster(models.Model):
    cluster_id = models.CharField(max_length=64, unique=True, default=new_cluster_id)
    cluster_name = models.CharField(max_length=200)
    cluster_type = models.CharField(max_length=100, help_text='e.g. "Leadership", "Sales".')
    description = models.TextField(blank=True)
    # The candidate's pages speak it (as an exam's language does), right-to-left in fa.
    language = models.CharField(
        max_length=8, choices=settings.LANGUAGES, default="en", help_text="Language of the pages."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Not a column: annotated by the admin's list (portal.roleplays.admin).
    roleplay_total: int

    class Meta:
        ordering = ["cluster_name"]

    def __str__(self) -> str:
        return f"{self.cluster_name} ({self.cluster_id})"


class Roleplay(models.Model):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="roleplays")
    position = models.PositiveIntegerField(default=1)
    roleplay_id = models.CharField(max_length=64, unique=True, default=new_roleplay_id)
    roleplay_name = models.CharField(max_length=200)
    # The cluster format's bounds (format.RoleplayIn): the admin stored 10^12 minutes, which
    # the format then refused on the way back in, and a candidate's Start overflowed the date.
    total_time_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(INT_MAX)]
    )
    scenario = models.TextField(help_text="The brief the candidate reads before starting.")

    class Meta:
        ordering = ["cluster", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_time_minutes__gte=1), name="roleplay_time_at_least_one_minute"
            )
        ]

    def __str__(self) -> str:
        return self.roleplay_name


class Competency(models.Model):
    class Kind(models.TextChoices):
        SJT = "sjt", "Situational judgement (marks per option)"
        PF16 = "16pf", "16PF trait (Likert items, sten score)"

    roleplay = models.ForeignKey(Roleplay, on_delete=models.CASCADE, related_name="competencies")
    position = models.PositiveIntegerField(default=1)
    code = models.CharField(max_length=64, help_text="The competency id partners see.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SJT)
    max_score = models.FloatField(validators=[MinValueValidator(0)])
    # 16PF only: 9 ascending raw-score cut-offs; sten = 1 + cut-offs exceeded (see scoring).
    norm_table = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["roleplay", "position", "id"]
        verbose_name_plural = "competencies"
        constraints = [
            models.UniqueConstraint(fields=["roleplay", "code"], name="competency_code_once"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Stakeholder(models.Model):
    roleplay = models.ForeignKey(Roleplay, on_delete=models.CASCADE, related_name="stakeholders")
    position = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=120)
    role = models.CharField(max_length=200)
    brief = models.TextField(blank=True, help_text="What the candidate knows about them.")

    class Meta:
        ordering = ["roleplay", "position", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class Turn(models.Model):
    """Something a stakeholder says; the candidate answers by choosing one option."""

    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="turns")
    key = models.CharField(
        max_length=64, help_text="Unique within the roleplay; options point here."
    )
    position = models.PositiveIntegerField(default=1, help_text="The first turn opens the talk.")
    message = models.TextField()

    class Meta:
        ordering = ["stakeholder", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["stakeholder", "key"], name="turn_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.stakeholder.name}: {self.message[:60]}"


class Option(models.Model):
    turn = models.ForeignKey(Turn, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveIntegerField(default=1)
    text = models.TextField()
    # Marks per competency code, e.g. {"CUST_FOCUS": 3, "COMPOSURE": 1}; may be negative.
    marks = models.JSONField(default=dict, blank=True)
    next_turn = models.ForeignKey(
        Turn,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where the conversation branches; empty ends the talk with this stakeholder.",
    )

    class Meta:
        ordering = ["turn", "position", "id"]

    def __str__(self) -> str:
        return self.text[:80]


class LikertItem(models.Model):
    """A statement rated 1 (strongly disagree) .. 5 (strongly agree) for a 16PF competency."""

    competency = models.ForeignKey(
        Competency, on_delete=models.CASCADE, related_name="likert_items"
    )
    position = models.PositiveIntegerField(default=1)
    statement = models.TextField()
    reverse = models.BooleanField(default=False, help_text="Agreeing means less of the trait.")

    class Meta:
        ordering = ["competency", "position", "id"]

    def __str__(self) -> str:
        return self.statement[:80]


# ---------------------------------------------------------------------------------------------
# What candidates do


class Assessment(models.Model):
    """A partner's user taking a cluster: launched by JWT, then roleplay by roleplay."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"

    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="assessments"
    )
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="assessments")
    user_id = models.CharField(max_length=128)
    user_name = models.CharField(max_length=200, blank=True)
    return_url = models.URLField(max_length=2000)
    results_url = models.URLField(max_length=2000)
    # True when the launch named no results_url: results then go to the partner's default as
    # it is when they are sent (a fixed AIO_CALLBACK_URL or base URL reaches them).
    results_url_is_default = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The candidate's last sign of life (launch, start, a roleplay begun, an answer): the daily
    # sweep completes an assessment only after a day without any (services.touch).
    last_activity_at = models.DateTimeField(default=timezone.now)

    # Not a column: the queued results by roleplay_id, parsed once (selectors.sent_results).
    _sent_results: dict[str, dict]

    class Meta:
        indexes = [
            models.Index(fields=["status", "last_activity_at"], name="assessment_idle_sweep"),
        ]
        constraints = [
            # Parallel launches of one user into one cluster resume, never duplicate.
            models.UniqueConstraint(
                fields=["partner", "cluster", "user_id"],
                condition=Q(status="in_progress"),
                name="one_open_assessment_per_user_and_cluster",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.cluster.cluster_id} ({self.status})"


class LaunchTicket(models.Model):
    """The single-use, short-lived ticket in redirect_url that the browser posts back."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="tickets")
    ticket_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class UsedToken(models.Model):
    """A launch JWT already accepted (its SHA-256): a token is accepted once."""

    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(help_text="After this the row may be deleted.")


class RoleplayAttempt(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="attempts")
    roleplay = models.ForeignKey(Roleplay, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    finished_by = models.CharField(max_length=16, blank=True)  # "candidate" or "deadline"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assessment", "roleplay"], name="roleplay_once"),
        ]

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class TurnResponse(models.Model):
    attempt = models.ForeignKey(RoleplayAttempt, on_delete=models.CASCADE, related_name="turns")
    turn = models.ForeignKey(Turn, on_delete=models.PROTECT, related_name="+")
    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["answered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "turn"], name="turn_answered_once"),
        ]


class LikertResponse(models.Model):
    attempt = models.ForeignKey(RoleplayAttempt, on_delete=models.CASCADE, related_name="likert")
    item = models.ForeignKey(LikertItem, on_delete=models.PROTECT, related_name="+")
    value = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "item"], name="likert_item_once"),
            models.CheckConstraint(condition=Q(value__gte=1, value__lte=5), name="likert_1_to_5"),
        ]
