"""Builders shared by the tests (fixtures live in conftest.py)."""

import os

from portal.customers.models import Customer
from portal.exams.models import Exam, Question

CALLBACK = "https://client.example.com/exam/callback"


def make_exam(customer: Customer, *, questions: int = 5, **fields) -> Exam:
    """An exam whose right answer to question n is choice ((n - 1) % 4) + 1."""
    defaults = {
        "title": "Sample exam",
        "language": "en",
        "accept_score": 60,
        "number_of_question": questions,
        "duration": 30,
        "can_back": True,
    }
    exam = Exam.objects.create(customer=customer, **(defaults | fields))
    Question.objects.bulk_create(
        Question(
            exam=exam,
            position=n,
            description=f"Question {n}?",
            c1=f"q{n} choice one",
            c2=f"q{n} choice two",
            c3=f"q{n} choice three",
            c4=f"q{n} choice four",
            correct=(n - 1) % 4 + 1,
            weight=1.0,
        )
        for n in range(1, questions + 1)
    )
    return exam


def on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
