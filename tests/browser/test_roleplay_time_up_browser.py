"""The roleplay's time limit in Chromium: a polite word at 5 minutes and at 1 minute left,
spoken once each and shown; at zero the page says the roleplay is over, closes its form, and
the overview it links to says the time ran out (WCAG 2.2.1, 4.1.3)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from playwright.sync_api import expect

from portal.roleplays import services
from portal.roleplays.models import Roleplay, RoleplayAttempt
from portal.roleplays.views import SESSION_KEY
from tests.factories import make_assessment, make_cluster

pytestmark = pytest.mark.django_db(transaction=True)


def playing(new_context, portal, *, seconds_left: int):
    """A candidate's page on the first roleplay, started, with `seconds_left` to its end."""
    cluster, partner, _ = make_cluster()
    assessment = make_assessment(cluster, partner)
    roleplay = Roleplay.objects.get(cluster=cluster, roleplay_id="rp-complaint")
    attempt = services.start_roleplay(assessment=assessment, roleplay=roleplay)
    RoleplayAttempt.objects.filter(pk=attempt.pk).update(
        deadline_at=timezone.now() + timedelta(seconds=seconds_left)
    )
    session = SessionStore()
    session[SESSION_KEY] = assessment.pk
    session.create()
    context = new_context(locale="en-GB")
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": portal.url}]
    )
    page = context.new_page()
    page.goto(f"{portal.url}/roleplay/rp-complaint/")
    return page


def test_five_minutes_left_is_said_once_and_shown(new_context, portal):
    page = playing(new_context, portal, seconds_left=303)
    announcer, warning = page.locator("#time-announcer"), page.locator("#time-warning")
    expect(announcer).to_have_text("")
    expect(warning).to_be_hidden()
    expect(announcer).to_have_text("5 minutes left", timeout=8_000)
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("5 minutes left")
    expect(page.locator("#time-warning-over")).to_be_hidden()
    expect(page.locator("#timer")).to_have_class("timer soon")
    # Said once: the live region keeps its words, not repeated each second.
    changes = page.evaluate(
        """() => new Promise((done) => {
          let n = 0;
          const watch = { childList: true, characterData: true, subtree: true };
          new MutationObserver(() => n++).observe(document.getElementById("time-announcer"), watch);
          setTimeout(() => done(n), 2500);
        })"""
    )
    assert changes == 0


def test_a_page_opened_under_five_minutes_shows_it_and_speaks_the_last_minute(new_context, portal):
    page = playing(new_context, portal, seconds_left=63)
    announcer, warning = page.locator("#time-announcer"), page.locator("#time-warning")
    expect(warning).to_contain_text("5 minutes left")
    expect(announcer).to_have_text("")  # opened past it: shown, not spoken
    expect(announcer).to_have_text("1 minute left", timeout=8_000)
    expect(warning).to_contain_text("1 minute left")


def test_at_zero_the_page_says_the_roleplay_ended_and_the_overview_why(new_context, portal):
    page = playing(new_context, portal, seconds_left=3)
    page.locator("form.reply input[name=option]").first.check()
    expect(page.locator("#time-announcer")).to_have_text(
        "Time is up. This roleplay has ended with the answers you sent in time. Go to the overview",
        timeout=10_000,
    )
    expect(page.locator("#time-warning-left")).to_have_text("Time is up")
    expect(page.locator("#time-warning-over")).to_be_visible()
    expect(page.get_by_role("button", name="Send reply")).to_be_disabled()
    assert page.url.endswith("/roleplay/rp-complaint/"), "the candidate reads it, then goes on"
    page.get_by_role("link", name="Go to the overview").click()
    page.wait_for_url(f"{portal.url}/roleplay/")
    expect(page.locator(".roleplay-row").first).to_contain_text(
        "Time ran out: this roleplay ended at its time limit"
    )
    assert RoleplayAttempt.objects.get().finished_by == "deadline"
