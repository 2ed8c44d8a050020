"""What the visitor pages promise is what happens: the follow-up told on the results page tells
one story, and answers are said to be saved when they are (on Next or Back)."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def follow_up(html: str) -> list[str]:
    block = re.search(r'<ul id="lead-status">(.*?)</ul>', html, re.S)[1]
    return [item.strip() for item in re.findall(r"<li>(.*?)</li>", block, re.S)]


def finish(client: Client, scorecard, **contact) -> str:
    client.post("/assessment/start/")
    for section in scorecard.sections.order_by("step"):
        answers = {q.qid: "C" for q in section.questions.all()}
        assert client.post(f"/assessment/step/{section.step + 1}/", answers).status_code == 302
    response = client.post("/assessment/contact/", contact)
    assert response.status_code == 302, response.content
    return client.get(response["Location"]).text


def test_an_address_without_hubspot_is_told_about_its_email_only(scorecard, settings):
    settings.HUBSPOT_ACCESS_TOKEN = ""  # no CRM: the lead's sync is "skipped"
    html = finish(Client(), scorecard, email="ada@acme.example")
    assert follow_up(html) == ["Your results e-mail is on its way."]
    assert "left no e-mail address" not in html


def test_an_address_with_hubspot_is_told_both(scorecard, settings):
    settings.HUBSPOT_ACCESS_TOKEN = "pat-test"
    html = finish(Client(), scorecard, email="ada@acme.example")
    assert follow_up(html) == [
        "Your results e-mail is on its way.",
        "Your details are on their way to our team.",
    ]


def test_no_address_is_one_sentence_and_promises_no_email(scorecard, settings):
    settings.HUBSPOT_ACCESS_TOKEN = "pat-test"
    html = finish(Client(), scorecard)
    assert follow_up(html) == [
        "You left no e-mail address, so we send you no results e-mail and nobody will contact you."
    ]
    assert "on its way" not in html


def test_the_pages_say_answers_are_saved_on_next_or_back(scorecard):
    visitor = Client()
    landing = visitor.get("/assessment/").text
    assert "saved as you go" not in landing
    assert "Your answers are saved each time you press Next or Back" in landing
    assert "4 short steps, 16 questions in all" in landing
    visitor.post("/assessment/start/")
    step = visitor.get("/assessment/step/1/").text
    assert "Your answers on this page are saved when you press Next or Back." in step
