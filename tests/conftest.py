"""Shared fixtures. Fixtures name their people: a customer, another customer, a student."""

import pytest

from portal.customers.models import ClientToken, Customer
from portal.exams.models import Exam
from tests.factories import make_exam


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
