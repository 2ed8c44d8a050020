"""A roleplay on a phone, in English and Persian: the time left stays in view however long the
conversation grows, and the end-of-roleplay ratings read in whole words, with JavaScript on
and off."""

import pytest
from playwright.sync_api import expect

from portal.roleplays.models import Turn
from tests.browser.test_roleplay_keyboard import phone, world

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["world"]  # the fixture, used by name
PHONE = {"width": 390, "height": 844}

# Each label's words, one rectangle per line box its text takes.
LINES_OF_EACH_LABEL = """scale => [...scale.querySelectorAll("label span")].map((span) => {
  const range = document.createRange();
  range.selectNodeContents(span);
  return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
})"""


def on_a_phone(chromium, portal, world, *, language: str, javascript: bool = True):
    page = phone(chromium, portal, world, language=language, javascript=javascript)
    page.set_viewport_size(PHONE)
    page.goto(f"{portal.url}/roleplay/")  # the cluster's overview, where a candidate lands
    return page


def send_first_reply(page, *, javascript: bool) -> None:
    page.locator("form.reply input[name=option]").first.check()
    if javascript:
        page.locator("#send-reply").click()
    else:
        with page.expect_navigation():
            page.locator("#send-reply").click()


@pytest.mark.parametrize(("language", "javascript"), [("en", True), ("fa", True), ("en", False)])
def test_the_time_left_stays_in_view_down_a_long_conversation(
    chromium, portal, world, language, javascript
):
    # Messages as long as the partners' (a conversation runs 2,000 to 5,000 px on a phone).
    long = " ".join(["The deliveries were late again and my customers are waiting."] * 12)
    Turn.objects.filter(key__in=["a1", "a2"]).update(message=long)
    page = on_a_phone(chromium, portal, world, language=language, javascript=javascript)
    page.goto(f"{portal.url}/roleplay/rp-complaint/")
    with page.expect_navigation():
        page.locator("#start-roleplay").click()
    send_first_reply(page, javascript=javascript)
    expect(page.locator(".bubble.you")).to_have_count(1)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height > 2 * PHONE["height"], height

    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("window.scrollY > 0")
    expect(page.locator("#timer-value")).to_be_in_viewport(ratio=1)
    header = page.locator(".site-header").bounding_box()
    assert header["y"] == 0, header
    # Compact: the bar leaves the conversation most of the screen.
    assert header["height"] <= 90, header
    # The message to answer, brought to the top (as a link or the focus does), is not hidden
    # under the bar.
    page.locator("#stage [data-current]").evaluate("el => el.scrollIntoView({block: 'start'})")
    current = page.locator("#stage [data-current]").bounding_box()
    assert current["y"] >= header["y"] + header["height"], (current, header)


def take_the_first_roleplay(page, portal, *, javascript: bool) -> None:
    """Roleplays are taken in order: the complaint's three replies, the last one leaving."""
    page.goto(f"{portal.url}/roleplay/rp-complaint/")
    with page.expect_navigation():
        page.locator("#start-roleplay").click()
    for sent in range(3):
        expect(page.locator(".bubble.you")).to_have_count(sent)
        if sent < 2:
            send_first_reply(page, javascript=javascript)
        else:
            page.locator("form.reply input[name=option]").first.check()
            with page.expect_navigation(url=f"{portal.url}/roleplay/"):
                page.locator("#send-reply").click()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_ratings_read_in_whole_words_on_a_phone(chromium, portal, world, language, javascript):
    page = on_a_phone(chromium, portal, world, language=language, javascript=javascript)
    take_the_first_roleplay(page, portal, javascript=javascript)
    page.goto(f"{portal.url}/roleplay/rp-conflict/")
    with page.expect_navigation():
        page.locator("#start-roleplay").click()
    send_first_reply(page, javascript=javascript)
    expect(page.locator("#ratings")).to_be_visible()
    assert page.evaluate("document.dir") == ("rtl" if language == "fa" else "ltr")

    scales = page.locator(".scale").all()
    assert len(scales) == 2
    for scale in scales:
        # Each option on a line of its own, its label whole on one line beside its radio.
        assert scale.evaluate(LINES_OF_EACH_LABEL) == [1, 1, 1, 1, 1]
        width = scale.bounding_box()["width"]
        boxes = [label.bounding_box() for label in scale.locator("label").all()]
        assert all(box["width"] >= width - 1 and box["height"] >= 44 for box in boxes), boxes
        tops = [box["y"] for box in boxes]
        assert tops == sorted(tops) and len(set(tops)) == 5, "stacked, in the scale's order"
        for label in scale.locator("label").all():
            radio = label.locator("input").bounding_box()
            words = label.locator("span").bounding_box()
            assert radio["width"] >= 20 and radio["height"] >= 20
            # The radio comes first in the reading direction.
            if language == "fa":
                assert radio["x"] > words["x"]
            else:
                assert radio["x"] < words["x"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Still answered by a tap anywhere on the option, and sent.
    for scale in scales:
        scale.locator("label").nth(3).click()
        expect(scale.locator("input").nth(3)).to_be_checked()
