"""The AI Reality Check visitor pages with Django's test client: a visitor and an outsider."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from portal.scorecards.models import Visit, VisitorSession
from tests.factories import qids

pytestmark = pytest.mark.django_db
COOKIE = "assessment-session"


@pytest.fixture
def outsider(scorecard) -> Client:
    return Client(REMOTE_ADDR="198.51.100.9")


def start(client, **data):
    return client.post("/assessment/start/", data)


def answer_step(client, scorecard, number: int, letter: str = "E"):
    ids = qids(scorecard)[number - 1]
    return client.post(f"/assessment/step/{number}/", dict.fromkeys(ids, letter))


def finish(client, scorecard, **contact):
    start(client)
    for number in range(1, 5):
        assert answer_step(client, scorecard, number, "B").status_code == 302
    response = client.post("/assessment/contact/", contact)
    assert response.status_code == 302, response.content
    return Visit.objects.get(assessment_id=response["Location"].rstrip("/").rsplit("/", 1)[1])


def test_landing_explains_the_check_and_offers_start(visitor):
    response = visitor.get("/assessment/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "About 5 minutes" in html and 'action="/assessment/start/"' in html
    assert "csrfmiddlewaretoken" in html
    assert response["Content-Security-Policy"] == "default-src 'self'"
    assert "<script>" not in html and " style=" not in html and "<style" not in html


def test_start_sets_the_cookie_and_redirects_to_step_one(visitor, settings):
    settings.SCORECARD_COOKIE_SECURE = True  # behind https (over http: test_scorecard_cookie.py)
    response = start(visitor, email="ceo@company.com", company="Acme Corp")
    assert response.status_code == 302 and response["Location"] == "/assessment/step/1/"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["secure"]
    assert int(cookie["max-age"]) == 24 * 3600
    visit = Visit.objects.get()
    assert visit.session.session_id == cookie.value
    assert (visit.email, visit.company) == ("ceo@company.com", "Acme Corp")
    # The landing now offers to resume instead of a second start.
    html = visitor.get("/assessment/").content.decode()
    assert "Continue where you left off" in html and 'href="/assessment/step/1/"' in html


def test_start_refuses_a_bad_email_beside_the_field(visitor):
    response = start(visitor, email="not-an-address")
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not Visit.objects.exists()


def test_a_refused_form_opens_with_a_focused_summary_linking_each_field(visitor, scorecard):
    # The page came back with the focus at its top and the error below the fold.
    summary = re.compile(r'<div class="alert error error-summary"[^>]*autofocus>(.*?)</div>', re.S)
    landing = start(visitor, email="not-an-address").content.decode()
    [found] = summary.findall(landing)
    assert '<a href="#id_email">' in found and "Enter a valid email address." in found
    start(visitor)
    for number in range(1, 5):
        answer_step(visitor, scorecard, number)
    contact = visitor.post("/assessment/contact/", {"email": "bad@"}).content.decode()
    [found] = summary.findall(contact)
    assert '<a href="#id_email">' in found
    assert summary.findall(visitor.get("/assessment/contact/").content.decode()) == []


def test_csrf_is_enforced_on_page_forms(scorecard):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/assessment/start/", {}).status_code == 403
    page = browser.get("/assessment/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = browser.post("/assessment/start/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    # htmx sends the token as a header (base.html's hx-headers); without it, refused.
    step = qids(scorecard)[0]
    assert (
        browser.post("/assessment/step/1/", {step[0]: "A"}, HTTP_HX_REQUEST="true").status_code
        == 403
    )
    ok = browser.post(
        "/assessment/step/1/", {step[0]: "A"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token
    )
    assert ok.status_code == 200


def test_incomplete_step_is_saved_and_shown_with_messages_beside_the_gaps(visitor, scorecard):
    start(visitor)
    ids = qids(scorecard)[0]
    response = visitor.post("/assessment/step/1/", {ids[0]: "C", ids[2]: "D"})
    assert response.status_code == 200
    html = response.content.decode()
    assert Visit.objects.get().responses == {ids[0]: "C", ids[2]: "D"}
    assert html.count("Please choose an answer") == 2
    for qid in (ids[1], ids[3]):
        fieldset = re.search(rf'<fieldset[^>]*id="q-{qid}".*?</fieldset>', html, re.S)[0]
        assert f'id="{qid}-error"' in fieldset and "Please choose an answer" in fieldset
        assert f'aria-describedby="{qid}-error"' in fieldset
    answered = re.search(rf'<fieldset[^>]*id="q-{ids[0]}".*?</fieldset>', html, re.S)[0]
    assert "Please choose an answer" not in answered
    assert re.search(rf'id="{ids[0]}-C"[^>]*checked', html)
    assert re.search(rf'id="{ids[2]}-D"[^>]*checked', html)
    assert "2 questions still need an answer" in html
    # A reload keeps them checked, and the progress counts them.
    html = visitor.get("/assessment/step/1/").content.decode()
    assert re.search(rf'id="{ids[0]}-C"[^>]*checked', html)
    assert "2 of 16 questions answered" in html and 'value="2"' in html


def test_complete_step_redirects_to_the_next_and_skipping_ahead_is_sent_back(visitor, scorecard):
    start(visitor)
    assert visitor.get("/assessment/step/3/")["Location"] == "/assessment/step/1/"
    response = answer_step(visitor, scorecard, 1)
    assert response.status_code == 302 and response["Location"] == "/assessment/step/2/"
    assert visitor.get("/assessment/step/4/")["Location"] == "/assessment/step/2/"
    assert visitor.get("/assessment/step/1/").status_code == 200  # going back is fine
    assert visitor.get("/assessment/contact/")["Location"] == "/assessment/step/2/"
    assert visitor.get("/assessment/step/5/").status_code == 404


def test_a_session_that_ran_out_says_so_on_the_landing(visitor, scorecard):
    """The visitor's session expired while the step was open: what they post can't be kept,
    and the landing says why instead of starting over without a word."""
    start(visitor)
    VisitorSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    for response in (
        answer_step(visitor, scorecard, 1),
        visitor.post("/assessment/step/1/choice/", {qids(scorecard)[0][0]: "A"}),
        visitor.post("/assessment/contact/", {"email": "a@example.com"}),
    ):
        assert response.status_code == 302 and response["Location"] == "/assessment/?expired=1"
    landing = visitor.get("/assessment/?expired=1").content.decode()
    assert "Your session has expired: please start again." in landing
    fresh = Client().get("/assessment/").content.decode()
    assert "Your session has expired" not in fresh


def test_answers_posted_after_the_browser_dropped_the_expired_cookie_say_so_too(visitor, scorecard):
    # A browser drops the cookie when it expires: the post then carried none, and the
    # visitor landed on the start page without a word about the answers just lost.
    start(visitor)
    visitor.cookies.pop("assessment-session")
    for response in (
        answer_step(visitor, scorecard, 1),
        visitor.post("/assessment/step/1/choice/", {qids(scorecard)[0][0]: "A"}),
    ):
        assert response["Location"] == "/assessment/?expired=1"
    assert visitor.get("/assessment/step/1/")["Location"] == "/assessment/"  # a visit, no post


def test_a_post_without_its_csrf_cookie_gets_a_page_that_says_to_reload(scorecard):
    # Django's own page was English and bare ("403 Forbidden"), and htmx ignored the 403: a
    # press did nothing at all.
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post("/assessment/start/", {}, HTTP_ACCEPT_LANGUAGE="fa")
    html = refused.content.decode()
    assert refused.status_code == 403 and 'lang="fa"' in html
    assert "این صفحه باید دوباره بارگذاری شود" in html and "چیزی ذخیره نشد" in html
    english = browser.post("/assessment/start/", {}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This page has to be loaded again" in english and "Nothing was saved" in english
    pressed = browser.post("/assessment/step/1/", {}, HTTP_HX_REQUEST="true")
    assert pressed.status_code == 403 and pressed["HX-Refresh"] == "true"


def test_back_saves_what_was_chosen(visitor, scorecard):
    start(visitor)
    answer_step(visitor, scorecard, 1)
    first = qids(scorecard)[1][0]
    response = visitor.post("/assessment/step/2/", {first: "A", "back": "1"})
    assert response["Location"] == "/assessment/step/1/"
    assert Visit.objects.get().responses[first] == "A"


def test_htmx_gets_the_step_partial_or_a_client_redirect(visitor, scorecard):
    start(visitor)
    ids = qids(scorecard)[0]
    partial = visitor.post("/assessment/step/1/", {ids[0]: "B"}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert partial.status_code == 200 and html.lstrip().startswith('<div id="step"')
    assert "<html" not in html and "Please choose an answer" in html
    page = visitor.get("/assessment/step/1/", HTTP_HX_REQUEST="true")
    assert page.content.decode().lstrip().startswith('<div id="step"')
    done = visitor.post("/assessment/step/1/", dict.fromkeys(ids, "B"), HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and done["HX-Redirect"] == "/assessment/step/2/"


def test_invalid_letter_is_refused_without_losing_saved_answers(visitor, scorecard):
    start(visitor)
    ids = qids(scorecard)[0]
    visitor.post("/assessment/step/1/", {ids[0]: "C"})
    response = visitor.post("/assessment/step/1/", {ids[1]: "Z"})
    assert response.status_code == 400
    assert Visit.objects.get().responses == {ids[0]: "C"}


def test_contact_then_results(visitor, scorecard):
    visit = finish(
        visitor,
        scorecard,
        first_name="John",
        last_name="Doe",
        company="Acme Corp",
        phone="+1-555-123-4567",
        email="john@acme.test",
        feedback="Very helpful",
    )
    assert visit.is_completed and visit.email == "john@acme.test"
    assert visit.contact_info == {
        "firstName": "John",
        "lastName": "Doe",
        "company": "Acme Corp",
        "phone": "+1-555-123-4567",
    }
    assert visit.feedback == "Very helpful" and visit.completion_time is not None
    response = visitor.get(f"/assessment/results/{visit.assessment_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<span id="total-score">{visit.total_score}</span>' in html
    assert "Recommendations" in html and "Time to implement" in html
    assert "1 assessment so far" in html
    assert "Your results e-mail is on its way." in html
    assert f"/assessment/shared/{visit.share_token}/" in html
    # Once submitted, the steps lead to the results.
    assert visitor.get("/assessment/step/1/")["Location"].endswith(f"/{visit.assessment_id}/")


def test_results_chart_is_an_accessible_svg_with_the_four_scores_in_text(visitor, scorecard):
    visit = finish(visitor, scorecard)
    html = visitor.get(f"/assessment/results/{visit.assessment_id}/").content.decode()
    svg = re.search(r'<svg id="score-chart"[^>]*>.*?</svg>', html, re.S)[0]
    assert 'role="img"' in svg and 'aria-labelledby="chart-title chart-desc"' in svg
    assert "<title" in svg and "<desc" in svg and "style=" not in svg
    assert svg.count('class="sc-bar"') == 4
    table = re.search(r'<table class="sc-table".*?</table>', html, re.S)[0]
    for section in scorecard.sections.all():
        score = visit.breakdown[section.api_key]
        assert f"{section.name}: {score} out of 100" in svg.replace("&amp;", "&")
        assert f"{score} / 100" in table
        assert f'data-score="{score}"' in svg


def test_results_are_forbidden_to_another_session(visitor, outsider, scorecard):
    visit = finish(visitor, scorecard)
    response = outsider.get(f"/assessment/results/{visit.assessment_id}/")
    assert response.status_code == 403 and "These results are private" in response.content.decode()
    assert outsider.post(f"/assessment/results/{visit.assessment_id}/share/").status_code == 403
    assert visitor.get("/assessment/results/assess_nope/").status_code == 404


def test_shared_page_hides_recommendations_until_allowed_and_never_shows_private_data(
    visitor, outsider, scorecard
):
    visit = finish(
        visitor, scorecard, first_name="John", email="john@acme.test", phone="+1-555-0100"
    )
    url = f"/assessment/shared/{visit.share_token}/"
    html = outsider.get(url).content.decode()
    assert f'<span id="total-score">{visit.total_score}</span>' in html
    assert 'role="img"' in html and 'id="recommendations"' not in html

    response = visitor.post(
        f"/assessment/results/{visit.assessment_id}/share/", {"share_recommendations": "on"}
    )
    assert response.status_code == 302 and response["Location"].endswith("?shared=1#share")
    html = outsider.get(url).content.decode()
    assert 'id="recommendations"' in html
    for private in ("john@acme.test", "John", "+1-555-0100", "Please choose", 'type="radio"'):
        assert private not in html
    choice_texts = [
        c.text for q in scorecard.sections.first().questions.all() for c in q.choices.all()
    ]
    assert not any(text in html for text in choice_texts)

    # htmx: the share partial comes back; unchecking hides them again.
    partial = visitor.post(
        f"/assessment/results/{visit.assessment_id}/share/", {}, HTTP_HX_REQUEST="true"
    )
    assert partial.content.decode().lstrip().startswith('<section class="panel sc-share"')
    assert 'id="recommendations"' not in outsider.get(url).content.decode()
    assert outsider.get("/assessment/shared/nope/").status_code == 404


def test_the_page_start_shares_the_apis_limit_of_ten_an_hour_per_ip(scorecard):
    from django.test import Client

    for n in range(10):
        assert Client(REMOTE_ADDR="198.51.100.77").post("/assessment/start/").status_code == 302, n
    refused = Client(REMOTE_ADDR="198.51.100.77").post("/assessment/start/")
    assert refused.status_code == 429 and "Too many requests" in refused.text
    api = Client(REMOTE_ADDR="198.51.100.77").post(
        "/api/assessment/start", {}, content_type="application/json"
    )
    assert api.status_code == 429


def test_a_new_visitor_refused_at_start_is_not_told_answers_are_saved(scorecard):
    for _ in range(10):
        Client(REMOTE_ADDR="198.51.100.78").post("/assessment/start/")
    refused = Client(REMOTE_ADDR="198.51.100.78").post("/assessment/start/")
    assert refused.status_code == 429
    text = refused.content.decode()
    assert "Please try again in about" in text
    assert "saved" not in text and "kept" not in text


def test_a_refused_step_says_its_choices_were_not_saved(visitor, scorecard, monkeypatch):
    from portal import ratelimit

    start(visitor)
    answer_step(visitor, scorecard, 1)
    monkeypatch.setattr(
        ratelimit,
        "check",
        lambda request, scope, limit, window, *, name: ratelimit.RateLimitState(
            limit, 0, 0, 60, window
        ),
    )
    refused = answer_step(visitor, scorecard, 2)
    assert refused.status_code == 429
    assert "the choices on this page were not saved" in refused.content.decode()


def test_the_forms_tell_the_browser_what_to_fill(visitor, scorecard):
    landing = visitor.get("/assessment/").content.decode()
    assert re.search(r'<input[^>]*name="email"[^>]*autocomplete="email"', landing)
    assert re.search(r'<input[^>]*name="company"[^>]*autocomplete="organization"', landing)
    start(visitor)
    for number in range(1, 5):
        answer_step(visitor, scorecard, number, "B")
    contact = visitor.get("/assessment/contact/").content.decode()
    phone = re.search(r'<input[^>]*name="phone"[^>]*>', contact).group(0)
    assert 'type="tel"' in phone and 'autocomplete="tel"' in phone
    assert re.search(r'<input[^>]*name="first_name"[^>]*autocomplete="given-name"', contact)
    assert re.search(r'<input[^>]*name="last_name"[^>]*autocomplete="family-name"', contact)


def test_a_start_form_refused_uses_none_of_the_limit(scorecard):
    """As the API counts no request its schema refuses (422 comes before the limit)."""
    browser = Client(REMOTE_ADDR="198.51.100.79")
    for _ in range(12):
        assert start(browser, email="typo@gmail").status_code == 400
    assert start(browser, email="ok@gmail.com").status_code == 302


def test_a_contact_form_refused_uses_none_of_the_limit(scorecard):
    browser = Client(REMOTE_ADDR="198.51.100.80")
    start(browser)
    for number in range(1, 5):
        answer_step(browser, scorecard, number, "B")
    for _ in range(6):
        assert browser.post("/assessment/contact/", {"email": "typo@gmail"}).status_code == 400
    response = browser.post("/assessment/contact/", {"email": "typo@gmail.com"})
    assert response.status_code == 302 and "/assessment/results/" in response["Location"]


def test_link_checkers_may_ask_with_head(visitor, outsider, scorecard):
    assert visitor.head("/assessment/").status_code == 200
    visit = finish(visitor, scorecard)
    for client, path in (
        (visitor, f"/assessment/results/{visit.assessment_id}/"),
        (outsider, f"/assessment/shared/{visit.share_token}/"),
    ):
        response = client.head(path)
        assert response.status_code == 200 and response.content == b"", path
        assert response["Content-Type"].startswith("text/html")
    assert outsider.head("/assessment/shared/nope/").status_code == 404
    assert visitor.put("/assessment/").status_code == 405
