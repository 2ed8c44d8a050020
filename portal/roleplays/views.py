"""The candidate's roleplay pages: overview, brief, conversation turn by turn, 16PF ratings,
thank-you. The Django session (opened by /api/integration/assessment-start) says whose
assessment this is; every page works with plain form posts, htmx swaps the conversation."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from portal.roleplays import services
from portal.roleplays.models import Assessment, Roleplay, RoleplayAttempt
from portal.roleplays.services import RoleplayContent, RoleplayError

SESSION_KEY = "roleplay_assessment_id"


def _assessment(request: HttpRequest) -> Assessment | None:
    assessment_id = request.session.get(SESSION_KEY)
    if assessment_id is None:
        return None
    return Assessment.objects.select_related("cluster", "partner").filter(pk=assessment_id).first()


def _no_session(request: HttpRequest) -> HttpResponse:
    return render(request, "roleplay/no_session.html", status=403)


def _roleplay(assessment: Assessment, roleplay_id: str) -> Roleplay | None:
    return Roleplay.objects.filter(cluster=assessment.cluster, roleplay_id=roleplay_id).first()


def _remaining(attempt: RoleplayAttempt) -> int:
    return max(0, int((attempt.deadline_at - timezone.now()).total_seconds()))


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    assessment = _assessment(request)
    if assessment is None:
        return _no_session(request)
    attempts = services.attempts_of(assessment)
    for attempt in attempts.values():
        services.refresh_on_access(attempt)
    assessment.refresh_from_db()
    roleplays = services.roleplays_of(assessment)
    upcoming = services.next_roleplay(assessment)
    rows = []
    for roleplay in roleplays:
        attempt = attempts.get(roleplay.pk)
        if attempt is not None and attempt.is_finished:
            status = "done"
        elif attempt is not None:
            status = "in_progress"
        elif upcoming is not None and upcoming.pk == roleplay.pk:
            status = "next"
        else:
            status = "locked"
        rows.append({"roleplay": roleplay, "attempt": attempt, "status": status})
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
        "likert_scale": [
            (1, "Strongly disagree"),
            (2, "Disagree"),
            (3, "Neither"),
            (4, "Agree"),
            (5, "Strongly agree"),
        ],
    }


def _candidate_roleplay(request: HttpRequest, roleplay_id: str):
    """(assessment, roleplay) of this browser's session, or the response that sends it away:
    no session → how to come back; a roleplay not of its cluster → the overview."""
    assessment = _assessment(request)
    if assessment is None:
        return _no_session(request)
    roleplay = _roleplay(assessment, roleplay_id)
    if roleplay is None:
        return redirect("roleplays:overview")
    return assessment, roleplay


@require_GET
def play(request: HttpRequest, roleplay_id: str) -> HttpResponse:
    found = _candidate_roleplay(request, roleplay_id)
    if isinstance(found, HttpResponse):
        return found
    assessment, roleplay = found
    context = _play_context(assessment, roleplay)
    attempt = context["attempt"]
    if attempt is not None and attempt.is_finished:
        return redirect("roleplays:overview")
    upcoming = services.next_roleplay(assessment)
    if attempt is None and (upcoming is None or upcoming.pk != roleplay.pk):
        return redirect("roleplays:overview")
    error = request.session.pop("roleplay_error", "")
    return render(request, "roleplay/play.html", context | {"error": error})


def _back_to_play(request: HttpRequest, roleplay: Roleplay, *, error: str = "") -> HttpResponse:
    url = reverse("roleplays:play", args=[roleplay.roleplay_id])
    if request.htmx:
        assessment = _assessment(request)
        context = _play_context(assessment, roleplay)
        if context["attempt"] is None or context["attempt"].is_finished:
            return HttpResponseClientRedirect(reverse("roleplays:overview"))
        return render(request, "roleplay/play.html#stage", context | {"error": error})
    if error:
        request.session["roleplay_error"] = error
    return HttpResponseRedirect(url)


@require_POST
def start(request: HttpRequest, roleplay_id: str) -> HttpResponse:
    found = _candidate_roleplay(request, roleplay_id)
    if isinstance(found, HttpResponse):
        return found
    assessment, roleplay = found
    try:
        services.start_roleplay(assessment=assessment, roleplay=roleplay)
    except RoleplayError:
        return redirect("roleplays:overview")
    return redirect("roleplays:play", roleplay_id=roleplay.roleplay_id)


def _attempt_or_none(assessment: Assessment, roleplay: Roleplay) -> RoleplayAttempt | None:
    return RoleplayAttempt.objects.filter(assessment=assessment, roleplay=roleplay).first()


def _step(request: HttpRequest, roleplay_id: str, act) -> HttpResponse:
    """Run one candidate step (`act(attempt)` → an error message or "") on their own started
    roleplay, and answer as the page expects: the next stage, or the overview when it ended."""
    found = _candidate_roleplay(request, roleplay_id)
    if isinstance(found, HttpResponse):
        return found
    assessment, roleplay = found
    attempt = _attempt_or_none(assessment, roleplay)
    if attempt is None:
        return redirect("roleplays:overview")
    try:
        problem = act(attempt)
    except RoleplayError as error:
        if error.code in {"time_up", "roleplay_finished"}:
            return _leave(request)
        problem = error.message
    if problem:
        return _back_to_play(request, roleplay, error=problem)
    return _after_step(request, assessment, roleplay)


@require_POST
def respond(request: HttpRequest, roleplay_id: str) -> HttpResponse:
    def act(attempt: RoleplayAttempt) -> str:
        try:
            option_id = int(request.POST.get("option", ""))
        except ValueError:
            return "Please choose one of the answers."
        services.respond(attempt=attempt, option_id=option_id)
        return ""

    return _step(request, roleplay_id, act)


@require_POST
def rate(request: HttpRequest, roleplay_id: str) -> HttpResponse:
    def act(attempt: RoleplayAttempt) -> str:
        try:
            values = {
                int(name.removeprefix("item-")): int(value)
                for name, value in request.POST.items()
                if name.startswith("item-") and value
            }
        except ValueError:
            return "Each rating is from 1 to 5."
        missing = services.rate(attempt=attempt, values=values)
        return f"Please rate every statement ({missing} left)." if missing else ""

    return _step(request, roleplay_id, act)


def _leave(request: HttpRequest) -> HttpResponse:
    url = reverse("roleplays:overview")
    return HttpResponseClientRedirect(url) if request.htmx else HttpResponseRedirect(url)


def _after_step(request: HttpRequest, assessment: Assessment, roleplay: Roleplay) -> HttpResponse:
    attempt = _attempt_or_none(assessment, roleplay)
    if attempt is not None and attempt.is_finished:
        return _leave(request)
    return _back_to_play(request, roleplay)


@require_GET
def thanks(request: HttpRequest) -> HttpResponse:
    assessment = _assessment(request)
    if assessment is None:
        return _no_session(request)
    if assessment.status != Assessment.Status.COMPLETED:
        return redirect("roleplays:overview")
    return render(request, "roleplay/thanks.html", {"assessment": assessment, "seconds": 8})
