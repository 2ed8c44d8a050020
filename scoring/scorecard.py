"""AI Reality Check scorecard: section scores, weighted total, category, recommendations, leads.

Everything the rules depend on (weights, points, band thresholds, recommendation rules, the
briefing thresholds) is content, passed in as data; these functions only apply the rules.
The same rules are documented for staff and the API in docs/scorecard.md.

Rules:
- Rounding is half-up to a whole number (79.5 → 80), never Python's banker's rounding, of
  the exact value: scores and weights are computed as fractions, not binary floats.
- Section score = points earned / the section's max points × 100, rounded. A question's max
  points is its best choice's points. A question left unanswered earns 0 points (it counts
  as the worst answer, so skipping can never raise a score). An unknown question id or a
  letter the question does not offer is an error (ValueError), not a silent 0.
- Total = Σ section score × section weight, rounded (0–100). It is computed from the rounded
  section scores the visitor sees, so anyone can check it from the breakdown.
- Category (band) = the band with the highest min_score that the *total as reported* reaches.
  Using the rounded total keeps what the visitor sees and the category in agreement.
- Recommendations = every rule whose section score lies in [min_score, max_score] (both
  inclusive), ordered by priority (high, medium, low), then by the section's weight
  (heaviest first), then by the section's score (lowest first), then in content order.
- qualified_for_briefing = a usable e-mail AND a company name AND the visitor needs help:
  total below `briefing_total_below` (default 80: not a champion) OR any section below
  `briefing_section_below` (default 60: a weak area even in a strong total). It is for leads
  who both need a briefing and can be reached with one.
- lead_quality = "executive_briefing_qualified" when qualified_for_briefing; else "enhanced"
  with an e-mail plus a name or a company; else "basic" with an e-mail only; else None (an
  anonymous visitor is not a lead).
"""

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Protocol

PRIORITIES = ("high", "medium", "low")
LEAD_BASIC = "basic"
LEAD_ENHANCED = "enhanced"
LEAD_BRIEFING = "executive_briefing_qualified"
DEFAULT_BRIEFING_TOTAL_BELOW = 80
DEFAULT_BRIEFING_SECTION_BELOW = 60
# Only the shape: one "@" with text either side and a dot in the domain. Deliverability is
# the e-mail service's business; this only tells "gave an address" from "typed something".
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def round_half_up(value: Fraction | Decimal | float | int) -> int:
    """`value` rounded half-up to a whole number. Give it an exact value (a Fraction): a float
    sum such as 16.8 + 2.7 is 19.499999999999996, one below the 19.5 it stands for."""
    return math.floor(Fraction(value) + Fraction(1, 2))


@lru_cache(maxsize=256)
def exact_weight(weight: float) -> Fraction:
    """A section's weight as the decimal fraction the content writes (0.35 is 7/20, not the
    binary float nearest to it): weights have a few decimals (the format allows 3)."""
    return Fraction(str(weight))


# ---------------------------------------------------------------------------------------------
# Content


@dataclass(frozen=True)
class Choice:
    letter: str
    points: int


@dataclass(frozen=True)
class Question:
    qid: str
    choices: tuple[Choice, ...]

    @property
    def max_points(self) -> int:
        return max((choice.points for choice in self.choices), default=0)

    def points_for(self, letter: str | None) -> int:
        if letter is None:
            return 0
        for choice in self.choices:
            if choice.letter == letter:
                return choice.points
        offered = ", ".join(choice.letter for choice in self.choices)
        raise ValueError(f"{self.qid}: answer {letter!r} is not one of {offered}")


@dataclass(frozen=True)
class Section:
    key: str
    api_key: str
    weight: float
    questions: tuple[Question, ...]

    @property
    def max_points(self) -> int:
        return sum(question.max_points for question in self.questions)


@dataclass(frozen=True)
class Band:
    key: str
    name: str
    min_score: int
    description: str


@dataclass(frozen=True)
class Rule:
    section: str
    min_score: int
    max_score: int
    priority: str
    title: str
    description: str
    action_items: tuple[str, ...]
    estimated_impact: str = ""
    time_to_implement: str = ""


@dataclass(frozen=True)
class Definition:
    sections: tuple[Section, ...]
    bands: tuple[Band, ...]
    rules: tuple[Rule, ...] = ()
    briefing_total_below: int = DEFAULT_BRIEFING_TOTAL_BELOW
    briefing_section_below: int = DEFAULT_BRIEFING_SECTION_BELOW


@dataclass(frozen=True)
class Contact:
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class QuestionScore:
    qid: str
    answer: str | None
    points: int
    max_points: int


@dataclass(frozen=True)
class SectionScore:
    key: str
    api_key: str
    weight: float
    score: int
    points: int
    max_points: int
    questions: tuple[QuestionScore, ...]


@dataclass(frozen=True)
class Recommendation:
    section: str
    section_score: int
    priority: str
    title: str
    description: str
    action_items: tuple[str, ...]
    estimated_impact: str
    time_to_implement: str


@dataclass(frozen=True)
class ScorecardResult:
    total: int
    sections: tuple[SectionScore, ...]
    band: Band
    recommendations: tuple[Recommendation, ...]
    qualified_for_briefing: bool
    lead_quality: str | None

    @property
    def breakdown(self) -> dict[str, int]:
        """{"valueAssurance": 75, ...}: the contract's scoreBreakdown."""
        return {section.api_key: section.score for section in self.sections}


# ---------------------------------------------------------------------------------------------
# Rules


def score_section(section: Section, answers: Mapping[str, str]) -> SectionScore:
    """Points earned / max points × 100, rounded; an unanswered question earns 0."""
    questions = tuple(
        QuestionScore(
            qid=question.qid,
            answer=answers.get(question.qid),
            points=question.points_for(answers.get(question.qid)),
            max_points=question.max_points,
        )
        for question in section.questions
    )
    points = sum(q.points for q in questions)
    max_points = section.max_points
    score = round_half_up(Fraction(points * 100, max_points)) if max_points > 0 else 0
    return SectionScore(
        key=section.key,
        api_key=section.api_key,
        weight=section.weight,
        score=score,
        points=points,
        max_points=max_points,
        questions=questions,
    )


def weighted_total(sections: Sequence[SectionScore]) -> int:
    """Σ section score × weight, computed exactly, rounded half-up, within 0..100."""
    total = round_half_up(
        sum((section.score * exact_weight(section.weight) for section in sections), Fraction())
    )
    return min(max(total, 0), 100)


class Banded(Protocol):
    """A band as any layer holds it: all the rule needs is where it starts."""

    @property
    def min_score(self) -> int: ...


def band_for[B: Banded](score: float, bands: Sequence[B]) -> B:
    """The band with the highest min_score that `score` reaches (bands need one at 0)."""
    reached = [band for band in bands if score >= band.min_score]
    if not reached:
        raise ValueError(f"no band covers a score of {score}; the lowest band must start at 0")
    return max(reached, key=lambda band: band.min_score)


def recommend(
    rules: Sequence[Rule], sections: Sequence[SectionScore]
) -> tuple[Recommendation, ...]:
    """The rules matching each section's score, by priority, then weight ↓, then score ↑."""
    by_key = {section.key: section for section in sections}
    matched = []
    for order, rule in enumerate(rules):
        section = by_key.get(rule.section)
        if section is None or not rule.min_score <= section.score <= rule.max_score:
            continue
        rank = (PRIORITIES.index(rule.priority), -section.weight, section.score, order)
        matched.append((rank, rule, section))
    matched.sort(key=lambda item: item[0])
    return tuple(
        Recommendation(
            section=rule.section,
            section_score=section.score,
            priority=rule.priority,
            title=rule.title,
            description=rule.description,
            action_items=tuple(rule.action_items),
            estimated_impact=rule.estimated_impact,
            time_to_implement=rule.time_to_implement,
        )
        for _rank, rule, section in matched
    )


def has_email(contact: Contact) -> bool:
    return bool(EMAIL_SHAPE.fullmatch(contact.email.strip()))


def qualified_for_briefing(
    contact: Contact,
    total: int,
    sections: Sequence[SectionScore],
    *,
    total_below: int = DEFAULT_BRIEFING_TOTAL_BELOW,
    section_below: int = DEFAULT_BRIEFING_SECTION_BELOW,
) -> bool:
    """Reachable (e-mail and company) and in need of help (total or one section is low)."""
    reachable = has_email(contact) and bool(contact.company.strip())
    needs_help = total < total_below or any(section.score < section_below for section in sections)
    return reachable and needs_help


def lead_quality(contact: Contact, *, qualified: bool) -> str | None:
    if not has_email(contact):
        return None
    if qualified:
        return LEAD_BRIEFING
    named = contact.first_name.strip() or contact.last_name.strip() or contact.company.strip()
    return LEAD_ENHANCED if named else LEAD_BASIC


def score_scorecard(
    definition: Definition, answers: Mapping[str, str], contact: Contact | None = None
) -> ScorecardResult:
    """Score a visitor's answers ({"value_assurance_1": "A", ...}) against the content."""
    contact = contact or Contact()
    known = {q.qid for section in definition.sections for q in section.questions}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise ValueError(f"unknown question id(s): {', '.join(unknown)}")
    sections = tuple(score_section(section, answers) for section in definition.sections)
    total = weighted_total(sections)
    qualified = qualified_for_briefing(
        contact,
        total,
        sections,
        total_below=definition.briefing_total_below,
        section_below=definition.briefing_section_below,
    )
    return ScorecardResult(
        total=total,
        sections=sections,
        band=band_for(total, definition.bands),
        recommendations=recommend(definition.rules, sections),
        qualified_for_briefing=qualified,
        lead_quality=lead_quality(contact, qualified=qualified),
    )
