"""Shared fixtures. Fixtures name their people: a customer, another customer, a student."""

import os

import pytest

from portal.customers.models import ClientToken, Customer
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


@pytest.fixture
def customer(db) -> Customer:
    return Customer.objects.create(name="Acme Academy")


@pytest.fixture
def other_customer(db) -> Customer:
    return Customer.objects.create(name="Other Institute")


@pytest.fixture
def token_pair(customer) -> tuple[ClientToken, str]:
    return ClientToken.issue(customer=customer, label="tests")


@pytest.fixture
def token(token_pair) -> str:
    """The customer's plain client token, as its server sends it."""
    return token_pair[1]


@pytest.fixture
def other_token(other_customer) -> str:
    return ClientToken.issue(customer=other_customer)[1]


@pytest.fixture
def exam(customer) -> Exam:
    return make_exam(customer, questions=5)


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PUBLIC_BASE_URL = "http://testserver"


def on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
