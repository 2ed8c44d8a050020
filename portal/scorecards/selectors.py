"""Reading scorecard content for the quiz and results, and scoring a visitor's answers with it."""

from collections.abc import Mapping

from django.db.models import Prefetch

from portal.scorecards.models import Choice, Question, Recommendation, Scorecard, Section
from scoring import scorecard as scoring


def active_scorecard() -> Scorecard | None:
    """The active version with all its content prefetched (7 queries), or None if none is."""
    return _with_content(Scorecard.objects.filter(is_active=True)).first()


def scorecard_by_id(pk: int) -> Scorecard:
    """A version (the one a visit was started on) with all its content prefetched."""
    return _with_content(Scorecard.objects.filter(pk=pk)).get()


def _with_content(queryset):
    return queryset.prefetch_related(
        Prefetch(
            "sections",
            Section.objects.order_by("step").prefetch_related(
                Prefetch(
                    "questions",
                    Question.objects.order_by("position", "id").prefetch_related(
                        Prefetch("choices", Choice.objects.order_by("letter"))
                    ),
                )
            ),
        ),
        "bands",
        Prefetch(
            "recommendations",
            # section_id → key without a join: the sections are prefetched already.
            Recommendation.objects.order_by("position", "id"),
        ),
        "resources",
    )


def definition(scorecard: Scorecard) -> scoring.Definition:
    """The scorecard's content as the scoring module's plain dataclasses."""
    sections = list(scorecard.sections.all())
    keys = {section.pk: section.key for section in sections}
    return scoring.Definition(
        sections=tuple(
            scoring.Section(
                key=section.key,
                api_key=section.api_key,
                weight=float(section.weight),
                questions=tuple(
                    scoring.Question(
                        qid=question.qid,
                        choices=tuple(
                            scoring.Choice(letter=c.letter, points=c.points)
                            for c in question.choices.all()
                        ),
                    )
                    for question in section.questions.all()
                ),
            )
            for section in sections
        ),
        bands=tuple(
            scoring.Band(key=b.key, name=b.name, min_score=b.min_score, description=b.description)
            for b in scorecard.bands.all()
        ),
        rules=tuple(
            scoring.Rule(
                section=keys[rule.section_id],
                min_score=rule.min_score,
                max_score=rule.max_score,
                priority=rule.priority,
                title=rule.title,
                description=rule.description,
                action_items=tuple(rule.action_items),
                estimated_impact=rule.estimated_impact,
                time_to_implement=rule.time_to_implement,
            )
            for rule in scorecard.recommendations.all()
        ),
        briefing_total_below=scorecard.briefing_total_below,
        briefing_section_below=scorecard.briefing_section_below,
    )


def score_answers(
    scorecard: Scorecard,
    answers: Mapping[str, str],
    *,
    email: str | None = None,
    contact: Mapping[str, str | None] | None = None,
) -> scoring.ScorecardResult:
    """Score {"value_assurance_1": "A", ...}. `contact` is the contract's contactInfo
    ({"firstName", "lastName", "company", "phone"}); unknown ids or letters raise ValueError."""
    contact = contact or {}
    return scoring.score_scorecard(
        definition(scorecard),
        answers,
        scoring.Contact(
            email=email or "",
            first_name=contact.get("firstName") or "",
            last_name=contact.get("lastName") or "",
            company=contact.get("company") or "",
        ),
    )
