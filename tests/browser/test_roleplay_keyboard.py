"""The roleplay pages by keyboard alone, on a 360-px phone, in English and Persian, with
JavaScript on and off: replies are chosen then sent, land on the current message, and the
5-point scale stacks its options, one per row, in whole words."""

import re

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from portal.roleplays.models import Cluster, LikertResponse, TurnResponse
from portal.roleplays.views import SESSION_KEY
from tests.factories import make_assessment, make_cluster

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 360, "height": 640}
# How many lines an element's text takes: one rectangle per line box.
LINES_OF_TEXT = """el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
}"""


@pytest.fixture
def world():
    cluster, partner, options = make_cluster()
    return {"cluster": cluster, "options": options, "assessment": make_assessment(cluster, partner)}


def phone(chromium, portal, world, *, language: str = "en", javascript: bool = True):
    """A phone-sized page whose session holds the candidate's assessment, as after a launch."""
    Cluster.objects.filter(pk=world["cluster"].pk).update(language=language)
    session = SessionStore()
    session[SESSION_KEY] = world["assessment"].pk
    session.create()
    context = chromium.new_context(
        viewport=PHONE, java_script_enabled=javascript, has_touch=True, locale="fa-IR"
    )
    context.set_default_timeout(15_000)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": portal.url}]
    )
    return context.new_page()


def tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until the element matching `selector` has focus."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement?.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got focus by Tab")


def enter(page, *, loads: bool) -> None:
    """Press Enter; when a page load follows (no JavaScript, or leaving), wait for it."""
    if loads:
        with page.expect_navigation():
            page.keyboard.press("Enter")
    else:
        page.keyboard.press("Enter")


def start_by_keyboard(page, portal, roleplay_id: str) -> None:
    page.goto(f"{portal.url}/roleplay/{roleplay_id}/")
    tab_to(page, "#start-roleplay")
    enter(page, loads=True)
    assert page.url.endswith(f"/roleplay/{roleplay_id}/")


def reply_by_keyboard(page, arrows: int = 0, *, loads: bool = False) -> None:
    """Tab into the replies, move the choice with the arrow keys, then Tab to Send reply."""
    tab_to(page, "form.reply input[name=option]")
    page.keyboard.press("Space")
    for _ in range(arrows):
        page.keyboard.press("ArrowDown")
    tab_to(page, "#send-reply")
    enter(page, loads=loads)


def rate_by_keyboard(page, value_index: int) -> None:  # the last step: the overview loads
    """Each statement: Tab into its group, arrows to the value, then Enter on Submit."""
    for item in range(page.locator("fieldset.likert-item").count()):
        group = page.locator("fieldset.likert-item").nth(item)
        tab_to(page, f"fieldset.likert-item:nth-of-type({item + 1}) input")
        page.keyboard.press("Space")
        for _ in range(value_index):
            page.keyboard.press(
                "ArrowRight" if page.evaluate("document.dir") != "rtl" else "ArrowLeft"
            )
        expect(group.locator("input").nth(value_index)).to_be_checked()
    tab_to(page, "#submit-ratings")
    enter(page, loads=True)


def assert_scale_stacks_in_whole_words(page) -> None:
    """On a phone each statement's five options stack, one per row, each a whole target (44 px
    high at least) whose words are not broken (five columns broke "Disagree")."""
    for scale in page.locator(".scale").all():
        boxes = [label.bounding_box() for label in scale.locator("label").all()]
        assert len(boxes) == 5
        assert len({round(box["y"]) for box in boxes}) == 5, "one option per row"
        width = scale.bounding_box()["width"]
        assert all(box["width"] >= width - 1 and box["height"] >= 44 for box in boxes), boxes
        right = max(box["x"] + box["width"] for box in boxes)
        assert right <= PHONE["width"] and min(box["x"] for box in boxes) >= 0, "no overflow"
        for label in scale.locator("label").all():
            words = label.locator("span")
            assert words.evaluate("el => el.scrollWidth <= el.clientWidth")
            assert words.evaluate(LINES_OF_TEXT) == 1, "the label on one line"
        for radio in scale.locator("input").all():
            radio_box = radio.bounding_box()
            assert radio_box["width"] >= 20 and radio_box["height"] >= 20
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("language", ["en", "fa"])
def test_both_roleplays_by_keyboard_on_a_phone(chromium, portal, world, language):
    page = phone(chromium, portal, world, language=language)
    page.goto(f"{portal.url}/roleplay/")
    expected = ("en", "ltr") if language == "en" else ("fa", "rtl")
    assert page.evaluate("[document.documentElement.lang, document.dir]") == list(expected)
    start_by_keyboard(page, portal, "rp-complaint")

    # Arrow keys move the choice and send nothing; only "Send reply" commits.
    tab_to(page, "form.reply input[name=option]")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(page.locator("form.reply input[name=option]").first).to_be_checked()
    assert not TurnResponse.objects.exists(), "choosing is not sending"
    tab_to(page, "#send-reply")
    page.keyboard.press("Enter")
    expect(page.locator(".bubble.you")).to_have_count(1)
    expect(page.locator("#stage [data-current]")).to_be_focused()  # Alex's next message
    reply_by_keyboard(page, arrows=0)  # a2 good
    expect(page.locator("#stage [data-current]")).to_contain_text("It was my fault.")
    expect(page.locator("#stage [data-current]")).to_be_focused()
    reply_by_keyboard(page, loads=True)
    assert page.url.endswith("/roleplay/")

    start_by_keyboard(page, portal, "rp-conflict")
    reply_by_keyboard(page, arrows=1)  # k1 poor
    expect(page.locator("#ratings")).to_be_focused()
    assert_scale_stacks_in_whole_words(page)
    rate_by_keyboard(page, value_index=3)  # "Agree"
    assert page.url.endswith("/roleplay/")
    assert sorted(LikertResponse.objects.values_list("value", flat=True)) == [4, 4]
    assert [r.option.text for r in TurnResponse.objects.order_by("pk")] == [
        "I understand, let me fix it.",
        "A refund today and a follow-up call.",
        "Let's learn from it together.",
        "Sort it out yourselves.",
    ]
    tab_to(page, "#finish-assessment")
    enter(page, loads=True)
    assert page.url.endswith("/roleplay/done/")


def test_a_double_click_on_send_reply_sends_once(chromium, portal, world):
    page = phone(chromium, portal, world)
    page.goto(f"{portal.url}/roleplay/rp-complaint/")
    page.locator("#start-roleplay").click()
    page.get_by_label("I understand, let me fix it.").check()
    page.locator("#send-reply").dblclick()
    expect(page.locator(".bubble.you")).to_have_count(1)
    expect(page.locator("#stage-error")).to_have_count(0)
    assert TurnResponse.objects.count() == 1


@pytest.mark.parametrize("language", ["en", "fa"])
def test_without_javascript_each_reply_lands_on_the_current_message(
    chromium, portal, world, language
):
    page = phone(chromium, portal, world, language=language, javascript=False)
    start_by_keyboard(page, portal, "rp-complaint")
    brief = page.locator("details#brief")
    tab_to(page, "details#brief summary")
    page.keyboard.press("Enter")  # the brief opens without JavaScript
    expect(brief.get_by_text("A customer is unhappy.")).to_be_visible()
    a2 = world["options"]["a1 good"].next_turn
    reply_by_keyboard(page, loads=True)
    assert page.url.endswith(f"/roleplay/rp-complaint/#turn-{a2.pk}")
    assert page.evaluate("document.querySelector(':target').textContent") == "So what now?"
    expect(page.locator(f"#turn-{a2.pk}")).to_be_in_viewport()
    tab_to(page, "#send-reply")  # nothing chosen: the browser asks for a choice first
    page.keyboard.press("Enter")
    assert TurnResponse.objects.count() == 1
    reply_by_keyboard(page, arrows=1, loads=True)  # a2 fair
    assert re.search(r"#turn-\d+$", page.url) and not page.url.endswith(f"#turn-{a2.pk}")
    expect(page.locator(":target")).to_have_text("It was my fault.")
    expect(page.locator(":target")).to_be_in_viewport()
    reply_by_keyboard(page, loads=True)
    assert page.url.endswith("/roleplay/")

    start_by_keyboard(page, portal, "rp-conflict")
    reply_by_keyboard(page, loads=True)
    assert page.url.endswith("/roleplay/rp-conflict/#ratings")
    expect(page.locator("#ratings")).to_be_in_viewport()
    assert_scale_stacks_in_whole_words(page)
    rate_by_keyboard(page, value_index=0)
    assert page.url.endswith("/roleplay/")
    assert sorted(LikertResponse.objects.values_list("value", flat=True)) == [1, 1]
    tab_to(page, "#finish-assessment")
    enter(page, loads=True)
    assert page.url.endswith("/roleplay/done/")


@pytest.mark.parametrize("javascript", [True, False])
def test_back_shows_the_conversation_as_it_is_now(chromium, portal, world, javascript):
    """Back to a page shown before a reply shows the reply and the message after it, not the
    message already answered with its replies on offer (a kept copy), which could only be
    refused."""
    page = phone(chromium, portal, world, javascript=javascript)
    page.goto(f"{portal.url}/roleplay/")
    page.goto(f"{portal.url}/roleplay/rp-complaint/")
    page.locator("#start-roleplay").click()
    expect(page.get_by_label("I understand, let me fix it.")).to_be_visible()
    page.get_by_label("I understand, let me fix it.").check()
    if javascript:  # the reply is swapped into the page: Back from the next page comes to it
        page.locator("#send-reply").click()
        expect(page.locator(".bubble.you")).to_have_count(1)
        page.goto(f"{portal.url}/roleplay/")
    else:  # the reply loads the page again: Back comes to the one it was sent from
        with page.expect_navigation():
            page.locator("#send-reply").click()
    page.go_back()
    expect(page.locator(".bubble.you")).to_have_text(re.compile("I understand, let me fix it."))
    expect(page.locator("[data-current]")).to_have_text("So what now?")
    expect(page.get_by_label("I understand, let me fix it.")).to_have_count(0)
