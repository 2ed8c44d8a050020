"""Staff edit a scorecard version's Persian texts in the admin beside the English ones: each
object's `fa` texts of the format (questions, answers, sections, bands, rules, resources, the
version and its briefing), written right to left; checked by the content's one rule, as a
file's are; emptied, the object is shown in English on the Persian pages."""

import html

import pytest
from django.test import Client

from portal.scorecards.content import STORED_KINDS, export_scorecard, translated_fields
from portal.scorecards.models import Choice, Question, Recommendation, Scorecard
from tests.factories import qids
from tests.scorecards.test_content_rules import form_of, prefix_where

pytestmark = pytest.mark.django_db


def question_url(question: Question) -> str:
    return f"/admin/scorecards/question/{question.pk}/change/"


def persian_step(question: Question) -> str:
    """The Persian page of the step that asks `question`, as a visitor sees it."""
    visitor = Client(HTTP_ACCEPT_LANGUAGE="fa")
    visitor.post("/assessment/start/")
    for number, ids in enumerate(qids(question.section.scorecard), start=1):
        if question.qid in ids:
            page = visitor.get(f"/assessment/step/{number}/")
            assert page.status_code == 200
            return page.content.decode()
        visitor.post(f"/assessment/step/{number}/", dict.fromkeys(ids, "B"))
    raise AssertionError(f"{question.qid} is asked by no step")


def test_a_question_and_its_answers_are_edited_in_persian_and_shown_so(scorecard, staff_client):
    question = Question.objects.get(qid="governance_1", section__scorecard=scorecard)
    page = staff_client.get(question_url(question)).content.decode()
    fields = form_of(staff_client, question_url(question))
    assert fields["fa_text"] == question.translations["fa"]["text"]  # as stored, to edit
    assert 'name="fa_text"' in page and 'dir="rtl"' in page and 'lang="fa"' in page
    assert "translations" not in fields  # no raw JSON to get wrong
    a = prefix_where(fields, "-letter", "A")

    saved = staff_client.post(
        question_url(question),
        fields | {"fa_text": "پرسش ویرایش‌شده؟", f"{a}fa_text": "پاسخ ویرایش‌شده.", "_save": "Save"},
    )

    assert saved.status_code == 302
    question.refresh_from_db()
    assert question.translations == {"fa": {"text": "پرسش ویرایش‌شده؟"}}
    choice_a = Choice.objects.get(question=question, letter="A")
    assert choice_a.translations == {"fa": {"text": "پاسخ ویرایش‌شده."}}
    shown = html.unescape(persian_step(question))
    assert "پرسش ویرایش‌شده؟" in shown and "پاسخ ویرایش‌شده." in shown


def test_a_version_saved_as_shown_keeps_every_persian_text(scorecard, staff_client):
    before = export_scorecard(scorecard)
    url = f"/admin/scorecards/scorecard/{scorecard.pk}/change/"
    fields = form_of(staff_client, url)
    assert {"fa_title", "fa_briefing_button_text", "recommendations-0-fa_action_items"} <= set(
        fields
    )

    assert staff_client.post(url, fields | {"_save": "Save"}).status_code == 302

    assert export_scorecard(Scorecard.objects.get(pk=scorecard.pk)) == before


def test_some_but_not_all_of_a_rule_s_persian_texts_is_refused_with_the_reason(
    scorecard, staff_client
):
    url = f"/admin/scorecards/scorecard/{scorecard.pk}/change/"
    fields = form_of(staff_client, url)
    rule = Recommendation.objects.filter(scorecard=scorecard).order_by("position").first()
    stored = rule.translations

    response = staff_client.post(
        url, fields | {"recommendations-0-fa_action_items": "[]", "_save": "Save"}
    )

    assert response.status_code == 200, "shown again, not saved"
    text = html.unescape(response.content.decode())
    assert "Recommendation 1, 'fa': field 'action_items' must be a list of at least 1." in text
    rule.refresh_from_db()
    assert rule.translations == stored

    response = staff_client.post(url, fields | {"fa_briefing_title": "", "_save": "Save"})
    text = html.unescape(response.content.decode())
    assert "Briefing, 'fa': field 'title' must be a non-empty string." in text
    assert Scorecard.objects.get(pk=scorecard.pk).translations == scorecard.translations


def test_an_object_whose_persian_texts_are_all_emptied_is_shown_in_english(scorecard, staff_client):
    question = Question.objects.get(qid="governance_1", section__scorecard=scorecard)
    fields = form_of(staff_client, question_url(question))

    saved = staff_client.post(question_url(question), fields | {"fa_text": "", "_save": "Save"})

    assert saved.status_code == 302
    question.refresh_from_db()
    assert question.translations == {}
    assert html.escape(question.text) in persian_step(question)


def test_every_text_the_format_translates_has_its_persian_field_in_the_admin(
    scorecard, staff_client
):
    """The admin's Persian fields come from the format's declaration: none is missing."""
    question = Question.objects.get(qid="governance_1", section__scorecard=scorecard)
    section = question.section
    pages = {
        Scorecard: f"/admin/scorecards/scorecard/{scorecard.pk}/change/",
        Question: question_url(question),
        type(section): f"/admin/scorecards/section/{section.pk}/change/",
    }
    shown = set()
    for url in pages.values():
        shown |= {name.rsplit("-", 1)[-1] for name in form_of(staff_client, url)}
    for model in STORED_KINDS:  # every kind of content object
        assert {f"fa_{name}" for name in translated_fields(model)} <= shown, model


def test_a_version_with_visits_shows_its_persian_texts_read_only(scorecard, staff_client):
    question = Question.objects.get(qid="governance_1", section__scorecard=scorecard)
    choice_a = Choice.objects.get(question=question, letter="A")
    Client().post("/assessment/start/")  # a visit: the version is read-only from now on

    page = staff_client.get(question_url(question)).content.decode()
    version = staff_client.get(f"/admin/scorecards/scorecard/{scorecard.pk}/change/")

    assert 'name="_save"' not in page and "Text (Persian)" in page
    assert question.translations["fa"]["text"] in page
    assert choice_a.translations["fa"]["text"] in page
    assert scorecard.translations["fa"]["briefing_button_text"] in version.content.decode()
