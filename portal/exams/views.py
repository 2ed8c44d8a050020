"""The candidate's exam pages. They call the same services as the API.

The browser never holds the customer's client token: the launch id in the URL plus the cookie
set when the candidate presses Start are the candidate's key to their own quiz. Opening
exam_url (a GET, as a messenger's link preview does) only shows the start page and claims
nothing; the Start button's POST binds the launch to this browser. Every page works with plain
form posts; static/exam/exam.js adds autosave, an offline queue, one question at a time and the
countdown.
"""

import re
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db.models import Count, Q
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from portal import localize
from portal.exams import rendering, services
from portal.exams.models import Launch, Quiz, QuizQuestion
from portal.exams.services import ExamError
from portal.htmx import redirect as _go
from portal.http import PortalRequest
from portal.text import normalize_digits

COOKIE_GRACE_SECONDS = 60 * 60 * 24  # the result page stays reachable for a day
# How often an open exam page asks for the time left, so that extra time staff give shows in
# its countdown without a reload (the autosave replies carry it too).
TIME_SYNC_SECONDS = 20


def browser_cookie_name(launch_id: UUID) -> str:
    return f"exam-{launch_id}"


# The form of a browser key this portal gives out (services.new_browser_key: 43 characters);
# a cookie of any other form is not taken as one.
_BROWSER_KEY = re.compile(r"[A-Za-z0-9_-]{43}")


def _browser_key(request: PortalRequest, launch_id: UUID) -> str | None:
    """The browser key this browser sent for the launch, if it is one the portal gives out."""
    key = request.COOKIES.get(browser_cookie_name(launch_id), "")
    return key if _BROWSER_KEY.fullmatch(key) else None


def _set_browser_key(response: HttpResponse, launch: Launch, key: str) -> None:
    """The browser key cookie: HttpOnly, SameSite=Lax, only for the exam pages, and only as long
    as the exam can be open (longer than the exam's duration when the student has an
    accommodation), plus a day for the result."""
    response.set_cookie(
        browser_cookie_name(launch.launch_id),
        key,
        path="/exam/",
        max_age=max(launch.quiz.exam.duration * 60, _remaining_seconds(launch))
        + COOKIE_GRACE_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def _candidate_launch(request: PortalRequest, launch_id) -> Launch:
    """The launch, if this browser is the one that started it; 404 otherwise (never claims)."""
    try:
        key = UUID(str(launch_id))
    except ValueError:
        raise Http404("No such exam.") from None
    try:
        launch = services.get_launch(launch_id=key)
    except ExamError:
        raise Http404("No such exam.") from None
    if not services.holds_launch(launch, request.COOKIES.get(browser_cookie_name(key))):
        raise Http404("No such exam.")
    return launch


def _render(request: PortalRequest, launch: Launch, template: str, context: dict, **kwargs):
    with translation.override(launch.quiz.exam.language):
        return render(request, template, {"launch": launch, **context}, **kwargs)


def _render_page(
    request: PortalRequest,
    launch: Launch,
    context: dict,
    *,
    at: int = 0,
    refused: tuple[int, str] | None = None,
    **kwargs,
) -> HttpResponse:
    """exam/page.html, with its palette and questions rendered in the exam's language; `at`, the
    question the candidate was sent back to (?at=, after a save without JavaScript), is the
    current one (its title, its skip link)."""
    with translation.override(launch.quiz.exam.language):
        regions = rendering.page_regions(
            context["items"],
            total=context["total"],
            can_back=context["exam"].can_back,
            at=at,
            refused=refused,
        )
        return render(request, "exam/page.html", {"launch": launch, **context, **regions}, **kwargs)


def _as_shown(error: ExamError, items: list[rendering.PageItem]) -> ExamError:
    """The refusal naming its question by its number on the page, as the page writes it (the
    API names it by its id); in the active language."""
    ids = [item.question_id for item in items]
    if error.question_id not in ids:
        return error
    return error.numbered(localize.digits(ids.index(error.question_id) + 1))


def _refused(request: PortalRequest, launch: Launch, error: ExamError) -> HttpResponse:
    """The page again (400) saying why a post of its form was refused; called in the exam's
    language (the refusal's words are made in it)."""
    context = _page_context(launch)
    shown = _as_shown(error, context["items"])
    # Said under the question's legend too, where the candidate is (the page opens there).
    refused = (error.question_id, str(shown.message)) if error.question_id else None
    at = error.question_id or 0
    return _render_page(
        request, launch, {**context, "error": shown}, at=at, refused=refused, status=400
    )


def _remaining_seconds(launch: Launch) -> int:
    return _seconds_until(launch.quiz.deadline_at)


def _seconds_until(deadline: datetime) -> int:
    return max(0, int((deadline - timezone.now()).total_seconds()))


def _page_context(launch: Launch) -> dict:
    quiz = launch.quiz
    items = rendering.page_items(quiz)
    answered = sum(1 for item in items if item.answer is not None)
    remaining = _remaining_seconds(launch)
    return {
        "quiz": quiz,
        "exam": quiz.exam,
        "items": items,
        "answered": answered,
        "total": len(items),
        "unanswered": len(items) - answered,
        "flagged": sum(1 for item in items if item.flagged),
        "remaining_seconds": remaining,
        "remaining_minutes": (remaining + 59) // 60,
        "time_sync_seconds": TIME_SYNC_SECONDS,
    }


def _unavailable(request: PortalRequest, launch: Launch | None) -> HttpResponse:
    """The refusal page: an unknown launch (404), or one another browser started (403)."""
    if launch is None:
        return render(request, "exam/unavailable.html", {"reason": "not_found"}, status=404)
    with translation.override(launch.quiz.exam.language):
        return render(request, "exam/unavailable.html", {"reason": "other_browser"}, status=403)


def _start_context(launch: Launch) -> dict:
    quiz = launch.quiz
    remaining = _remaining_seconds(launch)
    return {
        "quiz": quiz,
        "exam": quiz.exam,
        "total": quiz.total_questions,
        "answered": quiz.items.filter(answer__isnull=False).count(),
        "remaining_minutes": (remaining + 59) // 60,
    }


@require_safe
@never_cache
def page(request: PortalRequest) -> HttpResponse:
    """exam_url: /exam/?launch=<launch_id>.

    Safe for link previews and scanners: until the candidate presses Start it shows the start
    page and changes nothing. Afterwards it shows the questions in the browser that started
    it, and a refusal in any other.
    """
    try:
        key = UUID(request.GET.get("launch", ""))
        launch = services.get_launch(launch_id=key)
    except (ValueError, ExamError):
        response = _unavailable(request, None)
    else:
        state = services.claim_state(launch, request.COOKIES.get(browser_cookie_name(key)))
        if state == "other":
            response = _unavailable(request, launch)
        elif state == "unclaimed":
            response = _render(request, launch, "exam/start.html", _start_context(launch))
            # The key this browser will claim the launch with, given before Start is pressed:
            # a double click's two posts then carry the same key, and both go on (start()).
            # It claims nothing: a link preview that keeps it holds nothing.
            if _browser_key(request, key) is None:
                _set_browser_key(response, launch, services.new_browser_key())
        elif launch.quiz.is_finished:
            response = redirect("exams:result", launch_id=key)
        else:
            at = _question_id(request.GET.get("at", ""))
            response = _render_page(request, launch, _page_context(launch), at=at)
    # The link travels through messengers and mail: no search engine should keep it.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_POST
def start(request: PortalRequest, launch_id: UUID) -> HttpResponse:
    """The start page's Start button: claim the launch for this browser, then the questions.

    Pressing it again in the same browser (a double click, the back button) just goes on: the
    browser claims with the key the start page gave it, so each press finds the launch its own
    whichever was answered first (a browser without that key gets a new one here).
    """
    try:
        launch = services.get_launch(launch_id=launch_id)
    except ExamError:
        return _unavailable(request, None)
    held = _browser_key(request, launch_id)
    key = held or services.new_browser_key()
    claimed_now = not launch.browser_key_hash
    if not services.claim_launch(launch, key):
        return _unavailable(request, launch)
    if launch.quiz.is_finished:
        response = redirect("exams:result", launch_id=launch_id)
    else:
        response = HttpResponseRedirect(services.exam_path(launch))
    if claimed_now or held is None:
        _set_browser_key(response, launch, key)
    return response


def _question_id(raw: str) -> int:
    """A posted question_id, or 0 when it is none."""
    valid = raw.isascii() and raw.isdigit() and len(raw) < 10
    return int(raw) if valid else 0


def _answer_fast(request: PortalRequest, launch_id: UUID) -> HttpResponse | None:
    """The autosave when everything is in order: the save in one statement (as the API's, with
    this browser's key in place of a client token), then the progress in one more. None when
    it did not save: the full path then gives the exact refusal, as it always has."""
    browser_key = request.COOKIES.get(browser_cookie_name(launch_id))
    question_id = _question_id(request.POST.get("question_id", ""))
    if not browser_key or question_id < 1:
        return None
    saved = services.save_answer_fast(
        browser_key_hash=services.hash_browser_key(browser_key),
        launch_id=launch_id,
        question_id=question_id,
        answer=request.POST.get("answer"),
        done=_posted_done(request),
    )
    progress = saved and (
        Quiz.objects.filter(launches=launch_id)
        .annotate(answered=Count("items", filter=Q(items__answer__isnull=False)))
        .values_list("answered", "total_questions", "deadline_at")
        .first()
    )
    if not progress:
        return None
    answered, total, deadline = progress
    return JsonResponse(
        {
            "saved": True,
            "answered": answered,
            "total": total,
            "remaining_seconds": _seconds_until(deadline),
        }
    )


def _posted_done(request: PortalRequest) -> str:
    """The `done` of a save from the page's script: a draft (chosen, not confirmed) or a
    confirmed answer in an exam without going back; the seed's in_progress otherwise, as the
    page has always sent. What each means is services._apply's rule."""
    done = request.POST.get("done", "")
    return done if done in {QuizQuestion.DRAFT, "completed"} else "in_progress"


@require_POST
def answer(request: PortalRequest, launch_id: UUID) -> HttpResponse:
    """Autosave of one answer (JSON for the page's script)."""
    fast = _answer_fast(request, launch_id)
    if fast is not None:
        return fast
    launch = _candidate_launch(request, launch_id)
    with translation.override(launch.quiz.exam.language):
        question_id = _question_id(request.POST.get("question_id", ""))
        if question_id < 1:
            return JsonResponse(
                {"error": "question_id is required", "code": "invalid_request"}, status=400
            )
        try:
            services.save_answer(
                launch=launch,
                question_id=question_id,
                answer=request.POST.get("answer"),
                done=_posted_done(request),
            )
        except ExamError as error:
            if error.question_id is not None:  # named by its number on the page
                error = _as_shown(error, rendering.page_items(launch.quiz))
            return JsonResponse(
                {"error": str(error.message), "code": error.code}, status=error.status
            )
        # The autosave is the hot path: count, rather than load every question of the quiz.
        quiz = launch.quiz
        return JsonResponse(
            {
                "saved": True,
                "answered": quiz.items.filter(answer__isnull=False).count(),
                "total": quiz.total_questions,
                "remaining_seconds": _remaining_seconds(launch),
            }
        )


@require_GET
@never_cache
def time_left(request: PortalRequest, launch_id: UUID) -> HttpResponse:
    """The seconds left (JSON), for the page's countdown to follow a deadline staff moved."""
    launch = _candidate_launch(request, launch_id)
    return JsonResponse(
        {"remaining_seconds": _remaining_seconds(launch), "finished": launch.quiz.is_finished}
    )


def _posted_responses(
    request: PortalRequest, launch: Launch, *, done: str = "in_progress", confirm: int = 0
) -> list[services.ResponseIn]:
    """The chosen answers of the page's form, saved with `done` (the one to `confirm` with
    "completed")."""
    responses = []
    for name, value in request.POST.items():
        number = name[1:]
        wanted = name.startswith("q") and number.isascii() and number.isdigit()
        if wanted and len(number) < 10 and isinstance(value, str) and value:
            question_id = int(number)
            responses.append(
                services.ResponseIn(
                    question_id, value, "completed" if question_id == confirm else done
                )
            )
    return responses


def _posted_flag(request: PortalRequest) -> tuple[int, bool] | None:
    """A flag toggle of the form without JavaScript: "<question id>:1" flags, ":0" clears."""
    question_id, _sep, state = request.POST.get("flag", "").partition(":")
    number = _question_id(question_id)
    return (number, state == "1") if number > 0 and state in {"0", "1"} else None


def _last_changed(
    items: list[rendering.PageItem], responses: list[services.ResponseIn], *, can_back: bool
) -> int:
    """The question the candidate was on when they sent the form without JavaScript (Enter on a
    choice presses the form's default "Save answers"): the last one on the page whose answer
    this save changes; else the one they go on with (the first still open); 0 for none.
    `items` are the quiz's items as they were before the save."""
    posted = {r.question_id: normalize_digits(str(r.answer)) for r in responses}
    changed = [
        item.question_id
        for item in items
        if item.question_id in posted
        and posted[item.question_id] != str(item.choice_order.find(str(item.answer)) + 1)
    ]
    if changed:
        return changed[-1]
    current = rendering.current_item(items, can_back=can_back)
    return current.question_id if current else 0


def _next_open(launch: Launch, after: int) -> str:
    """The anchor of the question to go on with after confirming question `after`: the next
    still open one, else the first still open one, else the Finish button."""
    can_back = launch.quiz.exam.can_back
    items = rendering.page_items(launch.quiz)
    index = next((i for i, item in enumerate(items) if item.question_id == after), -1)
    for item in items[index + 1 :] + items[: index + 1]:
        if item.is_open(can_back=can_back):
            return f"q-{item.question_id}"
    return "finish"


@require_POST
def save(request: PortalRequest, launch_id: UUID) -> HttpResponse:
    """The page's form without JavaScript: save every chosen answer, then go on.

    In an exam without going back the answers are saved as drafts, and the question whose
    "Confirm and next" was pressed as final (services._apply); a "Flag for review" toggle
    saves the answers too, then flags. Each lands back on the question to go on with.
    """
    launch = _candidate_launch(request, launch_id)
    can_back = launch.quiz.exam.can_back
    confirm = 0 if can_back else _question_id(request.POST.get("confirm", ""))
    flag = _posted_flag(request)
    responses = _posted_responses(
        request, launch, done="in_progress" if can_back else QuizQuestion.DRAFT, confirm=confirm
    )
    plain = not (confirm or flag or "finish" in request.POST)  # "Save answers", or Enter
    before = rendering.page_items(launch.quiz) if plain else []
    with translation.override(launch.quiz.exam.language):
        try:
            services.save_answers(launch=launch, responses=responses)
            if flag:
                services.flag_question(launch=launch, question_id=flag[0], flagged=flag[1])
        except ExamError as error:
            if error.code in {"quiz_finished", "time_up"}:
                return HttpResponseRedirect(_result_url(launch, _not_counted(launch, responses)))
            return _refused(request, launch, error)
        if confirm and all(response.question_id != confirm for response in responses):
            message = _("Choose an answer to question %(id)s before you confirm it.")
            refused = ExamError(message, code="nothing_to_confirm", question_id=confirm)
            return _refused(request, launch, refused)
    if "finish" in request.POST:
        return redirect("exams:finish", launch_id=launch.launch_id)
    # Each lands on its question (?at= names it to the page: its title, its skip link).
    if confirm:
        target = _next_open(launch, confirm)
        at = f"&at={target[2:]}" if target.startswith("q-") else ""
        return HttpResponseRedirect(f"{services.exam_path(launch)}&saved=1{at}#{target}")
    if flag:
        return HttpResponseRedirect(f"{services.exam_path(launch)}&at={flag[0]}#q-{flag[0]}")
    here = _last_changed(before, responses, can_back=can_back)
    if not here:
        return HttpResponseRedirect(f"{services.exam_path(launch)}&saved=1")
    return HttpResponseRedirect(f"{services.exam_path(launch)}&saved=1&at={here}#q-{here}")


@require_POST
def flag(request: PortalRequest, launch_id: UUID) -> HttpResponse:
    """The page's script's "Flag for review" toggle (JSON): flagged=1 flags, 0 clears."""
    launch = _candidate_launch(request, launch_id)
    with translation.override(launch.quiz.exam.language):
        question_id = _question_id(request.POST.get("question_id", ""))
        flagged = request.POST.get("flagged", "")
        if question_id < 1 or flagged not in {"0", "1"}:
            return JsonResponse(
                {
                    "error": "question_id and flagged (0 or 1) are required",
                    "code": "invalid_request",
                },
                status=400,
            )
        try:
            services.flag_question(launch=launch, question_id=question_id, flagged=flagged == "1")
        except ExamError as error:
            return JsonResponse(
                {"error": str(error.message), "code": error.code}, status=error.status
            )
    return JsonResponse({"flagged": flagged == "1"})


def _review_rows(launch: Launch, items: list[rendering.PageItem]) -> list[dict]:
    """The review page's row per question: its number, state, flag, and a link back to it
    when it can still be opened (without going back: not answered for good)."""
    can_back = launch.quiz.exam.can_back
    path = services.exam_path(launch)
    rows = []
    for n, item in enumerate(items, start=1):
        if item.answer is None:
            state = "unanswered"
        elif not can_back and item.done == QuizQuestion.DRAFT:
            state = "draft"  # chosen, not confirmed: counts as it stands, and may still change
        else:
            state = "answered"
        rows.append(
            {
                "n": n,
                "question_id": item.question_id,
                "state": state,
                "flagged": item.flagged,
                "url": "" if item.is_final(can_back=can_back) else f"{path}#q-{item.question_id}",
            }
        )
    return rows


@require_http_methods(["GET", "POST"])
def finish(request: PortalRequest, launch_id: UUID) -> HttpResponse:
    """Review, confirm, then submit. GET shows the review page (as Moodle's quiz summary:
    every question's state, a link back to each that can still be opened) ending in the
    confirmation; its partial `confirm` alone for htmx. POST submits."""
    launch = _candidate_launch(request, launch_id)
    if launch.quiz.is_finished:
        return _go(request, reverse("exams:result", args=[launch.launch_id]))
    if request.method == "POST":
        responses = _posted_responses(request, launch)
        with translation.override(launch.quiz.exam.language):
            try:
                services.submit_quiz(launch=launch, responses=responses)
            except ExamError as error:
                if error.code not in {"quiz_finished", "time_up"}:
                    return _refused(request, launch, error)
                return _go(request, _result_url(launch, _not_counted(launch, responses)))
        return _go(request, reverse("exams:result", args=[launch.launch_id]))
    template = "exam/finish.html#confirm" if request.htmx else "exam/finish.html"
    context = _page_context(launch)
    context["rows"] = _review_rows(launch, context["items"])
    context["drafts"] = sum(row["state"] == "draft" for row in context["rows"])
    return _render(request, launch, template, context)


def _not_counted(launch: Launch, responses: list[services.ResponseIn]) -> list[int]:
    """The numbers (as the candidate sees them) of the posted answers the server does not hold:
    what the form sent after the time was up, which is not counted."""
    posted = {r.question_id: normalize_digits(str(r.answer)) for r in responses}
    items = launch.quiz.items.order_by("position").only("question_id", "answer", "choice_order")
    return [
        number
        for number, item in enumerate(items, start=1)
        if item.question_id in posted and posted[item.question_id] != str(item.shown_answer)
    ]


def _result_url(launch: Launch, late: list[int]) -> str:
    """The result page; with ?late=3,7 it names the answers that came too late to count."""
    url = reverse("exams:result", args=[launch.launch_id])
    return f"{url}?late={','.join(map(str, late))}" if late else url


def _late_numbers(request: PortalRequest, total: int) -> list[int]:
    """?late=3,7 (from _result_url, or the page's script for answers still queued at time-up),
    as question numbers."""
    parts = request.GET.get("late", "").split(",")[:total]
    numbers = {int(part) for part in parts if part.isascii() and part.isdigit() and len(part) < 6}
    return sorted(numbers & set(range(1, total + 1)))


@require_GET
def result(request: PortalRequest, launch_id: UUID) -> HttpResponse:
    """The result, then on to the customer's callback (with JavaScript automatically after the
    countdown of templates/includes/continue.html, unless the candidate stays)."""
    launch = _candidate_launch(request, launch_id)
    if not launch.quiz.is_finished:
        return HttpResponseRedirect(services.exam_path(launch))
    return _render(
        request,
        launch,
        "exam/result.html",
        {
            "quiz": launch.quiz,
            "exam": launch.quiz.exam,
            "late": _late_numbers(request, launch.quiz.total_questions),
            **services.score_explained(launch.quiz),
        },
    )


@require_GET
def continue_to_customer(request: PortalRequest, launch_id: UUID) -> HttpResponse:
    """302 to the customer's callback_url with the signed result."""
    launch = _candidate_launch(request, launch_id)
    if not launch.quiz.is_finished:
        return HttpResponseRedirect(services.exam_path(launch))
    return HttpResponseRedirect(services.redirect_url(launch))
