"""Roleplay scoring rules: caps, floors, stens, reverse-keyed items, time and stakeholders."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.roleplays import (
    Competency,
    LikertAnswer,
    likert_points,
    not_attempted,
    score_roleplay,
    sten,
)

NORMS = (10, 14, 18, 22, 26, 30, 34, 38, 42)


def test_sten_counts_the_cut_offs_exceeded():
    assert sten(0, NORMS) == 1
    assert sten(10, NORMS) == 1
    assert sten(11, NORMS) == 2
    assert sten(42, NORMS) == 9
    assert sten(43, NORMS) == 10


@pytest.mark.parametrize("norms", [(1, 2, 3), (5, 4, 3, 2, 1, 0, -1, -2, -3)])
def test_a_malformed_norm_table_is_refused(norms):
    with pytest.raises(ValueError):
        sten(5, norms)


def test_reverse_keyed_items_count_six_minus_the_answer_and_blank_is_neutral():
    assert likert_points(LikertAnswer("E", 5)) == 5
    assert likert_points(LikertAnswer("E", 5, reverse=True)) == 1
    assert likert_points(LikertAnswer("E", None)) == 3
    with pytest.raises(ValueError):
        likert_points(LikertAnswer("E", 6))


def score(marks, **kw):
    return score_roleplay(
        competencies=[Competency("C", "Care", 10), Competency("E", "Dominance", 10, "16pf", NORMS)],
        chosen_marks=marks,
        likert=kw.get("likert", ()),
        stakeholders_met=kw.get("met", 2),
        max_time_minutes=20,
        seconds_taken=kw.get("seconds", 600),
    )


def test_marks_are_summed_capped_and_floored():
    assert score([{"C": 4}, {"C": 5}]).competencies[0].marks_obtained == 9
    assert score([{"C": 8}, {"C": 5}]).competencies[0].marks_obtained == 10
    assert score([{"C": -3}]).competencies[0].marks_obtained == 0


def test_16pf_is_a_sten_out_of_ten_from_likert_only():
    likert = [LikertAnswer("E", 5)] * 8 + [LikertAnswer("E", 1, reverse=True)] * 2
    result = score([{"E": 99}], likert=likert).competencies[1]
    assert (result.max_marks, result.marks_obtained) == (10, 10)


def test_time_and_stakeholders_follow_the_contract_format():
    result = score([], met=3, seconds=754)
    assert result.stakeholders == "03"
    assert result.time_taken == 12.57 and result.max_time == 20
    assert score([], seconds=99999).time_taken == 20


def test_not_attempted_is_all_zero():
    result = not_attempted([Competency("C", "Care", 6)], max_time_minutes=15)
    assert result.stakeholders == "00" and result.time_taken == 0
    assert result.competencies[0].marks_obtained == 0 and result.competencies[0].max_marks == 6


@given(st.lists(st.dictionaries(st.just("C"), st.integers(-20, 20)), max_size=12))
def test_sjt_marks_always_within_zero_and_max(marks):
    obtained = score(marks).competencies[0].marks_obtained
    assert 0 <= obtained <= 10


@given(st.lists(st.integers(1, 5), min_size=10, max_size=10), st.integers(0, 9), st.integers(1, 4))
def test_agreeing_more_with_a_trait_item_never_lowers_the_sten(values, index, bump):
    before = score([], likert=[LikertAnswer("E", v) for v in values]).competencies[1]
    raised = list(values)
    raised[index] = min(5, raised[index] + bump)
    after = score([], likert=[LikertAnswer("E", v) for v in raised]).competencies[1]
    assert after.marks_obtained >= before.marks_obtained
