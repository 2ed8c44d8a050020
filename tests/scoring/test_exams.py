"""Pure tests of exam drawing, choice shuffling and grading (scoring/exams.py)."""

import collections
import dataclasses
import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.exams import Item, choice_order, draw_questions, grade, to_original, to_shown

# --- grade ------------------------------------------------------------------------------------


def test_grade_at_the_heaviest_weight_stays_finite_and_exact():
    """The format's heaviest question (1000), in a large quiz: the sums are exact, the result
    is valid JSON, and every right answer passes (three weights of 1e308 gave a NaN percentage,
    and a fully right candidate failed)."""
    items = [Item(weight=1000.0, correct=1, chosen=1)] * 10_000
    result = grade(items, accept_score=100)
    assert (result.total_score, result.max_score) == (10_000_000.0, 10_000_000.0)
    assert result.percentage == 100.0 and result.is_accept
    half = grade(items[:5000] + [Item(weight=1000.0, correct=1, chosen=2)] * 5000, 50)
    assert (half.total_score, half.percentage, half.is_accept) == (5_000_000.0, 50.0, True)
    json.dumps(dataclasses.asdict(result), allow_nan=False)


def test_grade_at_the_lightest_weights_still_counts_the_answers():
    """Weights under 0.00005 each: their sums round to 0 at four decimals, but the percentage
    is the share of the weight earned (it was 0 %, a fail, for every answer right)."""
    items = [Item(weight=0.00001, correct=1, chosen=1)] * 3
    assert grade(items, accept_score=60).percentage == 100.0
    assert grade(items, accept_score=60).is_accept
    two_of_three = grade(items[:2] + [Item(weight=0.00001, correct=1, chosen=2)], 60)
    assert (two_of_three.percentage, two_of_three.is_accept) == (66.67, True)


def test_grade_counts_right_wrong_and_unanswered():
    items = [
        Item(weight=1.0, correct=1, chosen=1),
        Item(weight=1.0, correct=2, chosen=3),
        Item(weight=1.0, correct=3, chosen=None),
        Item(weight=1.0, correct=4, chosen=4),
    ]
    result = grade(items, accept_score=50)
    assert result.total_questions == 4
    assert result.correct_answers == 2
    assert result.wrong_answers == 1
    assert result.unanswered == 1
    assert result.scores == (1.0, 0.0, 0.0, 1.0)
    assert result.total_score == 2.0
    assert result.max_score == 4.0
    assert result.percentage == 50.0


def test_grade_weights_count_towards_score_and_percentage():
    items = [
        Item(weight=3.0, correct=1, chosen=1),
        Item(weight=1.0, correct=2, chosen=1),
        Item(weight=0.5, correct=3, chosen=3),
        Item(weight=0.5, correct=4, chosen=None),
    ]
    result = grade(items, accept_score=70)
    assert result.scores == (3.0, 0.0, 0.5, 0.0)
    assert result.total_score == 3.5
    assert result.max_score == 5.0
    assert result.percentage == 70.0
    assert result.correct_answers == 2
    assert result.wrong_answers == 1
    assert result.unanswered == 1


def test_an_unanswered_question_earns_nothing_and_is_not_wrong():
    result = grade([Item(weight=2.0, correct=1, chosen=None)], accept_score=0)
    assert (result.total_score, result.correct_answers, result.wrong_answers) == (0.0, 0, 0)
    assert result.unanswered == 1
    assert result.percentage == 0.0


def test_a_wrong_answer_earns_nothing():
    result = grade([Item(weight=2.0, correct=1, chosen=c) for c in (2, 3, 4)], accept_score=0)
    assert result.total_score == 0.0
    assert result.wrong_answers == 3
    assert result.correct_answers == 0


def test_percentage_is_rounded_to_two_decimals():
    items = [Item(weight=1.0, correct=1, chosen=1)] + [
        Item(weight=1.0, correct=1, chosen=2) for _ in range(2)
    ]
    assert grade(items, accept_score=0).percentage == 33.33
    items = [Item(weight=1.0, correct=1, chosen=1) for _ in range(2)] + [
        Item(weight=1.0, correct=1, chosen=None)
    ]
    assert grade(items, accept_score=0).percentage == 66.67


@pytest.mark.parametrize(
    ("accept_score", "accepted"), [(59.99, True), (60, True), (60.0, True), (60.01, False)]
)
def test_accept_boundary_equal_to_accept_score_passes(accept_score, accepted):
    items = [Item(weight=1.0, correct=1, chosen=1 if n < 3 else 2) for n in range(5)]
    result = grade(items, accept_score=accept_score)
    assert result.percentage == 60.0
    assert result.is_accept is accepted


def test_zero_total_weight_gives_zero_percent_without_error():
    items = [Item(weight=0.0, correct=1, chosen=1), Item(weight=0.0, correct=2, chosen=None)]
    result = grade(items, accept_score=50)
    assert result.percentage == 0.0
    assert result.total_score == 0.0
    assert result.is_accept is False
    assert result.correct_answers == 1


def test_no_items_at_all():
    result = grade([], accept_score=10)
    assert result.total_questions == 0
    assert result.percentage == 0.0
    assert result.is_accept is False


# --- draw_questions ---------------------------------------------------------------------------


@pytest.mark.parametrize("count", [5, 6, 100])
def test_draw_takes_the_whole_bank_in_order_when_count_covers_it(count):
    bank = [11, 3, 7, 42, 5]
    assert draw_questions(123, bank, count) == bank


@pytest.mark.parametrize("seed", range(20))
def test_draw_samples_count_questions_in_bank_order(seed):
    bank = [50, 10, 40, 20, 30, 60, 70, 5]
    drawn = draw_questions(seed, bank, 3)
    assert len(drawn) == 3
    assert len(set(drawn)) == 3
    assert set(drawn) <= set(bank)
    assert drawn == sorted(drawn, key=bank.index)


def test_draw_is_deterministic_per_seed_and_varies_between_seeds():
    bank = list(range(1, 31))
    assert draw_questions(7, bank, 10) == draw_questions(7, list(bank), 10)
    draws = {tuple(draw_questions(seed, bank, 10)) for seed in range(20)}
    assert len(draws) > 1


# --- choice order -----------------------------------------------------------------------------


def test_choice_order_is_identity_without_shuffle():
    for seed, question_id in itertools.product((0, 1, 99), (1, 2, 500)):
        assert choice_order(seed, question_id, False) == (1, 2, 3, 4)


def test_choice_order_is_a_stable_permutation_per_seed_and_question():
    orders = set()
    for seed, question_id in itertools.product(range(10), range(1, 11)):
        order = choice_order(seed, question_id, True)
        assert sorted(order) == [1, 2, 3, 4]
        assert choice_order(seed, question_id, True) == order
        orders.add(order)
    # 100 shuffles of 4 choices are not all the same order.
    assert len(orders) > 1


def test_choice_order_differs_between_questions_of_one_quiz():
    orders = {choice_order(5, question_id, True) for question_id in range(1, 40)}
    assert len(orders) > 1


@pytest.mark.parametrize("order", list(itertools.permutations((1, 2, 3, 4))))
def test_to_original_and_to_shown_are_inverse(order):
    for shown in (1, 2, 3, 4):
        original = to_original(order, shown)
        assert original == order[shown - 1]
        assert to_shown(order, original) == shown
    for original in (1, 2, 3, 4):
        assert to_original(order, to_shown(order, original)) == original


# --- properties -------------------------------------------------------------------------------

items_strategy = st.lists(
    st.builds(
        Item,
        weight=st.floats(min_value=0, max_value=100, allow_nan=False, allow_subnormal=False),
        correct=st.integers(1, 4),
        chosen=st.one_of(st.none(), st.integers(1, 4)),
    ),
    max_size=30,
)


@given(items=items_strategy, accept_score=st.floats(0, 100))
def test_percentage_is_always_within_0_and_100(items, accept_score):
    result = grade(items, accept_score)
    assert 0.0 <= result.percentage <= 100.0
    assert 0.0 <= result.total_score <= result.max_score
    assert result.correct_answers + result.wrong_answers + result.unanswered == len(items)
    assert result.is_accept == (result.percentage >= accept_score)


@given(items=items_strategy, data=st.data())
def test_turning_a_wrong_answer_right_never_lowers_the_score(items, data):
    wrong = [i for i, item in enumerate(items) if item.chosen != item.correct]
    if not wrong:
        return
    index = data.draw(st.sampled_from(wrong))
    fixed = list(items)
    fixed[index] = Item(
        weight=items[index].weight, correct=items[index].correct, chosen=items[index].correct
    )
    before, after = grade(items, 50), grade(fixed, 50)
    assert after.total_score >= before.total_score
    assert after.percentage >= before.percentage
    assert after.correct_answers == before.correct_answers + 1
    assert after.is_accept >= before.is_accept


def test_choice_order_uses_every_order_about_as_often():
    # Candidates sitting side by side must not see one favoured order.
    counts = collections.Counter(
        choice_order(seed, question_id, True) for seed in range(60) for question_id in range(100)
    )
    assert set(counts) == set(itertools.permutations((1, 2, 3, 4)))
    expected = 6000 / 24
    assert all(0.8 * expected < count < 1.2 * expected for count in counts.values())
