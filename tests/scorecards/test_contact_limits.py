"""A visitor's details have one most each, which the API and the pages both take: at the most
a detail is kept whole; one character more is refused by either (the API's 422, the contact
page's 400 with the form), and nothing is completed or cut."""

import itertools

import pytest
from django.test import Client

from portal.scorecards.models import Visit
from tests.scorecards.test_api import answer_all
from tests.scorecards.test_api import start as start_by_api
from tests.scorecards.test_pages import answer_step
from tests.scorecards.test_pages import start as start_by_page

pytestmark = pytest.mark.django_db
JSON = "application/json"
# (the API's contactInfo field or top-level field, the page's form field, the most)
DETAILS = [
    ("firstName", "first_name", 100),
    ("lastName", "last_name", 100),
    ("company", "company", 200),
    ("phone", "phone", 50),
    ("feedback", "feedback", 5000),
]
_ADDRESSES = itertools.count(1)


def visitor() -> Client:
    """A visitor of their own address: the submit limit counts per IP."""
    return Client(REMOTE_ADDR=f"203.0.113.{next(_ADDRESSES) % 250 + 1}")


def by_api(scorecard, name: str, value: str):
    client = visitor()
    start_by_api(client)
    answer_all(client, scorecard)
    body = {"completionTime": 60}
    if name == "feedback":
        body["feedback"] = value
    else:
        body["contactInfo"] = {name: value}
    return client.post("/api/assessment/submit", body, content_type=JSON)


def by_page(scorecard, name: str, value: str):
    client = visitor()
    start_by_page(client)
    for number in range(1, 5):
        assert answer_step(client, scorecard, number, "B").status_code == 302
    return client.post("/assessment/contact/", {name: value})


def kept(name: str, value: str) -> bool:
    visit = Visit.objects.get(completed_at__isnull=False)
    found = visit.feedback if name == "feedback" else visit.contact_info.get(name)
    Visit.objects.all().delete()
    return found == value


@pytest.mark.parametrize(("api_name", "page_name", "most"), DETAILS)
def test_the_api_and_the_page_keep_the_most_and_refuse_one_more(
    scorecard, api_name, page_name, most
):
    longest, too_long = "x" * most, "x" * (most + 1)
    assert by_api(scorecard, api_name, longest).status_code == 200
    assert kept(api_name, longest)
    assert by_page(scorecard, page_name, longest).status_code == 302
    assert kept(api_name, longest)

    refused = by_api(scorecard, api_name, too_long)
    assert refused.status_code == 422, refused.content
    page = by_page(scorecard, page_name, too_long)
    assert page.status_code == 400
    assert f"at most {most} characters" in page.content.decode()
    assert not Visit.objects.filter(completed_at__isnull=False).exists()
