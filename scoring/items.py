"""Item analysis of an exam's completed attempts: how hard each question was, how well it told
stronger from weaker candidates, which choices drew whom, and how reliable the exam is.

Input: one `Response` per attempt and question drawn (the chosen choice as the bank's original
number, or None; the correct choice; the question's weight). Output: an `ExamAnalysis` with a
`QuestionAnalysis` per question. Definitions (population statistics throughout, divisor n):

- An attempt's score: earned points (Σ weight of the questions right) and its percentage of
  the points possible on the questions it drew. Attempts that drew different questions from
  a larger bank (or different versions of an edited question) are ranked by percentage.
- facility: the share of the attempts that drew the question and answered it right (0..1).
- point_biserial: Pearson's correlation between answering this question right (1/0) and the
  REST score: the attempt's percentage on its other questions (total minus this item), so
  the item is not correlated with itself. For a fixed form this is the same correlation as
  with rest points (rest possible points is a constant).
- upper_lower: Kelley's index, p(right | top 27 %) − p(right | bottom 27 %), the groups ranked
  by the attempt's percentage, each ⌊0.27·n + ½⌋ attempts (at least 1). Attempts tied at a
  group's boundary share the remaining places equally (each counts by a fraction), so the
  result never depends on the order attempts come in.
- choices: each choice's share of the attempts that drew the question (distractor analysis),
  choices 1..4 then None (unanswered); the shares sum to 1. `mean_percentage` is the mean
  score of the attempts that chose it: a wrong choice favoured by strong candidates is
  suspect.
- kr20: KR-20, computed as Cronbach's alpha on the weighted item scores, which is exactly KR-20
  when the weights are equal: k/(k−1) · (1 − Σ var(item) / var(total points)). Questions of
  weight 0 earn nothing and are left out of it. When attempts drew different questions, k is
  the mean number of questions per attempt and Σ var(item) the mean over attempts of the sum
  of the variances of the questions each drew; the value is then an estimate, capped at 1.
- sem: the standard error of measurement, SD(total points) × √(1 − kr20); `sem_percentage`
  the same on the percentage scale.
- flags: "hard" (facility < 0.2), "easy" (facility > 0.9), "low_discrimination" (either index,
  where defined, < 0.2).

Degenerate cases, where a statistic means nothing it is None rather than a misleading number:
- fewer than 2 attempts drew a question → both discrimination indices are None;
- everyone got it right, or everyone wrong (no variance in the item) → both are None: the
  question does not discriminate at all (its facility flags it as easy or hard);
- the rest scores (point_biserial) or the attempts' percentages (upper_lower) do not vary →
  that index is None;
- fewer than 2 attempts, fewer than 2 scored questions per attempt on average, or no variance
  in the total points → kr20 and both SEMs are None.
"""

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

CHOICES = (1, 2, 3, 4)
GROUP_SHARE = 0.27
HARD_BELOW = 0.2
EASY_ABOVE = 0.9
DISCRIMINATION_BELOW = 0.2
HARD = "hard"
EASY = "easy"
LOW_DISCRIMINATION = "low_discrimination"


@dataclass(frozen=True)
class Response:
    """One question drawn into one attempt, and what was chosen (None: unanswered)."""

    attempt: Hashable
    question: int
    chosen: int | None
    correct: int
    weight: float = 1.0

    @property
    def right(self) -> bool:
        return self.chosen is not None and self.chosen == self.correct


@dataclass(frozen=True)
class ChoiceShare:
    choice: int | None  # the bank's original choice number; None: left unanswered
    count: int
    share: float
    is_correct: bool
    mean_percentage: float | None  # mean score of the attempts that chose it


@dataclass(frozen=True)
class QuestionAnalysis:
    question: int
    attempts: int
    right: int
    facility: float
    point_biserial: float | None
    upper_lower: float | None
    choices: tuple[ChoiceShare, ...]
    flags: tuple[str, ...]


@dataclass(frozen=True)
class ExamAnalysis:
    attempts: int
    questions: tuple[QuestionAnalysis, ...]  # by question id
    items_per_attempt: float
    mean_points: float | None
    sd_points: float | None
    mean_percentage: float | None
    sd_percentage: float | None
    kr20: float | None
    sem: float | None
    sem_percentage: float | None

    def question(self, question_id: int) -> QuestionAnalysis:
        return next(q for q in self.questions if q.question == question_id)


# ---------------------------------------------------------------------------------------------
# Plain statistics (math.fsum: exactly rounded sums, so the order of attempts never matters)


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def variance(values: Sequence[float]) -> float:
    """Population variance (divisor n)."""
    centre = mean(values)
    return math.fsum((v - centre) ** 2 for v in values) / len(values)


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r; None when either side does not vary."""
    if len(xs) < 2:
        return None
    mx, my = mean(xs), mean(ys)
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return None
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def group_size(n: int) -> int:
    """Attempts in each of the upper and lower groups: 27 % of n, rounded half up, ≥ 1."""
    return max(1, math.floor(GROUP_SHARE * n + 0.5))


def _group_weights(scores: Sequence[float], size: int, *, top: bool) -> list[float]:
    """How much each attempt counts in the top (or bottom) `size`: 1 inside, 0 outside, and
    the places left at the boundary shared equally by the attempts tied there."""
    ranked = sorted(scores, reverse=top)
    boundary = ranked[size - 1]
    inside = sum(1 for s in scores if (s > boundary if top else s < boundary))
    tied = sum(1 for s in scores if s == boundary)
    share = (size - inside) / tied
    return [
        1.0 if (s > boundary if top else s < boundary) else share if s == boundary else 0.0
        for s in scores
    ]


def upper_lower_index(rights: Sequence[int], scores: Sequence[float]) -> float | None:
    """p(right) in the top 27 % minus p(right) in the bottom 27 % by score."""
    n = len(rights)
    if n < 2 or len(set(rights)) < 2 or len(set(scores)) < 2:
        return None
    size = group_size(n)
    upper = _group_weights(scores, size, top=True)
    lower = _group_weights(scores, size, top=False)
    p_upper = math.fsum(w * r for w, r in zip(upper, rights, strict=True)) / size
    p_lower = math.fsum(w * r for w, r in zip(lower, rights, strict=True)) / size
    return p_upper - p_lower


# ---------------------------------------------------------------------------------------------
# The analysis


@dataclass(frozen=True)
class _Attempt:
    earned: float
    possible: float
    items: int  # scored (weight > 0) questions drawn

    @property
    def percentage(self) -> float:
        return self.earned / self.possible * 100 if self.possible > 0 else 0.0


def _by_attempt(responses: Iterable[Response]) -> dict[Hashable, dict[int, Response]]:
    attempts: dict[Hashable, dict[int, Response]] = defaultdict(dict)
    seen: dict[int, Response] = {}
    for response in responses:
        drawn = attempts[response.attempt]
        if response.question in drawn:
            raise ValueError(f"attempt {response.attempt!r} has question {response.question} twice")
        if response.weight < 0:
            raise ValueError(f"question {response.question} has a negative weight")
        first = seen.setdefault(response.question, response)
        if (first.correct, first.weight) != (response.correct, response.weight):
            # One question id is one version: its key and weight cannot differ between attempts.
            raise ValueError(f"question {response.question} has two keys or weights")
        drawn[response.question] = response
    return attempts


def _score(drawn: dict[int, Response]) -> _Attempt:
    # Summed in question order with fsum: the same attempt always gets the same exact score.
    ordered = [drawn[q] for q in sorted(drawn)]
    return _Attempt(
        earned=math.fsum(r.weight for r in ordered if r.right),
        possible=math.fsum(r.weight for r in ordered),
        items=sum(1 for r in ordered if r.weight > 0),
    )


def _rest_percentage(attempt: _Attempt, response: Response) -> float:
    points = response.weight if response.right else 0.0
    rest_possible = attempt.possible - response.weight
    return (attempt.earned - points) / rest_possible * 100 if rest_possible > 0 else 0.0


def _flags(facility: float, indices: Sequence[float | None]) -> tuple[str, ...]:
    flags = []
    if facility < HARD_BELOW:
        flags.append(HARD)
    if facility > EASY_ABOVE:
        flags.append(EASY)
    if any(index is not None and index < DISCRIMINATION_BELOW for index in indices):
        flags.append(LOW_DISCRIMINATION)
    return tuple(flags)


def _choices(
    answered: Sequence[Response], scores: Sequence[float], correct: int
) -> tuple[ChoiceShare, ...]:
    n = len(answered)
    chosen_scores: dict[int | None, list[float]] = defaultdict(list)
    for response, score in zip(answered, scores, strict=True):
        chosen_scores[response.chosen].append(score)
    numbers = sorted(set(CHOICES) | {c for c in chosen_scores if c is not None} | {correct})
    shares = []
    for choice in [*numbers, None]:
        found = chosen_scores.get(choice, [])
        shares.append(
            ChoiceShare(
                choice=choice,
                count=len(found),
                share=len(found) / n,
                is_correct=choice == correct,
                mean_percentage=mean(found) if found else None,
            )
        )
    return tuple(shares)


def _question(question: int, drawn_by: list[tuple[Response, _Attempt]]) -> QuestionAnalysis:
    responses = [r for r, _ in drawn_by]
    rights = [1 if r.right else 0 for r in responses]
    percentages = [a.percentage for _, a in drawn_by]
    rests = [_rest_percentage(a, r) for r, a in drawn_by]
    n = len(responses)
    facility = sum(rights) / n
    point_biserial = correlation(rights, rests) if len(set(rights)) > 1 else None
    upper_lower = upper_lower_index(rights, percentages)
    # The bank's correct choice of this question (the same in every attempt of one version).
    correct = responses[0].correct
    return QuestionAnalysis(
        question=question,
        attempts=n,
        right=sum(rights),
        facility=facility,
        point_biserial=point_biserial,
        upper_lower=upper_lower,
        choices=_choices(responses, percentages, correct),
        flags=_flags(facility, (point_biserial, upper_lower)),
    )


def _reliability(
    attempts: dict[Hashable, dict[int, Response]], scores: dict[Hashable, _Attempt]
) -> tuple[float | None, float | None, float | None]:
    """(kr20, sem in points, sem in percentage points)."""
    n = len(attempts)
    if n < 2:
        return None, None, None
    k = mean([scores[a].items for a in attempts])
    if k < 2:
        return None, None, None
    points: dict[int, list[float]] = defaultdict(list)
    for drawn in attempts.values():
        for response in drawn.values():
            if response.weight > 0:
                points[response.question].append(response.weight if response.right else 0.0)
    item_variance = {q: variance(values) for q, values in points.items()}
    # Σ var(item) over the questions each attempt drew, averaged: for a fixed form this is
    # just Σ var(item).
    sum_item_variance = mean(
        [
            math.fsum(item_variance[q] for q, r in drawn.items() if r.weight > 0)
            for drawn in attempts.values()
        ]
    )
    total_variance = variance([scores[a].earned for a in attempts])
    if total_variance <= 0:
        return None, None, None
    kr20 = min(1.0, k / (k - 1) * (1 - sum_item_variance / total_variance))
    spread = math.sqrt(1 - kr20)
    sd_percentage = math.sqrt(variance([scores[a].percentage for a in attempts]))
    return kr20, math.sqrt(total_variance) * spread, sd_percentage * spread


def analyse(responses: Iterable[Response]) -> ExamAnalysis:
    """Item statistics and reliability of the given attempts (see the module's docstring)."""
    attempts = _by_attempt(responses)
    scores = {attempt: _score(drawn) for attempt, drawn in attempts.items()}
    drawn_by: dict[int, list[tuple[Response, _Attempt]]] = defaultdict(list)
    for attempt, drawn in attempts.items():
        for question, response in drawn.items():
            drawn_by[question].append((response, scores[attempt]))
    questions = tuple(_question(q, drawn_by[q]) for q in sorted(drawn_by))
    kr20, sem, sem_percentage = _reliability(attempts, scores)
    earned = [s.earned for s in scores.values()]
    percentages = [s.percentage for s in scores.values()]
    return ExamAnalysis(
        attempts=len(attempts),
        questions=questions,
        items_per_attempt=mean([s.items for s in scores.values()]) if scores else 0.0,
        mean_points=mean(earned) if earned else None,
        sd_points=math.sqrt(variance(earned)) if earned else None,
        mean_percentage=mean(percentages) if percentages else None,
        sd_percentage=math.sqrt(variance(percentages)) if percentages else None,
        kr20=kr20,
        sem=sem,
        sem_percentage=sem_percentage,
    )
