"""The exam's result on a phone, in English and Persian: the countdown back to the partner's
site and its "Stay on this page" are in view on arrival, and the worked percentage reads as one
left-to-right equation."""

import re

import pytest
from playwright.sync_api import expect

from portal.exams import services
from tests.browser.test_exam_persian import persian_exam
from tests.browser.test_exam_saving_state import launched, open_exam, set_deadline

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}


def at_the_result(context_in, portal, customer, *, language: str, javascript: bool = True):
    """A phone's page at a finished exam's result, just arrived."""
    launch = persian_exam(customer, questions=3) if language == "fa" else launched(customer)
    locale = "fa-IR" if language == "fa" else "en-GB"
    context = context_in(javascript=javascript, locale=locale, viewport=PHONE, has_touch=True)
    page = open_exam(context, portal, launch)
    set_deadline(launch, -1)  # the exam ends; its page then opens at the result
    page.goto(f"{portal.url}{services.exam_path(launch)}")
    page.wait_for_url(re.compile(r"/result/$"))
    return page


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_countdown_and_stay_are_in_view_on_arrival(context_in, portal, customer, language):
    page = at_the_result(context_in, portal, customer, language=language)
    assert page.evaluate("window.scrollY") == 0
    text = page.locator("#continue-text")
    expect(text).to_have_text(re.compile(r"[۰-۹]" if language == "fa" else r"\d"))
    # Seen without scrolling: the notice, "Stay on this page" and "Continue", whole.
    for element in (text, page.locator("#stay"), page.locator("#continue")):
        expect(element).to_be_in_viewport(ratio=1)
    # Right below the score, before the figures and the explanation.
    order = page.evaluate(
        """() => ["#result-percentage", "#continue-box", ".figures", "#score-explained"]
             .map((s) => document.querySelector(s).getBoundingClientRect().top)"""
    )
    assert order == sorted(order), order
    page.locator("#stay").click()
    expect(text).to_have_text("")
    expect(page.locator("#stay")).to_be_hidden()
    page.wait_for_timeout(9_000)  # past the countdown: nobody is sent away
    assert page.url.endswith("/result/")


def test_without_javascript_continue_is_in_view_and_nothing_counts_down(
    context_in, portal, customer
):
    page = at_the_result(context_in, portal, customer, language="en", javascript=False)
    expect(page.locator("#continue")).to_be_in_viewport(ratio=1)
    expect(page.locator("#stay")).to_be_hidden()
    assert page.locator("#continue-text").bounding_box() is None  # empty: takes no room


def test_the_persian_formula_is_one_left_to_right_line(context_in, portal, customer):
    page = at_the_result(context_in, portal, customer, language="fa")
    page.locator("#stay").click()
    formula = page.locator("#score-formula")
    expect(formula).to_have_text(re.compile(r"^[۰-۹]+ ÷ [۰-۹]+ × ۱۰۰ = [۰-۹٫]+٪$"))
    # One line, whatever the width of the sentence around it.
    lines = formula.evaluate(
        """el => { const r = document.createRange(); r.selectNodeContents(el);
             return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size; }"""
    )
    assert lines == 1
    # Left to right: ÷ before × before =, on the screen as in the equation.
    xs = formula.evaluate(
        """el => { const text = el.firstChild.data;
             return ["÷", "×", "="].map((sign) => {
               const r = document.createRange(); const at = text.indexOf(sign);
               r.setStart(el.firstChild, at); r.setEnd(el.firstChild, at + 1);
               return r.getBoundingClientRect().left; }); }"""
    )
    assert xs == sorted(xs), xs
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
