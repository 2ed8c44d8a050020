"""The AI Reality Check visitor pages: landing, the four steps, contact, results and the shared
results link. Plain form posts work without JavaScript; htmx re-renders a step in place.

The visitor is known by the `assessment-session` cookie, set exactly as the JSON API sets it,
and every change goes through portal.scorecards.services, like the API's.
"""

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from api.scorecards import visitor_scope
from portal import ratelimit
from portal.scorecards import leads, selectors, services
from portal.scorecards import results as stored_results
from portal.scorecards.models import Scorecard, Visit, VisitorSession
from portal.scorecards.services import TOTAL_STEPS, ScorecardError, set_cookie

# The chart's geometry, in SVG user units: a bar of 100 is BAR_MAX wide.
BAR_MAX = 300
BAR_HEIGHT = 18
ROW_HEIGHT = 44

# What the results page says about the follow-up. "skipped" is not said to a visitor who gave
# an address: for HubSpot it means the portal has no CRM configured, which is not their doing.
EMAIL_WORDS = {
    "sent": _("Your results e-mail has been sent."),
    "pending": _("Your results e-mail is on its way."),
    "failed": _("Your results e-mail could not be delivered."),
}
HUBSPOT_WORDS = {
    "synced": _("Your details are with our team."),
    "pending": _("Your details are on their way to our team."),
    "failed": _("We could not pass your details to our team yet; we keep trying."),
}
NO_EMAIL_WORDS = _(
    "You left no e-mail address, so we send you no results e-mail and nobody will contact you."
)


def _filled(autocomplete: str, **attrs: str) -> dict:
    """A field's browser hints: what autofill may put in it (and, e.g., the phone keypad)."""
    return {"attrs": {"autocomplete": autocomplete, **attrs}}


class StartForm(forms.Form):
    email = forms.EmailField(
        label="E-mail (optional)",
        required=False,
        max_length=254,
        widget=forms.EmailInput(**_filled("email")),
    )
    company = forms.CharField(
        label="Company (optional)",
        required=False,
        max_length=200,
        widget=forms.TextInput(**_filled("organization")),
    )


class ContactForm(forms.Form):
    first_name = forms.CharField(
        label="First name",
        required=False,
        max_length=100,
        widget=forms.TextInput(**_filled("given-name")),
    )
    last_name = forms.CharField(
        label="Last name",
        required=False,
        max_length=100,
        widget=forms.TextInput(**_filled("family-name")),
    )
    company = forms.CharField(
        label="Company",
        required=False,
        max_length=200,
        widget=forms.TextInput(**_filled("organization")),
    )
    phone = forms.CharField(
        label="Phone",
        required=False,
        max_length=50,
        widget=forms.TextInput(**_filled("tel", type="tel", inputmode="tel")),
    )
    email = forms.EmailField(
        label="E-mail",
        required=False,
        max_length=254,
        widget=forms.EmailInput(**_filled("email")),
    )
    feedback = forms.CharField(
        label="Feedback on this check", required=False, max_length=5000, widget=forms.Textarea
    )


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """PRG for a plain post; htmx follows with a full page load."""
    return HttpResponseClientRedirect(url) if request.htmx else HttpResponseRedirect(url)


def _step_url(number: int) -> str:
    return reverse("scorecards:step", args=[number])


def _resume_url(visit: Visit) -> str:
    return _step_url(min(visit.steps_completed, TOTAL_STEPS - 1) + 1)


def _visits(session: VisitorSession | None) -> tuple[Visit | None, Visit | None]:
    """(the open visit, the latest completed one) of the session."""
    if session is None:
        return None, None
    open_visit = Visit.objects.filter(session=session, completed_at__isnull=True).first()
    done = Visit.objects.filter(session=session, completed_at__isnull=False).first()
    return open_visit, done


# ---------------------------------------------------------------------------------------------
# Landing and start


def _landing(request: HttpRequest, form: StartForm, *, error: str = "", status: int = 200):
    open_visit, done = _visits(services.current_session(request))
    scorecard = selectors.active_scorecard()
    context = {
        "scorecard": scorecard,
        "question_count": sum(len(qids) for qids in services.steps(scorecard)) if scorecard else 0,
        "form": form,
        "open_visit": open_visit,
        "resume_url": _resume_url(open_visit) if open_visit else "",
        "done": done,
        "error": error,
        "total_steps": TOTAL_STEPS,
    }
    return render(request, "scorecard/landing.html", context, status=status)


# The API's limits (seed 002's table) with the same counters: pages and API share one count.
START_LIMIT = ("ip", 10, 3600, "scorecard-start")
SUBMIT_LIMIT = ("ip", 5, 3600, "scorecard-submit")


# What a refused request leaves behind, said honestly on the 429 page: a start refused keeps
# nothing new (a brand-new visitor has nothing saved yet), a step refused did not save the
# choices on its page, a submit refused keeps every saved answer.
REFUSED_START, REFUSED_STEP, REFUSED_SUBMIT = "start", "step", "submit"


def _over_limit(request: HttpRequest, scope, limit: int, window: int, name: str, *, refused: str):
    """A 429 page when this request is over its limit; the rate-limit headers either way."""
    state = ratelimit.check(request, scope, limit, window, name=name)
    if not state.limited:
        return None
    in_progress = (
        refused != REFUSED_START or _visits(services.current_session(request))[0] is not None
    )
    response = render(
        request,
        "scorecard/limited.html",
        {
            "minutes": max(1, (state.retry_after + 59) // 60),
            "refused": refused,
            "in_progress": in_progress,
        },
        status=429,
    )
    response["Retry-After"] = str(state.retry_after)
    return response


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    return _landing(request, StartForm())


@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """Start (or resume) the assessment, set the session cookie, go to the step to resume."""
    if (limited := _over_limit(request, *START_LIMIT, refused=REFUSED_START)) is not None:
        return limited
    form = StartForm(request.POST)
    if not form.is_valid():
        return _landing(request, form, status=400)
    try:
        session, _created = services.open_session(request)
        visit = services.start(
            session=session,
            email=form.cleaned_data["email"].strip(),
            company=form.cleaned_data["company"].strip(),
            referrer=request.headers.get("Referer", ""),
            browser_info={"userAgent": request.headers.get("User-Agent", "")[:500]},
        )
    except ScorecardError as exc:
        return _landing(request, form, error=exc.message, status=exc.status)
    response = _go(request, _resume_url(visit))
    set_cookie(response, session.session_id)
    return response


# ---------------------------------------------------------------------------------------------
# The four steps


@dataclass(frozen=True)
class QuestionView:
    qid: str
    number: int
    text: str
    choices: list
    answer: str | None
    missing: bool


def _step_context(
    scorecard: Scorecard, visit: Visit, number: int, *, missing=(), error: str = ""
) -> dict:
    sections = list(scorecard.sections.all())
    section = sections[number - 1]
    questions = [
        QuestionView(
            qid=q.qid,
            number=position,
            text=q.text,
            choices=list(q.choices.all()),
            answer=visit.responses.get(q.qid),
            missing=q.qid in missing,
        )
        for position, q in enumerate(section.questions.all(), start=1)
    ]
    all_qids = [qid for qids in services.steps(scorecard) for qid in qids]
    return {
        "scorecard": scorecard,
        "visit": visit,
        "section": section,
        "questions": questions,
        "number": number,
        "total_steps": TOTAL_STEPS,
        "steps_before": number - 1,
        "answered": sum(1 for qid in all_qids if qid in visit.responses),
        "question_count": len(all_qids),
        "missing_count": len(missing),
        "error": error,
        "is_last": number == TOTAL_STEPS,
    }


def _visitor_visit(request: HttpRequest) -> tuple[VisitorSession | None, Visit | None, str]:
    """(session, open visit, where to go instead when there is no open visit)."""
    session = services.current_session(request)
    open_visit, done = _visits(session)
    if open_visit is not None:
        return session, open_visit, ""
    if done is not None:
        return session, None, reverse("scorecards:results", args=[done.assessment_id])
    return session, None, reverse("scorecards:landing")


@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, number: int) -> HttpResponse:
    """One section's questions. A post saves whatever is chosen (never losing an answer): a
    complete step moves on, an incomplete one is shown again with a message by each gap."""
    if not 1 <= number <= TOTAL_STEPS:
        raise Http404("No such step.")
    session, visit, elsewhere = _visitor_visit(request)
    if visit is None:
        return _go(request, elsewhere)
    first_open = min(visit.steps_completed, TOTAL_STEPS - 1) + 1
    if number > first_open:
        return _go(request, _step_url(first_open))
    scorecard = selectors.scorecard_by_id(visit.scorecard_id)
    template = "scorecard/step.html#step" if request.htmx else "scorecard/step.html"
    if request.method == "GET":
        return render(request, template, _step_context(scorecard, visit, number))
    limited = _over_limit(request, visitor_scope, 100, 3600, "scorecard-save", refused=REFUSED_STEP)
    if limited is not None:
        return limited

    qids = services.steps(scorecard)[number - 1]
    chosen = {qid: request.POST[qid] for qid in qids if request.POST.get(qid)}
    try:
        saved = services.save_progress(session=session, step=number - 1, responses=chosen)
    except ScorecardError as exc:
        context = _step_context(scorecard, visit, number, error=exc.message)
        return render(request, template, context, status=400)
    if "back" in request.POST and number > 1:
        return _go(request, _step_url(number - 1))
    if not saved.can_proceed:
        context = _step_context(scorecard, saved.visit, number, missing=set(saved.missing))
        return render(request, template, context)
    if number < TOTAL_STEPS:
        return _go(request, _step_url(number + 1))
    return _go(request, reverse("scorecards:contact"))


# ---------------------------------------------------------------------------------------------
# Contact details, then submit


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    """Optional contact details and feedback; "See my results" scores the assessment."""
    session, visit, elsewhere = _visitor_visit(request)
    if visit is None:
        return _go(request, elsewhere)
    if visit.steps_completed < TOTAL_STEPS:
        return _go(request, _resume_url(visit))
    if request.method == "GET":
        form = ContactForm(initial={"email": visit.email, "company": visit.company})
        return render(request, "scorecard/contact.html", {"form": form, "visit": visit})
    if (limited := _over_limit(request, *SUBMIT_LIMIT, refused=REFUSED_SUBMIT)) is not None:
        return limited
    form = ContactForm(request.POST)
    if not form.is_valid():
        context = {"form": form, "visit": visit}
        return render(request, "scorecard/contact.html", context, status=400)
    data = form.cleaned_data
    try:
        if data["email"]:
            services.save_progress(
                session=session, step=TOTAL_STEPS - 1, responses={}, email=data["email"]
            )
        submitted = services.submit(
            session=session,
            completion_time=max(0, int((timezone.now() - visit.started_at).total_seconds())),
            contact={
                "firstName": data["first_name"].strip(),
                "lastName": data["last_name"].strip(),
                "company": data["company"].strip(),
                "phone": data["phone"].strip(),
            },
            feedback=data["feedback"].strip(),
        )
    except ScorecardError as exc:
        context = {"form": form, "visit": visit, "error": exc.message}
        return render(request, "scorecard/contact.html", context, status=exc.status)
    return _go(request, reverse("scorecards:results", args=[submitted.visit.assessment_id]))


# ---------------------------------------------------------------------------------------------
# Results, sharing, the shared page


def _chart(result: dict) -> dict:
    """The four section scores as bars, geometry computed here so the SVG needs no style."""
    bars = []
    for index, section in enumerate(result["sections"]):
        score = section["score"]
        y = index * ROW_HEIGHT
        bars.append(
            {
                "name": section["name"],
                "key": section["key"],
                "weight": round(section["weight"] * 100),
                "score": score,
                "label_y": y + 14,
                "bar_y": y + 20,
                "text_y": y + 20 + BAR_HEIGHT - 4,
                "width": round(score / 100 * BAR_MAX, 1),
                "value_x": round(score / 100 * BAR_MAX, 1) + 6,
            }
        )
    return {
        "bars": bars,
        "bar_max": BAR_MAX,
        "bar_height": BAR_HEIGHT,
        "width": BAR_MAX + 44,
        "height": ROW_HEIGHT * len(bars),
        "summary": "; ".join(f"{bar['name']}: {bar['score']} out of 100" for bar in bars),
    }


def _public_context(visit: Visit) -> dict:
    """What both the owner's page and the shared page show: the result stored at submit."""
    result = stored_results.stored(visit)
    return {
        "visit": visit,
        "total": result["totalScore"],
        "band_name": result["categoryName"],
        "band_description": result["categoryDescription"],
        "chart": _chart(result),
        "recommendations": stored_results.recommendations(result, detailed=True),
        "next_steps": result["nextSteps"],
    }


def follow_up_words(visit: Visit) -> list[str]:
    """What the results page tells the visitor about their e-mail and our follow-up: one
    consistent story, from whether they gave an address and where the deliveries stand."""
    if not leads.has_email(visit):
        return [str(NO_EMAIL_WORDS)]
    hubspot_status, email_status = leads.statuses(visit)
    words = [str(EMAIL_WORDS[email_status])] if email_status in EMAIL_WORDS else []
    if hubspot_status in HUBSPOT_WORDS:
        words.append(str(HUBSPOT_WORDS[hubspot_status]))
    return words


def _owned_visit(request: HttpRequest, assessment_id: str) -> Visit | HttpResponse:
    visit = Visit.objects.filter(assessment_id=assessment_id, completed_at__isnull=False).first()
    if visit is None:
        raise Http404("No completed assessment has this id.")
    session = services.current_session(request)
    if session is None or visit.session_id != session.pk:
        return render(request, "scorecard/forbidden.html", status=403)
    return visit


def _share_context(visit: Visit) -> dict:
    path = reverse("scorecards:shared", args=[visit.share_token])
    return {"visit": visit, "share_url": f"{settings.PUBLIC_BASE_URL}{path}"}


@require_GET
def results(request: HttpRequest, assessment_id: str) -> HttpResponse:
    """The owner's results: score, chart, recommendations, benchmarks, next steps, sharing."""
    visit = _owned_visit(request, assessment_id)
    if isinstance(visit, HttpResponse):
        return visit
    context = _public_context(visit)
    benchmarks = stored_results.benchmarks(visit)
    context |= _share_context(visit)
    context |= {
        "benchmarks": benchmarks,
        "has_average": "industryAverage" in benchmarks,
        "follow_up": follow_up_words(visit),
        "shared_flag": request.GET.get("shared", ""),
    }
    return render(request, "scorecard/results.html", context)


@require_POST
def share(request: HttpRequest, assessment_id: str) -> HttpResponse:
    """The owner decides whether the shared page also shows the recommendations."""
    visit = _owned_visit(request, assessment_id)
    if isinstance(visit, HttpResponse):
        return visit
    allowed = request.POST.get("share_recommendations") == "on"
    # One flag on one row, no other model involved: no service function warranted.
    Visit.objects.filter(pk=visit.pk).update(share_recommendations=allowed)
    visit.share_recommendations = allowed
    if request.htmx:
        context = {**_share_context(visit), "saved": True}
        return render(request, "scorecard/results.html#share", context)
    url = reverse("scorecards:results", args=[visit.assessment_id])
    return HttpResponseRedirect(f"{url}?shared=1#share")


@require_GET
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """Anyone with the link: total, band, chart, and recommendations if the owner allows."""
    visit = Visit.objects.filter(share_token=token, completed_at__isnull=False).first()
    if visit is None:
        raise Http404("No shared results with this link.")
    context = _public_context(visit)
    if not visit.share_recommendations:
        context["recommendations"] = []
    context.pop("visit")
    context.pop("next_steps")
    return render(request, "scorecard/shared.html", context)
