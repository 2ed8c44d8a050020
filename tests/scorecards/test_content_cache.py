"""Scorecard content kept in each process's memory (issue 10), and never served stale: every way
staff change content (the admin's pages and actions, load_scorecard, copy_scorecard, a model
saved in a shell) reaches the very next request."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from portal.scorecards import selectors
from portal.scorecards.content import load_scorecard
from portal.scorecards.models import (
    Choice,
    Question,
    ScoreBand,
    Scorecard,
    Section,
    bump_content_version,
)
from tests.scorecards.test_content_rules import form_of, prefix_where

pytestmark = pytest.mark.django_db
JSON = "application/json"


def question_text(scorecard: Scorecard, qid: str) -> str:
    return next(q.text for s in scorecard.sections.all() for q in s.questions.all() if q.qid == qid)


def points(scorecard: Scorecard, qid: str) -> list[int]:
    question = next(q for s in scorecard.sections.all() for q in s.questions.all() if q.qid == qid)
    return [c.points for c in question.choices.all()]


def test_content_is_read_once_then_one_query(scorecard, django_assert_num_queries):
    with django_assert_num_queries(7):  # the version's row, then its content
        first = selectors.active_scorecard()
    with django_assert_num_queries(1):  # the row: unchanged, so the content in memory
        again = selectors.active_scorecard()
        assert question_text(again, "governance_1") == question_text(first, "governance_1")
    assert again is first
    with django_assert_num_queries(1):
        assert selectors.scorecard_by_id(scorecard.pk) is first


def test_an_admin_edit_of_a_question_and_its_answers_is_served_next(scorecard, staff_client):
    cached = selectors.active_scorecard()
    assert points(cached, "governance_1") == [0, 6, 12, 19, 25]
    question = Question.objects.get(qid="governance_1", section__scorecard=scorecard)
    url = f"/admin/scorecards/question/{question.pk}/change/"
    fields = form_of(staff_client, url)
    b = prefix_where(fields, "-letter", "B")
    edit = {"text": "Who signs AI off?", f"{b}points": "8", "_save": "Save"}
    assert staff_client.post(url, fields | edit).status_code == 302

    fresh = selectors.active_scorecard()
    assert fresh is not cached
    assert question_text(fresh, "governance_1") == "Who signs AI off?"
    assert points(fresh, "governance_1") == [0, 8, 12, 19, 25]


def test_an_admin_edit_of_the_version_and_its_bands_is_served_next(scorecard, staff_client):
    selectors.active_scorecard()
    url = f"/admin/scorecards/scorecard/{scorecard.pk}/change/"
    fields = form_of(staff_client, url)
    crisis = prefix_where(fields, "-key", "crisis")
    # A band alone: the version's own row is not changed by it.
    assert staff_client.post(url, fields | {f"{crisis}name": "Red alert", "_save": "Save"})
    assert {b.key: b.name for b in selectors.active_scorecard().bands.all()}[
        "crisis"
    ] == "Red alert"
    edit = {"briefing_title": "Book a call", f"{crisis}name": "Red alert", "_save": "Save"}
    assert staff_client.post(url, fields | edit).status_code == 302

    fresh = selectors.active_scorecard()
    assert fresh.briefing_title == "Book a call"
    # A visitor's result is told with it.
    visitor = Client()
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    for section in fresh.sections.all():
        answers = {q.qid: "A" for q in section.questions.all()}
        body = {"step": section.step, "responses": answers}
        assert visitor.post("/api/assessment/save-progress", body, content_type=JSON).json()[
            "canProceed"
        ]
    submitted = visitor.post("/api/assessment/submit", {"completionTime": 9}, content_type=JSON)
    results = visitor.get(f"/api/assessment/results/{submitted.json()['assessmentId']}").json()
    assert results["scoreCategory"] == "crisis"
    assert results["nextSteps"]["briefingCta"]["title"] == "Book a call"


def test_an_admin_edit_of_a_section_is_served_next(scorecard, staff_client):
    selectors.active_scorecard()
    section = Section.objects.get(scorecard=scorecard, key="governance")
    url = f"/admin/scorecards/section/{section.pk}/change/"
    fields = form_of(staff_client, url)
    assert (
        staff_client.post(url, fields | {"name": "Oversight", "_save": "Save"}).status_code == 302
    )
    names = [s.name for s in selectors.active_scorecard().sections.all()]
    assert names[-1] == "Oversight"


def test_a_question_deleted_in_the_admin_is_no_longer_asked(scorecard, staff_client):
    selectors.active_scorecard()
    last = Question.objects.get(qid="value_assurance_4", section__scorecard=scorecard)
    staff_client.post(f"/admin/scorecards/question/{last.pk}/delete/", {"post": "yes"})
    visitor = Client()
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    body = {"step": 0, "responses": {"value_assurance_4": "A"}}
    refused = visitor.post("/api/assessment/save-progress", body, content_type=JSON)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["reason"] == "Unknown question"


def test_activating_loading_and_copying_versions_is_served_next(scorecard, document, staff_client):
    assert selectors.active_scorecard() == scorecard
    # load_scorecard: a new version, active at once.
    document["version"] = "2099.1"
    document["sections"][0]["questions"][0]["text"] = "Loaded from a file?"
    load_scorecard(document)
    loaded = selectors.active_scorecard()
    assert loaded.version == "2099.1"
    assert question_text(loaded, "value_assurance_1") == "Loaded from a file?"

    # The admin's "make active" action (a queryset update) goes back to the first.
    response = staff_client.post(
        "/admin/scorecards/scorecard/",
        {"action": "make_active", "_selected_action": [scorecard.pk]},
    )
    assert response.status_code == 302
    assert selectors.active_scorecard().version == scorecard.version

    # copy_scorecard, an edit of the copy (a model saved in a shell), then the copy active.
    call_command("copy_scorecard", scorecard.version, "2099.2", stdout=io.StringIO())
    copy = Scorecard.objects.get(version="2099.2")
    assert selectors.scorecard_by_id(copy.pk).version == "2099.2"  # in memory now
    choice = Choice.objects.get(
        question__section__scorecard=copy, question__qid="governance_2", letter="C"
    )
    choice.text = "Edited in a shell"
    choice.save()
    governance = list(selectors.scorecard_by_id(copy.pk).sections.all())[-1]
    assert "Edited in a shell" in [
        c.text for q in governance.questions.all() for c in q.choices.all()
    ]
    staff_client.post(
        "/admin/scorecards/scorecard/", {"action": "make_active", "_selected_action": [copy.pk]}
    )
    active = selectors.active_scorecard()
    assert active.version == "2099.2"
    governance = list(active.sections.all())[-1]
    texts = [c.text for q in governance.questions.all() for c in q.choices.all()]
    assert "Edited in a shell" in texts


def test_a_queryset_update_is_served_after_bump_content_version(scorecard):
    selectors.active_scorecard()
    ScoreBand.objects.filter(scorecard=scorecard, key="crisis").update(name="Bulk edit")
    bump_content_version(scorecard.pk)
    bands = {b.key: b.name for b in selectors.active_scorecard().bands.all()}
    assert bands["crisis"] == "Bulk edit"
