"""The scorecard content format declared once (portal/scorecards/format.py): its published JSON
Schema is what the models give and refuses what loading refuses; the first problem a reader
meets is the one reported; the columns' lengths are the format's; stored content (what the
admin edits) is held to the same models."""

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from portal.scorecards.content import (
    ScorecardFormatError,
    check_edited_scorecard,
    validate,
)
from portal.scorecards.format import TRANSLATED_FIELDS, ScorecardFile
from portal.scorecards.models import Recommendation

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "scorecard.schema.json"


@pytest.fixture
def validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def refusal(document: dict) -> str:
    with pytest.raises(ScorecardFormatError) as refused:
        validate(document)
    return refused.value.message


# --- the JSON Schema --------------------------------------------------------------------------


def test_the_schema_accepts_the_bundled_version(validator, document):
    assert list(validator.iter_errors(document)) == []
    for obj in (document, document["bands"][0], document["sections"][0]):
        del obj["fa"]  # translations are optional
    assert list(validator.iter_errors(document)) == []
    validate(document)


def question(d: dict) -> dict:
    return d["sections"][0]["questions"][0]


REFUSED_BY_BOTH = [
    pytest.param(lambda d: d.update(format="portal-scorecard/2"), id="format"),
    pytest.param(lambda d: d.update(colour="red"), id="unknown-field"),
    pytest.param(lambda d: d.update(version="2026 final"), id="version"),
    pytest.param(lambda d: d.update(title=" "), id="blank"),
    pytest.param(lambda d: d["briefing"].update(button_text="x" * 81), id="too-long"),
    pytest.param(lambda d: d["briefing"].update(url="javascript:alert(1)"), id="url"),
    pytest.param(lambda d: d["briefing"].update(total_below=102), id="threshold"),
    pytest.param(lambda d: d["bands"][0].update(key="doom"), id="band-key"),
    pytest.param(lambda d: d["bands"].pop(), id="four-bands"),
    pytest.param(lambda d: d["sections"][0].update(weight=0), id="weight"),
    pytest.param(lambda d: d["sections"][0].update(questions=[]), id="no-questions"),
    pytest.param(lambda d: question(d)["choices"].pop(), id="four-answers"),
    pytest.param(lambda d: question(d)["choices"][0].update(points=True), id="points-bool"),
    pytest.param(lambda d: question(d)["choices"][0].update(letter="F"), id="letter"),
    pytest.param(lambda d: d["recommendations"][0].update(priority="urgent"), id="priority"),
    pytest.param(lambda d: d["recommendations"][0].update(action_items=[]), id="no-actions"),
    pytest.param(lambda d: d["resources"][0].update(type="video"), id="resource-type"),
    pytest.param(lambda d: d["bands"][0].update(fa=None), id="fa-null"),
    pytest.param(lambda d: d["bands"][0]["fa"].pop("name"), id="fa-partial"),
]


@pytest.mark.parametrize("change", REFUSED_BY_BOTH)
def test_the_schema_refuses_what_loading_refuses(validator, document, change):
    """An editor checking a file against the schema flags what loading would refuse."""
    change(document)
    assert list(validator.iter_errors(document)), "the schema lets it through"
    refusal(document)


# --- the declaration and its messages ---------------------------------------------------------


def test_a_translation_is_declared_as_the_english_texts():
    band = ScorecardFile.model_fields["bands"].annotation.__args__[0]
    texts = band.model_fields["fa"].annotation
    assert tuple(texts.model_fields) == TRANSLATED_FIELDS["band"]
    assert texts.model_fields["name"].metadata == band.model_fields["name"].metadata


def test_the_first_problem_in_reading_order_is_reported(document):
    document["sections"][1]["questions"][0]["text"] = " "
    document["sections"][0]["name"] = ""
    assert (
        refusal(document) == "Section 'value_assurance': field 'name' must be a non-empty string."
    )
    document["sections"][0]["zz"] = document["sections"][0]["aa"] = 1
    assert refusal(document) == "Section 'value_assurance': unknown field 'aa', 'zz'."
    document["bands"][2]["name"] = 5
    assert refusal(document) == "Band 3: field 'name' must be a non-empty string."
    document.pop("title")
    assert refusal(document) == "Scorecard: field 'title' is missing."
    document["format"] = "portal-exam/1"
    assert refusal(document).startswith("Field 'format' must be 'portal-scorecard/1'")


def test_a_question_is_named_by_its_place_until_its_id_is_right(document):
    questions = document["sections"][2]["questions"]
    questions[1]["colour"] = "red"
    assert refusal(copy.deepcopy(document)) == (
        "Section 'risk_compliance', question 2: unknown field 'colour'."
    )
    del questions[1]["colour"]
    questions[1]["choices"][3]["text"] = ""
    assert refusal(document) == (
        "Question risk_compliance_2, answer D: field 'text' must be a non-empty string."
    )
    questions[1]["choices"][3]["text"] = "\u200b\u2060"  # nothing a visitor would see
    assert refusal(document) == (
        "Question risk_compliance_2, answer D: field 'text' must be a non-empty string."
    )


def test_texts_longer_than_their_columns_are_refused(document):
    document["briefing"]["title"] = "x" * 201
    assert refusal(copy.deepcopy(document)) == (
        "Briefing: field 'title' is 201 characters long; the most is 200."
    )
    document["briefing"]["title"] = "Book"
    document["resources"][1]["url"] = "https://example.com/" + "a" * 200
    assert refusal(document) == "Resource 2: field 'url' is 220 characters long; the most is 200."


def test_a_weight_too_large_for_a_float_is_a_format_error(document):
    document["sections"][0]["weight"] = 10**400
    assert refusal(document).startswith("Section 'value_assurance': field 'weight' must be a")


# --- stored content is held to the same models ------------------------------------------------


def test_action_items_edited_into_something_else_than_a_list_are_refused(scorecard):
    rule = Recommendation.objects.filter(scorecard=scorecard).order_by("position").first()
    rule.action_items = "Write it down"  # what the admin's JSON field takes as it is
    rule.save()
    with pytest.raises(ScorecardFormatError) as refused:
        check_edited_scorecard(scorecard)
    assert refused.value.message == (
        "Recommendation 1: field 'action_items' must be a list of at least 1."
    )
    rule.action_items = ["Write it down", " "]
    rule.save()
    with pytest.raises(ScorecardFormatError, match="every action item must be a non-empty"):
        check_edited_scorecard(scorecard)
