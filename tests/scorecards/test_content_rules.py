"""One rule for scorecard content, whichever way it changes: a file (load_scorecard), the admin,
or (later) a console editor all end in portal.scorecards.content's validation, and a broken
document is a format error that names the place, never a traceback."""

import copy
import io
import json
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from portal.scorecards.content import ScorecardFormatError, load_scorecard, validate
from portal.scorecards.models import Choice, Question, ScoreBand, Scorecard

pytestmark = pytest.mark.django_db
JSON = "application/json"


class FormFields(HTMLParser):
    """The values a browser would post from the page's main form."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            else:
                self.fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += (
                data.removeprefix("\n") if not self.fields[self._textarea] else data
            )


def form_of(client: Client, url: str) -> dict[str, str]:
    parser = FormFields()
    parser.feed(client.get(url).text)
    fields = parser.fields
    fields.pop("csrfmiddlewaretoken", None)
    return {name: value for name, value in fields.items() if not name.startswith("_")}


def prefix_where(fields: dict, suffix: str, value: str) -> str:
    """The inline row's prefix ("bands-4-") whose `suffix` field ("-key") has `value`."""
    return next(
        name[: -len(suffix) + 1]
        for name, v in fields.items()
        if name.endswith(suffix) and v == value
    )


# --- the admin ---------------------------------------------------------------------------------


def test_the_admin_refuses_a_lowest_band_above_0_and_submit_keeps_working(scorecard, staff_client):
    url = f"/admin/scorecards/scorecard/{scorecard.pk}/change/"
    fields = form_of(staff_client, url)
    crisis = prefix_where(fields, "-key", "crisis")
    response = staff_client.post(url, fields | {f"{crisis}min_score": "5", "_save": "Save"})
    assert response.status_code == 200, "shown again, not saved"
    assert "the lowest band must start at 0" in response.text
    assert 'value="5"' in response.text  # as posted, to correct
    assert ScoreBand.objects.get(scorecard=scorecard, key="crisis").min_score == 0

    # The same page saves a good edit; a visitor answering the worst answers gets "crisis".
    saved = staff_client.post(url, fields | {"title": "Renamed", "_save": "Save"})
    assert saved.status_code == 302
    assert Scorecard.objects.get(pk=scorecard.pk).title == "Renamed"
    visitor = Client()
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    for section in scorecard.sections.order_by("step"):
        answers = {q.qid: "A" for q in section.questions.all()}
        body = {"step": section.step, "responses": answers}
        visitor.post("/api/assessment/save-progress", body, content_type=JSON)
    submitted = visitor.post("/api/assessment/submit", {"completionTime": 9}, content_type=JSON)
    assert submitted.status_code == 200 and submitted.json()["scoreCategory"] == "crisis"


def test_the_admin_refuses_answers_without_a_0_or_above_25(scorecard, staff_client):
    question = Question.objects.get(qid="governance_1", section__scorecard=scorecard)
    url = f"/admin/scorecards/question/{question.pk}/change/"
    fields = form_of(staff_client, url)
    a = prefix_where(fields, "-letter", "A")
    response = staff_client.post(url, fields | {f"{a}points": "3", "_save": "Save"})
    assert response.status_code == 200
    assert "Question governance_1: one answer must be worth 0 points" in response.text
    e = prefix_where(fields, "-letter", "E")
    response = staff_client.post(url, fields | {f"{e}points": "30", "_save": "Save"})
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 25." in response.text
    assert sorted(question.choices.values_list("points", flat=True)) == [0, 6, 12, 19, 25]


def test_the_admin_refuses_a_gap_in_the_question_ids_but_not_fewer_questions(
    scorecard, staff_client
):
    second = Question.objects.get(qid="value_assurance_2", section__scorecard=scorecard)
    response = staff_client.post(
        f"/admin/scorecards/question/{second.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert "field &#x27;id&#x27; must be &#x27;value_assurance_2&#x27;" in response.text
    assert Question.objects.filter(pk=second.pk).exists()
    # Any number of questions is fine: the last one of a section may go.
    last = Question.objects.get(qid="value_assurance_4", section__scorecard=scorecard)
    staff_client.post(f"/admin/scorecards/question/{last.pk}/delete/", {"post": "yes"})
    assert not Question.objects.filter(pk=last.pk).exists()


def test_activating_a_broken_version_is_refused(scorecard, staff_client, document):
    other = load_scorecard(document | {"version": "2099.1"}, activate=False)
    ScoreBand.objects.filter(scorecard=other, key="crisis").update(min_score=5)  # a shell edit
    response = staff_client.post(
        "/admin/scorecards/scorecard/",
        {"action": "make_active", "_selected_action": [other.pk]},
        follow=True,
    )
    assert "Not activated. Bands: the lowest band must start at 0" in response.text
    assert Scorecard.objects.get(is_active=True) == scorecard


def test_submit_on_content_broken_outside_the_rules_is_a_503_not_a_500(scorecard, caplog):
    ScoreBand.objects.filter(scorecard=scorecard, key="crisis").update(min_score=5)
    visitor = Client()
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    for section in scorecard.sections.order_by("step"):
        body = {"step": section.step, "responses": {q.qid: "A" for q in section.questions.all()}}
        visitor.post("/api/assessment/save-progress", body, content_type=JSON)
    response = visitor.post("/api/assessment/submit", {"completionTime": 9}, content_type=JSON)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    # Said once to the operators, though the visit was scored twice (as read, then locked).
    said = [r.getMessage() for r in caplog.records if "cannot score" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"scorecard {scorecard.version} cannot score")


# --- files -------------------------------------------------------------------------------------


def test_choices_that_are_not_a_list_are_a_format_error(document, tmp_path):
    document["sections"][0]["questions"][0]["choices"] = 5
    with pytest.raises(ScorecardFormatError, match="Question value_assurance_1: field 'choices'"):
        validate(document)
    path = tmp_path / "five.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CommandError, match="field 'choices' must be a list of five answers"):
        call_command("load_scorecard", str(path), stdout=io.StringIO())


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _paths(item, (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            yield from _paths(item, (*path, index))


WRONG = [5, None, True, [], {}, "x", -1, 1.5, [5], {"a": 1}, "", float("nan"), "a\x00b"]


def test_any_wrong_value_anywhere_is_a_format_error_never_a_traceback(document):
    for path in list(_paths(document))[1:]:
        for wrong in WRONG:
            broken = copy.deepcopy(document)
            target = broken
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = wrong
            try:
                validate(broken)
            except ScorecardFormatError:
                pass
            except Exception as error:
                pytest.fail(f"{path} = {wrong!r}: {type(error).__name__}: {error}")


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x85"])
def test_a_control_character_in_content_is_refused(document, char):
    document["sections"][1]["questions"][0]["text"] = f"Who{char}?"
    reason = f"field 'text' must not contain control characters (U+{ord(char):04X})."
    with pytest.raises(ScorecardFormatError, match=re.escape(reason)):
        load_scorecard(document)
    assert not Scorecard.objects.exists()


def test_line_breaks_and_tabs_in_content_are_kept(document):
    document["sections"][1]["questions"][0]["text"] = "Who\tdecides,\r\nand how?"
    load_scorecard(document)
    assert Question.objects.filter(text="Who\tdecides,\r\nand how?").count() == 1


def test_any_number_of_questions_a_section_works(document):
    sections = document["sections"]
    extra = copy.deepcopy(sections[0]["questions"][0])
    sections[0]["questions"] += [
        {**copy.deepcopy(extra), "id": f"value_assurance_{n}"} for n in (5, 6)
    ]
    sections[3]["questions"] = sections[3]["questions"][:1]
    scorecard = load_scorecard(document)
    visitor = Client()
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    for section in scorecard.sections.order_by("step"):
        body = {"step": section.step, "responses": {q.qid: "E" for q in section.questions.all()}}
        saved = visitor.post("/api/assessment/save-progress", body, content_type=JSON).json()
        assert saved["canProceed"], section.key
    submitted = visitor.post("/api/assessment/submit", {"completionTime": 9}, content_type=JSON)
    assert submitted.json()["totalScore"] == 100
    results = visitor.get(f"/api/assessment/results/{submitted.json()['assessmentId']}").json()
    assert len(results["scoreBreakdown"]["valueAssurance"]["questions"]) == 6
    assert len(results["scoreBreakdown"]["governance"]["questions"]) == 1
    assert Choice.objects.filter(question__section__scorecard=scorecard).count() == 5 * 15
