"""An exam's results and item analysis in the console: filters, totals, exports, query counts."""

import csv
import io
import math
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from portal.customers.models import ClientToken
from portal.exams import services
from portal.exams.models import Question, Quiz, QuizQuestion, Student
from tests.factories import CALLBACK, make_exam, queries_of, written_items
from tests.scoring.test_items import CHOSEN as WORKED_EXAMPLE

# Five candidates answer the same four questions (correct choices 1, 2, 3, 4), as in the worked
# example of tests/scoring/test_items.py: right answers 4, 3, 2, 2, 0 → 100, 75, 50, 50, 0 %.
# The values are original (bank) choice numbers; question 4 shows its choices shuffled.
CHOSEN = {f"stu-{who}": answers for who, answers in WORKED_EXAMPLE.items()}
PERCENTAGES = {"stu-A": 100.0, "stu-B": 75.0, "stu-C": 50.0, "stu-D": 50.0, "stu-E": 0.0}


def take(exam, token, student: str, chosen: dict[int, int | None], *, submit: bool = True):
    """Launch `student` into the exam and answer as `chosen` says (by question position, in
    original choice numbers): each answer saved, then submitted; returns the quiz."""
    launch, _ = services.launch_quiz(
        token=token, student_uuid=student, mobile="09120000000", eurl=exam.pk, callback_url=CALLBACK
    )
    items = {
        item.question.position: item
        for item in written_items(launch.quiz).select_related("question")
    }
    for position, original in chosen.items():
        if original is not None:
            shown = items[position].order.index(original) + 1
            services.save_answer(
                launch=launch, question_id=items[position].question_id, answer=shown
            )
    if submit:
        services.submit_quiz(launch=launch)
    return Quiz.objects.get(pk=launch.quiz_id)


@pytest.fixture
def known(customer):
    """The exam, its five completed attempts by student uuid, and one started attempt."""
    exam = make_exam(customer, questions=4, title="Known exam", accept_score=60)
    Question.objects.filter(exam=exam, position=4).update(can_shuffle=True)
    token, _ = ClientToken.issue(customer=customer)
    quizzes = {student: take(exam, token, student, chosen) for student, chosen in CHOSEN.items()}
    quizzes["stu-F"] = take(exam, token, "stu-F", {1: 1}, submit=False)
    return exam, quizzes


def url(exam, page: str = "results", query: str = "") -> str:
    return f"/staff/exams/{exam.pk}/{page}/" + (f"?{query}" if query else "")


def csv_rows(response) -> list[dict[str, str]]:
    assert response["Content-Disposition"].startswith("attachment")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def xlsx_rows(response) -> list[dict]:
    sheet = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    return [dict(zip(sheet[0], row, strict=True)) for row in sheet[1:]]


def rows_shown(html: str, quizzes: dict) -> set[str]:
    return {student for student, quiz in quizzes.items() if f'id="attempt-{quiz.pk}"' in html}


def test_the_graded_data_is_what_the_example_says(known):
    _exam, quizzes = known
    assert {s: q.percentage for s, q in quizzes.items() if s != "stu-F"} == PERCENTAGES


def test_results_show_every_attempt_and_the_totals(viewer_client, known):
    exam, quizzes = known
    response = viewer_client.get(url(exam))
    assert response.status_code == 200
    html = response.content.decode()
    assert rows_shown(html, quizzes) == set(quizzes)
    # Each row opens the attempt's page.
    assert f'href="/staff/attempts/{quizzes["stu-A"].pk}/"' in html
    summary = response.context["summary"]
    assert (summary.count, summary.completed, summary.passed) == (6, 5, 2)
    assert summary.mean == pytest.approx(55.0)  # (100 + 75 + 50 + 50 + 0) / 5
    assert summary.median == 50.0
    assert summary.pass_rate == pytest.approx(40.0)  # 2 of 5 completed reach 60 %
    counts = [b.count for b in summary.histogram]
    #         0  10 20 30 40 50 60 70 80 90–100
    assert counts == [1, 0, 0, 0, 0, 2, 0, 1, 0, 1]
    assert "55.0%" in html and "50.0%" in html and "40.0%" in html


def test_filters_narrow_the_rows_and_the_totals(viewer_client, known):
    exam, quizzes = known
    response = viewer_client.get(url(exam, query="passed=yes"))
    assert rows_shown(response.content.decode(), quizzes) == {"stu-A", "stu-B"}
    summary = response.context["summary"]
    assert summary.mean == pytest.approx(87.5) and summary.pass_rate == 100

    html = viewer_client.get(url(exam, query="passed=no")).content.decode()
    assert rows_shown(html, quizzes) == {"stu-C", "stu-D", "stu-E"}

    response = viewer_client.get(url(exam, query="state=started"))
    assert rows_shown(response.content.decode(), quizzes) == {"stu-F"}
    assert response.context["summary"].completed == 0 and response.context["summary"].mean is None

    response = viewer_client.get(url(exam, query="q=stu-c"))
    assert rows_shown(response.content.decode(), quizzes) == {"stu-C"}

    # An even number of scores: the median is the mean of the middle two (75 and 50).
    Quiz.objects.filter(pk=quizzes["stu-E"].pk).delete()
    response = viewer_client.get(url(exam, query="state=completed"))
    assert response.context["summary"].median == pytest.approx(62.5)


@pytest.mark.parametrize("query", ["passed=maybe", "customer=999999", "since=soon&passed=yes"])
def test_an_invalid_filter_selects_no_attempts_and_says_so(viewer_client, known, query):
    exam, quizzes = known
    response = viewer_client.get(url(exam, query=query))
    html = response.content.decode()
    assert response.status_code == 200 and not rows_shown(html, quizzes)
    assert "A filter is not valid, so no rows are shown" in html
    assert response.context["summary"].count == 0
    assert "/answers/?" not in html and "export=csv" not in html
    answers = viewer_client.get(url(exam, "results/answers", f"{query}&export=csv"))
    assert csv_rows(answers) == []
    if not query.startswith("passed"):  # the item analysis has no "passed" filter
        report = viewer_client.get(url(exam, "items", query)).context["report"]
        assert report.analysis.attempts == 0


def test_date_range_is_on_the_start(viewer_client, known):
    exam, quizzes = known
    january = datetime(2024, 1, 10, 9, tzinfo=UTC)
    Quiz.objects.filter(pk__in=[quizzes["stu-A"].pk, quizzes["stu-E"].pk]).update(
        start_at=january, end_at=january + timedelta(minutes=20)
    )
    response = viewer_client.get(url(exam, query="since=2024-01-01&until=2024-01-31"))
    assert rows_shown(response.content.decode(), quizzes) == {"stu-A", "stu-E"}
    assert response.context["summary"].mean == pytest.approx(50.0)
    today = timezone.localdate().isoformat()
    response = viewer_client.get(url(exam, query=f"since={today}"))
    assert rows_shown(response.content.decode(), quizzes) == {"stu-B", "stu-C", "stu-D", "stu-F"}


def test_customer_filter(viewer_client, known, other_customer):
    exam, quizzes = known
    # A student of another customer on this exam (made directly: the API never does this).
    student = Student.objects.create(customer=other_customer, uuid="other-1")
    now = timezone.now()
    other = Quiz.objects.create(
        student=student,
        exam=exam,
        shuffle_seed=1,
        start_at=now,
        deadline_at=now,
        state="completed",
        percentage=10.0,
        is_accept=False,
        total_questions=4,
    )
    response = viewer_client.get(url(exam, query=f"customer={other_customer.pk}"))
    html = response.content.decode()
    assert f'id="attempt-{other.pk}"' in html and not rows_shown(html, quizzes)
    assert response.context["summary"].count == 1
    # The choices are the customers with attempts at this exam.
    assert "Other Institute" in html and "Acme Academy" in html


def test_sorting_by_score(viewer_client, known):
    exam, quizzes = known
    html = viewer_client.get(url(exam, query="sort=-percentage&state=completed")).content.decode()
    order = sorted(PERCENTAGES, key=lambda s: html.index(f'id="attempt-{quizzes[s].pk}"'))
    assert order[0] == "stu-A" and order[-1] == "stu-E"


def test_htmx_gets_only_the_results_region(viewer_client, known):
    exam, _quizzes = known
    html = viewer_client.get(url(exam, query="passed=yes"), headers={"HX-Request": "true"})
    text = html.content.decode()
    assert text.lstrip().startswith('<section id="results"') and "<html" not in text
    assert "87.5%" in text


def test_attempts_export_has_the_filtered_rows(viewer_client, known):
    exam, quizzes = known
    rows = csv_rows(viewer_client.get(url(exam, query="passed=yes&export=csv&sort=-percentage")))
    assert [r["student_uuid"] for r in rows] == ["stu-A", "stu-B"]
    assert rows[1]["percentage"] == "75.0" and rows[1]["passed"] == "yes"
    assert rows[1]["correct"] == "3" and rows[1]["wrong"] == "1" and rows[1]["unanswered"] == "0"
    assert rows[1]["attempt"] == str(quizzes["stu-B"].pk) and rows[1]["pass_mark"] == "60.0"
    assert rows[1]["finished_by"] == "submit" and rows[1]["customer"] == "Acme Academy"
    rows = xlsx_rows(viewer_client.get(url(exam, query="state=started&export=xlsx")))
    assert len(rows) == 1 and rows[0]["student_uuid"] == "stu-F" and rows[0]["passed"] is None


def test_answers_export_has_one_row_per_answer_as_the_candidate_saw_it(viewer_client, known):
    exam, quizzes = known
    rows = csv_rows(viewer_client.get(url(exam, "results/answers", "q=stu-E&export=csv")))
    assert [(r["attempt"], r["position"]) for r in rows] == [
        (str(quizzes["stu-E"].pk), str(n)) for n in (1, 2, 3, 4)
    ]
    by_position = {int(r["position"]): r for r in rows}
    first = by_position[1]
    assert first["student_uuid"] == "stu-E" and first["question"] == "Question 1?"
    assert (first["chosen"], first["chosen_text"]) == ("3", "q1 choice three")
    assert (first["correct"], first["correct_text"]) == ("1", "q1 choice one")
    assert first["result"] == "wrong" and first["points"] == "0.0" and first["answered_at"]
    assert by_position[2]["result"] == "unanswered" and by_position[2]["chosen"] == ""
    # Question 4's choices were shuffled for this quiz: numbers are as shown, texts the bank's.
    item = QuizQuestion.objects.get(quiz=quizzes["stu-E"], position=4)
    fourth = by_position[4]
    assert fourth["chosen"] == str(item.order.index(1) + 1)
    assert fourth["chosen_text"] == "q4 choice one"
    assert fourth["correct"] == str(item.order.index(4) + 1)
    assert fourth["correct_text"] == "q4 choice four"

    rows = xlsx_rows(viewer_client.get(url(exam, "results/answers", "passed=yes&export=xlsx")))
    assert len(rows) == 8  # two attempts × four questions
    right = [r for r in rows if r["result"] == "right"]
    assert len(right) == 7 and all(r["points"] == 1 for r in right)  # A 4 right, B 3


def test_answers_export_has_the_questions_of_an_attempt_nobody_opened(viewer_client, known):
    """A launch leaves its quiz's items pending (no row each) until the quiz is first saved
    to; the export still has one row per drawn question, unanswered, in the drawn order."""
    exam, _quizzes = known
    token, _ = ClientToken.issue(customer=exam.customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid="stu-G", mobile="", eurl=exam.pk, callback_url=CALLBACK
    )
    drawn = services.quiz_items(launch.quiz)
    rows = csv_rows(viewer_client.get(url(exam, "results/answers", "q=stu-G&export=csv")))
    assert [(r["position"], r["question"], r["result"], r["chosen"]) for r in rows] == [
        (str(item.position), item.question.description, "unanswered", "") for item in drawn
    ]


def test_an_export_writes_never_opened_attempts_a_batch_at_a_time(
    viewer_client, known, monkeypatch
):
    exam, _quizzes = known
    monkeypatch.setattr(services, "PENDING_BATCH", 2)  # three quizzes: two transactions
    token, _ = ClientToken.issue(customer=exam.customer)
    for n in range(3):
        services.launch_quiz(
            token=token, student_uuid=f"stu-N{n}", mobile="", eurl=exam.pk, callback_url=CALLBACK
        )
    rows = csv_rows(viewer_client.get(url(exam, "results/answers", "q=stu-N&export=csv")))
    assert sorted({r["student_uuid"] for r in rows}) == ["stu-N0", "stu-N1", "stu-N2"]
    assert len(rows) == 3 * 4 and {r["result"] for r in rows} == {"unanswered"}
    assert not Quiz.objects.exclude(pending_items="").exists()


def test_answers_url_without_a_format_goes_back_to_the_results(viewer_client, known):
    exam, _ = known
    response = viewer_client.get(url(exam, "results/answers", "passed=yes"))
    assert response.status_code == 302 and response["Location"].endswith("/results/?passed=yes")


# --- item analysis -------------------------------------------------------------------------------


def test_item_analysis_page_shows_the_hand_computed_statistics(viewer_client, known):
    exam, _quizzes = known
    response = viewer_client.get(url(exam, "items"))
    assert response.status_code == 200
    report = response.context["report"]
    assert report.analysis.attempts == 5  # the started attempt is not analysed
    assert report.analysis.kr20 == pytest.approx(8 / 11)
    assert report.analysis.sem == pytest.approx(math.sqrt(0.48))
    assert [row.stats.facility for row in report.rows] == [0.8, 0.6, 0.6, 0.2]
    q1 = report.rows[0]
    assert q1.stats.point_biserial == pytest.approx(0.28 / math.sqrt(0.16 * 1.04))
    html = response.content.decode()
    assert "0.73" in html  # KR-20
    assert "0.69" in html  # q1's point-biserial
    q4 = report.rows[3]
    assert {c.number: c.percent for c in q4.choices} == {1: 20, 2: 40, 3: 0, 4: 20, None: 20}
    assert "q4 choice four" in html and "Unanswered" in html


def test_item_analysis_flags_and_export(viewer_client, known):
    exam, _ = known
    rows = csv_rows(viewer_client.get(url(exam, "items", "export=csv")))
    assert [r["question"] for r in rows] == [f"Question {n}?" for n in (1, 2, 3, 4)]
    assert [float(r["facility"]) for r in rows] == [0.8, 0.6, 0.6, 0.2]
    q4 = rows[3]
    assert float(q4["share_2"]) == 0.4 and float(q4["share_unanswered"]) == 0.2
    assert q4["correct_choice"] == "4" and q4["retired"] == "no"
    rows = xlsx_rows(viewer_client.get(url(exam, "items", "export=xlsx")))
    assert len(rows) == 4 and rows[0]["upper_lower"] == 1


def test_item_analysis_flags_an_easy_question(viewer_client, customer):
    exam = make_exam(customer, questions=2, title="Easy")
    token, _ = ClientToken.issue(customer=customer)
    for n, second in enumerate((2, 1, 2, 1, 1)):
        take(exam, token, f"s{n}", {1: 1, 2: second})
    html = viewer_client.get(url(exam, "items")).content.decode()
    assert "Easy" in html  # question 1: everyone right (facility 1 > 0.9)
    report = viewer_client.get(url(exam, "items")).context["report"]
    assert report.rows[0].stats.flags == ("easy",)
    assert report.rows[0].stats.point_biserial is None


def test_item_analysis_keeps_versions_of_an_edited_question_apart(viewer_client, known):
    exam, quizzes = known
    old = Question.objects.get(exam=exam, position=1)
    # An edit retires the version quizzes drew and makes a new one (copy-on-write).
    new = Question.objects.create(
        exam=exam,
        position=1,
        description="Question 1, reworded?",
        c1="a",
        c2="b",
        c3="c",
        c4="d",
        correct=2,
    )
    Question.objects.filter(pk=old.pk).update(retired_at=timezone.now(), replaced_by=new)
    token, _ = ClientToken.issue(customer=exam.customer)
    take(exam, token, "stu-G", {1: 2, 2: 2, 3: 3, 4: 4})
    report = viewer_client.get(url(exam, "items")).context["report"]
    versions = [(row.question.pk, row.stats.attempts, row.retired) for row in report.rows[:2]]
    assert versions == [(old.pk, 5, True), (new.pk, 1, False)]


def test_item_analysis_numbers_questions_as_the_editor_does(viewer_client, known):
    """After question 2 is removed (retired: quizzes drew it) and question 4 edited, the live
    bank reads 1, 2, 3 in the editor: so does the analysis; the earlier version of question 4
    has its successor's number, the removed question none."""
    exam, _quizzes = known
    second = Question.objects.get(exam=exam, position=2)
    fourth = Question.objects.get(exam=exam, position=4)
    successor = Question.objects.create(
        exam=exam, position=4, description="Question 4, reworded?", c1="a", c2="b", c3="c",
        c4="d", correct=4,
    )  # fmt: skip
    Question.objects.filter(pk=second.pk).update(retired_at=timezone.now())
    Question.objects.filter(pk=fourth.pk).update(retired_at=timezone.now(), replaced_by=successor)
    report = viewer_client.get(url(exam, "items")).context["report"]
    numbers = {row.question.pk: row.number for row in report.rows}
    assert numbers[second.pk] is None and numbers[fourth.pk] == 3
    html = viewer_client.get(url(exam, "items")).content.decode()
    removed = html[html.index(f'id="question-{second.pk}"') :].split("</tr>")[0]
    assert '<td class="num">—</td>' in removed and "removed" in removed
    rows = csv_rows(viewer_client.get(url(exam, "items", "export=csv")))
    assert [r["number"] for r in rows] == ["1", "", "2", "3"]


def test_item_analysis_filters_by_date(viewer_client, known):
    exam, quizzes = known
    january = datetime(2024, 1, 10, 9, tzinfo=UTC)
    Quiz.objects.filter(pk__in=[quizzes["stu-A"].pk, quizzes["stu-E"].pk]).update(start_at=january)
    report = viewer_client.get(url(exam, "items", "until=2024-01-31")).context["report"]
    assert report.analysis.attempts == 2 and report.rows[0].stats.facility == 0.5
    partial = viewer_client.get(
        url(exam, "items", "until=2024-01-31"), headers={"HX-Request": "true"}
    )
    text = partial.content.decode()
    assert text.lstrip().startswith('<section id="results"') and "<html" not in text


# --- query counts, access, language ------------------------------------------------------------


def bulk_attempts(exam, count: int) -> None:
    """`count` completed attempts made in bulk (students, quizzes and their answers)."""
    Student.objects.filter(customer=exam.customer, uuid__startswith="bulk-").delete()
    students = Student.objects.bulk_create(
        Student(customer=exam.customer, uuid=f"bulk-{n}", mobile=f"0912{n:07d}")
        for n in range(count)
    )
    now = timezone.now()
    quizzes = Quiz.objects.bulk_create(
        Quiz(
            student=s,
            exam=exam,
            state="completed",
            shuffle_seed=n,
            start_at=now - timedelta(hours=1),
            deadline_at=now,
            end_at=now,
            finished_by="submit",
            total_questions=4,
            correct_answers=n % 5,
            wrong_answers=4 - n % 5,
            unanswered=0,
            percentage=(n % 5) * 25.0,
            total_score=float(n % 5),
            is_accept=n % 5 >= 3,
            accept_score=60,
        )
        for n, s in enumerate(students)
    )
    questions = list(exam.questions.all())
    QuizQuestion.objects.bulk_create(
        QuizQuestion(quiz=quiz, question=q, position=i, answer=(n + i) % 4 + 1, answered_at=now)
        for n, quiz in enumerate(quizzes)
        for i, q in enumerate(questions, start=1)
    )


@pytest.mark.parametrize("page", ["results", "items"])
def test_page_queries_do_not_grow_with_attempts(viewer_client, customer, page):
    exam = make_exam(customer, questions=4)

    def count_for(attempts: int) -> int:
        bulk_attempts(exam, attempts)
        return queries_of(viewer_client, url(exam, page, "customer=&since=2000-01-01"))

    small = count_for(10)
    assert small == count_for(500)
    assert small <= 12, small


def test_exports_stream_without_a_query_per_row(viewer_client, customer):
    exam = make_exam(customer, questions=4)

    def count_for(attempts: int, path: str) -> int:
        bulk_attempts(exam, attempts)
        with CaptureQueriesContext(connection) as queries:
            rows = csv_rows(viewer_client.get(url(exam, path, "export=csv")))
        assert len(rows) == attempts * (4 if path.endswith("answers") else 1)
        return len(queries)

    for path in ("results", "results/answers"):
        assert count_for(10, path) == count_for(600, path)


def test_viewer_reads_outsider_and_anonymous_do_not(client, viewer_client, outsider_client, known):
    exam, _ = known
    for page in ("results", "items", "results/answers"):
        query = "export=csv" if page.endswith("answers") else ""
        assert viewer_client.get(url(exam, page, query)).status_code == 200
        assert outsider_client.get(url(exam, page, query)).status_code == 403
        assert client.get(url(exam, page, query)).status_code == 302
    assert viewer_client.get("/staff/exams/999999/results/").status_code == 404


def test_an_exam_without_attempts_has_empty_pages(viewer_client, exam):
    html = viewer_client.get(url(exam)).content.decode()
    assert "Nothing matches these filters." in html and "—" in html
    html = viewer_client.get(url(exam, "items")).content.decode()
    assert "No completed attempts match these filters yet." in html
    assert len(csv_rows(viewer_client.get(url(exam, "items", "export=csv")))) == 0


def test_persian_results_are_right_to_left_with_persian_digits(viewer_client, known):
    exam, _ = known
    viewer_client.post("/staff/language/", {"language": "fa", "next": "/staff/"})
    html = viewer_client.get(url(exam)).content.decode()
    assert 'dir="rtl"' in html and 'lang="fa"' in html
    assert "۵۵٫۰%" in html  # the mean, 55.0 in Persian digits
    assert "۱۴۰" in html  # a Solar Hijri year
    html = viewer_client.get(url(exam, "items")).content.decode()
    assert "۰٫۷۳" in html  # KR-20
