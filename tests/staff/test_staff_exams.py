"""The console's exams: the list per customer, the editor of an exam and its question bank,
new exams, exam files in and out, and the preview of the candidate's page."""

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from portal.audit.models import AuditEntry
from portal.customers.models import Customer
from portal.exams import authoring, transfer
from portal.exams.models import Exam, Launch, Question, Quiz, QuizQuestion, Student
from portal.exams.schema import bank_too_small_message, rule
from tests.factories import make_exam, queries_of, written_items

HTMX = {"HX-Request": "true"}


def html_of(response) -> str:
    return response.content.decode()


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def question_post(prefix: str = "", **values) -> dict:
    """A question form as the browser posts it (prefix "new-" for the editor's add form)."""
    data = {
        "description": "What is 2 + 2?",
        "c1": "3",
        "c2": "4",
        "c3": "5",
        "c4": "22",
        "correct": "2",
        "weight": "1.5",
        "can_shuffle": "on",
    } | values
    return {f"{prefix}{name}": value for name, value in data.items() if value is not None}


def settings_post(exam: Exam, **values) -> dict:
    data = {
        "title": exam.title,
        "language": exam.language,
        "number_of_question": str(exam.number_of_question),
        "duration": str(exam.duration),
        "accept_score": str(exam.accept_score),
        "type": str(exam.type),
    }
    if exam.can_back:
        data["can_back"] = "on"
    return data | values


def live(exam: Exam) -> list[Question]:
    return list(Question.objects.live().filter(exam=exam).order_by("position", "id"))


def draw(exam: Exam, student_uuid: str = "stu-1") -> Quiz:
    """A quiz that drew every live question of the exam (as a launch would)."""
    student, _ = Student.objects.get_or_create(customer=exam.customer, uuid=student_uuid)
    now = timezone.now()
    quiz = Quiz.objects.create(
        student=student,
        exam=exam,
        shuffle_seed=1,
        start_at=now,
        deadline_at=now + timedelta(minutes=exam.duration),
        total_questions=exam.number_of_question,
    )
    for position, question in enumerate(live(exam), start=1):
        QuizQuestion.objects.create(quiz=quiz, question=question, position=position)
    return quiz


def importer_refusal(exam_values: dict | None = None, **question_values) -> list[str]:
    """What the importer says of a file whose first question has `question_values`."""
    questions = [
        {"description": f"Q{n}?", "c1": "a", "c2": "b", "c3": "c", "c4": "d", "correct": 1}
        for n in range(3)
    ]
    questions[0].update(question_values)
    settings = {"title": "T", "language": "en", "number_of_question": 3, "duration": 10}
    document = {"format": "portal-exam/1", "exam": settings | (exam_values or {})}
    document["exam"]["questions"] = questions
    customer = Customer.objects.first()
    with pytest.raises(authoring.AuthoringError) as error:
        authoring.exam_import(customer=customer, document=document, actor=None)
    return [problem.message for problem in error.value.problems]


# --- the list --------------------------------------------------------------------------------


@pytest.fixture
def catalogue(customer, other_customer):
    english = make_exam(customer, questions=5, title="Algebra basics")
    persian = make_exam(customer, questions=4, title="ریاضی پایه", language="fa")
    make_exam(other_customer, questions=3, title="Geometry", is_active=False)
    Question.objects.filter(exam=persian).first().delete()  # a bank smaller than its draws
    draw(english)
    draw(english, "stu-2")
    return english, persian


def test_list_shows_bank_draws_attempts_per_exam(viewer_client, catalogue):
    english, persian = catalogue
    html = html_of(viewer_client.get("/staff/exams/"))
    row = re.search(r"<tr>\s*<td><a[^>]*>Algebra basics</a>.*?</tr>", html, re.S).group(0)
    numbers = re.findall(r'<td class="num">(?:<span[^>]*>)?([\d.]+)', row)
    assert numbers == ["5", "5", "30", "60", "2"]  # bank, draws, minutes, pass mark, attempts
    assert "Acme Academy" in row and "active" in row
    short = re.search(r"<tr>\s*<td><a[^>]*>ریاضی پایه</a>.*?</tr>", html, re.S).group(0)
    assert 'class="badge bad"' in short  # 3 in the bank, 4 drawn


def test_list_filters_by_customer_language_active_and_searches(viewer_client, catalogue):
    english, persian = catalogue
    customer = english.customer
    html = html_of(viewer_client.get(f"/staff/exams/?customer={customer.pk}"))
    assert "Algebra basics" in html and "ریاضی پایه" in html and "Geometry" not in html
    html = html_of(viewer_client.get("/staff/exams/?language=fa"))
    assert "ریاضی پایه" in html and "Algebra basics" not in html
    html = html_of(viewer_client.get("/staff/exams/?active=no"))
    assert "Geometry" in html and "Algebra basics" not in html
    html = html_of(viewer_client.get("/staff/exams/?q=other+inst"))
    assert "Geometry" in html and "Algebra basics" not in html
    html = html_of(viewer_client.get("/staff/exams/?sort=-attempts"))
    assert html.index("Algebra basics") < html.index("Geometry")
    partial = html_of(viewer_client.get("/staff/exams/?q=geo", headers=HTMX))
    assert partial.lstrip().startswith('<section id="results"') and "Geometry" in partial


def test_list_exports_the_filtered_rows(viewer_client, catalogue):
    english, _ = catalogue
    rows = csv_rows(viewer_client.get(f"/staff/exams/?customer={english.customer_id}&export=csv"))
    assert rows[0][:5] == ["eurl", "Customer", "Title", "Language", "Questions in the bank"]
    by_title = {row[2]: row for row in rows[1:]}
    assert set(by_title) == {"Algebra basics", "ریاضی پایه"}
    assert by_title["Algebra basics"][0] == str(english.pk)
    assert by_title["Algebra basics"][4:6] == ["5", "5"]
    assert by_title["Algebra basics"][10] == "2"  # attempts
    response = viewer_client.get("/staff/exams/?active=no&export=xlsx")
    values = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert [row[2] for row in values[1:]] == ["Geometry"]


def test_list_queries_do_not_grow_with_rows(viewer_client, customer):
    def count_for(rows: int) -> int:
        Exam.objects.all().delete()
        for n in range(rows):
            make_exam(customer, questions=2, title=f"Exam {n:03}")
        return queries_of(viewer_client, "/staff/exams/?sort=title")

    assert count_for(10) == count_for(200)


def test_editor_queries_do_not_grow_with_the_bank(author_client, customer):
    def count_for(questions: int) -> int:
        exam = make_exam(customer, questions=questions, title=f"Bank of {questions}")
        draw(exam, f"stu-{questions}")
        return queries_of(author_client, f"/staff/exams/{exam.pk}/")

    assert count_for(10) == count_for(100)


def test_the_editor_in_persian(author_client, exam):
    author_client.post("/staff/language/", {"language": "fa", "next": "/staff/"})
    html = html_of(author_client.get(f"/staff/exams/{exam.pk}/"))
    assert 'dir="rtl"' in html and 'lang="fa"' in html
    assert "۱۴۰" in html  # the updated date, Solar Hijri in Persian digits
    assert "Question 5?" in html


# --- who may do what --------------------------------------------------------------------------


def test_viewer_and_operator_read_the_editor_without_its_forms(
    viewer_client, operator_client, exam
):
    for client in (viewer_client, operator_client):
        html = html_of(client.get(f"/staff/exams/{exam.pk}/"))
        assert "Question 5?" in html and "q1 choice one" in html
        assert "Add a question" not in html and "Save settings" not in html
        assert "/move/" not in html and "Deactivate" not in html
        assert "Preview as a student" in html and "Download exam file" in html
        assert (
            f"/staff/exams/{exam.pk}/results/" in html and f"/staff/exams/{exam.pk}/items/" in html
        )


def test_viewer_and_operator_cannot_change_anything(viewer_client, operator_client, exam):
    question = exam.questions.first()
    base = f"/staff/exams/{exam.pk}"
    changes = [
        ("/staff/exams/new/", {}),
        ("/staff/exams/import/", {}),
        (f"{base}/settings/", settings_post(exam, title="Hijacked")),
        (f"{base}/active/", {"is_active": "false"}),
        (f"{base}/import/", {}),
        (f"{base}/questions/", question_post("new-")),
        (f"{base}/questions/{question.pk}/", question_post(description="Hijacked")),
        (f"{base}/questions/{question.pk}/remove/", {}),
        (f"{base}/questions/{question.pk}/move/", {"direction": "down"}),
    ]
    for client in (viewer_client, operator_client):
        for url, data in changes:
            assert client.post(url, data).status_code == 403, url
    exam.refresh_from_db()
    assert exam.title == "Sample exam" and exam.is_active
    assert not AuditEntry.objects.exists()
    assert len(live(exam)) == 5


# --- settings and activation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "posted"),
    [
        ("title", "  ", "  "),
        ("duration", 0, "0"),
        ("number_of_question", 0, "0"),
        ("accept_score", -5, "-5"),
        ("type", -1, "-1"),
        ("duration", "soon", "soon"),
    ],
)
def test_bad_settings_are_refused_in_the_importers_words(author_client, exam, field, value, posted):
    response = author_client.post(
        f"/staff/exams/{exam.pk}/settings/", settings_post(exam, **{field: posted})
    )
    assert response.status_code == 400
    [message] = importer_refusal({field: value})
    field_html = re.search(rf'name="{field}".*?</label>', html_of(response), re.S).group(0)
    assert message in field_html
    assert not AuditEntry.objects.exists()


def test_author_saves_settings_and_it_is_audited(author_client, author, exam):
    Exam.objects.filter(pk=exam.pk).update(is_active=False)
    data = settings_post(exam, title="Sample exam, 2nd ed.", accept_score="75", duration="45")
    response = author_client.post(f"/staff/exams/{exam.pk}/settings/", data)
    assert response.status_code == 302 and response["Location"] == f"/staff/exams/{exam.pk}/"
    exam.refresh_from_db()
    assert (exam.title, exam.accept_score, exam.duration) == ("Sample exam, 2nd ed.", 75, 45)
    assert not exam.is_active  # not a field of the form: kept as it was
    entry = AuditEntry.objects.get(action="exam.update")
    assert entry.actor == author and entry.target_id == str(exam.pk)
    assert entry.changes["accept_score"] == [60.0, 75.0]
    assert "Settings saved." in html_of(author_client.get(response["Location"]))


def test_settings_refused_in_the_declarations_words(author_client, exam):
    data = settings_post(exam, accept_score="150", number_of_question="9")
    response = author_client.post(f"/staff/exams/{exam.pk}/settings/", data)
    assert response.status_code == 400
    html = html_of(response)
    assert rule("accept_score") in html  # "Must be a number from 0 to 100."
    assert rule("accept_score") in importer_refusal({"accept_score": 150})
    exam.refresh_from_db()
    assert exam.accept_score == 60 and not AuditEntry.objects.exists()

    # The bank has 5: drawing 9 is refused on the field, as the importer refuses such a file.
    response = author_client.post(
        f"/staff/exams/{exam.pk}/settings/", settings_post(exam, number_of_question="9")
    )
    html = html_of(response)
    assert bank_too_small_message(9, 5) in html
    assert bank_too_small_message(9, 3) in importer_refusal({"number_of_question": 9})


def test_settings_with_htmx_swap_the_form_and_the_summary(author_client, exam):
    response = author_client.post(
        f"/staff/exams/{exam.pk}/settings/", settings_post(exam, duration="50"), headers=HTMX
    )
    html = html_of(response)
    assert html.lstrip().startswith('<section id="settings"')
    assert 'id="summary" class="record" hx-swap-oob="true"' in html and "50 minutes" in html
    assert 'id="messages"' in html and "Settings saved." in html


def test_author_deactivates_and_activates(author_client, author, exam):
    url = f"/staff/exams/{exam.pk}/active/"
    assert author_client.post(url, {"is_active": "false"}).status_code == 302
    exam.refresh_from_db()
    assert not exam.is_active
    response = author_client.post(url, {"is_active": "true"}, headers=HTMX)
    assert 'id="summary"' in html_of(response) and "Deactivate" in html_of(response)
    exam.refresh_from_db()
    assert exam.is_active
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["exam.deactivate", "exam.activate"]


def test_an_exam_with_too_small_a_bank_cannot_be_activated(author_client, customer):
    exam = make_exam(customer, questions=2, number_of_question=4, is_active=False)
    response = author_client.post(
        f"/staff/exams/{exam.pk}/active/", {"is_active": "true"}, follow=True
    )
    assert bank_too_small_message(4, 2) in html_of(response)
    exam.refresh_from_db()
    assert not exam.is_active


# --- the question bank ------------------------------------------------------------------------


def test_author_adds_a_question_and_it_is_audited(author_client, author, exam):
    response = author_client.post(f"/staff/exams/{exam.pk}/questions/", question_post("new-"))
    added = live(exam)[-1]
    assert response["Location"] == f"/staff/exams/{exam.pk}/#question-{added.pk}"
    assert (added.description, added.c2, added.correct, added.weight) == (
        "What is 2 + 2?",
        "4",
        2,
        1.5,
    )
    assert added.can_shuffle and added.type
    entry = AuditEntry.objects.get(action="exam.question_add")
    assert entry.actor == author and entry.target_id == str(exam.pk)
    html = html_of(author_client.get(response["Location"]))
    assert "Question 6 added." in html and "What is 2 + 2?" in html


def test_adding_with_htmx_re_renders_the_bank(author_client, exam):
    response = author_client.post(
        f"/staff/exams/{exam.pk}/questions/", question_post("new-"), headers=HTMX
    )
    html = html_of(response)
    assert html.lstrip().startswith('<section id="bank"')
    assert html.count('class="question-card"') == 6 and "What is 2 + 2?" in html
    assert 'id="summary" class="record" hx-swap-oob="true"' in html


@pytest.mark.parametrize(
    ("field", "value", "posted"),
    [
        ("correct", 7, "7"),
        ("weight", -1, "-1"),
        ("c1", "   ", "   "),
        ("description", "", ""),
    ],
)
def test_a_bad_question_is_refused_in_the_importers_words(
    author_client, exam, field, value, posted
):
    response = author_client.post(
        f"/staff/exams/{exam.pk}/questions/", question_post("new-", **{field: posted})
    )
    assert response.status_code == 400
    [message] = importer_refusal(**{field: value})
    html = html_of(response)
    assert message == rule(field)
    # On its field: the message follows the field's input.
    field_html = re.search(rf'name="new-{field}".*?</label>', html, re.S).group(0)
    assert message in field_html or (field == "correct" and message in html)
    assert len(live(exam)) == 5 and not AuditEntry.objects.exists()


def test_a_question_without_a_correct_choice_is_refused(author_client, exam):
    response = author_client.post(
        f"/staff/exams/{exam.pk}/questions/", question_post("new-", correct=None)
    )
    assert response.status_code == 400
    assert rule("correct") in html_of(response)


def test_editing_an_undrawn_question_changes_it_in_place(author_client, exam):
    question = live(exam)[0]
    page = html_of(author_client.get(f"/staff/exams/{exam.pk}/questions/{question.pk}/"))
    assert "Question 1 of Sample exam" in page and "Used by" not in page
    response = author_client.post(
        f"/staff/exams/{exam.pk}/questions/{question.pk}/",
        question_post(description="Reworded?", correct="4"),
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert (question.description, question.correct, question.retired_at) == ("Reworded?", 4, None)
    assert AuditEntry.objects.get(action="exam.question_update").changes["correct"] == [1, 4]


def test_editing_a_drawn_question_makes_a_new_version(author_client, exam):
    quiz = draw(exam)
    draw(exam, "stu-2")
    question = live(exam)[2]
    page = html_of(author_client.get(f"/staff/exams/{exam.pk}/questions/{question.pk}/"))
    assert "Used by 2 attempts: saving makes a new version; those attempts keep what they saw." in (
        page
    )
    editor = html_of(author_client.get(f"/staff/exams/{exam.pk}/"))
    assert "used by 2 attempts" in editor

    response = author_client.post(
        f"/staff/exams/{exam.pk}/questions/{question.pk}/",
        question_post(description="Question 3, fixed?"),
        follow=True,
    )
    assert "saved as a new version" in html_of(response)
    question.refresh_from_db()
    assert question.retired_at is not None and question.description == "Question 3?"
    new = question.replaced_by
    assert new.description == "Question 3, fixed?" and new.position == question.position
    assert live(exam)[2] == new
    # The attempt still has the question it saw.
    assert written_items(quiz).get(position=3).question.description == "Question 3?"


def test_inline_edit_with_htmx_swaps_the_card_and_back(author_client, exam):
    question = live(exam)[1]
    url = f"/staff/exams/{exam.pk}/questions/{question.pk}/"
    form = html_of(author_client.get(url, headers=HTMX))
    assert form.lstrip().startswith(
        f'<li id="question-{question.pk}" class="question-card editing"'
    )
    assert 'name="correct" value="2"' in form and "checked" in form
    cancelled = html_of(author_client.post(url, {"cancel": "1"}, headers=HTMX))
    assert cancelled.lstrip().startswith(f'<li id="question-{question.pk}" class="question-card"')
    refused = html_of(author_client.post(url, question_post(weight="heavy"), headers=HTMX))
    assert "editing" in refused and rule("weight") in refused
    saved = html_of(author_client.post(url, question_post(description="Inline!"), headers=HTMX))
    assert "Inline!" in saved and "<h3>Question 2</h3>" in saved and "Question 2 saved." in saved
    assert 'id="summary" class="record" hx-swap-oob="true"' in saved


def test_removing_asks_first_then_removes(author_client, customer):
    exam = make_exam(customer, questions=4, number_of_question=3)
    question = live(exam)[0]
    url = f"/staff/exams/{exam.pk}/questions/{question.pk}/remove/"
    page = html_of(author_client.get(url))
    assert "Remove question 1 from Sample exam?" in page and "it is deleted" in page
    assert Question.objects.filter(pk=question.pk).exists()
    response = author_client.post(url, follow=True)
    assert "Question 1 removed." in html_of(response)
    assert not Question.objects.filter(pk=question.pk).exists()
    assert AuditEntry.objects.filter(action="exam.question_remove").count() == 1

    # Now 3 in the bank and 3 drawn: one more would leave too few.
    other = live(exam)[0]
    response = author_client.post(
        f"/staff/exams/{exam.pk}/questions/{other.pk}/remove/", headers=HTMX
    )
    html = html_of(response)
    assert "add a question or draw fewer before removing one" in html
    assert Question.objects.filter(pk=other.pk, retired_at=None).exists()


def test_removing_a_drawn_question_keeps_it_for_its_attempt(author_client, customer):
    exam = make_exam(customer, questions=4, number_of_question=3)
    quiz = draw(exam)
    question = live(exam)[3]
    response = author_client.post(
        f"/staff/exams/{exam.pk}/questions/{question.pk}/remove/", headers=HTMX
    )
    html = html_of(response)
    assert html.lstrip().startswith('<section id="bank"') and html.count("question-card") == 3
    assert "the attempts that drew it keep it" in html
    question.refresh_from_db()
    assert question.retired_at is not None
    assert written_items(quiz).filter(question=question).exists()


def test_moving_questions_up_and_down(author_client, author, exam):
    first, second, third = live(exam)[:3]
    url = f"/staff/exams/{exam.pk}/questions/{second.pk}/move/"
    assert author_client.post(url, {"direction": "up"}).status_code == 302
    assert live(exam)[:3] == [second, first, third]
    html = html_of(author_client.post(url, {"direction": "down"}, headers=HTMX))
    assert live(exam)[:3] == [first, second, third]
    assert html.lstrip().startswith('<section id="bank"')
    assert html.index("Question 1?") < html.index("Question 2?")
    entries = AuditEntry.objects.filter(action="exam.questions_reorder")
    assert entries.count() == 2 and entries.first().actor == author
    # The first can't go further up: nothing changes.
    author_client.post(f"/staff/exams/{exam.pk}/questions/{first.pk}/move/", {"direction": "up"})
    assert live(exam)[:3] == [first, second, third] and entries.count() == 2


def test_a_retired_question_is_no_longer_editable(author_client, exam):
    draw(exam)
    question = live(exam)[0]
    authoring.question_update(question=question, data=question_values(question), actor=None)
    response = author_client.get(f"/staff/exams/{exam.pk}/questions/{question.pk}/")
    assert response.status_code == 404


def question_values(question: Question) -> dict:
    return {
        "description": question.description + " (v2)",
        "c1": question.c1,
        "c2": question.c2,
        "c3": question.c3,
        "c4": question.c4,
        "correct": question.correct,
    }


# --- new exams --------------------------------------------------------------------------------


def new_exam_post(customer, questions: list[dict], **settings) -> dict:
    data = {
        "customer": str(customer.pk),
        "title": "Fractions",
        "language": "fa",
        "number_of_question": "2",
        "duration": "20",
        "accept_score": "50",
        "type": "1",
        "can_back": "on",
        "is_active": "on",
        "questions-TOTAL_FORMS": str(len(questions)),
        "questions-INITIAL_FORMS": "0",
    } | settings
    for n, question in enumerate(questions):
        data |= question_post(f"questions-{n}-", **question)
    return data


def test_author_creates_an_exam_with_its_questions(author_client, author, customer):
    page = html_of(author_client.get(f"/staff/exams/new/?customer={customer.pk}"))
    assert f'<option value="{customer.pk}" selected>' in page
    data = new_exam_post(customer, [{}, {"description": "What is 1/2 + 1/2?", "correct": "1"}])
    response = author_client.post("/staff/exams/new/", data)
    exam = Exam.objects.get(title="Fractions")
    assert response["Location"] == f"/staff/exams/{exam.pk}/"
    assert (exam.customer, exam.language, exam.number_of_question) == (customer, "fa", 2)
    assert [q.description for q in live(exam)] == ["What is 2 + 2?", "What is 1/2 + 1/2?"]
    entry = AuditEntry.objects.get(action="exam.create")
    assert entry.actor == author and entry.target_id == str(exam.pk)


def test_a_new_exam_needs_as_many_questions_as_it_draws(author_client, customer):
    data = new_exam_post(customer, [{}], number_of_question="3")
    response = author_client.post("/staff/exams/new/", data)
    assert response.status_code == 400
    html = html_of(response)
    assert bank_too_small_message(3, 1) in html
    # Slots for the three questions it draws, the first one kept as typed.
    assert 'name="questions-TOTAL_FORMS" value="3"' in html
    assert html.count("What is 2 + 2?") == 1
    assert not Exam.objects.exists()


def test_new_exam_errors_land_on_their_question(author_client, customer):
    data = new_exam_post(customer, [{}, {"correct": "9"}])
    html = html_of(author_client.post("/staff/exams/new/", data))
    second = html[html.index('name="questions-1-description"') :]
    assert rule("correct") in second
    assert rule("correct") not in html[: html.index('name="questions-1-description"')]


def test_another_question_slot_without_javascript(author_client, customer):
    data = new_exam_post(customer, [{}], more="1")
    html = html_of(author_client.post("/staff/exams/new/", data))
    assert 'name="questions-TOTAL_FORMS" value="2"' in html
    assert "What is 2 + 2?" in html and not Exam.objects.exists()


def rendered_fields(html: str, prefix: str) -> dict[str, str]:
    """What a browser posts of a form's `prefix` fields as the page renders them (text inputs,
    textareas and checked boxes/radios)."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or not name.group(1).startswith(prefix):
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) in {"checkbox", "radio"}:
            if " checked" in tag:
                fields[name.group(1)] = value.group(1) if value else "on"
        else:
            fields[name.group(1)] = value.group(1) if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        if name.startswith(prefix):
            fields[name] = text.strip()
    return fields


def test_an_added_question_slot_starts_as_the_first_and_is_left_out_when_blank(
    author_client, customer
):
    """ "Add another question" gives a slot with the first one's defaults (its weight 1): filled
    in without touching the weight it is saved; left as it came it is not saved at all."""
    data = new_exam_post(customer, [{}], more="1")
    html = html_of(author_client.post("/staff/exams/new/", data))
    added = rendered_fields(html, "questions-1-")
    assert added["questions-1-weight"] == "1.0"
    data = new_exam_post(customer, [{}], more="1") | added
    html = html_of(author_client.post("/staff/exams/new/", data | {"questions-TOTAL_FORMS": "2"}))
    blank = rendered_fields(html, "questions-2-")

    second = question_post("questions-1-", description="What is 3 + 3?", correct="2")
    second.pop("questions-1-weight")
    data = new_exam_post(customer, [{}]) | added | second | blank
    response = author_client.post("/staff/exams/new/", data | {"questions-TOTAL_FORMS": "3"})
    assert response.status_code == 302, html_of(response)
    exam = Exam.objects.get(title="Fractions")
    assert [(q.description, q.weight) for q in live(exam)] == [
        ("What is 2 + 2?", 1.5),
        ("What is 3 + 3?", 1.0),
    ]


# --- exam files -------------------------------------------------------------------------------


def upload(document, name: str = "exam.json") -> io.BytesIO:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    handle = io.BytesIO(raw)
    handle.name = name
    return handle


def test_export_downloads_the_exam_file_named_after_the_exam(viewer_client, exam):
    response = viewer_client.get(f"/staff/exams/{exam.pk}/export/")
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="sample-exam-{exam.pk}.json"'
    document = json.loads(response.content)
    assert document == transfer.export_exam(exam)
    assert len(document["exam"]["questions"]) == 5


def test_import_makes_a_new_exam_for_the_chosen_customer(
    author_client, author, exam, other_customer
):
    document = transfer.export_exam(exam)
    document["exam"]["title"] = "Imported"
    response = author_client.post(
        "/staff/exams/import/", {"customer": other_customer.pk, "file": upload(document)}
    )
    imported = Exam.objects.get(title="Imported")
    assert response["Location"] == f"/staff/exams/{imported.pk}/"
    assert imported.customer == other_customer and len(live(imported)) == 5
    assert AuditEntry.objects.get(action="exam.import").actor == author


def test_import_lists_every_problem_in_the_importers_words(author_client, exam):
    document = transfer.export_exam(exam)
    document["exam"]["questions"][1]["correct"] = 5
    document["exam"]["questions"][3]["weight"] = "heavy"
    document["exam"]["colour"] = "blue"
    response = author_client.post(
        "/staff/exams/import/", {"customer": exam.customer_id, "file": upload(document)}
    )
    assert response.status_code == 400
    html = html_of(response)
    assert "The file was not imported: 3 problems." in html
    with pytest.raises(authoring.AuthoringError) as error:
        authoring.exam_import(customer=exam.customer, document=document, actor=None)
    for problem in error.value.problems:
        assert problem.message in html
    assert "exam.questions[1].correct" in html and "exam.colour" in html
    assert Exam.objects.count() == 1


def test_import_says_when_the_file_is_not_json(author_client, exam):
    response = author_client.post(
        "/staff/exams/import/", {"customer": exam.customer_id, "file": upload(b'{"format": ')}
    )
    assert response.status_code == 400
    assert "The file is not valid JSON" in html_of(response) and "line 1" in html_of(response)


@pytest.mark.parametrize(
    "text, reason",
    [
        (b"[" * 100_000 + b"]" * 100_000, "Nested too deeply"),
        (b'{"format": "portal-exam/1", "exam": {"duration": ' + b"9" * 5000 + b"}}", "digits"),
        # json keeps the last of a repeated key silently: the first title was lost unnoticed.
        (
            b'{"format": "portal-exam/1", "exam": {"title": "A", "title": "B"}}',
            "The key &#x27;title&#x27; appears twice in one object",
        ),
    ],
    ids=["deep", "long-number", "repeated-key"],
)
def test_import_says_when_python_cannot_read_the_json(author_client, exam, text, reason):
    response = author_client.post(
        "/staff/exams/import/", {"customer": exam.customer_id, "file": upload(text)}
    )
    assert response.status_code == 400
    assert "The file is not valid JSON" in html_of(response) and reason in html_of(response)


def test_import_of_a_null_document_says_what_the_importer_says(author_client, exam):
    # `null` reads as None, which the form once took for "already reported": a 400, no word.
    response = author_client.post(
        "/staff/exams/import/", {"customer": exam.customer_id, "file": upload(b"null")}
    )
    assert response.status_code == 400
    assert "The document must be a JSON object." in html_of(response)
    assert Exam.objects.count() == 1


def test_import_refuses_a_file_over_the_exam_files_limit(author_client, exam, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    big = b" " * (transfer.MAX_FILE_BYTES + 1)
    response = author_client.post(
        "/staff/exams/import/", {"customer": exam.customer_id, "file": upload(big)}
    )
    assert response.status_code == 400
    assert transfer.file_too_large() in html_of(response)


@pytest.mark.parametrize("value", [32768, -1, None])
def test_import_words_the_exams_type_by_the_exams_rule(author_client, exam, value):
    """An exam's `type` is a number; a question's is true or false: its refusal says the
    exam's rule, as the settings form does."""
    document = transfer.export_exam(exam)
    document["exam"]["type"] = value
    response = author_client.post(
        "/staff/exams/import/", {"customer": exam.customer_id, "file": upload(document)}
    )
    assert response.status_code == 400
    html = html_of(response)
    assert "Must be a whole number from 0 to 32767." in html
    assert "Must be true or false." not in html
    refused = author_client.post(
        f"/staff/exams/{exam.pk}/settings/", settings_post(exam, type="-1")
    )
    assert "Must be a whole number from 0 to 32767." in html_of(refused)


def test_import_over_an_exam_replaces_its_bank_and_keeps_what_attempts_saw(author_client, exam):
    quiz = draw(exam)
    document = transfer.export_exam(exam)
    document["exam"]["questions"][0]["description"] = "Question 1, revised?"
    document["exam"]["questions"].append({**document["exam"]["questions"][1], "c1": "extra"})
    page = html_of(author_client.get(f"/staff/exams/{exam.pk}/import/"))
    assert 'name="customer"' not in page  # the exam's own customer
    response = author_client.post(f"/staff/exams/{exam.pk}/import/", {"file": upload(document)})
    assert response["Location"] == f"/staff/exams/{exam.pk}/"
    descriptions = [q.description for q in live(exam)]
    assert descriptions[0] == "Question 1, revised?" and len(descriptions) == 6
    assert written_items(quiz).get(position=1).question.description == "Question 1?"


# --- preview ----------------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    models = (Student, Quiz, QuizQuestion, Launch, Question, AuditEntry)
    return {model.__name__: model.objects.count() for model in models}


def test_preview_is_the_candidates_page_and_saves_nothing(viewer_client, customer):
    exam = make_exam(customer, questions=6, number_of_question=4, language="fa")
    before = row_counts()
    response = viewer_client.get(f"/staff/exams/{exam.pk}/preview/?seed=42")
    html = html_of(response)
    assert 'lang="fa" dir="rtl"' in html
    assert html.count('<fieldset class="question"') == 4
    assert "سوال ۱ از ۴" in html  # "Question 1 of 4", as the candidate reads it
    assert 'data-answer-url="/staff/exams/' in html and "/exam/" not in html.split("<form")[1]
    assert 'id="finish" class="primary" disabled' in html
    # The script's endpoints keep nothing either.
    sync = f"/staff/exams/{exam.pk}/preview/sync/"
    assert viewer_client.post(sync, {"question_id": "1", "answer": "2"}).json()["preview"]
    assert viewer_client.get(sync).json()["remaining_seconds"] is None
    assert row_counts() == before

    english = html_of(viewer_client.get(f"/staff/exams/{exam.pk}/preview/?seed=42&language=en"))
    assert 'lang="en" dir="ltr"' in english and "Question 1 of 4" in english
    # The same seed draws the same questions.
    assert re.findall(r'id="q-(\d+)"', english) == re.findall(r'id="q-(\d+)"', html)


def test_preview_shows_the_live_bank(viewer_client, exam):
    draw(exam)
    question = live(exam)[0]
    authoring.question_update(question=question, data=question_values(question), actor=None)
    html = html_of(viewer_client.get(f"/staff/exams/{exam.pk}/preview/"))
    assert "Question 1? (v2)" in html and "Question 1?</span>" not in html
