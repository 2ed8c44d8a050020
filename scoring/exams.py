"""Exam drawing, choice shuffling and grading.

Answers are stored as the *original* choice number of the question bank (1..4); what the
candidate sees is a per-quiz permutation of the choices. Grading only ever compares original
numbers, so shuffling can never confuse it.
"""

import hashlib
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

CHOICES = (1, 2, 3, 4)
# Every order of the four choices; a shuffle picks one (24 of them, each as likely).
ORDERS = tuple(itertools.permutations(CHOICES))


def draw_questions(seed: int, bank: Sequence[int], count: int) -> list[int]:
    """Pick `count` question ids from the bank, keeping bank order; all of them when it fits."""
    if count >= len(bank):
        return list(bank)
    picked = set(random.Random(seed).sample(list(bank), count))
    return [question_id for question_id in bank if question_id in picked]


def choice_order(seed: int, question_id: int, shuffle: bool) -> tuple[int, ...]:
    """The original choice numbers in the order the candidate sees them (stable per quiz).

    One of the 24 orders, picked by a hash of the quiz's seed and the question: a launch orders
    every drawn question, and seeding a random generator per question cost a millisecond per
    launch of 50. (A quiz keeps its orders as drawn: this never re-orders a started quiz.)"""
    if not shuffle:
        return CHOICES
    digest = hashlib.blake2b(f"{seed}:{question_id}".encode(), digest_size=8).digest()
    return ORDERS[int.from_bytes(digest) % len(ORDERS)]


def to_original(order: Sequence[int], shown: int) -> int:
    """Map the number the candidate chose (1..4 as displayed) to the bank's choice number."""
    return order[shown - 1]


def to_shown(order: Sequence[int], original: int) -> int:
    return order.index(original) + 1


class Item(NamedTuple):
    """A graded question (a tuple: a submit grades hundreds, twice)."""

    weight: float
    correct: int
    chosen: int | None


@dataclass(frozen=True)
class ExamResult:
    total_questions: int
    correct_answers: int
    wrong_answers: int
    unanswered: int
    total_score: float
    max_score: float
    percentage: float
    is_accept: bool
    scores: tuple[float, ...]


def most_to_earn(weights: Sequence[float]) -> float:
    """The most a quiz of questions with these weights can earn: every answer right."""
    return round(sum(weights), 4)


def grade(items: Sequence[Item], accept_score: float) -> ExamResult:
    """Weighted grading: a right answer earns its weight, a wrong or missing one earns 0.

    percentage = earned weight / total weight × 100 (two decimals);
    is_accept = percentage ≥ accept_score.
    """
    scores = tuple(item.weight if item.chosen == item.correct else 0.0 for item in items)
    answered = sum(1 for item in items if item.chosen is not None)
    correct = sum(1 for item in items if item.chosen is not None and item.chosen == item.correct)
    weights = [item.weight for item in items]
    earned, most = sum(scores, 0.0), sum(weights)
    total_score = round(earned, 4)
    max_score = most_to_earn(weights)
    # From the sums themselves: rounded first, weights under 0.00005 made every result 0 %.
    percentage = round(earned / most * 100, 2) if most > 0 else 0.0
    return ExamResult(
        total_questions=len(items),
        correct_answers=correct,
        wrong_answers=answered - correct,
        unanswered=len(items) - answered,
        total_score=total_score,
        max_score=max_score,
        percentage=percentage,
        is_accept=percentage >= accept_score,
        scores=scores,
    )
