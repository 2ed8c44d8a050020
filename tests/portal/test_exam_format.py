"""The exam file format declared once: what it refuses, in which words, and that the importer,
the admin and the authoring services (the console's) refuse the same input with the same
message."""

import io
import json
import math

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pydantic import ValidationError

from portal.exams import authoring, transfer
from portal.exams.models import Exam, Question
from portal.exams.schema import ExamFile, ExamIn, ExamSettingsIn, QuestionIn, problems
from tests.factories import drawn_ids, make_exam

QUESTION = {
    "description": "Which is a prime?",
    "type": True,
    "c1": "4",
    "c2": "6",
    "c3": "7",
    "c4": "9",
    "correct": 3,
    "weight": 1.0,
    "can_shuffle": False,
}
SETTINGS = {
    "title": "Numbers",
    "type": 1,
    "language": "en",
    "accept_score": 60,
    "number_of_question": 5,
    "duration": 30,
    "can_back": True,
    "is_active": True,
}


def document(**exam) -> dict:
    questions = [{**QUESTION, "description": f"Question {n}?"} for n in range(1, 6)]
    return {"format": "portal-exam/1", "exam": {**SETTINGS, "questions": questions, **exam}}


def refusal(model, data) -> list[str]:
    with pytest.raises(ValidationError) as error:
        model.model_validate(data)
    return [str(problem) for problem in problems(error.value)]


# --- the declaration --------------------------------------------------------------------------


def test_a_valid_file_reads_with_its_defaults():
    data = document()
    del data["exam"]["questions"][0]["weight"], data["exam"]["accept_score"]

    exam = ExamFile.model_validate(data).exam

    assert exam.accept_score == 60
    assert exam.questions[0].weight == 1.0
    assert exam.questions[1].correct == 3


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda d: d["exam"]["questions"][2].update(hint="Think"),
            "exam.questions[2].hint (question 3): Unknown field: the exam format has no field "
            "of this name.",
            id="unknown field",
        ),
        pytest.param(
            lambda d: d["exam"]["questions"][0].update(correct=True),
            "exam.questions[0].correct (question 1): Must be a whole number from 1 to 4. Got: true",
            id="bool as number",
        ),
        pytest.param(
            lambda d: d["exam"].update(can_back=1),
            "exam.can_back: Must be true or false. Got: 1",
            id="number as bool",
        ),
        pytest.param(
            lambda d: d["exam"].update(type=32768),
            "exam.type: Must be a whole number from 0 to 32767. Got: 32768",
            id="exam type",
        ),
        pytest.param(
            lambda d: d["exam"]["questions"][0].update(type=2),
            "exam.questions[0].type (question 1): Must be true or false. Got: 2",
            id="question type",
        ),
        pytest.param(
            lambda d: d["exam"].update(duration=20.0),
            "exam.duration: Must be a whole number from 1 to 10080. Got: 20.0",
            id="whole number with a fraction",
        ),
        pytest.param(
            lambda d: d["exam"].update(number_of_question=6),
            "exam.number_of_question: Each quiz draws 6 questions, but the bank has only 5 "
            "questions: add questions or draw fewer.",
            id="bank too small",
        ),
        pytest.param(
            lambda d: d["exam"]["questions"][4].update(correct=5),
            "exam.questions[4].correct (question 5): Must be a whole number from 1 to 4. Got: 5",
            id="correct 5",
        ),
        pytest.param(
            lambda d: d["exam"]["questions"][1].update(weight=-1),
            "exam.questions[1].weight (question 2): Must be a number from 0 to 1000. Got: -1",
            id="weight -1",
        ),
        pytest.param(
            lambda d: d["exam"]["questions"][1].update(weight=math.nan),
            "exam.questions[1].weight (question 2): Must be a number from 0 to 1000. Got: NaN",
            id="weight NaN",
        ),
        pytest.param(
            lambda d: d["exam"]["questions"][1].update(weight=math.inf),
            "exam.questions[1].weight (question 2): Must be a number from 0 to 1000. Got: Infinity",
            id="weight infinite",
        ),
        pytest.param(
            lambda d: d.update(format="portal-exam/2"),
            'format: Must be "portal-exam/1": this is not a portal exam file, or a version '
            'this portal cannot read. Got: "portal-exam/2"',
            id="wrong format tag",
        ),
        pytest.param(
            lambda d: d["exam"].update(language="de"),
            'exam.language: Must be one of en, fa. Got: "de"',
            id="language unknown",
        ),
        pytest.param(
            lambda d: d["exam"].update(title=" "),
            'exam.title: Must not be blank, and at most 300 characters long. Got: " "',
            id="blank title",
        ),
        pytest.param(
            lambda d: d["exam"]["questions"][3].pop("c4"),
            "exam.questions[3].c4 (question 4): This field is required.",
            id="missing choice",
        ),
    ],
)
def test_the_format_refuses_with_a_message_that_says_where(change, expected):
    data = document()
    change(data)

    assert refusal(ExamFile, data) == [expected]


def test_every_problem_is_reported_at_once():
    data = document()
    data["exam"]["questions"][0]["correct"] = 0
    data["exam"]["questions"][3]["c2"] = ""
    data["exam"]["duration"] = 0

    assert refusal(ExamFile, data) == [
        "exam.duration: Must be a whole number from 1 to 10080. Got: 0",
        "exam.questions[0].correct (question 1): Must be a whole number from 1 to 4. Got: 0",
        'exam.questions[3].c2 (question 4): Must be text, not blank. Got: ""',
    ]


def test_the_settings_model_has_no_questions_and_the_question_model_no_exam():
    assert refusal(ExamSettingsIn, {**SETTINGS, "questions": []}) == [
        "questions: Unknown field: the exam format has no field of this name."
    ]
    assert "questions" in ExamIn.model_fields
    assert QuestionIn.model_validate(QUESTION).correct == 3


def test_the_language_follows_the_setting(settings):
    settings.LANGUAGES = [("en", "English"), ("fa", "Persian"), ("de", "German")]

    assert ExamSettingsIn.model_validate({**SETTINGS, "language": "de"}).language == "de"


# --- one refusal, three doors -----------------------------------------------------------------
#
# Each bad input as a JSON file would have it and as a form would send it; the importer, the
# admin's change form and the authoring services must refuse it with the same message.

BAD_INPUTS = {
    # name: (where, field, JSON value, form value, message)
    "correct 5": ("question", "correct", 5, "5", "Must be a whole number from 1 to 4."),
    "correct 0": ("question", "correct", 0, "0", "Must be a whole number from 1 to 4."),
    "correct not a number": (
        "question",
        "correct",
        "two",
        "two",
        "Must be a whole number from 1 to 4.",
    ),
    "weight -1": ("question", "weight", -1, "-1", "Must be a number from 0 to 1000."),
    "weight NaN": ("question", "weight", math.nan, "nan", "Must be a number from 0 to 1000."),
    # Three of 1e308 summed to infinity: a NaN percentage, invalid JSON, a 500 on item analysis.
    "weight 1e308": ("question", "weight", 1e308, "1e308", "Must be a number from 0 to 1000."),
    "weight 1000.5": ("question", "weight", 1000.5, "1000.5", "Must be a number from 0 to 1000."),
    "blank choice": ("question", "c2", "   ", "   ", "Must be text, not blank."),
    "empty description": ("question", "description", "", "", "Must be text, not blank."),
    # Nothing a reader would see: a zero-width space, a byte-order mark and a soft hyphen.
    "invisible description": (
        "question",
        "description",
        "\u200b\ufeff\u00ad",
        "\u200b\ufeff\u00ad",
        "Must be text, not blank.",
    ),
    "language": ("exam", "language", "de", "de", "Must be one of en, fa."),
    "accept_score": ("exam", "accept_score", 101, "101", "Must be a number from 0 to 100."),
    "duration": ("exam", "duration", 0, "0", "Must be a whole number from 1 to 10080."),
    # INT_MAX minutes put the deadline past the year 9999: the launch was a 500.
    "duration over a week": (
        "exam",
        "duration",
        10081,
        "10081",
        "Must be a whole number from 1 to 10080.",
    ),
    "duration INT_MAX": (
        "exam",
        "duration",
        2147483647,
        "2147483647",
        "Must be a whole number from 1 to 10080.",
    ),
    "number_of_question 0": (
        "exam",
        "number_of_question",
        0,
        "0",
        "Must be a whole number of at least 1.",
    ),
    "bank too small": (
        "exam",
        "number_of_question",
        6,
        "6",
        "Each quiz draws 6 questions, but the bank has only 5 questions: add questions or "
        "draw fewer.",
    ),
    # An exam's type is a number, a question's true or false: the exam's rule, not the question's.
    "exam type 32768": (
        "exam",
        "type",
        32768,
        "32768",
        "Must be a whole number from 0 to 32767.",
    ),
    "exam type -1": ("exam", "type", -1, "-1", "Must be a whole number from 0 to 32767."),
    "exam type null": ("exam", "type", None, "", "Must be a whole number from 0 to 32767."),
    "long title": (
        "exam",
        "title",
        "x" * 301,
        "x" * 301,
        "Must not be blank, and at most 300 characters long.",
    ),
}
CASES = pytest.mark.parametrize(
    ("where", "field", "json_value", "form_value", "message"),
    BAD_INPUTS.values(),
    ids=BAD_INPUTS.keys(),
)


@pytest.fixture
def bank(customer) -> Exam:
    exam = make_exam(customer, questions=5)
    exam.title, exam.accept_score = SETTINGS["title"], SETTINGS["accept_score"]
    exam.save()
    return exam


def snapshot(exam: Exam) -> dict:
    return transfer.export_exam(Exam.objects.get(pk=exam.pk))


@pytest.mark.django_db
@CASES
def test_the_importer_refuses(customer, tmp_path, where, field, json_value, form_value, message):
    data = document()
    if where == "exam":
        data["exam"][field] = json_value
        place = f"exam.{field}"
    else:
        data["exam"]["questions"][1][field] = json_value
        place = f"exam.questions[1].{field} (question 2)"
    path = tmp_path / "exam.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(CommandError) as error:
        call_command("import_exam", str(path), customer=customer.name, stdout=io.StringIO())

    assert f"{place}: {message}" in str(error.value)
    assert not Exam.objects.exists()


@pytest.mark.django_db
@CASES
def test_the_services_refuse(bank, author, where, field, json_value, form_value, message):
    before = snapshot(bank)
    if where == "exam":
        with pytest.raises(authoring.AuthoringError) as error:
            authoring.exam_update_settings(
                exam=bank, data={**SETTINGS, field: json_value}, actor=author
            )
    else:
        question = bank.questions.all()[1]
        with pytest.raises(authoring.AuthoringError) as error:
            authoring.question_update(
                question=question, data={**QUESTION, field: json_value}, actor=author
            )
        with pytest.raises(authoring.AuthoringError) as added:
            authoring.question_add(exam=bank, data={**QUESTION, field: json_value}, actor=author)
        assert added.value.messages == {field: [message]}

    assert error.value.messages == {field: [message]}
    assert snapshot(bank) == before


@pytest.mark.django_db
@CASES
def test_the_console_form_values_are_refused_alike(
    bank, author, where, field, json_value, form_value, message
):
    """What a form posts (text) goes through the same declaration via schema.check_form."""
    from django import forms

    from portal.exams import schema

    class Form(forms.ModelForm):
        class Meta:
            model = Exam if where == "exam" else Question
            fields = list(SETTINGS if where == "exam" else QUESTION)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            schema.loosen(self, ExamSettingsIn if where == "exam" else QuestionIn)

        def clean(self):
            cleaned = super().clean()
            self.declared = schema.check_form(
                self, ExamSettingsIn if where == "exam" else QuestionIn
            )
            return cleaned

    values = {**(SETTINGS if where == "exam" else QUESTION), field: form_value}
    post = {k: ("on" if v is True else str(v)) for k, v in values.items() if v is not False}
    form = Form(data=post)

    if field == "number_of_question" and form_value == "6":
        # The form alone can't know the bank; the service says it, on the same field.
        assert form.is_valid(), form.errors
        with pytest.raises(authoring.AuthoringError) as error:
            authoring.exam_update_settings(exam=bank, data=form.declared, actor=author)
        assert error.value.messages == {field: [message]}
    else:
        assert not form.is_valid()
        assert form.errors == {field: [message]}


# --- the admin --------------------------------------------------------------------------------


def change_form_data(response) -> dict[str, str]:
    """The change form's current values, as the browser would post them back."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    for form in forms:
        for bound in form:
            value = bound.value()
            if isinstance(value, bool) or bound.widget_type == "checkbox":
                if value:
                    data[bound.html_name] = "on"
            elif value is not None:
                data[bound.html_name] = str(value)
    return data


@pytest.mark.django_db
def test_a_control_character_is_refused_by_the_importer_and_the_admin(
    customer, bank, superuser_client, admin_page, tmp_path
):
    """An exam text holds tabs and line breaks but no other control character: the format
    refuses it (the importer, the services), and a form post holding one is refused before any
    form (portal.middleware), as every page's."""
    data = document()
    data["exam"]["questions"][1]["description"] = "What\x1b?"
    path = tmp_path / "exam.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("import_exam", str(path), customer=customer.name, stdout=io.StringIO())
    place = "exam.questions[1].description (question 2)"
    assert f"{place}: Must not contain control characters (U+001B)." in str(error.value)

    url, form = admin_page
    before = snapshot(bank)
    response = superuser_client.post(url, form | {"questions-1-description": "What\x1b?"})
    assert response.status_code == 400
    assert "must not contain control characters (U+001B)" in response.text
    assert snapshot(bank) == before

    data["exam"]["questions"][1]["description"] = "What,\r\n\tthen?"
    path.write_text(json.dumps(data), encoding="utf-8")
    call_command("import_exam", str(path), customer=customer.name, stdout=io.StringIO())
    assert Exam.objects.filter(questions__description="What,\r\n\tthen?").exists()


@pytest.fixture
def admin_page(superuser_client, bank):
    url = f"/admin/exams/exam/{bank.pk}/change/"
    response = superuser_client.get(url)
    assert response.status_code == 200
    return url, change_form_data(response)


@pytest.mark.django_db
def test_the_admin_saves_an_unchanged_exam(superuser_client, bank, admin_page):
    url, data = admin_page
    data["title"] = "Numbers, 2nd edition"

    response = superuser_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert Exam.objects.get(pk=bank.pk).title == "Numbers, 2nd edition"


@pytest.mark.django_db
@CASES
def test_the_admin_refuses(
    superuser_client, bank, admin_page, where, field, json_value, form_value, message
):
    url, data = admin_page
    before = snapshot(bank)
    data[field if where == "exam" else f"questions-1-{field}"] = form_value

    response = superuser_client.post(url, data)

    assert response.status_code == 200, "refused: the form is shown again"
    exam_form = response.context["adminform"].form
    bank_formset = response.context["inline_admin_formsets"][0].formset
    if where == "exam":
        assert exam_form.errors[field] == [message]
    else:
        assert bank_formset.forms[1].errors[field] == [message]
    if field == "number_of_question" and form_value == "6":
        assert bank_formset.non_form_errors() == [message]
    assert message in response.text.replace("&#x27;", "'")
    assert snapshot(bank) == before


@pytest.mark.django_db
def test_the_admin_refuses_to_remove_a_question_below_the_draw(superuser_client, bank, admin_page):
    url, data = admin_page
    data["questions-0-DELETE"] = "on"

    response = superuser_client.post(url, data)

    message = (
        "Each quiz draws 5 questions, but the bank has only 4 questions: add questions or "
        "draw fewer."
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["number_of_question"] == [message]
    assert bank.questions.count() == 5


@pytest.mark.django_db
def test_the_admin_removes_and_adds_through_the_versions(
    superuser_client, superuser, bank, admin_page, client, token
):
    from portal.audit.models import AuditEntry
    from portal.customers.models import ClientToken
    from portal.exams.services import launch_quiz

    launch_quiz(
        token=ClientToken.authenticate(token),
        student_uuid="s1",
        mobile="",
        eurl=bank.pk,
        callback_url="https://client.example.com/cb",
    )
    drawn = Question.objects.get(pk=drawn_ids()[0])
    rows = admin_page[1]
    index = next(
        int(key.split("-")[1])
        for key, value in rows.items()
        if key.endswith("-id") and value == str(drawn.pk)
    )
    url, data = admin_page
    data[f"questions-{index}-description"] = "Reworded?"
    data["questions-TOTAL_FORMS"] = "6"
    for name, value in {**QUESTION, "description": "An extra one?"}.items():
        if name in ("type",):
            continue
        key = f"questions-5-{name}"
        if value is True:
            data[key] = "on"
        elif value is not False:
            data[key] = str(value)
    data["questions-5-exam"] = str(bank.pk)
    data["questions-5-position"] = "0"  # the default: appended at the end

    response = superuser_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    drawn.refresh_from_db()
    assert drawn.description != "Reworded?" and drawn.retired_at is not None
    assert drawn.replaced_by.description == "Reworded?"
    live = [q["description"] for q in snapshot(bank)["exam"]["questions"]]
    assert "Reworded?" in live and live[-1] == "An extra one?" and len(live) == 6
    actions = set(AuditEntry.objects.filter(actor=superuser).values_list("action", flat=True))
    assert actions == {"exam.question_update", "exam.question_add"}, "settings unchanged"


def add_form_data(customer, questions: int, **exam) -> dict[str, str]:
    data = {
        "customer": str(customer.pk),
        **{k: str(v) for k, v in SETTINGS.items() if not isinstance(v, bool)},
        "can_back": "on",
        "is_active": "on",
        "questions-TOTAL_FORMS": str(questions),
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        **{k: str(v) for k, v in exam.items()},
    }
    for n in range(questions):
        for name in ("description", "c1", "c2", "c3", "c4", "correct", "weight"):
            data[f"questions-{n}-{name}"] = str(QUESTION[name])
        data[f"questions-{n}-position"] = str(n + 1)
    return data


@pytest.mark.django_db
def test_the_admin_adds_an_exam_only_with_a_big_enough_bank(superuser_client, customer):
    from portal.audit.models import AuditEntry

    refused = superuser_client.post(
        "/admin/exams/exam/add/", add_form_data(customer, 1, number_of_question=2)
    )

    message = (
        "Each quiz draws 2 questions, but the bank has only 1 question: add questions or "
        "draw fewer."
    )
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["number_of_question"] == [message]
    assert not Exam.objects.exists()

    added = superuser_client.post(
        "/admin/exams/exam/add/", add_form_data(customer, 2, number_of_question=2)
    )

    assert added.status_code == 302, added.context and added.context["errors"]
    exam = Exam.objects.get()
    assert exam.questions.count() == 2
    assert sorted(AuditEntry.objects.values_list("action", flat=True)) == [
        "exam.create",
        "exam.question_add",
        "exam.question_add",
    ]


@pytest.mark.django_db
def test_the_admin_shows_the_live_bank_only(superuser_client, bank, author):
    from django.utils import timezone

    from portal.exams.models import Quiz, QuizQuestion, Student

    question = bank.questions.all()[0]
    student = Student.objects.create(customer=bank.customer, uuid="s")
    now = timezone.now()
    quiz = Quiz.objects.create(
        student=student, exam=bank, shuffle_seed=1, start_at=now, deadline_at=now
    )
    QuizQuestion.objects.create(quiz=quiz, question=question, position=1)
    authoring.question_update(
        question=question, data={**QUESTION, "description": "Newer?"}, actor=author
    )

    page = superuser_client.get(f"/admin/exams/exam/{bank.pk}/change/")

    formset = page.context["inline_admin_formsets"][0].formset
    assert [form.instance.description for form in formset.forms][0] == "Newer?"
    assert len(formset.forms) == 5
