"""A completed visit's result as it was shown at submit, stored on the visit and read back.

`build()` turns the content and the scores into one JSON document (below) at submit; the
results API and pages, the share page, the results e-mail, the HubSpot sync and the staff
console's lead page all read it through `stored()`, so a later content edit never changes what
a visitor was told. The document uses the seed's field names where the seed has them:

    {"format": 1, "scorecardVersion": "2026.2",
     "totalScore": 67, "scoreCategory": "builder", "categoryName": "AI Builder",
     "categoryDescription": "...", "qualifiedForBriefing": true, "leadQuality": "...",
     "sections": [{"key", "apiKey", "name", "weight", "score",
                   "questions": [{"id", "question", "answer", "answerText",
                                  "points", "maxPoints"}]}],
     "recommendations": [{"category", "priority", "title", "description", "actionItems",
                          "estimatedImpact", "timeToImplement"}],
     "nextSteps": {"briefingCta"?: {"title", "description", "buttonText", "url"},
                   "resources": [{"title", "description", "url", "type"}]}}
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from portal.scorecards import selectors
from portal.scorecards.content import TRANSLATIONS, translated
from portal.scorecards.models import Scorecard, Visit
from scoring import scorecard as scoring

FORMAT = 1
# Benchmarks are shown once this many completed assessments exist: fewer would mislead.
BENCHMARK_MINIMUM = 10


def _texts(scorecard: Scorecard) -> tuple[dict, dict, dict]:
    """Section names, question and answer texts, and band names by key: from the content in
    memory built once per version (portal.scorecards.selectors), else now."""
    if (known := scorecard.__dict__.get("content_texts")) is not None:
        return known
    sections = {section.key: section.name for section in scorecard.sections.all()}
    texts = {
        q.qid: (q.text, {c.letter: c.text for c in q.choices.all()})
        for section in scorecard.sections.all()
        for q in section.questions.all()
    }
    band_names = {band.key: band.name for band in scorecard.bands.all()}
    built = (sections, texts, band_names)
    if "content_steps" in scorecard.__dict__:  # content kept in memory: built once
        scorecard.content_texts = built
    return built


def build(scorecard: Scorecard, result: scoring.ScorecardResult) -> dict[str, Any]:
    """The result document of `result`, scored on `scorecard` (its content prefetched)."""
    sections, texts, band_names = _texts(scorecard)
    next_steps: dict[str, Any] = {
        "resources": [
            {"title": r.title, "description": r.description, "url": r.url, "type": r.type}
            for r in scorecard.resources.all()
        ]
    }
    if result.qualified_for_briefing or result.total < scorecard.briefing_total_below:
        next_steps["briefingCta"] = {
            "title": scorecard.briefing_title,
            "description": scorecard.briefing_description,
            "buttonText": scorecard.briefing_button_text,
            "url": scorecard.briefing_url,
        }
    return {
        "format": FORMAT,
        "scorecardVersion": scorecard.version,
        "totalScore": result.total,
        "scoreCategory": result.band.key,
        "categoryName": band_names.get(result.band.key, result.band.name),
        "categoryDescription": result.band.description,
        "qualifiedForBriefing": result.qualified_for_briefing,
        "leadQuality": result.lead_quality,
        "sections": [
            {
                "key": scored.key,
                "apiKey": scored.api_key,
                "name": sections.get(scored.key, scored.key),
                "weight": scored.weight,
                "score": scored.score,
                "questions": [
                    {
                        "id": q.qid,
                        "question": texts.get(q.qid, ("", {}))[0],
                        "answer": q.answer or "",
                        "answerText": texts.get(q.qid, ("", {}))[1].get(q.answer or "", ""),
                        "points": q.points,
                        "maxPoints": q.max_points,
                    }
                    for q in scored.questions
                ],
            }
            for scored in result.sections
        ],
        "recommendations": [
            {
                "category": rec.section,
                "priority": rec.priority,
                "title": rec.title,
                "description": rec.description,
                "actionItems": list(rec.action_items),
                "estimatedImpact": rec.estimated_impact,
                "timeToImplement": rec.time_to_implement,
            }
            for rec in result.recommendations
        ],
        "nextSteps": next_steps,
    }


def stored(visit: Visit) -> dict[str, Any]:
    """The completed visit's result document. Visits completed before results were stored
    have none: theirs is built from their version, which cannot change any more (a version
    with visits is locked, portal.scorecards.content.is_editable)."""
    if visit.result is not None:
        return visit.result
    if visit.completed_at is None:
        raise ValueError("only a completed visit has a result")
    scorecard = selectors.scorecard_by_id(visit.scorecard_id)
    return build(scorecard, selectors.score_visit(scorecard, visit))


# ---------------------------------------------------------------------------------------------
# Reading a result document


def breakdown(result: dict[str, Any]) -> dict[str, int]:
    """{"valueAssurance": 75, ...}: the contract's scoreBreakdown."""
    return {section["apiKey"]: section["score"] for section in result["sections"]}


def scores_by_key(result: dict[str, Any]) -> dict[str, int]:
    """{"value_assurance": 75, ...}: the section scores by section key."""
    return {section["key"]: section["score"] for section in result["sections"]}


def section_names(result: dict[str, Any]) -> dict[str, str]:
    return {section["key"]: section["name"] for section in result["sections"]}


def recommendations(result: dict[str, Any], *, detailed: bool) -> list[dict[str, Any]]:
    """The submit answer's recommendations (detailed=False) or the results' (True), which add
    estimatedImpact and timeToImplement."""
    dropped = () if detailed else ("estimatedImpact", "timeToImplement")
    return [
        {name: value for name, value in rec.items() if name not in dropped}
        for rec in result["recommendations"]
    ]


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def benchmarks(visit: Visit) -> dict[str, float | int]:
    """From real completed assessments of this scorecard version: the count always, the
    average and this visit's percentile only once there are BENCHMARK_MINIMUM of them."""
    totals = Visit.objects.filter(
        scorecard_id=visit.scorecard_id, completed_at__isnull=False
    ).values_list("total_score", flat=True)
    scores = [s for s in totals if s is not None]  # a completed visit has its score
    figures: dict[str, float | int] = {"similarCompanies": len(scores)}
    if len(scores) >= BENCHMARK_MINIMUM and visit.total_score is not None:
        figures["industryAverage"] = round(sum(scores) / len(scores))
        below = sum(1 for s in scores if s < visit.total_score)
        figures["percentile"] = round(below / len(scores) * 100)
    return figures


def results_body(visit: Visit) -> dict[str, Any]:
    """The seed's AssessmentResultsResponse, from the stored result (benchmarks are live)."""
    result = stored(visit)
    return {
        "assessmentId": visit.assessment_id,
        "completedAt": iso(visit.completed_at),
        "totalScore": result["totalScore"],
        "scoreBreakdown": {
            section["apiKey"]: {
                "score": section["score"],
                "weight": section["weight"],
                "questions": section["questions"],
            }
            for section in result["sections"]
        },
        "scoreCategory": result["scoreCategory"],
        "categoryDescription": result["categoryDescription"],
        "recommendations": recommendations(result, detailed=True),
        "benchmarks": benchmarks(visit),
        "nextSteps": result["nextSteps"],
    }


# ---------------------------------------------------------------------------------------------
# A result as a page shows it: in the page's language, and as a picture on the version's bands


def localized(result: dict[str, Any], scorecard: Scorecard, language: str) -> dict[str, Any]:
    """The stored result with its texts in `language` where the version's content has them
    (portal.scorecards.content.translated), else as stored. The stored document is not
    changed (the API, e-mail and HubSpot read it as it is): a version with visits cannot be
    edited, so its texts in another language are those of the visitor's very result."""
    if language not in TRANSLATIONS:  # the content's own language
        return result
    sections = list(scorecard.sections.all())
    by_key = {section.key: section for section in sections}
    key_of = {section.pk: section.key for section in sections}
    bands = {band.key: band for band in scorecard.bands.all()}
    rules = {(key_of[r.section_id], r.title): r for r in scorecard.recommendations.all()}
    resources = {(r.title, r.url): r for r in scorecard.resources.all()}
    shown = dict(result)
    if band := bands.get(result["scoreCategory"]):
        shown["categoryName"] = translated(band, "name", language)
        shown["categoryDescription"] = translated(band, "description", language)
    shown["sections"] = [
        {**s, "name": translated(by_key[s["key"]], "name", language)} if s["key"] in by_key else s
        for s in result["sections"]
    ]
    recommendations = []
    for rec in result["recommendations"]:
        rule = rules.get((rec["category"], rec["title"]))
        if rule is not None:
            rec = {
                **rec,
                "title": translated(rule, "title", language),
                "description": translated(rule, "description", language),
                "actionItems": list(translated(rule, "action_items", language)),
                "estimatedImpact": translated(rule, "estimated_impact", language),
                "timeToImplement": translated(rule, "time_to_implement", language),
            }
        recommendations.append(rec)
    shown["recommendations"] = recommendations
    next_steps = dict(result["nextSteps"])
    if "briefingCta" in next_steps:
        next_steps["briefingCta"] = {
            **next_steps["briefingCta"],
            "title": translated(scorecard, "briefing_title", language),
            "description": translated(scorecard, "briefing_description", language),
            "buttonText": translated(scorecard, "briefing_button_text", language),
        }
    next_steps["resources"] = [
        {
            **r,
            "title": translated(resources[(r["title"], r["url"])], "title", language),
            "description": translated(resources[(r["title"], r["url"])], "description", language),
        }
        if (r["title"], r["url"]) in resources
        else r
        for r in result["nextSteps"].get("resources", [])
    ]
    shown["nextSteps"] = next_steps
    return shown


@dataclass(frozen=True)
class Band:
    """A band of the version, its range of totals [min_score, max_score] and its texts."""

    key: str
    name: str
    description: str
    min_score: int
    max_score: int


@dataclass(frozen=True)
class Area:
    """An area (section) of the result, with the band its own score falls in."""

    key: str
    name: str
    weight: int  # per cent
    score: int
    band: Band


@dataclass(frozen=True)
class Picture:
    """What the results page draws: the total on the bands, lowest band first, and each area
    with its band (the same thresholds as the total's category)."""

    total: int
    band: Band
    bands: tuple[Band, ...]
    areas: tuple[Area, ...]


def picture(result: dict[str, Any], scorecard: Scorecard, language: str) -> Picture:
    """The result (as localized() shows it) on the bands of its version, whose thresholds
    cannot have changed since (a version with visits is read-only)."""
    rows = sorted(scorecard.bands.all(), key=lambda band: band.min_score)
    bands = tuple(
        Band(
            key=row.key,
            name=translated(row, "name", language),
            description=translated(row, "description", language),
            min_score=row.min_score,
            max_score=(rows[index + 1].min_score - 1) if index + 1 < len(rows) else 100,
        )
        for index, row in enumerate(rows)
    )
    yours = next(
        (band for band in bands if band.key == result["scoreCategory"]),
        scoring.band_for(result["totalScore"], bands),
    )
    areas = tuple(
        Area(
            key=section["key"],
            name=section["name"],
            weight=round(section["weight"] * 100),
            score=section["score"],
            band=scoring.band_for(section["score"], bands),
        )
        for section in result["sections"]
    )
    return Picture(total=result["totalScore"], band=yours, bands=bands, areas=areas)


# ---------------------------------------------------------------------------------------------
# A result as the staff console's lead page reviews it


@dataclass(frozen=True)
class Answer:
    qid: str
    question: str
    letter: str  # "" when unanswered
    answer: str
    points: int
    max_points: int


@dataclass(frozen=True)
class StepReview:
    number: int  # 1-based, as the visitor saw it
    name: str
    weight: int  # per cent
    score: int
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class RecommendationShown:
    section: str
    priority: str
    title: str
    description: str
    action_items: tuple[str, ...]


@dataclass(frozen=True)
class VisitReview:
    """A completed visit as its visitor answered it, step by step, and what they were told."""

    steps: tuple[StepReview, ...]
    recommendations: tuple[RecommendationShown, ...]


def visit_review(visit: Visit) -> VisitReview:
    """The visit's answers with each question's and answer's text, and the recommendations its
    results page shows: its stored result, as the visitor saw it at submit."""
    result = stored(visit)
    names = section_names(result)
    steps = tuple(
        StepReview(
            number=index + 1,
            name=section["name"],
            weight=round(section["weight"] * 100),
            score=section["score"],
            answers=tuple(
                Answer(
                    qid=q["id"],
                    question=q["question"],
                    letter=q["answer"],
                    answer=q["answerText"],
                    points=q["points"],
                    max_points=q["maxPoints"],
                )
                for q in section["questions"]
            ),
        )
        for index, section in enumerate(result["sections"])
    )
    recommendations = tuple(
        RecommendationShown(
            section=names.get(r["category"], r["category"]),
            priority=r["priority"],
            title=r["title"],
            description=r["description"],
            action_items=tuple(r["actionItems"]),
        )
        for r in result["recommendations"]
    )
    return VisitReview(steps=steps, recommendations=recommendations)
