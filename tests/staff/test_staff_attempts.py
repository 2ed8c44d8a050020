"""An attempt's page in the console (as the candidate saw it), its actions (extra time, re-open,
the signed callback link) and students' accommodations: who may do what, what is shown, audit
rows, query counts."""

import csv
import hashlib
import hmac
import io
import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from portal.audit.models import AuditEntry
from portal.customers.models import ClientToken, Customer
from portal.exams import services
from portal.exams.models import Question, Quiz, Student
from tests.factories import CALLBACK, make_exam, queries_of, written_items

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def html_of(response) -> str:
    return response.content.decode()


def launch_for(customer, exam, student: str = "stu-1", callback: str = CALLBACK):
    token, _ = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid=student, mobile="09120000000", eurl=exam.pk, callback_url=callback
    )
    return launch


def shown_right(item) -> int:
    return item.order.index(item.question.correct) + 1


def item_block(html: str, position: int) -> str:
    match = re.search(
        rf'<li class="review-item[^"]*" id="item-{position}".*?<p class="note saves">.*?</p>',
        html,
        re.S,
    )
    assert match, f"item {position} not on the page"
    return match.group(0)


def expire(quiz) -> None:
    Quiz.objects.filter(pk=quiz.pk).update(deadline_at=timezone.now() - timedelta(minutes=1))


@pytest.fixture
def shuffled(customer):
    exam = make_exam(customer, questions=6)
    Question.objects.filter(exam=exam).update(can_shuffle=True, weight=2)
    return exam


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_each_question_as_the_candidate_saw_it(viewer_client, customer, shuffled):
    launch = launch_for(customer, shuffled)
    items = list(written_items(launch.quiz).select_related("question").order_by("position"))
    # Right on the first, wrong on the second, the third left open.
    services.save_answer(
        launch=launch, question_id=items[0].question_id, answer=shown_right(items[0])
    )
    wrong = shown_right(items[1]) % 4 + 1
    services.save_answer(launch=launch, question_id=items[1].question_id, answer=wrong)
    services.submit_quiz(launch=launch)

    html = html_of(viewer_client.get(f"/staff/attempts/{launch.quiz.pk}/"))
    for item in items:
        block = item_block(html, item.position)
        texts = re.findall(r'<span class="shown-number">(\d)\.</span> ([^\n<]+)', block)
        # The choices in the candidate's (shuffled) order, with the candidate's numbers.
        assert texts == [(str(n), text.strip()) for n, text in item.shown_choices()]
        correct = re.search(
            r'data-shown="(\d)"[^>]*>',
            block.split('<span class="badge ok">correct')[0].rsplit("<li", 1)[1],
        )
        assert correct and int(correct.group(1)) == shown_right(item)
    first = item_block(html, 1)
    assert "review-item right" in first and "2 of 2 points" in first
    assert re.search(rf'review-choice chosen correct" data-shown="{shown_right(items[0])}"', first)
    assert f"choice {shown_right(items[0])} as shown" in first
    second = item_block(html, 2)
    assert "review-item wrong" in second and "0 of 2 points" in second
    assert re.search(rf'review-choice chosen" data-shown="{wrong}"', second)
    assert "review-item unanswered" in item_block(html, 3)
    assert "No save recorded." in item_block(html, 3)
    # Result, finished by, the callback parameters as sent; the right answers only here.
    assert "the candidate's submit" in html
    assert 'id="attempt-result"' in html and "2 of 12" in html
    assert "<code>student_uuid</code></dt><dd><code>stu-1</code>" in html
    assert f"<code>launch_id</code></dt><dd><code>{launch.launch_id}</code>" in html


def test_the_page_of_an_attempt_nobody_opened_shows_its_questions(
    viewer_client, customer, shuffled
):
    """A launch leaves its quiz's items pending (no row each) until the quiz is first saved
    to; its review shows every drawn question unanswered, choices as the candidate will see
    them, and the candidate then sees them the same."""
    launch = launch_for(customer, shuffled)
    drawn = services.quiz_items(launch.quiz)
    html = html_of(viewer_client.get(f"/staff/attempts/{launch.quiz.pk}/"))
    for item in drawn:
        block = item_block(html, item.position)
        assert "review-item unanswered" in block and "No save recorded." in block
        texts = re.findall(r'<span class="shown-number">(\d)\.</span> ([^\n<]+)', block)
        assert texts == [(str(n), text.strip()) for n, text in item.shown_choices()]
    assert [i.choice_order for i in services.quiz_items(launch.quiz)] == [
        i.choice_order for i in drawn
    ]


def test_the_page_shows_launches_claims_saves_and_the_accommodation(
    client, viewer_client, customer, exam
):
    student = Student.objects.create(
        customer=customer, uuid="stu-1", extra_minutes=5, time_factor="1.5"
    )
    launch = launch_for(customer, exam, callback="https://lms.example.org/back?x=1")
    second = launch_for(customer, exam)
    client.post(f"/exam/{launch.launch_id}/start/")  # the candidate starts the first in a browser
    client.get(f"/exam/?launch={second.launch_id}")  # the second is only looked at (a preview)
    item = written_items(launch.quiz).first()
    client.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": item.question_id, "answer": "3"}
    )
    html = html_of(viewer_client.get(f"/staff/attempts/{launch.quiz.pk}/"))
    assert student.uuid in html
    assert "time × 1.50 and 5 extra minutes: 20 minutes more than the exam's duration" in html
    row = re.search(rf'<tr id="launch-{launch.launch_id}">.*?</tr>', html, re.S).group(0)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert ">lms.example.org</code>" in cells[2] and "<time" in cells[3]
    other = re.search(rf'<tr id="launch-{second.launch_id}">.*?</tr>', html, re.S).group(0)
    assert "not started" in other
    timeline = re.search(r'<table class="list timeline">.*?</table>', html, re.S).group(0)
    assert re.findall(r'data-event="(\w+)"', timeline) == ["start", "save"]
    assert "choice 3 as shown" in timeline
    assert "Nothing is sent to the customer until the attempt is finished." in html


def test_a_viewer_sees_no_action_buttons(viewer_client, customer, exam):
    launch = launch_for(customer, exam)
    html = html_of(viewer_client.get(f"/staff/attempts/{launch.quiz.pk}/"))
    assert "extend-form" not in html and "Add time" not in html


def test_the_page_is_in_persian_too(viewer_client, customer, exam):
    launch = launch_for(customer, exam)
    viewer_client.post("/staff/language/", {"language": "fa", "next": "/staff/"})
    response = viewer_client.get(f"/staff/attempts/{launch.quiz.pk}/")
    assert response.status_code == 200
    assert 'dir="rtl"' in html_of(response) and "۱۴۰" in html_of(response)


def test_an_attempt_past_its_deadline_says_time_up_until_it_is_finished(
    viewer_client, customer, exam
):
    # It said "started" until the minute's sweep finished it.
    launch = launch_for(customer, exam)
    quiz = launch.quiz
    state = re.compile(r'<span class="badge (\w+)"[^>]*>([^<]+)</span>')
    pages = [
        f"/staff/attempts/{quiz.pk}/",
        f"/staff/students/{quiz.student_id}/",
        f"/staff/exams/{exam.pk}/results/",
    ]
    for page in pages:
        assert ("in_progress", "started") in state.findall(html_of(viewer_client.get(page)))
    expire(quiz)
    for page in pages:
        assert ("warn", "time up") in state.findall(html_of(viewer_client.get(page)))
    services.finish_expired_quizzes()
    for page in pages:
        assert ("completed", "completed") in state.findall(html_of(viewer_client.get(page)))


def test_an_unknown_attempt_is_404(viewer_client, db):
    assert viewer_client.get("/staff/attempts/999999/").status_code == 404


def test_query_count_is_the_same_for_10_and_100_questions(viewer_client, customer):
    def count_for(size: int) -> int:
        exam = make_exam(customer, questions=size, title=f"exam {size}")
        launch = launch_for(customer, exam, student=f"s{size}")
        items = list(written_items(launch.quiz).all())
        for item in items[: size // 2]:
            services.save_answer(launch=launch, question_id=item.question_id, answer="1")
            services.save_answer(launch=launch, question_id=item.question_id, answer="2")
        services.submit_quiz(launch=launch)
        return queries_of(viewer_client, f"/staff/attempts/{launch.quiz.pk}/")

    assert count_for(10) == count_for(100)


# --- actions: who may -------------------------------------------------------------------------


@pytest.mark.parametrize("people", ["viewer_client", "author_client"])
@pytest.mark.parametrize("action", ["extend", "reopen", "callback-link"])
def test_actions_are_for_operators_only(request, people, action, customer, exam):
    launch = launch_for(customer, exam)
    staff = request.getfixturevalue(people)
    response = staff.post(
        f"/staff/attempts/{launch.quiz.pk}/{action}/",
        {"minutes": 10, "launch": str(launch.launch_id)},
    )
    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


def test_actions_need_a_post(operator_client, customer, exam):
    launch = launch_for(customer, exam)
    assert operator_client.get(f"/staff/attempts/{launch.quiz.pk}/extend/").status_code == 405


def test_anonymous_is_sent_to_sign_in(client, customer, exam):
    launch = launch_for(customer, exam)
    response = client.get(f"/staff/attempts/{launch.quiz.pk}/")
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


# --- extra time -------------------------------------------------------------------------------


def test_an_operator_gives_extra_time_without_javascript(operator_client, operator, customer, exam):
    launch = launch_for(customer, exam)
    quiz = launch.quiz
    before = quiz.deadline_at
    response = operator_client.post(f"/staff/attempts/{quiz.pk}/extend/", {"minutes": "10"})
    assert response.status_code == 302
    assert response["Location"] == f"/staff/attempts/{quiz.pk}/"
    quiz.refresh_from_db()
    assert quiz.deadline_at == before + timedelta(minutes=10) and quiz.extra_minutes == 10
    page = html_of(operator_client.get(response["Location"]))
    assert "10 minutes added: the deadline is now" in page
    assert re.search(r'id="attempt-extra">10<', page)
    assert "quiz.extend" in page  # the staff action in the attempt's history
    assert AuditEntry.objects.get(action="quiz.extend").actor == operator


def test_extra_time_with_htmx_returns_the_summary_and_the_message(operator_client, customer, exam):
    launch = launch_for(customer, exam)
    response = operator_client.post(
        f"/staff/attempts/{launch.quiz.pk}/extend/", {"minutes": "5"}, headers=HTMX
    )
    html = html_of(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="attempt"')
    assert 'id="messages"' in html and 'hx-swap-oob="true"' in html
    assert "5 minutes added" in html
    assert "<html" not in html
    # The timeline, below, gets the staff action too, swapped out of band.
    timeline = html[
        html.index('<div class="table-wrap" id="timeline-events" hx-swap-oob="true">') :
    ]
    assert "quiz.extend" in timeline.split("</table>")[0]


@pytest.mark.parametrize("minutes", ["0", "601", "ten", ""])
def test_extra_time_out_of_bounds_is_refused_on_the_form(operator_client, customer, exam, minutes):
    launch = launch_for(customer, exam)
    response = operator_client.post(
        f"/staff/attempts/{launch.quiz.pk}/extend/", {"minutes": minutes}
    )
    assert response.status_code == 400
    assert 'class="q-error"' in html_of(response)
    assert Quiz.objects.get(pk=launch.quiz.pk).extra_minutes == 0


def test_extra_time_for_a_submitted_attempt_says_why_not(operator_client, customer, exam):
    launch = launch_for(customer, exam)
    services.submit_quiz(launch=launch)
    response = operator_client.post(
        f"/staff/attempts/{launch.quiz.pk}/extend/", {"minutes": "10"}, follow=True
    )
    assert "already completed (the candidate submitted it)" in html_of(response)


# --- re-open ----------------------------------------------------------------------------------


def test_an_operator_reopens_an_attempt_the_deadline_closed(operator_client, customer, exam):
    launch = launch_for(customer, exam)
    expire(launch.quiz)
    services.finish_expired_quizzes()
    page = html_of(operator_client.get(f"/staff/attempts/{launch.quiz.pk}/"))
    assert "reopen-form" in page and "extend-form" not in page
    response = operator_client.post(
        f"/staff/attempts/{launch.quiz.pk}/reopen/", {"minutes": "15"}, follow=True
    )
    assert "The attempt is open again until" in html_of(response)
    quiz = Quiz.objects.get(pk=launch.quiz.pk)
    assert quiz.state == "started" and quiz.reopened_at is not None
    assert "extend-form" in html_of(response)  # now open: extra time is offered instead


def test_reopen_of_another_open_attempt_is_refused_with_the_reason(operator_client, customer, exam):
    first = launch_for(customer, exam)
    expire(first.quiz)
    launch_for(customer, exam)  # completes the first by its deadline and starts another
    response = operator_client.post(
        f"/staff/attempts/{first.quiz.pk}/reopen/", {"minutes": "15"}, follow=True
    )
    assert "has another attempt of this exam open" in html_of(response)
    assert Quiz.objects.get(pk=first.quiz.pk).state == "completed"


# --- the signed callback link -----------------------------------------------------------------


def test_an_operator_gets_the_signed_callback_link_once(operator_client, customer, exam):
    launch = launch_for(customer, exam, callback="https://lms.example.org/back?keep=1")
    services.submit_quiz(launch=launch)
    response = operator_client.post(
        f"/staff/attempts/{launch.quiz.pk}/callback-link/", {"launch": str(launch.launch_id)}
    )
    assert response["Location"] == f"/staff/attempts/{launch.quiz.pk}/#callback"
    page = html_of(operator_client.get(response["Location"]))
    url = re.search(r'id="callback-link" readonly dir="ltr" value="([^"]+)"', page).group(1)
    url = url.replace("&amp;", "&")
    assert url == services.redirect_url(launch)
    params = dict(parse_qsl(urlsplit(url).query))
    signed = {k: v for k, v in params.items() if k not in {"signature", "keep"}}
    message = "&".join(f"{k}={signed[k]}" for k in sorted(signed))
    secret = Customer.objects.get(pk=customer.pk).signing_secret
    expected = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert params["signature"] == expected
    assert 'data-copy="#callback-link"' in page
    # Shown once: a reload no longer has it; the hand-out is in the audit log.
    assert "callback-link" not in html_of(
        operator_client.get(f"/staff/attempts/{launch.quiz.pk}/")
    ).split('id="callback"')[1].split("</section>")[0].replace('callback-link/"', "")
    entry = AuditEntry.objects.get(action="quiz.callback_link")
    assert entry.note == f"launch {launch.launch_id}"


def test_the_callback_link_with_htmx_swaps_the_callback_part(operator_client, customer, exam):
    launch = launch_for(customer, exam)
    services.submit_quiz(launch=launch)
    response = operator_client.post(
        f"/staff/attempts/{launch.quiz.pk}/callback-link/",
        {"launch": str(launch.launch_id)},
        headers=HTMX,
    )
    html = html_of(response)
    assert html.lstrip().startswith('<section id="callback"')
    assert 'id="callback-link"' in html


@pytest.mark.parametrize("launch_value", ["nope", "00000000-0000-0000-0000-000000000000", ""])
def test_the_callback_link_of_an_unknown_launch_is_refused(
    operator_client, customer, exam, launch_value
):
    launch = launch_for(customer, exam)
    services.submit_quiz(launch=launch)
    response = operator_client.post(
        f"/staff/attempts/{launch.quiz.pk}/callback-link/", {"launch": launch_value}, follow=True
    )
    assert "Launch not found." in html_of(response)
    assert not AuditEntry.objects.filter(action="quiz.callback_link").exists()


def test_no_callback_link_before_the_attempt_is_finished(operator_client, customer, exam):
    launch = launch_for(customer, exam)
    response = operator_client.post(
        f"/staff/attempts/{launch.quiz.pk}/callback-link/",
        {"launch": str(launch.launch_id)},
        follow=True,
    )
    assert "The exam is not finished yet." in html_of(response)


# --- students and accommodations --------------------------------------------------------------


@pytest.fixture
def students(customer, other_customer):
    Student.objects.create(customer=customer, uuid="alice", mobile="0911", extra_minutes=10)
    Student.objects.create(customer=customer, uuid="bob", mobile="0922")
    Student.objects.create(customer=other_customer, uuid="carol", time_factor="1.25")


def test_students_list_filters_searches_and_exports(viewer_client, students, customer):
    html = html_of(viewer_client.get("/staff/students/"))
    assert all(name in html for name in ("alice", "bob", "carol"))
    only = html_of(viewer_client.get("/staff/students/?accommodation=yes"))
    assert "alice" in only and "carol" in only and ">bob<" not in only
    mine = html_of(viewer_client.get(f"/staff/students/?customer={customer.pk}"))
    assert "alice" in mine and "carol" not in mine
    found = html_of(viewer_client.get("/staff/students/?q=0922"))
    assert "bob" in found and "alice" not in found
    partial = viewer_client.get("/staff/students/?q=ali", headers=HTMX)
    assert html_of(partial).lstrip().startswith('<section id="results"')
    exported = viewer_client.get("/staff/students/?accommodation=yes&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:5] == ["Student id", "Mobile", "Customer", "Extra minutes", "Time factor"]
    assert sorted(r[0] for r in rows[1:]) == ["alice", "carol"]
    sheet = viewer_client.get("/staff/students/?export=xlsx")
    workbook = load_workbook(io.BytesIO(b"".join(sheet.streaming_content)))
    assert workbook.active.max_row == 4


def test_students_list_query_count_is_constant(viewer_client, customer):
    def count_for(size: int) -> int:
        Student.objects.all().delete()
        Student.objects.bulk_create(
            Student(customer=customer, uuid=f"s{n}", extra_minutes=n % 3) for n in range(size)
        )
        return queries_of(viewer_client, "/staff/students/")

    assert count_for(10) == count_for(120)


def test_a_student_page_lists_their_attempts(viewer_client, customer, exam):
    launch = launch_for(customer, exam)
    student = launch.quiz.student
    html = html_of(viewer_client.get(f"/staff/students/{student.pk}/"))
    assert f'href="/staff/attempts/{launch.quiz.pk}/"' in html
    assert "accommodation-form" not in html  # viewers read only


def test_an_operator_sets_an_accommodation_that_applies_to_the_next_launch(
    operator_client, operator, customer, exam
):
    first = launch_for(customer, exam)
    student = first.quiz.student
    response = operator_client.post(
        f"/staff/students/{student.pk}/accommodation/",
        {"extra_minutes": "10", "time_factor": "1.5"},
    )
    assert response.status_code == 302
    page = html_of(operator_client.get(response["Location"]))
    assert "Accommodation saved" in page
    assert "time × 1.50 and 10 extra minutes on every new quiz" in page
    entry = AuditEntry.objects.get(action="student.accommodation")
    assert entry.actor == operator and entry.changes["extra_minutes"] == [0, 10]
    # The started quiz keeps its 30 minutes; the next one gets 30 × 1.5 + 10.
    first.quiz.refresh_from_db()
    assert first.quiz.deadline_at - first.quiz.start_at == timedelta(minutes=30)
    services.submit_quiz(launch=first)
    nxt = launch_for(customer, exam).quiz
    assert nxt.deadline_at - nxt.start_at == timedelta(minutes=55)
    attempt = html_of(operator_client.get(f"/staff/attempts/{nxt.pk}/"))
    assert "25 minutes more than the exam's duration" in attempt


def test_an_invalid_accommodation_is_refused_with_the_models_message(operator_client, customer):
    student = Student.objects.create(customer=customer, uuid="s")
    response = operator_client.post(
        f"/staff/students/{student.pk}/accommodation/", {"extra_minutes": "0", "time_factor": "5"}
    )
    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 4." in html_of(response)
    htmx = operator_client.post(
        f"/staff/students/{student.pk}/accommodation/",
        {"extra_minutes": "5000", "time_factor": "1"},
        headers=HTMX,
    )
    assert html_of(htmx).lstrip().startswith('<div id="student"')
    assert "Ensure this value is less than or equal to 1440." in html_of(htmx)
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("people", ["viewer_client", "author_client"])
def test_accommodations_are_set_by_operators_only(request, people, customer):
    student = Student.objects.create(customer=customer, uuid="s")
    response = request.getfixturevalue(people).post(
        f"/staff/students/{student.pk}/accommodation/", {"extra_minutes": "5", "time_factor": "1"}
    )
    assert response.status_code == 403
    student.refresh_from_db()
    assert student.extra_minutes == 0
