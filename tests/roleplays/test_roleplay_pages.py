"""The candidate's roleplay pages over Django's test client (with and without htmx)."""

import pytest

from portal.roleplays.models import Assessment, RoleplayAttempt, TurnResponse

pytestmark = pytest.mark.django_db


def test_without_a_session_the_candidate_is_told_how_to_come_back(client):
    response = client.get("/roleplay/")
    assert response.status_code == 403
    assert "Attempt assessment" in response.text


def test_overview_lists_roleplays_in_order_with_only_the_first_open(candidate):
    page = candidate.get("/roleplay/")
    assert page.status_code == 200
    assert "0 of 2 roleplays completed" in page.text
    rows = [row["status"] for row in page.context["rows"]]
    assert rows == ["next", "locked"]
    assert candidate.get("/roleplay/rp-conflict/")["Location"] == "/roleplay/"


def test_brief_then_start_then_a_turn_by_turn_conversation_without_js(candidate, world):
    brief = candidate.get("/roleplay/rp-complaint/")
    assert "A customer is unhappy." in brief.text and "Start (20 minutes)" in brief.text
    assert not RoleplayAttempt.objects.exists(), "reading the brief does not start the clock"
    started = candidate.post("/roleplay/rp-complaint/start/")
    assert started["Location"] == "/roleplay/rp-complaint/"
    play = candidate.get("/roleplay/rp-complaint/")
    assert "This is unacceptable!" in play.text and "How do you reply to Alex?" in play.text
    reply = candidate.post(
        "/roleplay/rp-complaint/respond/", {"option": world["options"]["a1 good"].pk}
    )
    # Without JavaScript the reload lands on the message to answer, not the page's top.
    next_turn = world["options"]["a1 good"].next_turn
    assert reply["Location"] == f"/roleplay/rp-complaint/#turn-{next_turn.pk}"
    play = candidate.get("/roleplay/rp-complaint/")
    assert "I understand, let me fix it." in play.text and "So what now?" in play.text
    assert f'id="turn-{next_turn.pk}" tabindex="-1" data-current>So what now?' in play.text


def test_htmx_reply_swaps_the_stage_and_a_reload_resumes(candidate, world):
    candidate.post("/roleplay/rp-complaint/start/")
    swap = candidate.post(
        "/roleplay/rp-complaint/respond/",
        {"option": world["options"]["a1 poor"].pk},
        HTTP_HX_REQUEST="true",
    )
    assert swap.status_code == 200
    assert swap.text.lstrip().startswith('<div id="stage"')
    assert "It was my fault." in swap.text  # Sam, the next stakeholder
    reload = candidate.get("/roleplay/rp-complaint/")
    assert "It was my fault." in reload.text and "Calm down." in reload.text


def test_double_click_on_an_answer_records_it_once(candidate, world):
    candidate.post("/roleplay/rp-complaint/start/")
    option = world["options"]["a1 good"]
    sent = {"option": option.pk, "turn": option.turn.pk}  # as the page's form sends it
    candidate.post("/roleplay/rp-complaint/respond/", sent)
    again = candidate.post("/roleplay/rp-complaint/respond/", sent)
    assert again.status_code == 302
    assert TurnResponse.objects.count() == 1
    page = candidate.get(again["Location"])
    assert "not one of the options" not in page.text, "the repeat is ignored quietly"
    # A post that names no turn (a page from before the turn was sent) is measured against
    # the current turn, as it always was.
    unnamed = candidate.post("/roleplay/rp-complaint/respond/", {"option": option.pk})
    assert "not one of the options" in candidate.get(unnamed["Location"]).text


def test_whole_cluster_to_thank_you_and_back_to_return_url(candidate, world):
    options = world["options"]
    candidate.post("/roleplay/rp-complaint/start/")
    for name in ("a1 good", "a2 good"):
        candidate.post("/roleplay/rp-complaint/respond/", {"option": options[name].pk})
    last = candidate.post(
        "/roleplay/rp-complaint/respond/", {"option": options["s1 good"].pk}, HTTP_HX_REQUEST="true"
    )
    assert last["HX-Redirect"] == "/roleplay/"
    assert "1 of 2 roleplays completed" in candidate.get("/roleplay/").text

    candidate.post("/roleplay/rp-conflict/start/")
    candidate.post("/roleplay/rp-conflict/respond/", {"option": options["k1 good"].pk})
    likert = candidate.get("/roleplay/rp-conflict/")
    assert "A few statements about you" in likert.text
    items = likert.context["content"].likert_items
    partial = candidate.post("/roleplay/rp-conflict/rate/", {f"item-{items[0].pk}": "4"})
    assert "Please rate every statement (1 left)." in candidate.get(partial["Location"]).text
    done = candidate.post("/roleplay/rp-conflict/rate/", {f"item-{items[1].pk}": "2"})
    assert done["Location"] == "/roleplay/"
    assert Assessment.objects.get().status == "completed"

    overview = candidate.get("/roleplay/")
    assert "All roleplays are complete" in overview.text
    thanks = candidate.get("/roleplay/done/")
    assert "Thank you" in thanks.text
    assert 'href="https://q3.example.com/dashboard"' in thanks.text
    assert 'data-seconds="30"' in thanks.text  # 8 s was too short to hear it (WCAG 2.2.1)


def test_opening_the_start_url_directly_explains_what_to_do(client):
    response = client.get("/api/integration/assessment-start?ticket=abc")
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "Attempt assessment" in response.text


def test_the_brief_stays_reachable_during_play_and_outside_the_swapped_stage(candidate, world):
    candidate.post("/roleplay/rp-complaint/start/")
    play = candidate.get("/roleplay/rp-complaint/").text
    brief = play[play.index('<details class="panel brief-panel" id="brief">') :]
    brief = brief[: brief.index("</details>")]
    assert "<summary>Brief" in brief and "A customer is unhappy." in brief
    assert "<strong>Alex</strong>, Customer" in brief and "<strong>Sam</strong>, Agent" in brief
    assert play.index("</details>") < play.index('<div id="stage"'), "a swap leaves it alone"
    swap = candidate.post(
        "/roleplay/rp-complaint/respond/",
        {"option": world["options"]["a1 good"].pk},
        HTTP_HX_REQUEST="true",
    )
    assert "brief-panel" not in swap.text


def test_a_reply_is_chosen_with_radios_and_committed_by_send_reply(candidate, world):
    candidate.post("/roleplay/rp-complaint/start/")
    play = candidate.get("/roleplay/rp-complaint/").text
    form = play[play.index('<form method="post" action="/roleplay/rp-complaint/respond/"') :]
    form = form[: form.index("</form>")]
    for name in ("a1 good", "a1 poor"):
        pk = world["options"][name].pk
        assert f'<input type="radio" name="option" value="{pk}" required>' in form
    assert form.count('type="submit"') == 1 and "Send reply</button>" in form
    assert 'name="option" value' not in form.replace('type="radio" name="option" value', "")

    nothing = candidate.post("/roleplay/rp-complaint/respond/", {})
    first_turn = world["options"]["a1 good"].turn
    assert nothing["Location"] == f"/roleplay/rp-complaint/#turn-{first_turn.pk}"
    page = candidate.get(nothing["Location"]).text
    assert "Please choose one of the answers." in page
    assert page.index(f'id="turn-{first_turn.pk}"') < page.index('id="stage-error"'), (
        "the refusal is shown below the message the candidate lands on"
    )
    assert not TurnResponse.objects.exists()


def test_without_js_the_ratings_land_on_the_ratings(candidate, world):
    options = world["options"]
    candidate.post("/roleplay/rp-complaint/start/")
    for name in ("a1 good", "a2 good", "s1 good"):
        candidate.post("/roleplay/rp-complaint/respond/", {"option": options[name].pk})
    candidate.post("/roleplay/rp-conflict/start/")
    to_rate = candidate.post("/roleplay/rp-conflict/respond/", {"option": options["k1 good"].pk})
    assert to_rate["Location"] == "/roleplay/rp-conflict/#ratings"
    page = candidate.get(to_rate["Location"]).text
    assert '<h2 id="ratings" tabindex="-1" data-current>' in page
    assert page.count('<div class="scale">') == 2
    partial = candidate.post("/roleplay/rp-conflict/rate/", {})
    assert partial["Location"] == "/roleplay/rp-conflict/#ratings"
    assert "Please rate every statement (2 left)." in candidate.get(partial["Location"]).text


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/roleplay/rp-unknown/"),
        ("post", "/roleplay/rp-unknown/start/"),
        ("post", "/roleplay/rp-unknown/respond/"),
        ("post", "/roleplay/rp-unknown/rate/"),
    ],
)
def test_a_roleplay_not_of_the_candidates_cluster_leads_to_the_overview(candidate, method, path):
    response = getattr(candidate, method)(path)
    assert response.status_code == 302 and response["Location"] == "/roleplay/"
    assert not RoleplayAttempt.objects.exists()
