"""What a visitor gives at the end is what is used, by either front door: the contact page's
e-mail and company as its form shows them when pressed (emptied, there are none), a company
changed there used everywhere (the score, HubSpot's contact and deal), one-line fields one
line, a phone's Persian digits read as digits; and a double click on "See my results" lands on
the results like the first click."""

import json

import pytest
from django.test import Client

from integrations.models import Delivery
from portal.scorecards import leads, services, views
from portal.scorecards.models import Visit, VisitorSession
from tests.factories import at_once
from tests.scorecards.test_api import answer_all
from tests.scorecards.test_api import start as start_by_api
from tests.scorecards.test_pages import COOKIE, answer_step
from tests.scorecards.test_pages import start as start_by_page

JSON = "application/json"


def at_contact_page(client: Client, scorecard, **start) -> None:
    """Started on the landing page with `start`, every step answered (a low score: "B")."""
    assert start_by_page(client, **start).status_code == 302
    for number in range(1, 5):
        assert answer_step(client, scorecard, number, "B").status_code == 302


def results_path(response) -> str:
    assert response.status_code == 302, response.content
    return response["Location"]


def completed() -> Visit:
    return Visit.objects.get(completed_at__isnull=False)


# --- the e-mail and company as the contact page shows them -------------------------------------


@pytest.mark.django_db
def test_an_emptied_email_and_company_are_none(visitor, scorecard):
    at_contact_page(visitor, scorecard, email="keep@example.com", company="KeepCo")
    form = visitor.get("/assessment/contact/").content.decode()
    assert 'value="keep@example.com"' in form and 'value="KeepCo"' in form

    response = visitor.post("/assessment/contact/", {"email": "", "company": ""})
    html = visitor.get(results_path(response)).content.decode()
    assert "we send you no results e-mail" in html and "on its way" not in html
    visit = completed()
    assert (visit.email, visit.company, visit.contact_info) == ("", "", {})
    assert visit.lead_quality == "" and not visit.qualified_for_briefing
    assert visit.email_delivery_id is None and not Delivery.objects.exists()


@pytest.mark.django_db
def test_what_the_form_shows_is_kept(visitor, scorecard):
    at_contact_page(visitor, scorecard, email="keep@example.com", company="KeepCo")
    response = visitor.post(
        "/assessment/contact/", {"email": "keep@example.com", "company": "KeepCo"}
    )
    assert "on its way" in visitor.get(results_path(response)).content.decode()
    visit = completed()
    assert (visit.email, visit.company) == ("keep@example.com", "KeepCo")
    assert visit.contact_info == {"company": "KeepCo"} and visit.qualified_for_briefing


@pytest.mark.django_db
def test_a_company_changed_on_the_contact_page_is_the_leads_everywhere(
    visitor, scorecard, settings
):
    settings.HUBSPOT_ACCESS_TOKEN = "pat-test"
    at_contact_page(visitor, scorecard, email="ceo@example.com", company="StartCo")
    response = visitor.post(
        "/assessment/contact/",
        {"email": "boss@example.com", "company": "NewCo", "first_name": "Ada"},
    )
    results_path(response)
    visit = completed()
    assert (visit.email, visit.company) == ("boss@example.com", "NewCo")
    assert visit.contact_info == {"firstName": "Ada", "company": "NewCo"}
    assert visit.qualified_for_briefing  # an address and a company, and a low score
    assert leads.contact_properties(visit)["company"] == "NewCo"
    payload = Delivery.objects.get(pk=visit.hubspot_delivery_id).payload
    assert "NewCo" in json.loads(payload)["deal"]["properties"]["dealname"]
    assert "StartCo" not in payload and "ceo@example.com" not in payload


@pytest.mark.django_db
def test_the_apis_contact_company_replaces_the_start_company_everywhere(
    visitor, scorecard, settings
):
    """The API keeps its contract: contactInfo's fields are optional, an empty or missing one
    gives nothing, and its submit carries no e-mail (the start's or save-progress' is kept)."""
    settings.HUBSPOT_ACCESS_TOKEN = "pat-test"
    start_by_api(visitor, email="ceo@example.com", company="StartCo")
    answer_all(visitor, scorecard, "B")
    submitted = visitor.post(
        "/api/assessment/submit",
        {"completionTime": 60, "contactInfo": {"company": "NewCo", "firstName": ""}},
        content_type=JSON,
    )
    assert submitted.status_code == 200 and submitted.json()["qualifiedForBriefing"]
    visit = completed()
    assert (visit.email, visit.company, visit.contact_info) == (
        "ceo@example.com",
        "NewCo",
        {"company": "NewCo"},
    )
    assert leads.contact_properties(visit)["company"] == "NewCo"
    assert "StartCo" not in Delivery.objects.get(pk=visit.hubspot_delivery_id).payload


@pytest.mark.django_db
def test_without_a_company_in_contact_info_the_api_keeps_the_start_company(visitor, scorecard):
    start_by_api(visitor, email="ceo@example.com", company="StartCo")
    answer_all(visitor, scorecard, "B")
    body = {"completionTime": 60, "contactInfo": {"company": ""}}
    assert visitor.post("/api/assessment/submit", body, content_type=JSON).status_code == 200
    visit = completed()
    assert (visit.email, visit.company) == ("ceo@example.com", "StartCo")
    assert visit.qualified_for_briefing


# --- one-line fields and the phone's digits ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["first_name", "last_name", "company", "phone"])
def test_the_contact_page_refuses_a_line_break_in_a_one_line_field(visitor, scorecard, field):
    at_contact_page(visitor, scorecard)
    response = visitor.post("/assessment/contact/", {field: "Line\nBreak"})
    assert response.status_code == 400
    assert "Please keep this on one line" in response.content.decode()
    assert not Visit.objects.filter(completed_at__isnull=False).exists()
    # The feedback is free text: its line breaks are kept.
    kept = visitor.post("/assessment/contact/", {"feedback": "Line\nBreak"})
    results_path(kept)
    assert completed().feedback == "Line\nBreak"


@pytest.mark.django_db
def test_the_start_page_refuses_a_line_break_in_the_company(visitor):
    response = start_by_page(visitor, company="Line\nBreak")
    assert response.status_code == 400
    assert "Please keep this on one line" in response.content.decode()
    assert not Visit.objects.exists()
    persian = visitor.post(
        "/assessment/start/", {"company": "Line\nBreak"}, HTTP_ACCEPT_LANGUAGE="fa"
    )
    assert persian.status_code == 400 and "در یک خط بنویسید" in persian.content.decode()


@pytest.mark.django_db
def test_the_api_refuses_the_same_line_break(visitor, scorecard):
    start_by_api(visitor)
    answer_all(visitor, scorecard)
    body = {"completionTime": 60, "contactInfo": {"firstName": "Line\nBreak"}}
    assert visitor.post("/api/assessment/submit", body, content_type=JSON).status_code == 422


@pytest.mark.django_db
def test_a_phone_in_persian_digits_is_kept_in_ascii_digits_by_either_door(visitor, scorecard):
    at_contact_page(visitor, scorecard)
    results_path(visitor.post("/assessment/contact/", {"phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹"}))
    assert completed().contact_info == {"phone": "0912 345 6789"}
    Visit.objects.all().delete()

    api = Client(REMOTE_ADDR="203.0.113.8")
    start_by_api(api)
    answer_all(api, scorecard)
    body = {"completionTime": 60, "contactInfo": {"phone": "+٩٨ ٩١٢ ٣٤٥ ٦٧٨٩"}}
    assert api.post("/api/assessment/submit", body, content_type=JSON).status_code == 200
    assert completed().contact_info == {"phone": "+98 912 345 6789"}


# --- a double click on "See my results" ------------------------------------------------------


@pytest.mark.django_db
def test_a_repeated_contact_post_lands_on_the_same_results(visitor, scorecard):
    at_contact_page(visitor, scorecard, email="dbl@example.com")
    first = results_path(visitor.post("/assessment/contact/", {"email": "dbl@example.com"}))
    again = results_path(visitor.post("/assessment/contact/", {"email": "dbl@example.com"}))
    assert again == first and Visit.objects.count() == 1


@pytest.mark.django_db
def test_a_post_whose_twin_completed_the_visit_meanwhile_lands_on_the_results(
    visitor, scorecard, monkeypatch
):
    """The second click read the visit still open; the first completed it before the second
    went on: the second gets the first's result, not "no assessment in progress"."""
    at_contact_page(visitor, scorecard, email="dbl@example.com")
    read = views._visitor_visit

    def read_then_the_twin_submits(request):
        found = read(request)
        services.submit(session=found[0], completion_time=1)
        return found

    monkeypatch.setattr(views, "_visitor_visit", read_then_the_twin_submits)
    response = visitor.post("/assessment/contact/", {"email": "dbl@example.com"})
    assert response["Location"] == f"/assessment/results/{completed().assessment_id}/"


@pytest.mark.django_db(transaction=True)
def test_parallel_contact_posts_of_one_visitor_all_land_on_the_results(scorecard):
    """Clicks of one browser at the same moment, each on its own connection (the test
    database is a file on SQLite; real row locks on PostgreSQL). Five: the submit limit."""
    visitor = Client(REMOTE_ADDR="203.0.113.50")
    at_contact_page(visitor, scorecard, email="dbl@example.com")
    cookie = VisitorSession.objects.get().session_id

    def click(_: int):
        browser = Client(REMOTE_ADDR="203.0.113.50")
        browser.cookies[COOKIE] = cookie
        return browser.post("/assessment/contact/", {"email": "dbl@example.com"})

    responses = at_once(5, click)
    visit = completed()
    assert [getattr(r, "status_code", r) for r in responses] == [302] * 5
    assert {r["Location"] for r in responses} == {f"/assessment/results/{visit.assessment_id}/"}
    assert visit.email == "dbl@example.com" and Visit.objects.count() == 1
