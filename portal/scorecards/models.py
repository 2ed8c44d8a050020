"""AI Reality Check scorecard: the versioned content (questions, weights, bands, recommendation
rules and resources, loaded from portal-scorecard/1 files and editable by staff), then what
visitors leave (their cookie session and their visit with its answers, result and lead), and
the shared rate-limit counter."""

import secrets
from typing import TYPE_CHECKING, Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils.functional import Promise

if TYPE_CHECKING:
    from scoring.scorecard import Definition

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
# The seed's results give each question "points: Points earned (0-25)" and "maxPoints: (25)".
MAX_CHOICE_POINTS = 25


def new_content_version() -> str:
    """A fresh random token: unique across databases and rolled-back tests, unlike a counter."""
    return secrets.token_hex(8)


def translations_field() -> models.JSONField:
    """An object's texts in the languages besides the content's English, by language and field
    name: {"fa": {"text": "…"}}. A file's optional `fa` objects (portal.scorecards.content);
    the visitor's pages show them in that language, English where there is none."""
    return models.JSONField(
        default=dict, blank=True, help_text='Texts in other languages: {"fa": {field: text}}.'
    )


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
    # Each web worker keeps a version's content in memory (portal.scorecards.selectors) and
    # reloads it when this token changes: every save or delete of a section, question, answer,
    # band, rule or resource draws a new one (the signals below).
    content_version = models.CharField(max_length=32, default=new_content_version, editable=False)
    translations = translations_field()

    # Not columns: what a version kept in memory (portal.scorecards.selectors) holds besides its
    # prefetched content. Read with `__dict__.get`: a row that is not kept has none of them.
    content_steps: tuple[tuple[str, ...], ...]  # the question ids of each step
    content_raw_row: tuple[str, tuple[Any, ...]]  # (database alias, the row's values)
    content_definition: "Definition"
    content_texts: tuple[dict, dict, dict]  # portal.scorecards.results._texts

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
    translations = translations_field()

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
    translations = translations_field()

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
    translations = translations_field()

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
    translations = translations_field()

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
    translations = translations_field()

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
    translations = translations_field()

    class Meta:
        ordering = ["scorecard", "position", "id"]

    def __str__(self) -> str:
        return self.title


# ---------------------------------------------------------------------------------------------
# Visitors: an anonymous session (the assessment-session cookie) and its assessments


def new_session_id() -> str:
    return f"sess_{secrets.token_urlsafe(18)}"


def new_assessment_id() -> str:
    return f"assess_{secrets.token_urlsafe(12)}"


class VisitorSession(models.Model):
    """The seed's SessionData, keyed by the HttpOnly `assessment-session` cookie."""

    session_id = models.CharField(max_length=64, unique=True, default=new_session_id)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_activity = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    # Not a column: the open visit, read with the session (services.live_session(with_visit=True)).
    _open_visit: "Visit | None"

    def __str__(self) -> str:
        return self.session_id


# What a visitor's contact details (Visit.contact_info, by the seed's names) and feedback may
# hold at most, for the API (api/scorecards.py) and the results page's form alike; the contact's
# company is kept in Visit.company, whose column's length it takes.
CONTACT_LENGTHS = {"firstName": 100, "lastName": 100, "phone": 50}
FEEDBACK_LENGTH = 5000


class Visit(models.Model):
    """One visitor's AI Reality Check: answers by step, then the scored result and the lead.
    The seed calls it an assessment (`assessmentId` is `assessment_id`); it is no kin of the
    roleplays' Assessment."""

    assessment_id = models.CharField(max_length=64, unique=True, default=new_assessment_id)
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="visits")
    session = models.ForeignKey(VisitorSession, on_delete=models.CASCADE, related_name="visits")
    email = models.EmailField(blank=True)
    company = models.CharField(max_length=200, blank=True)
    referrer = models.CharField(max_length=2000, blank=True)
    browser_info = models.JSONField(default=dict, blank=True)
    contact_info = models.JSONField(default=dict, blank=True)
    responses = models.JSONField(default=dict, blank=True)
    steps_completed = models.PositiveSmallIntegerField(default=0)
    time_spent = models.JSONField(default=dict, blank=True, help_text="Seconds per step.")
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completion_time = models.PositiveIntegerField(null=True, blank=True)
    feedback = models.TextField(blank=True)
    total_score = models.PositiveSmallIntegerField(null=True, blank=True)
    breakdown = models.JSONField(default=dict, blank=True)
    score_category = models.CharField(max_length=16, blank=True)
    qualified_for_briefing = models.BooleanField(default=False)
    lead_quality = models.CharField(max_length=40, blank=True)
    hubspot_delivery = models.ForeignKey(
        "integrations.Delivery", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    email_delivery = models.ForeignKey(
        "integrations.Delivery", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The result as shown at submit (portal.scorecards.results): scores, answers with their
    # texts, recommendations, next steps. Results, share page, e-mail, HubSpot and the staff
    # console read it, so later content edits never change a completed visit's result.
    result = models.JSONField(null=True, blank=True)
    share_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    share_recommendations = models.BooleanField(default=False)

    # Not columns: what the console's lead pages show (portal.staff.views.leads.shown).
    name: str
    phone: str
    hubspot_status: str
    email_status: str
    hubspot_label: str | Promise
    email_label: str | Promise
    category_label: str | Promise
    quality_label: str | Promise
    deliveries: list[tuple[str, Any, str, str | Promise]]  # (channel, delivery, status, label)
    scores: list[tuple[str, str | Promise, Any]]  # (area key, label, score)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # A double click on "Start" resumes the visitor's open assessment.
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(completed_at__isnull=True),
                name="one_open_visit_per_session",
            )
        ]

    def __str__(self) -> str:
        return self.assessment_id

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None


# ---------------------------------------------------------------------------------------------
# Content versions: an edit of any part of a version draws it a new content_version, so that no
# web worker serves the content it cached before (portal.scorecards.selectors). Saves and
# deletes through models (the admin, a shell's .save()) send these signals; a queryset
# .update() or bulk_create does not: call bump_content_version after one on a loaded version
# (loading and copying make new versions, which need none).


def bump_content_version(scorecard_id: int | None = None, **lookups) -> None:
    """Draw a new content_version for the version `scorecard_id` (or those matching `lookups`)."""
    scorecards = Scorecard.objects.all()
    if scorecard_id is not None:
        scorecards = scorecards.filter(pk=scorecard_id)
    scorecards.filter(**lookups).update(content_version=new_content_version())


def _content_changed(sender, instance, **kwargs) -> None:
    if isinstance(instance, Choice):
        bump_content_version(sections__questions__id=instance.question_id)
    elif isinstance(instance, Question):
        bump_content_version(sections__id=instance.section_id)
    else:
        bump_content_version(instance.scorecard_id)


for _model in (Section, Question, Choice, ScoreBand, Recommendation, Resource):
    post_save.connect(_content_changed, sender=_model, dispatch_uid=f"content-{_model.__name__}")
    post_delete.connect(_content_changed, sender=_model, dispatch_uid=f"del-{_model.__name__}")


class Counter(models.Model):
    """A count shared by every web worker in a fixed window: a rate limit's hits, a minute's
    request figures (portal.ratelimit, portal.metrics). Counted here when no Redis is configured,
    with one upsert per hit; a row past `expires` (Unix seconds) is dead and pruned by
    portal.ratelimit.prune_expired. portal.ratelimit is given this model at start (apps.py)."""

    key = models.CharField(max_length=120, primary_key=True)
    count = models.BigIntegerField(default=0)
    expires = models.BigIntegerField(db_index=True)

    class Meta:
        db_table = "portal_counter"

    def __str__(self) -> str:
        return f"{self.key} = {self.count}"
