"""A roleplay's time limit as the candidate meets it: said before it matters, said after it
ran out (on the overview, with or without JavaScript), and an answer that came too late is
named as not counted, never dropped silently. What counts is unchanged: what reached the
server before the deadline."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.roleplays.models import LikertItem, LikertResponse, RoleplayAttempt, TurnResponse

pytestmark = pytest.mark.django_db

RAN_OUT = "Time ran out: this roleplay ended at its time limit"
LATE = "Your last answer in “Complaint” arrived after its time limit, so it was not counted."


def reply(candidate, option, **headers):
    data = {"option": option.pk, "turn": option.turn.pk}
    return candidate.post("/roleplay/rp-complaint/respond/", data, **headers)


def run_out(roleplay_id: str = "rp-complaint") -> None:
    now = timezone.now()
    RoleplayAttempt.objects.filter(roleplay__roleplay_id=roleplay_id).update(
        started_at=now - timedelta(minutes=21), deadline_at=now - timedelta(minutes=1)
    )


def test_the_play_page_says_what_the_time_limit_means_and_carries_the_announcer(candidate):
    candidate.post("/roleplay/rp-complaint/start/")
    page = candidate.get("/roleplay/rp-complaint/").text
    assert '<div id="time-announcer" class="visually-hidden" aria-live="polite"></div>' in page
    assert 'data-msg-five-minutes="5 minutes left"' in page
    assert 'data-msg-one-minute="1 minute left"' in page
    assert 'data-msg-timeup="Time is up"' in page
    rule = "When the time is up, the roleplay ends with the answers you have sent"
    assert f'<p class="note" id="timeup-rule">{rule}' in page
    assert page.index('id="timeup-rule"') < page.index('<div id="stage"'), "outside the swaps"
    # Without JavaScript the clock stands still: the page says so, and what was left.
    assert (
        "The clock above does not count down without JavaScript: when this page was loaded,"
        " 20 minutes were left." in page
    )
    assert '<div class="alert error" id="time-warning" hidden>' in page
    assert 'href="/roleplay/" id="time-up-overview"' in page


def test_after_the_time_limit_the_overview_says_the_time_ran_out(candidate, world):
    candidate.post("/roleplay/rp-complaint/start/")
    reply(candidate, world["options"]["a1 good"])
    run_out()
    # The page's script (or a reload) leads back: to the overview, which says why.
    assert candidate.get("/roleplay/rp-complaint/")["Location"] == "/roleplay/"
    overview = candidate.get("/roleplay/").text
    assert RAN_OUT in overview and "Anything sent later was not counted." in overview
    assert "1 of 2 roleplays completed" in overview
    assert 'id="late-answer"' not in overview, "nothing was sent late"
    assert RoleplayAttempt.objects.get().finished_by == "deadline"


def test_a_roleplay_finished_in_time_says_nothing_of_time(candidate, world):
    candidate.post("/roleplay/rp-complaint/start/")
    for name in ("a1 good", "a2 good", "s1 good"):
        reply(candidate, world["options"][name])
    assert RAN_OUT not in candidate.get("/roleplay/").text


def test_a_reply_sent_after_the_time_limit_is_named_as_not_counted(candidate, world):
    candidate.post("/roleplay/rp-complaint/start/")
    reply(candidate, world["options"]["a1 good"])
    run_out()
    late = reply(candidate, world["options"]["a2 good"])
    assert late["Location"] == "/roleplay/"
    overview = candidate.get("/roleplay/").text
    assert f'<div class="alert error" role="alert" id="late-answer"><p>{LATE}</p></div>' in overview
    assert RAN_OUT in overview
    assert TurnResponse.objects.count() == 1, "the late reply is not counted (the seed's rule)"
    assert RoleplayAttempt.objects.get().finished_by == "deadline"
    assert LATE not in candidate.get("/roleplay/").text, "said once"


def test_a_late_reply_by_htmx_leads_to_the_overview_that_says_so(candidate, world):
    candidate.post("/roleplay/rp-complaint/start/")
    run_out()
    late = reply(candidate, world["options"]["a1 good"], HTTP_HX_REQUEST="true")
    assert late["HX-Redirect"] == "/roleplay/"
    assert LATE in candidate.get("/roleplay/").text
    assert not TurnResponse.objects.exists()


def test_a_late_reply_to_a_roleplay_the_sweep_already_closed_is_named_too(candidate, world):
    from portal.roleplays import services

    candidate.post("/roleplay/rp-complaint/start/")
    run_out()
    assert services.finish_overdue_roleplays() == 1
    reply(candidate, world["options"]["a1 good"])
    assert LATE in candidate.get("/roleplay/").text


def test_a_repeat_of_a_reply_counted_in_time_is_not_called_late(candidate, world):
    """Sent just in time, clicked again just after: the answer was counted, so no alarm."""
    candidate.post("/roleplay/rp-complaint/start/")
    reply(candidate, world["options"]["a1 good"])
    run_out()
    reply(candidate, world["options"]["a1 good"])
    overview = candidate.get("/roleplay/").text
    assert RAN_OUT in overview and 'id="late-answer"' not in overview


def test_late_ratings_are_named_as_not_counted(candidate, world):
    options = world["options"]
    candidate.post("/roleplay/rp-complaint/start/")
    for name in ("a1 good", "a2 good", "s1 good"):
        reply(candidate, options[name])
    candidate.post("/roleplay/rp-conflict/start/")
    candidate.post("/roleplay/rp-conflict/respond/", {"option": options["k1 good"].pk})
    first, second = LikertItem.objects.order_by("position")
    candidate.post("/roleplay/rp-conflict/rate/", {f"item-{first.pk}": "4"})
    run_out("rp-conflict")
    late = candidate.post(
        "/roleplay/rp-conflict/rate/", {f"item-{first.pk}": "4", f"item-{second.pk}": "2"}
    )
    assert late["Location"] == "/roleplay/"
    overview = candidate.get("/roleplay/").text
    assert "Your last answer in “Conflict” arrived after its time limit" in overview
    assert dict(LikertResponse.objects.values_list("item_id", "value")) == {first.pk: 4}
    assert "All roleplays are complete" in overview


def test_a_refusal_left_on_a_page_the_time_closed_does_not_follow_to_the_next(candidate, world):
    options = world["options"]
    candidate.post("/roleplay/rp-complaint/start/")
    for name in ("a1 good", "a2 good"):
        reply(candidate, options[name])
    run_out()
    candidate.post("/roleplay/rp-complaint/respond/", {})  # "Please choose one of the answers."
    candidate.get("/roleplay/rp-complaint/")  # closed at its time limit: to the overview
    candidate.post("/roleplay/rp-conflict/start/")
    assert "Please choose one of the answers." not in candidate.get("/roleplay/rp-conflict/").text
