"""Issue 12, scorecard: the results page is read at a glance. The total sits on a scale of the
five bands in their colours, with the visitor's mark and the same in words; each area's bar
is coloured by its band, with one sentence on what it means; printed (or saved as a PDF) the
page keeps its colours and drops its controls. HTML, CSS and SVG only: the same without
JavaScript, mirrored in Persian."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from portal.scorecards.models import Visit
from portal.scorecards.services import COOKIE
from tests.browser.test_scorecard_flow import qids, scorecard

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["scorecard"]  # the fixture, used by name

# One area in each of four bands: 100 (champion), 48 (risk zone), 24 (alert), 0 (crisis);
# the total, 100×.25 + 48×.35 + 24×.25 + 0×.15 = 47.8 → 48, is in the risk zone.
LETTERS = ("E", "C", "B", "A")
AREA_BANDS = ("champion", "risk_zone", "alert", "crisis")

FILL = "element => getComputedStyle(element).fill"
BOX = "element => { const b = element.getBoundingClientRect(); return [b.left, b.right]; }"


def completed(portal, scorecard, language: str) -> tuple[Visit, str]:
    """A visitor's completed check (through the pages, with Django's client), and its cookie."""
    visitor = Client(REMOTE_ADDR="203.0.113.60", HTTP_ACCEPT_LANGUAGE=language)
    visitor.post("/assessment/start/")
    for number, (ids, letter) in enumerate(zip(qids(scorecard), LETTERS, strict=True), start=1):
        assert visitor.post(f"/assessment/step/{number}/", dict.fromkeys(ids, letter)).status_code
    assert visitor.post("/assessment/contact/", {}).status_code == 302
    return Visit.objects.get(), visitor.cookies[COOKIE].value


def results_page(chromium, portal, scorecard, *, language: str, javascript: bool):
    visit, cookie = completed(portal, scorecard, language)
    assert (visit.total_score, visit.score_category) == (48, "risk_zone")
    context = chromium.new_context(
        locale="fa-IR" if language == "fa" else "en-GB",
        java_script_enabled=javascript,
        viewport={"width": 360, "height": 740},
    )
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": COOKIE, "value": cookie, "url": portal.url}])
    page = context.new_page()
    page.goto(f"{portal.url}/assessment/results/{visit.assessment_id}/")
    return context, page, visit


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_total_on_the_bands_and_each_area_in_its_band_colour(
    chromium, portal, scorecard, javascript
):
    context, page, visit = results_page(
        chromium, portal, scorecard, language="en", javascript=javascript
    )
    scale = page.get_by_role("img", name="Your total on the five bands")
    expect(scale).to_be_visible()
    segments = scale.locator("rect.sc-segment")
    expect(segments).to_have_count(5)
    colours = {
        band: scale.locator(f".sc-segment.sc-band-{band}").evaluate(FILL)
        for band in ("crisis", "alert", "risk_zone", "builder", "champion")
    }
    assert len(set(colours.values())) == 5, colours  # five colours, one per band

    # The mark stands on the visitor's band, and the words say the same.
    mark = scale.locator("line.sc-mark-line").bounding_box()
    yours = scale.locator(".sc-segment.sc-band-risk_zone").bounding_box()
    assert yours["x"] <= mark["x"] <= yours["x"] + yours["width"]
    expect(scale.locator("desc")).to_have_text(
        "Your total, 48 out of 100, is in the AI Risk Zone band (40 to 59)."
    )
    legend = page.locator("#band-legend li")
    expect(legend).to_have_count(5)
    expect(legend.filter(has_text="(your total)")).to_have_text("AI Risk Zone 40–59 (your total)")

    # Each area's bar in its band's colour, and one sentence on what it means.
    bars = page.locator("#score-chart rect.sc-bar")
    expect(bars).to_have_count(4)
    readings = page.locator("#area-readings li")
    expect(readings).to_have_count(4)
    bands = {band.key: band for band in scorecard.bands.all()}
    for index, (section, band) in enumerate(
        zip(scorecard.sections.order_by("step"), AREA_BANDS, strict=True)
    ):
        assert bars.nth(index).evaluate(FILL) == colours[band], section.key
        expect(readings.nth(index)).to_contain_text(section.name)
        expect(readings.nth(index)).to_contain_text(f"in the {bands[band].name} band")
        expect(readings.nth(index)).to_contain_text(bands[band].description)
    context.close()


def test_printed_results_keep_their_colours_and_drop_the_controls(chromium, portal, scorecard):
    context, page, _visit = results_page(
        chromium, portal, scorecard, language="en", javascript=True
    )
    expect(page.locator("#save-share")).to_be_visible()
    page.emulate_media(media="print")
    for control in ("#save-share", "#share-url", ".site-header", "#switch-language"):
        expect(page.locator(control)).to_be_hidden()
    bar = page.locator("#score-chart rect.sc-bar").first
    assert bar.evaluate("e => getComputedStyle(e).printColorAdjust") == "exact"
    segment = page.locator("#band-scale rect.sc-segment").first
    assert segment.evaluate("e => getComputedStyle(e).printColorAdjust") == "exact"
    for kept_whole in ("#area-readings li", ".sc-rec", ".sc-scale", "#score-chart"):
        element = page.locator(kept_whole).first
        assert element.evaluate("e => getComputedStyle(e).breakInside") == "avoid", kept_whole
    # The briefing's button (a total below 80 is offered one) prints as its address.
    after = page.locator(".sc-cta .button").evaluate("e => getComputedStyle(e, '::after').content")
    assert "aireadycheck.com/briefing" in after
    assert page.pdf()[:4] == b"%PDF"
    context.close()


def test_in_persian_the_picture_reads_from_the_right(chromium, portal, scorecard):
    context, page, _visit = results_page(
        chromium, portal, scorecard, language="fa", javascript=True
    )
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    scale = page.locator("#band-scale")
    crisis = scale.locator(".sc-segment.sc-band-crisis").evaluate(BOX)
    champion = scale.locator(".sc-segment.sc-band-champion").evaluate(BOX)
    assert champion[1] <= crisis[0]  # 0 on the right, 100 on the left
    expect(page.locator("#total-score")).to_have_text("۴۸")
    for row in page.locator("#score-chart g.sc-bar-row").all():
        track = row.locator("rect.sc-track").evaluate(BOX)
        bar = row.locator("rect.sc-bar").evaluate(BOX)
        assert abs(bar[1] - track[1]) < 1  # bars grow from the right
    expect(page.locator("#area-readings li").first).to_contain_text("قهرمان هوش مصنوعی")
    context.close()
