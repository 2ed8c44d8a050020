"""The exam file format's published JSON Schema (schemas/exam.schema.json): what the declaration
(portal/exams/schema.py) gives, and it refuses what the importer refuses."""

import copy
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from portal.exams.transfer import ExamFormatError, validate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "exam.schema.json"
DOCS = ROOT / "docs" / "exam-format.md"
DEMO_EXAMS = sorted((ROOT / "portal" / "exams" / "fixtures").glob("demo_exam_*.json"))


@pytest.fixture
def validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


@pytest.fixture
def example() -> dict:
    """The example of docs/exam-format.md."""
    text = DOCS.read_text(encoding="utf-8")
    return json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))


def test_the_schema_accepts_the_demo_exams_and_the_example_of_the_docs(validator, example):
    assert len(DEMO_EXAMS) == 2
    for path in DEMO_EXAMS:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert list(validator.iter_errors(document)) == [], path.name
        validate(document)
    assert list(validator.iter_errors(example)) == []


def question(data: dict) -> dict:
    return data["exam"]["questions"][0]


REFUSED_BY_BOTH = [
    pytest.param(lambda d: d.update(format="portal-exam/2"), id="format"),
    pytest.param(lambda d: d["exam"].update(colour="red"), id="unknown-field"),
    pytest.param(lambda d: d["exam"].update(title=" "), id="blank-title"),
    pytest.param(lambda d: d["exam"].update(title="x" * 301), id="long-title"),
    pytest.param(lambda d: d["exam"].update(language="de"), id="language"),
    pytest.param(lambda d: d["exam"].update(accept_score=101), id="accept-score"),
    pytest.param(lambda d: d["exam"].update(duration=0), id="duration"),
    pytest.param(lambda d: d["exam"].pop("number_of_question"), id="draws"),
    pytest.param(lambda d: d["exam"].update(questions=[]), id="no-questions"),
    pytest.param(lambda d: question(d).update(correct=5), id="correct"),
    pytest.param(lambda d: question(d).update(correct=True), id="correct-bool"),
    pytest.param(lambda d: question(d).update(c3=""), id="blank-choice"),
    # Only invisible characters: a zero-width space; a non-joiner and a right-to-left mark.
    pytest.param(lambda d: d["exam"].update(title="\u200b"), id="zero-width-title"),
    pytest.param(lambda d: question(d).update(c2=" \u200c\u200f "), id="invisible-choice"),
    pytest.param(lambda d: question(d).update(weight=-1), id="weight"),
]


@pytest.mark.parametrize("change", REFUSED_BY_BOTH)
def test_the_schema_refuses_what_the_importer_refuses(validator, example, change):
    """An editor checking a file against the schema flags what import would refuse."""
    document = copy.deepcopy(example)
    change(document)
    assert list(validator.iter_errors(document)), "the schema lets it through"
    with pytest.raises(ExamFormatError):
        validate(document)


def test_a_persian_word_with_a_non_joiner_is_text_for_both(validator, example):
    """U+200C inside a word is ordinary Persian spelling, not blank (only a value of nothing
    but invisible characters is)."""
    document = copy.deepcopy(example)
    document["exam"]["title"] = "آزمون\u200cها"
    assert list(validator.iter_errors(document)) == []
    validate(document)
