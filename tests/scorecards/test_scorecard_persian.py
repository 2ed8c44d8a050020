"""Issue 12, scorecard in Persian: the pages choose their language as every page does (a pick
with ?lang=, kept in the language cookie, else Accept-Language), right-to-left in fa; the
content format carries optional Persian texts, validated like the English ones, and the
bundled version is translated throughout; the API keeps speaking the seed's English."""

import copy
import re

import pytest
from django.conf import settings
from django.test import Client

from portal.scorecards.content import (
    ScorecardFormatError,
    export_scorecard,
    load_scorecard,
    validate,
)
from portal.scorecards.format import TRANSLATED_FIELDS
from portal.scorecards.models import Visit
from tests.factories import qids

pytestmark = pytest.mark.django_db
JSON = "application/json"


def finish(client, scorecard, letter: str = "B") -> Visit:
    client.post("/assessment/start/")
    for number, ids in enumerate(qids(scorecard), start=1):
        assert client.post(f"/assessment/step/{number}/", dict.fromkeys(ids, letter)).status_code
    response = client.post("/assessment/contact/", {})
    return Visit.objects.get(assessment_id=response["Location"].rstrip("/").rsplit("/", 1)[1])


def html_of(response) -> str:
    return response.content.decode()


# --- the language of the pages ---------------------------------------------------------------


def test_the_browser_language_is_followed_and_persian_is_right_to_left(scorecard):
    persian = Client(HTTP_ACCEPT_LANGUAGE="fa-IR,fa;q=0.9")
    html = html_of(persian.get("/assessment/"))
    assert '<html lang="fa" dir="rtl">' in html
    assert "سنجش واقع‌بینانهٔ هوش مصنوعی" in html  # the content's title, in Persian
    assert "شروع سنجش" in html and "Start the check" not in html
    assert 'lang="en" hreflang="en" id="switch-language">English</a>' in html

    english = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    html = html_of(english.get("/assessment/"))
    assert '<html lang="en" dir="ltr">' in html and scorecard.title in html
    assert 'href="/assessment/?lang=fa" lang="fa"' in html


def test_a_language_picked_is_kept_over_the_browsers(scorecard):
    visitor = Client(HTTP_ACCEPT_LANGUAGE="en-GB")
    picked = visitor.get("/assessment/?lang=fa")
    assert '<html lang="fa" dir="rtl">' in html_of(picked)
    assert picked.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fa"
    assert "Accept-Language" in picked["Vary"] and "Cookie" in picked["Vary"]
    # Every later page, and a step after a post, stays Persian.
    visitor.post("/assessment/start/")
    first = qids(scorecard)[0]
    step = html_of(visitor.post("/assessment/step/1/", {first[0]: "A"}))
    assert '<html lang="fa" dir="rtl">' in step
    question = scorecard.sections.get(step=0).questions.first()
    assert question.translations["fa"]["text"] in step and question.text not in step
    assert "۱ از ۱۶ سوال پاسخ داده شده" in step  # Persian digits
    # A made-up language is ignored.
    assert '<html lang="fa"' in html_of(visitor.get("/assessment/step/1/?lang=xx"))
    back = visitor.get("/assessment/step/1/?lang=en")
    assert '<html lang="en" dir="ltr">' in html_of(back) and question.text in html_of(back)


def test_the_language_switch_after_a_refused_start_leads_to_a_page(scorecard):
    html = html_of(Client().post("/assessment/start/", {"email": "nope"}))
    assert 'href="/assessment/?lang=fa"' in html  # not /assessment/start/, which only posts


def test_results_in_persian_come_from_the_visits_own_version(scorecard):
    visitor = Client(HTTP_ACCEPT_LANGUAGE="fa")
    visit = finish(visitor, scorecard, "E")
    html = html_of(visitor.get(f"/assessment/results/{visit.assessment_id}/"))
    band = scorecard.bands.get(key=visit.score_category)
    assert f'<p class="verdict" id="band-name">{band.translations["fa"]["name"]}</p>' in html
    for section in scorecard.sections.all():
        assert section.translations["fa"]["name"] in html
    for rule_title in (rec["title"] for rec in visit.result["recommendations"]):
        rule = scorecard.recommendations.get(title=rule_title)
        assert rule.translations["fa"]["title"] in html and rule_title not in html
    assert f'<span id="total-score">{str(visit.total_score).translate(PERSIAN)}</span>' in html
    # The stored result and the API's answer stay the seed's English.
    api = visitor.get(f"/api/assessment/results/{visit.assessment_id}").json()
    assert api["recommendations"][0]["title"] == visit.result["recommendations"][0]["title"]
    assert api["categoryDescription"] == band.description


PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


# --- the content format ----------------------------------------------------------------------


def objects(document: dict):
    """(kind, where, object) for every object of a document that may carry translations."""
    yield "document", "Scorecard", document
    yield "briefing", "Briefing", document["briefing"]
    for band in document["bands"]:
        yield "band", band["key"], band
    for section in document["sections"]:
        yield "section", section["key"], section
        for question in section["questions"]:
            yield "question", question["id"], question
            for choice in question["choices"]:
                yield "choice", f"{question['id']} {choice['letter']}", choice
    for number, rule in enumerate(document["recommendations"], start=1):
        yield "rule", f"Recommendation {number}", rule
    for number, resource in enumerate(document["resources"], start=1):
        yield "resource", f"Resource {number}", resource


def test_the_bundled_version_is_translated_throughout(document):
    for kind, where, obj in objects(document):
        assert set(obj["fa"]) == set(TRANSLATED_FIELDS[kind]), where
        for name, english in obj.items():
            if name in TRANSLATED_FIELDS[kind] and english:
                assert obj["fa"][name] and obj["fa"][name] != english, (where, name)


def test_translations_are_kept_by_loading_and_exporting(document):
    loaded = load_scorecard(document)
    assert export_scorecard(loaded) == document
    assert loaded.translations["fa"]["briefing_button_text"] == "رزرو جلسه"


def test_a_document_without_translations_is_valid_and_shown_in_english(document):
    for _kind, _where, obj in objects(document):
        del obj["fa"]
    load_scorecard(validate(document))
    html = html_of(Client(HTTP_ACCEPT_LANGUAGE="fa").get("/assessment/"))
    assert '<html lang="fa" dir="rtl">' in html and document["title"] in html


def broken(document: dict, change) -> dict:
    changed = copy.deepcopy(document)
    change(changed)
    return changed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["fa"].update(subtitle="x"),
            "Scorecard, 'fa': unknown field 'subtitle'",
        ),
        (
            lambda d: d["sections"][0]["questions"][1]["fa"].pop("text"),
            "Question value_assurance_2, 'fa': field 'text' is missing",
        ),
        (
            lambda d: d["sections"][1]["questions"][0]["choices"][2]["fa"].update(text=" "),
            "Question customer_safe_1, answer C, 'fa': field 'text' must be a non-empty string",
        ),
        (
            lambda d: d["bands"][0].update(fa="قهرمان"),
            "Band 1, 'fa' must be a JSON object",
        ),
        (
            lambda d: d["recommendations"][2]["fa"].update(title="ع" * 201),
            "Recommendation 3, 'fa': field 'title' is 201 characters long; the most is 200",
        ),
        (
            lambda d: d["recommendations"][0]["fa"].update(action_items=[]),
            "Recommendation 1, 'fa': field 'action_items' must be a list of at least 1",
        ),
        (
            lambda d: d["resources"][0]["fa"].update(title="a\x00b"),
            "Resource 1, 'fa': field 'title' must not contain control characters (U+0000)",
        ),
        (
            lambda d: d["briefing"]["fa"].pop("button_text"),
            "Briefing, 'fa': field 'button_text' is missing",
        ),
    ],
)
def test_translations_are_validated_like_the_english_texts(document, change, message):
    with pytest.raises(ScorecardFormatError, match=re.escape(message)):
        validate(broken(document, change))


def test_a_section_description_may_be_empty_in_persian_too(document):
    document["sections"][0]["fa"]["description"] = ""
    assert validate(document)
