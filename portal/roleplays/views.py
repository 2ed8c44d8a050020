"""The candidate's roleplay pages: overview, brief, conversation turn by turn, 16PF ratings,
thank-you. The Django session (opened by /api/integration/assessment-start) says whose
assessment this is; every page works with plain form posts, htmx swaps the conversation. The
pages speak the cluster's language (the launch carries none), right-to-left in fa."""

import math
from collections.abc import Callable
from functools import wraps

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from portal.htmx import redirect as htmx_redirect
from portal.http import PortalRequest
from portal.jsonformat import INT_MAX
from portal.roleplays import services
from portal.roleplays.models import Assessment, Roleplay, RoleplayAttempt
from portal.roleplays.services import SESSION_KEY, RoleplayContent, RoleplayError

LIKERT_SCALE = [
    (1, pgettext_lazy("likert", "Strongly disagree")),
    (2, pgettext_lazy("likert", "Disagree")),
    (3, pgettext_lazy("likert", "Neither")),
    (4, pgettext_lazy("likert", "Agree")),
    (5, pgettext_lazy("likert", "Strongly agree")),
]
# The refusals services.py words in English, by code, in the page's language (same English).
REFUSALS = {
    "no_turn": gettext_lazy("There is nothing to answer now."),
    "stale_option": gettext_lazy(
        "That answer is not one of the options of this turn "
        "(the page may be out of date: it has been refreshed)."
    ),
    "unknown_item": gettext_lazy("Unknown statements in the answer."),
    "invalid_rating": gettext_lazy("Each rating is from 1 to 5."),
}

# Where a step posted after its roleplay's time limit leaves word for the overview: the
# roleplay_id whose late answer was not counted.
LATE_KEY = "roleplay_late"


def _assessment(request: PortalRequest) -> Assessment | None:
    assessment_id = request.session.get(SESSION_KEY)
    if assessment_id is None:
        return None
    return Assessment.objects.select_related("cluster", "partner").filter(pk=assessment_id).first()


def _no_session(request: PortalRequest) -> HttpResponse:
    return render(request, "roleplay/no_session.html", status=403)


def candidate_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Give `view` this browser's assessment (none: how to come back) and run it, errors kept
    in the session included, in the language of the assessment's cluster. Never kept by the
    browser: on Back a kept page showed a message already answered, with its replies on
    offer, and sending one could only be refused. A page of one roleplay (`roleplay_id` in its
    URL) is given it as `roleplay`; an id not of the assessment's cluster leads to the overview."""

    @never_cache
    @wraps(view)
    def wrapper(
        request: PortalRequest, *args, roleplay_id: str | None = None, **kwargs
    ) -> HttpResponse:
        assessment = _assessment(request)
        if assessment is None:
            return _no_session(request)
        if roleplay_id is not None:
            roleplay = _roleplay(assessment, roleplay_id)
            if roleplay is None:
                return redirect("roleplays:overview")
            kwargs["roleplay"] = roleplay
        with translation.override(assessment.cluster.language):
            return view(request, assessment, *args, **kwargs)

    return wrapper


def _roleplay(assessment: Assessment, roleplay_id: str) -> Roleplay | None:
    return Roleplay.objects.filter(cluster=assessment.cluster, roleplay_id=roleplay_id).first()


def _remaining(attempt: RoleplayAttempt) -> int:
    # Rounded up: the page's clock may reach zero after the server's deadline, never before
    # it, so at "Time is up" the server has closed the roleplay too.
    return max(0, math.ceil((attempt.deadline_at - timezone.now()).total_seconds()))


@require_GET
@candidate_page
def overview(request: PortalRequest, assessment: Assessment) -> HttpResponse:
    attempts = services.attempts_of(assessment)
    for each in attempts.values():
        services.refresh_on_access(each)
    assessment.refresh_from_db()
    roleplays = services.roleplays_of(assessment)
    upcoming = services.next_roleplay(assessment)
    late_id = request.session.pop(LATE_KEY, None)
    late = None
    rows = []
    for roleplay in roleplays:
        attempt = attempts.get(roleplay.pk)
        # Closed at its time limit: the overview says so, and names the roleplay an answer
        # came too late to count for (LATE_KEY), so nothing is dropped silently.
        timed_out = attempt is not None and attempt.finished_by == "deadline"
        if timed_out and roleplay.roleplay_id == late_id:
            late = roleplay
        if attempt is not None and attempt.is_finished:
            status = "done"
        elif attempt is not None:
            status = "in_progress"
        elif upcoming is not None and upcoming.pk == roleplay.pk:
            status = "next"
        else:
            status = "locked"
        rows.append(
            {"roleplay": roleplay, "attempt": attempt, "status": status, "timed_out": timed_out}
        )
    done = sum(1 for row in rows if row["status"] == "done")
    return render(
        request,
        "roleplay/overview.html",
        {
            "assessment": assessment,
            "rows": rows,
            "done": done,
            "total": len(rows),
            "upcoming": upcoming,
            "complete": assessment.status == Assessment.Status.COMPLETED,
            "late": late,
        },
    )


def _play_context(assessment: Assessment, roleplay: Roleplay) -> dict:
    attempt = RoleplayAttempt.objects.filter(assessment=assessment, roleplay=roleplay).first()
    services.refresh_on_access(attempt)
    context = {"assessment": assessment, "roleplay": roleplay, "attempt": attempt}
    if attempt is None or attempt.is_finished:
        return context
    content = RoleplayContent.load(roleplay)
    state = services.progress(content, attempt)
    current_options = content.options[state.current_turn.pk] if state.current_turn else []
    return context | {
        "content": content,
        "state": state,
        "options": current_options,
        "remaining_seconds": _remaining(attempt),
        "remaining_minutes": (_remaining(attempt) + 59) // 60,
        "likert_scale": LIKERT_SCALE,
    }


def _anchor(state: services.Progress) -> str:
    """The id of the element a candidate lands on: the message to answer, or the ratings."""
    if state.current_turn is not None:
        return f"turn-{state.current_turn.pk}"
    return "ratings" if state.likert_pending else "stage"


@require_GET
@candidate_page
def play(request: PortalRequest, assessment: Assessment, roleplay: Roleplay) -> HttpResponse:
    # Taken first: a refusal kept for a page that is no longer shown (the time ran out) must
    # not turn up on the next roleplay's.
    error = request.session.pop("roleplay_error", "")
    context = _play_context(assessment, roleplay)
    attempt = context["attempt"]
    if attempt is not None and attempt.is_finished:
        return redirect("roleplays:overview")
    upcoming = services.next_roleplay(assessment)
    if attempt is None and (upcoming is None or upcoming.pk != roleplay.pk):
        return redirect("roleplays:overview")
    return render(request, "roleplay/play.html", context | {"error": error})


def _back_to_play(
    request: PortalRequest,
    assessment: Assessment,
    roleplay: Roleplay,
    attempt: RoleplayAttempt,
    *,
    error: str = "",
) -> HttpResponse:
    if request.htmx:
        context = _play_context(assessment, roleplay)
        if context["attempt"] is None or context["attempt"].is_finished:
            return HttpResponseClientRedirect(reverse("roleplays:overview"))
        return render(request, "roleplay/play.html#stage", context | {"error": error})
    if error:
        request.session["roleplay_error"] = error
    # Without JavaScript the page reloads: land on the message to answer, not the page's top.
    state = services.progress(RoleplayContent.load(roleplay), attempt)
    url = reverse("roleplays:play", args=[roleplay.roleplay_id])
    return HttpResponseRedirect(f"{url}#{_anchor(state)}")


@require_POST
@candidate_page
def start(request: PortalRequest, assessment: Assessment, roleplay: Roleplay) -> HttpResponse:
    try:
        services.start_roleplay(assessment=assessment, roleplay=roleplay)
    except RoleplayError:
        return redirect("roleplays:overview")
    return redirect("roleplays:play", roleplay_id=roleplay.roleplay_id)


def _attempt_or_none(assessment: Assessment, roleplay: Roleplay) -> RoleplayAttempt | None:
    return RoleplayAttempt.objects.filter(assessment=assessment, roleplay=roleplay).first()


def _step(
    request: PortalRequest,
    assessment: Assessment,
    roleplay: Roleplay,
    act: Callable[[RoleplayAttempt], str],
    counted: Callable[[RoleplayAttempt], bool],
) -> HttpResponse:
    """Run one candidate step (`act(attempt)` → an error message or "") on their own started
    roleplay, and answer as the page expects: the next stage, or the overview when it ended.
    A step that came after the time limit is not counted, and the overview says so, unless
    `counted(attempt)`: it only repeats what was recorded in time (a double click)."""
    attempt = _attempt_or_none(assessment, roleplay)
    if attempt is None:
        return redirect("roleplays:overview")
    try:
        problem = act(attempt)
    except RoleplayError as error:
        if error.code in {"time_up", "roleplay_finished"}:
            attempt.refresh_from_db()
            if attempt.finished_by == "deadline" and not counted(attempt):
                request.session[LATE_KEY] = roleplay.roleplay_id
            return _leave(request)
        problem = str(REFUSALS.get(error.code, error.message))
    if problem:
        return _back_to_play(request, assessment, roleplay, attempt, error=problem)
    return _after_step(request, assessment, roleplay)


@require_POST
@candidate_page
def respond(request: PortalRequest, assessment: Assessment, roleplay: Roleplay) -> HttpResponse:
    # The turn the form answers (older pages sent none): a repeat of the answer given there
    # is then a no-op, not a refusal measured against the turn that came next.
    turn_id = _integer(request.POST.get("turn", ""))
    option_id = _integer(request.POST.get("option", ""))

    def act(attempt: RoleplayAttempt) -> str:
        if option_id is None:
            return _("Please choose one of the answers.")
        services.respond(attempt=attempt, option_id=option_id, turn_id=turn_id)
        return ""

    def counted(attempt: RoleplayAttempt) -> bool:
        return option_id is None or (
            turn_id is not None
            and services.response_given(attempt, turn_id=turn_id, option_id=option_id)
        )

    return _step(request, assessment, roleplay, act, counted)


def _integer(value: object) -> int | None:
    """A posted key (an option, a turn, a statement), or None: not a whole number, or none a
    row can have (the databases' integer keys; a larger one failed the query itself)."""
    try:
        number = int(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return number if number is not None and 1 <= number <= INT_MAX else None


@require_POST
@candidate_page
def rate(request: PortalRequest, assessment: Assessment, roleplay: Roleplay) -> HttpResponse:
    try:
        values: dict[int, int] | None = {
            int(name.removeprefix("item-")): int(value)
            for name, value in request.POST.items()
            if name.startswith("item-") and isinstance(value, str) and value
        }
    except ValueError:
        values = None
    if values and not all(1 <= key <= INT_MAX for key in values):
        values = None  # no statement has such a key (a larger one failed the query itself)

    def act(attempt: RoleplayAttempt) -> str:
        if values is None:
            return str(REFUSALS["invalid_rating"])
        missing = services.rate(attempt=attempt, values=values)
        if missing:
            return _("Please rate every statement (%(left)d left).") % {"left": missing}
        return ""

    def counted(attempt: RoleplayAttempt) -> bool:
        return not values or services.ratings_given(attempt, values)

    return _step(request, assessment, roleplay, act, counted)


def _leave(request: PortalRequest) -> HttpResponse:
    return htmx_redirect(request, reverse("roleplays:overview"))


def _after_step(request: PortalRequest, assessment: Assessment, roleplay: Roleplay) -> HttpResponse:
    attempt = _attempt_or_none(assessment, roleplay)
    if attempt is None or attempt.is_finished:
        return _leave(request)
    return _back_to_play(request, assessment, roleplay, attempt)


@require_GET
@candidate_page
def thanks(request: PortalRequest, assessment: Assessment) -> HttpResponse:
    if assessment.status != Assessment.Status.COMPLETED:
        return redirect("roleplays:overview")
    return render(request, "roleplay/thanks.html", {"assessment": assessment})
