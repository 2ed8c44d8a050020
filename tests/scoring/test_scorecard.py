"""AI Reality Check scoring rules: section scores, weighted total, bands, recommendations,
briefing qualification and lead quality."""

import itertools
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scoring.scorecard import (
    Band,
    Choice,
    Contact,
    Definition,
    Question,
    Rule,
    Section,
    SectionScore,
    band_for,
    lead_quality,
    qualified_for_briefing,
    recommend,
    round_half_up,
    score_scorecard,
    score_section,
    weighted_total,
)

FIXTURE = Path(__file__).resolve().parents[2] / "portal/scorecards/fixtures/scorecard_v1.json"
SEED_WEIGHTS = {
    "valueAssurance": 0.25,
    "customerSafe": 0.35,
    "riskCompliance": 0.25,
    "governance": 0.15,
}
POINTS = (0, 6, 12, 19, 25)
LETTERS = "ABCDE"
BANDS = (
    Band("champion", "AI Champion", 80, "Mature"),
    Band(
        "builder", "AI Builder", 60, "Good foundation in place with specific areas for improvement"
    ),
    Band("risk_zone", "AI Risk Zone", 40, "Gaps"),
    Band("alert", "AI Alert", 20, "Act now"),
    Band("crisis", "AI Crisis", 0, "Unmanaged"),
)
KEYS = ("value_assurance", "customer_safe", "risk_compliance", "governance")
API_KEYS = tuple(SEED_WEIGHTS)


def question(qid: str, points=POINTS) -> Question:
    return Question(
        qid, tuple(Choice(letter, p) for letter, p in zip(LETTERS, points, strict=True))
    )


def definition(rules=(), questions: int = 4) -> Definition:
    return Definition(
        sections=tuple(
            Section(
                key,
                api_key,
                SEED_WEIGHTS[api_key],
                tuple(question(f"{key}_{n}") for n in range(1, questions + 1)),
            )
            for key, api_key in zip(KEYS, API_KEYS, strict=True)
        ),
        bands=BANDS,
        rules=tuple(rules),
    )


def all_answers(letter: str, d: Definition | None = None) -> dict[str, str]:
    d = d or definition()
    return {q.qid: letter for s in d.sections for q in s.questions}


def rule(section: str, low: int, high: int, priority: str, title: str) -> Rule:
    return Rule(section, low, high, priority, title, "why", ("do it",), "impact", "1 month")


# ---------------------------------------------------------------------------------------------
# Weights, sections, total


def test_the_content_weights_are_the_seeds_and_sum_to_one():
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    weights = {section["api_key"]: section["weight"] for section in data["sections"]}
    assert weights == SEED_WEIGHTS
    assert sum(weights.values()) == pytest.approx(1)
    assert sum(s.weight for s in definition().sections) == pytest.approx(1)


def test_a_section_of_best_answers_is_100_and_of_worst_is_0():
    section = definition().sections[0]
    assert score_section(section, {q.qid: "E" for q in section.questions}).score == 100
    assert score_section(section, {q.qid: "A" for q in section.questions}).score == 0
    result = score_scorecard(definition(), all_answers("E"))
    assert result.total == 100 and result.band.key == "champion"
    result = score_scorecard(definition(), all_answers("A"))
    assert result.total == 0 and result.band.key == "crisis"


def test_a_question_is_worth_its_best_choice_whatever_its_letter():
    section = Section(
        "governance", "governance", 1.0, (question("governance_1", (25, 0, 3, 9, 12)),)
    )
    assert section.max_points == 25
    assert score_section(section, {"governance_1": "A"}).score == 100
    assert score_section(section, {"governance_1": "D"}).score == 36


def test_an_unanswered_question_earns_zero_points():
    section = definition().sections[1]
    first = section.questions[0].qid
    result = score_section(section, {first: "E"})
    assert (result.points, result.max_points, result.score) == (25, 100, 25)
    assert result.questions[1].answer is None and result.questions[1].points == 0


def test_unknown_questions_and_letters_are_errors_not_zeros():
    with pytest.raises(ValueError, match="unknown question id"):
        score_scorecard(definition(), {"value_assurance_99": "A"})
    with pytest.raises(ValueError, match="'F' is not one of A, B, C, D, E"):
        score_scorecard(definition(), {"value_assurance_1": "F"})


def test_the_total_is_the_weighted_sum_of_the_rounded_section_scores():
    # Section scores 75, 81, 56, 44 (out of 4 questions × 25 = 100 points each).
    answers = {
        **dict(zip([f"value_assurance_{n}" for n in range(1, 5)], "EDDD", strict=True)),
        **dict(zip([f"customer_safe_{n}" for n in range(1, 5)], "EEEB", strict=True)),
        **dict(zip([f"risk_compliance_{n}" for n in range(1, 5)], "EDCA", strict=True)),
        **dict(zip([f"governance_{n}" for n in range(1, 5)], "DDBA", strict=True)),
    }
    result = score_scorecard(definition(), answers)
    assert result.breakdown == {
        "valueAssurance": 82,
        "customerSafe": 81,
        "riskCompliance": 56,
        "governance": 44,
    }
    # 82×.25 + 81×.35 + 56×.25 + 44×.15 = 20.5 + 28.35 + 14 + 6.6 = 69.45 → 69
    assert result.total == 69 and result.band.key == "builder"


def test_rounding_is_half_up():
    assert [round_half_up(x) for x in (0.5, 1.5, 2.5, 79.5, 79.49)] == [1, 2, 3, 80, 79]


def scored(api_key: str, score: int, weight: float) -> SectionScore:
    return SectionScore(api_key, api_key, weight, score, 0, 0, ())


def seed_total(scores: dict[str, int]) -> int:
    return weighted_total([scored(k, scores[k], SEED_WEIGHTS[k]) for k in API_KEYS])


def test_a_total_of_exactly_a_half_rounds_up_though_floats_make_it_a_hair_less():
    # 48 × 0.35 + 18 × 0.15 = 16.8 + 2.7 = 19.5 (as floats, 19.499999999999996) → 20, "alert".
    scores = {"valueAssurance": 0, "customerSafe": 48, "riskCompliance": 0, "governance": 18}
    assert seed_total(scores) == 20
    assert band_for(seed_total(scores), BANDS).key == "alert"


def section_scores_of_four_questions() -> list[int]:
    """Every score a section of four questions worth 0/6/12/19/25 can get (35 of them)."""
    # The best is 4 × 25 = 100 points: a section's score is its points.
    return sorted({sum(points) for points in itertools.product(POINTS, repeat=4)})


def test_every_total_that_is_exactly_a_half_rounds_up():
    """Over every combination of the four sections' scores (35⁴), in integer thousandths: the
    totals that are exactly x.5 are the ones a float sum can put a hair below; each rounds up."""
    scores = section_scores_of_four_questions()
    assert len(scores) == 35
    w1, w2, w3, w4 = (round(Decimal(str(SEED_WEIGHTS[k])) * 1000) for k in API_KEYS)
    halves = []
    for s1, s2, s3 in itertools.product(scores, repeat=3):
        partial = s1 * w1 + s2 * w2 + s3 * w3
        halves += [(s1, s2, s3, s4) for s4 in scores if (partial + s4 * w4) % 1000 == 500]
    for combination in halves:
        exact = sum(s * w for s, w in zip(combination, (w1, w2, w3, w4), strict=True))
        total = seed_total(dict(zip(API_KEYS, combination, strict=True)))
        assert total == (exact + 500) // 1000, combination
    assert len(halves) > 145  # the 145 a float sum rounded down are among them


@given(
    scores=st.lists(st.integers(0, 100), min_size=4, max_size=4),
    cuts=st.lists(st.integers(1, 999), min_size=3, max_size=3, unique=True),
)
@example(scores=[0, 48, 0, 18], cuts=[250, 600, 850])  # the seed's weights: 19.5
def test_the_total_is_decimal_arithmetic_rounded_half_up(scores, cuts):
    """Any four scores and any four weights of three decimals adding up to 1."""
    bounds = [0, *sorted(cuts), 1000]
    weights = [Decimal(high - low) / 1000 for low, high in itertools.pairwise(bounds)]
    sections = [
        scored(key, score, float(weight))
        for key, score, weight in zip(API_KEYS, scores, weights, strict=True)
    ]
    exact = sum((score * weight for score, weight in zip(scores, weights, strict=True)), Decimal())
    expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert weighted_total(sections) == expected


def test_a_section_score_of_exactly_a_half_rounds_up():
    """points / max × 100 as a float can fall a hair below x.5 (322 / 560 × 100 =
    57.49999999999999): each section score is the exact ratio rounded half-up."""
    for max_points in range(1, 401):
        for points in range(max_points + 1):
            exact = Decimal(points * 100) / Decimal(max_points)
            expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
            section = Section("s", "s", 1.0, (question("s_1", (0, 0, 0, points, max_points)),))
            assert score_section(section, {"s_1": "D"}).score == expected, (points, max_points)


# ---------------------------------------------------------------------------------------------
# Bands (DESIGN §4: champion ≥ 80, builder 60–79, risk_zone 40–59, alert 20–39, crisis < 20)


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (100, "champion"),
        (80, "champion"),
        (79.9, "builder"),
        (79, "builder"),
        (60, "builder"),
        (59, "risk_zone"),
        (40, "risk_zone"),
        (39, "alert"),
        (20, "alert"),
        (19, "crisis"),
        (0, "crisis"),
    ],
)
def test_band_boundaries(score, band):
    assert band_for(score, BANDS).key == band


def test_the_category_follows_the_reported_total():
    # Section scores 100, 75, 75, 75: 25 + 26.25 + 18.75 + 11.25 = 81.25 → 81, champion.
    d = definition()
    answers = all_answers("E", d) | {f"{key}_1": "A" for key in KEYS[1:]}
    result = score_scorecard(d, answers)
    assert result.total == 81 and result.band.key == "champion"
    assert result.band.description == "Mature"


def test_bands_without_one_at_zero_are_refused():
    with pytest.raises(ValueError, match="lowest band must start at 0"):
        band_for(5, BANDS[:-1])


# ---------------------------------------------------------------------------------------------
# Recommendations


def test_recommendations_are_the_matching_rules_by_priority_weight_then_score():
    rules = [
        rule("governance", 0, 100, "low", "governance low"),
        rule("value_assurance", 0, 39, "high", "value high"),
        rule("governance", 0, 39, "high", "governance high"),
        rule("customer_safe", 0, 39, "high", "customer high"),
        rule("risk_compliance", 0, 39, "high", "risk high"),
        rule("customer_safe", 40, 100, "medium", "customer out of range"),
        rule("risk_compliance", 0, 100, "medium", "risk medium"),
    ]
    # value 25, customer 0, risk 0, governance 0 → every "high" rule matches.
    answers = {"value_assurance_1": "E"}
    titles = [r.title for r in score_scorecard(definition(rules), answers).recommendations]
    assert titles == [
        "customer high",  # high, weight .35
        "risk high",  # high, weight .25, score 0
        "value high",  # high, weight .25, score 25
        "governance high",  # high, weight .15
        "risk medium",
        "governance low",
    ]


def test_a_rule_matches_its_range_inclusively():
    rules = [rule("governance", 40, 59, "high", "middle")]

    def matches(score: int) -> tuple:
        section = SectionScore("governance", "governance", 0.15, score, score, 100, ())
        return recommend(rules, [section])

    assert [bool(matches(score)) for score in (39, 40, 59, 60)] == [False, True, True, False]
    recommendation = matches(48)[0]
    assert (recommendation.section, recommendation.section_score) == ("governance", 48)
    assert recommendation.action_items == ("do it",)
    assert recommendation.estimated_impact == "impact"
    assert recommendation.time_to_implement == "1 month"


# ---------------------------------------------------------------------------------------------
# Leads


def sections_scoring(total_letter: str):
    return score_scorecard(definition(), all_answers(total_letter)).sections


REACHABLE = Contact(email="ceo@acme.example", company="Acme Corp")


@pytest.mark.parametrize(
    ("contact", "letter", "qualified"),
    [
        (REACHABLE, "C", True),  # total 48: needs help, reachable
        (REACHABLE, "E", False),  # total 100: a champion with no weak area
        (Contact(email="ceo@acme.example"), "C", False),  # no company
        (Contact(company="Acme Corp"), "C", False),  # no e-mail
        (Contact(email="not-an-address", company="Acme Corp"), "C", False),
        (Contact(email="ceo@acme.example", company="   "), "C", False),
    ],
)
def test_qualified_for_briefing(contact, letter, qualified):
    sections = sections_scoring(letter)
    total = score_scorecard(definition(), all_answers(letter)).total
    assert qualified_for_briefing(contact, total, sections) is qualified


def test_a_champion_with_one_weak_section_qualifies():
    d = definition()
    answers = all_answers("E", d) | {f"governance_{n}": "A" for n in range(1, 5)}
    result = score_scorecard(d, answers, REACHABLE)
    assert result.total == 85 and result.band.key == "champion"
    assert result.qualified_for_briefing is True
    assert result.lead_quality == "executive_briefing_qualified"


def test_briefing_thresholds_are_content():
    d = Definition(definition().sections, BANDS, briefing_total_below=40, briefing_section_below=0)
    assert score_scorecard(d, all_answers("C", d), REACHABLE).qualified_for_briefing is False
    assert score_scorecard(d, all_answers("B", d), REACHABLE).qualified_for_briefing is True


@pytest.mark.parametrize(
    ("contact", "qualified", "quality"),
    [
        (Contact(), False, None),
        (Contact(first_name="Jo", company="Acme"), False, None),
        (Contact(email="jo@acme.example"), False, "basic"),
        (Contact(email="jo@acme.example", first_name="Jo"), False, "enhanced"),
        (Contact(email="jo@acme.example", last_name="Doe"), False, "enhanced"),
        (Contact(email="jo@acme.example", company="Acme"), False, "enhanced"),
        (Contact(email="jo@acme.example", company="Acme"), True, "executive_briefing_qualified"),
    ],
)
def test_lead_quality(contact, qualified, quality):
    assert lead_quality(contact, qualified=qualified) == quality


# ---------------------------------------------------------------------------------------------
# Properties

QIDS = [f"{key}_{n}" for key in KEYS for n in range(1, 6)]
answer_sets = st.dictionaries(st.sampled_from(QIDS), st.sampled_from(LETTERS))
point_sets = st.lists(st.integers(0, 25), min_size=5, max_size=5).map(lambda p: [0, *p[1:]])


@given(answer_sets)
def test_the_total_is_always_between_0_and_100(answers):
    result = score_scorecard(definition(questions=5), answers)
    assert 0 <= result.total <= 100
    assert all(0 <= s.score <= 100 for s in result.sections)
    assert result.band.key in {b.key for b in BANDS}


@given(answer_sets, st.sampled_from(QIDS), st.data())
def test_a_better_answer_never_lowers_the_total_or_its_section(answers, qid, data):
    d = definition(questions=5)
    points = dict(zip(LETTERS, POINTS, strict=True))
    current = answers.get(qid)
    floor = points[current] if current else 0
    better = data.draw(st.sampled_from([letter for letter in LETTERS if points[letter] >= floor]))
    before = score_scorecard(d, answers)
    after = score_scorecard(d, answers | {qid: better})
    section = qid.rsplit("_", 1)[0]
    assert after.total >= before.total
    score = {s.key: s.score for s in before.sections}[section]
    assert {s.key: s.score for s in after.sections}[section] >= score


@given(point_sets, st.sampled_from(LETTERS), st.sampled_from(LETTERS))
def test_with_any_points_a_higher_scoring_choice_never_lowers_the_section(points, a, b):
    questions = (question("governance_1", points), question("governance_2"))
    section = Section("governance", "governance", 1.0, questions)
    low, high = sorted((a, b), key=lambda letter: points[LETTERS.index(letter)])
    before = score_section(section, {"governance_1": low, "governance_2": "C"}).score
    after = score_section(section, {"governance_1": high, "governance_2": "C"}).score
    assert 0 <= before <= after <= 100
