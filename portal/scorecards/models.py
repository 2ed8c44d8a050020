"""AI Reality Check scorecard content: versioned questions, weights, bands, recommendation rules
and resources, loaded from portal-scorecard/1 files and editable by staff. No visitor data."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

# The contract (seed 002) fixes the four steps, their scoreBreakdown keys and the categories;
# their names, weights, questions and thresholds are content.
SECTION_API_KEYS = {
    "value_assurance": "valueAssurance",
    "customer_safe": "customerSafe",
    "risk_compliance": "riskCompliance",
    "governance": "governance",
}
BAND_KEYS = ("champion", "builder", "risk_zone", "alert", "crisis")
LETTERS = ("A", "B", "C", "D", "E")
MAX_CHOICE_POINTS = 100


class Scorecard(models.Model):
    version = models.CharField(max_length=32, unique=True, help_text='e.g. "2026.1".')
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(
        default=False, help_text="The version visitors take. Exactly one is active."
    )
    # The results page's executive-briefing call to action (nextSteps.briefingCta).
    briefing_title = models.CharField(max_length=200)
    briefing_description = models.TextField()
    briefing_button_text = models.CharField(max_length=80)
    briefing_url = models.URLField()
    briefing_total_below = models.PositiveSmallIntegerField(
        default=80,
        validators=[MaxValueValidator(101)],
        help_text="A reachable lead qualifies for a briefing with a total below this…",
    )
    briefing_section_below = models.PositiveSmallIntegerField(
        default=60,
        validators=[MaxValueValidator(101)],
        help_text="…or with any section score below this.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="scorecard_one_active_version",
                violation_error_message="Another scorecard version is already active.",
            )
        ]

    def __str__(self) -> str:
        active = " (active)" if self.is_active else ""
        return f"{self.title} {self.version}{active}"


class Section(models.Model):
    class Key(models.TextChoices):
        VALUE_ASSURANCE = "value_assurance", "Value Assurance"
        CUSTOMER_SAFE = "customer_safe", "Customer-Safe AI"
        RISK_COMPLIANCE = "risk_compliance", "Risk & Compliance"
        GOVERNANCE = "governance", "Implementation Governance"

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField(max_length=32, choices=Key.choices)
    api_key = models.CharField(
        max_length=32, help_text="The scoreBreakdown key, e.g. valueAssurance."
    )
    name = models.CharField(max_length=200)
    weight = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="A fraction: the four weights add up to 1 (e.g. 0.35).",
    )
    step = models.PositiveSmallIntegerField(help_text="0-based step of the quiz.")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["scorecard", "step"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "key"], name="scorecard_section_once"),
            models.UniqueConstraint(fields=["scorecard", "step"], name="scorecard_step_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.scorecard.version})"


class Question(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    qid = models.CharField(max_length=64, help_text='e.g. "value_assurance_1".')
    position = models.PositiveSmallIntegerField(default=1)
    text = models.TextField()

    class Meta:
        ordering = ["section", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["section", "qid"], name="scorecard_question_once"),
        ]

    def __str__(self) -> str:
        return self.qid


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    letter = models.CharField(max_length=1, choices=[(letter, letter) for letter in LETTERS])
    text = models.TextField()
    points = models.PositiveSmallIntegerField(validators=[MaxValueValidator(MAX_CHOICE_POINTS)])

    class Meta:
        ordering = ["question", "letter"]
        constraints = [
            models.UniqueConstraint(fields=["question", "letter"], name="scorecard_letter_once"),
        ]

    def __str__(self) -> str:
        return f"{self.letter}. {self.text[:60]}"


class ScoreBand(models.Model):
    class Key(models.TextChoices):
        CHAMPION = "champion", "Champion"
        BUILDER = "builder", "Builder"
        RISK_ZONE = "risk_zone", "Risk zone"
        ALERT = "alert", "Alert"
        CRISIS = "crisis", "Crisis"

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="bands")
    key = models.CharField(max_length=16, choices=Key.choices)
    name = models.CharField(max_length=100)
    min_score = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(100)], help_text="A total at or above this is in the band."
    )
    description = models.TextField(help_text="The results' categoryDescription.")

    class Meta:
        ordering = ["scorecard", "-min_score"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "key"], name="scorecard_band_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (≥ {self.min_score})"


class Recommendation(models.Model):
    class Priority(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    scorecard = models.ForeignKey(
        Scorecard, on_delete=models.CASCADE, related_name="recommendations"
    )
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="recommendations")
    position = models.PositiveSmallIntegerField(default=1)
    min_score = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(100)], help_text="Shown when the section score is ≥ this…"
    )
    max_score = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(100)], help_text="…and ≤ this."
    )
    priority = models.CharField(max_length=8, choices=Priority.choices)
    title = models.CharField(max_length=200)
    description = models.TextField()
    action_items = models.JSONField(default=list, help_text='A list of strings: ["…", "…"].')
    estimated_impact = models.CharField(max_length=300)
    time_to_implement = models.CharField(max_length=100)

    class Meta:
        ordering = ["scorecard", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_score__lte=models.F("max_score")),
                name="scorecard_recommendation_range",
                violation_error_message="min_score must not be above max_score.",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Resource(models.Model):
    class Type(models.TextChoices):
        GUIDE = "guide", "Guide"
        TEMPLATE = "template", "Template"
        CHECKLIST = "checklist", "Checklist"

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="resources")
    position = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(max_length=200)
    description = models.TextField()
    url = models.URLField()
    type = models.CharField(max_length=16, choices=Type.choices)

    class Meta:
        ordering = ["scorecard", "position", "id"]

    def __str__(self) -> str:
        return self.title
