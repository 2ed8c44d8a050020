"""Issue 12, scorecard: each choice of a step is saved as it is made (the step page's htmx
posts to /assessment/step/<n>/choice/), within the save-progress statement budget, on its own
rate-limit allowance; the limits the API and the pages share are declared once."""

import re

import pytest
from django.test import Client

from portal import metrics, ratelimit
from portal.scorecards import limits, selectors
from portal.scorecards.content import load_scorecard
from portal.scorecards.models import Visit
from tests.factories import qids

JSON = "application/json"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def visitor(scorecard) -> Client:
    client = Client(REMOTE_ADDR="203.0.113.21")
    assert client.post("/assessment/start/").status_code == 302
    return client


def choose(client, number: int, answers: dict[str, str], **headers):
    return client.post(f"/assessment/step/{number}/choice/", answers, **headers)


@pytest.mark.django_db
def test_a_choice_is_saved_at_once_and_answers_the_new_progress(visitor, scorecard):
    first = qids(scorecard)[0]
    response = choose(visitor, 1, {first[0]: "C"}, **HTMX)
    assert response.status_code == 200
    assert Visit.objects.get().responses == {first[0]: "C"}
    html = response.content.decode()
    # The progress, swapped in place, and the saved state, out of band.
    assert html.lstrip().startswith('<div id="progress"')
    assert "1 of 16 questions answered" in html and 'value="1"' in html
    assert re.search(r'<p id="save-state" hx-swap-oob="innerHTML">\s*Saved: 1 of 16', html)

    # The whole step's form comes each time: a changed answer replaces, the others merge.
    choose(visitor, 1, {first[0]: "E", first[1]: "A"}, **HTMX)
    assert Visit.objects.get().responses == {first[0]: "E", first[1]: "A"}
    # The step page counts them (what is saved), before any Next.
    page = visitor.get("/assessment/step/1/").content.decode()
    assert "2 of 16 questions answered" in page
    assert re.search(rf'id="{first[0]}-E"[^>]*checked', page)


@pytest.mark.django_db
def test_a_choice_page_without_htmx_goes_back_to_its_step(visitor, scorecard):
    first = qids(scorecard)[0]
    response = choose(visitor, 1, {first[0]: "B"})
    assert response.status_code == 302 and response["Location"] == "/assessment/step/1/"
    assert Visit.objects.get().responses == {first[0]: "B"}


@pytest.mark.django_db
def test_a_bad_choice_is_refused_and_nothing_saved_is_lost(visitor, scorecard):
    first, second = qids(scorecard)[:2]
    choose(visitor, 1, {first[0]: "C"}, **HTMX)
    wrong_step = choose(visitor, 1, {second[0]: "C"}, **HTMX)
    bad_letter = choose(visitor, 1, {first[1]: "Z"}, **HTMX)
    assert wrong_step.status_code == 422 and bad_letter.status_code == 422
    assert Visit.objects.get().responses == {first[0]: "C"}
    assert choose(visitor, 9, {first[0]: "C"}, **HTMX).status_code == 404


@pytest.mark.django_db
def test_without_an_assessment_a_choice_leads_to_the_landing_or_the_results(scorecard):
    stranger = Client(REMOTE_ADDR="203.0.113.22")
    response = choose(stranger, 1, {"value_assurance_1": "A"}, **HTMX)
    # A step's page posts only for a visitor who had a session: without one, it ran out (the
    # browser drops an expired cookie), and the landing says so.
    assert response["HX-Redirect"] == "/assessment/?expired=1"
    assert not Visit.objects.exists()


@pytest.mark.django_db
def test_choices_have_their_own_generous_allowance(visitor, scorecard, monkeypatch):
    """Changing one's mind a few times per question must not use up the 100 saves an hour the
    seed gives save-progress (Next and Back count there); past its own, a choice is refused
    with 429 and the page says it is not saved yet."""
    assert (limits.CHOICE.limit, limits.CHOICE.window) == (600, 3600)
    assert limits.CHOICE.name != limits.SAVE.name and limits.CHOICE.scope is limits.SAVE.scope
    first = qids(scorecard)[0]
    for letter in "ABCDE" * 21:  # 105 changes, more than save-progress allows an hour
        assert choose(visitor, 1, {first[0]: letter}, **HTMX).status_code == 200
    assert visitor.post("/assessment/step/1/", {first[0]: "A"}).status_code == 200  # Next: ok

    # The same counter with an allowance of 105: the next choice is one too many.
    smaller = limits.Limit(limits.visitor_scope, 105, 3600, limits.CHOICE.name)
    monkeypatch.setattr(limits, "CHOICE", smaller)
    refused = choose(visitor, 1, {first[0]: "B"}, **HTMX)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert Visit.objects.get().responses == {first[0]: "A"}


@pytest.mark.django_db
def test_the_page_and_the_api_count_save_progress_on_one_declared_limit(visitor, scorecard):
    """The 100 saves an hour are declared once (portal.scorecards.limits) and counted under
    one name: the step page's posts use up the API's allowance of the same visitor."""
    save = limits.SAVE
    assert (save.limit, save.window, save.name) == (100, 3600, "scorecard-save")
    first = qids(scorecard)[0]
    for _ in range(100):
        visitor.post("/assessment/step/1/", {first[0]: "A"})
    refused = visitor.post(
        "/api/assessment/save-progress",
        {"step": 0, "responses": {first[0]: "B"}},
        content_type=JSON,
    )
    assert refused.status_code == 429
    assert refused.json()["error"]["details"] == {"limit": 100, "window": 3600}


@pytest.mark.django_db(transaction=True)
def test_a_choice_costs_what_a_save_progress_costs(document, django_assert_num_queries):
    """The session with its open visit and version row in one read (the rate limit's scope),
    the counter, the answers merged in one UPDATE … RETURNING: as the API's save-progress."""
    scorecard = load_scorecard(document)
    selectors.active_scorecard()  # the content in this process's memory, as in a worker
    metrics.flush()
    visitor = Client(REMOTE_ADDR="203.0.113.23")
    visitor.post("/assessment/start/")
    first = qids(scorecard)[0]
    counter = 0 if ratelimit._redis() is not None else 1
    with django_assert_num_queries(2 + counter):
        response = choose(visitor, 1, {first[0]: "D", first[1]: "B"}, **HTMX)
    assert response.status_code == 200
    assert Visit.objects.get().responses == {first[0]: "D", first[1]: "B"}


@pytest.mark.django_db
def test_the_step_says_honestly_when_answers_are_saved(visitor, scorecard):
    """Without JavaScript the page says Next or Back saves; the text for the choice-by-choice
    saving is there for the script to show (static/scorecard/scorecard.js)."""
    html = visitor.get("/assessment/step/1/").content.decode()
    note = re.search(r'<p class="note" id="save-note"[^>]*>(.*?)</p>', html, re.S)
    assert note[1].strip() == "Your answers on this page are saved when you press Next or Back."
    assert 'data-js-text="Each choice is saved as soon as you make it."' in note[0]
    fieldset = re.search(r"<fieldset[^>]*>", html)[0]
    assert 'hx-post="/assessment/step/1/choice/"' in fieldset and 'hx-trigger="change"' in fieldset


@pytest.mark.django_db
def test_a_choice_on_a_step_not_reached_is_sent_back_and_not_saved(visitor, scorecard):
    """The step page's own rule: a visitor at step 1 cannot answer step 4 ahead."""
    steps = qids(scorecard)
    response = choose(visitor, 4, {steps[3][0]: "E"}, **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == "/assessment/step/1/"
    plain = choose(visitor, 4, {steps[3][0]: "E"})
    assert plain.status_code == 302 and plain["Location"] == "/assessment/step/1/"
    assert Visit.objects.get().responses == {}
    # The first step not completed is reached, and any before it (going back).
    assert visitor.post("/assessment/step/1/", dict.fromkeys(steps[0], "B")).status_code == 302
    assert choose(visitor, 2, {steps[1][0]: "C"}, **HTMX).status_code == 200
    assert choose(visitor, 1, {steps[0][0]: "D"}, **HTMX).status_code == 200
    assert choose(visitor, 3, {steps[2][0]: "E"}, **HTMX)["HX-Redirect"] == "/assessment/step/2/"
    assert Visit.objects.get().responses == {
        **dict.fromkeys(steps[0], "B"),
        steps[0][0]: "D",
        steps[1][0]: "C",
    }
