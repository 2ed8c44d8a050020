"""Roleplay scoring: competency marks from chosen options, 16PF stens, time and stakeholders.

Rules (documented for content authors in docs/roleplay-format.md, "competencies[]"):
- A situational-judgement competency earns the sum of the marks of the options the candidate
  chose, floored at 0 and capped at the competency's max_score.
- A 16PF competency is measured by Likert items (1..5; reverse-keyed items count 6 - answer).
  The raw sum is turned into a sten (1..10) with the norm table stored with the content: a
  list of 9 ascending raw-score cut-offs, sten = 1 + number of cut-offs the raw score exceeds.
  Unanswered items count as the scale's midpoint (3), so a skipped item is neutral; with no
  item rated at all the trait was not measured and scores 0.
- `stakeholders` is the number of stakeholders the candidate met, as a 2-digit string.
- `time_taken` is minutes (2 decimals) between start and finish, at most the roleplay's time.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LIKERT_MIN, LIKERT_MAX, LIKERT_MID = 1, 5, 3
STEN_MAX = 10


@dataclass(frozen=True)
class Competency:
    code: str
    name: str
    max_score: float
    kind: str = "sjt"  # "sjt" or "16pf"
    norms: tuple[float, ...] = ()  # 16PF: 9 ascending raw-score cut-offs


@dataclass(frozen=True)
class LikertAnswer:
    competency_code: str
    value: int | None
    reverse: bool = False


@dataclass(frozen=True)
class CompetencyScore:
    competency_code: str
    competency_name: str
    max_marks: float
    marks_obtained: float


@dataclass(frozen=True)
class RoleplayScore:
    stakeholders: str
    max_time: int
    time_taken: float
    competencies: tuple[CompetencyScore, ...]


def sten(raw: float, norms: Sequence[float]) -> int:
    """1 + the number of cut-offs the raw score exceeds, within 1..10."""
    if len(norms) != STEN_MAX - 1 or list(norms) != sorted(norms):
        raise ValueError("a 16PF norm table is 9 ascending raw-score cut-offs")
    return 1 + sum(1 for cut in norms if raw > cut)


def likert_points(answer: LikertAnswer) -> int:
    value = LIKERT_MID if answer.value is None else answer.value
    if not LIKERT_MIN <= value <= LIKERT_MAX:
        raise ValueError(f"Likert answers are {LIKERT_MIN}..{LIKERT_MAX}, not {value}")
    return LIKERT_MIN + LIKERT_MAX - value if answer.reverse else value


def score_roleplay(
    *,
    competencies: Sequence[Competency],
    chosen_marks: Sequence[Mapping[str, float]],
    likert: Sequence[LikertAnswer] = (),
    stakeholders_met: int,
    max_time_minutes: int,
    seconds_taken: float,
) -> RoleplayScore:
    """Score one roleplay from the marks of each chosen option and the Likert answers."""
    scores = []
    for competency in competencies:
        if competency.kind == "16pf":
            answers = [a for a in likert if a.competency_code == competency.code]
            raw = sum(likert_points(a) for a in answers)
            # No statement rated at all (e.g. time ran out first) measures nothing: 0, not
            # the made-up mid-range sten that all-neutral answers would give.
            rated = any(a.value is not None for a in answers)
            marks: float = sten(raw, competency.norms) if rated else 0
            max_marks: float = STEN_MAX
        else:
            earned = sum(m.get(competency.code, 0) for m in chosen_marks)
            marks = min(max(earned, 0), competency.max_score)
            max_marks = competency.max_score
        scores.append(
            CompetencyScore(
                competency_code=competency.code,
                competency_name=competency.name,
                max_marks=max_marks,
                marks_obtained=round(marks, 2),
            )
        )
    minutes = min(max(seconds_taken, 0) / 60, max_time_minutes)
    return RoleplayScore(
        stakeholders=f"{min(max(stakeholders_met, 0), 99):02d}",
        max_time=max_time_minutes,
        time_taken=round(minutes, 2),
        competencies=tuple(scores),
    )


def not_attempted(competencies: Sequence[Competency], *, max_time_minutes: int) -> RoleplayScore:
    """A roleplay the candidate never started: nothing met, no time, zero marks (not a sten)."""
    return RoleplayScore(
        stakeholders="00",
        max_time=max_time_minutes,
        time_taken=0.0,
        competencies=tuple(
            CompetencyScore(
                competency_code=c.code,
                competency_name=c.name,
                max_marks=STEN_MAX if c.kind == "16pf" else c.max_score,
                marks_obtained=0,
            )
            for c in competencies
        ),
    )
