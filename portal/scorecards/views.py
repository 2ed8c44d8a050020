"""The AI Reality Check visitor pages: landing, the four steps, contact, results and the shared
results link. Plain form posts work without JavaScript; htmx re-renders a step in place and
saves each choice as it is made.

The visitor is known by the `assessment-session` cookie, set exactly as the JSON API sets it,
and every change goes through portal.scorecards.services, like the API's. The pages speak the
visitor's language (English or Persian, right-to-left): `?lang=` when they pick one, kept in
Django's language cookie, else what their browser asks for (`visitor_language`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal.db import column_length
from portal.htmx import redirect as _go
from portal.http import PortalRequest
from portal.scorecards import content, leads, limits, selectors, services, visitor
from portal.scorecards import results as stored_results
from portal.scorecards.models import (
    CONTACT_LENGTHS,
    FEEDBACK_LENGTH,
    Scorecard,
    Visit,
    VisitorSession,
)
from portal.scorecards.services import TOTAL_STEPS, ScorecardError, set_cookie
from portal.text import forbidden_character

# The charts' geometry, in SVG user units. Bars: a score of 100 is BAR_MAX wide.
BAR_MAX = 300
BAR_HEIGHT = 18
ROW_HEIGHT = 44
# The band scale: 0..100 over SCALE_WIDTH, inset by SCALE_PAD so the end labels fit.
SCALE_WIDTH = 300
SCALE_PAD = 12

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
# The refusals services.py words in English (for the API), by code, in the page's language.
REFUSALS = {
    "VALIDATION_ERROR": _("That answer is not one of the question's choices. Please choose again."),
    "ASSESSMENT_NOT_FOUND": _("There is no assessment in progress: start one first."),
    "ASSESSMENT_INCOMPLETE": _("Some questions are not answered yet."),
    "SESSION_EXPIRED": _("Your session has expired: please start again."),
    "SERVICE_UNAVAILABLE": _("The check is not available right now. Please come back later."),
}


def _refusal(exc: ScorecardError) -> str:
    return str(REFUSALS.get(exc.code, exc.message))


# ---------------------------------------------------------------------------------------------
# The visitor's language


LANGUAGE_PARAMETER = "lang"


def _chosen_language(request: PortalRequest) -> str | None:
    chosen = request.GET.get(LANGUAGE_PARAMETER, "")
    return chosen if chosen in dict(settings.LANGUAGES) else None


def visitor_language(request: PortalRequest) -> str:
    """The pages' language: the one picked with `?lang=` (then kept in Django's language
    cookie), else the cookie's, else the browser's Accept-Language, else English. After `?lang=`
    it is the rule Django and the error pages (portal.errors.Pages.language) apply to any page, so
    a 404 under /assessment/ speaks the same language as the steps."""
    return _chosen_language(request) or translation.get_language_from_request(request)


def scorecard_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run `view` in the visitor's language; keep a language picked with `?lang=`."""

    @wraps(view)
    def wrapper(request: PortalRequest, *args, **kwargs) -> HttpResponse:
        with translation.override(visitor_language(request)):
            response = view(request, *args, **kwargs)
        if chosen := _chosen_language(request):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen,
                max_age=settings.LANGUAGE_COOKIE_AGE or 365 * 24 * 3600,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response

    return wrapper


def _page(request: PortalRequest, template: str, context: dict, *, status: int = 200):
    """Render a page with what every scorecard page needs: where the language switch leads
    (this page, or the landing for a page shown after a post that has no page of its own)."""
    match = request.resolver_match
    here = request.path if match is None or match.url_name != "start" else ""
    context = {"language_url": here or reverse("scorecards:landing"), **context}
    return render(request, template, context, status=status)


# ---------------------------------------------------------------------------------------------
# Forms


ONE_LINE = _("Please keep this on one line: no line breaks or other control characters.")


def one_line(value: str) -> None:
    """A one-line field's rule (names, company, phone), the API's (api/fields.py `Line`): no
    control character. A form field may otherwise hold line breaks (a textarea's)."""
    if forbidden_character(value) is not None:
        raise ValidationError(ONE_LINE, code="control_character")


class LineField(forms.CharField):
    """One line of text, trimmed, held to portal.text's one-line rule."""

    default_validators = [one_line]


def _filled(autocomplete: str, **attrs: str) -> dict:
    """A field's browser hints: what autofill may put in it (and, e.g., the phone keypad)."""
    return {"attrs": {"autocomplete": autocomplete, **attrs}}


class StartForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail (optional)"),
        required=False,
        max_length=column_length(Visit, "email"),
        widget=forms.EmailInput(**_filled("email", dir="ltr")),
    )
    company = LineField(
        label=_("Company (optional)"),
        required=False,
        max_length=column_length(Visit, "company"),
        widget=forms.TextInput(**_filled("organization")),
    )


class ContactForm(forms.Form):
    first_name = LineField(
        label=_("First name"),
        required=False,
        max_length=CONTACT_LENGTHS["firstName"],
        widget=forms.TextInput(**_filled("given-name")),
    )
    last_name = LineField(
        label=_("Last name"),
        required=False,
        max_length=CONTACT_LENGTHS["lastName"],
        widget=forms.TextInput(**_filled("family-name")),
    )
    company = LineField(
        label=_("Company"),
        required=False,
        max_length=column_length(Visit, "company"),
        widget=forms.TextInput(**_filled("organization")),
    )
    phone = LineField(
        label=_("Phone"),
        required=False,
        max_length=CONTACT_LENGTHS["phone"],
        widget=forms.TextInput(**_filled("tel", type="tel", inputmode="tel", dir="ltr")),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        max_length=column_length(Visit, "email"),
        widget=forms.EmailInput(**_filled("email", dir="ltr")),
    )
    feedback = forms.CharField(
        label=_("Feedback on this check"),
        required=False,
        max_length=FEEDBACK_LENGTH,
        widget=forms.Textarea,
    )


def _step_url(number: int) -> str:
    return reverse("scorecards:step", args=[number])


def _resume_url(visit: Visit) -> str:
    return _step_url(services.resume_step(visit) + 1)


def _visits(session: VisitorSession | None) -> tuple[Visit | None, Visit | None]:
    """(the open visit, the latest completed one) of the session."""
    if session is None:
        return None, None
    open_visit = Visit.objects.filter(session=session, completed_at__isnull=True).first()
    done = Visit.objects.filter(session=session, completed_at__isnull=False).first()
    return open_visit, done


# ---------------------------------------------------------------------------------------------
# Landing and start


def _landing(request: PortalRequest, form: StartForm, *, error: str = "", status: int = 200):
    open_visit, done = _visits(visitor.current_session(request))
    scorecard = selectors.active_scorecard()
    language = translation.get_language()
    context = {
        "scorecard": scorecard,
        "title": content.translated(scorecard, "title", language) if scorecard else "",
        "description": content.translated(scorecard, "description", language) if scorecard else "",
        "question_count": sum(len(qids) for qids in services.steps(scorecard)) if scorecard else 0,
        "form": form,
        "open_visit": open_visit,
        "resume_url": _resume_url(open_visit) if open_visit else "",
        "done": done,
        "error": error,
        "total_steps": TOTAL_STEPS,
    }
    return _page(request, "scorecard/landing.html", context, status=status)


# What a refused request leaves behind, said honestly on the 429 page: a start refused keeps
# nothing new (a brand-new visitor has nothing saved yet), a step refused did not save the
# choices on its page, a submit refused keeps every saved answer.
REFUSED_START, REFUSED_STEP, REFUSED_SUBMIT = "start", "step", "submit"
CSRF_FIELD = "csrfmiddlewaretoken"


def _over_limit(request: PortalRequest, limit: limits.Limit, *, refused: str):
    """A 429 page when this request is over its limit; the rate-limit headers either way."""
    state = limit.check(request)
    if not state.limited:
        return None
    in_progress = (
        refused != REFUSED_START or _visits(visitor.current_session(request))[0] is not None
    )
    response = _page(
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


@require_safe
@scorecard_page
def landing(request: PortalRequest) -> HttpResponse:
    expired = "expired" in request.GET and visitor.current_session(request) is None
    return _landing(request, StartForm(), error=str(REFUSALS["SESSION_EXPIRED"]) if expired else "")


@require_POST
@scorecard_page
def start(request: PortalRequest) -> HttpResponse:
    """Start (or resume) the assessment, set the session cookie, go to the step to resume.
    A form refused (400) is not counted, as the API counts no request its schema refuses."""
    form = StartForm(request.POST)
    if not form.is_valid():
        return _landing(request, form, status=400)
    if (limited := _over_limit(request, limits.START, refused=REFUSED_START)) is not None:
        return limited
    try:
        session = visitor.open_session(request)
        visit = services.start(
            session=session,
            email=form.cleaned_data["email"].strip(),
            company=form.cleaned_data["company"].strip(),
            referrer=request.headers.get("Referer", ""),
            browser_info={
                "userAgent": request.headers.get("User-Agent", "")[: services.USER_AGENT_LENGTH]
            },
        )
    except ScorecardError as exc:
        return _landing(request, form, error=_refusal(exc), status=exc.status)
    response = _go(request, _resume_url(visit))
    set_cookie(response, session.session_id)
    return response


# ---------------------------------------------------------------------------------------------
# The four steps


@dataclass(frozen=True)
class ChoiceView:
    letter: str
    text: str


@dataclass(frozen=True)
class QuestionView:
    qid: str
    number: int
    text: str
    choices: list[ChoiceView]
    answer: str | None
    missing: bool


def _progress_context(scorecard: Scorecard, responses: dict, number: int) -> dict:
    """The progress bar's figures: every answer saved, those of this step included (with
    JavaScript the page counts this step's choices live, from `answered_elsewhere`)."""
    steps = services.steps(scorecard)
    all_qids = [qid for qids in steps for qid in qids]
    here = set(steps[number - 1])
    answered = sum(1 for qid in all_qids if qid in responses)
    return {
        "number": number,
        "total_steps": TOTAL_STEPS,
        "answered": answered,
        "answered_elsewhere": sum(1 for qid in all_qids if qid in responses and qid not in here),
        "question_count": len(all_qids),
    }


def _step_context(
    scorecard: Scorecard, visit: Visit, number: int, *, missing=(), error: str = ""
) -> dict:
    language = translation.get_language()
    sections = list(scorecard.sections.all())
    section = sections[number - 1]
    questions = [
        QuestionView(
            qid=q.qid,
            number=position,
            text=content.translated(q, "text", language),
            choices=[
                ChoiceView(c.letter, content.translated(c, "text", language))
                for c in q.choices.all()
            ],
            answer=visit.responses.get(q.qid),
            missing=q.qid in missing,
        )
        for position, q in enumerate(section.questions.all(), start=1)
    ]
    return {
        **_progress_context(scorecard, visit.responses, number),
        "section_name": content.translated(section, "name", language),
        "section_description": content.translated(section, "description", language),
        "step_names": [content.translated(s, "name", language) for s in sections],
        "questions": questions,
        "missing_count": len(missing),
        "error": error,
        "is_last": number == TOTAL_STEPS,
    }


def _visitor_visit(request: PortalRequest) -> tuple[VisitorSession | None, Visit | None, str]:
    """(session, open visit, where to go instead when there is no open visit)."""
    session = visitor.current_session(request)
    open_visit, done = _visits(session)
    if open_visit is not None:
        return session, open_visit, ""
    if done is not None:
        return session, None, reverse("scorecards:results", args=[done.assessment_id])
    return session, None, _start_again_url(request)


def _start_again_url(request: PortalRequest) -> str:
    """The landing, saying why when the visitor's session ran out under them: the cookie names
    a session that ended, or answers were posted with none (a browser drops the cookie when it
    expires, and a post of a step's answers comes only from a visitor who had one)."""
    landing = reverse("scorecards:landing")
    lost = visitor.session_lost(request) or request.method == "POST"
    return f"{landing}?expired=1" if lost else landing


def _not_reached(request: PortalRequest, visit: Visit, number: int) -> HttpResponse | None:
    """Back to the first step not yet completed when step `number` lies beyond it: a visitor
    answers the steps in order (going back is fine). None when it is reached."""
    first_open = services.resume_step(visit) + 1
    return _go(request, _step_url(first_open)) if number > first_open else None


def _step_answers(scorecard: Scorecard, number: int, data) -> dict[str, str]:
    """The answers a step's form posts: its questions' chosen letters (nothing else)."""
    return {qid: data[qid] for qid in services.steps(scorecard)[number - 1] if data.get(qid)}


@require_http_methods(["GET", "POST"])
@never_cache
@scorecard_page
def step(request: PortalRequest, number: int) -> HttpResponse:
    """One section's questions. A post saves whatever is chosen (never losing an answer): a
    complete step moves on, an incomplete one is shown again with a message by each gap.
    Never kept by the browser: on Back a kept page showed the answers as they were, and its
    Next saved them again over those changed since (in another tab)."""
    if not 1 <= number <= TOTAL_STEPS:
        raise Http404("No such step.")
    session, visit, elsewhere = _visitor_visit(request)
    if visit is None:
        return _go(request, elsewhere)
    if (ahead := _not_reached(request, visit, number)) is not None:
        return ahead
    assert session is not None  # an open visit is read through its session
    scorecard = selectors.scorecard_by_id(visit.scorecard_id)
    template = "scorecard/step.html#step" if request.htmx else "scorecard/step.html"
    if request.method == "GET":
        return _page(request, template, _step_context(scorecard, visit, number))
    if (limited := _over_limit(request, limits.SAVE, refused=REFUSED_STEP)) is not None:
        return limited

    chosen = _step_answers(scorecard, number, request.POST)
    try:
        saved = services.save_progress(session=session, step=number - 1, responses=chosen)
    except ScorecardError as exc:
        context = _step_context(scorecard, visit, number, error=_refusal(exc))
        return _page(request, template, context, status=400)
    if "back" in request.POST and number > 1:
        return _go(request, _step_url(number - 1))
    if not saved.can_proceed:
        context = _step_context(scorecard, saved.visit, number, missing=set(saved.missing))
        return _page(request, template, context)
    if number < TOTAL_STEPS:
        return _go(request, _step_url(number + 1))
    return _go(request, reverse("scorecards:contact"))


@require_POST
@scorecard_page
def choice(request: PortalRequest, number: int) -> HttpResponse:
    """Save the step's choices as they are made (htmx posts the step's form on each change)
    and answer the new progress. The statements of the API's save-progress: the session with
    its open visit (read for the rate limit's scope), the counter, the answers merged in one
    UPDATE; concurrent saves merge, never losing an answer. Without JavaScript nothing posts
    here: the step's Next or Back saves."""
    if not 1 <= number <= TOTAL_STEPS:
        raise Http404("No such step.")
    state = limits.CHOICE.check(request)
    if state.limited:
        # The page says this choice is not saved yet, and that Next will save it.
        response = HttpResponse(status=429)
        response["Retry-After"] = str(state.retry_after)
        return response
    session = visitor.current_session(request)
    if session is None:
        return _go(request, _start_again_url(request))
    # The open visit came with the session (the rate limit's scope read them): no query.
    visit = services.open_visit(session)
    if visit is not None and (ahead := _not_reached(request, visit, number)) is not None:
        return ahead
    # The step's form, as htmx posts it: its chosen letters and the CSRF token. The service
    # refuses a question of another step or a letter no question has.
    answers = {name: value for name, value in request.POST.items() if name != CSRF_FIELD}
    try:
        saved = services.save_progress(session=session, step=number - 1, responses=answers)
    except ScorecardError as exc:
        if exc.code == "ASSESSMENT_NOT_FOUND":  # none open: submitted in another tab
            _session, _visit, elsewhere = _visitor_visit(request)
            return _go(request, elsewhere)
        return HttpResponse(_refusal(exc), status=exc.status, content_type="text/plain")
    # The visit's version came with its content (read joined to the session): no query.
    scorecard = selectors.with_content(saved.visit.scorecard)
    if not request.htmx:
        return HttpResponseRedirect(_step_url(number))
    context = _progress_context(scorecard, saved.visit.responses, number)
    return _page(request, "scorecard/step.html#saved", context)


# ---------------------------------------------------------------------------------------------
# Contact details, then submit


@require_http_methods(["GET", "POST"])
@scorecard_page
def contact(request: PortalRequest) -> HttpResponse:
    """Optional contact details and feedback; "See my results" scores the assessment."""
    session, visit, elsewhere = _visitor_visit(request)
    if visit is None:
        return _go(request, elsewhere)
    if visit.steps_completed < TOTAL_STEPS:
        return _go(request, _resume_url(visit))
    assert session is not None  # an open visit is read through its session
    if request.method == "GET":
        form = ContactForm(initial={"email": visit.email, "company": visit.company})
        return _page(request, "scorecard/contact.html", {"form": form})
    form = ContactForm(request.POST)
    if not form.is_valid():  # not counted, as the API counts no request its schema refuses
        context: dict[str, object] = {"form": form}
        return _page(request, "scorecard/contact.html", context, status=400)
    if (limited := _over_limit(request, limits.SUBMIT, refused=REFUSED_SUBMIT)) is not None:
        return limited
    data = form.cleaned_data
    try:
        # The e-mail and company as the form shows them when submitted (it is filled with the
        # visit's): emptied, there are none. A double click's second post, or one whose twin
        # completed the visit meanwhile, gets the same stored result from submit.
        submitted = services.submit(
            session=session,
            completion_time=max(0, int((timezone.now() - visit.started_at).total_seconds())),
            contact={
                "firstName": data["first_name"].strip(),
                "lastName": data["last_name"].strip(),
                "phone": data["phone"].strip(),
            },
            feedback=data["feedback"].strip(),
            email=data["email"].strip(),
            company=data["company"].strip(),
        )
    except ScorecardError as exc:
        context = {"form": form, "error": _refusal(exc)}
        return _page(request, "scorecard/contact.html", context, status=exc.status)
    return _go(request, reverse("scorecards:results", args=[submitted.visit.assessment_id]))


# ---------------------------------------------------------------------------------------------
# Results, sharing, the shared page


def _x(score: float, width: float, *, rtl: bool, pad: float = 0) -> float:
    """Where `score` (0..100) lies on an axis `width` long: from the left, or from the right
    in a right-to-left page."""
    along = score / 100 * width
    return round(pad + (width - along if rtl else along), 1)


def _chart(picture: stored_results.Picture, *, rtl: bool) -> dict:
    """The four area scores as bars coloured by their band, geometry computed here so the SVG
    needs no style (the CSP allows none inline); mirrored in a right-to-left page."""
    bars = []
    for index, area in enumerate(picture.areas):
        y = index * ROW_HEIGHT
        width = round(area.score / 100 * BAR_MAX, 1)
        bars.append(
            {
                "name": area.name,
                "key": area.key,
                "band": area.band,
                "weight": area.weight,
                "score": area.score,
                # Texts are anchored at their own start: their right edge in a right-to-left page.
                "label_x": BAR_MAX if rtl else 0,
                "label_y": y + 14,
                "bar_x": BAR_MAX - width if rtl else 0,
                "bar_y": y + 20,
                "text_y": y + 20 + BAR_HEIGHT - 4,
                "width": width,
                "value_x": BAR_MAX - width - 6 if rtl else width + 6,
            }
        )
    # The value labels sit beside the bars, beyond 0 or 100: room on both sides.
    return {
        "bars": bars,
        "bar_max": BAR_MAX,
        "bar_height": BAR_HEIGHT,
        "view_x": -44 if rtl else 0,
        "width": BAR_MAX + 44,
        "height": ROW_HEIGHT * len(bars),
    }


def _scale(picture: stored_results.Picture, *, rtl: bool) -> dict:
    """The total on the five bands: a strip of the bands' ranges in their colours, the
    visitor's mark above it, the bands' thresholds below."""
    segments = []
    for band in picture.bands:
        start = _x(band.min_score, SCALE_WIDTH, rtl=rtl, pad=SCALE_PAD)
        end = _x(min(band.max_score + 1, 100), SCALE_WIDTH, rtl=rtl, pad=SCALE_PAD)
        segments.append({"band": band, "x": min(start, end), "width": round(abs(end - start), 1)})
    ticks = sorted({0, 100, *(band.min_score for band in picture.bands)})
    mark = _x(picture.total, SCALE_WIDTH, rtl=rtl, pad=SCALE_PAD)
    return {
        "segments": segments,
        "ticks": [{"value": t, "x": _x(t, SCALE_WIDTH, rtl=rtl, pad=SCALE_PAD)} for t in ticks],
        "mark_x": mark,
        "mark_points": f"{mark - 7},16 {mark + 7},16 {mark},27",
        "width": SCALE_WIDTH + 2 * SCALE_PAD,
    }


def _public_context(visit: Visit) -> dict:
    """What both the owner's page and the shared page show: the result stored at submit, in
    the page's language where the content has it, drawn on the version's bands."""
    language = translation.get_language()
    result = stored_results.stored(visit)
    scorecard = selectors.scorecard_by_id(visit.scorecard_id)
    shown = stored_results.localized(result, scorecard, language)
    picture = stored_results.picture(shown, scorecard, language)
    rtl = translation.get_language_bidi()
    return {
        "visit": visit,
        "total": shown["totalScore"],
        "band_key": shown["scoreCategory"],
        "band_name": shown["categoryName"],
        "band_description": shown["categoryDescription"],
        "picture": picture,
        "scale": _scale(picture, rtl=rtl),
        "chart": _chart(picture, rtl=rtl),
        "recommendations": stored_results.recommendations(shown, detailed=True),
        "next_steps": shown["nextSteps"],
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


def _owned_visit(request: PortalRequest, assessment_id: str) -> Visit | HttpResponse:
    visit = Visit.objects.filter(assessment_id=assessment_id, completed_at__isnull=False).first()
    if visit is None:
        raise Http404("No completed assessment has this id.")
    session = visitor.current_session(request)
    if session is None or visit.session_id != session.pk:
        return _page(request, "scorecard/forbidden.html", {}, status=403)
    return visit


def _share_context(visit: Visit) -> dict:
    path = reverse("scorecards:shared", args=[visit.share_token])
    return {"visit": visit, "share_url": f"{settings.PUBLIC_BASE_URL}{path}"}


@require_safe
@scorecard_page
def results(request: PortalRequest, assessment_id: str) -> HttpResponse:
    """The owner's results: score on the band scale, areas, recommendations, benchmarks, next
    steps, sharing; laid out for print (a PDF) too."""
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
    return _page(request, "scorecard/results.html", context)


@require_POST
@scorecard_page
def share(request: PortalRequest, assessment_id: str) -> HttpResponse:
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
        return _page(request, "scorecard/results.html#share", context)
    url = reverse("scorecards:results", args=[visit.assessment_id])
    return HttpResponseRedirect(f"{url}?shared=1#share")


@require_safe
@scorecard_page
def shared(request: PortalRequest, token: str) -> HttpResponse:
    """Anyone with the link: total, band, chart, and recommendations if the owner allows."""
    visit = Visit.objects.filter(share_token=token, completed_at__isnull=False).first()
    if visit is None:
        raise Http404("No shared results with this link.")
    context = _public_context(visit)
    if not visit.share_recommendations:
        context["recommendations"] = []
    context.pop("visit")
    context.pop("next_steps")
    return _page(request, "scorecard/shared.html", context)
