"""The candidate's exam pages over Django's test client: start, keys, errors, forms without JS."""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from portal.customers.models import ClientToken
from portal.exams import services
from portal.exams.models import Launch, Quiz
from tests.factories import CALLBACK, make_exam, written_items


def launched(exam, student: str = "stu-1", mobile: str = "0912") -> Launch:
    """A launch of `exam` by its customer, as the API makes it."""
    token, _ = ClientToken.issue(customer=exam.customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid=student, mobile=mobile, eurl=exam.pk, callback_url=CALLBACK
    )
    return launch


@pytest.fixture
def launch(exam):
    return launched(exam)


def page_url(launch) -> str:
    return f"/exam/?launch={launch.launch_id}"


def start_url(launch) -> str:
    return f"/exam/{launch.launch_id}/start/"


def start(browser: Client, launch):
    """Open exam_url and press Start, as the student does; return the questions page."""
    intro = browser.get(page_url(launch))
    assert intro.status_code == 200 and 'id="start"' in intro.text
    started = browser.post(start_url(launch))
    assert started.status_code == 302 and started["Location"] == page_url(launch)
    return browser.get(page_url(launch))


@pytest.fixture
def candidate(client, launch):
    """The student's browser, after opening exam_url and pressing Start."""
    assert start(client, launch).status_code == 200
    return client


def items(launch):
    return list(written_items(launch.quiz).select_related("question"))


def claimed(launch) -> bool:
    return Launch.objects.get(pk=launch.pk).browser_key_hash != ""


@pytest.mark.django_db
def test_exam_url_shows_a_start_page_that_claims_nothing(client, launch, exam):
    response = client.get(page_url(launch))
    assert response.status_code == 200
    assert exam.title in response.text
    assert response.context["total"] == 5
    assert "30 minutes" in response.text  # the duration, and the time left
    assert response.context["remaining_minutes"] == 30
    assert f'action="{start_url(launch)}"' in response.text
    # No question, nothing claimed or recorded; not for search engines or caches. The browser
    # gets the key it will claim the launch with when Start is pressed (start()), no more.
    assert "q1 choice one" not in response.text and "Question 1" not in response.text
    key = response.cookies[f"exam-{launch.launch_id}"]
    assert key["httponly"] and key["samesite"] == "Lax" and key["path"] == "/exam/"
    assert not claimed(launch) and Launch.objects.get(pk=launch.pk).claimed_at is None
    assert not services.holds_launch(Launch.objects.get(pk=launch.pk), key.value)
    assert '<meta name="robots" content="noindex, nofollow">' in response.text
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_start_claims_the_launch_sets_the_browser_key_and_shows_the_questions(client, launch, exam):
    client.get(page_url(launch))
    before = timezone.now()
    started = client.post(start_url(launch))
    assert started.status_code == 302 and started["Location"] == page_url(launch)
    cookie = started.cookies[f"exam-{launch.launch_id}"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    stored = Launch.objects.get(pk=launch.pk)
    assert stored.claimed_at is not None and before <= stored.claimed_at <= timezone.now()
    page = client.get(page_url(launch))
    assert page.status_code == 200
    assert exam.title in page.text and "q1 choice one" in page.text
    # The right answers are not in the page.
    assert "correct" not in page.text.lower()
    # Start again (a double click, the back button): the same browser just goes on.
    again = client.post(start_url(launch))
    assert again["Location"] == page_url(launch) and not again.cookies
    assert Launch.objects.get(pk=launch.pk).claimed_at == stored.claimed_at


@pytest.mark.django_db
def test_a_link_preview_bot_claims_nothing_and_the_student_then_starts(launch):
    # A messenger's preview bot fetches the link it sees (HEAD, then GET, with or without
    # cookies); none of it may lock the student out.
    bot = Client(HTTP_USER_AGENT="TelegramBot (like TwitterBot)")
    assert bot.head(page_url(launch)).status_code == 200
    for _ in range(2):
        preview = bot.get(page_url(launch))
        assert preview.status_code == 200 and "q1 choice one" not in preview.text
    assert Client().get(page_url(launch)).status_code == 200
    assert not claimed(launch)
    # A bot that posts without the page's CSRF token is refused and claims nothing either.
    assert Client(enforce_csrf_checks=True).post(start_url(launch)).status_code == 403
    assert not claimed(launch)

    student = Client()
    questions = start(student, launch)
    assert questions.status_code == 200 and "q1 choice one" in questions.text
    assert claimed(launch)
    # The bot, coming back, now gets the refusal, never the questions.
    assert bot.get(page_url(launch)).status_code == 403


@pytest.mark.django_db
def test_start_needs_the_csrf_token_of_the_start_page(launch):
    browser = Client(enforce_csrf_checks=True)
    intro = browser.get(page_url(launch))
    assert browser.post(start_url(launch)).status_code == 403
    assert not claimed(launch)
    token = str(intro.context["csrf_token"])
    started = browser.post(start_url(launch), {"csrfmiddlewaretoken": token})
    assert started.status_code == 302 and claimed(launch)


@pytest.mark.django_db
def test_exam_url_and_start_refuse_other_methods(client, launch):
    assert client.post(page_url(launch)).status_code == 405
    assert client.get(start_url(launch)).status_code == 405
    assert not claimed(launch)


@pytest.mark.django_db
def test_another_browser_is_refused_after_the_start(candidate, launch):
    intruder = Client()
    response = intruder.get(page_url(launch))
    assert response.status_code == 403
    assert "started in another browser or on another device" in response.text
    assert "q1 choice one" not in response.text
    pressed = intruder.post(start_url(launch))
    assert pressed.status_code == 403 and "another device" in pressed.text
    assert f"exam-{launch.launch_id}" not in pressed.cookies
    item = items(launch)[0]
    answer = intruder.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": item.question_id, "answer": "1"}
    )
    assert answer.status_code == 404
    item.refresh_from_db()
    assert item.answer is None
    # The student's own browser goes straight to the questions.
    own = candidate.get(page_url(launch))
    assert own.status_code == 200 and "q1 choice one" in own.text


@pytest.mark.django_db
def test_before_the_start_no_exam_page_answers_and_none_claims(client, launch):
    item = items(launch)[0]
    key = launch.launch_id
    assert client.get(f"/exam/{key}/time/").status_code == 404
    assert client.get(f"/exam/{key}/finish/").status_code == 404
    assert client.get(f"/exam/{key}/result/").status_code == 404
    assert client.get(f"/exam/{key}/continue/").status_code == 404
    answer = client.post(f"/exam/{key}/answer/", {"question_id": item.question_id, "answer": "1"})
    assert answer.status_code == 404
    assert client.post(f"/exam/{key}/save/", {f"q{item.question_id}": "1"}).status_code == 404
    assert not claimed(launch)
    item.refresh_from_db()
    assert item.answer is None


@pytest.mark.django_db
def test_a_new_launch_lets_the_student_continue_in_another_browser(candidate, launch, customer):
    first = items(launch)[0]
    candidate.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": first.question_id, "answer": "1"}
    )
    token, _ = ClientToken.issue(customer=customer)
    again, existing = services.launch_quiz(
        token=token,
        student_uuid="stu-1",
        mobile="0912",
        eurl=launch.quiz.exam_id,
        callback_url=CALLBACK,
    )
    assert existing and again.quiz_id == launch.quiz_id
    other_device = Client()
    intro = other_device.get(page_url(again))
    assert intro.status_code == 200 and "1 of 5 answered" in intro.text
    assert not claimed(again)
    response = start(other_device, again)
    assert response.status_code == 200
    assert response.context["answered"] == 1
    # The new launch is this device's; the first stays with the first browser.
    assert Client().get(page_url(again)).status_code == 403
    assert other_device.get(page_url(launch)).status_code == 403
    assert candidate.get(page_url(launch)).status_code == 200


@pytest.mark.django_db
def test_a_finished_quiz_opens_at_its_result_after_start(client, launch):
    services.submit_quiz(launch=launch)
    intro = client.get(page_url(launch))
    assert intro.status_code == 200
    assert "This exam has already been finished." in intro.text
    assert "30 minutes" not in intro.text
    started = client.post(start_url(launch))
    assert started["Location"] == f"/exam/{launch.launch_id}/result/"
    assert client.get(page_url(launch))["Location"] == f"/exam/{launch.launch_id}/result/"


@pytest.mark.django_db
def test_unknown_or_malformed_launch_is_a_clear_404(client):
    assert client.get("/exam/?launch=nope").status_code == 404
    response = client.get("/exam/?launch=00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert "not valid" in response.text


@pytest.mark.django_db
def test_autosave_returns_progress_and_refuses_bad_answers(candidate, launch):
    item = items(launch)[0]
    url = f"/exam/{launch.launch_id}/answer/"
    ok = candidate.post(url, {"question_id": item.question_id, "answer": "۳"})
    assert ok.status_code == 200
    assert ok.json()["answered"] == 1 and ok.json()["total"] == 5
    assert 0 < ok.json()["remaining_seconds"] <= 30 * 60
    bad = candidate.post(url, {"question_id": item.question_id, "answer": "7"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_answer"
    missing = candidate.post(url, {"answer": "1"})
    assert missing.status_code == 400
    item.refresh_from_db()
    assert item.shown_answer == 3


@pytest.mark.django_db
def test_autosave_needs_the_csrf_token(launch):
    browser = Client(enforce_csrf_checks=True)
    intro = browser.get(page_url(launch))
    token = str(intro.context["csrf_token"])
    browser.post(start_url(launch), {"csrfmiddlewaretoken": token})
    browser.get(page_url(launch))
    item = items(launch)[0]
    url = f"/exam/{launch.launch_id}/answer/"
    refused = browser.post(url, {"question_id": item.question_id, "answer": "1"})
    assert refused.status_code == 403
    accepted = browser.post(
        url, {"question_id": item.question_id, "answer": "1"}, HTTP_X_CSRFTOKEN=str(token)
    )
    assert accepted.status_code == 200


@pytest.mark.django_db
def test_without_javascript_the_form_saves_all_answers_then_finishes(candidate, launch):
    first, second = items(launch)[:2]
    saved = candidate.post(
        f"/exam/{launch.launch_id}/save/",
        {f"q{first.question_id}": "1", f"q{second.question_id}": "2", "save": ""},
    )
    assert saved.status_code == 302
    page = candidate.get(saved["Location"])
    assert "Your answers are saved." in page.text
    assert page.context["answered"] == 2

    to_confirm = candidate.post(f"/exam/{launch.launch_id}/save/", {"finish": ""})
    assert to_confirm["Location"] == f"/exam/{launch.launch_id}/finish/"
    confirm = candidate.get(to_confirm["Location"])
    assert "You answered 2 of 5 questions." in confirm.text
    assert "3 questions are unanswered" in confirm.text

    done = candidate.post(f"/exam/{launch.launch_id}/finish/")
    assert done["Location"] == f"/exam/{launch.launch_id}/result/"
    result = candidate.get(done["Location"])
    assert "Not passed" in result.text
    launch.quiz.refresh_from_db()
    assert launch.quiz.correct_answers == 2 and launch.quiz.unanswered == 3

    onward = candidate.get(f"/exam/{launch.launch_id}/continue/")
    target = urlsplit(onward["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == CALLBACK
    params = {k: v[0] for k, v in parse_qs(target.query, keep_blank_values=True).items()}
    assert params["percentage"] == "40" and params["state"] == "completed"
    signature = params.pop("signature")
    assert signature == services.sign_params(params, launch.quiz.student.customer.signing_secret)


@pytest.mark.django_db
def test_htmx_confirmation_is_a_partial_and_submit_redirects_with_hx_redirect(candidate, launch):
    partial = candidate.get(f"/exam/{launch.launch_id}/finish/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "<html" not in partial.text and "Finish the exam?" in partial.text
    done = candidate.post(f"/exam/{launch.launch_id}/finish/", HTTP_HX_REQUEST="true")
    assert done["HX-Redirect"] == f"/exam/{launch.launch_id}/result/"


@pytest.mark.django_db
def test_can_back_false_locks_answered_questions_in_the_form(client, customer):
    exam = make_exam(customer, questions=3, can_back=False)
    launch = launched(exam, "s", mobile="")
    start(client, launch)
    item = items(launch)[0]
    client.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": item.question_id, "answer": "2"}
    )
    changed = client.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": item.question_id, "answer": "3"}
    )
    assert changed.status_code == 400 and changed.json()["code"] == "answer_locked"
    page = client.get(page_url(launch))
    radios = page.text.split(f'id="q-{item.question_id}"')[1].split("</fieldset>")[0]
    assert radios.count("disabled") == 4
    no_js = client.post(f"/exam/{launch.launch_id}/save/", {f"q{item.question_id}": "4"})
    assert no_js.status_code == 400
    assert "does not allow changing" in no_js.text


@pytest.mark.parametrize(
    "language, locked, invalid",
    [
        (
            "en",
            "Question 2 has been answered and this exam does not allow changing it.",
            "Answer to question 3 must be 1, 2, 3 or 4.",
        ),
        (
            "fa",
            "به سوال ۲ پاسخ داده شده و در این آزمون امکان تغییر پاسخ وجود ندارد.",
            "پاسخ سوال ۳ باید ۱، ۲، ۳ یا ۴ باشد.",
        ),
    ],
)
@pytest.mark.django_db
def test_a_refused_form_speaks_the_exams_language_and_numbers_questions_as_shown(
    client, customer, language, locked, invalid
):
    """Without JavaScript a refusal reads as the page does: in the exam's language, naming a
    question by its number on the page (the API names it by its id)."""
    make_exam(customer, questions=7)  # so that no question's id is its number on the page
    exam = make_exam(customer, questions=3, can_back=False, language=language)
    launch = launched(exam, "s", mobile="")
    start(client, launch)
    second, third = items(launch)[1:3]
    assert second.question_id != 2
    save = f"/exam/{launch.launch_id}/save/"
    client.post(save, {f"q{second.question_id}": "2", "confirm": str(second.question_id)})

    refused = client.post(save, {f"q{second.question_id}": "3"})
    assert refused.status_code == 400 and locked in refused.text
    refused = client.post(save, {f"q{third.question_id}": "9"})
    assert refused.status_code == 400 and invalid in refused.text
    finished = client.post(f"/exam/{launch.launch_id}/finish/", {f"q{third.question_id}": "9"})
    assert finished.status_code == 400 and invalid in finished.text
    # The page's script shows its save's refusal under the question: the same words.
    scripted = client.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": second.question_id, "answer": "4"}
    )
    assert scripted.status_code == 400 and scripted.json()["error"] == locked


@pytest.mark.django_db
def test_past_the_deadline_the_page_shows_the_result_of_saved_answers(candidate, launch):
    item = items(launch)[0]
    candidate.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": item.question_id, "answer": "1"}
    )
    Quiz.objects.filter(pk=launch.quiz_id).update(deadline_at=timezone.now() - timedelta(seconds=1))
    late = candidate.post(
        f"/exam/{launch.launch_id}/answer/",
        {"question_id": items(launch)[1].question_id, "answer": "2"},
    )
    assert late.status_code == 400 and late.json()["code"] == "time_up"
    page = candidate.get(page_url(launch))
    assert page["Location"] == f"/exam/{launch.launch_id}/result/"
    result = candidate.get(page["Location"])
    assert "Time ran out" in result.text
    launch.quiz.refresh_from_db()
    assert launch.quiz.finished_by == "deadline" and launch.quiz.correct_answers == 1


@pytest.mark.django_db
def test_persian_start_and_exam_pages_are_right_to_left_and_translated(client, customer):
    exam = make_exam(customer, questions=2, language="fa", duration=45)
    launch = launched(exam, "s", mobile="")
    intro = client.get(page_url(launch))
    assert '<html lang="fa" dir="rtl">' in intro.text
    assert "زمان باقی‌مانده" in intro.text and "۴۵ دقیقه" in intro.text  # Persian digits
    assert ">شروع</button>" in intro.text
    assert not claimed(launch)
    page = start(client, launch)
    assert '<html lang="fa" dir="rtl">' in page.text
    assert "زمان باقی‌مانده" in page.text
    refused = Client().get(page_url(launch))
    assert refused.status_code == 403 and '<html lang="fa" dir="rtl">' in refused.text
    english = make_exam(customer, questions=2, language="en")
    launch2 = launched(english, "s", mobile="")
    intro2 = client.get(page_url(launch2))
    assert '<html lang="en" dir="ltr">' in intro2.text and ">Start</button>" in intro2.text
    assert '<html lang="en" dir="ltr">' in start(client, launch2).text


@pytest.mark.django_db
def test_odd_field_names_and_ids_from_a_browser_are_not_500(candidate, launch):
    huge = candidate.post(
        f"/exam/{launch.launch_id}/answer/", {"question_id": "99999999999999999999", "answer": "1"}
    )
    assert huge.status_code == 400
    superscript = candidate.post(f"/exam/{launch.launch_id}/save/", {"q²": "1", "save": ""})
    assert superscript.status_code == 302


@pytest.mark.django_db
def test_the_browser_key_cookie_is_scoped_to_the_exam_pages(client, launch):
    client.get(page_url(launch))
    cookie = client.post(start_url(launch)).cookies[f"exam-{launch.launch_id}"]
    assert cookie["path"] == "/exam/"
    assert int(cookie["max-age"]) == 30 * 60 + 24 * 3600


def _declarations(css: str, selector: str) -> dict[str, str]:
    """The declarations of the rule whose selector list is exactly `selector`."""
    rule = re.search(r"(?:^|})\s*" + re.escape(selector) + r"\s*\{([^}]*)\}", css, re.M)
    assert rule, f"no rule for {selector}"
    pairs = (part.split(":", 1) for part in rule.group(1).split(";") if ":" in part)
    return {name.strip(): value.strip() for name, value in pairs}


@pytest.mark.django_db
def test_the_persian_result_writes_its_formula_as_one_left_to_right_line(client, customer):
    exam = make_exam(customer, questions=2, language="fa", accept_score=50)
    launch = launched(exam, "stu-fa", mobile="")
    start(client, launch)
    first = items(launch)[0]
    client.post(
        f"/exam/{launch.launch_id}/finish/", {f"q{first.question_id}": str(first.question.correct)}
    )
    result = client.get(f"/exam/{launch.launch_id}/result/").text
    # Isolated left to right, in the page's own stylesheet (no inline style: the CSP)...
    formula = '<span class="formula" dir="ltr" id="score-formula">۱ ÷ ۲ × ۱۰۰ = ۵۰٪</span>'
    assert formula in result and 'href="/static/css/portal.css"' in result
    assert "style=" not in result
    # ...and never wrapped: a wrapped equation's pieces were laid out right to left.
    css = Path(finders.find("css/portal.css")).read_text(encoding="utf-8")
    rule = _declarations(css, ".formula")
    assert rule["white-space"] == "nowrap"
    assert rule["display"] == "inline-block"
    assert rule["direction"] == "ltr" and rule["unicode-bidi"] == "isolate"


@pytest.mark.django_db
def test_the_way_back_comes_right_after_the_score(candidate, launch):
    """Seen on arrival, on a phone too (the countdown, tests/browser/test_exam_result_phone.py):
    just below the score, before the figures and the explanation."""
    candidate.post(f"/exam/{launch.launch_id}/finish/", {})
    result = candidate.get(f"/exam/{launch.launch_id}/result/").text
    places = [
        result.index(marker)
        for marker in ('id="result-percentage"', 'id="continue-box"', 'id="stay"', "<dl class")
    ]
    assert places == sorted(places)
    assert result.index('id="continue-box"') < result.index('id="score-explained"')


@pytest.mark.django_db
def test_two_presses_of_start_in_one_browser_both_go_on_and_keep_one_key(launch):
    """A double click posts Start twice before either answers: both posts carry the cookie jar
    of the start page, so both carry the key it gave, and both claim with it."""
    browser = Client()
    intro = browser.get(page_url(launch))
    key = intro.cookies[f"exam-{launch.launch_id}"].value
    presses = []
    for _ in range(2):  # the same jar, as the browser sent them: neither saw the other's answer
        press = Client()
        press.cookies = browser.cookies.__class__(browser.cookies)
        presses.append(press.post(start_url(launch)))
    assert [p.status_code for p in presses] == [302, 302], [p.text[:200] for p in presses]
    assert all(p["Location"] == page_url(launch) for p in presses)
    stored = Launch.objects.get(pk=launch.pk)
    assert services.holds_launch(stored, key)
    # Whichever answer the browser keeps, it holds the key that claimed the launch.
    for press in presses:
        cookie = press.cookies.get(f"exam-{launch.launch_id}")
        assert cookie is None or cookie.value == key
    assert browser.get(page_url(launch)).status_code == 200
    # Another browser, with a key of its own from the start page, is still refused.
    other = Client()
    other.get(page_url(launch))
    refused = other.post(start_url(launch))
    assert refused.status_code == 403 and "another device" in refused.text
    assert Launch.objects.get(pk=launch.pk).browser_key_hash == stored.browser_key_hash


@pytest.mark.django_db
def test_a_cookie_that_is_no_key_of_ours_gets_a_key_that_claims(client, launch):
    client.cookies[f"exam-{launch.launch_id}"] = "x"
    intro = client.get(page_url(launch))
    key = intro.cookies[f"exam-{launch.launch_id}"].value
    assert key != "x" and len(key) == 43
    started = client.post(start_url(launch))
    assert started.status_code == 302
    assert services.holds_launch(Launch.objects.get(pk=launch.pk), key)
    # A browser that never saw the start page (its cookie lost) gets its key from Start.
    fresh = make_exam(launch.quiz.exam.customer, questions=2)
    other = launched(fresh, "s2", mobile="")
    pressed = Client().post(start_url(other))
    assert pressed.status_code == 302
    assert services.holds_launch(
        Launch.objects.get(pk=other.pk), pressed.cookies[f"exam-{other.launch_id}"].value
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_from_one_browser_over_http_all_go_on(live_server, exam, together):
    """Real concurrent requests: the start page's cookie jar posted four times at once (a
    double click, a nervous candidate). Every press goes on to the questions, with the key
    that claimed the launch; another browser is still refused."""
    import httpx

    launch = launched(exam, "stu-race")
    intro = httpx.get(f"{live_server.url}{page_url(launch)}", timeout=30)
    jar = dict(intro.cookies)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', intro.text).group(1)
    key = jar[f"exam-{launch.launch_id}"]

    def press(_: int) -> httpx.Response:
        return httpx.post(
            f"{live_server.url}{start_url(launch)}",
            data={"csrfmiddlewaretoken": token},
            cookies=jar,
            headers={"Referer": f"{live_server.url}{page_url(launch)}"},
            timeout=30,
        )

    presses = together(4, press)
    assert [p.status_code for p in presses] == [302] * 4, [p.text[:300] for p in presses]
    assert all(p.headers["location"] == page_url(launch) for p in presses)
    assert {p.cookies.get(f"exam-{launch.launch_id}", key) for p in presses} == {key}
    assert services.holds_launch(Launch.objects.get(pk=launch.pk), key)
    questions = httpx.get(f"{live_server.url}{page_url(launch)}", cookies=jar, timeout=30)
    assert questions.status_code == 200 and "q1 choice one" in questions.text

    other = httpx.get(f"{live_server.url}{page_url(launch)}", timeout=30)
    assert other.status_code == 403


@pytest.mark.django_db
def test_enter_on_a_choice_without_javascript_comes_back_to_that_question(candidate, launch):
    """Enter on a choice presses the form's default "Save answers": the page comes back at the
    question whose answer that save changed (the last such, in the page's order), not at the
    top; with nothing changed, at the question to go on with."""
    first, second, third, fourth = items(launch)[:4]
    save = f"/exam/{launch.launch_id}/save/"
    candidate.post(save, {f"q{first.question_id}": "1", f"q{second.question_id}": "2", "save": ""})
    # The whole form is posted again: 1 and 2 as they were, 3 newly chosen.
    posted = {
        f"q{first.question_id}": "1",
        f"q{second.question_id}": "2",
        f"q{third.question_id}": "4",
        "save": "",
    }
    saved = candidate.post(save, posted)
    assert saved.status_code == 302
    assert saved["Location"] == (
        f"{page_url(launch)}&saved=1&at={third.question_id}#q-{third.question_id}"
    )
    page = candidate.get(saved["Location"])
    assert "Your answers are saved." in page.text and page.context["answered"] == 3
    # The page names that question: its title and its skip link.
    assert "<title>Question 3 of 5 · " in page.text
    assert f'id="skip-to-question" href="#q-{third.question_id}"' in page.text
    # Changed again (1 in Persian digits is no change): that one.
    again = candidate.post(
        save, {**posted, f"q{first.question_id}": "۱", f"q{second.question_id}": "3"}
    )
    assert again["Location"].endswith(f"#q-{second.question_id}")
    # Nothing changed: the first still open question.
    same = candidate.post(save, {**posted, f"q{second.question_id}": "3"})
    assert same["Location"].endswith(f"&at={fourth.question_id}#q-{fourth.question_id}")


@pytest.mark.parametrize(
    "language, first, third",
    [("en", "Question 1 of 5", "Question 3 of 5"), ("fa", "سوال ۱ از ۵", "سوال ۳ از ۵")],
)
@pytest.mark.django_db
def test_the_page_title_names_the_current_question(client, customer, language, first, third):
    exam = make_exam(customer, questions=5, language=language)
    launch = launched(exam, "s", mobile="")
    page = start(client, launch)
    assert f"<title>{first} · {exam.title}</title>" in page.text
    one, two = items(launch)[:2]
    for item in (one, two):
        client.post(
            f"/exam/{launch.launch_id}/answer/", {"question_id": item.question_id, "answer": "1"}
        )
    # Resumed: at the first question still open.
    assert f"<title>{third} · {exam.title}</title>" in client.get(page_url(launch)).text
    # The script keeps it so, in the page's words and digits (exam.js fills them in).
    words = "Question %(n)s of %(total)s" if language == "en" else "سوال %(n)s از %(total)s"
    assert f'data-msg-title="{words}"' in page.text
    assert f'data-exam-title="{exam.title}"' in page.text


@pytest.mark.django_db
def test_a_question_message_is_under_its_legend_with_an_id(candidate, launch):
    item = items(launch)[0]
    page = candidate.get(page_url(launch)).text
    fieldset = page.split(f'id="q-{item.question_id}"')[1].split("</fieldset>")[0]
    error = f'<p class="q-error" id="q-{item.question_id}-error" role="alert" tabindex="-1" hidden>'
    assert error in fieldset
    assert fieldset.index("</legend>") < fieldset.index(error) < fieldset.index('class="choices"')


@pytest.mark.django_db
def test_the_result_waits_long_enough_and_stay_comes_first(candidate, launch):
    """WCAG 2.2.1: at least 20 seconds before the page sends anyone away; "Stay on this page"
    before "Continue"; the countdown is no live region (result.js speaks it once more, late)."""
    candidate.post(f"/exam/{launch.launch_id}/finish/", {})
    result = candidate.get(f"/exam/{launch.launch_id}/result/")
    seconds = int(re.search(r'data-seconds="(\d+)"', result.text).group(1))
    assert seconds >= 20
    text = result.text
    assert text.index('id="stay"') < text.index('id="continue"')
    assert '<p id="continue-text"></p>' in text
    assert 'aria-describedby="continue-text"' in text
    assert '<p id="continue-announcer" class="visually-hidden" role="status"></p>' in text
