"""The only code that changes a scorecard visit: sessions, start, save a step, submit (score,
lead sync and e-mail through the outbox). The API and the visitor's pages both call it."""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

from portal.ratelimit import client_ip
from portal.scorecards import results, selectors
from portal.scorecards.models import Scorecard, Visit, VisitorSession
from scoring import scorecard as scoring

logger = logging.getLogger(__name__)

COOKIE = "assessment-session"
SESSION_LIFETIME = timedelta(hours=24)
LETTERS = ("A", "B", "C", "D", "E")
TOTAL_STEPS = 4


class ScorecardError(Exception):
    """A refusal in the seed's error codes (SESSION_EXPIRED, VALIDATION_ERROR, ...)."""

    def __init__(self, code: str, message: str, *, status: int, details: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.details = code, message, status, details


def _expired() -> ScorecardError:
    return ScorecardError(
        "SESSION_EXPIRED", "Your session has expired or is not valid.", status=401
    )


# ---------------------------------------------------------------------------------------------
# Sessions


def set_cookie(response: HttpResponseBase, session_id: str) -> None:
    """The seed's cookie: HttpOnly, SameSite=Lax, 24 hours, path /; Secure when the portal is
    served over https (SCORECARD_COOKIE_SECURE follows PUBLIC_BASE_URL's scheme, as the
    session and CSRF cookies do), on SCORECARD_COOKIE_DOMAIN when set (the seed's `domain`)."""
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=settings.SCORECARD_COOKIE_SECURE,
        domain=settings.SCORECARD_COOKIE_DOMAIN,
        path="/",
    )


def delete_cookie(response: HttpResponseBase) -> None:
    """Tell the browser to forget the cookie (same path and domain, or it would keep it)."""
    response.delete_cookie(
        COOKIE, path="/", domain=settings.SCORECARD_COOKIE_DOMAIN, samesite="Lax"
    )


class SessionCookieMiddleware:
    """Activity extends the session by 24 hours on the server; this sends the browser the
    cookie again so that its own expiry moves too."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        session_id = getattr(request, "scorecard_session_id", None)
        if session_id and COOKIE not in response.cookies:
            set_cookie(response, session_id)
        return response


def live_session_id(request: HttpRequest) -> str | None:
    """The cookie's session id when it names a live session (no side effects)."""
    session_id = request.COOKIES.get(COOKIE, "")
    if (
        session_id
        and VisitorSession.objects.filter(
            session_id=session_id, expires_at__gt=timezone.now()
        ).exists()
    ):
        return session_id
    return None


def current_session(request: HttpRequest) -> VisitorSession | None:
    """The visitor's live session from the cookie, its expiry extended by this activity."""
    session_id = request.COOKIES.get(COOKIE, "")
    if not session_id:
        return None
    now = timezone.now()
    session = VisitorSession.objects.filter(session_id=session_id, expires_at__gt=now).first()
    if session is not None:
        session.last_activity, session.expires_at = now, now + SESSION_LIFETIME
        VisitorSession.objects.filter(pk=session.pk).update(
            last_activity=session.last_activity, expires_at=session.expires_at
        )
        request.scorecard_session_id = session.session_id
    return session


def open_session(request: HttpRequest) -> tuple[VisitorSession, bool]:
    """The live session, or a new one (the caller sets the cookie when created)."""
    session = current_session(request)
    if session is not None:
        return session, False
    now = timezone.now()
    session = VisitorSession.objects.create(
        expires_at=now + SESSION_LIFETIME,
        last_activity=now,
        ip_address=client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:500],
    )
    return session, True


def end_session(request: HttpRequest) -> bool:
    """End the cookie's session on the server: the cookie, if a client keeps or replays it, no
    longer opens anything. Its visits stay (a completed one is a lead). True if one ended."""
    session_id = request.COOKIES.get(COOKIE, "")
    if not session_id:
        return False
    now = timezone.now()
    ended = VisitorSession.objects.filter(session_id=session_id, expires_at__gt=now).update(
        expires_at=now, last_activity=now
    )
    return ended > 0


def require_session(request: HttpRequest) -> VisitorSession:
    session = current_session(request)
    if session is None:
        raise _expired()
    return session


# ---------------------------------------------------------------------------------------------
# Content helpers


def scorecard_or_error() -> Scorecard:
    scorecard = selectors.active_scorecard()
    if scorecard is None:
        raise ScorecardError("SERVICE_UNAVAILABLE", "The scorecard is not set up yet.", status=503)
    return scorecard


def steps(scorecard: Scorecard) -> list[list[str]]:
    """Question ids per step, in order (step n is section n)."""
    return [[q.qid for q in section.questions.all()] for section in scorecard.sections.all()]


def _validate_answers(scorecard: Scorecard, answers: Any, *, field: str, step: int | None):
    if not isinstance(answers, dict):
        raise ScorecardError(
            "VALIDATION_ERROR", "Responses must be an object.", status=422, details={"field": field}
        )
    allowed = (
        set(steps(scorecard)[step])
        if step is not None
        else {q for s in steps(scorecard) for q in s}
    )
    for qid, letter in answers.items():
        if qid not in allowed:
            raise ScorecardError(
                "VALIDATION_ERROR",
                f"Unknown question {qid!r}" + (f" for step {step}." if step is not None else "."),
                status=422,
                details={"field": f"{field}.{qid}", "reason": "Unknown question"},
            )
        if letter not in LETTERS:
            raise ScorecardError(
                "VALIDATION_ERROR",
                "Invalid responses format",
                status=422,
                details={
                    "field": f"{field}.{qid}",
                    "reason": f"Answer choice {letter!r} is not valid",
                    "validChoices": list(LETTERS),
                },
            )
    return answers


def completed_steps(scorecard: Scorecard, responses: dict[str, str]) -> int:
    """Leading steps whose every question is answered."""
    done = 0
    for qids in steps(scorecard):
        if not all(qid in responses for qid in qids):
            break
        done += 1
    return done


def progress(completed: int) -> dict:
    return {
        "completed": completed,
        "total": TOTAL_STEPS,
        "percentage": round(completed / TOTAL_STEPS * 100),
    }


def resume_path(visit: Visit) -> str:
    return f"/assessment/step/{min(visit.steps_completed, TOTAL_STEPS - 1) + 1}"


# ---------------------------------------------------------------------------------------------
# Start, save, submit


def start(
    *,
    session: VisitorSession,
    email: str = "",
    company: str = "",
    referrer: str = "",
    browser_info: dict | None = None,
) -> Visit:
    """A new assessment for the session, or its open one (a double click resumes it)."""
    scorecard = scorecard_or_error()
    open_visit = Visit.objects.filter(session=session, completed_at__isnull=True).first()
    if open_visit is None:
        try:
            with transaction.atomic():
                open_visit = Visit.objects.create(
                    scorecard=scorecard,
                    session=session,
                    email=email,
                    company=company,
                    referrer=referrer[:2000],
                    browser_info=browser_info or {},
                )
        except IntegrityError:
            open_visit = Visit.objects.get(session=session, completed_at__isnull=True)
    elif email or company:
        Visit.objects.filter(pk=open_visit.pk).update(
            email=email or open_visit.email, company=company or open_visit.company
        )
        open_visit.refresh_from_db()
    return open_visit


def open_visit(session: VisitorSession) -> Visit:
    visit = (
        Visit.objects.filter(session=session, completed_at__isnull=True)
        .select_related("scorecard")
        .first()
    )
    if visit is None:
        raise ScorecardError(
            "ASSESSMENT_NOT_FOUND", "No assessment in progress: start one first.", status=404
        )
    return visit


@dataclass(frozen=True)
class SaveResult:
    visit: Visit
    step: int
    can_proceed: bool
    missing: list[str]


def save_progress(
    *,
    session: VisitorSession,
    step: Any,
    responses: Any,
    email: str = "",
    time_spent: int | None = None,
) -> SaveResult:
    """Save a step's answers (merged: never lose one), even when the step is incomplete."""
    if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step < TOTAL_STEPS:
        raise ScorecardError(
            "VALIDATION_ERROR", "step must be 0, 1, 2 or 3.", status=400, details={"field": "step"}
        )
    with transaction.atomic():
        visit = open_visit(session)
        # Locked, and still open: a submit may have completed it meanwhile.
        visit = (
            Visit.objects.select_for_update().filter(pk=visit.pk, completed_at__isnull=True).first()
        )
        if visit is None:
            raise ScorecardError(
                "ASSESSMENT_NOT_FOUND", "This assessment is already submitted.", status=404
            )
        scorecard = selectors.scorecard_by_id(visit.scorecard_id)
        answers = _validate_answers(scorecard, responses, field="responses", step=step)
        visit.responses = {**visit.responses, **answers}
        if email:
            visit.email = email
        if time_spent is not None:
            visit.time_spent = {**visit.time_spent, str(step): time_spent}
        visit.steps_completed = completed_steps(scorecard, visit.responses)
        visit.save(update_fields=["responses", "email", "time_spent", "steps_completed"])
    missing = [qid for qid in steps(scorecard)[step] if qid not in visit.responses]
    return SaveResult(visit, step, not missing, missing)


@dataclass(frozen=True)
class SubmitResult:
    visit: Visit
    result: dict  # the stored result document (portal.scorecards.results)


def submit(
    *,
    session: VisitorSession,
    final_responses: Any = None,
    completion_time: int,
    contact: dict | None = None,
    feedback: str = "",
) -> SubmitResult:
    """Score the visit, store the result as shown (portal.scorecards.results) and queue the
    lead (HubSpot) and the results e-mail, all in one transaction. A second submit (double
    click) answers the same stored result."""
    from portal.scorecards import leads

    with transaction.atomic():
        visit = Visit.objects.filter(session=session, completed_at__isnull=True).first()
        if visit is None:
            latest = Visit.objects.filter(session=session).exclude(completed_at=None).first()
            if latest is None:
                raise ScorecardError(
                    "ASSESSMENT_NOT_FOUND", "No assessment to submit: start one first.", status=404
                )
            return SubmitResult(latest, results.stored(latest))
        locked = (
            Visit.objects.select_for_update().filter(pk=visit.pk, completed_at__isnull=True).first()
        )
        if locked is None:  # a parallel submit completed it while we waited for the lock
            visit.refresh_from_db()
            return SubmitResult(visit, results.stored(visit))
        visit = locked
        scorecard = selectors.scorecard_by_id(visit.scorecard_id)
        if final_responses:
            answers = _validate_answers(
                scorecard, final_responses, field="finalResponses", step=None
            )
            visit.responses = {**visit.responses, **answers}
        missing = [qid for qids in steps(scorecard) for qid in qids if qid not in visit.responses]
        if missing:
            raise ScorecardError(
                "ASSESSMENT_INCOMPLETE",
                f"{len(missing)} question(s) are not answered yet.",
                status=400,
                details={"missing": missing},
            )
        visit.contact_info = {k: v for k, v in (contact or {}).items() if v}
        if not visit.company and visit.contact_info.get("company"):
            visit.company = visit.contact_info["company"]
        visit.feedback = feedback
        visit.completion_time = completion_time
        visit.steps_completed = TOTAL_STEPS
        try:
            result = score(scorecard, visit)
        except ValueError as error:
            # Only content that breaks the format's rules gets here (validated answers cannot):
            # content edited outside the loader and the admin, which both validate.
            logger.error("scorecard %s cannot score: %s", scorecard.version, error)
            raise ScorecardError(
                "SERVICE_UNAVAILABLE",
                "The scorecard cannot be scored right now; please try again later.",
                status=503,
            ) from error
        visit.result = results.build(scorecard, result)
        visit.total_score = result.total
        visit.breakdown = result.breakdown
        visit.score_category = result.band.key
        visit.qualified_for_briefing = result.qualified_for_briefing
        visit.lead_quality = result.lead_quality or ""
        visit.completed_at = timezone.now()
        visit.share_token = secrets.token_urlsafe(16)
        visit.save()
        leads.queue(visit)
    return SubmitResult(visit, visit.result)


def score(scorecard: Scorecard, visit: Visit) -> scoring.ScorecardResult:
    contact = {"company": visit.company, **visit.contact_info}
    return selectors.score_answers(scorecard, visit.responses, email=visit.email, contact=contact)
