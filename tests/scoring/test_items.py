"""Item analysis (scoring/items.py) against worked examples computed by hand, and properties."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.items import (
    EASY,
    HARD,
    LOW_DISCRIMINATION,
    Response,
    analyse,
    group_size,
)

# --- a worked example: 5 candidates × 4 questions, equal weights ------------------------------
#
#            q1 q2 q3 q4   total
#   A         1  1  1  1     4
#   B         1  1  1  0     3
#   C         1  1  0  0     2
#   D         1  0  1  0     2
#   E         0  0  0  0     0
#   p        .8 .6 .6 .2
#
# The correct choice of q1..q4 is 1, 2, 3, 4. What was chosen (a wrong answer names a choice):
CORRECT = {1: 1, 2: 2, 3: 3, 4: 4}
CHOSEN = {
    "A": {1: 1, 2: 2, 3: 3, 4: 4},
    "B": {1: 1, 2: 2, 3: 3, 4: 2},
    "C": {1: 1, 2: 2, 3: 1, 4: 2},
    "D": {1: 1, 2: 1, 3: 3, 4: None},
    "E": {1: 3, 2: None, 3: 4, 4: 1},
}


def responses(chosen=CHOSEN, weights=None) -> list[Response]:
    weights = weights or {}
    return [
        Response(attempt=who, question=q, chosen=c, correct=CORRECT[q], weight=weights.get(q, 1.0))
        for who, answers in chosen.items()
        for q, c in answers.items()
    ]


def test_facility_is_the_share_right():
    result = analyse(responses())
    assert result.attempts == 5
    assert [q.facility for q in result.questions] == [0.8, 0.6, 0.6, 0.2]
    assert [q.right for q in result.questions] == [4, 3, 3, 1]


def test_kr20_and_sem_by_hand():
    # totals 4, 3, 2, 2, 0: mean 2.2; variance = (1.8² + .8² + .2² + .2² + 2.2²) / 5
    #                                           = (3.24 + .64 + .04 + .04 + 4.84) / 5 = 1.76
    # Σ pq = .8·.2 + .6·.4 + .6·.4 + .2·.8 = .16 + .24 + .24 + .16 = .8
    # KR-20 = 4/3 · (1 − .8 / 1.76) = 4/3 · .96/1.76 = 8/11
    # SEM = √1.76 · √(1 − 8/11) = √(1.76 · 3/11) = √.48
    result = analyse(responses())
    assert result.mean_points == pytest.approx(2.2)
    assert result.sd_points == pytest.approx(math.sqrt(1.76))
    assert result.kr20 == pytest.approx(8 / 11)
    assert result.sem == pytest.approx(math.sqrt(0.48))
    # The same on the percentage scale (4 questions: 25 points each).
    assert result.sem_percentage == pytest.approx(25 * math.sqrt(0.48))


def test_point_biserial_with_the_rest_score_by_hand():
    result = analyse(responses())
    # q1: right 1,1,1,1,0; rest (total − q1) 3,2,1,1,0.
    # mean x = .8, mean y = 1.4; cov = (3+2+1+1+0)/5 − .8·1.4 = 1.4 − 1.12 = .28
    # var x = .16; var y = (9+4+1+1+0)/5 − 1.96 = 1.04;  r = .28 / √(.16 · 1.04)
    assert result.question(1).point_biserial == pytest.approx(0.28 / math.sqrt(0.16 * 1.04))
    assert result.question(1).point_biserial == pytest.approx(0.6864, abs=1e-4)
    # q4: right 1,0,0,0,0; rest 3,3,2,2,0. mean x = .2, mean y = 2;
    # cov = 3/5 − .4 = .2; var y = (9+9+4+4+0)/5 − 4 = 1.2;  r = .2 / √(.16 · 1.2)
    assert result.question(4).point_biserial == pytest.approx(0.2 / math.sqrt(0.16 * 1.2))


def test_upper_lower_index_of_five_is_the_best_against_the_worst():
    # 27 % of 5 = 1.35 → one attempt per group: A (4 right) and E (none right).
    assert group_size(5) == 1
    result = analyse(responses())
    assert [q.upper_lower for q in result.questions] == [1.0, 1.0, 1.0, 1.0]


def test_distractor_shares_by_hand():
    q4 = analyse(responses()).question(4)
    shares = {c.choice: c.share for c in q4.choices}
    # A chose 4 (right), B and C chose 2, D left it, E chose 1.
    assert shares == {1: 0.2, 2: 0.4, 3: 0.0, 4: 0.2, None: 0.2}
    assert [c.choice for c in q4.choices if c.is_correct] == [4]
    means = {c.choice: c.mean_percentage for c in q4.choices}
    # B scored 75 %, C 50 % → choice 2 drew a mean of 62.5; nobody chose 3.
    assert means[2] == 62.5 and means[3] is None and means[4] == 100.0


def test_flags():
    result = analyse(responses())
    # q4: facility .2 is not below .2; its indices are .456 and 1.
    assert result.question(4).flags == ()
    everyone = {who: {**answers, 1: 1} for who, answers in CHOSEN.items()}
    assert EASY in analyse(responses(everyone)).question(1).flags
    nobody = {who: {**answers, 1: 2} for who, answers in CHOSEN.items()}
    assert HARD in analyse(responses(nobody)).question(1).flags
    # q3 is answered right by the second-weakest (D) but wrong by C: weak discrimination
    # against the rest; flip it so the strongest gets it wrong and the weakest right.
    q3_chosen = {"A": 1, "B": 1, "C": 3, "D": 3, "E": 3}
    flipped = {who: {**answers, 3: q3_chosen[who]} for who, answers in CHOSEN.items()}
    q3 = analyse(responses(flipped)).question(3)
    assert q3.point_biserial < 0 and LOW_DISCRIMINATION in q3.flags


def test_upper_lower_shares_places_tied_at_the_boundary():
    # Ten attempts, 27 % of 10 = 2.7 → groups of 3. Totals 4,4,3,3,3,2,2,1,1,0.
    # The top 3: both 4s, and the three 3s share the last place (⅓ each); the bottom 3: the 0
    # and both 1s. q1 right: the 4s, one 3 (a3), a 2 (a6) and one 1 (a8).
    # p(upper) = (1 + 1 + ⅓·(1 + 0 + 0)) / 3 = 7/9;  p(lower) = (0 + 1 + 0) / 3 = 1/3
    matrix = {
        "a1": "1111",
        "a2": "1111",
        "a3": "1110",
        "a4": "0111",
        "a5": "0111",
        "a6": "1100",
        "a7": "0011",
        "a8": "1000",
        "a9": "0100",
        "a10": "0000",
    }
    data = [
        Response(attempt=who, question=i, chosen=1 if bit == "1" else 2, correct=1)
        for who, bits in matrix.items()
        for i, bit in enumerate(bits, start=1)
    ]
    assert group_size(10) == 3
    q1 = analyse(data).question(1)
    assert q1.facility == 0.5
    assert q1.upper_lower == pytest.approx(7 / 9 - 1 / 3)


def test_weights_scale_points_not_reliability():
    doubled = analyse(responses(weights={1: 2.0, 2: 2.0, 3: 2.0, 4: 2.0}))
    assert doubled.kr20 == pytest.approx(8 / 11)
    assert doubled.sem == pytest.approx(2 * math.sqrt(0.48))
    assert doubled.sem_percentage == pytest.approx(25 * math.sqrt(0.48))


def finite_numbers(value) -> list[float]:
    """Every float in an analysis (dataclasses, tuples), to check none is NaN or infinite."""
    if isinstance(value, float):
        return [value]
    if isinstance(value, tuple | list):
        return [x for item in value for x in finite_numbers(item)]
    if hasattr(value, "__dataclass_fields__"):
        return [
            x for name in value.__dataclass_fields__ for x in finite_numbers(getattr(value, name))
        ]
    return []


def test_the_heaviest_weight_the_format_allows_stays_finite():
    """Weights of 1e308 (once accepted) made fsum overflow: the item analysis was a 500. At the
    format's most, 1000, every figure is finite and the same as with weights of 1."""
    heaviest = analyse(responses(weights={1: 1000.0, 2: 1000.0, 3: 1000.0, 4: 1000.0}))
    plain = analyse(responses())
    assert all(math.isfinite(x) for x in finite_numbers(heaviest))
    assert heaviest.mean_points == 1000 * plain.mean_points
    assert heaviest.mean_percentage == pytest.approx(plain.mean_percentage)
    assert heaviest.kr20 == pytest.approx(plain.kr20)


def test_a_weight_zero_question_is_analysed_but_not_in_the_reliability():
    # q5 weighs nothing: it has a facility and choices, but KR-20 is that of q1..q4.
    chosen = {who: {**answers, 5: 1 if who in "AB" else 2} for who, answers in CHOSEN.items()}
    CORRECT[5] = 1
    try:
        result = analyse(responses(chosen, weights={5: 0.0}))
    finally:
        del CORRECT[5]
    assert result.question(5).facility == 0.4
    assert result.kr20 == pytest.approx(8 / 11)
    assert result.items_per_attempt == 4


def test_attempts_that_drew_different_questions():
    # A bank of 3, two drawn per attempt: each question's statistics are over the attempts
    # that drew it.
    data = [
        Response(attempt=1, question=10, chosen=1, correct=1),
        Response(attempt=1, question=11, chosen=1, correct=1),
        Response(attempt=2, question=11, chosen=2, correct=1),
        Response(attempt=2, question=12, chosen=1, correct=1),
        Response(attempt=3, question=10, chosen=None, correct=1),
        Response(attempt=3, question=12, chosen=1, correct=1),
    ]
    result = analyse(data)
    assert [(q.question, q.attempts, q.facility) for q in result.questions] == [
        (10, 2, 0.5),
        (11, 2, 0.5),
        (12, 2, 1.0),
    ]
    assert result.items_per_attempt == 2
    assert result.kr20 is None or result.kr20 <= 1


def test_degenerate_cases_are_none():
    one = analyse([r for r in responses() if r.attempt == "A"])
    assert one.attempts == 1 and one.kr20 is None and one.sem is None
    assert all(q.point_biserial is None and q.upper_lower is None for q in one.questions)
    single_question = analyse([r for r in responses() if r.question == 1])
    assert single_question.kr20 is None  # one question per attempt: no internal consistency
    same = {who: {1: 1, 2: 2, 3: 3, 4: 4} for who in CHOSEN}
    flat = analyse(responses(same))
    assert flat.kr20 is None and flat.sem is None  # no variance in the totals
    empty = analyse([])
    assert empty.attempts == 0 and empty.questions == () and empty.kr20 is None


def test_refuses_inconsistent_input():
    with pytest.raises(ValueError, match="twice"):
        analyse([Response("A", 1, 1, 1), Response("A", 1, 2, 1)])
    with pytest.raises(ValueError, match="two keys"):
        analyse([Response("A", 1, 1, 1), Response("B", 1, 2, 2)])


# --- properties ---------------------------------------------------------------------------------

ANSWER = st.one_of(st.none(), st.integers(1, 4))


@st.composite
def exams(draw) -> list[Response]:
    """Up to 12 attempts × up to 5 questions; some questions not drawn by some attempts."""
    questions = draw(st.integers(1, 5))
    keys = draw(st.lists(st.integers(1, 4), min_size=questions, max_size=questions))
    weights = draw(
        st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]), min_size=questions, max_size=questions)
    )
    fixed_form = draw(st.booleans())
    data = []
    for attempt in range(draw(st.integers(1, 12))):
        for q in range(questions):
            if fixed_form or draw(st.booleans()):
                data.append(Response(attempt, q, draw(ANSWER), keys[q], weights[q]))
    return data


@settings(max_examples=200)
@given(exams())
def test_properties_of_every_analysis(data):
    result = analyse(data)
    for q in result.questions:
        assert 0 <= q.facility <= 1
        assert math.isclose(math.fsum(c.share for c in q.choices), 1.0)
        assert sum(c.count for c in q.choices) == q.attempts
        for index in (q.point_biserial, q.upper_lower):
            assert index is None or -1 <= index <= 1
        if q.right in (0, q.attempts):
            assert q.point_biserial is None and q.upper_lower is None
    assert result.kr20 is None or result.kr20 <= 1
    if result.kr20 is not None and result.kr20 <= 1:
        assert result.sem is not None and result.sem >= 0


@settings(max_examples=100)
@given(exams(), st.randoms(use_true_random=False))
def test_the_order_and_names_of_attempts_change_nothing(data, rnd: random.Random):
    shuffled = list(data)
    rnd.shuffle(shuffled)
    attempts = sorted({r.attempt for r in data})
    labels = [f"student-{n}" for n in range(len(attempts))]
    rnd.shuffle(labels)
    names = dict(zip(attempts, labels, strict=True))
    renamed = [
        Response(names[r.attempt], r.question, r.chosen, r.correct, r.weight) for r in shuffled
    ]
    assert analyse(renamed) == analyse(data)


@settings(max_examples=100)
@given(exams())
def test_a_question_everyone_answers_right_has_no_discrimination(data):
    everyone = [
        Response(
            r.attempt, r.question, r.correct if r.question == 0 else r.chosen, r.correct, r.weight
        )
        for r in data
    ]
    q0 = analyse(everyone).question(0) if any(r.question == 0 for r in data) else None
    if q0 is not None:
        assert q0.facility == 1.0
        assert q0.point_biserial is None and q0.upper_lower is None
        assert EASY in q0.flags
