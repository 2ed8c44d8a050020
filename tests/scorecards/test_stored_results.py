"""A completed visit's result is the one it was shown at submit: later content edits change
neither its results (API, page, share page), nor its e-mail, HubSpot sync or lead page; and a
version that has visits is not edited in place but copied."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from integrations.models import Delivery
from portal.scorecards import leads
from portal.scorecards.content import ScorecardFormatError, export_scorecard, scorecard_copy
from portal.scorecards.models import Choice, Question, Recommendation, ScoreBand, Scorecard, Visit

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def visitor(scorecard) -> Client:
    return Client(REMOTE_ADDR="203.0.113.30")


def take(client: Client, scorecard: Scorecard, letter: str, **start) -> dict:
    """Start, answer every question with `letter`, submit: the submit answer."""
    assert client.post("/api/assessment/start", start, content_type=JSON).status_code == 200
    for section in scorecard.sections.order_by("step"):
        answers = {q.qid: letter for q in section.questions.all()}
        body = {"step": section.step, "responses": answers}
        assert client.post("/api/assessment/save-progress", body, content_type=JSON).json()[
            "canProceed"
        ]
    contact = {"firstName": "Ada", "company": "Acme Corp"}
    body = {"completionTime": 300, "contactInfo": contact}
    response = client.post("/api/assessment/submit", body, content_type=JSON)
    assert response.status_code == 200, response.content
    return response.json()


def vandalise(scorecard: Scorecard) -> None:
    """Staff (or a shell) rewrite the content under a visit: no answer is worth anything any
    more, the bands, texts and rules are renamed. Done with queryset updates, which no admin
    rule stops, to show the stored result does not depend on the content at all."""
    Choice.objects.filter(question__section__scorecard=scorecard).update(points=0, text="Edited")
    Choice.objects.filter(question__section__scorecard=scorecard, letter="E").update(points=25)
    Question.objects.filter(section__scorecard=scorecard).update(text="Edited question?")
    ScoreBand.objects.filter(scorecard=scorecard).update(name="Edited band")
    Recommendation.objects.filter(scorecard=scorecard).update(title="Edited advice")
    scorecard.sections.update(name="Edited area")


def test_results_do_not_change_when_the_content_is_edited_later(visitor, scorecard):
    submitted = take(visitor, scorecard, "C", email="ada@acme.example")
    assert (submitted["totalScore"], submitted["scoreCategory"]) == (48, "risk_zone")
    url = f"/api/assessment/results/{submitted['assessmentId']}"
    before = visitor.get(url).json()
    first = before["scoreBreakdown"]["valueAssurance"]["questions"][0]
    assert first["points"] == 12 and first["question"] != "Edited question?"

    vandalise(scorecard)

    after = visitor.get(url).json()
    assert after == before  # the "a stored 48 became 0 crisis" does not happen
    again = visitor.post("/api/assessment/submit", {"completionTime": 300}, content_type=JSON)
    assert again.json()["totalScore"] == 48 and again.json()["scoreCategory"] == "risk_zone"
    assert again.json()["recommendations"][0]["title"] == before["recommendations"][0]["title"]

    page = visitor.get(f"/assessment/results/{submitted['assessmentId']}/").text
    assert '<span id="total-score">48</span>' in page
    assert "Edited" not in page and "AI Risk Zone" in page
    visit = Visit.objects.get(assessment_id=submitted["assessmentId"])
    shared = Client().get(f"/assessment/shared/{visit.share_token}/").text
    assert '<span id="total-score">48</span>' in shared and "Edited" not in shared


def test_the_email_and_hubspot_are_built_from_the_stored_result(visitor, scorecard, settings):
    settings.HUBSPOT_ACCESS_TOKEN = ""
    submitted = take(visitor, scorecard, "C", email="ada@acme.example")
    vandalise(scorecard)
    visit = Visit.objects.get(assessment_id=submitted["assessmentId"])

    # HubSpot was not configured at submit; the sync a staff member makes now is the result's.
    properties = leads.contact_properties(visit)
    assert properties["ai_assessment_score"] == 48
    assert properties["ai_assessment_category"] == "risk_zone"
    assert properties["ai_value_score"] == 48
    settings.HUBSPOT_ACCESS_TOKEN = "pat-test"
    sync = leads.hubspot_sync(visit)
    assert json.loads(sync.payload)["contact"]["properties"]["ai_assessment_score"] == "48"

    # A re-made e-mail (a lost one re-sent from the console) says what the page said.
    Delivery.objects.filter(pk=visit.email_delivery_id).delete()
    mail = json.loads(leads.results_email(visit).payload)
    assert "Overall score: 48/100 — AI Risk Zone" in mail["text"]
    assert "Edited" not in mail["text"] and "Edited" not in mail["html"]


def test_the_staff_lead_page_shows_the_answers_as_shown(visitor, scorecard, viewer_client):
    submitted = take(visitor, scorecard, "C", email="ada@acme.example")
    question = scorecard.sections.get(step=0).questions.first()
    answer = question.choices.get(letter="C").text
    vandalise(scorecard)
    visit = Visit.objects.get(assessment_id=submitted["assessmentId"])
    html = viewer_client.get(f"/staff/leads/{visit.pk}/").text
    assert question.text in html and answer in html
    assert "Step 1: Value Assurance — 48/100" in html
    assert "Edited" not in html


def test_a_visit_completed_before_results_were_stored_is_still_served(visitor, scorecard):
    submitted = take(visitor, scorecard, "E")
    Visit.objects.filter(assessment_id=submitted["assessmentId"]).update(result=None)
    body = visitor.get(f"/api/assessment/results/{submitted['assessmentId']}").json()
    assert body["totalScore"] == 100 and body["scoreCategory"] == "champion"
    page = visitor.get(f"/assessment/results/{submitted['assessmentId']}/")
    assert page.status_code == 200 and '<span id="total-score">100</span>' in page.text


# --- a version with visits is locked; edit a copy ---------------------------------------------


def test_a_version_with_visits_is_read_only_in_the_admin(visitor, scorecard, staff_client):
    change = f"/admin/scorecards/scorecard/{scorecard.pk}/change/"
    assert 'name="_save"' in staff_client.get(change).text  # nobody has taken it yet
    take(visitor, scorecard, "B")
    page = staff_client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.text
    assert "has visits, so it is read-only" in page.text
    refused = staff_client.post(change, {"title": "Changed in place"})
    assert refused.status_code == 403
    question = Question.objects.filter(section__scorecard=scorecard).first()
    assert (
        staff_client.post(
            f"/admin/scorecards/question/{question.pk}/change/", {"text": "x"}
        ).status_code
        == 403
    )
    assert (
        staff_client.post(
            f"/admin/scorecards/question/{question.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    scorecard.refresh_from_db()
    assert scorecard.title != "Changed in place" and Question.objects.filter(pk=question.pk)


def test_copying_a_version_makes_an_editable_inactive_one(visitor, scorecard, staff_client):
    take(visitor, scorecard, "B")
    response = staff_client.post(
        "/admin/scorecards/scorecard/",
        {"action": "copy_version", "_selected_action": [scorecard.pk]},
        follow=True,
    )
    copy = Scorecard.objects.get(version=f"{scorecard.version}-copy")
    assert f"Version {copy.version} is a copy" in response.text
    assert not copy.is_active and Scorecard.objects.get(is_active=True) == scorecard
    assert export_scorecard(copy) | {"version": scorecard.version} == export_scorecard(scorecard)
    assert 'name="_save"' in staff_client.get(f"/admin/scorecards/scorecard/{copy.pk}/change/").text
    # A second copy gets the next free name; a taken or malformed name is refused.
    assert scorecard_copy(scorecard=scorecard).version == f"{scorecard.version}-copy2"
    with pytest.raises(ScorecardFormatError, match="already exists"):
        scorecard_copy(scorecard=scorecard, version=copy.version)


def test_copy_command(scorecard):
    out = io.StringIO()
    call_command("copy_scorecard", scorecard.version, "2027.1", stdout=out)
    assert (
        out.getvalue()
        .strip()
        .startswith(f"Copied scorecard version {scorecard.version} as 2027.1 (inactive)")
    )
    assert Scorecard.objects.get(version="2027.1").sections.count() == 4
    with pytest.raises(CommandError, match="field 'version' must use letters"):
        call_command("copy_scorecard", scorecard.version, "not a version", stdout=out)
    with pytest.raises(CommandError, match="No scorecard version 'nope'"):
        call_command("copy_scorecard", "nope", stdout=out)
